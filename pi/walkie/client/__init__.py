"""The laptop client: connection, outbox, terminal UI and pipe mode."""
