#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('chaoslab is not built yet: run `npm install` (or `npm run build`) in the chaoslab folder.\n');
  process.exit(2);
}
const { main: run } = await import(main);
// Exit as soon as the command is done: idle keep-alive sockets and timers of finished parts must
// not hold the process (and a Ctrl-C'd run) open. stdout/stderr are synchronous for files and pipes on Linux.
process.exit(await run(process.argv.slice(2)));
