/**
 * The Kubernetes reaper process: `node reaper-main.js <namespace> <ownerPid> [context]`, started detached by the
 * lab (the watching is shared: ../reaper-watch.ts). When the lab goes away it deletes the run's namespace (one
 * call: the cluster removes the pods). KUBECONFIG comes with the environment the lab gave us.
 */
import { runReaper } from '../reaper-watch.js';
import { loadKubeTarget } from './cluster-api.js';
import { deleteNamespace } from './namespaces.js';

const [namespace, ownerPidText, context] = process.argv.slice(2);
if (!namespace || !ownerPidText) {
  process.stderr.write('usage: reaper-main.js <namespace> <ownerPid> [context]\n');
  process.exit(2);
}
const target = (() => {
  try {
    return loadKubeTarget(context ? { context } : {});
  } catch (e) {
    process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(3);
  }
})();

runReaper({
  ownerPid: Number(ownerPidText),
  ping: () => target.core.readNamespace({ name: namespace }),
  async removeAll() {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await deleteNamespace(target.core, namespace);
        return;
      } catch {
        // an API hiccup: try again; `chaoslab clean` finishes the job otherwise
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  },
});
