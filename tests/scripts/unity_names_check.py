#!/usr/bin/env python3
"""Fails when two .cc files of one folder define a function of the same name in their anonymous
namespaces. A unity build (cmake/FlotillaUnity.cmake) compiles a target's files as one unit: two
such definitions with the same signature stop the build, but with different parameter types they
become overloads, and a call can silently pick the other file's function (it happened: a
random_state(int) of one test file replaced another's random_state(uint64_t)). Folders stand for
targets (tests/<folder>/ for the test binaries). Usage: unity_names_check.py REPO_ROOT"""
import collections
import re
import subprocess
import sys

NOT_FUNCTIONS = {"if", "for", "while", "return", "switch", "TEST", "TEST_F", "TEST_P",
                 "INSTANTIATE_TEST_SUITE_P"}
DEFINITION = re.compile(r"^(?:template\s*<.*>\s*)?(?:static\s+|inline\s+|constexpr\s+)*"
                        r"[\w:<>,\s\*&]+?[\s\*&](\w+)\s*\(")


def anonymous_functions(path):
    """Names of functions defined at the top level of the file's anonymous namespaces."""
    names, inside = set(), False
    with open(path, errors="replace") as f:
        for line in f:
            if re.match(r"^namespace\s*\{", line):
                inside = True
            elif inside and re.match(r"^\}\s*//\s*namespace\s*$", line):
                inside = False
            elif inside and line[:1] not in ("", " ", "\n", "}", "/", "#"):
                m = DEFINITION.match(line)
                if m and m.group(1) not in NOT_FUNCTIONS:
                    names.add(m.group(1))
    return names


def main(root):
    files = subprocess.run(["git", "-C", root, "ls-files", "*.cc"], capture_output=True, text=True,
                           check=True).stdout.split()
    folders = collections.defaultdict(list)
    for f in files:
        parts = f.split("/")
        folders["/".join(parts[:-1])].append(f)
    clashes = []
    for folder, members in sorted(folders.items()):
        where = collections.defaultdict(list)
        for f in members:
            for name in anonymous_functions(f"{root}/{f}"):
                where[name].append(f)
        clashes += [f"{name}: {', '.join(fs)}" for name, fs in sorted(where.items()) if len(fs) > 1]
    if clashes:
        print("FAIL: functions of one name in the anonymous namespaces of files compiled together "
              "(rename one, or share it from a header):\n  " + "\n  ".join(clashes))
        return 1
    print(f"PASS: no clashing helper names in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
