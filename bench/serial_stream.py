"""Part 3: useful payload on the serial link as a fraction of the line rate.

Drives the Pi side's link state machine (`walkie.board.link.Link`, the one
`BoardLink` runs) over the board simulator's pty with a loop like
`BoardLink._serve`: select on the port, feed bytes in, write what comes out.
Whenever no ROW waits to be sent, it shows a new screen of two 52-byte rows
(the largest ROW piece), so the sender always has a frame for a free window
slot. Counted: ROW data bytes acknowledged by the board, from the first such
show until the last ACK.
"""

from __future__ import annotations

import select
import time

from bench.report import Section
from walkie.board.frames import MAX_PAYLOAD
from walkie.board.link import PI_WINDOW, Link, LinkUp, Output, RowContent
from walkie.board.port import DEFAULT_BAUDRATE, SerialPort, open_port
from walkie.sim.board import BoardSimulator

BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
LINE_RATE = DEFAULT_BAUDRATE / BITS_PER_BYTE
ROW_HEADER = 4
ROW_DATA = MAX_PAYLOAD - ROW_HEADER  # 52
ROW_WIRE = MAX_PAYLOAD + 6  # type, seq, CRC (2), COBS overhead, delimiter: 62
STREAM_SECONDS_FULL = 10.0
STREAM_SECONDS_QUICK = 3.0
LINK_UP_TIMEOUT = 5.0
DRAIN_TIMEOUT = 3.0
READ_SIZE = 4096
BUDGET = "≥ 80 % of the line rate"


class _Driver:
    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self.link = Link()
        fileno = getattr(port, "fileno", None)
        assert fileno is not None, "the simulator's pty has a file descriptor"
        self.fileno: int = fileno()
        self.up = False

    def deliver(self, output: Output) -> None:
        if output.data:
            self.port.write(output.data)
        if any(isinstance(event, LinkUp) for event in output.events):
            self.up = True

    def step(self) -> None:
        """Wait for bytes or the link's next deadline, then let the link act."""
        deadline = self.link.next_deadline()
        timeout = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([self.fileno], [], [], timeout)
        now = time.monotonic()
        if readable:
            data = self.port.read(READ_SIZE)
            if data:
                self.deliver(self.link.receive(data, now))
        self.deliver(self.link.tick(now))

    def run_until(self, condition: object, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(condition) and condition():
                return True
            self.step()
        return False


def _screen(generation: int) -> list[RowContent]:
    rows = []
    for row in range(2):
        text = f"{generation:06d}/{row} ".encode()
        rows.append(RowContent((text * ROW_DATA)[:ROW_DATA], marquee=True))
    return rows


def run(quick: bool) -> Section:
    seconds = STREAM_SECONDS_QUICK if quick else STREAM_SECONDS_FULL
    with BoardSimulator(realtime=True) as simulator:
        port = open_port(simulator.port)
        try:
            result = _stream(_Driver(port), seconds)
        finally:
            port.close()
    data_bytes, elapsed, retransmissions = result
    rate = data_bytes / elapsed
    wire_rate = (data_bytes // ROW_DATA + retransmissions) * ROW_WIRE / elapsed
    section = Section(
        "3. Serial stream (Pi → board ROW frames, 115200 baud, real time)",
        ["figure", "value", "SPEC §10", "method"],
    )
    section.add(
        "useful payload",
        f"{rate:,.0f} B/s = {rate / LINE_RATE:.1%} of {LINE_RATE:,.0f} B/s",
        BUDGET,
        f"ROW data bytes acknowledged by the firmware over {elapsed:.1f} s, full 52-byte "
        f"pieces ({ROW_WIRE} on the wire: {ROW_DATA}/{ROW_WIRE} = {ROW_DATA / ROW_WIRE:.1%} "
        f"is the ceiling), window {PI_WINDOW}",
    )
    section.add(
        "wire bytes sent",
        f"{wire_rate:,.0f} B/s = {wire_rate / LINE_RATE:.1%} of the nominal line rate",
        "",
        "ROW frames sent (first sends and retries) × 62 bytes ÷ time: how busy the line was; "
        "the simulated UART sets its own byte time (see docs/performance.md)",
    )
    section.add(
        "retransmissions",
        str(retransmissions),
        "",
        "Link.stats.retransmissions during the stream (60 ms retry timer)",
    )
    return section


def _stream(driver: _Driver, seconds: float) -> tuple[int, float, int]:
    link = driver.link
    driver.deliver(link.connection_made(time.monotonic()))
    if not driver.run_until(lambda: driver.up and link.rows_unacknowledged == 0, LINK_UP_TIMEOUT):
        raise TimeoutError("the board link did not come up")
    rows_before = link.stats.rows_sent
    retransmissions_before = link.stats.retransmissions
    started = time.monotonic()
    generation = 0
    while time.monotonic() - started < seconds:
        if link.rows_unacknowledged <= PI_WINDOW - 1 or link.rows_unacknowledged == 0:
            generation += 1
            driver.deliver(link.show(_screen(generation), time.monotonic()))
        driver.step()
    if not driver.run_until(lambda: link.rows_unacknowledged == 0, DRAIN_TIMEOUT):
        raise TimeoutError("the board did not acknowledge every row")
    elapsed = time.monotonic() - started
    sent = link.stats.rows_sent - rows_before
    return sent * ROW_DATA, elapsed, link.stats.retransmissions - retransmissions_before
