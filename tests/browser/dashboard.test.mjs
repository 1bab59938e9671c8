// Browser test of `quant dashboard`.
//
//   QUANT_BIN=/path/to/quant node --test tests/browser/dashboard.test.mjs
//
// Builds a throw-away QUANT_HOME with the offline demo plus a symbol whose
// name is an XSS payload, starts the dashboard on a free port, and drives
// Debian's /usr/bin/chromium through playwright-core (no browser download).
// Screenshots land in tests/browser/out/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'out');
const QUANT_BIN = process.env.QUANT_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const XSS_NAME = '<img src=x onerror=alert(1)>';

let home, profile, server, baseUrl, context;
let serverLog = '';      // everything the dashboard printed, for failure messages
let serverDied = null;   // "exit code N" / "signal X" if it stopped on its own
const dialogs = [];
const pageErrors = [];

function quant(...args) {
  return execFileSync(QUANT_BIN, args, {
    env: { ...process.env, QUANT_HOME: home },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120000,
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// Start the server and resolve with the URL from its "Dashboard: http://..." line.
function startDashboard(port) {
  return new Promise((resolve, reject) => {
    server = spawn(QUANT_BIN, ['dashboard', '--host', '127.0.0.1', '--port', String(port)], {
      env: { ...process.env, QUANT_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const timer = setTimeout(() => reject(new Error('no "Dashboard: http://" line within 20 s; output:\n' + seen)), 20000);
    const onData = chunk => {
      seen += chunk.toString();
      const m = /Dashboard:\s*(http:\/\/\S+)/.exec(seen);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/+$/, '')); }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.once('exit', (code, signal) => {
      serverDied = signal ? 'signal ' + signal : 'exit code ' + code;
      clearTimeout(timer);
      reject(new Error('dashboard exited (' + serverDied + '):\n' + seen));
    });
    const keep = chunk => { serverLog += chunk.toString(); };
    server.stdout.on('data', keep);
    server.stderr.on('data', keep);
  });
}

// A raw GET with the path exactly as given: node's http module does not
// normalise "/../", unlike browsers and fetch().
function rawGet(rawPath) {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path: rawPath }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', c => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// A crashed server shows up as "connection refused" in the browser; say so.
function assertServerAlive() {
  assert.equal(serverDied, null, 'the dashboard server died (' + serverDied + '); its output:\n' + serverLog);
}

async function openPage(url) {
  assertServerAlive();
  const page = await context.newPage();
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => pageErrors.push(url + ': ' + e.message));
  await page.goto(baseUrl + url);
  return page;
}

before(async () => {
  assert.ok(QUANT_BIN, 'set QUANT_BIN to the quant binary');
  assert.ok(fs.existsSync(CHROMIUM), 'needs ' + CHROMIUM + ' (apt-get install chromium)');
  fs.mkdirSync(outDir, { recursive: true });
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'quant-web-'));
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'quant-chromium-'));
  quant('demo', '--offline');
  quant('symbols', 'add', 'XSS', '--name', XSS_NAME);
  baseUrl = await startDashboard(await freePort());
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (server && serverDied === null && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise(r => { const t = setTimeout(() => { server.kill('SIGKILL'); r(); }, 3000); server.once('exit', () => { clearTimeout(t); r(); }); });
  }
  for (const d of [home, profile]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('monitor shows each symbol with its stored bar count', async () => {
  const csv = quant('sql', 'SELECT symbol, count(*) FROM ohlcv GROUP BY symbol', '--csv');
  const expected = {};
  for (const line of csv.trim().split('\n').slice(1)) {
    const [sym, n] = line.split(',');
    expected[sym.trim()] = Number(n);
  }
  assert.ok(Object.keys(expected).length >= 3, 'demo stored bars for at least 3 symbols: ' + csv);

  const page = await openPage('/');
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  for (const [sym, n] of Object.entries(expected)) {
    const cell = page.locator(`#monitor tr[data-symbol="${sym}"] td[data-col="bars"]`);
    const text = await cell.textContent();
    assert.equal(Number(text.replace(/[^0-9]/g, '')), n, `bars of ${sym}`);
  }
  // The symbol cell links to its chart page.
  const href = await page.locator('#monitor tr[data-symbol="AAPL"] td[data-col="symbol"] a').getAttribute('href');
  assert.equal(href, 'symbol.html?s=AAPL');
  await page.screenshot({ path: path.join(outDir, 'monitor.png'), fullPage: true });
  await page.close();
});

test('monitor refreshes itself (generated_at moves on)', async () => {
  const page = await openPage('/');
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  const first = await page.locator('#generated').textContent();
  await page.waitForFunction(prev => document.getElementById('generated').textContent !== prev, first, { timeout: 15000 });
  await page.close();
});

test('XSS symbol name is shown as text and runs nothing', async () => {
  const page = await openPage('/');
  const cell = page.locator('#monitor tr[data-symbol="XSS"] td[data-col="name"]');
  await cell.waitFor();
  assert.equal(await cell.textContent(), XSS_NAME);
  assert.equal(await page.locator('#monitor img').count(), 0, 'no <img> was created from the name');
  await page.waitForTimeout(500);
  assert.deepEqual(dialogs, [], 'no dialog fired');
  await page.close();
});

test('symbol page draws the AAPL chart', async () => {
  const page = await openPage('/symbol.html?s=AAPL');
  await page.waitForSelector('body[data-chart="drawn"]', { timeout: 20000 });
  assert.ok(await page.locator('#chart canvas').count() > 0, 'a canvas inside #chart');
  await page.waitForTimeout(300); // let the library paint before the screenshot
  await page.screenshot({ path: path.join(outDir, 'symbol-AAPL.png'), fullPage: true });
  await page.close();
});

test('models page lists the registry', async () => {
  const page = await openPage('/models.html');
  await page.waitForSelector('#models tbody tr[data-model]');
  const rows = await page.locator('#models tbody tr[data-model]').count();
  assert.ok(rows >= 1, 'at least one model');
  // Sorting by AUC puts the values in numeric order.
  await page.locator('#models th[data-key="auc"]').click();
  const aucs = (await page.locator('#models td[data-col="auc"]').allTextContents()).map(Number).filter(x => !Number.isNaN(x));
  assert.deepEqual(aucs, [...aucs].sort((a, b) => a - b));
  await page.screenshot({ path: path.join(outDir, 'models.png'), fullPage: true });
  await page.close();
});

test('path traversal is refused', async () => {
  assertServerAlive();
  for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd']) {
    const r = await rawGet(p);
    assert.ok(r.status === 400 || r.status === 404, `${p} answered ${r.status}`);
    assert.ok(!r.body.includes('root:'), `${p} leaked /etc/passwd`);
  }
});

test('no page raised a script error or a dialog, and the server is still up', () => {
  assertServerAlive();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
