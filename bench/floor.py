"""The floor: read and `ast.parse` every Python file under the given directories, nothing else.

Any analyser that parses every file costs at least this much; the benchmark reports
sessguard's times as ratios to it. Files that do not parse are counted, not fatal.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings


def python_files(root: str) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        found.extend(os.path.join(directory, name) for name in sorted(files) if name.endswith(".py"))
    return found


def main(roots: list[str]) -> int:
    warnings.simplefilter("ignore")
    parsed = failed = lines = 0
    for root in roots:
        for path in python_files(root):
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                ast.parse(data, filename=path)
            except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
                failed += 1
                continue
            parsed += 1
            lines += data.count(b"\n")
    print(f"parsed {parsed} files ({lines} lines), {failed} failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["."]))
