"""Read and validate aggregate-target files (``statistic,filter,key,value[,weight,source]``)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd

from calibration.paths import bundled_targets
from calibration.targets.vocabulary import (
    check_bands_disjoint,
    check_key,
    is_share,
    parse_filter,
)
from monilab.contracts.errors import MonilabError

REQUIRED_COLUMNS: tuple[str, ...] = ("statistic", "filter", "key", "value")
OPTIONAL_COLUMNS: tuple[str, ...] = ("weight", "source")
TARGET_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "line")
SHARE_SUM_TOLERANCE = 0.02
"""How far the listed shares of one statistic and filter may sum from 1 (published rounding)."""


def load_targets(path: str | Path) -> pd.DataFrame:
    """Read a target file; see :func:`parse_targets` for the result and the checks."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MonilabError(f"cannot read targets {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MonilabError(f"targets {path}: not a UTF-8 text (CSV) file") from None
    return parse_targets(text, name=str(path))


def default_targets() -> pd.DataFrame:
    """The bundled default target set: Seoul 2024 coffee/drink card sales."""
    return load_targets(bundled_targets("seoul_coffee_2024"))


def split_targets(
    targets: pd.DataFrame, validate_statistics: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a target set into fit and validation sets by statistic (whole groups).

    Raises:
        MonilabError: A named statistic is not in the set, or nothing would be left to fit.
    """
    unknown = set(validate_statistics) - set(targets["statistic"])
    if unknown:
        raise MonilabError(f"no targets for statistic {sorted(unknown)[0]!r} to validate on")
    held = targets["statistic"].isin(validate_statistics)
    if held.all():
        raise MonilabError("the validation split leaves no targets to fit")
    return targets.loc[~held].reset_index(drop=True), targets.loc[held].reset_index(drop=True)


def parse_targets(text: str, *, name: str = "<targets>") -> pd.DataFrame:
    """Parse and validate aggregate targets.

    Checks every line (known statistic, valid key for it, filter fields and values, numeric
    value, shares in [0, 1], non-negative weight) and every statistic+filter group (no
    duplicate key, no overlapping bands, shares summing to 1 within
    :data:`SHARE_SUM_TOLERANCE`). The first problem is raised as one :class:`MonilabError`
    naming the file and line.

    Args:
        text: The CSV text, header first.
        name: File name used in error messages.

    Returns:
        One row per target with columns ``statistic``, ``filter`` (canonical form), ``key``,
        ``value``, ``weight`` (default 1.0), ``source`` (default empty) and ``line``.
    """
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    _check_header(header, name)
    rows = []
    for cells in reader:
        line_no = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise MonilabError(
                f"{name} line {line_no}: {len(cells)} cells, header has {len(header)}"
            )
        record = dict(zip(header, (c.strip() for c in cells), strict=True))
        try:
            rows.append(_parse_row(record) | {"line": line_no})
        except ValueError as exc:
            raise MonilabError(f"{name} line {line_no}: {exc}") from None
    if not rows:
        raise MonilabError(f"{name}: no targets")
    frame = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
    _check_groups(frame, name)
    return frame


def _check_header(header: list[str], name: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise MonilabError(f"{name} line 1: missing column {missing[0]!r}")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise MonilabError(f"{name} line 1: unknown column {unknown[0]!r}")
    if len(set(header)) != len(header):
        raise MonilabError(f"{name} line 1: a column is named twice")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not finite")
    return value


def _parse_row(record: dict[str, str]) -> dict[str, object]:
    statistic, key = record["statistic"], record["key"]
    check_key(statistic, key)
    row_filter = parse_filter(record["filter"])
    value = _number(record["value"], "value")
    if is_share(statistic) and not 0.0 <= value <= 1.0:
        raise ValueError(f"share value {value:g} is outside [0, 1]")
    if not is_share(statistic) and value <= 0:
        raise ValueError(f"{statistic} value must be > 0, got {value:g}")
    weight = _number(record.get("weight") or "1", "weight")
    if weight < 0:
        raise ValueError(f"weight {weight:g} is negative")
    return {
        "statistic": statistic,
        "filter": str(row_filter),
        "key": key,
        "value": value,
        "weight": weight,
        "source": record.get("source", ""),
    }


def _check_groups(frame: pd.DataFrame, name: str) -> None:
    duplicated = frame.duplicated(["statistic", "filter", "key"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise MonilabError(
            f"{name} line {row['line']}: {row['statistic']} [{row['filter']}] key "
            f"{row['key']!r} is listed twice"
        )
    for (statistic, _), group in frame.groupby(["statistic", "filter"], sort=False):
        first = int(group["line"].min())
        try:
            check_bands_disjoint(str(statistic), group["key"].tolist())
        except ValueError as exc:
            raise MonilabError(f"{name} line {first}: {exc}") from None
        total = float(group["value"].sum())
        if is_share(str(statistic)) and abs(total - 1.0) > SHARE_SUM_TOLERANCE:
            raise MonilabError(
                f"{name} line {first}: the {statistic} shares of this filter sum to {total:.3f}, "
                f"not 1 (shares are over the listed keys)"
            )
