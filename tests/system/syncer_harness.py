"""Helpers for the syncer system tests: a real `kubezone sync` (with its real
NSD) following the fake kube-apiserver, DNS queries, AXFR, and the oracle:
the zones served must equal a fresh `kubezone render` of the API's state.

Every process started here is stopped by PID; servers bind 127.0.0.1 on
free ports.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

ROOT = Path(__file__).resolve().parents[2]
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))
sys.path.insert(0, str(ROOT / "tests" / "fakeapi"))
from client import KUBECTL, FakeApi  # noqa: E402,F401
# The one harness: wait_for(pred, timeout, interval, what) and free_port()
# are conftest's.
sys.path.insert(0, str(ROOT / "tests" / "system"))
from conftest import GiveUp, free_port, wait_for  # noqa: E402,F401

NS = "/api/v1/namespaces"
ZONE = "cluster.local"


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBERNETES_"))}
    env.update(extra or {})
    return env


class Syncer:
    """One `kubezone sync` process with its own state directory and ports."""

    def __init__(self, workdir, kubeconfig=None, args=(), env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig, self.args, self.env = kubeconfig, list(args), env
        self.proc = None
        self.dns_port = self.http_port = None
        self.logpath = self.workdir / "kubezone.log"

    def command(self):
        cmd = [KUBEZONE, "sync", "--state-dir", str(self.workdir / "state"),
               "--listen", f"127.0.0.1:{self.dns_port}", "--http", f"127.0.0.1:{self.http_port}",
               "--allow-transfer", "127.0.0.1", "--min-interval", "50ms",
               "--backoff-max", "1s", "--idle-timeout", "5s"]
        if self.kubeconfig:
            cmd += ["--kubeconfig", str(self.kubeconfig)]
        return cmd + [str(a) for a in self.args]

    def start(self):
        self.dns_port, self.http_port = free_port(), free_port()
        self.log = open(self.logpath, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=clean_env(self.env))
        return self

    def stop(self, timeout=10.0):
        """SIGTERM by PID; returns the exit status (SIGKILL after TIMEOUT)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError("kubezone sync did not stop on SIGTERM")
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        return self.logpath.read_text(errors="replace") if self.logpath.exists() else ""

    # -- HTTP endpoint -------------------------------------------------------

    def http(self, path, timeout=5.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}",
                                        timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None, ""

    def ready(self):
        if self.proc.poll() is not None:
            raise GiveUp(f"kubezone exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}")
        return self.http("/readyz")[0] == 200

    def wait_ready(self, timeout=20.0):
        wait_for(self.ready, timeout, what="readiness")
        return time.monotonic() - self.started

    def metrics(self):
        """{'name{labels}': value} from /metrics."""
        status, text = self.http("/metrics")
        assert status == 200, status
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def metric(self, key, default=0.0):
        return self.metrics().get(key, default)

    # -- DNS -------------------------------------------------------------------

    def query(self, name, rdtype="A", timeout=1.0):
        """(rcode name, sorted answer texts); ('TIMEOUT', []) when no answer."""
        q = dns.message.make_query(name, rdtype)
        try:
            r = dns.query.udp(q, "127.0.0.1", port=self.dns_port, timeout=timeout)
        except dns.exception.Timeout:
            return "TIMEOUT", []
        answers = sorted(rd.to_text() for rrset in r.answer for rd in rrset
                         if rrset.rdtype == dns.rdatatype.from_text(rdtype))
        return dns.rcode.to_text(r.rcode()), answers

    def wait_answer(self, name, rdtype, want, timeout=10.0):
        """Poll until the answer is WANT (a sorted list, or 'NXDOMAIN')."""
        def check():
            rcode, answers = self.query(name, rdtype)
            got = rcode if rcode != "NOERROR" else answers
            return got == want or None
        t0 = time.monotonic()
        try:
            wait_for(check, timeout, 0.01, what=f"{name} {rdtype} = {want}")
        except AssertionError:
            raise AssertionError(f"{name} {rdtype}: {self.query(name, rdtype)}, wanted {want}")
        return time.monotonic() - t0

    def axfr(self, origin):
        """The records of ORIGIN as served (a set), SOA excluded; None if refused."""
        try:
            zone = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", origin, port=self.dns_port,
                                                   timeout=5.0, lifetime=10.0, relativize=False),
                                     relativize=False)
        except Exception:
            return None
        return records_of(zone)


def records_of(zone):
    out = set()
    for name, ttl, rdata in zone.iterate_rdatas():
        if rdata.rdtype == dns.rdatatype.SOA:
            continue
        out.add((name.to_text().lower(), ttl, dns.rdatatype.to_text(rdata.rdtype), rdata.to_text()))
    return out


def fresh_render(fake, workdir, render_args=()):
    """{origin: records} rendered by `kubezone render` from the API's current state."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    items = fake.state()["items"]
    snap = workdir / "state.json"
    snap.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": items}))
    out = workdir / "render"
    if out.exists():
        for f in out.iterdir():
            f.unlink()
    res = subprocess.run([KUBEZONE, "render", "--out", str(out), "--log-level", "error",
                          *map(str, render_args), str(snap)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    zones = {}
    for f in sorted(out.iterdir()):
        origin = f.name[:-len(".zone")] + "."
        zones[origin] = records_of(dns.zone.from_text(f.read_text(), origin, relativize=False,
                                                      check_origin=False))
    return zones


def served(syncer, origins):
    return {origin: syncer.axfr(origin) for origin in origins}


def diff(want, got):
    lines = []
    for origin in want:
        w, g = want[origin], got.get(origin) or set()
        if got.get(origin) is None:
            lines.append(f"{origin}: not served")
            continue
        lines += [f"{origin} missing: {r}" for r in sorted(w - g)[:10]]
        lines += [f"{origin} extra:   {r}" for r in sorted(g - w)[:10]]
    return "\n".join(lines)


def wait_converged(fake, syncer, workdir, timeout=15.0, render_args=()):
    """Wait until every zone served equals a fresh render of the API's state."""
    deadline = time.monotonic() + timeout
    while True:
        want = fresh_render(fake, workdir, render_args)
        got = served(syncer, want)
        if got == want:
            return want
        if time.monotonic() > deadline:
            raise AssertionError("served zones differ from a fresh render:\n" + diff(want, got)
                                 + "\n--- kubezone log tail:\n" + syncer.log_text()[-3000:])
        time.sleep(0.2)


# -- objects -------------------------------------------------------------------

def service(name, ns="default", headless=False, ports=((80, "http"),), **spec):
    body = {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"name": n, "port": p, "protocol": "TCP"} for p, n in ports], **spec}}
    if headless:
        body["spec"]["clusterIP"] = "None"
    return body


def endpointslice(name, svc, addresses, ns="default", port=8080, hostnames=None, ready=True):
    eps = []
    for i, addr in enumerate(addresses):
        ep = {"addresses": [addr], "conditions": {"ready": ready}}
        if hostnames:
            ep["hostname"] = hostnames[i]
        eps.append(ep)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"kubernetes.io/service-name": svc,
                                    "endpointslice.kubernetes.io/managed-by": "tests"}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
            "endpoints": eps}


def svc_path(ns="default", name=None):
    return f"{NS}/{ns}/services" + (f"/{name}" if name else "")


def slice_path(ns="default", name=None):
    return f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices" + (f"/{name}" if name else "")


def create(fake, obj):
    ns = obj["metadata"].get("namespace")
    if obj["kind"] == "Service":
        path = svc_path(ns)
    elif obj["kind"] == "EndpointSlice":
        path = slice_path(ns)
    else:
        path = NS
    return fake.api("POST", path, obj, expect=201)


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def requests_of(fake, path_part, watch=None):
    """Logged API requests whose path contains PATH_PART (watch: True/False/None)."""
    out = []
    for r in fake.requests():
        p = r["path"]
        if path_part not in p.split("?")[0]:
            continue
        is_watch = "watch=1" in p or "watch=true" in p.lower()
        if watch is None or watch == is_watch:
            out.append(r)
    return out
