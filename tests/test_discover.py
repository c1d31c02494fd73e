"""Which files a scan reads, and under which module names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sessguard.discover import discover


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_module_names_follow_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "shop" / "__init__.py")
    touch(tmp_path / "shop" / "views.py")
    touch(tmp_path / "scripts" / "tool.py")
    found = {f.display: (f.module, f.is_package) for f in discover(["."]).files}
    assert found == {
        "scripts/tool.py": ("tool", False),
        "shop/__init__.py": ("shop", True),
        "shop/views.py": ("shop.views", False),
    }


def test_packages_are_known_from_the_walk_s_listings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the directories above the scanned one are asked for an `__init__.py` (`shop`
    is a package scanned from inside); those the walk listed are known from the listing,
    a link to an `__init__.py` file included."""
    import sessguard.discover

    asked: list[str] = []
    original = sessguard.discover.os.path.isfile

    def isfile(path: str) -> bool:
        asked.append(os.path.relpath(path, tmp_path))
        return original(path)

    touch(tmp_path / "shop" / "__init__.py")
    touch(tmp_path / "shop" / "cart" / "__init__.py")
    touch(tmp_path / "shop" / "cart" / "views.py")
    touch(tmp_path / "shop" / "linked" / "real.py")
    (tmp_path / "shop" / "linked" / "__init__.py").symlink_to(tmp_path / "shop" / "linked" / "real.py")
    touch(tmp_path / "shop" / "linked" / "models.py")
    touch(tmp_path / "shop" / "plain" / "tool.py")
    monkeypatch.chdir(tmp_path / "shop")
    monkeypatch.setattr(sessguard.discover.os.path, "isfile", isfile)
    found = {f.display: f.module for f in discover(["."]).files}
    assert found == {
        "__init__.py": "shop",
        "cart/__init__.py": "shop.cart",
        "cart/views.py": "shop.cart.views",
        "linked/models.py": "shop.linked.models",
        "linked/real.py": "shop.linked.real",
        "plain/tool.py": "tool",
    }
    assert asked == ["__init__.py"]


def test_files_that_would_share_a_module_name_are_named_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "apps" / "a" / "controllers" / "default.py")
    touch(tmp_path / "apps" / "b" / "controllers" / "default.py")
    modules = sorted(f.module for f in discover(["apps"]).files)
    assert modules == ["apps.a.controllers.default", "apps.b.controllers.default"]


def test_default_excluded_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for skipped in (".venv", "node_modules", "__pycache__", ".git", "build", "pkg.egg-info"):
        touch(tmp_path / skipped / "x.py")
    touch(tmp_path / "app.py")
    assert [f.display for f in discover(["."]).files] == ["app.py"]
    # a path named on the command line is always scanned
    assert [f.display for f in discover([".venv/x.py"]).files] == [".venv/x.py"]


def test_symlinks_are_not_followed_in_a_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outside = touch(tmp_path.parent / f"{tmp_path.name}-outside.py")
    touch(tmp_path / "tree" / "app.py")
    (tmp_path / "tree" / "link.py").symlink_to(outside)
    (tmp_path / "tree" / "loop").symlink_to(tmp_path / "tree")
    found = discover(["tree"])
    assert [f.display for f in found.files] == ["tree/app.py"]
    assert found.skipped == {"symlink": 2}  # the file link and the directory link


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_python_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.py")
    touch(tmp_path / "app.py")
    found = discover(["."])
    assert [f.display for f in found.files] == ["app.py"]
    assert [(e.path, e.kind) for e in found.errors] == [("pipe.py", "not-regular")]


def test_dependency_files_inside_and_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "pyproject.toml")
    touch(tmp_path / "src" / "app" / "requirements.txt")
    touch(tmp_path / "src" / "app" / "views.py")
    found = discover(["src/app"])
    names = sorted(p.relative_to(tmp_path).as_posix() for p in found.dependency_files)
    assert names == ["pyproject.toml", "src/app/requirements.txt"]


def test_a_file_s_hash_is_worked_out_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files key every per-file table of a scan: the paths are hashed once per file."""
    from pathlib import PurePath

    from sessguard.discover import SourceFile

    hashed: list[PurePath] = []
    original = PurePath.__hash__

    def counting(self: PurePath) -> int:
        hashed.append(self)
        return original(self)

    monkeypatch.setattr(PurePath, "__hash__", counting)
    file = SourceFile(tmp_path / "app.py", "app.py", "app", False, tmp_path)
    table = {file: 1}
    for _ in range(10):
        assert table[file] == 1
    assert len(hashed) == 2  # its path and its root, the first time
