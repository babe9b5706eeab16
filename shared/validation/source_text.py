"""Check one decoded source text: parse it, walk its tree once, keep what the contract needs."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from shared.validation.agent_contract import contract_statements
from shared.validation.ast_rules import RuleWalker, SourceContext
from shared.validation.facts import SourceFacts, import_candidates
from shared.validation.report import Code, Finding


@dataclass(frozen=True)
class CheckedSource:
    """The outcome for one file: its findings, and (when it parsed) its contract statements and
    the facts the bundle-wide rules judge."""

    findings: list[Finding]
    statements: list[ast.stmt] | None
    facts: SourceFacts | None = None

    @property
    def parsed(self) -> bool:
        return self.statements is not None


def check_text(
    path: str, text: str, context: SourceContext, candidates: frozenset[str] | None = None
) -> tuple[CheckedSource, ast.Module | None]:
    """Parse and walk `text`; return the outcome and the tree (None when it did not parse).

    `candidates` are the names the whole file's imports may bind (given when `text` is a piece
    of a larger file); by default they are read from `text`. The tree is handed back rather
    than dropped so a caller about to exit can skip freeing it.
    """
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like warn at parse time; they are the author's
            # business, not the platform's log's.
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        message = f"syntax error: {exc.msg}"
        return CheckedSource([Finding(Code.SYNTAX_ERROR, message, path, exc.lineno, exc.offset)], None), None
    except (RecursionError, MemoryError, ValueError) as exc:
        message = f"source is too deeply nested to check ({type(exc).__name__})"
        return CheckedSource([Finding(Code.TOO_COMPLEX, message, path)], None), None
    whole = candidates is None
    names = import_candidates(text) if candidates is None else candidates
    walker = RuleWalker(path, context, names)
    walker.run(tree)
    if whole and not walker.facts.bound_names <= names:
        # An import the text scan missed (a name spelt with a backslash continuation inside,
        # say): walk again knowing every bound name, so no chain goes unrecorded.
        walker = RuleWalker(path, context, names | walker.facts.bound_names)
        walker.run(tree)
    return CheckedSource(walker.findings, contract_statements(tree), walker.facts), tree
