"""Push-to-talk with one button: tap selects, hold keys up, release ends."""

from walkie.station.ptt import KeyDown, KeyUp, PushToTalk, Selected

MESSAGES = ["OK", "Yes", "No"]


def test_a_tap_selects_the_next_quick_message_and_wraps() -> None:
    ptt = PushToTalk(MESSAGES, hold_time=0.6)
    assert ptt.press("arduino", 0.0) == []
    assert ptt.release("arduino", 0.2) == [Selected("Yes", 1)]
    ptt.press("arduino", 1.0)
    ptt.release("arduino", 1.1)
    ptt.press("arduino", 2.0)
    assert ptt.release("arduino", 2.1) == [Selected("OK", 0)]


def test_holding_keys_up_with_the_selected_message_and_release_ends() -> None:
    ptt = PushToTalk(MESSAGES, hold_time=0.6)
    ptt.press("gpio", 0.0)
    ptt.release("gpio", 0.1)
    ptt.press("gpio", 1.0)
    assert ptt.next_deadline() == 1.6
    assert ptt.tick(1.5) == []
    assert ptt.tick(1.6) == [KeyUp("Yes")]
    assert ptt.tick(3.0) == []
    assert ptt.release("gpio", 5.0) == [KeyDown()]
    assert ptt.selected == "Yes"


def test_a_release_that_arrives_late_still_counts_the_hold() -> None:
    ptt = PushToTalk(MESSAGES, hold_time=0.6)
    ptt.press("arduino", 0.0)
    assert ptt.release("arduino", 0.9) == [KeyUp("OK"), KeyDown()]


def test_both_buttons_behave_as_one() -> None:
    ptt = PushToTalk(MESSAGES, hold_time=0.6)
    ptt.press("arduino", 0.0)
    ptt.press("gpio", 0.1)
    assert ptt.tick(0.6) == [KeyUp("OK")]
    assert ptt.release("arduino", 1.0) == []
    assert ptt.release("gpio", 1.5) == [KeyDown()]


def test_a_lost_button_link_releases_what_it_held() -> None:
    ptt = PushToTalk(MESSAGES, hold_time=0.6)
    ptt.press("arduino", 0.0)
    ptt.tick(0.7)
    assert ptt.forget("arduino", 10.0) == [KeyDown()]
    assert not ptt.pressed and ptt.next_deadline() is None


def test_a_release_without_a_press_does_nothing() -> None:
    assert PushToTalk(MESSAGES).release("gpio", 1.0) == []
