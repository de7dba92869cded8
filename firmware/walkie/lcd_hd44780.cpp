// lcd_hd44780: write-only 4-bit HD44780 driver (see lcd_hd44780.h).
#include "lcd_hd44780.h"

#include <Arduino.h>

namespace {
const uint8_t CMD_CLEAR = 0x01;
const uint8_t CMD_ENTRY_INCREMENT = 0x06;
const uint8_t CMD_DISPLAY_ON = 0x0C;   // display on, cursor off, blink off
const uint8_t CMD_DISPLAY_OFF = 0x08;
const uint8_t CMD_FUNCTION_4BIT_2LINE = 0x28;
const uint8_t CMD_SET_DDRAM = 0x80;
const uint8_t UNKNOWN = 0xFF;
}  // namespace

Hd44780::Hd44780(uint8_t rs, uint8_t e, uint8_t d4, uint8_t d5, uint8_t d6, uint8_t d7)
    : rs_(rs), e_(e), cols_(16), rows_(2), row_(UNKNOWN), col_(UNKNOWN) {
    d_[0] = d4;
    d_[1] = d5;
    d_[2] = d6;
    d_[3] = d7;
}

void Hd44780::nibble(uint8_t value) {
    // Data first, then the E pulse: the LCD latches on E (its rising edge in
    // simavr's model, its falling edge on a real chip).
    for (uint8_t i = 0; i < 4; i++) digitalWrite(d_[i], (value >> i) & 1);
    digitalWrite(e_, HIGH);
    delayMicroseconds(1);
    digitalWrite(e_, LOW);
}

void Hd44780::send(uint8_t value, bool data) {
    digitalWrite(rs_, data ? HIGH : LOW);
    nibble(value >> 4);
    nibble(value & 0x0F);
}

void Hd44780::command(uint8_t value) { send(value, false); }

void Hd44780::begin(uint8_t cols, uint8_t rows) {
    cols_ = cols;
    rows_ = rows;
    pinMode(rs_, OUTPUT);
    pinMode(e_, OUTPUT);
    for (uint8_t i = 0; i < 4; i++) pinMode(d_[i], OUTPUT);
    digitalWrite(e_, LOW);
    digitalWrite(rs_, LOW);
    delay(50);  // > 40 ms after power rises to 2.7 V
    // Three times "8-bit mode" resynchronises the LCD whatever state a reset
    // left it in (even between the two nibbles of a byte), then 4-bit mode.
    nibble(0x3);
    delayMicroseconds(4500);
    nibble(0x3);
    delayMicroseconds(150);
    nibble(0x3);
    delayMicroseconds(150);
    nibble(0x2);
    delayMicroseconds(150);
    command(CMD_FUNCTION_4BIT_2LINE);
    delayMicroseconds(60);
    command(CMD_DISPLAY_OFF);
    delayMicroseconds(60);
    command(CMD_CLEAR);
    delayMicroseconds(2000);
    command(CMD_ENTRY_INCREMENT);
    delayMicroseconds(60);
    command(CMD_DISPLAY_ON);
    delayMicroseconds(60);
    // Clear homes the address counter on a real chip, not in every model
    // (simavr's keeps it): the first write sets the address explicitly.
    row_ = UNKNOWN;
    col_ = UNKNOWN;
}

void Hd44780::setCursor(uint8_t row, uint8_t col) {
    // Rows 2 and 3 of a 20x4 (or 16x4) continue rows 0 and 1 in DDRAM.
    uint8_t base = (row & 1) ? 0x40 : 0x00;
    if (row >= 2) base += cols_;
    command(CMD_SET_DDRAM | (uint8_t)(base + col));
    row_ = row;
    col_ = col;
}

void Hd44780::write(uint8_t ch) {
    send(ch, true);
    // The address counter runs on, but past the last column it leaves the row.
    col_ = (col_ + 1 < cols_) ? col_ + 1 : UNKNOWN;
}
