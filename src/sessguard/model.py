"""Plain data shared by every stage: findings, locations, errors, the report.

Nothing here imports the rest of the package, so any stage (and any worker process)
can build and exchange these values.
"""

from __future__ import annotations

import enum

from msgspec import Struct, field

RULE_ID = "python-session-fixation"
SUPPRESSION_RULE_ID = "sessguard-suppression"
CWE = "CWE-384"


class Level(enum.IntEnum):
    """Severity and confidence share one three-step scale; higher is worse/surer."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"expected one of low, medium, high; got {text!r}") from None


class Store(enum.Enum):
    """Where a framework keeps the session data (SPEC §6)."""

    SERVER = "server"
    COOKIE = "cookie"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> Level:
        return {Store.SERVER: Level.HIGH, Store.UNKNOWN: Level.MEDIUM, Store.COOKIE: Level.LOW}[self]


class Order(enum.Enum):
    """Which auth events a regeneration protects (SPEC §2)."""

    BEFORE = "before"
    EITHER = "either"


class Span(Struct, frozen=True, order=True):
    """A source range: 1-based lines and columns, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


class TraceStep(Struct, frozen=True):
    path: str
    line: int
    column: int
    note: str


class Edit(Struct, frozen=True):
    """Replace the text from (line, column) up to (end_line, end_column), 1-based, end
    exclusive, with `text`; an insertion when the two positions are equal."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


class Placement(enum.Enum):
    """Where an automatic fix writes its regeneration, relative to the reported statement."""

    BEFORE = "before"
    AFTER = "after"
    FACTORY = "factory"  # aiohttp: the `get_session` call before it becomes `new_session`


class FixPlan(Struct, frozen=True):
    """What `sessguard fix` writes for a finding, decided from the facts: the statement to
    insert (or the call to change) and where, the imports it needs. Without a placement
    there is no automatic fix and `description` says why. `edits` are the concrete text
    changes, worked out from the source only when an output asks for them."""

    description: str
    placement: Placement | None = None
    code: str = ""
    anchor: Span | None = None
    imports: tuple[tuple[str, str], ...] = ()  # (module, name); name "" for `import module`
    provided: tuple[str, ...] = ()  # names the framework's runtime defines (web2py's globals)
    edits: tuple[Edit, ...] = ()
    # statements (one a line) around the statement that holds a FACTORY call: what carries
    # the keys the handler still reads from the old session into the new one
    prelude: str = ""
    postlude: str = ""

    @property
    def available(self) -> bool:
        return self.placement is not None


class Finding(Struct, frozen=True):
    rule_id: str
    path: str
    span: Span
    severity: Level
    confidence: Level
    framework: str
    session_store: Store
    function: str
    message: str
    trace: tuple[TraceStep, ...]
    fingerprint: str
    snippet: str = ""  # the first source line of the statement, as written
    statement: str = ""  # the statement as the parser sees it: no comments, one line
    fix: FixPlan | None = None
    # what the session store was classified from, "path:line what" (the message quotes
    # it too); empty when nothing in the code showed it and the framework's default applies
    store_evidence: str = ""

    @property
    def headline(self) -> str:
        """The first sentence of the message: what is wrong, where."""
        end = self.message.find(". ")
        return self.message if end < 0 else self.message[: end + 1]


class FileError(Struct, frozen=True, order=True):
    path: str
    kind: str
    message: str
    line: int | None = None
    column: int | None = None


class Stats(Struct, frozen=True):
    files_discovered: int = 0
    files_analyzed: int = 0
    files_skipped: int = 0


class Suppressed(Struct, frozen=True):
    """A finding the user has accepted: inline (with a reason) or through a baseline."""

    finding: Finding
    kind: str  # "inline" or "baseline"
    reason: str = ""


class BaselineEntry(Struct, frozen=True):
    rule_id: str
    path: str
    function: str
    statement_hash: str
    message: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.rule_id, self.path, self.function, self.statement_hash)


class Report(Struct, frozen=True):
    version: str
    findings: tuple[Finding, ...]
    errors: tuple[FileError, ...]
    stats: Stats = field(default_factory=Stats)
    suppressed: tuple[Suppressed, ...] = ()
    fixed: tuple[BaselineEntry, ...] = ()  # baseline entries no finding matches any more
    baseline_used: bool = False
    hidden: int = 0  # findings below --min-severity / --min-confidence
    config_files: tuple[str, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()  # not analysed by choice, by kind: ("symlink", 2)


def statement_hash(statement: str) -> str:
    """A hash of a statement as the parser sees it: comments and layout do not count."""
    from sessguard.shorthash import sha256_hex

    return sha256_hex(" ".join(statement.split()))[:16]
