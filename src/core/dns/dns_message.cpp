#include "core/dns/dns_message.h"

#include <algorithm>
#include <optional>
#include <string_view>

namespace tsnitch {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameWire = 255;    // RFC 1035 §2.3.4, length bytes and the final 0 included
constexpr unsigned kMaxPointers = 127;  // a name has at most 127 labels; more jumps is an attack
constexpr unsigned kMaxCnameHops = 16;
constexpr uint16_t kClassIn = 1;

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return static_cast<uint16_t>((m[at] << 8) | m[at + 1]);
}

uint32_t get32(std::span<const uint8_t> m, size_t at) {
    return (uint32_t{m[at]} << 24) | (uint32_t{m[at + 1]} << 16) | (uint32_t{m[at + 2]} << 8) |
           uint32_t{m[at + 3]};
}

std::string at_offset(size_t at) {
    return " at offset " + std::to_string(at);
}

// A name read from the message: its text, and where the bytes after it start.
struct Name {
    std::string text;
    size_t end = 0;
};

// Reads the (possibly compressed) name at `at`. Each pointer must point before every byte of the
// name read so far (to a name written earlier), so positions only go down and loops can't happen;
// the jump count bounds the work per name.
Result<Name> read_name(std::span<const uint8_t> m, size_t at) {
    Name out;
    size_t pos = at;
    size_t lowest = at;         // the lowest offset read so far
    std::optional<size_t> end;  // set at the first pointer: the name in place ends after it
    size_t wire = 0;
    unsigned pointers = 0;
    for (;;) {
        if (pos >= m.size()) return make_error("name truncated" + at_offset(pos));
        const uint8_t len = m[pos];
        if ((len & 0xc0) == 0xc0) {
            if (pos + 1 >= m.size()) return make_error("name pointer truncated" + at_offset(pos));
            const size_t target = get16(m, pos) & 0x3fff;
            if (target >= lowest) return make_error("name pointer not backwards" + at_offset(pos));
            if (++pointers > kMaxPointers)
                return make_error("too many name pointers" + at_offset(at));
            if (!end) end = pos + 2;
            pos = lowest = target;
            continue;
        }
        if (len & 0xc0) return make_error("unknown label type" + at_offset(pos));
        wire += len + 1u;
        if (wire > kMaxNameWire) return make_error("name longer than 255 bytes" + at_offset(at));
        if (len == 0) break;
        if (pos + 1 + len > m.size()) return make_error("label truncated" + at_offset(pos));
        if (!out.text.empty()) out.text += '.';
        for (size_t i = pos + 1; i <= pos + len; ++i) {
            const char c = static_cast<char>(m[i]);
            if (c >= 'A' && c <= 'Z') {
                out.text += static_cast<char>(c - 'A' + 'a');
            } else if (c == '.' || c == '\\') {
                out.text += '\\';
                out.text += c;
            } else {
                out.text += c;
            }
        }
        pos += 1 + len;
    }
    if (out.text.empty()) out.text = ".";
    out.end = end ? *end : pos + 1;
    return out;
}

struct Record {
    std::string owner;
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    size_t rdata = 0;  // offset of the data
    uint16_t rdlength = 0;
};

Result<Record> read_record(std::span<const uint8_t> m, size_t& pos) {
    auto owner = read_name(m, pos);
    if (!owner) return owner.error();
    Record r;
    r.owner = std::move(owner->text);
    pos = owner->end;
    if (pos + 10 > m.size()) return make_error("record header truncated" + at_offset(pos));
    r.type = get16(m, pos);
    r.klass = get16(m, pos + 2);
    r.ttl = get32(m, pos + 4);
    if (r.ttl > 0x7fffffffu) r.ttl = 0;  // RFC 2181 §8: a TTL with the top bit set means zero
    r.rdlength = get16(m, pos + 8);
    r.rdata = pos + 10;
    if (r.rdata + r.rdlength > m.size())
        return make_error("record data of " + std::to_string(r.rdlength) + " bytes truncated" +
                          at_offset(r.rdata));
    pos = r.rdata + r.rdlength;
    return r;
}

Error in_message(const DnsMessage& msg, std::string_view part, const Error& e) {
    return make_error("DNS message id " + std::to_string(msg.id) + ": " + std::string(part) + ": " +
                      e.message);
}

// The question's name and every name its CNAME chain leads to, each with the smallest TTL of the
// links that lead there (the question itself: no limit).
std::vector<std::pair<std::string, uint32_t>> cname_chain(
    const std::string& qname, const std::vector<std::pair<Record, std::string>>& cnames) {
    std::vector<std::pair<std::string, uint32_t>> chain{{qname, UINT32_MAX}};
    for (unsigned hop = 0; hop < kMaxCnameHops; ++hop) {
        const std::string name = chain.back().first;
        const uint32_t ttl = chain.back().second;
        auto link = std::find_if(cnames.begin(), cnames.end(),
                                 [&](const auto& c) { return c.first.owner == name; });
        if (link == cnames.end()) break;
        const std::string& target = link->second;
        if (std::any_of(chain.begin(), chain.end(),
                        [&](const auto& c) { return c.first == target; }))
            break;  // a CNAME loop: what the chain has so far still counts
        chain.emplace_back(target, std::min(ttl, link->first.ttl));
    }
    return chain;
}

}  // namespace

Result<DnsMessage> parse_dns_message(std::span<const uint8_t> m) {
    DnsMessage msg;
    if (m.size() < kHeaderSize)
        return make_error("DNS message: " + std::to_string(m.size()) +
                          " bytes, shorter than the 12-byte header");
    msg.id = get16(m, 0);
    const uint16_t flags = get16(m, 2);
    msg.is_response = flags & 0x8000;
    msg.opcode = (flags >> 11) & 0x0f;
    msg.truncated = flags & 0x0200;
    msg.rcode = flags & 0x000f;
    const uint16_t qdcount = get16(m, 4);
    const uint16_t ancount = get16(m, 6);

    size_t pos = kHeaderSize;
    for (unsigned i = 0; i < qdcount; ++i) {
        auto name = read_name(m, pos);
        if (!name) return in_message(msg, "question " + std::to_string(i + 1), name.error());
        pos = name->end;
        if (pos + 4 > m.size())
            return in_message(msg, "question " + std::to_string(i + 1),
                              make_error("type and class truncated" + at_offset(pos)));
        if (i == 0) {
            msg.qname = std::move(name->text);
            msg.qtype = get16(m, pos);
        }
        pos += 4;
    }

    std::vector<std::pair<Record, std::string>> cnames;  // record, target name
    std::vector<std::pair<Record, IpAddress>> addresses;
    for (unsigned i = 0; i < ancount; ++i) {
        const std::string part =
            "answer " + std::to_string(i + 1) + " of " + std::to_string(ancount);
        auto rec = read_record(m, pos);
        if (!rec) return in_message(msg, part, rec.error());
        if (rec->klass != kClassIn) continue;
        const auto rdata = m.subspan(rec->rdata, rec->rdlength);
        switch (rec->type) {
            case kDnsTypeA:
                if (rec->rdlength != 4)
                    return in_message(msg, part,
                                      make_error("A record of " + std::to_string(rec->rdlength) +
                                                 " bytes, expected 4"));
                addresses.emplace_back(*rec, IpAddress::v4_bytes(rdata.first<4>()));
                break;
            case kDnsTypeAaaa:
                if (rec->rdlength != 16)
                    return in_message(msg, part,
                                      make_error("AAAA record of " + std::to_string(rec->rdlength) +
                                                 " bytes, expected 16"));
                addresses.emplace_back(*rec, IpAddress::v6_bytes(rdata.first<16>()));
                break;
            case kDnsTypeCname: {
                // The target may point back into the message, but its own bytes stay in the record.
                auto target = read_name(m.first(rec->rdata + rec->rdlength), rec->rdata);
                if (!target) return in_message(msg, part + ": CNAME target", target.error());
                if (target->end != rec->rdata + rec->rdlength)
                    return in_message(msg, part,
                                      make_error("CNAME target shorter than its record"));
                cnames.emplace_back(*rec, std::move(target->text));
                break;
            }
            default:
                break;
        }
    }

    if (qdcount == 0) return msg;
    const auto chain = cname_chain(msg.qname, cnames);
    for (const auto& [rec, address] : addresses) {
        for (const auto& [name, ttl] : chain) {
            if (rec.owner != name) continue;
            msg.answers.push_back({address, msg.qname, name, std::min(ttl, rec.ttl)});
            break;
        }
    }
    return msg;
}

Result<std::string> dns_query_name(std::span<const uint8_t> payload) {
    if (payload.size() < kHeaderSize)
        return make_error("DNS query: " + std::to_string(payload.size()) +
                          " bytes, shorter than the 12-byte header");
    if (payload[2] & 0x80) return make_error("DNS query: the message is a response");
    if (get16(payload, 4) == 0) return make_error("DNS query: no question");
    auto name = read_name(payload, kHeaderSize);
    if (!name)
        return make_error("DNS query id " + std::to_string(get16(payload, 0)) +
                          ": question 1: " + name.error().message);
    return std::move(name->text);
}

}  // namespace tsnitch
