"""A user's running paper sessions: at most `MAX_RUNNING_SESSIONS` at once (SPEC §4).

The slots live on `users/{uid}.running_sessions`. A start claims one in the transaction that
creates the session (two concurrent starts cannot both take the last slot); the end of a session
(stopped or failed) releases it in the transaction that records the end. A paused session keeps
its slot: its owner means to resume it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import ConflictError

MAX_RUNNING_SESSIONS = 10


class RunningSessions:
    """The running-session slots of one user, as read in a transaction."""

    def __init__(self, owner_uid: str, user: Mapping[str, Any] | None) -> None:
        self.owner_uid = owner_uid
        self.stored = user is not None  # whether the user document exists yet
        self.session_ids: list[str] = list((user or {}).get("running_sessions") or [])
        self.changed = False

    def claim(self, session_id: str) -> None:
        """Take a slot for `session_id`; ConflictError when every slot is taken."""
        if session_id in self.session_ids:
            return
        if len(self.session_ids) >= MAX_RUNNING_SESSIONS:
            raise ConflictError(
                f"at most {MAX_RUNNING_SESSIONS} paper sessions may run at once; stop one first",
                details={"running_sessions": len(self.session_ids)},
            )
        self.session_ids.append(session_id)
        self.changed = True

    def release(self, session_id: str) -> None:
        """Give back the slot of `session_id` (no-op when it holds none)."""
        if session_id in self.session_ids:
            self.session_ids = [s for s in self.session_ids if s != session_id]
            self.changed = True
