// Shared code for the quant dashboard pages (index, symbol, models), and the
// helpers other page scripts (evaluation-*.js, evaluation.js) use through window.Quant.
//
// Rules this file keeps:
//  - every value that comes from the API reaches the DOM through textContent
//    or setAttribute, never innerHTML, so a hostile company name stays text;
//  - no inline handlers or inline <script>: the server sends CSP
//    default-src 'self', so everything is wired up from here.
'use strict';

(function () {
  // ---------- small DOM helpers ----------

  // el('td', {class: 'num', 'data-col': 'bars'}, 'text' | Node | [children])
  function el(tag, attrs, content) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
      }
    }
    append(node, content);
    return node;
  }

  function append(node, content) {
    if (content === undefined || content === null) return;
    if (Array.isArray(content)) { content.forEach(c => append(node, c)); return; }
    if (content instanceof Node) { node.appendChild(content); return; }
    node.appendChild(document.createTextNode(String(content)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // ---------- formatting ----------

  const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

  function fmtInt(n) {
    return (typeof n === 'number' && isFinite(n)) ? intFmt.format(n) : '—';
  }

  function fmtNum(n, digits) {
    if (typeof n !== 'number' || !isFinite(n)) return '—';
    return n.toFixed(digits === undefined ? 3 : digits);
  }

  // "2026-11-24T04:30:52Z" -> "2026-11-24 04:30:52 UTC"; anything else as is.
  function fmtTime(iso) {
    if (typeof iso !== 'string' || !iso) return '—';
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
    return m ? m[1] + ' ' + m[2] + ' UTC' : iso;
  }

  // Compact form for table cells: "2026-11-24 04:30" (UTC).
  function fmtShortTime(iso) {
    const full = fmtTime(iso);
    const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})/.exec(full);
    return m ? m[1] : full;
  }

  // ---------- fetching, with the "store busy" protocol ----------

  // The server answers 503 {"error":"store busy","retry_after_ms":N} while an
  // ingest or training holds the store. That is not an error for the user:
  // show the banner and try again after the delay the server asked for.
  function showBusy(on) {
    let banner = document.getElementById('busy');
    if (!banner) {
      banner = el('div', { id: 'busy', class: 'banner busy', role: 'status' },
        'Store busy (an ingest or training is running), retrying…');
      banner.hidden = true;
      document.body.insertBefore(banner, document.body.firstChild);
    }
    banner.hidden = !on;
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path) {
    for (;;) {
      let resp;
      try {
        resp = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
      } catch (e) {
        throw new ApiError(0, 'cannot reach the quant server (' + e.message + ')');
      }
      let body = null;
      try { body = await resp.json(); } catch (e) { body = null; }
      if (resp.status === 503) {
        showBusy(true);
        const wait = body && typeof body.retry_after_ms === 'number' ? body.retry_after_ms : 1000;
        await new Promise(r => setTimeout(r, Math.min(Math.max(wait, 100), 30000)));
        continue;
      }
      showBusy(false);
      if (!resp.ok) {
        const msg = body && typeof body.error === 'string' ? body.error : 'HTTP ' + resp.status;
        throw new ApiError(resp.status, msg);
      }
      if (body === null) throw new ApiError(resp.status, 'the server sent invalid JSON');
      return body;
    }
  }

  // A visible, text-only error line in the page's #error box.
  function showError(msg) {
    const box = document.getElementById('error');
    if (!box) return;
    box.textContent = msg || '';
    box.hidden = !msg;
  }

  // ---------- page: Data Monitor ----------

  // A stage is "behind" when it is missing or older than the stage it is
  // computed from. Returns {state: 'fresh'|'stale'|'none', why}.
  function freshness(entry, inputLast, stageName, inputName) {
    if (!entry) return { state: 'none', why: 'no ' + stageName };
    if (entry.stale === true) return { state: 'stale', why: stageName + ' are older than the ' + inputName + ' they are computed from' };
    if (inputLast && entry.last && entry.last < inputLast) {
      return { state: 'stale', why: stageName + ' end ' + entry.last + ', ' + inputName + ' reach ' + inputLast };
    }
    return { state: 'fresh', why: stageName + ' up to date' };
  }

  function stageCell(col, f, content) {
    const td = el('td', { 'data-col': col, class: 'num ' + f.state, title: f.why }, content);
    return td;
  }

  // Two-line cell: the number on top, a small note (date, horizon) below.
  function numWithNote(n, note) {
    return [el('span', { class: 'v' }, fmtInt(n)), note ? el('span', { class: 'note' }, note) : null];
  }

  const FEATURE_SETS_DEFAULT = ['tech-v1', 'alpha158'];

  function monitorRow(s, featureSets) {
    const tr = el('tr', { 'data-symbol': s.symbol });
    const link = el('a', { href: 'symbol.html?s=' + encodeURIComponent(s.symbol) }, s.symbol);
    tr.appendChild(el('td', { 'data-col': 'symbol', class: 'sym' }, link));
    tr.appendChild(el('td', { 'data-col': 'name', class: 'name' }, s.name || ''));
    tr.appendChild(el('td', { 'data-col': 'bars', class: 'num' }, fmtInt(s.bars)));
    tr.appendChild(el('td', { 'data-col': 'first', class: 'date' }, s.first || '—'));
    tr.appendChild(el('td', { 'data-col': 'last', class: 'date' }, s.last || '—'));

    // Last ingest: time, status and (if any) the error.
    const ing = s.last_ingest;
    if (ing) {
      const ok = ing.status === 'ok';
      const td = el('td', { 'data-col': 'ingest', class: ok ? 'fresh' : 'stale', title: ing.error || ('status ' + ing.status) }, [
        el('span', { class: 'v', title: ing.time || '' }, fmtShortTime(ing.time)),
        el('span', { class: 'note' }, [el('span', { class: 'badge ' + (ok ? 'ok' : 'bad') }, ing.status || '?'),
          ' ' + fmtInt(ing.rows) + ' rows']),
        ing.error ? el('span', { class: 'note err' }, ing.error) : null,
      ]);
      tr.appendChild(td);
    } else {
      tr.appendChild(el('td', { 'data-col': 'ingest', class: 'none', title: 'never ingested' }, '—'));
    }

    // Features: one cell per set; behind when older than the bars.
    const feats = s.features || {};
    let featLast = null;
    for (const fs of featureSets) {
      const f = feats[fs] || null;
      const fr = freshness(f, s.last, 'features', 'bars');
      if (f && f.last && (!featLast || f.last > featLast)) featLast = f.last;
      tr.appendChild(stageCell('features-' + fs, fr, f ? numWithNote(f.values, f.last) : '—'));
    }

    // Labels: stale flag from the server, or missing while features exist.
    const lab = s.labels;
    let lf;
    if (!lab && featLast) lf = { state: 'stale', why: 'features exist but no labels were computed' };
    else lf = freshness(lab, null, 'labels', 'bars');
    tr.appendChild(stageCell('labels', lf, lab ? numWithNote(lab.rows, 'h=' + lab.horizon) : '—'));

    // Predictions: behind when they end before the newest features.
    const pred = s.predictions;
    let pf;
    if (!pred && s.model) pf = { state: 'stale', why: 'a model exists but nothing was scored' };
    else pf = freshness(pred, featLast, 'predictions', 'features');
    tr.appendChild(stageCell('predictions', pf, pred ? numWithNote(pred.rows, pred.last) : '—'));

    // Model: id, then each test metric beside what it must beat: AUC beside
    // chance (0.5), accuracy beside the baseline (train's majority class).
    const m = s.model;
    if (m) {
      const aucBetter = typeof m.auc === 'number' && m.auc > 0.5;
      const accBetter = typeof m.accuracy === 'number' && typeof m.baseline_accuracy === 'number' &&
        m.accuracy > m.baseline_accuracy;
      const note = [
        'AUC ', el('span', { class: aucBetter ? 'good' : 'meh' }, fmtNum(m.auc)), ' vs 0.5 · acc ',
        el('span', { class: accBetter ? 'good' : 'meh' }, fmtNum(m.accuracy)),
        ' vs ', fmtNum(m.baseline_accuracy)];
      if (m.warning) note.push(' ', el('span', { class: 'warn', title: m.warning }, '⚠'));
      tr.appendChild(el('td', { 'data-col': 'model', class: 'model', title: m.warning ? m.id + ': ' + m.warning : m.id }, [
        el('span', { class: 'v mono' }, m.id),
        el('span', { class: 'note' }, note),
      ]));
    } else {
      tr.appendChild(el('td', { 'data-col': 'model', class: 'none' }, '—'));
    }
    return tr;
  }

  function renderMonitor(data) {
    const t = data.totals || {};
    const totals = document.getElementById('totals');
    clear(totals);
    const items = [['symbols', 'Symbols'], ['bars', 'Bars'], ['feature_values', 'Feature values'],
      ['label_rows', 'Label rows'], ['predictions', 'Predictions'], ['models', 'Models']];
    for (const [key, label] of items) {
      totals.appendChild(el('div', { class: 'total', 'data-total': key }, [
        el('div', { class: 'total-v' }, fmtInt(t[key])), el('div', { class: 'total-l' }, label)]));
    }
    document.getElementById('generated').textContent = 'Data as of ' + fmtTime(data.generated_at);

    const symbols = Array.isArray(data.symbols) ? data.symbols : [];
    // Feature sets: the two known ones plus any other the server reports.
    const featureSets = FEATURE_SETS_DEFAULT.slice();
    for (const s of symbols) {
      for (const k of Object.keys(s.features || {})) if (!featureSets.includes(k)) featureSets.push(k);
    }

    const table = document.getElementById('monitor');
    const thead = table.tHead || table.createTHead();
    clear(thead);
    const hr = el('tr');
    const heads = [['Symbol', ''], ['Name', ''], ['Bars', 'num'], ['First', ''], ['Last', ''], [['Last ingest', el('span', { class: 'sub' }, 'UTC')], '']];
    for (const fs of featureSets) heads.push([[ 'Features', el('span', { class: 'sub' }, fs)], 'num']);
    heads.push(['Labels', 'num'], ['Predictions', 'num'], [['Model', el('span', { class: 'sub' }, 'test AUC vs 0.5, accuracy vs baseline')], '']);
    for (const [h, cls] of heads) hr.appendChild(el('th', { class: cls || null }, h));
    thead.appendChild(hr);

    let tbody = table.tBodies[0];
    if (!tbody) { tbody = el('tbody'); table.appendChild(tbody); }
    clear(tbody);
    if (symbols.length === 0) {
      tbody.appendChild(el('tr', null, el('td', { colspan: heads.length, class: 'empty' },
        'No symbols yet. Add one with `quant symbols add AAPL`, then `quant ingest`.')));
    }
    for (const s of symbols) tbody.appendChild(monitorRow(s, featureSets));
  }

  async function initMonitor() {
    const refresh = async () => {
      try {
        renderMonitor(await api('/api/status'));
        showError('');
        document.body.dataset.loaded = 'yes';
      } catch (e) {
        showError('Could not load status: ' + e.message);
      }
    };
    await refresh();
    // Chain timeouts rather than setInterval so a slow or busy-retrying
    // request never overlaps the next one.
    const loop = () => setTimeout(async () => { await refresh(); loop(); }, 10000);
    loop();
  }

  // ---------- page: Symbol ----------

  const SEGMENT_COLORS = {
    train: 'rgba(59, 130, 246, 0.10)',
    valid: 'rgba(234, 179, 8, 0.14)',
    test: 'rgba(16, 185, 129, 0.14)',
  };
  const SEGMENT_LINE = { train: '#3b82f6', valid: '#ca8a04', test: '#059669' };

  function segmentOf(date, segs) {
    for (const name of ['train', 'valid', 'test']) {
      const r = segs[name];
      if (Array.isArray(r) && r.length === 2 && date >= r[0] && date <= r[1]) return name;
    }
    return null;
  }

  function renderSymbolInfo(sym, barsResp, predResp) {
    const info = document.getElementById('info');
    clear(info);
    const bars = barsResp.bars;
    const add = (label, value) => info.appendChild(el('div', { class: 'kv' }, [
      el('span', { class: 'k' }, label), el('span', { class: 'v' }, value)]));
    add('Bars', fmtInt(bars.length));
    if (bars.length) {
      add('Range', bars[0].date + ' → ' + bars[bars.length - 1].date);
      add('Last close', fmtNum(bars[bars.length - 1].close, 2));
    }
    const m = predResp && predResp.model;
    if (m) {
      add('Model', m.id);
      add('Algorithm', (m.algorithm || '?') + ' · ' + (m.feature_set || '?') + ' · h=' + m.horizon);
      const sg = m.segments || {};
      for (const name of ['train', 'valid', 'test']) {
        if (Array.isArray(sg[name])) {
          const n = sg['n_' + name];
          const item = el('div', { class: 'kv' }, [
            el('span', { class: 'k' }, [el('span', { class: 'swatch seg-' + name }), name]),
            el('span', { class: 'v' }, sg[name][0] + ' → ' + sg[name][1] + (typeof n === 'number' ? ' (' + fmtInt(n) + ')' : ''))]);
          info.appendChild(item);
        }
      }
      add('Predictions', fmtInt(predResp.predictions.length));
    } else {
      add('Model', 'none trained for this symbol');
    }
  }

  // The line above the chart: OHLC, volume, score and segment of the bar
  // under the crosshair (or of the last bar when the pointer is elsewhere).
  function wireLegend(chart, bars, candles, preds, segs) {
    const legend = document.getElementById('legend');
    if (!legend) return;
    const byDate = new Map(bars.map(b => [b.date, b]));
    const scoreByDate = new Map(preds.map(p => [p.date, p.score]));
    const show = date => {
      const b = byDate.get(date);
      clear(legend);
      if (!b) return;
      const item = (k, v, cls) => el('span', { class: 'lg' + (cls ? ' ' + cls : '') }, [el('span', { class: 'k' }, k), ' ', v]);
      const up = b.close >= b.open;
      append(legend, [
        el('span', { class: 'lg date' }, b.date),
        item('O', fmtNum(b.open, 2)), item('H', fmtNum(b.high, 2)), item('L', fmtNum(b.low, 2)),
        item('C', fmtNum(b.close, 2), up ? 'up' : 'down'),
        b.adj_close !== null && b.adj_close !== undefined ? item('Adj', fmtNum(b.adj_close, 2)) : null,
        item('Vol', fmtInt(b.volume)),
        scoreByDate.has(date) ? item('Score', fmtNum(scoreByDate.get(date), 3), 'score') : null,
      ]);
      const seg = segmentOf(date, segs);
      if (seg) legend.appendChild(el('span', { class: 'lg seg seg-' + seg }, seg));
    };
    const last = bars.length ? bars[bars.length - 1].date : null;
    show(last);
    chart.subscribeCrosshairMove(param => {
      // Times come back as business-day objects or strings; normalise.
      let t = param && param.time;
      if (t && typeof t === 'object') {
        t = t.year + '-' + String(t.month).padStart(2, '0') + '-' + String(t.day).padStart(2, '0');
      }
      show(typeof t === 'string' && byDate.has(t) ? t : last);
    });
  }

  // The dashboard's chart look, shared by every page's charts; `extra` adds
  // or replaces top-level options.
  function chartOptions(extra) {
    return Object.assign({
      autoSize: true,
      layout: { background: { color: '#ffffff' }, textColor: '#334155', fontSize: 12,
        panes: { separatorColor: '#e2e8f0' },
        // The built-in logo injects a <style> element, which the CSP blocks;
        // the pages carry the attribution link as text instead.
        attributionLogo: false },
      grid: { vertLines: { color: '#f1f5f9' }, horzLines: { color: '#f1f5f9' } },
      rightPriceScale: { borderColor: '#e2e8f0' },
      timeScale: { borderColor: '#e2e8f0' },
      crosshair: { mode: 0 },
    }, extra || {});
  }

  function drawChart(barsResp, predResp) {
    const LC = window.LightweightCharts;
    const box = document.getElementById('chart');
    if (!LC) throw new Error('chart library did not load (/vendor/lightweight-charts.standalone.production.js)');
    clear(box);
    const chart = LC.createChart(box, chartOptions({
      leftPriceScale: { visible: false, borderColor: '#e2e8f0', scaleMargins: { top: 0.05, bottom: 0.05 } },
      // A small minimum spacing lets the opening view span several years.
      timeScale: { borderColor: '#e2e8f0', minBarSpacing: 0.2 },
    }));

    const bars = barsResp.bars;
    const model = predResp && predResp.model;
    const segs = (model && model.segments) || {};

    // Segment bands first so they sit behind the candles: an area series
    // pinned to the top of its own hidden 0..1 scale fills the pane height,
    // coloured per bar by the segment the bar belongs to.
    if (model) {
      const bands = chart.addSeries(LC.AreaSeries, {
        priceScaleId: 'segments', priceLineVisible: false, lastValueVisible: false,
        crosshairMarkerVisible: false, lineWidth: 1, lineColor: 'rgba(0,0,0,0)',
        autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 1 } }),
      });
      chart.priceScale('segments').applyOptions({ visible: false, scaleMargins: { top: 0, bottom: 0 } });
      bands.setData(bars.map(b => {
        const seg = segmentOf(b.date, segs);
        if (!seg) return { time: b.date };
        const c = SEGMENT_COLORS[seg];
        return { time: b.date, value: 1, topColor: c, bottomColor: c, lineColor: 'rgba(0,0,0,0)' };
      }));
    }

    const candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: '#16a34a', downColor: '#dc2626', borderVisible: false,
      wickUpColor: '#16a34a', wickDownColor: '#dc2626',
    });
    candles.setData(bars.map(b => ({ time: b.date, open: b.open, high: b.high, low: b.low, close: b.close })));

    // Labelled markers where each segment starts, on the candles.
    if (model && typeof LC.createSeriesMarkers === 'function') {
      const marks = [];
      for (const name of ['train', 'valid', 'test']) {
        const r = segs[name];
        if (!Array.isArray(r) || r.length !== 2) continue;
        const first = bars.find(b => b.date >= r[0]);
        if (first && first.date <= r[1]) {
          marks.push({ time: first.date, position: 'aboveBar', shape: 'arrowDown', color: SEGMENT_LINE[name], text: name });
        }
      }
      marks.sort((a, b) => (a.time < b.time ? -1 : 1));
      LC.createSeriesMarkers(candles, marks);
    }

    // Prediction score: a line on its own left scale, fixed to 0..1.
    const preds = (predResp && Array.isArray(predResp.predictions)) ? predResp.predictions : [];
    if (preds.length) {
      chart.applyOptions({ leftPriceScale: { visible: true } });
      const score = chart.addSeries(LC.LineSeries, {
        priceScaleId: 'left', color: 'rgba(124, 58, 237, 0.75)', lineWidth: 1, title: 'score',
        priceLineVisible: false,
        autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 1 } }),
      });
      score.createPriceLine({ price: 0.5, color: '#a78bfa', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: '' });
      score.setData(preds.filter(p => typeof p.score === 'number').map(p => ({ time: p.date, value: p.score })));
    }

    // Volume in its own pane below the prices.
    const volume = chart.addSeries(LC.HistogramSeries, {
      priceFormat: { type: 'volume' }, priceLineVisible: false, title: 'volume',
    }, 1);
    volume.setData(bars.map((b, i) => ({
      time: b.date, value: b.volume || 0,
      color: (i > 0 && b.close < bars[i - 1].close) ? 'rgba(220, 38, 38, 0.45)' : 'rgba(22, 163, 74, 0.45)',
    })));
    wireLegend(chart, bars, candles, preds, segs);

    const panes = chart.panes();
    if (panes.length > 1) { panes[0].setStretchFactor(3); panes[1].setStretchFactor(1); }

    // Start from a year before the validation segment so the segment
    // boundaries are on screen; the rest is a scroll or zoom away.
    let from = bars.length - 504;
    if (segs.valid && segs.valid[0]) {
      const i = bars.findIndex(b => b.date >= segs.valid[0]);
      if (i >= 0) from = Math.min(from, i - 252);
    }
    if (from > 0) chart.timeScale().setVisibleLogicalRange({ from, to: bars.length + 5 });
    else chart.timeScale().fitContent();
    return chart;
  }

  async function initSymbol() {
    const sym = (new URLSearchParams(location.search).get('s') || '').trim().toUpperCase();
    const title = document.getElementById('sym-title');
    if (!sym) { showError('No symbol given: open symbol.html?s=AAPL'); return; }
    title.textContent = sym;
    document.title = sym + ' · quant';
    const enc = encodeURIComponent(sym);
    // The company name is a nicety: fetch it on the side, ignore failures.
    api('/api/status').then(st => {
      const row = (st.symbols || []).find(x => x.symbol === sym);
      if (row && row.name) document.getElementById('sym-name').textContent = row.name;
    }).catch(() => {});
    let barsResp, predResp;
    try {
      [barsResp, predResp] = await Promise.all([
        api('/api/symbols/' + enc + '/bars'),
        api('/api/symbols/' + enc + '/predictions').catch(e => {
          // Predictions are optional for the chart; bars are not.
          if (e.status === 404) return { model: null, predictions: [] };
          throw e;
        }),
      ]);
    } catch (e) {
      showError((e.status === 404 ? 'Unknown symbol ' + sym + ': ' : 'Could not load ' + sym + ': ') + e.message);
      return;
    }
    if (!Array.isArray(barsResp.bars)) barsResp.bars = [];
    if (!predResp || !Array.isArray(predResp.predictions)) predResp = { model: predResp && predResp.model, predictions: [] };
    renderSymbolInfo(sym, barsResp, predResp);
    if (barsResp.bars.length === 0) {
      showError('No bars stored for ' + sym + ' yet: run `quant ingest ' + sym + '`.');
      return;
    }
    drawChart(barsResp, predResp);
    document.body.dataset.chart = 'drawn';
  }

  // ---------- page: Models ----------

  const MODEL_COLS = [
    // key, header, kind (for sorting and alignment), value getter
    ['id', 'Id', 'text', m => m.id],
    ['algorithm', 'Algorithm', 'text', m => m.algorithm],
    ['feature_set', 'Features', 'text', m => m.feature_set],
    ['horizon', 'Horizon', 'num', m => m.horizon],
    ['symbols', 'Symbols', 'text', m => (Array.isArray(m.symbols) ? m.symbols.join(', ') : '')],
    ['auc', 'AUC', 'num', m => metric(m, 'auc')],
    ['accuracy', 'Accuracy', 'num', m => metric(m, 'accuracy')],
    ['baseline', 'Baseline', 'num', m => metric(m, 'baseline_accuracy')],
    ['logloss', 'Logloss', 'num', m => metric(m, 'logloss')],
    ['warning', 'Warning', 'text', m => m.warning || ''],
    ['n_test', 'Test rows', 'num', m => metric(m, 'n_test')],
    ['created_at', 'Created', 'text', m => m.created_at],
    ['params', 'Params', 'text', m => paramsText(m.params)],
  ];

  function metric(m, k) { return m.metrics && typeof m.metrics[k] === 'number' ? m.metrics[k] : null; }

  function paramsList(p) {
    if (!p || typeof p !== 'object') return [];
    return Object.keys(p).sort().map(k => k + '=' + (typeof p[k] === 'object' ? JSON.stringify(p[k]) : p[k]));
  }

  function paramsText(p) { return paramsList(p).join(' '); }

  function fmtModelCell(key, v) {
    if (v === null || v === undefined || v === '') return '—';
    if (key === 'horizon' || key === 'n_test') return fmtInt(v);
    if (key === 'created_at') return fmtTime(v);
    if (typeof v === 'number') return fmtNum(v, key === 'logloss' ? 4 : 3);
    return v;
  }

  // ---------- sortable tables (models, evaluations) ----------
  //
  // cols: [key, header, kind ('num' | 'text'), getter, ...]; sort: {key, dir}
  // with dir 1 (ascending) or -1.

  function compare(a, b, kind) {
    // Missing values sort last whichever the direction, handled by caller.
    if (kind === 'num') return a - b;
    return String(a).localeCompare(String(b), 'en', { numeric: true });
  }

  // A <tr> of header cells, each a keyboard-reachable sort button.
  function sortableHeadRow(cols, sort) {
    const hr = el('tr');
    for (const [key, header, kind] of cols) {
      const active = sort.key === key;
      hr.appendChild(el('th', {
        class: (kind === 'num' ? 'num ' : '') + 'sortable' + (active ? ' sorted' : ''),
        'data-key': key, tabindex: 0,
        'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none',
        title: 'Sort by ' + header,
      }, [header, el('span', { class: 'arrow' }, active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '')]));
    }
    return hr;
  }

  // items sorted by the sort column; missing values last in both directions.
  function sortedRows(items, cols, sort) {
    const col = cols.find(c => c[0] === sort.key) || cols[0];
    const rows = items.map(item => ({ item, v: col[3](item) }));
    rows.sort((x, y) => {
      const xn = x.v === null || x.v === undefined, yn = y.v === null || y.v === undefined;
      if (xn || yn) return xn === yn ? 0 : (xn ? 1 : -1);
      return sort.dir * compare(x.v, y.v, col[2]);
    });
    return rows.map(r => r.item);
  }

  // One delegated listener on the table (headers are rebuilt on every sort):
  // a click or Enter/Space on a header sorts by it, again reverses.
  function wireSort(table, sort, rerender) {
    const onSort = th => {
      const key = th.getAttribute('data-key');
      if (!key) return;
      if (sort.key === key) sort.dir = -sort.dir;
      else { sort.key = key; sort.dir = 1; }
      rerender();
      const again = table.querySelector('th.sortable[data-key="' + key + '"]');
      if (again) again.focus();
    };
    table.addEventListener('click', ev => {
      const th = ev.target.closest('th.sortable');
      if (th) onSort(th);
    });
    table.addEventListener('keydown', ev => {
      const th = ev.target.closest('th.sortable');
      if (th && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); onSort(th); }
    });
  }

  function renderModels(models, sort) {
    const table = document.getElementById('models');
    const thead = table.tHead || table.createTHead();
    clear(thead);
    thead.appendChild(sortableHeadRow(MODEL_COLS, sort));
    const rows = sortedRows(models, MODEL_COLS, sort).map(m => ({ m }));

    let tbody = table.tBodies[0];
    if (!tbody) { tbody = el('tbody'); table.appendChild(tbody); }
    clear(tbody);
    if (rows.length === 0) {
      tbody.appendChild(el('tr', null, el('td', { colspan: MODEL_COLS.length, class: 'empty' },
        'No models registered yet. Train one with `quant train`.')));
    }
    for (const { m } of rows) {
      const tr = el('tr', { 'data-model': m.id });
      for (const [key, , kind, get] of MODEL_COLS) {
        const v = get(m);
        const cls = [kind === 'num' ? 'num' : '', key === 'id' || key === 'params' ? 'mono' : '',
          key === 'params' ? 'params' : ''].filter(Boolean).join(' ');
        const plist = key === 'params' ? paramsList(m.params) : null;
        const content = plist && plist.length
          ? plist.map(p => el('span', { class: 'param' }, p))
          : fmtModelCell(key, v);
        const td = el('td', { 'data-col': key, class: cls || null }, content);
        if (key === 'params' || key === 'id') td.setAttribute('title', key === 'id' && m.path ? m.path : String(v || ''));
        if (key === 'auc') {
          // Colour AUC against chance (0.5), the natural baseline for AUC.
          if (typeof v === 'number') td.classList.add(v > 0.5 ? 'good' : 'meh');
          td.setAttribute('title', 'chance is 0.5');
        }
        if (key === 'accuracy') {
          // Colour accuracy against always predicting train's majority class.
          const base = metric(m, 'baseline_accuracy');
          if (typeof v === 'number' && typeof base === 'number') td.classList.add(v > base ? 'good' : 'meh');
          if (typeof base === 'number') td.setAttribute('title', 'baseline accuracy ' + fmtNum(base));
        }
        if (key === 'warning' && v) td.classList.add('warn');
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  async function initModels() {
    let data;
    try {
      data = await api('/api/models');
    } catch (e) {
      showError('Could not load models: ' + e.message);
      return;
    }
    const models = Array.isArray(data.models) ? data.models : [];
    const sort = { key: 'created_at', dir: -1 };
    renderModels(models, sort);
    document.getElementById('count').textContent = fmtInt(models.length) + ' registered';
    wireSort(document.getElementById('models'), sort, () => renderModels(models, sort));
    document.body.dataset.loaded = 'yes';
  }

  // ---------- boot ----------

  // The one copy of the header every page shares: brand, the pages, the
  // symbol box.  Pages hold an empty <header class="top">.
  const PAGES = [
    ['index.html', 'monitor', 'Data Monitor'],
    ['symbol.html', 'symbol', 'Symbol'],
    ['models.html', 'models', 'Models'],
    ['evaluation.html', 'evaluation', 'Evaluation'],
  ];

  function renderHeader() {
    const top = document.querySelector('header.top');
    if (!top) return;
    const page = document.body.dataset.page;
    const nav = el('nav', null, PAGES.map(([href, key, label]) =>
      el('a', { href, 'data-page': key, class: key === page ? 'active' : null,
                'aria-current': key === page ? 'page' : null }, label)));
    const form = el('form', { class: 'goto', action: 'symbol.html', method: 'get' },
      el('input', { name: 's', placeholder: 'Symbol, e.g. AAPL', 'aria-label': 'Open symbol',
                    autocomplete: 'off', spellcheck: 'false' }));
    top.replaceChildren(el('span', { class: 'brand' }, 'quant'), nav, form);
  }

  // What other page scripts may use; they add their page to Quant.pages.
  window.Quant = {
    el, append, clear, fmtInt, fmtNum, fmtTime, fmtShortTime, api, showError, chartOptions,
    sortableHeadRow, sortedRows, wireSort,
    pages: { monitor: initMonitor, symbol: initSymbol, models: initModels },
  };

  function boot() {
    renderHeader();
    const page = document.body.dataset.page;
    const run = window.Quant.pages[page];
    if (run) {
      run().catch(e => showError('Unexpected error: ' + (e && e.message ? e.message : e)));
    }
  }

  // Deferred page scripts (the evaluation*.js) run after this one and before
  // DOMContentLoaded, so boot then: their page is registered by that time.
  if (document.readyState === 'complete') boot();
  else document.addEventListener('DOMContentLoaded', boot);
})();
