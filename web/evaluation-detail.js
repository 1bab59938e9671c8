// The Evaluation page: one evaluation shown (evaluation-kit.js says how the
// page's scripts fit together).  The cross-section gets its backtest and
// signal tables, the quantile bars, the equity and drawdown chart and the IC
// chart; an evaluation of fewer than 5 symbols gets a row per symbol and one
// symbol's chart against buying and holding it.  The page computes nothing
// the API already has, except what a chart draws (drawdown from the equity,
// rolling IC) and, per symbol, buy-and-hold's own metrics, which the API
// leaves out (see buyHoldStats).
'use strict';

(function () {
  const Q = window.Quant;
  const E = Q && Q.evalKit;
  if (!E) return; // app.js or evaluation-kit.js did not load
  const { el, append, clear, fmtInt, fmtTime } = Q;
  const { isNum, pct, fmt, metric, isPerSymbol, params, benchmarkName, quantileCount, buyHoldStats,
    state, evalHref, kv, bpText, COLORS, lib, newChart, timeKey, equityPoints, drawdownPoints,
    lineOptions, swatch, logMode } = E;
  const $ = id => document.getElementById(id);

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

  Q.evalDetail = { renderDetail, showSymbol, drawEquityNow };
})();
