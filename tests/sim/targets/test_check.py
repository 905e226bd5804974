"""``monilab target check`` on the real Moni app: every declared action once, then a broken
target that names the failing request and the start of the answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monilab.lab.appprocess import AppProcess
from sim import targets

pytestmark = pytest.mark.integration


def _check(host: str, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monilab", "target", "check", "--target", str(target),
         "--host", host, "--run-id", "chk"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_check_passes_on_moni_and_names_what_breaks(tmp_path):
    broken = tmp_path / "broken.toml"
    text = targets.DEFAULT_TARGET.read_text(encoding="utf-8")
    broken.write_text(text.replace('path = "/api/v1/type"', 'path = "/api/v1/types"'))
    with AppProcess(tmp_path / "app", workers=1) as app:
        good = _check(app.url, targets.DEFAULT_TARGET)
        bad = _check(app.url, broken)
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert all(line.startswith("ok ") for line in lines[:-1]), good.stdout
    assert {line.split()[1] for line in lines[:-1]} >= set(targets.load(None).actions)
    assert "readback" in good.stdout and lines[-1].endswith("every declared action works")

    assert bad.returncode == 1, bad.stdout + bad.stderr
    failing = [line for line in bad.stdout.splitlines() if line.startswith("FAIL")]
    assert (
        len(failing) == 1 and "view_type" in failing[0] and "GET /api/v1/types -> 404" in failing[0]
    )
    assert "GET /api/v1/types -> 404: {" in bad.stdout  # the start of the answer
