/**
 * Controller epochs, on both sides of a command.
 * - `ControllerFence` is a broker's gate for LeaderAndIsr commands. With fencing on (Kafka 0.8's
 *   StaleControllerEpoch check; KIP-380's broker epochs, 2.2, are a different fence, for bounced brokers) a
 *   command from an epoch lower than one the broker has already seen is refused. With fencing off every command is obeyed, and the fence only counts what it let through.
 * - `checkControllerActivity` is the offline checker over every broker's log of commands: it judges "two
 *   controllers acting at once" and "one controller per epoch" from events, not from sampled gauges,
 *   because a scrape every second can miss an overlap of a few hundred milliseconds.
 */

export interface ControllerCommandMeta {
  controllerId: number;
  controllerEpoch: number;
}

export interface Admission {
  accepted: boolean;
  /** The command's epoch is lower than one this broker has seen. */
  stale: boolean;
  /** Another controller already used this epoch (two controllers in one epoch). */
  epochConflict: boolean;
  /** Accepted from an older controller after a newer one had been obeyed: two controllers interleaved here. */
  switchback: boolean;
}

export class ControllerFence {
  #maxEpochSeen = 0;
  #lastAccepted: ControllerCommandMeta | undefined;
  readonly #controllerOfEpoch = new Map<number, number>();

  readonly #fencing: () => boolean;

  /** `fencing` may be a getter (a live param): it is read per command, so a config push fences from the next one on. */
  constructor(fencing: boolean | (() => boolean)) {
    this.#fencing = typeof fencing === 'function' ? fencing : () => fencing;
  }

  get fencing(): boolean {
    return this.#fencing();
  }

  get maxEpochSeen(): number {
    return this.#maxEpochSeen;
  }

  get lastAccepted(): ControllerCommandMeta | undefined {
    return this.#lastAccepted;
  }

  /** `decide` (a workshop module's `accept`) replaces the fencing rule: it sees the command and the highest epoch seen before it. */
  admit(cmd: ControllerCommandMeta, decide?: (cmd: ControllerCommandMeta, maxEpochSeen: number) => boolean): Admission {
    const stale = cmd.controllerEpoch < this.#maxEpochSeen;
    const owner = this.#controllerOfEpoch.get(cmd.controllerEpoch);
    const epochConflict = owner !== undefined && owner !== cmd.controllerId;
    const refuse = decide ? !decide({ controllerId: cmd.controllerId, controllerEpoch: cmd.controllerEpoch }, this.#maxEpochSeen) : this.fencing && stale;
    this.#maxEpochSeen = Math.max(this.#maxEpochSeen, cmd.controllerEpoch);
    if (refuse) return { accepted: false, stale, epochConflict, switchback: false };
    const last = this.#lastAccepted;
    const switchback = last !== undefined && cmd.controllerEpoch < last.controllerEpoch && cmd.controllerId !== last.controllerId;
    if (owner === undefined) this.#controllerOfEpoch.set(cmd.controllerEpoch, cmd.controllerId);
    this.#lastAccepted = { ...cmd };
    return { accepted: true, stale, epochConflict, switchback };
  }
}

/** One command as a broker logged it. `time` is wall-clock ms (all nodes share the host clock). */
export interface ControllerEvent {
  time: number;
  broker: number;
  controllerId: number;
  controllerEpoch: number;
  accepted: boolean;
}

export interface ControllerActivityResult {
  /** No accepted stale command and no epoch used by two controllers. */
  valid: boolean;
  /**
   * Accepted commands from epoch e at a time when some broker had already accepted a command from a higher
   * epoch: the old controller still acted after the new one had started (two controllers at once).
   */
  staleAccepted: number;
  /** Distinct (older, newer) epoch pairs that overlapped, with the first time it happened. */
  overlaps: { olderEpoch: number; newerEpoch: number; firstAt: number }[];
  /** Epochs in which more than one controller had commands accepted. */
  epochConflicts: { epoch: number; controllers: number[] }[];
  /** Accepted commands per epoch, and who sent them. */
  epochs: { epoch: number; controllers: number[]; accepted: number; rejected: number; firstAt: number; lastAt: number }[];
}

/**
 * A controller's commands to its own broker are left out of the stale count by default: that broker cannot be
 * fenced against its own controller (a zombie obeys itself until it learns better), and fencing is about the
 * OTHER brokers refusing it. They still count in `epochs`.
 */
export function checkControllerActivity(events: readonly ControllerEvent[], opts: { includeSelf?: boolean } = {}): ControllerActivityResult {
  const sorted = [...events].sort((a, b) => a.time - b.time);
  const epochs = new Map<number, { controllers: Set<number>; accepted: number; rejected: number; firstAt: number; lastAt: number }>();
  const overlaps = new Map<string, { olderEpoch: number; newerEpoch: number; firstAt: number }>();
  let maxAccepted = Number.NEGATIVE_INFINITY;
  let staleAccepted = 0;
  for (const e of sorted) {
    let ep = epochs.get(e.controllerEpoch);
    if (!ep) epochs.set(e.controllerEpoch, (ep = { controllers: new Set(), accepted: 0, rejected: 0, firstAt: e.time, lastAt: e.time }));
    ep.lastAt = e.time;
    if (!e.accepted) {
      ep.rejected++;
      continue;
    }
    ep.accepted++;
    ep.controllers.add(e.controllerId);
    // A newer controller acting on its own broker still marks the start of its reign.
    if (e.controllerEpoch < maxAccepted && (opts.includeSelf || e.controllerId !== e.broker)) {
      staleAccepted++;
      const key = `${e.controllerEpoch}<${maxAccepted}`;
      if (!overlaps.has(key)) overlaps.set(key, { olderEpoch: e.controllerEpoch, newerEpoch: maxAccepted, firstAt: e.time });
    }
    maxAccepted = Math.max(maxAccepted, e.controllerEpoch);
  }
  const summary = [...epochs.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, v]) => ({ epoch, controllers: [...v.controllers].sort((a, b) => a - b), accepted: v.accepted, rejected: v.rejected, firstAt: v.firstAt, lastAt: v.lastAt }));
  const epochConflicts = summary.filter((s) => s.controllers.length > 1).map((s) => ({ epoch: s.epoch, controllers: s.controllers }));
  return { valid: staleAccepted === 0 && epochConflicts.length === 0, staleAccepted, overlaps: [...overlaps.values()], epochConflicts, epochs: summary };
}

/** Brokers print one line per command with this prefix; the e2e test and the report re-check them offline. */
export const CONTROLLER_EVENT_PREFIX = 'CONTROLLER-COMMAND ';

export function formatControllerEvent(e: ControllerEvent): string {
  return `${CONTROLLER_EVENT_PREFIX}${JSON.stringify(e)}`;
}

/** Picks the events out of a node log (other lines are ignored). */
export function parseControllerEvents(log: string): ControllerEvent[] {
  const out: ControllerEvent[] = [];
  for (const line of log.split('\n')) {
    const i = line.indexOf(CONTROLLER_EVENT_PREFIX);
    if (i < 0) continue;
    try {
      const e = JSON.parse(line.slice(i + CONTROLLER_EVENT_PREFIX.length)) as ControllerEvent;
      if (typeof e.time === 'number' && typeof e.controllerEpoch === 'number') out.push(e);
    } catch {
      // A line cut by a kill mid-write: skip it.
    }
  }
  return out;
}
