"""The agent contract: the entry module defines `class Agent` deriving from bt.Strategy.

Bases are resolved statically through the import forms people use (`import backtrader as bt`,
`from backtrader import Strategy as S`, ...) and through classes defined in the bundle, in the
same module or another one, however deep the chain.
"""

from __future__ import annotations

import ast

from shared.validation import policy
from shared.validation.report import Code, Finding


class _ModuleScope:
    """The top-level names of one bundle module, as fully qualified dotted names."""

    def __init__(self, name: str, tree: ast.Module, package: tuple[str, ...]) -> None:
        self.name = name
        self.aliases: dict[str, str] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for stmt in _top_level(tree.body):
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".", 1)[0]
                        self.aliases[root] = root
            elif isinstance(stmt, ast.ImportFrom):
                source = _absolute(stmt, package)
                for alias in stmt.names:
                    if alias.name != "*":
                        qualified = f"{source}.{alias.name}" if source else alias.name
                        self.aliases[alias.asname or alias.name] = qualified
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
                self.aliases[stmt.name] = f"{name}.{stmt.name}"
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                qualified = self.qualify(stmt.value)
                if isinstance(target, ast.Name) and qualified:
                    self.aliases[target.id] = qualified

    def qualify(self, expr: ast.expr) -> str | None:
        """Return the dotted name `expr` refers to, or None when it is not a plain name."""
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.qualify(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def check_agent(
    trees: dict[str, ast.Module], packages: dict[str, tuple[str, ...]], entry_path: str
) -> list[Finding]:
    """Check that module `agent` defines a class Agent whose bases reach bt.Strategy."""
    scopes = {name: _ModuleScope(name, tree, packages.get(name, ())) for name, tree in trees.items()}
    entry = scopes.get("agent")
    if entry is None:
        return []  # the entry module did not parse; its syntax finding says why
    agent = entry.classes.get(policy.AGENT_CLASS)
    if agent is None:
        message = f"{entry_path} must define `class {policy.AGENT_CLASS}(bt.Strategy)` at top level"
        return [Finding(Code.MISSING_AGENT, message, entry_path)]
    if _derives_from_strategy(entry, agent, scopes, set()):
        return []
    message = (
        f"class {policy.AGENT_CLASS} must subclass backtrader's Strategy "
        "(e.g. `class Agent(bt.Strategy)` after `import backtrader as bt`)"
    )
    return [Finding(Code.AGENT_NOT_STRATEGY, message, entry_path, agent.lineno, agent.col_offset + 1)]


def _derives_from_strategy(
    scope: _ModuleScope, cls: ast.ClassDef, scopes: dict[str, _ModuleScope], seen: set[str]
) -> bool:
    key = f"{scope.name}.{cls.name}"
    if key in seen:
        return False  # a cycle through bundle classes never reaches backtrader
    seen.add(key)
    for base in cls.bases:
        qualified = scope.qualify(base)
        if qualified is None:
            continue
        if qualified in policy.STRATEGY_QUALNAMES:
            return True
        module, _, class_name = qualified.rpartition(".")
        owner = scopes.get(module)
        if owner is not None and class_name in owner.classes:
            if _derives_from_strategy(owner, owner.classes[class_name], scopes, seen):
                return True
    return False


def _absolute(node: ast.ImportFrom, package: tuple[str, ...]) -> str:
    if not node.level:
        return node.module or ""
    base = package[: max(len(package) - (node.level - 1), 0)]
    return ".".join((*base, node.module) if node.module else base)


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    # Conditional imports (`try: import x except ImportError`) still bind module-level names.
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.If):
            out.extend(_top_level(stmt.body) + _top_level(stmt.orelse))
        elif isinstance(stmt, ast.Try):
            out.extend(_top_level(stmt.body))
    return out
