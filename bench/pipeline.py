#!/usr/bin/env python3
"""bench/pipeline.py: the whole research loop through the real quant binary, beside
its two yardsticks, in one invocation (issue 11).

For each dataset it runs, REPS times and interleaved so that load drift on a shared
machine hits every contender alike:
  quant   ingest --csv LONG.csv, features tech-v1, features alpha158, labels (h=5),
          per-symbol XGBoost training, score every row, pooled training; each command
          a process timed on its own (wall clock, peak RSS from wait4), in a fresh
          QUANT_HOME per repetition;
  peer    ../shared/peer/peer_pipeline.py LONG.csv --alpha158 (per-symbol) and
          --pooled: pandas + XGBoost, all in memory, its own `stage seconds` lines;
  DuckDB  bench_duckdb_bulk (built beside quant): read_csv into a CREATE TABLE AS,
          and into quant's own ohlcv table with and without its PRIMARY KEY.
Then prints per dataset one markdown table of medians, ratios in the direction of the
issue's targets and peak RSS, and writes every raw sample to WORK/results-*.json.

Datasets (made once, cached in --work, never inside the repository):
  synthetic  ../shared/peer/synth_universe.py 500 6500 --seed 1 (a long CSV);
  universe   the 120 real Yahoo files of ../shared/data/universe as ONE long CSV,
             symbol from the file name, rows as published (`null` rows, zero opens);
             the peer reads a copy without the all-`null` rows, which it cannot take.
--smoke: a 5 x 400 synthetic universe, one repetition, for the test suite.

Standard library only: the script drives processes; the peer runs under --python
(Debian's /usr/bin/python3 with python3-pandas, python3-xgboost, python3-sklearn).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTH_SEED = 1
SYNTH_SIZE = (500, 6500)
SMOKE_SIZE = (5, 400)
HORIZON = 5
ROUNDS = 200
EARLY_STOP = 20
GIB = 1024 * 1024  # KiB in a GiB

# The quant stages in pipeline order: (name, argv after `quant`).  train/score/
# train_pooled get their flags in quant_stages(), which knows the binary's options.
QUANT_STAGES = ["ingest", "features_tech-v1", "features_alpha158", "labels",
                "train", "score", "train_pooled", "train_score"]
# The peer's `stage seconds` names for the same stages (per-symbol run; pooled run
# gives train_pooled from its train_all_symbols line).
PEER_OF = {"ingest": "read", "features_tech-v1": "features_tech-v1",
           "features_alpha158": "features_alpha158", "labels": "labels",
           "train": "train_all_symbols", "score": "score"}
DUCKDB_MODES = ["pk", "nopk", "ctas"]
LOOP = ["ingest", "features_tech-v1", "labels", "train", "score"]
# What a quant user has to run: train and score compute features and labels from the
# bars as they read them, so `quant features` / `quant labels` are optional checks.
# The peer's loop is the same in both rows: it has no such option.
LOOP_ON_READ = ["ingest", "train", "score"]
# The same in two commands: `train --score` stores every row's prediction in the
# training pass (binaries that have the option).
LOOP_FUSED = ["ingest", "train_score"]
# A Yahoo row with no values at all: DATE,null,null,null,null,null,null.
NULL_ROW = re.compile(r"^[^,]*(,null){6}$")


class BenchError(Exception):
    """A failure that stops the run; its text says what failed and what to do."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- locating the parts -------------------------------------------------------

def find_shared(arg):
    """The shared/ folder: --shared, else $QUANT_SHARED_DATA/.. (the variable the
    tests read names shared/data), else <repo>/../shared, as the tests look."""
    env = os.environ.get("QUANT_SHARED_DATA")
    cands = [arg] if arg else ([os.path.dirname(os.path.abspath(env))] if env else []) + \
        [os.path.join(os.path.dirname(REPO), "shared")]
    for c in cands:
        if os.path.isfile(os.path.join(c, "peer", "peer_pipeline.py")) and \
                os.path.isdir(os.path.join(c, "data")):
            return os.path.abspath(c)
    raise BenchError(f"shared folder not found (looked in {', '.join(cands)}): it holds "
                     "peer/peer_pipeline.py and data/universe; pass --shared DIR or set "
                     "QUANT_SHARED_DATA to its data folder")


def check_peer_python(py):
    r = subprocess.run([py, "-c", "import numpy, pandas, scipy, sklearn, xgboost"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["cannot run it"])[-1]
        raise BenchError(f"the peer cannot run under {py}: {last}; install Debian's "
                         "python3-pandas python3-xgboost python3-sklearn (apt-get install), "
                         "or pass --python with an interpreter that has them")


def quant_help(quant, cmd):
    r = subprocess.run([quant, cmd, "--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


# ---- inputs -------------------------------------------------------------------

def atomic_write(path, fill):
    """fill(tmp_path) then rename: a killed preparation never leaves a cache."""
    tmp = path + ".part"
    fill(tmp)
    os.replace(tmp, path)


def prepare_synthetic(args, inputs, size):
    n, days = size
    path = os.path.join(inputs, f"synthetic-{n}x{days}-seed{SYNTH_SEED}.csv")
    if not os.path.exists(path):
        log(f"preparing {path} (synth_universe.py {n} {days} --seed {SYNTH_SEED})")
        gen = os.path.join(args.shared, "peer", "synth_universe.py")

        def fill(tmp):
            r = subprocess.run([args.python, gen, str(n), str(days), tmp,
                                "--seed", str(SYNTH_SEED)], capture_output=True, text=True)
            if r.returncode != 0:
                raise BenchError(f"synth_universe.py failed: {r.stderr.strip()}")
        atomic_write(path, fill)
    return path


def prepare_universe(args, inputs):
    """The Yahoo files as one long CSV: symbol,date,... with each row's fields
    exactly as published (Yahoo's header Date,Open,...,Adj Close,Volume)."""
    src = os.path.join(args.shared, "data", "universe")
    files = sorted(f for f in os.listdir(src) if f.endswith(".csv")) \
        if os.path.isdir(src) else []
    if not files:
        raise BenchError(f"no CSV files in {src}: the universe dataset needs "
                         "shared/data/universe (see its MANIFEST.md)")
    path = os.path.join(inputs, f"universe-{len(files)}.csv")
    peer_path = os.path.join(inputs, f"universe-{len(files)}-no-null-rows.csv")
    if os.path.exists(path) and os.path.exists(peer_path):
        return path, peer_path
    log(f"preparing {path} from {len(files)} files in {src}")

    def fill(tmp, keep_null):
        with open(tmp, "w", newline="") as out:
            out.write("symbol,date,open,high,low,close,adj_close,volume\n")
            for f in files:
                sym = f[:-4]
                with open(os.path.join(src, f), newline="") as fh:
                    header = fh.readline().strip()
                    if header != "Date,Open,High,Low,Close,Adj Close,Volume":
                        raise BenchError(f"{src}/{f}: header {header!r} is not Yahoo's")
                    for line in fh:
                        line = line.rstrip("\r\n")
                        if line and (keep_null or not NULL_ROW.match(line)):
                            out.write(f"{sym},{line}\n")
    atomic_write(path, lambda tmp: fill(tmp, True))
    atomic_write(peer_path, lambda tmp: fill(tmp, False))
    return path, peer_path


def count_rows(path):
    rows, syms, last = 0, 0, None
    with open(path) as fh:
        fh.readline()
        for line in fh:
            rows += 1
            s = line[:line.index(",")]
            if s != last:
                syms, last = syms + 1, s
    return rows, syms


# ---- running one process ------------------------------------------------------

def vm_hwm_kib(pid):
    """Peak RSS so far of a live process (VmHWM), in KiB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_timed(argv, env, log_path, on_line=None):
    """Run argv; returns (wall seconds, peak RSS KiB, stdout text).  stdout is read
    line by line so on_line(line, pid) can sample the child while it runs; stderr
    goes to log_path.  A non-zero exit raises BenchError with the stderr's tail."""
    with open(log_path, "w") as errf:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=errf, text=True)
        lines = []
        for line in p.stdout:
            lines.append(line)
            if on_line:
                on_line(line, p.pid)
        p.stdout.close()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    out = "".join(lines)
    if p.returncode != 0:
        with open(log_path) as fh:
            tail = fh.read()[-4000:]
        raise BenchError(f"`{' '.join(argv)}` exited with {p.returncode}\n"
                         f"--- its stderr (tail; whole in {log_path}):\n{tail}"
                         f"--- its stdout (tail):\n{out[-2000:]}")
    return wall, ru.ru_maxrss, out


def last_done_line(out):
    done = [l for l in out.splitlines() if l.startswith("Done:")]
    return done[-1] if done else ""


# ---- the three contenders -----------------------------------------------------

def quant_stages(args, csv):
    train = ["train", "--all", "--algo", "xgboost", "--features", "tech-v1",
             "--horizon", str(HORIZON), "--rounds", str(ROUNDS), "--threads", str(args.threads)]
    if args.early_stopping_flag:
        train += ["--early-stopping", str(EARLY_STOP)]
    stages = {
        "ingest": ["ingest", "--csv", csv],
        "features_tech-v1": ["features", "--set", "tech-v1"],
        "features_alpha158": ["features", "--set", "alpha158"],
        "labels": ["labels", "--horizon", str(HORIZON)],
        "train": train,
        "score": ["score", "--all"],
        "train_pooled": train + ["--pooled"],
        "train_score": train + ["--score"],
    }
    return [(s, stages[s]) for s in QUANT_STAGES
            if (args.alpha158 or s != "features_alpha158")
            and (args.train_score_flag or s != "train_score")]


def quant_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QUANT_") and k != "ALPHAVANTAGE_API_KEY"}
    env["QUANT_HOME"] = home
    return env


def run_quant(args, ds, rep, run_dir, binary=None, tag="quant"):
    binary = binary or args.quant
    home = os.path.join(run_dir, f"{tag}-home")
    shutil.rmtree(home, ignore_errors=True)
    env = quant_env(home)
    samples = []
    try:
        for stage, argv in quant_stages(args, ds["csv"]):
            wall, rss, out = run_timed([binary] + argv, env,
                                       os.path.join(run_dir, f"{tag}-{stage}.stderr"))
            samples.append({"rep": rep, "stage": stage, "seconds": wall, "rss_kib": rss,
                            "done": last_done_line(out)})
            log(f"  {tag} {stage:18s} {wall:8.2f} s  {rss / 1024:8.0f} MiB")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return samples


def run_peer(args, ds, rep, run_dir, pooled):
    peer = os.path.join(args.shared, "peer", "peer_pipeline.py")
    argv = [args.python, peer, ds["peer_csv"], "--horizon", str(HORIZON), "--rounds", str(ROUNDS),
            "--early-stop", str(EARLY_STOP), "--nthread", str(args.threads)]
    argv += ["--pooled"] if pooled else (["--alpha158"] if args.alpha158 else [])
    stages = []

    def on_line(line, pid):
        # The peer is one process: the peak RSS so far, read as each stage ends.
        m = re.match(r"^(\S+) ([0-9.]+)$", line.strip())
        if m:
            stages.append((m.group(1), float(m.group(2)), vm_hwm_kib(pid)))
    name = "pooled" if pooled else "per-symbol"
    log_path = os.path.join(run_dir, f"peer-{name}.stderr")
    wall, rss, _ = run_timed(argv, os.environ.copy(), log_path, on_line)
    with open(log_path) as fh:
        summary = [l.strip() for l in fh if l.startswith("#")]
    samples = []
    for st, sec, hwm in stages:
        if st == "total":
            continue
        if pooled and st != "train_all_symbols":
            continue
        stage = "train_pooled" if pooled else next(
            (q for q, p in PEER_OF.items() if p == st), st)
        samples.append({"rep": rep, "stage": stage, "seconds": sec,
                        "rss_so_far_kib": hwm or rss, "process_rss_kib": rss,
                        "process_wall": wall, "summary": summary[-1] if summary else ""})
        log(f"  peer  {stage:18s} {sec:8.2f} s  {(hwm or rss) / 1024:8.0f} MiB so far")
    return samples


def run_duckdb(args, ds, rep, run_dir, mode):
    out = os.path.join(run_dir, f"duckdb-{mode}.duckdb")
    for f in (out, out + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    try:
        wall, rss, text = run_timed([args.bulk, mode, ds["csv"], out, args.schema_db],
                                    os.environ.copy(),
                                    os.path.join(run_dir, f"duckdb-{mode}.stderr"))
    finally:
        for f in (out, out + ".wal"):
            if os.path.exists(f):
                os.remove(f)
    f = text.split()
    kv = dict(zip(f[0::2], f[1::2]))
    log(f"  duckdb {mode:17s} {wall:8.2f} s  {rss / 1024:8.0f} MiB  ({kv.get('rows')} rows)")
    return {"rep": rep, "stage": f"duckdb_{mode}", "seconds": wall, "rss_kib": rss,
            "rows": int(kv.get("rows", 0)), "quant_pk": int(kv.get("quant_pk", 0)),
            "load_s": float(kv.get("load_s", "nan")), "close_s": float(kv.get("close_s", "nan"))}


def run_floor(args, ds, rep, run_dir):
    """The floors of the unmet targets, measured in this repetition:
    the library alone (bench_train --library-only on the same CSV, read through
    quant's CSV provider, same params and schedule; nothing stored), per-symbol
    and pooled, and per-symbol with every labelled row predicted (the floor of
    `train --score`); and quant's process floor (start, open the store, one
    trivial query), which every stage pays once."""
    samples = []
    common = [args.train_bench, "--csv", ds["csv"], "--library-only", "--runs", "1",
              "--algo", "xgboost", "--rounds", str(ROUNDS), "--early-stopping", str(EARLY_STOP),
              "--threads", str(args.threads)]
    for argv, tags in ((common, ("library_train", "library_pooled")),
                       (common + ["--score-all", "--no-pooled"], ("library_train_score",))):
        wall, rss, out = run_timed(argv, os.environ.copy(),
                                   os.path.join(run_dir, f"floor-{tags[0]}.stderr"))
        for line in out.splitlines():
            f = line.split()
            if len(f) == 4 and f[0] == "library":
                tag = tags[0] if f[1] == "per-symbol" else tags[-1]
                samples.append({"rep": rep, "stage": tag, "seconds": float(f[2]),
                                "rounds": int(f[3])})
                log(f"  floor {tag:18s} {float(f[2]):8.2f} s  ({f[3]} rounds)")
    home = os.path.dirname(args.schema_db)
    wall, rss, _ = run_timed([args.quant, "sql", "SELECT 1"], quant_env(home),
                             os.path.join(run_dir, "floor-process.stderr"))
    samples.append({"rep": rep, "stage": "process", "seconds": wall, "rss_kib": rss})
    log(f"  floor process            {wall:8.2f} s")
    return samples


def make_schema_db(args, work):
    """A store `quant init-db` made: bench_duckdb_bulk copies its ohlcv DDL."""
    home = os.path.join(work, "schema-home")
    shutil.rmtree(home, ignore_errors=True)
    run_timed([args.quant, "init-db"], quant_env(home), os.path.join(work, "init-db.stderr"))
    return os.path.join(home, "quant.duckdb")


def bench_dataset(args, ds, all_results):
    run_dir = os.path.join(args.work, "runs", ds["name"])
    os.makedirs(run_dir, exist_ok=True)
    res = {"quant": [], "peer": [], "duckdb": [], "floor": []}
    if args.quant_before:
        res["before"] = []
    all_results["datasets"][ds["name"]] = {k: v for k, v in ds.items()} | {"samples": res}

    def quant(rep):
        res["quant"] += run_quant(args, ds, rep, run_dir)

    def peer(rep):
        res["peer"] += run_peer(args, ds, rep, run_dir, pooled=False)
        res["peer"] += run_peer(args, ds, rep, run_dir, pooled=True)

    def duck(rep):
        for mode in DUCKDB_MODES:
            res["duckdb"].append(run_duckdb(args, ds, rep, run_dir, mode))
    def before(rep):
        res["before"] += run_quant(args, ds, rep, run_dir, args.quant_before, "before")

    def floor(rep):
        res["floor"] += run_floor(args, ds, rep, run_dir)
    order = ([quant, peer, duck] + ([floor] if args.train_bench else [])
             + ([before] if args.quant_before else []))
    loads = all_results["datasets"][ds["name"]]["rep_loads"] = []
    for rep in range(args.reps):
        loads.append(os.getloadavg())
        log(f"== {ds['name']} repetition {rep + 1}/{args.reps}, load "
            f"{' '.join(f'{x:.2f}' for x in loads[-1])}")
        # Rotate who goes first, so a build starting mid-rep slows each in turn.
        k = rep % len(order)
        for fn in order[k:] + order[:k]:
            fn(rep)
        save_json(args, all_results)
    return res


# ---- the table ----------------------------------------------------------------

def med(samples, stage, key="seconds"):
    v = [s[key] for s in samples if s["stage"] == stage and s.get(key) is not None]
    return statistics.median(v) if v else None


def loop_median(samples, stages):
    """Median over repetitions of the per-repetition sum of stages (a rep missing a
    stage does not count)."""
    reps = sorted({s["rep"] for s in samples})
    sums = []
    for r in reps:
        v = {s["stage"]: s["seconds"] for s in samples if s["rep"] == r}
        if all(st in v for st in stages):
            sums.append(sum(v[st] for st in stages))
    return statistics.median(sums) if sums else None


def fs(x):
    if x is None:
        return ""
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def frss(kib):
    if kib is None:
        return ""
    return f"{kib / GIB:.2f} GiB" if kib >= GIB else f"{kib / 1024:.0f} MiB"


def ratio_cell(name, num, den, op, target):
    """(ratio text, target text, met text) for num/den compared with target."""
    if num is None or den is None or den <= 0:
        return "", f"{name} {op} {target}", ""
    r = num / den
    met = r <= target if op == "<=" else r >= target
    return f"{name} = {r:.2f}", f"{op} {target}", "yes" if met else "**no**"


def table(ds, res, args):
    q, p, d = res["quant"], res["peer"], res["duckdb"]
    pk = next((s["quant_pk"] for s in d), 1)
    ident = "pk" if pk else "nopk"
    rows = []

    def row(stage, qs, ps, ds_, cells, rq="", rp=""):
        rows.append([stage, fs(qs), fs(ps), fs(ds_)] + list(cells) + [rq, rp])

    def more(cells):
        rows.append(["", "", "", ""] + list(cells) + ["", ""])

    def qrss(stage):
        return frss(med(q, stage, "rss_kib"))

    def prss(stage):
        return frss(med(p, stage, "rss_so_far_kib"))
    def dduck(mode):
        s, r = med(d, f"duckdb_{mode}"), med(d, f"duckdb_{mode}", "rss_kib")
        return f"{fs(s)} (RSS {frss(r)})" if s is not None else ""
    qi, pi, di = med(q, "ingest"), med(p, "ingest"), med(d, f"duckdb_{ident}")
    row("ingest / read CSV", qi, pi, None,
        ratio_cell("quant/DuckDB", qi, di, "<=", 1.5), qrss("ingest"), prss("ingest"))
    rows[-1][3] = dduck(ident)
    more(ratio_cell("peer/quant", pi, qi, ">=", 2.5))
    other = "nopk" if ident == "pk" else "pk"
    for mode, label in ((other, f"DuckDB into ohlcv {'without' if pk else 'with'} its key"),
                        ("ctas", "DuckDB CREATE TABLE AS read_csv")):
        dm = med(d, f"duckdb_{mode}")
        rows.append([f"  ({label})", "", "", dduck(mode),
                     f"quant/DuckDB = {qi / dm:.2f}" if qi and dm else "", "", "", "", ""])
    spec = [("features_tech-v1", "features tech-v1", "peer/quant", ">=", 5.0),
            ("features_alpha158", "features alpha158", "peer/quant", ">=", 10.0),
            ("labels", "labels h=5", "quant/peer", "<=", 1.0),
            ("train", "train per-symbol", "quant/peer", "<=", 1.1),
            ("score", "score every row", "quant/peer", "<=", 1.5),
            ("train_pooled", "train pooled", "quant/peer", "<=", 1.1)]
    for stage, label, name, op, target in spec:
        if stage == "features_alpha158" and not args.alpha158:
            continue
        qs, ps = med(q, stage), med(p, stage)
        num, den = (ps, qs) if name == "peer/quant" else (qs, ps)
        row(label, qs, ps, None, ratio_cell(name, num, den, op, target), qrss(stage), prss(stage))
        if stage == "features_alpha158":
            r = med(q, stage, "rss_kib")
            more(("peak RSS quant", "< 3 GiB",
                  "" if r is None else ("yes" if r < 3 * GIB else "**no**")))
    ql, pl = loop_median(q, LOOP), loop_median(p, LOOP)
    row("whole loop ingest to scores (tech-v1), features and labels commands included", ql, pl, None,
        ratio_cell("peer/quant", pl, ql, ">=", 2.0),
        frss(max((s["rss_kib"] for s in q if s["stage"] in LOOP), default=None)),
        prss("score") + (" (with alpha158)" if args.alpha158 and prss("score") else ""))
    qr = loop_median(q, LOOP_ON_READ)
    row("whole loop as a user runs it (ingest, train, score; features and labels on read)",
        qr, pl, None, ratio_cell("peer/quant", pl, qr, ">=", 2.0),
        frss(max((s["rss_kib"] for s in q if s["stage"] in LOOP_ON_READ), default=None)), "")
    qf = loop_median(q, LOOP_FUSED)
    if qf is not None:
        row("whole loop in two commands (ingest, train --score)", qf, pl, None,
            ratio_cell("peer/quant", pl, qf, ">=", 2.0),
            frss(max((s["rss_kib"] for s in q if s["stage"] in LOOP_FUSED), default=None)), "")
    head = ["stage", "quant median (s)", "peer median (s)", "DuckDB median (s)", "ratio",
            "issue target", "met?", "peak RSS quant", "peak RSS peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def floor_table(ds, res, args):
    """The floors, beside quant and the peer: what a quant with zero overhead
    would reach against the peer, from samples of the same repetitions."""
    q, p, d, f = res["quant"], res["peer"], res["duckdb"], res.get("floor", [])
    if not f:
        return ""
    pk = next((s["quant_pk"] for s in d), 1)
    load = med(d, f"duckdb_{'pk' if pk else 'nopk'}")
    proc, lt, lp, lts = (med(f, "process"), med(f, "library_train"), med(f, "library_pooled"),
                         med(f, "library_train_score"))
    rows = []

    def row(label, floor, qs, ps, what):
        rows.append([label, fs(floor), fs(qs), fs(ps),
                     f"{qs / floor:.2f}" if qs and floor else "",
                     f"{ps / floor:.2f}" if ps and floor else "", what])
    row("process: start, open the store, one query", proc, None, None,
        "paid once by every quant command")
    row("train per-symbol", lt, med(q, "train"), med(p, "train"),
        "the library alone on the same rows, same params and schedule")
    row("train pooled", lp, med(q, "train_pooled"), med(p, "train_pooled"),
        "the library alone on the same rows")
    if lts is not None and lt is not None and proc is not None:
        row("score every row", proc + (lts - lt), med(q, "score"), med(p, "score"),
            "process + the library's predict of every row (features already in memory)")
    if None not in (load, lts, proc):
        fl = load + lts + proc
        row("whole loop in two commands (ingest, train --score)", fl,
            loop_median(q, LOOP_FUSED), loop_median(p, LOOP),
            "DuckDB's own load + the library training and predicting every row + one "
            "more process")
    head = ["stage", "floor median (s)", "quant median (s)", "peer median (s)", "quant/floor",
            "peer/floor", "floor is"]
    lines = ["Floors measured in the same repetitions (a target needs peer/floor above it to "
             "be reachable at all):",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def before_after_table(res, args):
    """quant against --quant-before, stage by stage, both run in every repetition."""
    q, b = res["quant"], res["before"]
    rows = []
    for stage, _ in quant_stages(args, ""):
        qs, bs = med(q, stage), med(b, stage)
        rows.append([stage, fs(bs), fs(qs), f"{qs / bs:.2f}" if qs and bs else "",
                     frss(med(b, stage, "rss_kib")), frss(med(q, stage, "rss_kib"))])
    for name, stages in (("whole loop (tech-v1)", LOOP), ("loop as a user runs it", LOOP_ON_READ)):
        qs, bs = loop_median(q, stages), loop_median(b, stages)
        rows.append([name, fs(bs), fs(qs), f"{qs / bs:.2f}" if qs and bs else "", "", ""])
    head = ["stage", "before median (s)", "after median (s)", "after/before",
            "peak RSS before", "peak RSS after"]
    lines = [f"before = {args.quant_before}; after = {args.quant}",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def notes(ds, res, args):
    reps = len({s["rep"] for s in res["quant"]})
    out = [f"### {ds['name']}: {ds['symbols']} symbols, {ds['rows']:,} rows "
           f"({os.path.basename(ds['csv'])}), medians of {reps} repetition(s)"]
    if ds.get("peer_csv", ds["csv"]) != ds["csv"]:
        out.append(f"The peer reads {os.path.basename(ds['peer_csv'])} "
                   f"({ds['peer_rows']:,} rows): Yahoo's all-`null` rows left out, as a "
                   f"pandas user must (with them its features are never complete for some "
                   f"symbols and it stops: 'only 0 training rows'); zero opens are kept.")
    d = res["duckdb"]
    pk = next((s["quant_pk"] for s in d), 1)
    out.append(f"DuckDB column: read_csv into a table identical to quant's ohlcv "
               f"({'with' if pk else 'without'} its PRIMARY KEY, as quant has it), "
               f"rows {d[0]['rows'] if d else 0:,}.")
    es = (f"early stopping {EARLY_STOP} for both" if args.early_stopping_flag else
          f"quant's early stopping is fixed at 50 rounds (no --early-stopping option in "
          f"this binary), the peer's is {EARLY_STOP}: quant may train more rounds")
    out.append(f"Training: XGBoost hist, up to {ROUNDS} rounds, {args.threads} threads, "
               f"h={HORIZON}, tech-v1; {es}.")
    done = {s["stage"]: s["done"] for s in res["quant"] if s.get("done")}
    for st in ("ingest", "train", "score"):
        if st in done:
            out.append(f"quant {st}: {done[st]}")
    summ = [s["summary"] for s in res["peer"] if s.get("summary")]
    for line in dict.fromkeys(summ):
        out.append(f"peer: {line.lstrip('# ')}")
    out.append("Peak RSS: quant per command (wait4); peer = the peak of its one process so far "
               "when the stage ended (VmHWM), so later stages include earlier ones.")
    return "\n".join(out)


def save_json(args, results):
    with open(args.json_path + ".part", "w") as fh:
        json.dump(results, fh, indent=1)
    os.replace(args.json_path + ".part", args.json_path)


# ---- main ---------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="quant's research loop through the real binary beside the pandas + "
                    "XGBoost peer and DuckDB's own bulk load (issue 11 targets).")
    ap.add_argument("--work", default="/tmp/quant-bench-pipeline",
                    help="cache of inputs, scratch stores and results (never the repo)")
    ap.add_argument("--quant", default=os.path.join(REPO, "build", "quant"),
                    help="the quant binary (default build/quant, the release build)")
    ap.add_argument("--quant-before", metavar="PATH",
                    help="another quant binary (e.g. a build of an older commit) run through "
                         "the same stages in every repetition: adds a before/after table")
    ap.add_argument("--bulk", help="bench_duckdb_bulk (default: beside --quant)")
    ap.add_argument("--shared", help="the shared folder (default $QUANT_SHARED_DATA/.. "
                    "or <repo>/../shared)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the peer and the generator (needs pandas, "
                         "xgboost, sklearn, scipy)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (medians), default 3")
    ap.add_argument("--datasets", default="synthetic,universe",
                    help="comma-separated: synthetic, universe")
    ap.add_argument("--no-alpha158", dest="alpha158", action="store_false",
                    help="skip alpha158 for quant and the peer")
    ap.add_argument("--threads", type=int, help="training threads for both (default 2; "
                    "--smoke: 1, so tiny models do not spin against a busy machine)")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="skip the floors (the library alone through bench_train on the same "
                         "CSV, and quant's process floor)")
    ap.add_argument("--smoke", action="store_true",
                    help="a 5 x 400 synthetic universe, one repetition (checks the script)")
    ap.add_argument("--report", metavar="RESULTS.json",
                    help="print the tables of an earlier run's raw samples and exit")
    args = ap.parse_args(argv)
    if args.threads is None:
        args.threads = 1 if args.smoke else 2
    if args.smoke:
        args.reps, args.datasets = 1, "synthetic"
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    bad = [d for d in args.datasets if d not in ("synthetic", "universe")]
    if bad or not args.datasets:
        ap.error(f"--datasets takes synthetic and/or universe, not {','.join(bad) or '(none)'}")
    if args.reps < 1:
        ap.error("--reps takes 1 or more")
    if args.threads < 1:
        ap.error("--threads takes 1 or more")
    return args


def setup(args):
    args.work = os.path.abspath(args.work)
    if os.path.commonpath([args.work, REPO]) == REPO:
        raise BenchError(f"--work {args.work} is inside the repository; give a folder "
                         "outside it (default /tmp/quant-bench-pipeline)")
    args.shared = find_shared(args.shared)
    args.quant = os.path.abspath(args.quant)
    if not os.access(args.quant, os.X_OK):
        raise BenchError(f"no quant binary at {args.quant}: run `make build` (or pass "
                         "--quant PATH)")
    args.bulk = os.path.abspath(args.bulk or os.path.join(os.path.dirname(args.quant),
                                                          "bench_duckdb_bulk"))
    if not os.access(args.bulk, os.X_OK):
        raise BenchError(f"no bench_duckdb_bulk at {args.bulk}: it is built with quant "
                         "(make build), or pass --bulk PATH")
    args.train_bench = None
    if args.floor:
        args.train_bench = os.path.join(os.path.dirname(args.quant), "bench_train")
        if not os.access(args.train_bench, os.X_OK):
            raise BenchError(f"no bench_train at {args.train_bench}: it is built with quant "
                             "(make build), or pass --no-floor")
    if args.quant_before:
        args.quant_before = os.path.abspath(args.quant_before)
        if not os.access(args.quant_before, os.X_OK):
            raise BenchError(f"no quant binary at {args.quant_before} (--quant-before)")
    check_peer_python(args.python)
    train_help = quant_help(args.quant, "train")
    args.early_stopping_flag = "--early-stopping" in train_help
    args.train_score_flag = "--score" in train_help
    os.makedirs(os.path.join(args.work, "inputs"), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    args.json_path = os.path.join(args.work, f"results-{stamp}{'-smoke' if args.smoke else ''}.json")


def git_head():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def report(path):
    """Tables again from a results JSON (e.g. after the table's layout changed)."""
    with open(path) as fh:
        results = json.load(fh)
    meta = results["meta"]
    args = argparse.Namespace(alpha158=meta["alpha158"], threads=meta["threads"],
                              early_stopping_flag=meta["early_stopping_flag"],
                              train_score_flag=meta.get("train_score_flag", True),
                              quant=meta["quant"], quant_before=meta.get("quant_before"))
    print(f"# {path}: {meta['quant']} (repo HEAD {meta.get('git_head') or '?'}), "
          f"{meta['cpus']} CPUs, load at start "
          f"{' '.join(f'{x:.2f}' for x in meta['load_start'])}, at end "
          f"{' '.join(f'{x:.2f}' for x in meta.get('load_end', []))}")
    for ds in results["datasets"].values():
        res = ds["samples"]
        print("\n" + notes(ds, res, args) + "\n\n" + table(ds, res, args))
        if res.get("floor"):
            print("\n" + floor_table(ds, res, args))
        if res.get("before"):
            print("\n" + before_after_table(res, args))
    return 0


def main(argv):
    args = parse_args(argv)
    if args.report:
        return report(args.report)
    load0 = os.getloadavg()
    try:
        setup(args)
        print(f"# bench/pipeline: {args.quant} (repo HEAD {git_head() or '?'}), "
              f"{os.cpu_count()} CPUs, load at start {' '.join(f'{x:.2f}' for x in load0)}",
              flush=True)
        inputs = os.path.join(args.work, "inputs")
        datasets = []
        for name in args.datasets:
            if name == "synthetic":
                csv = prepare_synthetic(args, inputs, SMOKE_SIZE if args.smoke else SYNTH_SIZE)
                peer_csv = csv
            else:
                csv, peer_csv = prepare_universe(args, inputs)
            rows, syms = count_rows(csv)
            datasets.append({"name": name, "csv": csv, "peer_csv": peer_csv, "rows": rows,
                             "symbols": syms, "peer_rows": count_rows(peer_csv)[0]})
        args.schema_db = make_schema_db(args, args.work)
        results = {"meta": {"quant": args.quant, "git_head": git_head(), "reps": args.reps,
                            "threads": args.threads, "alpha158": args.alpha158,
                            "early_stopping_flag": args.early_stopping_flag,
                            "train_score_flag": args.train_score_flag,
                            "quant_before": args.quant_before,
                            "cpus": os.cpu_count(), "load_start": load0,
                            "argv": sys.argv},
                   "datasets": {}}
        tables = []
        for ds in datasets:
            res = bench_dataset(args, ds, results)
            tables.append(notes(ds, res, args) + "\n\n" + table(ds, res, args))
            if res.get("floor"):
                tables[-1] += "\n\n" + floor_table(ds, res, args)
            if res.get("before"):
                tables[-1] += "\n\n" + before_after_table(res, args)
            print("\n" + tables[-1] + "\n", flush=True)
        load1 = os.getloadavg()
        results["meta"]["load_end"] = load1
        save_json(args, results)
        print(f"# load at start {' '.join(f'{x:.2f}' for x in load0)}, at end "
              f"{' '.join(f'{x:.2f}' for x in load1)} (1, 5, 15 min; {os.cpu_count()} CPUs)")
        print(f"# raw samples: {args.json_path}")
    except BenchError as e:
        print(f"bench/pipeline: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
