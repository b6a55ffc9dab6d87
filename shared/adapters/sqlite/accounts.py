"""Accounts on SQLite: the account as a JSON document, the key hash as a unique column."""

from __future__ import annotations

import dataclasses
import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.decoded import DecodedDocs
from shared.ports.store_accounts import Account
from shared.ports.store_codec import account_from_doc, account_to_doc
from shared.ports.store_errors import DuplicateAccount, DuplicateApiKey, NotFound, VersionConflict


class SqliteAccountRepository:
    """The AccountRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._decoded = DecodedDocs[Account](lambda raw: account_from_doc(orjson.loads(raw)))

    async def create(self, account: Account) -> None:
        row = (
            account.account_id,
            account.api_key_hash,
            account.version,
            orjson.dumps(account_to_doc(account)),
        )
        try:
            await self._db.write_one(
                "INSERT INTO accounts (account_id, api_key_hash, version, doc) VALUES (?, ?, ?, ?)",
                row,
            )
        except sqlite3.IntegrityError:
            if await self.get(account.account_id) is not None:
                raise DuplicateAccount(account.account_id) from None
            raise DuplicateApiKey(account.account_id) from None

    async def get(self, account_id: str) -> Account | None:
        row = self._db.reader.execute(
            "SELECT doc FROM accounts WHERE account_id = ?", (account_id,)
        ).fetchone()
        return None if row is None else self._decoded(row[0])

    async def get_by_api_key_hash(self, api_key_hash: str) -> Account | None:
        row = self._db.reader.execute(
            "SELECT doc FROM accounts WHERE api_key_hash = ?", (api_key_hash,)
        ).fetchone()
        return None if row is None else self._decoded(row[0])

    async def update(self, account: Account, expected_version: int) -> Account:
        stored = dataclasses.replace(account, version=expected_version + 1)
        params = (
            stored.api_key_hash,
            stored.version,
            orjson.dumps(account_to_doc(stored)),
            account.account_id,
            expected_version,
        )
        try:
            cursor = await self._db.write_one(
                "UPDATE accounts SET api_key_hash = ?, version = ?, doc = ?"
                " WHERE account_id = ? AND version = ?",
                params,
            )
        except sqlite3.IntegrityError:
            raise DuplicateApiKey(account.account_id) from None
        if cursor.rowcount == 0:
            current = await self.get(account.account_id)
            if current is None:
                raise NotFound(f"account {account.account_id}")
            raise VersionConflict(account.account_id, expected_version, current.version)
        return stored

    async def list_accounts(self) -> list[Account]:
        rows = self._db.reader.execute("SELECT doc FROM accounts ORDER BY account_id").fetchall()
        return [self._decoded(row[0]) for row in rows]
