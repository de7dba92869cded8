"""The chat channel: line protocol, channel state, history and the TCP hub."""
