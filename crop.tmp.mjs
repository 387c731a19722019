import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
const [file, sel, idx, out] = process.argv.slice(2);
const ud = mkdtempSync('/tmp/pwud-');
const ctx = await chromium.launchPersistentContext(ud, { executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 }, args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const p = await ctx.newPage();
await p.goto('file://' + file, { waitUntil: 'load' });
await p.locator(sel).nth(Number(idx)).screenshot({ path: out });
await ctx.close(); rmSync(ud, { recursive: true, force: true });
