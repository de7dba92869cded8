// reset_cause: keeps the AVR's MCUSR from before main() for the INFO frame.
//
// Runs in .init3, before the C runtime clears .bss, and clears MCUSR so that
// the next reset reports its own cause. A watchdog reset leaves the watchdog
// running (WDRF forces WDE), so it is switched off here too.
#include <avr/io.h>
#include <avr/wdt.h>
#include <stdint.h>

uint8_t walkieResetCause __attribute__((section(".noinit")));

void walkieSaveResetCause() __attribute__((naked, used, section(".init3")));
void walkieSaveResetCause() {
    walkieResetCause = MCUSR;
    MCUSR = 0;
    wdt_disable();
}
