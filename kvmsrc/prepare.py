#!/usr/bin/env python3
"""The kvm-src build step: from a Linux tree (or Debian's linux-source tarball)
to a translation unit of KVM's own table builders compiled against our shim.

    prepare.py --tree DIR | --tarball FILE  --out BUILD/kvmsrc  --cc gcc
               [--shim VERSION] [--shim-root kvmsrc/shim]

1. Sources: with --tree, the files are read in place; with --tarball, only the
   files the manifest names (and the top Makefile) are extracted into
   OUT/tree, once: OUT/tree.stamp records the tarball's path, size and mtime
   and the file list, and a matching stamp skips the extraction.
2. The version comes from the tree's Makefile; the shim is
   SHIM_ROOT/<VERSION>.<PATCHLEVEL> (or --shim).
3. Every manifest item is extracted (kvmsrc/extract.py) into
   OUT/gen/kvm_src_fns.c: the shim header, the items in manifest order, the
   shim's glue.c. The text stays in the build directory.
4. The file is compiled once (-fsyntax-only). Errors are traced to the item
   whose lines they fall in; an optional item that does not fit is left out
   (its fallback is the kvm engine's step) and the file regenerated.
5. OUT/status.cmake tells CMake the outcome; the same summary goes to stdout.

Exit codes: 0 kvm-src ready; 3 a function or macro not found in the tree;
4 a function does not fit the shim (the message names function and symbol);
5 no tree (missing path or tarball) or no shim for its version; 2 usage.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract  # noqa: E402

EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_MISFIT, EXIT_NO_TREE = 0, 2, 3, 4, 5


class Failure(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class Item:
    file: str
    kind: str  # function | macro | template
    name: str
    optional: bool

    @property
    def have(self) -> str:
        """The KVMSRC_HAVE_* suffix: FNAME(is_last_gpte) -> is_last_gpte."""
        m = re.fullmatch(r"FNAME\((\w+)\)", self.name)
        return m.group(1) if m else self.name


def read_manifest(path: str) -> list[Item]:
    items = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise Failure(EXIT_NO_TREE, f"{path}: {e.strerror}")
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) not in (3, 4) or f[1] not in ("function", "macro", "template") or (len(f) == 4 and f[3] != "optional"):
            raise Failure(EXIT_USAGE, f"{path}:{n}: expected 'FILE function|macro|template NAME [optional]'")
        items.append(Item(f[0], f[1], f[2], len(f) == 4))
    return items


def kernel_version(makefile: str) -> tuple[str, str]:
    """('6.1', '6.1.192') from a top-level Makefile."""
    try:
        text = open(makefile, encoding="utf-8", errors="replace").read(4096)
    except OSError:
        raise Failure(EXIT_NO_TREE, f"{makefile}: not found: not the top of a Linux source tree")
    v = {}
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"^{key}\s*=\s*(\d+)", text, re.M)
        if not m:
            raise Failure(EXIT_NO_TREE, f"{makefile}: no {key} line: not the top of a Linux source tree")
        v[key] = m.group(1)
    return f"{v['VERSION']}.{v['PATCHLEVEL']}", f"{v['VERSION']}.{v['PATCHLEVEL']}.{v['SUBLEVEL']}"


def extract_tarball(tarball: str, files: list[str], out: str) -> str:
    """Extracts `files` (paths below the tarball's top directory) into out/tree, once."""
    try:
        st = os.stat(tarball)
    except OSError:
        raise Failure(EXIT_NO_TREE, f"{tarball}: no such file (install Debian's linux-source-6.1: ci/setup does)")
    tree = os.path.join(out, "tree")
    stamp_path = os.path.join(out, "tree.stamp")
    stamp = f"{os.path.abspath(tarball)} {st.st_size} {int(st.st_mtime)}\n" + "\n".join(sorted(files)) + "\n"
    try:
        if open(stamp_path, encoding="utf-8").read() == stamp and all(
            os.path.exists(os.path.join(tree, f)) for f in files
        ):
            return tree
    except OSError:
        pass
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    # One pass over the compressed stream; members matched below the top directory.
    wanted = set(files)
    found = set()
    try:
        with tarfile.open(tarball, "r:*") as tf:
            for m in tf:
                parts = m.name.split("/", 1)
                if len(parts) == 2 and parts[1] in wanted and m.isfile():
                    data = tf.extractfile(m).read()
                    dst = os.path.join(tree, parts[1])
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    with open(dst, "wb") as f:
                        f.write(data)
                    found.add(parts[1])
                    if found == wanted:
                        break
    except (OSError, tarfile.TarError, EOFError) as e:
        raise Failure(EXIT_NO_TREE, f"{tarball}: cannot read: {e}")
    missing = sorted(wanted - found)
    if missing:
        raise Failure(EXIT_NOT_FOUND, f"{tarball}: file {missing[0]} not in the tarball")
    with open(stamp_path, "w", encoding="utf-8") as f:
        f.write(stamp)
    return tree


def generate(items: list[Item], tree: str, shim_dir: str, skip: set[str]) -> tuple[str, list[tuple[str, str, int, int, Item]]]:
    """The translation unit's text, and the spans (file, item, first line, last line) of kernel text in it."""
    out = [
        "/* Generated by kvmsrc/prepare.py: KVM's functions from a Linux tree, for the kvm-src engine.\n"
        "   Kernel text: stays in the build directory, never in the repository. */\n",
        f'#include "{os.path.join(shim_dir, "shim.h")}"\n',
    ]
    spans = []
    sources: dict[str, str] = {}
    for it in items:
        if it.name in skip:
            continue
        path = os.path.join(tree, it.file)
        if it.file not in sources:
            try:
                sources[it.file] = open(path, encoding="utf-8", errors="surrogateescape").read()
            except OSError:
                raise Failure(EXIT_NOT_FOUND, f"{path}: file not found in the tree (needed for {it.name})")
        src = sources[it.file]
        try:
            x = extract.find_macro(src, it.name, it.file) if it.kind == "macro" else extract.find_function(src, it.name, it.file)
        except extract.NotFound as e:
            if it.optional:
                skip.add(it.name)
                continue
            raise Failure(EXIT_NOT_FOUND, f"{e}")
        last = x.line + x.text.count("\n")
        block = f'#line {x.line} "{it.file}"\n{x.text}\n'
        if it.kind == "template":
            parts = []
            for pttype, prefix in (("32", "paging32"), ("64", "paging64"), ("PTTYPE_EPT", "ept")):
                parts.append(f"#define PTTYPE {pttype}\n#define FNAME(name) {prefix}_##name\n{block}#undef FNAME\n#undef PTTYPE\n")
            block = "".join(parts)
        if it.optional:
            block += f"#define KVMSRC_HAVE_{it.have} 1\n"
        out.append(block)
        spans.append((it.file, it.name, x.line, last, it))
    out.append(f'#line 1 "{os.path.join(shim_dir, "glue.c")}"\n#include "{os.path.join(shim_dir, "glue.c")}"\n')
    return "".join(out), spans


_SYMBOL_PATTERNS = [
    (re.compile(r"'(\w+)' undeclared"), "symbol '{}' is missing"),
    (re.compile(r"implicit declaration of function '(\w+)'"), "function '{}' is missing"),
    (re.compile(r"unknown type name '(\w+)'"), "type '{}' is missing"),
    (re.compile(r"has no member named '(\w+)'"), "structure member '{}' is missing"),
    (re.compile(r"storage size of '(\w+)' isn't known"), "the type of '{}' is incomplete"),
    (re.compile(r"(?:too many|too few) arguments to function '(\w+)'"), "'{}' is called with another signature"),
    (re.compile(r"conflicting types for '(\w+)'"), "'{}' has another signature"),
]


def diagnose(stderr: str, spans, shim_dir: str) -> list[tuple[Item | None, str]]:
    """(item or None for the glue/shim, reason) per distinct problem, in order."""
    problems = []
    seen = set()
    for line in stderr.splitlines():
        m = re.match(r"(.+?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)", line)
        if not m:
            continue
        file, lineno, msg = m.group(1), int(m.group(2)), m.group(3)
        reason = msg
        for pat, fmt in _SYMBOL_PATTERNS:
            s = pat.search(msg)
            if s:
                reason = fmt.format(s.group(1))
                break
        owner = None
        for f, _, first, last, it in spans:
            if file.endswith(f) and first <= lineno <= last:
                owner = it
                break
        if owner is None:
            # An error in glue.c: a kernel function called there with another
            # signature, or missing. Blame the item it names, if any.
            s = re.search(r"'(\w+)'", msg)
            if s:
                for _, name, _, _, it in spans:
                    if it.have == s.group(1) or name == s.group(1) or s.group(1).endswith("_" + it.have):
                        owner = it
                        break
        key = (owner.name if owner else file, reason)
        if key not in seen:
            seen.add(key)
            problems.append((owner, reason if owner else f"{file}:{lineno}: {reason}"))
    return problems


def compile_check(cc: str, path: str, include_root: str) -> tuple[bool, str]:
    try:
        r = subprocess.run(
            [cc, "-std=gnu11", "-fsyntax-only", "-Werror=implicit-function-declaration",
             "-Werror=incompatible-pointer-types", "-I", include_root, path],
            capture_output=True, text=True, timeout=120, env=dict(os.environ, LC_ALL="C"))
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure(EXIT_USAGE, f"cannot run the C compiler {cc}: {e}")
    return r.returncode == 0, r.stderr


def cmake_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def write_status(out: str, ok: bool, reason: str, version: str = "", shim: str = "", source: str = "",
                 kernel: list[str] = (), fallback: list[str] = ()) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "status.cmake"), "w", encoding="utf-8") as f:
        f.write(f"set(KVMSRC_OK {'TRUE' if ok else 'FALSE'})\n")
        for k, v in (("REASON", reason), ("VERSION", version), ("SHIM", shim), ("SOURCE", source),
                     ("KERNEL_FUNCTIONS", " ".join(kernel)), ("FALLBACK", " ".join(fallback))):
            f.write(f"set(KVMSRC_{k} {cmake_str(v)})\n")


def run(args) -> int:
    shim_root = os.path.abspath(args.shim_root)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    # The manifest decides the files; which manifest depends on the version,
    # which a tarball only tells once its Makefile is out: take the files of
    # every shim's manifest (they are few).
    if args.tree:
        tree = os.path.abspath(args.tree)
        if not os.path.isdir(tree):
            raise Failure(EXIT_NO_TREE, f"{args.tree}: no such directory (MMUCHECK_KERNEL_SRC)")
        source = tree
    else:
        files = {"Makefile"}
        for d in sorted(os.listdir(shim_root)):
            mf = os.path.join(shim_root, d, "manifest.txt")
            if os.path.exists(mf):
                files.update(it.file for it in read_manifest(mf))
        tree = extract_tarball(args.tarball, sorted(files), out)
        source = os.path.abspath(args.tarball)
    series, full = kernel_version(os.path.join(tree, "Makefile"))
    shim = args.shim or series
    shim_dir = os.path.join(shim_root, shim)
    if not os.path.exists(os.path.join(shim_dir, "manifest.txt")):
        have = ", ".join(sorted(d for d in os.listdir(shim_root) if os.path.isdir(os.path.join(shim_root, d))))
        raise Failure(EXIT_NO_TREE, f"Linux {full} ({source}): no shim for {series} (have: {have}); "
                                    "docs/kvm-src.md, \"Adding a tree\", says how to add one, "
                                    "or try one with -DMMUCHECK_KERNEL_SHIM=VERSION")
    items = read_manifest(os.path.join(shim_dir, "manifest.txt"))
    gen_dir = os.path.join(out, "gen")
    os.makedirs(gen_dir, exist_ok=True)
    gen = os.path.join(gen_dir, "kvm_src_fns.c")
    # The project root, where "kvmsrc/kernel_abi.h" is found: SHIM_ROOT is ROOT/kvmsrc/shim.
    include_root = os.path.dirname(os.path.dirname(shim_root.rstrip("/")))
    skip: set[str] = set()
    notes = []
    while True:
        text, spans = generate(items, tree, shim_dir, skip)
        tmp = os.path.join(gen_dir, "kvm_src_fns.tmp.c")
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        ok, stderr = compile_check(args.cc, tmp, include_root)
        if ok:
            break
        problems = diagnose(stderr, spans, shim_dir)
        required = [(it, r) for it, r in problems if it is None or not it.optional]
        if required:
            lines = []
            for it, r in required:
                lines.append(f"{it.name} ({it.file}) does not fit the {shim} shim: {r}" if it else f"the {shim} shim or glue: {r}")
            if not problems:
                lines.append(stderr.strip().splitlines()[0] if stderr.strip() else "the compiler failed")
            raise Failure(EXIT_MISFIT, f"Linux {full} ({source}): " + "; ".join(lines))
        if not problems:
            raise Failure(EXIT_MISFIT, f"Linux {full} ({source}): the generated file does not compile: "
                          + (stderr.strip().splitlines() or ["?"])[0])
        before = len(skip)
        for it, r in problems:
            if it.name not in skip:
                skip.add(it.name)
                notes.append(f"{it.name}: {r}")
        if len(skip) == before:  # nothing left to leave out: give up rather than loop
            raise Failure(EXIT_MISFIT, f"Linux {full} ({source}): the generated file does not compile: "
                          + "; ".join(r for _, r in problems))
    # Only replace the generated file when it changed: no rebuild otherwise.
    old = None
    if os.path.exists(gen):
        old = open(gen, encoding="utf-8", errors="surrogateescape").read()
    if old != text:
        os.replace(tmp, gen)
    else:
        os.remove(tmp)
    kernel = [s[1] for s in spans if s[4].kind != "macro"]
    fallback = [it.name for it in items if it.name in skip]
    write_status(out, True, "", full, shim, source, kernel, fallback)
    print(f"kvm-src: Linux {full} from {source}, shim {shim}: {len(kernel)} kernel functions"
          + (f"; left out (the kvm engine's step instead): {', '.join(notes)}" if notes else ""))
    return EXIT_OK


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Prepare the kvm-src engine's kernel functions.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--tree", help="a Linux source tree")
    src.add_argument("--tarball", help="a Linux source tarball (Debian's /usr/src/linux-source-X.Y.tar.xz)")
    ap.add_argument("--out", required=True, help="the build directory's kvmsrc folder")
    ap.add_argument("--cc", default="cc", help="the C compiler")
    ap.add_argument("--shim", help="the shim version to use (default: the tree's VERSION.PATCHLEVEL)")
    ap.add_argument("--shim-root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "shim"))
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    try:
        return run(args)
    except Failure as e:
        print(f"kvm-src: {e}", file=sys.stderr)
        write_status(os.path.abspath(args.out), False, str(e))
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
