/**
 * The pure, seeded arrival schedule of the open-loop generator: when each request is due, which operation,
 * which key, which target. It owns no timers; the generator asks it what is due.
 *
 * Arrivals are the times where the integrated rate Λ(t) = ∫ rate crosses successive thresholds. Gaps between
 * thresholds are 1 for `constant` arrivals and Exp(1) for `poisson`, which makes poisson arrivals an exact
 * inhomogeneous Poisson process even while the rate ramps. The rate is piecewise linear: each `setRate` starts
 * a segment that ramps linearly from the current rate to the new one, then stays flat.
 */
import { createRng, type Rng } from '../common/rng.js';
import { Errors } from '../errors/catalog.js';
import { LabError } from '../errors/lab-error.js';
import { createKeyChooser, type KeyChooser, type KeySpec } from './keys.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type ArrivalProcess = 'constant' | 'poisson';

export interface Operation {
  name: string;
  method: HttpMethod;
  /** May contain `{key}` and `{seq}`; `{seq}` is a run-unique increasing integer. */
  path: string;
  weight: number;
  /** Same placeholders as `path`. */
  body?: string;
}

export interface ScheduleSpec {
  targets: string[];
  /** Requests per second. */
  rate: number;
  arrival: ArrivalProcess;
  operations: Operation[];
  keys: KeySpec;
  seed: number;
}

export interface Arrival {
  /** Run-unique, increasing from 1; every arrival takes one, dropped ones included. */
  seq: number;
  /** Scheduled send time, ms since the run started. */
  atMs: number;
  op: Operation;
  opIndex: number;
  key: number;
  target: string;
}

interface Segment {
  start: number;
  /** Rates in requests per millisecond. */
  r0: number;
  rampEnd: number;
  r1: number;
}

function rateAt(seg: Segment, t: number): number {
  if (t >= seg.rampEnd) return seg.r1;
  return seg.r0 + ((seg.r1 - seg.r0) * (t - seg.start)) / (seg.rampEnd - seg.start);
}

function invalid(field: string, message: string, hint: string): LabError {
  return new LabError(Errors.InvalidField, message, { hint, location: { file: '<workload>', field } });
}

export function checkRate(rate: number, field = 'rate'): void {
  if (!Number.isFinite(rate) || rate < 0) throw invalid(field, `rate must be a finite number ≥ 0, got ${rate}`, 'Give the rate in requests per second.');
}

export class ArrivalSchedule {
  private readonly segments: Segment[];
  private segIndex = 0;
  private readonly arrivalRng: Rng;
  private readonly opRng: Rng;
  private readonly keys: KeyChooser;
  private readonly targets: readonly string[];
  private readonly ops: readonly Operation[];
  private weights: number[];
  private cumulativeWeights: number[] = [];
  private seq = 0;
  /** Time of the last taken arrival (the point pending gaps are measured from). */
  private lastAt = 0;
  private pendingGap: number;
  private pendingAt: number;

  constructor(private readonly spec: ScheduleSpec) {
    checkRate(spec.rate);
    if (spec.targets.length === 0) throw invalid('targets', 'no targets to send load to', 'List at least one base URL.');
    if (spec.operations.length === 0) throw invalid('operations', 'no operations', 'List at least one operation.');
    const root = createRng(spec.seed);
    this.arrivalRng = root.fork('arrivals');
    this.opRng = root.fork('operations');
    this.keys = createKeyChooser(spec.keys, root.fork('keys'));
    this.targets = spec.targets;
    this.ops = spec.operations;
    const names = new Set(spec.operations.map((o) => o.name));
    if (names.size !== spec.operations.length) throw invalid('operations', 'operation names must be unique', 'Rename the duplicate operation.');
    this.weights = spec.operations.map(() => 0);
    this.setWeights(Object.fromEntries(spec.operations.map((o) => [o.name, o.weight])));
    const r = spec.rate / 1000;
    this.segments = [{ start: 0, r0: r, rampEnd: 0, r1: r }];
    // Constant arrivals start at t=0 so a window of D ms holds exactly rate·D arrivals.
    this.pendingGap = spec.arrival === 'constant' && r > 0 ? 0 : this.drawGap();
    this.pendingAt = this.solve(0, this.pendingGap);
  }

  /** Scheduled time of the next arrival; Infinity when the rate stays 0. */
  peekTime(): number {
    return this.pendingAt;
  }

  take(): Arrival {
    const atMs = this.pendingAt;
    if (!Number.isFinite(atMs)) throw new Error('no arrival is pending (rate is 0)');
    const seq = ++this.seq;
    const opIndex = this.chooseOp();
    const arrival: Arrival = {
      seq,
      atMs,
      op: this.ops[opIndex]!,
      opIndex,
      key: this.keys.next(),
      target: this.targets[(seq - 1) % this.targets.length]!,
    };
    this.lastAt = atMs;
    this.pendingGap = this.drawGap();
    this.pendingAt = this.solve(atMs, this.pendingGap);
    return arrival;
  }

  /** From `atMs` on, ramp linearly from the current rate to `rate` over `rampMs`, then hold it. */
  setRate(atMs: number, rate: number, rampMs: number): void {
    checkRate(rate);
    if (!Number.isFinite(rampMs) || rampMs < 0) throw invalid('rampMs', `ramp must be ≥ 0 ms, got ${rampMs}`, 'Use 0 for a step change.');
    const last = this.segments[this.segments.length - 1]!;
    const at = Math.max(atMs, last.start);
    const seg: Segment = { start: at, r0: rateAt(last, at), rampEnd: at + rampMs, r1: rate / 1000 };
    if (at === last.start) this.segments[this.segments.length - 1] = seg;
    else this.segments.push(seg);
    this.segIndex = Math.min(this.segIndex, this.segments.length - 1);
    // An arrival already due before the change keeps its time; a later one is re-solved under the new profile.
    if (this.pendingAt > at) this.pendingAt = this.solve(this.lastAt, this.pendingGap);
  }

  /** Changes the weights of the named operations; the others keep theirs. */
  setWeights(weights: Record<string, number>): void {
    const next = [...this.weights];
    for (const [name, w] of Object.entries(weights)) {
      const i = this.ops.findIndex((o) => o.name === name);
      if (i < 0) throw invalid(`weights.${name}`, `unknown operation "${name}"`, `Known operations: ${this.ops.map((o) => o.name).join(', ')}.`);
      if (!Number.isFinite(w) || w < 0) throw invalid(`weights.${name}`, `weight must be ≥ 0, got ${w}`, 'Use 0 to switch an operation off.');
      next[i] = w;
    }
    let sum = 0;
    const cumulative = next.map((w) => (sum += w));
    if (!(sum > 0)) throw invalid('operations', 'operation weights sum to 0', 'Give at least one operation a positive weight.');
    this.weights = next;
    this.cumulativeWeights = cumulative;
  }

  /** Expected number of arrivals in [0, untilMs): Λ(untilMs). */
  expectedArrivals(untilMs: number): number {
    let total = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const end = Math.min(untilMs, this.segments[i + 1]?.start ?? Infinity);
      if (end <= seg.start) break;
      total += this.integrate(seg, seg.start, end);
    }
    return total;
  }

  private drawGap(): number {
    return this.spec.arrival === 'poisson' ? -Math.log(1 - this.arrivalRng.next()) : 1;
  }

  private chooseOp(): number {
    const w = this.cumulativeWeights;
    const u = this.opRng.next() * w[w.length - 1]!;
    for (let i = 0; i < w.length; i++) if (u < w[i]!) return i;
    return w.length - 1;
  }

  /** ∫ rate over [a, b] inside one segment (b may be Infinity only if the integral is finite). */
  private integrate(seg: Segment, a: number, b: number): number {
    let total = 0;
    if (a < seg.rampEnd) {
      const e = Math.min(b, seg.rampEnd);
      total += ((rateAt(seg, a) + rateAt(seg, e)) / 2) * (e - a);
      a = e;
    }
    if (b > a) total += seg.r1 === 0 ? 0 : seg.r1 * (b - a);
    return total;
  }

  /** The time t ≥ from where ∫_from^t rate = gap, or Infinity. */
  private solve(from: number, gap: number): number {
    while (this.segIndex + 1 < this.segments.length && this.segments[this.segIndex + 1]!.start <= from) this.segIndex++;
    let need = gap;
    let a = from;
    for (let i = this.segIndex; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const segEnd = this.segments[i + 1]?.start ?? Infinity;
      if (a < seg.start) a = seg.start;
      // Ramp piece: rate(t) = ra + k (t - a).
      if (a < seg.rampEnd) {
        const b = Math.min(segEnd, seg.rampEnd);
        const ra = rateAt(seg, a);
        const k = (seg.r1 - seg.r0) / (seg.rampEnd - seg.start);
        const len = b - a;
        const area = ra * len + (k * len * len) / 2;
        if (area >= need && area > 0) {
          // Root of k/2·d² + ra·d − need = 0 in the form that stays exact when k → 0.
          const disc = Math.max(0, ra * ra + 2 * k * need);
          const denom = ra + Math.sqrt(disc);
          return denom > 0 ? a + Math.min(len, (2 * need) / denom) : a;
        }
        need -= area;
        a = b;
        if (a >= segEnd) continue;
      }
      // Flat piece.
      if (seg.r1 > 0) {
        const d = need / seg.r1;
        if (a + d < segEnd) return a + d;
        need -= seg.r1 * (segEnd - a);
      }
      a = segEnd;
    }
    return Infinity;
  }
}

/** Fills `{key}` and `{seq}`; compiled once per operation because it runs for every request. */
export function compileTemplate(template: string): (seq: number, key: number) => string {
  const parts = template.split(/(\{key\}|\{seq\})/);
  if (parts.length === 1) return () => template;
  return (seq, key) => {
    let out = '';
    for (const p of parts) out += p === '{seq}' ? seq : p === '{key}' ? key : p;
    return out;
  };
}

/** What a history records as the op's value: the `{seq}` it used, else its key, else nothing. */
export function valueKind(op: Operation): 'seq' | 'key' | 'none' {
  const text = op.path + (op.body ?? '');
  if (text.includes('{seq}')) return 'seq';
  if (text.includes('{key}')) return 'key';
  return 'none';
}
