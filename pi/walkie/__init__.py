"""walkie: a text walkie-talkie for a Raspberry Pi, an Arduino LCD and laptops."""

__version__ = "0.1.0"


def entry_point() -> None:
    """The ``walkie`` command. It lives here, in a module that imports
    nothing, so that Ctrl-C while Python still imports the command line
    exits 130 quietly, as it does once the command runs."""
    import sys

    try:
        from walkie.cli import main

        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
