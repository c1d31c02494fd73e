"""A wheelhouse made from this environment, so that pip can install sessguard offline.

pre-commit installs a `language: python` hook as users get it: a virtual environment and
`pip install .` of the hook's repository, which builds sessguard with its build backend
and installs its dependencies. With `PIP_NO_INDEX` and `PIP_FIND_LINKS` set to this
directory, pip finds all of them here and never asks an index: each installed dependency
is packed back into a wheel from its own files, and the build backend is one of the
setuptools wheels that virtualenv (pre-commit's dependency) ships.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import zipfile
from pathlib import Path

import virtualenv
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def build_wheelhouse(
    directory: Path, project: str = "sessguard", extras: tuple[str, ...] = ()
) -> dict[str, str]:
    """Offline pip settings for an environment variable mapping: `pip install` of the
    project (with `extras`) then finds everything in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _closure(project, extras):
        _repack(metadata.distribution(name), directory)
    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for wheel in embedded.glob("setuptools-*.whl"):
        (directory / wheel.name).write_bytes(wheel.read_bytes())
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(directory), "PIP_CONFIG_FILE": os.devnull}


def _closure(project: str, extras: tuple[str, ...]) -> set[str]:
    """The distributions `project` with `extras` needs here, transitively."""
    environment = {k: str(v) for k, v in default_environment().items()}
    needed: set[str] = set()
    pending = [(project, ("", *extras))]
    while pending:
        name, wanted = pending.pop()
        for text in metadata.requires(name) or ():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({**environment, "extra": e}) for e in wanted):
                continue
            found = canonicalize_name(requirement.name)
            if found not in needed:
                needed.add(found)
                pending.append((found, ("", *sorted(requirement.extras))))
    return needed


def _repack(distribution: metadata.Distribution, directory: Path) -> None:
    info = distribution.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Tag:")]
    name = canonicalize_name(distribution.metadata["Name"]).replace("-", "_")
    target = directory / f"{name}-{distribution.version}-{_compressed_tag(tags)}.whl"
    generated = {e.name for e in distribution.entry_points if e.group in ("console_scripts", "gui_scripts")}
    scripts = f"{name}-{distribution.version}.data/scripts/"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in distribution.files or ():
            if "__pycache__" in file.parts or file.name in generated:
                continue  # bytecode and entry-point scripts: pip makes them again
            inside = scripts + file.name if file.parts[0] == ".." else file.as_posix()
            archive.write(str(distribution.locate_file(file)), inside)


def _compressed_tag(tags: list[str]) -> str:
    """`cp311-cp311-x` and `cp311-cp311-y` as the compressed tag set `cp311-cp311-x.y`."""
    parts = [tag.split("-") for tag in tags] or [["py3", "none", "any"]]
    return "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))
