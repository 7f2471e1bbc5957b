"""Authentication primitives for the web layer: passwords, API tokens, session cookies, CSRF
tokens, Origin checks, a login rate limiter and the first-start admin password.

Small functions and classes with no framework in them, so each is tested on its own; routes
and middleware compose them. Every comparison of a secret with an expected value goes through
:func:`hmac.compare_digest`, and functions that depend on time take ``now`` as a parameter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# -- passwords ---------------------------------------------------------------------------------
# argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: t=3, m=64 MiB, p=4).
_hasher: Final = PasswordHasher()
_dummy_hash: str | None = None


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of :func:`verify_password`: ``new_hash`` is set when the password was right
    but the stored hash uses outdated parameters; store it in place of the old one."""

    ok: bool
    new_hash: str | None = None


def hash_password(password: str, *, hasher: PasswordHasher = _hasher) -> str:
    """An argon2id hash of ``password`` (salted; encodes its own parameters)."""
    return hasher.hash(password)


def verify_password(
    stored_hash: str | None, password: str, *, hasher: PasswordHasher = _hasher
) -> PasswordCheck:
    """Check ``password`` against ``stored_hash``.

    Pass ``None`` for an unknown user: a hash is still verified (against a dummy), so the
    answer takes as long as for a real user and does not tell which user names exist.
    """
    global _dummy_hash
    if stored_hash is None:
        if _dummy_hash is None:
            _dummy_hash = hasher.hash(secrets.token_urlsafe(16))
        stored_hash = _dummy_hash
        known = False
    else:
        known = True
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if not known:
        return PasswordCheck(ok=False)
    if hasher.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=hasher.hash(password))
    return PasswordCheck(ok=True)


# -- API tokens ----------------------------------------------------------------------------------
TOKEN_PREFIX: Final = "rxg_"
Scope = Literal["read", "write", "admin"]
SCOPES: Final[tuple[Scope, ...]] = ("read", "write", "admin")
# A scope grants the ones below it: admin > write > read.
_SCOPE_RANK: Final[dict[str, int]] = {scope: rank for rank, scope in enumerate(SCOPES)}


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: show ``token`` to its owner once; store only ``token_hash``."""

    token: str
    token_hash: str


def generate_api_token() -> IssuedToken:
    """A new token: ``rxg_`` and 256 random bits, URL-safe; recognisable in logs and scanners."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return IssuedToken(token=token, token_hash=hash_api_token(token))


def hash_api_token(token: str) -> str:
    """The hash stored for a token (hex SHA-256), also its lookup key in the database.

    A fast hash is right here, unlike for passwords: a token holds 256 random bits, so nothing
    can be guessed from its hash by trying candidates, slow hash or not, and every request that
    presents a token pays for the hash.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_api_token(token: str, stored_hash: str) -> bool:
    """Whether ``token`` is the one whose hash is ``stored_hash`` (constant-time compare)."""
    if not token.startswith(TOKEN_PREFIX):
        return False
    return hmac.compare_digest(hash_api_token(token), stored_hash)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer rxg_...`` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    return value


def parse_scopes(scopes: str | Iterable[str]) -> frozenset[Scope]:
    """Scopes from ``"read write"`` or a list; an unknown scope is an error, not ignored."""
    names = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    unknown = sorted(set(names) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known scopes are {list(SCOPES)}")
    return frozenset(s for s in SCOPES if s in names)


def has_scope(granted: Iterable[str], required: Scope) -> bool:
    """Whether ``granted`` allows ``required`` (admin implies write implies read)."""
    need = _SCOPE_RANK[required]
    return any(_SCOPE_RANK.get(scope, -1) >= need for scope in granted)


class ScopeError(PermissionError):
    def __init__(self, required: Scope) -> None:
        super().__init__(f"this needs the {required!r} scope")
        self.required = required


def require_scope(granted: Iterable[str], required: Scope) -> None:
    if not has_scope(granted, required):
        raise ScopeError(required)


# -- keys ------------------------------------------------------------------------------------------
MIN_SECRET_BYTES: Final = 32


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the server secret must have at least {MIN_SECRET_BYTES} bytes")


def _derive(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so a value signed for one use never verifies for another."""
    return hmac.new(secret, b"rxgen/" + purpose.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(key: bytes, *parts: str) -> str:
    return _b64(hmac.new(key, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest())


# -- session cookies -------------------------------------------------------------------------------
SESSION_COOKIE: Final = "rxgen_session"


class SessionSigner:
    """Signed session ids: ``<id>.<issued-at>.<HMAC>``, expired after ``max_age`` seconds.

    The cookie holds only a random id; what the session means is kept on the server. Issue a
    new id at login (never reuse the anonymous one) so a planted cookie cannot be promoted.
    """

    def __init__(self, secret: bytes, *, max_age: float = 14 * 24 * 3600) -> None:
        _check_secret(secret)
        self._key = _derive(secret, "session")
        self.max_age = max_age

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(32)

    def sign(self, session_id: str, now: float) -> str:
        if not session_id or "." in session_id:
            raise ValueError("a session id must be non-empty and contain no '.'")
        issued = str(int(now))
        return f"{session_id}.{issued}.{_mac(self._key, session_id, issued)}"

    def issue(self, now: float) -> tuple[str, str]:
        """A new session id and its cookie value."""
        session_id = self.new_session_id()
        return session_id, self.sign(session_id, now)

    def verify(self, cookie: str | None, now: float) -> str | None:
        """The session id of a well-signed, unexpired cookie; None for anything else."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 3:
            return None
        session_id, issued, mac = parts
        if not hmac.compare_digest(_mac(self._key, session_id, issued), mac):
            return None
        if not issued.isdigit():
            return None
        age = now - int(issued)
        if age > self.max_age or age < -60:  # a minute of clock skew at most
            return None
        return session_id


def session_cookie_name(secure: bool) -> str:
    """Over https the ``__Host-`` prefix pins the cookie to this host (Secure, Path=/, no
    Domain), so a sibling subdomain cannot set or overwrite it."""
    return f"__Host-{SESSION_COOKIE}" if secure else SESSION_COOKIE


def session_cookie_options(*, secure: bool, max_age: int | None = None) -> dict[str, Any]:
    """Keyword arguments for Starlette's ``Response.set_cookie`` (and ``delete_cookie``):
    HttpOnly, SameSite=Lax, Path=/, and Secure when the site is served over https."""
    options: dict[str, Any] = {"path": "/", "httponly": True, "samesite": "lax", "secure": secure}
    if max_age is not None:
        options["max_age"] = max_age
    return options


def set_cookie_header(value: str, *, secure: bool, max_age: int | None = None) -> str:
    """The ``Set-Cookie`` header value for a session cookie (for code without Starlette)."""
    parts = [f"{session_cookie_name(secure)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def is_https(scheme: str, headers: Mapping[str, str], *, trust_proxy: bool = False) -> bool:
    """Whether the client reached us over https; ``X-Forwarded-Proto`` counts only behind a
    proxy the operator declared trusted."""
    if trust_proxy:
        forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded:
            return forwarded == "https"
    return scheme.lower() in ("https", "wss")


# -- CSRF ------------------------------------------------------------------------------------------
class CsrfTokens:
    """CSRF tokens bound to a session: ``<nonce>.<HMAC(session id, nonce)>``.

    The page gets a token and sends it back in a header or form field; a token made for one
    session never verifies for another. The random nonce makes every token different, so a
    token leaks nothing through compression side channels.
    """

    def __init__(self, secret: bytes) -> None:
        _check_secret(secret)
        self._key = _derive(secret, "csrf")

    def issue(self, session_id: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{_mac(self._key, session_id, nonce)}"

    def verify(self, session_id: str | None, token: str | None) -> bool:
        if not session_id or not token:
            return False
        nonce, dot, mac = token.partition(".")
        if not dot or not nonce:
            return False
        return hmac.compare_digest(_mac(self._key, session_id, nonce), mac)


# -- Origin checks ---------------------------------------------------------------------------------
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_WILDCARD_HOSTS: Final = frozenset({"", "0.0.0.0", "::", "[::]"})
_LOOPBACK_HOSTS: Final = ("localhost", "127.0.0.1", "[::1]")


def _host_for_url(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if ":" in host and not host.startswith("["):
        return f"[{host}]"  # an IPv6 address
    return host


def allowed_origins(hosts: Iterable[str], port: int) -> frozenset[str]:
    """The origins the app is served under: each host name, over http and https, on ``port``
    (and without a port when it is the scheme's default). A wildcard bind address (0.0.0.0,
    ::) stands for the loopback names; list public host names explicitly."""
    names: list[str] = []
    for host in hosts:
        names.extend(_LOOPBACK_HOSTS if host.strip() in _WILDCARD_HOSTS else [host])
    origins: set[str] = set()
    for name in names:
        host = _host_for_url(name)
        for scheme, default in _DEFAULT_PORTS.items():
            origins.add(f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}")
    return frozenset(origins)


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; None if malformed."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = _host_for_url(parts.hostname)
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_refusal(
    method: str,
    headers: Mapping[str, str],
    allowed: frozenset[str],
) -> str | None:
    """Why a request must be refused as cross-site, or None to let it through.

    Safe methods pass. An unsafe one passes when its ``Origin`` (or, lacking one, the origin of
    its ``Referer``) is one of ``allowed``; ``Origin: null`` (sandboxed frames, file: pages,
    some redirects) is refused. A request with neither header comes from a non-browser client
    (a script, ComfyUI tooling) and passes: browsers send ``Origin`` on every cross-site
    unsafe request, and such clients authenticate with tokens, not cookies. ``headers`` must
    have lower-case keys (Starlette's ``request.headers`` does).
    """
    if method.upper() in SAFE_METHODS:
        return None
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "cross-site request (Sec-Fetch-Site)"
    origin = headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null":
            return "opaque origin (Origin: null)"
        source = normalize_origin(origin)
        if source is None:
            return f"malformed Origin {origin!r}"
    else:
        referer = headers.get("referer")
        if not referer:
            return None
        try:
            parts = urlsplit(referer)
        except ValueError:
            return "malformed Referer"
        source = normalize_origin(f"{parts.scheme}://{parts.netloc}")
        if source is None:
            return "malformed Referer"
    if source not in allowed:
        return f"foreign origin {source}"
    return None


# -- login rate limiting ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the next attempt may be made


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds (a log of event times).

    Memory is bounded: at most ``max_keys`` keys are tracked, the least recently used dropped
    first, so a flood of made-up user names cannot exhaust it.
    """

    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def _live(self, key: str, now: float) -> deque[float] | None:
        times = self._events.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._events[key]
            return None
        return times

    def retry_after(self, key: str, now: float) -> float:
        """0 if another event is allowed now, else the seconds until one is."""
        times = self._live(key, now)
        if times is None or len(times) < self.limit:
            return 0.0
        return times[-self.limit] + self.window - now

    def add(self, key: str, now: float) -> None:
        times = self._live(key, now)
        if times is None:
            times = self._events[key] = deque(maxlen=self.limit)
        times.append(now)
        self._events.move_to_end(key)
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)


def client_key(ip: str) -> str:
    """The rate-limit key of a client address: an IPv6 client is limited per /64 (one host
    usually holds a whole /64), an IPv4 one per address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip().lower()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class LoginRateLimiter:
    """Failed logins limited per user name and per client address, in sliding windows.

    Call :meth:`check` before verifying a password (a blocked attempt is refused even when the
    password is right, or guessing would go on), :meth:`failed` after a wrong one, and
    :meth:`succeeded` after a right one (it clears the user name's count, not the address's).
    """

    def __init__(
        self,
        *,
        per_user: int = 5,
        per_ip: int = 20,
        window: float = 15 * 60,
        max_keys: int = 100_000,
    ) -> None:
        self._users = SlidingWindow(per_user, window, max_keys=max_keys)
        self._ips = SlidingWindow(per_ip, window, max_keys=max_keys)

    @staticmethod
    def _user(username: str) -> str:
        return username.strip().casefold()

    def check(self, username: str, ip: str, now: float) -> RateDecision:
        wait = max(
            self._users.retry_after(self._user(username), now),
            self._ips.retry_after(client_key(ip), now),
        )
        return RateDecision(allowed=wait <= 0, retry_after=max(wait, 0.0))

    def failed(self, username: str, ip: str, now: float) -> None:
        self._users.add(self._user(username), now)
        self._ips.add(client_key(ip), now)

    def succeeded(self, username: str) -> None:
        self._users.reset(self._user(username))


# -- the first-start admin password ----------------------------------------------------------------
ADMIN_PASSWORD_ENV: Final = "RXGEN_ADMIN_PASSWORD"


@dataclass(frozen=True)
class AdminPassword:
    password: str
    generated: bool  # True: print it once for the operator; it is not stored anywhere else


def initial_admin_password(environ: Mapping[str, str] | None = None) -> AdminPassword:
    """The admin password for a first start: ``RXGEN_ADMIN_PASSWORD`` when set and non-empty,
    otherwise a new random one (24 URL-safe characters, 144 bits)."""
    env = os.environ if environ is None else environ
    given = env.get(ADMIN_PASSWORD_ENV, "")
    if given.strip():
        return AdminPassword(password=given, generated=False)
    return AdminPassword(password=secrets.token_urlsafe(18), generated=True)
