"""What the station shows: the LCD status row from channel events, and the
GPIO button and LEDs on gpiozero's mock pins."""

from collections.abc import Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from walkie.client.session import (
    Acked,
    Busy,
    Error,
    Floor,
    LinkChanged,
    LinkState,
    Message,
    Stations,
)
from walkie.lcd.screen import LcdSize
from walkie.station.config import GpioConfig
from walkie.station.gpio import GpioParts, LedMode
from walkie.station.view import StationView


def connected_view() -> StationView:
    view = StationView(nick="pi", quick_message="OK")
    view.apply(LinkChanged(LinkState.CONNECTED))
    view.apply(Stations(("alice", "pi"), None))
    return view


def test_the_lcd_shows_the_newest_message_and_a_status_row() -> None:
    view = connected_view()
    view.apply(Message(1, "alice", "hello there", 0.0, False))
    assert view.screen(LcdSize()).visible() == ["alice: hello the", ">OK         2 on"]


def test_the_link_is_connecting_until_it_first_connects_then_reconnecting() -> None:
    view = StationView(nick="pi", quick_message="OK")
    view.apply(LinkChanged(LinkState.DISCONNECTED, "connection refused", 1.0))
    assert view.screen(LcdSize()).visible()[1].startswith("connecting")
    view.apply(LinkChanged(LinkState.CONNECTED))
    view.apply(LinkChanged(LinkState.DISCONNECTED, "connection reset", 1.0))
    assert view.screen(LcdSize()).visible()[1].startswith("reconnecting")
    view.apply(LinkChanged(LinkState.CONNECTING))  # each attempt: not flipping back
    assert view.screen(LcdSize()).visible()[1].startswith("reconnecting")


def test_a_refused_press_shows_busy_with_the_holders_name() -> None:
    view = connected_view()
    view.apply(Busy("alice"))
    assert view.screen(LcdSize()).visible()[1].startswith("BUSY alice")
    view.apply(Floor(None, None))
    assert view.screen(LcdSize()).visible()[1].startswith(">OK")


def test_a_quick_message_just_chosen_shows_even_while_someone_else_talks() -> None:
    view = connected_view()
    view.apply(Floor("alice", None))
    view.quick_message, view.just_selected = "Yes", True
    assert view.screen(LcdSize()).visible()[1].startswith(">Yes")
    view.just_selected = False
    assert view.screen(LcdSize()).visible()[1].startswith("RX alice")


def test_while_someone_else_talks_the_status_row_says_who() -> None:
    view = connected_view()
    view.apply(Floor("alice", None))
    assert view.screen(LcdSize()).visible()[1].startswith("RX alice")
    view.apply(Floor("pi", None))
    assert view.transmitting
    assert view.screen(LcdSize()).visible()[1].startswith("TX OK")


def test_a_quick_message_the_hub_refused_shows_as_not_sent() -> None:
    view = connected_view()
    view.apply(Acked(1, 7, "OK"))
    assert view.screen(LcdSize()).visible()[0].rstrip() == "pi: OK"
    view.apply(Error("not_stored", "message not sent: cannot store it", 2, "Yes"))
    assert view.screen(LcdSize()).visible()[0].rstrip() == "not sent: Yes"
    view.apply(Error("bad_nick", "nick refused"))  # not about a message: nothing to show
    assert view.screen(LcdSize()).visible()[0].rstrip() == "not sent: Yes"


def test_a_lost_channel_says_so_on_the_status_row() -> None:
    view = connected_view()
    view.apply(LinkChanged(LinkState.DISCONNECTED, "hub gone"))
    assert view.screen(LcdSize()).visible()[1].strip() == "reconnecting"


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.reset()
    Device.pin_factory = None


def test_the_gpio_button_reports_press_and_release(factory: MockFactory) -> None:
    parts = GpioParts(GpioConfig(button=17), pin_factory=factory)
    seen: list[bool] = []
    parts.on_button = seen.append
    pin = factory.pin(17)
    pin.drive_low()
    pin.drive_high()
    assert seen == [True, False]
    parts.close()


def test_the_leds_show_link_and_talk_state(factory: MockFactory) -> None:
    parts = GpioParts(GpioConfig(led=27, talk_led=22), pin_factory=factory)
    parts.show_link(LedMode.ON)
    parts.show_talking(True)
    assert factory.pin(27).state and factory.pin(22).state
    parts.show_link(LedMode.BLINK)
    assert parts.link_mode is LedMode.BLINK
    parts.close()
    assert not factory.pin(27).state and not factory.pin(22).state


def test_no_pins_configured_means_no_gpio_at_all() -> None:
    parts = GpioParts(GpioConfig())
    parts.show_link(LedMode.ON)
    assert parts.button_pin is None
    parts.close()
    parts.close()
