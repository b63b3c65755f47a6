"""Faults: hostile clients of the metrics endpoint and of the DNS port.

Slow-loris and oversized HTTP requests against /metrics, and malformed
DNS messages (truncated, garbage, huge, over UDP and TCP) against the
port NSD serves: kubezone and NSD must both keep serving.
"""

import os
import random
import socket
import struct
import time
import urllib.request

import dns.message

from conftest import answers, free_port, query, wait_for


def http_get(port, path="/healthz", timeout=3.0):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=timeout) as r:
        return r.status, r.read()


def serving(s, http_port):
    assert s.proc.poll() is None, "kubezone exited:\n" + s.text()[-2000:]
    assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
        ["10.96.12.34"]
    status, body = http_get(http_port, "/metrics")
    assert status == 200 and b"kubezone_" in body


def test_slow_loris_and_oversized_http(sync, snapshot):
    hp = free_port()
    s = sync(snapshot, "--http", "127.0.0.1:%d" % hp)
    serving(s, hp)

    # Slow-loris below the connection limit: each client trickles a
    # header byte now and then; the endpoint answers others meanwhile.
    slow = []
    try:
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", hp), timeout=2)
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(c)
        for _ in range(3):
            for c in slow:
                try:
                    c.sendall(b"X-a: b\r\n")
                except OSError:
                    pass
            t0 = time.monotonic()
            assert http_get(hp)[0] == 200
            assert time.monotonic() - t0 < 2
            assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
                ["10.96.12.34"]
            time.sleep(0.5)         # pacing: the next trickle of header bytes
    finally:
        for c in slow:
            c.close()

    # A flood beyond the connection limit (64), held open and silent:
    # new connections displace the oldest (syncer/http.c), so the
    # endpoint serves while the flood is still held.
    flood = []
    try:
        for _ in range(100):
            flood.append(socket.create_connection(("127.0.0.1", hp),
                                                  timeout=2))
        wait_for(lambda: http_get(hp, timeout=2)[0] == 200, 5,
                 interval=0.1, what="/healthz while a silent flood is held")
        assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
            ["10.96.12.34"]
    finally:
        for c in flood:
            c.close()

    # Floods that go away: DNS goes on and kubezone keeps running; once
    # the flood goes, the endpoint serves again at once.
    for hold in (2.0, 0.0):
        flood = []
        try:
            for _ in range(150):
                flood.append(socket.create_connection(("127.0.0.1", hp),
                                                      timeout=2))
            time.sleep(hold)        # the flood held open for a while
            assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
                ["10.96.12.34"]
            assert s.proc.poll() is None
        finally:
            for c in flood:
                c.close()
        wait_for(lambda: http_get(hp)[0] == 200, 5,
                 what="/healthz after the flood")

    # Oversized: a huge header, a huge URL, a huge body.
    for req in (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-big: " +
                b"a" * (4 << 20) + b"\r\n\r\n",
                b"GET /" + b"m" * (2 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
                b"104857600\r\n\r\n" + b"z" * (8 << 20)):
        c = socket.create_connection(("127.0.0.1", hp), timeout=5)
        try:
            c.sendall(req)
        except OSError:
            pass            # the server may cut us off: that is fine
        try:
            c.recv(4096)
        except OSError:
            pass
        c.close()
        serving(s, hp)
    assert "kubezone_" in http_get(hp, "/metrics")[1].decode()


def test_malformed_dns_queries(sync, snapshot):
    s = sync(snapshot)
    good = dns.message.make_query("web.shop.svc.cluster.local.", "A").to_wire()
    rnd = random.Random(6)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(0.2)
    bad = [b"", b"\x00", good[:5], good[:12], good[:-3],
           good[:2] + b"\xff" * 10 + good[12:],       # absurd counts
           good[:12] + b"\xc0\x0c" * 40,              # compression loop
           good[:12] + b"\x3f" + b"a" * 300,          # label too long
           bytes(rnd.getrandbits(8) for _ in range(512)),
           good + b"\x00" * 4000,                     # trailing junk
           b"\xff" * 65000]                           # near the UDP limit
    bad += [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 600)))
            for _ in range(200)]
    for m in bad:
        udp.sendto(m, ("127.0.0.1", s.port))
        try:
            udp.recv(65535)
        except OSError:
            pass
    udp.close()
    for m in (good[:7], b"\xff" * 1000, good + b"junk"):
        t = socket.create_connection(("127.0.0.1", s.port), timeout=2)
        t.sendall(struct.pack("!H", len(m)) + m)
        t.close()
    # TCP: a length prefix promising 64 KiB that never comes, and half one.
    hang = socket.create_connection(("127.0.0.1", s.port), timeout=2)
    hang.sendall(b"\xff\xff" + good)
    half = socket.create_connection(("127.0.0.1", s.port), timeout=2)
    half.sendall(b"\x00")
    try:
        wait_for(lambda: answers("web.shop.svc.cluster.local.", "A",
                                 s.port) == ["10.96.12.34"], 5,
                 what="answers after garbage")
        r = query("web.shop.svc.cluster.local.", "A", port=s.port, tcp=True)
        assert [rd.to_text() for rr in r.answer for rd in rr] == \
            ["10.96.12.34"]
    finally:
        hang.close()
        half.close()
    assert s.proc.poll() is None
    assert os.path.exists(os.path.join(s.state_dir, "nsd.pid"))
