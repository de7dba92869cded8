"""The laptop client: connection, outbox, terminal UI and pipe mode.

* :mod:`~walkie.client.session` — the sans-I/O protocol core (hello, events, outbox, dedupe);
* :mod:`~walkie.client.connection` — :class:`ChannelConnection`, the asyncio shell that
  keeps one link to a hub alive (also used by the Pi station);
* :mod:`~walkie.client.backoff` — reconnect delays;
* :mod:`walkie.text` (shared with the hub) — what may reach a terminal, and valid nicks;
* :mod:`~walkie.client.command` — `walkie client` arguments; picks the mode;
* :mod:`~walkie.client.pipe` — pipe mode (stdin not a terminal);
* :mod:`~walkie.client.ui` — the interactive terminal UI (prompt_toolkit).
"""
