"""Request bodies of the Alpaca API, read exactly.

Alpaca's clients send quantities and prices as JSON numbers (alpaca-py sends floats) or as
strings. The body is parsed with every JSON number kept as the decimal its text spells
(never a binary float), and each such field becomes a plain decimal string for the services.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from shared.services import codes
from shared.services.errors import InvalidRequest


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def parse_json(raw: bytes) -> dict[str, Any]:
    """The JSON object in `raw`, every number with a fraction or exponent a Decimal;
    InvalidRequest (400) when it is not a JSON object."""
    try:
        data = json.loads(raw or b"{}", parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(codes.INVALID_JSON, "request body format is invalid") from None
    if not isinstance(data, dict):
        raise InvalidRequest(codes.INVALID_JSON, "request body must be a JSON object")
    return data


def decimal_text(value: object) -> object:
    """A JSON number (int or Decimal) or a string as a plain decimal string."""
    if isinstance(value, bool):
        return value  # left for the type check to refuse
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        return value
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return "0" if number == 0 else format(number.normalize(), "f")


DecimalText = Annotated[
    str, BeforeValidator(decimal_text), StringConstraints(max_length=40, pattern=r"^-?[0-9.]+$")
]
ClientOrderId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TimeInForceName = Literal["day", "gtc", "opg", "cls", "ioc", "fok"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def read(cls, raw: bytes) -> Self:
        """The body in `raw`; a RequestValidationError names the first field at fault."""
        try:
            return cls.model_validate(parse_json(raw))
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None


class SubmitOrder(Body):
    """`POST /v2/orders`: Alpaca's order request (what it has that the OMS cannot do yet is
    refused by name, not ignored)."""

    symbol: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    qty: DecimalText | None = None
    notional: DecimalText | None = None
    side: Literal["buy", "sell"] | None = None
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"]
    time_in_force: TimeInForceName
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None
    trail_price: DecimalText | None = None
    trail_percent: DecimalText | None = None
    extended_hours: bool | None = None
    client_order_id: ClientOrderId | None = None
    order_class: Literal["simple", "bracket", "oco", "oto", "mleg", ""] | None = None
    take_profit: dict[str, Any] | None = None
    stop_loss: dict[str, Any] | None = None
    position_intent: (
        Literal["buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close"] | None
    ) = None
    legs: list[Any] | None = None
    subtag: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=64)


class ReplaceOrder(Body):
    """`PATCH /v2/orders/{id}`: `qty` is the new total quantity, the filled part included."""

    qty: DecimalText | None = None
    time_in_force: TimeInForceName | None = None
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None
    trail: DecimalText | None = None
    client_order_id: ClientOrderId | None = None
