"""Plain-text rendering of a battery run: the facts table and the ``--check`` verdict."""

from __future__ import annotations

from collections.abc import Sequence

from calibration.facts.runner import NOT_APPLICABLE, FactResult

HEADER = ("fact", "value", "band", "verdict", "source")


def format_value(value: float | None) -> str:
    """Three significant digits below 10, one decimal above (``n/a`` for None)."""
    if value is None:
        return NOT_APPLICABLE
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def format_band(result: FactResult) -> str:
    """``low – high unit``, e.g. ``1.5 – 6 var/mean``."""
    band = result.band
    return f"{band.low:g} – {band.high:g} {band.unit}"


def _verdict(result: FactResult) -> str:
    if result.verdict != NOT_APPLICABLE:
        return result.verdict
    return "n/a (optional)" if result.band.optional else "n/a (required)"


def format_facts(results: Sequence[FactResult]) -> str:
    """The facts table, then one line per fact: what it was computed over, or why n/a."""
    rows = [HEADER] + [
        (r.name, format_value(r.value), format_band(r), _verdict(r), r.band.cite) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in [*widths, len(HEADER[-1])]))
    lines.append("")
    for r in results:
        extra = f"; {r.detail}" if r.detail else ""
        lines.append(f"  {r.name}: {r.reason}{extra}")
    counts = {v: sum(1 for r in results if _verdict(r) == v) for v in ("in", "out")}
    optional = sum(1 for r in results if r.verdict == NOT_APPLICABLE and r.band.optional)
    required = sum(1 for r in results if r.verdict == NOT_APPLICABLE and not r.band.optional)
    lines.append(
        f"\n{counts['in']} in band, {counts['out']} out of band, {required} n/a (required), "
        f"{optional} n/a (optional); bands and sources: calibration/facts/bands.toml, "
        "docs/realism.md"
    )
    return "\n".join(lines)


def failure_lines(results: Sequence[FactResult]) -> list[str]:
    """One line per fact that fails ``--check`` (out of band, or required and n/a)."""
    lines = []
    for r in results:
        if not r.fails_check:
            continue
        if r.verdict == NOT_APPLICABLE:
            lines.append(f"{r.name}: n/a and required ({r.reason})")
        else:
            side = "below" if r.value is not None and r.value < r.band.low else "above"
            lines.append(
                f"{r.name}: {format_value(r.value)} is {side} the band {format_band(r)} "
                f"({r.band.cite})"
            )
    return lines
