"""The AST pass: locations, every finding reported, agent resolution, allowed idioms."""

from __future__ import annotations

import json

import pytest

from shared.errors import ValidationFailedError
from shared.validation import validate_submission

HEAD = "import backtrader as bt\n\n\nclass Agent(bt.Strategy):\n    def next(self):\n"


def codes(source: str) -> list[str]:
    return [str(f.code) for f in validate_submission(source.encode()).findings]


def test_a_syntax_error_reports_its_file_line_and_column() -> None:
    report = validate_submission(
        b"import backtrader as bt\n\nclass Agent(bt.Strategy):\n    def next(self)\n        pass\n"
    )
    (finding,) = report.findings
    assert (finding.code, finding.file, finding.line, finding.col) == ("syntax_error", "agent.py", 4, 19)
    assert "expected ':'" in finding.message


def test_a_syntax_error_in_a_bundle_module_names_that_module() -> None:
    from test_validation_bundle import make_zip

    data = make_zip(("agent.py", HEAD.encode() + b"        pass\n"), ("lib/util.py", b"def f(:\n"))
    (finding,) = validate_submission(data, filename="a.zip").findings
    assert (finding.code, finding.file, finding.line) == ("syntax_error", "lib/util.py", 1)


def test_non_utf8_source_reports_the_first_bad_byte() -> None:
    (finding,) = validate_submission(b"x = 1\ny = '\xff'\n").findings
    assert (finding.code, finding.line, finding.col) == ("not_utf8", 2, 6)


def test_a_file_with_three_problems_gets_three_findings() -> None:
    source = HEAD + "        import os\n        eval('1')\n        self.__dict__\n"
    report = validate_submission(source.encode())
    assert [(str(f.code), f.line) for f in report.findings] == [
        ("forbidden_import", 6),
        ("forbidden_name", 7),
        ("dunder_attribute", 8),
    ]
    assert report.to_dict()["error_count"] == 3


def test_findings_point_at_the_offending_attribute() -> None:
    report = validate_submission((HEAD + "        x = ().__class__.__mro__\n").encode())
    assert [(f.line, f.col) for f in report.findings] == [(6, 16), (6, 26)]


@pytest.mark.parametrize(
    "source",
    [
        "import backtrader as bt\nclass Agent(bt.Strategy): pass\n",
        "import backtrader\nclass Agent(backtrader.Strategy): pass\n",
        "from backtrader import Strategy\nclass Agent(Strategy): pass\n",
        "from backtrader import Strategy as S\nclass Agent(S): pass\n",
        "import backtrader.strategy as bts\nclass Agent(bts.Strategy): pass\n",
        "import backtrader as bt\nclass A(bt.Strategy): pass\nclass B(A): pass\nclass Agent(B): pass\n",
        "import backtrader as bt\nBase = bt.Strategy\nclass Agent(Base): pass\n",
    ],
    ids=["alias", "plain", "from", "from-as", "submodule", "chain", "assigned-alias"],
)
def test_every_usual_way_of_naming_strategy_is_recognised(source: str) -> None:
    assert codes(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import backtrader as bt\nclass A(B): pass\nclass B(A): pass\nclass Agent(A): pass\n",
        "import backtrader as bt\nclass Agent(bt.Analyzer): pass\n",
        "import backtrader as bt\nclass Agent(object): pass\n",
    ],
    ids=["cycle", "analyzer", "object"],
)
def test_an_agent_that_does_not_reach_strategy_is_refused(source: str) -> None:
    assert codes(source) == ["agent_not_strategy"]


def test_an_agent_defined_only_inside_a_function_is_missing() -> None:
    assert codes("import backtrader as bt\ndef f():\n    class Agent(bt.Strategy): pass\n") == ["missing_agent"]


def test_everyday_idioms_are_allowed() -> None:
    source = HEAD + (
        "        super().__init__()\n"
        "        name = type(self).__name__\n"
        "        getattr(self, 'position')\n"
        "        getattr(self, f'sma_{5}', None)\n"
        "        setattr(self, f'sig_{1}', 1)\n"
        "        print('{} {:.2f} {0[1]}'.format(1, 2.0, [1, 2]))\n"
        "        print(f'{self.data.close[0]:.2f}')\n"
        "        if __name__ == '__main__':\n"
        "            pass\n"
    )
    assert codes(source) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("getattr(self, f'__{x}__')", "dynamic_attribute"),
        ("getattr(bt, f'S{x}')", "dynamic_attribute"),
        ("setattr(self, '__class__', int)", "dunder_attribute"),
        ("print(f'{{0.__globals__}}'.format(self.next))", "format_attribute"),
        ("print('{0:{1.__class__}}'.format(1, 2))", "format_attribute"),
        ("'{x.f_globals}'.format_map({'x': 1})", "format_attribute"),
        ("isinstance(self, type)", "dynamic_type"),
        ("x = __builtins__", "forbidden_name"),
        ("x = __loader__", "forbidden_name"),
    ],
)
def test_subtler_escapes_are_caught(line: str, expected: str) -> None:
    assert expected in codes(HEAD + f"        x = 1\n        {line}\n")


def test_deeply_nested_source_is_refused_without_crashing() -> None:
    source = "import backtrader as bt\nx = " + "-" * 200_000 + "1\n"
    assert codes(source) == ["too_complex"] or codes(source) == ["syntax_error"]


def test_the_report_serialises_to_json_and_raises_as_validation_failed() -> None:
    report = validate_submission(b"import os\n")
    body = json.loads(json.dumps(report.to_dict()))
    assert body["ok"] is False
    assert {f["code"] for f in body["findings"]} == {"forbidden_import", "missing_agent"}
    with pytest.raises(ValidationFailedError) as raised:
        report.raise_if_failed()
    assert raised.value.details == report.to_dict()
    validate_submission(b"import backtrader as bt\nclass Agent(bt.Strategy): pass\n").raise_if_failed()
