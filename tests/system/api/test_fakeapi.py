"""Fidelity tests for the fake kube-apiserver (tests/fakeapi), driven by the real kubectl.

Run: /usr/bin/python3 -m pytest -q tests/system/api/test_fakeapi.py
Tests that need kubectl are skipped when it is not on PATH.
"""

import http.client
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakeapi"))
from client import KUBECTL, FakeApi  # noqa: E402

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

SERVICES = "/api/v1/namespaces/default/services"

WEB_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"""

RBAC_AND_DEPLOYMENT = """apiVersion: v1
kind: ServiceAccount
metadata: {name: kubezone, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kubezone}
rules:
- apiGroups: [""]
  resources: [services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubezone}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubezone}
subjects: [{kind: ServiceAccount, name: kubezone, namespace: kube-system}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubezone, namespace: kube-system}
spec:
  selector: {matchLabels: {app: kubezone}}
  template:
    metadata: {labels: {app: kubezone}}
    spec:
      serviceAccountName: kubezone
      containers:
      - name: kubezone
        image: kubezone:latest
        ports: [{containerPort: 53, protocol: UDP}]
"""


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake") as server:
        yield server


def service(name, port=80, labels=None, **spec):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"ports": [{"name": "http", "port": port}], **spec}}


def create_service(fake, name, **kwargs):
    return fake.api("POST", SERVICES, service(name, **kwargs), expect=201)


def open_watch(fake, query, path=SERVICES, timeout=10.0):
    """Start a raw watch; returns the response to read lines from."""
    conn = fake.connect(timeout)
    conn.request("GET", f"{path}?watch=true&{query}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    return response


def read_events(response, count=None):
    """Decode watch lines until the stream ends (or COUNT events were read)."""
    events = []
    while count is None or len(events) < count:
        line = response.readline()
        if not line:
            break
        events.append(json.loads(line))
    return events


def summary(events):
    return [(e["type"], e["object"]["metadata"].get("name")) for e in events]


# ---------------------------------------------------------------------------
# Discovery, version and kubectl's read path


def test_discovery_documents(fake):
    assert fake.api("GET", "/version")["minor"] == "32"
    assert fake.api("GET", "/api")["versions"] == ["v1"]
    groups = {g["name"] for g in fake.api("GET", "/apis")["groups"]}
    assert groups == {"discovery.k8s.io", "apps", "rbac.authorization.k8s.io"}
    core = {r["name"]: r for r in fake.api("GET", "/api/v1")["resources"]}
    assert core["services"]["shortNames"] == ["svc"] and "watch" in core["services"]["verbs"]
    assert "services/status" in core
    slices = fake.api("GET", "/apis/discovery.k8s.io/v1")["resources"]
    assert [r["kind"] for r in slices] == ["EndpointSlice"]
    assert "apis/apps/v1" in fake.api("GET", "/openapi/v3")["paths"]
    assert fake.request("GET", "/healthz") == (200, "ok")
    status, body = fake.request("GET", "/openapi/v2")
    assert status == 404 and body["reason"] == "NotFound"


@needs_kubectl
def test_kubectl_get(fake):
    out = fake.kubectl("get", "services", "-A", "-o", "name").stdout
    assert out.split() == ["service/kubernetes"]
    names = fake.kubectl("get", "ns", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    assert {"default", "kube-system", "kube-public"} <= set(names)
    kubernetes = json.loads(fake.kubectl("get", "svc", "kubernetes", "-o", "json").stdout)
    assert kubernetes["spec"]["clusterIP"] == "10.96.0.1"
    first = fake.requests()[0]
    assert first["path"] == "/version?timeout=5s" and "dispatcher" in first["ua"]


@needs_kubectl
def test_kubectl_create_defaults_and_delete(fake, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(WEB_SERVICE)
    assert "service/web created" in fake.kubectl("create", "-f", manifest).stdout
    web = json.loads(fake.kubectl("get", "svc", "web", "-o", "json").stdout)
    spec, meta = web["spec"], web["metadata"]
    assert spec["type"] == "ClusterIP" and spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["clusterIP"].startswith("10.") and spec["ipFamilies"] == ["IPv4"]
    assert spec["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and meta["generation"] == 1
    assert "already exists" in fake.kubectl("create", "-f", manifest, check=False).stderr

    fake.clear_log()
    assert 'service "web" deleted' in fake.kubectl("delete", "svc", "web").stdout
    calls = [(r["method"], r["path"].split("?")[0], r["code"]) for r in fake.requests()
             if "/services/" in r["path"]]
    assert calls == [("DELETE", f"{SERVICES}/web", 200), ("GET", f"{SERVICES}/web", 404)]
    assert fake.request("GET", f"{SERVICES}/web")[0] == 404


@needs_kubectl
def test_kubectl_apply_new_then_existing(fake, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(WEB_SERVICE)
    assert "service/web created" in fake.kubectl("apply", "-f", manifest).stdout
    manifest.write_text(WEB_SERVICE.replace("port: 80,", "port: 81,"))
    assert "service/web configured" in fake.kubectl("apply", "-f", manifest).stdout
    patch = [r for r in fake.requests() if r["method"] == "PATCH"][-1]
    assert patch["ctype"] == "application/strategic-merge-patch+json"
    web = fake.api("GET", f"{SERVICES}/web")
    assert [p["port"] for p in web["spec"]["ports"]] == [81]
    assert "kubectl.kubernetes.io/last-applied-configuration" in web["metadata"]["annotations"]
    assert "service/web unchanged" in fake.kubectl("apply", "-f", manifest).stdout
    # A strategic merge patch adds to Service ports (merge key: port).
    fake.kubectl("patch", "svc", "web", "-p", '{"spec":{"ports":[{"port":91,"targetPort":91}]}}')
    ports = fake.api("GET", f"{SERVICES}/web")["spec"]["ports"]
    assert sorted(p["port"] for p in ports) == [81, 91]


@needs_kubectl
def test_kubectl_replace_and_label(fake, tmp_path):
    create_service(fake, "web")
    before = fake.api("GET", f"{SERVICES}/web")
    changed = dict(before, spec=dict(before["spec"], selector={"app": "v2"}))
    manifest = tmp_path / "web.json"
    manifest.write_text(json.dumps(changed))
    assert "service/web replaced" in fake.kubectl("replace", "-f", manifest).stdout
    after = fake.api("GET", f"{SERVICES}/web")
    assert after["spec"]["selector"] == {"app": "v2"}
    assert after["spec"]["clusterIP"] == before["spec"]["clusterIP"]
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    # The manifest now carries a stale resourceVersion: optimistic concurrency says 409.
    status, body = fake.request("PUT", f"{SERVICES}/web", changed)
    assert status == 409 and body["reason"] == "Conflict"

    assert "service/web labeled" in fake.kubectl("label", "svc", "web", "tier=frontend").stdout
    label_patch = [r for r in fake.requests() if r["method"] == "PATCH"][-1]
    assert label_patch["ctype"] == "application/merge-patch+json"
    assert fake.kubectl("get", "svc", "-l", "tier=frontend", "-o", "name").stdout.split() == ["service/web"]
    others = fake.kubectl("get", "svc", "-l", "tier!=frontend", "-o", "name").stdout.split()
    assert others == ["service/kubernetes"]


@needs_kubectl
@pytest.mark.parametrize("abrupt", [False, True], ids=["clean-end", "abrupt-cut"])
def test_kubectl_get_watch(fake, abrupt):
    watcher = fake.kubectl_popen("get", "svc", "-w", "--output-watch-events")
    try:
        fake.wait_for_watches()
        create_service(fake, "web")
        fake.api("PATCH", f"{SERVICES}/web", {"metadata": {"labels": {"v": "2"}}},
                 content_type="application/merge-patch+json")
        fake.api("DELETE", f"{SERVICES}/web")
        deadline = time.monotonic() + 5
        while fake.state()["watches"][0]["rv"] != str(fake.state()["rv"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.close_watches(abrupt=abrupt) == 1
        out, err = watcher.communicate(timeout=10)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    rows = [line.split()[:2] for line in out.splitlines()[1:]]
    assert rows == [["ADDED", "kubernetes"], ["ADDED", "web"], ["MODIFIED", "web"], ["DELETED", "web"]]
    watch = [r for r in fake.requests() if "watch=true" in r["path"]][0]
    assert "resourceVersion=" in watch["path"] and watch["note"].startswith("watch-start")


@needs_kubectl
def test_kubectl_apply_server_dry_run(fake):
    rv = fake.state()["rv"]
    result = fake.kubectl("apply", "--dry-run=server", "-f", "-", input=RBAC_AND_DEPLOYMENT)
    for obj in ("serviceaccount/kubezone", "clusterrole.rbac.authorization.k8s.io/kubezone",
                "clusterrolebinding.rbac.authorization.k8s.io/kubezone", "deployment.apps/kubezone"):
        assert f"{obj} created (server dry run)" in result.stdout
    assert fake.state()["rv"] == rv, "a dry run must not write"
    posts = [r["path"] for r in fake.requests() if r["method"] == "POST"]
    assert len(posts) == 4 and all("dryRun=All" in p for p in posts)
    # For real, twice: the second apply patches (strategic merge on containers/ports).
    fake.kubectl("apply", "-f", "-", input=RBAC_AND_DEPLOYMENT)
    out = fake.kubectl("apply", "-f", "-", input=RBAC_AND_DEPLOYMENT.replace(":latest", ":v2")).stdout
    assert "deployment.apps/kubezone configured" in out
    assert "clusterrole.rbac.authorization.k8s.io/kubezone unchanged" in out
    deployment = fake.api("GET", "/apis/apps/v1/namespaces/kube-system/deployments/kubezone")
    assert deployment["metadata"]["generation"] == 2
    container, = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "kubezone:v2"
    assert container["ports"] == [{"containerPort": 53, "protocol": "UDP"}]


@needs_kubectl
def test_kubectl_namespace_lifecycle(fake):
    status, body = fake.request("POST", "/api/v1/namespaces/demo/services", service("web"))
    assert status == 404 and body["message"] == 'namespaces "demo" not found'
    # Generator subcommands send protobuf bodies, which the fake refuses; manifests are JSON.
    assert "UnsupportedMediaType" in fake.kubectl("create", "namespace", "demo", check=False).stderr
    fake.kubectl("create", "-f", "-", input='{"apiVersion": "v1", "kind": "Namespace", '
                                             '"metadata": {"name": "demo"}}')
    fake.api("POST", "/api/v1/namespaces/demo/services", service("web"), expect=201)
    assert fake.kubectl("get", "svc", "-n", "demo", "-o", "name").stdout.split() == ["service/web"]
    fake.kubectl("delete", "namespace", "demo")
    assert not [o for o in fake.state()["items"] if o["metadata"].get("namespace") == "demo"]


@needs_kubectl
def test_kubectl_pagination(fake):
    services = [service(f"s{i:02}") for i in range(20)]
    for svc in services:
        svc.update(apiVersion="v1", kind="Service")
        svc["metadata"]["namespace"] = "x"  # seeding creates the namespace
    fake.seed(services)
    names = fake.kubectl("get", "svc", "-A", "--chunk-size=7", "-o", "name").stdout.split()
    assert len(names) == 21
    lists = [r["path"] for r in fake.requests() if r["path"].startswith("/api/v1/services")]
    assert len(lists) == 3 and "limit=7" in lists[0] and all("continue=" in p for p in lists[1:])


# ---------------------------------------------------------------------------
# LIST and WATCH through raw HTTP


def test_list_pagination_and_expired_continue(fake):
    for i in range(12):
        create_service(fake, f"svc{i:02}")
    first = fake.api("GET", f"{SERVICES}?limit=5")
    rv = first["metadata"]["resourceVersion"]
    assert first["kind"] == "ServiceList" and first["metadata"]["remainingItemCount"] == 8
    assert "kind" not in first["items"][0]
    create_service(fake, "late")  # pages stay a consistent snapshot
    second = fake.api("GET", f"{SERVICES}?limit=5&continue={first['metadata']['continue']}")
    third = fake.api("GET", f"{SERVICES}?limit=5&continue={second['metadata']['continue']}")
    assert {second["metadata"]["resourceVersion"], third["metadata"]["resourceVersion"]} == {rv}
    names = [o["metadata"]["name"] for page in (first, second, third) for o in page["items"]]
    assert names == ["kubernetes"] + [f"svc{i:02}" for i in range(12)]
    assert "continue" not in third["metadata"]

    token = first["metadata"]["continue"]
    assert fake.request("GET", f"{SERVICES}?limit=5&resourceVersion={rv}&continue={token}")[0] == 400
    fake.compact()
    status, body = fake.request("GET", f"{SERVICES}?limit=5&continue={token}")
    assert status == 410 and body["reason"] == "Expired"


def test_list_selectors_and_resource_versions(fake):
    create_service(fake, "a", labels={"app": "dns", "tier": "x"})
    create_service(fake, "b", labels={"app": "web"})

    def names(query):
        return [o["metadata"]["name"] for o in fake.api("GET", f"/api/v1/services?{query}")["items"]]

    assert names("labelSelector=app%3Ddns") == ["a"]
    assert names("labelSelector=app%20in%20(dns,web),!tier") == ["b"]
    assert names("labelSelector=app%20notin%20(dns)") == ["b", "kubernetes"]
    assert names("fieldSelector=metadata.name%3Db") == ["b"]
    assert names("fieldSelector=metadata.namespace!%3Ddefault") == []
    assert names("fieldSelector=spec.type%3DClusterIP,metadata.name!%3Dkubernetes") == ["a", "b"]
    status, body = fake.request("GET", "/api/v1/services?fieldSelector=spec.selector%3Dx")
    assert status == 400 and body["message"] == "field label not supported: spec.selector"

    rv = int(fake.state()["rv"])
    assert fake.api("GET", f"/api/v1/services?resourceVersion={rv - 1}&resourceVersionMatch=NotOlderThan")
    status, body = fake.request("GET", f"/api/v1/services?resourceVersion={rv - 1}&resourceVersionMatch=Exact")
    assert status == 410
    assert fake.request("GET", "/api/v1/services?resourceVersionMatch=Exact")[0] == 422
    start = time.monotonic()
    status, body = fake.request("GET", f"/api/v1/services?resourceVersion={rv + 100}")
    assert status == 504 and body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    assert time.monotonic() - start >= 2.5


def test_watch_resource_version_semantics(fake):
    create_service(fake, "old")
    rv = fake.api("GET", SERVICES)["metadata"]["resourceVersion"]
    fake.api("POST", "/api/v1/namespaces", {"metadata": {"name": "other"}}, expect=201)  # an RV gap
    create_service(fake, "new")
    from_rv = read_events(open_watch(fake, f"resourceVersion={rv}&timeoutSeconds=1"))
    assert summary(from_rv) == [("ADDED", "new")]
    assert int(from_rv[0]["object"]["metadata"]["resourceVersion"]) == int(rv) + 2
    assert from_rv[0]["object"]["kind"] == "Service" and from_rv[0]["object"]["apiVersion"] == "v1"
    from_zero = read_events(open_watch(fake, "resourceVersion=0&timeoutSeconds=1"))
    assert summary(from_zero) == [("ADDED", "kubernetes"), ("ADDED", "new"), ("ADDED", "old")]
    # A watch from an RV the server no longer has: 200, one ERROR 410 event, end of stream.
    fake.compact()
    gone = read_events(open_watch(fake, f"resourceVersion={rv}&timeoutSeconds=5"))
    assert [e["type"] for e in gone] == ["ERROR"]
    assert gone[0]["object"]["code"] == 410 and gone[0]["object"]["reason"] == "Expired"
    current = str(fake.state()["rv"])
    assert read_events(open_watch(fake, f"resourceVersion={current}&timeoutSeconds=1")) == []


def test_watch_bookmarks_and_selector_transitions(fake):
    fake.config(bookmark_interval=0.3)
    create_service(fake, "web", labels={"tier": "a"})
    rv = fake.state()["rv"]
    response = open_watch(fake, f"resourceVersion={rv}&allowWatchBookmarks=True&timeoutSeconds=2"
                                "&labelSelector=tier%3Da")
    fake.api("PATCH", f"{SERVICES}/web", {"metadata": {"labels": {"tier": "b"}}},
             content_type="application/merge-patch+json")
    fake.api("PATCH", f"{SERVICES}/web", {"metadata": {"labels": {"tier": "a"}}},
             content_type="application/merge-patch+json")
    events = read_events(response)
    changes = [e for e in events if e["type"] != "BOOKMARK"]
    assert summary(changes) == [("DELETED", "web"), ("ADDED", "web")]
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert len(bookmarks) >= 3, "periodic bookmarks plus one at the deadline"
    assert set(bookmarks[-1]["object"]) == {"kind", "apiVersion", "metadata"}
    top = fake.state()["rv"]
    assert all(int(b["object"]["metadata"]["resourceVersion"]) <= top for b in bookmarks)
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) == top
    no_bookmarks = read_events(open_watch(fake, f"resourceVersion={top}&timeoutSeconds=1"))
    assert no_bookmarks == []


def test_watch_gone_mid_stream_and_watchlist(fake):
    rv = fake.state()["rv"]
    response = open_watch(fake, f"resourceVersion={rv}")
    create_service(fake, "web")
    assert summary(read_events(response, 1)) == [("ADDED", "web")]
    fake.wait_for_watches()
    fake.compact(gone=True)
    error, = read_events(response)
    assert error["type"] == "ERROR" and error["object"]["code"] == 410
    stream = read_events(open_watch(fake, "sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                                          "&allowWatchBookmarks=true&timeoutSeconds=1"))
    assert summary(stream)[:2] == [("ADDED", "kubernetes"), ("ADDED", "web")]
    assert stream[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    status, body = fake.request("GET", f"{SERVICES}?watch=1&resourceVersionMatch=NotOlderThan")
    assert status == 422


# ---------------------------------------------------------------------------
# Mutations through raw HTTP: patch flavours, validation, status


def test_patch_types_and_validation(fake):
    create_service(fake, "web")
    path = f"{SERVICES}/web"
    smp = {"spec": {"$setElementOrder/ports": [{"port": 81}],
                    "ports": [{"name": "http", "port": 81}, {"$patch": "delete", "port": 80}]}}
    ports = fake.api("PATCH", path, smp, content_type="application/strategic-merge-patch+json")["spec"]["ports"]
    assert ports == [{"name": "http", "port": 81, "protocol": "TCP", "targetPort": 81}]
    ops = [{"op": "add", "path": "/metadata/labels", "value": {"a": "1"}},
           {"op": "replace", "path": "/spec/ports/0/port", "value": 82}]
    patched = fake.api("PATCH", path, ops, content_type="application/json-patch+json")
    assert patched["metadata"]["labels"] == {"a": "1"} and patched["spec"]["ports"][0]["port"] == 82
    status, _ = fake.request("PATCH", path, [{"op": "test", "path": "/metadata/labels/a", "value": "2"}],
                             content_type="application/json-patch+json")
    assert status == 422
    assert fake.request("PATCH", path, {}, content_type="application/apply-patch+yaml")[0] == 415
    rv = fake.state()["rv"]
    fake.api("PATCH", path, {"metadata": {"labels": {"a": "1"}}}, content_type="application/merge-patch+json")
    assert fake.state()["rv"] == rv, "a no-op write must not bump the resourceVersion"

    status, body = fake.request("POST", SERVICES, service("Bad_Name"))
    assert status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    slice_path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
    assert fake.request("POST", slice_path, {"metadata": {"name": "s"}})[0] == 422
    created = fake.api("POST", slice_path, {"metadata": {"name": "s"}, "addressType": "IPv4"}, expect=201)
    assert created["endpoints"] is None and created["ports"] is None
    headless = create_service(fake, "hl", clusterIP="None")
    assert headless["spec"]["clusterIPs"] == ["None"] and "ipFamilies" not in headless["spec"]


def test_status_subresource_and_generate_name(fake):
    pod = {"metadata": {"generateName": "web-"}, "spec": {"containers": [{"name": "c", "image": "x"}]},
           "status": {"podIP": "10.0.0.9"}}
    created = fake.api("POST", "/api/v1/namespaces/default/pods", pod, expect=201)
    name = created["metadata"]["name"]
    assert name.startswith("web-") and len(name) == 9 and created["status"] == {"phase": "Pending"}
    status = {"status": {"phase": "Running", "podIP": "10.0.0.9"}}
    fake.api("PATCH", f"/api/v1/namespaces/default/pods/{name}/status", status,
             content_type="application/merge-patch+json")
    running = fake.api("GET", "/api/v1/pods?fieldSelector=status.phase%3DRunning")["items"]
    assert [p["status"]["podIP"] for p in running] == ["10.0.0.9"]
    # The main resource ignores status changes.
    fake.api("PATCH", f"/api/v1/namespaces/default/pods/{name}", {"status": {"phase": "Failed"}},
             content_type="application/merge-patch+json")
    assert fake.api("GET", f"/api/v1/namespaces/default/pods/{name}")["status"]["phase"] == "Running"


# ---------------------------------------------------------------------------
# Fault injection and the control plane


def test_fault_status_drop_and_delay(fake):
    fake.fault(action="status", code=500, count=2, match="/services")
    assert [fake.request("GET", SERVICES)[0] for _ in range(3)] == [500, 500, 200]
    fake.fault(action="status", code=429, match="/services")
    conn = fake.connect()
    conn.request("GET", SERVICES)
    response = conn.getresponse()
    assert response.status == 429 and response.getheader("Retry-After") == "1"
    assert json.loads(response.read())["details"]["retryAfterSeconds"] == 1
    conn.close()

    fake.fault(action="drop", match="/services")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fake.request("GET", SERVICES)
    fake.fault(action="delay", delay_ms=300, match="/services")
    start = time.monotonic()
    assert fake.request("GET", SERVICES)[0] == 200 and time.monotonic() - start >= 0.3
    fake.fault(action="stall", match="/services", watch=False)
    with pytest.raises((socket.timeout, TimeoutError)):
        fake.request("GET", SERVICES, timeout=0.5)
    fake.fault(action="malformed", match="/services", watch=False)
    status, body = fake.request("GET", SERVICES)
    assert status == 200 and isinstance(body, str)
    fake.fault(action="html", match="/services", count=-1)
    assert fake.request("GET", SERVICES)[1].startswith("<html>")
    assert len(fake.control("faults", method="GET")["items"]) == 1
    fake.clear_faults()
    assert fake.request("GET", SERVICES)[0] == 200
    notes = [r["note"] for r in fake.requests()]
    assert {"fault-status", "fault-drop", "fault-delay", "fault-stall", "fault-malformed"} <= set(notes)


def test_fault_watch_streams(fake):
    for name in ("a", "b", "c"):
        create_service(fake, name)
    fake.fault(action="malformed", after_events=1, watch=True)
    response = open_watch(fake, "resourceVersion=0&timeoutSeconds=1")
    lines = [response.readline() for _ in range(4)]
    assert json.loads(lines[0])["type"] == "ADDED"
    with pytest.raises(ValueError):
        json.loads(lines[1])
    # The broken line replaced event #1 ("b"); the stream goes on after it.
    assert [json.loads(line)["object"]["metadata"]["name"] for line in lines[2:]] == ["c", "kubernetes"]

    fake.fault(action="gone", after_events=2, watch=True)
    events = read_events(open_watch(fake, "resourceVersion=0"))
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "ERROR"]

    fake.fault(action="cut", after_events=1, watch=True, partial=True)
    response = open_watch(fake, "resourceVersion=0")
    received = []
    try:
        while line := response.readline():
            received.append(line)
    except (http.client.IncompleteRead, ConnectionError):
        pass
    assert len(received) == 2 and received[0].endswith(b"\n")
    assert received[1].startswith(b'{"type":"MODIFIED"') and not received[1].endswith(b"\n")

    response = open_watch(fake, "resourceVersion=0&timeoutSeconds=5")
    assert len(read_events(response, 4)) == 4
    assert fake.inject("bigline", size=1 << 20, match="timeoutSeconds=5") == 1
    assert len(response.readline()) > 1 << 20
    assert fake.inject("end", match="timeoutSeconds=5") == 1
    assert response.readline() == b""


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_fault_watch_stall_outlives_deadline(fake):
    create_service(fake, "web")
    fake.fault(action="stall", after_events=1, watch=True)
    response = open_watch(fake, "resourceVersion=0&timeoutSeconds=1", timeout=2.0)
    before = cpu_seconds(fake.proc.pid)
    assert len(read_events(response, 1)) == 1
    with pytest.raises((socket.timeout, TimeoutError)):
        response.readline()  # silence: no more events, no end even past timeoutSeconds
    assert cpu_seconds(fake.proc.pid) - before < 0.5, "a stalled watch must not spin"
    assert fake.state()["watches"], "the stalled watch is still open"


def test_split_and_coalesced_events_reassemble(fake):
    create_service(fake, "web")
    fake.config(split=True)
    assert summary(read_events(open_watch(fake, "resourceVersion=0&timeoutSeconds=1")))[-1] == ("ADDED", "web")
    fake.config(split=False)
    fake.fault(action="coalesce", watch=True)
    assert len(read_events(open_watch(fake, "resourceVersion=0&timeoutSeconds=1"))) == 2


def raw_chunks(sock, until):
    """Read a chunked watch body from SOCK (headers included) until UNTIL(chunks)."""
    data, chunks = b"", []
    head_done = False
    while not until(chunks):
        got = sock.recv(1 << 16)
        assert got, "the stream ended early"
        data += got
        if not head_done:
            if b"\r\n\r\n" not in data:
                continue
            data = data.split(b"\r\n\r\n", 1)[1]
            head_done = True
        while b"\r\n" in data:
            size_line, rest = data.split(b"\r\n", 1)
            size = int(size_line, 16)
            if len(rest) < size + 2:
                break
            chunks.append(rest[:size])
            data = rest[size + 2:]
    return chunks


def test_waiting_events_one_chunk_each(fake):
    """Events committed together (the fake writes them out together) keep one chunk each, in order."""
    response = fake.api("GET", SERVICES)
    rv = response["metadata"]["resourceVersion"]
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    sock.sendall(f"GET {SERVICES}?watch=true&resourceVersion={rv} HTTP/1.1\r\n"
                 "Host: 127.0.0.1\r\n\r\n".encode())
    fake.wait_for_watches(1)
    names = [f"s{i:03d}" for i in range(300)]   # ~100 KB: more than one write
    fake.seed([{"apiVersion": "v1", "kind": "Service", **service(name)} for name in names])
    chunks = raw_chunks(sock, lambda c: len(c) >= len(names))
    sock.close()
    events = [json.loads(chunk) for chunk in chunks]
    assert all(chunk.count(b"\n") == 1 and chunk.endswith(b"\n") for chunk in chunks)
    assert summary(events) == [("ADDED", name) for name in names]
    assert [int(e["object"]["metadata"]["resourceVersion"]) for e in events] == \
        list(range(int(rv) + 1, int(rv) + 1 + len(names)))


def test_down_up_and_refuse(fake):
    fake.down()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fake.request("GET", SERVICES)
    fake.up()
    assert fake.request("GET", SERVICES)[0] == 200
    fake.down(refuse_seconds=1.0)
    outcomes = []
    deadline = time.monotonic() + 10
    while "ok" not in outcomes and time.monotonic() < deadline:
        try:
            outcomes.append("ok" if fake.request("GET", SERVICES)[0] == 200 else "error")
        except ConnectionRefusedError:
            outcomes.append("refused")
        except (http.client.RemoteDisconnected, ConnectionError):
            outcomes.append("closed")
        time.sleep(0.05)
    assert "refused" in outcomes and outcomes[-1] == "ok", outcomes


def test_snapshot_state_reset_and_rv_start(tmp_path):
    snapshot = tmp_path / "cluster.json"
    snapshot.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "demo"},
         "spec": {"type": "LoadBalancer", "ports": [{"port": 53, "protocol": "UDP"}]},
         "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "lb-1", "namespace": "demo", "labels": {"kubernetes.io/service-name": "lb"}},
         "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": None}}],
         "ports": None}]}))
    with FakeApi(tmp_path / "fake", snapshot=snapshot, args=["--rv-start", "4294967290"]) as fake:
        state = fake.state()
        assert state["rv"] > 2 ** 32
        lb, = fake.objects("Service")[1:]
        assert lb["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]
        assert lb["spec"]["ports"][0]["nodePort"] >= 30000
        eps, = fake.objects("EndpointSlice")
        assert eps["ports"] is None and eps["endpoints"][0]["conditions"] == {"ready": None}
        fake.api("DELETE", "/api/v1/namespaces/demo")
        assert fake.objects("EndpointSlice") == []
        response = open_watch(fake, f"resourceVersion={fake.state()['rv']}", path="/api/v1/services")
        fake.wait_for_watches()
        fake.reset()
        assert [o["metadata"]["name"] for o in fake.objects("EndpointSlice")] == ["lb-1"]
        error, = read_events(response)  # a reset is like an etcd restore: watchers must relist
        assert error["type"] == "ERROR" and error["object"]["code"] == 410
        fake.load([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "only", "namespace": "x"},
                    "spec": {"ports": [{"port": 1}]}}])
        assert [s["metadata"]["name"] for s in fake.objects("Service")] == ["kubernetes", "only"]
        fake.set_rv(10)
        assert fake.state()["rv"] == 10


# ---------------------------------------------------------------------------
# Token auth over TLS


@needs_kubectl
def test_kubectl_token_auth_over_tls(tmp_path):
    with FakeApi(tmp_path / "fake", tls=True, token="first-token") as fake:
        assert fake.url.startswith("https://")
        assert fake.kubectl("get", "svc", "-o", "name").stdout.split() == ["service/kubernetes"]
        assert all(r["auth"] for r in fake.requests() if r["path"].startswith("/api/"))

        wrong = fake.write_kubeconfig("wrong", token="not-the-token")
        failed = fake.kubectl("get", "svc", kubeconfig=wrong, check=False)
        assert failed.returncode != 0 and "must be logged in to the server (Unauthorized)" in failed.stderr
        status, body = fake.request("GET", SERVICES, token="")
        assert status == 401 and body["reason"] == "Unauthorized"
        assert fake.request("GET", "/version", token="")[0] == 200  # public, like the real server

        stale = fake.write_kubeconfig("stale", token="first-token")
        fake.set_token_file("second-token")  # rotation: re-read on every request
        assert "Unauthorized" in fake.kubectl("get", "svc", kubeconfig=stale, check=False).stderr
        assert fake.kubectl("get", "svc", "-o", "name").stdout.split() == ["service/kubernetes"]
        fake.tokens(["first-token"])  # accept both during a hand-over
        assert fake.kubectl("get", "svc", "-o", "name", kubeconfig=stale).returncode == 0


SERVICE_IMPORT = """apiVersion: multicluster.x-k8s.io/v1alpha1
kind: ServiceImport
metadata: {name: web, namespace: default}
spec:
  type: ClusterSetIP
  ips: [10.42.0.10]
  ports:
  - {name: http, protocol: TCP, port: 80}
"""


@needs_kubectl
def test_kubectl_serviceimports_follow_the_crd(fake, tmp_path):
    """ServiceImport is a CRD: absent from discovery and its paths 404 until
    installed; then kubectl creates, lists and watches it like a built-in
    kind; removed again, it is gone from discovery and its watch ends."""
    group = "/apis/multicluster.x-k8s.io"
    names = [g["name"] for g in fake.api("GET", "/apis")["groups"]]
    assert "multicluster.x-k8s.io" not in names
    assert fake.request("GET", group + "/v1alpha1")[0] == 404
    assert fake.request("GET", group + "/v1alpha1/serviceimports")[0] == 404
    res = fake.kubectl("get", "serviceimports.multicluster.x-k8s.io", "-A", check=False)
    assert res.returncode != 0
    assert "the server doesn't have a resource type" in res.stderr

    assert fake.crds(serviceimports=True) == ["serviceimports"]
    listed = fake.api("GET", group + "/v1alpha1")
    assert [r["name"] for r in listed["resources"]] == ["serviceimports"]
    assert listed["resources"][0]["kind"] == "ServiceImport"
    assert fake.api("GET", group)["preferredVersion"]["version"] == "v1alpha1"
    manifest = tmp_path / "si.yaml"
    manifest.write_text(SERVICE_IMPORT)
    # A fresh discovery cache: kubectl cached the group's absence above.
    fake.kubectl("api-resources", "--cached=false", "-o", "name")
    assert "serviceimport.multicluster.x-k8s.io/web created" in \
        fake.kubectl("create", "-f", manifest).stdout
    got = json.loads(fake.kubectl("get", "serviceimports.multicluster.x-k8s.io", "-A",
                                  "-o", "json").stdout)
    assert got["kind"] == "List"
    (item,) = got["items"]
    assert item["apiVersion"] == "multicluster.x-k8s.io/v1alpha1"
    assert item["kind"] == "ServiceImport"
    assert item["spec"]["ips"] == ["10.42.0.10"] and item["metadata"]["resourceVersion"]
    page = fake.api("GET", group + "/v1alpha1/serviceimports?limit=1")
    assert page["kind"] == "ServiceImportList" and len(page["items"]) == 1
    watch = fake.kubectl_popen("get", "serviceimports.multicluster.x-k8s.io", "-A", "--watch",
                               "-o", "name")
    try:
        fake.wait_for_watches(1)
        assert fake.crds(serviceimports=False) == []
        out, _ = watch.communicate(timeout=20)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert "serviceimport.multicluster.x-k8s.io/web" in out
    assert fake.request("GET", group + "/v1alpha1/serviceimports")[0] == 404
