"""Bindings and scopes: what a name in a file denotes, resolved through its imports.

The model follows pyflakes' idea (a binding per name per scope), kept to what the rule
needs: module-level imports, definitions, string constants and instances; per function its
parameters, the names it assigns (which hide module names), its own imports, and the local
names that alias a session, a request or an instance of a known class.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

import msgspec

from sessguard.extract.walk import children

BUILTINS = frozenset(dir(builtins))


def module_package(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of `from <level dots><target> import ...` in `module`."""
    if level == 0:
        return target or ""
    parts = module_package(module, is_package).split(".") if module else []
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, *([target] if target else [])])


def dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything that is not a plain chain."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return names[::-1]
    return None


def string_value(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def import_bindings(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool
) -> Iterator[tuple[str, str]]:
    """(bound name, qualified target) for each name an import statement binds."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                top = alias.name.split(".")[0]
                yield top, top
        return
    base = resolve_relative(module, is_package, node.level, node.module)
    for alias in node.names:
        if alias.name == "*":
            continue
        yield alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name


def top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run in this scope, through if/try/with blocks but not into defs."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from top_level_statements(inner)
        for handler in getattr(stmt, "handlers", []) or []:
            yield from top_level_statements(handler.body)
        for case in getattr(stmt, "cases", []) or []:
            yield from top_level_statements(case.body)


def assigned_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from assigned_names(elt)
    elif isinstance(target, ast.Starred):
        yield from assigned_names(target.value)


class ModuleScope(msgspec.Struct):
    module: str
    is_package: bool
    bindings: dict[str, str] = msgspec.field(default_factory=dict)  # name -> qualified target
    imported: dict[str, str] = msgspec.field(default_factory=dict)  # the import subset of bindings
    definitions: dict[str, str] = msgspec.field(default_factory=dict)
    constants: dict[str, str] = msgspec.field(default_factory=dict)
    instances: dict[str, str] = msgspec.field(default_factory=dict)  # name -> class qualname
    star_imports: list[str] = msgspec.field(default_factory=list)
    shadowed: set[str] = msgspec.field(default_factory=set)  # module names bound to other values
    session_globals: dict[str, str] = msgspec.field(default_factory=dict)  # name -> framework
    # a module parsed in parts: a name not bound yet may be bound further down
    late_binding: bool = False

    def qualify(self, name: str) -> str:
        return f"{self.module}.{name}" if self.module else name

    def resolve(self, name: str) -> str | None:
        if name in self.bindings:
            return self.bindings[name]
        if name in self.shadowed or name in BUILTINS:
            return None
        # resolved at link time through the module's final bindings
        return self.qualify(name) if self.late_binding else None


def build_module_scope(
    tree: ast.Module,
    module: str,
    is_package: bool,
    environment_names: dict[str, str] | None = None,
    environment_instances: dict[str, str] | None = None,
) -> ModuleScope:
    """The module's own bindings, then what its framework environment (if any) provides
    for the names it leaves unbound."""
    scope = ModuleScope(module, is_package)
    add_bindings(scope, tree.body)
    add_environment(scope, environment_names or {}, environment_instances or {})
    return scope


def add_bindings(scope: ModuleScope, body: list[ast.stmt]) -> None:
    """The bindings of some top-level statements (all of them, or one part of a module)."""
    module, is_package = scope.module, scope.is_package
    for stmt in top_level_statements(body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                scope.star_imports.append(resolve_relative(module, is_package, stmt.level, stmt.module))
            for name, target in import_bindings(stmt, module, is_package):
                scope.bindings[name] = target
                scope.imported[name] = target
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qualname = scope.qualify(stmt.name)
            scope.bindings[stmt.name] = qualname
            scope.definitions[stmt.name] = qualname
            scope.imported.pop(stmt.name, None)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for assigned in targets:
                for name in assigned_names(assigned):
                    _bind_module_value(scope, name, stmt.value)


def add_environment(scope: ModuleScope, names: dict[str, str], instances: dict[str, str]) -> None:
    for name, target in names.items():
        if name not in scope.bindings and name not in scope.shadowed:
            scope.bindings[name] = target
            scope.imported[name] = target
    for name, cls in instances.items():
        if name not in scope.bindings and name not in scope.shadowed:
            scope.instances[name] = cls


def _bind_module_value(scope: ModuleScope, name: str, value: ast.expr | None) -> None:
    if isinstance(value, ast.Constant) and value.value is None:
        return  # `try: from x import f / except ImportError: f = None` keeps the import
    literal = string_value(value)
    if literal is not None:
        scope.constants[name] = literal
    elif name in scope.constants:
        del scope.constants[name]
    if isinstance(value, ast.Call):
        callee = dotted(value.func)
        if callee and callee[0] in scope.bindings:
            scope.instances[name] = ".".join([scope.bindings[callee[0]], *callee[1:]])
    if name in scope.bindings and name not in scope.definitions:
        # a module-level value hides an import of the same name
        scope.bindings.pop(name)
        scope.imported.pop(name, None)
    scope.shadowed.add(name)


def local_names(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names a function binds itself (Python makes them local to the whole function)."""
    found: set[str] = set()
    declared_global: set[str] = set()
    stack: list[ast.AST] = list(func.body) if isinstance(func.body, list) else [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global.update(node.names)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            stack.extend(getattr(node, "decorator_list", []))
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    found.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.add(node.rest)
        stack.extend(children(node))
    return found - declared_global
