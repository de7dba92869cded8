"""Argument types shared by the subcommands: each turns bad input into a
one-line argparse error."""

from __future__ import annotations

import argparse


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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def non_negative_float(text: str) -> float:
    return _finite_float(text, zero_allowed=True)


def positive_float(text: str) -> float:
    return _finite_float(text, zero_allowed=False)


def _finite_float(text: str, *, zero_allowed: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    in_range = value >= 0 if zero_allowed else value > 0  # False for nan
    if not in_range or value == float("inf"):
        bound = ">= 0" if zero_allowed else "> 0"
        raise argparse.ArgumentTypeError(f"must be a finite number {bound}: {text}")
    return value
