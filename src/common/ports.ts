import net from 'node:net';

/**
 * Ports the lab hands out (node ports, proxy listen ports) come from below the kernel's ephemeral
 * range (32768–60999 on Linux): every outgoing connection on the machine draws from that range, so
 * a port found free there can be taken again before the node or Toxiproxy binds it (Toxiproxy's
 * README gives the same advice).
 */
const LOW = 20_000;
const HIGH = 32_000;
const taken = new Set<number>();

/** A free loopback port outside the ephemeral range; the kernel's choice as a last resort. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = LOW + Math.floor(Math.random() * (HIGH - LOW));
    // Not handed out twice by this process even before the first holder binds it.
    if (taken.has(p)) continue;
    if (await isPortFree(p, host)) {
      taken.add(p);
      return p;
    }
  }
  return kernelPort(host);
}

/** Lets a port be handed out again (when the run that held it is over). */
export function releasePort(port: number): void {
  taken.delete(port);
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
