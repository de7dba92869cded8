"""The character LCD: text mapping to the HD44780 ROM and the screen layout."""
