"""The matcher service: session workers around the engine, the outbox, snapshots, feeds."""
