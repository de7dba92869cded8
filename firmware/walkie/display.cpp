// display: the LCD screen model (see display.h).
#include "display.h"

#include <string.h>

namespace walkie {

static const uint8_t CELLS = LCD_ROWS * LCD_COLS;
static const uint8_t NO_ROW = 0xFF;

Display::Display() {
    clear();
    memset(lcd_, ' ', sizeof(lcd_));
    scanPos_ = 0;
    repaintLeft_ = 0;
}

void Display::clear() {
    memset(len_, 0, sizeof(len_));
    memset(marquee_, 0, sizeof(marquee_));
    memset(offset_, 0, sizeof(offset_));
    stagingRow_ = NO_ROW;
    dirty_ = true;
}

void Display::setText(uint8_t row, const char* text, uint32_t now) {
    if (row >= LCD_ROWS) return;
    commit(row, (const uint8_t*)text, (uint8_t)strlen(text), false, now);
}

bool Display::applyRowPiece(const uint8_t* payload, uint8_t len, uint32_t now) {
    if (len < 4) return false;
    uint8_t row = payload[0];
    uint8_t flags = payload[1];
    uint8_t total = payload[2];
    uint8_t offset = payload[3];
    const uint8_t* data = payload + 4;
    uint8_t n = len - 4;
    if (row >= LCD_ROWS || total > MAX_ROW_TEXT || (uint16_t)offset + n > total) return false;
    if (offset == 0) {
        stagingRow_ = row;
        stagingTotal_ = total;
        stagingFill_ = 0;
    }
    if (stagingRow_ != row || stagingTotal_ != total || stagingFill_ != offset) {
        stagingRow_ = NO_ROW;  // a piece went missing: wait for the next row start
        return false;
    }
    memcpy(staging_ + offset, data, n);
    stagingFill_ = offset + n;
    if (stagingFill_ == total) {
        commit(row, staging_, total, (flags & ROW_FLAG_MARQUEE) != 0, now);
        stagingRow_ = NO_ROW;
    }
    return true;
}

void Display::commit(uint8_t row, const uint8_t* text, uint8_t len, bool marquee,
                     uint32_t now) {
    if (len > MAX_ROW_TEXT) len = MAX_ROW_TEXT;
    memmove(text_[row], text, len);
    len_[row] = len;
    marquee_[row] = marquee;
    offset_[row] = 0;
    stepAt_[row] = now;
    dirty_ = true;
}

bool Display::scrolls(uint8_t row) const { return marquee_[row] && len_[row] > LCD_COLS; }

void Display::tick(uint32_t now) {
    for (uint8_t row = 0; row < LCD_ROWS; row++) {
        if (!scrolls(row)) continue;
        uint16_t wait = offset_[row] == 0 ? MARQUEE_PAUSE_MS : MARQUEE_STEP_MS;
        if ((uint32_t)(now - stepAt_[row]) >= wait) {
            uint8_t cycle = len_[row] + MARQUEE_GAP;
            offset_[row] = (uint8_t)((offset_[row] + 1) % cycle);
            stepAt_[row] += wait;  // no drift: the Pi computes the same offsets
            dirty_ = true;
        }
    }
}

uint8_t Display::charAt(uint8_t row, uint8_t col) const {
    uint8_t i = col;
    if (scrolls(row)) {
        i = (uint8_t)(((uint16_t)offset_[row] + col) % (len_[row] + MARQUEE_GAP));
    }
    return i < len_[row] ? text_[row][i] : ' ';
}

bool Display::nextWrite(uint8_t& row, uint8_t& col, uint8_t& ch) {
    if (repaintLeft_) {
        uint8_t pos = CELLS - repaintLeft_;
        row = pos / LCD_COLS;
        col = pos % LCD_COLS;
        ch = charAt(row, col);
        return true;
    }
    if (!dirty_) return false;
    uint8_t pos = scanPos_;
    for (uint8_t n = 0; n < CELLS; n++) {
        uint8_t r = pos / LCD_COLS;
        uint8_t c = pos % LCD_COLS;
        uint8_t want = charAt(r, c);
        if (lcd_[r][c] != want) {
            row = r;
            col = c;
            ch = want;
            return true;
        }
        if (++pos == CELLS) pos = 0;
    }
    dirty_ = false;
    return false;
}

void Display::written(uint8_t row, uint8_t col, uint8_t ch) {
    if (row >= LCD_ROWS || col >= LCD_COLS) return;
    lcd_[row][col] = ch;
    uint8_t pos = row * LCD_COLS + col;
    if (repaintLeft_ && pos == CELLS - repaintLeft_) repaintLeft_--;
    scanPos_ = (pos + 1 == CELLS) ? 0 : pos + 1;
}

void Display::invalidate() {
    repaintLeft_ = CELLS;
    dirty_ = true;
}

}  // namespace walkie
