"""Which modules an agent may import, and what it may reach through their attributes.

An allow-list: a module is usable only when it, or a package listed with its whole subtree, is
named below and no refusal covers it. Everything else is refused with a reason and what to use
instead. The same rules judge modules met as attributes (`bt.io`, `np.os`) and the home module
of classes and functions reached through an allowed module (`bt.utils.py3.urlopen` lives in
urllib.request), so a re-export cannot smuggle in what an import would be refused.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache

from shared.validation.report import Code

# Module -> True when its submodules are allowed too (unless refused below).
ALLOWED: dict[str, bool] = {
    # the standard library's computation and data-structure modules
    "__future__": False, "abc": False, "bisect": False, "calendar": False, "cmath": False,
    "collections": True, "copy": False, "dataclasses": False, "datetime": False,
    "decimal": False, "enum": False, "fractions": False, "functools": False, "heapq": False,
    "itertools": False, "json": True, "math": False, "numbers": False, "operator": False,
    "random": False, "re": False, "statistics": False, "typing": False, "zoneinfo": False,
    # the platform's libraries (scipy and the rest need a requirements.txt line)
    "backtrader": True, "numpy": True, "pandas": True, "scipy": True, "sklearn": True,
    "statsmodels": True, "ta": True,
}
ALLOWED_ROOTS = frozenset(name for name in ALLOWED if "." not in name)

NO_FILES = "the platform gives your Agent its data through its feeds (self.datas); no file access"
NO_NETWORK = "the platform delivers market data through the feeds; agents have no network"
NO_BROKER = "the platform supplies the broker and the data feeds"


@dataclass(frozen=True)
class Refusal:
    """Why a module (or what it exposes) is refused, as a finding code and a sentence."""

    code: Code
    reason: str


def _io(reason: str) -> Refusal:
    return Refusal(Code.FORBIDDEN_IO, reason)


def _module(reason: str) -> Refusal:
    return Refusal(Code.FORBIDDEN_IMPORT, reason)


# Subtrees of allowed packages that are refused; the longest matching prefix decides.
REFUSED_SUBTREES: dict[str, Refusal] = {
    "json.tool": _io(NO_FILES),
    "backtrader.stores": _io(f"connects to brokers and data vendors; {NO_BROKER}"),
    **{f"backtrader.brokers.{m}": _io(f"connects to a broker; {NO_BROKER}")
       for m in ("ibbroker", "oandabroker", "vcbroker")},
    **{f"backtrader.feeds.{m}": _io(f"reads files or the network; {NO_BROKER}")
       for m in ("blaze", "btcsv", "csvgeneric", "ibdata", "influxfeed", "mt4csv", "oanda",
                 "quandl", "sierrachart", "vcdata", "vchart", "vchartcsv", "vchartfile", "yahoo")},
    "backtrader.writer": _io("writes files; print() what you want to see, it is captured"),
    "backtrader.plot": _io("plotting writes files; the platform draws the charts"),
    "backtrader.cerebro": _module(
        "the platform builds the Cerebro and runs your Agent; leave runner code out"),
    "numpy.f2py": _module("compiles native code"),
    "numpy.ctypeslib": _module("gives raw memory access"),
    "numpy.distutils": _module("builds native code"),
    "numpy.testing": _module("is a test helper; use plain comparisons"),
    "numpy.core": _module("is numpy's internal package; use numpy's top-level names"),
    "numpy.lib.format": _io(f"reads and writes .npy files; {NO_FILES}"),
    "numpy.lib.npyio": _io(NO_FILES),
    "numpy.lib._npyio_impl": _io(NO_FILES),
    "numpy.lib._datasource": _io(NO_NETWORK),
    "pandas.io": _io(f"reads and writes files and URLs; {NO_FILES}"),
    "pandas.compat": _module("is pandas' internal compatibility layer"),
    "pandas.plotting": _io("plotting writes files; the platform draws the charts"),
    "pandas.core.computation": Refusal(
        Code.FORBIDDEN_ATTRIBUTE, "evaluates strings as code; use boolean indexing instead"),
    "scipy.io": _io(NO_FILES),
    "scipy.datasets": _io(NO_NETWORK),
    "scipy.misc": _io(NO_FILES),
    "sklearn.datasets": _io(f"downloads or reads data sets; {NO_FILES}"),
    "sklearn.externals": _module("is scikit-learn's vendored code"),
    "statsmodels.datasets": _io(f"reads or downloads data sets; {NO_FILES}"),
    "statsmodels.iolib": _io(f"reads and writes files and pickles; {NO_FILES}"),
}
# Package parts that only hold test suites (importing them runs test set-up code).
_TEST_PARTS = frozenset({"tests", "conftest", "testing_utils"})

# Names refused on every module of a package, whatever they are bound to: numpy and pandas
# present their file readers as `numpy.load` and `pandas.read_csv`, so the home module alone
# does not tell.
_NUMPY_FILES = _io(f"reads or writes files or pickles; {NO_FILES}")
_PANDAS_FILES = _io(f"reads or writes files, URLs or pickles; {NO_FILES}")
REFUSED_NAMES: dict[str, dict[str, Refusal]] = {
    "numpy": dict.fromkeys(
        ("load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt",
         "fromfile", "fromregex", "memmap", "open_memmap", "dump", "dumps", "loads",
         "DataSource", "recfromcsv", "recfromtxt"),
        _NUMPY_FILES,
    ),
    "pandas": {
        **dict.fromkeys(("to_pickle", "ExcelWriter", "ExcelFile", "HDFStore", "read_pickle"),
                        _PANDAS_FILES),
        "eval": Refusal(Code.FORBIDDEN_ATTRIBUTE,
                        "evaluates strings as code; write the expression in Python"),
    },
    "backtrader": {
        "CSVDataBase": _io(f"reads files; {NO_BROKER}"),
        "CSVFeedBase": _io(f"reads files; {NO_BROKER}"),
        "findowner": Refusal(Code.FORBIDDEN_ATTRIBUTE, "walks interpreter frames"),
    },
    "typing": dict.fromkeys(
        ("get_type_hints", "ForwardRef", "evaluate_forward_ref"),
        Refusal(Code.FORBIDDEN_ATTRIBUTE, "evaluates strings as code"),
    ),
    "zoneinfo": {"reset_tzpath": _io(NO_FILES)},
    "scipy": {"LowLevelCallable": Refusal(Code.FORBIDDEN_ATTRIBUTE, "calls native pointers")},
    "statsmodels": dict.fromkeys(("load", "load_pickle", "webdoc"), _io(NO_FILES)),
}
REFUSED_PREFIXES: dict[str, tuple[str, Refusal]] = {"pandas": ("read_", _PANDAS_FILES)}

# Why well-known modules outside the allow-list are refused, and what to use instead.
_ADVICE: dict[str, str] = {
    **dict.fromkeys(
        ("os", "posix", "nt", "shutil", "pathlib", "tempfile", "glob", "fileinput", "io",
         "sqlite3", "dbm", "shelve", "csv", "zipfile", "tarfile", "gzip", "bz2", "lzma", "mmap"),
        f"gives file-system access; {NO_FILES}",
    ),
    **dict.fromkeys(
        ("subprocess", "pty", "multiprocessing", "concurrent", "signal", "resource"),
        "starts or controls processes; backtrader calls your Agent's next() on every bar",
    ),
    **dict.fromkeys(("threading", "_thread", "asyncio", "queue", "sched"),
                    "starts threads or event loops; backtrader calls next() on every bar"),
    **dict.fromkeys(
        ("socket", "ssl", "select", "selectors", "requests", "urllib", "urllib3", "http",
         "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib", "websockets", "xmlrpc", "email"),
        f"opens network connections; {NO_NETWORK}",
    ),
    **dict.fromkeys(("pickle", "marshal", "copyreg", "dill", "cloudpickle", "joblib"),
                    "deserialises arbitrary code; keep state in your Agent's attributes"),
    **dict.fromkeys(
        ("sys", "builtins", "importlib", "imp", "pkgutil", "runpy", "inspect", "gc", "code",
         "codeop", "ctypes", "cffi", "types", "traceback", "weakref", "atexit", "ast", "dis",
         "site", "sysconfig", "platform", "faulthandler", "tracemalloc", "codecs", "warnings",
         "contextvars", "bltns"),
        "reaches interpreter internals",
    ),
    "string": "reaches attributes through format fields; use f-strings or str.format",
    "logging": "writes to handlers and files; use print(), which the platform captures",
    "argparse": "parses a command line; give your Agent `params` instead",
    "time": "use the bar's time (self.data.datetime.datetime(0)) or the datetime module",
}
STDLIB = frozenset(sys.stdlib_module_names)


def _longest(table: dict[str, Refusal], dotted: str) -> Refusal | None:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        found = table.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def refusal(dotted: str, *, private_ok: bool = False) -> Refusal | None:
    """Return why module `dotted` may not be used, or None when it is allowed.

    `private_ok` accepts `_`-prefixed parts: the home module of a public object
    (`numpy._core.multiarray`) is judged by its package, not by its private path.
    """
    parts = dotted.split(".")
    root = parts[0]
    if not private_ok and any(p.startswith("_") for p in parts[1:]):
        return _module(f"{dotted!r} is private to {root}; use its public names")
    if _TEST_PARTS.intersection(parts[1:]):
        return _module("holds test suites; agents do not need them")
    refused = _longest(REFUSED_SUBTREES, dotted)
    if refused is not None:
        return refused
    if root in ALLOWED_ROOTS:
        if dotted in ALLOWED or ALLOWED[root] or any(
            ALLOWED.get(".".join(parts[:end])) for end in range(1, len(parts))
        ):
            return None
        return _module(f"only {root!r} itself may be imported, not {dotted!r}")
    advice = _ADVICE.get(root) or _ADVICE.get(root.lstrip("_"))
    if advice is not None:
        return _module(advice)
    return Refusal(Code.UNKNOWN_IMPORT, f"allowed modules: {', '.join(allowed_names())}")


def home_refusal(home: str) -> Refusal | None:
    """Judge the module a class or function was defined in (C accelerators count as their
    package: `_functools` is functools)."""
    root = home.split(".", 1)[0]
    if root not in ALLOWED_ROOTS and root.lstrip("_") in ALLOWED_ROOTS:
        home = home.lstrip("_")
    elif root in _ACCELERATORS:
        home = _ACCELERATORS[root]
    return refusal(home, private_ok=True)


_ACCELERATORS = {"_collections_abc": "collections.abc", "_sre": "re", "_pydecimal": "decimal",
                 "_pydatetime": "datetime", "_strptime": "datetime"}


def refused_name(module: str, attr: str) -> Refusal | None:
    """A name refused on every module of `module`'s package (`numpy.load`, `pandas.read_csv`)."""
    root = module.split(".", 1)[0]
    names = REFUSED_NAMES.get(root)
    found = names.get(attr) if names else None
    if found is None and root in REFUSED_PREFIXES:
        prefix, why = REFUSED_PREFIXES[root]
        if attr.startswith(prefix):
            return why
    return found


def allowed_names() -> list[str]:
    """The allow-list as users read it: top-level names, subtrees marked with `.*`."""
    return sorted(f"{name}.*" if subtree else name for name, subtree in ALLOWED.items()
                  if name != "__future__" and "." not in name)
