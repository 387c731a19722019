import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas, renderSchema } from './json-schema.js';

const root = path.resolve(import.meta.dirname, '..', '..');

type JsonSchema = { [k: string]: unknown; properties?: Record<string, JsonSchema>; description?: string };

/**
 * Every property (at any depth) without a description, as a dotted path (the fault kinds' fields included:
 * each kind describes its own in src/fault/kinds).
 */
function undescribed(schema: unknown, at: string, out: string[]): string[] {
  if (Array.isArray(schema)) {
    schema.forEach((s, i) => undescribed(s, `${at}[${i}]`, out));
    return out;
  }
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as JsonSchema;
  for (const [key, value] of Object.entries(s)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, prop] of Object.entries(value as Record<string, JsonSchema>)) {
        const where = `${at}.${name}`;
        if (typeof prop.description !== 'string' || prop.description.length < 8) out.push(where);
        undescribed(prop, where, out);
      }
    } else if (typeof value === 'object') undescribed(value, `${at}.${key}`, out);
  }
  return out;
}

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
  it('are draft-07, what editors\' YAML extensions support', () => {
    for (const schema of Object.values(jsonSchemas())) expect((schema as JsonSchema).$schema).toBe('http://json-schema.org/draft-07/schema#');
  });
  it('describe every field, so hovering it in an editor explains it', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) expect(undescribed(schema, name.replace('.schema.json', ''), [])).toEqual([]);
  });
  it('say what expect, window, over and recoverWithin mean', () => {
    const s = jsonSchemas()['scenario.schema.json'] as { properties: { assertions: { items: { properties: Record<string, JsonSchema> } } } };
    const a = s.properties.assertions.items.properties;
    expect(a.expect?.description).toMatch(/violated/);
    expect(a.window?.description).toMatch(/span of the run/);
    expect(a.over?.description).toMatch(/all/);
    expect(a.recoverWithin?.description).toMatch(/recover/);
  });
  it('the checker sees a property without a description', () => {
    expect(undescribed({ properties: { a: { type: 'string' }, b: { type: 'object', description: 'described here', properties: { c: {} } } } }, 'x', [])).toEqual(['x.a', 'x.b.c']);
  });
});
