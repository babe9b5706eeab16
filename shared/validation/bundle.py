"""Upload intake: capped reads, safe zip unpacking, and the normalised bundle with its hash.

The zip's central directory is checked first (entry count, declared sizes, compression ratios,
paths, symlinks, encryption) and nothing is decompressed unless all of it passes. Members are
then read with a hard cap on the bytes actually produced, so a header that lies about its size
cannot make us inflate more than the declared total.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import IO

from shared.errors import InvalidInputError, PayloadTooLargeError
from shared.validation import policy
from shared.validation.code_hash import normalised_code_hash
from shared.validation.report import Code, Finding

MAX_UPLOAD_BYTES = policy.MAX_UPLOAD_BYTES
_CHUNK = 64 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_TEXT_SUFFIXES = frozenset({".py"}) | policy.DATA_SUFFIXES
_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def read_capped(stream: IO[bytes], limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read `stream` to the end, raising PayloadTooLargeError as soon as it passes `limit` bytes."""
    buffer = bytearray()
    while chunk := stream.read(min(_CHUNK, limit + 1 - len(buffer))):
        buffer += chunk
        if len(buffer) > limit:
            raise PayloadTooLargeError(f"upload is larger than the {limit} byte limit")
    return bytes(buffer)


@dataclass(frozen=True)
class Bundle:
    """An agent's files after normalisation: sorted POSIX names, LF line endings, no BOM."""

    files: dict[str, bytes]

    @classmethod
    def of(cls, files: dict[str, bytes]) -> Bundle:
        """Build a bundle from raw members, normalising their text."""
        return cls({name: _normalise(name, files[name]) for name in sorted(files)})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.files)

    def with_file(self, name: str, content: bytes) -> Bundle:
        """Return a copy with one more (normalised) file."""
        return Bundle.of({**self.files, name: content})

    @cached_property
    def code_hash(self) -> str:
        """Hex sha256 of the normalised code: comment-only or reformatted copies hash alike."""
        return normalised_code_hash(self.files)

    def to_zip(self) -> bytes:
        """Return deterministic zip bytes: sorted names, fixed timestamps and permissions."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, content in self.files.items():
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, content, compresslevel=9)
        return out.getvalue()

    def modules(self) -> dict[str, str]:
        """Map each importable module name (`helper`, `pkg.mod`, `pkg`) to its file."""
        found: dict[str, str] = {}
        for name in self.files:
            path = PurePosixPath(name)
            if path.suffix != ".py":
                continue
            parts = [*path.parent.parts, path.stem]
            if parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                found[".".join(parts)] = name
                for i in range(1, len(parts)):  # namespace packages
                    found.setdefault(".".join(parts[:i]), name)
        return found


def bundle_from_source(source: bytes) -> Bundle:
    """Wrap a single uploaded .py file as a bundle whose entry module is agent.py."""
    return Bundle.of({policy.ENTRY_MODULE: source})


def is_zip(data: bytes) -> bool:
    """True when `data` starts like a zip archive."""
    return data[:4] in ZIP_MAGIC


def open_zip(data: bytes) -> tuple[Bundle | None, list[Finding]]:
    """Unpack a zip upload safely; the bundle is None when any intake finding stops reading."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise InvalidInputError(f"upload is not a readable zip archive: {exc}") from exc
    with archive:
        members, findings = _screen(entries)
        if findings:
            return None, findings
        return _read(archive, members)


def _screen(entries: list[zipfile.ZipInfo]) -> tuple[dict[str, zipfile.ZipInfo], list[Finding]]:
    findings: list[Finding] = []
    if len(entries) > policy.MAX_ZIP_ENTRIES:
        message = f"archive has {len(entries)} entries; the limit is {policy.MAX_ZIP_ENTRIES}"
        return {}, [Finding(Code.BUNDLE_TOO_MANY_FILES, message)]
    files = [e for e in entries if not _ignored(e.filename)]
    for entry in files:
        findings.extend(_check_entry(entry))
    files = [e for e in files if not e.is_dir()]
    if len(files) > policy.MAX_FILES:
        message = f"bundle has {len(files)} files; the limit is {policy.MAX_FILES}"
        findings.append(Finding(Code.BUNDLE_TOO_MANY_FILES, message))
    declared = sum(e.file_size for e in files)
    if declared > policy.MAX_UNPACKED_BYTES:
        message = f"bundle unpacks to {declared} bytes; the limit is {policy.MAX_UNPACKED_BYTES}"
        findings.append(Finding(Code.BUNDLE_TOO_LARGE, message))
    members: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    strip = _wrapping_folder([e.filename for e in files])
    for entry in files:
        name = entry.filename.removeprefix(strip)
        if name in members or name.casefold() in folded:
            findings.append(Finding(Code.BUNDLE_DUPLICATE_NAME, f"{name!r} appears more than once", name))
        members[name] = entry
        folded.add(name.casefold())
    return members, findings


def _check_entry(entry: zipfile.ZipInfo) -> list[Finding]:
    name = entry.filename
    out: list[Finding] = []

    def add(code: Code, message: str) -> None:
        out.append(Finding(code, message, name))

    parts = name.rstrip("/").split("/")
    if "\\" in name:
        add(Code.BUNDLE_BAD_PATH, "path uses backslashes; use '/'")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        add(Code.BUNDLE_ABSOLUTE_PATH, "absolute paths are not allowed in a bundle")
    if ".." in parts or any(".." in p.split("\\") for p in parts):
        add(Code.BUNDLE_PATH_TRAVERSAL, "path escapes the bundle with '..'")
    if len(name) > policy.MAX_PATH_LENGTH or any(ord(c) < 32 for c in name) or (
        not name.startswith("/") and any(p in ("", ".") for p in parts)
    ):
        add(Code.BUNDLE_BAD_PATH, "path has empty or '.' parts, control characters or is too long")
    if stat.S_ISLNK(entry.external_attr >> 16):
        add(Code.BUNDLE_SYMLINK, "symbolic links are not allowed in a bundle")
    if entry.compress_type not in _COMPRESSIONS:
        # bzip2 and lzma inflate a whole input chunk at once, so one chunk could bomb memory.
        add(Code.BUNDLE_UNSUPPORTED_COMPRESSION, "only stored and deflate members are accepted")
    if entry.flag_bits & 0x1:
        add(Code.BUNDLE_ENCRYPTED, "encrypted members are not allowed")
    if not entry.is_dir():
        if entry.file_size > policy.RATIO_CHECK_FLOOR_BYTES and (
            entry.file_size > policy.MAX_COMPRESSION_RATIO * max(entry.compress_size, 1)
        ):
            ratio = entry.file_size // max(entry.compress_size, 1)
            add(Code.BUNDLE_COMPRESSION_RATIO, f"compression ratio {ratio}:1 is over {policy.MAX_COMPRESSION_RATIO}:1")
        out.extend(_check_type(name))
    return out


def _check_type(name: str) -> list[Finding]:
    path = PurePosixPath(name)
    suffix = "".join(path.suffixes[-1:]).lower()
    if suffix == ".py" or name == policy.REQUIREMENTS_FILE or suffix in policy.DATA_SUFFIXES:
        return []
    if path.stem.upper() in ("README", "LICENSE") and not suffix:
        return []
    if suffix in policy.ARCHIVE_SUFFIXES:
        return [Finding(Code.BUNDLE_NESTED_ARCHIVE, "archives inside a bundle are not allowed", name)]
    kinds = "binary and compiled files" if suffix in policy.BINARY_SUFFIXES else f"{suffix or 'extension-less'} files"
    allowed = ", ".join(sorted({".py", *policy.DATA_SUFFIXES}))
    return [Finding(Code.BUNDLE_FILE_TYPE, f"{kinds} are not allowed; allowed: {allowed}", name)]


def _read(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> tuple[Bundle | None, list[Finding]]:
    budget = policy.MAX_UNPACKED_BYTES
    files: dict[str, bytes] = {}
    for name, entry in members.items():
        cap = min(entry.file_size, budget)
        try:
            content = _read_member(archive, entry, cap)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            message = f"member cannot be read (data does not match its header): {exc}"
            return None, [Finding(Code.BUNDLE_CORRUPT_MEMBER, message, name)]
        if content is None or len(content) != entry.file_size:
            message = f"member does not decompress to its declared {entry.file_size} bytes"
            return None, [Finding(Code.BUNDLE_SIZE_MISMATCH, message, name)]
        budget -= len(content)
        files[name] = content
    return Bundle.of(files), []


def _read_member(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, cap: int) -> bytes | None:
    # zipfile inflates deflate data with a max_length per call and stops at the declared size
    # (a longer stream then fails its CRC), and `cap` bounds what we keep even if it did not.
    buffer = bytearray()
    with archive.open(entry) as member:
        while chunk := member.read(_CHUNK):
            buffer += chunk
            if len(buffer) > cap:
                return None
    return bytes(buffer)


def _ignored(name: str) -> bool:
    return name.startswith(policy.IGNORED_PREFIXES) or PurePosixPath(name).name in policy.IGNORED_BASENAMES


def _wrapping_folder(names: list[str]) -> str:
    # Zipping a folder puts every file under it; accept `strategy/agent.py` as `agent.py`.
    if policy.ENTRY_MODULE in names or not names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = tops.pop() + "/"
        if prefix + policy.ENTRY_MODULE in names:
            return prefix
    return ""


def _normalise(name: str, content: bytes) -> bytes:
    if PurePosixPath(name).suffix.lower() not in _TEXT_SUFFIXES and name != policy.REQUIREMENTS_FILE:
        return content
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return content  # the source check reports it; keep the bytes as uploaded
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").encode()
