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
// it holds DuckDB's write lock the way an ingest does.  The Evaluation page
// gets a second dashboard over a home of its own (empty first, then a small
// walk-forward run and model judged by `quant evaluate`).  Screenshots land
// in tests/browser/out/.
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

let home, profile, baseUrl, context;
let main = null;         // the dashboard over home (startDashboard's record)
let evalHome = null, evalDash = null;  // the Evaluation page's own home and server
const dialogs = [];
const pageErrors = [];
const consoleErrors = new WeakMap();   // page -> its console errors

function quant(...args) { return quantIn(home, ...args); }

function quantIn(dir, ...args) {
  return execFileSync(QUANT_BIN, args, {
    env: { ...process.env, QUANT_HOME: dir },
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

// Start `quant dashboard` over dir and resolve, once it prints its
// "Dashboard: http://..." line, with its record:
//   {proc, url, log: everything it printed, died: null or "exit code N" /
//    "signal X" if it stopped on its own, startupMs: spawn to the URL line}.
function startDashboard(dir, port) {
  return new Promise((resolve, reject) => {
    const d = { proc: null, url: null, log: '', died: null, startupMs: null };
    d.proc = spawn(QUANT_BIN, ['dashboard', '--host', '127.0.0.1', '--port', String(port)], {
      env: { ...process.env, QUANT_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => reject(new Error('no "Dashboard: http://" line within 20 s; output:\n' + seen)), 20000);
    const onData = chunk => {
      seen += chunk.toString();
      const m = /Dashboard:\s*(http:\/\/\S+)/.exec(seen);
      if (m && d.startupMs === null) d.startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (m) { clearTimeout(timer); d.url = m[1].replace(/\/+$/, ''); resolve(d); }
    };
    d.proc.stdout.on('data', onData);
    d.proc.stderr.on('data', onData);
    d.proc.once('exit', (code, signal) => {
      d.died = signal ? 'signal ' + signal : 'exit code ' + code;
      clearTimeout(timer);
      reject(new Error('dashboard exited (' + d.died + '):\n' + seen));
    });
    const keep = chunk => { d.log += chunk.toString(); };
    d.proc.stdout.on('data', keep);
    d.proc.stderr.on('data', keep);
  });
}

async function stopDashboard(d) {
  if (!d || d.died !== null || d.proc.exitCode !== null) return;
  d.proc.kill('SIGTERM');
  await new Promise(r => { const t = setTimeout(() => { d.proc.kill('SIGKILL'); r(); }, 3000); d.proc.once('exit', () => { clearTimeout(t); r(); }); });
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
function assertServerAlive(d = main) {
  assert.equal(d.died, null, 'the dashboard server died (' + d.died + '); its output:\n' + d.log);
}

// A new tab on d's url.  Console errors are kept per page (see
// consoleErrors), the browser's own /favicon.ico request included (the server
// has an icon); CSP violations are recorded in window.__csp by a script the
// browser injects before the page's own (CSP does not apply to it).
async function openPage(url, d = main) {
  assertServerAlive(d);
  const page = await context.newPage();
  const errors = [];
  consoleErrors.set(page, errors);
  page.on('dialog', dl => { dialogs.push(dl.message()); dl.dismiss().catch(() => {}); });
  page.on('pageerror', e => pageErrors.push(url + ': ' + e.message));
  page.on('console', m => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  await page.goto(d.url + url);
  return page;
}

// No console error and no CSP violation so far on page.
async function assertCleanConsole(page, what) {
  assert.deepEqual(consoleErrors.get(page), [], what + ': console errors');
  assert.deepEqual(await page.evaluate(() => window.__csp), [], what + ': CSP violations');
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
  main = await startDashboard(home, await freePort());
  baseUrl = main.url;
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
  await stopDashboard(main);
  await stopDashboard(evalDash);
  for (const d of [home, profile, evalHome]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('the server starts in well under a second and prints its URL', () => {
  assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(main.startupMs < 1000, `started in ${main.startupMs} ms`);
  console.log(`# dashboard start to URL line: ${main.startupMs.toFixed(1)} ms`);
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

// ---------- the Evaluation page, over a home of its own ----------
//
// A second dashboard over evalHome: first with no store, then an empty one
// (the empty state), then the fixture built through the real binary: six
// synthetic symbols, one walk-forward run judged twice (default top 50 and
// --topk 2, for the comparison) and a pooled model on two symbols judged on
// its test segment (fewer than 5 symbols: the per-symbol view).

const EV_SYMBOLS = ['E1', 'E2', 'E3', 'E4', 'E5', 'E6'];
let evIds = null;   // {top, top2, single}: the three evaluations' ids

// The page's formats (web/evaluation.js): correlations with 4 decimals,
// t-stats and Sharpe ratios with 2, returns as percentages with 2.
const fx = (v, d) => (typeof v === 'number' ? v.toFixed(d) : '—');
const pc = v => (typeof v === 'number' ? (v * 100).toFixed(2) + '%' : '—');

async function apiJson(d, p) {
  const r = await fetch(d.url + p);
  assert.equal(r.status, 200, p + ' answered ' + r.status);
  return r.json();
}

// Wait until the wide canvases (plot panes, not the narrow price axes)
// under selector hold at least min pixels of colour rgb: the series was drawn.
async function waitForInk(page, selector, rgb, min = 50) {
  await page.waitForFunction(([sel, [r, g, b], want]) => {
    let n = 0;
    for (const c of document.querySelectorAll(sel + ' canvas')) {
      if (!c.width || !c.height || c.getBoundingClientRect().width < 300) continue;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] > 200 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40) n++;
      }
    }
    return n >= want;
  }, [selector, rgb, min], { timeout: 30000, polling: 250 });
}

const NET_BLUE = [37, 99, 235], IC_TEAL = [15, 118, 110], CMP_RED = [220, 38, 38];

function assertFixture() {
  assert.ok(evIds, 'the evaluation fixture was built (see the test that builds it)');
}

test('evaluation page: the empty state on a fresh home, without a store and with an empty one', async () => {
  evalHome = fs.mkdtempSync(path.join(os.tmpdir(), 'quant-eval-'));
  evalDash = await startDashboard(evalHome, await freePort());
  for (const stage of ['no store', 'empty store']) {
    if (stage === 'empty store') quantIn(evalHome, 'init-db');
    const page = await openPage('/evaluation.html', evalDash);
    await page.waitForSelector('body[data-loaded="yes"]', { timeout: 30000 });
    assert.match(await page.locator('#evals td.empty').textContent(),
      /No evaluations yet\. Run `quant walkforward --all`, then `quant evaluate --run latest`\./, stage);
    assert.equal(await page.locator('#count').textContent(), '0 stored', stage);
    assert.ok(await page.locator('#detail').isHidden(), stage + ': no evaluation shown');
    assert.ok(await page.locator('#error').isHidden(), stage + ': no error banner');
    assert.equal(await page.locator('header nav a.active').getAttribute('data-page'), 'evaluation');
    // Without a store too the list is an empty 200 (it was a 404, which
    // chromium logged), and the icon the page links is served.
    assert.deepEqual(await apiJson(evalDash, '/api/evaluations'), { evaluations: [] }, stage);
    const icon = await page.evaluate(async () => {
      const r = await fetch(document.querySelector('link[rel="icon"]').href);
      return { status: r.status, type: r.headers.get('content-type') };
    });
    assert.deepEqual(icon, { status: 200, type: 'image/svg+xml; charset=utf-8' }, stage + ': the icon');
    await assertCleanConsole(page, stage);
    if (stage === 'empty store') await page.screenshot({ path: path.join(outDir, 'evaluation-empty.png') });
    await page.close();
  }
});

test('evaluation page: the fixture, through the real binary', () => {
  assert.ok(evalHome, 'the empty-state test made the home');
  quantIn(evalHome, 'ingest', '--provider', 'synthetic', '--symbols', ...EV_SYMBOLS, '--days', '1600', '--seed', '3');
  quantIn(evalHome, 'walkforward', '--symbols', ...EV_SYMBOLS, '--rounds', '20', '--threads', '1');
  const top = JSON.parse(quantIn(evalHome, 'evaluate', '--run', 'latest', '--json'));
  const top2 = JSON.parse(quantIn(evalHome, 'evaluate', '--run', 'latest', '--topk', '2', '--json'));
  quantIn(evalHome, 'train', '--symbols', 'E1', 'E2', '--pooled', '--rounds', '20', '--score', '--threads', '1');
  const single = JSON.parse(quantIn(evalHome, 'evaluate', '--model', 'latest', '--json'));
  evIds = { top: top.evaluation, top2: top2.evaluation, single: single.evaluation };
  assert.equal(new Set(Object.values(evIds)).size, 3, 'three distinct ids: ' + JSON.stringify(evIds));
  assert.ok(single.per_symbol && Object.keys(single.per_symbol).length === 2, 'two symbols: judged per symbol');
});

test('evaluation page lists the evaluations, opens one and draws it', async () => {
  assertFixture();
  const list = await apiJson(evalDash, '/api/evaluations');
  const apiIds = list.evaluations.map(e => e.id);
  assert.deepEqual([...apiIds].sort(), Object.values(evIds).sort());

  const page = await openPage('/evaluation.html', evalDash);
  await page.waitForSelector('body[data-loaded="yes"]', { timeout: 30000 });
  const rowIds = await page.locator('#evals tbody tr[data-eval]').evaluateAll(rows => rows.map(r => r.getAttribute('data-eval')));
  assert.deepEqual(rowIds, apiIds, 'every evaluation, newest first as the API lists them');
  for (const id of apiIds) {
    assert.equal(await page.locator(`#evals tr[data-eval="${id}"] td[data-col="id"]`).textContent(), id);
  }
  assert.equal(await page.locator('#count').textContent(), '3 stored');
  // With no ?id the newest is shown.
  await page.waitForSelector(`body[data-shown="${apiIds[0]}"]`, { timeout: 30000 });

  // Clicking a row shows that evaluation and puts it in the URL.
  await page.locator(`#evals tr[data-eval="${evIds.top}"] td[data-col="features"]`).click();
  await page.waitForSelector(`body[data-shown="${evIds.top}"]`, { timeout: 30000 });
  assert.equal(new URL(page.url()).searchParams.get('id'), evIds.top);
  assert.equal(await page.locator('#detail-title').textContent(), evIds.top);
  assert.match(await page.locator(`#evals tr[data-eval="${evIds.top}"]`).getAttribute('class'), /\bcurrent\b/);

  const detail = await apiJson(evalDash, '/api/evaluations/' + evIds.top);
  const m = detail.evaluation.metrics;
  const cell = (table, k) => page.locator(`#${table} [data-metric="${k}"]`).textContent();
  assert.equal(await cell('signal-table', 'ic'), fx(m.ic, 4), 'IC as the API has it');
  assert.equal(await cell('signal-table', 'rank_ic'), fx(m.rank_ic, 4));
  assert.equal(await cell('signal-table', 'ic_tstat_nw'), fx(m.ic_tstat_nw, 2));
  assert.equal(await cell('signal-table', 'rank_ic_dates'), m.rank_ic_dates.toLocaleString('en-US'));
  assert.equal(await cell('backtest-table', 'sharpe'), fx(m.sharpe, 2));
  assert.equal(await cell('backtest-table', 'sharpe_gross'), fx(m.sharpe_gross, 2));
  assert.equal(await cell('backtest-table', 'benchmark_sharpe'), fx(m.benchmark_sharpe, 2));
  assert.equal(await cell('backtest-table', 'annual_return'), pc(m.annual_return));
  assert.equal(await cell('backtest-table', 'benchmark_annual_return'), pc(m.benchmark_annual_return));
  assert.equal(await cell('backtest-table', 'max_drawdown'), pc(m.max_drawdown));
  assert.equal(await page.locator(`#evals tr[data-eval="${evIds.top}"] td[data-col="ic"]`).textContent(), fx(m.ic, 4));
  assert.match(await page.locator('#conventions').textContent(), /252 periods a year.*risk-free rate 0/);

  // Quantile bars: one per quantile, Q1..QN.
  const nq = detail.evaluation.params.quantiles;
  assert.ok(Number.isInteger(nq) && nq > 1, 'params.quantiles ' + nq);
  assert.equal(Object.keys(m).filter(k => /^q_mean_\d+$/.test(k)).length, nq);
  assert.equal(await page.locator('#quantiles rect.qbar').count(), nq);
  assert.deepEqual(await page.locator('#quantiles rect.qbar').evaluateAll(r => r.map(x => x.getAttribute('data-q'))),
    Array.from({ length: nq }, (_, i) => String(i + 1)));
  assert.equal(await cell('quantiles', 'q_spread'), pc(m.q_spread));

  // The charts are drawn: canvases with the net line and the rolling IC in them.
  assert.ok(await page.locator('#equity-chart canvas').count() > 0, 'a canvas inside #equity-chart');
  await waitForInk(page, '#equity-chart', NET_BLUE);
  await waitForInk(page, '#ic-chart', IC_TEAL);
  const lastEquity = detail.daily.equity.filter(v => typeof v === 'number').at(-1);
  assert.match(await page.locator('#equity-legend').textContent(), new RegExp('net ' + lastEquity.toFixed(3).replace('.', '\\.')));
  assert.ok(await page.locator('#log-scale').isChecked(), 'log scale by default');
  await page.screenshot({ path: path.join(outDir, 'evaluation.png'), fullPage: true });

  // Another row: the other book on the same run.
  await page.locator(`#evals tr[data-eval="${evIds.top2}"] td[data-col="target"]`).click();
  await page.waitForSelector(`body[data-shown="${evIds.top2}"]`, { timeout: 30000 });
  const m2 = (await apiJson(evalDash, '/api/evaluations/' + evIds.top2)).evaluation.metrics;
  assert.equal(await cell('backtest-table', 'sharpe'), fx(m2.sharpe, 2));
  assert.match(await page.locator('#detail-info').textContent(), /top 2, at most 5 changed a day/);
  // Back goes to the first one again.
  await page.goBack();
  await page.waitForSelector(`body[data-shown="${evIds.top}"]`, { timeout: 30000 });
  await assertCleanConsole(page, 'evaluation page');
  await page.close();
});

test('evaluation page: evaluation.html?id=ID opens one directly; the list sorts', async () => {
  assertFixture();
  const page = await openPage('/evaluation.html?id=' + evIds.top2, evalDash);
  await page.waitForSelector(`body[data-shown="${evIds.top2}"]`, { timeout: 30000 });
  assert.match(await page.locator(`#evals tr[data-eval="${evIds.top2}"]`).getAttribute('class'), /\bcurrent\b/);

  const sharpes = async () => (await page.locator('#evals td[data-col="sharpe"]').allTextContents());
  await page.locator('#evals th[data-key="sharpe"]').click();
  const up = await sharpes();
  const nums = up.filter(t => t !== '—').map(Number);
  assert.equal(nums.length, 2, 'two cross-section books have a Sharpe: ' + up);
  assert.deepEqual(nums, [...nums].sort((a, b) => a - b), 'ascending');
  assert.equal(up.at(-1), '—', 'the per-symbol one (no book Sharpe) sorts last');
  await page.keyboard.press('Enter'); // the header keeps focus: Enter sorts again, reversed
  const down = await sharpes();
  assert.deepEqual(down.filter(t => t !== '—').map(Number), [...nums].reverse(), 'a second sort reverses');
  assert.equal(down.at(-1), '—', 'missing values last either way');
  assert.equal(await page.locator('#evals th[data-key="sharpe"]').getAttribute('aria-sort'), 'descending');
  await assertCleanConsole(page, 'sorted list');
  await page.close();
});

test('evaluation page compares two evaluations side by side', async () => {
  assertFixture();
  const page = await openPage('/evaluation.html', evalDash);
  await page.waitForSelector('body[data-loaded="yes"]', { timeout: 30000 });
  assert.ok(await page.locator('#compare-btn').isDisabled(), 'nothing to compare yet');
  await page.locator(`#evals tr[data-eval="${evIds.top}"] input.pick`).check();
  assert.ok(await page.locator('#compare-btn').isDisabled(), 'one is not a comparison');
  await page.locator(`#evals tr[data-eval="${evIds.top2}"] input.pick`).check();
  assert.equal(await page.locator('#compare-btn').textContent(), 'Compare 2 selected');
  await page.locator('#compare-btn').click();
  await page.waitForSelector('body[data-shown="compare"]', { timeout: 30000 });
  assert.ok(await page.locator('#detail').isHidden(), 'the single view gives way');
  assert.deepEqual(new URL(page.url()).searchParams.get('compare').split(','), [evIds.top, evIds.top2]);

  const check = async () => {
    const heads = await page.locator('#compare-table thead th[data-eval]').evaluateAll(t => t.map(x => x.getAttribute('data-eval')));
    assert.deepEqual(heads, [evIds.top, evIds.top2], 'one column per evaluation');
    for (const id of [evIds.top, evIds.top2]) {
      const m = (await apiJson(evalDash, '/api/evaluations/' + id)).evaluation.metrics;
      const c = k => page.locator(`#compare-table td[data-metric="${k}"][data-eval="${id}"]`).textContent();
      assert.equal(await c('ic'), fx(m.ic, 4), id + ' IC');
      assert.equal(await c('sharpe'), fx(m.sharpe, 2), id + ' Sharpe');
      assert.equal(await c('turnover'), pc(m.turnover), id + ' turnover');
    }
    // Both net equity curves are drawn, in the first two palette colours.
    await waitForInk(page, '#compare-chart', NET_BLUE);
    await waitForInk(page, '#compare-chart', CMP_RED);
  };
  await check();
  await page.screenshot({ path: path.join(outDir, 'evaluation-compare.png'), fullPage: true });
  // The URL is a direct link to the same comparison.
  await page.reload();
  await page.waitForSelector('body[data-shown="compare"]', { timeout: 30000 });
  await check();
  assert.ok(await page.locator(`#evals tr[data-eval="${evIds.top2}"] input.pick`).isChecked(), 'the ticks come back from the URL');
  await assertCleanConsole(page, 'comparison');
  await page.close();
});

test('evaluation page: a per-symbol evaluation shows each symbol and one against buy and hold', async () => {
  assertFixture();
  const detail = await apiJson(evalDash, '/api/evaluations/' + evIds.single);
  const per = detail.evaluation.metrics.per_symbol;
  const syms = Object.keys(per);
  const page = await openPage('/evaluation.html?id=' + evIds.single, evalDash);
  await page.waitForSelector(`body[data-shown="${evIds.single}"]`, { timeout: 30000 });
  assert.ok(await page.locator('#signal-wrap').isHidden(), 'no cross-section: no IC chart or quantiles');
  assert.deepEqual(await page.locator('#single-table tbody tr[data-symbol]').evaluateAll(r => r.map(x => x.getAttribute('data-symbol'))), syms);
  for (const s of syms) {
    assert.equal(await page.locator(`#single-table tr[data-symbol="${s}"] [data-metric="ts_ic"]`).textContent(), fx(per[s].ts_ic, 4));
  }
  const last = syms.at(-1);
  await page.locator('#symbol-select').selectOption(last);
  await page.waitForFunction(s => document.getElementById('equity-title').textContent.startsWith(s + ':'), last);
  assert.equal(await page.locator('#backtest-table [data-metric="annual_return"]').textContent(), pc(per[last].annual_return));
  // Buy and hold's total return, compounded by the page from the daily
  // returns, equals the stored buy-and-hold equity at the end.
  const eqb = detail.per_symbol[last].equity_benchmark.filter(v => typeof v === 'number').at(-1);
  assert.equal(await page.locator('#backtest-table [data-metric="benchmark_total_return"]').textContent(), pc(eqb - 1));
  assert.equal(new URL(page.url()).searchParams.get('symbol'), last);
  await waitForInk(page, '#equity-chart', NET_BLUE);
  await page.screenshot({ path: path.join(outDir, 'evaluation-single.png'), fullPage: true });
  await assertCleanConsole(page, 'per-symbol view');
  await page.close();
});

test('evaluation page: an id from the URL is shown as text, never as HTML', async () => {
  assertFixture();
  const before = dialogs.length;
  for (const q of ['id=' + encodeURIComponent(XSS_NAME),
    'compare=' + encodeURIComponent(XSS_NAME + ',<svg onload=alert(2)>')]) {
    const page = await openPage('/evaluation.html?' + q, evalDash);
    await page.waitForSelector('#error:not([hidden])', { timeout: 30000 });
    assert.ok((await page.locator('#error').textContent()).includes(XSS_NAME), 'the id is quoted as text');
    assert.equal(await page.locator('img').count(), 0, 'no <img> was created from the id');
    assert.equal(await page.locator('svg[onload]').count(), 0, 'no <svg> was created from the id');
    assert.ok(await page.locator('#detail').isHidden() && await page.locator('#compare').isHidden());
    // The list is still there to pick from.
    assert.equal(await page.locator('#evals tbody tr[data-eval]').count(), 3);
    await page.waitForTimeout(300);
    await page.close();
  }
  assert.equal(dialogs.length, before, 'no dialog fired');
  assertServerAlive(evalDash);
});

test('no page raised a script error or a dialog, and the servers are still up', () => {
  assertServerAlive();
  if (evalDash) assertServerAlive(evalDash);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
