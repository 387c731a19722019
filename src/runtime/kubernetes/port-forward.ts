/**
 * The lab reaches pods the way a user's laptop can: through the API server's port-forward (no extra cluster
 * component, no route to pod IPs). One local listener on 127.0.0.1:<host port> per forwarded port; each accepted
 * connection is one port-forward stream to the pod (client-node's PortForward, over a WebSocket). The pod is named
 * at connect time, so a node recreated under the same name is reached again without a new listener.
 */
import net from 'node:net';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';

export interface Forward {
  /** The local port on 127.0.0.1. */
  readonly port: number;
  close(): Promise<void>;
}

export interface ForwardOptions {
  namespace: string;
  pod: string;
  podPort: number;
  /** Local port on 127.0.0.1; 0: any free one. */
  hostPort: number;
}

export async function forwardPort(config: KubeConfig, opts: ForwardOptions): Promise<Forward> {
  const pf = new PortForward(config, true);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // The client's first bytes may arrive before the stream is open: hold them until it is.
    socket.pause();
    pf.portForward(opts.namespace, opts.pod, [opts.podPort], socket, null, socket).then(
      (ws) => {
        const w = typeof ws === 'function' ? ws() : ws;
        if (!w) return socket.destroy();
        w.on('close', () => socket.end());
        w.on('error', () => socket.destroy());
        socket.on('close', () => w.close());
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.hostPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
