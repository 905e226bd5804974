"""The CLI frame: discovery, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

from monilab.cli import main as cli


def test_help_lists_commands(capsys):
    parser = cli.build_parser()
    assert parser.prog == "monilab"
    assert cli.main([]) == 2
    assert "usage: monilab" in capsys.readouterr().out


def test_unknown_command_is_one_line_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "monilab", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "invalid choice" in lines[0]
    assert "Traceback" not in result.stderr
