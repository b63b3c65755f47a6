"""Exec credential plugins (client.authentication.k8s.io/v1, v1beta1) against
the fake API over TLS: the plugin's token opens the API, a revoked token (401)
makes kubezone run the plugin again, an expiring token is fetched again before
it expires, a failing or hanging plugin is logged and the zones stay served.

The plugins are small Python scripts written into tmp_path: each run appends
one JSON line (time, expiry, argv, environment) to runs.jsonl, and a mode file
tells it what to do (ok, fail, hang).
"""

import json
import os
import subprocess

import pytest

from syncer_harness import (KUBECTL, KUBEZONE, FakeApi, Syncer, clean_env, create, service,
                            svc_path, wait_for)

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"

PLUGIN = r'''#!/usr/bin/python3
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
mode = open(os.path.join(here, "mode")).read().split()
runs = os.path.join(here, "runs.jsonl")
n = sum(1 for _ in open(runs)) + 1 if os.path.exists(runs) else 1
now = time.time()
life = int(mode[1]) if len(mode) > 1 else 3600
expiry = int(now) + life
rec = {"n": n, "t": now, "expiry": expiry, "argv": sys.argv[1:], "pid": os.getpid(),
       "info": json.loads(os.environ.get("KUBERNETES_EXEC_INFO", "null")),
       "plugin_env": os.environ.get("PLUGIN_ENV"), "stdin": sys.stdin.read(),
       "mode": mode[0]}
with open(runs, "a") as f:
    f.write(json.dumps(rec) + "\n")
if mode[0] == "fail":
    sys.stderr.write("boom: no credentials for you\nsecond line\n")
    sys.exit(3)
if mode[0] == "hang":
    time.sleep(3600)
api = rec["info"]["apiVersion"] if rec["info"] else "client.authentication.k8s.io/v1"
status = {"expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))}
if mode[0] == "cert":
    status["clientCertificateData"] = open(os.path.join(here, "client.crt")).read()
    status["clientKeyData"] = open(os.path.join(here, "client.key")).read()
else:
    status["token"] = "tok-%d" % n
print(json.dumps({"apiVersion": api, "kind": "ExecCredential", "status": status}))
'''


def tokens_from(first, count=200):
    return [f"tok-{i}" for i in range(first, first + count)]


class Plugin:
    def __init__(self, dirpath):
        self.dir = dirpath
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "plugin.py"
        self.path.write_text(PLUGIN)
        self.path.chmod(0o755)
        self.set("ok")

    def set(self, mode, life=None):
        (self.dir / "mode").write_text(mode + (f" {life}" if life else ""))

    def runs(self):
        p = self.dir / "runs.jsonl"
        return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []


def write_kubeconfig(fake, path, command, api=V1, cluster_info=False, mode="Never"):
    config = json.loads(fake.write_kubeconfig().read_text())
    exec_ = {"apiVersion": api, "command": str(command), "args": ["--cluster", "fake"],
             "env": [{"name": "PLUGIN_ENV", "value": "from-kubeconfig"}],
             "provideClusterInfo": cluster_info}
    if mode:
        exec_["interactiveMode"] = mode
    config["users"][0]["user"] = {"exec": exec_}
    path.write_text(json.dumps(config, indent=1))
    return path


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", tls=True, token="bootstrap") as server:
        server.tokens(tokens_from(1))
        yield server


def served_ip(fake, name):
    return [fake.api("GET", svc_path(name=name))["spec"]["clusterIP"]]


def test_plugin_token_reaches_served_zone_and_sees_exec_info(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    # a relative command is resolved against the kubeconfig's directory
    kc = write_kubeconfig(fake, tmp_path / "plugin" / "kubeconfig", "./plugin.py",
                          cluster_info=True)
    create(fake, service("early"))
    with Syncer(tmp_path / "kz", kc) as s:
        s.wait_ready()
        s.wait_answer("early.default.svc.cluster.local", "A", served_ip(fake, "early"))
        create(fake, service("later"))
        s.wait_answer("later.default.svc.cluster.local", "A", served_ip(fake, "later"))
    runs = plugin.runs()
    assert len(runs) == 1, runs
    r = runs[0]
    assert r["argv"] == ["--cluster", "fake"]
    assert r["plugin_env"] == "from-kubeconfig"
    assert r["stdin"] == ""
    assert r["info"]["apiVersion"] == V1 and r["info"]["kind"] == "ExecCredential"
    assert r["info"]["spec"]["interactive"] is False
    cluster = r["info"]["spec"]["cluster"]
    assert cluster["server"] == fake.url
    assert "BEGIN CERTIFICATE" in __import__("base64").b64decode(
        cluster["certificate-authority-data"]).decode()


def test_v1beta1_without_cluster_info(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path, api=V1BETA1, mode=None)
    with Syncer(tmp_path / "kz", kc) as s:
        s.wait_ready()
    info = plugin.runs()[0]["info"]
    assert info["apiVersion"] == V1BETA1
    assert "cluster" not in info["spec"]


def test_revoked_token_reruns_plugin_and_sync_continues(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path)
    with Syncer(tmp_path / "kz", kc) as s:
        s.wait_ready()
        assert [r["n"] for r in plugin.runs()] == [1]
        fake.tokens(tokens_from(2))        # tok-1 is refused from now on
        fake.reset()                       # open watches end: new requests (401)
        wait_for(lambda: len(plugin.runs()) >= 2, 15, what="plugin run again after 401")
        create(fake, service("after"))
        s.wait_answer("after.default.svc.cluster.local", "A", served_ip(fake, "after"),
                      timeout=15)
        assert "API answered 401: running the credential plugin again" in s.log_text()
        # every reflector got its 401 at about the same time: one new run serves them all
        assert len(plugin.runs()) == 2, plugin.runs()


def test_expiring_token_is_fetched_again_before_expiry(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    plugin.set("ok", life=5)
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path)
    with Syncer(tmp_path / "kz", kc) as s:
        s.wait_ready()
        wait_for(lambda: len(plugin.runs()) >= 3, 20, what="three plugin runs")
        runs = plugin.runs()
        for prev, nxt in zip(runs, runs[1:]):
            assert nxt["t"] <= prev["expiry"] + 0.5, (prev, nxt)
        # only the newest tokens are accepted: the sync still works with them
        fake.tokens(tokens_from(len(runs)))
        fake.reset()
        create(fake, service("fresh"))
        s.wait_answer("fresh.default.svc.cluster.local", "A", served_ip(fake, "fresh"),
                      timeout=15)


def test_failing_plugin_is_logged_and_zones_stay_served(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path)
    create(fake, service("kept"))
    with Syncer(tmp_path / "kz", kc) as s:
        s.wait_ready()
        want = served_ip(fake, "kept")
        s.wait_answer("kept.default.svc.cluster.local", "A", want)
        plugin.set("fail")
        fake.tokens(tokens_from(1000))     # every token so far is refused
        fake.reset()
        wait_for(lambda: "credential plugin failed" in s.log_text(), 15, what="failure logged")
        line = next(ln for ln in s.log_text().splitlines() if "credential plugin failed" in ln)
        assert "exit=3" in line
        assert "boom: no credentials for you second line" in line
        wait_for(lambda: sum(r["mode"] == "fail" for r in plugin.runs()) >= 2, 15,
                 what="a retry after a back-off")
        s.wait_answer("kept.default.svc.cluster.local", "A", want, timeout=2)
        # the plugin recovers: the sync goes on
        plugin.set("ok")
        fake.tokens(tokens_from(1))
        create(fake, service("back"))
        s.wait_answer("back.default.svc.cluster.local", "A", served_ip(fake, "back"),
                      timeout=45)


def client_cert(tls_dir, out_dir, cn):
    """A client certificate for CN signed by the fake's CA (client.crt, client.key)."""
    key, csr, crt = out_dir / "client.key", out_dir / "client.csr", out_dir / "client.crt"
    ext = out_dir / "client.ext"
    ext.write_text("extendedKeyUsage = clientAuth\n")
    for command in (
            ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", f"/CN={cn}", "-keyout", key, "-out", csr],
            ["x509", "-req", "-in", csr, "-CA", tls_dir / "ca.crt", "-CAkey", tls_dir / "ca.key",
             "-set_serial", "7", "-days", "2", "-extfile", ext, "-out", crt]):
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)


def test_plugin_client_certificate_is_used_for_tls(tmp_path):
    with FakeApi(tmp_path / "fake", tls=True, token="nobody-has-this",
                 args=["--client-cn", "kubezone-exec"]) as fake:
        plugin = Plugin(tmp_path / "plugin")
        client_cert(fake.workdir / "tls", plugin.dir, "kubezone-exec")
        plugin.set("cert")
        kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path)
        create(fake, service("mtls"))
        with Syncer(tmp_path / "kz", kc) as s:
            s.wait_ready()
            s.wait_answer("mtls.default.svc.cluster.local", "A", served_ip(fake, "mtls"))
        ours = [r for r in fake.requests() if r["ua"].startswith("kubezone/")]
        assert ours and all(r["code"] == 200 and not r["auth"] for r in ours), ours[:3]
        if KUBECTL:
            res = subprocess.run([KUBECTL, "--kubeconfig", str(kc), "get", "ns", "-o", "name"],
                                 capture_output=True, text=True, timeout=60,
                                 env=fake.kubectl_env())
            assert res.returncode == 0 and "namespace/default" in res.stdout, res.stderr


def test_interactive_always_is_refused(tmp_path):
    kc = tmp_path / "kc"
    kc.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"exec": {"command": "aws", "apiVersion": V1,
                                                  "interactiveMode": "Always"}}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}))
    res = subprocess.run([KUBEZONE, "sync", "--state-dir", str(tmp_path / "st"), "--http", "off",
                          "--kubeconfig", str(kc)], capture_output=True, text=True, timeout=30,
                         env=clean_env())
    assert res.returncode == 2
    assert "interactiveMode Always" in res.stderr


def test_missing_plugin_is_logged(fake, tmp_path):
    kc = write_kubeconfig(fake, tmp_path / "kc", "kubezone-no-such-plugin")
    with Syncer(tmp_path / "kz", kc) as s:
        wait_for(lambda: "credential plugin failed" in s.log_text(), 10, what="failure logged")
        assert "kubezone-no-such-plugin" in s.log_text()
        assert s.proc.poll() is None


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_accepts_the_same_kubeconfig(fake, tmp_path):
    plugin = Plugin(tmp_path / "plugin")
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path, cluster_info=True)
    res = subprocess.run([KUBECTL, "--kubeconfig", str(kc), "get", "ns", "-o", "name"],
                         capture_output=True, text=True, timeout=60, env=fake.kubectl_env())
    assert res.returncode == 0, res.stderr
    assert "namespace/default" in res.stdout
    assert plugin.runs()[0]["info"]["spec"]["cluster"]["server"] == fake.url


def test_hanging_plugin_is_killed_after_the_timeout(fake, tmp_path):
    """The real timeout (60 s): the plugin's PID is gone afterwards."""
    plugin = Plugin(tmp_path / "plugin")
    plugin.set("hang")
    kc = write_kubeconfig(fake, tmp_path / "kc", plugin.path)
    with Syncer(tmp_path / "kz", kc) as s:
        wait_for(lambda: plugin.runs(), 10, what="plugin started")
        pid = plugin.runs()[0]["pid"]
        assert os.path.exists(f"/proc/{pid}")
        # the loop is not blocked meanwhile
        assert s.http("/healthz")[0] in (200, 503)
        wait_for(lambda: "killed after 60 s" in s.log_text(), 75, what="timeout")
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 5, what="plugin gone")
        # the next run comes after a back-off, and is killed the same way
        assert s.proc.poll() is None
