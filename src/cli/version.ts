/** chaoslab's version, from its package.json: the one place it is written. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest package.json named chaoslab above this module (dist/src/cli or src/cli). */
export function chaoslabVersion(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'chaoslab' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
