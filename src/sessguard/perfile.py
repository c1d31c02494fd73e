"""The per-file stage: which files are parsed, in which processes, and from the cache.

Every file is read once to hash it and to test it against the phase-1 needles; the
prefilter then decides, round after round, which files to parse (see `prefilter`). Facts
come from the cache when the file's bytes and the options are unchanged, otherwise from
worker processes or this one (`extraction`). The result never depends on how many
processes ran, in which order, or whether the cache was warm.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from sessguard.discover import SourceFile
from sessguard.extract.facts import ModuleFacts
from sessguard.extraction import SKIPPABLE, UNJUDGED, Extracted, Extraction
from sessguard.fileindex import FileIndex, Signature, signature_of
from sessguard.model import FileError
from sessguard.needles import CallerNeedles
from sessguard.reading import HeldMatches, Reader, content_hash, read_all, unhashed

if TYPE_CHECKING:
    from sessguard.analysis.project import Project


class Stage(Extraction, dict=True):
    """Phase 1 and the prefilter's rounds over the files (`Extraction` gives the facts)."""

    phase_one: list[SourceFile] = msgspec.field(default_factory=list)
    # each readable file's `words_of` index, from its one read this run
    words: dict[SourceFile, bytes] = msgspec.field(default_factory=dict)
    # the indexes the cache kept of the files not read this run, loaded when first needed
    _kept_words: dict[str, str] | None = None
    # files over the size limit whose bytes were read anyway, to tell whether they matter
    oversized: set[SourceFile] = msgspec.field(default_factory=set)
    # each module's facts whose skipped functions `_refresh` matched against the names,
    # with all the words of those functions (no name in none of them: no function to ask)
    _looked_at: dict[str, tuple[ModuleFacts, tuple[str, ...]]] = msgspec.field(default_factory=dict)
    # the files whose index a forked worker keeps, with their place in phase 1's list
    _held: dict[SourceFile, int] = msgspec.field(default_factory=dict)

    def prepare(self) -> dict[SourceFile, str]:
        """Hash every file and test it against the phase-1 needles; the hashes (empty for a
        file that cannot be read, the signature for test code) let a caller recognise an
        unchanged tree."""
        with self.monitor.stage("read and search"):
            self.phase_one = self._hash_all(self.out)
        return self.out.hashes

    def run(self) -> Extracted:
        """The per-file stage, over the files that can matter, or over all of them with
        `prefilter = false`. Either way, a file that could not be analysed is reported only
        when it could matter: when its bytes hold a name that can."""
        try:
            return self._run()
        finally:
            self.close()

    def _run(self) -> Extracted:
        from sessguard.analysis.project import Project
        from sessguard.frameworks import KNOWLEDGE
        from sessguard.prefilter import (
            TestImports,
            callee_modules,
            caller_needles,
            imported_tests,
            reaching_functions,
        )

        if not self.out.hashes and self.files:
            self.prepare()
        out, phase_one = self.out, self.phase_one
        by_module = {f.module: f for f in self.files}
        pending = phase_one if self.config.prefilter else list(self.files)
        searched = names = CallerNeedles()
        test_imports: TestImports = {}  # each module's, kept from round to round
        while pending:
            with self.monitor.stage("parse and extract"):
                self._extract(pending, out)
            with self.monitor.stage("prefilter rounds"):
                project = Project.build(
                    [r for r in out.results.values() if isinstance(r, ModuleFacts)], KNOWLEDGE
                )
                relevant = reaching_functions(project)
                names = caller_needles(project, relevant)
                if not self.config.prefilter:
                    break
                new_names = names - searched
                searched = names
                # the workers match the new names while this process finds the callees
                asked = self._ask_workers(new_names) if new_names else None
                modules, functions = callee_modules(project, relevant)
                wanted = {by_module[m] for m in modules if m in by_module}
                wanted.update(by_module[m] for m in imported_tests(project, self.tests, test_imports))
                wanted.update(self._refresh(project, names, new_names, functions, by_module))
                if new_names:
                    wanted.update(self._matching(new_names, asked))
                pending = sorted((f for f in wanted if f not in out.results), key=lambda f: f.display)
        self.monitor.count("files parsed", out.parsed)
        self.monitor.count("files from the cache", out.from_cache)
        self.monitor.count("files never parsed", len(self.files) - len(out.results))
        first_matched = set(phase_one)  # read once already: no second read to ask again
        for file, result in out.results.items():
            if not isinstance(result, FileError):
                continue
            if file.module in self.tests and file not in self.words:
                self._read_late(file)
            unjudged = result.kind in UNJUDGED and file not in self.words
            if unjudged or file in first_matched or self._matches(file, names):
                out.errors.append(result)
            elif result.kind in SKIPPABLE:
                out.skipped[result.kind] += 1
        never_parsed = sum(1 for f in self.oversized if f not in out.results)
        if never_parsed:
            out.skipped["too-large"] += never_parsed
        for kind, count in sorted(out.skipped.items()):
            self.monitor.count(f"skipped: {kind}", count)
        return out

    def _refresh(
        self,
        project: Project,
        names: CallerNeedles,
        new_names: CallerNeedles,
        functions: set[str],
        by_module: dict[str, SourceFile],
    ) -> list[SourceFile]:
        """Parsed files to extract again, for the functions their facts skipped that a
        round now asks for: a session reaches them, or they name a relevant function. The
        skipped functions of facts the last round looked at already are matched against
        the names new since then only (the others found nothing in them)."""
        again = []
        for module, facts in project.modules.items():
            if not facts.skipped or module not in by_module:
                continue
            seen = self._looked_at.get(module)
            if seen is not None and seen[0] is facts:
                against, every = new_names, seen[1]
            else:
                against = names
                every = tuple({word for _, words in facts.skipped for word in words})
                self._looked_at[module] = (facts, every)
            # some function's words may hold a name: none does when all of them together do not
            by_name = bool(against) and against.match_names(every)
            if not by_name and not functions:
                continue  # nothing new to look for in this module
            asked = {
                qualname
                for qualname, words in facts.skipped
                if qualname in functions or (by_name and against.match_names(words))
            }
            file = by_module[module]
            known = self.force.get(file, frozenset())
            if asked - known:
                self.force[file] = known | asked
                del self.out.results[file]
                again.append(file)
        return again

    def _hash_all(self, out: Extracted) -> list[SourceFile]:
        """Every file's hash (for the cache) and whether phase 1 wants it. A file whose
        signature (device, inode, size, modification and change times) is the one the
        cache's index recorded is not read again."""
        index = FileIndex.load(self.cache, self._index_key()) if self.cache else FileIndex()
        wanted = []
        unread: list[tuple[SourceFile, Signature | None]] = []
        for file in self.files:
            signature = signature_of(file.path)
            self.sizes[file] = signature[2] if signature else 0
            if file.module in self.tests:
                # test code is read only when code that can matter imports it (`_run`); its
                # signature stands for its bytes in the keys (a touched file is read again)
                out.hashes[file] = f"unread {signature}" if self.cache and signature else ""
                if signature and signature[2] > self.config.max_file_bytes:
                    self.oversized.add(file)
                continue
            known = index.get(file.display, signature)
            if known is None:
                unread.append((file, signature))
                continue
            out.hashes[file], matched = known
            if matched:
                wanted.append(file)
        phase = read_all(
            self._reader(), [f for f, _ in unread], [self.sizes[f] for f, _ in unread], self.jobs
        )
        reads, self._forked = phase.reads, phase.workers
        self._held = {unread[place][0]: place for place in phase.by_workers} if phase.workers else {}
        if phase.in_workers:
            self.monitor.count("files read by workers", phase.in_workers)
        done = len(self.files) - len(unread)
        for (file, signature), found in zip(unread, reads, strict=True):
            done += 1
            self.monitor.progress("reading", done, len(self.files))
            if isinstance(found, FileError):
                out.hashes[file] = ""
                wanted.append(file)
                continue
            out.hashes[file] = found.content
            if found.words:  # a wanted file may have none (`reading.UNINDEXED`): it is parsed
                self.words[file] = found.words
            if found.matched:
                wanted.append(file)
            if found.oversized:
                self.oversized.add(file)
            if found.extracted is not None:
                self._early[file] = found.extracted
            if signature is not None and self.cache and not found.oversized:
                index.put(file.display, signature, found.content, found.matched)
        position = {file: i for i, file in enumerate(self.files)}
        wanted.sort(key=position.__getitem__)
        if self.cache and index.changed:
            kept = self._kept()
            kept.update((f.display, w.decode("latin-1")) for f, w in self.words.items())
            # a wanted file's words are never looked up: none is kept, not even an older one
            live = {f.display for f in self.files} - {f.display for f in wanted}
            self.cache.put("words", self._index_key(), {d: w for d, w in kept.items() if d in live})
            index.save(self.cache, self._index_key())
        return wanted

    def _reader(self) -> Reader:
        cache = self.cache
        return Reader(
            self.first,
            self.config.max_file_bytes,
            self.config.file_timeout,
            self.options,
            content_hash if cache else unhashed,
            (lambda f, c: cache.contains("facts", self._key(f, c))) if cache else (lambda f, c: False),
            extract=self.config.prefilter and self.jobs > 1,
        )

    def _kept(self) -> dict[str, str]:
        """The word indexes of the last scan (an unchanged tree's scan never needs them)."""
        if self._kept_words is None:
            found = self.cache.get_typed("words", self._index_key(), dict[str, str]) if self.cache else None
            self._kept_words = found or {}
        return self._kept_words

    def _index_key(self) -> str:
        from sessguard.cache import digest, stable

        needles = stable([sorted(self.first.substrings), sorted(self.first.identifiers)])
        return digest("index-words", os.getcwd(), needles, str(self.config.max_file_bytes))

    def _read_late(self, file: SourceFile) -> None:
        """A test module that could not be analysed is judged by its words as any file is:
        phase 1 did not read it, so it is read now (rarely: only when it was parsed)."""
        found = replace(self._reader(), extract=False, index_wanted=True).one(file)
        if not isinstance(found, FileError):
            self.words[file] = found.words

    def _ask_workers(self, names: CallerNeedles) -> HeldMatches | None:
        """Ask the forked workers to match `names` against the indexes they kept of the
        files they read and that are not parsed now (None: no worker holds any)."""
        if self._forked is None or not self._held:
            return None
        skip = frozenset(place for file, place in self._held.items() if file in self.out.results)
        return HeldMatches(self._forked, names, skip)

    def _matching(self, names: CallerNeedles, asked: HeldMatches | None) -> list[SourceFile]:
        """The files not parsed (test code aside) whose index `names` match. Those a forked
        worker read were asked of it (`_ask_workers`), while this process matches the
        others; any a worker does not answer for is matched here."""
        candidates = [f for f in self.files if f not in self.out.results and f.module not in self.tests]
        found = [f for f in candidates if f not in self._held and self._matches(f, names)]
        covered, matched = asked.collect() if asked is not None else (set(), set())
        answered = 0
        for file in candidates:
            place = self._held.get(file)
            if place is None:
                continue
            if place in covered:
                answered += 1
                if place in matched:
                    found.append(file)
            elif self._matches(file, names):
                found.append(file)
        if asked is not None:
            self.monitor.count("indexes matched by workers", answered)
        return found

    def _matches(self, file: SourceFile, needles: CallerNeedles) -> bool:
        """From the file's index: no file is read a second time (an unreadable one, which
        has none, could matter)."""
        words = self.words.get(file)
        if words is None:
            kept = self._kept().get(file.display)
            words = kept.encode("latin-1") if kept is not None else None
        return True if words is None else needles.match_index(words)
