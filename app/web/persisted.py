"""Persisted operations: documents named by their SHA-256 instead of sent in full.

Two ways in, for every transport (HTTP GET and POST, both WebSocket protocols):

- Apollo's automatic persisted queries (APQ): `extensions.persistedQuery = {version: 1,
  sha256Hash}`. A request with the hash alone runs the document registered under it, or
  gets `PERSISTED_QUERY_NOT_FOUND` (the client then sends the document with its hash,
  which registers it). Registered documents live in an LRU of `APQ_CACHE_SIZE` per
  process; with 0, hash-only requests get `PERSISTED_QUERY_NOT_SUPPORTED` and clients
  fall back to full documents.
- Trusted documents (`TRUSTED_DOCUMENTS` manifests, plus the widget's own operations):
  `documentId: "sha256:<hex>"` (the GraphQL-over-HTTP persisted documents proposal) or
  the APQ extension with the hash of a trusted document.

A website with `trustedDocumentsOnly` accepts from its visitors only trusted documents:
anything else is refused before it is parsed or run. Owners are never restricted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from askbase.app.auth.context import Context
from askbase.app.auth.tokens import Visitor
from askbase.app.core.manifests import document_hash, sha256_hex

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


class PersistedQueryError(Exception):
    """A persisted-operation request that cannot run; Apollo's clients read `code` (and
    the message, which for the first two codes is the one Apollo Server sends)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PersistedDocuments:
    """The trusted documents of this deployment and the APQ registrations of clients."""

    def __init__(self, trusted: Mapping[str, str], *, cache_size: int) -> None:
        self.trusted = dict(trusted)
        self.cache_size = cache_size
        self._registered: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def build(
        cls, manifest: Mapping[str, str], widget: Iterable[str], *, cache_size: int
    ) -> PersistedDocuments:
        trusted = {sha256_hex(document): document for document in widget}
        trusted.update(manifest)
        return cls(trusted, cache_size=cache_size)

    def is_trusted(self, query: str) -> bool:
        return sha256_hex(query) in self.trusted

    def __len__(self) -> int:
        return len(self._registered)

    def resolve(
        self, query: str | None, extensions: Mapping[str, object] | None, document_id: object
    ) -> str | None:
        """The text of the document a request names; None when it names none (no query,
        no hash: the caller reports a missing query as before). Whether it is trusted is
        asked only where it matters (`admit`)."""
        if document_id is not None:
            return self._by_document_id(query, document_id)
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        digest = _apq_hash(persisted)
        if query is None:
            found = self.trusted.get(digest)
            if found is not None:
                return found
            if self.cache_size == 0:
                raise PersistedQueryError(NOT_SUPPORTED, "PersistedQueryNotSupported")
            found = self._registered.get(digest)
            if found is None:
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
            self._registered.move_to_end(digest)
            return found
        if sha256_hex(query) != digest:
            raise PersistedQueryError(
                "BAD_USER_INPUT",
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`.",
            )
        return query

    async def admit(
        self, context: Context, query: str, extensions: Mapping[str, object] | None
    ) -> None:
        """What every transport does before it runs a resolved document: the
        trusted-documents rule (PersistedQueryError FORBIDDEN), then the registration of
        a document a client sent with its APQ hash."""
        await check_trusted(self, context, query)
        if "persistedQuery" in (extensions or {}):
            self.register(query)

    def register(self, query: str) -> None:
        """Keep a document a client registered (after any trusted-only check passed)."""
        if self.cache_size == 0:
            return
        digest = sha256_hex(query)
        if digest in self.trusted:
            return
        self._registered[digest] = query
        self._registered.move_to_end(digest)
        while len(self._registered) > self.cache_size:
            self._registered.popitem(last=False)

    def _by_document_id(self, query: str | None, document_id: object) -> str:
        digest = document_hash(document_id) if isinstance(document_id, str) else None
        if digest is None:
            raise PersistedQueryError(
                "BAD_USER_INPUT", "`documentId` must be `sha256:` and 64 hex digits."
            )
        found = self.trusted.get(digest)
        if found is None:
            raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
        if query is not None and query != found:
            raise PersistedQueryError(
                "BAD_USER_INPUT", "`query` is not the document that `documentId` names."
            )
        return found


def _apq_hash(persisted: object) -> str:
    if not isinstance(persisted, dict):
        raise PersistedQueryError(
            "BAD_USER_INPUT", "`extensions.persistedQuery` must be an object."
        )
    if persisted.get("version") != 1:
        raise PersistedQueryError(NOT_SUPPORTED, "Unsupported persisted query version.")
    digest = persisted.get("sha256Hash")
    bare = document_hash(digest) if isinstance(digest, str) else None
    if bare is None:
        raise PersistedQueryError(
            "BAD_USER_INPUT", "`extensions.persistedQuery.sha256Hash` must be 64 hex digits."
        )
    return bare


async def check_trusted(persisted: PersistedDocuments, context: Context, query: str) -> None:
    """Refuse a visitor's document that is not trusted when their website accepts only
    trusted documents. A caller that cannot be verified is left to the resolvers, which
    report it with their own code."""
    if context.authorization() is None:
        return
    principal = context.resolved_principal  # a socket's, verified at connection_init
    if principal is None:
        try:
            principal = await context.principal()
        except Exception:  # the resolvers report the same failure, with its code
            return
    if (
        isinstance(principal, Visitor)
        and context.trusted_documents_only
        and not persisted.is_trusted(query)
    ):
        raise PersistedQueryError(
            "FORBIDDEN",
            "This website accepts only its trusted documents (the widget's operations and "
            "TRUSTED_DOCUMENTS) from visitors.",
        )
