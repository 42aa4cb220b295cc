// Parsing DNS messages as they pass the firewall, to learn which name an address was looked up by.
// Pure functions over the UDP payload (or one message of a TCP stream, without its length prefix):
// a truncated or malformed message gives an Error, never a read out of bounds.
//
// Names in text form: labels joined by '.', no trailing dot, the root as ".". ASCII letters are
// lower-cased (DNS compares names without case, and resolvers may randomise it). A '.' or '\'
// inside a label is written "\." / "\\" so that one label "github.com" can't pass for the two
// labels github + com. Any other byte is kept as it came: names are untrusted, show them only
// through printable_text (core/text.h; ASCII only for DNS names) or json_quote.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace tsnitch {

inline constexpr uint16_t kDnsTypeA = 1, kDnsTypeCname = 5, kDnsTypeAaaa = 28;

// One address the answer gives for the question.
struct DnsAnswer {
    IpAddress address;
    // The name asked for: what the program looked up and the person knows (github.com), also when
    // the address record sits at the end of a CNAME chain (lb-140-82-121-4-fra.github.com).
    // Rules match it (dest.host) and prompts show it, as OpenSnitch does.
    std::string name;
    // The owner of the A/AAAA record, the end of the chain; equal to `name` without CNAMEs.
    std::string canonical;
    // Seconds; the smallest TTL along the chain, since the mapping holds only while every link
    // does.
    uint32_t ttl = 0;
};

struct DnsMessage {
    uint16_t id = 0;
    bool is_response = false;  // QR bit
    uint8_t opcode = 0;
    uint8_t rcode = 0;
    bool truncated = false;  // TC bit: a UDP answer cut short; the records present still count
    // The first question (messages with none have an empty qname).
    std::string qname;
    uint16_t qtype = 0;
    // A and AAAA records of class IN reached from qname through the CNAME records of the answer
    // section; records of other names are ignored, so an answer can only name addresses for the
    // question it answers.
    std::vector<DnsAnswer> answers;
};

// Parses header, questions and the answer section (authority and additional records are not read).
// Record types other than A, AAAA and CNAME are skipped by their length.
Result<DnsMessage> parse_dns_message(std::span<const uint8_t> message);

// For a packet to port 53, the name it asks for, which becomes the connection's destination host.
// `payload` is the UDP payload of a query (QR = 0, at least one question).
Result<std::string> dns_query_name(std::span<const uint8_t> payload);

}  // namespace tsnitch
