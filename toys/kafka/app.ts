/**
 * kafka/app: the cluster's client application. The lab's load generator calls it; it talks to the brokers
 * only through its Toxiproxy links (app_to_broker-N).
 * - POST /produce/:seq: a producer with acks=all. The value is the integer seq (unique per request), sent to
 *   partition seq % partitions at the leader its metadata names. Answers: 200 acknowledged; 503 refused
 *   before any write (NotLeader, NotEnoughReplicas, no leader: the history records `fail`); 504 may or may not
 *   have been written (ack timeout, broker unreachable: `info`).
 * - GET /consume-all: the final read: every partition's log from its leader, once the leader's HW reached its
 *   log end (or after a bounded wait). `{values, partitions, complete}`.
 * - Metadata comes from every broker at once; per partition the answer with the highest leader epoch wins
 *   (so a deposed leader that still believes it leads is not followed). Refreshed on errors and every
 *   metadataMaxAgeMs.
 * - An audit every auditIntervalMs reads the leaders' logs and counts the values this app had acknowledged
 *   that are missing (kafka_app_acked_writes_lost): a live view of lost writes. The lab's set checker over the
 *   recorded history and the final read is the authoritative judge; the audit is what a dashboard shows.
 * Params: partitions (2), produceTimeoutMs (1500), metadataMaxAgeMs (5000), metadataTimeoutMs (500),
 * auditIntervalMs (3000; 0 = off), consumeWaitMs (5000).
 */
import { Counter, Gauge } from 'prom-client';
import { HttpError, runToyIfMain, sleep, type PeerClient, type ToySetup } from '../lib/toy-node.js';

interface PartitionMeta {
  partition: number;
  leader: number;
  leaderEpoch: number;
  role: string;
}

interface LogReply {
  partition: number;
  leaderEpoch: number;
  hw: number;
  leo: number;
  values: (number | string)[];
}

/** Per partition, the report with the highest leader epoch; on a tie, the leader's own report. */
export function pickLeaders(reports: readonly { partitions: PartitionMeta[] }[]): Map<number, PartitionMeta> {
  const best = new Map<number, PartitionMeta>();
  for (const rep of reports) {
    for (const m of rep.partitions) {
      if (m.leaderEpoch < 0) continue;
      const cur = best.get(m.partition);
      if (!cur || m.leaderEpoch > cur.leaderEpoch || (m.leaderEpoch === cur.leaderEpoch && m.role === 'leader' && cur.role !== 'leader')) best.set(m.partition, m);
    }
  }
  return best;
}

export const app: ToySetup = (toy) => {
  const partitions = toy.params.num('partitions', 2);
  const produceTimeoutMs = toy.params.num('produceTimeoutMs', 1500);
  const metadataMaxAgeMs = toy.params.num('metadataMaxAgeMs', 5000);
  const metadataTimeoutMs = toy.params.num('metadataTimeoutMs', 500);
  const auditIntervalMs = toy.params.num('auditIntervalMs', 3000);
  const consumeWaitMs = toy.params.num('consumeWaitMs', 5000);
  toy.peer('broker', 0); // no broker peers is a config error (exit 2)
  const brokers = toy.peerGroup('broker');
  const brokerOf = (id: number): PeerClient | undefined => brokers[id - 1];

  const reg = [toy.registry];
  const produced = new Counter({ name: 'kafka_app_produce_total', help: 'Produce requests by partition and result (ok, not_leader, not_enough_replicas, leader_not_available, indeterminate).', labelNames: ['partition', 'result'], registers: reg });
  for (let p = 0; p < partitions; p++) for (const r of ['ok', 'not_leader', 'not_enough_replicas', 'leader_not_available', 'indeterminate']) produced.inc({ partition: String(p), result: r }, 0);
  const ackedTotal = new Counter({ name: 'kafka_app_acked_total', help: 'Values the brokers acknowledged to this app.', registers: reg });
  const lostGauge = new Gauge({ name: 'kafka_app_acked_writes_lost', help: 'At the last audit: acknowledged values missing from the partition leaders’ logs.', registers: reg });
  lostGauge.set(0);
  const audits = new Counter({ name: 'kafka_app_audits_total', help: 'Audits of acknowledged values, by result (ok, skipped).', labelNames: ['result'], registers: reg });
  // Failover time as the client sees it: the longest stretch a partition went without an acknowledged produce.
  const lastAckMs = new Map<number, number>();
  const longestGap = new Gauge({ name: 'kafka_app_partition_longest_unacked_seconds', help: 'Per partition, the longest time between two acknowledged produces (the client-visible failover time).', labelNames: ['partition'], registers: reg });
  for (let p = 0; p < partitions; p++) longestGap.set({ partition: String(p) }, 0);
  const gapSeen = new Map<number, number>();
  const refreshes = new Counter({ name: 'kafka_app_metadata_refreshes_total', help: 'Metadata refreshes (each asks every broker).', registers: reg });

  let meta = new Map<number, PartitionMeta>();
  let metaAtMs = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;
  /** Acknowledged value → monotonic time of the ack. */
  const acked = new Map<number | string, number>();
  let running = true;
  toy.ready = false;

  function refreshMetadata(): Promise<void> {
    refreshing ??= (async () => {
      refreshes.inc();
      const replies = await Promise.allSettled(brokers.map((b) => b.get('/metadata', { timeoutMs: metadataTimeoutMs })));
      const reports = replies.flatMap((r) => (r.status === 'fulfilled' && r.value.status === 200 ? [r.value.body as { partitions: PartitionMeta[] }] : []));
      const best = pickLeaders(reports);
      if (best.size > 0) {
        meta = new Map([...meta, ...best]);
        metaAtMs = performance.now();
      }
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  const leaderOf = (p: number): PartitionMeta | undefined => {
    const m = meta.get(p);
    return m && m.leader >= 0 ? m : undefined;
  };

  toy.route('POST', '/produce/:seq', async (req) => {
    const value = Number(req.params.seq);
    if (!Number.isSafeInteger(value) || value < 0) throw new HttpError(400, `seq must be a non-negative integer, got ${req.params.seq}`);
    const partition = value % partitions;
    if (!leaderOf(partition)) await refreshMetadata();
    const m = leaderOf(partition);
    const peer = m && brokerOf(m.leader);
    if (!m || !peer) {
      produced.inc({ partition: String(partition), result: 'leader_not_available' });
      return { status: 503, body: { error: 'LeaderNotAvailable', partition } };
    }
    try {
      const r = await peer.post('/produce', { partition, value }, { timeoutMs: produceTimeoutMs });
      if (r.status === 200) {
        produced.inc({ partition: String(partition), result: 'ok' });
        ackedTotal.inc();
        const now = performance.now();
        acked.set(value, now);
        const last = lastAckMs.get(partition);
        lastAckMs.set(partition, now);
        if (last !== undefined && now - last > (gapSeen.get(partition) ?? 0)) {
          gapSeen.set(partition, now - last);
          longestGap.set({ partition: String(partition) }, (now - last) / 1000);
        }
        return { body: { value, partition, leader: m.leader, ...(r.body as object) } };
      }
      void refreshMetadata();
      if (r.status === 503) {
        const error = (r.body as { error?: string } | undefined)?.error;
        produced.inc({ partition: String(partition), result: error === 'NotEnoughReplicas' ? 'not_enough_replicas' : 'not_leader' });
        return { status: 503, body: { error, partition, leader: m.leader } };
      }
      produced.inc({ partition: String(partition), result: 'indeterminate' });
      return { status: 504, body: { error: (r.body as { error?: string } | undefined)?.error ?? `broker answered ${r.status}`, partition, leader: m.leader } };
    } catch (e) {
      void refreshMetadata();
      produced.inc({ partition: String(partition), result: 'indeterminate' });
      return { status: 504, body: { error: e instanceof Error ? e.message : String(e), partition, leader: m.leader } };
    }
  });

  /** Reads one partition from its leader; `settle` waits (bounded) for the HW to reach the log end. */
  async function readPartition(p: number, upTo: 'hw' | 'leo', settleMs: number): Promise<(LogReply & { leader: number }) | undefined> {
    const deadline = performance.now() + settleMs;
    for (;;) {
      const m = leaderOf(p);
      const peer = m && brokerOf(m.leader);
      if (m && peer) {
        try {
          const r = await peer.get(`/log?partition=${p}&upTo=${upTo}`, { timeoutMs: 2000 });
          if (r.status === 200) {
            const body = r.body as LogReply;
            if (upTo === 'leo' || body.hw >= body.leo || performance.now() >= deadline) return { ...body, leader: m.leader };
          }
        } catch {
          // try again below
        }
      }
      if (performance.now() >= deadline) return undefined;
      await sleep(200);
      await refreshMetadata();
    }
  }

  toy.route('GET', '/consume-all', async (req) => {
    await refreshMetadata();
    const upTo = req.query.get('upTo') === 'leo' ? 'leo' : 'hw';
    const parts = await Promise.all(Array.from({ length: partitions }, (_, p) => readPartition(p, upTo, consumeWaitMs)));
    const values: (number | string)[] = [];
    const summary = parts.map((r, p) => (r ? { partition: p, leader: r.leader, leaderEpoch: r.leaderEpoch, hw: r.hw, leo: r.leo, count: r.values.length } : { partition: p, error: 'no leader answered' }));
    for (const r of parts) if (r) values.push(...r.values);
    const complete = parts.every((r) => r !== undefined);
    return { status: complete ? 200 : 503, body: { complete, partitions: summary, values } };
  });

  async function audit(): Promise<void> {
    const started = performance.now();
    await refreshMetadata();
    const present = new Set<number | string>();
    for (let p = 0; p < partitions; p++) {
      // The whole log, not just below the HW: a new leader's HW lags, but an acknowledged value is in its log.
      const r = await readPartition(p, 'leo', 0);
      if (!r) {
        audits.inc({ result: 'skipped' });
        return;
      }
      for (const v of r.values) present.add(v);
    }
    let lost = 0;
    for (const [v, at] of acked) if (at < started && !present.has(v)) lost++;
    lostGauge.set(lost);
    audits.inc({ result: 'ok' });
  }

  void (async () => {
    // Ready once every partition has a leader: the lab starts the load only then.
    while (running && !toy.ready) {
      await refreshMetadata();
      if (Array.from({ length: partitions }, (_, p) => leaderOf(p)).every(Boolean)) {
        toy.ready = true;
        toy.log(`metadata: ${[...meta.values()].map((m) => `p${m.partition}→broker ${m.leader} (epoch ${m.leaderEpoch})`).join(', ')}`);
      } else await sleep(200);
    }
  })();

  const metaTimer = setInterval(() => {
    if (performance.now() - metaAtMs > metadataMaxAgeMs) void refreshMetadata();
  }, 1000);
  let auditing = false;
  const auditTimer =
    auditIntervalMs > 0
      ? setInterval(() => {
          if (auditing || !toy.ready) return;
          auditing = true;
          void audit().finally(() => (auditing = false));
        }, auditIntervalMs)
      : undefined;
  toy.onShutdown(() => {
    running = false;
    clearInterval(metaTimer);
    clearInterval(auditTimer);
  });
};

runToyIfMain(import.meta.url, app);
