"""Files over `--max-file-size` are judged by their bytes, as every other file is.

A generated data module of 14 MB is over the limit of what is parsed, but the prefilter's
needle test (`needles`) tells from its words whether it could hold a login or a session.
When it cannot, it is skipped and counted (`Report.skipped`, the `files_skipped` stat),
not an error that makes the scan incomplete; when it can, it stays a `too-large` error.
The same holds for a file whose analysis is over `--file-timeout` (see `perfile.Stage`).
Reading a file to search it costs far less than parsing it, but not nothing: past
`JUDGED_UP_TO` bytes a file is not searched and stays an error.
"""

from __future__ import annotations

from sessguard.discover import SourceFile
from sessguard.model import FileError
from sessguard.source import read

JUDGED_UP_TO = 256 << 20


def read_oversized(file: SourceFile) -> bytes | FileError:
    """The bytes of a file over the parse limit, to search them (an error past the cap)."""
    return read(str(file.path), file.display, JUDGED_UP_TO)
