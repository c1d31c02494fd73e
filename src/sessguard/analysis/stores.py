"""Which session store each framework uses in this project (SPEC §6), and the evidence.

Signals come from the code (calls, settings, middleware, `session_interface`
assignments) and from declared dependencies. A server-side signal wins over a cookie one:
the higher risk is the one a reviewer must not miss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import msgspec

from sessguard.dependencies import Dependency
from sessguard.extract.facts import ModuleFacts
from sessguard.frameworks import Knowledge
from sessguard.frameworks.base import Framework, StoreSignal
from sessguard.model import Store


class StoreInfo(msgspec.Struct, frozen=True):
    store: Store
    backend: str
    evidence: tuple[str, ...] = ()  # "path:line what" for messages

    @property
    def described(self) -> str:
        return ", ".join(self.evidence[:2])


class Tier(msgspec.Struct, frozen=True):
    """One circle of evidence: the code and the dependency files it is taken from."""

    modules: Sequence[ModuleFacts]
    dependencies: Sequence[Dependency]


Normalize = Callable[[str], str]


def shown_calls(modules: Iterable[ModuleFacts]) -> frozenset[str]:
    """The store and identity-policy classes and calls the code shows."""
    return frozenset(e.name for m in modules for e in m.evidence if e.kind in ("call", "middleware"))


def _same(value: str) -> str:
    return value


def classify_stores(
    modules: Iterable[ModuleFacts],
    dependencies: Iterable[Dependency],
    knowledge: Knowledge,
    evident: frozenset[str],
    overrides: Mapping[str, Store] | None = None,
) -> dict[str, StoreInfo]:
    """Every framework's store from one body of evidence (a whole scan)."""
    return classify_tiers([Tier(list(modules), list(dependencies))], knowledge, evident, overrides)


def classify_tiers(
    tiers: Sequence[Tier],
    knowledge: Knowledge,
    evident: frozenset[str],
    overrides: Mapping[str, Store] | None = None,
    normalize: Normalize = _same,
) -> dict[str, StoreInfo]:
    """Every framework's store from the first tier that shows a signal for it: an
    application's own code and dependency files first, then wider circles (SPEC §6).
    `normalize` maps a `session_interface` class to the library class it derives from."""
    result: dict[str, StoreInfo] = {}
    for framework in knowledge.frameworks:
        if overrides and framework.name in overrides:
            store = overrides[framework.name]
            backend = framework.default_backend if store is framework.default_store else store.value
            result[framework.name] = StoreInfo(store, backend, ("configured in session-store",))
            continue
        result[framework.name] = _classify(framework, tiers, framework.name in evident, normalize)
    return result


def _classify(framework: Framework, tiers: Sequence[Tier], evident: bool, normalize: Normalize) -> StoreInfo:
    for tier in tiers:
        matches: list[tuple[StoreSignal, str, str]] = []  # (signal, backend, where)
        for signal in framework.store_signals:
            for where, backend in _matches(signal, tier.modules, tier.dependencies, normalize):
                matches.append((signal, backend, where))
        for store in (Store.SERVER, Store.COOKIE):
            found = [(backend, where) for signal, backend, where in matches if signal.store is store]
            if not found:
                continue
            backends = [backend for backend, _ in found]
            chosen = next((b for b in framework.backend_precedence if b in backends), backends[0])
            evidence = tuple(dict.fromkeys(where for backend, where in found if backend == chosen))
            return StoreInfo(store, chosen, evidence)
    if evident and framework.evident_store is not None:
        return StoreInfo(framework.evident_store, framework.evident_backend, ("framework default",))
    return StoreInfo(framework.default_store, framework.default_backend)


def _matches(
    signal: StoreSignal,
    modules: Sequence[ModuleFacts],
    dependencies: Sequence[Dependency],
    normalize: Normalize,
) -> Iterable[tuple[str, str]]:
    if signal.kind == "dependency":
        for dep in dependencies:
            if dep.name == signal.name:
                backend = signal.backend
                if signal.below and _only_below(dep.specifier, signal.below[0]):
                    backend = signal.below[1]
                yield f"{dep.path}: {dep.name}{dep.specifier}", backend
        return
    for module in modules:
        for evidence in module.evidence:
            if evidence.kind != signal.kind or (signal.kind != "interface" and evidence.name != signal.name):
                continue
            values = dict(evidence.values)
            if signal.kind == "interface" and values.get("value"):
                values["value"] = normalize(values["value"] or "")
            if signal.accepts is not None and not signal.accepts(values):
                continue
            shown = values.get("value")
            what = f"{signal.describe} = {shown!r}" if signal.kind == "config" else signal.describe
            yield f"{module.path}:{evidence.line} {what}", signal.backend


def _only_below(specifier: str, version: str) -> bool:
    """Does the requirement admit only releases below `version` (`==0.6.0`, `<0.7`)?"""
    if not specifier:
        return False
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return False
    major, _, minor = version.partition(".")
    probes = [
        version,
        *(f"{major}.{int(minor or 0) + step}" for step in range(1, 20)),
        *(f"{int(major) + step}.0" for step in range(1, 10)),
        "999",
    ]
    return not any(spec.contains(probe, prereleases=True) for probe in probes)
