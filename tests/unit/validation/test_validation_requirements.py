"""requirements.txt: allow-listed names, platform pins, nothing pip could be tricked with."""

from __future__ import annotations

import pytest

from shared.validation.requirements import check_requirements


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("requests==2.32.3", "requirement_not_allowed"),
        ("numpy==1.26.4", "requirement_version_mismatch"),
        ("pandas<2", "requirement_version_mismatch"),
        ("-e git+https://example.com/x.git#egg=x", "requirement_option"),
        ("--index-url https://evil.example/simple", "requirement_option"),
        ("-r other.txt", "requirement_option"),
        ("numpy @ https://evil.example/numpy.whl", "requirement_url"),
        ("https://evil.example/pkg.tar.gz", "requirement_url"),
        ("./vendor/numpy", "requirement_local_path"),
        ("numpy-2.0-cp311.whl", "requirement_local_path"),
        ("pandas[performance]", "requirement_unsupported"),
        ("numpy; python_version < '3.8'", "requirement_unsupported"),
        ("numpy ((1.0", "requirement_syntax"),
    ],
)
def test_a_forbidden_requirement_line_is_reported_with_its_line(line: str, code: str) -> None:
    result = check_requirements(f"# header\n{line}\n".encode())
    assert [(str(f.code), f.line) for f in result.findings] == [(code, 2)]


def test_allowed_lines_give_the_platform_pins() -> None:
    result = check_requirements(b"numpy\nScikit_Learn>=1.0  # fine\nscipy==1.16.2\n\n")
    assert result.findings == []
    assert result.pins == {"numpy": "2.4.6", "scikit-learn": "1.7.2", "scipy": "1.16.2"}


def test_every_bad_line_is_reported_not_only_the_first() -> None:
    result = check_requirements(b"requests\nnumpy==1.0\n-e .\nnumpy\nnumpy\n")
    assert [str(f.code) for f in result.findings] == [
        "requirement_not_allowed",
        "requirement_version_mismatch",
        "requirement_option",
        "requirement_duplicate",
    ]
