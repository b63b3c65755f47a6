"""The Knot and BIND configurations the secondary tests run, and the
helpers that read configurations from docs/operations.md and start the
secondaries.

docs/operations.md shows the same (tests/system/docs/test_docs.py compares
them), so what the documentation tells operators is what is tested.
"""

import os
import re
import shlex
import socket
import subprocess
import threading

import dns.exception
import dns.message

from conftest import ROOT, read_text

KEY_NAME = "xfr"
KEY_SECRET = "a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

KNOT_CONF = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
log:
  - target: "{dir}/knot.log"
    any: info
database:
    storage: "{dir}/db"
control:
    listen: "{dir}/knot.sock"
remote:
  - id: kubezone
    address: 127.0.0.1@{primary}
    block-notify-after-transfer: on
acl:
  - id: notify-from-kubezone
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{dir}/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: cluster.local
    master: kubezone
    acl: notify-from-kubezone
"""

BIND_CONF = """\
options {{
    directory "{dir}";
    pid-file "{dir}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    transfer-source 127.0.0.3;
}};
controls {{ }};
key "{key}" {{
    algorithm hmac-sha256;
    secret "{secret}";
}};
logging {{
    channel log {{ file "{dir}/named.log"; severity info; print-time yes;
                   print-category yes; }};
    category default {{ log; }};
    category xfer-in {{ log; }};
    category notify {{ log; }};
}};
zone "cluster.local" {{
    type secondary;
    primaries port {primary} {{ 127.0.0.1 key "{key}"; }};
    file "cluster.local.db";
}};
"""


# -- docs/operations.md -------------------------------------------------------


def operations():
    return read_text(os.path.join(ROOT, "docs", "operations.md"))


def section(heading):
    """The text of the `### HEADING...` section of docs/operations.md."""
    part = re.split(r"^### %s.*$" % re.escape(heading), operations(), 1,
                    re.M)
    assert len(part) == 2, "docs/operations.md has no section %r" % heading
    return re.split(r"^##+ ", part[1], 1, re.M)[0]


def blocks(text):
    """The fenced blocks of TEXT, in order."""
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)


def block_with(text, marker):
    found = [b for b in blocks(text) if marker in b]
    assert len(found) == 1, "one block with %r: %d" % (marker, len(found))
    return found[0]


def kubezone_args(text, addresses):
    """kubezone's options from the `kubezone sync ...` block of TEXT, the
    documented addresses replaced by ADDRESSES (a list of pairs, applied
    in order)."""
    cmd = block_with(text, "kubezone sync").replace("\\\n", " ")
    args = shlex.split(cmd)
    assert args[:3] == ["kubezone", "sync", "..."], args
    out = []
    for a in args[3:]:
        for old, new in addresses:
            a = a.replace(old, new)
        out.append(a)
    return out


def substitute(text, pairs):
    for old, new in pairs:
        assert old in text, "%r not in the documented text" % old
        text = text.replace(old, new)
    assert "192.0.2." not in text, text
    return text


# -- the secondaries -----------------------------------------------------------


def start_knot(d, conf):
    """knotd with the configuration text CONF, written to D/knot.conf."""
    path = os.path.join(d, "knot.conf")
    with open(path, "w") as f:
        f.write(conf)
    return subprocess.Popen(
        ["knotd", "-c", path], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d, "knotd.stderr"), "w"))


def start_named(d, conf):
    """named in the foreground with CONF, written to D/named.conf."""
    path = os.path.join(d, "named.conf")
    with open(path, "w") as f:
        f.write(conf)
    return subprocess.Popen(
        ["named", "-f", "-c", path], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d, "named.stderr"), "w"))


class UdpStandIn:
    """A stand-in secondary on a free UDP port of 127.0.0.1: a thread
    answers every query Q with ANSWER(Q) (a dns.message; the method of a
    subclass when ANSWER is None). close(), or leaving a with block,
    stops it."""

    def __init__(self, answer=None):
        if answer is not None:
            self.answer = answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.done.is_set():
            try:
                wire, peer = self.sock.recvfrom(65535)
                q = dns.message.from_wire(wire)
            except (socket.timeout, dns.exception.DNSException):
                continue
            self.sock.sendto(self.answer(q).to_wire(), peer)

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
