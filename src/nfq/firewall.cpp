#include "nfq/firewall.h"

#include <optional>
#include <string>
#include <vector>

#include "nfq/command.h"

namespace tsnitch::nfq {

namespace {

std::string first_line(const std::string& s) {
    std::string l = s.substr(0, s.find('\n'));
    return l.empty() ? "no message" : l;
}

Status run_script(const std::vector<std::string>& argv, const std::string& script) {
    auto r = run_command(argv, script);
    if (!r) return r.error();
    if (r->status != 0)
        return make_error(argv[0] + " failed (status " + std::to_string(r->status) +
                          "): " + first_line(r->err));
    return Ok{};
}

class IptablesFirewall final : public Firewall {
  public:
    explicit IptablesFirewall(const FirewallSpec& spec) : spec_(spec) {
        families_.push_back(Family::v4);
        if (spec.ipv6) families_.push_back(Family::v6);
    }
    ~IptablesFirewall() override {
        if (installed_) (void)remove();
    }

    std::string_view backend_name() const override { return "iptables"; }
    bool notifies_changes() const override { return nf_tables_; }

    Status install() override {
        // "iptables v1.8.9 (nf_tables)" or "(legacy)"
        auto version = run_command({"iptables", "-V"}, "");
        nf_tables_ = version && version->out.find("(nf_tables)") != std::string::npos;
        for (Family f : families_) {
            if (auto s = install_family(f); !s) return s;
            installed_ = true;
        }
        return Ok{};
    }

    Status remove() override {
        Status result = Ok{};
        for (Family f : families_) {
            auto st = state(f);
            if (!st) {
                result = st.error();
                continue;
            }
            if (st->empty()) continue;
            if (auto s = run_script({restore(f), "-w", "--noflush"}, iptables_remove_script(*st));
                !s)
                result = s;
        }
        installed_ = false;
        return result;
    }

    Result<bool> repair() override {
        const IptablesState want = iptables_expected_state(spec_);
        bool repaired = false;
        for (Family f : families_) {
            auto st = state(f);
            if (!st) return st.error();
            if (*st == want) continue;
            if (auto s = install_family(f, std::move(*st)); !s) return s.error();
            repaired = true;
        }
        return repaired;
    }

  private:
    static std::string save(Family f) {
        return f == Family::v4 ? "iptables-save" : "ip6tables-save";
    }
    static std::string restore(Family f) {
        return f == Family::v4 ? "iptables-restore" : "ip6tables-restore";
    }

    Result<IptablesState> state(Family f) {
        auto r = run_command({save(f)}, "");
        if (!r) return r.error();
        if (r->status != 0)
            return make_error(save(f) + " failed (status " + std::to_string(r->status) +
                              "): " + first_line(r->err));
        return parse_iptables_save(r->out);
    }

    // The script deletes the jumps that iptables-save showed; another program that changes the
    // rules between the save and the restore (a flush) makes that delete fail and the whole
    // transaction with it. Then the state is read again and the install tried again.
    // `known`: the state just read, if any (a repair has it; each run of iptables-save is a few
    // milliseconds more of a flushed firewall).
    Status install_family(Family f, std::optional<IptablesState> known = std::nullopt) {
        Status result = Ok{};
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (!known) {
                auto st = state(f);
                if (!st) return st.error();
                known = std::move(*st);
            }
            result = run_script({restore(f), "-w", "--noflush"},
                                iptables_install_script(spec_, f, *known));
            if (result) return result;
            known.reset();
        }
        return result;
    }

    FirewallSpec spec_;
    std::vector<Family> families_;
    bool installed_ = false;
    bool nf_tables_ = false;
};

class NftFirewall final : public Firewall {
  public:
    explicit NftFirewall(const FirewallSpec& spec) : spec_(spec) {}
    ~NftFirewall() override {
        if (installed_) (void)remove();
    }

    std::string_view backend_name() const override { return "nftables"; }
    bool notifies_changes() const override { return true; }

    Status install() override {
        if (auto s = run_script({"nft", "-f", "-"}, nft_install_script(spec_)); !s) return s;
        installed_ = true;
        return Ok{};
    }

    Status remove() override {
        installed_ = false;
        return run_script({"nft", "-f", "-"}, nft_remove_script());
    }

    Result<bool> repair() override {
        auto r = run_command({"nft", "list", "table", "inet", std::string(kNftTable)}, "");
        if (!r) return r.error();
        const bool intact = r->status == 0 && r->out.find("chain out") != std::string::npos &&
                            r->out.find("chain in") != std::string::npos &&
                            r->out.find("chain verdict") != std::string::npos &&
                            r->out.find("chain fallback") != std::string::npos &&
                            r->out.find("queue") != std::string::npos;
        if (intact) return false;
        if (auto s = install(); !s) return s.error();
        return true;
    }

  private:
    FirewallSpec spec_;
    bool installed_ = false;
};

}  // namespace

NftQueueSupport nft_queue_support() {
    const std::string probe =
        "table inet tsnitch_probe {\n chain c {\n  type filter hook output priority 0;\n"
        "  queue num 0 bypass\n }\n}\n";
    // nft -c sends the table to the kernel, which checks it and discards it; in a network
    // namespace of its own (unshare -n) even that touches nothing of ours. Without unshare(1),
    // here: the kernel is the same.
    auto r = run_command({"unshare", "-n", "nft", "-c", "-f", "-"}, probe);
    if (!r) r = run_command({"nft", "-c", "-f", "-"}, probe);
    if (!r || r->status == 127) return {false, "nft not installed"};
    if (r->status == 0) return {true, ""};
    // "/dev/stdin:4:3-7: Error: Could not process rule: No such file or directory" is the
    // kernel refusing the expression; anything else (no permission, ...) is said as nft said it.
    std::string e = first_line(r->err);
    if (size_t at = e.find("Error: "); at != std::string::npos) e = e.substr(at + 7);
    if (e.find("No such file or directory") != std::string::npos)
        return {false, "the kernel has no nft queue expression"};
    return {false, "nft -c refused the queue expression: " + e};
}

Result<std::unique_ptr<Firewall>> make_firewall(FirewallBackend backend, const FirewallSpec& spec) {
    if (backend == FirewallBackend::automatic) {
        if (nft_queue_support().available) return std::unique_ptr<Firewall>(new NftFirewall(spec));
        return std::unique_ptr<Firewall>(new IptablesFirewall(spec));
    }
    if (backend == FirewallBackend::nftables) {
        if (const NftQueueSupport nft = nft_queue_support(); !nft.available)
            return make_error("Firewall nftables: " + nft.reason + " (use auto or iptables)");
        return std::unique_ptr<Firewall>(new NftFirewall(spec));
    }
    return std::unique_ptr<Firewall>(new IptablesFirewall(spec));
}

}  // namespace tsnitch::nfq
