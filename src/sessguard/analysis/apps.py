"""Applications: whose store and identity policy applies to which code (SPEC §2, §6).

A repository may hold several apps (a monorepo, `examples/`, docs tutorials) and their
tests. Each root is judged with the evidence of its own application, taken in widening
circles until one shows a signal for the framework:

1. the root's module and the project modules it imports (transitively; importing a
   submodule imports its packages), with the dependency files of its home;
2. every module under its home: the nearest directory above it that holds a dependency
   file, `setup.py` or `manage.py` (a settings module or config file that nothing imports);
3. the whole scan, when the home has no dependency file of its own (deployment settings
   may live elsewhere in the repository).

Test modules (SPEC §2) are evidence for test code only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath

import msgspec

from sessguard.analysis.project import Project
from sessguard.analysis.stores import StoreInfo, Tier, classify_tiers, shown_calls
from sessguard.dependencies import Dependency
from sessguard.discover import is_test_path
from sessguard.extract.facts import ModuleFacts
from sessguard.model import Store

HOME_FILES = frozenset({"manage.py", "setup.py"})
COOKIE_INTERFACE = "flask.sessions.SecureCookieSessionInterface"


class Layout(msgspec.Struct, frozen=True):
    """What the files' places say: which modules are test code, and each module's home."""

    tests: frozenset[str] = frozenset()
    homes: Mapping[str, str] = msgspec.field(default_factory=dict)  # module -> home directory ("" none)
    home_dependencies: Mapping[str, tuple[Dependency, ...]] = msgspec.field(default_factory=dict)


def build_layout(
    files: Iterable[tuple[str, str, str]], dependencies: Sequence[Dependency], dependency_files: Iterable[str]
) -> Layout:
    """`files`: (module, display path, path below the scanned directory) of each file;
    `dependency_files`: the display paths of the dependency files found."""
    files = list(files)
    markers = {str(PurePosixPath(path).parent) for path in dependency_files}
    homes_given = (display for _, display, _ in files if display.rpartition("/")[2] in HOME_FILES)
    markers |= {str(PurePosixPath(display).parent) for display in homes_given}
    tests = frozenset(module for module, _, below in files if is_test_path(below))
    found: dict[str, str] = {}
    homes = {module: _home(display, markers, found) for module, display, _ in files}
    by_home: dict[str, list[Dependency]] = {}
    for dep in dependencies:
        where = str(PurePosixPath(dep.path).parent)
        by_home.setdefault(where, []).append(dep)
    return Layout(tests, homes, {home: tuple(deps) for home, deps in by_home.items()})


def _home(display: str, markers: set[str], found: dict[str, str]) -> str:
    """The nearest directory above `display` that holds a marker ("" for none); `found`
    remembers the answer per directory."""
    head, _, _ = display.rpartition("/")
    directory = head or ("/" if display.startswith("/") else ".")
    if directory not in found:
        if directory in markers:
            found[directory] = directory
        elif directory in (".", "/"):
            found[directory] = ""
        else:
            found[directory] = _home(directory, markers, found)
    return found[directory]


class AppView(msgspec.Struct, frozen=True):
    """The store of each framework and the identity policies one application shows."""

    stores: Mapping[str, StoreInfo]
    evidence_calls: frozenset[str]
    # the project's own session interface and session class (SPEC §6): (interface, class)
    session_class: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[object, ...]:
        return (tuple(sorted(self.stores.items())), tuple(sorted(self.evidence_calls)), self.session_class)


class Applications:
    """Each module's application view, computed once per distinct circle of evidence."""

    def __init__(
        self,
        project: Project,
        dependencies: Sequence[Dependency],
        layout: Layout,
        overrides: Mapping[str, Store] | None = None,
    ) -> None:
        self.project = project
        self.dependencies = list(dependencies)
        self.layout = layout
        self.overrides = overrides
        self._closures: dict[str, frozenset[str]] = {}
        self._imports: dict[str, tuple[str, ...]] = {}
        self._views: dict[tuple[object, ...], AppView] = {}
        self._by_module: dict[str, AppView] = {}
        self._counted_modules: dict[bool, list[ModuleFacts]] = {}
        self._homes: dict[tuple[str, bool], list[ModuleFacts]] = {}
        policies = {
            name
            for fw in project.knowledge.frameworks
            for spec in fw.login_calls.values()
            for name in spec.policies
        }
        self._policies = frozenset(policies)

    def view(self, module: str) -> AppView:
        if module not in self._by_module:
            tiers = self._tiers(module)
            key = tuple(
                (tuple(m.module for m in tier.modules), tuple(d.path for d in tier.dependencies))
                for tier in tiers
            )
            if key not in self._views:
                stores = classify_tiers(
                    tiers, self.project.knowledge, self.project.frameworks, self.overrides, self._normalize
                )
                self._views[key] = AppView(stores, self._calls(tiers), self._session_class(tiers))
            self._by_module[module] = self._views[key]
        return self._by_module[module]

    def _tiers(self, module: str) -> list[Tier]:
        layout = self.layout
        test = module in layout.tests
        home = layout.homes.get(module, "")
        home_deps = list(layout.home_dependencies.get(home, ()))
        modules = self.project.modules
        # only evidence decides a view: modules without any are left out of the tiers
        own = [modules[name] for name in sorted(self._closure(module, test)) if name in modules]
        own = [m for m in own if m.evidence]
        tiers = [Tier(own, home_deps), Tier(self._home_modules(home, test), home_deps)]
        if not home_deps:
            tiers.append(Tier(self._counted(test), self.dependencies))
        return tiers

    def _counted(self, with_tests: bool) -> list[ModuleFacts]:
        """The modules whose evidence counts: all of them for test code, else the non-test."""
        if with_tests not in self._counted_modules:
            tests = self.layout.tests
            self._counted_modules[with_tests] = [
                m
                for name, m in sorted(self.project.modules.items())
                if m.evidence and (with_tests or name not in tests)
            ]
        return self._counted_modules[with_tests]

    def _home_modules(self, home: str, with_tests: bool) -> list[ModuleFacts]:
        key = (home, with_tests)
        if key not in self._homes:
            homes = self.layout.homes
            self._homes[key] = [m for m in self._counted(with_tests) if homes.get(m.module, "") == home]
        return self._homes[key]

    def _calls(self, tiers: Sequence[Tier]) -> frozenset[str]:
        """The identity policies of the first circle that shows any."""
        for tier in tiers:
            calls = shown_calls(tier.modules)
            if calls & self._policies:
                return calls
        return shown_calls(tiers[0].modules)

    def _session_class(self, tiers: Sequence[Tier]) -> tuple[str, str] | None:
        """The project interface of the first circle that installs one, and the session
        class it names in `session_class`."""
        project = self.project
        for tier in tiers:
            for module in tier.modules:
                for evidence in module.evidence:
                    if evidence.kind != "interface":
                        continue
                    interface = project.resolve_symbol(dict(evidence.values).get("value") or "")
                    facts = project.classes.get(interface or "")
                    if facts is None:
                        continue
                    named = dict(facts.attribute_types).get("session_class")
                    session_class = project.resolve_symbol(named) if named else None
                    if session_class in project.classes:
                        return facts.qualname, session_class or ""
        return None

    def _closure(self, module: str, with_tests: bool) -> frozenset[str]:
        """The module and the project modules it imports, directly or not."""
        key = module if with_tests else "\0" + module
        if key in self._closures:
            return self._closures[key]
        seen = {module}
        work = [module]
        while work:
            facts = self.project.modules.get(work.pop())
            if facts is None:
                continue
            if facts.module not in self._imports:
                self._imports[facts.module] = tuple(_imported(facts, self.project))
            for name in self._imports[facts.module]:
                if name not in seen and (with_tests or name not in self.layout.tests):
                    seen.add(name)
                    work.append(name)
        found = frozenset(seen)
        self._closures[key] = found
        return found

    def _normalize(self, value: str) -> str:
        """A project subclass of Flask's cookie interface is a cookie interface (SPEC §6)."""
        resolved = self.project.resolve_symbol(value)
        if resolved is None or resolved not in self.project.classes:
            return value
        if any(base.endswith("SecureCookieSessionInterface") for base in self.project.ancestors(resolved)):
            return COOKIE_INTERFACE
        return value


def _imported(facts: ModuleFacts, project: Project) -> Iterable[str]:
    parts = facts.module.split(".")
    for cut in range(1, len(parts)):
        yield ".".join(parts[:cut])  # importing a submodule runs its packages
    for _, target in facts.imports:
        found = project.module_of(target)
        if found is not None:
            yield found
    for star in facts.star_imports:
        if star in project.modules:
            yield star
