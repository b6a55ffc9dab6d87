"""Test and benchmark tools (not product): simulators run as their own processes."""
