"""Where a hub is: its default port, and ``HOST[:PORT]`` as users write it
(on the command line and in the Pi's config).

``HOST`` may be a name, an IPv4 address or an IPv6 literal, in brackets when a
port follows (``[::1]:32000``).
"""

from __future__ import annotations

from walkie.errors import ConfigError

DEFAULT_PORT = 32000


def format_address(host: str, port: int) -> str:
    """``HOST:PORT`` as :func:`parse_address` reads it back (``[::1]:32000``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_address(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Split ``HOST[:PORT]`` (IPv6 as ``[addr]`` or ``[addr]:port``, or bare ``::1``)."""
    text = text.strip()
    if "://" in text:
        raise ConfigError(f"bad address {text!r}: give HOST[:PORT], not a URL")
    port_text: str | None = None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise ConfigError(f"bad address {text!r}: use [IPv6]:PORT")
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"bad address {text!r}: use [IPv6]:PORT")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text  # a name, IPv4, or a bare IPv6 literal (no port possible)
    if not host:
        raise ConfigError(f"bad address {text!r}: no host")
    if port_text is None:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"bad port {port_text!r} in {text!r}") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"bad port {port} in {text!r}: must be 1-65535")
    return host, port
