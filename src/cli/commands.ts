/**
 * Every command of the CLI as data: name, one-line summary, arguments and option table. `main` dispatches
 * over this map (a command without a handler fails the compile), `--help` is rendered from it, and each
 * command reads its typed values from its own table.
 */
import type { CliOptions, CommandSpec } from './options.js';
import { WORKSHOP } from './workshop-spec.js';

const SCENARIO_ARGUMENT =
  '<scenario> is a scenario file, or the id `chaoslab list` prints: hello-latency finds scenarios/hello-latency.yaml. A path that exists wins.';

/** Values of every command that starts a cluster (`run`, `up`). */
export interface ClusterValues {
  seed?: string;
  set: string[];
  out?: string;
  runtime?: string;
  'kube-context'?: string;
  'image-registry'?: string;
  json: boolean;
  'prometheus-port'?: string;
  'toxiproxy-port'?: string;
}

const CLUSTER_OPTIONS: CliOptions<ClusterValues> = {
  seed: { type: 'string', argument: 'n', description: 'replay: the same load sequence and fault timeline (a whole number from 0 to 4294967295; default: a random one, printed)' },
  set: { type: 'string', multiple: true, argument: 'node.param=value', description: 'override a node parameter, e.g. --set frontend.backendTimeoutMs=300' },
  out: { type: 'string', argument: 'dir', description: 'put the run folder under <dir> (default ./runs, or `out` of the settings file)' },
  runtime: { type: 'string', argument: 'kind', description: 'process (default): toy nodes as local processes; docker: each node in its own container; kubernetes: each node a pod (KUBECONFIG)' },
  'kube-context': { type: 'string', argument: 'name', description: "with --runtime kubernetes: the kubeconfig context to use (default: the current one)" },
  'image-registry': { type: 'string', argument: 'registry', description: 'with --runtime kubernetes: pods pull the images from this registry, as `chaoslab images push --registry` pushed them (default: none, the images must be in the cluster already)' },
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of the human view' },
  'prometheus-port': { type: 'string', argument: 'n', description: "Prometheus's port (default: a free one), e.g. to point Grafana at a known address" },
  'toxiproxy-port': { type: 'string', argument: 'n', description: "Toxiproxy's API port (default: a free one)" },
};

export interface RunValues extends ClusterValues {
  variant: string[];
  control: boolean;
  keep: boolean;
  live: boolean;
  'trace-sample'?: string;
}

export const RUN: CommandSpec<RunValues> = {
  name: 'run',
  summary: 'Replay a scenario: start its cluster, drive load, inject its faults, and judge each variant.',
  synopsis: '<scenario> [options]',
  details: [SCENARIO_ARGUMENT],
  options: {
    variant: { type: 'string', multiple: true, argument: 'name', description: 'run only this variant (default: all)' },
    control: { type: 'boolean', description: 'same load, no faults: every assertion should hold (the toy is healthy)' },
    seed: CLUSTER_OPTIONS.seed,
    set: CLUSTER_OPTIONS.set,
    out: CLUSTER_OPTIONS.out,
    runtime: CLUSTER_OPTIONS.runtime,
    'kube-context': CLUSTER_OPTIONS['kube-context'],
    'image-registry': CLUSTER_OPTIONS['image-registry'],
    json: CLUSTER_OPTIONS.json,
    'prometheus-port': CLUSTER_OPTIONS['prometheus-port'],
    'toxiproxy-port': CLUSTER_OPTIONS['toxiproxy-port'],
    keep: { type: 'boolean', description: "leave the last variant's cluster, Toxiproxy and Prometheus up (faults healed) for a game day; prints their addresses; `chaoslab down` stops them" },
    live: { type: 'boolean', description: "the live view (faults, each assertion's value now) even when stdout is not a terminal" },
    'trace-sample': { type: 'string', argument: 'r', description: 'share of requests traced: 0.05 (default), 10%, 1/20; 0 = no traces' },
  },
  examples: [
    'chaoslab run hello-latency',
    'chaoslab run scenarios/hello-latency.yaml --variant baseline --seed 42',
    'chaoslab run hello-latency --control',
    'chaoslab run hello-latency --set frontend.backendTimeoutMs=400 --json',
  ],
  settings: true,
  stateDir: true,
};

export interface UpValues extends ClusterValues {
  variant?: string;
  load: boolean;
  for?: string;
}

export const UP: CommandSpec<UpValues> = {
  name: 'up',
  summary: "Start one variant's cluster with Toxiproxy and Prometheus, without its faults, and leave them up to play with.",
  synopsis: '<scenario> [options]',
  details: [SCENARIO_ARGUMENT, '`chaoslab down` stops what it left up.'],
  options: {
    variant: { type: 'string', argument: 'name', description: 'which variant (default: the first)' },
    load: { type: 'boolean', description: "drive the scenario's base load in the foreground; Ctrl-C stops the load, not the cluster" },
    for: { type: 'string', argument: 'duration', description: 'how long the load runs (needs --load; default 10m, at most 8h)' },
    ...CLUSTER_OPTIONS,
  },
  examples: ['chaoslab up hello-latency --variant baseline --load --for 15m --prometheus-port 9090'],
  settings: true,
  stateDir: true,
};

export interface DownValues {
  all: boolean;
}

export const DOWN: CommandSpec<DownValues> = {
  name: 'down',
  summary: 'Stop a kept run (run --keep, up): without arguments the only one, or the one whose run folder you name.',
  synopsis: '[<runDir> | --all]',
  options: { all: { type: 'boolean', description: 'stop every kept run' } },
  settings: true,
  stateDir: true,
};

export const LIST: CommandSpec<object> = {
  name: 'list',
  summary: 'The scenarios, with their id, incident, lesson and variants.',
  synopsis: '',
  options: {},
  maxPositionals: 0,
};

export const VALIDATE: CommandSpec<object> = {
  name: 'validate',
  summary: 'Check scenario and cluster files without starting anything (default: every file under scenarios/ and clusters/).',
  synopsis: '[<file or scenario id>...]',
  options: {},
};

export const REPORT: CommandSpec<object> = {
  name: 'report',
  summary: "Rebuild <runDir>/report.html from the run folder's result.json and journal.",
  synopsis: '<runDir>',
  options: {},
};

export const CLEAN: CommandSpec<{ 'kube-context'?: string }> = {
  name: 'clean',
  summary: 'Stop whatever crashed runs left behind (processes, containers, networks, Kubernetes namespaces), and every kept run.',
  synopsis: '',
  options: {
    'kube-context': { type: 'string', argument: 'name', description: 'also sweep this kubeconfig context (default: the current one, when KUBECONFIG or ~/.kube/config exists)' },
  },
  maxPositionals: 0,
  settings: true,
  stateDir: true,
};

export interface ImagesValues {
  source?: string;
  force: boolean;
  verbose: boolean;
  registry?: string;
}

export const IMAGES: CommandSpec<ImagesValues> = {
  name: 'images',
  summary: "Build the images of the Docker and Kubernetes runtimes (toys, Toxiproxy, Prometheus), or push them to a registry.",
  synopsis: 'build [options] | push --registry <registry>',
  details: [
    "build: offline from this machine's files by default.",
    "push: tags each built image as <registry>/<name>:<image ID> (e.g. registry.example.com/team/chaoslab-toys:a5194001e7f9) and pushes it through the Docker engine, with the Docker CLI's credentials (docker login). A changed image is a new tag. Then `run --runtime kubernetes --image-registry <registry>` has the pods pull them.",
  ],
  options: {
    source: {
      type: 'string',
      argument: 'auto|local|official',
      description:
        'local: from this machine\'s files only (no registry); official: from the official images; auto (default): as each image was last built, and for a first build local where the binary is on this machine, else official',
    },
    force: { type: 'boolean', description: "rebuild even if nothing changed (the engine's layer cache still applies)" },
    verbose: { type: 'boolean', description: "print the engine's build output" },
    registry: { type: 'string', argument: 'registry', description: 'push: the registry and path to push to, e.g. registry.example.com/team or 127.0.0.1:5000 (no scheme, no tag)' },
  },
  examples: ['chaoslab images build', 'chaoslab images push --registry registry.example.com/team'],
  maxPositionals: 1,
  settings: true,
};

export interface GamedayValues {
  seed?: string;
  team?: string;
  for?: string;
  'hint-after'?: string;
  game?: string;
  set: string[];
  out?: string;
  runtime?: string;
  json: boolean;
  seeds?: string;
  at?: string;
  mitigation?: string;
  par?: string;
}

export const GAMEDAY: CommandSpec<GamedayValues> = {
  name: 'gameday',
  summary: 'Run a game day: a hidden fault dealt by the seed, a console for the team and one for the facilitator, scored by itself.',
  synopsis: '<command> [<argument>] [options]',
  details: [
    'Commands: start <scenario> --seed N [--team NAME] [--par FILE] · declare "text" · hypothesis "text" · mitigate <name> · set node.param=value · restart <node> · hint · status · end · par <scenario> [--seeds 1,2] [--at 5s,10s,20s]',
    SCENARIO_ARGUMENT,
    "start deals the incident (which fault of the scenario and when, from the seed: one seed deals every team the same incident), starts the baseline cluster with its load in the background, and prints the participants' console, their Prometheus (cluster and load metrics only) and the facilitator's console, each with its own token.",
    "declare, hypothesis, mitigate, set, restart and hint are the team's actions, timestamped in the journal (the participants' console has the same buttons). end scores the game (time to detect, time to mitigate, error budget) and stops everything; score.json, debrief.md and report.html land in the run folder.",
    "par replays, offline and before the game, the incident each seed deals (the same fault at the same time, on to the end) once per --at time T, with the mitigation (--mitigation, default: the scenario's recovering variant's) pushed to the nodes T after the fault starts, and draws error budget burned against time to mitigate (par.json, par.svg, par.html in <out>/<scenario>-par/). Par, per seed, is the replay with the earliest T after which the SLO holds for good (5 s to the end): its error budget burned (failed or too-slow requests) and its time to mitigate (fault start until the SLO holds for good, never before the push). Each replay runs 6 s of load more before the fault (so its Prometheus sees all of it), and lasts until the latest T + twice the SLO's longest rate window (at least 4 s) + 5 s; one replay per T and seed.",
    "start --par FILE (default: <out>/<scenario>-par/par.json when there is one) puts in the score how far the team was from its seed's par (else the median over the par's seeds): its bad requests as a multiple of par's and its TTM minus par's, e.g. \"budget 2.1× par, TTM +14 s\".",
  ],
  options: {
    seed: CLUSTER_OPTIONS.seed,
    team: { type: 'string', argument: 'name', description: 'the team playing (start; default "team"): in the score, the debrief and the leaderboard' },
    for: { type: 'string', argument: 'duration', description: 'start: the game ends by itself after this (default 30m, at most 8h)' },
    'hint-after': { type: 'string', argument: 'duration', description: 'start: release the next hint after this long without a team action (default 5m; 0: never)' },
    game: { type: 'string', argument: 'id', description: 'which game, when several run (the id start printed)' },
    set: CLUSTER_OPTIONS.set,
    out: CLUSTER_OPTIONS.out,
    runtime: CLUSTER_OPTIONS.runtime,
    json: { type: 'boolean', description: 'print one JSON document (start: the game id and addresses; end: the score; par: par.json)' },
    seeds: { type: 'string', argument: 'list', description: 'par: the seeds to replay, e.g. 1,2 (default 1); use the seed of the game' },
    at: { type: 'string', argument: 'list', description: 'par: when the mitigation is pushed after the fault starts, e.g. 5s,10s,20s (the default)' },
    mitigation: { type: 'string', argument: 'name', description: "par: the cluster's mitigation to push (default: the mitigations of the scenario's variant that expects recovery)" },
    par: { type: 'string', argument: 'file', description: 'start: the par.json to score the game against (default: <out>/<scenario>-par/par.json if there is one)' },
  },
  examples: [
    'chaoslab gameday par hello-latency --seeds 7 --at 5s,10s,20s',
    'chaoslab gameday start hello-latency --seed 7 --team blue',
    'chaoslab gameday declare "p99 over 500ms on the frontend"',
    'chaoslab gameday mitigate timeout-and-fallback',
    'chaoslab gameday end --json',
  ],
  settings: true,
  stateDir: true,
};

export const HELP: CommandSpec<object> = {
  name: 'help',
  summary: "Print the overview, or a command's usage.",
  synopsis: '[<command>]',
  options: {},
  maxPositionals: 1,
};

/** The commands in the order `chaoslab --help` lists them. */
export const COMMANDS = {
  list: LIST,
  validate: VALIDATE,
  run: RUN,
  up: UP,
  down: DOWN,
  gameday: GAMEDAY,
  report: REPORT,
  clean: CLEAN,
  images: IMAGES,
  workshop: WORKSHOP,
  help: HELP,
} as const;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
