"""The `walkie` command as a whole: how it starts and how it is stopped."""

from __future__ import annotations

import subprocess
import sys

from support.hub import WALKIE

STOPPED_WHILE_STARTING = """
import importlib.abc, sys

class CtrlCWhileImporting(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "walkie.cli":
            raise KeyboardInterrupt  # as if Ctrl-C came while Python read the module

sys.meta_path.insert(0, CtrlCWhileImporting())
import walkie
walkie.entry_point()
"""


def test_ctrl_c_while_the_command_is_still_starting_exits_130_without_a_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_STARTING], capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stderr) == (130, "")


def test_the_command_and_python_dash_m_walkie_are_the_same() -> None:
    for command in (WALKIE, [sys.executable, "-m", "walkie"]):
        run = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=60, check=True
        )
        assert run.stdout.startswith("walkie ")
