"""The one way a fix declines: the file is left as it is, and the message says why."""

from __future__ import annotations


class Refused(Exception):
    """The file is left as it is; the message says why."""
