#!/usr/bin/env python3
"""Bug-zoo benchmark: for every mutant of the bug zoo, how long libFuzzer takes
to find a divergence the allow-list does not explain. One libFuzzer process
(one core) per run, each run with its own -seed; the median of the runs is
reported, for two seed corpora:

  minus-own   every case in corpus/, encoded, minus corpus/bug_zoo/<mutant>.json
              (which would hand the mutant over). Other hand-written cases may
              still expose it: then it is found while the seeds load.
  minus-all   the same minus every seed on which the mutant already diverges
              (fuzz_seeds --drop-diverging): the fuzzer has to make the case.

    bench/fuzz_bug_zoo.py [--bin build/fuzz/fuzz] [--runs 3] [--budget 60] [--mutants a,b]

The target is fuzz_ept_walk for mutants whose regression case has EPT,
fuzz_guest_walk otherwise; engines ref,kvm:<mutant>. pse36-fixed-bits is
mainline behaviour: all its divergences are the allow-listed finding, so for
it the time to the first (known) divergence is measured
(MMUCHECK_ABORT_ON_KNOWN=1) and marked as such. Prints a Markdown table
(docs/bug-zoo.md, "Found by fuzzing") and writes the raw runs as JSON.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def libfuzzer_flags(target):
    flags, section = [], None
    for line in open(os.path.join(ROOT, "fuzz", target + ".options")):
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[libfuzzer]" and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            if k == "dict":
                v = os.path.join(ROOT, "fuzz", v)
            flags.append(f"-{k}={v}")
    return flags


def run_list(r):
    return ", ".join(f"{x['seconds']:.2f}" if x["found"] else f">{x['seconds']:.0f}" for x in r["runs"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/fuzz/fuzz"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--budget", type=int, default=60, help="seconds per run")
    ap.add_argument("--mutants", default="", help="comma-separated subset")
    ap.add_argument("--json", default="", help="write the raw runs here")
    ap.add_argument("--flag", action="append", default=[], help="extra libFuzzer flag, after the .options ones "
                    "(e.g. --flag=-use_value_profile=0)")
    ap.add_argument("--mmucheck", default="", help="mmucheck binary that checks each divergence found "
                    "(default: BIN/../tools/mmucheck)")
    args = ap.parse_args()
    args.mmucheck = args.mmucheck or os.path.join(args.bin, "..", "tools", "mmucheck")

    zoo = os.path.join(ROOT, "corpus", "bug_zoo")
    mutants = sorted(f[:-5] for f in os.listdir(zoo) if f.endswith(".json"))
    if args.mutants:
        mutants = [m for m in mutants if m in args.mutants.split(",")]
    work = tempfile.mkdtemp(prefix="fuzz-bug-zoo-")
    results = []
    load = os.getloadavg()[0]
    for m in mutants:
        case = json.load(open(os.path.join(zoo, m + ".json")))
        target = "fuzz_ept_walk" if "ept" in case else "fuzz_guest_walk"
        known = m == "pse36-fixed-bits"
        variants = {}
        for variant in ("minus-own", "minus-all"):
            seeds = os.path.join(work, m, variant)
            cmd = [os.path.join(args.bin, "fuzz_seeds"), "--exclude", m + ".json"]
            if variant == "minus-all":
                cmd += ["--target", target, "--drop-diverging", f"ref,kvm:{m}"] + (["--with-known"] if known else [])
            p = subprocess.run(cmd + [seeds, os.path.join(ROOT, "corpus")], check=True, stderr=subprocess.PIPE,
                               text=True)
            n_seeds = len(os.listdir(seeds))
            runs = fuzz_runs(args, m, target, known, seeds, os.path.join(work, m, variant + "-runs"))
            times = [r["seconds"] if r["found"] else float("inf") for r in runs]
            variants[variant] = {"seeds": n_seeds, "runs": runs, "median": statistics.median(times),
                                 "note": p.stderr.strip()}
            print(f"{m} {variant} ({n_seeds} seeds): {target} median {variants[variant]['median']:.2f} s, "
                  f"runs {[r['seconds'] for r in runs]}, found {sum(r['found'] for r in runs)}/{len(runs)}",
                  file=sys.stderr)
        results.append({"mutant": m, "target": target, "known": known, "variants": variants})
    shutil.rmtree(work, ignore_errors=True)
    return report(args, results, load)


def fuzz_runs(args, m, target, known, seeds, base):
    runs = []
    for k in range(1, args.runs + 1):
        run = os.path.join(base, f"run{k}")
        os.makedirs(os.path.join(run, "corpus"))
        env = dict(os.environ, MMUCHECK_ENGINES=f"ref,kvm:{m}", MMUCHECK_DIVERGENCE_DIR=os.path.join(run, "div"))
        if known:
            env["MMUCHECK_ABORT_ON_KNOWN"] = "1"
        cmd = [os.path.join(args.bin, target)] + libfuzzer_flags(target) + args.flag + [
            f"-seed={k}", f"-max_total_time={args.budget}", f"-artifact_prefix={run}/",
            os.path.join(run, "corpus"), seeds]
        start = time.monotonic()
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace")
        secs = time.monotonic() - start
        div = os.path.join(run, "div")
        files = [os.path.join(div, f) for f in os.listdir(div) if f.endswith(".json")] if os.path.isdir(div) else []
        found = p.returncode != 0 and len(files) == 1
        if found:
            # The divergence is the mutant's: mainline agrees on the case, the mutant does not.
            mainline = subprocess.run([args.mmucheck, "replay", "--color", "never", "--engines", "ref,kvm", files[0]],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            mutant = subprocess.run([args.mmucheck, "replay", "--color", "never", "--engines", f"ref,kvm:{m}",
                                     files[0]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if mainline != 0 or (mutant != 1 and not known):
                print(f"{m}: {files[0]} does not replay as the mutant's divergence (ref,kvm exit {mainline}, "
                      f"ref,kvm:{m} exit {mutant})", file=sys.stderr)
                found = False
        execs = [int(x) for x in re.findall(r"^#(\d+)", p.stdout, re.M)]
        runs.append({"seed": k, "found": found, "seconds": round(secs, 2),
                     "in_seeds": found and "INITED" not in p.stdout,
                     "execs": execs[-1] if execs else 0, "exit": p.returncode})
        if not found and p.returncode != 0:
            print(p.stdout[-3000:], file=sys.stderr)
    return runs


def cell(v):
    med = "—" if v["median"] == float("inf") else f"{v['median']:.2f}"
    found = sum(x["found"] for x in v["runs"])
    return f"{med} ({run_list(v)}; {found}/{len(v['runs'])})"


def report(args, results, load):
    print("| mutant | target | minus its own case: median s (runs; found) | seeds loaded found it | "
          "minus every seed exposing it: seeds left | median s (runs; found) | execs (median) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        own, alls = r["variants"]["minus-own"], r["variants"]["minus-all"]
        in_seeds = sum(x["in_seeds"] for x in own["runs"])
        execs = statistics.median(x["execs"] for x in alls["runs"])
        name = f"`{r['mutant']}`" + (" (allow-listed)" if r["known"] else "")
        print(f"| {name} | {r['target']} | {cell(own)} | {in_seeds}/{len(own['runs'])} | {alls['seeds']} | "
              f"{cell(alls)} | {int(execs)} |")
    for v in ("minus-own", "minus-all"):
        meds = sorted(r["variants"][v]["median"] for r in results if not r["known"])
        if meds:
            print(f"\n{v}: {len(meds)} mutants (the allow-listed one aside): slowest median {meds[-1]:.2f} s, "
                  f"median of medians {statistics.median(meds):.2f} s", end="")
    print(f"\n\nbudget {args.budget} s per run, {args.runs} runs per mutant and corpus; load average {load:.1f} "
          f"at the start on {os.cpu_count()} cores")
    if args.json:
        json.dump({"budget": args.budget, "runs": args.runs, "load": load, "results": results},
                  open(args.json, "w"), indent=1, default=str)
    worst = max(r["variants"][v]["median"] for r in results for v in r["variants"])
    return 0 if worst <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
