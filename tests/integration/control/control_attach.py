"""`tsnitch attach --stdio` relays the protocol between a pipe and the control socket (what
`attach --ssh` runs on the other machine); without a daemon it says why in a closing line; and
`tsnitch run` with a daemon up attaches to it instead of taking the queue."""
import os
import subprocess
import sys

from netns import NetnsPair, require_root, tsnitch_binary, V4_PEER
from control_client import ControlClient, prompt_for_port
from tsnitch_run import CLIENT, PYTHON, Tsnitch, check, start_peer


def main():
    require_root()
    with NetnsPair() as ns:
        start_peer(ns, tcp=[8101])
        t = Tsnitch(ns, config={"PromptTimeout": 60}).start()
        sock = os.path.join(t.dir, "control.sock")

        c = ControlClient(argv=[tsnitch_binary(), "attach", "--stdio", "--socket", sock])
        snap = c.handshake()
        check(snap["status"]["intercepting"], "attach --stdio: hello and snapshot through the pipe")
        p = ns.popen(ns.client, [PYTHON, "-c", CLIENT, "tcp", V4_PEER, "8101", "8"], text=True)
        pr = c.wait(prompt_for_port(8101), what="the prompt through the pipe")
        c.command("answer_prompt", prompt_id=pr["prompt"]["id"], action="allow", duration="once",
                  rule=None)
        out, _ = p.communicate(timeout=30)
        check(out.strip() == "ok", "the answer through the pipe decides the connection")
        c.close()
        check(c.proc.returncode == 0, "attach --stdio ends with 0 when its input ends")

        missing = os.path.join(t.dir, "nothing.sock")
        r = subprocess.run([tsnitch_binary(), "attach", "--stdio", "--socket", missing],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=20)
        check(r.returncode == 1 and '"type":"closing"' in r.stdout and
              "no tsnitch daemon listens on " + missing in r.stdout,
              "without a daemon, attach --stdio writes the reason as a closing line, exit 1")

        # A second `tsnitch run` with the same Control.Socket attaches to the running daemon.
        rules_before = ns.ruleset().count("-j NFQUEUE")
        r = ns.run(ns.client, [tsnitch_binary(), "run", "-c", t.config, "-r", t.rules_dir],
                   check=False, timeout=30, stdin=subprocess.DEVNULL)
        first = (r.stderr.splitlines() or [""])[0]
        check("a tsnitch daemon already runs (" + sock + "): attaching to it" in first,
              f"tsnitch run with a daemon up says on its first line that it attaches: {first!r}")
        check(ns.ruleset().count("-j NFQUEUE") == rules_before,
              "and installs no firewall rules of its own")
        check(t.proc.poll() is None, "the daemon keeps running")
        t.stop()
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
