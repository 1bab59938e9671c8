#!/usr/bin/env python3
"""bench/evaluation.py: the evaluation half of the loop (issue 13) through the real
binary, beside what a pandas user would write, in one invocation.

On ../shared/data/universe (the 120 Yahoo files as one long CSV, as bench/pipeline.py
prepares it), in a fresh QUANT_HOME:
  walkforward  `quant walkforward --all` (tech-v1, h=5, LightGBM, yearly blocks):
               wall clock and peak RSS, --wf-reps times (default 1: it is the long one);
  evaluate     `quant evaluate --run latest --dry-run`, --reps times: the whole process
               (reading the scores, computing fwd_ret_5 and the adjusted closes from the
               bars, IC, rank IC, Newey-West, quantiles and the top-50 backtest) and
               the kernels alone (its "Computed in" line);
  pandas       the signal analysis alone (daily IC, rank IC, quantile means) with pandas
               groupby on the same scores and labels, read from a CSV that quant
               exports once; timed read and compute separately, --reps times.
The pandas figures are also a cross-check: its mean IC and rank IC must equal quant's
to 1e-9, or the run stops.  Prints one markdown table of medians and ratios.

Standard library only for the driver; the baseline runs under --python (Debian's
python3-pandas).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pipeline  # noqa: E402  (shares the dataset preparation and the process timer)

PANDAS_SIGNAL = r"""
import sys, time, json
t0 = time.monotonic()
import pandas as pd
df = pd.read_csv(sys.argv[1])
t1 = time.monotonic()
df = df.dropna(subset=["score", "fwd_return"])
g = df.groupby("date")
n = g["score"].transform("size")
ok = (n >= 5) & (g["score"].transform("nunique") > 1) & (g["fwd_return"].transform("nunique") > 1)
d = df[ok]
gd = d.groupby("date")
ic = gd[["score", "fwd_return"]].corr().xs("score", level=1)["fwd_return"]
r = d.assign(rs=gd["score"].rank(), rr=gd["fwd_return"].rank())
ric = r.groupby("date")[["rs", "rr"]].corr().xs("rs", level=1)["rr"]
q = 5
m = df.groupby("date")["score"].transform("size")
qd = df[m >= q].sort_values(["date", "score", "symbol"])
pos = qd.groupby("date").cumcount()
qd = qd.assign(g=(pos * q // qd.groupby("date")["score"].transform("size")) + 1)
qm = qd.groupby(["date", "g"])["fwd_return"].mean().groupby("g").mean()
t2 = time.monotonic()
print(json.dumps({"read": t1 - t0, "compute": t2 - t1, "ic": ic.mean(), "rank_ic": ric.mean(),
                  "ic_dates": int(ic.size), "q_mean": [float(x) for x in qm]}))
"""


def run(argv, env, log_path):
    wall, rss, out = pipeline.run_timed(argv, env, log_path)
    return wall, rss, out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quant", default=os.path.join(pipeline.REPO, "build", "quant"))
    ap.add_argument("--work", default="/tmp/quant-bench-evaluation")
    ap.add_argument("--shared", help="the shared folder (default as bench/pipeline.py)")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=5, help="evaluate and pandas repetitions")
    ap.add_argument("--wf-reps", type=int, default=1, help="walk-forward repetitions")
    args = ap.parse_args(argv)
    args.work = os.path.abspath(args.work)
    args.shared = pipeline.find_shared(args.shared)
    args.quant = os.path.abspath(args.quant)
    os.makedirs(os.path.join(args.work, "inputs"), exist_ok=True)
    csv, _ = pipeline.prepare_universe(args, os.path.join(args.work, "inputs"))
    home = os.path.join(args.work, "home")
    shutil.rmtree(home, ignore_errors=True)
    env = pipeline.quant_env(home)
    logs = os.path.join(args.work, "logs")
    os.makedirs(logs, exist_ok=True)
    q = args.quant
    load0 = os.getloadavg()
    pipeline.log(f"ingest {csv}")
    run([q, "ingest", "--csv", csv], env, os.path.join(logs, "ingest.err"))
    wf = []
    for i in range(args.wf_reps):
        wall, rss, out = run([q, "walkforward", "--all"], env, os.path.join(logs, "wf.err"))
        wf.append((wall, rss))
        pipeline.log(f"  walkforward {wall:8.2f} s  {rss / 1024:8.0f} MiB")
    blocks = re.search(r"run (\S+), (\d+) blocks, ([\d,]+) out-of-sample", out)
    run([q, "labels", "--horizon", "5", "--materialize"], env, os.path.join(logs, "labels.err"))
    preds = os.path.join(args.work, "preds.csv")
    run([q, "export", "--force", "-o", preds, "--query",
         "SELECT p.symbol, p.date, p.score, l.fwd_return FROM walkforward_predictions p"
         " LEFT JOIN labels l ON l.symbol = p.symbol AND l.date = p.date AND l.horizon = 5"
         f" WHERE p.run_id = '{blocks.group(1)}' ORDER BY p.date, p.symbol"],
        env, os.path.join(logs, "export.err"))
    ev, kern, pr, pc, js, pj = [], [], [], [], None, None
    for i in range(args.reps):
        wall, rss, out = run([q, "evaluate", "--run", "latest", "--dry-run", "--json"], env,
                             os.path.join(logs, "evaluate.err"))
        js = json.loads(out)
        wall2, _, out2 = run([q, "evaluate", "--run", "latest", "--dry-run"], env,
                             os.path.join(logs, "evaluate.err"))
        kern.append(float(re.search(r"Computed in ([\d.]+) s", out2).group(1)))
        ev.append((wall2, rss))
        r = subprocess.run([args.python, "-c", PANDAS_SIGNAL, preds], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise pipeline.BenchError(f"the pandas baseline failed: {r.stderr.strip()}")
        pj = json.loads(r.stdout)
        pr.append(pj["read"])
        pc.append(pj["compute"])
        pipeline.log(f"  evaluate {wall2:8.3f} s (kernels {kern[-1]:.3f} s)   pandas read "
                     f"{pj['read']:.3f} s compute {pj['compute']:.3f} s")
    for key in ("ic", "rank_ic"):
        a, b = js[key], pj[key]
        if abs(a - b) > 1e-9 * abs(b) + 1e-12:
            raise pipeline.BenchError(f"{key}: quant {a!r}, pandas {b!r}: they must agree")
    if js["ic_dates"] != pj["ic_dates"]:
        raise pipeline.BenchError(f"ic_dates: quant {js['ic_dates']}, pandas {pj['ic_dates']}")
    med = statistics.median
    evm, km, prm, pcm = med(x[0] for x in ev), med(kern), med(pr), med(pc)
    print(f"# bench/evaluation: {q}, {os.cpu_count()} CPUs, load at start "
          f"{' '.join(f'{x:.2f}' for x in load0)}, at end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"universe: {blocks.group(2)} yearly blocks, {blocks.group(3)} out-of-sample "
          f"scores; IC {js['ic']:.4f} and rank IC {js['rank_ic']:.4f} over "
          f"{js['ic_dates']} dates, equal in quant and pandas to 1e-9\n")
    print("| stage | median (s) | baseline | baseline median (s) | ratio | peak RSS |")
    print("|---|---|---|---|---|---|")
    print(f"| walkforward --all (tech-v1, LightGBM, yearly) | {med(x[0] for x in wf):.1f} | "
          f"| | | {max(x[1] for x in wf) / 1024:.0f} MiB |")
    print(f"| evaluate (whole process: read, labels, signal, backtest) | {evm:.3f} | pandas "
          f"read + signal only | {prm + pcm:.3f} | quant/pandas = {evm / (prm + pcm):.2f} | "
          f"{max(x[1] for x in ev) / 1024:.0f} MiB |")
    print(f"| evaluate kernels (signal + backtest) | {km:.3f} | pandas signal compute only "
          f"| {pcm:.3f} | quant/pandas = {km / pcm:.2f} | |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except pipeline.BenchError as e:
        print(f"bench/evaluation: {e}", file=sys.stderr)
        sys.exit(1)
