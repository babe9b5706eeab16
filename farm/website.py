"""The website on the local host: the built site at `/` and the local sign-in route.

`farm up` serves `web/dist` (built by `make web`) on the same origin as the API: real files as
they are, every other path that is not an API route gets `index.html` (the site routes on the
client), and unknown `/api/...` paths keep the API's JSON 404.

The local sign-in (`/local/sign-in`) mints a local ID token for a user name, exactly what
`farm token` prints. It is mounted only with the local backend, and answers only a loopback
client that names a loopback host: never another machine, never a page that rebinds a DNS name
to 127.0.0.1, never a cross-site form (it takes JSON only, which a foreign page cannot send
without a CORS preflight that this route does not answer).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import flask

from functions.edge.http import error_response
from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from shared.settings import Settings

SITE_DIR = Path(__file__).resolve().parents[1] / "web" / "dist"
SIGN_IN_PATH = "/local/sign-in"
API_PREFIXES = ("/api/", "/healthz")
USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# Hashed assets never change under a name; index.html must be revalidated to pick up a new build.
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything the site loads is its own (no CDN); charts set inline styles, hence 'unsafe-inline'.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def mount_website(app: flask.Flask, site_dir: Path, settings: Settings) -> None:
    """Serve `site_dir` at `/` and, with the local backend only, the local sign-in route."""
    if settings.backend == "local":
        mount_local_sign_in(app, settings)
    root = site_dir.resolve()

    def site(path: str = "") -> flask.Response:
        request_path = "/" + path
        if request_path.startswith(API_PREFIXES) or flask.request.method not in ("GET", "HEAD"):
            return error_response(NotFoundError(f"no route for {request_path}"))
        index = root / "index.html"
        if not index.is_file():
            return error_response(NotFoundError(
                f"the website is not built ({root} has no index.html): run `make web`"))
        target = (root / path).resolve()
        if path and target.is_file() and target.is_relative_to(root):
            response = flask.send_file(target, max_age=None)
            if path.startswith("assets/"):
                response.headers["Cache-Control"] = IMMUTABLE
        else:
            response = flask.send_file(index, max_age=None)
            response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app.add_url_rule("/", "website-root", site, methods=methods)
    app.add_url_rule("/<path:path>", "website", site, methods=methods)


def mount_local_sign_in(app: flask.Flask, settings: Settings) -> None:
    """Add `GET/POST /local/sign-in`; refuses to, loudly, for any backend but local."""
    if settings.backend != "local":
        raise PermissionDeniedError("the local sign-in exists only with FARM_BACKEND=local")

    def sign_in() -> Any:
        try:
            _check_loopback(flask.request)
            if flask.request.method == "GET":
                return {"available": True, "backend": "local"}
            return _mint(flask.request, settings)
        except (InvalidInputError, PermissionDeniedError) as exc:
            return error_response(exc)

    app.add_url_rule(SIGN_IN_PATH, "local-sign-in", sign_in, methods=["GET", "POST"])


def is_loopback_address(address: str | None) -> bool:
    """Whether `address` is a loopback IP (127.0.0.0/8, ::1, or an IPv4-mapped one)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _check_loopback(request: flask.Request) -> None:
    if not is_loopback_address(request.remote_addr):
        raise PermissionDeniedError("the local sign-in answers only on this machine (loopback)")
    host = _host_name(request.host or "").lower()
    if host not in LOOPBACK_NAMES and not is_loopback_address(host.strip("[]")):
        raise PermissionDeniedError(f"the local sign-in answers only to a loopback host name, not {host!r}")
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise PermissionDeniedError("the local sign-in answers only to this site's own pages")


def _mint(request: flask.Request, settings: Settings) -> dict[str, Any]:
    if not request.is_json:
        raise InvalidInputError("send JSON: {\"user\": \"alice\"}")
    body = request.get_json(silent=True)
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, str) or not USER.fullmatch(user):
        raise InvalidInputError("user must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    # Imported here: the host must not load the crypto libraries until someone signs in.
    from shared.identity import LOCAL_PROJECT
    from shared.identity.local_keys import load_or_create_signing_key
    from shared.identity.minting import DEFAULT_TTL_S, mint_id_token

    key = load_or_create_signing_key(settings.data_dir)
    token = mint_id_token(key, user, project=LOCAL_PROJECT, ttl_s=DEFAULT_TTL_S)
    return {"token": token, "uid": user, "expires_in": DEFAULT_TTL_S, "backend": "local"}
