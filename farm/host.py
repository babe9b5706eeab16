"""The local function host: every registry function on one port and its triggers wired.

HTTP functions are mounted at their own paths (all methods go to the function, so 405, CORS
and OPTIONS are answered by the same edge code as in a deployed function); topic and document
functions get dispatchers (farm.dispatch) that deliver the CloudEvents GCP would.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import flask
from werkzeug.serving import BaseWSGIServer, make_server

from farm.dispatch import DocumentDispatcher, TopicDispatcher
from functions import _platform
from functions.edge.http import error_response
from functions.registry import FUNCTIONS, DocumentTrigger, FunctionSpec, HttpTrigger, TopicTrigger
from shared.app import Application
from shared.errors import NotFoundError
from shared.schemas.topics import ALL_TOPICS, dead_letter

log = logging.getLogger(__name__)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
LOCAL_PROJECT = "farm-local"  # the project name local CloudEvents carry when none is set


def load_entry_point(spec: FunctionSpec) -> Callable[..., Any]:
    """Import `spec.module` and return its entry point; a clear error when it is missing."""
    module = importlib.import_module(spec.module)
    fn = getattr(module, spec.entry_point, None)
    if fn is None:
        raise AttributeError(f"{spec.module} has no entry point {spec.entry_point!r} ({spec.name})")
    if not callable(fn):
        raise TypeError(f"{spec.module}.{spec.entry_point} is not callable ({spec.name})")
    return fn


class FunctionHost:
    """Serve HTTP functions and dispatch event functions for one Application."""

    def __init__(
        self,
        platform: Application,
        specs: Sequence[FunctionSpec] = FUNCTIONS,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        site_dir: Path | None = None,
    ) -> None:
        self.platform = platform
        self.specs = tuple(specs)
        self.site_dir = site_dir  # the built website served at / (farm.website), when given
        self.project = platform.settings.gcp_project or LOCAL_PROJECT
        self._bind = (host, platform.settings.port if port is None else port)
        self.app = self._build_app()
        self._dispatchers: list[TopicDispatcher | DocumentDispatcher] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._previous: Application | None = None

    @property
    def port(self) -> int:
        """The port being served (the real one when started with port 0)."""
        return self._server.server_port if self._server else self._bind[1]

    @property
    def url(self) -> str:
        """The base URL of the running host."""
        return f"http://{self._bind[0]}:{self.port}"

    def start(self) -> Self:
        """Create topics, start event dispatchers, then serve HTTP in a thread."""
        self._previous = _platform.use_platform(self.platform)
        self._ensure_topics()
        for spec in self.specs:
            if isinstance(spec.trigger, TopicTrigger):
                d: TopicDispatcher | DocumentDispatcher = TopicDispatcher(
                    self.platform.messages, spec, load_entry_point(spec), project=self.project
                )
            elif isinstance(spec.trigger, DocumentTrigger):
                d = DocumentDispatcher(
                    self.platform.documents, spec, load_entry_point(spec), project=self.project
                )
            else:
                continue
            d.start()
            self._dispatchers.append(d)
        self._server = make_server(*self._bind, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="farm-http", daemon=True
        )
        self._thread.start()
        log.info("farm host on %s with %d functions", self.url, len(self.specs))
        return self

    def stop(self) -> None:
        """Stop serving and dispatching; subscriptions stay (they are durable)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        for d in self._dispatchers:
            d.stop()
        self._dispatchers.clear()
        self._server = self._thread = None
        _platform.use_platform(self._previous)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _ensure_topics(self) -> None:
        topics = list(ALL_TOPICS)
        for spec in self.specs:
            if isinstance(spec.trigger, TopicTrigger):
                topics += [spec.trigger.topic, dead_letter(spec.trigger.topic)]
        for topic in dict.fromkeys(topics):
            self.platform.messages.create_topic(topic)

    def _build_app(self) -> flask.Flask:
        app = flask.Flask("farm")
        for spec in self.specs:
            if isinstance(spec.trigger, HttpTrigger):
                view = _view(load_entry_point(spec))
                app.add_url_rule(spec.trigger.path, spec.name, view, methods=ALL_METHODS)
        app.register_error_handler(
            404, lambda _: error_response(NotFoundError(f"no route for {flask.request.path}"))
        )
        if self.site_dir is not None:
            from farm.website import mount_website

            mount_website(app, self.site_dir, self.platform.settings)
        return app


def _view(fn: Callable[[flask.Request], Any]) -> Callable[..., Any]:
    def view(**_path_params: Any) -> Any:
        # The function matches its own path, exactly as it does when deployed.
        return fn(flask.request)

    view.provide_automatic_options = False  # type: ignore[attr-defined]
    return view
