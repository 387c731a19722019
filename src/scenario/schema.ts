/**
 * The scenario and cluster file formats, as zod schemas. One source of truth: the loader validates
 * with them, `npm run build` derives the JSON Schemas editors use from them (every field's
 * `.describe()` is what an editor shows on hover), and the types below are what the rest of the lab
 * trusts after validation. Bounds come from ./limits.ts.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { Duration, DURATION_NOTE, PositiveDuration } from './durations.js';
import { Fault } from '../fault/registry.js';
import { Selector as NodeSelector } from '../fault/fault-kind.js';

// The duration fields live in durations.ts so the fault kinds can use them without an import cycle.
export { Duration, PositiveDuration, SignedDuration } from './durations.js';

/** What names may be: they become proxy names, file names in the run folder and label values. */
export const NAME_RULE = `a lowercase name: a letter, then letters, digits or dashes, at most ${LIMITS.nameChars} characters (like "storage" or "lb-tv")`;
export const NAME_PATTERN = new RegExp(`^[a-z][a-z0-9-]{0,${LIMITS.nameChars - 1}}$`);
const Name = z.string().regex(NAME_PATTERN, { error: `expected ${NAME_RULE}` });
const PortName = z.string().regex(/^[a-z][a-z0-9]{0,19}$/, { error: 'expected a port name like "http" (lowercase letters and digits)' });

// Control characters in text would reach the terminal, the HTML report and junit.xml as they are.
const NO_CONTROLS = /^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$/;
const NO_CONTROLS_LINE = /^[^\u0000-\u001f\u007f-\u009f]*$/;
/** One line of text: a title, an assertion name. */
const Line = z
  .string()
  .max(LIMITS.lineChars)
  .regex(NO_CONTROLS_LINE, { error: 'expected one line of text without control characters (terminal escape codes are refused)' });
/** Free text: descriptions and incident notes; newlines and tabs allowed. */
const Text = z
  .string()
  .max(LIMITS.textChars)
  .regex(NO_CONTROLS, { error: 'expected text without control characters (terminal escape codes are refused)' });

export const ParamValue = z
  .union([z.number(), z.string().max(LIMITS.paramChars).regex(NO_CONTROLS_LINE, { error: 'expected a parameter without control characters' }), z.boolean()])
  .describe('A parameter value: a number, a string or a boolean. Its type must match the default the cluster file declares.');
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ParamName = z.string().regex(PARAM_NAME, { error: 'expected a parameter name (letters, digits, _; like "backendTimeoutMs")' });
const Params = z.record(ParamName, ParamValue);
/** Parameter overrides per node group: `{ frontend: { backendTimeoutMs: 150 } }`. */
const ParamsByNode = z.record(Name, Params);

// ---------------------------------------------------------------- cluster files

export const ClusterNode = z.strictObject({
  description: Text.optional().describe('What this node does in the toy cluster.'),
  command: z
    .array(z.string().max(LIMITS.textChars).regex(NO_CONTROLS_LINE, { error: 'expected an argument without control characters' }))
    .min(1)
    .max(64)
    .describe('The program to start, as an argument list (no shell); `{toys}` is replaced by the compiled toys folder. It runs as you.'),
  replicas: z.number().int().min(1).max(LIMITS.replicas).default(1).describe(`How many instances to start (1–${LIMITS.replicas}); they are named <group>-1, <group>-2, …`),
  ports: z.array(PortName).min(1).max(8).default(['http']).describe('Named ports the node listens on; the lab assigns the numbers. The first is the default for links and health.'),
  health: z
    .strictObject({
      path: z.string().startsWith('/').max(LIMITS.lineChars).default('/health').describe('HTTP path that answers 200 once the node is ready.'),
      port: PortName.optional().describe('Which of the node\'s ports serves the health check (the first by default).'),
      timeout: PositiveDuration.default(10_000).describe('How long the node may take to become healthy before the run fails (a part failure). ' + DURATION_NOTE),
    })
    .default({ path: '/health', timeout: 10_000 })
    .describe('How the lab knows the node is up.'),
  metrics: z
    .strictObject({
      path: z.string().startsWith('/').max(LIMITS.lineChars).default('/metrics').describe('HTTP path Prometheus scrapes.'),
      port: PortName.optional().describe('Which of the node\'s ports serves the metrics (the first by default).'),
    })
    .default({ path: '/metrics' })
    .describe('Where Prometheus scrapes the node.'),
  params: Params.default({}).describe('Parameters with their defaults. A default\'s type (number, string, boolean) is the type every override must have.'),
});

export const ClusterLink = z.strictObject({
  from: Name.describe('The calling node group, or `client` for the lab\'s load generator.'),
  to: Name.describe('The called node group. Each from→to pair of instances gets a Toxiproxy proxy named <from>_to_<to>.'),
  port: PortName.optional().describe('Which port of `to` the link carries; the first port by default.'),
});

export const Mitigation = z.strictObject({
  description: Text.describe('What the mitigation changes, in one sentence.'),
  set: ParamsByNode.describe('Parameters to set, per node group: `{ frontend: { backendTimeoutMs: 200 } }`.'),
});

export const ClusterFile = z.strictObject({
  $schema: z.string().optional().describe('The JSON Schema of this file, for editors.'),
  name: Name.describe('The cluster\'s name.'),
  description: Text.optional().describe('What the toy cluster is.'),
  nodes: z
    .record(Name, ClusterNode)
    .refine((n) => Object.keys(n).length > 0, { error: 'a cluster needs at least one node' })
    .refine((n) => Object.keys(n).length <= LIMITS.nodeGroups, { error: `expected at most ${LIMITS.nodeGroups} node groups` })
    .describe('Node groups by name.'),
  links: z.array(ClusterLink).max(256).default([]).describe('Calls that go through Toxiproxy, so faults can be injected on them.'),
  mitigations: z.record(Name, Mitigation).default({}).describe('Named parameter changes a variant can switch on.'),
});

// ---------------------------------------------------------------- faults

// `fault:` is the union of the fault kinds' schemas, built in src/fault/registry.ts (one file per kind).
export { Fault };

export const LoadChange = z
  .strictObject({
    rate: z.number().positive().max(LIMITS.rate).optional().describe(`Absolute rate in requests per second (at most ${LIMITS.rate}).`),
    multiply: z.number().positive().max(LIMITS.rate).optional().describe('Or a multiple of the workload\'s base rate.'),
    ramp: Duration.default(0).describe('Move to the new rate gradually over this long (0: at once). ' + DURATION_NOTE),
    weights: z.record(Name, z.number().min(0).max(1e6)).optional().describe('New operation weights, by operation name.'),
  })
  .refine((l) => l.rate !== undefined || l.multiply !== undefined || l.weights !== undefined, {
    error: 'a load step needs rate, multiply or weights',
  });

/**
 * `scale`: run more (or fewer) instances of a node group for a while: pre-scaling for a predictable spike. The
 * extra instances are `<group>-<n>` beyond the cluster's replicas; the lab starts them (Prometheus scrapes them at
 * once), and the toy's own membership tells their peers. With `for`, the group goes back to its size before the
 * step when it ends (the extra instances are stopped gracefully); without it, until a later step or the run's end.
 */
export const ScaleChange = z.strictObject({
  group: Name.describe('The node group to scale.'),
  to: z.number().int().min(1).max(LIMITS.replicas).describe(`How many instances the group runs from the step on (1–${LIMITS.replicas}). Instances above the cluster's replicas are started, those above \`to\` stopped.`),
});

/**
 * An operator action: one HTTP call to a node's admin API, at `at` (e.g. a maintenance process run against
 * production by mistake). It is journaled like a fault, and a control run drops it by default: it is the trigger.
 */
export const OperatorAction = z.strictObject({
  node: Name.describe('The node group (each of its instances is called) or one instance (`lb-state-2`) whose API is called, directly (not through a proxy).'),
  port: PortName.optional().describe('Which of the node\'s ports (the first by default).'),
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('POST').describe('HTTP method (POST by default).'),
  path: z.string().startsWith('/').max(LIMITS.lineChars).regex(NO_CONTROLS_LINE, { error: 'expected a path without control characters' }).describe('The path to call, like /admin/delete.'),
  body: z
    .union([z.string().max(LIMITS.textChars), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .optional()
    .describe('The request body: a map or a list is sent as JSON, a string as it is.'),
  timeout: PositiveDuration.default(5000).describe('How long the call may take; a call that fails or answers other than 2xx is a failed action (journaled). ' + DURATION_NOTE),
});

/** A step's kinds: exactly one is set. */
const STEP_KINDS = ['fault', 'load', 'scale', 'action'] as const;

export const TimelineStep = z
  .strictObject({
    name: Name.optional().describe('The step\'s name; windows refer to it (`during: <name>`). Default: <fault type, load or scale>-<position>.'),
    at: Duration.describe('When the step starts, from the start of the load. ' + DURATION_NOTE),
    for: PositiveDuration.optional().describe('How long a fault lasts before it is healed (a scale step: before the group goes back to its size); without it, to the end of the run. ' + DURATION_NOTE),
    fault: Fault.optional().describe('The fault to inject (a link fault through Toxiproxy, or a node fault).'),
    load: LoadChange.optional().describe('A change of the load (rate, multiple of the base rate, or weights).'),
    scale: ScaleChange.optional().describe('Start or stop instances of a node group (pre-scaling for a predictable spike).'),
    action: OperatorAction.optional().describe('An operator action: an HTTP call to a node\'s admin API (e.g. `{node: lb-state, path: /admin/delete, body: {lbs: [lb-tv-east]}}`). Instantaneous: no `for`.'),
    variants: z.array(Name).min(1).max(LIMITS.variants).optional().describe('Only run this step in these variants (all by default): e.g. pre-scaling that only the mitigated variant does, or a counterfactual variant that leaves out one step of a recovery (an operator\'s action) to show that it was necessary.'),
    control: z
      .enum(['keep', 'drop'])
      .optional()
      .describe('Whether a control run (`--control`) keeps this step. By default fault and action steps are dropped, load and scale steps kept (a scale step is the operators\' capacity change, not a fault); a load surge that is the incident\'s trigger says `drop`.'),
  })
  .refine((s) => STEP_KINDS.filter((k) => s[k] !== undefined).length === 1, { error: `a step has exactly one of ${STEP_KINDS.map((k) => `\`${k}\``).join(', ')}` })
  .refine((s) => s.action === undefined || s.for === undefined, { error: 'an action is one call: it has no `for` (to undo it, add a second action step)', path: ['for'] });

// ---------------------------------------------------------------- workload

export const Operation = z.strictObject({
  name: Name.describe('The operation\'s name (a label in the client metrics and the history).'),
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('GET').describe('HTTP method.'),
  path: z.string().startsWith('/').max(LIMITS.lineChars).regex(NO_CONTROLS_LINE).describe('Request path; may contain {key} (a workload key) and {seq} (a unique sequence number).'),
  body: z.string().max(LIMITS.textChars).optional().describe('Request body; may contain {key} and {seq}.'),
  weight: z.number().min(0).max(1e6).default(1).describe('Relative share of the load; 0 = only when a load step gives it weight.'),
});

export const Workload = z.strictObject({
  target: z
    .strictObject({
      node: Name.describe('The node group the load generator calls (requests are spread over its instances).'),
      port: PortName.optional().describe('Which of its ports (the first by default).'),
    })
    .describe('Where the load goes.'),
  rate: z.number().positive().max(LIMITS.rate).describe(`Requests per second at the start (at most ${LIMITS.rate}); the load is open-loop: it never waits for slow answers.`),
  arrival: z.enum(['constant', 'poisson']).default('constant').describe('Evenly spaced requests, or Poisson arrivals (seeded).'),
  timeout: PositiveDuration.default(2000).describe('The client gives up on a request after this (outcome=timeout). ' + DURATION_NOTE),
  maxInFlight: z.number().int().positive().max(100_000).default(2000).describe('Requests open at once; beyond it a request is dropped (outcome=dropped).'),
  operations: z
    .array(Operation)
    .min(1)
    .max(LIMITS.operations)
    .refine((ops) => ops.some((o) => o.weight > 0), { error: 'at least one operation needs a weight above 0' })
    .describe('The requests the load is made of, chosen by weight.'),
  keys: z
    .strictObject({
      count: z.number().int().positive().max(LIMITS.keys).default(1000).describe(`How many distinct keys {key} takes (at most ${LIMITS.keys}).`),
      distribution: z.enum(['uniform', 'zipf']).default('uniform').describe('Uniform, or zipf (key 0 is the hottest).'),
      exponent: z.number().positive().max(LIMITS.zipfExponent).default(1).describe(`Zipf exponent (above 0, at most ${LIMITS.zipfExponent}); larger = hotter hot keys.`),
    })
    .default({ count: 1000, distribution: 'uniform', exponent: 1 })
    .describe('The keys {key} is drawn from (seeded).'),
  history: z.boolean().default(false).describe('Record every operation as a Jepsen-style history in the run folder (a checker needs it).'),
});

// ---------------------------------------------------------------- assertions

export const Window = z
  .union([
    z.enum(['steady', 'whole', 'final']).describe('`steady`: from the warmup to the first fault; `whole`: the whole load; `final`: after the load and the checkers (series a checker exports once it has judged).'),
    z
      .strictObject({
        during: Name.describe('The timeline step whose time the window covers.'),
        skip: Duration.default(0).describe('Leave out this much at the start (while a rate window fills). ' + DURATION_NOTE),
      })
      .describe('While a step lasts.'),
    z
      .strictObject({
        after: Name.describe('The timeline step after whose end (its heal) the window starts.'),
        skip: Duration.default(0).describe('Start this much after the step ends. ' + DURATION_NOTE),
        for: PositiveDuration.optional().describe('How long the window lasts (to the end of the run by default). ' + DURATION_NOTE),
      })
      .describe('After a step ends (after the heal).'),
    z
      .strictObject({
        from: Duration.describe('Start, from the start of the load. ' + DURATION_NOTE),
        to: PositiveDuration.describe('End, from the start of the load. ' + DURATION_NOTE),
      })
      .describe('An explicit span of the run.'),
  ])
  .describe('The span of the run the query is judged over.');

/** Finite thresholds only: `1e999` reads as Infinity and would make any comparison trivially true or false. */
const CONDITION = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(\.\d+)?(e[+-]?\d+)?)\s*$/;
export const Condition = z
  .string()
  .regex(CONDITION, { error: 'expected a comparison like "< 0.3" or ">= 0.99"' })
  .refine((c) => { const m = CONDITION.exec(c); return !m || Number.isFinite(Number(m[2])); }, {
    error: 'expected a finite threshold: this number reads as infinity (numbers end near 1.8e308)',
  });

export const Assertion = z.strictObject({
  name: Line.min(1).describe('The assertion\'s name, unique in the scenario (shown in reports and junit.xml).'),
  description: Text.optional().describe('What the assertion shows, for the report.'),
  query: z
    .string()
    .min(1)
    .max(LIMITS.queryChars)
    .describe('PromQL, evaluated as a range query over the window at the scrape step (1 s). It must give a number or an instant vector, and name metrics the cluster or the lab exports.'),
  window: Window,
  condition: Condition.describe('A comparison each value is checked against, like "< 0.5" or ">= 0.99".'),
  over: z
    .enum(['all', 'any', 'mean', 'max', 'min', 'last'])
    .default('all')
    .describe('How the window\'s values are combined: `all` values (default) or `any` value must meet the condition, or the `mean`/`max`/`min`/`last` value must.'),
  recoverWithin: Duration.optional().describe('For windows that start at a heal: the condition must hold from the window\'s start + recoverWithin to its end (the time allowed to recover). ' + DURATION_NOTE),
  expect: z
    .record(z.string(), z.enum(['holds', 'violated']))
    .default({})
    .describe('What each variant expects of the condition: `holds` (default for variants not named) or `violated` (the incident shows). The key `control` sets what a control run (`--control`: same load, no faults) expects.'),
  variants: z.array(z.string()).optional().describe('Only evaluate in these variants (all by default).'),
  availability: z
    .boolean()
    .default(false)
    .describe(
      'This assertion is an availability floor: the share of requests the service still answers (well) must stay above a stated value. Every variant that expects to recover needs one that holds in it, so a mitigation that sheds, refuses or degrades everything fails its verdict (`chaoslab validate` warns when one is missing).',
    ),
});

// ---------------------------------------------------------------- scenario files

/**
 * The rule every replay follows (issue 11), in the descriptions editors show: each part is an assertion, not a sentence.
 */
export const REPLAY_RULE =
  'The rule: baseline reproduces because of the fault and the toy\'s mechanisms; mitigated recovers because the mechanism it switches on does its work (an assertion on its own metric shows it fired), at a visible cost, with the service still available above a stated floor (an `availability: true` assertion); control stays healthy. Each of these is an assertion, not a sentence.';

export const Variant = z.strictObject({
  description: Text.optional().describe('What is different in this variant.'),
  mitigations: z.array(Name).max(32).default([]).describe('Mitigations of the cluster file to switch on. List only mechanisms that do work in this scenario: each one shows, through its own metric and an assertion, that it fired.'),
  expect: z.enum(['reproduce', 'recover']).describe('What the variant shows: the incident reproduces (`reproduce`: because of the fault and the toy\'s mechanisms), or the mitigation recovers from it (`recover`: its mechanism fired, at a visible cost, above an availability floor). ' + REPLAY_RULE),
  params: ParamsByNode.default({}).describe('Parameter overrides per node group, applied after the mitigations.'),
});

export const Incident = z.strictObject({
  system: Text.describe('The system the incident happened to.'),
  date: Text.describe('When it happened.'),
  summary: Text.describe('What happened, in a sentence or two.'),
  rootCause: Text.describe('Why it happened.'),
  lesson: Text.describe('What to take away.'),
  documented: z
    .array(z.strictObject({ fact: Text.describe('A fact stated in a public source.'), source: Text.describe('Where it is stated.') }))
    .max(100)
    .default([])
    .describe('Facts stated in a public source (a postmortem, a paper, a talk), never the project\'s own docs.'),
  assumed: z.array(Text).max(100).default([]).describe('What only the seed text or the lab\'s design asserts, including every mechanism of the toy that no cited source states.'),
});

/**
 * A checker judges the recorded history rather than the scrapes (Jepsen: record, then judge).
 * `set`: the values of `adds` operations that were acknowledged must all be in the final read.
 * `linearizable`: the register histories the nodes recorded must be linearizable (Porcupine).
 */
const SetChecker = z.strictObject({
  type: z.literal('set').describe('`set`: every acknowledged add must be in the final read.'),
  adds: z.array(Name).min(1).max(LIMITS.operations).describe('Workload operations whose `{seq}` values are the set\'s elements.'),
  finalRead: z
    .strictObject({
      node: Name.describe('The node group to read from.'),
      path: z.string().startsWith('/').max(LIMITS.lineChars).describe('The path that answers the whole set.'),
      timeout: PositiveDuration.default(20_000).describe('How long the read may take. ' + DURATION_NOTE),
    })
    .describe('After the load, the runner GETs this from the node (directly, not through a proxy).'),
});

const LinearizableChecker = z.strictObject({
  type: z.literal('linearizable').describe('`linearizable`: the recorded reads and writes of registers must be linearizable, judged by Porcupine.'),
  histories: z
    .strictObject({
      node: Name.describe('The node group whose every instance recorded a history (e.g. the clients).'),
      path: z.string().startsWith('/').max(LIMITS.lineChars).describe('The path that answers the history as JSON lines: {type: invoke|ok|fail|info, f: read|write, key, value, process, time}.'),
      timeout: PositiveDuration.default(20_000).describe('How long each read may take. ' + DURATION_NOTE),
    })
    .describe('After the load, the runner GETs every instance of the node for its history (directly, not through a proxy) and merges them.'),
  timeLimit: PositiveDuration.default(60_000).describe('How long Porcupine may search before it answers "unknown" (which fails the assertions that need its verdict). ' + DURATION_NOTE),
});

export const Checker = z.discriminatedUnion('type', [SetChecker, LinearizableChecker]).describe('A judge of the recorded history (Jepsen style), besides the assertions.');

/** Variant names also name run-folder files; `control` is the control run's own name. */
const VariantName = Name.refine((n) => n !== 'control', { error: '"control" is the name of the control run (`--control`); give the variant another name' });

export const ScenarioFile = z.strictObject({
  $schema: z.string().optional().describe('The JSON Schema of this file, for editors.'),
  id: Name.describe('The scenario\'s id (`chaoslab run <id>`); by convention the file name.'),
  title: Line.describe('One line saying what the scenario shows.'),
  description: Text.optional().describe('A paragraph about the experiment.'),
  incident: Incident.describe('The incident replayed and what it teaches.'),
  cluster: z
    .strictObject({
      file: z.string().min(1, { error: 'the path is empty: expected the path of a cluster file, like ../clusters/hello.yaml' }).max(1024).describe('The cluster file, relative to this file.'),
      params: ParamsByNode.default({}).describe('Parameter overrides per node group for every variant.'),
    })
    .describe('Which toy cluster to start, and its parameters.'),
  variants: z
    .record(VariantName, Variant)
    .refine((v) => Object.keys(v).length > 0, { error: 'at least one variant is needed' })
    .refine((v) => Object.keys(v).length <= LIMITS.variants, { error: `expected at most ${LIMITS.variants} variants` })
    .describe('The same experiment with different mitigations, by name (usually `baseline` and `mitigated`; a counterfactual variant leaves out one step of a recovery). ' + REPLAY_RULE),
  duration: PositiveDuration.describe('Length of the load; every step must end within it. ' + DURATION_NOTE),
  warmup: Duration.default(3000).describe('Time after the load starts that the steady-state window skips. ' + DURATION_NOTE),
  workload: Workload.describe('The load the lab sends for the whole run.'),
  timeline: z.array(TimelineStep).max(LIMITS.timelineSteps).default([]).describe('Faults, load changes and operator actions, by time from the start of the load; each fault is healed after its `for`.'),
  checker: Checker.optional().describe('A judge of the recorded history (Jepsen style), besides the assertions.'),
  assertions: z.array(Assertion).min(1).max(LIMITS.assertions).describe('PromQL questions asked of Prometheus over a window, with the answer each variant expects. ' + REPLAY_RULE),
  mayDie: NodeSelector.optional().describe(
    'Nodes (instance or group names, `*` globs) that may exit on their own during the load. Any other exit that no kill or restart step scheduled fails the variant (exit 3); an exit of a node listed here is only recorded (journal event node-exited).',
  ),
});

export type ClusterFileT = z.output<typeof ClusterFile>;
export type ClusterNodeT = z.output<typeof ClusterNode>;
export type ScenarioFileT = z.output<typeof ScenarioFile>;
export type FaultT = z.output<typeof Fault>;
export type TimelineStepT = z.output<typeof TimelineStep>;
export type ScaleChangeT = z.output<typeof ScaleChange>;
export type OperatorActionT = z.output<typeof OperatorAction>;
export type AssertionT = z.output<typeof Assertion>;
export type WindowT = z.output<typeof Window>;
export type WorkloadT = z.output<typeof Workload>;
export type VariantT = z.output<typeof Variant>;
export type ParamValueT = z.output<typeof ParamValue>;
export type CheckerT = z.output<typeof Checker>;
