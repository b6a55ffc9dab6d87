"""The FIX 4.4 venue connector on QuickFIX (initiator): see `connector.FixConnector`."""
