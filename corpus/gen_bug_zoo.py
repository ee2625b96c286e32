#!/usr/bin/env python3
"""Writes corpus/bug_zoo/<mutant>.json: for every bug-zoo mutant, a case that
exposes it, named after the bug (the regression input for it).

Each case is the lowest-indexed point of the exhaust space that catches the
mutant (points are single page-table chains, so the first is among the
simplest), with the reference's verdict as "expect". tests/bug_zoo.sh checks
that `replay --engines ref,kvm:<mutant>` diverges on it and `ref,kvm` agrees.

Usage: corpus/gen_bug_zoo.py MMUCHECK   (a release build: spaces are millions of points)
"""
import json
import os
import subprocess
import sys
import tempfile


def catching_spaces(here):
    """mutant -> space, from corpus/bug_zoo/catching-spaces.txt."""
    spaces = {}
    with open(os.path.join(here, "bug_zoo", "catching-spaces.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                mutant, space = (part.strip() for part in line.split("|"))
                spaces[mutant] = space
    return spaces


def main():
    mmucheck = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    SPACE = catching_spaces(here)
    listed = subprocess.run([mmucheck, "mutants"], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0].removeprefix("kvm:") for line in listed.splitlines() if line.strip()]
    missing = set(names) ^ set(SPACE)
    if missing:
        sys.exit(f"mutants and SPACE differ: {sorted(missing)}")
    descriptions = {line.split()[0].removeprefix("kvm:"): line for line in listed.splitlines()}
    for name in names:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([mmucheck, "exhaust", "--space", SPACE[name], "--engines", f"ref,kvm:{name}",
                            "--jobs", "2", "--out", out], capture_output=True, text=True)
            files = sorted(os.listdir(out), key=lambda f: int(f.rsplit("-", 1)[1].removesuffix(".json")))
            if not files:
                sys.exit(f"{name}: no divergence in {SPACE[name]}")
            with open(os.path.join(out, files[0])) as f:
                case = json.load(f)
        case.pop("expect", None)
        case["name"] = f"kvm:{name} — {SPACE[name]} point {files[0].rsplit('-', 1)[1].removesuffix('.json')}: " + \
            descriptions[name].split(None, 2)[2]
        verdict = subprocess.run([mmucheck, "eval", "--engine", "ref", "-"], input=json.dumps(case),
                                 capture_output=True, text=True, check=True).stdout
        case["expect"] = json.loads(verdict)
        with open(os.path.join(here, "bug_zoo", f"{name}.json"), "w") as f:
            json.dump(case, f, indent=2)
            f.write("\n")
        print(f"{name}: {SPACE[name]} {files[0]}")


if __name__ == "__main__":
    main()
