// button: debounce logic for the PTT button, with no Arduino.h.
//
// The sketch reads the pin; this only decides. A change counts once the raw
// reading has stayed the same for DEBOUNCE_MS, so a bounce shorter than that
// is never reported. Time is milliseconds and may wrap (rollover-safe).
#ifndef WALKIE_BUTTON_H
#define WALKIE_BUTTON_H

#include <stdint.h>

namespace walkie {

const uint8_t DEBOUNCE_MS = 20;

class Debouncer {
public:
    Debouncer() : raw_(false), stable_(false), changedAt_(0) {}

    // Feeds one raw reading (true = pressed). Returns true when the debounced
    // state changed with this reading; pressed() is then the new state.
    bool update(bool raw, uint32_t now) {
        if (raw != raw_) {
            raw_ = raw;
            changedAt_ = now;
            return false;
        }
        if (raw_ != stable_ && (uint32_t)(now - changedAt_) >= DEBOUNCE_MS) {
            stable_ = raw_;
            return true;
        }
        return false;
    }

    bool pressed() const { return stable_; }

private:
    bool raw_;
    bool stable_;
    uint32_t changedAt_;
};

}  // namespace walkie

#endif
