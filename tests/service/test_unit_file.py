"""The systemd unit, the udev rule and the sysusers entry in systemd/: the
directives SPEC §8 asks for, `systemd-analyze verify`, and an exposure of at
most 2.0 in `systemd-analyze security --offline=yes`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from walkie.board.detect import KNOWN_BOARD_USB_IDS
from walkie.secrets import CREDENTIAL_NAME, NO_TOKEN_FILE, credential_token

SYSTEMD_DIR = Path(__file__).parents[2] / "systemd"
UNIT = SYSTEMD_DIR / "walkie.service"
UDEV_RULE = SYSTEMD_DIR / "99-walkie-arduino.rules"
SYSUSERS = SYSTEMD_DIR / "walkie.sysusers"
MAX_EXPOSURE = 2.0

Directives = dict[str, list[str]]


def parse_unit(text: str) -> dict[str, Directives]:
    """Section -> key -> every value assigned, in order (systemd's own model)."""
    sections: dict[str, Directives] = {}
    section: Directives | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = sections.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"directive outside a section: {line}"
        assert not line.endswith("\\"), "continuation lines are not used"
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return sections


UNIT_SECTIONS = parse_unit(UNIT.read_text())
SERVICE = UNIT_SECTIONS["Service"]


def one(key: str) -> str:
    values = SERVICE.get(key, [])
    assert len(values) == 1, f"{key}= should be set once, found {values}"
    return values[0]


def words(key: str) -> list[str]:
    return [word for value in SERVICE.get(key, []) for word in value.split()]


def environment() -> dict[str, str]:
    return dict(assignment.split("=", 1) for assignment in words("Environment"))


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"unexpected time span {value!r}"
    return int(match[1]) * (60 if match[2] == "min" else 1)


def test_the_service_tells_systemd_when_it_is_ready_and_pings_the_watchdog() -> None:
    assert one("Type") == "notify"
    assert one("NotifyAccess") == "main"
    assert 5 <= seconds(one("WatchdogSec")) <= 120


def test_a_failed_station_is_restarted_after_a_pause() -> None:
    assert one("Restart") == "on-failure"
    assert seconds(one("RestartSec")) >= 1


def test_it_runs_the_daemon_from_the_virtual_environment_with_the_installed_config() -> None:
    assert one("ExecStart") == "/opt/walkie/venv/bin/walkie pi --config %E/walkie/walkie.toml"
    install = (Path(__file__).parents[2] / "scripts" / "install").read_text()
    assert "VENV_DIR=/opt/walkie/venv" in install
    assert "CONFIG_PATH=$CONFIG_DIR/walkie.toml" in install and "CONFIG_DIR=/etc/walkie" in install


def test_it_runs_as_the_unprivileged_walkie_user_with_the_serial_and_gpio_groups() -> None:
    assert (one("User"), one("Group")) == ("walkie", "walkie")
    assert {"dialout", "gpio"} <= set(words("SupplementaryGroups"))
    # PrivateUsers=yes would map the supplementary groups away.
    assert SERVICE.get("PrivateUsers", ["no"]) == ["no"]
    assert "DynamicUser" not in SERVICE


def test_history_lives_in_the_state_directory_and_config_in_etc_walkie() -> None:
    assert one("StateDirectory") == "walkie"
    assert one("StateDirectoryMode") == "0750"
    assert one("ConfigurationDirectory") == "walkie"
    assert one("ConfigurationDirectoryMode") == "0750"
    assert one("UMask") in {"0027", "0077"}


def test_lgpio_gets_a_writable_working_directory_and_is_the_pin_factory() -> None:
    # lgpio makes a FIFO in the working directory or $LG_WD; "/" is read-only.
    assert one("RuntimeDirectory") == "walkie"
    assert one("WorkingDirectory") == "%t/walkie"
    assert environment()["LG_WD"] == "%t/walkie"
    assert environment()["GPIOZERO_PIN_FACTORY"] == "lgpio"


def test_the_token_comes_from_etc_walkie_token_as_a_credential() -> None:
    assert one("LoadCredential") == f"{CREDENTIAL_NAME}:/etc/walkie/token"
    # systemd 252 (Raspberry Pi OS bookworm) fails a unit whose LoadCredential=
    # file is missing unless SetCredential= gives the same ID a fallback.
    assert one("SetCredential") == f"{CREDENTIAL_NAME}:(no token file)\\n"


def test_without_a_token_file_the_units_fallback_credential_means_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = tmp_path / CREDENTIAL_NAME
    credential.write_text(NO_TOKEN_FILE)  # what the unit's SetCredential= hands the service
    credential.chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert credential_token() is None


def test_only_the_serial_ports_and_gpio_chips_are_reachable() -> None:
    assert one("DevicePolicy") in {"closed", "strict"}
    assert set(SERVICE["DeviceAllow"]) == {
        "char-ttyACM rw",  # Uno (cdc_acm)
        "char-ttyUSB rw",  # CH340 / FTDI clones (usbserial)
        "char-gpiochip rw",
    }
    # PrivateDevices=yes would hide /dev/ttyACM* and /dev/gpiochip*.
    assert SERVICE.get("PrivateDevices", ["no"]) == ["no"]
    # char-* groups are resolved when the unit starts: load the drivers first.
    unit = UNIT_SECTIONS["Unit"]
    for module in ("modprobe@cdc_acm.service", "modprobe@usbserial.service"):
        assert module in " ".join(unit["Wants"]) and module in " ".join(unit["After"])


def test_the_sandbox_keeps_what_the_station_needs_and_nothing_more() -> None:
    expected = {
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "ProtectProc": "invisible",
        "RestrictNamespaces": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallArchitectures": "native",
    }
    assert {key: one(key) for key in expected} == expected
    assert SERVICE["SystemCallFilter"][0] == "@system-service"
    # Local sockets for sd_notify and the journal, IP for the channel; the hub
    # serves the LAN, so no IPAddressDeny=.
    assert set(words("RestrictAddressFamilies")) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert "IPAddressDeny" not in SERVICE
    # gpiozero reads the board revision from /proc/device-tree or /proc/cpuinfo.
    assert "ProcSubset" not in SERVICE


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "scripts/setup installs Debian's systemd"
    return tool


def test_systemd_analyze_verify_finds_nothing_to_complain_about(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    units = next(
        (
            d
            for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
            if (d / "sysinit.target").exists()
        ),
        None,
    )
    assert units is not None, "Debian's systemd package ships sysinit.target"
    # A scratch root: the system's units, the unit as installed, and a stand-in
    # for the venv's walkie (verify checks that ExecStart= is executable).
    root = tmp_path / "root"
    shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system/walkie.service")
    walkie = root / "opt/walkie/venv/bin/walkie"
    walkie.parent.mkdir(parents=True)
    walkie.write_text("#!/bin/sh\n")
    walkie.chmod(0o755)
    result = subprocess.run(
        [tool, "verify", f"--root={root}", "walkie.service"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Unknown keys and bad values are only warnings: any output is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_systemd_analyze_security_rates_the_exposure_at_most_2() -> None:
    tool = _systemd_analyze()
    result = subprocess.run(
        [tool, "security", "--offline=yes", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    match = re.search(r"Overall exposure level for walkie\.service: (\d+\.\d+)", result.stdout)
    assert match, f"no exposure level in:\n{result.stdout}{result.stderr}"
    assert float(match[1]) <= MAX_EXPOSURE, result.stdout


def _rule_lines() -> list[str]:
    lines = (line.strip() for line in UDEV_RULE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_udev_rule_names_every_board_the_station_auto_detects() -> None:
    matched: set[tuple[int, int | None]] = set()
    for line in _rule_lines():
        vendor = re.search(r'ATTRS\{idVendor\}=="([0-9a-f]{4})"', line)
        if vendor is None:
            continue
        product = re.search(r'ATTRS\{idProduct\}=="([0-9a-f]{4})"', line)
        matched.add((int(vendor[1], 16), int(product[1], 16) if product else None))
        assert 'SUBSYSTEM=="tty"' in line
        assert 'SYMLINK+="walkie-arduino"' in line
        assert 'GROUP="dialout"' in line and 'MODE="0660"' in line
    assert matched == set(KNOWN_BOARD_USB_IDS)


def test_the_example_config_names_the_udev_link_and_keeps_auto_detection() -> None:
    example = (SYSTEMD_DIR / "walkie.toml").read_text()
    assert "/dev/walkie-arduino" in example
    assert re.search(r'^port = "auto"', example, re.MULTILINE)


def test_the_sysusers_entry_makes_a_system_user_in_dialout_and_gpio() -> None:
    entries = [
        line.split()
        for line in SYSUSERS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ["m", "walkie", "dialout"] in entries
    assert ["m", "walkie", "gpio"] in entries
    assert ["g", "gpio", "-"] in entries
    user = next(entry for entry in entries if entry[:2] == ["u", "walkie"])
    assert user[2] == "-"  # a dynamically chosen system UID
