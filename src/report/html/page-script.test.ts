import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePageScript, GENERATED, SOURCE } from '../../../scripts/build-page-script.mjs';

describe('page-script.generated.ts', () => {
  it('is page-script.ts as compiled now (npm run build regenerates it)', () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(compilePageScript(readFileSync(SOURCE, 'utf8')));
  });

  it('compiles to a classic script without types, imports or exports', () => {
    const text = compilePageScript('import type { X } from "./x.js";\nconst a: number = 1;\n(function (): void { console.log(a as X); })();\n');
    expect(text).toContain('const a = 1;');
    expect(text).not.toMatch(/\b(import|export \{\})\b|: number|as X/);
  });
});
