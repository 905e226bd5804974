"""The reference bands of the facts, read from ``bands.toml`` (and only from there)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError, read_toml

BANDS_FILE = Path(__file__).resolve().parent / "bands.toml"
BASES = frozenset({"measured", "literature", "official", "judgment"})
_TEXT_FIELDS = ("title", "unit", "basis", "cite", "source", "meaning")
_SPLIT_TOLERANCE = 1.0


@dataclass(frozen=True)
class Band:
    """One fact's reference band and where it comes from (see ``bands.toml``)."""

    name: str
    title: str
    unit: str
    low: float
    high: float
    optional: bool
    basis: str
    cite: str
    source: str
    meaning: str

    def contains(self, value: float) -> bool:
        """Whether a value lies in the band (inclusive)."""
        return self.low <= value <= self.high


@dataclass(frozen=True)
class ConsumptionMix:
    """Official household consumption mapped onto Moni's categories.

    Attributes:
        source: The statistic's full name.
        groups: Moni category -> group compared with the statistic.
        target: Group -> amount (thousand KRW), summed over the statistic's items.
    """

    source: str
    groups: dict[str, str]
    target: dict[str, float]


@dataclass(frozen=True)
class BandSet:
    """Every fact's band, in file order, and the consumption mix."""

    bands: dict[str, Band]
    mix: ConsumptionMix
    path: Path


def load_bands(path: str | Path | None = None) -> BandSet:
    """Read and validate a bands file (the bundled ``bands.toml`` by default).

    Raises:
        MonilabError: Unreadable file, or a band without its fields, low > high, an
            unknown basis, or a consumption-mix item whose split does not add up.
    """
    path = Path(path) if path is not None else BANDS_FILE
    doc = read_toml(path, "bands")
    try:
        bands = {name: _band(name, spec) for name, spec in doc.get("facts", {}).items()}
        mix = _mix(doc.get("consumption_mix", {}))
    except (KeyError, TypeError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise MonilabError(f"{path}: {message}") from None
    return BandSet(bands, mix, path)


def _band(name: str, spec: Any) -> Band:
    if not isinstance(spec, dict):
        raise ValueError(f"[facts.{name}] must be a table")
    missing = [f for f in (*_TEXT_FIELDS, "low", "high", "optional") if f not in spec]
    if missing:
        raise ValueError(f"[facts.{name}] needs {missing[0]}")
    low, high = float(spec["low"]), float(spec["high"])
    if low > high:
        raise ValueError(f"[facts.{name}] low {low:g} > high {high:g}")
    bases = set(str(spec["basis"]).split("+"))
    if not bases <= BASES:
        unknown = sorted(bases - BASES)[0]
        raise ValueError(f"[facts.{name}] basis {unknown!r} is not one of {sorted(BASES)}")
    if not isinstance(spec["optional"], bool):
        raise ValueError(f"[facts.{name}] optional must be true or false")
    text = {f: str(spec[f]) for f in _TEXT_FIELDS}
    return Band(name=name, low=low, high=high, optional=spec["optional"], **text)


def _mix(spec: dict[str, Any]) -> ConsumptionMix:
    groups = {str(k): str(v) for k, v in spec["groups"].items()}
    target: dict[str, float] = {}
    for item in spec["items"]:
        split = {str(k): float(v) for k, v in item["split"].items()}
        if abs(sum(split.values()) - float(item["amount"])) > _SPLIT_TOLERANCE:
            raise ValueError(f"consumption_mix item {item['coicop']!r}: split != amount")
        unknown = set(split) - set(groups.values())
        if unknown:
            raise ValueError(f"consumption_mix item {item['coicop']!r}: group {unknown.pop()!r}")
        for group, amount in split.items():
            target[group] = target.get(group, 0.0) + amount
    return ConsumptionMix(source=str(spec["source"]), groups=groups, target=target)
