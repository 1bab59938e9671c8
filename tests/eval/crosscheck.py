#!/usr/bin/env python3
"""crosscheck.py: EVALUATION.md reimplemented independently with numpy and pandas.

tests/eval/test_crosscheck.c writes a random panel, prices and walk-forward
calendars into a folder, runs this script on it and compares every number it
prints with libquant's to 1e-9 relative (1e-12 absolute).  Written from the
spec's text, not from the C code: the two must only agree on the spec.

    crosscheck.py DIR      reads DIR/params.json, panel.csv, prices.csv,
                           wf_dates.csv; writes one JSON object to stdout

Where the spec leaves a choice open, the choice documented in
include/quant/evaluation.h is taken (and named in a comment here):
the backtest calendar is the dates with at least one score; held names
without a score sort after scored ones by symbol; the equal-weighted
benchmark of a step with no scored name is 0; a correlation with fewer than
two points or no spread is undefined (null).
"""
import json
import math
import sys

import numpy as np
import pandas as pd

YEAR = 252
NAN = float("nan")


def jsonable(v):
    """Numbers as JSON numbers, NaN and infinities as null."""
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def pearson(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return NAN
    return float(np.corrcoef(x, y)[0, 1])


def rank_corr(x, y):
    return pearson(pd.Series(x).rank(method="average"), pd.Series(y).rank(method="average"))


# ---- signal analysis -------------------------------------------------------

def summarize(prefix, values, lags):
    x = np.asarray(values, dtype=float)
    k = len(x)
    mean = std = ir = tstat = tstat_nw = hit = NAN
    if k:
        mean = x.mean()
        hit = float(np.mean(x > 0))
        if k > 1:
            std = x.std(ddof=1)
        if std > 0:
            ir = mean / std
            tstat = ir * math.sqrt(k)
        dev = x - mean
        var = float(np.dot(dev, dev)) / k
        for lag in range(1, lags + 1):
            if lag < k:   # g_l sums over t > l: no pairs once l reaches k
                g = float(np.dot(dev[lag:], dev[:-lag])) / k
                var += 2.0 * (1.0 - lag / (lags + 1)) * g
        if var > 0:
            tstat_nw = mean / math.sqrt(var / k)
    return {prefix: mean, prefix + "_std": std, prefix + "ir": ir, prefix + "_tstat": tstat,
            prefix + "_tstat_nw": tstat_nw, prefix + "_hit": hit, prefix + "_dates": k}


def cross_section(day):
    """S_t: rows with a score, a label and membership."""
    ok = day["score"].notna() & day["fwd_ret"].notna() & (day["member"] == 1)
    return day[ok]


def signal(panel, horizon, q):
    days, ics, rank_ics, quantile_rows = [], [], [], []
    for date, day in panel.groupby("date", sort=True):
        s = cross_section(day)
        n = len(s)
        counted = n >= 5 and s["score"].nunique() > 1 and s["fwd_ret"].nunique() > 1
        ic = ric = NAN
        if counted:
            ic = pearson(s["score"], s["fwd_ret"])
            ric = rank_corr(s["score"].values, s["fwd_ret"].values)
            ics.append(ic)
            rank_ics.append(ric)
        days.append([int(date), n, counted, ic, ric])
        if n >= q:
            ordered = s.sort_values(["score", "symbol"], kind="mergesort")
            group = (np.arange(n) * q) // n + 1
            means = ordered["fwd_ret"].groupby(group).mean()
            quantile_rows.append([means[g] for g in range(1, q + 1)])
    out = summarize("ic", ics, horizon - 1)
    out.update(summarize("rank_ic", rank_ics, horizon - 1))
    q_mean = np.mean(np.array(quantile_rows), axis=0) if quantile_rows else [NAN] * q
    for g in range(q):
        out["q_mean_%d" % (g + 1)] = q_mean[g]
    out["q_spread"] = q_mean[q - 1] - q_mean[0]
    return out, days


# ---- backtest ---------------------------------------------------------------

class Prices:
    def __init__(self, frame, n_symbols):
        self.series = {}
        for sym in range(n_symbols):
            rows = frame[frame["symbol"] == sym].sort_values("date")
            self.series[sym] = (rows["date"].to_numpy(), rows["close"].to_numpy())

    def ret(self, sym, t1, t2):
        """C(t2) / C(t1) - 1, C(t) the last close at or before t; 0 before the first."""
        dates, closes = self.series[sym]
        i1 = np.searchsorted(dates, t1, side="right") - 1
        if i1 < 0:
            return 0.0
        i2 = np.searchsorted(dates, t2, side="right") - 1
        return float(closes[i2] / closes[i1] - 1.0)


def calendar(panel):
    return sorted(int(d) for d in panel.loc[panel["score"].notna(), "date"].unique())


def scores_by_date(panel):
    ok = panel["score"].notna() & (panel["member"] == 1)
    out = {}
    for date, day in panel[ok].groupby("date"):
        out[int(date)] = dict(zip(day["symbol"].astype(int), day["score"].astype(float)))
    return out


def topk_dropout(held, scores, k, m):
    """Qlib's TopkDropoutStrategy as the spec writes it."""
    def key(sym):   # score descending, ties by symbol; no score (or not a member): last
        return (0, -scores[sym], sym) if sym in scores else (1, 0.0, sym)
    last = sorted(held, key=key)
    today = [s for s in sorted(scores, key=key) if s not in held][:m + k - len(last)]
    comb = sorted(last + today, key=key)
    tail = set(comb[max(len(comb) - m, 0):]) if m > 0 else set()
    sell = [s for s in last if s in tail]
    buy = today[:len(sell) + k - len(last)]
    return [s for s in last if s not in sell] + buy


def perf(x, b, suffix):
    x = np.asarray(x, dtype=float)
    e = x - np.asarray(b, dtype=float)
    n = len(x)
    total = float(np.prod(1.0 + x)) - 1.0
    equity = np.concatenate([[1.0], np.cumprod(1.0 + x)])
    sd = x.std(ddof=1) if n > 1 else NAN
    sde = e.std(ddof=1) if n > 1 else NAN
    out = {
        "total_return": total,
        "annual_return": (1.0 + total) ** (YEAR / n) - 1.0 if n else NAN,
        "annual_vol": sd * math.sqrt(YEAR),
        "sharpe": x.mean() / sd * math.sqrt(YEAR) if sd > 0 else NAN,
        "max_drawdown": float(np.min(equity / np.maximum.accumulate(equity) - 1.0)),
        "excess_return": e.mean() * YEAR if n else NAN,
        "information_ratio": e.mean() / sde * math.sqrt(YEAR) if sde > 0 else NAN,
    }
    return {k + suffix: v for k, v in out.items()}


def metrics(steps):
    gross = [s["gross"] for s in steps]
    net = [s["gross"] - s["cost"] for s in steps]
    bench = [s["bench"] for s in steps]
    turnover = float(np.mean([s["turnover"] for s in steps]))
    out = perf(net, bench, "")
    out.update(perf(gross, bench, "_gross"))
    out["turnover"] = turnover
    out["total_cost"] = float(np.sum([s["cost"] for s in steps]))
    excess = float(np.mean(np.array(gross) - np.array(bench)))
    out["break_even_cost_bps"] = 10000.0 * excess / (2.0 * turnover) if turnover > 0 else NAN
    out["steps"] = len(steps)
    return out


def day_rows(steps):
    rows, eq, eq_gross = [], 1.0, 1.0
    for s in steps:
        net = s["gross"] - s["cost"]
        eq *= 1.0 + net
        eq_gross *= 1.0 + s["gross"]
        rows.append([s["t0"], s["t2"], s["gross"], net, s["bench"], s["turnover"], s["cost"],
                     eq, eq_gross, s["n_held"]])
    return rows


def trade_costs(weights, drifted, buy_cost, sell_cost):
    names = set(weights) | set(drifted)
    buys = sum(max(weights.get(i, 0.0) - drifted.get(i, 0.0), 0.0) for i in names)
    sells = sum(max(drifted.get(i, 0.0) - weights.get(i, 0.0), 0.0) for i in names)
    return buy_cost * buys + sell_cost * sells, (buys + sells) / 2.0


def backtest(panel, prices, p, bench_sym):
    dates = calendar(panel)
    scores = scores_by_date(panel)
    held, w_prev, r_prev, gross_prev = [], {}, {}, 0.0
    steps, holdings = [], []
    for j in range(len(dates) - 2):
        t0, t1, t2 = dates[j], dates[j + 1], dates[j + 2]
        sc = scores.get(t0, {})
        drifted = {i: w_prev[i] * (1.0 + r_prev[i]) / (1.0 + gross_prev) for i in w_prev}
        held = topk_dropout(held, sc, p["topk"], p["n_drop"])
        weights = {i: 1.0 / len(held) for i in held}
        cost, turnover = trade_costs(weights, drifted, p["buy_cost"], p["sell_cost"])
        r = {i: prices.ret(i, t1, t2) for i in held}
        gross = sum(weights[i] * r[i] for i in held)
        if bench_sym is not None:
            bench = prices.ret(bench_sym, t1, t2)
        else:   # no scored name: 0 (cash)
            bench = float(np.mean([prices.ret(i, t1, t2) for i in sc])) if sc else 0.0
        steps.append({"t0": t0, "t2": t2, "gross": gross, "cost": cost, "bench": bench,
                      "turnover": turnover, "n_held": len(held)})
        holdings.append(sorted(held))
        w_prev, r_prev, gross_prev = weights, r, gross
    return metrics(steps), day_rows(steps), holdings


def singles(panel, prices, p):
    dates = calendar(panel)
    out = []
    for sym in sorted(int(s) for s in panel.loc[panel["score"].notna(), "symbol"].unique()):
        rows = panel[panel["symbol"] == sym]
        s = cross_section(rows)
        x, y = s["score"].to_numpy(), s["fwd_ret"].to_numpy()
        one = {"symbol": sym, "dates": len(s), "ts_ic": pearson(x, y),
               "ts_rank_ic": rank_corr(x, y) if len(s) >= 2 else NAN,
               "hit_rate": float(np.mean((x > 0.5) == (y > 0))) if len(s) else NAN}
        ok = rows[rows["score"].notna() & (rows["member"] == 1)]
        score_at = dict(zip(ok["date"].astype(int), ok["score"].astype(float)))
        steps, w_prev, r_prev, gross_prev = [], 0.0, 0.0, 0.0
        for j in range(len(dates) - 2):
            t0, t1, t2 = dates[j], dates[j + 1], dates[j + 2]
            w = 1.0 if score_at.get(t0, 0.0) > 0.5 else 0.0
            drifted = w_prev * (1.0 + r_prev) / (1.0 + gross_prev) if w_prev else 0.0
            cost, turnover = trade_costs({0: w}, {0: drifted}, p["buy_cost"], p["sell_cost"])
            r = prices.ret(sym, t1, t2)
            steps.append({"t0": t0, "t2": t2, "gross": w * r, "cost": cost, "bench": r,
                          "turnover": turnover, "n_held": int(w)})
            w_prev, r_prev, gross_prev = w, r, w * r
        one["metrics"] = metrics(steps)
        one["days"] = day_rows(steps)
        out.append(one)
    return out


# ---- walk-forward -------------------------------------------------------------

def blocks(dates, rows, cfg):
    h, v, t = cfg["horizon"], cfg["valid_dates"], cfg["train_dates"]
    m = len(dates)
    if cfg["step"] == "year":
        years = pd.to_datetime(pd.Series(dates), unit="D").dt.year.to_numpy()
        starts = [0] + [i for i in range(1, m) if years[i] != years[i - 1]]
        cands = [(s, e, int(years[s])) for s, e in zip(starts, starts[1:] + [m])]
    else:
        n = cfg["step_dates"]
        cands = [(s, min(s + n, m), 0) for s in range(0, m, n)]
    cum = np.concatenate([[0], np.cumsum(rows)])
    out = []
    for s, e, year in cands:
        train_end = s - 2 * h - v                     # train = D[a .. s - 2h - V - 1]
        a = 0 if t == 0 else train_end - t
        if train_end < 0 or a < 0:                    # would reach before d_0
            continue
        if not out and (train_end - a < 756 or cum[train_end] - cum[a] < 200):
            continue                                  # not yet the first test block
        out.append([year, a, train_end, s - h - v, s - h, s, e,
                    int(cum[train_end] - cum[a]), int(cum[s - h] - cum[s - h - v]),
                    int(cum[e] - cum[s])])
    return out


def main(folder):
    with open(folder + "/params.json") as f:
        p = json.load(f)
    # round_trip: the C side prints 17 digits; the default parser may miss the last bit
    panel = pd.read_csv(folder + "/panel.csv", float_precision="round_trip")
    prices = Prices(pd.read_csv(folder + "/prices.csv", float_precision="round_trip"),
                    p["n_symbols"])
    wf = pd.read_csv(folder + "/wf_dates.csv")
    sig, ic_days = signal(panel, p["horizon"], p["quantiles"])
    bt, bt_days, holdings = backtest(panel, prices, p, None)
    bt_named, named_days, _ = backtest(panel, prices, p, p["benchmark_symbol"])
    metrics_all = dict(sig)
    metrics_all.update(bt)
    out = {
        "metrics": metrics_all, "ic_days": ic_days, "bt_days": bt_days, "holdings": holdings,
        "metrics_named": bt_named, "named_days": named_days,
        "singles": singles(panel, prices, p),
        "blocks": [blocks(wf["date"].to_numpy(), wf["rows"].to_numpy(), c) for c in p["wf"]],
    }
    json.dump(jsonable(out), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        main(sys.argv[1])
