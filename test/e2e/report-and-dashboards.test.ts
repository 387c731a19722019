/**
 * The report and the dashboards against real runs: report.html opens in headless Chromium from
 * disk with no console error and no request, its charts are drawn, and `chaoslab report` rebuilds
 * it; every query of every Grafana dashboard returns data from a run of its cluster's scenario
 * (a Prometheus started on the run's stored TSDB answers them).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report.js';
import { evaluateDashboards, loadDashboards, openRunPrometheus, type QueryCheck } from '../../src/report/dashboards.js';
import type { RunResult } from '../../src/run/result.js';
import { jsonOf, root, runCli } from '../utils/cli.js';

const CHROMIUM = process.env.CHAOSLAB_CHROMIUM ?? '/usr/bin/chromium';
const PROMETHEUS = process.env.CHAOSLAB_PROMETHEUS ?? '/usr/bin/prometheus';
const OUT = path.join('runs', 'e2e-report');

/**
 * The scenario run that feeds each toy dashboard: one variant is enough when every panel has data
 * in it (the lab overview is checked against every run). hello's run is the report's run.
 */
const DASHBOARD_RUNS: Record<string, { scenario: string; args: string[] }> = {
  hello: { scenario: 'scenarios/hello-latency.yaml', args: [] },
  'dynamo-kv': { scenario: 'scenarios/dynamodb-2015-metadata-cascade.yaml', args: ['--variant', 'baseline'] },
  'kafka-zk': { scenario: 'scenarios/kafka-2013-zookeeper-split-brain.yaml', args: ['--variant', 'baseline'] },
  'twitter-timeline': { scenario: 'scenarios/twitter-2014-world-cup-fanout.yaml', args: ['--variant', 'baseline'] },
};

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function run(scenario: string, args: string[]): Promise<RunResult> {
  const r = await runCli(['run', scenario, '--json', '--seed', '11', '--out', OUT, ...args]);
  // Exit 1 (a verdict not as expected on a busy machine) still leaves a complete run folder to check.
  expect([0, 1], r.stderr).toContain(r.code);
  const runDir = jsonOf(r).runDir;
  return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
}

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { s, text: () => text };
}

describe('report and dashboards', () => {
  let hello: RunResult;
  beforeAll(async () => {
    hello = await run('scenarios/hello-latency.yaml', []);
  }, 300_000);

  describe('report.html', () => {
    let userDataDir: string | undefined;
    let context: BrowserContext | undefined;
    afterAll(async () => {
      await context?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('is rebuilt by `chaoslab report` from the run folder, byte for byte', async () => {
      const file = path.join(hello.runDir, 'report.html');
      const written = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      const out = sink();
      expect(await reportCommand([hello.runDir], { cwd: root, stdout: out.s, stderr: out.s })).toBe(0);
      expect(out.text()).toMatch(/wrote .*report\.html/);
      const rebuilt = readFileSync(file, 'utf8');
      // Once the runner writes the report at the end of the run, the rebuild must match it.
      if (written !== undefined) expect(rebuilt).toBe(written);
      expect(rebuilt).toContain(`--seed ${hello.seed}`);
    });

    it('opens in headless Chromium from disk: no console error, no request, every chart drawn', async () => {
      const file = path.join(hello.runDir, 'report.html');
      userDataDir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

      const started = performance.now();
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      const loadMs = performance.now() - started;

      // A chart drew when its series path has at least two points.
      const drawn = await page.$$eval('svg.chart path.series', (paths) => paths.filter((p) => /L/.test(p.getAttribute('d') ?? '')).length);
      const expected = hello.variants.reduce((n, v) => n + v.assertions.filter((a) => a.series.some((s) => s.points.filter(([, x]) => Number.isFinite(x)).length >= 2)).length, 0);
      expect(expected).toBeGreaterThan(0);
      expect(drawn).toBe(expected);
      expect(await page.locator('svg.chart').count()).toBe(hello.variants.reduce((n, v) => n + v.assertions.length, 0));
      expect(await page.locator('svg.timeline').count()).toBe(hello.variants.length);
      expect(await page.locator('.chart .threshold').count()).toBeGreaterThan(0);
      expect(await page.locator('.chart rect.fault').count()).toBeGreaterThan(0);
      await expect(page.locator('#replay').textContent()).resolves.toBe(hello.command);

      // The hover read-out works (the script ran).
      const chart = page.locator('svg.chart').first();
      const box = (await chart.boundingBox())!;
      await chart.hover({ position: { x: box.width * 0.5, y: box.height * 0.5 } });
      await expect(page.locator('.tip').first().isVisible()).resolves.toBe(true);
      expect(await page.locator('.tip').first().textContent()).toMatch(/^\+\d/);
      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));

      await page.screenshot({ path: path.join(hello.runDir, 'report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      const bytes = statSync(file).size;
      console.log(`report.html: ${(bytes / 1024).toFixed(1)} KB, ${drawn} charts, loaded in Chromium in ${Math.round(loadMs)} ms; screenshot ${path.join(hello.runDir, 'report.png')}`);
    });
  });

  describe('Grafana dashboards', () => {
    const files = loadDashboards(path.join(root, 'dashboards'));

    async function check(result: RunResult, names: string[]): Promise<QueryCheck[]> {
      const prom = await openRunPrometheus(result.runDir, { binary: PROMETHEUS });
      try {
        return await evaluateDashboards(
          files.filter((f) => names.includes(f.name)),
          prom.client,
          { startSec: Date.parse(result.startedAt) / 1000, endSec: Date.parse(result.endedAt) / 1000 },
          { rateInterval: '5s', interval: '1s' },
        );
      } finally {
        await prom.stop();
      }
    }

    it('every dashboard has a run that feeds it', () => {
      for (const f of files) if (f.name !== 'lab-overview') expect(DASHBOARD_RUNS[f.name], `no entry for dashboards/${f.name}.json in DASHBOARD_RUNS`).toBeDefined();
    });

    it.each(Object.entries(DASHBOARD_RUNS))('every query of the %s dashboard and of the lab overview returns data from its run', async (name, spec) => {
      const result = name === 'hello' ? hello : await run(spec.scenario, spec.args);
      const checks = await check(result, [name, 'lab-overview']);
      const empty = checks.filter((c) => c.error || c.points === 0).map((c) => `${c.dashboard} ${c.where}: ${c.error ?? 'no data'} — ${c.expr}`);
      expect(empty).toEqual([]);
      expect(checks.filter((c) => c.dashboard === name).length).toBeGreaterThan(5);
      console.log(`${name}: ${checks.length} queries checked (${checks.filter((c) => c.dashboard === name).length} of the ${name} dashboard), all with data, against ${result.runDir}`);
    }, 600_000);
  });
});
