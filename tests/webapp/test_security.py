"""The authentication primitives of webapp/security.py."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from webapp import security
from webapp.security import (
    TOKEN_PREFIX,
    CsrfTokens,
    LoginRateLimiter,
    ScopeError,
    SessionSigner,
    SlidingWindow,
    allowed_origins,
    bearer_token,
    client_key,
    generate_api_token,
    has_scope,
    hash_api_token,
    hash_password,
    initial_admin_password,
    is_https,
    normalize_origin,
    origin_refusal,
    parse_scopes,
    require_scope,
    session_cookie_name,
    session_cookie_options,
    set_cookie_header,
    verify_api_token,
    verify_password,
)

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # fast, for tests


@pytest.fixture
def compare_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every call of hmac.compare_digest while the test runs."""
    calls: list[tuple[Any, Any]] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


# -- passwords ---------------------------------------------------------------------------------
def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    stored = hash_password("correct horse")  # the real default parameters
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert hash_password("correct horse") != stored  # salted
    assert verify_password(stored, "correct horse") == security.PasswordCheck(ok=True)
    assert not verify_password(stored, "wrong horse").ok


def test_an_outdated_hash_is_rehashed_on_a_successful_login() -> None:
    old = hash_password("pw", hasher=CHEAP)
    check = verify_password(old, "pw", hasher=PasswordHasher())
    assert check.ok and check.new_hash is not None and check.new_hash != old
    assert verify_password(check.new_hash, "pw").new_hash is None
    assert verify_password(old, "nope", hasher=PasswordHasher()).new_hash is None
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I)
    assert verify_password(hash_password("pw", hasher=weaker), "pw").new_hash is not None


def test_unknown_users_and_garbage_hashes_fail_without_errors() -> None:
    assert verify_password(None, "anything", hasher=CHEAP) == security.PasswordCheck(ok=False)
    assert not verify_password("not a hash", "pw", hasher=CHEAP).ok
    assert not verify_password("", "pw", hasher=CHEAP).ok


# -- API tokens ----------------------------------------------------------------------------------
def test_api_tokens_are_prefixed_random_and_stored_as_sha256() -> None:
    issued = generate_api_token()
    assert issued.token.startswith(TOKEN_PREFIX) and len(issued.token) >= 40
    assert issued.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in issued.token_hash
    assert generate_api_token().token != issued.token
    assert verify_api_token(issued.token, issued.token_hash)
    assert not verify_api_token(issued.token + "x", issued.token_hash)
    assert not verify_api_token(generate_api_token().token, issued.token_hash)
    assert not verify_api_token(issued.token[len(TOKEN_PREFIX) :], issued.token_hash)


def test_token_checks_compare_in_constant_time(compare_calls: list[tuple[Any, Any]]) -> None:
    issued = generate_api_token()
    assert not verify_api_token(TOKEN_PREFIX + "guess", issued.token_hash)
    assert compare_calls == [(hash_api_token(TOKEN_PREFIX + "guess"), issued.token_hash)]


def test_bearer_tokens_are_read_from_the_authorization_header() -> None:
    token = generate_api_token().token
    assert bearer_token(f"Bearer {token}") == token
    assert bearer_token(f"bearer   {token} ") == token
    assert bearer_token(f"Basic {token}") is None
    assert bearer_token("Bearer not-ours") is None
    assert bearer_token(None) is None and bearer_token("") is None


def test_scopes_imply_the_lower_ones() -> None:
    assert parse_scopes("read, write") == {"read", "write"}
    assert parse_scopes(["admin"]) == {"admin"}
    with pytest.raises(ValueError, match="unknown scopes"):
        parse_scopes("read sudo")
    assert has_scope({"admin"}, "read") and has_scope({"admin"}, "write")
    assert has_scope({"write"}, "read") and not has_scope({"write"}, "admin")
    assert not has_scope({"read"}, "write") and not has_scope(set(), "read")
    assert not has_scope({"bogus"}, "read")
    require_scope({"write"}, "write")
    with pytest.raises(ScopeError) as error:
        require_scope({"read"}, "admin")
    assert error.value.required == "admin" and isinstance(error.value, PermissionError)


# -- session cookies -------------------------------------------------------------------------------
def test_a_signed_session_id_verifies_until_it_expires() -> None:
    signer = SessionSigner(SECRET, max_age=3600)
    session_id, cookie = signer.issue(now=1_000_000.0)
    assert cookie.startswith(session_id + ".")
    assert signer.verify(cookie, now=1_000_000.0) == session_id
    assert signer.verify(cookie, now=1_003_600.0) == session_id
    assert signer.verify(cookie, now=1_003_601.0) is None  # expired
    assert signer.verify(cookie, now=999_000.0) is None  # issued in the future
    assert signer.issue(now=0.0)[0] != session_id


def test_a_tampered_cookie_is_refused() -> None:
    signer = SessionSigner(SECRET)
    session_id, cookie = signer.issue(now=100.0)
    sid, issued, mac = cookie.split(".")
    forged_id = ("A" if sid[0] != "A" else "B") + sid[1:]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (
        f"{forged_id}.{issued}.{mac}",  # another session id
        f"{sid}.{int(issued) + 10_000}.{mac}",  # a later issue time, to outlive max_age
        f"{sid}.{issued}.{flipped}",
        f"{sid}.{issued}",
        f"{sid}.{issued}.{mac}.extra",
        "",
        None,
        "...",
    ):
        assert signer.verify(bad, now=100.0) is None, bad
    assert SessionSigner(OTHER_SECRET).verify(cookie, now=100.0) is None  # another server
    assert signer.verify(cookie, now=100.0) == session_id


def test_session_cookies_compare_in_constant_time(compare_calls: list[tuple[Any, Any]]) -> None:
    signer = SessionSigner(SECRET)
    _, cookie = signer.issue(now=5.0)
    assert signer.verify(cookie, now=5.0)
    assert len(compare_calls) == 1


def test_signers_refuse_short_secrets_and_bad_ids() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SessionSigner(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        CsrfTokens(b"short")
    with pytest.raises(ValueError):
        SessionSigner(SECRET).sign("a.b", now=0)


def test_session_cookie_attributes() -> None:
    assert session_cookie_options(secure=False) == {
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": False,
    }
    assert session_cookie_options(secure=True, max_age=60)["secure"] is True
    assert session_cookie_options(secure=True, max_age=60)["max_age"] == 60
    assert session_cookie_name(False) == "rxgen_session"
    assert session_cookie_name(True) == "__Host-rxgen_session"
    plain = set_cookie_header("v", secure=False)
    assert plain == "rxgen_session=v; Path=/; HttpOnly; SameSite=Lax"
    secure = set_cookie_header("v", secure=True, max_age=60)
    assert secure == "__Host-rxgen_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"


def test_session_cookie_options_fit_starlette() -> None:
    from starlette.responses import Response

    response = Response()
    response.set_cookie(session_cookie_name(True), "v", **session_cookie_options(secure=True))
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header and "Secure" in header


def test_https_is_detected_from_the_scheme_or_a_trusted_proxy() -> None:
    assert is_https("https", {}) and is_https("wss", {})
    assert not is_https("http", {})
    assert not is_https("http", {"x-forwarded-proto": "https"})  # untrusted proxy header
    assert is_https("http", {"x-forwarded-proto": "https, http"}, trust_proxy=True)
    assert not is_https("https", {"x-forwarded-proto": "http"}, trust_proxy=True)


# -- CSRF ------------------------------------------------------------------------------------------
def test_a_csrf_token_verifies_for_its_own_session_only() -> None:
    csrf = CsrfTokens(SECRET)
    token = csrf.issue("session-a")
    assert csrf.verify("session-a", token)
    assert csrf.issue("session-a") != token  # a fresh nonce each time; both verify
    assert csrf.verify("session-a", csrf.issue("session-a"))
    assert not csrf.verify("session-b", token)  # a token from another session is refused
    assert not CsrfTokens(OTHER_SECRET).verify("session-a", token)
    nonce, mac = token.split(".")
    assert not csrf.verify("session-a", f"{nonce}x.{mac}")
    for bad in (None, "", "nodot", ".mac", token + "x"):
        assert not csrf.verify("session-a", bad)
    assert not csrf.verify(None, token) and not csrf.verify("", token)


def test_csrf_and_session_keys_are_separate() -> None:
    """A session cookie's MAC is no CSRF token, though both come from one secret."""
    session_id, cookie = SessionSigner(SECRET).issue(now=0.0)
    _, issued, mac = cookie.split(".")
    assert not CsrfTokens(SECRET).verify(session_id, f"{issued}.{mac}")


def test_csrf_checks_compare_in_constant_time(compare_calls: list[tuple[Any, Any]]) -> None:
    csrf = CsrfTokens(SECRET)
    assert not csrf.verify("s1", csrf.issue("s2"))
    assert len(compare_calls) == 1


# -- Origin checks ---------------------------------------------------------------------------------
ALLOWED = allowed_origins(["rxgen.example", "localhost"], 8188)


def test_allowed_origins_come_from_host_names_and_port() -> None:
    assert set(ALLOWED) == {
        "http://rxgen.example:8188",
        "https://rxgen.example:8188",
        "http://localhost:8188",
        "https://localhost:8188",
    }
    assert allowed_origins(["Example.COM."], 443) == {
        "http://example.com:443",
        "https://example.com",
    }
    assert "http://example.com" in allowed_origins(["example.com"], 80)
    assert allowed_origins(["0.0.0.0"], 8188) == allowed_origins(
        ["localhost", "127.0.0.1", "::1"], 8188
    )
    assert "http://[::1]:8188" in allowed_origins(["::"], 8188)


def test_origins_are_normalized() -> None:
    assert normalize_origin("HTTP://LocalHost:8188") == "http://localhost:8188"
    assert normalize_origin("https://example.com:443") == "https://example.com"
    assert normalize_origin("http://[::1]:8188") == "http://[::1]:8188"
    for bad in ("null", "file://", "ftp://example.com", "http://", "http://a:99999", "http://u@a"):
        assert normalize_origin(bad) is None, bad


def refusal(method: str, **headers: str) -> str | None:
    return origin_refusal(method, {k.replace("_", "-"): v for k, v in headers.items()}, ALLOWED)


def test_unsafe_requests_need_an_allowed_origin() -> None:
    assert refusal("POST", origin="http://localhost:8188") is None
    assert refusal("DELETE", origin="https://rxgen.example:8188") is None
    assert refusal("post", origin="http://LOCALHOST:8188") is None
    assert refusal("POST", origin="null") == "opaque origin (Origin: null)"
    assert refusal("POST", origin="http://evil.example") == "foreign origin http://evil.example"
    assert refusal("PUT", origin="http://localhost:9999") is not None  # another port
    assert refusal("POST", origin="http://rxgen.example.evil:8188") is not None
    assert refusal("PATCH", origin="garbage") is not None


def test_safe_methods_pass_whatever_their_origin() -> None:
    for method in ("GET", "HEAD", "OPTIONS"):
        assert refusal(method, origin="null") is None
        assert refusal(method, origin="http://evil.example") is None


def test_without_an_origin_the_referer_decides_and_scripts_pass() -> None:
    assert refusal("POST", referer="http://localhost:8188/editor?x=1") is None
    assert (
        refusal("POST", referer="http://evil.example/page") == "foreign origin http://evil.example"
    )
    assert refusal("POST", referer="about:blank") is not None
    assert refusal("POST") is None  # curl, ComfyUI scripts: no browser, no cookie-based CSRF
    assert refusal("POST", sec_fetch_site="cross-site") is not None
    assert refusal("POST", sec_fetch_site="same-origin", origin="http://localhost:8188") is None


# -- rate limiting ---------------------------------------------------------------------------------
def test_a_sliding_window_counts_events_within_the_window() -> None:
    window = SlidingWindow(limit=3, window=60)
    for t in (0.0, 10.0, 20.0):
        assert window.retry_after("k", t) == 0
        window.add("k", t)
    assert window.retry_after("k", 30.0) == pytest.approx(30.0)  # until t=0 leaves the window
    assert window.retry_after("k", 59.9) == pytest.approx(0.1)
    assert window.retry_after("k", 60.0) == 0  # the first event slid out
    window.add("k", 60.0)
    assert window.retry_after("k", 61.0) == pytest.approx(9.0)  # until t=10 leaves
    assert window.retry_after("other", 61.0) == 0
    window.reset("k")
    assert window.retry_after("k", 61.0) == 0


def test_a_sliding_window_forgets_old_keys_and_bounds_memory() -> None:
    window = SlidingWindow(limit=1, window=10, max_keys=3)
    for i in range(5):
        window.add(f"user{i}", float(i))
    assert window.retry_after("user0", 5.0) == 0  # dropped, least recently used
    assert window.retry_after("user4", 5.0) > 0
    assert window.retry_after("user4", 14.0) == 0
    with pytest.raises(ValueError):
        SlidingWindow(limit=0, window=1)


def test_logins_are_limited_per_user_name() -> None:
    limiter = LoginRateLimiter(per_user=3, per_ip=100, window=600)
    for i in range(3):
        assert limiter.check("alice", f"10.0.0.{i}", now=float(i)).allowed
        limiter.failed("alice", f"10.0.0.{i}", now=float(i))
    decision = limiter.check("Alice ", "10.0.0.99", now=10.0)  # names are case-insensitive
    assert not decision.allowed and decision.retry_after == pytest.approx(590.0)
    assert limiter.check("bob", "10.0.0.99", now=10.0).allowed
    assert limiter.check("alice", "10.0.0.99", now=600.0).allowed  # the window slid
    limiter.failed("alice", "10.0.0.1", now=601.0)
    limiter.succeeded("alice")
    assert limiter.check("alice", "10.0.0.1", now=602.0).allowed


def test_logins_are_limited_per_client_address() -> None:
    limiter = LoginRateLimiter(per_user=100, per_ip=4, window=60)
    for i in range(4):
        limiter.failed(f"user{i}", "2001:db8::1", now=float(i))
    # The same /64 is the same client; another address is not.
    assert not limiter.check("fresh", "2001:db8::abcd", now=5.0).allowed
    assert limiter.check("fresh", "2001:db8:0:1::1", now=5.0).allowed
    limiter.succeeded("user0")  # a success clears the name's count, not the address's
    assert not limiter.check("user0", "2001:db8::1", now=59.0).allowed
    assert limiter.check("fresh", "2001:db8::1", now=60.0).allowed  # t=0 slid out


def test_client_keys() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key(" Unix-Socket ") == "unix-socket"


# -- the first-start admin password ----------------------------------------------------------------
def test_the_admin_password_comes_from_the_environment_when_set() -> None:
    given = initial_admin_password({"RXGEN_ADMIN_PASSWORD": "from-env"})
    assert given == security.AdminPassword(password="from-env", generated=False)


def test_otherwise_a_strong_one_is_generated() -> None:
    first = initial_admin_password({})
    second = initial_admin_password({"RXGEN_ADMIN_PASSWORD": "  "})
    assert first.generated and second.generated
    assert len(first.password) >= 24 and first.password != second.password


def test_the_admin_password_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RXGEN_ADMIN_PASSWORD", "set-in-env")
    assert initial_admin_password().password == "set-in-env"
    monkeypatch.delenv("RXGEN_ADMIN_PASSWORD")
    assert initial_admin_password().generated
