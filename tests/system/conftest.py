"""Shared fixtures for kubezone's system tests.

Everything runs on loopback with ports picked free at run time, and every
process a test starts is stopped by its PID when the test ends.

  free_port()            a port free for both UDP and TCP on 127.0.0.1
  kubezone (fixture)     path of the kubezone binary ($KUBEZONE, default
                         build/kubezone)
  state_dir (fixture)    an empty temporary directory (short path: NSD's
                         control socket must fit in 107 bytes)
  sync (fixture)         factory: sync(snapshot, *args) starts
                         `kubezone sync` and returns a Sync handle;
                         stopped at teardown
  query(), axfr(), soa_serial(), rendered_zones()   DNS helpers (dnspython)
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.rcode
import dns.tsigkeyring
import dns.zone
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
EXAMPLE = os.path.join(ROOT, "examples", "cluster.json")


_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port that is free for both TCP and UDP on HOST right now, and
    never handed out before in this run: the kernel may offer a port
    again as soon as it is closed, and two ports asked for one server
    (its DNS and its HTTP port) must differ."""
    for _ in range(1000):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((host, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if port in _handed_out:
                continue
            u.bind((host, port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port")


def stop_pid(proc, timeout=10):
    """SIGTERM, wait, then SIGKILL a Popen (never by name)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def processes_with(text):
    """PIDs whose command line contains TEXT (to check for orphans)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd and pid_alive(int(d)):
            found.append(int(d))
    return found


def read_text(path):
    """The text of PATH ("" when it cannot be read): a server's log."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class GiveUp(AssertionError):
    """Raised by a wait_for predicate when waiting longer is pointless
    (the process being waited on has exited): wait_for lets it through."""


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Call PRED every INTERVAL seconds until it returns a true value, and
    return that value; fail after TIMEOUT seconds, naming WHAT and the
    last result. An exception from PRED counts as "not yet" (a server
    still starting), except GiveUp, which fails at once. The one wait
    of the system tests (syncer_harness.py, tests/bench use it too)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
            if last:
                return last
        except GiveUp:
            raise
        except Exception as e:  # a server still starting
            last = e
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError("timed out after %gs waiting for %s (last: %r)" %
                         (timeout, what, last))


def query(name, rdtype="A", port=53, host="127.0.0.1", tcp=False,
          timeout=2.0, source=None):
    """One DNS query; returns the dns.message.Message."""
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=timeout,
                             source=source)
    return dns.query.udp(q, host, port=port, timeout=timeout, source=source)


def answers(name, rdtype="A", port=53, host="127.0.0.1"):
    """The answer RDATA of NAME/RDTYPE as sorted text."""
    r = query(name, rdtype, port=port, host=host)
    out = []
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            out.extend(rd.to_text() for rd in rrset)
    return sorted(out)


def soa_serial(zone, port, host="127.0.0.1"):
    r = query(zone, "SOA", port=port, host=host)
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def keyring(name, secret, alg="hmac-sha256"):
    return dns.tsigkeyring.from_text({name: (alg, secret)})


def axfr(zone, port, host="127.0.0.1", source=None, key=None):
    """AXFR of ZONE as a set of (owner, ttl, type, rdata) text tuples.

    KEY is (name, secret[, algorithm]) for TSIG. Raises on REFUSED.
    """
    kw = {}
    if key:
        kw["keyring"] = keyring(*key)
        kw["keyname"] = key[0]
        kw["keyalgorithm"] = key[2] if len(key) > 2 else "hmac-sha256"
    origin = dns.name.from_text(zone)
    records = set()
    for msg in dns.query.xfr(host, zone, port=port, source=source,
                             timeout=5, lifetime=30, **kw):
        if msg.rcode() != dns.rcode.NOERROR:
            raise dns.query.TransferError(msg.rcode())
        for rrset in msg.answer:
            for rd in rrset:
                records.add((rrset.name.derelativize(origin).to_text(),
                             rrset.ttl, dns.rdatatype.to_text(rrset.rdtype),
                             rd.to_text(origin=origin, relativize=False)))
    return records


def zone_records(zone_obj):
    """Records of a dns.zone.Zone as (owner, ttl, type, rdata) tuples."""
    origin = zone_obj.origin
    out = set()
    for name, ttl, rd in zone_obj.iterate_rdatas():
        out.add((name.derelativize(origin).to_text(), ttl,
                 dns.rdatatype.to_text(rd.rdtype),
                 rd.to_text(origin=origin, relativize=False)))
    return out


def rendered_zones(kubezone, snapshot, *args):
    """`kubezone render` of SNAPSHOT: {origin: set of record tuples}."""
    out = tempfile.mkdtemp(prefix="kz-render-")
    try:
        subprocess.run([kubezone, "render", "--out", out] + list(args) +
                       [snapshot], check=True, capture_output=True)
        zones = {}
        for f in sorted(os.listdir(out)):
            if not f.endswith(".zone"):
                continue
            z = dns.zone.from_file(os.path.join(out, f), origin=None,
                                   relativize=False)
            zones[z.origin.to_text()] = zone_records(z)
        return zones
    finally:
        shutil.rmtree(out, ignore_errors=True)


def without_soa_serial(records):
    """Drop the serial from SOA tuples so renders compare with transfers."""
    out = set()
    for owner, ttl, rtype, rdata in records:
        if rtype == "SOA":
            f = rdata.split()
            f[2] = "*"
            rdata = " ".join(f)
        out.add((owner, ttl, rtype, rdata))
    return out


class Sync:
    """A running `kubezone sync`; its log goes to STATE/../kubezone.log."""

    def __init__(self, kubezone, snapshot, state_dir, port, args, logpath):
        self.port = port
        self.state_dir = state_dir
        self.snapshot = snapshot
        self.logpath = logpath
        self.cmd = [kubezone, "sync", "--snapshot", snapshot,
                    "--state-dir", state_dir,
                    "--listen", "127.0.0.1:%d" % port] + list(args)
        if "--http" not in args:
            # Tests run side by side: no fixed HTTP port.
            self.cmd += ["--http", "off"]
        self.log = open(logpath, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    @property
    def pid(self):
        return self.proc.pid

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def nsd_pid(self):
        try:
            with open(os.path.join(self.state_dir, "nsd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def wait_serving(self, zone="cluster.local.", timeout=15):
        def ok():
            if self.proc.poll() is not None:
                raise GiveUp("kubezone sync exited (%s):\n%s" %
                             (self.proc.returncode, self.text()))
            return soa_serial(zone, self.port) is not None
        wait_for(ok, timeout, what="%s served on %d" % (zone, self.port))
        return self

    def wait_log(self, text, timeout=10, count=1):
        wait_for(lambda: self.text().count(text) >= count, timeout,
                 what="log line %r" % text)

    def stop(self, timeout=10):
        rc = stop_pid(self.proc, timeout)
        self.log.close()
        return rc


@pytest.fixture
def kubezone():
    path = os.environ.get("KUBEZONE", os.path.join(ROOT, "build",
                                                   "kubezone"))
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.fail("kubezone binary %s not built" % path)
    return path


@pytest.fixture
def state_dir():
    d = tempfile.mkdtemp(prefix="kz-st-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def snapshot(state_dir):
    """A private copy of examples/cluster.json that a test may edit."""
    d = tempfile.mkdtemp(prefix="kz-snap-", dir="/tmp")
    path = os.path.join(d, "cluster.json")
    shutil.copy(EXAMPLE, path)
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sync(kubezone, state_dir):
    """Factory: sync(snapshot, *args, port=None, state=None) -> Sync."""
    started = []

    def start(snapshot, *args, port=None, state=None, wait=True):
        port = port or free_port()
        state = state or state_dir
        log = os.path.join(os.path.dirname(snapshot),
                           "kubezone-%d.log" % len(started))
        s = Sync(kubezone, snapshot, state, port, args, log)
        started.append(s)
        if wait:
            s.wait_serving()
            # Every zone served with a serial of this run (readiness).
            s.wait_log('msg="zones served"', timeout=30)
        return s

    yield start
    for s in started:
        s.stop()


def replace_file(path, text):
    """Atomically replace PATH (write a temp file, rename over)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
