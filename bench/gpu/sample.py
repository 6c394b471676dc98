#!/usr/bin/env python3
"""Samples a training silo for bench/gpu/run.sh: every POLL seconds for SECONDS, one JSON line in OUT with the time,
the run's numbers from the silo's /metrics (tokens trained, steps, last loss, snapshots the evaluator has not scored,
tokens left to train) and the memory in use (the GPU's, from nvidia-smi, or the silo process' resident memory).
Reading /metrics costs nothing next to starting a client each time, which takes seconds on a busy machine.

  usage: sample.py METRICS_URL RUN SECONDS POLL OUT (--gpu | --pid PID) [--feed COMMAND --below TOKENS]

--feed runs COMMAND (a shell line, one at a time, in the background) whenever fewer than TOKENS are left to train.
"""
import argparse, json, re, subprocess, sys, time, urllib.request

LINE = re.compile(r'^(\w+)\{([^}]*)\} (\S+)')


def metrics(url, run):
    values = {}
    with urllib.request.urlopen(url, timeout=30) as answer:
        for line in answer.read().decode().splitlines():
            match = LINE.match(line)
            if match and f'run="{run}"' in match.group(2):
                name, value = match.group(1), float(match.group(3))
                values[name] = values.get(name, 0.0) + value   # summed over corpora where a metric has them
    return dict(tokens_trained=values.get("streaming_tokens_trained_total", 0.0),
                steps=values.get("streaming_optimizer_steps_total", 0.0),
                loss=values.get("streaming_train_loss"),
                eval_pending=values.get("streaming_eval_pending_snapshots", 0.0),
                eval_skipped=values.get("streaming_eval_skipped_snapshots_total", 0.0),
                tokens_to_train=values.get("streaming_tokens_to_train", 0.0))


def gpu_memory():
    used = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                          capture_output=True, text=True, check=True).stdout.split()
    return float(used[0]) * 2 ** 20


def process_memory(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(float(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url"); ap.add_argument("run"); ap.add_argument("seconds", type=float); ap.add_argument("poll", type=float)
    ap.add_argument("out")
    ap.add_argument("--gpu", action="store_true"); ap.add_argument("--pid", type=int)
    ap.add_argument("--feed"); ap.add_argument("--below", type=float, default=0)
    args = ap.parse_args()
    memory = gpu_memory if args.gpu else (lambda: process_memory(args.pid))
    feeding = None
    end = time.time() + args.seconds
    with open(args.out, "w") as out:
        while time.time() < end:
            time.sleep(args.poll)
            try:
                sample = dict(t=time.time(), memory_bytes=memory(), **metrics(args.url, args.run))
            except OSError as e:   # a silo too busy to answer in time (or gone): this sample is left out, not the run
                print(f"sample.py: no sample at {time.strftime('%H:%M:%S')}: {e}", file=sys.stderr)
                continue
            out.write(json.dumps(sample) + "\n")
            out.flush()
            if args.feed and sample["tokens_to_train"] < args.below and (feeding is None or feeding.poll() is not None):
                feeding = subprocess.Popen(args.feed, shell=True)
    if feeding is not None:
        feeding.wait()


if __name__ == "__main__":
    main()
