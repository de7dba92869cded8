"""The Pi <-> Arduino serial link: frame codec, link state machine and port driver.

`frames` (COBS + CRC-16 codec), `messages` (payloads), `link` (the pure link
state machine), `detect` (finding the Arduino among the serial ports) and
`port` (the pyserial driver `BoardLink`). The names a
station needs are re-exported here.
"""

from walkie.board.detect import AmbiguousBoardError, BoardNotFoundError, find_board_port
from walkie.board.link import (
    BoardReset,
    ButtonChanged,
    LinkDown,
    LinkEvent,
    LinkState,
    LinkUp,
    ProtocolMismatch,
    RowContent,
)
from walkie.board.messages import BoardInfo
from walkie.board.port import BoardEvent, BoardLink, PortOpened, PortUnavailable

__all__ = [
    "AmbiguousBoardError",
    "BoardEvent",
    "BoardInfo",
    "BoardLink",
    "BoardNotFoundError",
    "BoardReset",
    "ButtonChanged",
    "LinkDown",
    "LinkEvent",
    "LinkState",
    "LinkUp",
    "PortOpened",
    "PortUnavailable",
    "ProtocolMismatch",
    "RowContent",
    "find_board_port",
]
