// display: the LCD screen model, with no Arduino.h and no I/O.
//
// It owns the text of every row (assembled from ROW pieces), the marquee of
// rows longer than the LCD, and a shadow of what the LCD shows, so that the
// driver in the sketch redraws only the characters that changed, one per
// call of nextWrite(). Time is passed in (milliseconds, wrapping).
#ifndef WALKIE_DISPLAY_H
#define WALKIE_DISPLAY_H

#include <stdint.h>

#include "config.h"

namespace walkie {

const uint8_t LCD_COLS = WALKIE_LCD_COLS;
const uint8_t LCD_ROWS = WALKIE_LCD_ROWS;
const uint8_t MAX_ROW_TEXT = 80;          // longest row text the Pi may send
const uint8_t ROW_FLAG_MARQUEE = 0x01;
const uint16_t MARQUEE_STEP_MS = 350;     // one column every 350 ms...
const uint16_t MARQUEE_PAUSE_MS = 1000;   // ...after a pause at the start
const uint8_t MARQUEE_GAP = 3;            // blanks between the end and the restart

class Display {
public:
    Display();

    // Empties every row.
    void clear();
    // Sets one row's whole text (status messages of the board itself).
    void setText(uint8_t row, const char* text, uint32_t now);
    // Applies one ROW payload (row, flags, total, offset, data). Returns false
    // if the piece is invalid (it is ignored; the link still acknowledges it).
    bool applyRowPiece(const uint8_t* payload, uint8_t len, uint32_t now);
    // Advances the marquees.
    void tick(uint32_t now);

    // The character the LCD should show at row/col right now.
    uint8_t charAt(uint8_t row, uint8_t col) const;
    // The next cell the LCD must be changed at; false when it is up to date.
    bool nextWrite(uint8_t& row, uint8_t& col, uint8_t& ch);
    // The driver wrote `ch` at row/col.
    void written(uint8_t row, uint8_t col, uint8_t ch);
    // The LCD content is unknown (after the init sequence): repaint every cell.
    void invalidate();

    uint8_t rowLength(uint8_t row) const { return len_[row]; }
    const uint8_t* rowText(uint8_t row) const { return text_[row]; }
    uint8_t marqueeOffset(uint8_t row) const { return offset_[row]; }

private:
    void commit(uint8_t row, const uint8_t* text, uint8_t len, bool marquee, uint32_t now);
    bool scrolls(uint8_t row) const;

    uint8_t text_[LCD_ROWS][MAX_ROW_TEXT];
    uint8_t len_[LCD_ROWS];
    bool marquee_[LCD_ROWS];
    uint8_t offset_[LCD_ROWS];
    uint32_t stepAt_[LCD_ROWS];

    // A row being assembled from several ROW pieces.
    uint8_t staging_[MAX_ROW_TEXT];
    uint8_t stagingRow_;
    uint8_t stagingTotal_;
    uint8_t stagingFill_;

    uint8_t lcd_[LCD_ROWS][LCD_COLS];
    uint8_t scanPos_;     // where the next search for a changed cell starts
    uint8_t repaintLeft_; // cells still to paint after invalidate()
    bool dirty_;          // something may differ from the LCD
};

}  // namespace walkie

#endif
