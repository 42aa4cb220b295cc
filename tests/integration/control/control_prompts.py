"""Daemon + clients over the control socket: an unknown program's connection prompts in every
client, the first answer decides it and the others see it answered; a client can detach and
another attach while the prompt is pending; an answer with a rule stores it."""
import os
import sys

from netns import require_root, V4_PEER
from control_client import ControlClient, is_type, prompt_for_port
from tsnitch_run import CLIENT, PYTHON, Tsnitch, check, start_peer
from netns import NetnsPair


def connect_later(ns, port, timeout=8):
    """A connection attempt in the background: prints ok / refused / timeout when done."""
    return ns.popen(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, str(port), str(timeout)],
                    text=True)


def outcome(p):
    out, _ = p.communicate(timeout=30)
    return out.strip()


def rule_for(name, port):
    op = lambda operand, data: {"type": "simple", "operand": operand, "sensitive": False,
                                "data": data, "list": []}
    return {"name": name, "description": "", "enabled": True, "precedence": False, "nolog": False,
            "action": "allow", "duration": "until restart",
            "operator": {"type": "list", "operand": "list", "sensitive": False, "data": "",
                         "list": [op("process.path", PYTHON), op("dest.port", str(port))]},
            "created": "", "updated": ""}


def main():
    require_root()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[8081, 8082, 8083])
        t = Tsnitch(ns, config={"PromptTimeout": 60}).start()
        sock = os.path.join(t.dir, "control.sock")
        st = os.stat(sock)
        check(oct(st.st_mode & 0o777) == "0o600", "the control socket is 0600")

        a = ControlClient(sock)
        snap = a.handshake()
        check(snap["prompts"] == [], "the first snapshot has no prompts")
        b = ControlClient(sock)
        b.handshake()

        # One prompt in both clients; a answers; b sees it answered.
        p = connect_later(ns, 8081)
        pa = a.wait(prompt_for_port(8081), what="the prompt in client a")
        pb = b.wait(prompt_for_port(8081), what="the prompt in client b")
        check(pa["prompt"]["id"] == pb["prompt"]["id"], "both clients see the same prompt")
        proc = pa["prompt"]["connection"]["process"]
        check(proc is not None and os.path.realpath(proc["path"]) == PYTHON,
              "the prompt names the program")
        pid = pa["prompt"]["id"]
        req = a.command("answer_prompt", prompt_id=pid, action="allow", duration="once", rule=None)
        res = a.wait(lambda m: m.get("type") == "result" and m["request"] == req)
        check(res["error"] == "", "the answer is accepted")
        closed = b.wait(lambda m: m.get("type") == "prompt_closed" and m["id"] == pid,
                        what="prompt_closed in client b")
        check(closed["action"] == "allow" and closed["reason"] == "prompt",
              "the other client sees it answered (allow, prompt)")
        check(outcome(p) == "ok", "the answer decided the connection: allowed")
        req = b.command("answer_prompt", prompt_id=pid, action="deny", duration="once", rule=None)
        late = b.wait(lambda m: m.get("type") == "result" and m["request"] == req)
        check(late["error"] != "", "a second answer is refused: " + late["error"])

        # Detach both while a prompt is pending; a new client gets it in its snapshot.
        p = connect_later(ns, 8082)
        a.wait(prompt_for_port(8082), what="the second prompt")
        a.close()
        b.close()
        c = ControlClient(sock)
        snap = c.handshake()
        pending = [x for x in snap["prompts"] if x["connection"]["dst_port"] == 8082]
        check(len(pending) == 1, "a client attached later sees the pending prompt in its snapshot")
        c.command("answer_prompt", prompt_id=pending[0]["id"], action="reject", duration="once",
                  rule=None)
        check(outcome(p) == "refused", "its answer decides the connection: rejected")

        # An answer with a rule: the rule is stored and decides the next connection itself.
        p = connect_later(ns, 8083)
        pr = c.wait(prompt_for_port(8083), what="the third prompt")
        c.command("answer_prompt", prompt_id=pr["prompt"]["id"], action="allow",
                  duration="until restart", rule=rule_for("allow-8083", 8083))
        changed = c.wait(is_type("rules_changed"), what="rules_changed")
        check(any(r["rule"]["name"] == "allow-8083" for r in changed["rules"]),
              "the rule made by the answer is in the rule list")
        check(outcome(p) == "ok", "the answered connection is allowed")
        p = connect_later(ns, 8083)
        decided = c.wait(lambda m: m.get("type") == "decision" and
                         m["event"]["connection"]["dst_port"] == 8083, what="the rule's decision")
        check(decided["event"]["reason"] == "rule" and decided["event"]["rule"] == "allow-8083",
              "the next connection is decided by the rule, without a prompt")
        check(outcome(p) == "ok", "and allowed")
        c.close()
        t.stop()
        check(not os.path.exists(sock), "the socket file is removed when the daemon stops")
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
