// Display model tests: row pieces, padding, the marquee, minimal redraws.
#include <string.h>

#include "check.h"
#include "display.h"

using walkie::Display;
using walkie::LCD_COLS;
using walkie::LCD_ROWS;

namespace {

// What the LCD would show if the driver applied every write.
struct Lcd {
    char cells[LCD_ROWS][LCD_COLS + 1];
    int writes;
    Lcd() : writes(0) {
        memset(cells, ' ', sizeof(cells));
        for (int r = 0; r < LCD_ROWS; r++) cells[r][LCD_COLS] = 0;
    }
    void sync(Display& display) {
        uint8_t row, col, ch;
        while (display.nextWrite(row, col, ch)) {
            cells[row][col] = (char)ch;
            display.written(row, col, ch);
            writes++;
        }
    }
    std::string row(int r) const { return std::string(cells[r], LCD_COLS); }
};

std::string padded(const std::string& text) {
    std::string out = text.substr(0, LCD_COLS);
    out.resize(LCD_COLS, ' ');
    return out;
}

bool piece(Display& display, uint8_t row, uint8_t flags, uint8_t total, uint8_t offset,
           const std::string& data, uint32_t now) {
    std::vector<uint8_t> payload;
    payload.push_back(row);
    payload.push_back(flags);
    payload.push_back(total);
    payload.push_back(offset);
    payload.insert(payload.end(), data.begin(), data.end());
    return display.applyRowPiece(payload.data(), (uint8_t)payload.size(), now);
}

bool row(Display& display, uint8_t r, const std::string& text, bool marquee, uint32_t now) {
    return piece(display, r, marquee ? 1 : 0, (uint8_t)text.size(), 0, text, now);
}

const std::string LONG_TEXT = "alice: this message is far too long for the row";

}  // namespace

TEST(a_short_row_is_padded_with_spaces) {
    Display display;
    Lcd lcd;
    CHECK(row(display, 0, "bob: hi", false, 0));
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), padded("bob: hi"));
    CHECK_EQ(lcd.row(1), padded(""));
}

TEST(a_long_row_without_marquee_shows_its_start) {
    Display display;
    Lcd lcd;
    CHECK(row(display, LCD_ROWS - 1, LONG_TEXT, false, 0));
    display.tick(5000);
    lcd.sync(display);
    CHECK_EQ(lcd.row(LCD_ROWS - 1), padded(LONG_TEXT));
}

TEST(a_row_in_pieces_shows_once_the_last_piece_is_in) {
    Display display;
    Lcd lcd;
    std::string text(80, 'x');
    for (int i = 0; i < 80; i++) text[i] = (char)('A' + i % 26);
    CHECK(piece(display, 0, 0, 80, 0, text.substr(0, 52), 0));
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), padded(""));
    CHECK(piece(display, 0, 0, 80, 52, text.substr(52), 0));
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), padded(text));
    CHECK_EQ(display.rowLength(0), 80);
    CHECK(memcmp(display.rowText(0), text.data(), 80) == 0);
}

TEST(a_piece_out_of_order_is_ignored) {
    Display display;
    CHECK(!piece(display, 0, 0, 60, 30, std::string(30, 'y'), 0));
    CHECK(piece(display, 0, 0, 60, 0, std::string(30, 'x'), 0));
    CHECK(!piece(display, 0, 0, 60, 40, std::string(20, 'z'), 0));
    CHECK_EQ(display.rowLength(0), 0);
}

TEST(invalid_rows_are_ignored) {
    Display display;
    CHECK(!row(display, LCD_ROWS, "nope", false, 0));
    CHECK(!piece(display, 0, 0, 81, 0, "x", 0));
    CHECK(!piece(display, 0, 0, 3, 0, "four", 0));
    for (uint8_t r = 0; r < LCD_ROWS; r++) CHECK_EQ(display.rowLength(r), 0);
}

TEST(total_zero_clears_the_row) {
    Display display;
    Lcd lcd;
    CHECK(row(display, 0, "something", false, 0));
    lcd.sync(display);
    CHECK(piece(display, 0, 0, 0, 0, "", 0));
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), padded(""));
}

TEST(a_long_marquee_row_pauses_then_scrolls_a_column_every_350_ms) {
    Display display;
    Lcd lcd;
    const uint32_t t0 = 12345;
    CHECK(row(display, 0, LONG_TEXT, true, t0));
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), LONG_TEXT.substr(0, LCD_COLS));
    display.tick(t0 + 999);
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), LONG_TEXT.substr(0, LCD_COLS));
    display.tick(t0 + 1000);
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), LONG_TEXT.substr(1, LCD_COLS));
    display.tick(t0 + 1349);
    CHECK_EQ(display.marqueeOffset(0), 1);
    display.tick(t0 + 1350);
    lcd.sync(display);
    CHECK_EQ(lcd.row(0), LONG_TEXT.substr(2, LCD_COLS));
}

TEST(the_marquee_wraps_around_with_a_gap_and_pauses_again) {
    Display display;
    Lcd lcd;
    uint32_t t = 0;
    CHECK(row(display, 0, LONG_TEXT, true, t));
    const size_t cycle = LONG_TEXT.size() + walkie::MARQUEE_GAP;
    t += walkie::MARQUEE_PAUSE_MS;
    display.tick(t);
    for (size_t step = 1; step < cycle - 1; step++) {
        t += walkie::MARQUEE_STEP_MS;
        display.tick(t);
    }
    lcd.sync(display);
    // One column before the restart: the end of the gap, then the start.
    std::string expect = " " + LONG_TEXT;
    CHECK_EQ(lcd.row(0), expect.substr(0, LCD_COLS));
    t += walkie::MARQUEE_STEP_MS;
    display.tick(t);
    CHECK_EQ(display.marqueeOffset(0), 0);
    display.tick(t + walkie::MARQUEE_PAUSE_MS - 1);
    CHECK_EQ(display.marqueeOffset(0), 0);
    display.tick(t + walkie::MARQUEE_PAUSE_MS);
    CHECK_EQ(display.marqueeOffset(0), 1);
}

TEST(a_short_marquee_row_does_not_scroll) {
    Display display;
    CHECK(row(display, 0, "short", true, 0));
    display.tick(60000);
    CHECK_EQ(display.marqueeOffset(0), 0);
}

TEST(the_marquee_survives_the_millis_rollover) {
    Display display;
    uint32_t t0 = 0xFFFFFF00u;
    CHECK(row(display, 0, LONG_TEXT, true, t0));
    display.tick(t0 + 999);
    CHECK_EQ(display.marqueeOffset(0), 0);
    display.tick(t0 + 1000);  // wrapped past zero
    CHECK_EQ(display.marqueeOffset(0), 1);
}

TEST(only_changed_characters_are_redrawn) {
    Display display;
    Lcd lcd;
    CHECK(row(display, 0, "carol: ok", false, 0));
    lcd.sync(display);
    int before = lcd.writes;
    CHECK(row(display, 0, "carol: on", false, 0));
    lcd.sync(display);
    CHECK_EQ(lcd.writes - before, 1);
    before = lcd.writes;
    CHECK(row(display, 0, "carol: on", false, 0));
    lcd.sync(display);
    CHECK_EQ(lcd.writes - before, 0);
}

TEST(after_invalidate_every_cell_is_painted_once) {
    Display display;
    Lcd lcd;
    display.setText(0, "waiting for Pi", 0);
    display.invalidate();
    lcd.sync(display);
    CHECK_EQ(lcd.writes, LCD_ROWS * LCD_COLS);
    CHECK_EQ(lcd.row(0), padded("waiting for Pi"));
}

TEST(marquee_steps_follow_the_row_arrival_time_without_drift) {
    // docs/serial-protocol.md section 7: offsets are a function of the time
    // since the row arrived, so a late loop() does not shift later steps.
    Display display;
    CHECK(row(display, 0, LONG_TEXT, true, 0));
    display.tick(1003);  // 3 ms late
    CHECK_EQ(display.marqueeOffset(0), 1);
    display.tick(1349);
    CHECK_EQ(display.marqueeOffset(0), 1);
    display.tick(1350);
    CHECK_EQ(display.marqueeOffset(0), 2);
}
