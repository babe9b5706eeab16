"""The definition rules of the walk: strings, classes, functions and their annotations."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from shared.validation import policy
from shared.validation.report import Code
from shared.validation.strings import check_annotation, check_format_fields, is_dunder

if TYPE_CHECKING:
    from shared.validation.facts import SourceFacts


class DefinitionRules:
    """Mixed into RuleWalker: the handlers for string constants, classes, functions and annotations."""

    facts: SourceFacts

    def _add(self, code: Code, message: str, node: ast.AST) -> None:
        raise NotImplementedError

    def _constant(self, node: ast.Constant) -> None:
        value = node.value
        if type(value) is not str:
            return
        if is_dunder(value) and value.isidentifier() and value != "__main__" and (
            value not in policy.ALLOWED_DUNDER_ATTRIBUTES and value not in policy.ALLOWED_DUNDER_NAMES
        ):
            self._add(Code.DUNDER_STRING, f"the string {value!r} names an interpreter internal", node)
        if "{" in value:
            for field_name, part in check_format_fields(value):
                self._add(Code.FORMAT_ATTRIBUTE, f"format field {field_name!r} reads the attribute {part!r}", node)

    def _class(self, node: ast.ClassDef) -> None:
        if node.name[0] == "_":
            self.facts.private_defs.add(node.name)
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self._add(Code.METACLASS, f"class {node.name!r} sets a metaclass; agents may not", keyword)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name[0] == "_":
            self.facts.private_defs.add(node.name)
        if node.returns is not None:
            self._annotation(node.returns)

    def _arg(self, node: ast.arg) -> None:
        if node.annotation is not None:
            self._annotation(node.annotation)

    def _annotated(self, node: ast.AnnAssign) -> None:
        self._annotation(node.annotation)

    def _annotation(self, annotation: ast.expr) -> None:
        # A string annotation is code that typing.get_type_hints (called by functools'
        # singledispatch, for one) evaluates: it may only name types.
        for text, node in check_annotation(annotation):
            self._add(Code.STRING_ANNOTATION, f"the annotation {text!r} may only name types "
                      "(names, attributes and subscripts, nothing private)", node)
