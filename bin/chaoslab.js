#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('chaoslab is not built yet: run `npm install` (or `npm run build`) in the chaoslab folder.\n');
  process.exit(2);
}
// 70 (EX_SOFTWARE): an internal error, a bug of chaoslab, never read as a verdict (see src/cli/exit-codes.ts).
let cli;
try {
  cli = await import(main);
} catch (e) {
  process.stderr.write(`chaoslab: internal error: could not load the CLI: ${e instanceof Error ? e.message : String(e)}\n  this is a bug in chaoslab, please report it (or rebuild: npm run build)\n`);
  process.exit(70);
}
// An exception nothing caught (a timer, a stream handler) is a bug too: the same message and exit code.
process.on('uncaughtException', (e) => process.exit(cli.crashed(e)));
process.on('unhandledRejection', (e) => process.exit(cli.crashed(e)));
// Exit as soon as the command is done: idle keep-alive sockets and timers of finished parts must
// not hold the process (and a Ctrl-C'd run) open. stdout/stderr are synchronous for files and pipes on Linux.
process.exit(await cli.main(process.argv.slice(2)));
