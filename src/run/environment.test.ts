import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaoslabVersion, hostLoad, runEnvironment } from './environment.js';

describe('run environment', () => {
  it('reads the versions it is given; a part that fails to say leaves null, never a failed run', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chaoslab-env-'));
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'chaoslab', version: '1.2.3' }));
    const env = await runEnvironment({ projectRoot: root, toxiproxy: Promise.resolve('2.12.0'), prometheus: Promise.reject(new Error('down')), docker: '24.0.7' });
    expect(env).toMatchObject({ chaoslab: '1.2.3', node: process.version, toxiproxy: '2.12.0', prometheus: null, docker: '24.0.7' });
    const noDocker = await runEnvironment({ projectRoot: path.join(root, 'missing'), toxiproxy: Promise.resolve(null), prometheus: Promise.resolve('2.45.0') });
    expect(noDocker.chaoslab).toBeNull();
    expect('docker' in noDocker).toBe(false);
    expect(chaoslabVersion(root)).toBe('1.2.3');
  });

  it('host load is three non-negative averages, rounded to hundredths', () => {
    const l = hostLoad();
    expect(l).toHaveLength(3);
    for (const x of l) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(Math.round(x * 100) / 100).toBe(x);
    }
  });
});
