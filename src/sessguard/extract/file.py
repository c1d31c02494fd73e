"""One file, end to end: read, decode, parse, reduce to facts; every failure is data.

This is the unit of work of the per-file stage. It returns plain data only, so it can
run in another process and its result can be cached.
"""

from __future__ import annotations

import time

from sessguard.extract.facts import ExtractOptions, ModuleFacts
from sessguard.extract.module import extract_module
from sessguard.extract.walk import Timeout
from sessguard.model import FileError
from sessguard.source import PartError, parse, read


def extract_file(
    path: str,
    display: str,
    module: str,
    is_package: bool,
    max_bytes: int,
    seconds: float,
    options: ExtractOptions | None = None,
    force: frozenset[str] = frozenset(),
) -> ModuleFacts | FileError:
    data = read(path, display, max_bytes)
    if isinstance(data, FileError):
        return data
    return extract_bytes(data, display, module, is_package, seconds, options, force)


def extract_bytes(
    data: bytes,
    display: str,
    module: str,
    is_package: bool,
    seconds: float,
    options: ExtractOptions | None = None,
    force: frozenset[str] = frozenset(),
) -> ModuleFacts | FileError:
    """`extract_file` on bytes already read (phase 1 read them)."""
    source = parse(data, display)
    if isinstance(source, FileError):
        return source
    try:
        return extract_module(
            source, module, is_package, deadline=time.monotonic() + seconds, options=options, force=force
        )
    except PartError as exc:
        return exc.error
    except Timeout:
        return FileError(display, "timeout", f"analysis took longer than {seconds:g} s")
    except RecursionError:
        return FileError(display, "too-deep", "nesting too deep to analyse")
    except MemoryError:
        return FileError(display, "too-large", "not enough memory to analyse")
    except Exception as exc:  # noqa: BLE001 - contained to this file, reported as data
        return FileError(display, "internal", f"{type(exc).__name__}: {exc}")
