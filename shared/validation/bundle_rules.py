"""Judge what the walks recorded, once every file of the bundle is known.

- Every import binding and every attribute chain rooted at one is resolved: through allowed
  modules with `resolver.step`, through the bundle's own modules by their imports. A chain must
  end in an allowed thing: `np.os`, `bt.utils.py3.urlopen`, `random._os`, `helper.np.os` are
  refused where they are written.
- A module is only a namespace: using one as a value (`m = np`, `f(bt.ind)`) would let later
  attribute reads escape the static resolution, so it is refused; so is assigning into one.
- A private attribute (`obj._x`) is allowed only when the bundle's own code defines that name.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.validation import module_policy
from shared.validation.facts import STORE, VALUE, Chain, SourceFacts
from shared.validation.report import Code, Finding
from shared.validation.resolver import Kind, Step, step

_BUNDLE = "bundle"  # a Step kind of our own: a module of the agent's bundle
_MAX_HOPS = 32  # re-exports followed through the bundle's modules before giving up


@dataclass(frozen=True)
class FileFacts:
    """One checked file: its path, its module name in the bundle ('' if none), its records."""

    path: str
    module: str
    facts: SourceFacts


@dataclass(frozen=True)
class _State:
    kind: Kind | str
    module: str = ""


_OBJECT = _State(Kind.OBJECT)
_SILENT = _State(Kind.REFUSED)  # refused where it was imported; not reported again


class BundleJudge:
    """Resolve the records of every file of one bundle into findings."""

    def __init__(self, files: list[FileFacts], bundle_modules: frozenset[str]) -> None:
        self.files = files
        self.bundle_modules = bundle_modules
        self.bundle_roots = frozenset(m.split(".", 1)[0] for m in bundle_modules)
        self.exports: dict[str, dict[str, list[str]]] = {}
        for file in files:
            if file.module:
                names = self.exports.setdefault(file.module, {})
                for bound, target, _, _, _ in file.facts.bindings:
                    names.setdefault(bound, []).append(target)
        self.private_defs: set[str] = set().union(*(f.facts.private_defs for f in files)) if files else set()
        self._targets: dict[str, _State] = {}
        self._verdicts: dict[tuple[object, ...], tuple[int, tuple[Code, str, int] | None]] = {}

    def findings(self) -> list[Finding]:
        """Every finding of the bundle-wide rules, in file order."""
        out: list[Finding] = []
        for file in self.files:
            out.extend(self._file(file))
        return out

    def _file(self, file: FileFacts) -> list[Finding]:
        found: dict[tuple[int, int, Code], Finding] = {}
        handled: set[tuple[int, int]] = set()
        bindings: dict[str, list[tuple[str, bool]]] = {}
        for bound, target, is_module, line, col in file.facts.bindings:
            bindings.setdefault(bound, []).append((target, is_module))
            if not is_module:  # `from m import name`: judge the name where it is imported
                _, refused = self._target(target, report=True)
                if refused is not None:
                    found.setdefault((line, col, refused.code),
                                     Finding(refused.code, f"importing {target!r} is not allowed: "
                                             f"{refused.reason}", file.path, line, col))
        for chain in file.facts.chains:
            for target, is_module in bindings.get(chain[0], ()):
                for finding in self._chain(file.path, chain, target, is_module, handled):
                    found.setdefault((finding.line or 0, finding.col or 0, finding.code), finding)
        for attr, line, col in file.facts.private_uses:
            if (line, col) not in handled and attr not in self.private_defs:
                message = (f"'.{attr}' is private to another object: only names your own code "
                           "defines may start with '_' (use the object's public API)")
                found.setdefault((line, col, Code.PRIVATE_ATTRIBUTE),
                                 Finding(Code.PRIVATE_ATTRIBUTE, message, file.path, line, col))
        return list(found.values())

    def _chain(self, path: str, chain: Chain, target: str, is_module: bool,
               handled: set[tuple[int, int]]) -> list[Finding]:
        root, attrs, positions, usage = chain
        key = (root, target, is_module, attrs, usage)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = self._judge_chain(root, target, is_module, attrs, usage)
        through, outcome = verdict
        handled.update(positions[1 : through + 1])
        if outcome is None:
            return []
        code, message, at = outcome
        line, col = positions[at]
        return [Finding(code, message, path, line, col)]

    def _judge_chain(self, root: str, target: str, is_module: bool, attrs: tuple[str, ...],
                     usage: int) -> tuple[int, tuple[Code, str, int] | None]:
        # Return how many attributes were read off modules, and the finding (code, message,
        # index into the chain's positions) if any.
        state, _ = self._target(target, report=False)
        written = root
        receiver = state
        through = 0
        for i, attr in enumerate(attrs):
            if state.kind not in (Kind.MODULE, Kind.UNKNOWN, _BUNDLE):
                break
            through = i + 1
            written = f"{written}.{attr}"
            receiver = state
            state, refused = self._attr(state, attr, report=True)
            if refused is not None:
                return through, (refused.code, f"{written!r} is not allowed: {refused.reason}", i + 1)
        is_a_module = state.kind in (Kind.MODULE, _BUNDLE) or (not attrs and is_module)
        if usage == VALUE and is_a_module:
            message = (f"{written!r} is a module: use its attributes directly (`{written}.name`), "
                       "or import what you need; a module may not be stored, passed or returned")
            return through, (Code.MODULE_AS_VALUE, message, len(attrs))
        if usage == STORE and attrs and through == len(attrs) and receiver.kind in (Kind.MODULE, Kind.UNKNOWN):
            message = f"{written!r} assigns into the module {receiver.module}; keep state on your Agent"
            return through, (Code.MODULE_ATTRIBUTE, message, len(attrs))
        return through, None

    def _target(self, target: str, *, report: bool, hops: int = 0) -> tuple[_State, module_policy.Refusal | None]:
        # Resolve a dotted import target to a state; report only a refusal of its last part.
        cached = self._targets.get(target) if not report else None
        if cached is not None:
            return cached, None
        root, *rest = target.split(".")
        if root in self.bundle_roots:
            state = _State(_BUNDLE, root) if root in self.bundle_modules else _OBJECT
        elif module_policy.refusal(root) is not None:
            state = _SILENT
        else:
            state = _State(Kind.MODULE, root)
        refused = None
        for i, attr in enumerate(rest):
            if state.kind not in (Kind.MODULE, Kind.UNKNOWN, _BUNDLE):
                break
            state, refused = self._attr(state, attr, report=report and i == len(rest) - 1, hops=hops)
            if refused is not None or state is _SILENT:
                break
        if not report:
            self._targets[target] = state
        return state, refused

    def _attr(self, state: _State, attr: str, *, report: bool,
              hops: int = 0) -> tuple[_State, module_policy.Refusal | None]:
        if state.kind == _BUNDLE:
            sub = f"{state.module}.{attr}"
            if sub in self.bundle_modules:
                return _State(_BUNDLE, sub), None
            exported = self.exports.get(state.module, {}).get(attr)
            if exported and hops < _MAX_HOPS:
                # A name the bundle module imported: follow it (refusals there were reported
                # in that module's own file).
                states = [self._target(t, report=False, hops=hops + 1)[0] for t in exported]
                modules = [s for s in states if s.kind in (Kind.MODULE, Kind.UNKNOWN, _BUNDLE)]
                return (modules[0] if modules else _OBJECT), None
            return _OBJECT, None  # the bundle's own object: its private names are its own
        result: Step = step(state.module, attr)
        if result.kind is Kind.REFUSED:
            return _SILENT, (result.refusal if report else None)
        if result.kind in (Kind.MODULE, Kind.UNKNOWN):
            return _State(result.kind, result.module), None
        return _OBJECT, None


def judge_bundle(files: list[FileFacts], bundle_modules: frozenset[str]) -> list[Finding]:
    """Return the findings of the bundle-wide rules for `files`."""
    return BundleJudge(files, bundle_modules).findings()
