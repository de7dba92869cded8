// fuzz_codec: libFuzzer target for the firmware's serial frame codec
// (firmware/walkie/codec.cpp), built for the host with clang's
// -fsanitize=fuzzer,address,undefined by tests/faults/test_firmware_fuzz.py.
//
// Input bytes are (1) fed to the streaming decoder as a noisy wire, and every
// frame it accepts must be well formed and survive encode -> decode unchanged;
// (2) read as type, seq, payload and, when that is a valid frame, encoded and
// decoded back. Any violation aborts, which libFuzzer reports as a crash.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

using namespace walkie;

namespace {

struct Copy {
    uint8_t type;
    uint8_t seq;
    uint8_t len;
    uint8_t payload[MAX_PAYLOAD];
};

Copy copyOf(const Frame& frame) {
    Copy copy;
    copy.type = frame.type;
    copy.seq = frame.seq;
    copy.len = frame.len;
    memcpy(copy.payload, frame.payload, frame.len);
    return copy;
}

bool valid(uint8_t type, const uint8_t* payload, uint8_t len) {
    if (len > MAX_PAYLOAD || !payloadLengthOk(type, len)) return false;
    return type != MSG_ROW || rowPieceLengthOk(payload, len);
}

// Encodes `frame`, checks the wire format, decodes it again: must be the same frame.
void roundTrip(const Copy& frame) {
    uint8_t wire[MAX_WIRE];
    uint8_t n = encodeFrame(frame.type, frame.seq, frame.payload, frame.len, wire);
    if (n < 2 || n > MAX_WIRE || wire[n - 1] != 0) abort();
    for (uint8_t i = 0; i + 1 < n; ++i) {
        if (wire[i] == 0) abort();  // COBS: no zero before the delimiter
    }
    FrameDecoder decoder;
    for (uint8_t i = 0; i + 1 < n; ++i) {
        if (decoder.feed(wire[i])) abort();  // nothing before the delimiter
    }
    if (!decoder.feed(0)) abort();
    const Frame& back = decoder.frame();
    if (back.type != frame.type || back.seq != frame.seq || back.len != frame.len) abort();
    if (memcmp(back.payload, frame.payload, frame.len) != 0) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FrameDecoder decoder;
    for (size_t i = 0; i < size; ++i) {
        if (!decoder.feed(data[i])) continue;
        const Frame& frame = decoder.frame();
        if (data[i] != 0) abort();  // frames end only at a delimiter
        if (!valid(frame.type, frame.payload, frame.len)) abort();
        roundTrip(copyOf(frame));
    }
    if (size >= 2) {
        Copy frame;
        frame.type = data[0];
        frame.seq = data[1];
        frame.len = (uint8_t)(size - 2 < MAX_PAYLOAD ? size - 2 : MAX_PAYLOAD);
        memcpy(frame.payload, data + 2, frame.len);
        if (valid(frame.type, frame.payload, frame.len)) roundTrip(frame);
    }
    return 0;
}
