/**
 * From the CLI's `--trace-sample` and the standard OpenTelemetry variables to `TraceOptions`. Pure: the CLI reads
 * the environment and hands the OTEL_* variables in.
 */
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import type { TraceOptions } from './lab-tracing.js';
import { DEFAULT_SAMPLE_RATIO } from './sampling.js';

/** `--trace-sample` as typed: a fraction (0.05), a percentage (5%) or 1/N; 0 turns tracing off. */
export function parseSampleRatio(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SAMPLE_RATIO;
  const t = text.trim();
  let ratio = Number.NaN;
  const over = /^1\/(\d+)$/.exec(t);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (over) ratio = Number(over[1]) > 0 ? 1 / Number(over[1]) : Number.NaN;
  else if (percent) ratio = Number(percent[1]) / 100;
  else if (/^\d*\.?\d+$/.test(t)) ratio = Number(t);
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new LabError(Errors.InvalidArgument, `--trace-sample ${text}: expected a fraction from 0 to 1 (0.05), a percentage (5%) or 1/N`, { hint: 'e.g. --trace-sample 0.1 traces one request in ten; 0 turns tracing off' });
  }
  return ratio;
}

/**
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is; OTEL_EXPORTER_OTLP_ENDPOINT gets `/v1/traces` appended (the
 * OTLP/HTTP rule). `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn tracing off.
 */
export function traceOptionsFromEnv(otel: Record<string, string | undefined>, sampleRatio: number): TraceOptions {
  const off = otel.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || otel.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none';
  const tracesEndpoint = otel.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = otel.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const otlpEndpoint = tracesEndpoint ? tracesEndpoint : endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
  const otelEnv = Object.fromEntries(Object.entries(otel).filter((e): e is [string, string] => e[0].startsWith('OTEL_') && e[1] !== undefined));
  return { sampleRatio: off ? 0 : sampleRatio, ...(otlpEndpoint ? { otlpEndpoint } : {}), otelEnv };
}
