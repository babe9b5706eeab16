"""The import rules of the walk: the allow-list, relative imports, requirements, bindings."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.validation import module_policy, policy
from shared.validation.report import Code

if TYPE_CHECKING:
    from shared.validation.facts import SourceFacts


@dataclass(frozen=True)
class SourceContext:
    """What a file's imports may refer to besides the allow-list."""

    bundle_modules: frozenset[str] = frozenset()
    package: tuple[str, ...] = ()  # the file's package inside the bundle, () at the root
    declared: frozenset[str] = frozenset()  # distributions named in requirements.txt

    @property
    def bundle_roots(self) -> frozenset[str]:
        return frozenset(name.split(".", 1)[0] for name in self.bundle_modules)


class ImportRules:
    """Mixed into RuleWalker: the handlers for ast.Import and ast.ImportFrom nodes."""

    context: SourceContext
    facts: SourceFacts

    def _add(self, code: Code, message: str, node: ast.AST) -> None:
        raise NotImplementedError

    def _check_attribute_name(self, attr: str, node: ast.AST, what: str) -> bool:
        raise NotImplementedError

    # -- imports -----------------------------------------------------------------------------

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)
            bound = alias.asname or alias.name.split(".", 1)[0]
            target = alias.name if alias.asname else bound
            self.facts.bindings.append((bound, target, True, *_position(alias, node)))

    def _import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            source = self._check_relative(node)
        else:
            source = node.module or ""
            self._check_module(source, node)
        for alias in node.names:
            name = alias.name
            if name == "*":
                self._add(Code.STAR_IMPORT, f"'from {node.module or '.'} import *' is not allowed: "
                          "import the names you use, so every one of them can be checked", node)
                continue
            self._check_attribute_name(name, alias if hasattr(alias, "lineno") else node, f"importing {name!r}")
            if name in policy.NAME_RESOLVERS and alias.asname not in (None, name):
                self._add(Code.DYNAMIC_ATTRIBUTE, f"import {name} under its own name", node)
            if source is not None:
                target = f"{source}.{name}" if source else name
                self.facts.bindings.append((alias.asname or name, target, False, *_position(alias, node)))

    def _check_module(self, dotted: str, node: ast.AST) -> None:
        root = dotted.split(".", 1)[0]
        if root in self.context.bundle_roots:
            return
        refused = module_policy.refusal(dotted)
        if refused is not None:
            self._add(refused.code, f"import of {dotted!r} is not allowed: {refused.reason}", node)
            return
        self._check_declared(root, node)

    def _check_declared(self, root: str, node: ast.AST) -> None:
        for dist, module in policy.REQUIREMENT_MODULES.items():
            if module == root and dist not in policy.PREINSTALLED and dist not in self.context.declared:
                pin = policy.REQUIREMENT_PINS[dist]
                self._add(
                    Code.UNDECLARED_REQUIREMENT,
                    f"{root!r} needs the line '{dist}=={pin}' in requirements.txt",
                    node,
                )

    def _check_relative(self, node: ast.ImportFrom) -> str | None:
        # Return the absolute bundle module the names are imported from (None when refused).
        package = self.context.package
        up = node.level - 1
        if up > len(package):
            self._add(Code.RELATIVE_IMPORT, "relative import reaches outside the bundle", node)
            return None
        base = package[: len(package) - up]
        modules = self.context.bundle_modules
        if node.module is not None:
            target = ".".join((*base, node.module))
            if target not in modules:
                self._add(Code.RELATIVE_IMPORT, f"relative import of {target!r}: no such module in the bundle", node)
                return None
            return target
        for alias in node.names:
            target = ".".join((*base, alias.name))
            if target not in modules and not (base and ".".join(base) in modules):
                self._add(Code.RELATIVE_IMPORT, f"relative import of {target!r}: no such module in the bundle", node)
        return ".".join(base)


def _position(alias: ast.alias, node: ast.stmt) -> tuple[int, int]:
    target: ast.alias | ast.stmt = alias if getattr(alias, "lineno", None) is not None else node
    return target.lineno, target.col_offset + 1
