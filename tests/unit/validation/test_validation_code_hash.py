"""Duplicates are compared on normalised code: comments, docstrings and formatting do not count."""

from __future__ import annotations

from pathlib import Path

from shared.validation import validate_submission
from shared.validation.bundle import Bundle

ORIGINAL = b'''"""My strategy."""
import backtrader as bt


class Agent(bt.Strategy):
    params = (("period", 20),)

    def __init__(self):
        self.sma = bt.ind.SMA(period=self.p.period)

    def next(self):
        if self.data.close[0] > self.sma[0] and not self.position:
            self.buy(size=10)
'''
REFORMATTED = b"""# stolen, then tidied up
import backtrader as bt
class Agent( bt.Strategy ):
    '''A different docstring.'''
    params = ( ( 'period' , 20 ) , )
    def __init__(self):
        # a comment
        self.sma = bt.ind.SMA(
            period=self.p.period,
        )
    def next(self):
        "bare strings do nothing"
        if (self.data.close[0] > self.sma[0]) and not self.position:  # why
            self.buy(size = 10)
"""


def test_a_comment_only_or_reformatted_copy_hashes_like_the_original() -> None:
    first, second = validate_submission(ORIGINAL), validate_submission(REFORMATTED)
    assert first.ok and second.ok
    assert first.code_hash == second.code_hash
    assert first.to_dict()["code_hash"] == second.code_hash


def test_a_real_code_change_changes_the_hash() -> None:
    base = validate_submission(ORIGINAL).code_hash
    for changed in (
        ORIGINAL.replace(b'("period", 20)', b'("period", 21)'),
        ORIGINAL.replace(b"size=10", b"size=11"),
        ORIGINAL.replace(b"> self.sma[0]", b"< self.sma[0]"),
        ORIGINAL.replace(b'"""My strategy."""', b'NAME = "My strategy."'),
    ):
        assert validate_submission(changed).code_hash != base


def test_documentation_files_do_not_count_but_code_and_data_files_do() -> None:
    plain = Bundle.of({"agent.py": ORIGINAL})
    with_readme = Bundle.of({"agent.py": ORIGINAL, "README.md": b"# notes\n"})
    with_helper = Bundle.of({"agent.py": ORIGINAL, "helper.py": b"X = 1\n"})
    with_data = Bundle.of({"agent.py": ORIGINAL, "weights.json": b"[1, 2]"})
    assert plain.code_hash == with_readme.code_hash
    assert len({plain.code_hash, with_helper.code_hash, with_data.code_hash}) == 3


def test_requirements_comments_and_order_do_not_count() -> None:
    one = Bundle.of({"agent.py": ORIGINAL, "requirements.txt": b"scipy==1.16.2\nta\n"})
    two = Bundle.of({"agent.py": ORIGINAL, "requirements.txt": b"# deps\nta  # indicators\n\nscipy==1.16.2\n"})
    assert one.code_hash == two.code_hash


def test_a_module_that_does_not_parse_is_hashed_by_its_bytes() -> None:
    broken = Bundle.of({"agent.py": b"def f(:\n"})
    assert broken.code_hash != Bundle.of({"agent.py": b"def f(:\n\n"}).code_hash


def test_the_hash_is_not_computed_during_validation(tmp_path: Path) -> None:
    report = validate_submission(ORIGINAL)
    assert report.bundle is not None and "code_hash" not in vars(report.bundle)
    assert report.code_hash == report.bundle.code_hash
