// Codec tests: the shared serial vectors (docs/serial-vectors.txt and the
// firmware's own tests/vectors.txt), plus a few properties of the decoder.
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <sstream>

#include "check.h"
#include "codec.h"

using walkie::Frame;
using walkie::FrameDecoder;

namespace {

typedef std::vector<uint8_t> Bytes;

Bytes unhex(const std::string& text) {
    Bytes out;
    if (text == "-") return out;
    for (size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back((uint8_t)strtoul(text.substr(i, 2).c_str(), 0, 16));
    }
    return out;
}

std::string hex(const Bytes& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

struct Decoded {
    uint8_t type, seq;
    Bytes payload;
};

std::vector<Decoded> decodeAll(FrameDecoder& decoder, const Bytes& bytes) {
    std::vector<Decoded> frames;
    for (uint8_t b : bytes) {
        if (decoder.feed(b)) {
            const Frame& f = decoder.frame();
            frames.push_back(Decoded{f.type, f.seq, Bytes(f.payload, f.payload + f.len)});
        }
    }
    return frames;
}

const Bytes HEARTBEAT_WIRE = unhex("020303485c00");

void checkVectorLine(const std::string& where, const std::string& line) {
    std::istringstream in(line);
    std::string kind, name;
    in >> kind >> name;
    std::string label = where + " " + kind + " " + name;
    if (kind == "crc") {
        std::string data, crc;
        in >> data >> crc;
        Bytes bytes = unhex(data);
        uint16_t got = walkie::crc16(bytes.data(), (uint8_t)bytes.size());
        if (got != (uint16_t)strtoul(crc.c_str(), 0, 16)) check::fail(__FILE__, __LINE__, label);
    } else if (kind == "frame") {
        std::string wire, type, seq, payload;
        in >> wire >> type >> seq >> payload;
        Bytes wireBytes = unhex(wire), payloadBytes = unhex(payload);
        FrameDecoder decoder;
        std::vector<Decoded> frames = decodeAll(decoder, wireBytes);
        if (frames.size() != 1 || frames[0].type != strtoul(type.c_str(), 0, 16) ||
            frames[0].seq != atoi(seq.c_str()) || frames[0].payload != payloadBytes) {
            check::fail(__FILE__, __LINE__, label + " (decode)");
        }
        uint8_t out[walkie::MAX_WIRE];
        uint8_t n = walkie::encodeFrame((uint8_t)strtoul(type.c_str(), 0, 16),
                                        (uint8_t)atoi(seq.c_str()), payloadBytes.data(),
                                        (uint8_t)payloadBytes.size(), out);
        if (Bytes(out, out + n) != wireBytes) {
            check::fail(__FILE__, __LINE__, label + " (encode gives " + hex(Bytes(out, out + n)) + ")");
        }
    } else if (kind == "reject") {
        std::string wire;
        in >> wire;
        Bytes bytes = unhex(wire);
        bytes.insert(bytes.end(), HEARTBEAT_WIRE.begin(), HEARTBEAT_WIRE.end());
        FrameDecoder decoder;
        std::vector<Decoded> frames = decodeAll(decoder, bytes);
        // Nothing from the rejected bytes; the frame after them still decodes.
        if (frames.size() != 1 || frames[0].type != walkie::MSG_HEARTBEAT) {
            check::fail(__FILE__, __LINE__, label);
        }
    } else if (kind == "stream") {
        std::string wire;
        size_t count = 0;
        in >> wire >> count;
        FrameDecoder decoder;
        if (decodeAll(decoder, unhex(wire)).size() != count) check::fail(__FILE__, __LINE__, label);
    } else {
        check::fail(__FILE__, __LINE__, label + ": unknown vector kind");
    }
}

}  // namespace

TEST(every_vector_in_the_vector_files_holds) {
    CHECK(!check::vectorFiles().empty());
    for (const std::string& path : check::vectorFiles()) {
        std::ifstream file(path.c_str());
        CHECK(file.good());
        std::string line;
        int lineNo = 0, vectors = 0;
        while (std::getline(file, line)) {
            lineNo++;
            size_t hash = line.find('#');
            if (hash != std::string::npos) line.erase(hash);
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            std::ostringstream where;
            where << path << ":" << lineNo;
            checkVectorLine(where.str(), line);
            vectors++;
        }
        CHECK(vectors > 0);
    }
}

TEST(crc_check_value_is_29b1) {
    const uint8_t data[] = "123456789";
    CHECK_EQ(walkie::crc16(data, 9), 0x29B1);
}

TEST(every_payload_length_round_trips) {
    for (uint8_t len = walkie::ROW_HEADER_LEN; len <= walkie::MAX_PAYLOAD; len++) {
        uint8_t payload[walkie::MAX_PAYLOAD];
        for (uint8_t i = 0; i < len; i++) payload[i] = (uint8_t)(i * 37);  // zeros included
        payload[2] = len - walkie::ROW_HEADER_LEN;  // total
        payload[3] = 0;                             // offset
        uint8_t wire[walkie::MAX_WIRE];
        uint8_t n = walkie::encodeFrame(walkie::MSG_ROW, len, payload, len, wire);
        CHECK_EQ(n, len + 6);
        CHECK(memchr(wire, 0, n - 1) == 0);
        FrameDecoder decoder;
        std::vector<Decoded> frames = decodeAll(decoder, Bytes(wire, wire + n));
        CHECK_EQ(frames.size(), 1u);
        if (frames.size() == 1) CHECK(frames[0].payload == Bytes(payload, payload + len));
    }
}

TEST(a_row_piece_must_carry_exactly_the_bytes_up_to_total_or_52) {
    const uint8_t full[4] = {0, 0, 80, 0};
    const uint8_t last[4] = {0, 0, 80, 52};
    const uint8_t past[4] = {0, 0, 10, 11};
    CHECK(walkie::rowPieceLengthOk(full, 4 + 52));
    CHECK(!walkie::rowPieceLengthOk(full, 4 + 51));
    CHECK(walkie::rowPieceLengthOk(last, 4 + 28));
    CHECK(!walkie::rowPieceLengthOk(last, 4 + 29));
    CHECK(!walkie::rowPieceLengthOk(past, 4));
}

TEST(a_payload_over_the_limit_is_not_encoded) {
    uint8_t payload[walkie::MAX_PAYLOAD + 1] = {0};
    uint8_t wire[walkie::MAX_WIRE + 2];
    CHECK_EQ(walkie::encodeFrame(walkie::MSG_ROW, 0, payload, walkie::MAX_PAYLOAD + 1, wire), 0);
}

TEST(an_overlong_frame_is_dropped_and_the_decoder_resynchronises) {
    FrameDecoder decoder;
    Bytes noise(200, 0x42);
    CHECK(decodeAll(decoder, noise).empty());
    CHECK(decoder.overflowed());
    Bytes next = HEARTBEAT_WIRE;
    next.insert(next.begin(), 0x00);  // the 0x00 ends the overlong frame
    CHECK_EQ(decodeAll(decoder, next).size(), 1u);
}

TEST(a_corrupted_byte_costs_only_the_frame_it_hits) {
    uint8_t wire[walkie::MAX_WIRE];
    const uint8_t hello = 1;
    uint8_t n = walkie::encodeFrame(walkie::MSG_HELLO, 0, &hello, 1, wire);
    for (uint8_t i = 0; i + 1 < n; i++) {
        for (uint8_t bit = 0; bit < 8; bit++) {
            Bytes bytes(wire, wire + n);
            bytes[i] ^= (uint8_t)(1 << bit);
            bytes.insert(bytes.end(), HEARTBEAT_WIRE.begin(), HEARTBEAT_WIRE.end());
            FrameDecoder decoder;
            std::vector<Decoded> frames = decodeAll(decoder, bytes);
            // A flipped bit may even turn a byte into 0x00 (splitting the
            // frame), yet no damaged HELLO gets through and the next frame does.
            CHECK_EQ(frames.size(), 1u);
            if (frames.size() == 1) CHECK_EQ(frames[0].type, walkie::MSG_HEARTBEAT);
        }
    }
}
