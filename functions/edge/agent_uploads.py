"""Decode a `POST /api/agents` body (multipart or JSON) into a SubmitAgent, size-capped.

The body limit is enforced before anything is buffered: a declared Content-Length over it is
refused at once (413), and the stream read is capped for bodies without one.
"""

from __future__ import annotations

import json
from typing import Any

import flask
from werkzeug.datastructures import FileStorage

from shared.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from shared.services.agent_fields import AgentFields
from shared.services.agents import SubmitAgent
from shared.validation import MAX_UPLOAD_BYTES, read_capped

FORM_OVERHEAD_BYTES = 256 * 1024  # the requirements file, the text fields and the boundaries
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
MAX_REQUIREMENTS_BYTES = 64 * 1024
REQUIREMENTS_FIELDS = ("requirements.txt", "requirements")
MULTIPART, JSON = "multipart/form-data", "application/json"


def submission_from(request: flask.Request, owner_uid: str) -> SubmitAgent:
    """Read the request as a submission by `owner_uid`; 413/415/400 for bodies we cannot take."""
    mimetype = request.mimetype
    if mimetype not in (MULTIPART, JSON):
        raise UnsupportedMediaTypeError(
            f"send {MULTIPART} (file=<.py or .zip>) or {JSON} ({{name, code}}), "
            f"not {mimetype or 'no content type'!r}"
        )
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"request body is {length} bytes; the limit is {MAX_BODY_BYTES}")
    # Werkzeug stops reading (413) past this, also for chunked bodies with no Content-Length.
    request.max_content_length = MAX_BODY_BYTES
    if mimetype == JSON:
        return _from_json(request, owner_uid)
    return _from_form(request, owner_uid)


def _from_json(request: flask.Request, owner_uid: str) -> SubmitAgent:
    raw = read_capped(request.stream, MAX_BODY_BYTES)
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object {name, code}")
    # `agentName` is the earlier platform's spelling of `name` (its website still sends it).
    if "agentName" in body and "name" not in body:
        body["name"] = body.pop("agentName")
    unknown = sorted(set(body) - {"name", "code", "description", "tags", "requirements"})
    if unknown:
        raise InvalidInputError(f"unknown field(s) {unknown}")
    code, requirements = body.get("code"), body.get("requirements")
    if not isinstance(code, str) or not code.strip():
        raise InvalidInputError("code is required: the agent's Python source as a string")
    if requirements is not None and not isinstance(requirements, str):
        raise InvalidInputError("requirements must be the text of a requirements.txt")
    fields = AgentFields.parse(body.get("name"), body.get("description"), body.get("tags"))
    return SubmitAgent(
        owner_uid=owner_uid,
        upload=code.encode(),
        filename="agent.py",
        requirements=requirements.encode() if requirements is not None else None,
        fields=fields,
    )


def _from_form(request: flask.Request, owner_uid: str) -> SubmitAgent:
    upload = request.files.get("file")
    form = request.form
    if (upload is None or not upload.filename) and form.get("code"):
        # The source as a text field: what a client generated from the document can always send.
        data, filename = form["code"].encode(), "agent.py"
    elif upload is None or not upload.filename:
        raise InvalidInputError("multipart field 'file' (a .py file or a .zip bundle) is required")
    else:
        data, filename = read_capped(upload.stream, MAX_UPLOAD_BYTES), upload.filename
    requirements = None
    for name in REQUIREMENTS_FIELDS:
        if name in request.files:
            requirements = _read_small(request.files[name], MAX_REQUIREMENTS_BYTES)
            break
    name = form.get("name") or form.get("agentName") or _stem(filename)
    fields = AgentFields.parse(name, form.get("description"), form.get("tags"))
    return SubmitAgent(
        owner_uid=owner_uid,
        upload=data,
        filename=filename,
        requirements=requirements,
        fields=fields,
    )


def _read_small(part: FileStorage, limit: int) -> bytes:
    return read_capped(part.stream, limit)


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] or "agent"
