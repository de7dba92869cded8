// codec: the serial frame codec of docs/serial-protocol.md (sections 1 and 2).
//
// Pure functions over buffers, no Arduino.h: COBS framing with a 0x00
// delimiter, CRC-16/CCITT-FALSE, the message type/length table, and a
// streaming decoder with a fixed buffer that resynchronises on the next 0x00.
#ifndef WALKIE_CODEC_H
#define WALKIE_CODEC_H

#include <stdint.h>

namespace walkie {

const uint8_t MAX_PAYLOAD = 56;               // payload bytes in one frame
const uint8_t MAX_BODY = MAX_PAYLOAD + 4;     // type, seq, payload, crc
const uint8_t MAX_WIRE = MAX_BODY + 2;        // COBS adds one byte, plus 0x00
const uint8_t MAX_ENCODED = MAX_WIRE;         // bytes kept before the 0x00

enum MsgType : uint8_t {
    MSG_HELLO = 0x01,
    MSG_INFO = 0x02,
    MSG_HEARTBEAT = 0x03,
    MSG_ACK = 0x04,
    MSG_ROW = 0x10,
    MSG_BUTTON = 0x20,
};

// Payload sizes fixed by the protocol.
const uint8_t HELLO_LEN = 1;
const uint8_t INFO_LEN = 7;
const uint8_t BUTTON_LEN = 3;
const uint8_t ROW_HEADER_LEN = 4;  // row, flags, total, offset
const uint8_t MAX_ROW_PIECE = MAX_PAYLOAD - ROW_HEADER_LEN;  // 52 data bytes

// One decoded frame; payload points into the decoder's buffer and stays
// valid until the next byte is fed.
struct Frame {
    uint8_t type;
    uint8_t seq;
    uint8_t len;
    const uint8_t* payload;
};

// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout).
uint16_t crc16(const uint8_t* data, uint8_t len, uint16_t crc = 0xFFFF);

// True when `type` is known and `len` is a valid payload length for it.
bool payloadLengthOk(uint8_t type, uint8_t len);

// The ROW length rule: data is exactly min(total - offset, 52) bytes. This
// CRC has no final xor, so one 0x00 appended to a body keeps it valid; the
// fixed-length types catch that by length, ROW by this rule.
bool rowPieceLengthOk(const uint8_t* payload, uint8_t len);

// Encodes one frame into `out` (room for MAX_WIRE bytes). Returns the number
// of bytes written, the trailing 0x00 included, or 0 if len > MAX_PAYLOAD.
uint8_t encodeFrame(uint8_t type, uint8_t seq, const uint8_t* payload, uint8_t len,
                    uint8_t* out);

// Streaming decoder: feed() one received byte at a time; it returns true when
// that byte completed a valid frame, which frame() then describes. Corrupt,
// overlong or unknown frames are dropped silently (overflowed() tells a test
// that the current frame is being discarded).
class FrameDecoder {
public:
    FrameDecoder() : count_(0), overflow_(false) { frame_.type = 0; frame_.seq = 0; frame_.len = 0; frame_.payload = buf_; }
    bool feed(uint8_t byte);
    const Frame& frame() const { return frame_; }
    bool overflowed() const { return overflow_; }
    void reset() { count_ = 0; overflow_ = false; }

private:
    bool finish();

    uint8_t buf_[MAX_ENCODED];
    uint8_t count_;
    bool overflow_;
    Frame frame_;
};

}  // namespace walkie

#endif
