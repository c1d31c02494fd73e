"""Declared dependencies, read from the files a project declares them in.

`requirements*.txt`, `pyproject.toml` (PEP 621, dependency groups, Poetry), `setup.cfg`
and `Pipfile`. Only names and version specifiers are kept; they tell the store
classification which session backend a project installs (SPEC §6).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from sessguard.tomlfile import parser

DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "Pipfile")
REQUIREMENTS = re.compile(r"^requirements.*\.(txt|in)$")
MAX_BYTES = 1 << 20


class Dependency(msgspec.Struct, frozen=True):
    name: str  # canonical: lower case, dashes
    specifier: str  # PEP 440 specifier set, "" when none or not PEP 440
    path: str


def is_dependency_file(name: str) -> bool:
    return name in DEPENDENCY_FILES or bool(REQUIREMENTS.match(name))


def read_dependencies(
    paths: Iterable[Path], display: Callable[[Path], str] = Path.as_posix
) -> tuple[Dependency, ...]:
    found: list[Dependency] = []
    for path in sorted(set(paths)):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found.extend(_parse(path, text, display(path)))
    return tuple(found)


def _parse(path: Path, text: str, shown: str) -> Iterator[Dependency]:
    name = path.name
    if name == "pyproject.toml":
        yield from _from_specs(_pyproject(text), shown)
    elif name == "Pipfile":
        yield from _pipfile(text, shown)
    elif name == "setup.cfg":
        yield from _from_specs(_setup_cfg(text), shown)
    else:
        yield from _from_specs(_requirement_lines(text), shown)


def _from_specs(specs: Iterable[str], path: str) -> Iterator[Dependency]:
    for spec in specs:
        parsed = requirement(spec)
        if parsed is not None:
            yield Dependency(*parsed, path)


# the common forms of a requirement: a name, extras, plain release numbers, a marker
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_SIMPLE = re.compile(
    rf"\s*(?P<name>{_NAME})\s*"
    rf"(?:\[\s*(?:{_NAME}(?:\s*,\s*{_NAME})*)?\s*\])?\s*"
    r"(?P<specs>[^;]*?)\s*(?:;\s*\S.*)?"
)
_CLAUSE = re.compile(r"\s*(==|!=|~=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")


def requirement(spec: str) -> tuple[str, str] | None:
    """A requirement's canonical name and specifier set, as `packaging` gives them (None
    for one it rejects). The common forms are read here: importing `packaging` costs more
    than the rest of reading a project's dependencies. A marker is not evaluated (any
    platform may install the package), so it is not checked either."""
    simple = _SIMPLE.fullmatch(spec)
    if simple is not None:
        clauses = simple["specs"].split(",") if simple["specs"] else []
        matched = [m for c in clauses if (m := _CLAUSE.fullmatch(c)) is not None and _valid(*m.groups())]
        # equal clauses (`==1`, `==1.0`) are one in a specifier set: left to packaging
        distinct = {(m[1], _canonical(m[2]), m[3]) for m in matched}
        if len(matched) == len(clauses) == len(distinct):
            return canonical_name(simple["name"]), ",".join(
                sorted(f"{m[1]}{m[2]}{m[3] or ''}" for m in matched)
            )
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(spec)
    except InvalidRequirement:
        return None
    return canonical_name(parsed.name), str(parsed.specifier)


def canonical_name(name: str) -> str:
    """PEP 503's normal form of a project name (what `packaging.utils.canonicalize_name`
    gives)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _canonical(release: str) -> tuple[int, ...]:
    numbers = [int(part) for part in release.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _valid(operator: str, release: str, wildcard: str | None) -> bool:
    """PEP 440: a wildcard only after `==` or `!=`, `~=` with two numbers at least."""
    if wildcard:
        return operator in ("==", "!=")
    return operator != "~=" or "." in release


def _requirement_lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            yield line


def _toml(text: str) -> dict[str, Any]:
    tomllib = parser()
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return {}


def _pyproject(text: str) -> Iterator[str]:
    data = _toml(text)
    project = data.get("project", {})
    if isinstance(project, dict):
        yield from _strings(project.get("dependencies", []))
        optional = project.get("optional-dependencies", {})
        if isinstance(optional, dict):
            for group in optional.values():
                yield from _strings(group)
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for group in groups.values():
            yield from _strings(group)
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(poetry, dict):
        for table in (poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})):
            if isinstance(table, dict):
                yield from (str(name) for name in table if name != "python")


def _pipfile(text: str, path: str) -> Iterator[Dependency]:
    data = _toml(text)
    for section in ("packages", "dev-packages"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            version = (
                spec if isinstance(spec, str) else spec.get("version", "") if isinstance(spec, dict) else ""
            )
            version = "" if version in ("*", "") else str(version)
            parsed = requirement(f"{name}{version}")
            yield Dependency(*(parsed or (canonical_name(str(name)), "")), path)


def _setup_cfg(text: str) -> Iterator[str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for section, option in (("options", "install_requires"),):
        if parser.has_option(section, option):
            yield from _requirement_lines(parser.get(section, option))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            yield from _requirement_lines(value)


def _strings(values: object) -> Iterator[str]:
    if isinstance(values, list):
        yield from (v for v in values if isinstance(v, str))
