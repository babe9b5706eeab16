"""Where the ingester's symbols come from: configuration, else the platform universe.

The universe is the `settings/universe` document (`{"symbols": [...], "crypto_symbols": [...]}`)
when it exists, else the default universe. It is re-read periodically, so editing the document
changes the subscription without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shared.market.universe import DEFAULT_SYMBOLS
from shared.ports.documents import DocumentStore

log = logging.getLogger(__name__)
UNIVERSE_COLLECTION, UNIVERSE_DOC = "settings", "universe"


class SymbolSource:
    """Current stock and crypto lists; fixed `stocks` win, `crypto` is the default when the document has none."""

    def __init__(
        self,
        documents: DocumentStore | None,
        *,
        stocks: Sequence[str] = (),
        crypto: Sequence[str] = (),
    ) -> None:
        self.documents = documents
        self._fixed_stocks, self._default_crypto = tuple(stocks), tuple(crypto)
        self.stocks: tuple[str, ...] = self._fixed_stocks or DEFAULT_SYMBOLS
        self.crypto: tuple[str, ...] = self._default_crypto

    def reload(self) -> bool:
        """Re-read the universe; return whether either list changed."""
        if self.documents is None:
            return False
        try:
            doc = self.documents.get(UNIVERSE_COLLECTION, UNIVERSE_DOC) or {}
        except Exception as exc:  # noqa: BLE001 - keep the current lists; the next reload tries again
            log.warning("could not read the symbol universe: %s", exc)
            return False
        stocks = self._fixed_stocks or tuple(doc.get("symbols") or DEFAULT_SYMBOLS)
        crypto = tuple(doc.get("crypto_symbols") or self._default_crypto)
        changed = (stocks, crypto) != (self.stocks, self.crypto)
        if changed:
            log.info("symbols changed: %d stocks, %d crypto", len(stocks), len(crypto))
        self.stocks, self.crypto = stocks, crypto
        return changed
