"""FMEL: record what every decision of an agent read, did and held (SPEC §10).

Attach `FmelAnalyzer` to a cerebro with `sink=FmelRecorder(...).add`; rows follow
`shared.schemas.warehouse.DECISIONS`.
"""

from shared.fmel.analyzer import FmelAnalyzer
from shared.fmel.record import action_for, decision_id, row_from_json, row_to_json
from shared.fmel.recorder import FmelRecorder
from shared.fmel.tracker import AccessTracker, summarise

__all__ = [
    "AccessTracker",
    "FmelAnalyzer",
    "FmelRecorder",
    "action_for",
    "decision_id",
    "row_from_json",
    "row_to_json",
    "summarise",
]
