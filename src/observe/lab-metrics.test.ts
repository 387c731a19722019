import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLabMetrics, startLabMetricsServer } from './lab-metrics.js';

describe('lab metrics', () => {
  it('exposes typed metrics on its own registry', async () => {
    const m = createLabMetrics();
    m.setPhase('fault');
    m.setFaultActive('partition', 'n1-n2', true);
    m.setFaultActive('kill', 'n3', false);
    m.observeRequest('put', 'timeout', 2);
    m.observeRequest('put', 'ok', 0.004);
    m.setTargetRate(50);
    const text = await m.registry.metrics();
    expect(text).toContain('chaoslab_phase{phase="fault"} 1');
    expect(text).toContain('chaoslab_phase{phase="steady"} 0');
    expect(text).toContain('chaoslab_fault_active{fault="partition",link="n1-n2"} 1');
    expect(text).toContain('chaoslab_fault_active{fault="kill",link="n3"} 0');
    expect(text).toContain('chaoslab_client_requests_total{op="put",outcome="timeout"} 1');
    expect(text).toContain('chaoslab_client_requests_total{op="put",outcome="dropped"} 0');
    expect(text).toContain('chaoslab_client_request_duration_seconds_bucket{le="0.005",op="put"} 1');
    expect(text).toContain('chaoslab_client_request_duration_seconds_bucket{le="+Inf",op="put"} 2');
    expect(text).toContain('chaoslab_load_target_rate 50');
    expect(await globalRegistry.metrics()).not.toContain('chaoslab_');
  });

  it('serves /metrics on loopback and 404 elsewhere', async () => {
    const srv = await startLabMetricsServer();
    try {
      expect(srv.address).toBe(`127.0.0.1:${srv.port}`);
      srv.metrics.setTargetRate(3);
      const res = await fetch(`http://${srv.address}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      expect(await res.text()).toContain('chaoslab_load_target_rate 3');
      expect((await fetch(`http://${srv.address}/other`)).status).toBe(404);
    } finally {
      await srv.stop();
      await srv.stop();
    }
    await expect(fetch(`http://${srv.address}/metrics`)).rejects.toThrow();
  });

  it('two servers do not share state', async () => {
    const a = await startLabMetricsServer();
    const b = await startLabMetricsServer();
    try {
      a.metrics.setTargetRate(1);
      b.metrics.setTargetRate(2);
      expect(await a.metrics.registry.metrics()).toContain('chaoslab_load_target_rate 1');
      expect(await b.metrics.registry.metrics()).toContain('chaoslab_load_target_rate 2');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
