"""HTML pages: every page renders with its test id, forms post with CSRF and redirect."""

from __future__ import annotations

import re

import pytest
from moni_helpers import PASSWORD, csrf_token, sign_up, spending

PAGES = {
    "/": "page-home",
    "/mydata/start/": "page-mydata-start",
    "/spending/new/": "page-add-spending",
    "/spending-history/": "page-history",
    "/spending-history/?month=2024-01": "page-history",
    "/spending-history/2024-01-03/": "page-history-day",
    "/spending-analysis/": "page-analysis",
    "/spending-type/": "page-type",
    "/assets/": "page-assets",
    "/goal/set/": "page-goals",
    "/notifications/": "page-notifications",
    "/mypage/": "page-mypage",
    "/profile/edit/": "page-profile-edit",
    "/logout/": "page-logout",
}


def submit(client, path, data, *, form_path=None):
    """GET the form page for its CSRF token, then POST the form."""
    token = csrf_token(client.get(form_path or path))
    return client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def browser(client):
    """A client logged in through the sign-up form."""
    response = submit(
        client, "/signup/", {"email": "page@example.com", "password": PASSWORD, "name": "모니"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/mydata/start/"
    return client


def test_public_pages_render(client):
    for path, testid in {"/signup/": "page-signup", "/login/": "page-login"}.items():
        page = client.get(path)
        assert page.status_code == 200
        assert f'data-testid="{testid}"' in page.get_data(as_text=True)


def test_private_pages_redirect_to_login(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login/")


def test_every_page_renders_with_its_test_id(browser):
    submit(
        browser,
        "/spending/new/",
        {"spent_at": "2024-01-03T12:07", "amount": "41900", "category": "food"},
    )
    for path, testid in PAGES.items():
        page = browser.get(path)
        assert page.status_code == 200, path
        assert f'data-testid="{testid}"' in page.get_data(as_text=True), path


def test_forms_have_named_fields(browser):
    html = browser.get("/spending/new/").get_data(as_text=True)
    for name in ("spent_at", "amount", "category", "direction", "method", "merchant", "memo"):
        assert f'name="{name}"' in html
    assert re.search(r'name="client_txn_id" value="[0-9a-f]{32}"', html)


def test_post_without_csrf_token_is_refused(browser):
    response = browser.post("/goal/set/", data={"title": "t", "target_amount": "1"})
    assert response.status_code == 400
    assert 'data-field="csrf_token"' in response.get_data(as_text=True)


def test_api_is_exempt_from_csrf(client):
    user = sign_up(client)
    assert user.post("/api/v1/spendings", json=spending()).status_code == 201


def test_mydata_and_spending_forms(browser):
    linked = submit(browser, "/mydata/start/", {"opening_balance": "1,000,000"})
    assert linked.status_code == 302
    assert "1,000,000원" in browser.get("/assets/").get_data(as_text=True)
    form = browser.get("/spending/new/").get_data(as_text=True)
    txn = re.search(r'name="client_txn_id" value="([0-9a-f]+)"', form).group(1)
    data = {
        "csrf_token": csrf_token(browser.get("/spending/new/")),
        "spent_at": "2024-01-03T12:07",
        "amount": "41,900",
        "category": "food",
        "direction": "out",
        "method": "card",
        "merchant": "이자카야",
        "memo": "",
        "client_txn_id": txn,
    }
    first = browser.post("/spending/new/", data=data)
    assert first.status_code == 302 and first.headers["Location"] == "/spending-history/2024-01-03/"
    again = browser.post("/spending/new/", data=data)  # a double submit
    assert again.status_code == 302
    day = browser.get("/spending-history/2024-01-03/").get_data(as_text=True)
    assert day.count('data-testid="spending-row"') == 1 and "이자카야" in day
    month = browser.get("/spending-history/?month=2024-01").get_data(as_text=True)
    assert "-41,900원" in month


def test_form_errors_name_the_field_and_keep_values(browser):
    response = submit(
        browser,
        "/spending/new/",
        {"spent_at": "2024-01-03T12:07", "amount": "0", "category": "food", "merchant": "가게"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="form-error" data-field="amount"' in html
    assert 'value="가게"' in html


def test_goal_notification_and_profile_forms(browser, app):
    saved = submit(browser, "/goal/set/", {"title": "오천만원 모으기", "target_amount": "50000000"})
    assert saved.status_code == 302
    goals = browser.get("/goal/set/").get_data(as_text=True)
    assert 'data-testid="goal-row"' in goals
    goal_id = re.search(r'data-testid="goal-row" data-id="(\d+)"', goals).group(1)
    achieved = submit(browser, f"/goal/{goal_id}/achieved/", {}, form_path="/goal/set/")
    assert achieved.status_code == 302
    assert 'data-testid="goal-achieved"' in browser.get("/goal/set/").get_data(as_text=True)

    for day in (1, 2):
        submit(
            browser,
            "/spending/new/",
            {"spent_at": f"2024-03-0{day}T12:00", "amount": "1000", "category": "food"},
        )
    notes = browser.get("/notifications/").get_data(as_text=True)
    note_id = re.search(r'data-testid="notification-item" data-id="(\d+)"', notes).group(1)
    marked = submit(browser, f"/notifications/{note_id}/read/", {}, form_path="/notifications/")
    assert marked.status_code == 302
    assert 'data-testid="notification-mark-read"' not in browser.get("/notifications/").get_data(
        as_text=True
    )

    edited = submit(
        browser, "/profile/edit/", {"name": "새이름", "email": "page@example.com", "age": "30"}
    )
    assert edited.status_code == 302 and edited.headers["Location"] == "/mypage/"
    assert "새이름" in browser.get("/mypage/").get_data(as_text=True)
    wrong = submit(
        browser,
        "/profile/edit/",
        {
            "name": "x",
            "email": "page@example.com",
            "new_password": "abcdefgh1",
            "current_password": "bad",
        },
    )
    assert wrong.status_code == 403 and 'data-field="current_password"' in wrong.get_data(
        as_text=True
    )


def test_other_users_ids_are_404_pages(browser, client, app):
    other = sign_up(app.test_client(), "other")
    other.post("/api/v1/spendings", json=spending(spent_at="2024-03-02T12:00:00+09:00"))
    (note,) = other.get("/api/v1/notifications").json["items"]
    response = submit(browser, f"/notifications/{note['id']}/read/", {}, form_path="/goal/set/")
    assert response.status_code == 404
    assert other.get("/api/v1/notifications").json["items"][0]["read"] is False


def test_logout_and_login_again(browser):
    out = submit(browser, "/logout/", {})
    assert out.status_code == 302 and out.headers["Location"] == "/login/"
    assert browser.get("/").status_code == 302
    bad = submit(browser, "/login/", {"email": "page@example.com", "password": "wrong"})
    assert bad.status_code == 401 and 'data-field="password"' in bad.get_data(as_text=True)
    token = csrf_token(browser.get("/login/?next=/assets/"))
    good = browser.post(
        "/login/?next=/assets/",
        data={"csrf_token": token, "email": "page@example.com", "password": PASSWORD},
    )
    assert good.status_code == 302 and good.headers["Location"] == "/assets/"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        submit(browser, "/logout/", {}, form_path="/login/")
        token = csrf_token(browser.get("/login/"))
        evil = browser.post(
            f"/login/?next={target}",
            data={"csrf_token": token, "email": "page@example.com", "password": PASSWORD},
        )
        assert evil.headers["Location"] == "/", target


def test_bad_page_queries_are_4xx(browser):
    assert browser.get("/spending-history/?month=2024-13").status_code == 422
    assert browser.get("/spending-analysis/?month=x").status_code == 422
    assert browser.get("/spending-history/2024-02-30/").status_code == 404
