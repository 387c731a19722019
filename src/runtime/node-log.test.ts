import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Errors } from '../errors/catalog.js';
import { describeExit, describeFailure, logTail, markExit, markStart } from './node-log.js';
import type { NodeSpec } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'chaoslab-node-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = (name: string): NodeSpec => ({ name, group: 'g', command: ['x'], cwd: dir, env: {}, logFile: join(dir, 'logs', `${name}.log`), healthUrl: 'http://127.0.0.1:1/', healthTimeoutMs: 1 });

describe('node log', () => {
  it('quotes only the current incarnation, without the marks', () => {
    const s = spec('a');
    markStart(s, 'node a.js');
    writeFileSync(s.logFile, 'first life\n', { flag: 'a' });
    markExit(s, { code: 1, signal: null });
    markStart(s, 'node a.js');
    writeFileSync(s.logFile, 'second life\nboom\n', { flag: 'a' });
    expect(logTail(s.logFile)).toBe('  | second life\n  | boom');
  });

  it('an exit mark the log cannot take is dropped, not thrown (it runs where no one could catch it)', () => {
    const s = { ...spec('gone'), logFile: join(dir, 'no-such-folder', 'gone.log') };
    expect(() => markExit(s, { code: 1, signal: null })).not.toThrow();
  });

  it('describes exits', () => {
    expect(describeExit({ code: 3, signal: null })).toBe('exit code 3');
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('signal SIGKILL');
    expect(describeExit({ code: null, signal: null })).toBe('removed');
  });

  it('a failure is NodeFailed with the tail and where the log is', () => {
    const s = spec('b');
    markStart(s, 'x');
    writeFileSync(s.logFile, 'bad config\n', { flag: 'a' });
    const e = describeFailure(s, 'node b exited (exit code 3) before it was healthy');
    expect(e.code).toBe(Errors.NodeFailed.code);
    expect(e.message).toBe('node b exited (exit code 3) before it was healthy; last lines of its log:\n  | bad config');
    expect(e.hint).toBe(`See the full log: ${s.logFile}`);
    expect(describeFailure(spec('never-started'), 'x').message).toBe('x');
  });
});
