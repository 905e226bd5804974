"""The app serves recommendations, the forecast and model alerts from ``monilab train``'s
artifacts when ``MONILAB_MODELS_DIR`` is configured (and says why not when it is not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from flask import Flask
from moni_helpers import PASSWORD, ApiUser, csrf_token, sign_up

from analysis.training import train
from monilab.contracts.datasets import read_dataset
from monilab.lab.appprocess import AppProcess
from sim.agents.generate import generate_dataset
from target_app import create_app
from target_app.services.coach import ModelsSlot

DAYS = 120


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """A models directory trained on 80 generated users, and that dataset."""
    root = tmp_path_factory.mktemp("coach")
    generate_dataset(
        root / "data", users=80, days=DAYS, start="2024-01-01", seed=21, progress=False
    )
    train(root / "data", root / "models", n_estimators=10, hourly_users=0)
    data = read_dataset(root / "data")
    return root / "models", data.frame("users"), data.frame("transactions")


def _bodies(tx: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "spent_at": ts.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
            "amount": int(amount),
            "category": category,
            "direction": direction,
            "method": method,
            "merchant": merchant,
            "client_txn_id": f"t{txn}",
        }
        for ts, amount, category, direction, method, merchant, txn in zip(
            tx["ts"], tx["amount"], tx["category"], tx["direction"], tx["method"],
            tx["merchant"], tx["txn_id"], strict=True,
        )
    ]  # fmt: skip


def _user_rows(users: pd.DataFrame, tx: pd.DataFrame, kind: str) -> pd.DataFrame:
    user = users[users["spending_type"] == kind]["user_id"].iloc[0]
    return tx[tx["user_id"] == user]


def _upload(user: ApiUser, rows: pd.DataFrame) -> None:
    bodies = _bodies(rows)
    for start in range(0, len(bodies), 500):
        response = user.post("/api/v1/spendings/batch", json={"items": bodies[start : start + 500]})
        assert response.status_code == 201, response.json


@pytest.fixture
def coach_app(app_config: dict[str, Any], trained: tuple) -> Iterator[Flask]:
    application = create_app({**app_config, "MONILAB_MODELS_DIR": str(trained[0])})
    yield application
    application.extensions["monilab"].db.dispose()


def test_without_models_the_app_says_not_configured(alice: ApiUser) -> None:
    recs = alice.get("/api/v1/recommendations")
    assert recs.status_code == 200
    assert recs.json["status"] == "not_configured" and recs.json["items"] == []
    assert alice.get("/api/v1/forecast").json["status"] == "not_configured"


def test_trained_artifacts_change_what_the_app_serves(
    app: Flask, coach_app: Flask, trained: tuple
) -> None:
    _, users, tx = trained
    rows = _user_rows(users, tx, "investor")
    plain = sign_up(app.test_client(), "plain")
    coached = sign_up(coach_app.test_client(), "coached")
    for user in (plain, coached):
        _upload(user, rows)

    recs = coached.get("/api/v1/recommendations").json
    assert recs["status"] == "ok" and recs["items"]
    held = set(rows[rows["category"].isin(["savings", "investment"])]["merchant"])
    assert not held & {item["product"] for item in recs["items"]}
    assert plain.get("/api/v1/recommendations").json["status"] == "not_configured"

    fc = coached.get("/api/v1/forecast").json
    assert fc["status"] == "ok" and 0 <= fc["overrun_probability"] <= 1

    plain_kinds = {n["kind"] for n in plain.get("/api/v1/notifications").json["items"]}
    coached_notes = coached.get("/api/v1/notifications").json["items"]
    assert plain_kinds == {"anomaly"}
    assert {n["kind"] for n in coached_notes} == {"anomaly", "forecast"}
    forecast_note = next(n for n in coached_notes if n["kind"] == "forecast")
    assert forecast_note["message"] == fc["message"]
    assert forecast_note["day"] == str(rows["ts"].max().date())
    again = coached.get("/api/v1/notifications").json["items"]
    assert len(again) == len(coached_notes)  # once per user, day and kind


def test_yolo_users_are_offered_savings_products(coach_app: Flask, trained: tuple) -> None:
    _, users, tx = trained
    client = coach_app.test_client()
    user = sign_up(client, "yolo")
    _upload(user, _user_rows(users, tx, "yolo"))
    with coach_app.app_context():
        from target_app.context import state
        from target_app.models import User

        with state().db.write() as session:
            session.get(User, user.id).spending_type_code = "yolo"
            session.commit()
    recs = user.get("/api/v1/recommendations").json
    assert recs["spending_type"] == "yolo"
    assert recs["items"] and {item["kind"] for item in recs["items"]} == {"savings"}


def test_coach_page_renders_the_artifacts(coach_app: Flask, trained: tuple) -> None:
    _, users, tx = trained
    client = coach_app.test_client()
    user = sign_up(client, "pager")
    _upload(user, _user_rows(users, tx, "saver"))
    assert client.get("/coach/").status_code == 302  # pages need a browser login
    token = csrf_token(client.get("/login/"))
    login = client.post(
        "/login/", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    assert login.status_code == 302
    html = client.get("/coach/").get_data(as_text=True)
    assert 'data-testid="page-coach"' in html
    assert 'data-testid="recommendations" data-status="ok"' in html
    assert html.count('data-testid="recommendation"') == 3
    assert 'data-testid="forecast" data-status="ok"' in html
    assert 'data-testid="forecast-message"' in html


def test_models_slot_reports_missing_artifacts(tmp_path: Path) -> None:
    slot = ModelsSlot(tmp_path)
    model, reason = slot.get("recommendations")
    assert model is None and "recommendations.joblib" in reason
    (tmp_path / "alerts.joblib").write_bytes(b"not a pickle")
    model, reason = slot.get("alerts")
    assert model is None and "could not be loaded" in reason


@pytest.mark.integration
def test_served_app_recommends_from_the_models_dir(tmp_path: Path, trained: tuple) -> None:
    models, users, tx = trained
    rows = _user_rows(users, tx, "stable")
    with AppProcess(
        tmp_path / "data",
        workers=1,
        threads=2,
        startup_timeout=60.0,
        env={"MONILAB_PASSWORD_HASH": "pbkdf2:sha256:1000", "MONILAB_MODELS_DIR": str(models)},
    ) as server:
        response = requests.post(
            f"{server.url}/api/v1/auth/signup",
            json={"email": "served@example.com", "password": "password-1", "name": "served"},
            timeout=10,
        )
        auth = {"Authorization": f"Bearer {response.json()['token']}"}
        bodies = _bodies(rows)
        for start in range(0, len(bodies), 500):
            stored = requests.post(
                f"{server.url}/api/v1/spendings/batch",
                json={"items": bodies[start : start + 500]},
                headers=auth,
                timeout=30,
            )
            assert stored.status_code == 201
        recs = requests.get(f"{server.url}/api/v1/recommendations", headers=auth, timeout=60)
        assert recs.status_code == 200 and recs.json()["status"] == "ok" and recs.json()["items"]
        notes = requests.get(f"{server.url}/api/v1/notifications", headers=auth, timeout=60)
        assert "forecast" in {n["kind"] for n in notes.json()["items"]}
