import { describe, expect, it } from 'vitest';
import { isLoopback, runNetworkPeer } from './peers.js';

describe('peers', () => {
  it('loopback, in both spellings', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.5')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });

  it('the run\'s Docker network, but not its gateway (the host) nor another network', () => {
    const peer = runNetworkPeer('172.18.0.0/16', '172.18.0.1');
    expect(peer('172.18.0.2')).toBe(true);
    expect(peer('::ffff:172.18.3.4')).toBe(true);
    expect(peer('172.18.0.1')).toBe(false);
    expect(peer('172.17.0.2')).toBe(false);
    expect(peer('127.0.0.1')).toBe(false);
    expect(runNetworkPeer('garbage', '')('172.18.0.2')).toBe(false);
  });
});
