"""SHA-256 of the short texts a report hashes (fingerprints, statement hashes).

Importing `hashlib` loads the OpenSSL binding, about 2 ms of a small project's scan. The
interpreter's own SHA-256 module gives the same digests and is quick on short texts; file
contents (the cache) keep `hashlib`, several times faster per byte. Where the built-in
module is missing (another interpreter, a build without it), `hashlib` serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["sha256", "sha256_hex"]

if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:  # Python 3.12 and later
        from _sha2 import sha256
    except ImportError:
        try:  # Python 3.10 and 3.11
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256


def sha256_hex(text: str) -> str:
    return sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
