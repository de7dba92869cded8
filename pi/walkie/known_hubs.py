"""Trust on first use for TLS hubs, like ssh's known_hosts.

The first time a walkie client or station meets a TLS hub, it remembers the
SHA-256 fingerprint of the hub's certificate in ``known_hubs`` (in the state
directory, mode 0600); afterwards a hub at that address must show the same
certificate, or the connection is refused with :class:`CertificateChanged`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from walkie.errors import ConnectError
from walkie.paths import state_dir

_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
"""How a pinned certificate is written: its SHA-256 in lowercase hex."""

CertificateCheck = Callable[[str, str], bool]
"""Called with a hub's address and certificate fingerprint: True if newly trusted,
False if already trusted; raises :class:`CertificateChanged` to refuse it."""


@dataclass(frozen=True)
class HubSecurity:
    """How a walkie client proves itself to a hub and checks the hub."""

    token: str | None = None
    """The hub's shared token, sent in the hello."""
    certificate_check: CertificateCheck | None = None
    """Speak TLS and accept the hub's certificate only if this says so."""


def pinned_to(expected: str) -> CertificateCheck:
    """A check that accepts exactly one certificate (a station joining its own hub)."""

    def check(address: str, fingerprint: str) -> bool:
        if fingerprint != expected:
            raise CertificateChanged(f"hub {address} does not show the expected certificate")
        return False

    return check


class CertificateChanged(ConnectError):
    """The hub's certificate is not the one pinned for its address."""


def default_known_hubs() -> Path:
    return state_dir() / "known_hubs"


class KnownHubs:
    """The pinned fingerprints, one ``ADDRESS sha256:HEX`` line per hub."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_known_hubs()

    def pinned(self, address: str) -> str | None:
        """The fingerprint pinned for ``address``, if any; a damaged line for
        it is refused, as skipping it would trust the hub anew."""
        for number, parts in self._lines_for(address):
            if len(parts) == 2 and _FINGERPRINT.fullmatch(parts[1]):
                return parts[1].removeprefix("sha256:")
            # Skipped, it would trust whatever certificate the hub shows next.
            raise ConnectError(
                f"{self.path} line {number}: not ADDRESS sha256:FINGERPRINT;"
                f" mend it or remove it to trust hub {address} anew"
            )
        return None

    def check(self, address: str, fingerprint: str) -> bool:
        """Accept ``fingerprint`` for ``address``; True if it was pinned just now.

        Raises :class:`CertificateChanged` when another certificate is pinned.
        """
        pinned = self.pinned(address)
        if pinned == fingerprint:
            return False
        if pinned is not None:
            raise CertificateChanged(
                f"the certificate of hub {address} has changed (pinned sha256:{pinned[:16]}..., "
                f"now sha256:{fingerprint[:16]}...); if that is expected, remove its line "
                f"from {self.path}"
            )
        self._append(f"{_spelled(address)} sha256:{fingerprint}\n")
        return True

    def refuse_plain_text_to(self, address: str) -> None:
        """Refuse to talk plain text to a hub pinned here: it spoke TLS, and
        forgetting to would send the token and every line in the clear."""
        try:
            pinned = next(iter(self._lines_for(address)), None) is not None
        except ConnectError:  # an unreadable file pins nothing we know of
            return
        if pinned:
            raise ConnectError(
                f"hub {address} speaks TLS (its certificate is pinned in {self.path}):"
                " use TLS (--tls, client.tls), or remove its line there to talk to it"
                " in plain text"
            )

    def _lines_for(self, address: str) -> Iterator[tuple[int, list[str]]]:
        """The numbered lines about ``address`` (host names in any case), split."""
        try:
            text = self.path.read_text(encoding="utf-8").removeprefix("\ufeff")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:  # a directory, unreadable
            reason = exc.strerror if isinstance(exc, OSError) else "not text"
            raise ConnectError(f"cannot read the known hubs file {self.path}: {reason}") from None
        wanted = _spelled(address)
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            if parts and _spelled(parts[0]) == wanted:
                yield number, parts

    def _append(self, line: str) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a") as file:
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    line = "\n" + line  # a file edited by hand may end without one
                file.write(line)
        except OSError as exc:
            raise ConnectError(
                f"cannot remember the hub's certificate in {self.path}: {exc.strerror or exc}"
            ) from None


def _spelled(address: str) -> str:
    """An address as the file compares it: host names know no case."""
    return address.lower()
