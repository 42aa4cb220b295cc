#include "tests/tui/demo/script_player.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace tsnitch::tui::demo {

namespace {

// The first packet of `c` as the queue would hand it over: a TCP SYN, else a small datagram.
std::vector<uint8_t> packet_of(const Connection& c) {
    std::vector<uint8_t> l4 = {uint8_t(c.src_port >> 8), uint8_t(c.src_port),
                               uint8_t(c.dst_port >> 8), uint8_t(c.dst_port)};
    uint8_t proto = 17;
    if (c.protocol == Protocol::tcp) {
        proto = 6;
        const uint8_t rest[] = {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
        l4.insert(l4.end(), std::begin(rest), std::end(rest));
    } else {
        const uint8_t rest[] = {0, 10, 0, 0, 1, 2};  // length, checksum, 2 bytes of payload
        l4.insert(l4.end(), std::begin(rest), std::end(rest));
    }
    std::vector<uint8_t> b;
    const auto src = c.src.bytes();
    const auto dst = c.dst.bytes();
    if (c.dst.is_v4()) {
        const size_t total = 20 + l4.size();
        b = {0x45, 0, uint8_t(total >> 8), uint8_t(total), 0, 1, 0x40, 0, 64, proto, 0, 0};
    } else {
        b = {0x60, 0, 0, 0, uint8_t(l4.size() >> 8), uint8_t(l4.size()), proto, 64};
    }
    b.insert(b.end(), src.begin(), src.end());
    b.insert(b.end(), dst.begin(), dst.end());
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

DaemonOptions options_of(const Script& s) {
    DaemonOptions o;
    o.engine.default_action = s.default_action;
    o.engine.prompt_timeout_s = s.timeout_s;
    o.engine.interactive = true;
    o.status = s.status;
    return o;
}

std::string make_rules_dir(const std::string& parent) {
    std::string path = parent + "/tsnitch-tui-demo-rules-XXXXXX";
    return ::mkdtemp(path.data()) ? path : "";
}

RuleStoreOptions store_options(const std::string& dir) {
    RuleStoreOptions o;
    o.dir = dir;
    return o;
}

}  // namespace

Attribution ScriptPlayer::ScriptAttributor::attribute(const Connection& c) {
    std::lock_guard lock(mu);
    Attribution a;
    if (auto it = by_port.find(c.src_port); it != by_port.end()) {
        a.process = it->second.first;
        a.method = it->second.second;
    }
    return a;
}

std::optional<std::string> ScriptPlayer::ScriptNames::host_for(const IpAddress& a) {
    std::lock_guard lock(mu);
    for (const auto& [addr, name] : names)
        if (addr == a) return name;
    return std::nullopt;
}

ScriptPlayer::ScriptPlayer(Script script, const std::string& rules_parent)
    : script_(std::move(script)),
      rules_dir_(make_rules_dir(rules_parent)),
      rules_(store_options(rules_dir_)) {
    // Broken rule files as the script asks: real files that the store fails to read.
    if (script_.status.broken_rule_files > 0) {
        for (size_t i = 0; i < script_.status.broken_rule_files; ++i)
            std::ofstream(rules_dir_ + "/broken-" + std::to_string(i) + ".json") << "{";
        (void)rules_.load();
    }
    for (const Rule& r : script_.rules)
        (void)rules_.add(r);
    daemon_ = std::make_unique<Daemon>(options_of(script_), queue_, attributor_, rules_, &names_,
                                       processes_);
    daemon_->set_broken_rule_files(rules_.broken_files().size());
}

ScriptPlayer::~ScriptPlayer() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    daemon_->stop();
    if (!rules_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(rules_dir_, ec);
    }
}

Status ScriptPlayer::start() {
    if (auto s = daemon_->start(); !s) return s;
    thread_ = std::thread([this] { play(); });
    return Ok{};
}

void ScriptPlayer::play() {
    const auto start = std::chrono::steady_clock::now();
    for (Step& step : script_.steps) {
        {
            std::unique_lock lock(mu_);
            if (cv_.wait_until(lock, start + step.at, [&] { return stopping_; })) return;
        }
        if (step.log) daemon_->log(step.log->level, step.log->text);
        if (step.connection) feed(std::move(*step.connection), step.method);
    }
}

void ScriptPlayer::feed(Connection c, Method method) {
    {
        std::lock_guard lock(attributor_.mu);
        // A connection of its own: a source port no earlier step has taken.
        while (attributor_.by_port.contains(c.src_port))
            ++c.src_port;
        attributor_.by_port[c.src_port] = {c.process, method};
    }
    if (c.dst_host) {
        std::lock_guard lock(names_.mu);
        names_.names.emplace_back(c.dst, *c.dst_host);
    }
    const std::vector<uint8_t> bytes = packet_of(c);
    QueuedPacket p;
    p.id = next_packet_++;
    p.bytes = bytes;
    p.uid = c.uid;
    daemon_->on_packet(p);
}

}  // namespace tsnitch::tui::demo
