/**
 * Time for the dynamo toy's pure logic. The HTTP nodes pass `realTimers`; unit tests and the cascade
 * simulation pass `VirtualTimers`, so minutes of membership traffic replay in milliseconds, deterministically.
 */
export interface Timers {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Virtual time: nothing happens until `advance`/`runUntil`; timers due at the same instant run in the order set. */
export class VirtualTimers implements Timers {
  #now = 0;
  #seq = 0;
  #queue: Pending[] = [];

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const p: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    // Binary insert keeps the queue sorted by (at, seq).
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#queue[mid]!;
      if (m.at < p.at || (m.at === p.at && m.seq < p.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, p);
    return () => {
      p.cancelled = true;
    };
  }

  /** Runs every timer due up to `now + ms`, in time order, then sets the clock to `now + ms`. */
  advance(ms: number): void {
    this.runUntil(this.#now + ms);
  }

  runUntil(t: number): void {
    for (;;) {
      const next = this.#queue[0];
      if (!next || next.at > t) break;
      this.#queue.shift();
      if (next.cancelled) continue;
      this.#now = next.at;
      next.fn();
    }
    this.#now = Math.max(this.#now, t);
  }

  /** Timers still waiting (cancelled ones excluded). */
  get pending(): number {
    return this.#queue.filter((p) => !p.cancelled).length;
  }
}
