"""Lets `python -m walkie` behave exactly like the `walkie` command."""

from walkie import entry_point

entry_point()
