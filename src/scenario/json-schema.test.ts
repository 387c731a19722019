import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas, renderSchema } from './json-schema.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('JSON Schemas for editors', () => {
  it('the committed schema/ files match the zod schemas (run `npm run build` to refresh)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      expect(readFileSync(path.join(root, 'schema', name), 'utf8')).toBe(renderSchema(schema));
    }
  });
  it('describes durations and refuses unknown keys', () => {
    const s = jsonSchemas()['scenario.schema.json'] as { additionalProperties: boolean; properties: Record<string, { pattern?: string }> };
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.duration?.pattern).toMatch(/ms\|s\|m\|h/);
  });
});
