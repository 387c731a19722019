import { describe, expect, it } from 'vitest';
import { Params, ToyConfigError, parseNodeConfig } from './config.js';

const valid = {
  name: 'storage-2',
  group: 'storage',
  index: 2,
  host: '127.0.0.1',
  ports: { http: 41234 },
  peers: { metadata: ['127.0.0.1:40001'], backend: ['127.0.0.1:40002', 'localhost:40003'] },
  params: { workMs: 5, fallback: true, mode: 'fast' },
  seed: 12345,
  runId: 'run-1',
};

describe('parseNodeConfig', () => {
  it('accepts the documented shape', () => {
    expect(parseNodeConfig(JSON.stringify(valid))).toEqual(valid);
  });

  it('says the variable is missing', () => {
    expect(() => parseNodeConfig(undefined)).toThrow(/CHAOSLAB_NODE is not set/);
    expect(() => parseNodeConfig('  ')).toThrow(ToyConfigError);
  });

  it('reports bad JSON', () => {
    expect(() => parseNodeConfig('{name:')).toThrow(/not valid JSON/);
    expect(() => parseNodeConfig('[1]')).toThrow(/must be a JSON object/);
  });

  it('lists every problem at once', () => {
    const bad = { ...valid, index: -1, ports: { admin: 80 }, peers: { backend: ['nohost', 7] }, params: { x: null }, extra: 1 };
    let message = '';
    try {
      parseNodeConfig(JSON.stringify(bad));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('unknown key "extra"');
    expect(message).toContain('"index" must be an integer >= 0');
    expect(message).toContain('"ports.http" is required');
    expect(message).toContain('"peers.backend[0]" must be "host:port"');
    expect(message).toContain('"peers.backend[1]" must be "host:port"');
    expect(message).toContain('"params.x" must be a number, string or boolean');
  });
});

describe('Params', () => {
  it('returns typed values or defaults', () => {
    const p = new Params({ workMs: 5, fallback: true, mode: 'fast' });
    expect(p.num('workMs', 2)).toBe(5);
    expect(p.num('absent', 7)).toBe(7);
    expect(p.bool('fallback', false)).toBe(true);
    expect(p.str('mode', 'slow')).toBe('fast');
  });

  it('refuses a present value of the wrong type', () => {
    const p = new Params({ workMs: '5' });
    expect(() => p.num('workMs', 2)).toThrow(/param "workMs" must be a number, got "5"/);
  });

  it('tracks params never read', () => {
    const p = new Params({ workMs: 5, typoed: 1 });
    p.num('workMs', 2);
    p.bool('fallback', false);
    expect(p.unread()).toEqual(['typoed']);
    expect(p.read()).toEqual(['workMs', 'fallback']);
  });
});
