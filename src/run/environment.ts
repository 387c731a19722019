/**
 * What a run records about where it ran: the versions of its parts (asked once per run, from their APIs, while the
 * run goes on) and the host's load at each variant's start and end. A verdict can depend on both.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadAverages, RunEnvironment } from './result.js';

export function hostLoad(): LoadAverages {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return [r(a), r(b), r(c)];
}

/** The `version` of the package.json at the project root; null when there is none. */
export function chaoslabVersion(projectRoot: string): string | null {
  try {
    const v = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Prometheus's own version from `/api/v1/status/buildinfo`; null when it does not say within 2 s. */
export async function prometheusVersion(url: string): Promise<string | null> {
  try {
    const res = await fetch(`${url}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { data?: { version?: unknown } };
    return typeof body.data?.version === 'string' ? body.data.version : null;
  } catch {
    return null;
  }
}

/** Each version is asked once, in parallel; a part that does not answer leaves null (never fails the run). */
export async function runEnvironment(ask: { projectRoot: string; toxiproxy: Promise<string | null>; prometheus: Promise<string | null>; docker?: string }): Promise<RunEnvironment> {
  const settle = (p: Promise<string | null>) => p.catch(() => null);
  const [toxiproxy, prometheus] = await Promise.all([settle(ask.toxiproxy), settle(ask.prometheus)]);
  return {
    chaoslab: chaoslabVersion(ask.projectRoot),
    node: process.version,
    toxiproxy,
    prometheus,
    ...(ask.docker !== undefined ? { docker: ask.docker } : {}),
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpus: os.cpus().length,
  };
}
