/**
 * The action step: an operator's HTTP call to a node's admin API at its time on the timeline (an incident's trigger
 * that is not a fault of the network or a process, e.g. a maintenance process run against production by mistake).
 * Every instance the step names is called directly (not through a proxy); the call is journaled before it is made
 * (`action-start`) and with what each instance answered (`action-end`). A call that fails or answers other than 2xx
 * fails the step: recorded, like a fault that would not apply, and the timeline goes on.
 */
import type { ActionSpec, StepPlan } from '../scenario/plan.js';
import type { VariantContext } from './context.js';
import type { ActionRecord } from './result.js';
import type { ScheduledAction } from './timeline.js';

const tenth = (ms: number): number => Math.round(ms * 10) / 10;

/** One line for the journal and the terminal, e.g. `POST lb-state /admin/delete {"lbs":["lb-tv-east"]}`. */
export function describeAction(a: ActionSpec): string {
  const body = a.body ? ` ${a.body.text.length > 80 ? `${a.body.text.slice(0, 79)}…` : a.body.text}` : '';
  return `${a.method} ${a.node} ${a.path}${body}`;
}

export interface ActionCall {
  node: string;
  /** The HTTP status; null when the call got no answer. */
  status: number | null;
  error?: string;
}

/** Calls one instance; never throws (what happened is the result). */
export async function callInstance(a: ActionSpec, node: string, address: string): Promise<ActionCall> {
  try {
    const res = await fetch(`http://${address}${a.path}`, {
      method: a.method,
      ...(a.body ? { body: a.body.text, headers: { 'content-type': a.body.contentType } } : {}),
      signal: AbortSignal.timeout(a.timeoutMs),
    });
    const text = await res.text();
    return res.ok ? { node, status: res.status } : { node, status: res.status, error: `answered ${res.status}: ${text.slice(0, 200)}` };
  } catch (e) {
    const timedOut = e instanceof DOMException && e.name === 'TimeoutError';
    return { node, status: null, error: timedOut ? `no answer within ${a.timeoutMs} ms` : e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e) };
  }
}

export async function performActionStep(v: VariantContext, a: ScheduledAction, actualMs: number): Promise<void> {
  const s: StepPlan = a.step;
  const action = s.action!;
  if (a.kind !== 'apply') return; // instantaneous: nothing to heal
  const description = describeAction(action);
  v.emit({ kind: 'action-start', step: s.name, description, targets: action.instances, scheduledMs: a.atMs });
  const started = performance.now();
  const calls = await Promise.all(action.instances.map((n) => callInstance(action, n, v.parts.addresses.addrOf(n, action.port))));
  const doneMs = tenth(performance.now() - v.t0Perf);
  const failed = calls.filter((c) => c.error !== undefined);
  const error = failed.length ? failed.map((c) => `${c.node}: ${c.error}`).join('; ') : undefined;
  const record: ActionRecord = { step: s.name, description, scheduledMs: a.atMs, actualMs: tenth(actualMs), doneMs, calls, ...(error ? { error } : {}) };
  (v.result.actions ??= []).push(record);
  v.emit({ kind: 'action-end', step: s.name, description, scheduledMs: a.atMs, actualMs: record.actualMs, skewMs: tenth(actualMs - a.atMs), durationMs: Math.round(performance.now() - started), ok: !error, calls, ...(error ? { error } : {}) });
  if (error) throw new Error(`action ${s.name} failed: ${error}`);
}
