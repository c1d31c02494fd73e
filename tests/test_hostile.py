"""The hostile-input corpus (../shared/hostile): every case contained, bounded, inert.

Builds the corpus (without the 50 MB and 5M-character files; `scripts/hostile_report.py`
runs those too) and scans each case in a fresh process, with the checks of that script:
exit status, time, memory, no traceback, valid JSON with control.py's finding, no control
byte in text output, nothing executed.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import SHARED

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "hostile_report.py"
spec = importlib.util.spec_from_file_location("hostile_report", SCRIPT)
assert spec is not None and spec.loader is not None
hostile = importlib.util.module_from_spec(spec)
sys.modules["hostile_report"] = hostile
spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def corpus() -> Iterator[Path]:
    if not (SHARED / "hostile" / "make_hostile.py").is_file():
        pytest.fail("the hostile corpus generator must be beside the repo")
    # a directory others may enter: the `unreadable` case is scanned again as `nobody`
    scratch = Path(tempfile.mkdtemp(prefix="sessguard-hostile-"))
    scratch.chmod(0o755)
    root = scratch / "corpus"
    hostile.build(root, skip_big=True)
    yield root
    for directory in root.rglob("*"):
        if directory.is_dir() and not directory.is_symlink():
            directory.chmod(0o755)
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def outcomes(corpus: Path) -> dict[str, object]:
    return {o.case: o for o in hostile.report(corpus)}


def test_the_corpus_has_every_case(outcomes: dict[str, object]) -> None:
    assert len(outcomes) >= 35


def test_every_case_is_contained_bounded_and_inert(outcomes: dict[str, object]) -> None:
    problems = {case: o.problems for case, o in outcomes.items() if o.problems}  # type: ignore[attr-defined]
    assert problems == {}


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("fifo", "not-regular"),
        ("deep_parens_1000", "too-deep"),
        ("deep_lists_100000", "too-deep"),
        ("deep_unary_100000", "too-deep"),
        ("deep_binop_100000", "too-deep"),
        ("py312_syntax", "unsupported-syntax" if sys.version_info < (3, 12) else None),
        ("invalid_utf8", "encoding"),
        ("bogus_codec", "encoding"),
        ("nul_bytes", "syntax"),
        ("py2_syntax", "syntax"),
    ],
)
def test_error_kinds(outcomes: dict[str, object], case: str, kind: str | None) -> None:
    kinds = outcomes[case].kinds  # type: ignore[attr-defined]
    assert (kind in kinds) if kind else not kinds


def test_files_that_parse_keep_their_findings(corpus: Path) -> None:
    from sessguard.pipeline import scan

    for case, expected in (("deep_unary_1000", "deep_unary_1000.py"), ("bom_code", "bom_code.py")):
        report = scan([str(corpus / "cases" / case)])
        assert any(f.path.endswith(expected) for f in report.findings), case


def test_symlinks_are_not_followed_out_of_the_tree(corpus: Path) -> None:
    from sessguard.config import Config
    from sessguard.pipeline import scan

    case = corpus / "cases" / "symlink_outside"
    report = scan([str(case)])
    assert [Path(f.path).name for f in report.findings] == ["control.py"]
    assert dict(report.skipped) == {"symlink": 4}  # two .py links and two directory links
    followed = scan([str(case)], Config(follow_symlinks=True))
    assert sorted(e.kind for e in followed.errors) == ["symlink-outside"] * 4
    loop = scan([str(corpus / "cases" / "symlink_loop")], Config(follow_symlinks=True))
    assert {e.kind for e in loop.errors} == {"symlink-loop"}
