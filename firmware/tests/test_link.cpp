// Link tests: the board's side of the serial protocol, frames in and out.
#include <string.h>

#include <string>

#include "check.h"
#include "codec.h"
#include "display.h"
#include "link.h"

using namespace walkie;

namespace {

struct Sent {
    uint8_t type, seq;
    std::vector<uint8_t> payload;
};

std::vector<Sent> sent;
FrameDecoder sentDecoder;

void capture(const uint8_t* data, uint8_t len) {
    for (uint8_t i = 0; i < len; i++) {
        if (sentDecoder.feed(data[i])) {
            const Frame& f = sentDecoder.frame();
            sent.push_back(Sent{f.type, f.seq, std::vector<uint8_t>(f.payload, f.payload + f.len)});
        }
    }
}

// A board: the link and its display, as the sketch wires them.
struct Board {
    Display display;
    Link link;
    uint32_t now;
    explicit Board(uint32_t start = 0) : link(display, capture), now(start) {
        sent.clear();
        sentDecoder.reset();
        link.begin(0x02, now);
    }
    void receive(uint8_t type, uint8_t seq, const std::vector<uint8_t>& payload) {
        uint8_t wire[MAX_WIRE];
        uint8_t n = encodeFrame(type, seq, payload.data(), (uint8_t)payload.size(), wire);
        FrameDecoder decoder;
        for (uint8_t i = 0; i < n; i++) {
            if (decoder.feed(wire[i])) link.onFrame(decoder.frame(), now);
        }
    }
    void hello() { receive(MSG_HELLO, 0, std::vector<uint8_t>(1, PROTO_VERSION)); }
    void row(uint8_t seq, uint8_t r, const std::string& text) {
        std::vector<uint8_t> p;
        p.push_back(r);
        p.push_back(0);
        p.push_back((uint8_t)text.size());
        p.push_back(0);
        p.insert(p.end(), text.begin(), text.end());
        receive(MSG_ROW, seq, p);
    }
    void ack(uint8_t seq) { receive(MSG_ACK, seq, std::vector<uint8_t>()); }
    // Lets time pass, polling every millisecond like loop() does.
    void run(uint32_t ms) {
        for (uint32_t i = 0; i < ms; i++) {
            now++;
            link.poll(now);
        }
    }
    std::string text(uint8_t r) const {
        return std::string((const char*)display.rowText(r), display.rowLength(r));
    }
};

std::vector<Sent> take() {
    std::vector<Sent> out;
    out.swap(sent);
    return out;
}

int count(const std::vector<Sent>& frames, uint8_t type) {
    int n = 0;
    for (const Sent& s : frames) n += s.type == type;
    return n;
}

}  // namespace

TEST(a_reset_is_announced_with_a_boot_info_and_waiting_for_pi) {
    Board board;
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_INFO);
    const uint8_t expect[] = {1, WALKIE_FW_MAJOR, WALKIE_FW_MINOR, LCD_COLS, LCD_ROWS,
                              INFO_FLAG_BOOT, 0x02};
    CHECK(out[0].payload == std::vector<uint8_t>(expect, expect + 7));
    CHECK_EQ(board.text(0), std::string("waiting for Pi"));
    CHECK_EQ(board.link.state(), LINK_WAITING);
}

TEST(a_reset_in_the_middle_of_a_frame_is_still_announced_at_once) {
    Board board;
    take();
    uint8_t wire[MAX_WIRE];
    uint8_t n = encodeFrame(MSG_HEARTBEAT, 0, nullptr, 0, wire);
    capture(wire, (uint8_t)(n / 2));  // the frame the reset cut short
    board.link.begin(0x02, board.now);  // the sketch starting again
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_INFO);
}

TEST(nothing_is_sent_before_the_first_hello) {
    Board board;
    take();
    board.run(10000);
    CHECK(take().empty());
    CHECK_EQ(board.text(0), std::string("waiting for Pi"));
}

TEST(a_hello_gets_an_info_without_boot_and_brings_the_link_up) {
    Board board;
    take();
    board.hello();
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_INFO);
    CHECK_EQ(out[0].payload[3], LCD_COLS);
    CHECK_EQ(out[0].payload[4], LCD_ROWS);
    CHECK_EQ(out[0].payload[5], 0);
    CHECK_EQ(board.link.state(), LINK_UP);
    CHECK_EQ(board.text(0), std::string(""));
}

TEST(a_row_is_applied_and_acknowledged) {
    Board board;
    board.hello();
    take();
    board.row(0, 0, "dave: hello");
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_ACK);
    CHECK_EQ(out[0].seq, 0);
    CHECK_EQ(board.text(0), std::string("dave: hello"));
}

TEST(a_duplicate_row_is_acknowledged_again_but_not_applied) {
    Board board;
    board.hello();
    board.row(0, 0, "first");
    take();
    board.row(0, 0, "second");  // same seq: its ack was lost
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_ACK);
    CHECK_EQ(out[0].seq, 0);
    CHECK_EQ(board.text(0), std::string("first"));
}

TEST(a_row_from_the_future_is_ignored_without_an_ack) {
    Board board;
    board.hello();
    take();
    board.row(1, 0, "too early");
    CHECK(take().empty());
    CHECK_EQ(board.text(0), std::string(""));
    board.row(0, 0, "in order");
    board.row(1, 0, "next");
    CHECK_EQ(take().size(), 2u);
    CHECK_EQ(board.text(0), std::string("next"));
}

TEST(sequence_numbers_wrap_from_255_to_0) {
    Board board;
    board.hello();
    for (int i = 0; i < 300; i++) board.row((uint8_t)i, 0, std::string(1, (char)('a' + i % 26)));
    std::vector<Sent> out = take();
    CHECK_EQ(count(out, MSG_ACK), 300);
    CHECK_EQ(board.text(0), std::string(1, (char)('a' + 299 % 26)));
}

TEST(an_invalid_row_is_acknowledged_but_ignored) {
    Board board;
    board.hello();
    take();
    board.row(0, LCD_ROWS, "no such row");
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_ACK);
    board.row(1, 0, "fine");
    CHECK_EQ(board.text(0), std::string("fine"));
}

TEST(rows_before_the_handshake_are_ignored) {
    Board board;
    take();
    board.row(0, 0, "stale");
    CHECK(take().empty());
    CHECK_EQ(board.text(0), std::string("waiting for Pi"));
}

TEST(a_heartbeat_goes_out_after_a_second_of_silence) {
    Board board;
    board.hello();
    take();
    board.run(999);
    CHECK(take().empty());
    board.run(1);
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_HEARTBEAT);
}

TEST(silence_for_3_s_shows_pi_link_lost_and_a_hello_recovers) {
    Board board;
    board.hello();
    board.row(0, 1, "keep me");
    for (int i = 0; i < 5; i++) {  // heartbeats keep the link up
        board.run(900);
        board.receive(MSG_HEARTBEAT, 0, std::vector<uint8_t>());
    }
    CHECK_EQ(board.link.state(), LINK_UP);
    board.run(2999);
    CHECK_EQ(board.link.state(), LINK_UP);
    board.run(1);
    CHECK_EQ(board.link.state(), LINK_LOST);
    CHECK_EQ(board.text(0), std::string("Pi link lost"));
    if (LCD_ROWS > 1) CHECK_EQ(board.text(1), std::string("keep me"));
    take();
    board.run(5000);
    CHECK(take().empty());  // no heartbeats while lost
    board.hello();
    CHECK_EQ(board.link.state(), LINK_UP);
    CHECK_EQ(take()[0].type, MSG_INFO);
}

TEST(a_button_change_is_sent_reliably_with_retries_every_60_ms) {
    Board board(1000);
    board.hello();
    take();
    board.link.buttonChanged(true, board.now);
    board.run(1);
    std::vector<Sent> out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].type, MSG_BUTTON);
    CHECK_EQ(out[0].seq, 0);
    const uint8_t press[] = {1, 1000 >> 8, 1000 & 0xFF};
    CHECK(out[0].payload == std::vector<uint8_t>(press, press + 3));
    board.run(59);
    CHECK(take().empty());
    board.run(1);
    out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].seq, 0);
    CHECK(out[0].payload == std::vector<uint8_t>(press, press + 3));  // same board_ms
    board.ack(0);
    board.run(200);
    CHECK_EQ(count(take(), MSG_BUTTON), 0);
}

TEST(button_changes_queue_behind_the_one_in_flight) {
    Board board;
    board.hello();
    take();
    board.link.buttonChanged(true, board.now);
    board.run(1);
    board.link.buttonChanged(false, board.now);
    board.run(1);
    std::vector<Sent> out = take();
    CHECK_EQ(count(out, MSG_BUTTON), 1);
    board.ack(0);
    board.run(1);
    out = take();
    CHECK_EQ(out.size(), 1u);
    CHECK_EQ(out[0].seq, 1);
    CHECK_EQ(out[0].payload[0], 0);
}

TEST(the_button_queue_is_bounded_and_ends_in_the_real_state) {
    Board board;
    board.hello();
    take();
    bool pressed = false;
    for (int i = 0; i < 11; i++) {
        pressed = !pressed;
        board.link.buttonChanged(pressed, board.now);
        board.run(1);
        CHECK(board.link.queuedButtons() <= 1 + BUTTON_QUEUE);
    }
    // Ack everything and collect the reported states.
    std::vector<uint8_t> states;
    for (int i = 0; i < 10 && board.link.queuedButtons(); i++) {
        std::vector<Sent> out = take();
        for (const Sent& s : out) {
            if (s.type == MSG_BUTTON) {
                states.push_back(s.payload[0]);
                board.ack(s.seq);
            }
        }
        board.run(1);
    }
    CHECK(!states.empty());
    CHECK_EQ(states.back(), pressed ? 1 : 0);
    for (size_t i = 1; i < states.size(); i++) CHECK(states[i] != states[i - 1]);
}

TEST(a_hello_drops_old_button_changes_and_reports_a_held_button) {
    Board board;
    board.hello();
    board.link.buttonChanged(true, board.now);
    board.link.buttonChanged(false, board.now);
    board.link.buttonChanged(true, board.now);
    take();
    board.hello();
    board.run(1);
    std::vector<Sent> out = take();
    CHECK_EQ(count(out, MSG_BUTTON), 1);
    CHECK_EQ(out.back().type, MSG_BUTTON);
    CHECK_EQ(out.back().seq, 0);
    CHECK_EQ(out.back().payload[0], 1);
}

TEST(timers_survive_the_millis_rollover) {
    Board board(0xFFFFF000u);
    board.hello();
    take();
    int heartbeats = 0;
    for (int i = 0; i < 16; i++) {  // 8 s across the wrap, the Pi heartbeating
        board.run(500);
        board.receive(MSG_HEARTBEAT, 0, std::vector<uint8_t>());
        heartbeats += count(take(), MSG_HEARTBEAT);
    }
    CHECK(board.now < 0xFFFFF000u);
    CHECK_EQ(heartbeats, 8);
    CHECK_EQ(board.link.state(), LINK_UP);
    board.run(2999);
    CHECK_EQ(board.link.state(), LINK_UP);
    board.run(1);
    CHECK_EQ(board.link.state(), LINK_LOST);
}
