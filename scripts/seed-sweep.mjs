#!/usr/bin/env node
// Replays a scenario over several seeds, one replay at a time, and prints a markdown table of the verdicts: the
// evidence behind the README's "five seeds" tables. Each replay takes the shared e2e lock (/tmp/chaoslab-e2e.lock)
// so it never overlaps another replay on the machine.
//
//   node scripts/seed-sweep.mjs <scenario> [--runtime process|docker] [--seeds 1,2,3,4,5]
//        [--variants baseline,mitigated] [--no-control] [--out runs/seeds.jsonl]
//
// For each seed: every variant asked for, then `--control --variant baseline` (unless --no-control).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runtime: { type: 'string', default: 'process' },
    seeds: { type: 'string', default: '1,2,3,4,5' },
    variants: { type: 'string', default: 'baseline,mitigated' },
    'no-control': { type: 'boolean', default: false },
    out: { type: 'string', default: 'runs/seed-sweep.jsonl' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || positionals.length !== 1) {
  process.stdout.write('usage: node scripts/seed-sweep.mjs <scenario> [--runtime R] [--seeds 1,2,3] [--variants a,b] [--no-control] [--out FILE]\n');
  process.exit(values.help ? 0 : 2);
}
const scenario = positionals[0];
const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
const runs = [];
for (const seed of seeds) {
  for (const v of values.variants.split(',')) runs.push({ seed, variant: v, control: false });
  if (!values['no-control']) runs.push({ seed, variant: 'baseline', control: true });
}
mkdirSync(path.dirname(values.out), { recursive: true });

const rows = [];
const fmt = (n) => (n === null || n === undefined ? '—' : Math.abs(n) >= 100 ? n.toFixed(0) : Number(n.toPrecision(3)).toString());
for (const r of runs) {
  const args = ['bin/chaoslab.js', 'run', scenario, '--seed', String(r.seed), '--runtime', values.runtime, '--variant', r.variant, '--json', ...(r.control ? ['--control'] : [])];
  const load0 = loadavg()[0];
  const t0 = Date.now();
  const p = spawnSync('flock', ['/tmp/chaoslab-e2e.lock', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallS = (Date.now() - t0) / 1000;
  let json = null;
  try {
    json = JSON.parse(p.stdout.trim().split('\n').at(-1));
  } catch {
    /* reported below */
  }
  const v = json?.variants?.[0];
  const misses = (v?.assertions ?? []).filter((a) => !a.passed).map((a) => `${a.name} (${a.outcome}; min ${fmt(a.observed.min)}, max ${fmt(a.observed.max)})`);
  const row = {
    seed: r.seed,
    runtime: values.runtime,
    variant: r.control ? `${r.variant} --control` : r.variant,
    exit: p.status,
    passed: json?.passed ?? false,
    status: v?.status ?? (p.stderr.trim().split('\n').at(-1) || 'no output'),
    misses,
    linearizable: v?.checkers?.map?.((c) => `${c.name}: ${c.verdict ?? c.outcome ?? ''}`).join('; '),
    wallS,
    load: `${load0.toFixed(1)}–${loadavg()[0].toFixed(1)}`,
    runDir: json?.runDir,
  };
  rows.push(row);
  appendFileSync(values.out, `${JSON.stringify({ scenario, at: new Date().toISOString(), ...row })}\n`);
  process.stderr.write(`seed ${row.seed} ${row.variant}: ${row.passed ? 'as expected' : 'NOT as expected'} (${row.status}, ${wallS.toFixed(0)} s)\n`);
}

process.stdout.write(`\n| seed | runtime | variant | as expected | status | assertions that missed | wall s | load |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n`);
for (const r of rows) process.stdout.write(`| ${r.seed} | ${r.runtime} | ${r.variant} | ${r.passed ? 'yes' : '**no**'} | ${r.status} | ${r.misses.join('; ')} | ${r.wallS.toFixed(0)} | ${r.load} |\n`);
process.exit(rows.every((r) => r.passed) ? 0 : 1);
