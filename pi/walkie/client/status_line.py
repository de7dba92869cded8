"""The status line at the bottom of `walkie client` on a terminal, laid out for its width.

Pure: what there is to say comes in as a :class:`StatusFacts`, the width in
columns as a number, and the line comes out as (style, text) fragments that
never take more than that width.

In order: the link (``● nick@host:port``, or how it stands), who is talking,
our lines not yet delivered, the stations on the channel. A narrow terminal
shortens the least useful first: the hub's address (the user typed it), the
station names, what unsent lines wait for, our own nick (or why the link is
down), the station count, the countdown to the next reconnect.
What the link is doing (``●``, ``○ reconnecting``) and who is talking stay
whole; whatever still does not fit is cut at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from prompt_toolkit.utils import get_cwidth

from walkie.client.session import LinkState
from walkie.text import sanitize

MAX_NICKS_SHOWN = 6
"""Stations named on the status line; the rest are counted."""
CUT = "…"
"""Ends a line cut to fit."""

OK = "class:status.ok"
BAD = "class:status.bad"
PLAIN = "class:status"


@dataclass(frozen=True)
class StatusFacts:
    """What the status line tells, as of one moment."""

    state: LinkState
    address: str
    """The hub's ``host:port``."""
    nick: str | None = None
    holder: str | None = None
    """Who holds the floor (None when it is free)."""
    stations: tuple[str, ...] = ()
    unsent: int = 0
    """Our lines not yet acknowledged by the hub."""
    waiting_for_floor: int = 0
    """Of those, the lines the hub holds until the floor is free."""
    retry_in: float | None = None
    """Seconds until the next attempt to reconnect, when known."""
    link_reason: str = ""
    """Why the link is down (or the last attempt failed)."""
    fatal: str | None = None
    """Why the link closed for good."""


@dataclass
class _Part:
    """One part of the line: its style and its texts, longest first, the
    last the shortest it may become ("" for dropped)."""

    style: str
    texts: tuple[str, ...]
    shown: int = 0
    """Which of the texts the line shows."""

    @property
    def text(self) -> str:
        return self.texts[self.shown]

    def shorten(self) -> None:
        self.shown = min(self.shown + 1, len(self.texts) - 1)


def status_line(facts: StatusFacts, width: int) -> list[tuple[str, str]]:
    """The status line for ``facts``, at most ``width`` columns wide."""
    link = _link(facts)
    unsent = _unsent(facts)
    stations = _stations(facts)
    parts = [part for part in (link, _floor(facts), unsent, stations) if part is not None]

    def line() -> list[tuple[str, str]]:
        return [(part.style, part.text) for part in parts if part.text]

    # One step shorter each: the address, the names one by one, the unsent
    # lines' detail, the nick (or why the link is down), the station count,
    # the countdown to the next reconnect.
    names = len(stations.texts) - 2 if stations is not None else 0
    steps = [link, *[stations] * names, unsent, link, stations, link]
    for part in steps:
        if _width(line()) <= width:
            break
        if part is not None:
            part.shorten()
    return _cut(line(), width)


def _link(facts: StatusFacts) -> _Part:
    """Texts: everything; without the address (connected: our nick and the
    dot); without the reason; the state alone (each no shorter than the last)."""
    state = facts.state
    if state is LinkState.CONNECTED:
        return _part(OK, f" ● {facts.nick}@{facts.address} ", f" ● {facts.nick} ", " ● ")
    if state is LinkState.CLOSED:
        why = f"{facts.fatal} " if facts.fatal else ""
        return _part(BAD, f" ✕ closed {why}", f" ✕ closed {why}", " ✕ closed ")
    when = ""
    if state is LinkState.CONNECTING:
        doing, where = "connecting", f"to {facts.address} "
    elif facts.retry_in is not None:
        doing, where = "reconnecting", f"to {facts.address} "
        when = f"in {facts.retry_in:.0f}s "
    else:
        doing, where = "disconnected", f"from {facts.address} "
    why = f"({facts.link_reason}) " if facts.link_reason else ""
    return _part(
        BAD,
        f" ○ {doing} {where}{when}{why}",
        f" ○ {doing} {when}{why}",
        f" ○ {doing} {when}",
        f" ○ {doing} ",
    )


def _floor(facts: StatusFacts) -> _Part | None:
    if facts.state is not LinkState.CONNECTED:
        return None  # the hub frees the floor of a station that leaves
    if facts.holder is None:
        return _part(PLAIN, "| floor free ")
    if facts.holder == facts.nick:
        return _part(OK, "| you are talking ")
    return _part(BAD, f"| {facts.holder} is talking ")


def _unsent(facts: StatusFacts) -> _Part | None:
    if not facts.unsent:
        return None
    short = f"| {facts.unsent} unsent "
    if not facts.waiting_for_floor:
        return _part(BAD, short)
    return _part(
        BAD, f"| {facts.unsent} unsent, {facts.waiting_for_floor} waiting for the floor ", short
    )


def _stations(facts: StatusFacts) -> _Part | None:
    """Texts: up to MAX_NICKS_SHOWN names, one fewer each, the count alone, nothing."""
    if facts.state is not LinkState.CONNECTED:
        return None
    nicks = facts.stations
    count = len(nicks)
    named = []
    for shown in range(min(count, MAX_NICKS_SHOWN), 0, -1):
        more = f" +{count - shown}" if shown < count else ""
        named.append(f"| {count} on: {', '.join(nicks[:shown])}{more} ")
    return _part(PLAIN, *named, f"| {count} on ", "")


def _part(style: str, *texts: str) -> _Part:
    # Sanitised before measuring: what is measured is what is shown.
    return _Part(style, tuple(sanitize(text) for text in texts))


def _width(fragments: list[tuple[str, str]]) -> int:
    return sum(get_cwidth(text) for _, text in fragments)


def _cut(fragments: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """``fragments`` cut at the end to ``width`` columns, the cut marked with CUT."""
    if _width(fragments) <= width:
        return fragments
    room = width - get_cwidth(CUT)
    kept: list[tuple[str, str]] = []
    for style, text in fragments:
        if room <= 0:
            break
        end = 0
        while end < len(text) and get_cwidth(text[end]) <= room:
            room -= get_cwidth(text[end])
            end += 1
        kept.append((style, text[:end]))
        if end < len(text):
            break
    if width >= get_cwidth(CUT):
        style = kept[-1][0] if kept else PLAIN
        kept.append((style, CUT))
    return [(style, text) for style, text in kept if text]
