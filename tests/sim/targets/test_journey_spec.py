"""Browser journeys in target files: what is refused (one line each) and what is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import targets
from sim.targets.journeys import STEP_KINDS, BrowserSpec, PageSpec
from sim.targets.spec import TargetError, load_target

MONI = targets.DEFAULT_TARGET.read_text(encoding="utf-8")
LEDGERLY = Path(__file__).parents[3] / "examples" / "ledgerly" / "target.toml"
BROWSER_SIDE = MONI.index("[browser]")


def _with_journeys(tmp_path: Path, text: str) -> Path:
    """Moni's target with its browser side replaced by ``text``."""
    path = tmp_path / "target.toml"
    path.write_text(MONI[:BROWSER_SIDE] + text, encoding="utf-8")
    return path


def test_moni_declares_a_journey_for_every_action_but_the_batch_upload() -> None:
    moni = targets.load(None)
    assert set(moni.journeys) == set(moni.actions) - {"add_spendings"}
    assert moni.browser.locale == "ko-KR" and moni.browser.timezone == "Asia/Seoul"
    assert PageSpec("history_day", "/spending-history/<day>/") in moni.browser.pages
    kinds = {step.kind for journey in moni.journeys.values() for step in journey.steps}
    assert kinds == set(STEP_KINDS) - {"check", "expect_text"}


def test_ledgerly_logs_in_in_the_browser_after_an_http_sign_up() -> None:
    ledgerly = load_target(LEDGERLY)
    assert "signup" not in ledgerly.journeys and "login" in ledgerly.journeys
    assert ledgerly.browser.locale == "en-US"
    (expect,) = [s for s in ledgerly.journeys["add_spending"].steps if s.kind == "expect_text"]
    assert expect.locator is not None and expect.locator.kind == "test_id"
    assert expect.describe() == "expect_text 'saved' in test_id='flash'"


def test_a_file_without_a_browser_side_keeps_the_defaults(tmp_path: Path) -> None:
    target = load_target(_with_journeys(tmp_path, ""))
    assert target.journeys == {} and target.browser == BrowserSpec()
    assert set(target.actions) == set(targets.load(None).actions)


STEP = '[journeys.login]\nsteps = [{ goto = "/login/" }, %s]\n'


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ('{ press = "Enter" }', "journeys.login.steps[1].press: unknown step kind (known: goto,"),
        ('{ click = { css = "a" }, value = "x" }', "journeys.login.steps[1].value: unknown key"),
        ('{ click = { css = "a" }, goto = "/" }', "one kind per step, got goto and click"),
        ("{ click = {} }", "journeys.login.steps[1].click: expected exactly one of role, label,"),
        ('{ click = { css = "a", test_id = "b" } }', "got test_id and css"),
        ('{ click = { xpath = "//a" } }', "journeys.login.steps[1].click.xpath: unknown key"),
        ('{ click = { label = "a", name = "b" } }', "click.name: only a role locator takes a name"),
        ('{ click = "Save" }', "steps[1].click: expected a locator { role | label"),
        ('{ fill = { label = "Email" } }', "journeys.login.steps[1].value: missing (what to fill)"),
        ('{ fill = { label = "Email" }, value = "{{ agent.email }" }', "steps[1].value: "),
        ('{ click = { css = "a" }, optional = "yes" }', "optional: expected true or false"),
        ('{ click = { css = "a" }, when = "agent.(" }', "journeys.login.steps[1].when: "),
        ('{ expect_url = "home" }', "steps[1].expect_url: expected a path (/...) or a regular"),
        ('{ expect_url = "^/(home" }', "steps[1].expect_url: not a regular expression"),
        ('{ expect_text = "Hi", in = { role = "" } }', "steps[1].in.role: expected a non-empty"),
        ('{ goto = "/", optional = true }', "journeys.login.steps[1].optional: unknown key"),
    ],
)  # fmt: skip
def test_a_broken_step_is_refused_in_one_line(tmp_path: Path, step: str, message: str) -> None:
    path = _with_journeys(tmp_path, STEP % step)
    with pytest.raises(TargetError) as caught:
        load_target(path)
    text = str(caught.value)
    assert text.startswith(f"target {path}: ") and message in text and "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[journeys.log_in]\nsteps = [{ goto = "/" }]\n', "journeys.log_in: unknown action"),
        ("[journeys.login]\nsteps = []\n", "journeys.login.steps: expected a list of steps"),
        ('[journeys.login]\nstep = [{ goto = "/" }]\n', "journeys.login.step: unknown key"),
        ('[journeys.logout]\nsteps = [{ goto = "/" }]\n', "journeys.login: missing (journeys"),
        ('[browser]\nlocal = "en"\n', "browser.local: unknown key"),
        ('[browser]\npages = { home = "home" }\n', "browser.pages.home: expected a path"),
        ('[browser]\nlocale = ""\n', "browser.locale: expected a non-empty text"),
    ],
)  # fmt: skip
def test_a_broken_browser_side_is_refused_in_one_line(tmp_path, text, message) -> None:
    with pytest.raises(TargetError) as caught:
        load_target(_with_journeys(tmp_path, text))
    assert message in str(caught.value) and "\n" not in str(caught.value)
