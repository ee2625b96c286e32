#!/usr/bin/env bash
# Cases per second of the emulator oracles (docs/performance.md, "Emulator
# oracles"): random guest-paging cases on one CPU model, in batches of
# BATCH cases per boot, compared with the reference; and the boot cost (a run
# of one case). Then Bochs on random EPT and nested cases (the probe as L1,
# rows bochs-ept and bochs-nested; "run" counts the cases the probe ran, the
# rest are unsupported). Usage: bench/probe_bench.sh MMUCHECK [CASES] [BATCH] [JOBS]
set -euo pipefail
mmucheck=${1:?usage: probe_bench.sh MMUCHECK [CASES] [BATCH] [JOBS]}
cases=${2:-20000}
batch=${3:-5000}
jobs=${4:-1}
printf '%-8s %8s %8s %6s %6s %9s %10s %8s %10s\n' engine cases run boots jobs seconds 'cases/s' 'boot s' 'boot share'
for engine in qemu bochs; do
  boot=$("$mmucheck" oracle --engine "$engine" --random 1 --seed 1 --json | jq '.seconds')
  out=$("$mmucheck" oracle --engine "$engine" --random "$cases" --seed 1 --one-cpu --batch "$batch" --jobs "$jobs" --json)
  jq -r --arg e "$engine" --argjson boot "$boot" --argjson jobs "$jobs" \
    '[$e, .cases, .cases_run, .boots, $jobs, (.seconds*100|round/100), (.cases_run/.seconds|round),
      ($boot*100|round/100), ((.boots*$boot/$jobs/.seconds*1000|round)/10|tostring+"%")] | @tsv' <<<"$out" |
    awk -F'\t' '{printf "%-8s %8s %8s %6s %6s %9s %10s %8s %10s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9}'
done
for shape in ept nested; do
  boot=$("$mmucheck" oracle --engine bochs --random 1 --seed 1 --shape "$shape" --json | jq '.seconds')
  out=$("$mmucheck" oracle --engine bochs --random "$cases" --seed 1 --shape "$shape" --batch "$batch" --jobs "$jobs" --json)
  jq -r --arg e "bochs-$shape" --argjson boot "$boot" --argjson jobs "$jobs" \
    '[$e, .cases, .cases_run, .boots, $jobs, (.seconds*100|round/100), (.cases_run/.seconds|round),
      ($boot*100|round/100), ((.boots*$boot/$jobs/.seconds*1000|round)/10|tostring+"%")] | @tsv' <<<"$out" |
    awk -F'\t' '{printf "%-13s %8s %8s %6s %6s %9s %10s %8s %10s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9}'
done
