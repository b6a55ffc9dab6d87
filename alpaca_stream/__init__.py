"""The container app serving Alpaca's `trade_updates` stream (`wss://.../stream`): a thin
relay of each account's live feed (the fan-out every client uses) in Alpaca's protocol."""
