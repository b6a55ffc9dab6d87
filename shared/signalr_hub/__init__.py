"""A local SignalR endpoint: the negotiate + WebSocket + JSON hub protocol + REST subset of
Azure SignalR Service in Serverless mode, so the official clients and the REST notifier work
against it unchanged."""

from shared.signalr_hub.hub import HubConnection, LocalHub
from shared.signalr_hub.server import create_hub_app, mount_hub

__all__ = ["HubConnection", "LocalHub", "create_hub_app", "mount_hub"]
