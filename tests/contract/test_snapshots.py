"""The snapshot store contract, on every adapter that runs here.

- `folder`: the embedded adapter on a temporary folder.
- `azurite`: the Blob Storage adapter on Azurite (npm `azurite`, installed into
  .tools/azurite), started once per session on a loopback port with telemetry off.
- `azure`: the Blob Storage adapter on the real account at SNAPSHOTS_BLOB_SERVICE_URL
  (managed identity / developer login), skipped without it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.adapters.factory import snapshots_from_settings
from shared.adapters.snapshots_blob import BlobSnapshotStore
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.config.settings import Settings
from shared.ports.snapshots import SnapshotStore, seq_of, snapshot_name

ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = ROOT / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented; not a secret).
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"azurite exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("azurite did not start listening in time")


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service on a free loopback port for the whole session."""
    if not AZURITE_BLOB.exists():
        pytest.skip("azurite is not installed: npm install --prefix .tools/azurite azurite@3.37.0")
    port = _free_port()
    location = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(
        [
            str(AZURITE_BLOB),
            "--blobHost", "127.0.0.1",
            "--blobPort", str(port),
            "--location", str(location),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, process)
        yield (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={DEV_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["folder", "azurite", "azure"])
async def snapshots(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SnapshotStore]:
    """A fresh, empty snapshot store of each kind (a new container per blob test)."""
    container = f"snap-{uuid.uuid4().hex[:16]}"
    store: SnapshotStore
    if request.param == "folder":
        store = FolderSnapshotStore(tmp_path / "snapshots")
    elif request.param == "azurite":
        conn = request.getfixturevalue("azurite_connection_string")
        store = BlobSnapshotStore.from_connection_string(conn, container)
    else:
        url = os.environ.get("SNAPSHOTS_BLOB_SERVICE_URL", "")
        if not url:
            pytest.skip("SNAPSHOTS_BLOB_SERVICE_URL is not set: no real storage account here")
        store = BlobSnapshotStore.from_service_url(
            url, container, os.environ.get("AZURE_CLIENT_ID") or None
        )
    try:
        yield store
    finally:
        if isinstance(store, BlobSnapshotStore):
            await store._container.delete_container()
        await store.close()


async def test_an_instrument_without_snapshots_has_no_latest(snapshots: SnapshotStore) -> None:
    assert await snapshots.latest("AAPL") is None


async def test_latest_is_the_snapshot_with_the_highest_sequence(snapshots: SnapshotStore) -> None:
    for seq in (9, 10, 100, 2):  # saved out of order; numeric order is what counts
        await snapshots.save("AAPL", seq, f'{{"seq":{seq}}}'.encode())
    await snapshots.save("MSFT", 500, b'{"seq":500}')
    assert await snapshots.latest("AAPL") == (100, b'{"seq":100}')
    assert await snapshots.latest("MSFT") == (500, b'{"seq":500}')


async def test_saving_the_same_sequence_again_replaces_it(snapshots: SnapshotStore) -> None:
    await snapshots.save("AAPL", 7, b"old")
    await snapshots.save("AAPL", 7, b"new")
    assert await snapshots.latest("AAPL") == (7, b"new")


async def test_symbols_that_share_a_prefix_or_hold_a_slash_stay_apart(
    snapshots: SnapshotStore,
) -> None:
    await snapshots.save("BTC/USD", 3, b"pair")
    await snapshots.save("BTC", 1, b"coin")
    await snapshots.save("BTCX", 9, b"other")
    assert await snapshots.latest("BTC/USD") == (3, b"pair")
    assert await snapshots.latest("BTC") == (1, b"coin")


async def test_prune_keeps_the_newest_snapshots(snapshots: SnapshotStore) -> None:
    for seq in range(1, 6):
        await snapshots.save("AAPL", seq, str(seq).encode())
    assert await snapshots.prune("AAPL", keep=2) == 3
    assert await snapshots.latest("AAPL") == (5, b"5")
    assert await snapshots.prune("AAPL", keep=2) == 0
    assert await snapshots.prune("AAPL", keep=1) == 1
    assert await snapshots.latest("AAPL") == (5, b"5")


async def test_a_large_snapshot_round_trips_byte_for_byte(snapshots: SnapshotStore) -> None:
    data = os.urandom(3 * 1024 * 1024)  # several blocks' worth
    await snapshots.save("AAPL", 42, data)
    assert await snapshots.latest("AAPL") == (42, data)


async def test_concurrent_saves_of_different_instruments_all_land(
    snapshots: SnapshotStore,
) -> None:
    symbols = [f"S{i}" for i in range(8)]
    await asyncio.gather(*(snapshots.save(s, 1, s.encode()) for s in symbols))
    for s in symbols:
        assert await snapshots.latest(s) == (1, s.encode())


def test_names_sort_by_sequence_and_parse_back() -> None:
    names = [snapshot_name("A", seq) for seq in (1, 10, 2, 10**15)]
    assert sorted(names) == [snapshot_name("A", s) for s in (1, 2, 10, 10**15)]
    assert [seq_of(n) for n in names] == [1, 10, 2, 10**15]
    assert seq_of("A/.tmp-123") is None


def test_a_crashed_folder_save_leaves_no_visible_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "snapshots" / "AAPL"
    folder.mkdir(parents=True)
    (folder / ".tmp-abc").write_bytes(b"half a snap")  # what a kill mid-write leaves
    store = FolderSnapshotStore(tmp_path / "snapshots")
    assert asyncio.run(store.latest("AAPL")) is None


def test_settings_pick_blob_storage_or_the_folder(tmp_path: Path) -> None:
    folder = snapshots_from_settings(
        Settings(
            OMS_DATA_DIR=tmp_path, SNAPSHOTS_CONNECTION_STRING=None, SNAPSHOTS_BLOB_SERVICE_URL=None
        )
    )
    assert isinstance(folder, FolderSnapshotStore)
    azurite = snapshots_from_settings(
        Settings(SNAPSHOTS_CONNECTION_STRING="UseDevelopmentStorage=true")
    )
    assert isinstance(azurite, BlobSnapshotStore)
    assert azurite._container.url == "http://127.0.0.1:10000/devstoreaccount1/snapshots"
    asyncio.run(azurite.close())
