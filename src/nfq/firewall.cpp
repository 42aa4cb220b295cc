#include "nfq/firewall.h"

#include <fstream>
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

    Status install() override {
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
            if (st->jumps == want.jumps && st->chains == want.chains) continue;
            if (auto s = install_family(f); !s) return s.error();
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

    Status install_family(Family f) {
        auto st = state(f);
        if (!st) return st.error();
        return run_script({restore(f), "-w", "--noflush"}, iptables_install_script(spec_, f, *st));
    }

    FirewallSpec spec_;
    std::vector<Family> families_;
    bool installed_ = false;
};

class NftFirewall final : public Firewall {
  public:
    explicit NftFirewall(const FirewallSpec& spec) : spec_(spec) {}
    ~NftFirewall() override {
        if (installed_) (void)remove();
    }

    std::string_view backend_name() const override { return "nftables"; }

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

bool nft_has_queue() {
    const std::string probe =
        "table inet tsnitch_probe {\n chain c {\n  type filter hook output priority 0;\n"
        "  queue num 0 bypass\n }\n}\n";
    auto r = run_command({"nft", "-c", "-f", "-"}, probe);
    return r && r->status == 0;
}

bool ipv6_enabled() {
    std::ifstream f("/proc/sys/net/ipv6/conf/all/disable_ipv6");
    int disabled = 1;
    return f && (f >> disabled) && disabled == 0;
}

Result<std::unique_ptr<Firewall>> make_firewall(FirewallBackend backend, const FirewallSpec& spec) {
    if (backend == FirewallBackend::automatic) {
        if (nft_has_queue()) return std::unique_ptr<Firewall>(new NftFirewall(spec));
        return std::unique_ptr<Firewall>(new IptablesFirewall(spec));
    }
    if (backend == FirewallBackend::nftables) {
        if (!nft_has_queue())
            return make_error(
                "Firewall nftables: this kernel has no nft queue expression (use auto or "
                "iptables)");
        return std::unique_ptr<Firewall>(new NftFirewall(spec));
    }
    return std::unique_ptr<Firewall>(new IptablesFirewall(spec));
}

}  // namespace tsnitch::nfq
