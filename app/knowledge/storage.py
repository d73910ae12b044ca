"""Where original files live: in Postgres (default) or in Supabase Storage.

With SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set, uploads go to a private bucket
(SUPABASE_STORAGE_BUCKET, created when missing) through the `supabase` package, under
`{website_id}/{document_id}`. The object is written before the document row; when the
row's transaction fails the object is removed again, and deleting a document removes its
object after the row is gone, so a crash leaves at most an unreferenced object, never a
document without its file.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import structlog

from askbase.app.core.settings import Settings

if TYPE_CHECKING:
    import httpx

log = structlog.get_logger("askbase.storage")


class StorageUnavailable(RuntimeError):
    """Supabase Storage refused or could not be reached."""


def object_path(website_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"{website_id}/{document_id}"


class SupabaseStore:
    kind = "supabase"

    def __init__(self, bucket: Any, name: str, http: httpx.AsyncClient) -> None:
        self._bucket = bucket
        self._http = http
        self.name = name

    @classmethod
    async def connect(cls, url: str, key: str, bucket: str) -> SupabaseStore:
        try:
            import httpx
            from supabase import AsyncClientOptions, acreate_client
        except ImportError as error:
            raise StorageUnavailable(
                "SUPABASE_URL is set, but the supabase extra is not installed: "
                "pip install 'askbase[supabase]'"
            ) from error
        http = httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10))
        try:
            client = await acreate_client(url, key, AsyncClientOptions(httpx_client=http))
            try:
                await client.storage.get_bucket(bucket)
            except Exception:
                await client.storage.create_bucket(bucket, options={"public": False})
        except Exception as error:
            await http.aclose()
            raise StorageUnavailable(f"cannot use bucket {bucket!r}: {error}") from error
        return cls(client.storage.from_(bucket), bucket, http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def put(self, path: str, data: bytes, content_type: str) -> None:
        try:
            await self._bucket.upload(path, data, {"content-type": content_type, "upsert": "true"})
        except Exception as error:
            raise StorageUnavailable(f"upload failed: {error}") from error

    async def get(self, path: str) -> bytes:
        try:
            data: bytes = await self._bucket.download(path)
        except Exception as error:
            raise StorageUnavailable(f"download failed: {error}") from error
        return data

    async def remove(self, path: str) -> None:
        """Best effort: an object left behind is logged, never an error for the caller."""
        try:
            await self._bucket.remove([path])
        except Exception as error:
            log.warning("storage object not removed", path=path, error=str(error))

    async def signed_url(self, path: str, ttl_seconds: int, filename: str) -> str:
        try:
            signed = await self._bucket.create_signed_url(path, ttl_seconds, {"download": filename})
        except Exception as error:
            raise StorageUnavailable(f"signing failed: {error}") from error
        url: str = signed["signedURL"]
        return url


async def open_store(settings: Settings) -> SupabaseStore | None:
    """Supabase Storage when configured; None means files stay in Postgres."""
    if settings.supabase_url is None or settings.supabase_service_role_key is None:
        return None
    return await SupabaseStore.connect(
        settings.supabase_url,
        settings.supabase_service_role_key.get_secret_value(),
        settings.supabase_storage_bucket,
    )
