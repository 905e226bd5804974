"""``monilab target``: work on a target file (``docs/targets.md``).

``check`` tries a target file on a running app, action by action; ``init`` drafts one from
the app's OpenAPI 3 document (:mod:`sim.targets.openapi`), every decision marked
``# GUESS:``, and proves the draft loads before it is written or printed.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import option, parse_base_url
from monilab.lab.commands import Command

WHAT = ("check", "init")


@dataclass(frozen=True)
class TargetOptions:
    """Which target, on which app; or which OpenAPI document to draft one from."""

    what: str = option(
        required=True,
        flag="",
        choices=WHAT,
        help="check: try every action once; init: draft a target file from an OpenAPI document",
    )
    target: str | None = option(None, metavar="FILE", help="check: the target file")
    host: str | None = option(None, parse=parse_base_url, help="check: base URL of the app")
    run_id: str | None = option(None, help="check: X-Run-Id (default: derived from time)")
    seed: int = option(7, low=0, help="check: seed of the population of the sample actions")
    openapi: str | None = option(
        None, metavar="URL|FILE", help="init: the app's OpenAPI 3 document (JSON, or YAML)"
    )
    out: Path | None = option(None, metavar="FILE", help="init: write the draft there")
    overwrite: bool = option(False, help="init: replace an existing --out file")


def run(options: TargetOptions) -> list[Any] | str:
    """check: the results, one per action (:mod:`sim.targets.check`); init: the draft."""
    if options.what == "init":
        return _init(options)
    if not options.target or not options.host:
        raise MonilabError("target check needs --target and --host")
    return _check(options, options.target, options.host)


def _check(options: TargetOptions, target: str, host: str) -> list[Any]:
    from sim import targets
    from sim.health import check_healthz
    from sim.targets.check import check_target
    from sim.targets.spec import TargetSpec

    spec = targets.load(target)
    if not isinstance(spec, TargetSpec):
        raise MonilabError(f"--target {target}: target check needs a target file")
    if spec.health:
        check_healthz(host, spec.health)
    run_id = options.run_id or time.strftime("check-%Y%m%d-%H%M%S")
    return check_target(spec, host, run_id, options.seed)


def _init(options: TargetOptions) -> str:
    """The draft, checked by ``load_target`` and written to ``--out`` when given."""
    from sim.targets.openapi import draft_target, read_openapi

    if not options.openapi:
        raise MonilabError("target init needs --openapi")
    if options.out is not None and options.out.exists() and not options.overwrite:
        raise MonilabError(f"--out {options.out} exists (add --overwrite to replace it)")
    text = draft_target(read_openapi(options.openapi), options.openapi)
    _prove_it_loads(text)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(text, encoding="utf-8")
    return text


def _prove_it_loads(text: str) -> None:
    """MonilabError when ``load_target`` refuses the draft: a bug of the drafting."""
    from sim.targets.spec import load_target

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "draft.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_target(path)
        except MonilabError as exc:
            problem = str(exc).removeprefix(f"target {path}: ")
            raise MonilabError(
                f"bug: the drafted target file does not load ({problem}); please report it"
            ) from None


def report(options: TargetOptions, result: list[Any] | str) -> str:
    """check: a line per action and the verdict; init: the draft, or where it went."""
    if isinstance(result, str):
        if options.out is None:
            return result.rstrip("\n")
        guesses = sum(line.startswith("# GUESS:") for line in result.splitlines())
        skipped = len(tomllib.loads(result).get("skip", []))
        return (
            f"monilab target init: wrote {options.out}: {guesses} guesses to check, "
            f"{skipped} actions skipped; "
            f"then try it: monilab target check --target {options.out} --host URL"
        )
    from sim.targets.check import report_lines

    failed = [r.action for r in result if not r.ok]
    verdict = f"FAILED: {', '.join(failed)}" if failed else "every declared action works"
    return "\n".join([*report_lines(result), f"monilab target check {options.target}: {verdict}"])


def status(result: list[Any] | str) -> int:
    """1 when a checked action failed; 0 for a draft."""
    if isinstance(result, str):
        return 0
    return 0 if all(r.ok for r in result) else 1


COMMAND = Command(
    name="target",
    help="check a target file against a running app, or draft one from an OpenAPI document",
    description=(
        "target check --target FILE --host URL: one agent signs up and carries out every "
        "action the target file declares once (real payloads from a small bundled "
        "population), then its writes are read back; prints a line per action: ok, or the "
        "request and the start of the answer. target init --openapi URL|FILE [--out FILE]: "
        "drafts a target file from the app's OpenAPI 3 document, every decision marked "
        "'# GUESS:' to check before use."
    ),
    options=TargetOptions,
    run=run,
    report=report,
    status=status,
)
