"""Fixes written on the concrete syntax tree (libcst), so that everything outside the
change stays byte for byte: comments, layout, line endings, the BOM and encoding cookie.

A file is touched only if libcst gives back exactly its bytes; each plan must find its
statement (or call) where the facts said it is, as a statement of its own in a block;
the name the new statement starts with must be bound there; and the result must parse.
Anything else refuses the change, with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from sessguard.deep import in_deep_thread
from sessguard.fix.bound import check_bound
from sessguard.fix.edits import Refused, Rendered
from sessguard.model import FixPlan, Placement


def rewrite(data: bytes, plans: Sequence[FixPlan]) -> Rendered:
    """The file's bytes with every plan applied, or `Refused`. Runs on a deep stack; input
    nested deeper than even that allows is refused, never a crash."""
    try:
        return in_deep_thread(_rewrite, data, plans)
    except (RecursionError, MemoryError):
        raise Refused("the file is nested too deeply to rewrite safely") from None


def _rewrite(data: bytes, plans: Sequence[FixPlan]) -> Rendered:
    try:
        module = cst.parse_module(data)
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
        raise Refused(f"libcst cannot read this file ({type(exc).__name__})") from None
    if module.bytes != data:
        raise Refused("the file does not come back byte for byte through libcst")
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    inserter = _Inserter(plans, positions, module)
    changed = wrapper.module.visit(inserter)
    missing = [plan for plan in plans if plan not in inserter.placed]
    if missing:
        raise Refused(inserter.problems.get(missing[0], "the statement is not where the scan saw it"))
    imports = sorted({item for plan in plans for item in plan.imports})
    changed = _with_imports(changed, imports, module)
    result = changed.bytes
    before, after = module.code, changed.code
    try:
        ast.parse(after)
        original = ast.parse(before)
    except SyntaxError as exc:
        raise Refused(f"the fixed file would not parse ({exc.msg})") from None
    for plan in plans:
        if plan.anchor is not None:
            check_bound(original, plan, imports)
    return Rendered(before, after, result)


class _Inserter(cst.CSTTransformer):
    def __init__(
        self, plans: Sequence[FixPlan], positions: Mapping[cst.CSTNode, CodeRange], module: cst.Module
    ) -> None:
        super().__init__()
        self.plans = plans
        self.positions = positions
        self.module = module
        self.placed: set[FixPlan] = set()
        self.problems: dict[FixPlan, str] = {}

    def _range(self, node: cst.CSTNode) -> CodeRange | None:
        return self.positions.get(node)

    def _at(self, node: cst.CSTNode, placement: Placement) -> list[FixPlan]:
        where = self._range(node)
        if where is None:
            return []
        return [
            plan
            for plan in self.plans
            if plan.placement is placement
            and plan.anchor is not None
            and (plan.anchor.line, plan.anchor.column - 1) == (where.start.line, where.start.column)
        ]

    def _new_statements(self, code: str) -> list[cst.BaseStatement]:
        newline, config = self.module.default_newline, self.module.config_for_parsing
        return [cst.parse_statement(line + newline, config) for line in code.split("\n") if line]

    def _holding(self, node: cst.BaseStatement) -> list[FixPlan]:
        """The factory plans whose call this simple statement holds."""
        where = self._range(node)
        if where is None or not isinstance(node, cst.SimpleStatementLine):
            return []
        return [
            plan
            for plan in self.plans
            if plan.placement is Placement.FACTORY
            and (plan.prelude or plan.postlude)
            and plan.anchor is not None
            and where.start.line <= plan.anchor.line <= where.end.line
        ]

    def _body(
        self, body: Sequence[cst.BaseStatement], original: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        result: list[cst.BaseStatement] = []
        for old, new in zip(original, body, strict=True):
            before = self._at(old, Placement.BEFORE)
            after = self._at(old, Placement.AFTER)
            for plan in [*before, *after]:
                if isinstance(old, cst.SimpleStatementLine) and len(old.body) > 1:
                    self.problems[plan] = "the statement shares its line with other statements"
                    before, after = [], []
                    break
            factories = self._holding(old)
            for plan in before:  # above the comments that lead the statement, if any
                result.extend(self._new_statements(plan.code))
                self.placed.add(plan)
            for plan in factories:
                result.extend(self._new_statements(plan.prelude))
            result.append(new)
            for plan in after:
                result.extend(self._new_statements(plan.code))
                self.placed.add(plan)
            for plan in factories:
                result.extend(self._new_statements(plan.postlude))
        return result

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._body(updated_node.body, original_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._body(updated_node.body, original_node.body))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        plans = self._at(original_node, Placement.FACTORY)
        if not plans:
            return updated_node
        func = updated_node.func
        if isinstance(func, cst.Name) and func.value == "get_session":
            new_func: cst.BaseExpression = func.with_changes(value=plans[0].code)
        elif isinstance(func, cst.Attribute) and func.attr.value == "get_session":
            new_func = func.with_changes(attr=func.attr.with_changes(value=plans[0].code))
        else:
            for plan in plans:
                self.problems[plan] = "the call is not a `get_session` call any more"
            return updated_node
        self.placed.update(plans)
        return updated_node.with_changes(func=new_func)


def _with_imports(module: cst.Module, imports: Iterable[tuple[str, str]], original: cst.Module) -> cst.Module:
    """`from module import name` (or `import module`) after the module's last top-level
    import, or after its docstring; left out when the module has it already."""
    body = list(module.body)
    present = _imported(body)
    wanted = [item for item in imports if item not in present]
    if not wanted:
        return module
    for index, statement in enumerate(body):
        if not wanted:
            return module.with_changes(body=body)
        extended = _extended(statement, wanted)
        if extended is not None:
            body[index] = extended
    if not wanted:
        return module.with_changes(body=body)
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
        ):
            position = index + 1
        elif index == 0 and _is_docstring(statement):
            position = 1
        elif position or index > 0:
            break
    newline, config = original.default_newline, original.config_for_parsing
    lines = [
        cst.parse_statement(_import_text(module_name, name) + newline, config) for module_name, name in wanted
    ]
    return module.with_changes(body=[*body[:position], *lines, *body[position:]])


def _extended(statement: cst.BaseStatement, wanted: list[tuple[str, str]]) -> cst.SimpleStatementLine | None:
    """`from flask import request` becomes `from flask import request, session` when
    `session` is wanted from `flask` (one line, no parentheses: the layout stays simple);
    what it takes is removed from `wanted`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.ImportFrom) or small.relative or small.module is None or small.lpar:
        return None
    if not isinstance(small.names, Sequence) or not small.names:
        return None
    module = cst.Module([]).code_for_node(small.module)
    names = [name for (wanted_module, name) in wanted if wanted_module == module and name]
    if not names:
        return None
    aliases = list(small.names)
    aliases[-1] = aliases[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    aliases += [cst.ImportAlias(name=cst.Name(name)) for name in names]
    aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    for name in names:
        wanted.remove((module, name))
    return statement.with_changes(body=[small.with_changes(names=aliases)])


def _import_text(module: str, name: str) -> str:
    return f"from {module} import {name}" if name else f"import {module}"


def _imported(body: Sequence[cst.BaseStatement]) -> set[tuple[str, str]]:
    """The plain (unaliased, absolute) imports at the top level of a module."""
    found: set[tuple[str, str]] = set()
    code = cst.Module([]).code_for_node
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if isinstance(small.names, Sequence):
                    module = code(small.module)
                    found.update((module, code(alias.name)) for alias in small.names if alias.asname is None)
            elif isinstance(small, cst.Import):
                found.update((code(alias.name), "") for alias in small.names if alias.asname is None)
    return found


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
