"""The rule `python-session-fixation`: exposed auth events in roots become findings.

Each root reports the auth events it reaches without protection, at its own statement
through which each is reached (SPEC §7). An event that comes after another reported one on
every path is folded into it: listed in its trace, not reported again. The message says
what is wrong in words true for the store, the path that lacks regeneration, any false
friend on it, what the store means for the risk, and the fix (SPEC §8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec
from msgspec.structs import replace

from sessguard.analysis.effects import AuthEvent, FalseFriend, Site
from sessguard.analysis.paths import Exposure
from sessguard.analysis.project import NO_CONTEXT, Project
from sessguard.analysis.stores import StoreInfo
from sessguard.analysis.summaries import Solver
from sessguard.analysis.witness import Note, early_exit, unregenerated_path
from sessguard.extract.facts import ENTRY, Event, FunctionFacts
from sessguard.frameworks.identity import names_auth_step
from sessguard.model import RULE_ID, Finding, Level, Store, TraceStep, statement_hash
from sessguard.rules.fixes import plan_fix
from sessguard.shorthash import sha256_hex


class _Group(msgspec.Struct, frozen=True):
    root: str
    exposures: tuple[Exposure, ...]
    folded: tuple[Exposure, ...]


def report(
    project: Project, stores: Mapping[str, StoreInfo], solver: Solver, roots: Iterable[str]
) -> list[Finding]:
    findings: list[Finding] = []
    for root in roots:
        summary = solver.summary(root, NO_CONTEXT, False)
        if not summary.exposed:
            continue
        function = project.functions[root]
        for group in _fold(function, summary.exposed):
            findings.append(_finding(project, stores, solver, group))
    return findings


def _fold(function: FunctionFacts, exposed: Sequence[Exposure]) -> list[_Group]:
    """One group per statement that no other exposed statement comes before on every path.

    A statement is judged once, over all its nodes (a `finally` block has a copy per way
    out of its `try`), protected copies too: it is folded into another when no path from
    the entry reaches any of its nodes without passing one of the other's."""
    by_statement: dict[Event, list[Exposure]] = {}
    for exposure in exposed:
        statement = function.events[function.nodes[exposure.node].event]
        by_statement.setdefault(statement, []).append(exposure)
    nodes: dict[Event, set[int]] = {statement: set() for statement in by_statement}
    for index, node in enumerate(function.nodes):
        if node.event >= 0 and function.events[node.event] in nodes:
            nodes[function.events[node.event]].add(index)
    around = {statement: function.reachable([ENTRY], nodes[statement]) for statement in by_statement}

    def folded_into(statement: Event, other: Event) -> bool:
        return other != statement and nodes[statement].isdisjoint(around[other])

    groups = []
    for statement, items in by_statement.items():
        if any(folded_into(statement, other) for other in by_statement):
            continue
        folded = [e for other, es in by_statement.items() if folded_into(other, statement) for e in es]
        groups.append(_Group(function.qualname, _distinct(items), _distinct(folded)))
    return sorted(groups, key=lambda g: _order(g.exposures))


def _distinct(exposures: Sequence[Exposure]) -> tuple[Exposure, ...]:
    """In line order, one exposure per event reached through one statement: the copies of a
    `finally` block expose the same events at different nodes."""
    kept: dict[tuple[Site, AuthEvent], Exposure] = {}
    for exposure in sorted(exposures, key=lambda e: _order([e])):
        kept.setdefault((exposure.hops[0].site, exposure.event), exposure)
    return tuple(kept.values())


def _order(exposures: Sequence[Exposure]) -> tuple[int, int, str]:
    first = min(exposures, key=lambda e: (e.hops[0].site.line, e.event.site.line))
    return (first.hops[0].site.line, first.event.site.line, first.event.site.text)


# -- one finding ---------------------------------------------------------------------------


def _finding(project: Project, stores: Mapping[str, StoreInfo], solver: Solver, group: _Group) -> Finding:
    primary = group.exposures[0]
    event = primary.event
    store = stores[event.framework]
    framework = project.knowledge.by_name[event.framework]
    root_hop = primary.hops[0]
    friends = frozenset().union(*(e.friends for e in group.exposures))
    notes = _path_notes(project, solver, primary)
    message = " ".join(
        part
        for part in (
            _headline(primary, store.store),
            _path_sentence(notes),
            _friend_sentences(friends),
            _policy_sentence(primary),
            _store_sentence(framework.store_note(store.backend, store.store), store),
            "Fix: " + framework.fix_for(store.backend, store.store).advice + ".",
        )
        if part
    )
    module = project.function_module[group.root]
    snippet = dict(module.lines).get(root_hop.site.line, "")
    fix = framework.fix_for(store.backend, store.store)
    return Finding(
        rule_id=RULE_ID,
        path=root_hop.site.path,
        span=root_hop.site.span,
        severity=store.store.severity,
        confidence=_confidence(project, primary),
        framework=event.framework,
        session_store=store.store,
        function=group.root,
        message=message,
        trace=_trace(primary, notes, friends, group),
        fingerprint="",
        snippet=snippet.strip(),
        statement=root_hop.site.text,
        fix=plan_fix(project, framework, fix, group.root, root_hop.site.span, snippet),
        store_evidence=_store_evidence(store),
    )


def _headline(exposure: Exposure, store: Store) -> str:
    event = exposure.event
    lead = f"`{event.site.text}` {event.what}"
    if len(exposure.hops) > 1:
        call = exposure.hops[0].site
        lead = (
            f"`{call.text}` reaches `{event.site.text}` ({event.site.path}:{event.site.line}), "
            f"which {event.what}"
        )
    if store is Store.COOKIE:
        return f"{lead} without clearing the data the session carried before login."
    place = "on" if event.login_call else "in"
    return f"{lead} {place} the session the request arrived with: its id is not regenerated on this path."


def _path_notes(project: Project, solver: Solver, exposure: Exposure) -> list[list[Note]]:
    """For each level of the chain, the notes that show its unregenerated path."""
    levels: list[list[Note]] = []
    for index, hop in enumerate(exposure.hops):
        function = solver.function(hop.function, hop.context)
        effects = solver.effects(hop.function, hop.context)
        found = unregenerated_path(function, effects, solver.summary, hop.node, hop.entry_empty)
        if index == 0:
            found += early_exit(function, effects, solver.summary, hop.node)
        levels.append(found)
    return levels


def _path_sentence(levels: Sequence[Sequence[Note]]) -> str:
    notes = [note.text for level in levels for note in level]
    if not notes:
        return "No regeneration runs before it on any path."
    return "On this path " + "; ".join(notes) + "."


def _in_order(friends: Iterable[FalseFriend]) -> list[FalseFriend]:
    """False friends by place, then by the chain that reached them: the same `clear()`
    reached through calls of different depth must not come out in the order a set of
    another process happens to hold them (the report would change from run to run)."""

    def place(site: Site) -> tuple[str, int, int, str]:
        return (site.path, site.line, site.span.column, site.text)

    return sorted(friends, key=lambda f: (place(f.site), [place(s) for s in f.via], f.reason))


def _friend_sentences(friends: Iterable[FalseFriend]) -> str:
    sentences = []
    for friend in _in_order(friends):
        via = ""
        if friend.via:
            via = ", reached through " + " → ".join(
                f"`{site.text}` (line {site.line})" for site in friend.via
            )
        sentences.append(
            f"`{friend.site.text}` ({friend.site.path}:{friend.site.line}{via}) does not "
            f"regenerate the session: it {friend.reason}."
        )
    return " ".join(sentences)


def _policy_sentence(exposure: Exposure) -> str:
    if not exposure.event.uncertain_policy:
        return ""
    return (
        "The identity policy this call delegates to is not in the scanned code: a session-based "
        "policy writes the identity into the session (reported at medium confidence), a "
        "ticket or token policy would not."
    )


def _store_sentence(note: str, store: StoreInfo) -> str:
    evidence = _store_evidence(store)
    return f"{note} (store: {evidence})" if evidence else note


def _store_evidence(store: StoreInfo) -> str:
    """What the code showed of the store; nothing when the framework's default applies."""
    if store.evidence and store.evidence[0] not in ("framework default",):
        return store.described
    return ""


def _confidence(project: Project, exposure: Exposure) -> Level:
    if exposure.event.uncertain_policy:
        return Level.MEDIUM
    if exposure.event.login_call:
        return Level.HIGH
    for hop in exposure.hops:
        function = project.functions[hop.function]
        names = [function.name, *(function.route_paths)]
        if function.class_qualname:
            names.append(function.class_qualname.rsplit(".", 1)[-1])
        if function.credential_check or names_auth_step(names):
            return Level.HIGH
    return Level.MEDIUM


def _trace(
    exposure: Exposure, levels: Sequence[Sequence[Note]], friends: Iterable[FalseFriend], group: _Group
) -> tuple[TraceStep, ...]:
    """The chain, level by level in line order, then what was folded into it.

    False friends are told at the root's level, where the statement that reaches them
    stands (a helper's `clear()` at the line that calls the helper)."""
    steps: list[TraceStep] = []
    for index, hop in enumerate(exposure.hops):
        path = hop.site.path
        level = [(note.line, TraceStep(path, note.line, 1, note.text)) for note in levels[index]]
        if index == 0:
            for friend in _in_order(friends):
                anchor = friend.via[0].line if friend.via else friend.site.line
                text = f"`{friend.site.text}` does not regenerate the session: it {friend.reason}"
                if friend.via:
                    text = f"through `{friend.via[0].text}`, " + text
                level.append(
                    (anchor, TraceStep(friend.site.path, friend.site.line, friend.site.span.column, text))
                )
        if index < len(exposure.hops) - 1:
            step = TraceStep(path, hop.site.line, hop.site.span.column, f"calls `{hop.site.text}`")
        else:
            event = exposure.event.site
            step = TraceStep(
                event.path, event.line, event.span.column, f"`{event.text}` {exposure.event.what}"
            )
        level.append((hop.site.line, step))
        steps += [step for _, step in sorted(level, key=lambda item: (item[0], item[1].line))]
    for other in (*group.exposures[1:], *group.folded):
        site = other.event.site
        note = f"also `{site.text}` {other.event.what}"
        if len(other.hops) > 1:
            where = other.hops[0].site
            note += f" (reached through `{where.text}`, line {where.line})"
        steps.append(TraceStep(site.path, site.line, site.span.column, note))
    return tuple(dict.fromkeys(steps))


def fingerprinted(findings: list[Finding]) -> list[Finding]:
    """A hash of what was found and where in its function, never of line numbers; the
    n-th identical statement in a function gets its own."""
    seen: dict[str, int] = {}
    result = []
    for finding in sorted(findings, key=lambda f: (f.path, f.span.line, f.span.column)):
        basis = "\0".join(
            (finding.rule_id, finding.path, finding.function, statement_hash(finding.statement))
        )
        count = seen.get(basis, 0)
        seen[basis] = count + 1
        digest = sha256_hex(f"{basis}\0{count}")[:32]
        result.append(replace(finding, fingerprint=digest))
    return result
