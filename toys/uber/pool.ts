/**
 * A bounded pool of workers in front of a FIFO queue, with QALM-style shedding by criticality (Uber, 2018).
 *
 * Work is simulated in virtual time, not with busy loops (two cores are shared by everything): a request admitted
 * at `now` starts when the earliest worker is free and holds that worker for its cost; the caller waits for the
 * finish with a timer. Admission order is start order, so the queue is FIFO. Work that was admitted is done even
 * when the caller has stopped waiting (a timed-out request still costs its worker): that is what lets retries
 * pile up behind each other.
 *
 * Shedding (off in the baseline) looks only at the queueing delay a request arriving now would have, the signal
 * QALM uses: background work is refused once the delay exceeds `backgroundDelayMs` (except a `backgroundFloor`
 * share, so it is never starved entirely), critical work once it exceeds the larger `criticalDelayMs` (failing fast
 * rather than timing out in the queue).
 */
export const CRITICALITIES = ['critical', 'background'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

export interface SheddingPolicy {
  enabled: boolean;
  backgroundDelayMs: number;
  criticalDelayMs: number;
  /** Share of background work admitted even while shedding (0..1). */
  backgroundFloor: number;
}

export interface PoolOptions {
  workers: number;
  /** Requests waiting at most; beyond it an arrival is refused (`full`). */
  maxQueue: number;
  shedding: SheddingPolicy;
}

export type Admission = { ok: true; waitMs: number; doneInMs: number } | { ok: false; reason: 'full' | 'shed'; waitMs: number };

export const NO_SHEDDING: SheddingPolicy = { enabled: false, backgroundDelayMs: Infinity, criticalDelayMs: Infinity, backgroundFloor: 1 };

export class WorkerPool {
  /** When each worker is free again (ms, on the caller's clock). */
  readonly #freeAt: number[];
  /** Start times of admitted requests, nondecreasing: those after `now` are the queue. */
  #starts: number[] = [];
  #head = 0;
  #busyMs = 0;

  constructor(readonly options: PoolOptions) {
    if (!(Number.isInteger(options.workers) && options.workers >= 1)) throw new RangeError(`workers must be an integer >= 1, got ${options.workers}`);
    if (!(options.maxQueue >= 0)) throw new RangeError(`maxQueue must be >= 0, got ${options.maxQueue}`);
    const f = options.shedding.backgroundFloor;
    if (!(f >= 0 && f <= 1)) throw new RangeError(`backgroundFloor must be in [0, 1], got ${f}`);
    this.#freeAt = new Array<number>(options.workers).fill(0);
  }

  /** Requests admitted that have not started by `now`. */
  queueDepth(now: number): number {
    while (this.#head < this.#starts.length && this.#starts[this.#head]! <= now) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#starts.length) {
      this.#starts = this.#starts.slice(this.#head);
      this.#head = 0;
    }
    return this.#starts.length - this.#head;
  }

  /** How long a request arriving at `now` would wait for a worker. */
  queueDelayMs(now: number): number {
    return Math.max(0, Math.min(...this.#freeAt) - now);
  }

  /**
   * Admits a request of `costMs`, or refuses it. `draw` is a uniform [0, 1) number from the caller's seeded RNG,
   * used for the background floor.
   */
  admit(now: number, costMs: number, criticality: Criticality, draw: number): Admission {
    if (!(costMs >= 0)) throw new RangeError(`cost must be >= 0, got ${costMs}`);
    const waitMs = this.queueDelayMs(now);
    if (this.queueDepth(now) >= this.options.maxQueue && waitMs > 0) return { ok: false, reason: 'full', waitMs };
    const s = this.options.shedding;
    if (s.enabled) {
      if (criticality === 'critical' ? waitMs > s.criticalDelayMs : waitMs > s.backgroundDelayMs && draw >= s.backgroundFloor) {
        return { ok: false, reason: 'shed', waitMs };
      }
    }
    let w = 0;
    for (let i = 1; i < this.#freeAt.length; i++) if (this.#freeAt[i]! < this.#freeAt[w]!) w = i;
    const start = Math.max(now, this.#freeAt[w]!);
    this.#freeAt[w] = start + costMs;
    this.#busyMs += costMs;
    if (start > now) this.#starts.push(start);
    return { ok: true, waitMs, doneInMs: start + costMs - now };
  }

  /** Work admitted so far (ms of one worker); its rate divided by `workers` is the utilisation. */
  get busyMs(): number {
    return this.#busyMs;
  }
}
