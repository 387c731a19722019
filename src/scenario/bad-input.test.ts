/**
 * Every crafted bad input (test/fixtures/bad-inputs.ts) must end in a clear input error: a LabError
 * of kind `input` (exit 2) that names the file (or the `--set` flag), the line where there is one,
 * within a time bound. The loader is called directly, in this thread; a watchdog thread unblocks a
 * named pipe that an old loader would wait on forever, so a hang is counted instead of hanging the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { badInputs, type BadInput, type SpecialPath } from '../../test/fixtures/bad-inputs.js';
import { validBase, validCluster } from '../../test/fixtures/invalid-scenarios.js';
import { parseSet } from '../cli/main.js';
import { LabError } from '../errors/lab-error.js';
import { loadCluster, loadScenario } from './load.js';

/** A case taking longer than this counts as a hang (the loader reads at most 1 MB of YAML). */
const BOUND_MS = 3000;
const ESC = '\u001b';

// Kinds to leave out, for measuring an old loader that would allocate without bound (`/dev/zero`).
const SKIP = new Set((process.env.CHAOSLAB_BAD_INPUT_SKIP ?? '').split(',').filter(Boolean));

const root = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-bad-input-'));
const counts = { tried: 0, clear: 0, unclear: 0, accepted: 0, crash: 0, hang: 0, skipped: 0 };
const verdicts: string[] = [];

// The watchdog: after the bound, opens the writing end of the case's pipes (and closes it), so a
// loader blocked opening one for reading gets end-of-file instead of waiting forever.
const watchdog = new Worker(
  `const { parentPort } = require('node:worker_threads');
   const fs = require('node:fs');
   let timer;
   parentPort.on('message', (m) => {
     clearTimeout(timer);
     if (!m.fifos.length) return;
     timer = setTimeout(() => {
       for (const f of m.fifos) {
         try { fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch {}
       }
     }, m.ms);
   });`,
  { eval: true },
);
watchdog.unref();

afterAll(async () => {
  const line = `bad inputs: tried ${counts.tried}, clear ${counts.clear}, unclear ${counts.unclear}, accepted ${counts.accepted}, crash ${counts.crash}, hang ${counts.hang}${counts.skipped ? `, skipped ${counts.skipped}` : ''}`;
  console.log([line, ...verdicts.filter((v) => !v.startsWith('clear'))].join('\n'));
  await watchdog.terminate();
  rmSync(root, { recursive: true, force: true });
});

interface Prepared {
  load: () => unknown;
  /** The file the error must name, or `--set`. */
  expectName: string;
  /** Where the changed lines are, and in which file. */
  lines?: { file: string; range: [number, number] };
  fifos: string[];
}

function specialPath(dir: string, kind: SpecialPath, fifos: string[]): string {
  switch (kind) {
    case 'folder':
      mkdirSync(path.join(dir, 'sub'));
      return path.join(dir, 'sub');
    case 'empty-path':
      return '';
    case 'fifo': {
      const p = path.join(dir, 'pipe.yaml');
      execFileSync('mkfifo', [p]);
      fifos.push(p);
      return p;
    }
    case 'dev-zero':
      return '/dev/zero';
    case 'dev-null':
      return '/dev/null';
    case 'dev-urandom':
      return '/dev/urandom';
    case 'symlink-loop':
      symlinkSync(path.join(dir, 'b.yaml'), path.join(dir, 'a.yaml'));
      symlinkSync(path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml'));
      return path.join(dir, 'a.yaml');
    case 'self-symlink':
      symlinkSync(path.join(dir, 'self.yaml'), path.join(dir, 'self.yaml'));
      return path.join(dir, 'self.yaml');
    case 'dangling-symlink':
      symlinkSync(path.join(dir, 'nowhere.yaml'), path.join(dir, 'dangling.yaml'));
      return path.join(dir, 'dangling.yaml');
    case 'symlink-to-folder':
      mkdirSync(path.join(dir, 'sub'));
      symlinkSync(path.join(dir, 'sub'), path.join(dir, 'link.yaml'));
      return path.join(dir, 'link.yaml');
    case 'trailing-slash':
      writeFileSync(path.join(dir, 'plain.yaml'), validCluster);
      return `${path.join(dir, 'plain.yaml')}/`;
    case 'through-a-file':
      writeFileSync(path.join(dir, 'plain.yaml'), validCluster);
      return path.join(dir, 'plain.yaml', 'x.yaml');
    case 'nul-in-path':
      return path.join(dir, 'a\u0000b.yaml');
    case 'escape-codes-missing':
      return path.join(dir, `${ESC}[31mred.yaml`);
    case 'escape-codes-invalid': {
      const p = path.join(dir, `${ESC}[2Jclear.yaml`);
      writeFileSync(p, 'id: [\n');
      return p;
    }
    case 'newline-in-name': {
      const p = path.join(dir, 'bad\nname.yaml');
      writeFileSync(p, 'id: [\n');
      return p;
    }
  }
}

function prepare(c: BadInput, i: number): Prepared {
  const dir = path.join(root, String(i));
  mkdirSync(dir);
  const fifos: string[] = [];
  const scenarioFile = path.join(dir, 's.yaml');
  const clusterFile = path.join(dir, 'cluster.yaml');
  writeFileSync(clusterFile, c.cluster ?? validCluster);
  let target = scenarioFile;
  let expectName = 's.yaml';
  if (c.special?.of === 'scenario') {
    target = specialPath(dir, c.special.path, fifos);
    expectName = c.special.path === 'empty-path' ? '' : path.basename(target);
  } else if (c.special?.of === 'cluster') {
    const p = specialPath(dir, c.special.path, fifos);
    writeFileSync(scenarioFile, validBase.replace('file: cluster.yaml', `file: ${JSON.stringify(p)}`));
    expectName = c.special.path === 'empty-path' ? 's.yaml' : path.basename(p);
  } else {
    writeFileSync(scenarioFile, c.scenario ?? validBase);
  }
  if (c.names === 'cluster' && !c.special) expectName = 'cluster.yaml';
  if (c.names === 'flag') expectName = '--set';
  const lines = c.lines ? { file: c.names === 'cluster' ? clusterFile : scenarioFile, range: c.lines } : undefined;
  const load = c.clusterOnly ? () => loadCluster(clusterFile) : () => loadScenario(target, c.set ? { overrides: parseSet(c.set) } : {});
  return { load, expectName, ...(lines ? { lines } : {}), fifos };
}

/** The part of a name a terminal shows when its control characters are escaped or dropped. */
function visible(name: string): string {
  const parts = name.split(/[\u0000-\u001f\u007f]/);
  return parts[parts.length - 1]!.replace(/^\[\d*[A-Za-z]/, '');
}

function allErrors(e: LabError): LabError[] {
  return [e, ...e.details];
}

describe('bad input: a clear exit 2, never a crash, a hang or a huge allocation', () => {
  badInputs.forEach((c, i) => {
    it(c.name, () => {
      if (c.special && SKIP.has(c.special.path)) {
        counts.skipped++;
        return;
      }
      counts.tried++;
      const p = prepare(c, i);
      watchdog.postMessage({ fifos: p.fifos, ms: BOUND_MS });
      const started = performance.now();
      let thrown: unknown;
      let loaded = false;
      try {
        p.load();
        loaded = true;
      } catch (e) {
        thrown = e;
      }
      const ms = performance.now() - started;
      watchdog.postMessage({ fifos: [] });

      const verdict = ((): string => {
        if (ms > BOUND_MS) return 'hang';
        if (loaded) return 'accepted';
        if (!(thrown instanceof LabError) || thrown.kind !== 'input' || thrown.exitCode !== 2) return 'crash';
        const text = thrown.format();
        if (p.expectName && !text.includes(visible(p.expectName))) return 'unclear';
        if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return 'unclear';
        if (c.says && !c.says.test(`${text}\n${thrown.message}`)) return 'unclear';
        if (p.lines) {
          const { file, range } = p.lines;
          const hit = allErrors(thrown).some((e) => e.location?.file === file && e.location.line !== undefined && e.location.line >= range[0] && e.location.line <= range[1]);
          if (!hit) return 'unclear';
        }
        return 'clear';
      })();
      counts[verdict as keyof typeof counts]++;
      const shown = thrown instanceof LabError ? thrown.format() : thrown instanceof Error ? `${thrown.constructor.name}: ${thrown.message}` : loaded ? '(loaded)' : String(thrown);
      verdicts.push(`${verdict.padEnd(8)} ${c.name} (${Math.round(ms)} ms): ${JSON.stringify(shown.slice(0, 300))}`);
      expect(verdict, `${c.name}: ${shown.slice(0, 2000)}`).toBe('clear');
    });
  });

  it('has at least 150 cases', () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(150);
  });
});
