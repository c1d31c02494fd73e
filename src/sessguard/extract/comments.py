"""Suppression comments (`# sessguard: ignore[...]`, `# nosec`) of a parsed file."""

from __future__ import annotations

import io
import tokenize


def suppression_comments(text: str) -> tuple[tuple[int, str], ...]:
    """Comments that mention sessguard or nosec, found by the tokenizer (never in strings).
    The tokenizer runs only when a mention has a `#` before it on its line: a comment
    never spans lines, so any other mention is in code or a string."""
    if not any(_after_hash(text, word) for word in ("sessguard", "nosec")):
        return ()
    found: list[tuple[int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and ("sessguard" in token.string or "nosec" in token.string):
                found.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return tuple(found)
    return tuple(found)


def _after_hash(text: str, word: str) -> bool:
    """Whether some mention of `word` follows a `#` on its own line."""
    at = text.find(word)
    while at >= 0:
        if text.rfind("#", text.rfind("\n", 0, at) + 1, at) >= 0:
            return True
        at = text.find(word, at + 1)
    return False
