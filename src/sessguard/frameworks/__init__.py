"""Every framework the scanner knows, indexed for the extract and link stages.

Adding a framework is one module in this package and one line in `FRAMEWORKS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property

import msgspec

from sessguard.frameworks import (
    aiohttp,
    bottle,
    cherrypy,
    django,
    flask,
    litestar,
    py4web,
    pyramid,
    quart,
    sanic,
    starlette,
    tornado,
    web2py,
    webpy,
)
from sessguard.frameworks.base import EffectKind, Environment, Framework, LoginCall, Signal, StoreTable

# Order matters once: when a `request.session` could be any framework's and nothing in the
# module says which, the first one the project uses wins.
FRAMEWORKS: tuple[Framework, ...] = (
    flask.FRAMEWORK,
    django.FRAMEWORK,
    quart.FRAMEWORK,
    starlette.FRAMEWORK,
    pyramid.FRAMEWORK,
    litestar.FRAMEWORK,
    sanic.FRAMEWORK,
    bottle.FRAMEWORK,
    aiohttp.FRAMEWORK,
    cherrypy.FRAMEWORK,
    webpy.FRAMEWORK,
    web2py.FRAMEWORK,
    py4web.FRAMEWORK,
    tornado.FRAMEWORK,
)

# Parameters that hold a request by their name alone (SPEC §3).
REQUEST_PARAM_NAMES = frozenset({"request", "req"})

# Decorators `@<anything>.<attr>(...)` that register a function as a request handler.
ENTRY_DECORATOR_ATTRIBUTES = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "api_route",
        "websocket",
        "websocket_route",
        "view_config",
        "expose",
        "action",
        "view",
    }
)


class Knowledge(msgspec.Struct, frozen=True, dict=True):
    """The framework tables, merged into the look-ups the stages need."""

    frameworks: tuple[Framework, ...] = FRAMEWORKS
    extra_login_calls: Mapping[str, LoginCall] = msgspec.field(default_factory=dict)

    @cached_property
    def by_name(self) -> Mapping[str, Framework]:
        return {fw.name: fw for fw in self.frameworks}

    @cached_property
    def by_package(self) -> Mapping[str, str]:
        return {pkg: fw.name for fw in self.frameworks for pkg in fw.packages}

    @cached_property
    def global_sessions(self) -> Mapping[str, str]:
        return {name: fw.name for fw in self.frameworks for name in fw.global_sessions}

    @cached_property
    def request_types(self) -> Mapping[str, str]:
        return {name: fw.name for fw in self.frameworks for name in fw.request_types}

    @cached_property
    def login_calls(self) -> Mapping[str, tuple[str, LoginCall]]:
        table = {name: (fw.name, spec) for fw in self.frameworks for name, spec in fw.login_calls.items()}
        return table

    @cached_property
    def calls(self) -> Mapping[str, tuple[str, StoreTable]]:
        return {name: (fw.name, spec) for fw in self.frameworks for name, spec in fw.calls.items()}

    @cached_property
    def call_suffixes(self) -> tuple[tuple[tuple[str, ...], str, StoreTable], ...]:
        return tuple(
            (suffix, fw.name, table) for fw in self.frameworks for suffix, table in fw.call_suffixes.items()
        )

    @cached_property
    def signals(self) -> Mapping[str, tuple[str, Signal]]:
        return {name: (fw.name, sig) for fw in self.frameworks for name, sig in fw.signals.items()}

    @cached_property
    def session_write_calls(self) -> Mapping[tuple[str, ...], tuple[int, int]]:
        return {suffix: spec for fw in self.frameworks for suffix, spec in fw.session_write_calls.items()}

    @cached_property
    def key_constants(self) -> Mapping[str, str]:
        return {name: value for fw in self.frameworks for name, value in fw.key_constants.items()}

    @cached_property
    def request_session_frameworks(self) -> tuple[str, ...]:
        """Frameworks whose session hangs off the request, in order of preference."""
        return tuple(fw.name for fw in self.frameworks if fw.request_session_paths)

    @cached_property
    def request_params(self) -> Mapping[str, str]:
        return {name: fw.name for fw in self.frameworks for name in fw.request_params}

    @cached_property
    def session_path_owners(self) -> Mapping[tuple[str, ...], tuple[str, ...]]:
        """Which frameworks reach the session by each path (`("ctx", "session")`: Sanic's)."""
        owners: dict[tuple[str, ...], list[str]] = {}
        for fw in self.frameworks:
            for path in fw.request_session_paths:
                owners.setdefault(path, []).append(fw.name)
        return {path: tuple(names) for path, names in owners.items()}

    @cached_property
    def request_session_paths(self) -> frozenset[tuple[str, ...]]:
        return frozenset(path for fw in self.frameworks for path in fw.request_session_paths)

    @cached_property
    def evidence_names(self) -> frozenset[str]:
        """Callees and classes the extract stage records as evidence: store signals and
        the identity policies a login call may delegate to."""
        signals = {
            sig.name
            for fw in self.frameworks
            for sig in fw.store_signals
            if sig.kind in ("call", "middleware")
        }
        policies = {
            name for fw in self.frameworks for spec in fw.login_calls.values() for name in spec.policies
        }
        return frozenset(signals | policies)

    @cached_property
    def global_requests(self) -> Mapping[str, str]:
        return {name: fw.name for fw in self.frameworks for name in fw.global_requests}

    @cached_property
    def session_factories(self) -> Mapping[str, str]:
        return {name: fw.name for fw in self.frameworks for name in fw.session_factories}

    @cached_property
    def request_methods(self) -> frozenset[str]:
        return frozenset(name for fw in self.frameworks for name in fw.request_methods)

    @cached_property
    def environments(self) -> tuple[tuple[str, Environment], ...]:
        return tuple((fw.name, fw.environment) for fw in self.frameworks if fw.environment)

    @cached_property
    def config_keys(self) -> frozenset[str]:
        settings = {sig.name for fw in self.frameworks for sig in fw.store_signals if sig.kind == "config"}
        rotations = {
            spec.rotation_setting
            for fw in self.frameworks
            for spec in fw.login_calls.values()
            if spec.rotation_setting
        }
        return frozenset(settings | rotations)

    @cached_property
    def session_methods(self) -> frozenset[str]:
        """Method names some framework gives a meaning on a session object."""
        return frozenset(name.split("(")[0] for fw in self.frameworks for name in fw.methods)

    @cached_property
    def noreturn_calls(self) -> frozenset[str]:
        return frozenset(
            name
            for fw in self.frameworks
            for name, table in fw.calls.items()
            if table.rows
            and all(
                any(effect.kind is EffectKind.NORETURN for effect in effects)
                for effects in table.rows.values()
            )
        )

    @cached_property
    def touching_paths(self) -> frozenset[tuple[str, ...]]:
        """Everything through which code can touch a session, as the names code must write
        to reach it: login and logout calls, regenerations, signals, session factories and
        globals, key constants, store settings and classes, request methods and call
        suffixes. The prefilter derives its needles from these, so a table entry can never
        be missed by it."""
        qualnames = {
            *self.login_calls,
            *(name for name in self.calls if name not in self.noreturn_calls),
            *self.signals,
            *self.session_factories,
            *self.global_sessions,
            *self.key_constants,
            *self.evidence_names,
        }
        paths = {tuple(name.split(".")) for name in qualnames}
        paths |= {(name,) for name in self.request_methods | self.config_keys}
        paths |= {suffix for suffix, _, _ in self.call_suffixes}
        paths |= set(self.session_write_calls)
        return frozenset(paths)

    def is_noreturn(self, qualname: str) -> bool:
        return qualname in self.noreturn_calls

    def frameworks_of_packages(self, packages: Iterable[str]) -> frozenset[str]:
        return frozenset(self.by_package[p] for p in packages if p in self.by_package)

    @cached_property
    def _suffixes_by_length(self) -> tuple[tuple[int, frozenset[tuple[str, ...]]], ...]:
        lengths = sorted({len(suffix) for suffix, _, _ in self.call_suffixes})
        return tuple((n, frozenset(s for s, _, _ in self.call_suffixes if len(s) == n)) for n in lengths)

    def ends_in_call_suffix(self, names: tuple[str, ...]) -> bool:
        """Whether a call's attribute chain ends in one of the `call_suffixes` (a lookup
        per suffix length: it is asked of every call in every round)."""
        return bool(names) and any(names[-n:] in table for n, table in self._suffixes_by_length)

    def is_known_callee(self, qualname: str) -> bool:
        return (
            qualname in self.login_calls
            or qualname in self.calls
            or qualname in self.signals
            or qualname in self.session_factories
        )


KNOWLEDGE = Knowledge()
