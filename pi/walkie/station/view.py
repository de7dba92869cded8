"""What the Pi station knows and shows, as a pure model: the channel link,
the stations, the floor, the newest messages and the selected quick message.

Channel events go in (:meth:`StationView.apply`); the LCD screen and the
status row come out (:meth:`StationView.screen`). No I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from walkie.client.session import (
    Acked,
    Busy,
    Error,
    Event,
    Floor,
    LinkChanged,
    LinkState,
    Message,
    NickChanged,
    StationJoined,
    StationLeft,
    Stations,
    Welcome,
)
from walkie.lcd import screen as lcd

MESSAGES_KEPT = 3
"""Enough for the three message rows of a 20x4 LCD."""
NOT_SENT = "not sent"
"""Shown in place of our nick before a message of ours the hub refused."""

_LINK_TEXT = {
    LinkState.CONNECTING: "connecting",
    LinkState.DISCONNECTED: "connecting",
    LinkState.CLOSED: "offline",
}
"""The status row's words for a link that is not up; "reconnecting" while
retrying or trying one that was up before."""


@dataclass
class StationView:
    nick: str
    quick_message: str
    link: LinkState = LinkState.CONNECTING
    stations: int | None = None
    holder: str | None = None
    busy_holder: str | None = None
    """Who held the floor when our last press was refused (shown as BUSY until
    the station clears it: a moment after the button is released)."""
    just_selected: bool = False
    """A tap chose the quick message a moment ago (the station clears it)."""
    ever_connected: bool = False
    """Until the first welcome, every attempt is "connecting"; after it, "reconnecting"."""
    messages: deque[lcd.Message] = field(default_factory=lambda: deque(maxlen=MESSAGES_KEPT))

    @property
    def connected(self) -> bool:
        return self.link is LinkState.CONNECTED

    @property
    def transmitting(self) -> bool:
        return self.connected and self.holder is not None and self.holder == self.nick

    def apply(self, event: Event) -> None:
        match event:
            case LinkChanged(state=state):
                self.link = state
                self.ever_connected = self.ever_connected or state is LinkState.CONNECTED
                if state is not LinkState.CONNECTED:
                    self.holder = None
                    self.stations = None
            case Welcome(nick=nick) | NickChanged(nick=nick):
                self.nick = nick
            case Stations(nicks=nicks, holder=holder):
                self.stations = len(nicks)
                self.holder = holder
            case StationJoined():
                self.stations = (self.stations or 0) + 1
            case StationLeft():
                self.stations = max(0, (self.stations or 0) - 1)
            case Floor(holder=holder):
                self.holder = holder
                if holder is None or holder == self.nick:
                    self.busy_holder = None
            case Busy(holder=holder):
                self.busy_holder = holder or "?"
            case Message(nick=nick, text=text):
                self.messages.append(lcd.Message(nick, text))
            case Acked(text=text):
                self.messages.append(lcd.Message(self.nick, text))
            case Error(message_text=str(text)):
                # The hub refused one of ours (its disk full, a full queue):
                # say so where it would have shown as sent.
                self.messages.append(lcd.Message(NOT_SENT, text))

    def status(self) -> lcd.Status:
        talking = self.holder if self.holder and self.holder != self.nick else None
        link_text = _LINK_TEXT.get(self.link, "connecting")
        if self.ever_connected and link_text == "connecting":
            link_text = "reconnecting"
        return lcd.Status(
            connected=self.connected,
            link_text=link_text,
            stations=self.stations,
            talking=talking,
            busy_holder=self.busy_holder,
            transmitting=self.transmitting,
            quick_message=self.quick_message,
            just_selected=self.just_selected,
        )

    def screen(self, size: lcd.LcdSize) -> lcd.Screen:
        return lcd.layout(size, list(self.messages), self.status())
