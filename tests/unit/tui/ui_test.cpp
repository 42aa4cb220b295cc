// The Ui's key routing without a terminal: dialogs on a stack take keys before the views, each
// view's panel keeps its own place, the prompt lets the view keys through to the views.
// doctest first: curses.h (through the panels) defines a macro named timeout.
#include <doctest/doctest.h>

#include "tui/dialogs.h"
#include "tui/keys.h"
#include "tui/ui.h"

using namespace tsnitch;
using namespace tsnitch::tui;
using namespace std::chrono_literals;

namespace {

class RecordingLink : public DaemonLink {
  public:
    int wake_fd() const override { return -1; }
    std::vector<DaemonEvent> drain() override { return {}; }
    void send(DaemonCommand c) override { sent.push_back(std::move(c)); }

    // The commands of type T sent so far.
    template <class T>
    std::vector<T> sent_of() const {
        std::vector<T> out;
        for (const DaemonCommand& c : sent)
            if (const T* t = std::get_if<T>(&c.body)) out.push_back(*t);
        return out;
    }

    std::vector<DaemonCommand> sent;
};

const Clock::time_point t0{};
const size_t kPage = 10;

RuleRecord rule(std::string name) {
    RuleRecord r;
    r.rule.name = std::move(name);
    r.rule.action = Action::allow;
    return r;
}

DecisionEvent decision(std::string comm) {
    DecisionEvent e;
    e.action = Action::allow;
    e.connection.protocol = Protocol::tcp;
    e.connection.dst = *IpAddress::parse("10.0.2.2");
    e.connection.dst_port = 443;
    ProcessInfo p;
    p.pid = 100;
    p.comm = comm;
    p.path = "/usr/bin/" + comm;
    e.connection.process = std::make_shared<const ProcessInfo>(std::move(p));
    return e;
}

PromptRecord prompt(uint64_t id, int opened_s) {
    PromptRecord p;
    p.id = id;
    p.connection = decision("curl").connection;
    p.connection.dst_host = "example.com";
    p.opened = std::chrono::system_clock::time_point{} + std::chrono::seconds(opened_s);
    return p;
}

// A UI with three rules (a, b, c) and four decisions, keys accepted at once in prompts.
struct Fixture {
    Fixture(bool monitor = false) : ui(link, options(monitor)) {
        Snapshot s;
        s.rules = {rule("allow-b"), rule("allow-a"), rule("allow-c")};
        s.recent = {decision("one"), decision("two"), decision("three"), decision("four")};
        ui.apply({std::move(s)}, t0);
    }
    static TuiOptions options(bool monitor) {
        TuiOptions o;
        o.prompt_key_delay = 0ms;
        o.monitor = monitor;
        return o;
    }
    void keys(std::initializer_list<int> ks) {
        for (int k : ks)
            ui.handle_key(k, t0 + 1s, kPage);
    }
    template <class T>
    const T* top() const {
        return dynamic_cast<const T*>(ui.top_dialog());
    }

    RecordingLink link;
    Ui ui;
};

}  // namespace

TEST_CASE("a dialog on top takes the keys; Esc closes it and the view keeps its selection") {
    Fixture f;
    f.keys({'2', key::down, key::down});
    REQUIRE(f.ui.view() == View::rules);
    CHECK(f.ui.rules().cursor().selected == 2);
    f.keys({'e'});
    REQUIRE(f.top<RuleEditDialog>());
    // Keys of the view and of the tabs now go to the dialog.
    f.keys({'1', 'x', key::right});
    CHECK(f.ui.view() == View::rules);
    CHECK(f.ui.rules().cursor().selected == 2);
    CHECK(f.top<RuleEditDialog>()->action() == Action::deny);
    f.keys({key::down, key::up});
    CHECK(f.ui.rules().cursor().selected == 2);
    f.keys({key::escape});
    CHECK(f.ui.dialogs().empty());
    CHECK(f.link.sent_of<ChangeRule>().empty());
    // The same row again: Enter saves what the dialog shows, for the third rule by name.
    f.keys({'e', key::left, key::enter});
    CHECK(f.ui.dialogs().empty());
    const auto changed = f.link.sent_of<ChangeRule>();
    REQUIRE(changed.size() == 1);
    CHECK(changed[0].name == "allow-c");
    CHECK(changed[0].action == Action::reject);
}

TEST_CASE("a confirmation closes on any key and acts only on y") {
    Fixture f;
    f.keys({'2', 'x'});
    REQUIRE(f.top<DeleteConfirm>());
    CHECK(f.top<DeleteConfirm>()->name() == "allow-a");
    f.keys({'n'});
    CHECK(f.ui.dialogs().empty());
    f.keys({'x', 'y'});
    const auto deleted = f.link.sent_of<DeleteRule>();
    REQUIRE(deleted.size() == 1);
    CHECK(deleted[0].name == "allow-a");
}

TEST_CASE("each view keeps its place while another view is visited") {
    Fixture f;
    f.keys({key::down});
    CHECK(f.ui.connections().cursor().selected == 1);
    f.keys({'2', key::down, key::down, '5', key::up, key::up, key::up});
    CHECK(f.ui.rules().cursor().selected == 2);
    CHECK(f.ui.log().back() == 3);
    f.keys({'1'});
    CHECK(f.ui.view() == View::connections);
    CHECK(f.ui.connections().cursor().selected == 1);
    f.keys({'2'});
    CHECK(f.ui.rules().cursor().selected == 2);
    // Help goes back to the view it was opened from.
    f.keys({'?', key::down});
    CHECK(f.ui.view() == View::help);
    f.keys({key::escape});
    CHECK(f.ui.view() == View::rules);
    CHECK(f.ui.help().first_line() == 1);
}

TEST_CASE("the selected decision stays selected while newer ones arrive") {
    Fixture f;
    f.keys({key::down, key::down});
    f.ui.apply({DecisionMade{decision("five")}, DecisionMade{decision("six")}}, t0);
    CHECK(f.ui.connections().cursor().selected == 4);
}

TEST_CASE("a filter being typed takes every key, view keys included") {
    Fixture f;
    f.keys({'/', '2', 'q', 'w'});
    CHECK(f.ui.view() == View::connections);
    CHECK(f.ui.dialogs().empty());
    CHECK(f.ui.connections().filter().text() == "2qw");
    f.keys({key::backspace, key::enter});
    CHECK(f.ui.connections().filter().text() == "2q");
    CHECK_FALSE(f.ui.connections().filter().editing());
    f.keys({'2'});
    CHECK(f.ui.view() == View::rules);
    f.keys({'1', key::escape});
    CHECK(f.ui.connections().filter().text().empty());
}

TEST_CASE("the prompt lies above the dialogs, lets the view keys through, and answers") {
    Fixture f;
    f.keys({'1', 'a'});
    REQUIRE(f.top<RuleFormDialog>());
    f.ui.apply({PromptOpened{prompt(8, 20)}, PromptOpened{prompt(7, 10)}}, t0);
    REQUIRE(f.top<PromptPanel>());
    CHECK(f.top<PromptPanel>()->form().prompt_id() == 7);  // the oldest first
    CHECK(f.ui.dialogs().size() == 2);
    f.keys({'d'});
    const auto answers = f.link.sent_of<AnswerPrompt>();
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].prompt_id == 7);
    CHECK(answers[0].action == Action::deny);
    REQUIRE(f.top<PromptPanel>());
    CHECK(f.top<PromptPanel>()->form().prompt_id() == 8);
    // The daemon closes the other one: the rule form is on top again, as it was.
    f.ui.apply({PromptClosed{8, Action::deny, Reason::timeout, std::nullopt}}, t0);
    CHECK(f.top<RuleFormDialog>());
    f.keys({key::escape});
    CHECK(f.ui.dialogs().empty());
    // With only the prompt open, the view keys reach the views behind it.
    f.ui.apply({PromptOpened{prompt(9, 30)}}, t0);
    f.keys({'3'});
    CHECK(f.ui.view() == View::stats);
    CHECK(f.top<PromptPanel>());
}

TEST_CASE("quitting asks first, and a prompt arriving does not hide the question") {
    Fixture f;
    f.keys({'q'});
    REQUIRE(f.top<QuitConfirm>());
    f.ui.apply({PromptOpened{prompt(7, 10)}}, t0);
    CHECK(f.top<QuitConfirm>());
    f.keys({'n'});
    CHECK_FALSE(f.ui.done());
    REQUIRE(f.top<PromptPanel>());
    // Ctrl-C reaches the question from the prompt too; y quits.
    f.keys({key::ctrl_c});
    CHECK(f.top<QuitConfirm>());
    f.keys({'y'});
    CHECK(f.ui.done());
    CHECK(f.link.sent_of<AnswerPrompt>().empty());
}

TEST_CASE("the monitor quits without asking and shows only its views") {
    Fixture f(true);
    CHECK(f.ui.view() == View::sockets);
    f.keys({'1', '2', '5'});
    CHECK(f.ui.view() == View::sockets);
    f.keys({'q'});
    CHECK(f.ui.done());
    CHECK(f.ui.dialogs().empty());
}

TEST_CASE("an opened process's sockets go back to the processes, which kept their place") {
    Fixture f;
    f.keys({'4'});
    auto subs = f.link.sent_of<SubscribeSockets>();
    REQUIRE(subs.size() == 1);
    CHECK(subs[0].on);
    CHECK_FALSE(subs[0].focus_pid);
    SocketTableSnapshot table;
    table.taken = std::chrono::system_clock::time_point{} + 1s;
    for (int pid : {10, 20, 30}) {
        ProcessSummary p;
        p.pid = pid;
        p.comm = "p" + std::to_string(pid);
        p.exe = "/bin/p" + std::to_string(pid);
        p.udp = 1;
        table.processes.push_back(p);
    }
    SocketTableUpdate u;
    u.table = std::make_shared<const SocketTableSnapshot>(std::move(table));
    f.ui.apply({u}, t0);
    f.keys({'s', key::down});  // by pid
    CHECK(f.ui.sockets().processes().selected(f.ui.model())->pid == 20);
    f.keys({key::enter});
    CHECK(f.ui.sockets().focus_pid() == 20);
    subs = f.link.sent_of<SubscribeSockets>();
    REQUIRE(subs.size() == 2);
    CHECK(subs[1].focus_pid == 20);
    // Leaving the tab stops the table; coming back keeps the process open.
    f.keys({'1', '4'});
    CHECK(f.ui.sockets().focus_pid() == 20);
    f.keys({key::escape});
    CHECK_FALSE(f.ui.sockets().focus_pid());
    CHECK(f.ui.view() == View::sockets);
    CHECK(f.ui.sockets().processes().selected(f.ui.model())->pid == 20);
    subs = f.link.sent_of<SubscribeSockets>();
    REQUIRE(subs.size() == 5);
    CHECK_FALSE(subs[2].on);
    CHECK(subs[3].focus_pid == 20);
    CHECK_FALSE(subs[4].focus_pid);
}

TEST_CASE("a Snapshot's rule hits already count its recent decisions; later ones add to them") {
    RecordingLink link;
    Ui ui(link, Fixture::options(false));
    Snapshot s;
    RuleRecord dns = rule("allow-dns");
    dns.hits = 1;
    s.rules = {dns};
    DecisionEvent by_rule = decision("resolved");
    by_rule.reason = Reason::rule;
    by_rule.rule = "allow-dns";
    s.recent = {by_rule};
    ui.apply({std::move(s)}, t0);
    REQUIRE(ui.model().rules.size() == 1);
    CHECK(ui.model().rules[0].hits == 1);
    CHECK(ui.model().log.size() == 1);
    ui.apply({DecisionMade{by_rule}}, t0);
    CHECK(ui.model().rules[0].hits == 2);
    CHECK(ui.model().log.size() == 2);
}

TEST_CASE("decisions made while nobody was attached are said, and shown with the others") {
    RecordingLink link;
    Ui ui(link, Fixture::options(false));
    Snapshot s;
    s.recent = {decision("one")};
    DecisionEvent waited = decision("two");
    waited.reason = Reason::timeout;
    s.review = {ReviewRecord{1, waited}, ReviewRecord{2, waited}};
    ui.apply({std::move(s)}, t0);
    CHECK(ui.message() ==
          "2 decisions were made while nobody was attached: see the Connections view");
    CHECK(ui.model().log.size() == 3);
}
