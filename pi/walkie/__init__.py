"""walkie: a text walkie-talkie for a Raspberry Pi, an Arduino LCD and laptops."""

__version__ = "0.1.0"
