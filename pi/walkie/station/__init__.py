"""The Pi station daemon: channel, board, buttons and LEDs wired together."""
