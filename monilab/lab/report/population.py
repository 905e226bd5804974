"""The population page: who the synthetic users are and how they spend.

Aggregates are built part by part (a user's rows never span shards), so the page costs
little memory however large the dataset is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from monilab.contracts.datasets import read_dataset
from monilab.lab.report.charts import bar_plot, box_plot, line_plot
from monilab.lab.report.figures import Chart
from monilab.lab.report.render import Code, Section, Table, write_page

NOT_SPENDING = ("savings", "investment")
"""Outflows that move money rather than spend it."""

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class PopulationSummary:
    """Aggregates of a population dataset."""

    users: pd.DataFrame  # one row per user: user_id, persona, spending_type
    user_month_spend: pd.DataFrame  # user_id, month, spend
    category_spend: pd.Series  # KRW per category
    hour_counts: pd.DataFrame  # spending_type × hour
    weekday_counts: pd.DataFrame  # spending_type × weekday
    anomalies: pd.Series  # rows per anomaly kind
    transactions: int


def summarize_population(directory: str | Path) -> PopulationSummary:
    """Aggregate the users and transactions of a dataset made by ``monilab generate``."""
    dataset = read_dataset(directory)
    users = dataset.frame("users", columns=["user_id", "persona", "spending_type"])
    type_of = users.set_index("user_id")["spending_type"]
    months, categories, hours, weekdays, anomalies = [], [], [], [], []
    rows = 0
    columns = ["user_id", "ts", "amount", "category", "direction", "anomaly_kind"]
    for part in dataset.iter_batches("transactions", columns=columns):
        tx = part.to_pandas()
        rows += len(tx)
        anomalies.append(tx["anomaly_kind"].value_counts())
        spend = tx[(tx["direction"] == "out") & ~tx["category"].isin(NOT_SPENDING)]
        ts = spend["ts"]
        months.append(
            spend.groupby([spend["user_id"], ts.dt.strftime("%Y-%m").rename("month")])["amount"]
            .sum()
            .rename("spend")
        )
        categories.append(spend.groupby("category")["amount"].sum())
        kind = spend["user_id"].map(type_of).rename("spending_type")
        hours.append(spend.groupby([kind, ts.dt.hour.rename("hour")]).size())
        weekdays.append(spend.groupby([kind, ts.dt.weekday.rename("weekday")]).size())

    def total(parts: list[pd.Series]) -> pd.Series:
        return pd.concat(parts).groupby(level=list(range(parts[0].index.nlevels))).sum()

    if not months:
        raise ValueError(f"{directory}: the population has no spending transactions")
    return PopulationSummary(
        users=users,
        user_month_spend=total(months).reset_index(),
        category_spend=total(categories).sort_values(ascending=False),
        hour_counts=total(hours).unstack(fill_value=0).reindex(columns=range(24), fill_value=0),
        weekday_counts=total(weekdays)
        .unstack(fill_value=0)
        .reindex(columns=range(7), fill_value=0),
        anomalies=total(anomalies) if any(len(a) for a in anomalies) else pd.Series(dtype=int),
        transactions=rows,
    )


def population_plots(summary: PopulationSummary, img: Path) -> list[Chart]:
    """Spend per persona, category shares, hour and weekday profiles."""
    spend = summary.user_month_spend.merge(summary.users, on="user_id")
    per_user = spend.groupby(["persona", "user_id"])["spend"].median().reset_index()
    groups = {
        str(persona): (frame["spend"] / 10_000).tolist()
        for persona, frame in per_user.groupby("persona")
    }
    shares = summary.category_spend / summary.category_spend.sum() * 100

    def profile(counts: pd.DataFrame) -> dict[str, list[float]]:
        share = counts.div(counts.sum(axis=1), axis=0) * 100
        return {str(kind): share.loc[kind].tolist() for kind in share.index}

    return [
        box_plot(
            img / "population_spend_per_persona.png",
            groups,
            title="Monthly spend per user, by persona (median month)",
            xlabel="10,000 KRW per month",
        ),
        bar_plot(
            img / "population_category_shares.png",
            [str(c) for c in shares.index],
            shares.tolist(),
            title="Category shares of spending",
            xlabel="% of spend (KRW)",
        ),
        line_plot(
            img / "population_hour_profile.png",
            list(range(24)),
            profile(summary.hour_counts),
            title="Hour-of-day profile of payments, by spending type",
            xlabel="hour",
            ylabel="% of the type's payments",
        ),
        line_plot(
            img / "population_weekday_profile.png",
            list(range(7)),
            profile(summary.weekday_counts),
            title="Weekday profile of payments, by spending type",
            xlabel="weekday",
            ylabel="% of the type's payments",
            xticks=WEEKDAYS,
        ),
    ]


def write_population_page(directory: Path, page_path: Path) -> Path:
    """Write the population page (and its plots in ``img/`` beside it)."""
    summary = summarize_population(directory)
    plots = population_plots(summary, page_path.parent / "img")
    spend = summary.user_month_spend.merge(summary.users, on="user_id")
    personas = (
        summary.users.groupby(["persona", "spending_type"])
        .size()
        .rename("users")
        .reset_index()
        .merge(
            spend.groupby("persona")["spend"].median().rename("median_month_spend_krw"),
            on="persona",
        )
    )
    anomalies = [{"kind": k, "rows": int(v)} for k, v in summary.anomalies.items()]
    return write_page(
        page_path,
        "population.html",
        title="Population",
        users=len(summary.users),
        transactions=summary.transactions,
        dataset=Code(str(directory)),
        charts=plots,
        personas=Table(
            ["persona", "spending_type", "users", "median_month_spend_krw"],
            [{str(k): v for k, v in row.items()} for row in personas.to_dict("records")],
            testid="personas",
        ),
        anomalies=Table(["kind", "rows"], anomalies, testid="anomalies"),
        facts=stylized_facts_section(directory),
    )


def stylized_facts_section(directory: Path) -> Section:
    """The realism battery's table (``monilab describe DIR --facts``) as a page section."""
    from calibration.facts import run_facts
    from calibration.facts.report import format_band, format_value

    results = run_facts(directory)
    rows = [
        {
            "fact": r.name,
            "value": format_value(r.value),
            "band": format_band(r),
            "verdict": r.verdict,
            "source": r.source,
            "computed over": r.reason,
        }
        for r in results
    ]
    inside = sum(r.verdict == "in" for r in results)
    return Section(
        "Stylized facts (realism)",
        before=[
            (
                f"{inside} of {len(results)} facts inside their reference bands; bands and "
                "sources in ",
                Code("calibration/facts/bands.toml"),
                " and ",
                Code("docs/realism.md"),
                ".",
            )
        ],
        tables=[Table(list(rows[0]), rows, testid="stylized-facts")],
    )
