/**
 * The reaper process (cf. testcontainers' Ryuk, for processes). Started detached by the lab with
 * `node reaper-main.js <stateFile> <ownerPid> <ownerStartTime>`; the lab holds our stdin.
 * Lines on stdin: {"op":"register","pid","startTime","label"} | {"op":"unregister","pid"} | {"op":"release"}.
 * `release` (a kept run): the lab has recorded the processes elsewhere; we exit at once without killing anything.
 * When stdin closes (the lab exited, crashed or was SIGKILLed) or the owner disappears, we kill every registered
 * process group that is still the same process, delete the state file and exit.
 */
import { appendFileSync, unlinkSync } from 'node:fs';
import { isSameProcessAlive, killGroups, type ProcessEntry } from './proc.js';

const [stateFile, ownerPidText, ownerStartText] = process.argv.slice(2);
if (!stateFile || !ownerPidText) {
  process.stderr.write('usage: reaper-main.js <stateFile> <ownerPid> [ownerStartTime]\n');
  process.exit(2);
}
const ownerPid = Number(ownerPidText);
const ownerStartTime = ownerStartText && ownerStartText !== 'null' ? ownerStartText : null;

const registered = new Map<number, ProcessEntry>();
let reaping = false;

async function reap(reason: string): Promise<void> {
  if (reaping) return;
  reaping = true;
  clearInterval(ownerWatch);
  // Nobody reads our stdio once the lab is gone: failures go to a file beside the state file, for `chaoslab clean`
  // and people to find.
  const failed: string[] = [];
  const killed = await killGroups([...registered.values()], 2000, (e, err) => failed.push(`${e.label}[${e.pid}]: ${(err as Error).message}`));
  try {
    unlinkSync(stateFile!);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') failed.push(`state file: ${(e as Error).message}`);
  }
  if (failed.length > 0) {
    try {
      appendFileSync(`${stateFile}.errors`, `${new Date().toISOString()} reaper (${reason}) could not stop: ${failed.join('; ')}\n`);
    } catch {
      // the state folder is gone: there is nowhere left to say it
    }
  }
  if (killed.length > 0) process.stderr.write(`reaper (${reason}): killed ${killed.map((e) => `${e.label}[${e.pid}]`).join(', ')}\n`);
  process.exit(0);
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    try {
      const msg = JSON.parse(line) as { op: string; pid: number; startTime?: string | null; label?: string; uid?: number; cmdline?: string };
      if (reaping) return;
      if (msg.op === 'register') {
        // The identity recorded at registration is what killGroups checks before it signals.
        const { op: _op, ...entry } = msg;
        registered.set(msg.pid, { ...entry, startTime: msg.startTime ?? null, label: msg.label ?? '' });
      }
      else if (msg.op === 'unregister') registered.delete(msg.pid);
      else if (msg.op === 'release') {
        // Before the pipe's close can be read as the lab's death. The lab removes the state file.
        reaping = true;
        process.exit(0);
      }
    } catch {
      // a torn line from a dying lab; ignore
    }
  }
});
process.stdin.on('end', () => void reap('lab closed the pipe'));
process.stdin.on('close', () => void reap('lab closed the pipe'));
process.stdin.on('error', () => void reap('pipe error'));

// Belt and braces: if the pipe's write end leaked somewhere, still notice the lab's death.
const ownerWatch = setInterval(() => {
  if (!isSameProcessAlive(ownerPid, ownerStartTime)) void reap('lab is gone');
}, 1000);

// Terminal hangups and Ctrl-C are for the lab, which tears down itself; SIGTERM means "reap now".
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => void reap('SIGTERM'));

process.stdout.write('ready\n');
