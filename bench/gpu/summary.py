#!/usr/bin/env python3
"""The summary of bench/gpu/run.sh (usage: summary.py OUT cuda|cpu): reads OUT/samples.jsonl (the silo run, sampled by
sample.py), OUT/status.json and OUT/eval.json (its status and evaluations at the end), OUT/bench-*.json (Streaming.Bench,
the first on the silo run's model and batch) and OUT/device.txt; prints one summary and writes OUT/summary.json and
OUT/summary.md.

Silo tokens/s: the main trajectory's tokens trained between the first sample that had trained any (so start-up and the
first step's warm-up are left out) and the last sample that had trained more. MFU: those tokens/s x the bench's FLOPs
per token of the same model over the bench's measured matmul peak.
"""
import json, pathlib, sys


def silo_summary(samples, status, evaluation):
    started = [s for s in samples if s["tokens_trained"] > 0]
    first = started[0] if started else None
    grew = [s for s in started if s["tokens_trained"] > first["tokens_trained"]]
    last = grew[-1] if grew else None
    losses = [s["loss"] for s in started if s["loss"] is not None]
    return dict(
        model=status.get("model"), parameters=status.get("parameters"), device=status.get("device"),
        tokens_per_second=(last["tokens_trained"] - first["tokens_trained"]) / (last["t"] - first["t"]) if last else None,
        seconds_measured=last["t"] - first["t"] if last else 0,
        tokens_trained=samples[-1]["tokens_trained"] if samples else 0, steps=status.get("step"),
        first_loss=status.get("firstLoss"), loss_last=losses[-1] if losses else None,
        loss_falling=bool(losses) and status.get("firstLoss") is not None and losses[-1] < status["firstLoss"],
        evaluated=len(evaluation.get("main") or []) + len(evaluation.get("releases") or []),
        eval_pending_max=max((s["eval_pending"] for s in samples), default=None),
        eval_pending_last=samples[-1]["eval_pending"] if samples else None,
        eval_skipped=status.get("evaluationsSkipped", 0),
        peak_memory_bytes=max((s["memory_bytes"] for s in samples), default=None),
        samples=len(samples))


def bench_summary(report):
    ours = report["results"][0]
    return dict(
        model=report["model"], parameters=report["parameters"], batch=report["batch"], seq=report["seq"],
        peak_flops=report["peak_flops"],
        results=[dict(name=r["name"], tokens_per_second=r["tokens_per_second"], mfu=r["mfu"],
                      ours_over_this=(ours["tokens_per_second"] / r["tokens_per_second"]) if r["tokens_per_second"] else None,
                      detail=r["detail"]) for r in report["results"]])


def shape(model):
    return (model or "").split("(")[0]


def markdown(summary):
    s, lines = summary["silo"], []
    mib = (s["peak_memory_bytes"] or 0) / 2 ** 20
    lines += [f"# bench/gpu/run.sh --mode {summary['mode']}: {summary['device']}", "",
              "| silo run | tokens/s | MFU | peak memory | loss first -> last | evaluator lag (max, last, skipped) | silo / bench loop |",
              "|---|---|---|---|---|---|---|",
              f"| {s['model']} on {s['device']} | {fmt(s['tokens_per_second'], '.0f')} | {pct(summary['silo_mfu'])} | {mib:.0f} MiB "
              f"| {fmt(s['first_loss'], '.3f')} -> {fmt(s['loss_last'], '.3f')} | {fmt(s['eval_pending_max'], '.0f')}, {fmt(s['eval_pending_last'], '.0f')}, "
              f"{s['eval_skipped']} | {fmt(summary['silo_over_bench'], '.3f')} |", ""]
    for b in summary["bench"]:
        lines += [f"Bench {b['model']} ({b['parameters'] / 1e6:.1f}M parameters), batch {b['batch']} x {b['seq']}, "
                  f"peak {b['peak_flops'] / 1e12:.3f} TFLOP/s", "",
                  "| implementation | tokens/s | MFU | ours / this | notes |", "|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {fmt(r['tokens_per_second'], '.0f')} | {pct(r['mfu'])} | {fmt(r['ours_over_this'], '.2f')} "
                  f"| {r['detail']} |" for r in b["results"]]
        lines.append("")
    return "\n".join(lines)


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def pct(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("cuda", "cpu"):
        sys.exit("usage: summary.py OUT cuda|cpu")
    out, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines() if line.strip()]
    status = json.loads((out / "status.json").read_text())["runs"][0]
    benches = [json.loads(p.read_text()) for p in sorted(out.glob("bench-*.json"))]
    evaluation = json.loads((out / "eval.json").read_text())
    silo = silo_summary(samples, status, evaluation)
    same = benches[0] if benches and shape(benches[0]["model"]) == shape(silo["model"]) else None
    ours = same["results"][0]["tokens_per_second"] if same else None
    summary = dict(
        mode=mode,
        device=(out / "device.txt").read_text().strip() if (out / "device.txt").exists() else "",
        silo=silo,
        silo_mfu=silo["tokens_per_second"] * same["flops_per_token"] / same["peak_flops"] if same and silo["tokens_per_second"] else None,
        bench_loop_tokens_per_second=ours,
        silo_over_bench=silo["tokens_per_second"] / ours if ours and silo["tokens_per_second"] else None,
        bench=[bench_summary(b) for b in benches])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    text = markdown(summary)
    (out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
