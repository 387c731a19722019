import { describe, expect, it } from 'vitest';
import { isLabError } from '../errors/lab-error.js';
import { parseSampleRatio, traceOptionsFromEnv } from './config.js';

describe('--trace-sample', () => {
  it('takes a fraction, a percentage or 1/N, and defaults to 1 in 20', () => {
    expect(parseSampleRatio(undefined)).toBe(0.05);
    expect(parseSampleRatio('0.1')).toBe(0.1);
    expect(parseSampleRatio('.5')).toBe(0.5);
    expect(parseSampleRatio('1')).toBe(1);
    expect(parseSampleRatio('0')).toBe(0);
    expect(parseSampleRatio('10%')).toBe(0.1);
    expect(parseSampleRatio('1/20')).toBe(0.05);
  });

  it('refuses anything else as bad input (exit 2)', () => {
    for (const bad of ['2', '-0.1', 'abc', '150%', '1/0', '', '0.1.2']) {
      let err: unknown;
      try {
        parseSampleRatio(bad);
      } catch (e) {
        err = e;
      }
      expect(isLabError(err) && err.exitCode, bad).toBe(2);
    }
  });
});

describe('OTEL_ variables', () => {
  it('writes traces.jsonl unless an OTLP endpoint is set', () => {
    expect(traceOptionsFromEnv({}, 0.05)).toEqual({ sampleRatio: 0.05, otelEnv: {} });
  });

  it('uses the traces endpoint as is, or the base endpoint plus /v1/traces', () => {
    expect(traceOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' }, 0.05).otlpEndpoint).toBe('http://localhost:4318/v1/traces');
    expect(traceOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' }, 0.05).otlpEndpoint).toBe('http://b:9999/custom');
  });

  it('passes the OTEL_ variables on for the toys, and honours the standard off switches', () => {
    const o = traceOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_HEADERS: 'k=v', OTEL_UNSET: undefined }, 0.2);
    expect(o.otelEnv).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_HEADERS: 'k=v' });
    expect(traceOptionsFromEnv({ OTEL_SDK_DISABLED: 'true' }, 0.2).sampleRatio).toBe(0);
    expect(traceOptionsFromEnv({ OTEL_TRACES_EXPORTER: 'none' }, 0.2).sampleRatio).toBe(0);
    expect(traceOptionsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }, 0.2).sampleRatio).toBe(0.2);
  });
});
