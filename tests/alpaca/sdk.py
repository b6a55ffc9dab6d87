"""Checks that a raw answer is whole for the SDK model it is parsed into: every field the
model has is in the JSON (the models let most be missing; Alpaca sends them all)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# Alpaca sends these only for local-currency trading (Position) or option orders.
ONLY_FOR_OTHER_PRODUCTS = {"swap_rate", "avg_entry_swap_rate", "usd"}


def assert_whole(raw: dict[str, Any], model: type[BaseModel]) -> None:
    names = {f.alias or name for name, f in model.model_fields.items()}
    missing = names - set(raw) - ONLY_FOR_OTHER_PRODUCTS
    assert not missing, f"{model.__name__} answer lacks {sorted(missing)}"
