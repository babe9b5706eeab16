"""What validation found: findings with a stable code and a location, collected in a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from shared.errors import ValidationFailedError

if TYPE_CHECKING:
    from shared.validation.bundle import Bundle

Severity = Literal["error", "warning"]


class Code(StrEnum):
    """Stable finding codes; clients may switch on them, so never rename one."""

    # source files
    SYNTAX_ERROR = "syntax_error"
    NOT_UTF8 = "not_utf8"
    BAD_ENCODING_DECLARATION = "bad_encoding_declaration"
    NULL_BYTE = "null_byte"
    TOO_COMPLEX = "too_complex"
    # imports
    FORBIDDEN_IMPORT = "forbidden_import"
    UNKNOWN_IMPORT = "unknown_import"
    RELATIVE_IMPORT = "relative_import"
    UNDECLARED_REQUIREMENT = "undeclared_requirement"
    STAR_IMPORT = "star_import"
    # names, calls and attributes
    FORBIDDEN_NAME = "forbidden_name"
    DYNAMIC_ATTRIBUTE = "dynamic_attribute"
    DUNDER_ATTRIBUTE = "dunder_attribute"
    FORBIDDEN_ATTRIBUTE = "forbidden_attribute"
    DUNDER_STRING = "dunder_string"
    FORMAT_ATTRIBUTE = "format_attribute"
    DYNAMIC_FORMAT = "dynamic_format"
    DYNAMIC_TYPE = "dynamic_type"
    METACLASS = "metaclass"
    PRIVATE_ATTRIBUTE = "private_attribute"
    MODULE_ATTRIBUTE = "module_attribute"
    MODULE_AS_VALUE = "module_as_value"
    FORBIDDEN_IO = "forbidden_io"
    STRING_ANNOTATION = "string_annotation"
    # the agent contract
    MISSING_ENTRY_MODULE = "missing_entry_module"
    MISSING_AGENT = "missing_agent"
    AGENT_NOT_STRATEGY = "agent_not_strategy"
    # bundle intake
    BUNDLE_TOO_MANY_FILES = "bundle_too_many_files"
    BUNDLE_TOO_LARGE = "bundle_too_large"
    BUNDLE_COMPRESSION_RATIO = "bundle_compression_ratio"
    BUNDLE_SIZE_MISMATCH = "bundle_size_mismatch"
    BUNDLE_CORRUPT_MEMBER = "bundle_corrupt_member"
    BUNDLE_ENCRYPTED = "bundle_encrypted"
    BUNDLE_UNSUPPORTED_COMPRESSION = "bundle_unsupported_compression"
    BUNDLE_SYMLINK = "bundle_symlink"
    BUNDLE_ABSOLUTE_PATH = "bundle_absolute_path"
    BUNDLE_PATH_TRAVERSAL = "bundle_path_traversal"
    BUNDLE_BAD_PATH = "bundle_bad_path"
    BUNDLE_DUPLICATE_NAME = "bundle_duplicate_name"
    BUNDLE_NESTED_ARCHIVE = "bundle_nested_archive"
    BUNDLE_FILE_TYPE = "bundle_file_type"
    BUNDLE_SHADOWING_MODULE = "bundle_shadowing_module"
    # requirements.txt
    REQUIREMENT_NOT_ALLOWED = "requirement_not_allowed"
    REQUIREMENT_VERSION_MISMATCH = "requirement_version_mismatch"
    REQUIREMENT_URL = "requirement_url"
    REQUIREMENT_LOCAL_PATH = "requirement_local_path"
    REQUIREMENT_OPTION = "requirement_option"
    REQUIREMENT_SYNTAX = "requirement_syntax"
    REQUIREMENT_UNSUPPORTED = "requirement_unsupported"
    REQUIREMENT_DUPLICATE = "requirement_duplicate"
    REQUIREMENTS_CONFLICT = "requirements_conflict"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place; `line` and `col` are 1-based, None when not about a line."""

    code: Code
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form the HTTP API shows."""
        return {
            "code": str(self.code),
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, then position, then code."""
        return (self.file or "", self.line or 0, self.col or 0, str(self.code))


@dataclass(frozen=True)
class ValidationReport:
    """Every finding of one submission, plus its normalised bundle when it could be read."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...] = ()
    bundle: Bundle | None = field(default=None, repr=False, compare=False)

    @cached_property
    def code_hash(self) -> str | None:
        """The bundle's normalised code hash (equal for comment-only or reformatted copies).

        Computed on first use, not during validation: it parses every module once more.
        """
        return None if self.bundle is None else self.bundle.code_hash

    @property
    def ok(self) -> bool:
        """True when no finding is an error (warnings alone do not reject)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def codes(self) -> set[str]:
        """The distinct finding codes, handy for callers and tests."""
        return {str(f.code) for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form stored on the agent document and sent with a 422."""
        return {
            "ok": self.ok,
            "code_hash": self.code_hash,
            "files": list(self.files),
            "error_count": len(self.errors),
            "findings": [f.to_dict() for f in self.findings],
        }

    def raise_if_failed(self) -> None:
        """Raise ValidationFailedError carrying this report when any finding is an error."""
        if not self.ok:
            n = len(self.errors)
            raise ValidationFailedError(
                f"agent failed validation with {n} error{'s' if n != 1 else ''}",
                details=self.to_dict(),
            )
