// The Evaluation page: the registry of `quant evaluate` results, one
// evaluation's curves and metrics, and several of them side by side.
//
// It keeps app.js's rules (and takes its helpers from window.Quant): values
// from the API reach the DOM through textContent or setAttribute only, never
// innerHTML; nothing inline, since the server sends CSP default-src 'self'
// (SVG bars are drawn with presentation attributes, colours live in
// style.css).  What each metric means: shared/spec/EVALUATION.md.  The page
// computes nothing the API already has, except what a chart draws (drawdown
// from the equity, rolling IC) and, per symbol, buy-and-hold's own metrics,
// which the API leaves out (see buyHoldStats).
'use strict';

(function () {
  const Q = window.Quant;
  if (!Q) return; // app.js did not load: there is no page to draw on
  const { el, append, clear, fmtInt, fmtTime, fmtShortTime, api, showError } = Q;
  const $ = id => document.getElementById(id);

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
    current: null,            // what the equity chart shows: {resp, symbol}
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

  // ---------- the list ----------

  const LIST_COLS = [
    // key, header, kind (sorting, alignment), getter, format
    ['id', 'Id', 'text', e => e.id],
    ['created_at', 'Created', 'text', e => e.created_at],
    ['target', 'Target', 'text', e => e.target],
    ['features', 'Features', 'text', e => e.features],
    ['horizon', 'h', 'num', e => (isNum(e.horizon) ? e.horizon : null), 'int'],
    ['ic', 'IC', 'num', e => metric(e, 'ic'), 'ic'],
    ['rank_ic', 'Rank IC', 'num', e => metric(e, 'rank_ic'), 'ic'],
    ['rank_icir', 'Rank ICIR', 'num', e => metric(e, 'rank_icir'), 'ir'],
    ['sharpe', 'Sharpe net', 'num', e => metric(e, 'sharpe'), 'ratio'],
    ['annual_return', 'Annual net · bench', 'num', e => metric(e, 'annual_return'), 'pct'],
    ['max_drawdown', 'Max DD', 'num', e => metric(e, 'max_drawdown'), 'pct'],
    ['turnover', 'Turnover', 'num', e => metric(e, 'turnover'), 'pct'],
  ];

  function evalHref(id) { return 'evaluation.html?id=' + encodeURIComponent(id); }

  function targetNote(ev) {
    const n = ev.metrics && ev.metrics.symbols;
    const parts = [ev.target_kind === 'model' ? 'model, test segment' : (ev.target_kind || '?')];
    if (isNum(n)) parts.push(fmtInt(n) + (n === 1 ? ' symbol' : ' symbols'));
    if (isPerSymbol(ev)) parts.push('per symbol');
    return parts.join(' · ');
  }

  function listCell(ev, key, kind, v, f) {
    const attrs = { 'data-col': key, class: kind === 'num' ? 'num' : null };
    if (key === 'id') {
      return el('td', { 'data-col': key, class: 'mono' }, el('a', { href: evalHref(ev.id), class: 'open' }, ev.id));
    }
    if (key === 'created_at') return el('td', Object.assign(attrs, { title: fmtTime(v) }), fmtShortTime(v));
    if (key === 'target') {
      return el('td', attrs, [el('span', { class: 'v mono' }, v || '—'), el('span', { class: 'note' }, targetNote(ev))]);
    }
    if (key === 'annual_return' && !isPerSymbol(ev)) {
      const b = metric(ev, 'benchmark_annual_return');
      if (isNum(v) && isNum(b)) attrs.class += v > b ? ' good' : ' meh';
      attrs.title = 'net of costs; the benchmark (' + benchmarkName(ev) + ') below';
      return el('td', attrs, [el('span', { class: 'v' }, fmt('pct', v)),
        el('span', { class: 'note' }, 'bench ' + fmt('pct', b))]);
    }
    if (f) return el('td', attrs, fmt(f, v));
    return el('td', attrs, v === null || v === undefined || v === '' ? '—' : String(v));
  }

  function renderList() {
    const table = $('evals');
    const thead = table.tHead;
    clear(thead);
    const hr = Q.sortableHeadRow(LIST_COLS, state.sort);
    hr.insertBefore(el('th', { class: 'pick', scope: 'col' }, el('span', { class: 'sr' }, 'Compare')), hr.firstChild);
    thead.appendChild(hr);
    const tbody = table.tBodies[0];
    clear(tbody);
    if (state.list.length === 0) {
      tbody.appendChild(el('tr', null, el('td', { colspan: LIST_COLS.length + 1, class: 'empty' },
        'No evaluations yet. Run `quant walkforward --all`, then `quant evaluate --run latest`.')));
    }
    for (const ev of Q.sortedRows(state.list, LIST_COLS, state.sort)) {
      const tr = el('tr', { 'data-eval': ev.id, class: 'clickable' });
      const box = el('input', { type: 'checkbox', class: 'pick', 'aria-label': 'Compare ' + ev.id });
      box.checked = state.picked.has(ev.id);
      tr.appendChild(el('td', { 'data-col': 'pick', class: 'pick' }, el('label', { class: 'pick-hit' }, box)));
      for (const [key, , kind, get, f] of LIST_COLS) tr.appendChild(listCell(ev, key, kind, get(ev), f));
      tbody.appendChild(tr);
    }
    markOpen();
  }

  function markOpen() {
    for (const tr of $('evals').querySelectorAll('tbody tr[data-eval]')) {
      const on = tr.getAttribute('data-eval') === state.open && !$('detail').hidden;
      tr.classList.toggle('current', on);
      if (on) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
  }

  function renderToolbar() {
    const n = state.picked.size;
    $('toolbar').hidden = state.list.length === 0;
    $('compare-btn').disabled = n < 2;
    $('compare-btn').textContent = n >= 2 ? 'Compare ' + n + ' selected' : 'Compare selected';
    $('clear-btn').disabled = n === 0;
    $('pick-note').textContent = n === 0 ? 'Tick two or more evaluations to compare them.'
      : n === 1 ? '1 ticked: tick one more to compare.' : '';
  }

  // ---------- the URL: ?id=ID, ?id=ID&symbol=S, or ?compare=A,B ----------

  function readUrl() {
    const q = new URLSearchParams(location.search);
    const compare = (q.get('compare') || '').split(',').map(s => s.trim()).filter(Boolean);
    return { id: (q.get('id') || '').trim(), symbol: (q.get('symbol') || '').trim(), compare };
  }

  function writeUrl(query) {
    const qs = new URLSearchParams(query).toString();
    history.pushState(null, '', 'evaluation.html' + (qs ? '?' + qs : ''));
  }

  async function showFromUrl() {
    const u = readUrl();
    if (u.compare.length >= 2) {
      state.picked = new Set(u.compare);
      renderList();
      renderToolbar();
      return openCompare(u.compare);
    }
    if (u.id) return openDetail(u.id, u.symbol);
    if (state.list.length) return openDetail(state.list[0].id, ''); // the newest
    $('detail').hidden = true;
    $('compare').hidden = true;
  }

  // ---------- one evaluation ----------

  async function openDetail(id, symbol) {
    const seq = ++state.seq;
    state.open = id;
    showError('');
    document.body.dataset.shown = 'loading';
    let resp;
    try {
      resp = await loadDetail(id);
    } catch (e) {
      if (seq !== state.seq) return;
      dropCharts();
      $('detail').hidden = true;
      $('compare').hidden = true;
      markOpen();
      // The server's 404 names the id already.
      showError(e.status === 404 ? e.message : 'Could not load evaluation ' + id + ': ' + e.message);
      document.body.dataset.shown = 'error';
      return;
    }
    if (seq !== state.seq) return;
    dropCharts();
    $('compare').hidden = true;
    $('detail').hidden = false;
    renderDetail(resp, symbol);
    markOpen();
    document.body.dataset.shown = id;
  }

  function kv(label, value, title) {
    return el('div', { class: 'kv', title: title || null }, [el('span', { class: 'k' }, label), el('span', { class: 'v' }, value)]);
  }

  function bpText(x) { return isNum(x) ? (x * 10000).toFixed(1) + ' bp' : '—'; }

  function renderDetail(resp, symbol) {
    const ev = resp.evaluation || {};
    const m = ev.metrics || {};
    const p = params(ev);
    $('detail-title').textContent = ev.id || '?';
    $('detail-sub').textContent = (ev.target_kind === 'model' ? 'model ' : 'walk-forward run ') + (ev.target || '?') +
      ' · ' + (ev.features || '?') + ' · h=' + fmtInt(ev.horizon);
    const info = $('detail-info');
    clear(info);
    append(info, [
      kv('Created', fmtTime(ev.created_at)),
      kv('Judged', ev.target_kind === 'model' ? 'the model\'s test segment' : 'the run\'s out-of-sample scores'),
      kv('Dates', (m.first_date || '?') + ' → ' + (m.last_date || '?')),
      kv('Symbols · scores', fmtInt(m.symbols) + ' · ' + fmtInt(m.predictions)),
      isPerSymbol(ev) ? kv('Book', 'per symbol: long when the score is above 0.5, else cash')
        : kv('Book', 'top ' + fmtInt(p.topk) + ', at most ' + fmtInt(p.n_drop) + ' changed a day'),
      kv('Costs', bpText(p.buy_cost) + ' buy · ' + bpText(p.sell_cost) + ' sell'),
      kv('Benchmark', isPerSymbol(ev) ? 'buy and hold of the symbol' : benchmarkName(ev)),
      p.universe ? kv('Universe', p.universe) : null,
    ]);
    $('conventions').textContent = 'Conventions: ' + (typeof m.conventions === 'string' && m.conventions
      ? m.conventions : '252 periods a year, compounded returns, risk-free rate 0, equal-weighted benchmark unless one is named') + '.';

    if (isPerSymbol(ev)) renderSingle(resp, symbol);
    else renderCross(resp);
  }

  // ---- the cross-section (5 symbols or more) ----

  function renderCross(resp) {
    const ev = resp.evaluation;
    $('single-wrap').hidden = true;
    $('symbol-pick').hidden = true;
    $('signal-wrap').hidden = false;
    $('equity-title').textContent = 'Growth of 1 (top-' + fmtInt(params(ev).topk) + ' book) and drawdown';
    const get = k => metric(ev, k);
    backtestTable(get, k => get(k + '_gross'), k => get('benchmark_' + k), 'benchmark');
    tradingFacts(get);
    signalTable(ev);
    quantileBars($('quantiles'), ev);
    state.current = { cols: resp.daily || null, labels: { net: 'net', gross: 'gross', bench: 'benchmark' } };
    drawEquityNow();
    drawIc($('ic-chart'), $('ic-legend'), resp.daily || null, ev);
  }

  const BT_ROWS = [
    // key, label, format, better when higher (colours net against the benchmark), no benchmark
    ['total_return', 'Total return', 'pct', true],
    ['annual_return', 'Annual return', 'pct', true],
    ['annual_vol', 'Annual volatility', 'pct', false],
    ['sharpe', 'Sharpe', 'ratio', true],
    ['max_drawdown', 'Max drawdown', 'pct', true],
    ['excess_return', 'Excess return / year', 'pct', true, true],
    ['information_ratio', 'Information ratio', 'ratio', true, true],
  ];

  // net(k), gross(k), bench(k): the value of metric k for each column.
  function backtestTable(net, gross, bench, benchLabel) {
    const table = $('backtest-table');
    clear(table.tHead);
    table.tHead.appendChild(el('tr', null, [el('th', { scope: 'col' }, ''), el('th', { class: 'num', scope: 'col' }, 'net'),
      el('th', { class: 'num', scope: 'col' }, 'gross'), el('th', { class: 'num', scope: 'col' }, benchLabel)]));
    const tbody = table.tBodies[0];
    clear(tbody);
    for (const [k, label, f, higher, noBench] of BT_ROWS) {
      const n = net(k), b = noBench ? null : bench(k);
      const netCell = el('td', { class: 'num', 'data-metric': k }, fmt(f, n));
      const ref = noBench ? 0 : b;
      if (higher && isNum(n) && isNum(ref)) netCell.classList.add(n > ref ? 'good' : 'meh');
      tbody.appendChild(el('tr', null, [
        el('th', { scope: 'row' }, label), netCell,
        el('td', { class: 'num', 'data-metric': k + '_gross' }, fmt(f, gross(k))),
        el('td', { class: 'num', 'data-metric': 'benchmark_' + k }, noBench ? '' : fmt(f, b)),
      ]));
    }
  }

  function tradingFacts(get) {
    const box = $('trading');
    clear(box);
    const item = (k, label, f, title) => {
      const node = kv(label, fmt(f, get(k)), title);
      node.lastChild.setAttribute('data-metric', k);
      return node;
    };
    append(box, [
      item('turnover', 'Turnover / day', 'pct', 'mean daily (buys + sells) / 2'),
      item('total_cost', 'Costs in all', 'pct', 'sum of the daily costs, as a share of capital'),
      item('break_even_cost_bps', 'Break-even cost', 'bp',
        'cost per side at which the net excess return would be 0; below 0: the book trails the benchmark before costs'),
      item('steps', 'Steps', 'int', 'daily backtest steps'),
    ]);
  }

  const SIG_ROWS = [
    // suffix (ic + suffix, rank_ic + suffix), label, format
    ['', 'Mean', 'ic'], ['_std', 'Std', 'ic'], ['ir', 'IR (mean / std)', 'ir'], ['_tstat', 't-stat', 'ratio'],
    ['_tstat_nw', 't-stat NW', 'ratio'], ['_hit', 'Share > 0', 'pct'], ['_dates', 'Dates counted', 'int'],
  ];

  // One row per statistic, IC beside rank IC (narrow enough for the side column).
  function signalTable(ev) {
    const table = $('signal-table');
    clear(table.tHead);
    table.tHead.appendChild(el('tr', null, [el('th', { scope: 'col' }, ''),
      el('th', { class: 'num', scope: 'col' }, 'IC'), el('th', { class: 'num', scope: 'col' }, 'Rank IC')]));
    const tbody = table.tBodies[0];
    clear(tbody);
    for (const [suffix, label, f] of SIG_ROWS) {
      const tr = el('tr', null, el('th', { scope: 'row' }, label));
      for (const base of ['ic', 'rank_ic']) {
        const v = metric(ev, base + suffix);
        const td = el('td', { class: 'num', 'data-metric': base + suffix }, fmt(f, v));
        if (suffix === '_tstat_nw' && isNum(v) && Math.abs(v) >= 2) td.classList.add(v > 0 ? 'good' : 'meh');
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  // Q1..QN as an SVG bar chart around a zero line; each bar has a <title>.
  function quantileBars(box, ev) {
    clear(box);
    const n = quantileCount(ev);
    const vals = [];
    for (let i = 1; i <= n; i++) vals.push(metric(ev, 'q_mean_' + i));
    if (!vals.some(isNum)) { box.appendChild(el('p', { class: 'muted small' }, 'No quantile means: no date had enough names.')); return; }
    const NS = 'http://www.w3.org/2000/svg';
    const svg = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const W = 400, H = 190, top = 22, bottom = 30, left = 8, right = 8;
    // The zero line splits the height in proportion to the largest bar on
    // each side, so every bar uses the same scale.
    const posMax = Math.max(0, ...vals.map(v => (isNum(v) ? v : 0)));
    const negMax = Math.max(0, ...vals.map(v => (isNum(v) ? -v : 0)));
    const plotH = H - top - bottom;
    const span = Math.max(1e-12, posMax + negMax);
    const zeroY = top + plotH * (posMax / span);
    const scale = plotH / span;
    const slot = (W - left - right) / n, barW = Math.min(56, slot * 0.6);
    const label = 'Mean forward return by score quantile (Q1 lowest scores): ' +
      vals.map((v, i) => 'Q' + (i + 1) + ' ' + pct(v)).join(', ');
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'qbars', role: 'img', 'aria-label': label });
    vals.forEach((v, i) => {
      const x = left + slot * i + (slot - barW) / 2;
      const h = isNum(v) ? Math.abs(v) * scale : 0;
      const y = isNum(v) && v > 0 ? zeroY - h : zeroY;
      const bar = svg('rect', { x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: Math.max(h, 0.5).toFixed(1),
        class: 'qbar ' + (isNum(v) && v < 0 ? 'neg' : 'pos'), 'data-q': i + 1 });
      bar.appendChild(svg('title', null, 'Q' + (i + 1) + ': ' + pct(v, 3)));
      root.appendChild(bar);
      const vy = isNum(v) && v < 0 ? y + h + 12 : y - 5;
      root.appendChild(svg('text', { x: (x + barW / 2).toFixed(1), y: Math.min(H - bottom + 13, vy).toFixed(1), class: 'qval' }, pct(v)));
      root.appendChild(svg('text', { x: (x + barW / 2).toFixed(1), y: H - 4, class: 'qlab' }, 'Q' + (i + 1)));
    });
    root.appendChild(svg('line', { x1: left, x2: W - right, y1: zeroY, y2: zeroY, class: 'qzero' }));
    box.appendChild(root);
    const spread = el('p', { class: 'small' }, ['Spread Q' + n + ' − Q1: ',
      el('strong', { 'data-metric': 'q_spread' }, pct(metric(ev, 'q_spread'))),
      el('span', { class: 'muted' }, ' (mean over dates of each group\'s mean forward return; h=' + fmtInt(ev.horizon) + ')')]);
    box.appendChild(spread);
  }

  // ---- per symbol (fewer than 5 symbols) ----

  const SINGLE_COLS = [
    // key (metric), header, format; bh: computed buy-and-hold
    ['ts_ic', 'ts IC', 'ic'], ['ts_rank_ic', 'ts rank IC', 'ic'], ['hit_rate', 'hit rate', 'pct'],
    ['annual_return', 'annual net', 'pct'], ['annual_return_gross', 'annual gross', 'pct'],
    ['bh:annual_return', 'buy & hold', 'pct'], ['sharpe', 'Sharpe net', 'ratio'],
    ['bh:sharpe', 'Sharpe b&h', 'ratio'], ['max_drawdown', 'max DD net', 'pct'],
    ['excess_return', 'excess / year', 'pct'], ['information_ratio', 'IR', 'ratio'],
    ['turnover', 'turnover / day', 'pct'], ['break_even_cost_bps', 'break-even', 'bp'],
  ];

  function stepReturns(cols, key) {
    return cols && Array.isArray(cols[key]) ? cols[key].filter(isNum) : [];
  }

  function renderSingle(resp, wanted) {
    const ev = resp.evaluation;
    const per = ev.metrics.per_symbol;
    const cols = resp.per_symbol && typeof resp.per_symbol === 'object' ? resp.per_symbol : {};
    const syms = Object.keys(per);
    const sym = syms.includes(wanted) ? wanted : syms[0];
    const bh = {};
    for (const s of syms) bh[s] = buyHoldStats(stepReturns(cols[s], 'benchmark'));
    $('signal-wrap').hidden = true;
    $('single-wrap').hidden = false;

    const table = $('single-table');
    clear(table.tHead);
    table.tHead.appendChild(el('tr', null, [el('th', { scope: 'col' }, 'symbol')].concat(SINGLE_COLS.map(([k, h]) =>
      el('th', { class: 'num', scope: 'col', title: k.startsWith('bh:') ? 'buy and hold, computed here from the daily series' : null }, h)))));
    const tbody = table.tBodies[0];
    clear(tbody);
    for (const s of syms) {
      const m = per[s] || {};
      const tr = el('tr', { 'data-symbol': s, class: 'clickable' + (s === sym ? ' current' : '') },
        el('td', { class: 'sym' }, el('a', { href: evalHref(ev.id) + '&symbol=' + encodeURIComponent(s), class: 'pick-symbol' }, s)));
      for (const [k, , f] of SINGLE_COLS) {
        const v = k.startsWith('bh:') ? bh[s][k.slice(3)] : (isNum(m[k]) ? m[k] : null);
        tr.appendChild(el('td', { class: 'num', 'data-metric': k }, fmt(f, v)));
      }
      tbody.appendChild(tr);
    }
    const select = $('symbol-select');
    clear(select);
    for (const s of syms) select.appendChild(el('option', { value: s }, s));
    $('symbol-pick').hidden = syms.length < 2;
    showSymbol(resp, sym, bh);
  }

  function showSymbol(resp, sym, bh) {
    const ev = resp.evaluation;
    const m = (ev.metrics.per_symbol || {})[sym] || {};
    const cols = (resp.per_symbol || {})[sym] || null;
    const stats = bh ? bh[sym] : buyHoldStats(stepReturns(cols, 'benchmark'));
    $('symbol-select').value = sym;
    for (const tr of $('single-table').querySelectorAll('tbody tr[data-symbol]')) {
      tr.classList.toggle('current', tr.getAttribute('data-symbol') === sym);
    }
    $('equity-title').textContent = sym + ': long or flat against buy and hold';
    const get = k => (isNum(m[k]) ? m[k] : null);
    backtestTable(get, k => get(k + '_gross'), k => (isNum(stats[k]) ? stats[k] : null), 'buy & hold');
    tradingFacts(get);
    state.current = { cols, labels: { net: 'net', gross: 'gross', bench: 'buy & hold' }, symbol: sym };
    drawEquityNow();
  }

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
    const chart = lib().createChart(box, {
      autoSize: true,
      layout: { background: { color: '#ffffff' }, textColor: '#334155', fontSize: 12,
        panes: { separatorColor: '#e2e8f0' },
        // The logo injects a <style> element, which the CSP blocks; the page
        // carries the attribution link as text instead.
        attributionLogo: false },
      grid: { vertLines: { color: '#f1f5f9' }, horzLines: { color: '#f1f5f9' } },
      rightPriceScale: { borderColor: '#e2e8f0' },
      timeScale: { borderColor: '#e2e8f0', minBarSpacing: 0.01 },
      crosshair: { mode: 0 },
    });
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

  // (Re)draw the equity chart of state.current: on opening, on picking a
  // symbol, on toggling the log scale.
  function drawEquityNow() {
    const cur = state.current;
    const box = $('equity-chart');
    if (state.equityChart) {
      state.equityChart.remove();
      state.charts = state.charts.filter(c => c !== state.equityChart);
      state.equityChart = null;
    }
    if (!cur || !cur.cols) {
      clear(box);
      box.appendChild(el('p', { class: 'empty muted' }, 'No daily series stored for this evaluation.'));
      return;
    }
    state.equityChart = drawEquity(box, $('equity-legend'), cur.cols, cur.labels, $('log-scale').checked);
  }

  function drawEquity(box, legend, cols, labels, log) {
    const LC = lib();
    const chart = newChart(box);
    const defs = [
      ['equity', 'net', labels.net, COLORS.net, 2, 0],
      ['equity_gross', 'gross', labels.gross, COLORS.gross, 1, 0],
      ['equity_benchmark', 'bench', labels.bench, COLORS.bench, 1, 2],
    ];
    const byDate = {};
    let netPts = [];
    for (const [key, role, label, color, width, style] of defs) {
      const pts = equityPoints(cols, key);
      if (role === 'net') netPts = pts;
      if (!pts.length) continue;
      const s = chart.addSeries(LC.LineSeries, lineOptions(color, width, label, { lineStyle: style }));
      s.setData(pts);
      if (role === 'net') s.priceScale().applyOptions({ mode: logMode(log, pts), scaleMargins: { top: 0.08, bottom: 0.05 } });
      byDate[role] = new Map(pts.map(p => [p.time, p.value]));
    }
    const dd = drawdownPoints(netPts);
    if (dd.length) {
      const s = chart.addSeries(LC.BaselineSeries, {
        baseValue: { type: 'price', price: 0 }, lineWidth: 1, title: 'drawdown',
        topLineColor: 'rgba(0,0,0,0)', topFillColor1: 'rgba(0,0,0,0)', topFillColor2: 'rgba(0,0,0,0)',
        bottomLineColor: COLORS.dd, bottomFillColor1: 'rgba(220, 38, 38, 0.30)', bottomFillColor2: 'rgba(220, 38, 38, 0.08)',
        priceLineVisible: false, lastValueVisible: true,
        priceFormat: { type: 'custom', minMove: 0.0001, formatter: v => (v * 100).toFixed(1) + '%' },
      }, 1);
      s.setData(dd);
      byDate.dd = new Map(dd.map(p => [p.time, p.value]));
      const panes = chart.panes();
      if (panes.length > 1) { panes[0].setStretchFactor(3); panes[1].setStretchFactor(1); }
    }
    chart.timeScale().fitContent();

    // The legend line: the values under the crosshair, or the last ones.
    const last = netPts.length ? netPts[netPts.length - 1].time : null;
    const show = date => {
      clear(legend);
      const item = (cls, label, map, f) => el('span', { class: 'lg' }, [swatch(cls), el('span', { class: 'k' }, label), ' ',
        map && map.has(date) ? f(map.get(date)) : '—']);
      append(legend, [
        el('span', { class: 'lg date' }, date || ''),
        item('sw-net', labels.net, byDate.net, v => v.toFixed(3)),
        item('sw-gross', labels.gross, byDate.gross, v => v.toFixed(3)),
        item('sw-bench', labels.bench, byDate.bench, v => v.toFixed(3)),
        item('sw-dd', 'drawdown', byDate.dd, v => pct(v, 1)),
      ]);
    };
    show(last);
    chart.subscribeCrosshairMove(param => {
      const t = timeKey(param && param.time);
      show(t && byDate.net && byDate.net.has(t) ? t : last);
    });
    return chart;
  }

  // Rolling mean over the last w values that exist (counted dates).
  function rollingMean(dates, vals, w) {
    const out = [], win = [];
    let sum = 0, head = 0;
    for (let i = 0; i < dates.length; i++) {
      if (!isNum(vals[i])) continue;
      win.push(vals[i]);
      sum += vals[i];
      if (win.length - head > w) sum -= win[head++];
      if (win.length - head === w) out.push({ time: dates[i], value: sum / w });
    }
    return out;
  }

  // Daily bars are readable up to a few years; beyond, a month's mean IC
  // per bar (dated at its last counted date) keeps the chart legible.
  const DAILY_BARS_MAX = 756;
  // A quarter's rolling mean; a year's over more than ten years of dates,
  // where a quarter's swings fill the pane and hide the trend.
  const rollWindow = counted => (counted > 2520 ? 252 : 63);

  function icBars(dates, ic) {
    const pts = [];
    for (let i = 0; i < dates.length; i++) if (isNum(ic[i])) pts.push({ time: dates[i], value: ic[i] });
    if (pts.length <= DAILY_BARS_MAX) return { pts, what: 'daily IC' };
    const months = [];
    for (const p of pts) {
      const key = p.time.slice(0, 7);
      const cur = months[months.length - 1];
      if (cur && cur.key === key) { cur.sum += p.value; cur.n++; cur.time = p.time; }
      else months.push({ key, sum: p.value, n: 1, time: p.time });
    }
    return { pts: months.map(m => ({ time: m.time, value: m.sum / m.n })), what: 'monthly mean IC' };
  }

  function drawIc(box, legend, cols, ev) {
    clear(legend);
    if (!cols || !Array.isArray(cols.date) || !Array.isArray(cols.ic) || !cols.ic.some(isNum)) {
      clear(box);
      box.appendChild(el('p', { class: 'empty muted' }, 'No date counted: a date counts when 5 or more names have a ' +
        'score and a forward return, and neither are all equal.'));
      return;
    }
    const LC = lib();
    const chart = newChart(box);
    const bars = icBars(cols.date, cols.ic);
    const ROLL = rollWindow(cols.ic.filter(isNum).length);
    // The rolling means on top, the bars in a pane of their own below: the
    // bars swing far wider than the means, so on one scale the means would be
    // a flat line.
    const roll = chart.addSeries(LC.LineSeries, lineOptions(COLORS.ic, 2, ROLL + 'd IC'));
    roll.setData(rollingMean(cols.date, cols.ic, ROLL));
    const rank = chart.addSeries(LC.LineSeries, lineOptions(COLORS.rank, 1, ROLL + 'd rank IC'));
    rank.setData(rollingMean(cols.date, cols.rank_ic || [], ROLL));
    const mean = metric(ev, 'ic');
    roll.createPriceLine({ price: 0, color: '#94a3b8', lineWidth: 1, lineStyle: 0, axisLabelVisible: false, title: '' });
    if (isNum(mean)) {
      roll.createPriceLine({ price: mean, color: COLORS.ic, lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: 'mean IC' });
    }
    const hist = chart.addSeries(LC.HistogramSeries, { priceLineVisible: false, lastValueVisible: false, title: bars.what,
      priceFormat: { type: 'price', precision: 2, minMove: 0.01 } }, 1);
    hist.setData(bars.pts.map(p => ({ time: p.time, value: p.value,
      color: p.value >= 0 ? 'rgba(15, 118, 110, 0.45)' : 'rgba(220, 38, 38, 0.45)' })));
    const panes = chart.panes();
    if (panes.length > 1) { panes[0].setStretchFactor(3); panes[1].setStretchFactor(2); }
    chart.timeScale().fitContent();
    append(legend, [
      el('span', { class: 'lg' }, [swatch('sw-ic'), ROLL + '-date rolling mean IC']),
      el('span', { class: 'lg' }, [swatch('sw-rank'), 'rolling mean rank IC']),
      el('span', { class: 'lg muted' }, 'dashed: mean IC ' + fmt('ic', mean)),
      el('span', { class: 'lg' }, [el('span', { class: 'swatch sw-icbar', 'aria-hidden': 'true' }),
        'below: ' + bars.what + ' (' + fmtInt(bars.pts.length) + ' bars)']),
    ]);
  }

  // ---------- several side by side ----------

  const CMP_ROWS = [
    // [section] or [key, label, format, better: 1 higher, -1 lower, 0 neither, getter?]
    ['Setup'],
    ['target', 'Target', 'text', 0, ev => ev.target || '—'],
    ['features', 'Features · h', 'text', 0, ev => (ev.features || '?') + ' · h=' + fmtInt(ev.horizon)],
    ['symbols', 'Symbols', 'int', 0],
    ['dates', 'Dates', 'text', 0, ev => ((ev.metrics || {}).first_date || '?') + ' → ' + ((ev.metrics || {}).last_date || '?')],
    ['book', 'Top K · drop M', 'text', 0, ev => fmtInt(params(ev).topk) + ' · ' + fmtInt(params(ev).n_drop)],
    ['costs', 'Costs buy · sell', 'text', 0, ev => bpText(params(ev).buy_cost) + ' · ' + bpText(params(ev).sell_cost)],
    ['benchmark', 'Benchmark', 'text', 0, benchmarkName],
    ['Signal'],
    ['ic', 'IC', 'ic', 1], ['ic_tstat_nw', 'IC t-stat NW', 'ratio', 1],
    ['rank_ic', 'Rank IC', 'ic', 1], ['rank_icir', 'Rank ICIR', 'ir', 1],
    ['rank_ic_tstat_nw', 'Rank IC t-stat NW', 'ratio', 1], ['rank_ic_hit', 'Rank IC > 0', 'pct', 1],
    ['q_spread', 'Quantile spread', 'pct', 1],
    ['Backtest, net of costs'],
    ['total_return', 'Total return', 'pct', 1], ['annual_return', 'Annual return', 'pct', 1],
    ['annual_vol', 'Annual volatility', 'pct', 0], ['sharpe', 'Sharpe', 'ratio', 1],
    ['max_drawdown', 'Max drawdown', 'pct', 1], ['excess_return', 'Excess return / year', 'pct', 1],
    ['information_ratio', 'Information ratio', 'ratio', 1],
    ['Gross and benchmark'],
    ['annual_return_gross', 'Annual return gross', 'pct', 1], ['sharpe_gross', 'Sharpe gross', 'ratio', 1],
    ['benchmark_annual_return', 'Benchmark annual return', 'pct', 0], ['benchmark_sharpe', 'Benchmark Sharpe', 'ratio', 0],
    ['Trading'],
    ['turnover', 'Turnover / day', 'pct', -1], ['total_cost', 'Costs in all', 'pct', -1],
    ['break_even_cost_bps', 'Break-even cost', 'bp', 1], ['steps', 'Steps', 'int', 0],
  ];

  async function openCompare(ids) {
    const seq = ++state.seq;
    showError('');
    document.body.dataset.shown = 'loading';
    const got = await Promise.all(ids.map(id => loadDetail(id).then(r => ({ id, r }), e => ({ id, e }))));
    if (seq !== state.seq) return;
    const bad = got.filter(g => g.e);
    if (bad.length) showError('Could not load ' + bad.map(g => g.id + ' (' + g.e.message + ')').join(', '));
    const ok = got.filter(g => g.r).map(g => g.r);
    dropCharts();
    $('detail').hidden = true;
    state.open = null;
    markOpen();
    if (ok.length === 0) { $('compare').hidden = true; document.body.dataset.shown = 'error'; return; }
    $('compare').hidden = false;
    renderCompare(ok);
    document.body.dataset.shown = 'compare';
  }

  function renderCompare(resps) {
    const evs = resps.map(r => r.evaluation || {});
    $('compare-sub').textContent = fmtInt(evs.length) + ' evaluations';
    const table = $('compare-table');
    clear(table.tHead);
    table.tHead.appendChild(el('tr', null, [el('th', { scope: 'col' }, 'Metric')].concat(evs.map((ev, i) =>
      el('th', { class: 'num', scope: 'col', 'data-eval': ev.id }, [
        el('span', { class: 'swatch line c' + (i % PALETTE.length), 'aria-hidden': 'true' }),
        el('a', { href: evalHref(ev.id), class: 'mono' }, ev.id)])))));
    const tbody = table.tBodies[0];
    clear(tbody);
    for (const row of CMP_ROWS) {
      if (row.length === 1) {
        tbody.appendChild(el('tr', { class: 'section' }, el('th', { colspan: evs.length + 1, scope: 'colgroup' }, row[0])));
        continue;
      }
      const [key, label, f, better, get] = row;
      const vals = evs.map(ev => (get ? get(ev) : metric(ev, key)));
      const nums = vals.filter(isNum);
      let best = null;
      if (better && nums.length >= 2 && Math.min(...nums) !== Math.max(...nums)) {
        best = better > 0 ? Math.max(...nums) : Math.min(...nums);
      }
      const tr = el('tr', null, el('th', { scope: 'row' }, label));
      vals.forEach((v, i) => {
        const text = f === 'text' ? v : fmt(f, v);
        tr.appendChild(el('td', { class: 'num' + (best !== null && v === best ? ' best' : ''),
          'data-metric': key, 'data-eval': evs[i].id }, text));
      });
      tbody.appendChild(tr);
    }
    drawCompare(resps);
  }

  function drawCompare(resps) {
    const LC = lib();
    const box = $('compare-chart'), legend = $('compare-legend');
    const chart = newChart(box);
    clear(legend);
    let first = null;
    const all = [];
    resps.forEach((r, i) => {
      const ev = r.evaluation || {};
      const color = PALETTE[i % PALETTE.length];
      const pts = equityPoints(r.daily, 'equity');
      const entry = el('span', { class: 'lg' }, [swatch('c' + (i % PALETTE.length)), el('span', { class: 'mono' }, ev.id)]);
      if (!pts.length) {
        append(entry, el('span', { class: 'muted' }, isPerSymbol(ev) ? ' (per symbol: no book curve)' : ' (no daily series)'));
        legend.appendChild(entry);
        return;
      }
      append(entry, el('span', { class: 'muted' }, ' ' + pct(metric(ev, 'annual_return')) + ' a year'));
      legend.appendChild(entry);
      const s = chart.addSeries(LC.LineSeries, lineOptions(color, 2, ev.id.replace(/^ev_/, '')));
      s.setData(pts);
      all.push(...pts);
      if (!first) first = s;
    });
    if (first) first.priceScale().applyOptions({ mode: logMode($('compare-log').checked, all) });
    chart.timeScale().fitContent();
    state.compareChart = { chart, first, all };
  }

  // ---------- wiring ----------

  function onListClick(ev) {
    if (ev.target.closest('input.pick, td.pick')) return;
    const tr = ev.target.closest('tr[data-eval]');
    if (!tr) return;
    const link = ev.target.closest('a');
    // Let the browser open a new tab for a modified click on the link.
    if (link && (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0)) return;
    ev.preventDefault();
    const id = tr.getAttribute('data-eval');
    writeUrl({ id });
    openDetail(id, '');
  }

  function onPick(ev) {
    const box = ev.target.closest('input.pick');
    if (!box) return;
    const id = box.closest('tr[data-eval]').getAttribute('data-eval');
    if (box.checked) state.picked.add(id);
    else state.picked.delete(id);
    renderToolbar();
  }

  function wire() {
    const table = $('evals');
    Q.wireSort(table, state.sort, renderList);
    table.tBodies[0].addEventListener('click', onListClick);
    table.tBodies[0].addEventListener('change', onPick);
    $('compare-btn').addEventListener('click', () => {
      const ids = Array.from(state.picked);
      if (ids.length < 2) return;
      writeUrl({ compare: ids.join(',') });
      openCompare(ids);
    });
    $('clear-btn').addEventListener('click', () => {
      state.picked.clear();
      renderList();
      renderToolbar();
    });
    $('log-scale').addEventListener('change', drawEquityNow);
    $('compare-log').addEventListener('change', () => {
      const c = state.compareChart;
      if (c && c.first) c.first.priceScale().applyOptions({ mode: logMode($('compare-log').checked, c.all) });
    });
    $('symbol-select').addEventListener('change', () => pickSymbol($('symbol-select').value));
    $('single-table').tBodies[0].addEventListener('click', ev => {
      const tr = ev.target.closest('tr[data-symbol]');
      if (!tr) return;
      const link = ev.target.closest('a');
      if (link && (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0)) return;
      ev.preventDefault();
      pickSymbol(tr.getAttribute('data-symbol'));
    });
    window.addEventListener('popstate', () => { showFromUrl(); });
  }

  async function pickSymbol(sym) {
    if (!state.open) return;
    const resp = await loadDetail(state.open);
    writeUrl({ id: state.open, symbol: sym });
    showSymbol(resp, sym, null);
  }

  async function initEvaluation() {
    let data;
    try {
      data = await api('/api/evaluations');
    } catch (e) {
      // 404 is "no store yet": a fresh home, which has no evaluations either.
      if (e.status !== 404) { showError('Could not load evaluations: ' + e.message); return; }
      data = { evaluations: [] };
    }
    state.list = (Array.isArray(data.evaluations) ? data.evaluations : [])
      .filter(x => x && typeof x === 'object' && typeof x.id === 'string');
    $('count').textContent = fmtInt(state.list.length) + ' stored';
    wire();
    renderList();
    renderToolbar();
    document.body.dataset.loaded = 'yes';
    await showFromUrl();
  }

  Q.pages.evaluation = initEvaluation;
})();
