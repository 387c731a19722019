import { loadDashboards, openRunPrometheus, evaluateDashboards } from './dist/src/report/dashboards.js';
import { readFileSync } from 'node:fs';
const runDir = process.argv[2];
const r = JSON.parse(readFileSync(runDir + '/result.json', 'utf8'));
const t = performance.now();
const p = await openRunPrometheus(runDir, { binary: '/usr/bin/prometheus' });
console.log('prom up', performance.now() - t);
try {
  const res = await evaluateDashboards(loadDashboards('dashboards').filter(f => process.argv.slice(3).includes(f.name)), p.client, { startSec: Date.parse(r.startedAt)/1000, endSec: Date.parse(r.endedAt)/1000 });
  for (const c of res) console.log(c.points > 0 ? 'ok ' : 'NO ', c.dashboard, c.where, c.series, c.points, c.error ?? '');
} finally { await p.stop(); }
console.log('total', performance.now() - t);
