"""Check an agent's requirements.txt against the platform's allow-list and pinned versions."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from shared.validation import policy
from shared.validation.report import Code, Finding

FILE = policy.REQUIREMENTS_FILE
_ARCHIVE_ENDINGS = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".egg")


@dataclass(frozen=True)
class RequirementsCheck:
    """The allow-listed distributions requested, with the pins the platform will install."""

    pins: dict[str, str]
    findings: list[Finding]

    @property
    def declared(self) -> frozenset[str]:
        return frozenset(self.pins)


def check_requirements(content: bytes) -> RequirementsCheck:
    """Parse `content` line by line and report every line that is not an allowed package."""
    try:
        text = content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return RequirementsCheck({}, [Finding(Code.NOT_UTF8, f"requirements.txt is not UTF-8: {exc.reason}", FILE)])
    pins: dict[str, str] = {}
    findings: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        finding, name = _check_line(line, number)
        if finding is not None:
            findings.append(finding)
        elif name is not None:
            if name in pins:
                findings.append(Finding(Code.REQUIREMENT_DUPLICATE, f"{name} is listed twice", FILE, number, 1))
            pins[name] = policy.REQUIREMENT_PINS[name]
    return RequirementsCheck(pins, findings)


def _check_line(line: str, number: int) -> tuple[Finding | None, str | None]:
    def finding(code: Code, message: str) -> tuple[Finding, None]:
        return Finding(code, message, FILE, number, 1), None

    if line.startswith("-"):
        option = line.split()[0]
        return finding(Code.REQUIREMENT_OPTION, f"pip option {option!r} is not allowed; list package names only")
    if "://" in line or " @ " in line or line.startswith("git+"):
        return finding(Code.REQUIREMENT_URL, "URL requirements are not allowed; name an allowed package")
    if line.startswith((".", "/", "~")) or "/" in line or "\\" in line or line.endswith(_ARCHIVE_ENDINGS):
        return finding(Code.REQUIREMENT_LOCAL_PATH, "local paths and archives are not allowed")
    if line.endswith("\\"):
        return finding(Code.REQUIREMENT_SYNTAX, "line continuations are not supported")
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        return finding(Code.REQUIREMENT_SYNTAX, f"cannot parse requirement: {exc}")
    name = canonicalize_name(requirement.name)
    pin = policy.REQUIREMENT_PINS.get(name)
    if pin is None:
        allowed = ", ".join(f"{n}=={v}" for n, v in sorted(policy.REQUIREMENT_PINS.items()))
        return finding(Code.REQUIREMENT_NOT_ALLOWED,
                       f"{requirement.name!r} is not an allowed package; allowed: {allowed}")
    if requirement.extras or requirement.marker is not None or requirement.url:
        return finding(Code.REQUIREMENT_UNSUPPORTED, "extras, markers and URLs are not supported; write the name only")
    if requirement.specifier and not requirement.specifier.contains(Version(pin), prereleases=True):
        message = f"the platform installs {name}=={pin}, which does not satisfy {str(requirement.specifier)!r}"
        return finding(Code.REQUIREMENT_VERSION_MISMATCH, message)
    return None, name
