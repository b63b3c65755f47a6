"""The kubezone image, built by `make image` with Debian's podman and run
the way container/manifests/deployment.yaml runs it.

`make image` (container/build-image.sh) installs podman, runc and
debootstrap when missing, makes the debootstrapped base image once (cached
in podman's storage) and builds container/Dockerfile. The container then
runs with the Deployment's args and security settings -- non-root, a
read-only root filesystem, no capabilities, no new privileges, the state
dir on a volume (the emptyDir), the TSIG key file at the Secret's mount
path, the in-cluster service account and KUBERNETES_SERVICE_* pointing at
the fake API server -- on the host's network, with DNS and HTTP moved to
free loopback ports. The tests query it from the host: DNS over UDP and
TCP, AXFR (plain from 127.0.0.1, TSIG-only from another address),
/healthz, /readyz, /metrics, a change made through the API, a restart on
the same state dir.

Where podman cannot run here, every test is skipped with the reason,
also printed on the terminal (never silently). A build that fails is a
failure, not a skip.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import dns.query
import dns.rcode
import dns.zone
import pytest
import yaml

from conftest import ROOT, answers, axfr, free_port, query, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from syncer_harness import FakeApi, fresh_render, records_of  # noqa: E402

RUNC = "/usr/sbin/runc"
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
BASE = "localhost/kubezone-base:bookworm"
KEY_NAME = "xfr"
KEY_SECRET = "a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="
MANIFESTS = os.path.join(ROOT, "container", "manifests")


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


IMAGE = "localhost/kubezone:" + version()


def podman(*args, check=True, timeout=120):
    r = subprocess.run(["podman", "--runtime", RUNC, *args],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("podman %s: %s" % (" ".join(args[:3]),
                                                r.stderr[-3000:]))
    return r


def deployment():
    with open(os.path.join(MANIFESTS, "deployment.yaml")) as f:
        return yaml.safe_load(f)


def clusterrole():
    with open(os.path.join(MANIFESTS, "rbac.yaml")) as f:
        return [o for o in yaml.safe_load_all(f) if o and
                o["kind"] == "ClusterRole"][0]


def say(request, text):
    """A line on the terminal even under -q and output capture."""
    plugins = request.config.pluginmanager
    rep = plugins.getplugin("terminalreporter")
    capture = plugins.getplugin("capturemanager")
    if rep and capture:
        with capture.global_and_fixture_disabled():
            rep.write_line(text)
    elif rep:
        rep.write_line(text)


def why_podman_cannot_run():
    """None when podman can run containers here, else the reason."""
    r = subprocess.run([os.path.join(ROOT, "container", "deps.sh"),
                        "image"], capture_output=True, text=True)
    if r.returncode != 0:
        return "the image packages (podman, runc, debootstrap) could not " \
            "be installed: %s" % r.stderr.strip()[-500:]
    if shutil.which("podman") is None or not os.access(RUNC, os.X_OK):
        return "podman or %s is not installed" % RUNC
    r = podman("info", check=False)
    if r.returncode != 0:
        return "`podman info` fails: %s" % r.stderr.strip()[-500:]
    r = subprocess.run([os.path.join(ROOT, "container", "build-image.sh"),
                        "--base"], capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        return "the debootstrapped base image could not be made: %s" % \
            r.stderr.strip()[-800:]
    r = podman("run", "--rm", "--network=host", *ULIMITS, BASE, "true",
               check=False)
    if r.returncode != 0:
        return "podman cannot run a container here: %s" % \
            r.stderr.strip()[-500:]
    return None


@pytest.fixture(scope="module")
def image(request):
    """Build the image with `make image` (once for the module)."""
    reason = why_podman_cannot_run()
    if reason:
        say(request, "\ntest_image.py: SKIPPED, the image is neither built "
            "nor run: " + reason)
        pytest.skip(reason)
    t0 = time.monotonic()
    r = subprocess.run(["make", "-s", "-C", ROOT, "image"],
                       capture_output=True, text=True, timeout=1800)
    took = time.monotonic() - t0
    assert r.returncode == 0, "make image failed:\n" + \
        (r.stdout + r.stderr)[-5000:]
    size = int(podman("image", "inspect", "--format", "{{.Size}}",
                      IMAGE).stdout)
    say(request, "\ntest_image.py: make image: %s, %.0f MB, %.0f s" % (
        IMAGE, size / 1e6, took))
    return IMAGE


def inspect(image):
    return json.loads(podman("image", "inspect", image).stdout)[0]


def test_image_is_small_non_root_and_probe_free(image):
    info = inspect(image)
    cfg = info["Config"]
    dep = deployment()
    psc = dep["spec"]["template"]["spec"]["securityContext"]
    assert cfg["User"] == "%d:%d" % (psc["runAsUser"], psc["runAsGroup"])
    assert cfg["Entrypoint"] == ["/usr/bin/kubezone"]
    assert "Healthcheck" not in cfg or not cfg["Healthcheck"], \
        "the probes are Kubernetes' (no HEALTHCHECK)"
    assert info["Size"] < 150e6, info["Size"]
    assert cfg["Labels"]["org.opencontainers.image.version"] == version()


def test_image_holds_the_runtime_section_only(image):
    """The final stage has the list's runtime packages, and none of the
    build ones (compilers, headers)."""
    with open(os.path.join(ROOT, "container", "packages.txt")) as f:
        text = f.read()
    runtime = re.search(r"^runtime:(.*)$", text, re.M).group(1).split()
    build = re.search(r"^build:(.*)$", text, re.M).group(1).split()
    r = podman("run", "--rm", "--network=host", *ULIMITS, "--entrypoint",
               "dpkg-query", image, "-W", "-f", "${Package} ${Status}\\n")
    installed = {l.split()[0] for l in r.stdout.splitlines()
                 if l.endswith(" installed")}
    assert set(runtime) <= installed, set(runtime) - installed
    assert not (set(build) & installed), set(build) & installed
    assert not any(p.endswith("-dev") for p in installed)
    r = podman("run", "--rm", "--network=host", *ULIMITS, image, "version")
    assert r.stdout.strip() == "kubezone " + version()


class Pod:
    """The container as the Deployment runs it, on loopback ports."""

    def __init__(self, image, fake, workdir, name):
        self.image, self.fake, self.name = image, fake, name
        self.dns_port, self.http_port = free_port(), free_port()
        dep = deployment()
        spec = dep["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        self.uid = spec["securityContext"]["runAsUser"]
        self.gid = spec["securityContext"]["runAsGroup"]
        self.csc = c["securityContext"]
        args = []
        for a in c["args"]:
            if a.startswith("--listen="):
                a = "--listen=127.0.0.1:%d" % self.dns_port
            elif a.startswith("--http="):
                a = "--http=127.0.0.1:%d" % self.http_port
            args.append(a)
        self.args = args
        self.state_path = [a.split("=", 1)[1] for a in args
                           if a.startswith("--state-dir=")][0]
        self.mount_path = [m["mountPath"] for m in c["volumeMounts"]
                           if m["name"] == "state"][0]
        self.keys_path = [a.split("=", 1)[1] for a in args
                          if a.startswith("--tsig-key-file=")][0]

        # The emptyDir, the Secret and the service account, as the kubelet
        # would give them: owned by the pod's group, not world-readable.
        os.chmod(workdir, 0o755)
        self.state = workdir / "state"
        self.state.mkdir()
        os.chown(self.state, 0, self.gid)
        os.chmod(self.state, 0o2770)
        secret = workdir / "secret"
        secret.mkdir()
        (secret / os.path.basename(self.keys_path)).write_text(
            "%s:hmac-sha256:%s\n" % (KEY_NAME, KEY_SECRET))
        sa = workdir / "serviceaccount"
        sa.mkdir()
        (sa / "token").write_text(fake.token_file.read_text())
        shutil.copy(fake.ca_file, sa / "ca.crt")
        (sa / "namespace").write_text(dep["metadata"]["namespace"])
        for d in (secret, sa):
            os.chown(d, 0, self.gid)
            os.chmod(d, 0o750)
            for f in d.iterdir():
                os.chown(f, 0, self.gid)
                os.chmod(f, 0o440)
        self.mounts = [
            "-v", "%s:%s" % (self.state, self.mount_path),
            "-v", "%s:%s:ro" % (secret, os.path.dirname(self.keys_path)),
            "-v", "%s:/var/run/secrets/kubernetes.io/serviceaccount:ro" % sa]

    def run(self):
        caps = ["--cap-drop=" + c for c in self.csc["capabilities"]["drop"]]
        caps += ["--cap-add=" + c for c in
                 self.csc["capabilities"].get("add", [])]
        flags = ["--user", "%d:%d" % (self.uid, self.gid), *caps]
        if self.csc["readOnlyRootFilesystem"]:
            flags.append("--read-only")
        if self.csc["allowPrivilegeEscalation"] is False:
            flags += ["--security-opt", "no-new-privileges"]
        podman("run", "-d", "--name", self.name, "--network=host", *ULIMITS,
               *flags, *self.mounts,
               "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1",
               "-e", "KUBERNETES_SERVICE_PORT=%d" % self.fake.port,
               self.image, *self.args)
        return self

    def logs(self):
        r = podman("logs", self.name, check=False)
        return r.stdout + r.stderr

    def running(self):
        r = podman("inspect", "--format", "{{.State.Running}}", self.name,
                   check=False)
        return r.stdout.strip() == "true"

    def http(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (
                    self.http_port, path), timeout=3) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None, ""

    def wait_ready(self, timeout=60):
        def ready():
            if not self.running():
                raise AssertionError("the container stopped:\n" +
                                     self.logs()[-3000:])
            return self.http("/readyz")[0] == 200
        wait_for(ready, timeout, 0.1, "readiness of the container")

    def stop(self):
        """podman stop (SIGTERM, then SIGKILL after 15 s); exit code."""
        podman("stop", "-t", "15", self.name, check=False, timeout=60)
        r = podman("inspect", "--format", "{{.State.ExitCode}}", self.name,
                   check=False)
        return int(r.stdout.strip()) if r.returncode == 0 else None

    def remove(self):
        podman("rm", "-f", "-t", "5", self.name, check=False, timeout=60)


@pytest.fixture
def pod(image, tmp_path):
    fake = FakeApi(tmp_path / "fake", tls=True, token="image-test-token",
                   snapshot=os.path.join(ROOT, "examples", "cluster.json"))
    fake.start()
    pods = []

    def make():
        workdir = tmp_path / ("pod%d" % len(pods))
        workdir.mkdir()
        p = Pod(image, fake, workdir, container_name())
        pods.append(p)
        return p

    try:
        yield fake, make
    finally:
        for p in pods:
            p.remove()
        fake.stop()


def container_name():
    return "kubezone-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])


def served(origin, port):
    """The records of ORIGIN as transferred from 127.0.0.1, SOA excluded."""
    return records_of(dns.zone.from_xfr(
        dns.query.xfr("127.0.0.1", origin, port=port, timeout=5.0,
                      lifetime=20.0, relativize=False), relativize=False))


def test_container_serves_dns_axfr_and_probes(pod, tmp_path):
    fake, make = pod
    p = make().run()
    p.wait_ready()
    assert p.http("/healthz")[0] == 200
    assert p.http("/readyz")[0] == 200

    # Queries over UDP and TCP, from the host.
    assert answers("web.shop.svc.cluster.local.", "A",
                   port=p.dns_port) == ["10.96.12.34"]
    r = query("web.shop.svc.cluster.local.", "A", port=p.dns_port,
              tcp=True)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert query("nothing.shop.svc.cluster.local.", "A",
                 port=p.dns_port).rcode() == dns.rcode.NXDOMAIN

    # AXFR of every zone equals a fresh render of the API's state.
    # The manifest serves the cluster's CIDRs (its placeholders), not
    # the whole reverse trees.
    reverse = [a for a in p.args if a.startswith("--reverse-zone=")]
    assert reverse, p.args
    want = fresh_render(fake, tmp_path / "render", reverse)
    assert {"cluster.local.", "96.10.in-addr.arpa.",
            "244.10.in-addr.arpa."} <= set(want)
    assert "in-addr.arpa." not in want and "ip6.arpa." not in want
    for origin, records in want.items():
        assert served(origin, p.dns_port) == records, origin

    # Another address may transfer only with the Secret's key.
    with pytest.raises(Exception):
        axfr("cluster.local.", p.dns_port, source="127.0.0.2")
    signed = axfr("cluster.local.", p.dns_port, source="127.0.0.2",
                  key=(KEY_NAME, KEY_SECRET))
    assert any(r[2] == "A" for r in signed)

    # A change made through the API reaches DNS.
    fake.api("POST", "/api/v1/namespaces/shop/services", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "late", "namespace": "shop"},
        "spec": {"clusterIP": "10.96.77.7",
                 "ports": [{"name": "http", "port": 80}]}},
        expect=201)
    wait_for(lambda: answers("late.shop.svc.cluster.local.", "A",
                             port=p.dns_port) == ["10.96.77.7"], 15,
             0.1, "the new Service served")

    status, metrics = p.http("/metrics")
    assert status == 200
    serial = re.search(r'^kubezone_zone_serial\{zone="cluster\.local"\} '
                       r'(\d+)$', metrics, re.M)
    assert serial, metrics[-2000:]
    assert int(serial.group(1)) == query(
        "cluster.local.", "SOA", port=p.dns_port).answer[0][0].serial
    assert re.search(r"^kubezone_nsd_restarts_total 0$", metrics, re.M)

    # What it asked the API for is what the ClusterRole grants.
    granted = set()
    for rule in clusterrole()["rules"]:
        for g in rule["apiGroups"]:
            granted |= {(g, res) for res in rule["resources"]}
    asked = set()
    for req in fake.requests():
        path = req["path"].split("?")[0]
        m = re.match(r"^/api/v1/(?:namespaces/[^/]+/)?([a-z]+)$", path) \
            or re.match(r"^/apis/([a-z0-9.]+)/v1/(?:namespaces/[^/]+/)?"
                        r"([a-z]+)$", path)
        if req["method"] != "GET" or not m:
            continue
        asked.add(("",) + m.groups() if len(m.groups()) == 1
                  else m.groups())
    assert asked and asked <= granted, (asked, granted)

    # SIGTERM: kubezone stops NSD and exits 0.
    assert p.stop() == 0, p.logs()[-3000:]
    assert "nsd started" in p.logs()


def test_restart_on_the_same_state_dir_keeps_serials(pod, tmp_path):
    """A container restart keeps the emptyDir: the serial does not go
    back, and an unchanged cluster keeps its serial."""
    fake, make = pod
    p = make().run()
    p.wait_ready()
    first = query("cluster.local.", "SOA", port=p.dns_port).answer[0][0].serial
    assert p.stop() == 0
    p.remove()
    state = p.state / os.path.relpath(p.state_path, p.mount_path)
    assert (state / "serial.state").exists()
    assert (state / "zones" / "cluster.local.zone").exists()
    p.name = container_name()
    p.run()
    p.wait_ready()
    again = query("cluster.local.", "SOA", port=p.dns_port).answer[0][0].serial
    assert again == first, "unchanged zones keep their serial"
