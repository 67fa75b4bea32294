"""One benchmark figure beside its baseline, and the table they make."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    id: str
    db: str
    what: str
    value: float
    unit: str
    baseline: float | None
    baseline_what: str
    target: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.baseline or self.value is None or math.isnan(self.value):
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def table(figures: list[Figure]) -> str:
    header = ["id", "db", "what", "figure", "baseline (same run)", "ratio", "target", "met"]
    rows = [header]
    for f in figures:
        rows.append(
            [
                f.id,
                f.db,
                f.what,
                f"{number(f.value)} {f.unit}",
                f"{number(f.baseline)} ({f.baseline_what})",
                number(f.ratio),
                f.target,
                {True: "yes", False: "NO", None: "-"}[f.met],
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
