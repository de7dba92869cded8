// walkie: the Arduino side of the walkie-talkie (Uno / ATmega328P).
//
// Shows what the Pi sends on a HD44780 LCD and reports the push-to-talk
// button, over the framed serial protocol of docs/serial-protocol.md.
// Wiring and LCD size: config.h (the one place to change them).
//
// This file only does I/O: serial bytes into the frame decoder, the PTT pin
// into the debouncer, the display model onto the LCD one operation per
// loop(). The protocol, display and button logic live in plain C++ modules
// (codec, link, display, button) that are unit-tested on the host.
#include <avr/sleep.h>

#include "button.h"
#include "codec.h"
#include "config.h"
#include "display.h"
#include "lcd_hd44780.h"
#include "link.h"

extern uint8_t walkieResetCause;  // MCUSR at reset, saved by reset_cause.cpp

static void writeSerial(const uint8_t* data, uint8_t len) { Serial.write(data, len); }

static walkie::Display display;
static walkie::Link serialLink(display, writeSerial);
static walkie::FrameDecoder decoder;
static walkie::Debouncer ptt;
static Hd44780 lcd(WALKIE_PIN_LCD_RS, WALKIE_PIN_LCD_E, WALKIE_PIN_LCD_D4, WALKIE_PIN_LCD_D5,
                   WALKIE_PIN_LCD_D6, WALKIE_PIN_LCD_D7);
static uint16_t lastLcdOpUs;

// One LCD operation (a cursor move or a character), at most every LCD_OP_US.
// Returns true while the LCD still has work to do.
static bool updateLcd() {
    uint8_t row, col, ch;
    if (!display.nextWrite(row, col, ch)) return false;
    uint16_t nowUs = (uint16_t)micros();
    if ((uint16_t)(nowUs - lastLcdOpUs) < LCD_OP_US) return true;
    if (lcd.at(row, col)) {
        lcd.write(ch);
        display.written(row, col, ch);
    } else {
        lcd.setCursor(row, col);
    }
    lastLcdOpUs = (uint16_t)micros();
    return true;
}

void setup() {
    pinMode(WALKIE_PIN_PTT, INPUT_PULLUP);
    Serial.begin(WALKIE_BAUD);
    lcd.begin(walkie::LCD_COLS, walkie::LCD_ROWS);
    display.invalidate();
    serialLink.begin(walkieResetCause, millis());
    set_sleep_mode(SLEEP_MODE_IDLE);
}

void loop() {
    uint32_t now = millis();
    while (Serial.available() > 0) {
        if (decoder.feed((uint8_t)Serial.read())) serialLink.onFrame(decoder.frame(), now);
    }
    if (ptt.update(digitalRead(WALKIE_PIN_PTT) == LOW, now)) {
        serialLink.buttonChanged(ptt.pressed(), now);
    }
    serialLink.poll(now);
    display.tick(now);
    bool lcdBusy = updateLcd();
    // Nothing to do: sleep until the next interrupt (a received byte, or the
    // 1 ms timer tick that drives millis()). Idle mode keeps UART and timers.
    if (!lcdBusy && Serial.available() == 0) sleep_mode();
}
