/**
 * The Docker reaper process: `node reaper-main.js <runId> <ownerPid> [dockerHost]`, started detached by the lab,
 * which holds our stdin. When stdin closes (the lab exited, crashed or was SIGKILLed), or the owner pid goes away,
 * we remove every container and network labelled `chaoslab.run=<runId>` and exit; a `release` line (a kept run)
 * makes us exit without removing anything. Prints `ready` once the engine
 * answered, so the lab creates nothing before its reaper can see the engine.
 */
import { readStartTime, isSameProcessAlive } from '../proc.js';
import { DockerEngine } from './engine.js';
import { LABEL } from './labels.js';

const [runId, ownerPidText, dockerHost] = process.argv.slice(2);
if (!runId || !ownerPidText) {
  process.stderr.write('usage: reaper-main.js <runId> <ownerPid> [dockerHost]\n');
  process.exit(2);
}
const ownerPid = Number(ownerPidText);
const ownerStart = readStartTime(ownerPid);
const engine = new DockerEngine(dockerHost ? { dockerHost } : {});
const filter = [`${LABEL.run}=${runId}`];
let reaping = false;

async function reap(): Promise<void> {
  if (reaping) return;
  reaping = true;
  clearInterval(ownerWatch);
  // Two passes: a container the lab was creating as it died can appear after the first listing.
  for (let pass = 0; pass < 2; pass++) {
    try {
      const { containers } = await engine.removeByLabels(filter);
      if (pass === 0 && containers.length === 0) break;
    } catch {
      // engine hiccup: the second pass (or `chaoslab clean`) finishes the job
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  process.exit(0);
}

const ownerWatch = setInterval(() => {
  if (!isSameProcessAlive(ownerPid, ownerStart)) void reap();
}, 1000);

// `release` (a kept run): exit without removing anything, before the pipe's close reads as the lab's death.
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  if (input.split('\n').includes('release')) {
    reaping = true;
    process.exit(0);
  }
});
process.stdin.on('end', () => void reap());
process.stdin.on('close', () => void reap());
process.stdin.on('error', () => void reap());
// Terminal signals are for the lab, which tears down itself; SIGTERM means "reap now".
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => void reap());

engine.ping().then(
  () => process.stdout.write('ready\n'),
  (e: unknown) => {
    process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(3);
  },
);
