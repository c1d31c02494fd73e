"""Requirement strings read without `packaging` must read as `packaging` reads them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sessguard.dependencies import requirement

_space = st.sampled_from(["", " ", "  ", "\t"])
_name = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}[A-Za-z0-9._-]?", fullmatch=True)
_release = st.from_regex(r"0?[0-9]{1,2}(\.[0-9]{1,2}){0,3}(\.\*)?(a1|rc2|\.post1)?", fullmatch=True)
_clause = st.tuples(
    st.sampled_from(["==", "!=", "~=", "<=", ">=", "<", ">", "===", "=", "=>"]), _space, _release
)
_marker = st.sampled_from(["", "; python_version < '3.12'", ";sys_platform=='win32'", " ; extra == 'x'"])


@st.composite
def requirements(draw: st.DrawFn) -> str:
    name = draw(_name)
    extras = draw(st.lists(_name, max_size=2))
    extra = draw(st.sampled_from(["", f"[{','.join(extras)}]", f"[{' , '.join(extras)}]", "[a b]", "[a,]"]))
    clauses = [f"{op}{space}{release}" for op, space, release in draw(st.lists(_clause, max_size=3))]
    joiner = draw(st.sampled_from([",", ", ", " ,", ",,", " "]))
    return f"{draw(_space)}{name}{draw(_space)}{extra}{draw(_space)}{joiner.join(clauses)}{draw(_marker)}"


def _reference(spec: str) -> tuple[str, str] | None:
    try:
        parsed = Requirement(spec)
    except InvalidRequirement:
        return None
    return canonicalize_name(parsed.name), str(parsed.specifier)


@settings(max_examples=3000, derandomize=True, database=None)
@given(requirements())
def test_a_requirement_reads_as_packaging_reads_it(spec: str) -> None:
    assert requirement(spec) == _reference(spec), spec


def test_the_common_forms_need_no_packaging() -> None:
    """The point of the quick path: a project's usual requirements never import it."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from sessguard.dependencies import requirement\n"
        "for spec in ['flask', 'Flask-Session>=0.7,<1', 'django[argon2] ~= 4.2', \"tzdata; sys_platform == 'win32'\"]:\n"
        "    assert requirement(spec) is not None\n"
        "print('packaging' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
