"""`farm submit PATH`: upload an agent (.py file or .zip bundle) to the platform's API.

    farm submit examples/sma_crossover.py [--name N] [--description D] [--tags a,b]
        [--requirements requirements.txt] [--user alice] [--url http://127.0.0.1:8080] [--json]

Posts the file as multipart to POST /api/agents with a token: `--user` mints a local one, as
`farm token` does (local backend); otherwise FARM_TOKEN from the environment is sent (e.g. a
Firebase ID token for a deployed API). Prints the new agent's id and status. When the agent
fails validation, every finding is listed as `file:line:col code message`.

Exit codes: 0 stored, 1 rejected by validation, 2 any other error (bad arguments, no or bad
token, duplicate code, too large, API unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from shared.errors import (
    AuthenticationError,
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SettingsError,
)

NAME = "submit"
DEFAULT_URL = "http://127.0.0.1:8080"
TOKEN_VARIABLE = "FARM_TOKEN"
CONTENT_TYPES = {".py": "text/x-python", ".zip": "application/zip"}
REJECTED = 1


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `submit` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="upload an agent (.py or .zip) and show its status",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="the agent: a .py file or a .zip bundle")
    parser.add_argument("--name", default=None, help="display name (default: the file's stem)")
    parser.add_argument("--description", default=None)
    parser.add_argument("--tags", default=None, help="comma-separated, e.g. momentum,daily")
    parser.add_argument("--requirements", default=None, help="a requirements.txt (allow-listed packages)")
    parser.add_argument("--user", default=None, help=f"mint a local token for this user (else ${TOKEN_VARIABLE})")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Upload the agent and print the outcome; see the module docstring for exit codes."""
    path = _agent_file(args.path)
    requirements = _readable(args.requirements, "requirements file") if args.requirements else None
    token = _token(args.user)
    status, body = post_agent(args.url, token, path, requirements=requirements,
                              fields={"name": args.name, "description": args.description, "tags": args.tags})
    if status == 201 and body is not None:
        print(json.dumps(body, indent=2) if args.json else f"agent {body['agent_id']}: {body['status']}")
        return 0
    error = (body or {}).get("error") or {}
    if status == 422 and isinstance(error.get("details"), dict):
        if args.json:
            print(json.dumps(body, indent=2))
        print(f"farm submit: {path.name} rejected: {error.get('message', 'validation failed')}", file=sys.stderr)
        for line in findings(error["details"]):
            print(f"  {line}", file=sys.stderr)
        return REJECTED
    raise _error(status, error.get("message") or f"HTTP {status}", error.get("code"))


def post_agent(base_url: str, token: str, path: Path, *, requirements: Path | None = None,
               fields: dict[str, str | None] | None = None) -> tuple[int, dict[str, Any] | None]:
    """POST `path` as multipart to /api/agents; the status and the decoded JSON answer."""
    import requests

    files: dict[str, tuple[str, bytes, str]] = {"file": (path.name, path.read_bytes(), CONTENT_TYPES[path.suffix])}
    if requirements is not None:
        files["requirements.txt"] = ("requirements.txt", requirements.read_bytes(), "text/plain")
    data = {k: v for k, v in (fields or {}).items() if v is not None}
    url = base_url.rstrip("/") + "/api/agents"
    try:
        response = requests.post(url, files=files, data=data, headers={"Authorization": f"Bearer {token}"},
                                 timeout=60)
    except requests.RequestException as exc:
        raise FarmError(f"cannot reach {base_url} ({exc.__class__.__name__}); is `farm up` running?") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body if isinstance(body, dict) else None


def findings(report: dict[str, Any]) -> list[str]:
    """A validation report's findings as `file:line:col code message` lines, in report order."""
    lines = []
    for finding in report.get("findings") or []:
        where = ":".join(str(part) for part in (finding.get("file"), finding.get("line"), finding.get("col"))
                         if part is not None)
        severity = "" if finding.get("severity", "error") == "error" else f" ({finding['severity']})"
        lines.append(f"{where or '-'} {finding.get('code')}{severity} {finding.get('message')}")
    return lines


def _agent_file(raw: str) -> Path:
    path = _readable(raw, "agent file")
    if path.suffix not in CONTENT_TYPES:
        raise InvalidInputError(f"{raw}: an agent is a .py file or a .zip bundle, not {path.suffix or 'no suffix'!r}")
    return path


def _readable(raw: str, what: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"{what} {raw!r} does not exist or is not a file")
    return path


def _token(user: str | None) -> str:
    if user:
        from farm.commands._api_client import local_token
        from shared.settings import Settings

        if Settings.from_env().backend != "local":
            raise SettingsError(f"--user mints local tokens only; with FARM_BACKEND=gcp set {TOKEN_VARIABLE} "
                                "to a Firebase ID token")
        return local_token(user)
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise InvalidInputError(f"give --user alice (local stack) or set {TOKEN_VARIABLE} to an ID token")
    return token


def _error(status: int, message: str, code: str | None) -> FarmError:
    text = f"{status} {code or 'error'}: {message}"
    for statuses, cls in (((401,), AuthenticationError), ((404,), NotFoundError), ((409,), ConflictError),
                          ((413,), PayloadTooLargeError), ((400, 415, 422), InvalidInputError)):
        if status in statuses:
            return cls(text)
    if status == 429:
        return RateLimitedError(text, retry_after_s=60.0)
    return FarmError(text)
