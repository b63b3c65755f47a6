"""`kubezone sync` following a (fake) Kubernetes API: kubectl changes reach
the served zones; startup, readiness, metrics, errors and SIGTERM.

Real kubezone, real NSD, the fake kube-apiserver, dnspython and kubectl.
"""

import json
import os
import subprocess
import time

import pytest

from syncer_harness import (KUBECTL, KUBEZONE, FakeApi, Syncer, clean_env, create,
                            endpointslice, fresh_render, requests_of, service, slice_path,
                            svc_path, wait_converged, wait_for)

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH "
                                   "(container/deps.sh installs kubernetes-client)")

FAKE_ARGS = ["--bookmark-interval", "1"]


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", args=FAKE_ARGS) as server:
        server.write_kubeconfig()
        yield server


@pytest.fixture
def syncer(fake, tmp_path):
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig")
    s.start()
    try:
        s.wait_ready()
        yield s
    finally:
        status = s.stop()
        assert status == 0, s.log_text()[-2000:]


WEB = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
"""

HEADLESS = """apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
"""


def slice_yaml(addresses):
    eps = "".join(f"""- addresses: ["{a}"]
  hostname: db-{i}
  conditions: {{ready: true}}
""" for i, a in enumerate(addresses))
    return f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: default
  labels: {{kubernetes.io/service-name: db, endpointslice.kubernetes.io/managed-by: tests}}
addressType: IPv4
ports: [{{name: pg, port: 5432, protocol: TCP}}]
endpoints:
{eps}"""


@needs_kubectl
def test_kubectl_create_delete_and_scale(fake, syncer, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(WEB)
    t0 = time.monotonic()
    fake.kubectl("create", "-f", manifest)
    ip = fake.api("GET", svc_path(name="web"))["spec"]["clusterIP"]
    syncer.wait_answer("web.default.svc.cluster.local", "A", [ip], timeout=5)
    latency = time.monotonic() - t0
    print(f"propagation kubectl create -> answer: {latency * 1000:.0f} ms")
    syncer.wait_answer("_http._tcp.web.default.svc.cluster.local", "SRV",
                       ["0 100 80 web.default.svc.cluster.local."], timeout=2)

    fake.kubectl("delete", "-f", manifest)
    syncer.wait_answer("web.default.svc.cluster.local", "A", "NXDOMAIN", timeout=5)

    # a headless service follows its endpoints as they scale
    (tmp_path / "db.yaml").write_text(HEADLESS)
    fake.kubectl("create", "-f", tmp_path / "db.yaml")
    for addrs in (["10.1.0.1"], ["10.1.0.1", "10.1.0.2", "10.1.0.3"], ["10.1.0.3"]):
        (tmp_path / "slice.yaml").write_text(slice_yaml(addrs))
        fake.kubectl("apply", "-f", tmp_path / "slice.yaml")
        syncer.wait_answer("db.default.svc.cluster.local", "A", sorted(addrs), timeout=5)
    syncer.wait_answer("db-0.db.default.svc.cluster.local", "A", ["10.1.0.3"], timeout=2)
    wait_converged(fake, syncer, tmp_path / "render")


def test_health_metrics_and_sigterm(fake, tmp_path):
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig")
    s.start()
    try:
        wait_for(lambda: s.http("/healthz")[0] == 200, 10, what="healthz")
        startup = s.wait_ready()
        print(f"startup to ready: {startup * 1000:.0f} ms")
        m = s.metrics()
        for key in ('kubezone_resource_synced{resource="services"}',
                    'kubezone_resource_synced{resource="endpointslices"}',
                    'kubezone_resource_synced{resource="namespaces"}'):
            assert m[key] == 1, key
        assert 'kubezone_resource_synced{resource="pods"}' not in m    # pod records off
        assert m['kubezone_zone_serial{zone="cluster.local"}'] > 0
        assert m['kubezone_zone_records{zone="cluster.local"}'] > 0
        assert m["kubezone_render_duration_seconds_count"] >= 1
        assert m["kubezone_publish_duration_seconds_count"] >= 1
        assert abs(m["kubezone_last_sync_timestamp_seconds"] - time.time()) < 30
        assert m['kubezone_api_requests_total{resource="services",verb="list"}'] == 1
        assert "kubezone_nsd_restarts_total" in m
        create(fake, service("m1"))
        wait_for(lambda: s.metric(
            'kubezone_watch_events_total{resource="services",type="ADDED"}') >= 1, 5,
            what="watch event counted")
        status, text = s.http("/metrics")
        assert "# TYPE kubezone_render_duration_seconds histogram" in text
        assert s.http("/nope")[0] == 404
        # quiet at the default level: no line per watch event
        assert "m1" not in s.log_text()
        t0 = time.monotonic()
    finally:
        status = s.stop()
    assert status == 0
    assert time.monotonic() - t0 < 5
    pid = (tmp_path / "kz" / "state" / "nsd.pid")
    if pid.exists() and pid.read_text().strip():
        assert not os.path.exists(f"/proc/{pid.read_text().strip()}"), "NSD still running"


def test_initial_list_is_paginated_and_watch_resumes_from_its_rv(fake, tmp_path):
    fake.seed([service(f"s{i:04d}") for i in range(1200)])
    fake.clear_log()
    with Syncer(tmp_path / "kz", fake.workdir / "kubeconfig") as s:
        s.wait_ready()
        lists = [r["path"] for r in requests_of(fake, "/api/v1/services", watch=False)]
        assert len(lists) == 3, lists
        assert "limit=500" in lists[0] and "continue=" not in lists[0]
        assert all("continue=" in p and "resourceVersion" not in p for p in lists[1:])
        watches = requests_of(fake, "/api/v1/services", watch=True)
        rv = fake.state()["rv"]
        assert f"resourceVersion={rv}" in watches[0]["path"]
        assert "allowWatchBookmarks=true" in watches[0]["path"]
        assert "timeoutSeconds=" in watches[0]["path"]
        assert s.query("s1199.default.svc.cluster.local")[0] == "NOERROR"


def test_no_source_is_a_clear_error(tmp_path):
    res = subprocess.run([KUBEZONE, "sync", "--state-dir", str(tmp_path / "st"), "--http", "off"],
                         capture_output=True, text=True, timeout=30, env=clean_env())
    assert res.returncode == 2
    assert "no Kubernetes API configured" in res.stderr
    assert "--snapshot" in res.stderr and "KUBECONFIG" in res.stderr


def test_kubeconfig_env_and_context(fake, tmp_path):
    """$KUBECONFIG (a list) and --context select the API."""
    good = fake.workdir / "kubeconfig"
    config = json.loads(good.read_text())
    config["contexts"].append({"name": "other", "context": {"cluster": "nowhere", "user": "fake"}})
    config["clusters"].append({"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}})
    config["current-context"] = "other"
    kc = tmp_path / "kc.json"
    kc.write_text(json.dumps(config))
    s = Syncer(tmp_path / "kz", None, args=["--context", "fake"], env={"KUBECONFIG": f":{kc}"})
    with s:
        s.wait_ready()
        create(fake, service("ctx"))
        s.wait_answer("ctx.default.svc.cluster.local", "A",
                      [fake.api("GET", svc_path(name="ctx"))["spec"]["clusterIP"]])


def test_pod_records_watch_pods(fake, tmp_path):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "x"}]},
           "status": {"phase": "Running", "podIP": "10.2.0.7", "podIPs": [{"ip": "10.2.0.7"}]}}
    fake.seed([pod])
    with Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=["--pod-records"]) as s:
        s.wait_ready()
        assert s.metric('kubezone_resource_synced{resource="pods"}') == 1
        s.wait_answer("10-2-0-7.default.pod.cluster.local", "A", ["10.2.0.7"])
        lists = requests_of(fake, "/api/v1/pods", watch=False)
        assert "fieldSelector=status.phase" in lists[0]["path"]
        wait_converged(fake, s, tmp_path / "render", render_args=["--pod-records"])
