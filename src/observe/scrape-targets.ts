/**
 * The lab's scrape targets, one copy for the local Prometheus and the one in Docker: the file_sd file Prometheus
 * watches (validated, written atomically) and the wait until every target has been scraped.
 */
import fs from 'node:fs';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { Wait, WaitFailure, type WaitTarget } from '../runtime/wait/index.js';
import type { PrometheusClient } from './prometheus-client.js';

export interface ScrapeTarget {
  /** `host:port` */
  address: string;
  /** Defaults to `/metrics`. */
  metricsPath?: string;
  labels: Record<string, string>;
}

/** The scrape job every lab target belongs to. */
export const JOB_NAME = 'chaoslab';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function validateTargets(targets: ScrapeTarget[]): void {
  for (const t of targets) {
    if (!/^[^\s/:]+:\d{1,5}$/.test(t.address)) {
      throw new LabError(Errors.InvalidField, `Scrape target address "${t.address}" is not host:port.`);
    }
    if (t.metricsPath !== undefined && !t.metricsPath.startsWith('/')) {
      throw new LabError(Errors.InvalidField, `Metrics path "${t.metricsPath}" must start with "/".`);
    }
    for (const name of Object.keys(t.labels)) {
      // `__`-prefixed labels are Prometheus internals (e.g. __address__), not user labels.
      if (!LABEL_NAME.test(name) || name.startsWith('__')) {
        throw new LabError(Errors.InvalidField, `"${name}" is not a valid Prometheus label name.`, {
          hint: 'use letters, digits and underscores, not starting with a digit or "__"',
        });
      }
    }
  }
}

export function renderTargets(targets: ScrapeTarget[]): string {
  const groups = targets.map((t) => ({
    targets: [t.address],
    labels: t.metricsPath && t.metricsPath !== '/metrics' ? { ...t.labels, __metrics_path__: t.metricsPath } : t.labels,
  }));
  return `${JSON.stringify(groups, null, 2)}\n`;
}

/** Validates, then writes the file_sd file: write-then-rename, so Prometheus never reads a half-written file. */
export async function writeTargets(file: string, targets: ScrapeTarget[]): Promise<void> {
  validateTargets(targets);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, renderTargets(targets));
  await fs.promises.rename(tmp, file);
}

/** Resolves once every address has had a successful scrape; `PrometheusFailed` naming those that have not. */
export async function waitForTargets(
  client: Pick<PrometheusClient, 'targets'>,
  addresses: string[],
  timeoutMs: number,
  prometheus: WaitTarget,
  opts: { logFile: string; where?: string },
): Promise<void> {
  try {
    await Wait.forScrapeTargets(client, addresses, JOB_NAME).withTimeout(timeoutMs).waitUntilReady(prometheus);
  } catch (e) {
    if (!(e instanceof WaitFailure)) throw e;
    if (e.outcome === 'gone') throw new LabError(Errors.PrometheusFailed, 'Prometheus exited while waiting for scrape targets.', { hint: `see ${opts.logFile}` });
    throw new LabError(Errors.PrometheusFailed, `Scrape targets not up after ${timeoutMs}ms: ${e.detail}.`, {
      hint: `check that each target serves metrics at its address and path${opts.where ? `, ${opts.where}` : ''}`,
    });
  }
}
