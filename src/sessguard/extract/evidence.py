"""Store evidence and signal connections found in a scope's nodes: the middleware,
settings and session interfaces that say which store an application uses (SPEC §6), and
the signals its receivers are connected to."""

from __future__ import annotations

import ast

from sessguard.extract.facts import Evidence
from sessguard.extract.names import dotted, string_value
from sessguard.extract.refs import FunctionScope
from sessguard.extract.walk import Body
from sessguard.frameworks import Knowledge

CONNECT_METHODS = frozenset({"connect", "connect_via"})
# the nodes `collect_evidence` looks at
_EVIDENCE_NODES = frozenset({ast.Call, ast.Dict, ast.Assign, ast.AnnAssign})


class EvidenceCollector:
    """What the extraction of a file finds on the way about stores and signals."""

    knowledge: Knowledge
    evidence: list[Evidence]
    connections: list[tuple[str, str]]

    def collect_evidence(self, body: Body, fscope: FunctionScope, module_level: bool) -> None:
        """Store settings, middleware, session interfaces and signal connections among a
        scope's nodes."""
        for node in body.nodes:
            kind = node.__class__
            if kind not in _EVIDENCE_NODES:
                continue  # most nodes: one type test, not a chain of them
            if isinstance(node, ast.Call):
                self.call_evidence(node, fscope)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    name = string_value(key) if key is not None else None
                    if name in self.knowledge.config_keys:
                        self.config(name, value, node.lineno)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self.assignment_evidence(target, node.value, fscope, module_level)

    def call_evidence(self, node: ast.Call, fscope: FunctionScope) -> None:
        """A call that names a store or middleware, passes a setting, or connects a signal."""
        callee = fscope.resolve_qual(node.func)
        kwargs = tuple((kw.arg, value_text(kw.value)) for kw in node.keywords if kw.arg)
        if callee and callee in self.knowledge.evidence_names:
            self.evidence.append(Evidence("call", callee, kwargs, node.lineno))
        if node.args:
            first = fscope.resolve_qual(node.args[0])
            if first and first in self.knowledge.evidence_names:
                self.evidence.append(Evidence("middleware", first, kwargs, node.lineno))
        for kw in node.keywords:
            if kw.arg in self.knowledge.config_keys:
                self.config(kw.arg, kw.value, node.lineno)
        names = dotted(node.func)
        if names and names[-1] in CONNECT_METHODS and len(names) > 1 and node.args:
            signal = fscope.resolve_qual(strip_last(node.func))
            receiver = fscope.resolve_qual(node.args[0])
            if signal is not None and signal in self.knowledge.signals and receiver:
                self.connections.append((signal, receiver))

    def assignment_evidence(
        self, target: ast.expr, value: ast.expr, fscope: FunctionScope, module_level: bool
    ) -> None:
        """An assignment of a setting or of an app's `session_interface`."""
        if isinstance(target, ast.Subscript):
            key = string_value(target.slice)
            if key in self.knowledge.config_keys:
                self.config(key, value, target.lineno)
        elif isinstance(target, ast.Name) and module_level and target.id in self.knowledge.config_keys:
            self.config(target.id, value, target.lineno)
        elif isinstance(target, ast.Attribute):
            if target.attr in self.knowledge.config_keys:
                self.config(target.attr, value, target.lineno)
            elif target.attr == "session_interface":
                self.interface(value, fscope, target.lineno)
        elif isinstance(target, ast.Name) and module_level and target.id == "session_interface":
            # an app class's body: `class PortalFlask(Flask): session_interface = ...` (SPEC §6)
            self.interface(value, fscope, target.lineno)

    def interface(self, value: ast.expr, fscope: FunctionScope, line: int) -> None:
        """An app's `session_interface`, by the class it is built from."""
        callee = value.func if isinstance(value, ast.Call) else value
        cls = fscope.resolve_qual(callee) or value_text(callee)
        self.evidence.append(Evidence("interface", "session_interface", (("value", cls),), line))

    def config(self, key: str, value: ast.expr, line: int) -> None:
        """A setting the store tables know, with its value."""
        self.evidence.append(Evidence("config", key, (("value", value_text(value)),), line))


def strip_last(node: ast.expr) -> ast.expr:
    """`a.b` of `a.b.connect`: the object a method is called on."""
    return node.value if isinstance(node, ast.Attribute) else node


def value_text(node: ast.expr) -> str | None:
    """A setting's value as text: a literal's, a dotted name's, or `<dynamic>`."""
    if isinstance(node, ast.Constant):
        return None if node.value is None else str(node.value)
    names = dotted(node)
    if names:
        return ".".join(names)
    return "<dynamic>"
