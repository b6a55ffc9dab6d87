"""Snapshots in Azure Blob Storage (Azurite locally), on `azure.storage.blob.aio`.

Blob `{symbol}/{seq:020d}.json` in one container: names list in lexical order, so a symbol's
latest snapshot is the last of its listing. An upload of one block blob is atomic: readers
see the old blob or the new one, never a part. In Azure the client authenticates with the
user-assigned managed identity (`DefaultAzureCredential`); shared keys are disabled there.
Nothing connects until the first call.
"""

from __future__ import annotations

import contextlib
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from shared.ports.snapshots import seq_of, snapshot_name, symbol_folder


class BlobSnapshotStore:
    """The SnapshotStore port on one Blob Storage container."""

    def __init__(self, service: BlobServiceClient, container: str, credential: Any = None) -> None:
        self._service = service
        self._container: ContainerClient = service.get_container_client(container)
        self._credential = credential
        self._ready = False

    @classmethod
    def from_service_url(
        cls, url: str, container: str, client_id: str | None = None
    ) -> BlobSnapshotStore:
        """Managed identity (or the developer's login) against `https://<acct>.blob...`."""
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
        return cls(BlobServiceClient(url, credential=credential), container, credential)

    @classmethod
    def from_connection_string(cls, conn: str, container: str) -> BlobSnapshotStore:
        """A connection string; `UseDevelopmentStorage=true` is Azurite on 127.0.0.1:10000."""
        return cls(BlobServiceClient.from_connection_string(conn), container)

    async def _ensure_container(self) -> None:
        if self._ready:
            return
        # Bicep makes the container in Azure, where the identity's role is scoped to it and
        # may not allow creating one (403); Azurite and fresh test accounts start without it.
        with contextlib.suppress(ResourceExistsError):
            try:
                await self._container.create_container()
            except HttpResponseError as error:
                if error.status_code != 403:
                    raise
        self._ready = True

    async def save(self, symbol: str, seq: int, data: bytes) -> None:
        await self._ensure_container()
        await self._container.upload_blob(
            snapshot_name(symbol, seq), data, overwrite=True, content_type="application/json"
        )

    async def _names(self, symbol: str) -> list[tuple[int, str]]:
        await self._ensure_container()
        found = []
        async for name in self._container.list_blob_names(
            name_starts_with=symbol_folder(symbol) + "/"
        ):
            seq = seq_of(name)
            if seq is not None:
                found.append((seq, name))
        return sorted(found)

    async def latest(self, symbol: str) -> tuple[int, bytes] | None:
        names = await self._names(symbol)
        if not names:
            return None
        seq, name = names[-1]
        stream = await self._container.download_blob(name)
        return seq, await stream.readall()

    async def prune(self, symbol: str, keep: int) -> int:
        if keep < 1:
            raise ValueError("keep at least the latest snapshot")
        old = (await self._names(symbol))[:-keep]
        for _, name in old:
            await self._container.delete_blob(name)
        return len(old)

    async def close(self) -> None:
        await self._container.close()
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()
