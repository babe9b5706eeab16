"""What an agent may contain: module allow-lists, forbidden names and attributes, size limits.

The checks in this package are a lint that gives users early, precise feedback; the security
boundary is the sandbox the agent runs in (SPEC §6). The lists therefore err on the strict side:
anything not known to be harmless is refused with a message saying what to use instead.
"""

from __future__ import annotations

import sys

MiB = 1024 * 1024

# Upload and bundle limits (SPEC §6, §13).
MAX_UPLOAD_BYTES = 10 * MiB  # the raw upload (a .py file or a compressed .zip)
MAX_UNPACKED_BYTES = 10 * MiB  # the sum of every member's decompressed size
MAX_FILES = 50  # files in a bundle (directories are not counted)
MAX_ZIP_ENTRIES = 500  # central-directory entries, directories included
MAX_COMPRESSION_RATIO = 100  # decompressed / compressed, per member and overall
RATIO_CHECK_FLOOR_BYTES = 64 * 1024  # small members may compress well legitimately
MAX_PATH_LENGTH = 255
ENTRY_MODULE = "agent.py"
AGENT_CLASS = "Agent"
REQUIREMENTS_FILE = "requirements.txt"

# Bundle members besides Python sources: documentation and small data files the agent reads
# through pandas. Archives, binaries and compiled code are refused: the runtime installs
# dependencies itself and nested archives would defeat the size checks.
DATA_SUFFIXES = frozenset({".md", ".txt", ".rst", ".json", ".csv"})
ARCHIVE_SUFFIXES = frozenset(
    {".zip", ".whl", ".egg", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar"}
)
BINARY_SUFFIXES = frozenset({".pyc", ".pyo", ".pyd", ".so", ".dll", ".dylib", ".exe", ".bin"})
# Finder and editors add these to archives; they are dropped, not reported.
IGNORED_PREFIXES = ("__MACOSX/",)
IGNORED_BASENAMES = frozenset({".DS_Store", "Thumbs.db"})

# Packages a requirements.txt may name, with the version the platform installs.
REQUIREMENT_PINS: dict[str, str] = {
    "backtrader": "1.9.78.123",
    "numpy": "2.4.6",
    "pandas": "3.1.1",
    "scipy": "1.16.2",
    "scikit-learn": "1.7.2",
    "statsmodels": "0.14.5",
    "ta": "0.11.0",
}
# Import name of each allow-listed distribution.
REQUIREMENT_MODULES: dict[str, str] = {
    "backtrader": "backtrader",
    "numpy": "numpy",
    "pandas": "pandas",
    "scipy": "scipy",
    "scikit-learn": "sklearn",
    "statsmodels": "statsmodels",
    "ta": "ta",
}
# Installed in every runtime, so importing them needs no requirements.txt line.
PREINSTALLED = frozenset({"backtrader", "numpy", "pandas"})

SAFE_STDLIB = frozenset(
    {
        "__future__", "abc", "bisect", "calendar", "cmath", "collections", "copy",
        "dataclasses", "datetime", "decimal", "enum", "fractions", "functools", "heapq",
        "itertools", "json", "math", "numbers", "operator", "random", "re", "statistics",
        "typing", "zoneinfo",
    }
)
ALLOWED_MODULES = SAFE_STDLIB | frozenset(REQUIREMENT_MODULES.values())

# Known-dangerous modules get a specific reason; every other module is refused as unknown.
FORBIDDEN_MODULES: dict[str, str] = {
    **dict.fromkeys(
        ("os", "posix", "nt", "shutil", "pathlib", "tempfile", "glob", "fileinput", "io",
         "sqlite3", "dbm", "shelve"),
        "gives file-system access",
    ),
    **dict.fromkeys(
        ("subprocess", "pty", "multiprocessing", "concurrent", "signal", "resource"),
        "starts or controls processes",
    ),
    **dict.fromkeys(("threading", "_thread", "asyncio"), "starts threads or event loops"),
    **dict.fromkeys(
        ("socket", "ssl", "select", "selectors", "requests", "urllib", "urllib3", "http",
         "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib", "websockets", "xmlrpc"),
        "opens network connections",
    ),
    **dict.fromkeys(("pickle", "marshal", "copyreg", "dill", "cloudpickle"),
                    "deserialises arbitrary code"),
    **dict.fromkeys(
        ("sys", "builtins", "importlib", "imp", "pkgutil", "runpy", "inspect", "gc", "code",
         "codeop", "ctypes", "cffi", "types", "traceback", "weakref", "atexit", "ast", "dis",
         "site", "sysconfig", "platform", "faulthandler", "tracemalloc"),
        "reaches interpreter internals",
    ),
    **dict.fromkeys(("string", "logging"), "reaches attributes or files indirectly"),
}

FORBIDDEN_BUILTINS: dict[str, str] = {
    "eval": "evaluates strings as code",
    "exec": "executes strings as code",
    "compile": "builds code objects",
    "open": "opens files",
    "input": "reads the terminal",
    "__import__": "imports modules dynamically",
    "globals": "exposes module globals",
    "locals": "exposes local frames",
    "vars": "exposes object internals",
    "breakpoint": "starts a debugger",
    "help": "starts the interactive help",
    "exit": "ends the interpreter",
    "quit": "ends the interpreter",
    "memoryview": "gives raw memory access",
    "__builtins__": "exposes every builtin",
    "__loader__": "exposes the module loader",
    "__spec__": "exposes the module loader",
    "__file__": "exposes the file system",
    "__dict__": "exposes object internals",
    "__class__": "exposes the class hierarchy",
}
# Called with a string naming an attribute: checked like an attribute access.
ATTRIBUTE_BUILTINS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
MUTATING_ATTRIBUTE_BUILTINS = frozenset({"setattr", "delattr"})

# Dunder attributes an agent may touch: constructors via super() and harmless metadata.
ALLOWED_DUNDER_ATTRIBUTES = frozenset(
    {
        "__init__", "__name__", "__qualname__", "__doc__", "__post_init__",
        "__str__", "__repr__", "__len__", "__iter__", "__next__", "__contains__",
        "__getitem__", "__setitem__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
        "__ge__", "__hash__", "__bool__", "__add__", "__sub__", "__mul__", "__truediv__",
        "__enter__", "__exit__",
    }
)
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__annotations__"})

# Non-dunder attributes that walk frames, code objects, closures or the module table.
FORBIDDEN_ATTRIBUTES: dict[str, str] = {
    **dict.fromkeys(
        ("f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "f_lasti",
         "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await",
         "ag_frame", "ag_code", "ag_await", "tb_frame", "tb_next", "tb_lasti"),
        "walks interpreter frames",
    ),
    **dict.fromkeys(
        ("co_code", "co_consts", "co_names", "co_varnames", "co_filename", "func_globals",
         "func_code", "cell_contents", "mro"),
        "reaches code objects or the class hierarchy",
    ),
    "modules": "reaches the module table (sys.modules)",
    "import_module": "imports modules dynamically",
    **dict.fromkeys(("attrgetter", "methodcaller"), "resolves attribute names at run time"),
    **dict.fromkeys(("get_type_hints", "ForwardRef", "eval", "exec"),
                    "evaluates strings as code"),
    "ctypeslib": "gives raw memory access",
    "f2py": "compiles native code",
    "read_pickle": "deserialises arbitrary code",
    "to_pickle": "writes files",
    **dict.fromkeys(("os", "sys", "subprocess", "builtins", "importlib", "ctypes", "shutil",
                     "socket", "pickle", "marshal", "posix", "nt"),
                    "reaches a forbidden module through another module's attributes"),
}

# Names under which backtrader's strategy base classes can be reached.
STRATEGY_QUALNAMES = frozenset(
    {
        "backtrader.Strategy",
        "backtrader.strategy.Strategy",
        "backtrader.SignalStrategy",
        "backtrader.strategy.SignalStrategy",
    }
)

# Module names that a bundle file must not shadow (it would replace the real one at import).
SHADOW_PROTECTED = frozenset(sys.stdlib_module_names) | ALLOWED_MODULES
