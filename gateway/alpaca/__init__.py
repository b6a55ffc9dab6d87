"""The Alpaca connector: Alpaca's Trading API and trade_updates stream through alpaca-py."""
