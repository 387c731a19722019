/**
 * The Docker reaper process: `node reaper-main.js <runId> <ownerPid> [dockerHost]`, started detached by the lab
 * (the watching is shared: ../reaper-watch.ts). When the lab goes away it removes every container and network
 * labelled `chaoslab.run=<runId>`.
 */
import { runReaper } from '../reaper-watch.js';
import { DockerEngine } from './engine.js';
import { LABEL } from './labels.js';

const [runId, ownerPidText, dockerHost] = process.argv.slice(2);
if (!runId || !ownerPidText) {
  process.stderr.write('usage: reaper-main.js <runId> <ownerPid> [dockerHost]\n');
  process.exit(2);
}
const engine = new DockerEngine(dockerHost ? { dockerHost } : {});
const filter = [`${LABEL.run}=${runId}`];

runReaper({
  ownerPid: Number(ownerPidText),
  ping: () => engine.ping(),
  async removeAll() {
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
  },
});
