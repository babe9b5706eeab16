"""Blobs port on Google Cloud Storage (google-cloud-storage).

The client is created on first use, so importing this module or building the store touches
no network and needs no credentials. `STORAGE_EMULATOR_HOST` (fake-gcs-server locally) is
honoured by the client library itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.adapters.blob_keys import check_key, check_prefix
from shared.adapters.gcp.errors import CLOUD_STORAGE
from shared.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from google.cloud.storage import Bucket, Client


class GcsBlobStore:
    """Objects in one Cloud Storage bucket, keys used as object names."""

    def __init__(self, bucket: str, project: str | None = None) -> None:
        if not bucket:
            raise InvalidInputError("a Cloud Storage bucket name is required")
        self.bucket_name = bucket
        self.project = project
        self._client: Client | None = None
        self._bucket: Bucket | None = None

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_absent: bool = False,
    ) -> None:
        """Store `data` at `key`; with `if_absent`, ConflictError when the key exists."""
        check_key(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"blob data must be bytes, got {type(data).__name__}")
        # Generation 0 means "no live object": the server checks and writes in one step.
        precondition = {"if_generation_match": 0} if if_absent else {}
        with CLOUD_STORAGE.translated(f"blob {key!r}"):
            self._bucket_ref().blob(key).upload_from_string(
                bytes(data), content_type=content_type, **precondition
            )

    def get(self, key: str) -> bytes:
        """Return the object's bytes; NotFoundError when missing."""
        check_key(key)
        with CLOUD_STORAGE.translated(f"blob {key!r}"):
            return self._bucket_ref().blob(key).download_as_bytes()

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        check_key(key)
        with CLOUD_STORAGE.translated(f"blob {key!r}"):
            return self._bucket_ref().blob(key).exists()

    def delete(self, key: str) -> None:
        """Delete the object (no error when missing)."""
        check_key(key)
        try:
            with CLOUD_STORAGE.translated(f"blob {key!r}"):
                self._bucket_ref().blob(key).delete()
        except NotFoundError:
            pass

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""
        check_prefix(prefix)
        with CLOUD_STORAGE.translated(f"list blobs under {prefix!r}"):
            blobs = self._client_ref().list_blobs(self.bucket_name, prefix=prefix or None)
            return sorted(blob.name for blob in blobs)

    def close(self) -> None:
        """Close the client's HTTP session (it reopens on next use)."""
        client, self._client, self._bucket = self._client, None, None
        if client is not None:
            client.close()

    def content_type(self, key: str) -> str:
        """Return the content type the object was stored with; NotFoundError when missing."""
        check_key(key)
        with CLOUD_STORAGE.translated(f"blob {key!r}"):
            blob = self._bucket_ref().get_blob(key)
        if blob is None:
            raise NotFoundError(f"no blob at {key!r}")
        return blob.content_type or "application/octet-stream"

    def _client_ref(self) -> Client:
        if self._client is None:
            from google.cloud import storage

            self._client = storage.Client(project=self.project)
        return self._client

    def _bucket_ref(self) -> Bucket:
        if self._bucket is None:
            self._bucket = self._client_ref().bucket(self.bucket_name)
        return self._bucket
