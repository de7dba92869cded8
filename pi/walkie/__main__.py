"""Lets `python -m walkie` behave exactly like the `walkie` command."""

from walkie.cli import entry_point

entry_point()
