"""Check one decoded source text: parse it, walk its tree once, keep what the contract needs."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from shared.validation.agent_contract import contract_statements
from shared.validation.ast_rules import RuleWalker, SourceContext
from shared.validation.report import Code, Finding


@dataclass(frozen=True)
class CheckedSource:
    """The outcome for one file: its findings, and (when it parsed) its contract statements."""

    findings: list[Finding]
    statements: list[ast.stmt] | None

    @property
    def parsed(self) -> bool:
        return self.statements is not None


def check_text(path: str, text: str, context: SourceContext) -> tuple[CheckedSource, ast.Module | None]:
    """Parse and walk `text`; return the outcome and the tree (None when it did not parse).

    The tree is handed back rather than dropped so a caller about to exit can skip freeing it.
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
    findings = RuleWalker(path, context).run(tree)
    return CheckedSource(findings, contract_statements(tree)), tree
