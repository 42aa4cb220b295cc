// Plays a Script into the real Daemon (real Engine and RuleStore): each connection step becomes a
// queued packet at its time, fed on the player's thread as the queue thread would; its process
// comes from a fake attributor and its host name from a fake DNS cache; log steps go to the
// daemon's log. Verdicts go nowhere. Timeouts, joining and rules are the daemon's own.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/daemon/daemon.h"
#include "tests/tui/demo/script.h"

namespace tsnitch::tui::demo {

class ScriptPlayer {
  public:
    // The rules live in a new directory under `rules_parent`, removed again at the end.
    ScriptPlayer(Script script, const std::string& rules_parent);
    ~ScriptPlayer();
    ScriptPlayer(const ScriptPlayer&) = delete;
    ScriptPlayer& operator=(const ScriptPlayer&) = delete;

    Status start();
    Daemon& daemon() { return *daemon_; }

  private:
    struct NoQueue final : VerdictSink {
        void set_verdict(uint16_t, uint32_t, Verdict, uint32_t) override {}
    };
    // The script's processes by source port (each connection gets one of its own).
    struct ScriptAttributor final : Attributor {
        Attribution attribute(const Connection& c) override;
        Method method() const override { return Method::ebpf; }
        std::mutex mu;
        std::map<uint16_t, std::pair<ProcessRef, Method>> by_port;
    };
    struct ScriptNames final : HostNames {
        void learn(const PacketInfo&, std::span<const uint8_t>) override {}
        std::optional<std::string> host_for(const IpAddress& a) override;
        std::mutex mu;
        std::vector<std::pair<IpAddress, std::string>> names;
    };

    void play();
    void feed(Connection c, Method method);

    Script script_;
    std::string rules_dir_;  // a temporary directory: "always" rules are files, as in tsnitch run
    NoQueue queue_;
    ScriptAttributor attributor_;
    ScriptNames names_;
    RuleStore rules_;
    ProcessModel processes_{ProcessModel::Options{.warm_index = false}};  // the socket table's
    std::unique_ptr<Daemon> daemon_;
    uint32_t next_packet_ = 1;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tsnitch::tui::demo
