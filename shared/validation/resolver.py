"""Resolve `module.attr` statically against what an allowed module really exposes.

The allowed modules are imported into the validator process (they are the platform's own
dependencies; no user code is imported) and their attributes read from the module's
`__dict__`, so no module `__getattr__` hook runs. A module attribute must be an allowed module,
or an object whose home module is allowed (`__module__`), and not a refused name. Modules that
are not installed here (scipy, scikit-learn, statsmodels, ta live only in agents' runtimes) are
judged by name: their known submodules, private names, and names of standard modules.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import inspect
import threading
import warnings
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from types import ModuleType

from shared.validation import module_policy, policy
from shared.validation.module_policy import Refusal
from shared.validation.report import Code


class Kind(Enum):
    """What an attribute turned out to be."""

    MODULE = "module"  # an allowed module: keep resolving through it
    UNKNOWN = "unknown"  # a module not installed here, or maybe one: keep judging names
    OBJECT = "object"  # anything else: nothing more to resolve statically
    REFUSED = "refused"


@dataclass(frozen=True)
class Step:
    """The outcome of one attribute: its kind, the module it leads to, or why it is refused."""

    kind: Kind
    module: str = ""
    refusal: Refusal | None = None
    value: object = None  # the resolved object, for the agent contract's class checks


OBJECT = Step(Kind.OBJECT)
# Submodules of packages that are not installed here, so a name that is also a standard
# module's (`scipy.signal`) is not mistaken for a re-export of it.
KNOWN_SUBMODULES: dict[str, frozenset[str]] = {
    "scipy": frozenset(
        ("cluster", "constants", "datasets", "differentiate", "fft", "fftpack", "integrate",
         "interpolate", "io", "linalg", "misc", "ndimage", "odr", "optimize", "signal", "sparse",
         "spatial", "special", "stats")
    ),
}
_import_lock = threading.Lock()


def in_attribute_context(refused: Refusal) -> Refusal:
    """A module refused on import is reported, when reached as an attribute, as such."""
    if refused.code in (Code.FORBIDDEN_IMPORT, Code.UNKNOWN_IMPORT):
        return Refusal(Code.MODULE_ATTRIBUTE, refused.reason)
    return refused


@lru_cache(maxsize=64)
def load(module: str) -> ModuleType | None:
    """Import allowed module `module` (never user code); None when it is not installed here."""
    if module_policy.refusal(module) is not None:
        return None
    with _import_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated submodules warn on import
        try:
            return importlib.import_module(module)
        except Exception:  # noqa: BLE001 - an optional dependency of an allowed module is missing
            return None


@lru_cache(maxsize=16384)
def step(module: str, attr: str) -> Step:
    """Resolve `attr` on allowed module `module`."""
    if attr.startswith("_"):
        if len(attr) > 4 and attr.endswith("__"):
            # Dunders are judged by name where they are written; __version__ and friends pass.
            return OBJECT
        return Step(Kind.REFUSED, refusal=Refusal(
            Code.PRIVATE_ATTRIBUTE, f"'{module}.{attr}' is private to {module}"))
    if attr in policy.NAME_RULED_ATTRIBUTES:
        return OBJECT  # refused by name wherever it is written; do not report it twice
    refused = module_policy.refused_name(module, attr)
    if refused is not None:
        return Step(Kind.REFUSED, refusal=refused)
    loaded = load(module)
    if loaded is None:
        return _by_name(module, attr)
    missing = object()
    value = vars(loaded).get(attr, missing)
    if value is missing:
        return _submodule(f"{module}.{attr}")
    if inspect.ismodule(value):
        refused = module_policy.refusal(value.__name__)
        if refused is not None:
            return Step(Kind.REFUSED, refusal=in_attribute_context(Refusal(
                refused.code, f"'{module}.{attr}' is the module {value.__name__}: {refused.reason}")))
        return Step(Kind.MODULE, module=value.__name__)
    return _judge_object(module, attr, value)


def _judge_object(module: str, attr: str, value: object) -> Step:
    if not (isinstance(value, type) or inspect.isroutine(value)):
        return Step(Kind.OBJECT, value=value)  # data: numbers, strings, instances
    home = getattr(value, "__module__", None)
    if not isinstance(home, str):
        return Step(Kind.OBJECT, value=value)
    name = getattr(value, "__name__", attr)
    if home == "builtins":
        if getattr(builtins, name, None) is value and (
            name in policy.FORBIDDEN_BUILTINS or name in policy.ATTRIBUTE_BUILTINS
        ):
            return Step(Kind.REFUSED, refusal=Refusal(
                Code.MODULE_ATTRIBUTE, f"'{module}.{attr}' is the builtin {name}(), which agents may not use"))
        return Step(Kind.OBJECT, value=value)
    refused = module_policy.home_refusal(home)
    if refused is not None:
        return Step(Kind.REFUSED, refusal=in_attribute_context(Refusal(
            refused.code, f"'{module}.{attr}' is {home}.{name}: {refused.reason}")))
    return Step(Kind.OBJECT, value=value)


def _submodule(dotted: str) -> Step:
    # Not in the module's namespace: a submodule not imported yet, or no such attribute (an
    # AttributeError at run time, nothing to refuse).
    refused = module_policy.refusal(dotted)
    parent = dotted.rpartition(".")[0]
    try:
        spec = importlib.util.find_spec(dotted) if load(parent) is not None else None
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return OBJECT
    if refused is not None:
        return Step(Kind.REFUSED, refusal=in_attribute_context(refused))
    return Step(Kind.MODULE, module=dotted) if load(dotted) is not None else Step(Kind.UNKNOWN, module=dotted)


def _by_name(module: str, attr: str) -> Step:
    dotted = f"{module}.{attr}"
    root = module.split(".", 1)[0]
    known = KNOWN_SUBMODULES.get(module, frozenset())
    refused = module_policy.refusal(dotted)
    if refused is not None and (attr in known or refused.code not in (Code.FORBIDDEN_IMPORT,)):
        return Step(Kind.REFUSED, refusal=in_attribute_context(refused))
    if attr not in known and attr in module_policy.STDLIB and attr not in module_policy.ALLOWED_ROOTS:
        why = module_policy.refusal(attr)
        reason = why.reason if why is not None else "is a standard module outside the allow-list"
        return Step(Kind.REFUSED, refusal=Refusal(
            Code.MODULE_ATTRIBUTE, f"'{dotted}' names the module {attr}, which {root} only re-exports: {reason}"))
    return Step(Kind.UNKNOWN, module=dotted)


def resolve_dotted(dotted: str) -> Step:
    """Resolve a fully dotted name (`backtrader.strategies.SMA_CrossOver`) from its root module."""
    root, *rest = dotted.split(".")
    if module_policy.refusal(root) is not None:
        return Step(Kind.REFUSED, refusal=module_policy.refusal(root))
    current = Step(Kind.MODULE, module=root)
    for attr in rest:
        if current.kind is Kind.OBJECT and isinstance(current.value, type):
            current = Step(Kind.OBJECT, value=inspect.getattr_static(current.value, attr, None))
            continue
        if current.kind not in (Kind.MODULE, Kind.UNKNOWN):
            return Step(Kind.OBJECT)
        current = step(current.module, attr)
    if current.kind is Kind.MODULE and current.value is None:
        return Step(Kind.MODULE, module=current.module, value=load(current.module))
    return current
