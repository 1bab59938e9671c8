#!/usr/bin/env python3
"""scaleout.py: a sharded pipeline against one process, on one machine.

The pipeline is deploy/slurm/quant-shards.sbatch's: ingest a CSV, labels
--materialize, train --score (per-symbol models).  It runs three ways, in the
same invocation so the ratios hold on a shared machine:

  store   one process, the single-file DuckDB store (the default mode)
  lake1   one process, lake mode (QUANT_LAKE, a SQLite registry in the lake)
  lake3   three processes at once, --shard 0/3, 1/3, 2/3, into one lake and
          one registry (the way a Slurm array runs it, one node per shard)

On one machine the three shards share its cores, so lake3 measures what
sharding costs and what the lake's locking allows, not a speed-up: across
machines each shard would have its own cores and disk.

  python3 bench/scaleout.py --quant build/quant [--symbols 500 --days 6500]
                            [--reps 1] [--meta-url postgresql://...]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STAGES = [
    ("ingest", ["ingest", "--csv", "{csv}"]),
    ("labels", ["labels", "--all", "--materialize"]),
    ("train --score", ["train", "--all", "--score", "--algo", "{algo}", "--threads", "{threads}"]),
]


def make_source(quant, work, symbols, days):
    csv = os.path.join(work, f"bars-{symbols}x{days}.csv")
    if os.path.exists(csv):
        return csv
    home = os.path.join(work, "source")
    syms = os.path.join(work, "symbols.txt")
    with open(syms, "w") as f:
        f.write("\n".join(f"S{i:04d}" for i in range(symbols)) + "\n")
    env = dict(os.environ, QUANT_HOME=home)
    env.pop("QUANT_LAKE", None)
    subprocess.run([quant, "ingest", "--provider", "synthetic", "--days", str(days),
                    "--symbols", "@" + syms], env=env, check=True, capture_output=True)
    subprocess.run([quant, "export", "--query",
                    "SELECT symbol, date, open, high, low, close, volume FROM ohlcv",
                    "--output", csv], env=env, check=True, capture_output=True)
    return csv


def run_stage(quant, args, env):
    t0 = time.monotonic()
    p = subprocess.run([quant] + args, env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"quant {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return dt


def pipeline(quant, csv, env, algo, threads, shard=None):
    """Run the stages in order; return their times."""
    out = []
    for _, tmpl in STAGES:
        args = [a.format(csv=csv, algo=algo, threads=threads) for a in tmpl]
        if shard is not None:
            args += ["--shard", shard]
        out.append(run_stage(quant, args, env))
    return out


def base_env(home, lake=None, meta_url=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QUANT_", "SLURM_")) and k != "JOB_COMPLETION_INDEX"}
    env["QUANT_HOME"] = home
    if lake:
        env["QUANT_LAKE"] = lake
        env["QUANT_META_URL"] = meta_url or f"sqlite:///{lake}/registry.sqlite"
    return env


def run_sharded(quant, csv, work, algo, meta_url):
    """Three shards at once, stage by stage (each waits for its own previous
    stage only, as array tasks do)."""
    lake = os.path.join(work, "lake3")
    procs = []
    t0 = time.monotonic()
    for i in range(3):
        env = base_env(os.path.join(work, f"shard{i}"), lake, meta_url)
        script = []
        for _, tmpl in STAGES:
            args = [a.format(csv=csv, algo=algo, threads=1) for a in tmpl] + ["--shard", f"{i}/3"]
            script.append(" ".join([quant] + [f"'{a}'" for a in args]))
        # time each stage inside the task
        cmd = "set -e; " + "; ".join(
            f"s=$EPOCHREALTIME; {c} >/dev/null 2>>{work}/shard{i}.err; "
            f"echo $s $EPOCHREALTIME" for c in script)
        procs.append(subprocess.Popen(["bash", "-c", cmd], env=env, stdout=subprocess.PIPE,
                                      text=True))
    per = []
    for i, p in enumerate(procs):
        out, _ = p.communicate()
        if p.returncode != 0:
            sys.exit(f"shard {i} failed; see {work}/shard{i}.err")
        stamps = [float(x) for x in out.split()]
        per.append([stamps[k + 1] - stamps[k] for k in range(0, len(stamps), 2)])
    wall = time.monotonic() - t0
    return wall, per


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quant", default="build/quant")
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--days", type=int, default=6500)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--algo", default="xgboost")
    ap.add_argument("--meta-url", help="registry for the lake runs (default: SQLite in the lake)")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "quant-bench-scaleout"))
    a = ap.parse_args()
    quant = os.path.abspath(a.quant)
    os.makedirs(a.work, exist_ok=True)
    csv = make_source(quant, a.work, a.symbols, a.days)
    rows = {"store": [], "lake1": [], "lake3": []}
    shard_stages = []
    for rep in range(a.reps):
        for name in ("store", "lake1"):
            home = os.path.join(a.work, name)
            lake = os.path.join(a.work, "lake1") if name == "lake1" else None
            for d in (home, lake):
                if d:
                    shutil.rmtree(d, ignore_errors=True)
            times = pipeline(quant, csv, base_env(home, lake, a.meta_url), a.algo, 2)
            rows[name].append(times)
            print(f"rep {rep} {name}: " + ", ".join(f"{s[0]} {t:.1f} s"
                                                   for s, t in zip(STAGES, times)), flush=True)
        for i in range(3):
            shutil.rmtree(os.path.join(a.work, f"shard{i}"), ignore_errors=True)
        shutil.rmtree(os.path.join(a.work, "lake3"), ignore_errors=True)
        if a.meta_url:
            sys.exit("--meta-url: give a fresh database per run (not supported with --reps > 1)") \
                if a.reps > 1 else None
        wall, per = run_sharded(quant, csv, a.work, a.algo, a.meta_url)
        rows["lake3"].append([wall])
        shard_stages.append(per)
        print(f"rep {rep} lake3: wall {wall:.1f} s; per shard: " +
              "; ".join(", ".join(f"{t:.1f}" for t in p) for p in per), flush=True)

    med = lambda v: statistics.median(v)
    store = med([sum(t) for t in rows["store"]])
    lake1 = med([sum(t) for t in rows["lake1"]])
    lake3 = med([t[0] for t in rows["lake3"]])
    print(f"\n{a.symbols} symbols x {a.days} days ({a.symbols * a.days:,} bars), "
          f"{a.algo}, medians of {a.reps}, load at start {os.getloadavg()[0]:.1f}")
    print("| stage | store (1 process, 2 threads) | lake (1 process, 2 threads) | "
          "lake, 3 shards at once (1 thread each): slowest shard |")
    print("|---|---|---|---|")
    for k, (name, _) in enumerate(STAGES):
        s = med([t[k] for t in rows["store"]])
        l1 = med([t[k] for t in rows["lake1"]])
        l3 = med([max(p[k] for p in per) for per in shard_stages])
        print(f"| {name} | {s:.1f} s | {l1:.1f} s | {l3:.1f} s |")
    print(f"| whole pipeline (wall) | {store:.1f} s | {lake1:.1f} s | {lake3:.1f} s |")
    print(f"\nlake/store {lake1 / store:.2f}; 3 shards/1 lake process {lake3 / lake1:.2f}; "
          f"3 shards/store {lake3 / store:.2f}")


if __name__ == "__main__":
    main()
