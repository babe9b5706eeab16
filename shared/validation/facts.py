"""What one file's walk records for the rules that need the whole file or the whole bundle.

An attribute chain on a module (`np.os`, `bt.utils.py3.urlopen`) can only be judged once every
import of the file is known, and a private attribute (`obj._x`) once every name the bundle
defines is known. The walk therefore records, besides its findings, the imports, the chains
rooted at names an import may bind, the private attributes used on others' objects and the
private names the code defines; `bundle_rules` judges them afterwards. Which names an import
may bind is read from the text before the walk (`import_candidates`, a superset), so pieces of
one file walked in different processes record the same chains as the whole file would.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# (bound name, dotted target, True when an `import` statement binds a module, line, col)
Binding = tuple[str, str, bool, int, int]
# (root name, attributes, positions as (line, col) of the root then of each attribute, usage)
Chain = tuple[str, tuple[str, ...], tuple[tuple[int, int], ...], int]
VALUE, STORE, LOOKUP = 0, 1, 2  # a chain's use: read as a value, assigned to, getattr() target

_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_MAX_SPAN = 8192  # characters of one import statement scanned for names


@dataclass
class SourceFacts:
    """The records of one file (or of the pieces of one file, merged in order)."""

    bindings: list[Binding] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    private_uses: list[tuple[str, int, int]] = field(default_factory=list)
    private_defs: set[str] = field(default_factory=set)

    def extend(self, other: SourceFacts) -> None:
        """Append the records of the next piece of the same file."""
        self.bindings.extend(other.bindings)
        self.chains.extend(other.chains)
        self.private_uses.extend(other.private_uses)
        self.private_defs |= other.private_defs

    @property
    def bound_names(self) -> set[str]:
        return {binding[0] for binding in self.bindings}


def import_candidates(text: str) -> frozenset[str]:
    """Every identifier in the statement after each `import` keyword: a superset of the names
    the file's imports bind (comments and strings may add a few more; that costs nothing).

    The scan is linear: each character is read a bounded number of times, so text crafted with
    thousands of `import (` gives up early, and check_text's second walk covers what it missed.
    """
    names: set[str] = set()
    budget = 4 * len(text) + 65536  # characters the scan may read, about 4 passes
    done = 0  # the end of the text already scanned for names
    find = text.find
    at = find("import")
    while at >= 0 and budget > 0:
        end = at + 6
        if (at == 0 or not _word_char(text[at - 1])) and (end >= len(text) or not _word_char(text[end])):
            stop = _statement_end(text, end)
            budget -= 2 * (stop - end) + 1
            if stop > max(end, done):
                names.update(_IDENTIFIER.findall(text, max(end, done), stop))
                done = stop
        at = find("import", end)
    if not all(name.isascii() for name in names):
        names |= {unicodedata.normalize("NFKC", name) for name in names}  # as the parser does
    return frozenset(names)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _statement_end(text: str, start: int) -> int:
    # To the end of the logical line: through a parenthesised name list and `\` continuations,
    # never further than _MAX_SPAN (an `import (` in a comment must not scan the whole file;
    # a longer real import is caught by check_text's second walk).
    limit = min(len(text), start + _MAX_SPAN)
    end = text.find("\n", start, limit)
    end = limit if end < 0 else end
    if "(" in text[start:end]:
        close = text.find(")", start, limit)
        end = limit if close < 0 else close
    while end < limit and text[end - 1] == "\\":
        following = text.find("\n", end + 1, limit)
        end = limit if following < 0 else following
    return end
