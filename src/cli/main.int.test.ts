/**
 * The real CLI, spawned as a user runs it (bin/chaoslab.js over the build in dist/, which `npm test` makes
 * first): help, version, usage errors and the internal-error exit code, end to end through the launcher.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keptDir, writeKept, type KeptRecord } from '../runtime/kept.js';
import { COMMANDS } from './commands.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'chaoslab.js');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

function chaoslab(args: string[], opts: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...(opts.nodeArgs ?? []), bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', CHAOSLAB_DEBUG: '', ...opts.env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

describe('chaoslab (spawned)', () => {
  beforeAll(() => {
    // The bin runs dist/: an old build would test old code. `npm test` builds first; alone, run `npm run build`.
    const built = path.join(root, 'dist', 'src', 'cli', 'main.js');
    const cliDir = path.join(root, 'src', 'cli');
    const newest = Math.max(...readdirSync(cliDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => statSync(path.join(cliDir, f)).mtimeMs));
    if (!existsSync(built) || statSync(built).mtimeMs < newest) throw new Error('dist/ is older than src/cli: run `npm run build` first');
  });

  it('--help on every command exits 0 and prints its usage', async () => {
    const names = Object.keys(COMMANDS);
    const runs = await Promise.all(names.map((n) => chaoslab([n, '--help'])));
    runs.forEach((r, i) => {
      expect(r.code, `${names[i]}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: chaoslab ${names[i]}\\b`));
      expect(r.stderr).toBe('');
    });
  });

  it('run hello-latency --help is help, not a run', async () => {
    const r = await chaoslab(['run', 'hello-latency', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: chaoslab run <scenario> \[options\]/);
  });

  it('clean --help does not clean; clean does', async () => {
    const stateDir = tmp('chaoslab-int-state-');
    const runDir = tmp('chaoslab-int-run-');
    const record: KeptRecord = {
      version: 1, runId: 'int-test-help', scenario: 'hello-latency', variant: 'baseline', runDir, runtime: 'process',
      keptAt: new Date().toISOString(), prometheus: '', toxiproxy: '', nodes: [], proxies: {}, processes: [],
    };
    writeKept(stateDir, record);
    const file = path.join(keptDir(stateDir), 'int-test-help.json');
    const help = await chaoslab(['clean', '--help'], { env: { CHAOSLAB_STATE_DIR: stateDir } });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: chaoslab clean/);
    expect(existsSync(file)).toBe(true);
    const clean = await chaoslab(['clean'], { env: { CHAOSLAB_STATE_DIR: stateDir } });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`stopped kept run ${runDir}`);
    expect(existsSync(file)).toBe(false);
  });

  it('an unknown flag exits 2 with a suggestion on stderr, and stdout stays clean for --json', async () => {
    const r = await chaoslab(['run', 'hello-latency', '--json', '--seeed', '7']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('run: unknown option --seeed (did you mean --seed?)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown scenario id exits 2 naming the close ids', async () => {
    const r = await chaoslab(['run', 'hello-latncy', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('did you mean hello-latency?');
  });

  it('--version, -V and <command> --version print the package version', async () => {
    for (const args of [['--version'], ['-V'], ['list', '--version']]) {
      const r = await chaoslab(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toBe(`chaoslab ${version}\n`);
    }
  });

  it('CHAOSLAB_STATE_DIR that is a file exits 2 at once', async () => {
    const file = path.join(tmp('chaoslab-int-'), 'state');
    writeFileSync(file, '');
    const r = await chaoslab(['clean'], { env: { CHAOSLAB_STATE_DIR: file } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`CHAOSLAB_STATE_DIR=${file} is a file, not a folder`);
    expect(r.stdout).toBe('');
  });

  it('an internal error (injected: a bug in listing scenarios) exits 70, says so, and shows the stack only with --debug', async () => {
    // Preloaded before the CLI: readdirSync of the scenarios folder throws a TypeError, as a bug would.
    const inject = path.join(tmp('chaoslab-int-inject-'), 'inject.mjs');
    writeFileSync(
      inject,
      `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const real = fs.readdirSync;
fs.readdirSync = (p, ...rest) => { if (String(p).endsWith('scenarios')) throw new TypeError('injected bug'); return real(p, ...rest); };
syncBuiltinESMExports();
`,
    );
    const r = await chaoslab(['list'], { nodeArgs: ['--import', inject] });
    expect(r.code, r.stderr).toBe(70);
    expect(r.stderr).toContain('internal error: TypeError: injected bug');
    expect(r.stderr).toContain('this is a bug in chaoslab, please report it');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = await chaoslab(['list', '--debug'], { nodeArgs: ['--import', inject] });
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/\n\s+at /);
    const envDebug = await chaoslab(['list'], { nodeArgs: ['--import', inject], env: { CHAOSLAB_DEBUG: '1' } });
    expect(envDebug.stderr).toMatch(/\n\s+at /);
  });
});
