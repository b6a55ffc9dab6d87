"""Accounts on MongoDB, shard key account_id, with API key hashes claimed by claim documents.

An account document has `_id` = account id and `kind` = "account". Its key hash is claimed
by a document `{_id: "apikey:<hash>", account_id: "apikey:<hash>", kind: "api_key",
owner: <account id>}`: unique because `_id` is unique within its own partition. Without
transactions the claim is written first and released if the account write fails; a claim
left behind by a crash whose owner never came to exist is taken over by the next claimant.
"""

from __future__ import annotations

import dataclasses
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_accounts import Account
from shared.ports.store_codec import Doc, account_from_doc, account_to_doc
from shared.ports.store_errors import DuplicateAccount, DuplicateApiKey, NotFound, VersionConflict

ACCOUNT = "account"
API_KEY = "api_key"


def _claim_id(api_key_hash: str) -> str:
    return f"apikey:{api_key_hash}"


class MongoAccountRepository:
    """The AccountRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._accounts = collection

    async def _claim(self, api_key_hash: str, account_id: str) -> bool:
        """Claim the key hash for the account; False if this account held it already."""
        claim_id = _claim_id(api_key_hash)
        claim = {"_id": claim_id, "account_id": claim_id, "kind": API_KEY, "owner": account_id}
        try:
            await with_retry(partial(self._accounts.insert_one, claim))
            return True
        except DuplicateKeyError:
            pass
        query = {"_id": claim_id, "account_id": claim_id}
        holder = await with_retry(partial(self._accounts.find_one, query))
        owner = holder["owner"] if holder else None
        if owner == account_id:
            return False
        current = await self.get(owner) if owner else None
        if current is not None and current.api_key_hash == api_key_hash:
            raise DuplicateApiKey(account_id)
        # An abandoned claim (its owner never got or no longer has this key): take it over.
        take = {"$set": {"owner": account_id}}
        result = await with_retry(
            partial(self._accounts.update_one, {**query, "owner": owner}, take)
        )
        if result.matched_count == 0:
            raise DuplicateApiKey(account_id)
        return True

    async def _release(self, api_key_hash: str, account_id: str) -> None:
        claim_id = _claim_id(api_key_hash)
        query = {"_id": claim_id, "account_id": claim_id, "owner": account_id}
        await with_retry(partial(self._accounts.delete_one, query))

    async def create(self, account: Account) -> None:
        if await self.get(account.account_id) is not None:
            raise DuplicateAccount(account.account_id)
        claimed = await self._claim(account.api_key_hash, account.account_id)
        doc = {"_id": account.account_id, "kind": ACCOUNT, **account_to_doc(account)}
        try:
            await with_retry(partial(self._accounts.insert_one, doc))
        except DuplicateKeyError:
            if claimed:
                await self._release(account.api_key_hash, account.account_id)
            raise DuplicateAccount(account.account_id) from None

    async def get(self, account_id: str) -> Account | None:
        query = {"_id": account_id, "account_id": account_id, "kind": ACCOUNT}
        doc = await with_retry(partial(self._accounts.find_one, query))
        return None if doc is None else account_from_doc(doc)

    async def get_by_api_key_hash(self, api_key_hash: str) -> Account | None:
        claim_id = _claim_id(api_key_hash)
        query = {"_id": claim_id, "account_id": claim_id}
        claim = await with_retry(partial(self._accounts.find_one, query))
        if claim is None:
            return None
        account = await self.get(claim["owner"])
        if account is None or account.api_key_hash != api_key_hash:
            return None  # a claim whose account never got (or gave up) this key
        return account

    async def update(self, account: Account, expected_version: int) -> Account:
        current = await self.get(account.account_id)
        if current is None:
            raise NotFound(f"account {account.account_id}")
        if current.version != expected_version:
            raise VersionConflict(account.account_id, expected_version, current.version)
        new_key = account.api_key_hash != current.api_key_hash
        if new_key:
            await self._claim(account.api_key_hash, account.account_id)
        stored = dataclasses.replace(account, version=expected_version + 1)
        query: Doc = {
            "_id": account.account_id,
            "account_id": account.account_id,
            "version": expected_version,
        }
        update = {"$set": account_to_doc(stored)}
        result = await with_retry(partial(self._accounts.update_one, query, update))
        if result.matched_count == 0:
            if new_key:
                await self._release(account.api_key_hash, account.account_id)
            latest = await self.get(account.account_id)
            raise VersionConflict(
                account.account_id, expected_version, latest.version if latest else -1
            )
        if new_key:
            await self._release(current.api_key_hash, account.account_id)
        return stored

    async def list_accounts(self) -> list[Account]:
        query = {"kind": ACCOUNT}
        docs = await with_retry(partial(find_list, self._accounts, query, [("account_id", 1)], 0))
        return [account_from_doc(doc) for doc in docs]
