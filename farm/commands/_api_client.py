"""A small HTTP client of the platform's API for CLI commands (local stack or deployed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from shared.errors import FarmError, NotFoundError

DEFAULT_URL = "http://127.0.0.1:8080"


def get_json(base_url: str, path: str, params: dict[str, Any] | None = None, token: str | None = None) -> Any:
    """GET `path` with query `params`; the API's error envelope becomes a FarmError."""
    query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
    request = urllib.request.Request(base_url.rstrip("/") + path + (f"?{query}" if query else ""))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = exc.reason
        raise (NotFoundError if exc.code == 404 else FarmError)(f"{exc.code}: {message}") from None
    except urllib.error.URLError as exc:
        raise FarmError(f"cannot reach {base_url} ({exc.reason}); is `farm up` running?") from None


def local_token(user: str) -> str:
    """Mint a local ID token for `user`, as `farm token` does."""
    from shared.identity import LOCAL_PROJECT
    from shared.identity.local_keys import load_or_create_signing_key
    from shared.identity.minting import mint_id_token
    from shared.settings import Settings

    settings = Settings.from_env()
    return mint_id_token(load_or_create_signing_key(settings.data_dir), user, project=LOCAL_PROJECT)
