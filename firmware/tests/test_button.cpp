// Debounce tests: what the PTT button reports, on the board's millisecond clock.
#include "button.h"
#include "check.h"

using walkie::Debouncer;

// Feeds `raw` every millisecond from `from` to `to` (inclusive); returns the
// number of reported changes.
static int hold(Debouncer& button, bool raw, uint32_t from, uint32_t to) {
    int changes = 0;
    for (uint32_t t = from;; t++) {
        if (button.update(raw, t)) changes++;
        if (t == to) break;
    }
    return changes;
}

TEST(a_press_counts_once_it_is_stable_for_20_ms) {
    Debouncer button;
    CHECK_EQ(hold(button, true, 100, 119), 0);
    CHECK(!button.pressed());
    CHECK(button.update(true, 120));
    CHECK(button.pressed());
    CHECK_EQ(hold(button, true, 121, 500), 0);
}

TEST(a_bounce_shorter_than_20_ms_is_not_reported) {
    Debouncer button;
    CHECK_EQ(hold(button, true, 0, 18), 0);
    CHECK_EQ(hold(button, false, 19, 200), 0);
    CHECK(!button.pressed());
}

TEST(contact_chatter_restarts_the_wait) {
    Debouncer button;
    uint32_t t = 1000;
    for (int i = 0; i < 10; i++, t += 10) {  // 5 ms closed, 5 ms open
        CHECK_EQ(hold(button, true, t, t + 4), 0);
        CHECK_EQ(hold(button, false, t + 5, t + 9), 0);
    }
    CHECK_EQ(hold(button, true, t, t + 19), 0);
    CHECK(button.update(true, t + 20));
}

TEST(press_and_release_are_both_reported) {
    Debouncer button;
    CHECK_EQ(hold(button, true, 0, 100), 1);
    CHECK_EQ(hold(button, false, 101, 200), 1);
    CHECK(!button.pressed());
}

TEST(debounce_survives_the_millis_rollover) {
    Debouncer button;
    CHECK_EQ(hold(button, true, 0xFFFFFFF0u, 0xFFFFFFFFu), 0);
    CHECK_EQ(hold(button, true, 0, 3), 0);
    CHECK(button.update(true, 4));  // 0xFFFFFFF0 + 20
}
