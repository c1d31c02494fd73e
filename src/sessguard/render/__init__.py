"""Output formats: one module each, all with `render(report, options) -> str`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    show_suppressed: bool = False


PLAIN = RenderOptions()
