"""GET /api/fmel/agents/<agent_id>/export: every matching decision as JSON lines or CSV, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.fmel_args import filter_from
from functions.edge.http import http_endpoint
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.schemas.warehouse import DECISIONS
from shared.services.fmel_analytics import export_decisions
from shared.services.rate_limits import REQUESTS

NAME = "farm-fmel-export"
COLUMNS = [c.name for c in DECISIONS.columns]
FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def fmel_export(request: flask.Request, caller: Principal, agent_id: str) -> flask.Response:
    """Stream the agent's decisions (`format=jsonl` default, or `csv`); 404 for another's agent."""
    fmt = request.args.get("format") or "jsonl"
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}")
    platform = _platform.platform()
    rows = export_decisions(
        filter_from(request, caller.uid, agent_id), warehouse=platform.warehouse, documents=platform.documents
    )
    body = _jsonl(rows) if fmt == "jsonl" else _csv(rows)
    response = flask.Response(flask.stream_with_context(body), mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="fmel-{agent_id}.{fmt}"'
    return response


def _jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps(row, separators=(",", ":")) + "\n").encode()


def _csv(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    # Nested columns (actions, data_accessed, positions) are JSON text in their cell.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else value
