"""Liveness under load: /healthz must answer while other clients hold
every connection slot of the HTTP endpoint.

The endpoint (syncer/http.c) serves at most HTTP_CONN_MAX (64)
connections at a time. Here clients keep that many connections open --
some silent, some trickling a request header byte by byte, reopening any
the server closes -- while other clients scrape /metrics in a loop. A
liveness probe is a fresh connection sending `GET /healthz`: it must be
answered within PROBE_BOUND seconds, every time, for as long as the load
lasts, and DNS must keep answering.

No assertion is about speed otherwise: each probe is a condition wait
with a generous bound (2 s), far above an answer's normal latency (a few
ms) yet far below the endpoint's idle timeout (10 s), which is what a
probe waited for when the slots could all be taken. (They cannot now: a
connection beyond the 48th shuts the oldest one down.)
"""

import socket
import threading
import time
import urllib.request

from conftest import answers, free_port, wait_for

HTTP_CONN_MAX = 64          # MHD_OPTION_CONNECTION_LIMIT in syncer/http.c
PROBE_BOUND = 2.0
WEB = "web.shop.svc.cluster.local."


def http_get(port, path, timeout):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=timeout) as r:
        return r.status, r.read()


def probe(port, bound=PROBE_BOUND):
    """Seconds /healthz took to answer 200; fails after BOUND seconds."""
    t0 = time.monotonic()

    def ok():
        left = bound - (time.monotonic() - t0)
        return http_get(port, "/healthz", max(left, 0.05))[0] == 200

    wait_for(ok, bound, interval=0.05, what="/healthz under load")
    return time.monotonic() - t0


class Holder(threading.Thread):
    """Keeps COUNT connections open to PORT; reopens those the server
    closes. Every SLOW-th connection sends a request header a byte at a
    time (slow-loris), the others stay silent."""

    def __init__(self, port, count, slow=4):
        super().__init__(daemon=True)
        self.port, self.count, self.slow = port, count, slow
        self.stop = threading.Event()
        self.conns = [None] * count
        self.opened = 0
        self.lock = threading.Lock()

    def open(self, i):
        try:
            c = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            return None
        c.setblocking(False)
        if i % self.slow == 0:
            c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        with self.lock:
            self.opened += 1
        return c

    def closed(self, c):
        try:
            return c.recv(4096) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        while not self.stop.is_set():
            for i in range(self.count):
                c = self.conns[i]
                if c is not None and self.closed(c):
                    c.close()
                    c = None
                if c is None:
                    c = self.conns[i] = self.open(i)
                elif i % self.slow == 0:
                    try:
                        c.send(b"X")            # a header, slowly
                    except OSError:
                        pass
            self.stop.wait(0.1)

    def live(self):
        return sum(1 for c in self.conns if c is not None)

    def close(self):
        self.stop.set()
        self.join(10)
        for c in self.conns:
            if c is not None:
                c.close()


class Scraper(threading.Thread):
    """Scrapes /metrics in a loop, as fast as it is answered."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.ok = 0

    def run(self):
        while not self.stop.is_set():
            try:
                if http_get(self.port, "/metrics", 2)[0] == 200:
                    self.ok += 1
            except OSError:
                self.stop.wait(0.01)

    def close(self):
        self.stop.set()
        self.join(10)


def test_healthz_answers_while_every_slot_is_held(sync, snapshot):
    hp = free_port()
    s = sync(snapshot, "--http", "127.0.0.1:%d" % hp)
    probe(hp)

    holder = Holder(hp, HTTP_CONN_MAX)
    scrapers = [Scraper(hp) for _ in range(4)]
    try:
        holder.start()
        wait_for(lambda: holder.live() == HTTP_CONN_MAX, 10,
                 what="%d connections held" % HTTP_CONN_MAX)
        for t in scrapers:
            t.start()
        # The load runs beyond a whole idle timeout of the endpoint
        # (10 s), probed all along.
        end = time.monotonic() + 12
        probes = 0
        while time.monotonic() < end:
            probe(hp)
            probes += 1
            assert answers(WEB, "A", s.port) == ["10.96.12.34"]
            assert s.proc.poll() is None, s.text()[-2000:]
            time.sleep(0.2)
        assert probes >= 5
        # The load was real: every slot held (reopened when closed) and
        # /metrics scraped throughout.
        wait_for(lambda: holder.live() == HTTP_CONN_MAX, 5,
                 what="%d connections still held" % HTTP_CONN_MAX)
        assert sum(t.ok for t in scrapers) > 0
    finally:
        holder.close()
        for t in scrapers:
            t.close()
    probe(hp)
    assert http_get(hp, "/metrics", 5)[0] == 200
    # A clean stop after all that (under ASan: nothing leaked or misused).
    assert s.stop() == 0, s.text()[-3000:]
