"""The production store: the repositories on Cosmos DB for MongoDB (pymongo's native async API).

Written for Cosmos DB's MongoDB API (RU-based accounts): no multi-document transactions, every
single-document write carries the shard key in its filter, optimistic concurrency through a
`version` field in the update filter, and throttled requests (error 16500, "Request rate is
large", with a `RetryAfterMs` hint) retried with back-off (`throttle.py`). It runs unchanged
on MongoDB itself (and on SecantusDB in the tests).

Shard keys (the collections are declared with them in Bicep; `indexes.SHARD_KEYS`):

- `orders`: account_id. Every API read and write is scoped by account, so they are
  single-partition; the unique (account_id, client_order_id) index starts with it, as Cosmos
  requires of a unique index on a sharded collection. `get_any` and the outbox sweep
  (`list_undispatched`) fan out, and are internal and rare.
- `executions`: account_id. Lists by account and order stay in one partition. Cosmos cannot
  enforce a unique execution_id across partitions, so the unique index is
  (account_id, execution_id): the same guarantee, since an execution id belongs to exactly
  one order and so one account. The public trade tape (`list_trades`) fans out.
- `journal`: symbol. One instrument's matcher writes and replays one partition; unique
  (symbol, command_id) and (symbol, first_seq).
- `journal_marks`: symbol (one document per instrument, `_id` = symbol).
- `accounts`: account_id. Cosmos cannot enforce a unique api_key_hash across partitions, so
  each key hash is claimed by a small claim document whose shard key and `_id` are both
  `apikey:<hash>`: `_id` is unique within its partition, which makes the claim unique
  globally, and a lookup by key hash is two point reads instead of a fan-out query.
- `positions`: account_id; unique (account_id, symbol).
- `instruments`: symbol (`_id` = symbol).
- `idempotency`: account_id; unique (account_id, key).
- `risk_ledgers`: account_id (`_id` = account id): each account's use of its limits,
  changed by a conditional write on its version (shared.ports.store_risk).
- `feed_streams`: stream (`_id` = stream name, e.g. `account:<id>`): one small document
  per live-feed stream with its epoch and last sequence number.
"""
