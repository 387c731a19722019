import type { NodeSpec } from './runtime.js';

/**
 * The ports a node listens on, for a runtime that must publish or expose them (a container, a pod's service):
 * named in the spec, else from its CHAOSLAB_NODE config, else the health URL's.
 */
export function nodePorts(spec: NodeSpec): number[] {
  if (spec.ports?.length) return [...new Set(spec.ports)];
  const ports = new Set<number>();
  const config = spec.env['CHAOSLAB_NODE'];
  if (config) {
    try {
      const parsed = JSON.parse(config) as { ports?: Record<string, unknown> };
      for (const p of Object.values(parsed.ports ?? {})) if (typeof p === 'number' && p > 0) ports.add(p);
    } catch {
      // not JSON: the toy will say so itself
    }
  }
  if (ports.size === 0) {
    const port = Number(new URL(spec.healthUrl).port);
    if (port > 0) ports.add(port);
  }
  return [...ports];
}
