"""Byte patterns that decide, without parsing, whether a file can matter (see `prefilter`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property, partial

import msgspec

from sessguard.frameworks import KNOWLEDGE, Knowledge

# Substrings that every relevant construct contains (see the module docstring).
BASE_NEEDLES = (
    "session",
    "Session",
    "SESSION",
    "login_user",
    "login_bare",
    "user_logged_in",
    "user_authenticated",
    "IdentityPolicy",
    "AuthenticationHelper",
    "AuthenticationPolicy",
    "AuthTkt",
    "django_otp",
    "test_request_context",
    "rotate_token",
    "new_csrf_token",
)
# the literal most of the files phase 1 wants hold: one search of a file's bytes for it
# decides, before any index is built, that the file is wanted (`Needles.wants_at_once`)
COMMONEST = "session"
FEW_NAMES = 16  # above this, splitting the index once is quicker than a search per name
_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_WHOLE = rb"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])"
# no `\b` in front: the literal prefix keeps the search quick (a `subclass X(` is one
# more statement taken, which only ever parses one more file)
_CLASS_BASES = re.compile(rb"class\s+\w+\s*\(([^)]*)\)")
_NOT_IDENTIFIER = bytes(c if (chr(c).isalnum() and c < 128) or c == ord("_") else 32 for c in range(256))


def words_of(data: bytes) -> bytes:
    """The file's index: each identifier-like word once, between spaces (in no order).

    Every needle is made of identifier characters, so a needle found in the bytes is found
    in this index (a literal inside a word, a name as a whole word), and the index is a
    fraction of the file: the prefilter keeps it for every file it did not parse, so that
    later rounds look for new names without reading any file again. The names in class
    statements' parentheses (the bases) follow once more, marked `^`."""
    return indexed(data)[0]


def indexed(data: bytes) -> tuple[bytes, frozenset[bytes] | set[bytes]]:
    """`words_of`, with the set of words it was joined from (a whole-word needle is one
    lookup there, where the joined index would be searched through)."""
    present = set(data.translate(_NOT_IDENTIFIER).split())
    words = b" " + b" ".join(present) + b" "
    bases = {
        b"^" + name
        for found in _CLASS_BASES.findall(data)
        for name in found.translate(_NOT_IDENTIFIER).split()
    }
    return (words + b" ".join(bases) + b" " if bases else words), present


def _start(pattern: re.Pattern[bytes], data: bytes, at: int) -> int:
    """Where `pattern`'s first match in `data` from `at` starts (-1: none)."""
    found = pattern.search(data, at)
    return -1 if found is None else found.start()


def identifiers(data: bytes) -> frozenset[bytes]:
    """The identifier-like words of some source bytes (a superset of its identifiers)."""
    return frozenset(data.translate(_NOT_IDENTIFIER).split())


class Needles:
    """A byte pattern: literal substrings, or whole identifiers.

    Each literal is looked for with `in` (a fast search in C; one regular expression
    alternating between thirty literals is slower than thirty searches); an identifier's
    hit then counts only if it stands alone somewhere in the file."""

    def __init__(self, substrings: Iterable[str] = (), identifiers: Iterable[str] = ()) -> None:
        self.substrings = tuple(sorted(set(substrings), key=len, reverse=True))
        self.identifiers = frozenset(identifiers)
        self._literals = tuple(s.encode() for s in self.substrings)
        self._words = tuple(
            (
                name.encode(),
                re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(name.encode()) + rb"(?![A-Za-z0-9_])"),
            )
            for name in sorted(self.identifiers)
        )

    def match(self, data: bytes) -> bool:
        if any(literal in data for literal in self._literals):
            return True
        return any(word in data and alone.search(data) for word, alone in self._words)

    def wants_at_once(self, data: bytes) -> bool:
        """Whether `match` holds by the commonest literal alone (False says nothing)."""
        return self._commonest is not None and self._commonest in data

    @cached_property
    def _commonest(self) -> bytes | None:
        return COMMONEST.encode() if COMMONEST in self.substrings else None

    def hit_lines(self, data: bytes) -> list[int]:
        """The numbers (from 1, in order) of the lines of `data` that `match` finds a hit
        in on their own. A search resumes at the end of the line of its last hit: a line
        is taken once, however many hits it holds (`session` can fill a file)."""
        starts: set[int] = set()

        def take(first_from: Callable[[int], int]) -> None:
            at = first_from(0)
            while at >= 0:
                starts.add(data.rfind(b"\n", 0, at) + 1)
                end = data.find(b"\n", at)
                at = -1 if end < 0 else first_from(end)

        for literal in self._literals:
            take(partial(data.find, literal))
        for word, alone in self._words:
            if word in data:
                take(partial(_start, alone, data))
        numbers: list[int] = []
        line, previous = 1, 0
        for start in sorted(starts):
            line += data.count(b"\n", previous, start)
            previous = start
            numbers.append(line)
        return numbers

    def match_indexed(self, index: bytes, present: frozenset[bytes] | set[bytes]) -> bool:
        """`match` on a file's `words_of` index and the set of words it was joined from
        (`indexed`): the literals are searched in the index, the identifiers looked up in
        the set; a name with other characters (a configured key such as `auth:user`)
        counts when all its words are there."""
        if any(literal in index for literal in self._literals):
            return True
        return any(parts <= present for parts in self._parts)

    @cached_property
    def _parts(self) -> tuple[frozenset[bytes], ...]:
        """Each identifier's words (a name that is none, such as `::`, is never found)."""
        return tuple(identifiers(name.encode()) or frozenset({b"\0"}) for name in sorted(self.identifiers))


def first_needles(configured: Iterable[str], knowledge: Knowledge = KNOWLEDGE) -> Needles:
    """Phase 1: the fixed vocabulary, the names of the framework tables that it does not
    already cover, and the project's configured functions and keys."""
    extra = {name.rsplit(".", 1)[-1] for name in configured if name}
    return Needles(BASE_NEEDLES, frozenset(extra | knowledge_identifiers(knowledge)))


def knowledge_identifiers(knowledge: Knowledge) -> frozenset[str]:
    """For each way a framework table is reached, a name that code reaching it must write.

    `cherrypy.lib.sessions.expire` cannot be reached without writing `sessions` (an import
    or an attribute path names the module), which the fixed vocabulary covers; Django's
    `django.contrib.auth.login` can, so `login` itself becomes a needle. The top package
    does not count: `import flask` then `flask.session` is the only spelling that writes
    the package, and a needle on the package would match every file that imports it."""
    base = Needles(BASE_NEEDLES)
    names = set()
    for path in knowledge.touching_paths:
        written = path[1:-1] if len(path) > 2 else ()
        if any(base.match(part.encode()) for part in (*written, path[-1])):
            continue
        names.add(path[-1])
    return frozenset(names)


class CallerNeedles(msgspec.Struct, frozen=True, dict=True):
    """How a file can reach a relevant function: by naming it (a module function); by
    naming a relevant method together with its class, a class deriving from it, or an
    instance of one (a method name alone, `setUp`, says too little); by constructing a
    class whose `__init__` is relevant; or by deriving a class from one with a relevant
    method (the subclass, parsed, makes its own name lead there too)."""

    functions: frozenset[str] = frozenset()
    methods: Mapping[str, frozenset[str]] = msgspec.field(default_factory=dict)
    constructed: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()

    @cached_property
    def _encoded(self) -> tuple[frozenset[bytes], dict[bytes, frozenset[bytes]], frozenset[bytes]]:
        functions = frozenset(name.encode() for name in self.functions | self.constructed)
        methods = {m.encode(): frozenset(o.encode() for o in owners) for m, owners in self.methods.items()}
        return functions, methods, frozenset(name.encode() for name in self.classes)

    @cached_property
    def _few(self) -> tuple[bytes, ...] | None:
        """Every name a match needs one of, when they are few enough to look for one by one."""
        names = {*self.functions, *self.constructed, *self.methods, *self.classes}
        return tuple(n.encode() for n in names) if len(names) <= FEW_NAMES else None

    def match(self, data: bytes) -> bool:
        """One pass over the file's identifiers (a set of them is cheaper to build than a
        long alternation of names is to run), and one over its class statements; when the
        names are few, a search for each first rules most files out."""
        few = self._few
        if few is not None and not any(name in data for name in few):
            return False
        present = set(_IDENTIFIER.findall(data))
        if self.match_words(present):
            return True
        classes = self._encoded[2]
        if not classes or b"class" not in present or present.isdisjoint(classes):
            return False
        return any(not classes.isdisjoint(_IDENTIFIER.findall(bases)) for bases in _CLASS_BASES.findall(data))

    def match_index(self, index: bytes) -> bool:
        """`match` on a file's `words_of` index (the bases of its class statements are the
        words marked `^`). The index's words are looked up in the set of every name that
        can count, in one pass, rather than made into a set of their own: the answer then
        comes from the few that are there."""
        few = self._few
        if few is not None and not any(name in index for name in few):
            return False
        hits = self._counted.intersection(index.split())
        return bool(hits) and (self.match_words(hits) or not self._bases.isdisjoint(hits))

    @cached_property
    def _counted(self) -> frozenset[bytes]:
        functions, methods, _ = self._encoded
        return functions.union(methods, *methods.values(), self._bases)

    @cached_property
    def _bases(self) -> frozenset[bytes]:
        return frozenset(b"^" + name for name in self._encoded[2])

    def match_words(self, present: set[bytes] | frozenset[bytes]) -> bool:
        """The same test on a file's words (its class statements aside)."""
        functions, methods, _ = self._encoded
        if not present.isdisjoint(functions):
            return True
        return any(method in present and not owners.isdisjoint(present) for method, owners in methods.items())

    def match_names(self, names: tuple[str, ...]) -> bool:
        """`match_words` on the identifiers of a function that was given no facts, as its
        module's facts list them (its class statements are in the class tables already):
        no set is built, nothing is encoded."""
        if not self._named.isdisjoint(names):
            return True
        return any(
            not self.methods[method].isdisjoint(names) for method in self._method_names.intersection(names)
        )

    @cached_property
    def _named(self) -> frozenset[str]:
        return self.functions | self.constructed

    @cached_property
    def _method_names(self) -> frozenset[str]:
        return frozenset(self.methods)

    def __sub__(self, other: CallerNeedles) -> CallerNeedles:
        methods = {
            method: owners - other.methods.get(method, frozenset()) for method, owners in self.methods.items()
        }
        return CallerNeedles(
            self.functions - other.functions,
            {m: o for m, o in methods.items() if o},
            self.constructed - other.constructed,
            self.classes - other.classes,
        )

    def __bool__(self) -> bool:
        return bool(self.functions or self.methods or self.constructed or self.classes)
