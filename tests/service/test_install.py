"""scripts/install and scripts/uninstall in a scratch root (--destdir): the
files, their modes, a second run changing nothing, the config kept, and
nothing touched outside the scratch root — no systemctl, udevadm, apt-get or
account tool is even called (stand-ins on PATH record any call)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
INSTALL = REPO / "scripts" / "install"
UNINSTALL = REPO / "scripts" / "uninstall"

# Everything the scripts may run that changes the machine, not a scratch root.
SYSTEM_TOOLS = (
    "systemctl", "udevadm", "apt-get", "useradd", "userdel", "groupadd", "usermod",
    "chown", "chgrp", "modprobe", "pip", "pip3",
)  # fmt: skip
# Where a real install writes: none of it may change in scratch-root mode.
REAL_TARGETS = (
    "/etc/systemd/system/walkie.service",
    "/etc/udev/rules.d/99-walkie-arduino.rules",
    "/etc/sysusers.d/walkie.conf",
    "/etc/walkie",
    "/opt/walkie",
    "/var/lib/walkie",
)

INSTALLED_FILES = {
    # path: (mode, source in the repository)
    "etc/systemd/system/walkie.service": (0o644, "systemd/walkie.service"),
    "etc/udev/rules.d/99-walkie-arduino.rules": (0o644, "systemd/99-walkie-arduino.rules"),
    "etc/sysusers.d/walkie.conf": (0o644, "systemd/walkie.sysusers"),
    "etc/walkie/walkie.toml": (0o640, "systemd/walkie.toml"),
}


@dataclass
class Sandbox:
    root: Path
    calls: Path
    env: dict[str, str]

    def run(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], capture_output=True, text=True, env=self.env, timeout=30
        )

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(INSTALL, "--destdir", str(self.root), "--no-venv", *args)
        assert result.returncode == 0, result.stderr
        return result

    def uninstall(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(UNINSTALL, "--destdir", str(self.root), *args)
        assert result.returncode == 0, result.stderr
        return result

    def system_tool_calls(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


def _real_targets_state() -> dict[str, tuple[int, int] | None]:
    state: dict[str, tuple[int, int] | None] = {}
    for target in REAL_TARGETS:
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            state[target] = None
        else:
            state[target] = (info.st_mode, info.st_mtime_ns)
    return state


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    for tool in SYSTEM_TOOLS:
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        stand_in.chmod(0o755)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(temp),
        "HOME": str(tmp_path / "home"),
    }
    env.pop("DESTDIR", None)
    before = _real_targets_state()
    yield Sandbox(root=tmp_path / "root", calls=calls, env=env)
    assert _real_targets_state() == before, "something outside the scratch root changed"
    assert list(temp.iterdir()) == [], "temporary files left behind"


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root: its mode and, for files, its contents."""
    return {
        str(path.relative_to(root)): (
            path.lstat().st_mode,
            path.read_bytes() if path.is_file() and not path.is_symlink() else None,
        )
        for path in sorted(root.rglob("*"))
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_install_puts_each_file_in_place_with_its_mode(sandbox: Sandbox) -> None:
    sandbox.install()
    for relative, (expected_mode, source) in INSTALLED_FILES.items():
        installed = sandbox.root / relative
        assert installed.read_bytes() == (REPO / source).read_bytes(), relative
        assert mode(installed) == expected_mode, relative
    assert mode(sandbox.root / "etc/walkie") == 0o750
    assert sandbox.system_tool_calls() == []


def test_the_config_and_its_directory_are_not_world_readable(sandbox: Sandbox) -> None:
    sandbox.install()
    for path in (sandbox.root / "etc/walkie", sandbox.root / "etc/walkie/walkie.toml"):
        assert mode(path) & 0o007 == 0, path


def test_installing_twice_changes_nothing(sandbox: Sandbox) -> None:
    sandbox.install()
    first = snapshot(sandbox.root)
    sandbox.install()
    assert snapshot(sandbox.root) == first
    assert sandbox.system_tool_calls() == []


def test_reinstalling_keeps_an_edited_config_but_takes_away_world_access(
    sandbox: Sandbox,
) -> None:
    sandbox.install()
    config = sandbox.root / "etc/walkie/walkie.toml"
    config.write_text('nick = "kitchen"\n')
    config.chmod(0o644)
    token = sandbox.root / "etc/walkie/token"
    token.write_text("s3cret\n")
    token.chmod(0o644)
    result = sandbox.install()
    assert "kept /etc/walkie/walkie.toml" in result.stdout
    assert config.read_text() == 'nick = "kitchen"\n'
    assert mode(config) == 0o640
    assert mode(token) & 0o007 == 0


def test_the_walkie_user_goes_into_the_scratch_roots_account_files(sandbox: Sandbox) -> None:
    assert shutil.which("systemd-sysusers"), "scripts/setup installs Debian's systemd"
    sandbox.install()
    passwd = {
        line.split(":")[0]: line.split(":")
        for line in (sandbox.root / "etc/passwd").read_text().splitlines()
    }
    assert passwd["walkie"][6] in {"/usr/sbin/nologin", "/sbin/nologin"}
    assert int(passwd["walkie"][2]) < 1000  # a system user
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (sandbox.root / "etc/group").read_text().splitlines()
    }
    assert "walkie" in groups["dialout"] and "walkie" in groups["gpio"]


def test_destdir_may_come_from_the_environment(sandbox: Sandbox) -> None:
    sandbox.env["DESTDIR"] = str(sandbox.root)
    result = sandbox.run(INSTALL, "--no-venv")
    assert result.returncode == 0, result.stderr
    assert (sandbox.root / "etc/systemd/system/walkie.service").is_file()
    assert sandbox.system_tool_calls() == []


def test_uninstall_keeps_config_and_purge_removes_it(sandbox: Sandbox) -> None:
    sandbox.install()
    sandbox.uninstall()
    for relative in INSTALLED_FILES:
        assert (sandbox.root / relative).exists() == relative.startswith("etc/walkie/")
    sandbox.uninstall()  # again: nothing left to do, still fine
    sandbox.uninstall("--purge")
    assert not (sandbox.root / "etc/walkie").exists()
    assert sandbox.system_tool_calls() == []


def stand_in_for_the_system(sandbox: Sandbox, *, uid: int, systemd: str = "running") -> None:
    """Stand-ins for `id`, `systemctl` and every tool that changes the
    system, which only note their calls: a regression that gets past a
    refusal cannot touch this machine."""
    bin_dir = Path(sandbox.env["PATH"].split(os.pathsep)[0])
    writers = ("install", "mkdir", "chmod", "chown", "cp", "rm", "python3")
    stand_ins = {
        "id": f"echo {uid}",
        "systemctl": f"echo {systemd}; [ {systemd} = running ]",
        **{
            tool: f'echo "{tool} $*" >> "{sandbox.calls}"'
            for tool in (*writers, "systemd-sysusers", "apt-get", "udevadm")
        },
    }
    for tool, body in stand_ins.items():
        (bin_dir / tool).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / tool).chmod(0o755)


def test_a_real_install_refuses_to_run_without_root(sandbox: Sandbox) -> None:
    stand_in_for_the_system(sandbox, uid=1000)
    for script in (INSTALL, UNINSTALL):
        result = sandbox.run(script)
        assert result.returncode == 1
        assert "run as root" in result.stderr
    assert sandbox.system_tool_calls() == []


def test_a_real_install_where_systemd_is_not_running_changes_nothing(sandbox: Sandbox) -> None:
    # A chroot or a container: root, systemctl, but no systemd to reload.
    stand_in_for_the_system(sandbox, uid=0, systemd="offline")
    result = sandbox.run(INSTALL)
    assert result.returncode == 1
    assert "systemd is not running here" in result.stderr and "--destdir" in result.stderr
    assert sandbox.system_tool_calls() == []


@pytest.mark.parametrize("script", [INSTALL, UNINSTALL], ids=["install", "uninstall"])
def test_an_empty_destdir_is_refused_not_taken_for_the_real_root(
    sandbox: Sandbox, script: Path
) -> None:
    # `--destdir="$ROOT"` with $ROOT unset must not install into /.
    stand_in_for_the_system(sandbox, uid=0)
    result = sandbox.run(script, "--destdir=")
    assert result.returncode == 2
    assert "--destdir needs a directory" in result.stderr
    assert sandbox.system_tool_calls() == []


@pytest.mark.parametrize("script", [INSTALL, UNINSTALL], ids=["install", "uninstall"])
def test_help_and_a_wrong_option(sandbox: Sandbox, script: Path) -> None:
    result = sandbox.run(script, "--help")
    assert result.returncode == 0 and "--destdir" in result.stdout
    result = sandbox.run(script, "--frobnicate")
    assert result.returncode == 2 and "unknown argument: --frobnicate" in result.stderr


@pytest.mark.parametrize("script", [INSTALL, UNINSTALL], ids=["install", "uninstall"])
def test_the_scripts_pass_bash_n_and_shellcheck(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "scripts/setup installs Debian's shellcheck"
    result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
