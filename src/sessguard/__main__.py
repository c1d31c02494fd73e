"""`python -m sessguard`: the CLI, started without the scanned tree on `sys.path`."""

import os
import sys

# `python -m` puts the current directory first on sys.path; a scanned tree must never be
# able to shadow the standard library (an `ast.py` there) or third-party modules.
if sys.path and sys.path[0] in ("", ".", os.getcwd()):
    del sys.path[0]

from sessguard.cli import run

run()
