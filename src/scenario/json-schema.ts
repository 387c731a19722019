/**
 * JSON Schemas for editors, derived from the same zod schemas the loader validates with.
 * `npm run build` writes them to schema/; a unit test keeps the committed copies in sync.
 */
import { z } from 'zod';
import { ClusterFile, ScenarioFile } from './schema.js';

export function jsonSchemas(): Record<string, unknown> {
  // draft-07: what editors' YAML extensions (yaml-language-server) support.
  const opts = { io: 'input', unrepresentable: 'any', target: 'draft-7' } as const;
  return {
    'scenario.schema.json': { title: 'chaoslab scenario', ...z.toJSONSchema(ScenarioFile, opts) },
    'cluster.schema.json': { title: 'chaoslab cluster', ...z.toJSONSchema(ClusterFile, opts) },
  };
}

export function renderSchema(s: unknown): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
