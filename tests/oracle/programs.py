"""Programs built from the statements that matter to SPEC §7, and their Python source.

A program is a view function and a few helpers (helper `i` may call helpers below `i`, so
the call graph has no cycle). Statements are a small tree: auth events, regenerations of
each order, false friends, neutral calls, calls of helpers, and the control flow the spec
names. The same tree renders into a Django project or a Flask-Session (server store)
project: a `Dialect` says how each statement is spelled in that framework, and what it is
according to SPEC §5.1/§5.2 (the enumerator only ever sees the tree).

Every statement lives on its own line; `layout` numbers them, so that the enumerator's
verdict for an event can be compared with a finding's line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Event:
    """An auth event of SPEC §4: a login call or an identity write (`variant` picks which)."""

    variant: int
    line: int = 0


@dataclass(frozen=True)
class Regen:
    """A regeneration call of SPEC §5.1 with its order (`either` or `before`)."""

    order: str
    line: int = 0


@dataclass(frozen=True)
class FalseFriend:
    """A call SPEC §5.2 says is never a regeneration on this store."""

    variant: int
    line: int = 0


@dataclass(frozen=True)
class Neutral:
    """An unresolved call: neither event nor regeneration (SPEC §7: calls that cannot be
    resolved are neutral)."""

    line: int = 0


@dataclass(frozen=True)
class Call:
    """A call of a generated helper, by its index."""

    helper: int
    line: int = 0


@dataclass(frozen=True)
class If:
    then: Block
    orelse: Block
    line: int = 0


@dataclass(frozen=True)
class For:
    body: Block
    orelse: Block
    line: int = 0


@dataclass(frozen=True)
class While:
    """`while <condition>:` with a condition that is not constantly true."""

    body: Block
    line: int = 0


@dataclass(frozen=True)
class WhileTrue:
    body: Block
    line: int = 0


@dataclass(frozen=True)
class Try:
    """`try:` with an `except Exception:` handler, a `finally:`, or both."""

    body: Block
    handler: Block | None
    final: Block | None
    line: int = 0


@dataclass(frozen=True)
class Return:
    line: int = 0


@dataclass(frozen=True)
class Raise:
    line: int = 0


@dataclass(frozen=True)
class Break:
    line: int = 0


@dataclass(frozen=True)
class Continue:
    line: int = 0


Stmt = (
    Event
    | Regen
    | FalseFriend
    | Neutral
    | Call
    | If
    | For
    | While
    | WhileTrue
    | Try
    | Return
    | Raise
    | Break
    | Continue
)
Block = tuple[Stmt, ...]


@dataclass(frozen=True)
class Program:
    helpers: tuple[Block, ...]
    view: Block


@dataclass(frozen=True)
class Dialect:
    """How one framework spells each statement. `session` is the session object inside a
    function that has `request` (Django) or none (Flask's global)."""

    name: str
    files: dict[str, str]  # the project's other files
    module: str  # the file the functions go into
    header: str  # imports and set-up at the top of `module`
    params: str  # the parameters of every generated function
    args: str  # the arguments of every helper call
    events: tuple[str, ...]
    regenerations: dict[str, str]  # order -> call
    false_friends: tuple[str, ...]
    decorator: str  # put before each view ("" for none); {n} is the view's number


DJANGO = Dialect(
    name="django",
    files={"requirements.txt": "django==5.1\ndjango-otp==1.5\n"},
    module="views.py",
    header=(
        "from django.middleware.csrf import rotate_token\n"
        "from django_otp import login as otp_login\n"
        "from models import audit, redirect_to\n"
    ),
    params="request, user, device",
    args="request, user, device",
    events=('request.session["user_id"] = user.pk', "otp_login(request, device)"),
    regenerations={"either": "request.session.cycle_key()", "before": "request.session.flush()"},
    false_friends=("request.session.clear()", "rotate_token(request)", "request.session.set_expiry(0)"),
    decorator="",
)

FLASK_SESSION = Dialect(
    name="flask-session",
    files={"requirements.txt": "flask==3.0\nflask-login==0.6\nflask-session==0.8\n"},
    module="app.py",
    header=(
        "from flask import Flask, current_app, session\n"
        "from flask_login import login_user\n"
        "from flask_session import Session\n"
        "from models import audit, redirect_to\n"
        "\n"
        "app = Flask(__name__)\n"
        'app.config["SESSION_TYPE"] = "redis"\n'
        "Session(app)\n"
    ),
    params="user, device",
    args="user, device",
    events=("login_user(user)", 'session["user_id"] = user.id'),
    regenerations={"either": "current_app.session_interface.regenerate(session)"},
    false_friends=("session.regenerate()", 'session.pop("next", None)', "session.modified = True"),
    decorator='@app.post("/view-{n}")',
)

DIALECTS = (DJANGO, FLASK_SESSION)


# -- numbering and rendering ---------------------------------------------------------------


class _Writer:
    def __init__(self, dialect: Dialect, first_line: int) -> None:
        self.dialect = dialect
        self.lines: list[str] = []
        self.first_line = first_line
        self.program = 0  # helper names carry the number of the program they belong to

    @property
    def next_line(self) -> int:
        return self.first_line + len(self.lines)

    def emit(self, depth: int, text: str) -> int:
        line = self.next_line
        self.lines.append("    " * depth + text)
        return line

    def block(self, stmts: Block, depth: int) -> Block:
        return tuple(self.stmt(s, depth) for s in stmts)

    def stmt(self, s: Stmt, depth: int) -> Stmt:
        d = self.dialect
        if isinstance(s, Event):
            return replace(s, line=self.emit(depth, d.events[s.variant % len(d.events)]))
        if isinstance(s, Regen):
            return replace(s, line=self.emit(depth, d.regenerations[s.order]))
        if isinstance(s, FalseFriend):
            return replace(s, line=self.emit(depth, d.false_friends[s.variant % len(d.false_friends)]))
        if isinstance(s, Neutral):
            return replace(s, line=self.emit(depth, "audit(user)"))
        if isinstance(s, Call):
            return replace(s, line=self.emit(depth, f"helper_{self.program}_{s.helper}({d.args})"))
        if isinstance(s, Return):
            return replace(s, line=self.emit(depth, "return redirect_to(user)"))
        if isinstance(s, Raise):
            return replace(s, line=self.emit(depth, 'raise ValueError("stop")'))
        if isinstance(s, Break):
            return replace(s, line=self.emit(depth, "break"))
        if isinstance(s, Continue):
            return replace(s, line=self.emit(depth, "continue"))
        if isinstance(s, If):
            line = self.emit(depth, "if user.active():")
            then = self.block(s.then, depth + 1)
            self.emit(depth, "else:")
            return If(then, self.block(s.orelse, depth + 1), line)
        if isinstance(s, For):
            line = self.emit(depth, "for item in user.items():")
            body = self.block(s.body, depth + 1)
            orelse: Block = ()
            if s.orelse:
                self.emit(depth, "else:")
                orelse = self.block(s.orelse, depth + 1)
            return For(body, orelse, line)
        if isinstance(s, While):
            line = self.emit(depth, "while user.pending():")
            return While(self.block(s.body, depth + 1), line)
        if isinstance(s, WhileTrue):
            line = self.emit(depth, "while True:")
            return WhileTrue(self.block(s.body, depth + 1), line)
        assert isinstance(s, Try)
        line = self.emit(depth, "try:")
        body = self.block(s.body, depth + 1)
        handler = final = None
        if s.handler is not None:
            self.emit(depth, "except Exception:")
            handler = self.block(s.handler, depth + 1)
        if s.final is not None:
            self.emit(depth, "finally:")
            final = self.block(s.final, depth + 1)
        return Try(body, handler, final, line)


@dataclass(frozen=True)
class Rendered:
    """A program with every statement's line filled in, and the module's source."""

    program: Program
    source: str


def layout(programs: tuple[Program, ...], dialect: Dialect) -> tuple[Rendered, ...]:
    """All programs in one module (helper and view names numbered per program), so that one
    scan decides many programs: their functions never call each other's."""
    writer = _Writer(dialect, 1)
    for text in dialect.header.splitlines():
        writer.emit(0, text)
    out = []
    for number, program in enumerate(programs):
        writer.program = number
        helpers = []
        for index, body in enumerate(program.helpers):
            writer.emit(0, "")
            writer.emit(0, f"def helper_{number}_{index}({dialect.params}):")
            helpers.append(writer.block(body, 1))
        writer.emit(0, "")
        if dialect.decorator:
            writer.emit(0, dialect.decorator.format(n=number))
        writer.emit(0, f"def view_{number}({dialect.params}):")
        out.append(Program(tuple(helpers), writer.block(program.view, 1)))
    source = "\n".join(writer.lines) + "\n"
    return tuple(Rendered(p, source) for p in out)
