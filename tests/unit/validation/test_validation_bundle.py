"""Zip intake: hostile archives are refused before anything is inflated; good ones normalise."""

from __future__ import annotations

import io
import random
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable

import pytest

from shared.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from shared.validation import MAX_UPLOAD_BYTES, read_capped, validate_submission
from shared.validation.policy import MAX_FILES, MAX_UNPACKED_BYTES

AGENT = b"import backtrader as bt\n\n\nclass Agent(bt.Strategy):\n    pass\n"


def make_zip(*members: tuple[str | zipfile.ZipInfo, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we build on purpose
        with zipfile.ZipFile(out, "w", method) as archive:
            for name, content in members:
                archive.writestr(name, content)
    return out.getvalue()


def info(name: str, *, mode: int | None = None, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name)
    entry.compress_type = method
    if mode is not None:
        entry.external_attr = mode << 16
    return entry


def lie_about_size(data: bytes, declared: int) -> bytes:
    """Rewrite every local and central header so members claim `declared` uncompressed bytes."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = raw.find(signature)
        while start >= 0:
            struct.pack_into("<I", raw, start + offset, declared)
            start = raw.find(signature, start + 4)
    return bytes(raw)


def mark_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag bit in every header (zipfile clears it when writing)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start >= 0:
            raw[start + offset] |= 0x1
            start = raw.find(signature, start + 4)
    return bytes(raw)


def bomb_declared() -> bytes:
    return make_zip(("agent.py", AGENT), ("data.csv", b"0" * (MAX_UNPACKED_BYTES + 1024 * 1024)))


def bomb_lying_header() -> bytes:
    # 8 MiB of zeros squeezed into ~8 KiB whose headers claim 1000 bytes: passes the declared
    # checks, so only the capped read can stop it.
    return lie_about_size(make_zip(("data.csv", b"0" * (8 * 1024 * 1024)),), 1000)


def oversized_incompressible() -> bytes:
    noise = random.Random(7).randbytes(MAX_UNPACKED_BYTES // 2 + 4096).hex().encode()
    return make_zip(("agent.py", AGENT), ("prices.csv", noise))


HOSTILE_ZIPS: dict[str, tuple[Callable[[], bytes], set[str]]] = {
    "path_traversal": (
        lambda: make_zip(("agent.py", AGENT), ("../../etc/cron.d/evil.py", b"x = 1\n")),
        {"bundle_path_traversal"},
    ),
    "absolute_path": (
        lambda: make_zip(("agent.py", AGENT), (info("/etc/evil.py"), b"x = 1\n")),
        {"bundle_absolute_path"},
    ),
    "backslash_traversal": (
        lambda: make_zip(("agent.py", AGENT), ("..\\evil.py", b"x = 1\n")),
        {"bundle_bad_path", "bundle_path_traversal"},
    ),
    "symlink": (
        lambda: make_zip(("agent.py", AGENT), (info("data.csv", mode=stat.S_IFLNK | 0o777), b"/etc/passwd")),
        {"bundle_symlink"},
    ),
    "encrypted": (
        lambda: mark_encrypted(make_zip(("agent.py", AGENT), ("helper.py", b"x = 1\n"))),
        {"bundle_encrypted"},
    ),
    "bzip2_member": (
        lambda: make_zip(("agent.py", AGENT), (info("helper.py", method=zipfile.ZIP_BZIP2), b"x = 1\n")),
        {"bundle_unsupported_compression"},
    ),
    "zip_bomb_declared": (bomb_declared, {"bundle_too_large", "bundle_compression_ratio"}),
    "oversized_bundle": (oversized_incompressible, {"bundle_too_large"}),
    "too_many_files": (
        lambda: make_zip(("agent.py", AGENT), *((f"m{i}.py", b"x = 1\n") for i in range(MAX_FILES))),
        {"bundle_too_many_files"},
    ),
    "duplicate_names": (lambda: make_zip(("agent.py", AGENT), ("agent.py", b"import os\n")), {"bundle_duplicate_name"}),
    "case_duplicate": (
        lambda: make_zip(("agent.py", AGENT), ("Helper.py", b""), ("helper.py", b"")),
        {"bundle_duplicate_name"},
    ),
    "nested_zip": (
        lambda: make_zip(("agent.py", AGENT), ("inner.zip", make_zip(("agent.py", AGENT)))),
        {"bundle_nested_archive"},
    ),
    "native_library": (lambda: make_zip(("agent.py", AGENT), ("_speedups.so", b"\x7fELF")), {"bundle_file_type"}),
    "missing_agent_py": (lambda: make_zip(("strategy.py", AGENT)), {"missing_entry_module"}),
    "shadowing_module": (lambda: make_zip(("agent.py", AGENT), ("json.py", b"x = 1\n")), {"bundle_shadowing_module"}),
    "forbidden_requirement": (
        lambda: make_zip(("agent.py", AGENT), ("requirements.txt", b"requests==2.32.0\n")),
        {"requirement_not_allowed"},
    ),
    "pinned_version_mismatch": (
        lambda: make_zip(("agent.py", AGENT), ("requirements.txt", b"pandas==1.5.3\n")),
        {"requirement_version_mismatch"},
    ),
    "hostile_helper_module": (
        lambda: make_zip(("agent.py", AGENT + b"import helper\n"), ("helper.py", b"import subprocess\n")),
        {"forbidden_import"},
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_ZIPS))
def test_a_hostile_zip_is_rejected_with_its_expected_codes(name: str) -> None:
    build, expected = HOSTILE_ZIPS[name]
    report = validate_submission(build(), filename=f"{name}.zip")
    assert not report.ok
    assert expected <= report.codes, report.to_dict()["findings"]


def test_a_header_that_lies_about_its_size_cannot_bomb() -> None:
    report = validate_submission(bomb_lying_header(), filename="bomb.zip")
    assert report.codes == {"bundle_corrupt_member"}  # inflation stopped at the declared size
    assert "CRC" in report.findings[0].message
    assert report.bundle is None and report.code_hash is None


def test_nothing_is_inflated_when_the_directory_is_already_bad() -> None:
    report = validate_submission(bomb_declared(), filename="bomb.zip")
    assert report.bundle is None
    assert "syntax_error" not in report.codes  # members were never read


def test_a_zip_of_one_wrapping_folder_is_read_from_inside_it() -> None:
    data = make_zip(("my-agent/agent.py", AGENT), ("my-agent/README.md", b"# hi\r\n"))
    report = validate_submission(data, filename="my-agent.zip")
    assert report.ok and report.files == ("README.md", "agent.py")
    assert report.bundle is not None and report.bundle.files["README.md"] == b"# hi\n"


def test_finder_metadata_is_dropped_silently() -> None:
    data = make_zip(("agent.py", AGENT), ("__MACOSX/._agent.py", b"\x00\x05"), (".DS_Store", b"\x00"))
    report = validate_submission(data, filename="agent.zip")
    assert report.ok and report.files == ("agent.py",)


def test_the_normalised_zip_is_deterministic_and_sorted() -> None:
    first = validate_submission(make_zip(("b.py", b"y = 2\n"), ("agent.py", AGENT)), filename="x.zip")
    stored = make_zip(("agent.py", AGENT), ("b.py", b"y = 2\n"), method=zipfile.ZIP_STORED)
    second = validate_submission(stored, filename="y.zip")
    assert first.bundle is not None and second.bundle is not None
    assert first.bundle.to_zip() == second.bundle.to_zip()
    assert first.code_hash == second.code_hash
    with zipfile.ZipFile(io.BytesIO(first.bundle.to_zip())) as archive:
        assert archive.namelist() == ["agent.py", "b.py"]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_separate_requirements_file_joins_the_bundle() -> None:
    report = validate_submission(AGENT + b"import scipy\n", requirements="scipy\n")
    assert report.ok, report.to_dict()
    assert report.files == ("agent.py", "requirements.txt")


def test_requirements_sent_twice_conflict() -> None:
    data = make_zip(("agent.py", AGENT), ("requirements.txt", b"numpy\n"))
    report = validate_submission(data, filename="a.zip", requirements=b"numpy\n")
    assert report.codes == {"requirements_conflict"}


def test_an_upload_that_is_not_a_zip_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="not a readable zip"):
        validate_submission(b"PK\x03\x04 garbage", filename="agent.zip")


def test_an_upload_over_the_limit_is_payload_too_large() -> None:
    with pytest.raises(PayloadTooLargeError):
        validate_submission(b"#" * (MAX_UPLOAD_BYTES + 1))


def test_an_unknown_file_type_is_unsupported_media() -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        validate_submission(AGENT, filename="agent.exe")


def test_an_empty_upload_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        validate_submission(b"")


def test_read_capped_stops_as_soon_as_the_stream_passes_the_limit() -> None:
    class CountingStream(io.BytesIO):
        consumed = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.consumed += len(chunk)
            return chunk

    stream = CountingStream(b"x" * (5 * 1024 * 1024))
    with pytest.raises(PayloadTooLargeError):
        read_capped(stream, limit=100_000)
    assert stream.consumed <= 100_001
    assert read_capped(io.BytesIO(b"abc"), limit=3) == b"abc"
