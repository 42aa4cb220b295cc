// Building DNS messages byte by byte for the tests, so each test shows the wire form it feeds in.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace dns_test {

inline constexpr uint16_t kA = 1, kCname = 5, kMx = 15, kTxt = 16, kAaaa = 28, kIn = 1;

struct Wire {
    std::vector<uint8_t> b;

    size_t size() const { return b.size(); }
    Wire& u8(unsigned v) {
        b.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    Wire& u16(unsigned v) { return u8(v >> 8).u8(v); }
    Wire& u32(uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
    Wire& bytes(std::initializer_list<uint8_t> v) {
        b.insert(b.end(), v);
        return *this;
    }
    // Labels of a dotted name, then the root (or a pointer when `then_pointer` is given).
    Wire& labels(std::string_view dotted) {
        while (!dotted.empty()) {
            const size_t dot = dotted.find('.');
            const std::string_view label = dotted.substr(0, dot);
            u8(label.size());
            b.insert(b.end(), label.begin(), label.end());
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return *this;
    }
    Wire& name(std::string_view dotted) { return labels(dotted).u8(0); }
    Wire& pointer(size_t offset) { return u16(0xc000 | offset); }
    Wire& header(uint16_t id, uint16_t flags, unsigned qd, unsigned an) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(0).u16(0);
    }
    Wire& response(unsigned an) { return header(0x4242, 0x8180, 1, an); }
    Wire& question(std::string_view dotted, uint16_t type = kA) {
        return name(dotted).u16(type).u16(kIn);
    }
    // Type, class, TTL and rdlength of a record whose owner was just written.
    Wire& record(uint16_t type, uint32_t ttl, unsigned rdlength, uint16_t klass = kIn) {
        return u16(type).u16(klass).u32(ttl).u16(rdlength);
    }
    // The length prefix of DNS over TCP.
    std::vector<uint8_t> tcp() const {
        std::vector<uint8_t> out{static_cast<uint8_t>(b.size() >> 8),
                                 static_cast<uint8_t>(b.size())};
        out.insert(out.end(), b.begin(), b.end());
        return out;
    }
};

inline constexpr size_t kQuestionName = 12;  // where the question's name starts
inline constexpr uint8_t kTcpAckPsh = 0x18;

}  // namespace dns_test
