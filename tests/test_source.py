"""Reading files as CPython would, with every failure as a per-file error."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessguard.model import FileError
from sessguard.source import Source, _suspicious, parse, read, split_lines


def test_utf8_bom_and_columns_count_characters() -> None:
    source = parse("\ufeffx = 'é'; y = 1\n".encode(), "a.py")
    assert isinstance(source, Source)
    assert source.column(1, len("x = 'é'; ".encode())) == len("x = 'é'; ") + 1


def test_encoding_cookie_is_honoured() -> None:
    source = parse("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"), "a.py")
    assert isinstance(source, Source)
    assert "café" in source.text


def test_unknown_codec_is_an_encoding_error() -> None:
    error = parse(b"# -*- coding: klingon -*-\nx = 1\n", "a.py")
    assert isinstance(error, FileError) and error.kind == "encoding"


def test_invalid_utf8_is_an_encoding_error_with_position() -> None:
    error = parse(b"x = 1\ny = '\xff'\n", "a.py")
    assert isinstance(error, FileError)
    assert (error.kind, error.line, error.column) == ("encoding", 2, 6)


def test_nul_byte_is_a_syntax_error() -> None:
    error = parse(b"x = 1\n\x00\n", "a.py")
    assert isinstance(error, FileError) and (error.kind, error.line) == ("syntax", 2)


def test_python2_is_a_syntax_error_with_position() -> None:
    error = parse(b'print "hello"\n', "a.py")
    assert isinstance(error, FileError) and (error.kind, error.line) == ("syntax", 1)


def test_line_numbers_with_crlf_and_lone_cr() -> None:
    source = parse(b"a = 1\r\nb = 2\rc = 3\n", "a.py")
    assert isinstance(source, Source)
    assert source.line(3) == "c = 3"
    assert source.tree is not None and source.tree.body[2].lineno == 3


def test_deep_nesting_is_contained() -> None:
    error = parse(b"x = " + b"(" * 200_000 + b")" * 200_000 + b"\n", "a.py")
    assert isinstance(error, FileError) and error.kind in ("too-deep", "syntax")


def test_a_very_large_file_is_parsed_in_parts_with_true_line_numbers(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sessguard.pipeline import scan

    monkeypatch.chdir(tmp_path)
    table = "".join(f"def f_{i}(x):\n    return x + {i}\n" for i in range(40_000))
    body = (
        '"""\ndef looks_like_a_boundary():\n    pass\n"""\n'  # a docstring a part may not be cut in
        + table
        + "def login(user):\n    login_user(user)\n\n\nfrom flask_login import login_user\n"
    )
    (tmp_path / "big.py").write_text(body)
    assert len(body) > 1 << 20
    parsed = parse(body.encode(), "big.py")
    assert isinstance(parsed, Source) and parsed.tree is None
    assert sum(1 for _ in parsed.parts()) > 3
    report = scan(["."])
    line = body.count("\n", 0, body.index("login_user(user)")) + 1
    # the import at the very end still resolves, through the module's final bindings
    assert [(f.path, f.span.line) for f in report.findings] == [("big.py", line)]


def test_a_syntax_error_in_a_part_has_the_files_line_number(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sessguard.pipeline import scan

    monkeypatch.chdir(tmp_path)
    table = "".join(f"def f_{i}(x):\n    return x + {i}\n" for i in range(40_000))
    (tmp_path / "big.py").write_text("from flask import session\n" + table + "def broken(:\n    pass\n")
    report = scan(["."])
    assert [(e.kind, e.line) for e in report.errors] == [("syntax", 80_002)]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #\t\r\n\v\f\x1c\x1d\x1e\x85\u2028é"))))
def test_lines_split_as_the_tokenizer_splits_them(text: str) -> None:
    """CR, LF and CRLF end a line, nothing else does (form feeds, vertical tabs and the
    Unicode separators that `str.splitlines` honours stay inside the line), whichever way
    the split is made."""
    assert split_lines(text) == tuple(re.split(r"\r\n|\r|\n", text))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("([{}])é x")), min_size=90).map(lambda t: t * 3))
def test_the_bracket_estimate_reads_utf8_bytes_as_it_reads_the_text(text: str) -> None:
    lines = split_lines(text)
    assert _suspicious(text, text.encode("utf-8"), lines) == _suspicious(text, None, lines)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(["x", " ", "\n", "\r", "\f", "\x1c", "\x85", "\u2028", "é"]), max_size=60
    ),
    st.integers(min_value=5990, max_value=6010),
)
def test_the_line_estimate_on_the_file_s_lines_never_says_less(text: str, width: int) -> None:
    """The lines `split_lines` gives (the parser's) are never shorter than those of
    `str.splitlines`: a long line found by the one is found by the other."""
    long = text + "y" * width + text
    if _suspicious(long, None, long.splitlines()):
        assert _suspicious(long, None, split_lines(long))


def test_a_file_nested_too_deep_is_refused_before_parsing_in_utf8_and_in_latin1() -> None:
    deep = "x = " + "(" * 150 + "[" * 150 + "1" + "]" * 150 + ")" * 150 + "\n"
    for header in ("", "# -*- coding: latin-1 -*-\n"):
        result = parse((header + deep).encode("latin-1"), "deep.py")
        assert isinstance(result, FileError) and result.kind == "too-deep", result


@pytest.mark.parametrize("told", [0, 3, 49, 99, 100, 101, 900])
def test_a_file_is_read_whole_whatever_size_its_status_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, told: int
) -> None:
    """The first read asks for the size the file's status gave (and a byte more); a file
    that grew since, or shrank, is still read to its end, and the limit still holds."""
    import sessguard.source

    data = bytes(range(100))
    path = tmp_path / "grown.py"
    path.write_bytes(data)
    real = os.fstat

    def fstat(descriptor: int) -> os.stat_result:
        found = list(real(descriptor))
        found[stat.ST_SIZE] = told
        return os.stat_result(found)

    monkeypatch.setattr(sessguard.source.os, "fstat", fstat)
    assert read(path, "grown.py", 1000) == data
    too_large = read(path, "grown.py", 50)
    assert isinstance(too_large, FileError) and too_large.kind == "too-large"
