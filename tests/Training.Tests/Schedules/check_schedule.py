#!/usr/bin/env python3
"""Independent checker for `streaming schedule`.

Recomputes every row (step, task, phase, lr) straight from the formulas of design.md, written here
from the spec without looking at the C# state machine, runs the CLI, and compares: step, task and
phase must match exactly, lr to a relative tolerance (default 1e-12). Prints the max relative error.

  python3 check_schedule.py --suite                 # the design.md examples + many others + random ones
  python3 check_schedule.py -- --kind wsd --tasks 50,40 --anneal-fraction 0.2

The CLI is run as `dotnet <dll> schedule ...`; --dll defaults to the Debug build of src/Client.
"""
import argparse, math, os, random, subprocess, sys
from decimal import Decimal, ROUND_HALF_UP

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DLL = os.path.join(ROOT, "src/Client/bin/Debug/net10.0/linux-x64/streaming.dll")
ALPHA = 10.0


def shape(name, a, b, p):
    if p >= 1.0:
        return b  # every phase ends exactly on its end value
    if name == "linear":
        return a + (b - a) * p
    if name == "cosine":
        return b + (a - b) * (1 + math.cos(math.pi * p)) / 2
    if name == "exponential":
        return a * (b / a) ** p
    if name == "1-sqrt":
        return b + (a - b) * (1 - math.sqrt(p))
    if name == "inverse-sqrt":
        h = lambda x: 1 / math.sqrt(1 + ALPHA * x) - 1
        return a + (b - a) * h(p) / h(1)
    if name == "rex":
        q = 1 - p
        return b + (a - b) * q / (0.5 + 0.5 * q)
    raise ValueError(name)


def parse_cli(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="infinite")
    ap.add_argument("--max-lr", type=float, default=3e-4)
    ap.add_argument("--const-lr", type=float, default=1.65e-4)
    ap.add_argument("--min-lr", type=float, default=3e-5)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--cooldown", type=int, default=590)
    ap.add_argument("--cooldown-shape", default="cosine")
    ap.add_argument("--anneal-shape", default=None)
    ap.add_argument("--tasks", default="1000")
    ap.add_argument("--anneal-fraction", default=None)
    ap.add_argument("--anneal-steps", type=int, default=None)
    return ap.parse_args(argv)


def expected(o):
    """All rows, by global position: main step n over all tasks, or step k within a task."""
    tasks = [int(t) for t in o.tasks.split(",")]
    M, C0, m, W, C = o.max_lr, o.const_lr, o.min_lr, o.warmup, o.cooldown
    total = sum(tasks)
    anneal_shape = o.anneal_shape or ("1-sqrt" if o.kind == "wsd" else "exponential")
    rows, step, n = [], 0, 0

    def main_lr(n):
        """Rate and phase of main step n (0-based over all tasks)."""
        if o.kind in ("infinite", "wsd", "constant", "cosine", "linear", "inverse-sqrt", "rex") and n < W:
            top = C0 if o.kind == "constant" else M
            return top * (n + 1) / W, "warmup"
        if o.kind == "infinite":
            if n < W + C:
                return shape(o.cooldown_shape, M, C0, (n - W + 1) / C), "cooldown"
            return C0, "constant"
        if o.kind == "wsd":
            return M, "stable"
        if o.kind == "constant":
            return C0, "constant"
        if n < total:
            return shape(o.kind, M, m, (n - W + 1) / (total - W)), "decay"
        return m, "constant"

    for t, T in enumerate(tasks):
        if o.kind == "repeated-cosine":
            for k in range(T):
                if k < W:
                    rows.append((step, t, "warmup", M * (k + 1) / W))
                else:
                    rows.append((step, t, "decay", shape("cosine", M, m, (k - W + 1) / (T - W))))
                step += 1
            continue
        if o.anneal_steps is not None:
            A = o.anneal_steps
        elif o.anneal_fraction is not None:
            A = int((Decimal(o.anneal_fraction) * T).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            A = 0
        for _ in range(T - A):
            lr, ph = main_lr(n)
            rows.append((step, t, ph, lr))
            step += 1
            n += 1
        if A > 0:
            start = max(main_lr(n - 1)[0], m) if n > 0 else m
            ph = "decay" if o.kind == "wsd" else "anneal"
            for j in range(A):
                rows.append((step, t, ph, shape(anneal_shape, start, m, (j + 1) / A)))
                step += 1
    return rows


def check(argv, dll, tol):
    out = subprocess.run(["dotnet", dll, "schedule", *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"CLI failed ({out.returncode}) for {argv}: {out.stderr.strip()}")
    lines = out.stdout.strip().split("\n")
    assert lines[0] == "step,task,phase,lr", lines[0]
    got = [l.split(",") for l in lines[1:]]
    want = expected(parse_cli(argv))
    assert len(got) == len(want), f"{argv}: {len(got)} rows, expected {len(want)}"
    worst = 0.0
    for g, w in zip(got, want):
        assert (int(g[0]), int(g[1]), g[2]) == w[:3], f"{argv}: row {g} expected {w}"
        lr = float(g[3])
        rel = abs(lr - w[3]) / abs(w[3]) if w[3] != 0 else abs(lr)
        worst = max(worst, rel)
        assert rel <= tol, f"{argv}: row {g}: lr {lr!r} expected {w[3]!r} (relative error {rel:.3g})"
    return worst, len(got)


def suite():
    base = "--max-lr 3e-4 --const-lr 1.65e-4 --min-lr 3e-5".split()
    cases = [
        # the two examples of design.md
        "--kind infinite --max-lr 3e-4 --const-lr 1.65e-4 --min-lr 3e-5 --warmup 10 --cooldown 40 --cooldown-shape cosine "
        "--anneal-shape exponential --tasks 100,80,60 --anneal-fraction 0.15",
        "--kind repeated-cosine --max-lr 3e-4 --min-lr 3e-5 --warmup 10 --tasks 100,80,60",
        "--kind infinite --warmup 10 --cooldown 40 --cooldown-shape inverse-sqrt --anneal-shape 1-sqrt --tasks 100,80,60 --anneal-fraction 0.1",
        "--kind infinite --warmup 10 --cooldown 40 --cooldown-shape linear --anneal-shape linear --tasks 30,80,60 --anneal-fraction 0.25",
        "--kind infinite --warmup 5 --cooldown 100 --anneal-shape cosine --tasks 30,30,90 --anneal-steps 7",
        "--kind infinite --warmup 0 --cooldown 0 --tasks 10,10 --anneal-fraction 0.5",
        "--kind infinite --tasks 1000",
        "--kind wsd --warmup 20 --tasks 200,150 --anneal-fraction 0.2",
        "--kind wsd --warmup 20 --tasks 200,150 --anneal-fraction 0.2 --anneal-shape exponential",
        "--kind cosine --warmup 10 --tasks 100,80,60",
        "--kind linear --warmup 10 --tasks 100,80,60",
        "--kind inverse-sqrt --warmup 10 --tasks 100,80,60",
        "--kind rex --warmup 0 --tasks 100,80,60",
        "--kind constant --warmup 7 --tasks 50,50",
        "--kind repeated-cosine --warmup 0 --tasks 3,1,2",
    ]
    rng = random.Random(20261122)
    for _ in range(25):
        kind = rng.choice(["infinite", "wsd", "repeated-cosine", "cosine", "linear", "constant", "inverse-sqrt", "rex"])
        W = rng.randint(0, 30)
        tasks = [rng.randint(W + 1, 200) for _ in range(rng.randint(1, 4))]
        args = ["--kind", kind, "--warmup", str(W), "--tasks", ",".join(map(str, tasks))]
        mx = rng.uniform(1e-4, 1e-2)
        cn = mx * rng.uniform(0.1, 1.0)
        mn = cn * rng.uniform(0.01, 1.0)
        args += ["--max-lr", repr(mx), "--const-lr", repr(cn), "--min-lr", repr(mn)]
        if kind == "infinite":
            args += ["--cooldown", str(rng.randint(0, 150)), "--cooldown-shape", rng.choice(["cosine", "inverse-sqrt", "linear"])]
        if kind in ("infinite", "wsd"):
            args += ["--anneal-shape", rng.choice(["exponential", "linear", "cosine", "1-sqrt"])]
            if rng.random() < 0.7:
                args += ["--anneal-fraction", repr(round(rng.uniform(0, 0.99), 3))]
        cases.append(" ".join(args))
    return [c.split() for c in cases]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dll", default=DLL)
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--suite", action="store_true")
    ap.add_argument("cli", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cases = suite() if a.suite else [[x for x in a.cli if x != "--"]]
    worst, rows = 0.0, 0
    for argv in cases:
        w, n = check(argv, a.dll, a.tol)
        worst, rows = max(worst, w), rows + n
    print(f"{len(cases)} command lines, {rows} rows: step/task/phase identical, max relative lr error {worst:.3g}")


if __name__ == "__main__":
    main()
