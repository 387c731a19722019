/**
 * `chaoslab report <runDir>`: rebuilds report.html from what the run left on disk (result.json and
 * the journal). A run that crashed before writing result.json still has journal.jsonl, written as
 * it went; the report is then rebuilt from the journal alone (without the assertion series).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { StoredJournalRecord as JournalRecord } from '../run/journal.js';
import type { AssertionResult, FaultRecord, RunResult, VariantResult } from '../run/result.js';
import { writeHtmlReport } from '../report/html.js';
import { REPORT } from './commands.js';
import { EXIT } from './exit-codes.js';
import { parseCommand } from './options.js';

/** The part of the CLI environment this command uses (CliEnv fits it). */
export interface ReportEnv {
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function reportCommand(args: string[], env: ReportEnv): Promise<number> {
  const { positionals } = parseCommand(REPORT, args);
  if (positionals.length !== 1) {
    throw new LabError(Errors.InvalidArgument, positionals.length ? `report takes one run folder, got ${positionals.length}` : 'report needs a run folder', {
      hint: 'chaoslab report runs/<time>-<scenario> (a run prints its folder at the end)',
    });
  }
  const runDir = path.resolve(env.cwd, positionals[0]!);
  const { result, journal, source } = readRunFolder(runDir);
  const file = writeHtmlReport(runDir, result, journal);
  const size = statSync(file).size;
  env.stdout.write(`wrote ${path.relative(env.cwd, file) || file} (${(size / 1024).toFixed(1)} KB, from ${source})\n`);
  return EXIT.ok;
}

export interface RunFolder {
  result: RunResult;
  journal: JournalRecord[];
  /** What the report was built from, for the user. */
  source: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new LabError(Errors.InvalidArgument, `${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'the run folder is damaged; run the scenario again',
    });
  }
}

/** journal.jsonl may end in a half-written line if the lab was killed mid-write: skip what does not parse. */
function readJsonLines(file: string): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalRecord);
    } catch {
      // A torn last line.
    }
  }
  return out;
}

export function readRunFolder(runDir: string): RunFolder {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    throw new LabError(Errors.FileNotFound, `no run folder at ${runDir}`, { hint: 'pass a folder under runs/ (a run prints its folder at the end)' });
  }
  const resultFile = path.join(runDir, 'result.json');
  const journalFile = path.join(runDir, 'journal.json');
  const linesFile = path.join(runDir, 'journal.jsonl');
  let journal: JournalRecord[] | undefined;
  if (existsSync(journalFile)) {
    const j = readJson(journalFile) as { records?: unknown };
    if (!Array.isArray(j.records)) throw new LabError(Errors.InvalidArgument, `${journalFile} has no records list`, { hint: 'the run folder is damaged; run the scenario again' });
    journal = j.records as JournalRecord[];
  } else if (existsSync(linesFile)) {
    journal = readJsonLines(linesFile);
  }
  if (existsSync(resultFile)) {
    const result = readJson(resultFile) as RunResult;
    if (typeof result !== 'object' || result === null || !Array.isArray(result.variants)) {
      throw new LabError(Errors.InvalidArgument, `${resultFile} is not a chaoslab result`, { hint: 'the run folder is damaged; run the scenario again' });
    }
    return { result, journal: journal ?? [], source: journal ? 'result.json and the journal' : 'result.json (no journal found)' };
  }
  if (!journal) {
    throw new LabError(Errors.FileNotFound, `${runDir} has neither result.json nor journal.json(l)`, { hint: 'is this a chaoslab run folder? A run writes them in runs/<time>-<scenario>/' });
  }
  return { result: resultFromJournal(runDir, journal), journal, source: 'the journal only (the run did not write result.json; charts have no series)' };
}

/** What a crashed run's journal still tells: variants, faults and the assertions judged before the crash. */
export function resultFromJournal(runDir: string, records: JournalRecord[]): RunResult {
  const start = records.find((r) => r.kind === 'run-start');
  const end = records.find((r) => r.kind === 'run-end');
  const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
  const variants: VariantResult[] = [];
  for (const vs of records.filter((r) => r.kind === 'variant-start')) {
    const name = str(vs.variant);
    const own = records.filter((r) => r.variant === name);
    const loadStart = own.find((r) => r.kind === 'load-start');
    const loadEnd = own.find((r) => r.kind === 'load-end');
    const vend = own.find((r) => r.kind === 'variant-end');
    const faults = new Map<string, FaultRecord>();
    for (const r of own) {
      const step = str(r['step']);
      if (!step || !r.kind.startsWith('fault-')) continue;
      const f = faults.get(step) ?? { step, description: str(r['description'], step), scheduledMs: typeof r['scheduledMs'] === 'number' ? r['scheduledMs'] : 0, appliedMs: null, healScheduledMs: null, healedMs: null };
      faults.set(step, f);
      if (r.kind === 'fault-apply') f.description = str(r['description'], f.description);
      if (r.kind === 'fault-applied' && typeof r['actualMs'] === 'number') f.appliedMs = r['actualMs'];
      if (r.kind === 'fault-heal' && typeof r['scheduledMs'] === 'number') f.healScheduledMs = r['scheduledMs'];
      if (r.kind === 'fault-healed' && typeof r['actualMs'] === 'number') f.healedMs = r['actualMs'];
      if (r.kind === 'fault-error') f.error = str((r['error'] as { message?: unknown } | undefined)?.message, 'failed');
    }
    const assertions: AssertionResult[] = own
      .filter((r) => r.kind === 'assertion')
      .map((r) => {
        const { kind: _k, t: _t, at: _at, variant: _v, ...rest } = r;
        return { ...(rest as unknown as AssertionResult), series: [] };
      });
    const status = vend ? (str(vend['status'], 'completed') as VariantResult['status']) : 'interrupted';
    // variant-start may carry the expectation; if not, a variant with mitigations is the one meant to recover.
    const mitigations = Array.isArray(vs['mitigations']) ? (vs['mitigations'] as string[]) : [];
    const expect: VariantResult['expect'] = vs['expect'] === 'reproduce' || vs['expect'] === 'recover' ? vs['expect'] : mitigations.length ? 'recover' : 'reproduce';
    variants.push({
      name,
      expect,
      mitigations,
      params: (vs['params'] as VariantResult['params'] | undefined) ?? {},
      status,
      passed: vend?.['passed'] === true,
      t0: typeof loadStart?.['t0'] === 'number' ? loadStart['t0'] : 0,
      assertions,
      faults: [...faults.values()],
      load: (loadEnd?.['summary'] as Record<string, unknown> | undefined) ?? null,
    });
  }
  return {
    scenario: str(start?.['scenario'], path.basename(runDir)),
    title: `${str(start?.['scenario'], 'run')} (rebuilt from the journal)`,
    seed: typeof start?.['seed'] === 'number' ? start['seed'] : 0,
    control: start?.['control'] === true,
    passed: end?.['passed'] === true,
    runDir,
    startedAt: start?.at ?? '',
    endedAt: end?.at ?? records[records.length - 1]?.at ?? '',
    command: str(start?.['command']),
    variants,
    ...(records.some((r) => r.kind === 'interrupted') ? { interrupted: true as const } : {}),
  };
}
