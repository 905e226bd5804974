"""Target files: what is refused before a run (one line each) and how templates render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monilab.contracts.errors import MonilabError
from sim import targets
from sim.targets.spec import ACTIONS, TargetError, load_target
from sim.targets.templates import Template, TemplateError, compile_tree, render_tree

MONI = targets.DEFAULT_TARGET.read_text(encoding="utf-8")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in MONI, old
    path = tmp_path / "target.toml"
    path.write_text(MONI.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_bundled_moni_target_declares_every_action() -> None:
    target = targets.load(None)
    assert set(target.actions) == set(ACTIONS) and not target.skip
    assert target.health == "/healthz" and target.readback is not None
    assert target.action("add_spending").key is not None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[actions.view_type]", "[actions.view_types]", "actions.view_types: unknown action"),
        ('path = "/api/v1/type"\n', 'path = "/api/v1/type"\nmethd = "GET"\n', "methd: unknown key"),
        (
            'amount = "{{ action.amount }}"',
            'amount = "{{ action.amount }"',
            "actions.add_spending.json.amount: ",
        ),
        ('{ json = "/items" }', '{ json = "items" }', "is not a JSON pointer"),
        ('{ json = "/items" }', '{ regex = "no group" }', "needs exactly one (group)"),
        ('path = "/api/v1/assets"', 'name = "x"', "actions.view_assets.path: missing"),
        ('key = "{{ action.client_txn_id }}"\n\n[actions.view_history]', "\n[actions.view_history]",
         "actions.add_spendings.key: missing"),
        ('style = "bearer"', 'style = "oauth"', "session.style: 'oauth' is not one of"),
        ("[actions.view_profile]\npath", "[actions.view_profilex]\npath", "unknown action"),
        ('method = "POST"\npath = "/api/v1/goals"', 'method = "FETCH"\npath = "/api/v1/goals"',
         "actions.set_goal.method: 'FETCH'"),
    ],
)  # fmt: skip
def test_a_broken_target_is_refused_in_one_line(tmp_path, old, new, message) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(TargetError) as caught:
        load_target(path)
    text = str(caught.value)
    assert text.startswith(f"target {path}: ") and message in text and "\n" not in text


def test_an_undeclared_action_must_be_skipped(tmp_path) -> None:
    start = MONI.index("[actions.view_type]")
    end = MONI.index("[actions.view_assets]")
    path = tmp_path / "t.toml"
    path.write_text(MONI[:start] + MONI[end:], encoding="utf-8")
    with pytest.raises(TargetError, match=r"actions.view_type: not declared"):
        load_target(path)
    path.write_text('skip = ["view_type"]\n' + MONI[:start] + MONI[end:], encoding="utf-8")
    assert load_target(path).action("view_type") is None
    path.write_text('skip = ["login"]\n' + MONI, encoding="utf-8")
    with pytest.raises(TargetError, match="login cannot be skipped"):
        load_target(path)


def test_one_expression_keeps_its_type_and_missing_values_drop_out() -> None:
    body = {"amount": "{{ action.amount }}", "memo": "{{ action.memo }}"}
    tree = compile_tree({**body, "text": "n={{ action.amount }}"}, "json")
    assert render_tree(tree, {"action": {"amount": 1200}}) == {"amount": 1200, "text": "n=1200"}
    assert render_tree(compile_tree("{{ batch }}", "x"), {"batch": [{"a": 1}]}) == [{"a": 1}]


def test_helpers_and_the_sandbox() -> None:
    assert Template("{{ with_offset(t, '+09:00') }}").render({"t": "2024-03-01 10:00:00"}) == (
        "2024-03-01T10:00:00+09:00"
    )
    assert Template("{{ with_offset(t, '+09:00') }}").render({"t": "2024-03-01T10:00:00Z"}) == (
        "2024-03-01T10:00:00Z"
    )
    assert Template("{{ month_last('2024-02') }}").render({}) == "2024-02-29"
    with pytest.raises(TemplateError, match="SecurityError"):
        Template("{{ x.__class__.__mro__ }}").render({"x": 1})
    with pytest.raises(TemplateError, match=r"UndefinedError|TypeError"):
        Template("{{ action.amount + 1 }}").render({"action": {}})


def test_a_bad_target_on_the_command_line_is_one_line(tmp_path) -> None:
    path = _variant(tmp_path, "[actions.view_type]", "[actions.view_types]")
    done = subprocess.run(
        [sys.executable, "-m", "monilab", "load", "--host", "http://127.0.0.1:9",
         "--target", str(path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr.strip().count("\n") == 0 and "actions.view_types: unknown action" in done.stderr
    )
    missing = subprocess.run(
        [sys.executable, "-m", "monilab", "load", "--host", "http://127.0.0.1:9",
         "--target", "no_such_module:Thing", "--out", str(tmp_path / "out2")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "cannot import no_such_module" in missing.stderr


def test_a_python_class_can_be_the_target(tmp_path, monkeypatch) -> None:
    (tmp_path / "my_flows.py").write_text(
        "class Flows:\n"
        "    health = '/up'\n"
        "    def __init__(self, client, run_id, plan, ledger, **options):\n"
        "        self.plan = plan\n"
        "    def start_session(self):\n"
        "        pass\n"
        "    def perform(self, action):\n"
        "        pass\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = targets.load("my_flows:Flows")
    assert targets.session_factory(cls) is cls and targets.health_path(cls) == "/up"
    assert not targets.can_upload(cls)
    with pytest.raises(MonilabError, match="is not a class with start_session"):
        targets.load("my_flows:Nothing")
