/**
 * kafka/broker: a Kafka 0.8-style broker. Each broker
 * - keeps a coordinator session alive with heartbeats and registers the ephemeral /brokers/ids/<id>;
 * - watches the coordinator's tree (long-poll) and, when /controller is missing and no live broker has a lower
 *   id, tries to create it after (id − 1) × controllerStaggerMs: the lowest live id wins, so runs replay;
 * - as controller: bumps /controller_epoch, creates partition states, re-elects leaders of partitions whose
 *   leader's broker is gone (clean, unclean or offline: controller-logic.ts), and sends its view of every
 *   partition to every live broker each controllerTickMs (LeaderAndIsr). It acts on its cached view of the
 *   coordinator: cut off from the coordinator it cannot see that its session expired, and keeps commanding;
 * - as a partition leader: appends produces, answers follower fetches, drops laggards from the ISR and adds
 *   caught-up followers back by writing the new ISR to the coordinator first;
 * - as a follower: fetches from its leader in a loop (replica.ts has the log rules).
 *
 * Mitigations are parameters of real mechanisms:
 * - epochFencing: refuse commands from a controller epoch older than one already seen, and partition
 *   states with an older leader epoch (Kafka 0.8's StaleControllerEpoch check, which the baseline leaves out);
 * - conditionalWrites: every coordinator write names the version it expects; a controller's writes also
 *   check /controller_epoch's version (the KAFKA-6082 fix), so a zombie's write fails and it resigns;
 * - uncleanLeaderElection=false and minInsyncReplicas=2 (Kafka 0.11 defaults / the 0.8.2 settings);
 * - eligibleLeaderReplicas (KIP-966): a replica dropped while the ISR is below min.insync.replicas may still be
 *   elected cleanly, so a partition whose lone leader is cut off moves to the majority side instead of waiting;
 * - preferredLeaderRebalance (auto.leader.rebalance.enable): leaders go back to their first replica, spread;
 * - leaderEpochTruncation (KIP-101 / KIP-320): a follower's fetch names the epoch of its last record, and a
 *   follower whose log diverged from the leader's cuts it where they part, not at its own HW.
 *
 * HTTP: POST /produce {partition, value} · POST /replica/fetch · POST /controller/leader-and-isr ·
 * GET /metadata · GET /log?partition=&upTo=hw|leo · GET /admin/state.
 */
import { Counter, Gauge } from 'prom-client';
import { HttpError, runToyIfMain, sleep, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import type { CoordOp, StoreSnapshot } from './coordinator-store.js';
import { CoordinatorClient, type WriteResult } from './coordinator-client.js';
import { assignReplicas, brokerIdOf, electLeader, initialState, nextElr, peerSlots, type PartitionStateData } from './controller-logic.js';
import { Checks, loadExtension, type ExtensionSpec } from '../lib/extension.js';
import { ControllerFence, formatControllerEvent } from './epoch-fence.js';
import { PartitionReplica, type LogRecord, type PartitionState } from './replica.js';

export interface PartitionCommand extends PartitionState {
  partition: number;
  /** Eligible leader replicas (KIP-966), when the ISR is below min.insync.replicas. */
  elr?: number[];
}

export interface LeaderAndIsrRequest {
  controllerId: number;
  controllerEpoch: number;
  partitions: PartitionCommand[];
}

export const statePath = (p: number): string => `/partitions/${p}/state`;
const BROKER_IDS = '/brokers/ids/';

/**
 * The broker's workshop extension point (exercise: fencing by epoch): `accept(command: { controllerId: number;
 * controllerEpoch: number }, maxEpochSeen: number): boolean` for every LeaderAndIsr command; false refuses it
 * (409 StaleControllerEpoch, which makes a zombie controller resign). It replaces `epochFencing`'s controller check.
 */
export const BROKER_EXTENSION: ExtensionSpec = {
  what: "the broker's workshop module",
  functions: { accept: { required: true, check: Checks.boolean } },
};

export const broker: ToySetup = (toy) => {
  const p = toy.params;
  const sessionTimeoutMs = p.num('sessionTimeoutMs', 3000);
  const heartbeatMs = p.num('heartbeatMs', 1000);
  const partitionCount = p.num('partitions', 2);
  const replicaLagMaxMs = p.num('replicaLagMaxMs', 2000);
  // The mitigations' params are live (a config push, as Kafka's dynamic broker configs and feature flags): each is
  // read where it decides (per command, write, election, fetch or produce), never captured at start.
  const minIsr = p.liveNum('minInsyncReplicas', 1);
  const uncleanAllowed = p.liveBool('uncleanLeaderElection', true);
  const elrEnabled = p.liveBool('eligibleLeaderReplicas', false);
  const rebalance = p.liveBool('preferredLeaderRebalance', false);
  const epochTruncation = p.liveBool('leaderEpochTruncation', false);
  const rebalanceCheckMs = p.num('leaderRebalanceCheckMs', 5000);
  const fencing = p.liveBool('epochFencing', false);
  const conditional = p.liveBool('conditionalWrites', false);
  const controllerTickMs = p.num('controllerTickMs', 500);
  const controllerStaggerMs = p.num('controllerStaggerMs', 300);
  const initialWaitMs = p.num('initialAssignmentWaitMs', 10_000);
  const fetchMaxWaitMs = p.num('fetchMaxWaitMs', 200);
  const requestTimeoutMs = p.num('requestTimeoutMs', 1000);
  const ackTimeoutMs = p.num('ackTimeoutMs', 1000);
  const isrCheckMs = p.num('isrCheckMs', 250);
  const watchWaitMs = p.num('watchWaitMs', 2000);

  const me = brokerIdOf(toy.config.name, toy.config.index);
  const brokerPeers = toy.peerGroup('broker');
  const slots = peerSlots(me, brokerPeers.length);
  const brokerIds = Array.from({ length: brokerPeers.length + 1 }, (_, i) => i + 1);
  const coord = new CoordinatorClient(toy.peer('coordinator'), requestTimeoutMs);
  const peerOf = (id: number): PeerClient | undefined => {
    const slot = slots.get(id);
    return slot === undefined ? undefined : brokerPeers[slot];
  };
  // Lag and timeouts are durations: monotonic time, untouched by clock faults.
  const mono = (): number => performance.now();
  const replicas = new Map<number, PartitionReplica>();
  /** Per partition, the ELR of the last state accepted or written here (KIP-966). */
  const elrOf = new Map<number, number[]>();
  for (let part = 0; part < partitionCount; part++) replicas.set(part, new PartitionReplica(part, me, assignReplicas(part, brokerIds), { now: mono }));

  // ------------------------------------------------------------------ metrics
  const reg = [toy.registry];
  const sessionsExpired = new Counter({ name: 'kafka_broker_sessions_expired_total', help: 'Times this broker learned (on reconnecting) that its coordinator session had expired.', registers: reg });
  const commandsReceived = new Counter({ name: 'kafka_controller_commands_received_total', help: 'LeaderAndIsr commands received, by result (accepted, rejected_stale).', labelNames: ['result'], registers: reg });
  const staleAccepted = new Counter({ name: 'kafka_controller_stale_commands_accepted_total', help: 'Commands obeyed although their controller epoch was older than one this broker had seen.', registers: reg });
  const switchbacks = new Counter({ name: 'kafka_controller_switchbacks_total', help: 'Commands obeyed from an older controller after a newer one had been obeyed here: two controllers acting at once.', registers: reg });
  const epochConflicts = new Counter({ name: 'kafka_controller_epoch_conflicts_total', help: 'Commands from a second controller using an epoch another controller already used.', registers: reg });
  const staleLeaderEpoch = new Counter({ name: 'kafka_stale_leader_epoch_ignored_total', help: 'Partition states ignored because their leader epoch was older than the current one (fencing).', registers: reg });
  const commandsSent = new Counter({ name: 'kafka_controller_commands_sent_total', help: 'LeaderAndIsr commands this broker sent as controller, by its epoch and the answer.', labelNames: ['epoch', 'result'], registers: reg });
  const elections = new Counter({ name: 'kafka_leader_elections_total', help: 'Leader elections written by this broker as controller (clean, eligible: from the KIP-966 ELR, unclean, offline, preferred: back to the first replica).', labelNames: ['kind'], registers: reg });
  const isrChanges = new Counter({ name: 'kafka_isr_changes_total', help: 'ISR changes proposed by this broker as leader, by change and coordinator result.', labelNames: ['change', 'result'], registers: reg });
  const truncated = new Counter({ name: 'kafka_log_truncated_records_total', help: 'Records cut from this broker’s logs (become_follower: to the HW; offset_out_of_range: to the leader’s end; diverging: where the leader epochs part).', labelNames: ['reason'], registers: reg });
  const produced = new Counter({ name: 'kafka_produce_total', help: 'Produce requests handled, by result.', labelNames: ['result'], registers: reg });
  const coordWrites = new Counter({ name: 'kafka_coordinator_writes_total', help: 'Coordinator writes by this broker, by who wrote (controller, leader, session) and the result.', labelNames: ['by', 'result'], registers: reg });
  for (const r of ['accepted', 'rejected_stale']) commandsReceived.inc({ result: r }, 0);
  for (const k of ['clean', 'eligible', 'unclean', 'offline', 'preferred']) elections.inc({ kind: k }, 0);
  for (const r of ['become_follower', 'offset_out_of_range', 'diverging']) truncated.inc({ reason: r }, 0);
  const COMMIT_LABEL = { committed: 'committed', 'not-enough-replicas-after-append': 'not_enough_replicas_after_append', timeout: 'ack_timeout', 'not-leader': 'leadership_lost' } as const;
  for (const r of ['not_leader', 'not_enough_replicas', ...Object.values(COMMIT_LABEL)]) produced.inc({ result: r }, 0);
  for (const c of ['shrink', 'expand']) isrChanges.inc({ change: c, result: 'ok' }, 0);

  // ------------------------------------------------------------------ state
  let running = true;
  let sessionId: string | undefined;
  let registered = false;
  let view: StoreSnapshot = { zxid: -1, nodes: {} };
  /** Snapshots older than this zxid predate a write of ours and would undo it in the view. */
  let minViewZxid = -1;
  const fence = new ControllerFence(fencing);
  const extension = loadExtension(toy, BROKER_EXTENSION);
  let controller: { epoch: number; epochVersion: number; electedZxid: number; sinceMs: number } | undefined;

  new Gauge({
    name: 'kafka_broker_session_alive',
    help: '1 while this broker believes its session is alive and it is registered (it cannot tell when cut off).',
    registers: reg,
    collect() {
      this.set(registered && sessionId !== undefined ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kafka_controller_active',
    help: '1 while this broker believes it is the controller.',
    registers: reg,
    collect() {
      this.set(controller ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kafka_controller_epoch',
    help: 'The epoch this broker controls with (0 when it is not the controller).',
    registers: reg,
    collect() {
      this.set(controller?.epoch ?? 0);
    },
  });
  new Gauge({
    name: 'kafka_controller_max_epoch_seen',
    help: 'Highest controller epoch this broker has received a command from.',
    registers: reg,
    collect() {
      this.set(fence.maxEpochSeen);
    },
  });
  const partitionGauge = (name: string, help: string, value: (r: PartitionReplica) => number): void =>
    void new Gauge({
      name,
      help,
      labelNames: ['partition'],
      registers: reg,
      collect() {
        for (const r of replicas.values()) this.set({ partition: String(r.partition) }, value(r));
      },
    });
  partitionGauge('kafka_partition_is_leader', '1 while this broker leads the partition (in its own view).', (r) => (r.role === 'leader' ? 1 : 0));
  partitionGauge('kafka_partition_isr_size', 'ISR size as this broker knows it.', (r) => r.isr.length);
  partitionGauge('kafka_partition_under_min_isr', '1 while this broker leads the partition with fewer in-sync replicas than min.insync.replicas.', (r) => (r.role === 'leader' && r.isr.length < minIsr() ? 1 : 0));
  partitionGauge('kafka_partition_log_end_offset', 'Log end offset of this replica.', (r) => r.leo);
  partitionGauge('kafka_partition_high_watermark', 'High watermark of this replica.', (r) => r.hw);
  partitionGauge('kafka_partition_leader_epoch', 'Leader epoch this replica follows or leads.', (r) => r.leaderEpoch);

  // ------------------------------------------------------------------ session and registration
  function onSessionExpired(): void {
    sessionsExpired.inc();
    toy.log(`session ${sessionId} expired: re-registering${controller ? ' and resigning as controller' : ''}`);
    sessionId = undefined;
    registered = false;
    if (controller) resign('its session expired');
  }

  async function sessionLoop(): Promise<void> {
    while (running) {
      if (sessionId === undefined) {
        try {
          sessionId = (await coord.createSession(sessionTimeoutMs)).sessionId;
          toy.log(`session ${sessionId} opened (timeout ${sessionTimeoutMs} ms)`);
        } catch {
          await sleep(200);
          continue;
        }
      }
      if (!registered) {
        const w = await write('session', [{ op: 'create', path: `${BROKER_IDS}${me}`, data: { id: me }, ephemeral: true }], sessionId);
        if (w?.ok) {
          registered = true;
          toy.log(`registered as broker ${me}`);
          maybeRunForController();
        } else if (w && w.code === 'SessionExpired') {
          sessionId = undefined;
          continue;
        } else if (w?.code === 'NodeExists' && (await ownedBySession(`${BROKER_IDS}${me}`))) {
          // An earlier attempt landed but its answer was lost.
          registered = true;
          maybeRunForController();
        } else {
          // NodeExists: the previous session's node is still there until that session expires.
          await sleep(200);
          continue;
        }
      }
      await sleep(heartbeatMs);
      const sid = sessionId;
      if (!running || sid === undefined) continue;
      try {
        if (!(await coord.heartbeat(sid)) && sessionId === sid) onSessionExpired();
      } catch {
        // No answer: like a ZooKeeper client, keep believing the session is alive.
      }
    }
  }

  async function ownedBySession(path: string): Promise<boolean> {
    try {
      const node = await coord.get(path);
      return node !== undefined && sessionId !== undefined && node.ephemeralOwner === sessionId;
    } catch {
      return false;
    }
  }

  async function write(by: 'controller' | 'leader' | 'session', ops: CoordOp[], sid?: string): Promise<WriteResult | undefined> {
    try {
      const w = await coord.write(ops, sid);
      coordWrites.inc({ by, result: w.ok ? 'ok' : w.code });
      if (w.ok) minViewZxid = Math.max(minViewZxid, w.zxid);
      return w;
    } catch {
      coordWrites.inc({ by, result: 'timeout' });
      return undefined;
    }
  }

  /** Our own write, reflected in the view at once so the next tick does not act on the old state. */
  function patchView(path: string, data: unknown, version: number): void {
    const old = view.nodes[path];
    view = { zxid: view.zxid, nodes: { ...view.nodes, [path]: { path, data, version, ephemeralOwner: null, czxid: old?.czxid ?? view.zxid, mzxid: view.zxid } } };
  }

  async function watchLoop(): Promise<void> {
    while (running) {
      try {
        const snap = await coord.watch(view.zxid, watchWaitMs);
        if (snap.zxid >= view.zxid && snap.zxid >= minViewZxid) {
          view = snap;
          onView();
        }
      } catch {
        await sleep(200);
      }
    }
  }

  // ------------------------------------------------------------------ controller
  let candidacy: ReturnType<typeof setTimeout> | undefined;

  function onView(): void {
    const node = view.nodes['/controller'];
    if (controller && view.zxid >= controller.electedZxid) {
      const c = node?.data as { brokerId?: number } | undefined;
      if (c?.brokerId !== me) resign(c ? `broker ${c.brokerId} is the controller now` : 'its /controller node is gone');
    } else if (!controller && !becoming && node && sessionId !== undefined && node.ephemeralOwner === sessionId) {
      // We created /controller but never heard back: finish taking over, or nobody can until our session ends.
      becoming = true;
      void takeOver(node.czxid).finally(() => (becoming = false));
    }
    maybeRunForController();
  }

  let becoming = false;
  const startedMs = mono();
  const liveIds = (): Set<number> => new Set(Object.keys(view.nodes).filter((k) => k.startsWith(BROKER_IDS)).map((k) => Number(k.slice(BROKER_IDS.length))));
  /**
   * The lowest live id runs (a bully election), so who controls is a function of who is alive, not of start-up
   * races. At start-up every broker waits for all to register (bounded by initialAssignmentWaitMs).
   */
  function eligible(): boolean {
    const live = liveIds();
    if (!live.has(me) || [...live].some((id) => id < me)) return false;
    return brokerIds.every((id) => live.has(id)) || mono() - startedMs > initialWaitMs;
  }

  function maybeRunForController(): void {
    if (controller || becoming || candidacy || !registered || view.nodes['/controller'] || !eligible()) return;
    candidacy = setTimeout(() => {
      candidacy = undefined;
      if (!running || controller || becoming || !registered || view.nodes['/controller'] || !eligible()) return;
      becoming = true;
      void tryBecomeController().finally(() => (becoming = false));
    }, (me - 1) * controllerStaggerMs);
  }

  async function tryBecomeController(): Promise<void> {
    const sid = sessionId;
    if (sid === undefined) return;
    const created = await write('controller', [{ op: 'create', path: '/controller', data: { brokerId: me }, ephemeral: true }], sid);
    if (created?.ok) await takeOver(created.zxid);
  }

  /** We hold /controller: bump the epoch and start acting. */
  async function takeOver(electedZxid: number): Promise<void> {
    const epoch = await bumpEpoch();
    if (!epoch) {
      // Holding /controller without an epoch would block everyone else: let it go.
      await write('controller', [{ op: 'delete', path: '/controller' }]);
      return;
    }
    controller = { ...epoch, electedZxid, sinceMs: mono() };
    toy.log(`became controller with epoch ${epoch.epoch}`);
    void controllerTick();
  }

  async function bumpEpoch(): Promise<{ epoch: number; epochVersion: number } | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let node;
      try {
        node = await coord.get('/controller_epoch');
      } catch {
        return undefined;
      }
      if (!node) {
        const w = await write('controller', [{ op: 'create', path: '/controller_epoch', data: { epoch: 1 } }]);
        if (w?.ok) return { epoch: 1, epochVersion: 0 };
        if (w?.code === 'NodeExists') continue;
        return undefined;
      }
      const next = ((node.data as { epoch?: number }).epoch ?? 0) + 1;
      // Unconditional, two controllers that read the same epoch would both use next: one epoch, two controllers.
      const w = await write('controller', [conditional() ? { op: 'set', path: '/controller_epoch', data: { epoch: next }, version: node.version } : { op: 'set', path: '/controller_epoch', data: { epoch: next } }]);
      if (w?.ok) return { epoch: next, epochVersion: w.results[0]?.node?.version ?? node.version + 1 };
      return undefined;
    }
    return undefined;
  }

  function resign(reason: string): void {
    if (!controller) return;
    toy.log(`resigning as controller (epoch ${controller.epoch}): ${reason}`);
    controller = undefined;
  }

  /** A controller write; with conditional writes it only lands while /controller_epoch is still ours. */
  async function controllerWrite(c: { epochVersion: number }, op: CoordOp): Promise<WriteResult | undefined> {
    const ops: CoordOp[] = conditional() ? [{ op: 'check', path: '/controller_epoch', version: c.epochVersion }, op] : [op];
    const w = await write('controller', ops);
    if (w && !w.ok && w.path === '/controller_epoch') resign('a newer controller bumped /controller_epoch (fenced write)');
    return w;
  }

  let ticking = false;
  let lastRebalanceMs = mono();
  async function controllerTick(): Promise<void> {
    const c = controller;
    if (!c || ticking) return;
    ticking = true;
    try {
      const live = liveIds();
      // auto.leader.rebalance.enable: preferred leaders are restored every leader.imbalance.check.interval.
      const rebalanceDue = rebalance() && mono() - lastRebalanceMs >= rebalanceCheckMs;
      if (rebalanceDue) lastRebalanceMs = mono();
      const states: PartitionCommand[] = [];
      for (const r of replicas.values()) {
        const path = statePath(r.partition);
        const node = view.nodes[path];
        if (!node) {
          // Wait for every replica so the preferred leaders are the first in each assignment (runs replay).
          if (!r.replicas.every((id) => live.has(id)) && mono() - c.sinceMs < initialWaitMs) continue;
          const init = initialState(r.replicas, live, c.epoch);
          if (!init) continue;
          const w = await controllerWrite(c, { op: 'create', path, data: init });
          if (controller !== c) return;
          if (w?.ok) {
            patchView(path, init, 0);
            toy.log(`created partition ${r.partition}: leader ${init.leader}, isr [${init.isr.join(',')}]`);
            states.push({ partition: r.partition, leader: init.leader, leaderEpoch: init.leaderEpoch, isr: init.isr, stateVersion: 0 });
          }
          continue;
        }
        let data = node.data as PartitionStateData;
        let version = node.version;
        const e = electLeader(data, r.replicas, live, { uncleanAllowed: uncleanAllowed(), controllerEpoch: c.epoch, eligibleLeaderReplicas: elrEnabled(), preferredLeader: rebalanceDue });
        if (e.changed) {
          const w = await controllerWrite(c, conditional() ? { op: 'set', path, data: e.next, version } : { op: 'set', path, data: e.next });
          if (controller !== c) return;
          if (w?.ok) {
            data = e.next;
            version = w.results[w.results.length - 1]?.node?.version ?? version + 1;
            patchView(path, data, version);
            elections.inc({ kind: e.kind });
            toy.log(`${e.kind} election for partition ${r.partition}: leader ${data.leader} (epoch ${data.leaderEpoch}), isr [${data.isr.join(',')}]`);
          }
        }
        states.push({ partition: r.partition, leader: data.leader, leaderEpoch: data.leaderEpoch, isr: data.isr, stateVersion: version, ...(data.elr ? { elr: data.elr } : {}) });
      }
      if (states.length === 0) return;
      const cmd: LeaderAndIsrRequest = { controllerId: me, controllerEpoch: c.epoch, partitions: states };
      for (const id of live) sendCommand(id, cmd);
    } finally {
      ticking = false;
    }
  }

  function sendCommand(id: number, cmd: LeaderAndIsrRequest): void {
    const epoch = String(cmd.controllerEpoch);
    if (id === me) {
      commandsSent.inc({ epoch, result: handleLeaderAndIsr(cmd).status === 200 ? 'accepted' : 'rejected' });
      return;
    }
    const peer = peerOf(id);
    if (!peer) return;
    peer.post('/controller/leader-and-isr', cmd, { timeoutMs: requestTimeoutMs }).then(
      (r) => {
        commandsSent.inc({ epoch, result: r.status === 200 ? 'accepted' : r.status === 409 ? 'rejected' : 'error' });
        // A fenced broker has seen a newer controller: this one is a zombie and stops commanding.
        if (r.status === 409 && controller?.epoch === cmd.controllerEpoch) resign(`broker ${id} refused epoch ${cmd.controllerEpoch} as stale`);
      },
      () => commandsSent.inc({ epoch, result: 'timeout' }),
    );
  }

  // ------------------------------------------------------------------ commands from a controller
  function handleLeaderAndIsr(cmd: LeaderAndIsrRequest): { status: number; body: unknown } {
    const adm = extension ? fence.admit(cmd, (c, seen) => extension.call('accept', [c, seen], !(fencing() && c.controllerEpoch < seen))) : fence.admit(cmd);
    toy.log(formatControllerEvent({ time: toy.clock.now(), broker: me, controllerId: cmd.controllerId, controllerEpoch: cmd.controllerEpoch, accepted: adm.accepted }));
    commandsReceived.inc({ result: adm.accepted ? 'accepted' : 'rejected_stale' });
    if (adm.epochConflict) epochConflicts.inc();
    if (!adm.accepted) return { status: 409, body: { error: 'StaleControllerEpoch', controllerEpoch: cmd.controllerEpoch, seen: fence.maxEpochSeen } };
    if (adm.stale) staleAccepted.inc();
    if (adm.switchback) switchbacks.inc();
    for (const ps of cmd.partitions) {
      const r = replicas.get(ps.partition);
      if (!r) continue;
      if (fencing() && ps.leaderEpoch < r.leaderEpoch) {
        staleLeaderEpoch.inc();
        continue;
      }
      const leoBefore = r.leo;
      const outcome = r.apply(ps);
      elrOf.set(ps.partition, ps.elr ?? []);
      const cut = leoBefore - r.leo;
      if (cut > 0) truncated.inc({ reason: 'become_follower' }, cut);
      if (outcome !== 'unchanged' && outcome !== 'isr-updated') {
        toy.log(`partition ${ps.partition}: ${outcome} (leader ${ps.leader}, leader epoch ${ps.leaderEpoch}, isr [${ps.isr.join(',')}]) by controller ${cmd.controllerId} epoch ${cmd.controllerEpoch}${cut > 0 ? `; truncated ${cut} records` : ''}`);
      }
    }
    return { status: 200, body: { ok: true } };
  }

  toy.route('POST', '/controller/leader-and-isr', async (req) => {
    const cmd = (await req.json()) as LeaderAndIsrRequest | undefined;
    if (!cmd || typeof cmd.controllerEpoch !== 'number' || !Array.isArray(cmd.partitions)) throw new HttpError(400, 'expected a LeaderAndIsr request');
    return handleLeaderAndIsr(cmd);
  });

  // ------------------------------------------------------------------ replication
  async function fetcherLoop(r: PartitionReplica): Promise<void> {
    while (running) {
      if (r.role !== 'follower') {
        await sleep(50);
        continue;
      }
      const leader = r.leaderId;
      const epoch = r.leaderEpoch;
      const offset = r.leo;
      const peer = peerOf(leader);
      if (!peer) {
        await sleep(100);
        continue;
      }
      try {
        const lastEpoch = epochTruncation() ? r.lastEpoch : undefined;
        const res = await peer.post('/replica/fetch', { partition: r.partition, replicaId: me, offset, maxWaitMs: fetchMaxWaitMs, ...(lastEpoch !== undefined ? { lastEpoch } : {}) }, { timeoutMs: requestTimeoutMs + fetchMaxWaitMs });
        // The answer is about the leader and offset we asked with; if either moved meanwhile, ask again.
        if (r.role !== 'follower' || r.leaderId !== leader || r.leaderEpoch !== epoch || r.leo !== offset) continue;
        if (res.status === 200) {
          const b = res.body as { records: LogRecord[]; hw: number };
          r.applyFetched(b.records, b.hw);
        } else if (res.status === 416 && (res.body as { error?: string }).error === 'Diverging') {
          const cut = r.truncateTo((res.body as { truncateTo: number }).truncateTo);
          if (cut > 0) {
            truncated.inc({ reason: 'diverging' }, cut);
            toy.log(`partition ${r.partition}: our log diverged from leader ${leader}'s (leader epoch check); truncated ${cut} records to offset ${r.leo}`);
          }
        } else if (res.status === 416) {
          const cut = r.handleOffsetOutOfRange((res.body as { leo: number }).leo);
          if (cut > 0) {
            truncated.inc({ reason: 'offset_out_of_range' }, cut);
            toy.log(`partition ${r.partition}: leader ${leader} ends before us; truncated ${cut} records to offset ${r.leo}`);
          }
        } else {
          await sleep(100);
        }
      } catch {
        await sleep(100);
      }
    }
  }

  toy.route('POST', '/replica/fetch', async (req) => {
    const b = (await req.json()) as { partition?: number; replicaId?: number; offset?: number; maxWaitMs?: number; lastEpoch?: number } | undefined;
    if (typeof b?.partition !== 'number' || typeof b.replicaId !== 'number' || typeof b.offset !== 'number') throw new HttpError(400, 'expected {partition, replicaId, offset}');
    const r = replicas.get(b.partition);
    if (!r) throw new HttpError(404, `no partition ${b.partition}`);
    const lastEpoch = typeof b.lastEpoch === 'number' ? b.lastEpoch : undefined;
    let f = r.handleFetch(b.replicaId, b.offset, lastEpoch);
    if (f.ok && f.records.length === 0 && (b.maxWaitMs ?? 0) > 0) {
      // Long-poll: the first call already told the leader where the follower is (that may commit records).
      await r.waitForData(b.offset, Math.min(b.maxWaitMs ?? 0, 2000));
      f = r.handleFetch(b.replicaId, b.offset, lastEpoch);
    }
    if (f.ok) return { body: f };
    return { status: f.error === 'OffsetOutOfRange' || f.error === 'Diverging' ? 416 : 503, body: f };
  });

  const isrWrites = new Set<number>();
  async function isrCheck(r: PartitionReplica): Promise<void> {
    if (r.role !== 'leader' || isrWrites.has(r.partition)) return;
    const lagging = r.laggingReplicas(replicaLagMaxMs);
    const caughtUp = r.caughtUpReplicas(replicaLagMaxMs);
    if (lagging.length === 0 && caughtUp.length === 0) return;
    const isr = [...r.isr.filter((id) => !lagging.includes(id)), ...caughtUp];
    const epoch = r.leaderEpoch;
    const elr = elrEnabled() ? nextElr(r.isr, isr, elrOf.get(r.partition) ?? [], minIsr()) : [];
    const data: PartitionStateData = { leader: me, leaderEpoch: epoch, isr, controllerEpoch: fence.lastAccepted?.controllerEpoch ?? 0, ...(elr.length > 0 ? { elr } : {}) };
    const path = statePath(r.partition);
    isrWrites.add(r.partition);
    try {
      const w = await write('leader', [conditional() ? { op: 'set', path, data, version: r.stateVersion } : { op: 'set', path, data }]);
      const result = w === undefined ? 'timeout' : w.ok ? 'ok' : w.code;
      if (lagging.length > 0) isrChanges.inc({ change: 'shrink', result });
      if (caughtUp.length > 0) isrChanges.inc({ change: 'expand', result });
      // Only a write that landed changes the ISR the leader commits with.
      if (w?.ok && r.role === 'leader' && r.leaderEpoch === epoch) {
        r.setIsr(isr, w.results[0]?.node?.version ?? r.stateVersion + 1);
        elrOf.set(r.partition, elr);
        toy.log(`partition ${r.partition}: isr now [${isr.join(',')}]${elr.length ? `, eligible [${elr.join(',')}]` : ''}${lagging.length ? ` (dropped lagging ${lagging.join(',')})` : ''}${caughtUp.length ? ` (added ${caughtUp.join(',')})` : ''}`);
      }
    } finally {
      isrWrites.delete(r.partition);
    }
  }

  // ------------------------------------------------------------------ clients
  toy.route('POST', '/produce', async (req) => {
    const b = (await req.json()) as { partition?: number; value?: number | string } | undefined;
    if (typeof b?.partition !== 'number' || (typeof b.value !== 'number' && typeof b.value !== 'string')) throw new HttpError(400, 'expected {partition, value}');
    const r = replicas.get(b.partition);
    if (!r) throw new HttpError(404, `no partition ${b.partition}`);
    const a = r.append(b.value, minIsr());
    if (!a.ok) {
      produced.inc({ result: a.error === 'NotLeader' ? 'not_leader' : 'not_enough_replicas' });
      // Refused before the append: definitely not written (the client's history says fail).
      return { status: 503, body: { error: a.error, leader: r.leaderId, leaderEpoch: r.leaderEpoch } };
    }
    const outcome = await r.waitForCommit(a.offset, minIsr(), ackTimeoutMs);
    produced.inc({ result: COMMIT_LABEL[outcome] });
    if (outcome === 'committed') return { body: { offset: a.offset, leaderEpoch: r.leaderEpoch } };
    // Appended but not acknowledged: it may or may not survive (indeterminate).
    return { status: 504, body: { error: outcome, offset: a.offset } };
  });

  toy.route('GET', '/metadata', () => ({
    body: {
      brokerId: me,
      controllerEpoch: fence.maxEpochSeen,
      isController: controller !== undefined,
      partitions: [...replicas.values()].map((r) => ({ partition: r.partition, leader: r.role === 'leader' ? me : r.leaderId, leaderEpoch: r.leaderEpoch, isr: r.isr, role: r.role, hw: r.hw, leo: r.leo })),
    },
  }));

  toy.route('GET', '/log', (req) => {
    const r = replicas.get(Number(req.query.get('partition')));
    if (!r) throw new HttpError(404, 'no such partition');
    if (r.role !== 'leader') return { status: 503, body: { error: 'NotLeader', leader: r.leaderId } };
    const upTo = req.query.get('upTo') === 'leo' ? r.leo : r.hw;
    return { body: { partition: r.partition, leaderEpoch: r.leaderEpoch, hw: r.hw, leo: r.leo, values: r.log.slice(0, upTo).map((x) => x.value) } };
  });

  toy.route('GET', '/admin/state', () => ({
    body: {
      brokerId: me,
      sessionId,
      registered,
      controller,
      maxEpochSeen: fence.maxEpochSeen,
      viewZxid: view.zxid,
      partitions: [...replicas.values()].map((r) => ({ partition: r.partition, role: r.role, leader: r.leaderId, leaderEpoch: r.leaderEpoch, isr: r.isr, stateVersion: r.stateVersion, hw: r.hw, leo: r.leo })),
    },
  }));

  // ------------------------------------------------------------------ start
  void sessionLoop();
  void watchLoop();
  for (const r of replicas.values()) void fetcherLoop(r);
  const controllerTimer = setInterval(() => {
    maybeRunForController();
    void controllerTick();
  }, controllerTickMs);
  const isrTimer = setInterval(() => {
    for (const r of replicas.values()) void isrCheck(r);
  }, isrCheckMs);
  toy.onShutdown(() => {
    running = false;
    clearInterval(controllerTimer);
    clearInterval(isrTimer);
    clearTimeout(candidacy);
    for (const r of replicas.values()) r.close();
  });
};

runToyIfMain(import.meta.url, broker);
