"""What an agent may contain: module allow-lists, forbidden names and attributes, size limits.

The checks in this package are a lint that gives users early, precise feedback; the security
boundary is the sandbox the agent runs in (SPEC §6). The lists therefore err on the strict side:
anything not known to be harmless is refused with a message saying what to use instead.
"""

from __future__ import annotations

import sys

from shared.validation.module_policy import ALLOWED_ROOTS

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

# The importable modules and what they expose are decided in `module_policy`.
ALLOWED_MODULES = frozenset(ALLOWED_ROOTS)

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
        "__init__", "__name__", "__qualname__", "__doc__", "__post_init__", "__version__",
        "__str__", "__repr__", "__len__", "__iter__", "__next__", "__contains__",
        "__getitem__", "__setitem__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
        "__ge__", "__hash__", "__bool__", "__add__", "__sub__", "__mul__", "__truediv__",
        "__enter__", "__exit__",
    }
)
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__annotations__"})
# `x.__class__` is allowed only to read its name (`self.__class__.__name__`) or in
# `super(self.__class__, self)`: it is `type(x)`, whose other dunders stay refused.
CLASS_NAME_ATTRIBUTES = frozenset({"__name__", "__qualname__"})

# Non-dunder attribute names refused on any receiver (types are unknown statically).
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
    **dict.fromkeys(("get_type_hints", "ForwardRef", "eval", "exec"),
                    "evaluates strings as code"),
    "query": "evaluates its string as code; use boolean indexing (df[df.close > df.open])",
    "ctypeslib": "gives raw memory access",
    "f2py": "compiles native code",
    **dict.fromkeys(("os", "sys", "subprocess", "builtins", "importlib", "ctypes", "shutil",
                     "socket", "pickle", "marshal", "posix", "nt"),
                    "reaches a forbidden module through another module's attributes"),
}

# File, network and pickle I/O methods of the allowed libraries, refused on any receiver.
NO_FILES = "the platform gives your Agent its data through its feeds; no file or network access"
IO_ATTRIBUTES: dict[str, str] = {
    **dict.fromkeys(
        ("to_pickle", "read_pickle", "to_parquet", "to_feather", "to_hdf", "to_excel",
         "to_stata", "to_sql", "to_orc", "to_clipboard", "tofile", "fromfile", "loadtxt",
         "savetxt", "genfromtxt", "savez", "savez_compressed", "fromregex", "open_memmap",
         "load_pickle", "read_csv", "read_table", "read_fwf", "read_json", "read_html",
         "read_xml", "read_excel", "read_parquet", "read_feather", "read_orc", "read_hdf",
         "read_sas", "read_spss", "read_sql", "read_sql_query", "read_sql_table",
         "read_stata", "read_clipboard"),
        f"reads or writes files, URLs or pickles; {NO_FILES}",
    ),
}
# Return text when called without a destination, write a file with one: refused only when
# given a path (the first argument, or one of PATH_KEYWORDS), or when not called at once.
PATH_WRITERS = frozenset(
    {"to_csv", "to_json", "to_html", "to_latex", "to_markdown", "to_string", "to_xml"}
)
PATH_KEYWORDS = frozenset({"path_or_buf", "buf", "path_or_buffer", "path", "excel_writer"})
# `ndarray.dump(file)` pickles into a file; refused except on the agent's own objects.
PICKLE_DUMPERS = frozenset({"dump"})
# Resolve attribute names given as strings: allowed only when called at once with literal,
# public names (`attrgetter("close")`).
NAME_RESOLVERS = frozenset({"attrgetter", "methodcaller"})

# `_`-prefixed attributes that are public API by convention, allowed on any receiver:
# backtrader's data and indicator fields, namedtuple methods, enum's sunder names.
PUBLIC_UNDERSCORE_ATTRIBUTES = frozenset(
    {
        "_name", "_dataname", "_timeframe", "_compression", "_id", "_getstatusname", "_owner",
        "_tz", "_add2stack", "_save2stack", "_updatebar", "_laststatus",
        "_getitems", "_getkeys", "_getvalues", "_getpairs", "_getkwargs",
        "_asdict", "_replace", "_fields", "_make", "_field_defaults",
        "_value_", "_name_", "_missing_", "_ignore_", "_order_", "_generate_next_value_",
    }
)
# Receivers whose private attributes are the agent's own.
OWN_RECEIVERS = frozenset({"self", "cls", "mcs"})

# Attribute names judged by name wherever they are written; module resolution skips them so
# one mistake gives one finding.
NAME_RULED_ATTRIBUTES = (
    frozenset(FORBIDDEN_ATTRIBUTES) | frozenset(IO_ATTRIBUTES) | PATH_WRITERS | NAME_RESOLVERS
)

# Names under which backtrader's strategy base classes can be reached without importing it.
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
