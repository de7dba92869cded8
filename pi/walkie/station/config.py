"""The Pi station's configuration: a TOML file, checked key by key.

Unknown keys and bad values are refused with a one-line :class:`ConfigError`
naming the key (``serial.baud: must be one of ...``). Every key has a default,
so an empty file — or no file at all — gives a station in the server role on
127.0.0.1:32000; a file naming ``client.hub`` gives one in the client role.
See ``systemd/walkie.toml`` for an annotated example.
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from walkie.address import DEFAULT_PORT, parse_address
from walkie.channel.descriptors import MAX_STATIONS_BESIDE_A_SERIAL_PORT
from walkie.channel.ranges import LIMIT_RANGES
from walkie.errors import ConfigError
from walkie.text import NICK_RULE, is_valid_nick

DEFAULT_CONFIG_PATH = Path("/etc/walkie/walkie.toml")
DEFAULT_QUICK_MESSAGES = ("OK", "Yes", "No", "On my way", "Call me")
MAX_QUICK_MESSAGES = 20
MAX_QUICK_MESSAGE_LENGTH = 200
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400)


@dataclass(frozen=True)
class ServerConfig:
    """The hub this station runs in the server role."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    history_db: Path | None = None
    max_rate: float = 5.0
    burst: int = 10
    max_line: int = 1000
    floor_timeout: float = 30.0
    max_queued: int = 100
    max_send_buffer: int = 256 * 1024
    max_stations: int = MAX_STATIONS_BESIDE_A_SERIAL_PORT
    token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True)
class ClientConfig:
    """The hub this station joins in the client role."""

    hub: str = ""
    token_file: Path | None = None
    tls: bool = False
    known_hubs: Path | None = None


@dataclass(frozen=True)
class SerialConfig:
    port: str = "auto"
    baud: int = 115200


@dataclass(frozen=True)
class GpioConfig:
    """BCM pin numbers; ``None`` means the part is not fitted."""

    button: int | None = None
    led: int | None = None
    talk_led: int | None = None
    pin_factory: str = ""


@dataclass(frozen=True)
class PttConfig:
    hold_time: float = 0.6
    quick_messages: tuple[str, ...] = DEFAULT_QUICK_MESSAGES


@dataclass(frozen=True)
class StationConfig:
    role: str = "server"
    nick: str = "pi"
    server: ServerConfig = field(default_factory=ServerConfig)
    client: ClientConfig = field(default_factory=ClientConfig)
    serial: SerialConfig = field(default_factory=SerialConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    ptt: PttConfig = field(default_factory=PttConfig)


def load_config(path: Path | None) -> StationConfig:
    """Read ``path``; ``None`` reads the default file if it exists."""
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return StationConfig()
        path = DEFAULT_CONFIG_PATH
    try:
        data = path.read_bytes()
        # Windows editors (Notepad) start a UTF-8 file with a byte order mark,
        # which TOML does not allow: it is skipped, as it carries no text.
        text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        document = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except PermissionError:
        raise ConfigError(f"config file not readable: {path}") from None
    except OSError as exc:  # a directory, an I/O error
        raise ConfigError(f"config file not readable: {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        at = exc.start + 1 + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 at byte {at}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(document, source=str(path))


def parse_config(document: Mapping[str, Any], source: str = "config") -> StationConfig:
    """Turn a parsed TOML document into a checked :class:`StationConfig`."""
    checker = _Checker(source)
    top = checker.table(document, "", StationConfig, sections=_SECTIONS)
    client = _client(checker, document.get("client", {}))
    # A hub to join makes a client, as --hub does, unless the role says otherwise.
    role = checker.choice(top, "role", ("server", "client"), "client" if client.hub else "server")
    config = StationConfig(
        role=role,
        nick=checker.nick(top, "nick", "pi"),
        server=_server(checker, document.get("server", {})),
        client=client,
        serial=_serial(checker, document.get("serial", {})),
        gpio=_gpio(checker, document.get("gpio", {})),
        ptt=_ptt(checker, document.get("ptt", {})),
    )
    server = config.server
    if (server.tls_cert is None) != (server.tls_key is None):
        raise ConfigError(f"{source}: server.tls_cert and server.tls_key go together")
    if config.role == "client" and not config.client.hub:
        raise ConfigError(f"{source}: client.hub: required in the client role (HOST[:PORT])")
    return config


_SECTIONS = {
    "server": ServerConfig,
    "client": ClientConfig,
    "serial": SerialConfig,
    "gpio": GpioConfig,
    "ptt": PttConfig,
}


def _server(checker: _Checker, table: Any) -> ServerConfig:
    values = checker.table(table, "server", ServerConfig)
    db = checker.string(values, "server.history_db", "")
    default = ServerConfig()
    ranges = dict(LIMIT_RANGES)
    # This station's own connection counts; its serial port needs descriptors below 1024.
    ranges["max_stations"] = (2, MAX_STATIONS_BESIDE_A_SERIAL_PORT)
    return ServerConfig(
        host=checker.string(values, "server.host", default.host),
        port=checker.integer(values, "server.port", default.port, 0, 65535),
        history_db=Path(db) if db else None,
        max_rate=checker.number(values, "server.max_rate", default.max_rate, *ranges["max_rate"]),
        burst=checker.integer(values, "server.burst", default.burst, *ranges["burst"]),
        max_line=checker.integer(values, "server.max_line", default.max_line, *ranges["max_line"]),
        floor_timeout=checker.number(
            values, "server.floor_timeout", default.floor_timeout, *ranges["floor_timeout"]
        ),
        max_queued=checker.integer(
            values, "server.max_queued", default.max_queued, *ranges["max_queued"]
        ),
        max_send_buffer=checker.integer(
            values, "server.max_send_buffer", default.max_send_buffer, *ranges["max_send_buffer"]
        ),
        max_stations=checker.integer(
            values, "server.max_stations", default.max_stations, *ranges["max_stations"]
        ),
        token_file=checker.path(values, "server.token_file"),
        tls_cert=checker.path(values, "server.tls_cert"),
        tls_key=checker.path(values, "server.tls_key"),
    )


def _client(checker: _Checker, table: Any) -> ClientConfig:
    values = checker.table(table, "client", ClientConfig)
    tls = values.get("tls", False)
    if not isinstance(tls, bool):
        raise checker.error("client.tls", f"must be true or false, not {tls!r}")
    hub = checker.string(values, "client.hub", "")
    if hub:
        try:
            parse_address(hub)
        except ConfigError as exc:
            raise checker.error("client.hub", str(exc)) from None
    return ClientConfig(
        hub=hub,
        token_file=checker.path(values, "client.token_file"),
        tls=tls,
        known_hubs=checker.path(values, "client.known_hubs"),
    )


def _serial(checker: _Checker, table: Any) -> SerialConfig:
    values = checker.table(table, "serial", SerialConfig)
    baud = checker.integer(values, "serial.baud", 115200, 1, 4_000_000)
    if baud not in BAUD_RATES:
        raise checker.error("serial.baud", f"must be one of {', '.join(map(str, BAUD_RATES))}")
    return SerialConfig(port=checker.string(values, "serial.port", "auto") or "auto", baud=baud)


def _gpio(checker: _Checker, table: Any) -> GpioConfig:
    values = checker.table(table, "gpio", GpioConfig)
    pins = {
        name: checker.optional_integer(values, f"gpio.{name}", 0, 27)
        for name in ("button", "led", "talk_led")
    }
    used = [pin for pin in pins.values() if pin is not None]
    if len(used) != len(set(used)):
        raise checker.error("gpio", "each pin may be used only once")
    return GpioConfig(
        button=pins["button"],
        led=pins["led"],
        talk_led=pins["talk_led"],
        pin_factory=checker.string(values, "gpio.pin_factory", ""),
    )


def _ptt(checker: _Checker, table: Any) -> PttConfig:
    values = checker.table(table, "ptt", PttConfig)
    messages = values.get("quick_messages", list(DEFAULT_QUICK_MESSAGES))
    if (
        not isinstance(messages, list)
        or not 1 <= len(messages) <= MAX_QUICK_MESSAGES
        or not all(isinstance(m, str) and 0 < len(m) <= MAX_QUICK_MESSAGE_LENGTH for m in messages)
    ):
        raise checker.error(
            "ptt.quick_messages",
            f"must be a list of 1 to {MAX_QUICK_MESSAGES} non-empty strings "
            f"of at most {MAX_QUICK_MESSAGE_LENGTH} characters",
        )
    return PttConfig(
        hold_time=checker.number(values, "ptt.hold_time", 0.6, 0.1, 10.0),
        quick_messages=tuple(messages),
    )


T = TypeVar("T")


class _Checker:
    """Typed look-ups in a TOML table, each failing with the key's name."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")

    def table(
        self, value: Any, name: str, schema: type, sections: Mapping[str, type] | None = None
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(name, "must be a table")
        allowed = {f.name for f in fields(schema)}
        for key in value:
            if key not in allowed:
                raise self.error(f"{name}.{key}" if name else key, "unknown key")
            if sections is not None and key in sections and not isinstance(value[key], Mapping):
                raise self.error(key, "must be a table ([" + key + "])")
        return value

    def _get(
        self,
        table: Mapping[str, Any],
        key: str,
        default: T,
        check: Callable[[Any], bool],
        want: str,
    ) -> T:
        value = table.get(key.rsplit(".", 1)[-1], default)
        if not check(value):
            raise self.error(key, f"must be {want}, not {value!r}")
        result: T = value
        return result

    def string(self, table: Mapping[str, Any], key: str, default: str) -> str:
        return self._get(table, key, default, lambda v: isinstance(v, str), "a string")

    def path(self, table: Mapping[str, Any], key: str) -> Path | None:
        text = self.string(table, key, "")
        return Path(text) if text else None

    def choice(
        self, table: Mapping[str, Any], key: str, options: tuple[str, ...], default: str
    ) -> str:
        return self._get(table, key, default, lambda v: v in options, " or ".join(options))

    def nick(self, table: Mapping[str, Any], key: str, default: str) -> str:
        check: Callable[[Any], bool] = lambda v: isinstance(v, str) and is_valid_nick(v)  # noqa: E731
        return self._get(table, key, default, check, NICK_RULE)

    def integer(self, table: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
        check: Callable[[Any], bool] = lambda v: _is_int(v) and low <= v <= high  # noqa: E731
        return self._get(table, key, default, check, f"a whole number from {low} to {high}")

    def optional_integer(
        self, table: Mapping[str, Any], key: str, low: int, high: int
    ) -> int | None:
        if key.rsplit(".", 1)[-1] not in table:
            return None
        return self.integer(table, key, low, low, high)

    def number(
        self, table: Mapping[str, Any], key: str, default: float, low: float, high: float
    ) -> float:
        check: Callable[[Any], bool] = lambda v: (  # noqa: E731
            (_is_int(v) or isinstance(v, float)) and low <= v <= high
        )
        return float(self._get(table, key, default, check, f"a number from {low:g} to {high:g}"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def with_overrides(config: StationConfig, **changes: Any) -> StationConfig:
    """The config with command-line flags applied (``None`` values are ignored)."""
    top = {k: v for k, v in changes.items() if v is not None and k in ("role", "nick")}
    config = replace(config, **top)
    if changes.get("port") is not None:
        config = replace(config, server=replace(config.server, port=changes["port"]))
    if changes.get("hub") is not None:
        config = replace(config, role="client", client=replace(config.client, hub=changes["hub"]))
    if changes.get("serial") is not None:
        config = replace(config, serial=replace(config.serial, port=changes["serial"]))
    return config
