"""The prefilter: which files are parsed never changes a report (issue 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import FIXTURES, SHARED_CASES, projects
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sessguard.config import Config
from sessguard.frameworks import KNOWLEDGE
from sessguard.model import FileError
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


LAZY = FIXTURES / "flask" / "lazy_facts"


def test_lazy_facts_skip_functions_without_needles_and_a_round_brings_them_back() -> None:
    """A parsed file gives facts only to the functions whose bytes can matter; the others
    are listed with their words, and `force` (a later round) extracts them."""
    from sessguard.extract.facts import ExtractOptions
    from sessguard.extract.file import extract_file

    path = str(LAZY / "shop" / "bag.py")
    lazy = ExtractOptions(lazy=True)
    skipped = extract_file(path, path, "shop.bag", False, 1 << 20, 5.0, lazy)
    assert not isinstance(skipped, FileError)
    assert [f.qualname for f in skipped.functions if f.name != "<module>"] == []
    assert dict(skipped.skipped)["shop.bag.keep"] == ("account", "bag", "def", "id", "keep", "user_id")
    forced = extract_file(path, path, "shop.bag", False, 1 << 20, 5.0, lazy, frozenset({"shop.bag.keep"}))
    assert not isinstance(forced, FileError)
    assert "shop.bag.keep" in {f.qualname for f in forced.functions}
    assert "shop.bag.keep" not in dict(forced.skipped)
    full = extract_file(path, path, "shop.bag", False, 1 << 20, 5.0, ExtractOptions())
    assert not isinstance(full, FileError) and not full.skipped


def test_lazy_facts_find_the_logins_a_later_round_asks_for() -> None:
    """The twins of the fixture: a view found only by the helper it calls, a helper found
    only because a session is passed to it; both needed a second extraction."""
    monitor = Monitor()
    report = scan([str(LAZY)], Config(), monitor=monitor)
    found = {(Path(f.path).name, f.span.line) for f in report.findings}
    assert found == {("pages.py", 13), ("views.py", 13)}
    assert monitor.counts["files parsed"] > 6 - monitor.counts["files never parsed"]  # re-extractions


def test_no_file_is_read_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Later rounds look for new names in the index kept from the first read."""
    import sessguard.reading

    reads: list[str] = []
    original = sessguard.reading.read

    def counting(path: str, shown: str, limit: int) -> bytes | FileError:
        reads.append(path)
        return original(path, shown, limit)

    monkeypatch.setattr(sessguard.reading, "read", counting)
    monitor = Monitor()
    scan([str(SHARED_CASES)], Config(), monitor=monitor)
    assert monitor.counts["files never parsed"] > 0
    assert len(reads) == len(set(reads)) > 0


def test_test_modules_are_parsed_only_when_non_test_code_imports_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not parsed, and not even read in phase 1: a test module's bytes matter only once
    code that can matter imports it."""
    import sessguard.extraction
    import sessguard.reading

    parsed: list[str] = []
    read: list[str] = []
    original = sessguard.extraction.timed
    original_read = sessguard.reading.read

    def spying(job: tuple[object, ...]) -> object:
        parsed.append(str(job[1]))
        return original(job)  # type: ignore[arg-type]

    def reading(path: str, shown: str, limit: int) -> bytes | FileError:
        read.append(shown)
        return original_read(path, shown, limit)

    monkeypatch.setattr(sessguard.extraction, "timed", spying)
    monkeypatch.setattr(sessguard.reading, "read", reading)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_login.py").write_text(
        "from flask_login import login_user\n\ndef test_login(user):\n    login_user(user)\n"
    )
    (tmp_path / "tests" / "factories.py").write_text("def make_user():\n    return object()\n")
    (tmp_path / "app.py").write_text("from flask import session\n\ndef theme(t):\n    session['theme'] = t\n")
    scan(["."], Config())
    assert "tests/test_login.py" not in parsed and "app.py" in parsed
    assert read == ["app.py"]
    parsed.clear()
    scan(["."], Config(include_tests=True))
    assert "tests/test_login.py" in parsed
    parsed.clear()
    (tmp_path / "app.py").write_text(
        "from flask import session\nfrom tests.factories import make_user\n\n"
        "def theme(t):\n    session['theme'] = make_user()\n"
    )
    scan(["."], Config())
    assert "tests/factories.py" in parsed and "tests/test_login.py" not in parsed


@pytest.mark.parametrize(("returned", "reported"), [("theme", True), ("1", False)])
def test_a_test_module_that_cannot_be_parsed_is_judged_by_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, returned: str, reported: bool
) -> None:
    """Its error counts when its words hold a name that can matter (`theme` touches the
    session). It holds `session` too, which would spare a non-test file its index: a test
    module read late is indexed all the same."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "factories.py").write_text(
        f"session = {{}}\ndef make_user(:\n    return {returned}\n"
    )
    (tmp_path / "app.py").write_text(
        "from flask import session\nfrom tests.factories import make_user\n\n"
        "def theme(t):\n    session['theme'] = make_user()\n"
    )
    errors = [e.path for e in scan(["."], Config()).errors]
    assert errors == (["tests/factories.py"] if reported else [])


def test_a_file_the_commonest_needle_finds_is_wanted_without_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only unparsed files are ever matched by their index: a file whose bytes hold
    `session` is wanted at once, and no index is built for it; the others are indexed,
    and those another needle finds (`login_user`) are wanted through the index."""
    import sessguard.reading

    indexed_files: list[bytes] = []
    original = sessguard.reading.indexed

    def spying(data: bytes) -> tuple[bytes, frozenset[bytes] | set[bytes]]:
        indexed_files.append(data)
        return original(data)

    monkeypatch.setattr(sessguard.reading, "indexed", spying)
    monkeypatch.chdir(tmp_path)
    session = "from flask import session\n\ndef theme(t):\n    session['theme'] = t\n"
    login = "from flask_login import login_user\n\ndef enter(user):\n    login_user(user)\n"
    plain = "def add(a, b):\n    return a + b\n"
    for name, text in (("app.py", session), ("views.py", login), ("util.py", plain)):
        (tmp_path / name).write_text(text)
    monitor = Monitor()
    report = scan(["."], Config(), monitor=monitor)
    assert sorted(indexed_files) == sorted([login.encode(), plain.encode()])
    assert monitor.counts["files never parsed"] == 1  # util.py
    assert [(f.path, f.span.line) for f in report.findings] == [("views.py", 4)]


def test_the_index_finds_what_the_bytes_find() -> None:
    from sessguard.needles import indexed, words_of

    needles = first_needles(["auth:user"])
    for data in (
        b"auth.login(request, user)",
        b"def login_page(): pass",
        b"x = 'beaker.session'",
        b"from flask_session import Session",
        b"KEY = 'auth:user'",
        b"KEY = 'auth'",
        b"blogin = 1",
        b"class Login(Base): pass",
    ):
        assert needles.match_indexed(*indexed(data)) == needles.match(data), data
    callers = CallerNeedles(methods={"admit": frozenset({"Welcome"})}, classes=frozenset({"Core"}))
    assert callers.match_index(words_of(b"page = Welcome()\npage.admit(x)\n"))
    assert not callers.match_index(words_of(b"door.admit(x)\n"))
    assert callers.match_index(words_of(b"class Layout(core.Core): pass\n"))


def test_lazy_facts_take_any_string_constant(tmp_path: Path) -> None:
    """A module constant holding a lone surrogate (pygments' `unistring`) is no error."""
    (tmp_path / "chars.py").write_text(
        'from flask import session\nCS = "\\\\ud800"\nLONE = "\\ud800-\\udfff"\n\n'
        "def keep(t):\n    session['theme'] = t\n"
    )
    report = scan([str(tmp_path)], Config())
    assert not report.errors and not report.findings


def test_the_lines_holding_a_needle_are_those_match_finds() -> None:
    """Lazy facts find the needles of a file in one search and ask which lines hold one:
    every line must be judged as `Needles.match` judges it on its own."""
    from sessguard.extract.lazy import _hit_lines

    needles = first_needles(["myapp.auth.sign_in_user", "tenant_admin"])
    checked = 0
    for path in sorted([*SHARED_CASES.rglob("*.py"), *FIXTURES.rglob("*.py")]):
        lines = tuple(path.read_text(encoding="utf-8", errors="surrogateescape").splitlines())
        hit = set(_hit_lines(lines, needles))
        expected = {n for n, line in enumerate(lines, 1) if needles.match(line.encode("utf-8", "replace"))}
        assert hit == expected, path
        checked += len(expected)
    assert checked > 100


_NAMES = st.sampled_from(["sign_in", "admit", "Welcome", "Core", "Cart", "setUp", "go"])
_SOME_NAMES = st.frozensets(_NAMES)
_METHODS = st.dictionaries(_NAMES, st.frozensets(_NAMES, min_size=1))  # method -> its classes


@settings(max_examples=2000, deadline=None)
@given(_SOME_NAMES, _METHODS, _SOME_NAMES, st.lists(_NAMES))
def test_a_skipped_function_s_names_match_as_its_words_do(
    functions: frozenset[str],
    methods: dict[str, frozenset[str]],
    constructed: frozenset[str],
    words: list[str],
) -> None:
    """The later rounds ask for a skipped function from the names its module's facts list,
    never encoded into a set of words: the answer is the one the words would give."""
    needles = CallerNeedles(functions, methods, constructed)
    names = tuple(sorted(set(words)))
    assert needles.match_names(names) == needles.match_words({w.encode() for w in names})


def test_the_test_modules_a_module_imports_are_kept_per_module_from_round_to_round() -> None:
    """Each module's answer is kept for the next round, and taken again only for the very
    facts it came from: a module extracted again is asked again."""
    from sessguard.analysis.project import Project
    from sessguard.extract.module import extract_module
    from sessguard.prefilter import TestImports, imported_tests
    from sessguard.source import Source, parse

    def facts(name: str, text: str):  # type: ignore[no-untyped-def]
        parsed = parse(text.encode(), f"{name}.py")
        assert isinstance(parsed, Source)
        return extract_module(parsed, name, False)

    tests = frozenset({"tests", "tests.factories", "tests.fakes"})
    first = facts("app", "from tests.factories import make_user\n")
    known: TestImports = {}
    assert imported_tests(Project.build([first]), tests, known) == {"tests", "tests.factories"}
    assert known["app"] == (first, frozenset({"tests", "tests.factories"}))
    again = facts("app", "from tests.fakes import fake_user\n")
    later = Project.build([again, facts("views", "from tests import factories\n")])
    assert imported_tests(later, tests, known) == {"tests", "tests.fakes", "tests.factories"}
    assert known["app"][0] is again


_SUFFIX_WORDS = sorted({name for suffix, _, _ in KNOWLEDGE.call_suffixes for name in suffix} | {"app", "x"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SUFFIX_WORDS), max_size=5).map(tuple))
def test_a_call_suffix_is_found_as_comparing_each_one_finds_it(names: tuple[str, ...]) -> None:
    """The lookup by suffix length answers what comparing the chain's tail with each of
    the tables' suffixes answers."""
    compared = any(names[-len(suffix) :] == suffix for suffix, _, _ in KNOWLEDGE.call_suffixes)
    assert KNOWLEDGE.ends_in_call_suffix(names) == compared


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(
                ["session", "login", "blogin", "login_", " ", "=", "x", "(", "\t", "é", "sessions"]
            ),
            max_size=6,
        ).map("".join),
        max_size=8,
    )
)
def test_the_lines_of_many_hits_are_judged_line_by_line(lines: list[str]) -> None:
    """Lines with several hits, hits at a line's edges, and lines without: each line is
    taken exactly when `match` finds something in it alone."""
    needles = first_needles([])
    data = "\n".join(lines).encode()
    expected = [n for n, line in enumerate(data.split(b"\n"), 1) if needles.match(line)]
    assert needles.hit_lines(data) == expected


def test_a_view_skipped_in_phase_one_is_brought_back_by_a_name_learnt_two_rounds_later() -> None:
    """`views.enter` names `admit`, which logs in only through `steps`, parsed in the
    first later round: the second asks `views` again, for the names new to it, and finds
    the login. The same report as parsing everything."""
    monitor = Monitor()
    root = FIXTURES / "flask" / "lazy_rounds"
    report = scan([str(root)], Config(), monitor=monitor)
    assert {(Path(f.path).name, f.span.line) for f in report.findings} == {("views.py", 20)}
    assert monitor.counts["files parsed"] == 6, "views.py extracted twice"
    assert report_text(root, prefilter=True) == report_text(root, prefilter=False)


@settings(max_examples=1500, deadline=None)
@given(
    _SOME_NAMES,
    _METHODS,
    _SOME_NAMES,
    _SOME_NAMES,
    st.lists(st.one_of(_NAMES, st.sampled_from(["class X(", "):", "x.", " ", "\n", "(", "sign_in_user"]))),
)
@example(frozenset(), {}, frozenset(), frozenset({"Core"}), ["class X(", "Core", "):"])
@example(
    frozenset(), {"admit": frozenset({"Welcome"})}, frozenset(), frozenset(), ["Welcome", " ", "x.", "admit"]
)
@example(frozenset({"go"}), {}, frozenset(), frozenset(), ["sign_in_user", "(", "go", "("])
def test_a_file_s_index_matches_the_names_as_its_bytes_do(
    functions: frozenset[str],
    methods: dict[str, frozenset[str]],
    constructed: frozenset[str],
    classes: frozenset[str],
    parts: list[str],
) -> None:
    """The later rounds match new names against the index kept of each unparsed file: the
    answer is the one the index's words give (functions, methods with their classes,
    constructors, bases marked `^`), whether the names are few or many; and the index
    never misses what the bytes find (it may find more: `subclass X(` counts as a class
    statement there)."""
    import sessguard.needles
    from sessguard.needles import words_of

    data = "".join(parts).encode()
    index = words_of(data)
    reference = CallerNeedles(functions, methods, constructed, classes)
    present = set(index.split())
    expected = reference.match_words(present) or any(b"^" + c.encode() in present for c in classes)
    assert expected or not reference.match(data)
    saved = sessguard.needles.FEW_NAMES
    for few in (saved, 0):  # 0: as many names as need the index split
        sessguard.needles.FEW_NAMES = few
        try:
            needles = CallerNeedles(functions, methods, constructed, classes)
            assert needles.match_index(index) == expected, few
        finally:
            sessguard.needles.FEW_NAMES = saved
