import type { ErrorData } from './lab-error.js';

/**
 * The catalog of error identities, the only place a code is made (after astro's error catalog: each entry
 * `satisfies ErrorData`). Codes are permanent: tools and docs refer to them; `docs/errors.md` is generated from
 * this file (`npm run docs:errors`; a test keeps the two equal). `hint` is the default advice where the throw site
 * knows nothing better.
 */
export const Errors = {
  // Bad input (exit 2)
  FileNotFound: { code: 'CHAOSLAB_FILE_NOT_FOUND', kind: 'input', title: 'File not found.' },
  FileTooLarge: { code: 'CHAOSLAB_FILE_TOO_LARGE', kind: 'input', title: 'File too large.' },
  YamlSyntax: { code: 'CHAOSLAB_YAML_SYNTAX', kind: 'input', title: 'Malformed YAML.' },
  YamlAliasBomb: { code: 'CHAOSLAB_YAML_ALIASES', kind: 'input', title: 'Too many YAML aliases.' },
  YamlTooDeep: { code: 'CHAOSLAB_YAML_TOO_DEEP', kind: 'input', title: 'YAML nested too deeply.' },
  InvalidFile: { code: 'CHAOSLAB_INVALID_FILE', kind: 'input', title: 'Not a readable YAML text file.' },
  InvalidField: { code: 'CHAOSLAB_INVALID_FIELD', kind: 'input', title: 'Invalid field.' },
  UnknownKey: { code: 'CHAOSLAB_UNKNOWN_KEY', kind: 'input', title: 'Unknown key.' },
  InvalidDuration: { code: 'CHAOSLAB_INVALID_DURATION', kind: 'input', title: 'Invalid duration.' },
  UnknownReference: { code: 'CHAOSLAB_UNKNOWN_REFERENCE', kind: 'input', title: 'Unknown reference.' },
  OverlappingFaults: { code: 'CHAOSLAB_OVERLAPPING_FAULTS', kind: 'input', title: 'Overlapping faults on one target.' },
  InvalidPromQL: { code: 'CHAOSLAB_INVALID_PROMQL', kind: 'input', title: 'PromQL does not parse.' },
  UnknownMetric: { code: 'CHAOSLAB_UNKNOWN_METRIC', kind: 'input', title: 'A metric nothing exports.' },
  InvalidScenario: { code: 'CHAOSLAB_INVALID_SCENARIO', kind: 'input', title: 'Invalid scenario.' },
  InvalidArgument: { code: 'CHAOSLAB_INVALID_ARGUMENT', kind: 'input', title: 'Invalid command-line argument.' },
  NoKeptRun: { code: 'CHAOSLAB_NO_KEPT_RUN', kind: 'input', title: 'No such kept run.' },
  NoGame: { code: 'CHAOSLAB_NO_GAME', kind: 'input', title: 'No such game day running.', hint: 'start one: npx chaoslab gameday start <scenario> --seed N' },
  // A real part failed (exit 3)
  ToxiproxyMissing: { code: 'CHAOSLAB_TOXIPROXY_MISSING', kind: 'part', title: 'Toxiproxy not found.' },
  ToxiproxyFailed: { code: 'CHAOSLAB_TOXIPROXY_FAILED', kind: 'part', title: 'Toxiproxy failed.' },
  PrometheusMissing: { code: 'CHAOSLAB_PROMETHEUS_MISSING', kind: 'part', title: 'Prometheus not found.' },
  PrometheusFailed: { code: 'CHAOSLAB_PROMETHEUS_FAILED', kind: 'part', title: 'Prometheus failed.' },
  LibfaketimeMissing: {
    code: 'CHAOSLAB_LIBFAKETIME_MISSING',
    kind: 'part',
    title: 'libfaketime not found (needed by a clock fault).',
    hint: 'install the Debian package libfaketime (npm run setup does; or: sudo apt-get install libfaketime), or set CHAOSLAB_LIBFAKETIME to the path of libfaketime.so.1',
  },
  PortTaken: { code: 'CHAOSLAB_PORT_TAKEN', kind: 'part', title: 'Port already taken.' },
  NodeFailed: { code: 'CHAOSLAB_NODE_FAILED', kind: 'part', title: 'A cluster node failed.' },
  WorkloadFailed: { code: 'CHAOSLAB_WORKLOAD_FAILED', kind: 'part', title: 'The load generator failed.' },
  CheckerMissing: { code: 'CHAOSLAB_CHECKER_MISSING', kind: 'part', title: 'A checker binary is not built.' },
  CheckerFailed: { code: 'CHAOSLAB_CHECKER_FAILED', kind: 'part', title: 'A checker failed.' },
  Interrupted: { code: 'CHAOSLAB_INTERRUPTED', kind: 'part', title: 'Run interrupted.' },
  GameServerFailed: { code: 'CHAOSLAB_GAME_SERVER_FAILED', kind: 'part', title: "The game day's server failed.", hint: 'see its log in the state folder (games/<game>.log); npx chaoslab clean stops what it left' },
  StopFailed: { code: 'CHAOSLAB_STOP_FAILED', kind: 'part', title: 'A part could not be stopped cleanly.', hint: 'run `npx chaoslab clean` to remove what is left' },
  // The state folder (reaper records, kept runs): bad input, exit 2
  StateDirUnsafe: {
    code: 'CHAOSLAB_STATE_DIR_UNSAFE',
    kind: 'input',
    title: 'The state folder is not safe to use.',
    hint: 'it must be a folder owned by you and writable by no one else (chmod 700); or point CHAOSLAB_STATE_DIR at one',
  },
  // Docker runtime (exit 3)
  DockerUnavailable: { code: 'CHAOSLAB_DOCKER_UNAVAILABLE', kind: 'part', title: 'No Docker engine answers.' },
  DockerFailed: { code: 'CHAOSLAB_DOCKER_FAILED', kind: 'part', title: 'The Docker engine refused a request.' },
  DockerNameTaken: { code: 'CHAOSLAB_DOCKER_NAME_TAKEN', kind: 'part', title: 'A container of that name exists already.', hint: 'run `npx chaoslab clean`' },
  ImageMissing: { code: 'CHAOSLAB_IMAGE_MISSING', kind: 'part', title: 'A chaoslab image is missing.', hint: 'build the images: npx chaoslab images build' },
  ImageBuildFailed: { code: 'CHAOSLAB_IMAGE_BUILD_FAILED', kind: 'part', title: 'An image build failed.' },
  ImagePushFailed: { code: 'CHAOSLAB_IMAGE_PUSH_FAILED', kind: 'part', title: 'A registry refused an image push, or could not be reached.' },
  // Kubernetes runtime (exit 3)
  KubernetesUnavailable: { code: 'CHAOSLAB_KUBERNETES_UNAVAILABLE', kind: 'part', title: 'The Kubernetes API server cannot be used.' },
  KubernetesFailed: { code: 'CHAOSLAB_KUBERNETES_FAILED', kind: 'part', title: 'The Kubernetes API server refused a request.' },
  // A bug in the lab
  Internal: { code: 'CHAOSLAB_INTERNAL', kind: 'internal', title: 'Internal error (a bug in chaoslab).', hint: 'please report it with the run folder' },
} as const satisfies Record<string, ErrorData>;

export type ErrorName = keyof typeof Errors;
