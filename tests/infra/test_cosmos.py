"""Cosmos DB for MongoDB: the repositories' collections, shard keys and unique indexes."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep_model import module, resource

# collection -> (shard key, unique indexes). Cosmos DB enforces a unique index on a sharded
# collection only when the shard key is part of it, so the repositories' unique keys that
# lack it (executions.execution_id, accounts.api_key_hash) are declared with it in front.
EXPECTED = {
    "orders": ("account_id", {("account_id", "client_order_id")}),
    "executions": ("account_id", {("account_id", "execution_id")}),
    "journal": ("symbol", {("symbol", "command_id"), ("symbol", "first_seq")}),
    "journal_marks": ("symbol", set()),
    "accounts": ("account_id", {("account_id", "api_key_hash")}),
    "positions": ("account_id", {("account_id", "symbol")}),
    "instruments": ("symbol", set()),
    "idempotency": ("account_id", {("account_id", "key")}),
    "venues": ("name", set()),
    "venue_connections": ("name", set()),
    "feed_streams": ("stream", set()),
    "risk_ledgers": ("account_id", set()),
    "cash_ledger": ("account_id", {("account_id", "seq")}),
    "audit": ("target_id", set()),
    "venue_sessions": ("key", set()),
}


def _collections() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in module("cosmos")["variables"]["collections"]["value"]}


def test_collections_shard_keys_and_unique_indexes_match_the_repositories() -> None:
    actual = {}
    for name, c in _collections().items():
        unique = {
            tuple(i["key"]["keys"]) for i in c["indexes"] if i.get("options", {}).get("unique")
        }
        actual[name] = (c["shardKey"], unique)
    assert actual == EXPECTED


def test_bicep_declares_exactly_the_indexes_the_mongo_adapter_ensures() -> None:
    # Keys cannot create indexes in Azure (disableKeyBasedMetadataWriteAccess), so an index
    # the adapter wants but Bicep lacks would stop it at start-up.
    from shared.adapters.mongo.indexes import INDEXES, SHARD_KEYS

    adapter = {
        name: {(tuple(k for k, _ in i.keys), i.unique) for i in indexes}
        for name, indexes in INDEXES.items()
    }
    bicep = {
        name: {
            (tuple(i["key"]["keys"]), bool(i.get("options", {}).get("unique")))
            for i in c["indexes"]
            if i["key"]["keys"] != ["_id"]
        }
        for name, c in _collections().items()
    }
    assert bicep == adapter
    assert {name: c["shardKey"] for name, c in _collections().items()} == SHARD_KEYS


def test_every_unique_index_starts_with_the_shard_key_and_id_is_indexed() -> None:
    for name, c in _collections().items():
        keys = [i["key"]["keys"] for i in c["indexes"]]
        assert ["_id"] in keys, name
        for i in c["indexes"]:
            if i.get("options", {}).get("unique"):
                assert i["key"]["keys"][0] == c["shardKey"], name


def test_collections_are_created_with_hashed_shard_keys_and_declared_indexes() -> None:
    coll = resource(module("cosmos"), "collection")["properties"]["resource"]
    assert coll["indexes"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {"operand_1": "c", "operand_2": "indexes"},
        }
    }
    assert list(coll["shardKey"].values()) == ["Hash"]


def test_account_is_mongodb_serverless_by_default() -> None:
    cosmos = module("cosmos")
    account = resource(cosmos, "account")
    assert account["kind"] == "MongoDB"
    assert cosmos["parameters"]["serverless"]["default"] is True
    assert {"name": "EnableServerless"} in cosmos["variables"]["serverlessCapabilities"]["value"]
    assert cosmos["parameters"]["databaseName"]["default"] == "oms"
