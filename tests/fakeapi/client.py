"""Start, stop and drive the fake kube-apiserver (fakeapi.py) from Python tests.

    from client import FakeApi          # tests/fakeapi on sys.path
    with FakeApi(tmp_path, tls=True, token="s3cret") as fake:
        fake.kubectl("create", "-f", "svc.yaml")
        fake.fault(action="status", code=500, count=2, match="/services")
        items = fake.state()["items"]

Each FakeApi owns a work directory holding its port file, log, TLS material,
token file, kubeconfig and a private HOME / kubectl cache, so nothing leaks
between tests.  Standard library only.
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

FAKEAPI = Path(__file__).resolve().with_name("fakeapi.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
KUBECTL = shutil.which("kubectl")


class FakeApi:
    """One fake apiserver subprocess and the files tests need to talk to it."""

    def __init__(self, workdir, tls=False, token=None, snapshot=None, args=()):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tls, self.snapshot, self.args = tls, snapshot, list(args)
        self.token_file = self.workdir / "token" if token else None
        if token:
            self.set_token_file(token)
        self.proc, self.port, self.logfile = None, None, None

    # -- process lifecycle ------------------------------------------------------

    def start(self, port=0, timeout=10.0):
        """Start the fake (on PORT, 0 = any free port) and wait until it listens."""
        port_file = self.workdir / "port"
        port_file.unlink(missing_ok=True)
        cmd = [PYTHON, str(FAKEAPI), "--port", str(port), "--port-file", str(port_file), *self.args]
        if self.tls:
            cmd += ["--tls-dir", str(self.workdir / "tls")]
        if self.token_file:
            cmd += ["--token-file", str(self.token_file)]
        if self.snapshot:
            cmd += ["--snapshot", str(self.snapshot)]
        self.logfile = open(self.workdir / "fakeapi.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fakeapi did not start: {self.log_text()[-2000:]}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        return self

    def stop(self, timeout=5.0):
        """SIGTERM the fake by PID, wait for it, SIGKILL it if it lingers."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.logfile:
            self.logfile.close()
            self.logfile = None
        return self.proc.returncode if self.proc else None

    def restart(self, pause=0.0):
        """Stop, wait PAUSE seconds, and start again on the same port (fresh state)."""
        self.stop()
        time.sleep(pause)
        return self.start(port=self.port)

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *_exc):
        self.stop()

    def log_text(self):
        path = self.workdir / "fakeapi.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- plain HTTP(S) access -----------------------------------------------------

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self):
        return self.workdir / "tls" / "ca.crt"

    def set_token_file(self, token):
        """Rewrite the token file (the fake re-reads it on every request)."""
        self.token_file.write_text(token + "\n")

    def connect(self, timeout=10.0):
        """A new http.client connection to the fake."""
        if not self.tls:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)

    def request(self, method, path, body=None, token=None, content_type="application/json",
                headers=None, timeout=10.0):
        """One request; returns (status, decoded JSON or text). TOKEN None = the token file's."""
        if token is None and self.token_file:
            token = self.token_file.read_text().strip()
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        conn = self.connect(timeout)
        try:
            conn.request(method, path, data, headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def api(self, method, path, body=None, expect=200, **kwargs):
        """A request that must answer EXPECT; returns the decoded body."""
        status, answer = self.request(method, path, body, **kwargs)
        if status != expect:
            raise AssertionError(f"{method} {path}: HTTP {status} (wanted {expect}): {answer}")
        return answer

    # -- control plane (/_fake/*) ------------------------------------------------

    def control(self, name, body=None, method="POST"):
        return self.api(method, f"/_fake/{name}", {} if body is None and method == "POST" else body)

    def fault(self, **rule):
        """Add a fault rule (see README.md): fault(action="status", code=500, count=2)."""
        return self.control("fault", rule)["rule"]

    def clear_faults(self):
        return self.control("faults", method="DELETE")

    def state(self):
        """{"items": [...all objects...], "rv": N, "oldest": M, "watches": [...]} (a kubectl List)."""
        return self.control("state", method="GET")

    def objects(self, kind):
        return [o for o in self.state()["items"] if o["kind"] == kind]

    def requests(self):
        return self.control("requests", method="GET")["items"]

    def clear_log(self):
        return self.control("clear-log")

    def seed(self, items):
        return self.control("seed", {"items": items})

    def load(self, items):
        return self.control("load", {"items": items})

    def reset(self):
        return self.control("reset")

    def compact(self, gone=False):
        return self.control("compact", {"gone": gone})

    def close_watches(self, abrupt=False):
        return self.control("close-watches", {"abrupt": abrupt})["watches"]

    def bookmark(self):
        return self.control("bookmark")["watches"]

    def inject(self, action, **params):
        """Act on every open watch now: end, cut, gone, stall, malformed, bigline, bookmark."""
        return self.control("watches", {"action": action, **params})["watches"]

    def tokens(self, accept):
        return self.control("tokens", {"accept": list(accept)})

    def set_rv(self, rv):
        return self.control("rv", {"set": rv})

    def config(self, **settings):
        """bookmark_interval, min_request_timeout, split (bool), window."""
        return self.control("config", settings)

    def crds(self, **installed):
        """Install (True) or remove (False) CRDs: crds(serviceimports=True)."""
        return self.control("crds", installed)["crds"]

    def down(self, refuse_seconds=0):
        return self.control("down", {"refuse_seconds": refuse_seconds})

    def up(self):
        return self.control("up")

    def wait_for_watches(self, count=1, timeout=10.0):
        """Wait until at least COUNT watches are open (e.g. a kubectl get -w)."""
        deadline = time.monotonic() + timeout
        while len(self.state()["watches"]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} watches opened within {timeout}s")
            time.sleep(0.05)

    # -- kubectl --------------------------------------------------------------------

    def write_kubeconfig(self, name="kubeconfig", token=None, token_file=None, namespace="default"):
        """Write a kubeconfig for the fake; by default the user uses the fake's token file.

        Note: kubectl prompts for a username when a 401 meets a user without any
        credentials, so test rejections with a wrong TOKEN instead.
        """
        user = {}
        if token:
            user["token"] = token
        elif token_file or self.token_file:
            user["tokenFile"] = str(token_file or self.token_file)
        cluster = {"server": self.url}
        if self.tls:
            cluster["certificate-authority"] = str(self.ca_file)
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "fake", "preferences": {},
                  "clusters": [{"name": "fake", "cluster": cluster}],
                  "users": [{"name": "fake", "user": user}],
                  "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake",
                                                            "namespace": namespace}}]}
        path = self.workdir / name
        path.write_text(json.dumps(config, indent=1))
        return path

    def kubectl_env(self):
        """The environment for kubectl: a private HOME and discovery cache (spec §9)."""
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBERNETES_"))}
        env.update(HOME=str(home), KUBECACHEDIR=str(self.workdir / "kubecache"))
        return env

    def kubectl_command(self, args, kubeconfig=None):
        if KUBECTL is None:
            raise RuntimeError("kubectl is not on PATH")
        kubeconfig = kubeconfig or self.workdir / "kubeconfig"
        if not Path(kubeconfig).exists():
            self.write_kubeconfig()
        return [KUBECTL, f"--kubeconfig={kubeconfig}", *map(str, args)]

    def kubectl(self, *args, input=None, kubeconfig=None, check=True, timeout=30):
        """Run kubectl against the fake; returns the CompletedProcess (text mode)."""
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        result = subprocess.run(self.kubectl_command(args, kubeconfig), text=True, capture_output=True,
                                env=self.kubectl_env(), timeout=timeout, **stdin)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(map(str, args))} failed "
                                 f"({result.returncode}): {result.stderr}{result.stdout}")
        return result

    def kubectl_popen(self, *args, kubeconfig=None):
        """Start a long-running kubectl (e.g. get -w) with piped text stdout/stderr."""
        return subprocess.Popen(self.kubectl_command(args, kubeconfig), text=True, env=self.kubectl_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
