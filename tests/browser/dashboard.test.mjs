// Browser test of `quant dashboard`.
//
//   QUANT_BIN=/path/to/quant LOCK_HOLDER=/path/to/web_test_server \
//     node --test tests/browser/dashboard.test.mjs
//
// (ctest runs it through tests/browser/run.sh.)  Builds a throw-away
// QUANT_HOME with the offline demo, a symbol whose name is an XSS payload and
// a symbol whose features are behind its bars, starts the dashboard on a free
// port, and drives Debian's /usr/bin/chromium through playwright-core (no
// browser download).  Everything is real: no mock server.  LOCK_HOLDER is any
// test binary that understands `--hold-lock DB MS` (tests/support/lock_holder.h):
// it holds DuckDB's write lock the way an ingest does.  Screenshots land in
// tests/browser/out/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
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
const LOCK_HOLDER = process.env.LOCK_HOLDER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const XSS_NAME = '<img src=x onerror=alert(1)>';

let home, profile, server, baseUrl, context;
let serverLog = '';      // everything the dashboard printed, for failure messages
let serverDied = null;   // "exit code N" / "signal X" if it stopped on its own
let startupMs = null;    // spawn to the "Dashboard: http://" line
const dialogs = [];
const pageErrors = [];

function quant(...args) {
  return execFileSync(QUANT_BIN, args, {
    env: { ...process.env, QUANT_HOME: home },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // The demo under ASan, beside the other tests on 2 cores, has taken
    // over 2 minutes: give the setup room, the test's own limit is ctest's.
    timeout: 600000,
  });
}

// The same, without blocking the event loop (for runs that overlap the browser).
function quantAsync(...args) {
  return new Promise(resolve => {
    execFile(QUANT_BIN, args, { env: { ...process.env, QUANT_HOME: home }, encoding: 'utf8', timeout: 300000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
  });
}

// Hold DuckDB's write lock for ms milliseconds, as an ingest would; resolves
// with the child once it holds the lock.
function holdLock(ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(LOCK_HOLDER, ['--hold-lock', path.join(home, 'quant.duckdb'), String(ms)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', d => (/ready/.test(d.toString()) ? resolve(child) : reject(new Error('lock holder: ' + d))));
    child.once('exit', code => reject(new Error('lock holder exited ' + code + ' before holding the lock')));
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
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => reject(new Error('no "Dashboard: http://" line within 20 s; output:\n' + seen)), 20000);
    const onData = chunk => {
      seen += chunk.toString();
      const m = /Dashboard:\s*(http:\/\/\S+)/.exec(seen);
      if (m && startupMs === null) startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
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
  // STALE: features computed, then the bars change under them, and no labels.
  quant('ingest', '--provider', 'synthetic', '--symbols', 'STALE', '--days', '400', '--seed', '7');
  quant('features', '--symbols', 'STALE');
  quant('ingest', '--provider', 'synthetic', '--symbols', 'STALE', '--days', '420', '--seed', '8');
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

test('the server starts in well under a second and prints its URL', () => {
  assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(startupMs < 1000, `started in ${startupMs} ms`);
  console.log(`# dashboard start to URL line: ${startupMs.toFixed(1)} ms`);
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
  const href = await page.locator('#monitor tr[data-symbol="SYN-A"] td[data-col="symbol"] a').getAttribute('href');
  assert.equal(href, 'symbol.html?s=SYN-A');
  await page.screenshot({ path: path.join(outDir, 'monitor.png'), fullPage: true });
  await page.close();
});

test('monitor refreshes itself (generated_at moves on)', async () => {
  const page = await openPage('/');
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  const first = await page.locator('#generated').textContent();
  await page.waitForFunction(prev => document.getElementById('generated').textContent !== prev, first, { timeout: 30000 });
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

test('symbol page draws the SYN-A chart', async () => {
  const page = await openPage('/symbol.html?s=SYN-A');
  await page.waitForSelector('body[data-chart="drawn"]', { timeout: 30000 });
  assert.ok(await page.locator('#chart canvas').count() > 0, 'a canvas inside #chart');
  await page.waitForTimeout(300); // let the library paint before the screenshot
  await page.screenshot({ path: path.join(outDir, 'symbol-SYN-A.png'), fullPage: true });
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
  await page.locator('#models th[data-key="auc"]').click();
  const down = (await page.locator('#models td[data-col="auc"]').allTextContents()).map(Number).filter(x => !Number.isNaN(x));
  assert.deepEqual(down, [...aucs].reverse(), 'a second click reverses');
  await page.screenshot({ path: path.join(outDir, 'models.png'), fullPage: true });
  await page.close();
});

test('store busy: the page says so, retries, then shows the data', async () => {
  assert.ok(LOCK_HOLDER, 'set LOCK_HOLDER to a binary that understands --hold-lock');
  // Held long enough that the page's first request surely meets it even on
  // a loaded machine; the banner must show while it is held.
  const holder = await holdLock(8000);
  const exited = new Promise(r => holder.once('exit', r));
  const page = await openPage('/');
  await page.waitForSelector('#busy:not([hidden])', { timeout: 7000 });
  assert.match(await page.locator('#busy').textContent(), /busy/i);
  assert.ok(await page.locator('#error').isHidden(), 'busy is not shown as an error');
  await page.screenshot({ path: path.join(outDir, 'monitor-busy.png') });
  assert.equal(await exited, 0, 'the lock holder ran to its end');
  await page.waitForSelector('#monitor tbody tr[data-symbol]', { timeout: 30000 });
  assert.ok(await page.locator('#busy').isHidden(), 'banner gone once the store is free');
  assert.ok(await page.locator('#error').isHidden());
  await page.close();
});

test('stale stages are flagged and explain themselves', async () => {
  const page = await openPage('/');
  await page.waitForSelector('#monitor tr[data-symbol="STALE"]');
  const cell = col => page.locator(`#monitor tr[data-symbol="STALE"] td[data-col="${col}"]`);
  assert.match(await cell('features-tech-v1').getAttribute('class'), /\bstale\b/, 'features older than the bars');
  assert.match(await cell('labels').getAttribute('class'), /\bstale\b/, 'features but no labels');
  const why = await cell('features-tech-v1').getAttribute('title');
  assert.ok(why && /bars/.test(why), 'the stale cell says why: ' + why);
  // The demo's own symbols are up to date end to end.
  for (const col of ['features-tech-v1', 'labels', 'predictions'])
    assert.match(await page.locator(`#monitor tr[data-symbol="SYN-A"] td[data-col="${col}"]`).getAttribute('class'),
      /\bfresh\b/, 'SYN-A ' + col);
  await page.close();
});

test('an unknown symbol page shows a clear error, not a crash', async () => {
  const page = await openPage('/symbol.html?s=NOPE');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.locator('#error').textContent(), /NOPE/);
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

// Last, since it changes the store: the pipeline must not be held up by a
// dashboard that is being read as hard as a client can.
test('ingest, features, labels and training succeed while the dashboard is read', async () => {
  const page = await openPage('/');
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  const statuses = {};
  let polling = true;
  const poll = (async () => {
    while (polling) {
      for (const p of ['/api/status', '/api/symbols/SYN-A/bars', '/api/models']) {
        const r = await rawGet(p).catch(e => ({ status: 'error: ' + e.message }));
        statuses[r.status] = (statuses[r.status] || 0) + 1;
      }
    }
  })();
  const steps = [
    ['ingest', '--provider', 'synthetic', '--symbols', 'SYN-A', 'SYN-B', '--days', '6600'],
    ['features', '--symbols', 'SYN-A', 'SYN-B'],
    ['labels', '--symbols', 'SYN-A', 'SYN-B'],
    ['train', '--symbols', 'SYN-A', '--rounds', '20'],
  ];
  const results = [];
  for (const args of steps) {
    const r = await quantAsync(...args);
    results.push(r);
    if (r.code !== 0) break;
  }
  polling = false;
  await poll;
  results.forEach((r, i) => assert.equal(r.code, 0, `quant ${steps[i].join(' ')} failed while the dashboard was read:\n${r.stderr}`));
  const other = Object.keys(statuses).filter(k => k !== '200' && k !== '503');
  assert.deepEqual(other, [], 'the API answered only 200 or 503: ' + JSON.stringify(statuses));
  assert.ok((statuses['200'] || 0) > 0, 'some requests were served: ' + JSON.stringify(statuses));
  console.log('# API answers during the pipeline run: ' + JSON.stringify(statuses));
  // The page is still alive and now shows the new model.
  await page.reload();
  await page.waitForSelector('#monitor tbody tr[data-symbol]');
  assert.ok(await page.locator('#error').isHidden());
  await page.close();
});

test('no page raised a script error or a dialog, and the server is still up', () => {
  assertServerAlive();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
