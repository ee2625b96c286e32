#!/usr/bin/env python3
"""Unit tests of kvmsrc/extract.py (the function/macro extractor) and of
kvmsrc/prepare.py's answers to bad input: a missing tree, a function not
found, a function that does not fit the shim.

    python3 tests/kvmsrc_extract_test.py [-v]

With KVMSRC_TREE set (ctest sets it to the build's cached 6.1 tree), prepare.py
also runs on copies of that tree, one of them edited to break the shim."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "kvmsrc"))
import extract  # noqa: E402

SRC = r'''
/* static void hidden(void) { in a comment } */
// static void also_hidden(void) { line comment }
#define HELPER(x) \
	((x) + 1 + \
	 2)
#define OTHER 3

static int helper_proto(int a);

static const char *s = "static void in_string(void) { \" } {";
static char c = '{';
static char q = '\'';

/*
 * Comment before the function: not part of its text.
 */
static inline int __attribute__((unused))
nested(int a)
{
	const char *t = "}}}";	/* a } in a comment */
	char b = '}';
	if (a) {
		while (a--) {
			helper_proto(a);   // a call, not a definition
		}
	}
#if FOO
	{ }
#endif
	return HELPER(a);
}

static int helper_proto(int a)
{
	return a;
}

static inline bool FNAME(is_last)(struct m *mmu, unsigned level)
{
	return level == 1;
}

void caller(void) { nested(1); }
'''


class ExtractFunction(unittest.TestCase):
    def test_nested_braces_strings_and_comments(self):
        x = extract.find_function(SRC, "nested")
        self.assertTrue(x.text.startswith("static inline int __attribute__((unused))\nnested(int a)\n{"))
        self.assertTrue(x.text.endswith("return HELPER(a);\n}"))
        self.assertIn('"}}}"', x.text)
        self.assertIn("#if FOO", x.text)
        self.assertNotIn("Comment before", x.text)
        self.assertEqual(SRC.splitlines()[x.line - 1], "static inline int __attribute__((unused))")

    def test_definition_not_prototype_or_call(self):
        x = extract.find_function(SRC, "helper_proto")
        self.assertEqual(x.text, "static int helper_proto(int a)\n{\n\treturn a;\n}")

    def test_macro_wrapped_name(self):
        x = extract.find_function(SRC, "FNAME(is_last)")
        self.assertTrue(x.text.startswith("static inline bool FNAME(is_last)(struct m *mmu"))
        self.assertTrue(x.text.endswith("}"))

    def test_one_line_function(self):
        self.assertEqual(extract.find_function(SRC, "caller").text, "void caller(void) { nested(1); }")

    def test_names_in_comments_and_strings_are_not_definitions(self):
        for name in ("hidden", "also_hidden", "in_string"):
            with self.assertRaises(extract.NotFound) as e:
                extract.find_function(SRC, name, "f.c")
            self.assertIn("f.c", str(e.exception))
            self.assertIn(f"'{name}'", str(e.exception))

    def test_missing_function(self):
        with self.assertRaises(extract.NotFound) as e:
            extract.find_function(SRC, "update_pkru_bitmask", "arch/x86/kvm/mmu/mmu.c")
        self.assertEqual(str(e.exception), "arch/x86/kvm/mmu/mmu.c: function 'update_pkru_bitmask' not found")

    def test_prefix_of_another_name_is_not_a_match(self):
        with self.assertRaises(extract.NotFound):
            extract.find_function(SRC, "helper")
        with self.assertRaises(extract.NotFound):
            extract.find_function(SRC, "nest")

    def test_unterminated_body(self):
        with self.assertRaises(extract.NotFound):
            extract.find_function("static void f(void)\n{\n\tif (x) {\n", "f")

    def test_bad_name(self):
        with self.assertRaises(ValueError):
            extract.find_function(SRC, "not a name!")


class ExtractMacro(unittest.TestCase):
    def test_continuation_lines(self):
        x = extract.find_macro(SRC, "HELPER")
        self.assertEqual(x.text, "#define HELPER(x) \\\n\t((x) + 1 + \\\n\t 2)")

    def test_missing_and_in_comment(self):
        with self.assertRaises(extract.NotFound) as e:
            extract.find_macro("/*\n#define GONE 1\n*/\n", "GONE", "m.h")
        self.assertEqual(str(e.exception), "m.h: macro 'GONE' not found")


class Cli(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([sys.executable, os.path.join(ROOT, "kvmsrc", "extract.py"), *args],
                              capture_output=True, text=True)

    def test_found_missing_and_no_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
            f.write(SRC)
        try:
            r = self.run_cli(f.name, "helper_proto")
            self.assertEqual(r.returncode, 0)
            self.assertIn('#line ', r.stdout)
            r = self.run_cli(f.name, "nosuch")
            self.assertEqual(r.returncode, 3)
            self.assertIn(f"{f.name}: function 'nosuch' not found", r.stderr)
        finally:
            os.unlink(f.name)
        r = self.run_cli("/nonexistent/mmu.c", "f")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/mmu.c", r.stderr)


@unittest.skipUnless(os.environ.get("KVMSRC_TREE"), "KVMSRC_TREE not set (no Linux tree in this build)")
class Prepare(unittest.TestCase):
    """prepare.py on copies of a real tree: the outcome and the message."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.tree = os.path.join(self.tmp, "tree")
        shutil.copytree(os.environ["KVMSRC_TREE"], self.tree)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def prepare(self, tree=None):
        out = os.path.join(self.tmp, "out")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "kvmsrc", "prepare.py"), "--tree", tree or self.tree,
                            "--out", out, "--cc", os.environ.get("CC", "cc")], capture_output=True, text=True)
        with open(os.path.join(out, "status.cmake")) as f:
            status = f.read()
        return r, status

    def edit(self, path, old, new):
        p = os.path.join(self.tree, path)
        with open(p) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(p, "w") as f:
            f.write(text.replace(old, new, 1))

    def test_tree_fits(self):
        r, status = self.prepare()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("set(KVMSRC_OK TRUE)", status)
        self.assertIn("update_permission_bitmask", status)

    def test_missing_symbol_names_function_and_symbol(self):
        self.edit("arch/x86/kvm/mmu/mmu.c", "\twp = is_cr0_wp(mmu);", "\twp = is_cr0_wp(mmu) && kvm_new_helper(mmu);")
        r, status = self.prepare()
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("update_pkru_bitmask (arch/x86/kvm/mmu/mmu.c) does not fit the 6.1 shim: "
                      "function 'kvm_new_helper' is missing", r.stderr)
        self.assertIn("set(KVMSRC_OK FALSE)", status)

    def test_missing_member_names_function_and_member(self):
        self.edit("arch/x86/kvm/mmu/mmu.c", "mmu->pkru_mask = 0;", "mmu->pkru_mask = mmu->pkru_bits;")
        r, _ = self.prepare()
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("update_pkru_bitmask (arch/x86/kvm/mmu/mmu.c) does not fit the 6.1 shim: "
                      "structure member 'pkru_bits' is missing", r.stderr)

    def test_function_not_found(self):
        self.edit("arch/x86/kvm/mmu/mmu.c", "static void update_pkru_bitmask(", "static void update_pkru_bitmask2(")
        r, status = self.prepare()
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("arch/x86/kvm/mmu/mmu.c: function 'update_pkru_bitmask' not found", r.stderr)
        self.assertIn("set(KVMSRC_OK FALSE)", status)

    def test_optional_function_falls_back(self):
        self.edit("arch/x86/kvm/mmu/paging_tmpl.h", "mmu->cpu_role.ext.cr4_pse)", "mmu->cpu_role.ext.cr4_pse_now)")
        r, status = self.prepare()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('set(KVMSRC_FALLBACK "FNAME(is_last_gpte)")', status)
        self.assertIn("structure member 'cr4_pse_now' is missing", r.stdout)

    def test_no_tree_and_no_shim(self):
        r, status = self.prepare(os.path.join(self.tmp, "nonexistent"))
        self.assertEqual(r.returncode, 5)
        self.assertIn("no such directory", r.stderr)
        self.edit("Makefile", "PATCHLEVEL = 1", "PATCHLEVEL = 99")
        r, _ = self.prepare()
        self.assertEqual(r.returncode, 5)
        self.assertIn("no shim for 6.99 (have: 6.1)", r.stderr)


if __name__ == "__main__":
    unittest.main()
