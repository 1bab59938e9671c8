// Page-logic tests against mock-server.mjs (synthetic API, no quant binary):
// the "store busy" banner and retry, freshness classes, model sorting.
//
//   node --test tests/browser/pages.test.mjs
//
// Needs only playwright-core and /usr/bin/chromium; the chart library is
// taken from LWC_JS or /tmp/package/dist (npm pack lightweight-charts@5.2.1),
// and the symbol-page check is skipped when it is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { server, setBusy } from './mock-server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LWC = process.env.LWC_JS || '/tmp/package/dist/lightweight-charts.standalone.production.js';
let base, context, profile;
const problems = [];

async function open(url) {
  const page = await context.newPage();
  page.on('dialog', d => { problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => problems.push(url + ': ' + e.message));
  await page.goto(base + url);
  return page;
}

before(async () => {
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  base = 'http://127.0.0.1:' + server.address().port;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'quant-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  server.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

test('store busy: banner shown, then retried and hidden', async () => {
  setBusy(2);
  const page = await open('/');
  await page.waitForSelector('#busy:not([hidden])', { timeout: 5000 });
  assert.match(await page.locator('#busy').textContent(), /busy/i);
  await page.waitForSelector('#monitor tbody tr[data-symbol]', { timeout: 10000 });
  assert.ok(await page.locator('#busy').isHidden());
  assert.ok(await page.locator('#error').isHidden(), 'busy is never shown as an error');
  await page.close();
});

test('freshness classes and explanations', async () => {
  const page = await open('/');
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  const cls = async (sym, col) => page.locator(`#monitor tr[data-symbol="${sym}"] td[data-col="${col}"]`).getAttribute('class');
  assert.match(await cls('AAPL', 'predictions'), /\bfresh\b/);
  assert.match(await cls('NVDA', 'predictions'), /\bstale\b/);           // ends before the features
  assert.match(await cls('QQQ', 'features-alpha158'), /\bstale\b/);     // stale=true from the API
  assert.match(await cls('QQQ', 'labels'), /\bstale\b/);                // missing while features exist
  const why = await page.locator('#monitor tr[data-symbol="NVDA"] td[data-col="predictions"]').getAttribute('title');
  assert.ok(why && why.length > 10, 'a stale cell explains itself');
  assert.equal(await page.locator('#monitor tr[data-symbol="XSS"] td[data-col="name"]').textContent(),
    '<img src=x onerror=alert(1)>');
  await page.close();
});

test('models sort numerically and reverse on a second click', async () => {
  const page = await open('/models.html');
  await page.waitForSelector('#models tbody tr[data-model]');
  const read = async () => (await page.locator('#models td[data-col="auc"]').allTextContents()).map(Number);
  await page.locator('#models th[data-key="auc"]').click();
  const up = await read();
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  await page.locator('#models th[data-key="auc"]').click();
  const down = await read();
  assert.deepEqual(down, [...up].reverse());
  await page.close();
});

test('symbol page draws, and an unknown symbol shows an error', { skip: !fs.existsSync(LWC) && 'no ' + LWC }, async () => {
  let page = await open('/symbol.html?s=AAPL');
  await page.waitForSelector('body[data-chart="drawn"]', { timeout: 15000 });
  assert.ok(await page.locator('#chart canvas').count() > 0);
  await page.close();
  page = await open('/symbol.html?s=NOPE');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.locator('#error').textContent(), /NOPE/);
  await page.close();
});

test('no script errors or dialogs', () => {
  assert.deepEqual(problems, []);
});
