/**
 * What the terminal says when a run stays up for a game day (`run --keep`, `up`): where Prometheus and Toxiproxy
 * answer, the nodes and proxies, which dashboards fit, and the one command that stops it all.
 */
import { downCommand, type KeptInfo, type KeptRecord } from '../runtime/kept.js';

export interface KeptViewOptions {
  color: boolean;
  /** Shown relative to this folder when the run folder is below it. */
  cwd?: string;
  /** The cluster's dashboard (`dashboards/hello.json`), besides the lab overview. */
  dashboard?: string;
  /** `up` says the cluster is up; `run --keep` says it was kept. */
  verb?: 'kept' | 'up';
}

export function formatKept(k: KeptInfo, opts: KeptViewOptions): string {
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const rows: [string, string, string][] = [
    ['prometheus', k.prometheus, `Grafana: a Prometheus data source with this URL; import dashboards/lab-overview.json${opts.dashboard ? ` and ${opts.dashboard}` : ''}`],
    ['toxiproxy', k.toxiproxy, `faults by hand through its API: curl ${k.toxiproxy}/proxies`],
    ...(k.grafana ? [['grafana', k.grafana, "Grafana's provisioning folder (paths.provisioning): data source + dashboards"] as [string, string, string]] : []),
    ...k.nodes.map((n): [string, string, string] => [n.name, n.address, '']),
    ...Object.entries(k.proxies).map(([name, addr]): [string, string, string] => [name, addr, 'proxy']),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const title = opts.verb === 'up' ? `up for a game day: ${k.scenario}, variant ${k.variant}` : `kept up for a game day: ${k.scenario}, variant ${k.variant} (faults healed, the lab's load stopped)`;
  const lines = [bold(title)];
  for (const [a, b, note] of rows) lines.push(`  ${a.padEnd(w0)}  ${note ? `${b.padEnd(w1)}  ${dim(note)}` : b}`);
  lines.push(`  ${'stop it'.padEnd(w0)}  ${downCommand(k.runDir, opts.cwd)}`);
  return lines.join('\n');
}

/** One line for `down` with several kept runs, or for a run that starts while others are kept. */
export function formatKeptLine(k: KeptRecord, cwd?: string): string {
  return `${k.runDir}  ${k.scenario}/${k.variant} (${k.runtime}, since ${k.keptAt}; prometheus ${k.prometheus})  stop: ${downCommand(k.runDir, cwd)}`;
}
