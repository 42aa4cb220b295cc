#include "nfq/ruleset.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "nfq/marks.h"

namespace tsnitch::nfq {

namespace {

struct Rule {
    std::string table;
    std::string chain;
    std::string spec;  // after "-A CHAIN "
};

struct Jump {
    std::string table;
    std::string from;
    std::string to;
};

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

std::string mark_match(std::string_view module, uint32_t value) {
    return "-m " + std::string(module) + " --mark " + hex(value) + "/" + hex(kMarkMask);
}

std::vector<Jump> jumps() {
    return {{"mangle", "OUTPUT", std::string(kChainOut)},
            {"mangle", "INPUT", std::string(kChainIn)},
            {"mangle", "POSTROUTING", std::string(kChainFallback)},
            {"filter", "OUTPUT", std::string(kChainVerdict)}};
}

// The NFQUEUE target: one queue, or one per CPU.
std::string nfqueue_target(const FirewallSpec& s) {
    if (s.queue_count <= 1) return "-j NFQUEUE --queue-num " + std::to_string(s.queue_num);
    return "-j NFQUEUE --queue-balance " + std::to_string(s.queue_num) + ":" +
           std::to_string(s.queue_num + s.queue_count - 1) + " --queue-cpu-fanout";
}

std::vector<Rule> rules(const FirewallSpec& s, Family f) {
    const std::string queue = nfqueue_target(s);
    const std::string bypass = s.queue_bypass ? " --queue-bypass" : "";
    const std::string out = std::string(kChainOut), in = std::string(kChainIn),
                      verdict = std::string(kChainVerdict), fallback = std::string(kChainFallback);
    std::vector<Rule> r;
    if (!s.intercept_loopback) r.push_back({"mangle", out, "-o lo -j RETURN"});
    // The kernel path's decisions (DESIGN.md §8a), just before the rules that queue: for TCP
    // every SYN (as the queue sees them), for UDP the new flows. The programs run only for the
    // packets that would be queued.
    const auto kernel_path = [&](const std::string& match) {
        if (!s.kernel_pass_pin.empty())
            r.push_back({"mangle", out,
                         match + " -m bpf --object-pinned " + s.kernel_pass_pin + " -j RETURN"});
        if (!s.kernel_drop_pin.empty())
            r.push_back({"mangle", out,
                         match + " -m bpf --object-pinned " + s.kernel_drop_pin + " -j DROP"});
    };
    kernel_path("-p tcp -m tcp --syn");
    // Every SYN is a new connection to decide, whatever its conntrack entry says: a connection
    // that reuses the ports of a closed one can take over that entry (TIME_WAIT -> SYN_SENT)
    // with its state and its allow mark.
    r.push_back({"mangle", out, "-p tcp -m tcp --syn " + queue + bypass});
    r.push_back({"mangle", out, mark_match("connmark", kMarkAllow) + " -j RETURN"});
    kernel_path("-p udp -m conntrack --ctstate NEW,RELATED");
    r.push_back({"mangle", out, "-m conntrack --ctstate NEW,RELATED " + queue + bypass});
    // DNS answers are only read, never held back: without a reader they pass. Only replies to
    // queries sent from here (ESTABLISHED), so a forged answer can't name addresses.
    const std::string answer = " -m conntrack --ctstate ESTABLISHED " + queue + " --queue-bypass";
    r.push_back({"mangle", in, "-p udp -m udp --sport 53" + answer});
    r.push_back({"mangle", in, "-p tcp -m tcp --sport 53" + answer});
    r.push_back({"filter", verdict,
                 mark_match("mark", kMarkAllow) + " -j CONNMARK --save-mark --nfmask " +
                     hex(kMarkMask) + " --ctmask " + hex(kMarkMask)});
    r.push_back(
        {"filter", verdict,
         "-p tcp " + mark_match("mark", kMarkReject) + " -j REJECT --reject-with tcp-reset"});
    r.push_back({"filter", verdict,
                 mark_match("mark", kMarkReject) + " -j REJECT --reject-with " +
                     (f == Family::v4 ? "icmp-port-unreachable" : "icmp6-port-unreachable")});
    // A reject that filter OUTPUT did not answer (its rules flushed, or a rule ahead of ours
    // accepted the packet) still must not get out: dropped here, in a later hook. A working
    // REJECT drops the packet before it gets here; the RST or ICMP error it sends is a reply
    // (conntrack direction REPLY), so even with fwmark_reflect it is not caught.
    r.push_back({"mangle", fallback,
                 mark_match("mark", kMarkReject) + " -m conntrack --ctdir ORIGINAL -j DROP"});
    return r;
}

bool is_ours(std::string_view chain) {
    return chain.starts_with("TSNITCH-");
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> w;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        const size_t start = i;
        while (i < line.size() && line[i] != ' ')
            ++i;
        if (i > start) w.push_back(line.substr(start, i - start));
    }
    return w;
}

// Tables named in a state or in our rules, in a stable order.
std::set<std::string> tables_of(const IptablesState& existing) {
    std::set<std::string> t{"mangle", "filter"};
    for (const auto& [key, n] : existing.chains)
        t.insert(key.substr(0, key.find('/')));
    for (const auto& [key, n] : existing.jumps)
        t.insert(key.substr(0, key.find('/')));
    return t;
}

// Lines that remove what `existing` shows in `table`: jumps deleted, chains flushed.
void removal_lines(const IptablesState& existing, const std::string& table, std::string& out,
                   std::vector<std::string>& declared) {
    for (const auto& [key, n] : existing.chains) {
        if (key.substr(0, key.find('/')) != table) continue;
        const std::string chain = key.substr(key.find('/') + 1);
        out += ":" + chain + " - [0:0]\n";
        declared.push_back(chain);
    }
    for (const auto& [key, n] : existing.jumps) {
        const size_t a = key.find('/'), b = key.find('/', a + 1);
        if (key.substr(0, a) != table) continue;
        for (int i = 0; i < n; ++i)
            out += "-D " + key.substr(a + 1, b - a - 1) + " -j " + key.substr(b + 1) + "\n";
    }
}

}  // namespace

namespace {
bool is_iptables_table(std::string_view name) {
    for (std::string_view t : {"filter", "nat", "mangle", "raw", "security"})
        if (name == t) return true;
    return false;
}
}  // namespace

IptablesState parse_iptables_save(std::string_view text) {
    IptablesState st;
    std::string table;
    std::map<std::string, int> rules_before;  // "mangle/OUTPUT" -> rules seen in it so far
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.starts_with("*")) {
            // Only the tables iptables has: a name of anything else (a '/' in it would split the
            // "table/chain" keys wrongly) names nothing of ours, and its chains are skipped.
            table = std::string(line.substr(1));
            if (!is_iptables_table(table)) table.clear();
        } else if (table.empty()) {
            continue;
        } else if (line.starts_with(":")) {
            const auto w = words(line.substr(1));
            if (!w.empty() && is_ours(w[0])) st.chains[table + "/" + std::string(w[0])] += 0;
        } else if (line.starts_with("-A ")) {
            const auto w = words(line);
            if (w.size() < 2) continue;
            if (is_ours(w[1])) {
                st.chains[table + "/" + std::string(w[1])] += 1;
                continue;
            }
            const std::string chain = table + "/" + std::string(w[1]);
            if (w.size() == 4 && w[2] == "-j" && is_ours(w[3])) {
                // Only the bare jumps we add; a rule of someone else's that happens to jump to
                // our chain is not ours to delete.
                const std::string jump = chain + "/" + std::string(w[3]);
                if (st.jumps[jump]++ == 0 && rules_before[chain] != 0) st.misplaced.insert(jump);
            }
            ++rules_before[chain];
        }
    }
    return st;
}

IptablesState iptables_expected_state(const FirewallSpec& spec) {
    IptablesState st;
    for (const auto& j : jumps())
        st.jumps[j.table + "/" + j.from + "/" + j.to] = 1;
    for (const auto& r : rules(spec, Family::v4))
        st.chains[r.table + "/" + r.chain] += 1;
    return st;
}

std::string iptables_install_script(const FirewallSpec& spec, Family family,
                                    const IptablesState& existing) {
    const auto want = rules(spec, family);
    std::string out;
    for (const auto& table : tables_of(existing)) {
        out += "*" + table + "\n";
        std::vector<std::string> declared;
        removal_lines(existing, table, out, declared);
        std::set<std::string> used;
        for (const auto& j : jumps())
            if (j.table == table) used.insert(j.to);
        for (const auto& chain : used) {
            if (std::find(declared.begin(), declared.end(), chain) == declared.end())
                out += ":" + chain + " - [0:0]\n";
        }
        // Chains of an older layout that we no longer use.
        for (const auto& chain : declared)
            if (!used.contains(chain)) out += "-X " + chain + "\n";
        for (const auto& j : jumps())
            if (j.table == table) out += "-I " + j.from + " 1 -j " + j.to + "\n";
        for (const auto& r : want)
            if (r.table == table) out += "-A " + r.chain + " " + r.spec + "\n";
        out += "COMMIT\n";
    }
    return out;
}

std::string iptables_remove_script(const IptablesState& existing) {
    std::string out;
    for (const auto& table : tables_of(existing)) {
        std::string body;
        std::vector<std::string> declared;
        removal_lines(existing, table, body, declared);
        if (body.empty()) continue;
        for (const auto& chain : declared)
            body += "-X " + chain + "\n";
        out += "*" + table + "\n" + body + "COMMIT\n";
    }
    return out;
}

std::string nft_install_script(const FirewallSpec& s) {
    const std::string t = std::string(kNftTable);
    const bool fanout = s.queue_count > 1;
    const std::string queue =
        "queue num " + std::to_string(s.queue_num) +
        (fanout ? "-" + std::to_string(s.queue_num + s.queue_count - 1) : std::string());
    const std::string mask = hex(kMarkMask);
    std::string out;
    // Declaring the table first makes the delete succeed when it does not exist yet; the file is
    // one transaction, so the old table is replaced atomically.
    out += "table inet " + t + "\ndelete table inet " + t + "\n";
    out += "table inet " + t + " {\n";
    out += "  chain out {\n    type route hook output priority mangle; policy accept;\n";
    if (!s.ipv6) out += "    meta nfproto ipv6 return\n";
    if (!s.intercept_loopback) out += "    oifname \"lo\" return\n";
    std::string flags;
    if (s.queue_bypass) flags = "bypass";
    if (fanout) flags += flags.empty() ? "fanout" : ",fanout";
    if (!flags.empty()) flags = " " + flags;
    out += "    tcp flags & (fin|syn|rst|ack) == syn " + queue + flags + "\n";
    out += "    ct mark and " + mask + " == " + hex(kMarkAllow) + " return\n";
    out += "    ct state new,related " + queue + flags + "\n  }\n";
    out += "  chain in {\n    type filter hook input priority mangle; policy accept;\n";
    if (!s.ipv6) out += "    meta nfproto ipv6 return\n";
    const std::string answer_flags = fanout ? " bypass,fanout" : " bypass";
    out += "    ct state established udp sport 53 " + queue + answer_flags + "\n";
    out += "    ct state established tcp sport 53 " + queue + answer_flags + "\n  }\n";
    out += "  chain verdict {\n    type filter hook output priority filter; policy accept;\n";
    out += "    meta mark and " + mask + " == " + hex(kMarkAllow) + " ct mark set ct mark and " +
           hex(~kMarkMask) + " or " + hex(kMarkAllow) + "\n";
    out += "    meta mark and " + mask + " == " + hex(kMarkReject) +
           " meta l4proto tcp reject with tcp reset\n";
    out += "    meta mark and " + mask + " == " + hex(kMarkReject) +
           " reject with icmpx port-unreachable\n  }\n";
    out += "  chain fallback {\n    type filter hook postrouting priority mangle; policy accept;\n";
    out +=
        "    meta mark and " + mask + " == " + hex(kMarkReject) + " ct direction original drop\n";
    out += "  }\n}\n";
    return out;
}

std::string nft_remove_script() {
    const std::string t = std::string(kNftTable);
    return "table inet " + t + "\ndelete table inet " + t + "\n";
}

}  // namespace tsnitch::nfq
