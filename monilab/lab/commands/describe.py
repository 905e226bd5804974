"""``monilab describe``: a readable summary of a dataset, and its stylized facts.

``monilab describe DIR`` prints the summary of a generated dataset. ``--facts`` prints the
stylized-facts battery instead (each fact's value, its reference band, the verdict and the
band's source; see ``docs/realism.md``); ``--check`` also exits 1 naming every fact that
fails: outside its band, or not computable when ``bands.toml`` does not mark it optional.
With ``--mapping FILE`` the PATH is microdata (CSV or Parquet) read through that mapping,
like ``monilab calibrate --reference PATH --mapping FILE``; without PATH the mapping's own
file in the shared reference directory is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import option
from monilab.lab.commands import Command

EXIT_CHECK_FAILED = 1


@dataclass(frozen=True)
class DescribeOptions:
    """What to describe, and how."""

    directory: str | None = option(
        None,
        flag="",
        metavar="PATH",
        help="dataset directory (with --mapping: a microdata CSV/Parquet file)",
    )
    facts: bool = option(False, help="print the stylized facts instead of the summary")
    check: bool = option(
        False, help="imply --facts; exit 1 naming every fact outside its band (or required and n/a)"
    )
    mapping: Path | None = option(
        None,
        help="TOML mapping: PATH is microdata read through it (implies --facts; without PATH, "
        "the mapping's file in the reference directory)",
    )
    bands: Path | None = option(None, help="bands file (default: calibration/facts/bands.toml)")

    @property
    def wants_facts(self) -> bool:
        """The facts battery rather than the summary."""
        return self.check or self.facts or self.mapping is not None


@dataclass(frozen=True)
class Description:
    """What ``describe`` found: the printed text and, with ``--check``, the failing facts."""

    text: str
    failures: list[str]


def describe(options: DescribeOptions) -> Description:
    """The summary or the facts (with the failing facts when ``--check``)."""
    if options.wants_facts:
        return _facts(options)
    if options.directory is None:
        raise MonilabError("give a dataset directory")
    return Description(summary_text(options.directory), [])


def _facts(options: DescribeOptions) -> Description:
    from calibration.facts import failure_lines, format_facts, run_facts

    if options.mapping is None and options.directory is None:
        raise MonilabError("give a dataset directory, or --mapping FILE for microdata")
    if options.directory is not None and not Path(options.directory).exists():
        raise MonilabError(f"{options.directory} not found")
    results = run_facts(options.directory, mapping=options.mapping, bands=options.bands)
    what = options.directory or f"the reference file of {options.mapping}"
    text = f"stylized facts of {what}\n{format_facts(results)}"
    failures = failure_lines(results) if options.check else []
    if options.check and not failures:
        text += "\n\ncheck passed: every required fact is in its band"
    return Description(text, failures)


def summary_text(directory: str) -> str:
    """The summary tables of a generated dataset."""
    from sim.agents.summary import format_table, summarize

    summary = summarize(directory)
    manifest = summary.dataset.manifest
    rows = {name: summary.dataset.rows(name) for name in summary.dataset.tables}
    lines = [
        f"dataset {directory}",
        f"  seed {manifest.get('seed')}, {manifest.get('users', '?')} users × "
        f"{manifest.get('days', '?')} days from {manifest.get('start', '?')}, "
        f"anomaly rate {manifest.get('anomaly_rate', '?')}",
        "  rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()),
    ]
    sections = [
        ("Users per persona", summary.personas, {"share": ".1%"}),
        ("Rows per category", summary.categories, {"share": ".1%"}),
        (
            "Outgoing spending per user-month, KRW (savings/investment excluded)",
            summary.spend,
            {"user_months": ",.0f"},
        ),
        ("Anomalies", summary.anomalies, {"share": ".2%"}),
    ]
    for title, frame, formats in sections:
        lines += ["", title, format_table(frame, formats)]
    return "\n".join(lines)


def problems(options: DescribeOptions, result: Description) -> str:
    """The failing facts of ``--check``, one per line."""
    if not result.failures:
        return ""
    lines = [f"\ncheck failed: {len(result.failures)} facts"]
    return "\n".join(lines + [f"  {line}" for line in result.failures])


def _report(options: DescribeOptions, result: Description) -> str:
    return result.text


def _status(result: Description) -> int:
    return EXIT_CHECK_FAILED if result.failures else 0


COMMAND = Command(
    name="describe",
    help="summarise a dataset, or measure its stylized facts against reference bands",
    description="Users per persona, rows per category, spending per user-month and "
    "anomaly counts of a dataset written by `monilab generate`; or, with --facts, the "
    "stylized-facts battery on any dataset in the lab's schema (or on microdata with "
    "--mapping): each fact's value, reference band, verdict and source.",
    options=DescribeOptions,
    run=describe,
    report=_report,
    status=_status,
    problems=problems,
)
