/**
 * The `traceparent` header the load generator sends (W3C Trace Context, version 00). The toys read it with their
 * own parser (toys/lib/trace-context.ts: toys never import the lab); the tests hold both to the standard.
 */
export function formatTraceparent(ctx: { traceId: string; spanId: string; sampled: boolean }): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}
