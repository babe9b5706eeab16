"""Agent validation (SPEC §6): intake limits, an AST lint of every source, the agent contract.

Typical use at the HTTP edge::

    data = read_capped(request.stream)              # 413 before buffering too much
    report = validate_submission(data, filename=upload.filename, requirements=req_bytes)
    report.raise_if_failed()                         # ValidationFailedError -> 422 with the report
    store(report.bundle.to_zip(), report.code_hash)  # equal code_hash for the same user -> 409

This is a lint for early feedback; the sandbox the agent runs in is the security boundary.
"""

from shared.validation.bundle import MAX_UPLOAD_BYTES, Bundle, read_capped
from shared.validation.report import Code, Finding, ValidationReport
from shared.validation.submission import validate_bundle, validate_submission

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Bundle",
    "Code",
    "Finding",
    "ValidationReport",
    "read_capped",
    "validate_bundle",
    "validate_submission",
]
