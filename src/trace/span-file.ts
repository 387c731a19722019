/**
 * `traces.jsonl` in the run folder: one span per line, appended as spans arrive (a crashed run keeps what it
 * traced). One writer per run; the lab's own spans come through `FileSpanExporter`, the toys' through the
 * OTLP receiver (receiver.ts). Lines are in arrival order; group them by `traceId` to read a trace.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { fromReadableSpan, type SpanLine } from './span-line.js';


export class SpanFile {
  #count = 0;
  #failed: string | undefined;

  constructor(readonly file: string) {
    writeFileSync(file, '');
  }

  /** Spans written so far. */
  get count(): number {
    return this.#count;
  }

  /** Why a write failed, if one did (the run goes on: traces are not worth failing a replay for). */
  get error(): string | undefined {
    return this.#failed;
  }

  write(lines: readonly SpanLine[]): void {
    if (lines.length === 0) return;
    try {
      // Synchronous: one small append per batch keeps the file's lines whole and in order.
      appendFileSync(this.file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
      this.#count += lines.length;
    } catch (e) {
      this.#failed ??= e instanceof Error ? e.message : String(e);
    }
  }
}

/** An OpenTelemetry exporter into a `SpanFile`. */
export class FileSpanExporter implements SpanExporter {
  constructor(private readonly out: SpanFile) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.out.write(spans.map(fromReadableSpan));
    resultCallback(this.out.error === undefined ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(this.out.error) });
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/** Reads a `traces.jsonl` back (tests, tools). */
export function parseSpanLines(text: string): SpanLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SpanLine);
}
