import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, findLinearizabilityChecker } from './linearizability.js';

// The real Porcupine checker, as setup builds it (scripts/build-checkers.sh).
const binary = findLinearizabilityChecker(path.resolve(import.meta.dirname, '../..'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-lin-'));
const write = (name: string, ops: object[]) => {
  const f = path.join(dir, name);
  writeFileSync(f, ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
  return f;
};
const op = (type: string, f: string, value: string | null, process: number, time: number) => ({ type, f, key: 'k1', value, process, time });

describe('linearizability checker (Porcupine)', () => {
  it('passes a linearizable history', async () => {
    const file = write('ok.jsonl', [op('invoke', 'write', 'a', 0, 1), op('ok', 'write', 'a', 0, 2), op('invoke', 'read', null, 1, 3), op('ok', 'read', 'a', 1, 4)]);
    expect(await checkLinearizable(binary, file)).toMatchObject({ valid: true, ops: 4, keys: 1, reads: 1, writes: 1 });
  });

  it('finds the stale read, names it, and draws the counterexample', async () => {
    const file = write('stale.jsonl', [
      op('invoke', 'write', 'a', 0, 1),
      op('ok', 'write', 'a', 0, 2),
      op('invoke', 'write', 'b', 2, 3),
      op('ok', 'write', 'b', 2, 4),
      op('invoke', 'read', null, 1, 5),
      op('ok', 'read', 'a', 1, 6),
    ]);
    const html = path.join(dir, 'stale.html');
    const v = await checkLinearizable(binary, file, { visualize: html });
    expect(v.valid).toBe(false);
    expect(v.counterexample?.staleRead).toMatchObject({ f: 'read', key: 'k1', value: 'a' });
    expect(v.counterexample?.expected).toBe('b');
    expect(existsSync(html)).toBe(true);
  });

  it('refuses a malformed history as a checker failure, not a verdict', async () => {
    const file = write('bad.jsonl', [op('ok', 'read', 'a', 0, 1)]);
    await expect(checkLinearizable(binary, file)).rejects.toMatchObject({ code: 'CHAOSLAB_CHECKER_FAILED' });
  });
});
