"""The Pi's own GPIO parts: the PTT button and the two LEDs, via gpiozero.

The pin factory is injected (``MockFactory`` in tests and ``--simulate``;
on a Pi, lgpio by default or whatever ``gpio.pin_factory`` names), and a
part whose pin is not configured is simply absent.

Wiring (BCM numbering): the button between its pin and GND (internal
pull-up); each LED through a resistor (330 ohm) from its pin to GND.

Example::

    parts = GpioParts(GpioConfig(button=17, led=27), pin_factory=MockFactory())
    parts.on_button = lambda pressed: print("PTT", pressed)
    parts.show_link(LedMode.BLINK)
"""

from __future__ import annotations

import enum
import logging
import warnings
from collections.abc import Callable
from typing import Any

from walkie.errors import ConfigError
from walkie.station.config import GpioConfig

log = logging.getLogger(__name__)

BUTTON_BOUNCE_S = 0.02
SLOW_BLINK_S = 0.5
"""Half period of the "connecting" blink: one flash a second."""


class LedMode(enum.Enum):
    OFF = "off"
    ON = "on"
    BLINK = "blinking"


def make_pin_factory(name: str) -> Any:
    """The gpiozero pin factory called ``name`` ("lgpio", "rpigpio", "mock", ...)."""
    import importlib.metadata

    entries = importlib.metadata.entry_points(group="gpiozero_pin_factories", name=name)
    if not entries:
        raise ConfigError(f"gpio.pin_factory: unknown pin factory {name!r}")
    try:
        return next(iter(entries)).load()()
    except Exception as exc:  # the factory's own import or hardware error
        raise ConfigError(f"gpio.pin_factory: {name} unavailable: {exc}") from None


class GpioParts:
    """The button and LEDs that are configured; all optional, all closable."""

    def __init__(self, config: GpioConfig, *, pin_factory: Any = None) -> None:
        self.on_button: Callable[[bool], None] | None = None
        """Called with True/False on press/release (on gpiozero's thread)."""
        self.link_mode = LedMode.OFF
        self.talk_mode = LedMode.OFF
        self.on_change: Callable[[], None] | None = None
        self._button: Any = None
        self._link_led: Any = None
        self._talk_led: Any = None
        if config.button is None and config.led is None and config.talk_led is None:
            return
        if pin_factory is None and config.pin_factory:
            pin_factory = make_pin_factory(config.pin_factory)
        # gpiozero warns, in two lines each, of every pin library it could not
        # load: one log line each when it found another, else part of the error.
        with warnings.catch_warnings(record=True) as fallbacks:
            warnings.simplefilter("always")
            try:
                from gpiozero import LED, Button
                from gpiozero.exc import GPIOZeroError

                if config.button is not None:
                    self._button = Button(
                        config.button,
                        pull_up=True,
                        bounce_time=BUTTON_BOUNCE_S,
                        pin_factory=pin_factory,
                    )
                    self._button.when_pressed = lambda: self._report(True)
                    self._button.when_released = lambda: self._report(False)
                if config.led is not None:
                    self._link_led = LED(config.led, pin_factory=pin_factory)
                if config.talk_led is not None:
                    self._talk_led = LED(config.talk_led, pin_factory=pin_factory)
            except (GPIOZeroError, OSError, RuntimeError) as exc:
                self.close()
                tried = "; ".join(str(warning.message) for warning in fallbacks)
                raise ConfigError(
                    f"GPIO unavailable: {exc}" + (f" ({tried})" if tried else "")
                ) from None
        for fallback in fallbacks:
            log.warning("GPIO: %s", fallback.message)

    def _report(self, pressed: bool) -> None:
        if self.on_button is not None:
            self.on_button(pressed)

    def show_link(self, mode: LedMode) -> None:
        """Status LED: on = connected, blinking = connecting, off = not running."""
        if mode != self.link_mode:
            self.link_mode = mode
            _drive(self._link_led, mode)
            self._changed()

    def show_talking(self, talking: bool) -> None:
        mode = LedMode.ON if talking else LedMode.OFF
        if mode != self.talk_mode:
            self.talk_mode = mode
            _drive(self._talk_led, mode)
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    @property
    def button_pin(self) -> Any:
        """The button's pin object (a mock pin under MockFactory), if fitted."""
        return None if self._button is None else self._button.pin

    def close(self) -> None:
        """Turn the LEDs off and release the pins. Idempotent."""
        for led in (self._link_led, self._talk_led):
            if led is not None:
                led.off()
        for device in (self._button, self._link_led, self._talk_led):
            if device is not None:
                device.close()
        self._button = self._link_led = self._talk_led = None


def _drive(led: Any, mode: LedMode) -> None:
    if led is None:
        return
    if mode is LedMode.ON:
        led.on()
    elif mode is LedMode.BLINK:
        led.blink(on_time=SLOW_BLINK_S, off_time=SLOW_BLINK_S, background=True)
    else:
        led.off()
