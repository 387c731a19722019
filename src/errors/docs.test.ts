import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Errors } from './catalog.js';
import { renderErrorDocs } from './docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('error catalog', () => {
  it('docs/errors.md is what the catalog renders (run `npm run build` after changing the catalog)', () => {
    expect(readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8')).toBe(renderErrorDocs());
  });

  it('codes are unique and well formed', () => {
    const codes = Object.values(Errors).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^CHAOSLAB_[A-Z0-9_]+$/);
  });

  it('no code is made outside the catalog', () => {
    // Every `'CHAOSLAB_…'` string literal in src names an error only in the catalog (env variables are allowed).
    const src = path.join(root, 'src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith(path.join('errors', 'catalog.ts'))) {
          for (const m of readFileSync(p, 'utf8').matchAll(/['"`](CHAOSLAB_[A-Z0-9_]+)['"`]/g)) {
            if (codes.has(m[1]!)) offenders.push(`${path.relative(root, p)}: ${m[1]}`);
          }
        }
      }
    };
    const codes = new Set(Object.values(Errors).map((e) => e.code as string));
    walk(src);
    expect(offenders).toEqual([]);
  });
});

