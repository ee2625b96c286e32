#!/usr/bin/env python3
"""Fuzz target throughput: each target's libFuzzer execs/s next to fuzz_empty's
(a target that ignores its input, linked the same way) in the same run.
Targets run in turn, ROUNDS times over, each for SECONDS from the corpus seeds
with its .options flags (dictionary, value profile); the table gives the
median per target, so a change in machine load hits every target alike.

    bench/fuzz_throughput.py [--bin build/fuzz/fuzz] [--seconds 10] [--rounds 3] [--targets T1,T2]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from fuzz_bug_zoo import libfuzzer_flags  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/fuzz/fuzz"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--targets", help="comma-separated subset (fuzz_empty always runs)")
    args = ap.parse_args()
    targets = ["fuzz_empty"] + sorted(f[:-8] for f in os.listdir(os.path.join(ROOT, "fuzz")) if f.endswith(".options"))
    if args.targets:
        targets = ["fuzz_empty"] + [t for t in targets[1:] if t in args.targets.split(",")]
    work = tempfile.mkdtemp(prefix="fuzz-throughput-")
    subprocess.run([os.path.join(args.bin, "fuzz_seeds"), os.path.join(work, "seeds"), os.path.join(ROOT, "corpus")],
                   check=True, stderr=subprocess.DEVNULL)
    subprocess.run([os.path.join(args.bin, "fuzz_seeds"), "--json", os.path.join(work, "seeds-json"),
                    os.path.join(ROOT, "corpus")], check=True, stderr=subprocess.DEVNULL)
    rates = {t: [] for t in targets}
    skipped = {}
    load = os.getloadavg()[0]
    for rnd in range(args.rounds):
        for t in targets:
            if t in skipped:
                continue
            corpus = os.path.join(work, f"{t}-{rnd}")
            os.makedirs(corpus)
            seeds = os.path.join(work, "seeds-json" if t == "fuzz_case_json" else "seeds")
            flags = libfuzzer_flags(t) if t != "fuzz_empty" else ["-max_len=1024"]
            env = dict(os.environ, MMUCHECK_DIVERGENCE_DIR=os.path.join(work, "div"))
            p = subprocess.run([os.path.join(args.bin, t)] + flags + [
                f"-max_total_time={args.seconds}", "-print_final_stats=1", f"-seed={rnd + 1}",
                f"-artifact_prefix={work}/", corpus, seeds], env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, errors="replace")
            if "SKIPPED:" in p.stdout:
                skipped[t] = re.search(r"SKIPPED: (.*)", p.stdout).group(1)
                continue
            m = re.search(r"stat::average_exec_per_sec:\s+(\d+)", p.stdout)
            if p.returncode != 0 or not m:
                print(f"{t}: failed (exit {p.returncode})\n{p.stdout[-2000:]}", file=sys.stderr)
                return 1
            rates[t].append(int(m.group(1)))
            print(f"round {rnd + 1} {t}: {m.group(1)} exec/s", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    empty = statistics.median(rates["fuzz_empty"])
    print("| target | execs/s (median) | rounds | share of fuzz_empty |")
    print("|---|---|---|---|")
    for t in targets:
        if t in skipped:
            print(f"| {t} | skipped: {skipped[t]} | | |")
            continue
        r = statistics.median(rates[t])
        print(f"| {t} | {r:,.0f} | {', '.join(f'{x:,}' for x in rates[t])} | {r / empty:.1%} |")
    print(f"\n{args.rounds} rounds of {args.seconds} s per target, one libFuzzer process at a time; "
          f"load average {load:.1f} at the start on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
