"""The allow-list, module attributes resolved against the real modules, private attributes,
I/O of allowed libraries, and what ordinary code may still do."""

from __future__ import annotations

import pytest
from test_validation_bundle import make_zip

from shared.validation import validate_submission
from shared.validation.module_policy import refusal
from shared.validation.resolver import Kind, step

HEAD = (
    "import backtrader as bt\nimport numpy as np\nimport pandas as pd\n\n\n"
    "class Agent(bt.Strategy):\n    def next(self):\n"
)


def findings(body: str, **kwargs: str) -> list[tuple[str, int, int]]:
    report = validate_submission((HEAD + body).encode(), **kwargs)
    return [(str(f.code), f.line or 0, f.col or 0) for f in report.findings]


def codes(body: str) -> set[str]:
    return {code for code, _, _ in findings(body)}


@pytest.mark.parametrize(
    "module",
    ["math", "statistics", "datetime", "collections", "collections.abc", "itertools", "functools",
     "operator", "dataclasses", "enum", "typing", "decimal", "fractions", "random", "json",
     "backtrader", "backtrader.indicators", "backtrader.feeds", "backtrader.utils.py3", "numpy",
     "numpy.linalg", "numpy.random", "pandas", "pandas.tseries.offsets", "scipy.stats", "sklearn.linear_model",
     "statsmodels.api", "ta.trend"],
)
def test_allowed_modules_and_submodules_are_importable(module: str) -> None:
    assert refusal(module) is None


@pytest.mark.parametrize(
    ("module", "code"),
    [("os", "forbidden_import"), ("time", "forbidden_import"), ("argparse", "forbidden_import"),
     ("requestz", "unknown_import"), ("backtrader.stores", "forbidden_io"),
     ("backtrader.feeds.yahoo", "forbidden_io"), ("backtrader.cerebro", "forbidden_import"),
     ("numpy.f2py", "forbidden_import"), ("numpy.lib.format", "forbidden_io"), ("pandas.io", "forbidden_io"),
     ("pandas.core.computation.eval", "forbidden_attribute"), ("scipy.io", "forbidden_io"),
     ("sklearn.datasets", "forbidden_io"), ("statsmodels.iolib", "forbidden_io"),
     ("random._os", "forbidden_import"), ("pandas.tests", "forbidden_import"), ("re._compiler", "forbidden_import")],
)
def test_everything_else_is_refused_with_a_reason(module: str, code: str) -> None:
    refused = refusal(module)
    assert refused is not None and str(refused.code) == code and refused.reason


def test_every_refused_import_says_what_to_use_instead() -> None:
    report = validate_submission(
        b"import time\nimport requestz\nimport backtrader as bt\nclass Agent(bt.Strategy): pass\n"
    )
    messages = [f.message for f in report.findings]
    assert "self.data.datetime" in messages[0]
    assert "allowed modules:" in messages[1] and "numpy.*" in messages[1]


@pytest.mark.parametrize(
    ("module", "attr", "kind"),
    [("backtrader", "ind", Kind.MODULE), ("backtrader", "Strategy", Kind.OBJECT), ("backtrader", "io", Kind.REFUSED),
     ("backtrader", "inspect", Kind.REFUSED), ("backtrader", "multiprocessing", Kind.REFUSED),
     ("backtrader.utils.py3", "urlopen", Kind.REFUSED), ("backtrader.utils.py3", "range", Kind.OBJECT),
     ("enum", "bltns", Kind.REFUSED), ("json", "codecs", Kind.REFUSED), ("typing", "types", Kind.REFUSED),
     ("dataclasses", "inspect", Kind.REFUSED), ("random", "_os", Kind.REFUSED), ("numpy", "load", Kind.REFUSED),
     ("numpy", "testing", Kind.REFUSED), ("numpy", "linalg", Kind.MODULE), ("pandas", "HDFStore", Kind.REFUSED),
     ("pandas", "DataFrame", Kind.OBJECT), ("backtrader.feeds", "PandasData", Kind.OBJECT),
     ("backtrader.feeds", "GenericCSVData", Kind.REFUSED), ("functools", "reduce", Kind.OBJECT),
     ("scipy", "stats", Kind.UNKNOWN), ("scipy", "signal", Kind.UNKNOWN), ("scipy.stats", "types", Kind.REFUSED),
     ("scipy", "io", Kind.REFUSED), ("statsmodels.api", "load", Kind.REFUSED)],
)
def test_module_attributes_resolve_against_what_the_module_really_holds(module: str, attr: str, kind: Kind) -> None:
    assert step(module, attr).kind is kind


@pytest.mark.parametrize(
    "body",
    [
        "        print(bt.__version__, type(self).__name__, self.__class__.__name__)\n",
        "        fmt = '{:.2f}'\n        print(fmt.format(self.data.close[0]))\n",
        "        print(self.p.template.format(x=1))\n",
        "        x = np.array([1.0, 2.0]).tolist()\n        y = {}.get('a')\n        z = np.linalg.norm(x)\n",
        (
            "        df = pd.DataFrame({'a': [1]})\n"
            "        print(df.to_csv(), df.to_json(orient='records'), df.to_string(index=False))\n"
        ),
        "        df = pd.DataFrame({'a': [1]})\n        print(df[df.a > 0].describe())\n",
        "        feed = bt.feeds.PandasData(dataname=pd.DataFrame())\n",
        "        print(self.data._name, self.data._timeframe, self.datas[0]._dataname)\n",
        "        self._count = getattr(self, '_count', 0) + 1\n        other = self\n        print(other._count)\n",
        "        import operator\n        print(operator.attrgetter('close', 'data.open')(self))\n",
        (
            "        import collections\n        P = collections.namedtuple('P', 'x y')\n"
            "        print(P(1, 2)._asdict(), P._fields)\n"
        ),
        "        print(getattr(np, 'sqrt')(4.0), hasattr(bt, 'Strategy'))\n",
        "        super().next()\n",
        "        print(bt.TimeFrame.Days, bt.Order.Market, bt.ind.SMA, bt.indicators.MovAv.SMA)\n",
    ],
    ids=["version-and-names", "format-variable", "format-attribute", "tolist-get-linalg", "text-writers",
         "boolean-indexing", "pandas-feed", "backtrader-underscore-api", "own-private", "attrgetter-literal",
         "namedtuple-api", "getattr-literal-on-module", "super", "backtrader-names"],
)
def test_ordinary_code_is_accepted(body: str) -> None:
    assert findings(body) == []


def test_findings_point_at_the_attribute_that_is_refused() -> None:
    assert findings("        x = 1\n        bt.utils.py3.urlopen('http://x')\n") == [("module_attribute", 9, 22)]
    assert findings("        x = 1\n        np.os.getcwd()\n") == [("forbidden_attribute", 9, 12)]


def test_a_module_is_refused_as_a_value_but_not_as_a_namespace() -> None:
    assert codes("        m = np\n") == {"module_as_value"}
    assert codes("        print(bt.ind)\n") == {"module_as_value"}
    assert codes("        self.helper = bt.indicators\n") == {"module_as_value"}
    assert codes("        print(np.pi, bt.indicators.SMA)\n") == set()


def test_private_attributes_are_allowed_only_when_the_bundle_defines_them() -> None:
    assert codes("        print(self.broker._cash)\n") == {"private_attribute"}
    own = "        print(self.helper._state)\n\n\nclass Helper:\n    def __init__(self):\n        self._state = 1\n"
    assert codes(own) == set()


def test_a_helper_module_cannot_launder_a_module_attribute() -> None:
    helper = b"import numpy as np\nimport backtrader as bt\n\n_SECRET = 1\n"
    agent = (b"import backtrader as bt\nimport helper\nfrom helper import np\n\n\nclass Agent(bt.Strategy):\n"
             b"    def next(self):\n        print(helper._SECRET, helper.np.sqrt(4))\n"
             b"        helper.np.os.getcwd()\n        np.load('x')\n        helper.bt.utils.py3.urlopen('x')\n")
    report = validate_submission(make_zip(("agent.py", agent), ("helper.py", helper)), filename="a.zip")
    assert [(str(f.code), f.line) for f in report.findings] == [
        ("forbidden_attribute", 9), ("forbidden_io", 10), ("module_attribute", 11)]


def test_string_annotations_may_only_name_types() -> None:
    ok = "        x: 'pd.DataFrame | None' = None\n        y: 'list[int]' = []\n"
    assert findings(ok) == []
    assert codes("        x: 'np.__class__' = None\n") == {"string_annotation"}


def test_from_imports_of_refused_names_are_refused_where_imported() -> None:
    report = validate_submission(
        b"from numpy import load\nfrom pandas import read_csv\nfrom typing import get_type_hints\n"
        b"import backtrader as bt\nclass Agent(bt.Strategy): pass\n"
    )
    assert [(str(f.code), f.line) for f in report.findings] == [
        ("forbidden_io", 1), ("forbidden_io", 2), ("forbidden_attribute", 3)]


def test_issue_16_idioms_are_accepted() -> None:
    sources = [
        "import backtrader as bt\nclass Agent(bt.strategies.SMA_CrossOver): pass\n",
        "from backtrader.strategies import SMA_CrossOver\nclass Agent(SMA_CrossOver): pass\n",
        "import backtrader as bt\nclass Mine(bt.SignalStrategy): pass\nAgent = Mine\n",
        "import backtrader as bt\nprint(bt.__version__)\nclass Agent(bt.Strategy): pass\n",
        (
            "import backtrader as bt\nfmt = '{} {}'\n"
            "class Agent(bt.Strategy):\n    def next(self):\n        print(fmt.format(1, 2))\n"
        ),
    ]
    for source in sources:
        assert validate_submission(source.encode()).findings == (), source
    alias_to_indicator = "import backtrader as bt\nAgent = bt.Indicator\n"
    assert validate_submission(alias_to_indicator.encode()).codes == {"agent_not_strategy"}


def test_a_name_the_import_scan_misses_is_still_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.validation import source_text

    monkeypatch.setattr(source_text, "import_candidates", lambda text: frozenset())
    assert codes("        np.load('x')\n        m = bt\n") == {"forbidden_io", "module_as_value"}


def test_import_names_spelt_across_lines_or_in_other_scripts_are_found() -> None:
    source = ("import backtrader as bt\nfrom numpy import (\n    load as ld,\n)\nimport pandas \\\n    as ｐｄ\n\n\n"
              "class Agent(bt.Strategy):\n    def next(self):\n        ld('x')\n        x = pd\n")
    assert {str(f.code) for f in validate_submission(source.encode()).findings} == {"forbidden_io", "module_as_value"}


def test_crafted_import_text_cannot_make_the_scan_quadratic_or_blind() -> None:
    from shared.validation.facts import import_candidates

    noise = "# import (\n" * 20_000 + "x = 'import (' * 3\n" * 5_000
    assert len(import_candidates(noise * 2)) < 50  # gave up early, read each character a few times
    body = HEAD.replace("import numpy as np\n", "") + "        np.load('x')\n"
    source = noise + "import numpy as np\n" + body
    assert {str(f.code) for f in validate_submission(source.encode()).findings} == {"forbidden_io"}
