"""What each event of a function does to the session, once the project is known.

An event becomes a short sequence of primitive effects: a regeneration (with its order),
emptying, a write, a false friend, an auth event, or a call of a project function whose
summary decides. The framework tables say what a call or method does on the store the
project uses; nothing here names a framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from msgspec import Struct, field

from sessguard.analysis.project import Context, Project
from sessguard.analysis.stores import StoreInfo, shown_calls
from sessguard.extract.facts import Event, EventKind, FunctionFacts, ModuleFacts
from sessguard.frameworks import KNOWLEDGE, Knowledge
from sessguard.frameworks.base import Effect, EffectKind, LoginCall, StoreTable
from sessguard.frameworks.identity import FLAG_KEYS, IdentityVocabulary, is_pending_key, key_words
from sessguard.model import Order, Span


class Site(Struct, frozen=True):
    """Where an event is reported: its file, its statement's span, its text."""

    path: str
    span: Span
    text: str

    @property
    def line(self) -> int:
        return self.span.line


class FalseFriend(Struct, frozen=True):
    site: Site
    reason: str
    via: tuple[Site, ...] = ()  # the calls through which it was reached, outermost first


class AuthEvent(Struct, frozen=True):
    framework: str
    site: Site
    what: str  # "logs the user in", "stores the identity 'user_id'"
    function: str
    login_call: bool
    privilege: bool = False
    # the login delegates to an identity policy the project does not show
    uncertain_policy: bool = False


class Regen(Struct, frozen=True):
    order: Order
    site: Site
    needs_data: bool = False


class Empty(Struct, frozen=True):
    pass


class Write(Struct, frozen=True):
    pass


class Friend(Struct, frozen=True):
    friend: FalseFriend


class Auth(Struct, frozen=True):
    event: AuthEvent


class CallOf(Struct, frozen=True):
    """A call of a project function: its summary (under `context`) decides."""

    callee: str
    context: Context
    site: Site
    maybe: bool = False


Prim = Regen | Empty | Write | Friend | Auth | CallOf

EMPTY = Empty()
WRITE = Write()


class Extensions(Struct, frozen=True):
    """Project-configured knowledge (SPEC §10)."""

    auth_functions: frozenset[str] = frozenset()
    regenerate_functions: Mapping[str, Order] = field(default_factory=dict)
    vocabulary: IdentityVocabulary = field(default_factory=IdentityVocabulary)


class EffectResolver(Struct, dict=True):
    project: Project
    stores: Mapping[str, StoreInfo]
    extensions: Extensions = field(default_factory=Extensions)
    # login calls made safe by a signal receiver that regenerates (SPEC §7)
    protected_signals: frozenset[str] = frozenset()
    relevant: frozenset[str] | None = None
    # the classes and calls the application's code shows (identity policies); None: all
    evidence_calls: frozenset[str] | None = None
    # the application's own session interface and session class, if it has them
    session_class: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.evidence_calls is None:
            self.evidence_calls = shown_calls(self.project.modules.values())
        # settings switched off, and the application each applies to (None: everywhere)
        self._settings_off: dict[str, set[str | None]] = {}
        for module in self.project.modules.values():
            for e in module.evidence:
                if e.kind == "config" and dict(e.values).get("value") in ("False", "0"):
                    self._settings_off.setdefault(e.name, set()).add(_application(module))

    def _switched_off(self, setting: str | None, module: ModuleFacts) -> bool:
        if setting is None or setting not in self._settings_off:
            return False
        units = self._settings_off[setting]
        return None in units or _application(module) in units

    def function_effects(self, function: FunctionFacts, context: Context) -> list[tuple[Prim, ...]]:
        module = self.project.function_module[function.qualname]
        effects: list[tuple[Prim, ...]] = []
        for node in function.nodes:
            if node.event < 0:
                effects.append(())
                continue
            event = function.events[node.event]
            prims = self.event_effects(event, function, module, context)
            if event.maybe:
                prims = tuple(_may_not_run(p) for p in prims if not isinstance(p, (Regen, Empty)))
            effects.append(prims)
        return effects

    def event_effects(
        self, event: Event, function: FunctionFacts, module: ModuleFacts, context: Context
    ) -> tuple[Prim, ...]:
        site = Site(module.path, event.stmt, event.text)
        if event.kind is EventKind.CALL:
            return self.call_effects(event, function, module, context, site)
        if event.kind is EventKind.SESSION_READ:
            return ()  # only the autofix looks at reads (`analysis.reads`)
        framework = self.project.session_of(event.ref, module, context)
        if framework is None:
            return ()
        fw = self.project.knowledge.by_name[framework]
        if event.kind is EventKind.SESSION_DEL:
            return (Friend(FalseFriend(site, "deleting a key keeps the session id")),)
        if event.kind is EventKind.SESSION_ATTR:
            table = fw.attribute_writes.get(event.op)
            if table is not None:
                return self.table_effects(table, framework, site)
            return self.write(event, framework, function, site, context) if fw.attribute_style else ()
        table = next(
            (
                fw.methods[row]
                for row in (f"{event.op}({k}={v})" for k, v in event.literals)
                if row in fw.methods
            ),
            fw.methods.get(event.op),
        )
        if table is None:
            return self.own_session_method(event, site)
        prims = self.table_effects(table, framework, site)
        if any(isinstance(p, Write) for p in prims):
            return self.write(event, framework, function, site, context)
        return prims

    def call_effects(
        self, event: Event, function: FunctionFacts, module: ModuleFacts, context: Context, site: Site
    ) -> tuple[Prim, ...]:
        knowledge = self.project.knowledge
        name = self.project.known_name(event)
        if name is not None:
            if name in self.extensions.regenerate_functions:
                return (Regen(self.extensions.regenerate_functions[name], site),)
            if name in self.extensions.auth_functions:
                return self.login(
                    LoginCall("logs the user in"), _framework_of(name, knowledge, module), function, site
                )
            if name in knowledge.login_calls:
                framework, spec = knowledge.login_calls[name]
                if event.first_arg_class in spec.anonymous:
                    return (WRITE,)
                inside = self._defined_here(event, spec)
                if inside is not None:
                    return (
                        CallOf(
                            inside,
                            self.project.call_context(event, inside, module, context),
                            site,
                            event.maybe,
                        ),
                    )
                return self.login(spec, framework, function, site)
            if name in knowledge.calls:
                framework, table = knowledge.calls[name]
                return self.table_effects(table, framework, site)
        for pattern, framework, table in knowledge.call_suffixes:
            if event.suffix[-len(pattern) :] == pattern:
                return self.table_effects(table, framework, site)
        callee = self.project.callee(event)
        if callee is None or (self.relevant is not None and callee not in self.relevant):
            return ()
        callee_context = self.project.call_context(event, callee, module, context)
        return (CallOf(callee, callee_context, site, event.maybe),)

    def own_session_method(self, event: Event, site: Site) -> tuple[Prim, ...]:
        """A method of the project's own session class (SPEC §6): one that sets a flag on
        which the interface's `save_session` issues a new id is an `either` regeneration
        (the id changes when the response is saved); any other is neutral."""
        if self.session_class is None or event.kind is not EventKind.SESSION_CALL:
            return ()
        interface, session_class = self.session_class
        method = self.project.method(session_class, event.op)
        saver = self.project.method(interface, "save_session")
        if method is None or saver is None:
            return ()
        flags = set(self.project.functions[method].flags_set) if method in self.project.functions else set()
        rotates = set(self.project.functions[saver].rotates_on) if saver in self.project.functions else set()
        return (Regen(Order.EITHER, site),) if flags & rotates else ()

    def _defined_here(self, event: Event, spec: LoginCall) -> str | None:
        """A login call of the tables that the scanned tree itself defines (scanning
        Flask-Security-Too): the analysis enters the definition, so the finding shows where
        the identity is written. A self-rotating login keeps its documented meaning."""
        if spec.self_rotating:
            return None
        callee = self.project.callee(event)
        if callee is None or (self.relevant is not None and callee not in self.relevant):
            return None
        return callee

    def login(self, spec: LoginCall, framework: str, function: FunctionFacts, site: Site) -> tuple[Prim, ...]:
        module = self.project.function_module[function.qualname]
        rotates = spec.self_rotating and not self._switched_off(spec.rotation_setting, module)
        if rotates or set(spec.signals) & self.protected_signals:
            return (Regen(Order.EITHER, site), WRITE)
        uncertain = False
        if spec.policies:
            calls = self.evidence_calls or frozenset()
            shown = [writes for policy, writes in spec.policies.items() if policy in calls]
            if shown and not any(shown):
                return ()  # a token or ticket policy: the login mints a new credential
            uncertain = not shown
        event = AuthEvent(framework, site, spec.what, function.qualname, True, spec.privilege, uncertain)
        return (Auth(event), WRITE)

    def write(
        self, event: Event, framework: str, function: FunctionFacts, site: Site, context: Context
    ) -> tuple[Prim, ...]:
        """A write is an auth event when a key it writes is an identity key, or when the
        value under a key that is not pending state is a principal's identity or an identity
        provider's answer (SPEC §4.2)."""
        vocabulary = self.extensions.vocabulary
        texts = [self.project.key_text(key, context) for key in event.keys]
        what = ""
        for text in texts:
            if text is not None and vocabulary.is_identity_key(text):
                verb = "grants" if "_".join(key_words(text)) in FLAG_KEYS else "stores the identity"
                what = f"{verb} {text!r}"
                break
        if not what:
            candidates = [
                (text, why)
                for text, why in zip(texts, event.identities or ("",) * len(texts), strict=False)
                if text is not None and not is_pending_key(text) and text not in vocabulary.not_identity
            ]
            principal = next(((text, why) for text, why in candidates if why), None)
            if principal is not None:
                what = f"stores a principal's identity under {principal[0]!r} ({principal[1]})"
            elif event.provider_value and candidates:
                what = "stores what an identity provider returned"
        if not what:
            return (WRITE,)
        return (Auth(AuthEvent(framework, site, what, function.qualname, False)), WRITE)

    def table_effects(self, table: StoreTable, framework: str, site: Site) -> tuple[Prim, ...]:
        store = self.stores[framework]
        prims = (_prim(effect, site) for effect in table.effects(store.backend, store.store))
        return tuple(p for p in prims if p is not None)


def _application(module: ModuleFacts) -> str | None:
    """The application a module belongs to, where a framework runs several side by side
    (each web2py application has its own models); None for ordinary projects."""
    if module.environment is None:
        return None
    environment = KNOWLEDGE.by_name[module.environment].environment
    dirs = environment.dirs if environment else frozenset()
    for parent in PurePosixPath(module.path).parents:
        if parent.name in dirs:
            return parent.parent.as_posix()
    return None


def _prim(effect: Effect, site: Site) -> Prim | None:
    if effect.kind is EffectKind.REGEN:
        assert effect.order is not None
        return Regen(effect.order, site, effect.needs_data)
    if effect.kind is EffectKind.EMPTY:
        return EMPTY
    if effect.kind is EffectKind.WRITE:
        return WRITE
    if effect.kind is EffectKind.FALSE_FRIEND:
        return Friend(FalseFriend(site, effect.reason))
    return None


def _may_not_run(prim: Prim) -> Prim:
    if isinstance(prim, CallOf):
        return CallOf(prim.callee, prim.context, prim.site, maybe=True)
    return prim


def _framework_of(name: str, knowledge: Knowledge, module: ModuleFacts) -> str:
    """A configured auth function belongs to the framework its package or module uses."""
    top = name.split(".")[0]
    own = knowledge.frameworks_of_packages([top]) or knowledge.frameworks_of_packages(module.packages)
    return sorted(own)[0] if own else "flask"
