"""The workbench's guard: allowed hosts, own origin only, a token off the loopback, read-only.

Every request passes :class:`Guard` (pure ASGI middleware) before any route:

* its ``Host`` must be one the app is served as (no DNS rebinding);
* a request carrying an ``Origin`` other than the app's own is refused (403);
* when the app listens beyond the loopback (or a token was given), every request must carry
  the token (``Authorization: Bearer``, the ``X-Cfplan-Token`` header, the session cookie, or
  ``?token=`` on the page itself, which then sets the cookie) or is refused (401);
* with ``read_only`` every request that would change the scenario is refused (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

__all__ = ["COOKIE", "Guard", "GuardConfig", "is_loopback", "new_token"]

COOKIE = "cfplan_token"
TOKEN_HEADER = "x-cfplan-token"
WRITES = ("/api/edits", "/api/undo", "/api/redo")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is the loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """Return a fresh random token (URL-safe, 32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class GuardConfig:
    """Who may talk to the app.

    Attributes
    ----------
    host, port
        Where the app listens.
    token
        Required on every request when set (always set off the loopback).
    read_only
        Refuse every edit, undo and redo.
    extra_hosts
        More host names the app is reached by (behind a proxy, say).
    """

    host: str
    port: int
    token: str | None = None
    read_only: bool = False
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)

    def hosts(self) -> set[str]:
        """Return the ``Host`` values the app answers (``name:port``)."""
        names = {self.host, *self.extra_hosts}
        if is_loopback(self.host):
            names |= {"127.0.0.1", "localhost", "[::1]"}
        if ":" in self.host and not self.host.startswith("["):
            names.add(f"[{self.host}]")
        out = set()
        for name in names:
            out.add(f"{name}:{self.port}".lower())
            if self.port == 80:
                out.add(name.lower())
        return out

    def origins(self) -> set[str]:
        """Return the app's own origins (``http://name:port``)."""
        return {f"http://{h}" for h in self.hosts()}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _refuse(send: Send, status: int, zh: str, en: str) -> None:
    body = json.dumps({"error": {"zh": zh, "en": en}}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="cfplan"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware applying :class:`GuardConfig` before the app sees a request."""

    def __init__(self, app: ASGIApp, config: GuardConfig) -> None:
        self.app = app
        self.config = config
        self._hosts = config.hosts()
        self._origins = config.origins()

    def _token_of(self, scope: Scope, headers: dict[str, str]) -> tuple[str | None, bool]:
        """Return the token a request carries and whether it came in the query string."""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        if TOKEN_HEADER in headers:
            return headers[TOKEN_HEADER], False
        if "cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:
                jar = SimpleCookie()
            if COOKIE in jar:
                return jar[COOKIE].value, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0], True
        return None, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on (or answer 400/401/403)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if headers.get("host", "").lower() not in self._hosts:
            await _refuse(send, 400, "主机名不符", "unexpected Host header")
            return
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self._origins:
            await _refuse(send, 403, "拒绝来自其他网站的请求", "requests from other origins are refused")
            return
        token = self.config.token
        from_query = False
        if token is not None:
            given, from_query = self._token_of(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                await _refuse(send, 401, "需要访问令牌（启动时打印的网址中含有）",
                              "a token is required (it is in the URL printed at start)")
                return
        if self.config.read_only and scope["method"] == "POST" and scope["path"] in WRITES:
            await _refuse(send, 403, "只读模式：不能编辑", "read-only: edits are disabled")
            return
        if not from_query:
            await self.app(scope, receive, send)
            return

        async def set_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, set_cookie)
