// walkie board configuration: THE one place for wiring and LCD size.
//
// Default wiring (Arduino Uno):
//   LCD RS=12, E=11, D4..D7=5,4,3,2, RW to GND (the sketch only writes),
//   PTT push button from D7 to GND (the internal pull-up is used).
// For a 20x4 display change WALKIE_LCD_COLS/ROWS below; nothing else.
#ifndef WALKIE_CONFIG_H
#define WALKIE_CONFIG_H

// ---- LCD size ---------------------------------------------------------------
#ifndef WALKIE_LCD_COLS
#define WALKIE_LCD_COLS 16
#define WALKIE_LCD_ROWS 2
#endif

// ---- pins (Arduino pin numbers) ---------------------------------------------
#define WALKIE_PIN_LCD_RS 12
#define WALKIE_PIN_LCD_E 11
#define WALKIE_PIN_LCD_D4 5
#define WALKIE_PIN_LCD_D5 4
#define WALKIE_PIN_LCD_D6 3
#define WALKIE_PIN_LCD_D7 2
#define WALKIE_PIN_PTT 7

// ---- serial -----------------------------------------------------------------
#define WALKIE_BAUD 115200

// ---- firmware version (reported in INFO) --------------------------------------
#define WALKIE_FW_MAJOR 1
#define WALKIE_FW_MINOR 0

#endif
