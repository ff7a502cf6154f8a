"""The HTTP session endpoints through Starlette's TestClient: cookie flags, single-use tickets,
the open-redirect guard, sign-out that really ends the session, no-store caching."""

import warnings
from dataclasses import replace
from urllib.parse import quote

import pytest
from starlette.applications import Starlette

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2 for its TestClient; httpx still works and is what we have.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from loyalty_app.api import session_routes
from loyalty_app.db import write_session
from loyalty_app.models import Merchant
from loyalty_app.services.members import accounts, sessions
from loyalty_app.settings import get_settings

PASSWORD = "a good long password"


@pytest.fixture
def cafe(db_engine) -> int:
    with write_session(db_engine) as s:
        merchant = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(merchant)
        s.flush()
        merchant_id = merchant.id
    accounts.sign_up_member(db_engine, merchant_id=merchant_id, email="ana@example.com", password=PASSWORD, first_name="Ana")
    return merchant_id


def make_client(engine, **kw) -> TestClient:
    app = Starlette(routes=session_routes.build_routes(lambda: engine, **kw))
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def client(db_engine) -> TestClient:
    return make_client(db_engine)


def new_ticket(engine, merchant_id) -> str:
    return accounts.sign_in(
        engine, merchant_id=merchant_id, email="ana@example.com", password=PASSWORD, ip="10.0.0.1", user_agent="pytest"
    ).activation_ticket


def activate_url(ticket: str, nxt: str = "/m/cafe/home") -> str:
    return f"/api/session/activate?ticket={quote(ticket)}&next={quote(nxt, safe='')}"


def session_cookie(response) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith("ls_cafe=")]
    assert len(headers) == 1
    return headers[0]


def test_activation_sets_an_httponly_lax_cookie_and_redirects(db_engine, cafe, client):
    response = client.get(activate_url(new_ticket(db_engine, cafe), "/m/cafe/rewards?tab=all"))
    assert response.status_code == 303
    assert response.headers["location"] == "/m/cafe/rewards?tab=all"
    assert response.headers["cache-control"] == "no-store"
    header = session_cookie(response)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in header.lower()
    assert "path=/;" in header.lower() + ";"
    assert "secure" not in attributes  # plain-http origin (local development)
    secret = header.split(";")[0].split("=", 1)[1]
    actor = sessions.resolve(db_engine, merchant_id=cafe, cookie_header=f"ls_cafe={secret}", slug="cafe")
    assert actor is not None and actor.merchant_id == cafe


def test_cookie_is_secure_when_the_app_origin_is_https(db_engine, cafe, monkeypatch):
    https = replace(get_settings(), app_origin="https://loyalty.example.com")
    monkeypatch.setattr(session_routes, "get_settings", lambda: https)
    response = make_client(db_engine).get(activate_url(new_ticket(db_engine, cafe)))
    assert "; secure" in session_cookie(response).lower()
    response = make_client(db_engine, secure_cookies=True).get("/api/session/signout?slug=cafe")
    assert "; secure" in session_cookie(response).lower()


EVIL_NEXT = [
    "https://evil.example.com/m/cafe/home",
    "//evil.example.com/m/cafe/",
    "/\\evil.example.com",
    "/m/cafe//evil.example.com",
    "/m/books/home",
    "/m/cafe/../../admin",
    "/m/cafe/..",
    "/m/cafe/%2e%2e/%2e%2e/x",
    "/m/cafex/home",
    "javascript:alert(1)",
    "/m/cafe/\r\nSet-Cookie: x=1",
    "",
    None,
]


@pytest.mark.parametrize("evil", EVIL_NEXT)
def test_safe_next_refuses_everything_outside_the_merchant_app(evil):
    assert session_routes.safe_next("cafe", evil) == "/m/cafe/home"


def test_safe_next_keeps_local_paths_of_the_merchant():
    for good in ["/m/cafe/home", "/m/cafe/rewards?tab=all", "/m/cafe/profile#top", "/m/cafe/a%20b"]:
        assert session_routes.safe_next("cafe", good) == good


def test_open_redirect_guard_over_http(db_engine, cafe, client):
    for evil in EVIL_NEXT[:6]:
        response = client.get(activate_url(new_ticket(db_engine, cafe), evil))
        assert response.status_code == 303
        assert response.headers["location"] == "/m/cafe/home", evil


def test_ticket_is_single_use_over_http(db_engine, cafe, client):
    url = activate_url(new_ticket(db_engine, cafe))
    assert client.get(url).headers["location"] == "/m/cafe/home"
    again = client.get(url)
    assert again.status_code == 303
    assert again.headers["location"] == "/m/cafe/signin?expired=1"
    assert again.headers["cache-control"] == "no-store"
    assert not [h for h in again.headers.get_list("set-cookie") if h.startswith("ls_")]


def test_bad_ticket_without_a_merchant_path_is_a_plain_400(client, cafe):
    response = client.get("/api/session/activate?ticket=nope")
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"


def test_head_request_does_not_burn_the_ticket(db_engine, cafe, client):
    url = activate_url(new_ticket(db_engine, cafe))
    assert client.head(url).status_code == 405
    assert client.get(url).headers["location"] == "/m/cafe/home"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sign_out_clears_the_cookie_and_really_ends_the_session(db_engine, cafe, client, method):
    response = client.get(activate_url(new_ticket(db_engine, cafe)))
    secret = session_cookie(response).split(";")[0].split("=", 1)[1]
    old_cookie = f"ls_cafe={secret}"
    assert sessions.resolve(db_engine, merchant_id=cafe, cookie_header=old_cookie, slug="cafe") is not None

    signed_out = client.request(method, "/api/session/signout?next=%2Fm%2Fcafe%2Fprofile", headers={"Cookie": old_cookie})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/m/cafe/signin?next=%2Fm%2Fcafe%2Fprofile"
    assert signed_out.headers["cache-control"] == "no-store"
    cleared = session_cookie(signed_out).lower()
    assert 'ls_cafe="";' in cleared or "ls_cafe=;" in cleared
    assert "max-age=0" in cleared and "httponly" in cleared and "path=/" in cleared
    # The old cookie, replayed, no longer resolves.
    assert sessions.resolve(db_engine, merchant_id=cafe, cookie_header=old_cookie, slug="cafe") is None


def test_sign_out_by_slug_as_the_app_calls_it(db_engine, cafe, client):
    response = client.get(activate_url(new_ticket(db_engine, cafe)))
    old_cookie = session_cookie(response).split(";")[0]
    signed_out = client.get("/api/session/signout?slug=cafe", headers={"Cookie": old_cookie})
    assert signed_out.headers["location"] == "/m/cafe/signin"
    assert sessions.resolve(db_engine, merchant_id=cafe, cookie_header=old_cookie, slug="cafe") is None


def test_sign_out_next_is_guarded_too(db_engine, cafe, client):
    response = client.get("/api/session/signout?slug=cafe&next=https%3A%2F%2Fevil.example.com")
    assert response.headers["location"] == "/m/cafe/signin?next=%2Fm%2Fcafe%2Fhome"
    assert client.get("/api/session/signout?slug=..%2Fevil").status_code == 400


def test_routes_are_exported_for_mounting():
    paths = {route.path for route in session_routes.routes}
    assert paths == {"/api/session/activate", "/api/session/signout"}
