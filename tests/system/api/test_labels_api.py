"""`kubezone sync --labels / --namespace-labels` against the fake API.

What is expected comes from the spec of the two options (CoreDNS's
`labels` and `namespace_labels`) and the Kubernetes "Labels and
Selectors" page: a Service relabelled out of the selection leaves the
zones and comes back when relabelled in; a namespace whose labels change
enters or leaves the zones whole; list and watch requests carry the
selector (Services, EndpointSlices and Pods the object selector,
Namespaces the namespace selector). The fake API's own selector
semantics are checked with the real kubectl.

Real kubezone, real NSD, the fake kube-apiserver, dnspython and kubectl.
"""

import json
import subprocess
import threading
import urllib.parse

import pytest

from syncer_harness import (KUBECTL, KUBEZONE, NS, FakeApi, Syncer, create, endpointslice,
                            namespace, requests_of, service, slice_path, svc_path,
                            wait_converged, wait_for)

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH "
                                   "(container/deps.sh installs kubernetes-client)")

LABELS = "dns in (on, yes),!private"
NS_LABELS = "expose=yes"
SELECTORS = ["--labels", LABELS, "--namespace-labels", NS_LABELS]
MERGE = "application/merge-patch+json"


def labelled(obj, **labels):
    obj["metadata"].setdefault("labels", {}).update(labels)
    return obj


def relabel(fake, path, labels):
    """Merge-patch metadata.labels (None removes a label)."""
    fake.api("PATCH", path, {"metadata": {"labels": labels}}, content_type=MERGE)


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", args=["--bookmark-interval", "1"]) as server:
        server.write_kubeconfig()
        yield server


def start_syncer(fake, tmp_path, args):
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=args)
    s.start()
    s.wait_ready()
    return s


def query_params(request):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query)


def test_relabelled_objects_and_namespaces_enter_and_leave(fake, tmp_path):
    create(fake, labelled(namespace("team-a"), expose="yes"))
    create(fake, labelled(namespace("team-b"), expose="no"))
    create(fake, labelled(service("web", ns="team-a"), dns="on"))
    create(fake, labelled(service("other", ns="team-a"), dns="off"))
    create(fake, labelled(service("secret", ns="team-a"), dns="on", private="true"))
    create(fake, labelled(service("api", ns="team-b"), dns="yes"))
    create(fake, labelled(service("db", ns="team-a", headless=True), dns="on"))
    # The EndpointSlice controller copies the Service's labels to its slices.
    create(fake, labelled(endpointslice("db-1", "db", ["10.1.0.1"], ns="team-a"), dns="on"))
    create(fake, endpointslice("db-2", "db", ["10.1.0.2"], ns="team-a"))
    ip = {name: fake.api("GET", svc_path(ns, name))["spec"]["clusterIP"]
          for ns, name in (("team-a", "web"), ("team-a", "other"), ("team-a", "secret"),
                           ("team-b", "api"))}
    s = start_syncer(fake, tmp_path, SELECTORS)
    try:
        s.wait_answer("web.team-a.svc.cluster.local", "A", [ip["web"]], timeout=5)
        # Selected: dns=on; its selected slice only (db-2 has no dns label).
        s.wait_answer("db.team-a.svc.cluster.local", "A", ["10.1.0.1"], timeout=5)
        for name in ("other.team-a", "secret.team-a", "api.team-b"):
            assert s.query(f"{name}.svc.cluster.local")[0] == "NXDOMAIN", name
        # The default namespace has no expose label: kubernetes.default is out.
        assert s.query("kubernetes.default.svc.cluster.local")[0] == "NXDOMAIN"
        wait_converged(fake, s, tmp_path / "render", render_args=SELECTORS)

        # A Service relabelled out of the selection disappears, back in reappears.
        relabel(fake, svc_path("team-a", "web"), {"dns": "off"})
        s.wait_answer("web.team-a.svc.cluster.local", "A", "NXDOMAIN", timeout=5)
        relabel(fake, svc_path("team-a", "web"), {"dns": "yes"})
        s.wait_answer("web.team-a.svc.cluster.local", "A", [ip["web"]], timeout=5)
        relabel(fake, svc_path("team-a", "secret"), {"private": None})
        s.wait_answer("secret.team-a.svc.cluster.local", "A", [ip["secret"]], timeout=5)

        # A namespace whose labels change enters, and leaves, whole.
        relabel(fake, f"{NS}/team-b", {"expose": "yes"})
        s.wait_answer("api.team-b.svc.cluster.local", "A", [ip["api"]], timeout=5)
        wait_converged(fake, s, tmp_path / "render", render_args=SELECTORS)
        relabel(fake, f"{NS}/team-a", {"expose": None})
        s.wait_answer("web.team-a.svc.cluster.local", "A", "NXDOMAIN", timeout=5)
        s.wait_answer("db.team-a.svc.cluster.local", "A", "NXDOMAIN", timeout=5)
        assert s.query("api.team-b.svc.cluster.local")[1] == [ip["api"]]
        relabel(fake, f"{NS}/team-a", {"expose": "yes"})
        s.wait_answer("db.team-a.svc.cluster.local", "A", ["10.1.0.1"], timeout=5)
        # A slice relabelled into the selection adds its endpoint.
        relabel(fake, slice_path("team-a", "db-2"), {"dns": "on"})
        s.wait_answer("db.team-a.svc.cluster.local", "A", ["10.1.0.1", "10.1.0.2"], timeout=5)
        wait_converged(fake, s, tmp_path / "render", render_args=SELECTORS)
    finally:
        status = s.stop()
    assert status == 0, s.log_text()[-2000:]

    # Every list and watch request carries the selector of its resource.
    for part, want in (("/services", LABELS), ("/endpointslices", LABELS),
                       ("/namespaces", NS_LABELS)):
        for watch in (False, True):
            reqs = [r for r in requests_of(fake, part, watch=watch)
                    if r["method"] == "GET" and r["path"].split("?")[0] in
                    ("/api/v1/services", "/api/v1/namespaces",
                     "/apis/discovery.k8s.io/v1/endpointslices")]
            assert reqs, (part, watch)
            for r in reqs:
                assert query_params(r).get("labelSelector") == [want], r["path"]


def test_pods_get_the_object_selector(fake, tmp_path):
    s = start_syncer(fake, tmp_path, ["--labels", "app=web", "--pod-records"])
    try:
        wait_for(lambda: requests_of(fake, "/pods", watch=True) or None, 10,
                 what="a pod watch")
    finally:
        assert s.stop() == 0
    pods = [r for r in requests_of(fake, "/pods") if r["path"].startswith("/api/v1/pods")]
    assert pods
    for r in pods:
        q = query_params(r)
        assert q["labelSelector"] == ["app=web"]
        assert "status.phase!=Succeeded" in q["fieldSelector"][0]
    # Without --namespace-labels, namespaces are asked for whole.
    for r in requests_of(fake, "/namespaces"):
        if r["path"].startswith("/api/v1/namespaces"):
            assert "labelSelector" not in query_params(r), r["path"]


@pytest.mark.parametrize("option,value,where", [
    ("--labels", "app in (web", "at character 12: expected ',' or ')'"),
    ("--labels", "-app=web", "at character 1: '-app' is not a label key"),
    ("--namespace-labels", "team=x y", "at character 8: expected ',' or the end"),
])
def test_bad_selector_is_a_usage_error(tmp_path, option, value, where):
    for cmd in (["sync", "--snapshot", str(tmp_path / "none.json"),
                 "--state-dir", str(tmp_path / "state")],
                ["render", str(tmp_path / "none.json")]):
        res = subprocess.run([KUBEZONE, *cmd, option, value], capture_output=True, text=True,
                             timeout=20)
        assert res.returncode == 2, res.stderr
        assert f"{option} {value}: {where}" in res.stderr, res.stderr


@needs_kubectl
def test_fake_selectors_match_kubectl(fake, tmp_path):
    """The fake API answers kubectl -l as the Labels and Selectors page says."""
    objs = {"prod-front": {"environment": "production", "tier": "frontend"},
            "qa": {"environment": "qa"},
            "dev-a": {"environment": "dev", "partition": "customerA"},
            "bare": {}}
    for name, labels in objs.items():
        create(fake, labelled(service(name), **labels))

    def names(selector):
        out = fake.kubectl("get", "svc", "-n", "default", "-l", selector, "-o", "name").stdout
        return sorted(n.split("/", 1)[1] for n in out.split())

    assert names("environment = production") == ["prod-front"]
    assert names("environment==production,tier!=backend") == ["prod-front"]
    # != and notin also select objects without the label.
    assert names("tier != frontend") == ["bare", "dev-a", "kubernetes", "qa"]
    assert names("environment in (production, qa)") == ["prod-front", "qa"]
    assert names("environment notin (production, qa)") == ["bare", "dev-a", "kubernetes"]
    assert names("partition") == ["dev-a"]
    assert names("!partition,environment") == ["prod-front", "qa"]
    assert names("partition in (customerA, customerB),environment!=qa") == ["dev-a"]
    bad = fake.kubectl("get", "svc", "-l", "app in (web", check=False)
    assert bad.returncode != 0

    # A watch with a selector: relabelled out is DELETED, back in is ADDED.
    proc = fake.kubectl_popen("get", "svc", "-n", "default", "-l", "tier=frontend",
                              "--watch-only", "--output-watch-events", "-o", "json")
    events, text = [], []

    def reader():
        dec, buf = json.JSONDecoder(), ""
        for line in proc.stdout:
            buf += line
            while buf.strip():
                try:
                    ev, end = dec.raw_decode(buf.lstrip())
                except ValueError:
                    break
                events.append((ev["type"], ev["object"]["metadata"]["name"],
                               ev["object"]["metadata"].get("labels", {}).get("tier")))
                buf = buf.lstrip()[end:]
            text.append(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        wait_for(lambda: fake.state()["watches"] or None, 10, what="kubectl's watch")
        relabel(fake, svc_path("default", "qa"), {"tier": "frontend"})
        relabel(fake, svc_path("default", "prod-front"), {"tier": "backend"})
        relabel(fake, svc_path("default", "prod-front"), {"environment": "staging"})
        relabel(fake, svc_path("default", "prod-front"), {"tier": "frontend"})
        wait_for(lambda: len(events) >= 3 or None, 10, what=f"3 watch events: {events}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # The DELETED event carries the object as it was while selected.
    assert events == [("ADDED", "qa", "frontend"), ("DELETED", "prod-front", "frontend"),
                      ("ADDED", "prod-front", "frontend")], "".join(text)
