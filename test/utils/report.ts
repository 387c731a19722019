/**
 * Checks of a run's report.html, for the e2e test that made the run: `chaoslab report` rebuilds it byte for
 * byte, and it opens in headless Chromium (Debian's `chromium`) from disk with no console error and no request,
 * every chart drawn, the hover read-out working; a screenshot lands beside it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';
import { reportCommand } from '../../src/cli/report.js';
import { root } from './cli.js';
import { readResult } from './dashboards.js';

const CHROMIUM = process.env.CHAOSLAB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { s, text: () => text };
}

export async function expectReportRebuilds(runDir: string): Promise<void> {
  const result = readResult(runDir);
  const file = path.join(runDir, 'report.html');
  expect(existsSync(file), 'the run wrote report.html').toBe(true);
  const written = readFileSync(file, 'utf8');
  const out = sink();
  expect(await reportCommand([runDir], { cwd: root, stdout: out.s, stderr: out.s })).toBe(0);
  expect(out.text()).toMatch(/wrote .*report\.html/);
  const rebuilt = readFileSync(file, 'utf8');
  expect(rebuilt).toBe(written);
  expect(rebuilt).toContain(`--seed ${result.seed}`);
}

export async function expectReportOpensInChromium(runDir: string): Promise<void> {
  const result = readResult(runDir);
  const file = path.join(runDir, 'report.html');
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'chaoslab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
  try {
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
    const expected = result.variants.reduce((n, v) => n + v.assertions.filter((a) => a.series.some((s) => s.points.filter(([, x]) => Number.isFinite(x)).length >= 2)).length, 0);
    expect(expected).toBeGreaterThan(0);
    expect(drawn).toBe(expected);
    expect(await page.locator('svg.chart').count()).toBe(result.variants.reduce((n, v) => n + v.assertions.length, 0));
    expect(await page.locator('svg.timeline').count()).toBe(result.variants.length);
    expect(await page.locator('.chart .threshold').count()).toBeGreaterThan(0);
    expect(await page.locator('.chart rect.fault').count()).toBeGreaterThan(0);
    await expect(page.locator('#replay').textContent()).resolves.toBe(result.command);

    // The hover read-out works (the script ran).
    const chart = page.locator('svg.chart').first();
    const box = (await chart.boundingBox())!;
    await chart.hover({ position: { x: box.width * 0.5, y: box.height * 0.5 } });
    await expect(page.locator('.tip').first().isVisible()).resolves.toBe(true);
    expect(await page.locator('.tip').first().textContent()).toMatch(/^\+\d/);
    await page.mouse.move(0, 0);
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));

    await page.screenshot({ path: path.join(runDir, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    console.log(`report.html: ${(statSync(file).size / 1024).toFixed(1)} KB, ${drawn} charts, loaded in Chromium in ${Math.round(loadMs)} ms; screenshot ${path.join(runDir, 'report.png')}`);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
