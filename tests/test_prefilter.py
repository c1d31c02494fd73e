"""The prefilter: which files are parsed never changes a report (issue 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import FIXTURES, SHARED_CASES, projects

from sessguard.config import Config
from sessguard.frameworks import KNOWLEDGE
from sessguard.monitor import Monitor
from sessguard.needles import CallerNeedles, Needles, first_needles
from sessguard.pipeline import scan
from sessguard.render.json import render

ALL_PROJECTS = [*projects(SHARED_CASES), *projects(FIXTURES)]


def report_text(path: Path | str, prefilter: bool, monitor: Monitor | None = None) -> str:
    return render(scan([str(path)], Config(prefilter=prefilter), monitor=monitor))


@pytest.mark.parametrize("case", ALL_PROJECTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_report_with_and_without_prefilter(case: Path) -> None:
    assert report_text(case, True) == report_text(case, False)


def test_prefilter_leaves_files_unparsed_on_the_cases() -> None:
    """The equality above would hold trivially if every file were parsed anyway."""
    monitor = Monitor()
    scan([str(SHARED_CASES.parent / "cases")], Config(), monitor=monitor)
    assert monitor.counts["files never parsed"] > 0


@pytest.mark.parametrize("path", sorted(KNOWLEDGE.touching_paths), ids=".".join)
def test_every_framework_name_is_a_needle(path: tuple[str, ...]) -> None:
    """However code reaches a table entry, by a from-import of its module or through the
    module's attribute, the first phase must see it."""
    needles = first_needles(())
    name, module = path[-1], ".".join(path[:-1])
    spellings = (
        [f"{name}(x)\n"]
        if not module
        else [
            f"from {module} import {name}\n{name}(x)\n",
            f"import {module}\n{module}.{name}(x)\n",
        ]
    )
    for text in spellings:
        assert needles.match(text.encode()), text


def test_identifier_needles_match_whole_names_only() -> None:
    needles = Needles(identifiers={"login"})
    assert needles.match(b"auth.login(request, user)")
    assert needles.match(b"login")
    assert not needles.match(b"def login_page(): pass")
    assert not needles.match(b"blogin = 1\n_login = 2")
    assert Needles(substrings={"session"}).match(b"flask_session")


def test_caller_needles_want_a_method_with_its_class() -> None:
    needles = CallerNeedles(methods={"admit": frozenset({"Welcome"})})
    assert needles.match(b"page = Welcome()\npage.admit(x)\n")
    assert not needles.match(b"door.admit(x)\n")  # the method name alone says too little
    assert not needles.match(b"Welcome()\n")


def test_caller_needles_find_subclasses_and_constructors() -> None:
    needles = CallerNeedles(classes=frozenset({"Core"}), constructed=frozenset({"Cart"}))
    assert needles.match(b"from core import Core\n\nclass Layout(\n    mixins.Base, Core\n):\n    pass\n")
    assert needles.match(b"class Layout(core.Core): pass\n")
    assert not needles.match(b"from core import Core\nCore.version\n")  # named, not derived
    assert needles.match(b"cart = Cart(request)\n")
    assert not needles.match(b"class Cartography(Base): pass\n")


INHERITED = {
    "portal/__init__.py": "",
    "portal/views.py": (
        "from flask import Flask, request\n"
        "from portal.pages import Welcome\n"
        "app = Flask(__name__)\n"
        "@app.post('/in')\n"
        "def enter():\n"
        "    page = Welcome()\n"
        "    page.admit(request.form['u'])\n"
        "    return 'ok'\n"
    ),
    "portal/pages.py": "from portal.layout import Layout\nclass Welcome(Layout):\n    title = 'w'\n",
    "portal/layout.py": "from portal.core import Core\nclass Layout(Core):\n    columns = 2\n",
    "portal/core.py": (
        "from flask import session\n"
        "class Core:\n"
        "    def admit(self, who):\n"
        "        session['user_id'] = who\n"
    ),
}


def test_a_root_without_a_single_needle_is_reached_through_subclasses(tmp_path: Path) -> None:
    """Neither the view nor the two classes between it and the session write name anything
    the first phase looks for (annotated fixtures always do: their comments say session)."""
    for name, text in INHERITED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert not first_needles(()).match((tmp_path / "portal/views.py").read_bytes())
    report = scan([str(tmp_path)])
    assert [(Path(f.path).name, f.span.line) for f in report.findings] == [("views.py", 7)]
    assert report_text(tmp_path, True) == report_text(tmp_path, False)


def test_unreadable_files_that_cannot_matter_are_not_reported(tmp_path: Path) -> None:
    """Same errors with and without the prefilter: a broken file is reported only when
    its words say it could matter."""
    (tmp_path / "broken_math.py").write_text("def f(:\n    return 1\n")
    (tmp_path / "broken_view.py").write_text("from flask import session\ndef f(:\n")
    for prefilter in (True, False):
        errors = scan([str(tmp_path)], Config(prefilter=prefilter)).errors
        assert [Path(e.path).name for e in errors] == ["broken_view.py"]


def test_needles_never_hold_a_pattern_that_is_not_literal() -> None:
    for needle in first_needles(("a.b.c_d",)).substrings:
        assert re.fullmatch(r"\w+", needle)
