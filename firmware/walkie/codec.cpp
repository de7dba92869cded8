// codec: COBS + CRC-16 framing (see codec.h and docs/serial-protocol.md).
#include "codec.h"

namespace walkie {

uint16_t crc16(const uint8_t* data, uint8_t len, uint16_t crc) {
    while (len--) {
        crc ^= (uint16_t)(*data++) << 8;
        for (uint8_t bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

bool payloadLengthOk(uint8_t type, uint8_t len) {
    switch (type) {
        case MSG_HELLO:
            return len == HELLO_LEN;
        case MSG_INFO:
            return len == INFO_LEN;
        case MSG_HEARTBEAT:
        case MSG_ACK:
            return len == 0;
        case MSG_ROW:
            return len >= ROW_HEADER_LEN && len <= MAX_PAYLOAD;
        case MSG_BUTTON:
            return len == BUTTON_LEN;
        default:
            return false;
    }
}

bool rowPieceLengthOk(const uint8_t* payload, uint8_t len) {
    uint8_t total = payload[2];
    uint8_t offset = payload[3];
    if (offset > total) return false;
    uint8_t left = total - offset;
    return len - ROW_HEADER_LEN == (left < MAX_ROW_PIECE ? left : MAX_ROW_PIECE);
}

uint8_t encodeFrame(uint8_t type, uint8_t seq, const uint8_t* payload, uint8_t len,
                    uint8_t* out) {
    if (len > MAX_PAYLOAD) return 0;
    // Assemble the body behind the first code byte, then COBS it in place:
    // each zero becomes the distance to the next zero (bodies < 254 bytes).
    uint8_t* body = out + 1;
    uint8_t n = 0;
    body[n++] = type;
    body[n++] = seq;
    for (uint8_t i = 0; i < len; i++) body[n++] = payload[i];
    uint16_t crc = crc16(body, n);
    body[n++] = (uint8_t)(crc >> 8);
    body[n++] = (uint8_t)crc;

    uint8_t codePos = 0;
    uint8_t code = 1;
    for (uint8_t i = 0; i < n; i++) {
        if (body[i] == 0) {
            out[codePos] = code;
            codePos = i + 1;
            code = 1;
        } else {
            code++;
        }
    }
    out[codePos] = code;
    out[n + 1] = 0;
    return n + 2;
}

bool FrameDecoder::feed(uint8_t byte) {
    if (byte != 0) {
        if (overflow_) return false;
        if (count_ >= MAX_ENCODED) {
            overflow_ = true;  // discard until the next delimiter
            return false;
        }
        buf_[count_++] = byte;
        return false;
    }
    bool ok = !overflow_ && count_ > 0 && finish();
    count_ = 0;
    overflow_ = false;
    return ok;
}

bool FrameDecoder::finish() {
    // COBS decode in place: the output never overtakes the input.
    uint8_t in = 0;
    uint8_t out = 0;
    while (in < count_) {
        uint8_t code = buf_[in++];
        uint16_t end = (uint16_t)in + code - 1;
        if (end > count_) return false;
        while (in < end) buf_[out++] = buf_[in++];
        if (code != 0xFF && in < count_) buf_[out++] = 0;
    }
    if (out < 4) return false;
    uint8_t bodyLen = out - 2;
    uint16_t crc = crc16(buf_, bodyLen);
    if (buf_[bodyLen] != (uint8_t)(crc >> 8) || buf_[bodyLen + 1] != (uint8_t)crc) return false;
    uint8_t len = bodyLen - 2;
    if (!payloadLengthOk(buf_[0], len)) return false;
    if (buf_[0] == MSG_ROW && !rowPieceLengthOk(buf_ + 2, len)) return false;
    frame_.type = buf_[0];
    frame_.seq = buf_[1];
    frame_.len = len;
    frame_.payload = buf_ + 2;
    return true;
}

}  // namespace walkie
