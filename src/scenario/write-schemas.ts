/** Build step: writes schema/*.json from the zod schemas, and the toys' metric names into src/scenario/known-metrics.ts. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas, renderSchema } from './json-schema.js';
import { renderKnownMetrics, scanMetricNames } from './metric-names.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = path.join(root, 'schema');
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) writeFileSync(path.join(dir, name), renderSchema(schema));

// Only in a source checkout (an installed package has no toys/*.ts to scan). A change shows in the
// next build's output; the unit test in metric-names.test.ts says when the committed file is stale.
const known = path.join(root, 'src', 'scenario', 'known-metrics.ts');
if (existsSync(path.join(root, 'toys', 'lib')) && existsSync(known)) {
  const text = renderKnownMetrics(scanMetricNames(root));
  if (readFileSync(known, 'utf8') !== text) {
    writeFileSync(known, text);
    process.stdout.write('src/scenario/known-metrics.ts updated from the toys\' source: run `npm run build` again to compile it\n');
  }
}
