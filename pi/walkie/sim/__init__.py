"""The board simulator: the real firmware in simavr, driven from Python."""

from walkie.sim.board import (
    BoardSimulator,
    default_firmware_path,
    default_simulator_path,
    parse_lcd_line,
)

__all__ = ["BoardSimulator", "default_firmware_path", "default_simulator_path", "parse_lcd_line"]
