"""``monilab serve`` and ``monilab export``: arguments, one-line errors, a CLI export."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monilab.cli import main as cli
from monilab.contracts.datasets import read_dataset


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monilab", *args], capture_output=True, text=True, check=False
    )


def test_serve_and_export_are_registered(capsys):
    for command in ("serve", "export"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: monilab {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "0"],
        ["--port", "70000"],
        ["--port", "http"],
        ["--workers", "0"],
        ["--threads", "-1"],
    ],
)
def test_serve_rejects_bad_arguments_in_one_line(args):
    result = run_cli("serve", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_serve_rejects_a_file_as_data_dir(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    assert cli.main(["serve", "--data-dir", str(target)]) == 2


def test_export_without_a_database_is_one_line(tmp_path):
    result = run_cli("export", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no app database" in line


def test_export_from_a_data_dir(tmp_path, capsys):
    from target_app import create_app

    data = tmp_path / "data"
    app = create_app(
        {
            "SECRET_KEY": "k",
            "MONILAB_DATA_DIR": str(data),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        }
    )
    client = app.test_client()
    client.post(
        "/api/v1/auth/signup",
        json={"email": "cli@example.com", "password": "password-1", "name": "cli"},
    )
    app.extensions["monilab"].db.dispose()
    out = tmp_path / "out"
    assert cli.main(["export", "--out", str(out), "--data-dir", str(data)]) == 0
    assert "users 1" in capsys.readouterr().out
    dataset = read_dataset(out)
    assert dataset.rows("users") == 1 and dataset.rows("events") == 1
    assert cli.main(["export", "--out", str(out), "--data-dir", str(data)]) == 2  # not empty
    assert cli.main(["export", "--out", str(out), "--data-dir", str(data), "--overwrite"]) == 0
