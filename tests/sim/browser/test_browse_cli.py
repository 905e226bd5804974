"""``monilab browse`` refuses bad input with one line and exit status 2 (no browser)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monilab.cli.main import main
from monilab.lab.appprocess import free_port
from sim.targets import DEFAULT_TARGET


def _browse(tmp_path: Path, *extra: str, host: str = "http://127.0.0.1:9") -> list[str]:
    # --chromium points at an existing file, so these checks do not need Chromium
    argv = ["browse", "--host", host, "--out", str(tmp_path / "out"), "--chromium", sys.executable]
    return argv + list(extra)


def _run(argv: list[str]) -> int:
    """The exit status of ``monilab`` (argparse's own errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(
    ("extra", "host", "message"),
    [
        ((), "localhost:8000", "expected a URL"),
        ((), "ftp://127.0.0.1", "expected a URL"),
        (("--agents", "0"), None, "--agents must be at least 1"),
        (("--concurrency", "0"), None, "--concurrency must be at least 1"),
        (("--max-spendings", "-1"), None, "--max-spendings"),
        (("--timeout-s", "0"), None, "--timeout-s must be at least 0.1"),
        (("--agents", "x"), None, "invalid int value"),
    ],
)
def test_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple, host: str | None, message: str
) -> None:
    assert _run(_browse(tmp_path, *extra, **({"host": host} if host else {}))) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unreachable_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(_browse(tmp_path, host=host)) == 2
    err = capsys.readouterr().err.strip()
    assert "is not reachable" in err and host in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _browse(tmp_path)
    argv[argv.index("--chromium") + 1] = str(tmp_path / "no-chromium")
    assert main(argv) == 2
    assert "no Chromium at" in capsys.readouterr().err


def test_a_target_without_journeys_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moni = DEFAULT_TARGET.read_text(encoding="utf-8")
    bare = tmp_path / "http-only.toml"
    bare.write_text(moni[: moni.index("[browser]")], encoding="utf-8")
    assert main(_browse(tmp_path, "--target", str(bare))) == 2
    err = capsys.readouterr().err.strip()
    assert f"target {bare} declares no browser journeys" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before the health check and the outputs


def test_a_broken_target_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(DEFAULT_TARGET.read_text(encoding="utf-8") + "\n[journeys.nope]\n")
    assert main(_browse(tmp_path, "--target", str(broken))) == 2
    err = capsys.readouterr().err.strip()
    assert "journeys.nope: unknown action" in err and len(err.splitlines()) == 1
