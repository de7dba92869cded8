"""The interactive terminal UI of `walkie client` (prompt_toolkit).

Owns only presentation: a prompt whose typed input is never garbled by
incoming lines (they are printed above it through ``patch_stdout``), a bottom
status line (link state, who is talking, our lines waiting, stations: laid out
for the terminal's width by :mod:`walkie.client.status_line`), slash
commands with completion, input history and stable nick colours. Everything
about the channel comes from :class:`~walkie.client.connection.ChannelConnection`
events; every received string is sanitised again right before display.

Lines shown: ``<nick> text`` (nick in its colour), ``[history HH:MM] <nick>
text`` (dimmed) for stored messages (``[history YYYY-MM-DD HH:MM]`` for one
from another day), ``* text`` for notices, ``! text`` for errors.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterable
from datetime import date

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import Application, get_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style

from walkie.client.connection import ChannelConnection, HubRefused
from walkie.client.session import (
    MAX_HISTORY_REQUEST,
    Busy,
    Error,
    Event,
    Floor,
    LinkChanged,
    LinkState,
    Message,
    NickChanged,
    Notice,
    StationJoined,
    StationLeft,
    StationRenamed,
    Stations,
    Synced,
    Welcome,
)
from walkie.client.status_line import StatusFacts, status_line
from walkie.known_hubs import HubSecurity
from walkie.text import sanitize
from walkie.timestamps import history_stamp

HISTORY_SHOWN = 10
"""Messages /history shows when no N is given."""

COMMANDS: dict[str, str] = {
    "/nick": "/nick NAME — change your nick",
    "/who": "/who — list the stations and who holds the floor",
    "/talk": "/talk — take the floor (key up)",
    "/over": "/over — release the floor",
    "/history": f"/history [N] — show the last N messages (default {HISTORY_SHOWN})",
    "/help": "/help — this list",
    "/quit": "/quit — leave (also Ctrl-D, or Ctrl-C on an empty line)",
}
NICK_COLOURS = (
    "ansired",
    "ansigreen",
    "ansiyellow",
    "ansiblue",
    "ansimagenta",
    "ansicyan",
    "ansibrightred",
    "ansibrightgreen",
    "ansibrightyellow",
    "ansibrightblue",
    "ansibrightmagenta",
    "ansibrightcyan",
)
QUIT_GRACE = 3.0
"""Seconds /quit waits for queued lines before leaving anyway."""
STATUS_REFRESH = 0.5
QUOTED_CHARS = 40
"""Characters of a refused line that the error saying so quotes: enough to
tell which line it was; a line of 1000 bytes quoted whole filled the screen."""
PROMPT_AND_STATUS_ROWS = 2
CHAT_ROWS_KEPT = 3
"""Rows of chat the completion menu leaves on a short terminal, which would
otherwise show the menu alone (or prompt_toolkit's "Window too small")."""

STYLE = Style.from_dict(
    {
        "notice": "ansibrightblack",
        "error": "ansired bold",
        "history": "ansibrightblack italic",
        "status": "reverse",
        "status.ok": "reverse ansigreen",
        "status.bad": "reverse ansired",
    }
)


def nick_colour(nick: str) -> str:
    """The same colour for the same nick, on every run and every machine."""
    return NICK_COLOURS[zlib.crc32(nick.lower().encode()) % len(NICK_COLOURS)]


def quoted_briefly(text: str) -> str:
    """``text`` quoted, cut to its first QUOTED_CHARS characters and '…' if longer."""
    return repr(text if len(text) <= QUOTED_CHARS else text[:QUOTED_CHARS] + "…")


def is_command_name(text: str) -> bool:
    """``text`` is a slash command's name being typed (no argument yet): the
    only input that the completion menu opens for."""
    return text.startswith("/") and " " not in text


def rows_for_the_menu(entries: int, terminal_rows: int) -> int:
    """Rows the prompt keeps while the completion menu has ``entries`` commands
    to show on a terminal ``terminal_rows`` high: its own and one for each, as
    many as leave the status line and CHAT_ROWS_KEPT rows of chat (the menu
    scrolls through the rest); none when nothing completes (``//text``, an
    unknown command, a line recalled from the history) or no entry fits, as
    kept rows push the chat up and off the screen."""
    shown = min(entries, terminal_rows - PROMPT_AND_STATUS_ROWS - CHAT_ROWS_KEPT)
    return 1 + shown if shown > 0 else 0


class CommandCompleter(Completer):
    """Completes slash commands at the start of the line."""

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not is_command_name(text):
            return
        for command, help_text in COMMANDS.items():
            if command.startswith(text):
                yield Completion(command, start_position=-len(text), display_meta=help_text)


class TerminalClient:
    """The UI state: what the status line shows and how events become printed lines."""

    def __init__(self, conn: ChannelConnection) -> None:
        self.conn = conn
        self.retry_at: float | None = None
        self.link_reason = ""
        self.fatal: str | None = None
        self.refused = 0
        """Lines of ours the hub (or the client) refused: the exit code says so."""
        self._who_requested = False
        self._history_requested = 0
        self._holder: str | None = None
        self._was_connected = False
        self._told_link_lost = False

    # --- printing --------------------------------------------------------------

    def _print(self, *fragments: tuple[str, str]) -> None:
        safe = [(style, sanitize(text)) for style, text in fragments]
        print_formatted_text(FormattedText(safe), style=STYLE)

    def _notice(self, text: str) -> None:
        self._print(("class:notice", f"* {text}"))

    def _error(self, text: str) -> None:
        self._print(("class:error", f"! {text}"))

    def show_message(
        self, nick: str, text: str, *, ts: float = 0.0, history: bool = False, note: str = ""
    ) -> None:
        nick_style = nick_colour(nick)
        if history:
            stamp = history_stamp(ts, date.today())
            self._print(
                ("class:history", f"[history {stamp}] "),
                (f"{nick_style} italic", f"<{nick}>"),
                ("class:history", f" {text}"),
            )
        else:  # a note: one of ours, not yet out, and what it waits for
            waiting = ("class:history", f"  ({note})") if note else ("", "")
            self._print((f"{nick_style} bold", f"<{nick}>"), ("", f" {text}"), waiting)

    # --- events ------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if isinstance(event, Message):
            self.show_message(event.nick, event.text, ts=event.ts, history=event.history)
        elif isinstance(event, Notice):
            self._notice(event.text)
        elif isinstance(event, Error):
            if self.conn.session.fatal is event:
                self.fatal = event.text  # the one line the client ends with
            elif event.message_text is not None:
                self.refused += 1
                self._error(f"{event.text}: {quoted_briefly(event.message_text)} not delivered")
            else:
                self._error(event.text)
        elif isinstance(event, LinkChanged):
            self._on_link(event)
        elif isinstance(event, Welcome):
            where = self.conn.address
            if not self._was_connected:
                self._notice(f"connected to {where} as {event.nick}; /help lists the commands")
            else:
                self._notice(f"reconnected to {where} as {event.nick}")
            self._was_connected = True
            self._told_link_lost = False
            self._history_requested = 0  # answers to requests on a lost link never come
        elif isinstance(event, Floor):
            self._on_floor(event.holder, event.reason)
        elif isinstance(event, Busy):
            self._error(f"floor busy: {event.holder or 'someone'} is talking")
        elif isinstance(event, Stations):
            if self._who_requested:
                self._who_requested = False
                names = ", ".join(event.nicks)
                talking = f"{event.holder} is talking" if event.holder else "the floor is free"
                self._notice(f"{len(event.nicks)} on the channel: {names}; {talking}")
        elif isinstance(event, StationJoined):
            self._notice(f"{event.nick} joined")
        elif isinstance(event, StationLeft):
            self._notice(f"{event.nick} left")
        elif isinstance(event, StationRenamed):
            if event.new != self.conn.nick:  # our own: "you are now ..."
                self._notice(f"{event.old} is now {event.new}")
        elif isinstance(event, NickChanged):
            self._notice(f"you are now {event.nick}")
        elif isinstance(event, Synced) and self._history_requested:
            self._history_requested -= 1
            self._notice("end of history")

    def _on_link(self, event: LinkChanged) -> None:
        self.link_reason = event.reason
        self.retry_at = (
            time.monotonic() + event.retry_in
            if event.state is LinkState.DISCONNECTED and event.retry_in is not None
            else None
        )
        if event.state is LinkState.DISCONNECTED and self._was_connected:
            self._holder = None  # the hub frees the floor of a station that leaves
            if not self._told_link_lost:
                self._notice(f"link lost ({event.reason or 'disconnected'}); reconnecting")
                self._told_link_lost = True
        elif event.state is LinkState.CLOSED and event.reason and event.reason != "closed":
            self.fatal = self.fatal or event.reason

    def _on_floor(self, holder: str | None, reason: str | None) -> None:
        previous, self._holder = self._holder, holder
        if holder == previous:
            return
        if holder is None:
            how = {"timeout": "'s floor timed out", "disconnected": " is over (disconnected)"}
            self._notice(f"{previous}{how.get(reason or '', ' is over')}; the floor is free")
        elif holder == self.conn.nick:
            self._notice("you have the floor")
        else:
            self._notice(f"{holder} is talking")

    # --- the status line ---------------------------------------------------------------

    def status(self) -> FormattedText:
        conn = self.conn
        outbox = conn.outbox
        facts = StatusFacts(
            state=conn.state,
            address=conn.address,
            nick=conn.nick,
            holder=conn.holder,
            stations=conn.stations,
            unsent=len(outbox),
            waiting_for_floor=sum(1 for entry in outbox if entry.queued),
            retry_in=None if self.retry_at is None else max(0.0, self.retry_at - time.monotonic()),
            link_reason=self.link_reason,
            fatal=self.fatal,
        )
        return FormattedText(status_line(facts, get_app().output.get_size().columns))

    # --- input -------------------------------------------------------------------------

    async def handle_input(self, entered: str) -> bool:
        """Act on what was entered, each line of a paste in turn; False means quit."""
        for line in entered.splitlines() or [""]:
            if not await self._handle_line(line):
                return False
        return True

    async def _handle_line(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line.startswith("//"):
            await self._say(line[1:])
            return True
        if not line.startswith("/"):
            await self._say(line)
            return True
        command, _, argument = line.partition(" ")
        command = command.lower()  # /WHO as /who, as the hub reads them
        argument = argument.strip()
        conn = self.conn
        if command == "/quit":
            return False
        if command == "/help":
            for help_text in COMMANDS.values():
                self._notice(help_text)
            self._notice("//text sends a line starting with /")
        elif command == "/nick":
            if not argument:
                self._notice(f"you are {conn.nick or 'not named yet'}")
                return True
            try:
                sent = await conn.set_nick(argument)
            except ValueError as exc:
                self._error(str(exc))
                return True
            if not sent:
                self._notice(f"not connected; {argument} will be asked for on reconnect")
        elif command == "/who":
            self._who_requested = await conn.who()
            if not self._who_requested:
                self._error("not connected")
        elif command == "/talk" and conn.nick is not None and conn.holder == conn.nick:
            self._notice("you already hold the floor")
        elif command == "/over" and conn.state is LinkState.CONNECTED and conn.holder != conn.nick:
            self._error("you do not hold the floor")
        elif command in ("/talk", "/over"):
            sent = await (conn.talk() if command == "/talk" else conn.over())
            if not sent:
                self._error("not connected")
        elif command == "/history":
            count = int(argument) if argument.isdigit() else 0
            if not argument:
                count = HISTORY_SHOWN
            if not 1 <= count <= MAX_HISTORY_REQUEST:  # as the hub answers nc users
                self._error(f"usage: /history [N], N from 1 to {MAX_HISTORY_REQUEST}")
                return True
            if await conn.request_history(count):
                self._history_requested += 1
            else:
                self._error("not connected")
        elif command == "/auth":  # nc users' way; this client presents it in its hello
            self._error("walkie client takes the token at start: --token-file FILE")
        else:
            self._error(f"unknown command {command}; /help lists them")
        return True

    async def _say(self, text: str) -> None:
        conn = self.conn
        if await conn.send(text) is None:
            return
        waits_for = self._what_our_lines_wait_for()
        note = f"waits for {waits_for}" if waits_for else ""
        self.show_message(conn.nick or "me", sanitize(text).strip(), note=note)

    def _what_our_lines_wait_for(self) -> str | None:
        """``the link``, ``the floor: NICK is talking``, or None (the hub's ack,
        which is not worth a note)."""
        conn = self.conn
        if conn.state is not LinkState.CONNECTED:
            return "the link"
        if conn.holder is not None and conn.holder != conn.nick:
            return f"the floor: {conn.holder} is talking"
        return None

    def lost_to_ctrl_c(self) -> str:
        """What the lines still waiting became when Ctrl-C cut the wait short
        (in pipe mode's words)."""
        conn = self.conn
        return f"{conn.undelivered()}: you left with Ctrl-C ({conn.why_undelivered()})"


def _ctrl_c_clears_a_line() -> KeyBindings:
    """Ctrl-C throws away what is typed, as in a shell; on an empty line it quits."""
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _(event: KeyPressEvent) -> None:
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return bindings


async def run_terminal(
    host: str,
    port: int,
    *,
    nick: str | None = None,
    initial_history: int = 10,
    connect_timeout: float = 10.0,
    security: HubSecurity | None = None,
) -> int:
    """Run the interactive client until /quit, Ctrl-D or Ctrl-C (on an empty
    line; with text typed, Ctrl-C clears it); returns the exit
    code: 1 when lines typed were not delivered or were refused, as in pipe mode.
    Ctrl-C while /quit waits for our lines leaves at once, saying how many are
    lost, and ends in KeyboardInterrupt (exit 130)."""
    conn = ChannelConnection(
        host,
        port,
        nick=nick,
        initial_history=initial_history,
        connect_timeout=connect_timeout,
        security=security,
    )
    ui = TerminalClient(conn)
    prompt: PromptSession[str] = PromptSession(
        completer=CommandCompleter(),
        complete_while_typing=True,
        reserve_space_for_menu=0,  # sized before each redraw: keep_rows_for_the_menu
        history=InMemoryHistory(),
        bottom_toolbar=ui.status,
        refresh_interval=STATUS_REFRESH,
        style=STYLE,
        erase_when_done=True,  # our own line is printed as ``<nick> text`` instead
        key_bindings=_ctrl_c_clears_a_line(),
    )

    def on_event(event: Event) -> None:
        ui.on_event(event)
        # The refusal and the link's closing both come as events: exit once.
        if ui.fatal is not None and prompt.app.is_running and not prompt.app.is_done:
            prompt.app.exit(result="/quit")
        prompt.app.invalidate()

    def keep_rows_for_the_menu(app: Application[str]) -> None:
        # prompt_toolkit keeps reserve_space_for_menu rows under the prompt
        # whenever completing as you type is on, menu or not: set before each
        # redraw, it is what the menu that redraw draws needs.
        # Rows a closed menu took stay blank, under the prompt, until chat
        # fills them: on a full screen the terminal made them by scrolling
        # chat into its history, which no redraw brings back, and a prompt
        # owns only the rows from its own down to the bottom, where its
        # status line stays (shrinking would move the blank rows under it).
        menu = app.current_buffer.complete_state
        entries = len(menu.completions) if menu else 0
        prompt.reserve_space_for_menu = rows_for_the_menu(entries, app.output.get_size().rows)

    prompt.app.before_render += keep_rows_for_the_menu
    conn.on_event = on_event
    # As in pipe mode: a hub that cannot be reached at first is an error, not
    # a retry loop on the status line; once joined, the link heals itself.
    print_formatted_text(f"connecting to {conn.address}...")
    undelivered = False
    with patch_stdout():
        try:
            await conn.connect()
            while ui.fatal is None:
                try:
                    line = await prompt.prompt_async("> ")
                except (EOFError, KeyboardInterrupt):
                    break
                if not await ui.handle_input(line):
                    break
            if conn.outbox and ui.fatal is None:
                try:
                    await conn.wait_delivered(QUIT_GRACE)
                except Exception as exc:  # leaving anyway; say what was lost
                    print_formatted_text(f"! {exc}")
                    undelivered = True
        except asyncio.CancelledError:
            # Ctrl-C away from the prompt (while /quit waits for our lines, or
            # a paste for room in the outbox): asyncio.run cancels us, and
            # then exits 130. Leave at once, but not in silence.
            if conn.outbox:
                print_formatted_text(f"! {ui.lost_to_ctrl_c()}")
            raise
        finally:
            await conn.close()
    if ui.fatal is not None:  # the link's own words when it has them
        raise conn.failure or HubRefused(f"{conn.address}: {ui.fatal}")
    return 1 if undelivered or ui.refused else 0
