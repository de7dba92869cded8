// link: the board's side of the serial link state machine, no Arduino.h.
//
// Frames in (from FrameDecoder), bytes out (through a write function), time
// passed in: handshake (HELLO -> INFO), the reset announcement (BOOT INFO),
// ROW acknowledgement with duplicate detection, the reliable BUTTON queue
// with retries, heartbeats and the dead-link timer. Display updates go to
// the Display model. See docs/serial-protocol.md sections 2 to 4.
#ifndef WALKIE_LINK_H
#define WALKIE_LINK_H

#include <stdint.h>

#include "codec.h"
#include "display.h"

namespace walkie {

const uint8_t PROTO_VERSION = 1;
const uint16_t RETRY_MS = 60;
const uint16_t HEARTBEAT_MS = 1000;
const uint16_t DEAD_MS = 3000;
const uint8_t BUTTON_QUEUE = 4;          // changes waiting behind the one in flight
const uint8_t INFO_FLAG_BOOT = 0x01;

extern const char WAITING_TEXT[];        // "waiting for Pi"
extern const char LOST_TEXT[];           // "Pi link lost"

typedef void (*WriteFn)(const uint8_t* data, uint8_t len);

enum LinkState : uint8_t {
    LINK_WAITING,  // after reset, before the first HELLO
    LINK_UP,
    LINK_LOST,     // no valid frame for DEAD_MS; waiting for a HELLO
};

class Link {
public:
    Link(Display& display, WriteFn write);

    // After reset: announce it (INFO with BOOT) and show "waiting for Pi".
    void begin(uint8_t resetCause, uint32_t now);
    // A valid frame arrived.
    void onFrame(const Frame& frame, uint32_t now);
    // The debounced PTT state changed.
    void buttonChanged(bool pressed, uint32_t now);
    // Timers: dead link, button sends and retries, heartbeats. Call often.
    void poll(uint32_t now);

    LinkState state() const { return state_; }
    uint8_t queuedButtons() const { return queued_ + (inFlight_ ? 1 : 0); }

private:
    struct ButtonChange {
        uint8_t pressed;
        uint16_t boardMs;
    };

    void send(uint8_t type, uint8_t seq, const uint8_t* payload, uint8_t len, uint32_t now);
    void sendInfo(uint8_t flags, uint32_t now);
    void sendButton(uint32_t now);
    void onHello(uint32_t now);
    void onRow(const Frame& frame, uint32_t now);
    void enqueue(bool pressed, uint16_t boardMs);

    Display& display_;
    WriteFn write_;
    LinkState state_;
    uint8_t resetCause_;
    uint8_t txSeq_;       // seq of the next BUTTON
    uint8_t rxExpected_;  // seq of the next ROW to apply
    uint32_t lastRx_;
    uint32_t lastTx_;

    bool pressed_;        // current debounced button state
    uint16_t pressedAt_;  // board_ms of the last change
    ButtonChange queue_[BUTTON_QUEUE];
    uint8_t queued_;
    bool inFlight_;
    ButtonChange flight_;
    uint8_t flightSeq_;
    uint32_t flightSentAt_;
};

}  // namespace walkie

#endif
