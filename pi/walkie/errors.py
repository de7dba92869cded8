"""The one exception root of walkie: every error a user should see as one line."""


class WalkieError(Exception):
    """An error shown to the user as a single line, followed by a non-zero exit."""


class ConfigError(WalkieError):
    """A bad configuration value or command-line argument."""


class ConnectError(WalkieError):
    """A host or device that could not be reached."""
