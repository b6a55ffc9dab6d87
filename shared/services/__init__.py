"""The service layer: use cases over the ports, called by every entrypoint."""
