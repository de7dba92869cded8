"""Push-to-talk with one button and no keyboard, as a pure state machine.

A short tap selects the next quick message; holding the button for
``hold_time`` keys up (the station asks for the floor and, once granted,
sends the selected quick message once); releasing ends the transmission.
Press versus hold is decided by time, not by the button driver (gpiozero
issue 708): a release before the hold time is a tap.

Several buttons (the Arduino's, the Pi's GPIO one) drive one instance and
behave identically; the combined button is pressed while any of them is. A
button whose link is lost counts as released (:meth:`PushToTalk.forget`),
so a lost release can never hold the channel.

Example::

    ptt = PushToTalk(["OK", "Yes"], hold_time=0.6)
    ptt.press("gpio", now=0.0)
    ptt.tick(now=0.6)          # -> [KeyUp("OK")]
    ptt.release("gpio", 2.0)   # -> [KeyDown()]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Selected:
    """The quick message selected changed (a tap)."""

    message: str
    index: int


@dataclass(frozen=True, slots=True)
class KeyUp:
    """Start transmitting: ask for the floor and send ``message`` once."""

    message: str


@dataclass(frozen=True, slots=True)
class KeyDown:
    """Stop transmitting: release the floor."""


Action = Selected | KeyUp | KeyDown


class PushToTalk:
    def __init__(self, quick_messages: Sequence[str], hold_time: float = 0.6) -> None:
        if not quick_messages:
            raise ValueError("at least one quick message is needed")
        self.quick_messages = tuple(quick_messages)
        self.hold_time = hold_time
        self._index = 0
        self._held_by: set[str] = set()
        self._pressed_at: float | None = None
        self._keyed = False

    @property
    def selected(self) -> str:
        return self.quick_messages[self._index]

    @property
    def pressed(self) -> bool:
        return bool(self._held_by)

    @property
    def keyed(self) -> bool:
        return self._keyed

    def press(self, button: str, now: float) -> list[Action]:
        was_pressed = self.pressed
        self._held_by.add(button)
        if not was_pressed:
            self._pressed_at = now
        return self.tick(now)

    def release(self, button: str, now: float) -> list[Action]:
        if button not in self._held_by:
            return []
        actions = self.tick(now)
        self._held_by.discard(button)
        if self.pressed:
            return actions
        self._pressed_at = None
        if self._keyed:
            self._keyed = False
            return [*actions, KeyDown()]
        self._index = (self._index + 1) % len(self.quick_messages)
        return [*actions, Selected(self.selected, self._index)]

    def forget(self, button: str, now: float) -> list[Action]:
        """The button's link is gone: whatever it held is released."""
        return self.release(button, now)

    def tick(self, now: float) -> list[Action]:
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return []
        self._keyed = True
        return [KeyUp(self.selected)]

    def next_deadline(self) -> float | None:
        """When a still-held press becomes a hold, if one is pending."""
        if self._pressed_at is None or self._keyed:
            return None
        return self._pressed_at + self.hold_time
