"""Argument types shared by the subcommands: each turns bad input into a
one-line argparse error."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def port_number(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0 or value == float("inf"):  # not nan either
        raise argparse.ArgumentTypeError(f"must be a finite number > 0: {text}")
    return value


def whole_number_in(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""

    def whole_number(text: str) -> int:
        value = _whole_number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}: {value}")
        return value

    return whole_number


def number_in(low: float, high: float) -> Callable[[str], float]:
    """A number from ``low`` to ``high`` (not nan)."""

    def number(text: str) -> float:
        value = _number(text)
        if not low <= value <= high:  # False for nan
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}: {text}")
        return value

    return number


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
