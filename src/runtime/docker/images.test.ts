import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importedPackages, moduleClosure, packageClosure, parseImageSource, sharedLibraries } from './images.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-images-'));
  dirs.push(d);
  return d;
}
function pkg(root: string, rel: string, deps: Record<string, string> = {}, extra: object = {}): void {
  mkdirSync(path.join(root, rel), { recursive: true });
  writeFileSync(path.join(root, rel, 'package.json'), JSON.stringify({ name: path.basename(rel), dependencies: deps, ...extra }));
}

describe('what goes into the toys image', () => {
  it('finds the bare packages the toys import, not builtins or relative files', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'a.js'), `import { Counter } from 'prom-client';\nimport http from 'node:http';\nimport fs from "fs";\nimport { x } from '../lib/x.js';\nconst y = await import('@scope/pkg/sub');\n`);
    expect(importedPackages([path.join(d, 'a.js')])).toEqual(['@scope/pkg', 'prom-client']);
  });

  it('takes the lab modules the load server imports, transitively, and nothing else', () => {
    const d = tmp();
    mkdirSync(path.join(d, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(d, 'a', 'main.js'), "import { x } from './b/x.js';\nimport z from 'zod';\n");
    writeFileSync(path.join(d, 'a', 'b', 'x.js'), "export { y } from '../y.js';\nconst later = () => import('./w.js');\n");
    writeFileSync(path.join(d, 'a', 'y.js'), "import { x } from './b/x.js';\n");
    writeFileSync(path.join(d, 'a', 'b', 'w.js'), '');
    writeFileSync(path.join(d, 'a', 'unused.js'), '');
    const files = moduleClosure(path.join(d, 'a', 'main.js')).map((f) => path.relative(d, f)).sort();
    expect(files).toEqual(['a/b/w.js', 'a/b/x.js', 'a/main.js', 'a/y.js']);
  });

  it('closes over dependencies as Node resolves them, nested ones included, optional ones if present', () => {
    const d = tmp();
    pkg(d, 'node_modules/prom-client', { tdigest: '1' }, { peerDependencies: { '@opentelemetry/api': '1' } });
    pkg(d, 'node_modules/tdigest', { bintrees: '1' });
    pkg(d, 'node_modules/tdigest/node_modules/bintrees');
    pkg(d, 'node_modules/bintrees');
    expect(packageClosure(d, ['prom-client']).map((p) => path.relative(d, p))).toEqual([
      'node_modules/prom-client',
      'node_modules/tdigest',
      'node_modules/tdigest/node_modules/bintrees',
    ]);
    expect(() => packageClosure(d, ['missing'])).toThrow(/not installed/);
  });

  it('lists the libraries and the loader of a dynamic binary (none for a script)', () => {
    const libs = sharedLibraries(process.execPath);
    expect(libs.some((l) => /libc\.so/.test(l))).toBe(true);
    expect(libs.some((l) => /ld-linux/.test(l))).toBe(true);
    const d = tmp();
    writeFileSync(path.join(d, 'script.sh'), '#!/bin/sh\n');
    expect(sharedLibraries(path.join(d, 'script.sh'))).toEqual([]);
  });

  it('accepts the three sources', () => {
    expect(parseImageSource(undefined)).toBe('auto');
    expect(parseImageSource('local')).toBe('local');
    expect(() => parseImageSource('registry')).toThrow();
  });
});
