"""The station's TOML config: defaults, overrides, and one-line errors naming the key."""

import codecs
from dataclasses import fields
from pathlib import Path

import pytest

from walkie.channel.descriptors import MAX_STATIONS_BESIDE_A_SERIAL_PORT
from walkie.channel.ranges import LIMIT_RANGES
from walkie.channel.server import HubConfig
from walkie.cli import build_parser
from walkie.errors import ConfigError
from walkie.station.command import station_config
from walkie.station.config import (
    ServerConfig,
    StationConfig,
    load_config,
    parse_config,
    with_overrides,
)


def test_no_config_gives_a_server_on_loopback() -> None:
    config = parse_config({})
    assert (config.role, config.server.host, config.server.port) == ("server", "127.0.0.1", 32000)
    assert config.ptt.quick_messages[0] == "OK"


def test_the_example_config_in_systemd_is_valid() -> None:
    example = Path(__file__).parents[2] / "systemd" / "walkie.toml"
    config = load_config(example)
    assert isinstance(config, StationConfig)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"serial": {"speed": 9600}}, "serial.speed: unknown key"),
        ({"serial": {"baud": 12345}}, "serial.baud: must be one of"),
        ({"server": {"port": 70000}}, "server.port: must be a whole number from 0 to 65535"),
        ({"role": "mesh"}, "role: must be server or client"),
        ({"role": "client"}, "client.hub: required in the client role"),
        ({"nick": "no spaces"}, "nick: must be 1-16 letters"),
        ({"gpio": {"button": 40}}, "gpio.button: must be a whole number from 0 to 27"),
        ({"gpio": {"button": 17, "led": 17}}, "gpio: each pin may be used only once"),
        ({"ptt": {"quick_messages": []}}, "ptt.quick_messages: must be a list"),
        ({"ptt": {"hold_time": "long"}}, "ptt.hold_time: must be a number"),
        ({"server": 5}, "server: must be a table"),
        ({"server": {"max_stations": 1}}, "server.max_stations: must be a whole number from 2"),
        (
            {"server": {"max_stations": 961}},
            "server.max_stations: must be a whole number from 2 to 960",
        ),
        ({"server": {"max_queued": 0}}, "server.max_queued: must be a whole number from 1"),
        ({"server": {"max_send_buffer": "1M"}}, "server.max_send_buffer: must be a whole number"),
        ({"client": {"hub": "other:99999"}}, "client.hub: bad port 99999 in 'other:99999'"),
    ],
)
def test_bad_values_are_refused_naming_the_key(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(document)


def test_the_pis_hub_has_the_same_defaults_as_walkie_server() -> None:
    station_hub = parse_config({}).server
    shared = {f.name for f in fields(HubConfig)} & {f.name for f in fields(ServerConfig)}
    assert {"max_line", "max_queued", "max_send_buffer", "max_stations"} <= shared
    for name in shared - {"max_stations"}:
        assert getattr(station_hub, name) == getattr(HubConfig(), name), name
    # Except the stations: the Pi's serial port needs descriptors below 1024.
    assert station_hub.max_stations == MAX_STATIONS_BESIDE_A_SERIAL_PORT == 960


def test_hub_flag_keeps_the_files_other_client_settings(tmp_path: Path) -> None:
    token = tmp_path / "token"
    document = {"client": {"hub": "a:1", "tls": True, "token_file": str(token)}}
    joined = with_overrides(parse_config(document), hub="b:2").client
    assert (joined.hub, joined.tls, joined.token_file) == ("b:2", True, token)


def test_a_file_naming_a_hub_to_join_is_a_client_unless_it_says_otherwise(
    tmp_path: Path,
) -> None:
    assert parse_config({"client": {"hub": "other:32000"}}).role == "client"
    assert parse_config({"client": {"tls": True}}).role == "server"
    both = tmp_path / "both.toml"
    both.write_text('role = "server"\n[client]\nhub = "other:32000"\n')
    with pytest.raises(ConfigError, match='set role = "client" to join it'):
        station_config(build_parser().parse_args(["pi", "--config", str(both)]))
    # A flag settles it, as flags override the file.
    for flags, role in ((["--role", "client"], "client"), (["--role", "server"], "server")):
        args = build_parser().parse_args(["pi", "--config", str(both), *flags])
        assert station_config(args).role == role
    args = build_parser().parse_args(["pi", "--config", str(both), "--hub", "third:1"])
    assert station_config(args).client.hub == "third:1"


def test_flags_override_the_file() -> None:
    config = with_overrides(parse_config({"nick": "base"}), nick="flagged", port=4000, hub=None)
    assert (config.nick, config.server.port) == ("flagged", 4000)
    joined = with_overrides(config, hub="other:32000")
    assert (joined.role, joined.client.hub) == ("client", "other:32000")


def test_an_unreadable_or_broken_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("role = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('nick = "Jürgen"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid TOML: not UTF-8 at byte 10"):
        load_config(latin1)
    with pytest.raises(ConfigError, match=r"config file not readable: .*: Is a directory"):
        load_config(tmp_path)


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # As Windows Notepad saves UTF-8: the mark is no text, so it is skipped.
    marked = tmp_path / "notepad.toml"
    marked.write_bytes(codecs.BOM_UTF8 + '[ptt]\nquick_messages = ["Grüße"]\n'.encode())
    assert load_config(marked).ptt.quick_messages == ("Grüße",)
    marked.write_bytes(codecs.BOM_UTF8 + '[ptt]\nquick_messages = ["Grüße"]\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 at byte 31"):
        load_config(marked)


@pytest.mark.parametrize("limit", sorted(set(LIMIT_RANGES) - {"max_stations"}))
def test_the_pis_config_and_walkie_servers_flags_take_the_same_limits(limit: str) -> None:
    low, high = LIMIT_RANGES[limit]
    flag = "--" + limit.replace("_", "-")
    parser = build_parser()
    assert getattr(parser.parse_args(["server", flag, str(high)]), limit) == high
    assert getattr(parse_config({"server": {limit: high}}).server, limit) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(SystemExit):
            parser.parse_args(["server", flag, str(outside)])
        with pytest.raises(ConfigError, match=f"server.{limit}: must be"):
            parse_config({"server": {limit: outside}})
