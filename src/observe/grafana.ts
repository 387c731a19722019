/**
 * Grafana provisioning files for a Prometheus the lab leaves up (kept runs, game days): a data source at its address
 * with `timeInterval: 1s` (the lab scrapes every second, so `$__rate_interval` is seconds, not a minute) and a
 * dashboards provider for the lab's `dashboards/`. Point Grafana's `paths.provisioning` at the folder (README).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';

export const GRAFANA_DATASOURCE_UID = 'chaoslab';

export function grafanaDatasource(prometheusUrl: string): string {
  return toYaml({
    apiVersion: 1,
    datasources: [{ name: 'chaoslab', uid: GRAFANA_DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: prometheusUrl, isDefault: true, editable: true, jsonData: { timeInterval: '1s' } }],
  });
}

export function grafanaDashboards(dashboardsDir: string): string {
  return toYaml({
    apiVersion: 1,
    providers: [{ name: 'chaoslab', type: 'file', disableDeletion: false, updateIntervalSeconds: 10, allowUiUpdates: true, options: { path: dashboardsDir, foldersFromFilesStructure: false } }],
  });
}

/** Writes `<dir>/datasources/chaoslab.yaml` and `<dir>/dashboards/chaoslab.yaml`; returns `dir`. */
export function writeGrafanaProvisioning(dir: string, prometheusUrl: string, dashboardsDir: string): string {
  mkdirSync(path.join(dir, 'datasources'), { recursive: true });
  mkdirSync(path.join(dir, 'dashboards'), { recursive: true });
  writeFileSync(path.join(dir, 'datasources', 'chaoslab.yaml'), grafanaDatasource(prometheusUrl));
  writeFileSync(path.join(dir, 'dashboards', 'chaoslab.yaml'), grafanaDashboards(dashboardsDir));
  return dir;
}
