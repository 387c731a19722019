/**
 * Who may talk to the lab's own listeners (the trace receiver): the run's nodes and parts, nothing else on the
 * machine. For processes that is loopback; for Docker the run's own network, minus its gateway (the host itself,
 * where any local user could connect from).
 */
import net from 'node:net';

/** `::ffff:172.18.0.2` (an IPv4 client on a dual-stack socket) as `172.18.0.2`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function isLoopback(address: string): boolean {
  const a = plainAddress(address);
  return (net.isIPv4(a) && a.startsWith('127.')) || a === '::1';
}

/** A test for "on this IPv4 network but not its gateway", e.g. `runNetworkPeer('172.18.0.0/16', '172.18.0.1')`. */
export function runNetworkPeer(subnet: string, gateway: string): (address: string) => boolean {
  const [base, bits] = subnet.split('/');
  const list = new net.BlockList();
  if (base && net.isIPv4(base) && bits !== undefined) list.addSubnet(base, Number(bits), 'ipv4');
  return (address) => {
    const a = plainAddress(address);
    return net.isIPv4(a) && a !== gateway && list.check(a, 'ipv4');
  };
}
