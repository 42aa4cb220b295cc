#include <doctest/doctest.h>

#include <vector>

#include "core/dns/dns_tcp.h"
#include "dns_test_util.h"

using namespace dns_test;
using tsnitch::DnsTcpStream;
using tsnitch::split_dns_tcp;

namespace {

std::vector<uint8_t> message(std::string_view name) {
    Wire w;
    w.header(1, 0x8180, 1, 0).question(name);
    return w.b;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::vector<uint8_t> framed(const std::vector<uint8_t>& m) {
    return Wire{m}.tcp();
}

}  // namespace

TEST_CASE("one segment with two whole messages and the start of a third") {
    const auto a = message("a.test"), b = message("bb.test"), c = message("ccc.test");
    const auto c_framed = framed(c);
    auto segment = concat({framed(a), framed(b)});
    segment.insert(segment.end(), c_framed.begin(), c_framed.begin() + 7);
    auto split = split_dns_tcp(segment);
    REQUIRE(split.messages.size() == 2);
    CHECK(std::vector<uint8_t>(split.messages[0].begin(), split.messages[0].end()) == a);
    CHECK(std::vector<uint8_t>(split.messages[1].begin(), split.messages[1].end()) == b);
    CHECK(split.incomplete == 7);
}

TEST_CASE("a lone length byte, or a prefix without its message, is incomplete") {
    CHECK(split_dns_tcp(std::vector<uint8_t>{0}).incomplete == 1);
    CHECK(split_dns_tcp(std::vector<uint8_t>{0, 20, 1, 2}).incomplete == 4);
    CHECK(split_dns_tcp(std::vector<uint8_t>{}).messages.empty());
    auto empty = split_dns_tcp(std::vector<uint8_t>{0, 0});  // a zero-length message
    CHECK(empty.messages.size() == 1);
    CHECK(empty.incomplete == 0);
}

TEST_CASE("a message split over segments comes out whole once its last byte arrives") {
    const auto a = message("split.example.test"), b = message("next.test");
    const auto stream_bytes = concat({framed(a), framed(b)});
    for (size_t cut = 1; cut < stream_bytes.size(); ++cut) {
        CAPTURE(cut);
        DnsTcpStream s;
        const uint32_t seq = 0xfffffff0u;  // wraps in the middle
        auto first = s.feed(seq, std::span(stream_bytes).first(cut));
        auto second =
            s.feed(seq + static_cast<uint32_t>(cut), std::span(stream_bytes).subspan(cut));
        first.insert(first.end(), second.begin(), second.end());
        REQUIRE(first.size() == 2);
        CHECK(first[0] == a);
        CHECK(first[1] == b);
        CHECK_FALSE(s.lost());
    }
}

TEST_CASE("retransmitted bytes are not read twice") {
    const auto a = message("a.test"), b = message("b.test");
    const auto bytes = concat({framed(a), framed(b)});
    DnsTcpStream s;
    CHECK(s.feed(1000, std::span(bytes).first(10)).empty());
    CHECK(s.feed(1000, std::span(bytes).first(10)).empty());  // the same segment again
    // Overlapping: 5 old bytes, then the rest.
    auto out = s.feed(1005, std::span(bytes).subspan(5));
    REQUIRE(out.size() == 2);
    CHECK(out[0] == a);
    CHECK(out[1] == b);
    CHECK(s.feed(1000, bytes).empty());  // all of it again
}

TEST_CASE("after a gap the stream gives nothing rather than misread messages") {
    const auto a = message("a.test"), b = message("b.test");
    const auto bytes = concat({framed(a), framed(b)});
    DnsTcpStream s;
    CHECK(s.feed(1, std::span(bytes).first(3)).empty());
    CHECK(s.feed(1 + 10, std::span(bytes).subspan(10)).empty());  // bytes 3..9 missing
    CHECK(s.lost());
    CHECK(s.feed(1 + 3, std::span(bytes).subspan(3)).empty());
}
