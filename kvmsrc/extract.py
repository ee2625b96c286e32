#!/usr/bin/env python3
"""Pull the source text of named C functions (and #define macros) out of a C file.

Used by kvmsrc/prepare.py to take KVM's table builders out of a Linux tree; the
text it returns is written to the build directory only, never to the repository.

The scanner knows C's lexical structure well enough for kernel sources: //
and /* */ comments, string and character literals (with escapes), and
preprocessor lines (with backslash continuations) are skipped when matching
names, parentheses and braces. A function is found at file scope as its name
(one identifier, or a macro-wrapped name such as FNAME(is_last_gpte), written
"FNAME(is_last_gpte)") followed by a parenthesised parameter list and a body
in braces; a prototype (";" after the parameters) or a call inside another
body is not a definition. The text starts at the first token of the
declaration (return type, storage class, attributes) and ends at the closing
brace; the comment before it is not included. A name defined more than
once (alternatives under #if) gives its first definition.

    python3 kvmsrc/extract.py arch/x86/kvm/mmu/mmu.c update_pkru_bitmask
    python3 kvmsrc/extract.py --macro BYTE_MASK arch/x86/kvm/mmu/mmu.c

Exit codes: 0 found (text on stdout), 3 a name not found (the message names
file and name), 2 usage or I/O error.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys

EXIT_NOT_FOUND = 3
EXIT_USAGE = 2


class NotFound(Exception):
    """A function or macro is not defined in the file."""

    def __init__(self, path: str, name: str, kind: str = "function"):
        super().__init__(f"{path}: {kind} '{name}' not found")
        self.path, self.name, self.kind = path, name, kind


@dataclasses.dataclass
class Extracted:
    name: str
    text: str
    line: int  # 1-based line of the text's first character


_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


class _Scanner:
    """Walks a C file, classifying each position as code or not."""

    def __init__(self, src: str):
        self.src = src
        # mask[i] is True where src[i] is code (not comment, literal or preprocessor line).
        self.code = self._classify(src)

    @staticmethod
    def _classify(s: str) -> list[bool]:
        n = len(s)
        code = [True] * n
        i = 0
        at_line_start = True  # only whitespace so far on this line
        while i < n:
            c = s[i]
            if c == "\n":
                at_line_start = True
                i += 1
                continue
            if c in " \t\r\f\v":
                i += 1
                continue
            if at_line_start and c == "#":
                # A preprocessor line, up to an unescaped newline; comments inside end where they end.
                j = i
                while j < n and s[j] != "\n":
                    if s.startswith("/*", j):
                        k = s.find("*/", j + 2)
                        j = n if k < 0 else k + 2
                        continue
                    if s[j] == "\\" and j + 1 < n and s[j + 1] == "\n":
                        j += 2
                        continue
                    j += 1
                for k in range(i, j):
                    code[k] = False
                i = j
                continue
            at_line_start = False
            if s.startswith("//", i):
                j = s.find("\n", i)
                j = n if j < 0 else j
                for k in range(i, j):
                    code[k] = False
                i = j
                continue
            if s.startswith("/*", i):
                j = s.find("*/", i + 2)
                j = n if j < 0 else j + 2
                for k in range(i, j):
                    code[k] = False
                i = j
                continue
            if c in "\"'":
                j = i + 1
                while j < n and s[j] != c and s[j] != "\n":
                    j += 2 if s[j] == "\\" else 1
                j = min(j + 1, n)
                for k in range(i, j):
                    code[k] = False
                i = j
                continue
            i += 1
        return code

    def skip_noncode(self, i: int) -> int:
        """The first code, non-space position at or after i."""
        n = len(self.src)
        while i < n and (not self.code[i] or self.src[i].isspace()):
            i += 1
        return i

    def match(self, i: int, open_c: str, close_c: str) -> int:
        """i is an opening bracket in code; returns the index after its match, or -1."""
        depth = 0
        n = len(self.src)
        while i < n:
            if self.code[i]:
                if self.src[i] == open_c:
                    depth += 1
                elif self.src[i] == close_c:
                    depth -= 1
                    if depth == 0:
                        return i + 1
            i += 1
        return -1


def _name_tokens(name: str) -> list[str]:
    toks = re.findall(r"[A-Za-z_][A-Za-z_0-9]*|[()]", name)
    if "".join(toks) != name.replace(" ", "") or not toks or not _IDENT.fullmatch(toks[0]):
        raise ValueError(f"not a function name: {name!r}")
    return toks


def _match_tokens(sc: _Scanner, i: int, toks: list[str]) -> int:
    """Matches toks at code position i (whitespace/comments between); returns the end or -1."""
    s = sc.src
    for t in toks:
        i = sc.skip_noncode(i)
        if not s.startswith(t, i) or not all(sc.code[i : i + len(t)]):
            return -1
        if _IDENT.fullmatch(t):
            end = i + len(t)
            if end < len(s) and (s[end].isalnum() or s[end] == "_"):
                return -1
        i += len(t)
    return i


def _line_of(src: str, i: int) -> int:
    return src.count("\n", 0, i) + 1


def find_function(src: str, name: str, path: str = "<input>") -> Extracted:
    sc = _Scanner(src)
    toks = _name_tokens(name)
    s = src
    n = len(s)
    depth = 0
    stmt_start = 0  # where the current file-scope declaration may begin
    i = 0
    while i < n:
        if not sc.code[i]:
            i += 1
            continue
        c = s[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                stmt_start = i + 1
        elif c == ";" and depth == 0:
            stmt_start = i + 1
        elif depth == 0 and c == toks[0][0] and (i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
            end = _match_tokens(sc, i, toks)
            if end >= 0:
                p = sc.skip_noncode(end)
                if p < n and s[p] == "(":
                    close = sc.match(p, "(", ")")
                    if close > 0:
                        b = sc.skip_noncode(close)
                        if b < n and s[b] == "{":
                            body_end = sc.match(b, "{", "}")
                            if body_end < 0:
                                raise NotFound(path, name)
                            start = sc.skip_noncode(stmt_start)
                            return Extracted(name, s[start:body_end], _line_of(s, start))
        i += 1
    raise NotFound(path, name)


def find_macro(src: str, name: str, path: str = "<input>") -> Extracted:
    pat = re.compile(r"^[ \t]*#[ \t]*define[ \t]+" + re.escape(name) + r"(?![A-Za-z0-9_])", re.M)
    for m in pat.finditer(src):
        start = m.start()
        if _inside_comment(src, start):
            continue
        end = start
        while True:
            nl = src.find("\n", end)
            if nl < 0:
                end = len(src)
                break
            if src[nl - 1] == "\\":
                end = nl + 1
                continue
            end = nl
            break
        return Extracted(name, src[start:end], _line_of(src, start))
    raise NotFound(path, name, "macro")


def _inside_comment(src: str, i: int) -> bool:
    """Whether position i lies inside a /* */ comment (preprocessor lines count as code here)."""
    j = 0
    n = len(src)
    while j < i:
        if src.startswith("/*", j):
            k = src.find("*/", j + 2)
            if k < 0 or k + 2 > i:
                return True
            j = k + 2
            continue
        if src.startswith("//", j):
            k = src.find("\n", j)
            if k < 0 or k > i:
                return True
            j = k
            continue
        if src[j] in "\"'":
            q = src[j]
            j += 1
            while j < n and src[j] != q and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
        j += 1
    return False


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Print the source text of named C functions or macros.")
    ap.add_argument("--macro", action="append", default=[], help="a #define to print (repeatable)")
    ap.add_argument("file")
    ap.add_argument("names", nargs="*", help="function names, e.g. update_pkru_bitmask or 'FNAME(is_last_gpte)'")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    try:
        with open(args.file, encoding="utf-8", errors="surrogateescape") as f:
            src = f.read()
    except OSError as e:
        print(f"extract.py: {args.file}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        out = [find_macro(src, m, args.file) for m in args.macro]
        out += [find_function(src, nm, args.file) for nm in args.names]
    except NotFound as e:
        print(f"extract.py: {e}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ValueError as e:
        print(f"extract.py: {e}", file=sys.stderr)
        return EXIT_USAGE
    for x in out:
        sys.stdout.write(f'#line {x.line} "{args.file}"\n{x.text}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
