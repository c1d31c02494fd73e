"""Output formats: one module each, all with `render(report, options) -> str`."""

from __future__ import annotations

import msgspec


class RenderOptions(msgspec.Struct, frozen=True):
    color: bool = False
    show_suppressed: bool = False


PLAIN = RenderOptions()
