"""The corpus: every hostile submission is rejected with its expected codes; every ordinary one passes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from shared.validation import validate_submission

CORPUS = Path(__file__).parent / "corpus"
HOSTILE = sorted(p for p in (CORPUS / "hostile").iterdir() if p.suffix in (".py", ".pysrc"))
ORDINARY = sorted((CORPUS / "ordinary").glob("*.py"))
BUNDLES = sorted(p for p in (CORPUS / "ordinary" / "bundles").iterdir() if p.is_dir())


def expected_codes(raw: bytes) -> set[str]:
    """Read the `# expect: code ...` line every hostile corpus file carries."""
    for line in raw.splitlines()[:3]:
        if line.startswith(b"# expect:"):
            return set(line.split(b":", 1)[1].decode().split())
    raise AssertionError("corpus file has no '# expect:' line")


def zip_directory(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out.getvalue()


def test_the_corpus_is_as_large_as_promised() -> None:
    assert len(HOSTILE) >= 30
    assert len(ORDINARY) + len(BUNDLES) >= 12
    # One agent per evasion class of the trust-boundary issue (ev01-ev21 follow its list),
    # and at least 20 strategies adapted from backtrader's own samples.
    assert len([p for p in HOSTILE if p.name.startswith("ev")]) >= 23
    assert len([p for p in ORDINARY if p.name.startswith("sample_")]) >= 20


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_a_hostile_submission_is_rejected_with_its_expected_codes(path: Path) -> None:
    raw = path.read_bytes()
    report = validate_submission(raw, filename="agent.py")
    assert not report.ok
    assert expected_codes(raw) <= report.codes, report.to_dict()["findings"]
    assert all(f.file == "agent.py" for f in report.findings)
    assert all(f.line is not None for f in report.findings if f.code not in ("missing_agent",))


@pytest.mark.parametrize("path", ORDINARY, ids=lambda p: p.stem)
def test_an_ordinary_strategy_is_accepted_with_zero_findings(path: Path) -> None:
    report = validate_submission(path.read_bytes(), filename=path.name)
    assert report.findings == (), [f.to_dict() for f in report.findings]
    assert report.ok and report.code_hash and report.files == ("agent.py",)


@pytest.mark.parametrize("folder", BUNDLES, ids=lambda p: p.name)
def test_an_ordinary_bundle_is_accepted_with_zero_findings(folder: Path) -> None:
    report = validate_submission(zip_directory(folder), filename=f"{folder.name}.zip")
    assert report.findings == (), [f.to_dict() for f in report.findings]
    expected = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert list(report.files) == expected


def test_the_same_code_as_a_file_or_as_a_zip_gets_the_same_hash() -> None:
    source = (CORPUS / "ordinary" / "sma_crossover.py").read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("agent.py", source.replace(b"\n", b"\r\n"))  # uploaded from Windows
    as_file = validate_submission(source, filename="strategy.py")
    as_zip = validate_submission(archive.getvalue(), filename="upload.zip")
    assert as_file.code_hash == as_zip.code_hash
    assert as_file.bundle is not None and as_zip.bundle is not None
    assert as_file.bundle.to_zip() == as_zip.bundle.to_zip()
    other = validate_submission(source.replace(b"(\"fast\", 10)", b"(\"fast\", 11)"))
    assert other.code_hash != as_file.code_hash
