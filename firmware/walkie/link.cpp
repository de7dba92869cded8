// link: the board's side of the serial link (see link.h).
#include "link.h"

#include "config.h"

namespace walkie {

const char WAITING_TEXT[] = "waiting for Pi";
const char LOST_TEXT[] = "Pi link lost";

Link::Link(Display& display, WriteFn write)
    : display_(display),
      write_(write),
      state_(LINK_WAITING),
      resetCause_(0),
      txSeq_(0),
      rxExpected_(0),
      lastRx_(0),
      lastTx_(0),
      pressed_(false),
      pressedAt_(0),
      queued_(0),
      inFlight_(false),
      flightSeq_(0),
      flightSentAt_(0) {}

void Link::begin(uint8_t resetCause, uint32_t now) {
    resetCause_ = resetCause;
    state_ = LINK_WAITING;
    display_.clear();
    display_.setText(0, WAITING_TEXT, now);
    // A reset may have cut a frame short: end it, so the Pi's decoder sees
    // the reset announcement at once instead of a corrupt frame (protocol §1).
    const uint8_t delimiter = 0x00;
    write_(&delimiter, 1);
    sendInfo(INFO_FLAG_BOOT, now);
}

void Link::send(uint8_t type, uint8_t seq, const uint8_t* payload, uint8_t len, uint32_t now) {
    uint8_t wire[MAX_WIRE];
    uint8_t n = encodeFrame(type, seq, payload, len, wire);
    if (n) write_(wire, n);
    lastTx_ = now;
}

void Link::sendInfo(uint8_t flags, uint32_t now) {
    const uint8_t info[INFO_LEN] = {PROTO_VERSION, WALKIE_FW_MAJOR, WALKIE_FW_MINOR, LCD_COLS,
                                    LCD_ROWS,      flags,          resetCause_};
    send(MSG_INFO, 0, info, INFO_LEN, now);
}

void Link::sendButton(uint32_t now) {
    const uint8_t payload[BUTTON_LEN] = {flight_.pressed, (uint8_t)(flight_.boardMs >> 8),
                                         (uint8_t)flight_.boardMs};
    send(MSG_BUTTON, flightSeq_, payload, BUTTON_LEN, now);
    flightSentAt_ = now;
}

void Link::onFrame(const Frame& frame, uint32_t now) {
    if (frame.type == MSG_HELLO) {
        onHello(now);
        return;
    }
    if (state_ != LINK_UP) return;  // only a HELLO (re)starts the link
    lastRx_ = now;
    switch (frame.type) {
        case MSG_ACK:
            if (inFlight_ && frame.seq == flightSeq_) inFlight_ = false;
            break;
        case MSG_ROW:
            onRow(frame, now);
            break;
        default:
            break;  // HEARTBEAT: lastRx_ is all it does
    }
}

void Link::onHello(uint32_t now) {
    sendInfo(0, now);
    if (state_ != LINK_UP) display_.clear();  // the Pi pushes the whole screen next
    state_ = LINK_UP;
    lastRx_ = now;
    txSeq_ = 0;
    rxExpected_ = 0;
    // Queued changes are history now; only the current state matters.
    inFlight_ = false;
    queued_ = 0;
    if (pressed_) enqueue(true, pressedAt_);
}

void Link::onRow(const Frame& frame, uint32_t now) {
    uint8_t behind = (uint8_t)(rxExpected_ - frame.seq);
    if (behind == 0) {
        display_.applyRowPiece(frame.payload, frame.len, now);  // invalid pieces: ack, ignore
        rxExpected_++;
    } else if (behind > 128) {
        return;  // from the future: no ack, the Pi retries in order
    }
    // behind in 1..128: a duplicate whose ack was lost; ack again, do not apply.
    send(MSG_ACK, frame.seq, 0, 0, now);
}

void Link::enqueue(bool pressed, uint16_t boardMs) {
    if (queued_ == BUTTON_QUEUE) {
        // Full: drop the newest queued change together with this one (they
        // cancel out), so the queue still ends in the real button state.
        queued_--;
        return;
    }
    queue_[queued_].pressed = pressed ? 1 : 0;
    queue_[queued_].boardMs = boardMs;
    queued_++;
}

void Link::buttonChanged(bool pressed, uint32_t now) {
    pressed_ = pressed;
    pressedAt_ = (uint16_t)now;
    enqueue(pressed, pressedAt_);
}

void Link::poll(uint32_t now) {
    if (state_ != LINK_UP) return;
    if ((uint32_t)(now - lastRx_) >= DEAD_MS) {
        state_ = LINK_LOST;
        inFlight_ = false;
        display_.setText(0, LOST_TEXT, now);
        return;
    }
    if (!inFlight_ && queued_) {
        flight_ = queue_[0];
        for (uint8_t i = 1; i < queued_; i++) queue_[i - 1] = queue_[i];
        queued_--;
        inFlight_ = true;
        flightSeq_ = txSeq_++;
        sendButton(now);
    } else if (inFlight_ && (uint32_t)(now - flightSentAt_) >= RETRY_MS) {
        sendButton(now);
    }
    if ((uint32_t)(now - lastTx_) >= HEARTBEAT_MS) send(MSG_HEARTBEAT, 0, 0, 0, now);
}

}  // namespace walkie
