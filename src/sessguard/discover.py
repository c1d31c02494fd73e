"""Which files a scan reads: Python sources, their module names, and dependency files.

The walk never follows a symbolic link out of a directory it was given, never opens
anything but a regular file, and skips the directories that hold other people's code or
build output (virtual environments, caches, VCS metadata). Paths named on the command
line are always scanned.
"""

from __future__ import annotations

import errno
import operator
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from sessguard.dependencies import is_dependency_file
from sessguard.model import FileError

if TYPE_CHECKING:
    import pathspec

DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "__pycache__",
        "__pypackages__",
        "node_modules",
        "site-packages",
        ".eggs",
        "build",
        "dist",
    }
)
PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


class SourceFile(msgspec.Struct, frozen=True, cache_hash=True):
    """A file to scan. Its hash is worked out once: files key every per-file table of a
    scan, and hashing one otherwise hashes its two paths in Python each time."""

    path: Path
    display: str
    module: str
    is_package: bool
    root: Path | None = None  # the scanned directory the file was found under


class _Ignored:
    """Paths a walk skips: excluded directory names, `exclude` patterns (gitignore syntax,
    relative to the scanned directory) and the `.gitignore` files met on the way."""

    def __init__(self, names: frozenset[str], patterns: Sequence[str], gitignore: bool) -> None:
        self.names = names
        self.patterns = _spec(patterns) if patterns else None
        self.gitignore = gitignore
        self.specs: dict[Path, pathspec.GitIgnoreSpec] = {}

    def load(self, given: str, listed: bool = True) -> None:
        """Read the directory's `.gitignore`; `listed` says whether the listing holds one."""
        if not self.gitignore or not listed:
            return
        directory = Path(given)
        ignore = directory / ".gitignore"
        try:
            if ignore.is_file() and not ignore.is_symlink() and ignore.stat().st_size < 1 << 20:
                lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
                self.specs[directory] = _spec(lines)
        except OSError:
            return

    def skip(self, given: str, root: Path, is_dir: bool) -> bool:
        """Whether the walk leaves the path out (a directory: without descending)."""
        name = os.path.basename(given)
        if is_dir and (name in self.names or name.endswith(".egg-info")):
            return True
        if self.patterns is None and not self.specs:
            return False
        path = Path(given)
        suffix = "/" if is_dir else ""
        if self.patterns is not None and self.patterns.match_file(path.relative_to(root).as_posix() + suffix):
            return True
        return any(
            spec.match_file(path.relative_to(base).as_posix() + suffix)
            for base, spec in self.specs.items()
            if base in path.parents
        )


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    """Gitignore patterns, matched by `pathspec` (imported only when a walk meets some)."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


class Discovery(msgspec.Struct):
    files: list[SourceFile] = msgspec.field(default_factory=list)
    errors: list[FileError] = msgspec.field(default_factory=list)
    dependency_files: list[Path] = msgspec.field(default_factory=list)
    skipped: Counter[str] = msgspec.field(default_factory=Counter)  # by kind: "symlink"


TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})
_TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")


def is_test_path(below: str) -> bool:
    """A test module: `test_*.py`, `*_test.py`, `conftest.py`, or a file whose path below the
    scanned directory passes through `tests`, `test` or `testing`."""
    parts = [part for part in below.split("/") if part not in ("", ".")]
    if not parts:
        return False
    return bool(_TEST_FILE.match(parts[-1])) or not TEST_DIRECTORIES.isdisjoint(parts[:-1])


def display_path(path: Path, cwd: Path) -> str:
    """Relative to the current directory when under it, else absolute; always with `/`."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()


def is_within(absolute: str, roots: Iterable[str]) -> bool:
    """Whether the absolute path is one of the absolute `roots` or lies below one."""
    return any(absolute == root or absolute.startswith(os.path.join(root, "")) for root in roots)


class _ModuleNamer:
    """Dotted module names from the `__init__.py` files above a source file (by strings,
    with each directory's package prefix worked out once: a large tree has thousands)."""

    def __init__(self) -> None:
        self._prefixes: dict[str, list[str]] = {}
        # the directories a walk listed, and whether each holds an `__init__.py` file: no
        # need to ask the file system again
        self.listed: dict[str, bool] = {}

    def _package_prefix(self, directory: str, depth: int = 0) -> list[str]:
        """The package names from the outermost package down to `directory`."""
        if directory in self._prefixes:
            return self._prefixes[directory]
        parent = os.path.dirname(directory)
        is_package = self.listed.get(directory)
        if is_package is None:
            try:
                is_package = os.path.isfile(os.path.join(directory, "__init__.py"))
            except OSError:  # a directory we may not look into is not a package we can read
                is_package = False
        if not is_package or parent == directory or depth >= 64:
            prefix: list[str] = []
        else:
            prefix = [*self._package_prefix(parent, depth + 1), os.path.basename(directory)]
        self._prefixes[directory] = prefix
        return prefix

    def name(self, path: str) -> tuple[str, bool]:
        directory, filename = os.path.split(path)
        if filename == "__init__.py":
            parent = os.path.dirname(directory)
            parts = [*self._package_prefix(parent), os.path.basename(directory)]
            return ".".join(parts), True
        return ".".join([*self._package_prefix(directory), filename[: -len(".py")]]), False


def discover(
    paths: Sequence[str],
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    gitignore: bool = True,
    follow_symlinks: bool = False,
) -> Discovery:
    """Walk `paths`. `exclude` (gitignore patterns) replaces the default excluded
    directories; `extend_exclude` adds to whichever applies."""
    cwd = Path(os.getcwd())
    below_cwd = os.path.join(str(cwd), "") if os.sep == "/" else None
    names = DEFAULT_EXCLUDED_DIRS if exclude is None else frozenset()
    patterns = [*(exclude or ()), *extend_exclude]
    namer = _ModuleNamer()
    result = Discovery()
    seen: set[str] = set()
    for raw in paths:
        root = Path(raw)
        display = display_path(root, cwd)
        try:
            info = root.stat()
        except OSError as exc:
            result.errors.append(FileError(display, "not-found", exc.strerror or "cannot read"))
            continue
        if stat.S_ISDIR(info.st_mode):
            ignored = _Ignored(names, patterns, gitignore)
            scanned = Path(os.path.abspath(root))
            # walked from its absolute path, so that every path found is absolute already
            for path in _walk(scanned, ignored, result, follow_symlinks, namer.listed):
                _add(path, cwd, below_cwd, namer, result, seen, scanned)
        elif stat.S_ISREG(info.st_mode):
            _add(os.path.abspath(root), cwd, below_cwd, namer, result, seen, None)
        else:
            result.errors.append(FileError(display, "not-regular", "not a regular file"))
        result.dependency_files.extend(_ancestor_dependency_files(root))
    result.files = _unique_modules(sorted(result.files, key=lambda f: f.display))
    return result


def _add(
    absolute: str,
    cwd: Path,
    below_cwd: str | None,
    namer: _ModuleNamer,
    result: Discovery,
    seen: set[str],
    scanned: Path | None,
) -> None:
    """`absolute`: normalised already. `below_cwd`: the current directory with a final
    separator, where separators are `/` (a display path is then plain text)."""
    if absolute in seen:
        return
    seen.add(absolute)
    module, is_package = namer.name(absolute) if absolute.endswith(".py") else _other_name(absolute)
    if below_cwd is not None and absolute.startswith(below_cwd):
        display = absolute[len(below_cwd) :]
    else:
        display = display_path(Path(absolute), cwd)
    result.files.append(SourceFile(Path(absolute), display, module, is_package, scanned))


def _other_name(path: str) -> tuple[str, bool]:
    """A file given by name that does not end in `.py` is a module of its own."""
    return Path(path).stem, False


def _unique_modules(files: list[SourceFile]) -> list[SourceFile]:
    """Files that would share a module name (every web2py app has `controllers/default.py`,
    test folders repeat `conftest`) are named by their path under the scanned directory
    instead, as namespace packages would be, so that no file's functions hide another's."""
    count: dict[str, int] = {}
    for file in files:
        count[file.module] = count.get(file.module, 0) + 1
    renamed = []
    for file in files:
        if count[file.module] > 1:
            base = file.root if file.root is not None else file.path.parent
            try:
                parts = list(file.path.relative_to(base.parent).with_suffix("").parts)
            except ValueError:
                parts = list(file.path.with_suffix("").parts[-3:])
            if file.is_package:
                parts = parts[:-1]
            file = SourceFile(file.path, file.display, ".".join(parts), file.is_package, file.root)
        renamed.append(file)
    return renamed


_NAME = operator.attrgetter("name")


def _walk(
    root: Path, ignored: _Ignored, result: Discovery, follow: bool, listed: dict[str, bool]
) -> Iterator[str]:
    """Regular `.py` files under `root`. Links are counted and skipped, or with `follow`
    taken only when their target stays inside `root`; a directory reached twice (by
    device and inode) is a loop and is reported, never walked again. `listed` learns,
    for each directory listed, whether it holds an `__init__.py` file."""
    real_root = Path(os.path.realpath(root))
    visited: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            # only a followed link can lead to a directory twice: without links, no stat
            info = os.stat(directory) if follow else None
            entries = sorted(os.scandir(directory), key=_NAME)
        except OSError as exc:
            result.errors.append(
                FileError(_shown(Path(directory)), "permission", exc.strerror or "cannot list")
            )
            continue
        if info is not None:
            if (info.st_dev, info.st_ino) in visited:
                result.errors.append(
                    FileError(_shown(Path(directory)), "symlink-loop", "directory reached twice")
                )
                continue
            visited.add((info.st_dev, info.st_ino))
        ignored.load(directory, any(entry.name == ".gitignore" for entry in entries))
        listed[directory] = any(entry.name == "__init__.py" and _is_file(entry) for entry in entries)
        for entry in entries:
            try:
                if not entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                    if is_dependency_file(entry.name):
                        result.dependency_files.append(Path(os.path.abspath(entry.path)))
                    continue  # most of a tree: templates, data, documentation
            except OSError:
                continue
            path = entry.path
            try:
                if entry.is_symlink():
                    if not follow:
                        if entry.name.endswith(".py") or _points_to_directory(entry):
                            result.skipped["symlink"] += 1
                        continue
                    target = _followed(Path(path), real_root, result)
                    if target is None:
                        continue
                    is_dir = target.is_dir()
                else:
                    is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    if not ignored.skip(path, root, is_dir=True):
                        stack.append(path)
                    continue
                if not entry.name.endswith(".py"):
                    if is_dependency_file(entry.name) and not entry.is_symlink():
                        result.dependency_files.append(Path(os.path.abspath(path)))
                    continue
                if ignored.skip(path, root, is_dir=False):
                    continue
                if not (os.path.isfile(path) if follow else entry.is_file(follow_symlinks=False)):
                    result.errors.append(FileError(_shown(Path(path)), "not-regular", "not a regular file"))
                    continue
            except OSError:
                continue
            yield path


def _is_file(entry: os.DirEntry[str]) -> bool:
    """`os.path.isfile` on the entry (a link to a file counts), from the listing."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _points_to_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return True  # a loop: it was meant to be a directory


def _followed(link: Path, real_root: Path, result: Discovery) -> Path | None:
    """Where a link leads, if it may be followed: inside the root, not in a loop."""
    try:
        os.stat(link)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            result.errors.append(FileError(_shown(link), "symlink-loop", "the link points to itself"))
        else:
            result.errors.append(FileError(_shown(link), "not-found", "the link's target does not exist"))
        return None
    target = Path(os.path.realpath(link))
    if target != real_root and real_root not in target.parents:
        result.errors.append(
            FileError(_shown(link), "symlink-outside", "the link leads out of the scanned tree")
        )
        return None
    return target


def _shown(path: Path) -> str:
    return display_path(path, Path(os.getcwd()))


def _ancestor_dependency_files(root: Path) -> Iterator[Path]:
    """Dependency files above a scanned path, up to the project's top directory."""
    # a directory's own files were found by the walk; a file's siblings were not
    directory = Path(os.path.abspath(root)).parent
    for _ in range(32):
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if is_dependency_file(name):
                yield directory / name
        if any(marker in names for marker in PROJECT_MARKERS) or directory.parent == directory:
            return
        directory = directory.parent
