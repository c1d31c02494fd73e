"""What is written into a session: keys as far as the file resolves them, and values that
are a principal's identity, empty, or an identity provider's answer (SPEC §4.2).

A key that the file alone cannot resolve keeps what the link stage needs to: the constant
it names, the class attribute, the parameter (decided per call site), or the parts of a
join. A principal is the result of `authenticate(...)`, an object whose credential was
checked, the argument of a login call, or what an identity provider returned.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from sessguard.extract.facts import Key
from sessguard.extract.names import dotted, string_value
from sessguard.extract.refs import FunctionScope
from sessguard.extract.walk import subtree
from sessguard.frameworks.identity import (
    AUTHENTICATE_CALLS,
    PRINCIPAL_ATTRIBUTES,
    PRINCIPAL_METHODS,
    PROVIDER_ATTRIBUTES,
    PROVIDER_CALLS,
    is_credential_call,
)

# receivers whose `.get(name, default)` reads a setting: the default is the key
CONFIG_NAMES = frozenset({"config", "settings", "conf", "cfg", "options", "environ"})
CONFIG_READERS = frozenset({"os.getenv", "os.environ.get"})
CONVERSIONS = frozenset({"str", "int"})


def key_of(scope: FunctionScope, node: ast.expr) -> Key:
    literal = scope.literal_key(node)
    if literal is not None:
        return Key(literal=literal)
    if isinstance(node, ast.Name):
        if scope.lookup(node.id) is not None:
            return Key(param=node.id) if scope.own_param(node.id) else Key()
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = scope.class_ctx.qualname if scope.class_ctx is not None else None
        if owner is not None and node.value.id in (scope.self_name, "cls"):
            return Key(attr=node.attr, owner=owner)
    elif isinstance(node, (ast.BinOp, ast.JoinedStr)):
        return _join(scope, node)
    elif isinstance(node, ast.Call):
        default = _config_default(scope, node)
        if default is not None:
            return Key(literal=default)
        return Key()
    symbol = scope.resolve_qual(node)
    return Key(symbol=symbol) if symbol else Key()


def _join(scope: FunctionScope, node: ast.BinOp | ast.JoinedStr) -> Key:
    """`prefix + "user_id"`, `f"{prefix}user_id"`, `"%s_user" % prefix`: one key of parts."""
    parts: list[Key] = []
    if isinstance(node, ast.JoinedStr):
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.conversion != -1 or value.format_spec is not None:
                    return Key()
                parts.append(key_of(scope, value.value))
            else:
                parts.append(key_of(scope, value))
    elif isinstance(node.op, ast.Add):
        parts = [key_of(scope, node.left), key_of(scope, node.right)]
    elif isinstance(node.op, ast.Mod):
        template = string_value(node.left)
        values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        pieces = template.split("%s") if template is not None else []
        if len(pieces) != len(values) + 1 or any("%" in piece for piece in pieces):
            return Key()
        following: list[ast.expr | None] = [*values, None]
        for piece, argument in zip(pieces, following, strict=True):
            if piece:
                parts.append(Key(literal=piece))
            if argument is not None:
                parts.append(key_of(scope, argument))
    else:
        return Key()
    flat: list[Key] = []
    for part in parts:
        if part.unresolvable:
            return Key()
        flat.extend(part.parts or (part,))
    if all(part.literal is not None for part in flat):
        return Key(literal="".join(part.literal or "" for part in flat))
    return Key(parts=tuple(flat))


def _config_default(scope: FunctionScope, node: ast.Call) -> str | None:
    """`app.config.get("AUTH_KEY", "username")`, `getattr(settings, "X", "user")`,
    `os.getenv("X", "uid")`: a setting read with a literal default resolves to it."""
    func = node.func
    qual = scope.resolve_qual(func)
    if qual in CONFIG_READERS and len(node.args) == 2:
        return string_value(node.args[1])
    if isinstance(func, ast.Attribute) and func.attr == "get" and len(node.args) == 2:
        names = dotted(func.value)
        return string_value(node.args[1]) if names and names[-1] in CONFIG_NAMES else None
    if isinstance(func, ast.Name) and func.id == "getattr" and qual is None and len(node.args) == 3:
        names = dotted(node.args[0])
        return string_value(node.args[2]) if names and names[-1] in CONFIG_NAMES else None
    return None


def is_empty(node: ast.expr | None) -> bool:
    """None, False, "", 0 or an empty literal container: a logout or a reset."""
    if isinstance(node, ast.Constant):
        return not node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return False


def from_provider(scope: FunctionScope, node: ast.expr | None) -> bool:
    if node is None:
        return False
    for sub in subtree(node):
        if isinstance(sub, ast.Call):
            names = dotted(sub.func)
            if names and names[-1] in PROVIDER_CALLS:
                return True
        elif isinstance(sub, ast.Attribute):
            if sub.attr in PROVIDER_ATTRIBUTES:
                return True
        elif isinstance(sub, ast.Subscript):
            if string_value(sub.slice) in PROVIDER_ATTRIBUTES:
                return True
        elif isinstance(sub, ast.Name) and sub.id in scope.tainted:
            return True
    return False


def principal_identity(scope: FunctionScope, node: ast.expr | None, line: int) -> str:
    """Why a written value is the identity of a principal the request authenticated, or ""."""
    if node is None:
        return ""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and len(node.args) == 1
        and node.func.id in CONVERSIONS
        and scope.resolve_name(node.func.id) is None
    ):
        node = node.args[0]  # `str(user.id)`
    name: str | None = None
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute) and node.attr in PRINCIPAL_ATTRIBUTES:
        name = node.value.id if isinstance(node.value, ast.Name) else None
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in PRINCIPAL_METHODS
        and isinstance(node.func.value, ast.Name)
    ):
        name = node.func.value.id
    if name is None:
        return ""
    found = scope.principals.get(name)
    if found is None or found[0] > line:
        return ""
    written = ast.unparse(node)
    return f"the value is `{written}`, {found[1]}"


def find_principals(scope: FunctionScope, nodes: Iterable[ast.AST]) -> None:
    """Names in the function that hold a principal, with the line that shows it."""
    for node in nodes:
        kind = node.__class__  # one type test for most nodes, not a chain of them
        if kind is not ast.Assign and kind is not ast.Call:
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call):
                names = dotted(value.func) or (
                    [value.func.attr] if isinstance(value.func, ast.Attribute) else None
                )
                if names and names[-1] in AUTHENTICATE_CALLS:
                    target = node.targets[0].id
                    _principal(scope, target, node.lineno, f"the user `{names[-1]}(...)` returned on line")
        elif isinstance(node, ast.Call):
            _checked_principals(scope, node)


def _checked_principals(scope: FunctionScope, node: ast.Call) -> None:
    func = node.func
    names = dotted(func) or ([func.attr] if isinstance(func, ast.Attribute) else None)
    if not names:
        return
    last = names[-1]
    if is_credential_call(last) and last not in PROVIDER_CALLS:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and len(names) == 2:
            _principal(
                scope, func.value.id, node.lineno, f"the {func.value.id} whose credential was checked on line"
            )
            return
        for arg in node.args:
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                owner = arg.value.id
                _principal(scope, owner, node.lineno, f"the {owner} whose credential was checked on line")
        return
    qual = scope.resolve_qual(func)
    if qual is not None and qual in scope.knowledge.login_calls and node.args:
        first = node.args[0]
        if isinstance(first, ast.Name):
            _principal(scope, first.id, node.lineno, f"the user logged in with `{last}(...)` on line")


def _principal(scope: FunctionScope, name: str, line: int, why: str) -> None:
    if name == scope.self_name or name in scope.principals:
        return
    scope.principals[name] = (line, f"{why} {line}")


def credential_check(nodes: Iterable[ast.AST]) -> bool:
    """Does the function check a credential or take an identity from a provider?"""
    for node in nodes:
        kind = node.__class__
        if kind is not ast.Call and kind is not ast.Attribute:
            continue
        if isinstance(node, ast.Call):
            names = dotted(node.func)
            if names is None and isinstance(node.func, ast.Attribute):
                names = [node.func.attr]
            if names and is_credential_call(names[-1]):
                return True
        elif isinstance(node, ast.Attribute) and node.attr in PROVIDER_ATTRIBUTES:
            return True
    return False
