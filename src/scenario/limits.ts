/**
 * The bounds every scenario and cluster file is held to, in one place. Each keeps a run inside what the
 * lab can do on one machine and out of what overflows: Node's timers fire after 1 ms for delays past
 * 2^31 − 1 ms (~596 h), a zipf key table allocates 8 bytes per key, and each node is a process.
 * Errors quote the limit; README's "Limits" table lists them.
 */
export const LIMITS = {
  /** A scenario or cluster file, read with a cap (devices report size 0). */
  fileBytes: 1024 * 1024,
  /** Nesting of YAML lists and maps (the deepest shipped file nests 6 levels). */
  nesting: 64,
  /** Every duration: run length, step times, fault lengths and delays, timeouts, windows, clock offsets. */
  durationMs: 24 * 3_600_000,
  /** Variants per scenario. */
  variants: 16,
  /** Node groups per cluster. */
  nodeGroups: 32,
  /** Replicas of one group. */
  replicas: 32,
  /** Node instances (groups × replicas): each is a process or a container. */
  nodeInstances: 64,
  /** Distinct workload keys (the zipf table holds one float per key). */
  keys: 1_000_000,
  /** Zipf exponent. */
  zipfExponent: 10,
  /** Requests per second, also after a load step's rate or multiply. */
  rate: 20_000,
  timelineSteps: 200,
  assertions: 200,
  operations: 100,
  /** A PromQL query, in characters. */
  queryChars: 4000,
  /** A name (id, node group, variant, step, operation, mitigation), in characters. */
  nameChars: 40,
  /** A one-line text (title, assertion name), in characters. */
  lineChars: 200,
  /** A free text (description, incident fields), in characters. */
  textChars: 10_000,
  /** A string parameter value, in characters. */
  paramChars: 1000,
} as const;

export const MAX_DURATION_TEXT = '24h';
