"""Validate one agent submission end to end: intake, requirements, every source, the contract."""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from shared.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from shared.validation import policy
from shared.validation.agent_contract import check_agent
from shared.validation.bundle import Bundle, bundle_from_source, is_zip, open_zip
from shared.validation.bundle_rules import FileFacts, judge_bundle
from shared.validation.report import Code, Finding, ValidationReport
from shared.validation.requirements import check_requirements
from shared.validation.source_checks import SourceContext, check_source, gc_paused


def validate_submission(
    upload: bytes | str,
    *,
    filename: str = policy.ENTRY_MODULE,
    requirements: bytes | str | None = None,
) -> ValidationReport:
    """Validate an uploaded .py file or .zip bundle (plus an optional separate requirements.txt).

    Returns a report listing every finding; `report.bundle` holds the normalised bundle to store
    and `report.code_hash` identifies its normalised code (computed on first use). Raises
    PayloadTooLargeError, InvalidInputError or UnsupportedMediaTypeError when the upload itself
    cannot be taken in.
    """
    data = upload.encode() if isinstance(upload, str) else upload
    if len(data) > policy.MAX_UPLOAD_BYTES:
        raise PayloadTooLargeError(f"upload is {len(data)} bytes; the limit is {policy.MAX_UPLOAD_BYTES}")
    if not data:
        raise InvalidInputError("upload is empty")
    suffix = PurePosixPath(filename).suffix.lower()
    if is_zip(data) or suffix == ".zip":
        bundle, findings = open_zip(data)
        if bundle is None:
            return _report(findings, None)
    elif suffix in (".py", ""):
        bundle, findings = bundle_from_source(data), []
    else:
        raise UnsupportedMediaTypeError(f"{filename!r}: upload a .py file or a .zip bundle")
    if requirements is not None:
        extra = requirements.encode() if isinstance(requirements, str) else requirements
        if policy.REQUIREMENTS_FILE in bundle.files:
            message = "requirements.txt was sent both inside the bundle and as a separate file"
            findings.append(Finding(Code.REQUIREMENTS_CONFLICT, message, policy.REQUIREMENTS_FILE))
        else:
            bundle = bundle.with_file(policy.REQUIREMENTS_FILE, extra)
    findings.extend(validate_bundle(bundle))
    return _report(findings, bundle)


def validate_bundle(bundle: Bundle) -> list[Finding]:
    """Check an unpacked bundle: requirements, module names, every source file, the contract."""
    findings: list[Finding] = []
    declared: frozenset[str] = frozenset()
    if policy.REQUIREMENTS_FILE in bundle.files:
        requirements = check_requirements(bundle.files[policy.REQUIREMENTS_FILE])
        findings.extend(requirements.findings)
        declared = requirements.declared
    modules = bundle.modules()
    for module, path in sorted(modules.items()):
        if "." not in module and module in policy.SHADOW_PROTECTED:
            message = f"{path!r} would shadow the module {module!r}; rename it"
            findings.append(Finding(Code.BUNDLE_SHADOWING_MODULE, message, path))
    if policy.ENTRY_MODULE not in bundle.files:
        message = f"the bundle has no {policy.ENTRY_MODULE} at its root"
        findings.append(Finding(Code.MISSING_ENTRY_MODULE, message))
    statements: dict[str, list[ast.stmt]] = {}
    packages: dict[str, tuple[str, ...]] = {}
    facts: list[FileFacts] = []
    module_of = {path: module for module, path in modules.items() if _owns(module, path)}
    with gc_paused():
        for path, content in bundle.files.items():
            if not path.endswith(".py"):
                continue
            module = module_of.get(path, "")
            package = tuple(module.split(".")[:-1]) if not path.endswith("__init__.py") else tuple(module.split("."))
            context = SourceContext(frozenset(modules), package, declared)
            checked = check_source(path, content, context)
            findings.extend(checked.findings)
            if checked.statements is not None and module:
                statements[module], packages[module] = checked.statements, package
            if checked.facts is not None:
                facts.append(FileFacts(path, module, checked.facts))
    findings.extend(judge_bundle(facts, frozenset(modules)))
    if policy.ENTRY_MODULE in bundle.files:
        findings.extend(check_agent(statements, packages, policy.ENTRY_MODULE))
    return findings


def _owns(module: str, path: str) -> bool:
    # bundle.modules() also maps namespace packages to a file inside them; keep the file's own.
    stem = path[: -len("/__init__.py")] if path.endswith("/__init__.py") else path[: -len(".py")]
    return stem.replace("/", ".") == module


def _report(findings: list[Finding], bundle: Bundle | None) -> ValidationReport:
    ordered = tuple(sorted(findings, key=Finding.sort_key))
    if bundle is None:
        return ValidationReport(ordered)
    return ValidationReport(ordered, bundle.names, bundle)
