/**
 * The Kubernetes reaper process: `node reaper-main.js <namespace> <ownerPid> <context>`, started detached by the
 * lab, which holds our stdin (as the Docker reaper). When stdin closes (the lab exited, crashed or was
 * SIGKILLed), or the owner pid goes away, we delete the run's namespace (one call: the cluster removes the pods)
 * and exit; a `release` line (a kept run) makes us exit without deleting anything. Prints `ready` once the API
 * server answered. KUBECONFIG comes with the environment the lab gave us.
 */
import { readStartTime, isSameProcessAlive } from '../proc.js';
import { loadKubeTarget } from './cluster-api.js';
import { deleteNamespace } from './namespaces.js';

const [namespace, ownerPidText, context] = process.argv.slice(2);
if (!namespace || !ownerPidText) {
  process.stderr.write('usage: reaper-main.js <namespace> <ownerPid> [context]\n');
  process.exit(2);
}
const ownerPid = Number(ownerPidText);
const ownerStart = readStartTime(ownerPid);
let reaping = false;
const target = (() => {
  try {
    return loadKubeTarget(context ? { context } : {});
  } catch (e) {
    process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(3);
  }
})();

async function reap(): Promise<void> {
  if (reaping) return;
  reaping = true;
  clearInterval(ownerWatch);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await deleteNamespace(target.core, namespace!);
      break;
    } catch {
      // an API hiccup: try again; `chaoslab clean` finishes the job otherwise
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  process.exit(0);
}

const ownerWatch = setInterval(() => {
  if (!isSameProcessAlive(ownerPid, ownerStart)) void reap();
}, 1000);

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
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => void reap());

target.core.readNamespace({ name: namespace }).then(
  () => process.stdout.write('ready\n'),
  (e: unknown) => {
    process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(3);
  },
);
