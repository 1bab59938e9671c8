// A stand-in for `quant dashboard` that serves web/ and a synthetic JSON API
// following the dashboard contract. For working on the pages without the C
// server:  node tests/browser/mock-server.mjs [port]   (then open the URL).
// Env MOCK_BUSY=N answers the first N API requests with 503 "store busy".
// Env LWC_JS=path points at lightweight-charts.standalone.production.js.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../web');
const lwc = process.env.LWC_JS || '/tmp/package/dist/lightweight-charts.standalone.production.js';
let busyLeft = Number(process.env.MOCK_BUSY || 0);

// Deterministic pseudo-random numbers so screenshots are stable.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function businessDays(start, n) {
  const out = [];
  const d = new Date(start + 'T00:00:00Z');
  while (out.length < n) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

function makeBars(seed, n) {
  const r = rng(seed);
  let px = 20 + r() * 80;
  return businessDays('2001-12-26', n).map(date => {
    const open = px;
    px = Math.max(1, px * (1 + (r() - 0.49) * 0.04));
    const close = px;
    return { date, open: +open.toFixed(4), high: +(Math.max(open, close) * (1 + r() * 0.01)).toFixed(4),
      low: +(Math.min(open, close) * (1 - r() * 0.01)).toFixed(4), close: +close.toFixed(4),
      adj_close: +close.toFixed(4), volume: Math.round(1e6 + r() * 2e6) };
  });
}

const SYMBOLS = [
  { symbol: 'AAPL', name: 'Apple Inc.', n: 6500, model: true },
  { symbol: 'NVDA', name: 'NVIDIA Corporation', n: 6500, model: true, stalePred: true },
  { symbol: 'QQQ', name: 'Invesco QQQ Trust', n: 6500, model: false },
  { symbol: 'XSS', name: '<img src=x onerror=alert(1)>', n: 0, model: false },
];
const data = {};
SYMBOLS.forEach((s, i) => {
  const bars = makeBars(i + 7, s.n);
  const r = rng(i + 99);
  const dates = bars.map(b => b.date);
  let model = null, preds = [];
  if (s.model && bars.length) {
    const a = Math.floor(dates.length * 0.7), b = Math.floor(dates.length * 0.85);
    model = { id: 'lgb_' + s.symbol + '_20261124_050456', algorithm: 'lightgbm', feature_set: 'tech-v1', horizon: 5,
      segments: { train: [dates[50], dates[a - 1]], valid: [dates[a], dates[b - 1]], test: [dates[b], dates[dates.length - 6]],
        n_train: a - 50, n_valid: b - a, n_test: dates.length - 6 - b } };
    const end = s.stalePred ? dates.length - 30 : dates.length;
    preds = dates.slice(50, end).map(date => ({ date, score: +(0.35 + r() * 0.3).toFixed(4) }));
  }
  data[s.symbol] = { ...s, bars, model, preds };
});

function status() {
  const symbols = SYMBOLS.map(s => {
    const d = data[s.symbol];
    const last = d.bars.length ? d.bars[d.bars.length - 1].date : null;
    return {
      symbol: s.symbol, name: s.name, bars: d.bars.length, first: d.bars.length ? d.bars[0].date : null, last,
      last_ingest: d.bars.length ? { time: '2026-11-24T04:30:52Z', status: 'ok', rows: d.bars.length, error: '' }
        : { time: '2026-11-24T04:31:00Z', status: 'error', rows: 0, error: 'HTTP 503 from provider' },
      features: d.bars.length ? { 'tech-v1': { values: d.bars.length * 17, last, stale: false },
        alpha158: s.symbol === 'QQQ' ? { values: 1000, last: '2026-10-01', stale: true } : null } : { 'tech-v1': null, alpha158: null },
      labels: d.bars.length && s.symbol !== 'QQQ' ? { rows: d.bars.length - 5, horizon: 5, stale: false } : null,
      predictions: d.preds.length ? { rows: d.preds.length, last: d.preds[d.preds.length - 1].date } : null,
      model: d.model ? { id: d.model.id, auc: s.symbol === 'AAPL' ? 0.5087 : 0.4348, baseline: 0.5182 } : null,
    };
  });
  const sum = f => symbols.reduce((a, s) => a + f(s), 0);
  return { generated_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    totals: { symbols: symbols.length, bars: sum(s => s.bars), feature_values: sum(s => s.bars * 17),
      label_rows: sum(s => (s.labels ? s.labels.rows : 0)), predictions: sum(s => (s.predictions ? s.predictions.rows : 0)),
      models: 2 }, symbols };
}

function models() {
  return { models: SYMBOLS.filter(s => data[s.symbol].model).map((s, i) => ({
    id: data[s.symbol].model.id, algorithm: 'lightgbm', feature_set: 'tech-v1', horizon: 5, symbols: [s.symbol],
    metrics: { accuracy: 0.512 - i * 0.05, precision: 0.53, recall: 0.61, f1: 0.57, auc: i ? 0.4348 : 0.5087,
      logloss: 0.6931 + i / 100, base_rate: 0.52, baseline_accuracy: 0.5182 - i * 0.01, n_train: 4500, n_valid: 975, n_test: 970 },
    params: { num_leaves: 31 + i * 32, learning_rate: 0.05, num_boost_round: 200, objective: 'binary' },
    created_at: '2026-11-24T05:04:5' + (7 - i) + 'Z', path: '/tmp/models/' + data[s.symbol].model.id + '.txt' })) };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (code, obj) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(obj));
  };
  const csp = { 'Content-Security-Policy': "default-src 'self'" };
  if (url.pathname.startsWith('/api/')) {
    if (busyLeft > 0) { busyLeft--; return json(503, { error: 'store busy', retry_after_ms: 1000 }); }
    if (url.pathname === '/api/status') return json(200, status());
    if (url.pathname === '/api/models') return json(200, models());
    const m = /^\/api\/symbols\/([^/]+)\/(bars|predictions)$/.exec(url.pathname);
    if (m) {
      const d = data[decodeURIComponent(m[1])];
      if (!d) return json(404, { error: 'unknown symbol' });
      if (m[2] === 'bars') return json(200, { symbol: d.symbol, bars: d.bars });
      return json(200, { symbol: d.symbol, model: d.model, predictions: d.preds });
    }
    return json(404, { error: 'not found' });
  }
  let file = null;
  if (url.pathname === '/vendor/lightweight-charts.standalone.production.js') file = lwc;
  else if (url.pathname === '/') file = path.join(webDir, 'index.html');
  else if (/^\/[a-z]+\.(html|js|css)$/.test(url.pathname)) file = path.join(webDir, url.pathname);
  if (!file || !fs.existsSync(file)) { res.writeHead(404, csp); return res.end('not found'); }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'text/javascript', ...csp });
  res.end(fs.readFileSync(file));
});

// Run directly: listen and print the URL like `quant dashboard` does.
// Imported (by pages.test.mjs): the caller calls listen() itself.
export { server, setBusy };
function setBusy(n) { busyLeft = n; }
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
    console.log('Dashboard: http://127.0.0.1:' + server.address().port + '/');
  });
}
