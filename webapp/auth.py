"""Who is asking: API tokens, session cookies, and the checks unsafe requests must pass.

A request is authenticated by ``Authorization: Bearer <token>``, a ``token`` query parameter
(WebSockets and ComfyUI clients cannot always set headers) or the session cookie set by
``POST /api/auth/login``. Unsafe methods are refused from a foreign origin or ``Origin: null``,
and when authenticated by cookie they must also carry the session's CSRF token in
``X-CSRF-Token``: a cookie is sent by the browser on cross-site requests, a token header is not.
Sessions live in memory: a restart logs everyone out, which is the safe direction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from drivers.store import users as user_rows
from drivers.store.records import UserRecord
from webapp.bodies import read_body
from webapp.problems import problem
from webapp.schemas import LoginBody
from webapp.security import (
    CsrfTokens,
    LoginRateLimiter,
    SessionSigner,
    bearer_token,
    hash_api_token,
    origin_refusal,
    session_cookie_name,
    session_cookie_options,
    verify_password,
)

CSRF_HEADER = "x-csrf-token"


@dataclass
class Identity:
    user: UserRecord
    via: str  # "token", "session" or "open" (--no-auth)
    session_id: str | None = None
    scopes: frozenset[str] = frozenset({"admin"})

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


@dataclass
class Auth:
    """The server's authentication state: session table, signers, rate limiter."""

    secret: bytes
    services: Any
    secure_cookies: bool = False
    sessions: dict[str, int] = field(default_factory=dict)  # session id -> user id
    # Token hash -> (identity, expiry). Saves a database round trip per request; revoking a
    # token or changing a user clears it (this process is the only writer of those rows).
    token_cache: dict[str, tuple[Identity, float]] = field(default_factory=dict)
    token_cache_s: float = 10.0

    def __post_init__(self) -> None:
        self.signer = SessionSigner(self.secret)
        self.csrf = CsrfTokens(self.secret)
        self.limiter = LoginRateLimiter()

    @property
    def cookie(self) -> str:
        return session_cookie_name(self.secure_cookies)

    async def identify(self, conn: HTTPConnection) -> Identity | None:
        services = self.services
        if services.config.no_auth:
            async with services.database.transaction() as session:
                admin = await user_rows.get_user(session, services.admin_id)
            return Identity(admin, "open") if admin is not None else None
        token = bearer_token(conn.headers.get("authorization")) or conn.query_params.get("token")
        if token:
            return await self._token_identity(hash_api_token(token))
        session_id = self.signer.verify(conn.cookies.get(self.cookie), time.time())
        user_id = self.sessions.get(session_id or "")
        if session_id is None or user_id is None:
            return None
        async with services.database.transaction() as session:
            found_user = await user_rows.get_user(session, user_id)
        if found_user is None or found_user.disabled:
            return None
        return Identity(found_user, "session", session_id=session_id)

    async def _token_identity(self, token_hash: str) -> Identity | None:
        now = time.monotonic()
        cached = self.token_cache.get(token_hash)
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self.services.database.transaction() as session:
            found = await user_rows.lookup_token(session, token_hash)
        if found is None:
            self.token_cache.pop(token_hash, None)
            return None
        record, user = found
        identity = Identity(user, "token", scopes=frozenset(record.scopes))
        if len(self.token_cache) > 10_000:
            self.token_cache.clear()
        self.token_cache[token_hash] = (identity, now + self.token_cache_s)
        return identity

    def forget_tokens(self) -> None:
        """Drop cached token identities (after a revocation or a change to a user)."""
        self.token_cache.clear()

    def refusal(self, request: Request, identity: Identity | None) -> Response | None:
        """Why this unsafe request must not proceed, as a response; None when it may."""
        allowed = self.services.allowed_origins
        reason = origin_refusal(request.method, request.headers, allowed)
        if reason is not None:
            return problem(403, "cross-site request refused", reason)
        if (
            identity is not None
            and identity.via == "session"
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and not self.csrf.verify(identity.session_id, request.headers.get(CSRF_HEADER))
        ):
            return problem(
                403,
                "CSRF token missing or wrong",
                f"send the token from GET /api/auth/me in the {CSRF_HEADER} header",
            )
        return None

    # -- login / logout ----------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        body = await read_body(request, LoginBody, limit=64 << 10)
        if isinstance(body, Response):
            return body
        name, password = body.username, body.password
        ip = request.client.host if request.client else "?"
        now = time.time()
        decision = self.limiter.check(name, ip, now)
        if not decision.allowed:
            response = problem(429, "too many failed logins", "wait before trying again")
            response.headers["Retry-After"] = str(int(decision.retry_after) + 1)
            return response
        async with self.services.database.transaction() as session:
            user = await user_rows.get_user_by_name(session, name)
            check = verify_password(
                user.password_hash if user is not None and not user.disabled else None, password
            )
            if check.ok and user is not None and check.new_hash is not None:
                await user_rows.set_password_hash(session, user.id, check.new_hash)
        if not check.ok or user is None:
            self.limiter.failed(name, ip, now)
            return problem(401, "wrong user name or password", "check both and try again")
        self.limiter.succeeded(name)
        session_id, cookie = self.signer.issue(now)
        self.sessions[session_id] = user.id
        response = JSONResponse(self.describe(Identity(user, "session", session_id=session_id)))
        response.set_cookie(
            self.cookie, cookie, **session_cookie_options(secure=self.secure_cookies)
        )
        return response

    def logout(self, identity: Identity | None) -> Response:
        if identity is not None and identity.session_id is not None:
            self.sessions.pop(identity.session_id, None)
        response = JSONResponse({"ok": True})
        response.delete_cookie(self.cookie, path="/")
        return response

    def describe(self, identity: Identity) -> dict[str, Any]:
        me: dict[str, Any] = {
            "id": identity.user.id,
            "name": identity.user.name,
            "role": identity.user.role,
            "via": identity.via,
        }
        if identity.session_id is not None:
            me["csrf_token"] = self.csrf.issue(identity.session_id)
        return me
