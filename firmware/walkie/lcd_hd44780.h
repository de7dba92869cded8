// lcd_hd44780: a small write-only 4-bit HD44780 driver (no LiquidCrystal).
//
// begin() runs the full 4-bit initialisation sequence (it may wait, it runs
// in setup()). After that every operation is one command or one character
// and never waits: the caller spaces operations by LCD_OP_US (the LCD's
// execution time), one per loop(), so serial input is always served.
#ifndef WALKIE_LCD_HD44780_H
#define WALKIE_LCD_HD44780_H

#include <stdint.h>

const uint8_t LCD_OP_US = 50;  // > 37 us, the slowest write we use after begin()

class Hd44780 {
public:
    Hd44780(uint8_t rs, uint8_t e, uint8_t d4, uint8_t d5, uint8_t d6, uint8_t d7);

    // Full 4-bit init: works from power-up and from any half-done transfer
    // left behind by a reset. Leaves the display cleared, cursor off.
    void begin(uint8_t cols, uint8_t rows);
    // True when the next write() lands at row/col.
    bool at(uint8_t row, uint8_t col) const { return row == row_ && col == col_; }
    void setCursor(uint8_t row, uint8_t col);
    void write(uint8_t ch);

private:
    void command(uint8_t value);
    void send(uint8_t value, bool data);
    void nibble(uint8_t value);

    uint8_t rs_, e_, d_[4];
    uint8_t cols_, rows_;
    uint8_t row_, col_;  // where the LCD's address counter points (0xFF: unknown)
};

#endif
