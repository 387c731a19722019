/**
 * Where a command finds the real parts it starts (Toxiproxy, Prometheus), as the CLI's environment says: PATH, or the
 * binaries named by TOXIPROXY_BIN / PROMETHEUS_BIN. One place, so every command that starts parts finds the same ones.
 */
export interface PartsEnv {
  /** PATH: where toxiproxy-server and prometheus are looked up. */
  path: string;
  toxiproxyBinary: string | undefined;
  prometheusBinary: string | undefined;
}

/** The options runScenario and ensureImages take for it (absent binaries stay absent: PATH decides). */
export function partsOptions(env: PartsEnv): { envPath: string; toxiproxyBinary?: string; prometheusBinary?: string } {
  return {
    envPath: env.path,
    ...(env.toxiproxyBinary ? { toxiproxyBinary: env.toxiproxyBinary } : {}),
    ...(env.prometheusBinary ? { prometheusBinary: env.prometheusBinary } : {}),
  };
}
