"""The board simulator: the real firmware in simavr, driven from Python."""
