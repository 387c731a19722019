/**
 * The images the run's pods use, and how the kubelet gets them. Without a registry: the local names with
 * `imagePullPolicy: Never` (the local test cluster imports them into its containerd). With `--image-registry R`:
 * `R/<name>:<image ID>` (the names `chaoslab images push` pushed, computed from the same local images) and
 * `IfNotPresent`: the tag changes with the image, so a cached copy is never stale.
 */
import { DockerEngine } from '../docker/engine.js';
import { IMAGES } from '../docker/images.js';
import { parseRegistry, registryImages } from '../docker/registry.js';

export type PullPolicy = 'Never' | 'IfNotPresent' | 'Always';

export interface KubeImages {
  toys: string;
  toxiproxy: string;
  prometheus: string;
  pullPolicy: PullPolicy;
}

export const LOCAL_KUBE_IMAGES: KubeImages = { toys: IMAGES.toys, toxiproxy: IMAGES.toxiproxy, prometheus: IMAGES.prometheus, pullPolicy: 'Never' };

/** The registry's names for the engine's current images (exit 2 for a malformed R, 3 without engine or images). */
export async function kubeImagesFrom(registry: string, opts: { dockerHost?: string } = {}): Promise<KubeImages> {
  const ref = parseRegistry(registry, '--image-registry');
  const engine = new DockerEngine(opts.dockerHost ? { dockerHost: opts.dockerHost } : {});
  await engine.ping();
  return { ...(await registryImages(engine, ref)), pullPolicy: 'IfNotPresent' };
}
