"""The automatic fix a finding gets, decided from the facts alone (no source is read here).

The framework's table says what to write for the store and where (`before` or `after`
the reported statement, or aiohttp's `get_session` call turned into `new_session`). Here
the template's names become the names in scope at the reported statement: the session
or request the function already uses, the app object of the module, or a name to import.
When the statement cannot take a regeneration next to it (a compound statement's header,
a `return` when the call must come after the writes, a statement that does not start its
line), or a name cannot be found, the plan says why and `sessguard fix` leaves the code
alone. `sessguard.fix` checks every plan again against the source before writing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from sessguard.analysis.project import NO_CONTEXT, Project
from sessguard.analysis.reads import ReadFinder
from sessguard.extract.facts import Event, EventKind, FunctionFacts, ModuleFacts, Ref, RefKind
from sessguard.frameworks import REQUEST_PARAM_NAMES
from sessguard.frameworks.base import Fix, Framework
from sessguard.model import FixPlan, Placement, Span
from sessguard.rules.carry import carried_code, carried_factory, kept_note

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_COMPOUND = re.compile(
    r"(?:async\s+)?(?:if|elif|else|while|for|with|try|except|finally|match|case|def|class)\b|@"
)
_ENDS_FLOW = re.compile(r"(?:return|raise|continue|break)\b")
_APP_CLASSES = {"flask": ("flask.Flask", "flask.app.Flask"), "quart": ("quart.Quart", "quart.app.Quart")}
_FACTORY = "aiohttp_session.get_session"


def plan_fix(
    project: Project, framework: Framework, fix: Fix, root: str, anchor: Span, line_text: str
) -> FixPlan:
    """The plan for a finding reported at `anchor` (a statement of the function `root`,
    whose first source line is `line_text`)."""
    if fix.placement is None:
        return FixPlan(f"no automatic fix: {fix.advice}")
    function = project.functions[root]
    module = project.function_module[root]
    if fix.placement is Placement.FACTORY:
        plan = _factory_plan(function, module, anchor, fix)
        if not plan.available or not fix.empties:
            return plan
        assert plan.anchor is not None
        read = ReadFinder(project).after(root, plan.anchor, from_call=True)
        names = _Names(project, framework, function, module, fix)
        call = next(e.text for e in function.events if e.kind is EventKind.CALL and e.span == plan.anchor)
        return carried_factory(plan, call, read, names.fill(fix.carry) if read.keys else "", fix)
    statement = line_text.strip()
    indent = len(line_text) - len(line_text.lstrip())
    if indent + 1 != anchor.column:
        return FixPlan("no automatic fix: the statement shares its line with other code")
    placement = fix.placement
    if _COMPOUND.match(statement) and placement is Placement.AFTER:
        placement = Placement.BEFORE if fix.before_ok else placement
    if _COMPOUND.match(statement) and (
        placement is Placement.AFTER or statement.startswith(("elif", "else"))
    ):
        return FixPlan("no automatic fix: the login is reached in the header of a compound statement")
    if _ENDS_FLOW.match(statement) and placement is Placement.AFTER:
        if not fix.before_ok:
            return FixPlan(
                "no automatic fix: the regeneration must follow the login writes, and nothing runs after "
                "this statement"
            )
        placement = Placement.BEFORE
    names = _Names(project, framework, function, module, fix)
    code = names.fill(fix.code)
    if isinstance(code, FixPlan):
        return code
    where = "before" if placement is Placement.BEFORE else "after"
    description = f"insert `{code}` {where} line {anchor.line}"
    if fix.requires:
        description += f" (needs {fix.requires})"
    if fix.empties:
        read = ReadFinder(project).after(root, anchor)
        session = names.fill(fix.carry) if fix.carry and read.keys else ""
        carried = carried_code(code, read, session, fix)
        if isinstance(carried, FixPlan):
            return carried
        code, description = carried, description + kept_note(read.keys)
    environment = dict(project.knowledge.environments).get(module.environment or "")
    return FixPlan(
        description,
        placement,
        code,
        anchor,
        tuple(sorted(names.imports)),
        tuple(sorted(environment.names)) if environment else (),
    )


class _Names:
    """The names a template needs, as the function and its module have them."""

    def __init__(
        self, project: Project, framework: Framework, function: FunctionFacts, module: ModuleFacts, fix: Fix
    ) -> None:
        self.fix_advice = fix.advice
        self.project = project
        self.framework = framework
        self.function = function
        self.module = module
        self.imports: set[tuple[str, str]] = set()
        self.bound = {name for name, _ in module.imports} | {name for name, _ in module.definitions}
        self.bound |= {name for name, _ in module.instances} | {p.name for p in function.params}

    def fill(self, template: str) -> str | FixPlan:
        """The template with its placeholders named, or the plan that says which is missing."""
        code = template
        for placeholder in ("session", "request", "app", "cherrypy"):
            if "{" + placeholder + "}" not in code:
                continue
            name = getattr(self, placeholder)()
            if name is None:
                return FixPlan(f"no automatic fix: no {placeholder} object in scope here; {self.fix_advice}")
            code = code.replace("{" + placeholder + "}", name)
        return code

    def session(self) -> str | None:
        for receiver in _receivers(self.project, self.module, self.function):
            if not receiver.endswith(".session") or self.framework.global_sessions:
                return receiver
        globals_ = sorted(self.framework.global_sessions, key=len)
        for name, target in self.module.imports:
            if target in self.framework.global_sessions:
                return name
        if globals_ and self.framework.name in ("flask", "quart"):
            return self._imported(*globals_[0].rsplit(".", 1))
        return None

    def request(self) -> str | None:
        for receiver in _receivers(self.project, self.module, self.function):
            if receiver.endswith(".session"):
                return receiver[: -len(".session")]
        for ref in _refs(self.function):
            if ref.kind is RefKind.REQUEST and not ref.path and _DOTTED.fullmatch(ref.text):
                return ref.text
        wanted = REQUEST_PARAM_NAMES | self.framework.request_params
        return next((p.name for p in self.function.params if p.name in wanted), None)

    def app(self) -> str | None:
        classes = _APP_CLASSES.get(self.framework.name, ())
        for name, instance_of in self.module.instances:
            if instance_of in classes:
                return name
        for name, target in self.module.imports:
            if target == f"{self.framework.name}.current_app":
                return name
        return self._imported(self.framework.name, "current_app") if classes else None

    def cherrypy(self) -> str | None:
        for name, target in self.module.imports:
            if target == "cherrypy":
                return name
        if "cherrypy" in self.bound:
            return None
        self.imports.add(("cherrypy", ""))
        return "cherrypy"

    def _imported(self, module: str, name: str) -> str | None:
        if name in self.bound:
            return None  # the name means something else here
        self.imports.add((module, name))
        return name


def _receivers(project: Project, module: ModuleFacts, function: FunctionFacts) -> Iterator[str]:
    """The session objects as the function writes them (`session`, `request.session`,
    `self.request.session`), read back from the text of its operations on a session (not
    `app.session_interface.regenerate(session)`, whose receiver is no session)."""
    for event in function.events:
        if event.kind in (EventKind.CALL, EventKind.SESSION_READ) or event.ref is None or "…" in event.text:
            continue
        if project.session_of(event.ref, module, NO_CONTEXT) is None:
            continue
        try:
            tree = ast.parse(event.text.strip())
        except SyntaxError:
            continue
        statement = tree.body[0] if tree.body else None
        node: ast.expr | None = None
        if isinstance(statement, (ast.Assign, ast.Delete)):
            target = statement.targets[0]
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                node = target.value
        elif isinstance(statement, ast.Expr):
            call = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                node = call.func.value
        text = ast.unparse(node) if node is not None else ""
        if _DOTTED.fullmatch(text):
            yield text


def _refs(function: FunctionFacts) -> Iterator[Ref]:
    for event in function.events:
        if event.ref is not None:
            yield event.ref
        for arg in event.args:
            yield arg.ref


def _factory_plan(function: FunctionFacts, module: ModuleFacts, anchor: Span, fix: Fix) -> FixPlan:
    """aiohttp: the `get_session(request)` call that gave this function its session, before
    the reported statement, becomes `new_session(request)`."""
    calls = [e for e in function.events if _is_factory(e, module) and e.span.line <= anchor.line]
    if not calls:
        return FixPlan(f"no automatic fix: the session comes from elsewhere; {fix.advice}")
    call = max(calls, key=lambda e: (e.span.line, e.span.column))
    imports: tuple[tuple[str, str], ...] = ()
    if call.text.startswith("get_session("):
        bound = {name for name, _ in module.imports} | {name for name, _ in module.definitions}
        if "new_session" in bound and ("new_session", "aiohttp_session.new_session") not in module.imports:
            return FixPlan("no automatic fix: `new_session` means something else in this module")
        if ("new_session", "aiohttp_session.new_session") not in module.imports:
            imports = (("aiohttp_session", "new_session"),)
    return FixPlan(
        f"replace the `get_session` call on line {call.span.line} with `new_session`",
        Placement.FACTORY,
        "new_session",
        call.span,
        imports,
    )


def _is_factory(event: Event, module: ModuleFacts) -> bool:
    return event.kind is EventKind.CALL and event.target == _FACTORY
