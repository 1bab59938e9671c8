// The Evaluation page: the registry of `quant evaluate` results, one
// evaluation opened (drawn by evaluation-detail.js), and several of them side
// by side; the URL says which (?id=ID, ?id=ID&symbol=S, ?compare=A,B).  The
// state, the number formats and the chart primitives are in
// evaluation-kit.js, which says how the page's scripts fit together.
'use strict';

(function () {
  const Q = window.Quant;
  const E = Q && Q.evalKit, D = Q && Q.evalDetail;
  if (!E || !D) return; // a script before this one did not load
  const { el, append, clear, fmtInt, fmtTime, fmtShortTime, api, showError } = Q;
  const { isNum, pct, fmt, metric, isPerSymbol, params, benchmarkName, state, loadDetail, dropCharts,
    evalHref, bpText, PALETTE, lib, newChart, equityPoints, lineOptions, swatch, logMode } = E;
  const { renderDetail, showSymbol, drawEquityNow } = D;
  const $ = id => document.getElementById(id);

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
      // No store yet is an empty list too (the server says so, not a 404).
      data = await api('/api/evaluations');
    } catch (e) {
      showError('Could not load evaluations: ' + e.message);
      return;
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
