/**
 * netflix/edge: the device router (DNS and the edge in front of the regions). `GET /tv/{key}` is a TV device's API
 * call, `GET /web/{key}` a web browser's; each device class has a home region's load balancer. Params:
 * - `failover` (default false; live: `POST /admin/params`): health-checked regional failover. The edge watches the answers of each device class's
 *   home load balancer (a passive health check over `failoverWindowMs`, at least `failoverMinRequests` answers); when
 *   more than `failoverErrorRatio` failed, that device class goes to its second region's load balancer. Failing back
 *   is an operator's call (`POST /admin/failback`). Without it, each device class has its one home region.
 * - `lbTimeoutMs`: how long the edge waits for a load balancer.
 */
import { Counter, Gauge } from 'prom-client';
import { TimeoutError, runToyIfMain, type PeerClient, type ToySetup } from '../lib/toy-node.js';
import { FailoverDetector } from './logic.js';

/** Device classes: their home load balancer and the second region's (if any). */
const DEVICES = {
  tv: { home: 'lb-tv-east', second: 'lb-tv-west' },
  web: { home: 'lb-web-east', second: undefined },
} as const;
type Device = keyof typeof DEVICES;

const regionOf = (lb: string): string => lb.slice(lb.lastIndexOf('-') + 1);

export const edge: ToySetup = (toy) => {
  // Live: a config push turns the health-checked failover on or off while the edge runs (read per request).
  const failover = toy.params.liveBool('failover', false);
  const windowMs = toy.params.num('failoverWindowMs', 3000);
  const minRequests = toy.params.num('failoverMinRequests', 20);
  const errorRatio = toy.params.num('failoverErrorRatio', 0.2);
  const lbTimeoutMs = toy.params.num('lbTimeoutMs', 1000);

  const requests = new Counter({
    name: 'netflix_edge_requests_total',
    help: 'Device API calls through the edge, by device class, the region that served them and outcome (ok, error, timeout).',
    labelNames: ['device', 'region', 'outcome'],
    registers: [toy.registry],
  });
  const failedOver = new Gauge({ name: 'netflix_edge_failed_over', help: '1 while a device class is sent to its second region.', labelNames: ['device'], registers: [toy.registry] });

  const routes = new Map<Device, { home: PeerClient; homeRegion: string; second?: { lb: PeerClient; region: string }; detector: FailoverDetector }>();
  for (const [device, r] of Object.entries(DEVICES) as [Device, (typeof DEVICES)[Device]][]) {
    // Built whenever the cluster has the second region's load balancer, so `failover` can be pushed on later.
    const second = r.second && (failover() || toy.config.peers[r.second]?.length) ? { lb: toy.peer(r.second), region: regionOf(r.second) } : undefined;
    routes.set(device, { home: toy.peer(r.home), homeRegion: regionOf(r.home), ...(second ? { second } : {}), detector: new FailoverDetector({ windowMs, minRequests, errorRatio }) });
    failedOver.set({ device }, 0);
    for (const region of new Set([regionOf(r.home), ...(r.second ? [regionOf(r.second)] : [])])) {
      for (const outcome of ['ok', 'error', 'timeout']) requests.inc({ device, region, outcome }, 0);
    }
  }

  for (const device of Object.keys(DEVICES) as Device[]) {
    const route = routes.get(device)!;
    toy.route('GET', `/${device}/:key`, async (req) => {
      const on = failover();
      const away = on && route.second !== undefined && route.detector.failedOver;
      const target = away ? route.second!.lb : route.home;
      const region = away ? route.second!.region : route.homeRegion;
      let status: number;
      let body: unknown;
      let outcome: 'ok' | 'error' | 'timeout';
      try {
        const reply = await target.get(`/api/${encodeURIComponent(req.params.key!)}`, { timeoutMs: lbTimeoutMs });
        status = reply.status === 200 ? 200 : reply.status >= 500 ? reply.status : 502;
        body = reply.body;
        outcome = reply.status === 200 ? 'ok' : 'error';
      } catch (e) {
        outcome = e instanceof TimeoutError ? 'timeout' : 'error';
        status = outcome === 'timeout' ? 504 : 502;
        body = { error: e instanceof Error ? e.message : String(e) };
      }
      requests.inc({ device, region, outcome });
      if (on && !away && route.second && route.detector.record(performance.now(), outcome === 'ok')) {
        failedOver.set({ device }, 1);
        toy.log(`${device}: home region ${route.homeRegion} unhealthy, failing over to ${route.second.region}`);
      }
      return { status, body };
    });
  }

  toy.route('POST', '/admin/failback', async (req) => {
    const { device } = ((await req.json()) ?? {}) as { device?: string };
    const route = routes.get(device as Device);
    if (!route) return { status: 400, body: { error: `expected {"device": ${Object.keys(DEVICES).map((d) => `"${d}"`).join(' | ')}}` } };
    route.detector.reset();
    failedOver.set({ device: device! }, 0);
    return { body: { device, region: route.homeRegion } };
  });
};

runToyIfMain(import.meta.url, edge);
