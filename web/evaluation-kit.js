// Shared by the Evaluation page's scripts (evaluation-detail.js draws one
// evaluation, evaluation.js has the list, the comparison and the wiring):
// the page's state, how numbers are shown, and the chart primitives.  They
// reach each other through window.Quant.evalKit, as they reach app.js's
// helpers through window.Quant; the HTML loads app.js, this file,
// evaluation-detail.js, then evaluation.js (all deferred, so in that order).
//
// The rules of app.js hold here too: values from the API reach the DOM
// through textContent or setAttribute only, never innerHTML; nothing inline,
// since the server sends CSP default-src 'self' (SVG bars are drawn with
// presentation attributes, colours live in style.css).  What each metric
// means: shared/spec/EVALUATION.md.
'use strict';

(function () {
  const Q = window.Quant;
  if (!Q) return; // app.js did not load: there is no page to draw on
  const { el, clear, fmtInt, api } = Q;

  // ---------- numbers ----------

  const isNum = v => typeof v === 'number' && isFinite(v);
  const fixed = (v, d) => (isNum(v) ? v.toFixed(d) : '—');
  const pct = (v, d) => (isNum(v) ? (v * 100).toFixed(d === undefined ? 2 : d) + '%' : '—');

  // How each kind of metric is shown: correlations with 4 decimals, IC / std
  // with 3 (they are small), t-stats and Sharpe-like ratios with 2, returns
  // and shares as percentages, costs in basis points.
  const FORMATS = {
    ic: v => fixed(v, 4),
    ir: v => fixed(v, 3),
    ratio: v => fixed(v, 2),
    pct: v => pct(v, 2),
    bp: v => (isNum(v) ? v.toFixed(1) + ' bp' : '—'),
    int: v => fmtInt(v),
  };
  const fmt = (kind, v) => FORMATS[kind](v);

  const metric = (ev, k) => (ev && ev.metrics && isNum(ev.metrics[k]) ? ev.metrics[k] : null);
  const isPerSymbol = ev => !!(ev && ev.metrics && ev.metrics.per_symbol && typeof ev.metrics.per_symbol === 'object');
  const params = ev => (ev && ev.params && typeof ev.params === 'object' ? ev.params : {});

  function benchmarkName(ev) {
    const p = params(ev);
    return typeof p.benchmark === 'string' && p.benchmark ? p.benchmark : 'equal-weighted';
  }

  function quantileCount(ev) {
    const q = params(ev).quantiles;
    if (Number.isInteger(q) && q > 0 && q <= 100) return q;
    let n = 0;
    while (ev.metrics && ('q_mean_' + (n + 1)) in ev.metrics) n++;
    return n;
  }

  // Metrics of a series of step returns, as EVALUATION.md defines them.
  // Used for buy-and-hold in a per-symbol evaluation only: the API stores
  // benchmark_* for the cross-section but not per symbol.
  function buyHoldStats(xs) {
    const n = xs.length;
    if (n < 2) return {};
    let eq = 1, peak = 1, mdd = 0, sum = 0;
    for (const x of xs) {
      eq *= 1 + x;
      peak = Math.max(peak, eq);
      mdd = Math.min(mdd, eq / peak - 1);
      sum += x;
    }
    const mean = sum / n;
    let ss = 0;
    for (const x of xs) ss += (x - mean) * (x - mean);
    const sd = Math.sqrt(ss / (n - 1));
    return {
      total_return: eq - 1,
      annual_return: eq > 0 ? Math.pow(eq, 252 / n) - 1 : null,
      annual_vol: sd * Math.sqrt(252),
      sharpe: sd > 0 ? mean / sd * Math.sqrt(252) : null,
      max_drawdown: mdd,
    };
  }

  // ---------- page state ----------

  const state = {
    list: [],                 // /api/evaluations, newest first
    sort: { key: 'created_at', dir: -1 },
    picked: new Set(),        // ids ticked for comparison, in ticking order
    open: null,               // id shown in #detail
    details: new Map(),       // id -> promise of /api/evaluations/{id}
    charts: [],               // live chart objects of the view on screen
    equityChart: null,        // the one of them in #equity-chart
    compareChart: null,       // {chart, first series, all points} of #compare-chart
    seq: 0,                   // bumped by each view change; late answers are dropped
    current: null,            // what the equity chart shows: {cols, labels, symbol}
  };

  function loadDetail(id) {
    if (!state.details.has(id)) {
      const p = api('/api/evaluations/' + encodeURIComponent(id));
      p.catch(() => state.details.delete(id)); // a failure is not cached
      state.details.set(id, p);
    }
    return state.details.get(id);
  }

  function dropCharts() {
    for (const c of state.charts) c.remove();
    state.charts = [];
    state.equityChart = null;
    state.compareChart = null;
  }

  // ---------- bits several views share ----------

  function evalHref(id) { return 'evaluation.html?id=' + encodeURIComponent(id); }

  function kv(label, value, title) {
    return el('div', { class: 'kv', title: title || null }, [el('span', { class: 'k' }, label), el('span', { class: 'v' }, value)]);
  }

  function bpText(x) { return isNum(x) ? (x * 10000).toFixed(1) + ' bp' : '—'; }

  // ---------- charts ----------

  const COLORS = { net: '#2563eb', gross: '#7c3aed', bench: '#64748b', dd: '#dc2626', ic: '#0f766e', rank: '#ea580c' };
  const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

  function lib() {
    const LC = window.LightweightCharts;
    if (!LC) throw new Error('chart library did not load (/vendor/lightweight-charts.standalone.production.js)');
    return LC;
  }

  function newChart(box) {
    clear(box);
    const chart = lib().createChart(box, Q.chartOptions({
      timeScale: { borderColor: '#e2e8f0', minBarSpacing: 0.01 },
    }));
    state.charts.push(chart);
    return chart;
  }

  // Times come back from the crosshair as business-day objects or strings.
  function timeKey(t) {
    if (t && typeof t === 'object') {
      return t.year + '-' + String(t.month).padStart(2, '0') + '-' + String(t.day).padStart(2, '0');
    }
    return typeof t === 'string' ? t : null;
  }

  // The points of an equity column, starting from 1 on the date before the
  // first step (E_0: the book is in cash until the first close it trades at).
  function equityPoints(cols, key) {
    const d = cols && cols.date, v = cols && cols[key];
    if (!Array.isArray(d) || !Array.isArray(v)) return [];
    const pts = [];
    for (let i = 0; i < d.length && i < v.length; i++) {
      if (!isNum(v[i])) continue;
      if (!pts.length && i > 0) pts.push({ time: d[i - 1], value: 1 });
      pts.push({ time: d[i], value: v[i] });
    }
    return pts;
  }

  // E_k / max(E_0 = 1, E_1..E_k) - 1, as the spec's max_drawdown.
  function drawdownPoints(pts) {
    let peak = 1;
    return pts.map(p => { peak = Math.max(peak, p.value); return { time: p.time, value: p.value / peak - 1 }; });
  }

  function lineOptions(color, width, title, extra) {
    return Object.assign({ color, lineWidth: width, title, priceLineVisible: false, lastValueVisible: true,
      crosshairMarkerRadius: 3, priceFormat: { type: 'price', precision: 3, minMove: 0.001 } }, extra || {});
  }

  const swatch = cls => el('span', { class: 'swatch line ' + cls, 'aria-hidden': 'true' });

  function logMode(on, pts) {
    const LC = lib();
    // A log scale needs every value above 0 (a book can lose it all).
    return on && pts.every(p => p.value > 0) ? LC.PriceScaleMode.Logarithmic : LC.PriceScaleMode.Normal;
  }

  Q.evalKit = {
    isNum, pct, fmt, metric, isPerSymbol, params, benchmarkName, quantileCount, buyHoldStats,
    state, loadDetail, dropCharts, evalHref, kv, bpText,
    COLORS, PALETTE, lib, newChart, timeKey, equityPoints, drawdownPoints, lineOptions, swatch, logMode,
  };
})();
