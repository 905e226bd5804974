"""Summaries of a generated dataset, computed part by part (bounded memory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monilab.contracts.datasets import Dataset, read_dataset
from monilab.contracts.vocabulary import ANOMALY_KINDS

NOT_SPENDING = ("savings", "investment")
"""Outgoing categories that move money rather than spend it."""


@dataclass(frozen=True)
class DatasetSummary:
    """What ``monilab describe`` shows.

    Attributes:
        dataset: The opened dataset (manifest included).
        personas: Users per persona with type and style.
        categories: Rows, amount and mean ticket per category and direction.
        spend: Outgoing spending per user-month (savings/investment excluded) by persona.
        anomalies: Anomalous rows per kind.
    """

    dataset: Dataset
    personas: pd.DataFrame
    categories: pd.DataFrame
    spend: pd.DataFrame
    anomalies: pd.DataFrame


def summarize(directory: str | Path) -> DatasetSummary:
    """Summarise a dataset written by ``monilab generate``."""
    ds = read_dataset(directory)
    users = ds.table("users", ["user_id", "persona", "spending_type", "style"]).to_pandas()
    personas = (
        users.groupby(["persona", "spending_type", "style"], sort=False)
        .size()
        .rename("users")
        .reset_index()
    )
    personas["share"] = personas.users / max(len(users), 1)
    persona_of = pd.Series(users.persona.to_numpy(), index=users.user_id.to_numpy())

    categories: list[pd.DataFrame] = []
    kinds: list[pd.DataFrame] = []
    spend_parts: list[pd.DataFrame] = []
    columns = ["user_id", "ts", "amount", "category", "direction", "anomaly_kind"]
    for part in ds.iter_batches("transactions", columns):
        categories.append(
            part.group_by(["category", "direction"])
            .aggregate([("amount", "count"), ("amount", "sum")])
            .to_pandas()
        )
        kinds.append(part.group_by("anomaly_kind").aggregate([("amount", "count")]).to_pandas())
        spend_parts.append(_user_month_spend(part))

    cat = (
        pd.concat(categories)
        if categories
        else pd.DataFrame(columns=["category", "direction", "amount_count", "amount_sum"])
    )
    cat = cat.groupby(["category", "direction"], as_index=False)[
        ["amount_count", "amount_sum"]
    ].sum()
    cat = cat.rename(columns={"amount_count": "rows", "amount_sum": "amount"})
    cat["share"] = cat.rows / max(int(cat.rows.sum()), 1)
    cat["mean_ticket"] = cat.amount / cat.rows.clip(lower=1)
    cat = cat.sort_values("rows", ascending=False, ignore_index=True)

    kind_counts = (
        pd.concat(kinds) if kinds else pd.DataFrame(columns=["anomaly_kind", "amount_count"])
    )
    per_kind = kind_counts.dropna().groupby("anomaly_kind")["amount_count"].sum()
    anomalies = per_kind.reindex(list(ANOMALY_KINDS), fill_value=0).rename("rows").reset_index()
    total_rows = max(int(cat.rows.sum()), 1)
    anomalies["share"] = anomalies.rows / total_rows

    spend = pd.concat(spend_parts) if spend_parts else pd.DataFrame(columns=["user_id", "amount"])
    spend["persona"] = spend.user_id.map(persona_of)
    return DatasetSummary(ds, personas, cat, _spend_stats(spend), anomalies)


def _user_month_spend(part: pa.Table) -> pd.DataFrame:
    """Outgoing spending per (user, month) of one part (users never span parts)."""
    out = pc.and_(
        pc.equal(part["direction"], "out"),
        pc.invert(pc.is_in(part["category"], pa.array(NOT_SPENDING))),
    )
    part = part.filter(out)
    month = pc.strftime(part["ts"], format="%Y-%m")
    table = pa.table({"user_id": part["user_id"], "month": month, "amount": part["amount"]})
    grouped = table.group_by(["user_id", "month"]).aggregate([("amount", "sum")])
    return pd.DataFrame(
        {
            "user_id": grouped["user_id"].to_numpy(),
            "amount": grouped["amount_sum"].to_numpy().astype(np.float64),
        }
    )


def _spend_stats(spend: pd.DataFrame) -> pd.DataFrame:
    def stats(values: pd.Series) -> pd.Series:
        return pd.Series(
            {
                "user_months": len(values),
                "mean": values.mean(),
                "p10": values.quantile(0.1),
                "median": values.median(),
                "p90": values.quantile(0.9),
            }
        )

    rows = [stats(group.amount).rename(name) for name, group in spend.groupby("persona")]
    rows.append(stats(spend.amount).rename("all"))
    return pd.DataFrame(rows).rename_axis("persona").reset_index()


def format_table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A plain aligned text table (numbers right-aligned, with thousands separators)."""
    formats = formats or {}
    header = [str(c) for c in frame.columns]
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            fmt = formats.get(column)
            if fmt:
                cells.append(format(value, fmt))
            elif isinstance(value, float | np.floating):
                cells.append(f"{value:,.0f}")
            elif isinstance(value, int | np.integer):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        body.append(cells)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    widths = [max(_width(x) for x in [h, *(r[i] for r in body)]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            _pad(cell, width, right)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in body)])


def _width(text: str) -> int:
    """Display width: Hangul and other wide characters take two columns."""
    return sum(2 if "\u1100" <= ch <= "\uffdc" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space
