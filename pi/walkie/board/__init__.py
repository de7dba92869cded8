"""The Pi <-> Arduino serial link: frame codec, link state machine and port driver."""
