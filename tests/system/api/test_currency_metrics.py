"""Is DNS current? The currency metrics of `kubezone sync`, against the
fake API, real NSD and a real Knot secondary.

- kubezone_dns_programming_latency_seconds: one observation per
  EndpointSlice update that changed DNS, measured from the slice's
  endpoints.kubernetes.io/last-change-trigger-time annotation (set here to
  a known time in the past); none for updates DNS does not see.
- kubezone_zone_served_serial: what NSD answers, as dnspython sees it.
- kubezone_secondary_*: a Knot secondary follows, falls behind while it is
  stopped, and catches up when it runs again.
- the alert rules of docs/operations.md name only metrics of a live scrape.
"""

import os
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from conftest import soa_serial, stop_pid
from secondary_configs import KNOT_CONF
from syncer_harness import (ROOT, FakeApi, Syncer, create, endpointslice, free_port,
                            service, slice_path, wait_for)

ZONE = 'zone="cluster.local"'
LAT = "kubezone_dns_programming_latency_seconds"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def ago(seconds, fraction=True):
    """An RFC 3339 time SECONDS ago, as the endpoints controller writes it
    (sub-second precision with an offset, or whole seconds with Z)."""
    t = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    if fraction:
        return t.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="microseconds")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def with_trigger(obj, when):
    obj["metadata"].setdefault("annotations", {})[TRIGGER] = when
    return obj


def put_slice(fake, obj):
    name = obj["metadata"]["name"]
    cur = fake.api("GET", slice_path(name=name))
    obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
    return fake.api("PUT", slice_path(name=name), obj)


def start_knot(workdir, port, primary):
    os.makedirs(workdir / "db", exist_ok=True)
    os.makedirs(workdir / "zones", exist_ok=True)
    (workdir / "knot.conf").write_text(KNOT_CONF.format(dir=workdir, port=port, primary=primary))
    return subprocess.Popen(["knotd", "-c", str(workdir / "knot.conf")],
                            stdout=subprocess.DEVNULL,
                            stderr=open(workdir / "knotd.stderr", "a"))


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", args=["--bookmark-interval", "1"]) as server:
        server.write_kubeconfig()
        yield server


def test_programming_latency_counts_dns_changes_only(fake, tmp_path):
    # The initial list: a slice with a trigger time an hour old is no
    # observation (it is not a change kubezone saw happen).
    create(fake, service("db", headless=True))
    create(fake, with_trigger(endpointslice("db-1", "db", ["10.1.0.1"], hostnames=["a"]),
                              ago(3600)))
    create(fake, service("web"))        # ClusterIP: endpoints give no records
    create(fake, with_trigger(endpointslice("web-1", "web", ["10.2.0.1"]), ago(3600)))
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig")
    s.start()
    try:
        s.wait_ready()
        m = s.metrics()
        assert m[LAT + "_count"] == 0
        assert m["kubezone_dns_programming_latency_clamped_total"] == 0

        # 1. a new address of the headless Service: one observation
        put_slice(fake, with_trigger(endpointslice("db-1", "db", ["10.1.0.1", "10.1.0.2"],
                                                   hostnames=["a", "b"]), ago(2)))
        s.wait_answer("db.default.svc.cluster.local", "A", ["10.1.0.1", "10.1.0.2"])
        wait_for(lambda: s.metric(LAT + "_count") == 1, 10, what="one observation")
        first = s.metric(LAT + "_sum")
        assert 2.0 <= first < 2.0 + 8.0, first

        # 2. updates DNS does not see: the annotation and a label alone
        # (the model does not change), and an endpoint that is not ready
        # (the model changes, the records do not)
        obj = with_trigger(endpointslice("db-1", "db", ["10.1.0.1", "10.1.0.2"],
                                         hostnames=["a", "b"]), ago(1))
        obj["metadata"]["labels"]["unrelated"] = "x"
        put_slice(fake, obj)
        obj = with_trigger(endpointslice("web-1", "web", ["10.2.0.1"]), ago(2))
        obj["endpoints"].append({"addresses": ["10.2.0.9"], "conditions": {"ready": False}})
        put_slice(fake, obj)
        # 3. then a ClusterIP Service's endpoint (its name and PTR change:
        # every Service counts, not only headless ones): the count
        # reaches exactly 2, publishes happen in order
        put_slice(fake, with_trigger(endpointslice("web-1", "web", ["10.2.0.2"]), ago(2)))
        wait_for(lambda: s.metric(LAT + "_count") >= 2, 10, what="second observation")
        m = s.metrics()
        assert m[LAT + "_count"] == 2
        second = m[LAT + "_sum"] - first
        assert 2.0 <= second < 2.0 + 8.0, second
        # 4. whole seconds with Z
        put_slice(fake, with_trigger(endpointslice("db-1", "db", ["10.1.0.3"],
                                                   hostnames=["c"]), ago(3, fraction=False)))
        s.wait_answer("db.default.svc.cluster.local", "A", ["10.1.0.3"])
        wait_for(lambda: s.metric(LAT + "_count") >= 3, 10, what="third observation")
        m = s.metrics()
        assert m[LAT + "_count"] == 3
        third = m[LAT + "_sum"] - first - second
        assert 2.0 <= third < 3.0 + 8.0, third     # whole seconds: up to 1 s less
        assert m[LAT + '_bucket{le="1"}'] == 0
        assert m[LAT + '_bucket{le="300"}'] == 3
        assert m[LAT + '_bucket{le="+Inf"}'] == 3
        assert m["kubezone_dns_programming_latency_clamped_total"] == 0

        # 5. a trigger time in the future (clock skew) is clamped to 0
        put_slice(fake, with_trigger(endpointslice("db-1", "db", ["10.1.0.4"],
                                                   hostnames=["c"]), ago(-60)))
        s.wait_answer("db.default.svc.cluster.local", "A", ["10.1.0.4"])
        wait_for(lambda: s.metric(LAT + "_count") == 4, 10, what="clamped observation")
        m = s.metrics()
        assert m["kubezone_dns_programming_latency_clamped_total"] == 1
        assert m[LAT + "_sum"] == pytest.approx(first + second + third)
        assert m[LAT + '_bucket{le="0.005"}'] == 1
        print("programming latency past the trigger offset: %.0f ms, %.0f ms"
              % ((first - 2) * 1000, (second - 2) * 1000))

        # served serial: what NSD answers to dnspython
        def served_matches():
            want = soa_serial("cluster.local.", s.dns_port)
            return want is not None and s.metric(
                "kubezone_zone_served_serial{%s}" % ZONE, None) == want
        wait_for(served_matches, 5, what="served serial")
        assert s.metric("kubezone_zone_served_serial{%s}" % ZONE) == \
            s.metric("kubezone_zone_serial{%s}" % ZONE)
    finally:
        assert s.stop() == 0, s.log_text()[-3000:]


def test_secondary_metrics_follow_knot(fake, tmp_path):
    knot_port = free_port()
    target = f"127.0.0.1:{knot_port}"
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=["--notify", target])
    s.start()
    knot = start_knot(tmp_path / "knot", knot_port, s.dns_port)
    labels = 'secondary="%s",zone="cluster.local"' % target
    try:
        s.wait_ready(timeout=30)

        def current():
            m = s.metrics()
            return m.get("kubezone_secondary_serial{%s}" % labels) == \
                m["kubezone_zone_serial{%s}" % ZONE] and \
                m.get("kubezone_secondary_up{%s}" % labels) == 1
        wait_for(current, 20, what="Knot has the published serial")
        m = s.metrics()
        assert m["kubezone_secondary_behind_serials{%s}" % labels] == 0
        assert m["kubezone_secondary_behind_seconds{%s}" % labels] == 0
        assert soa_serial("cluster.local.", knot_port) == m["kubezone_zone_serial{%s}" % ZONE]

        # Knot stops; a change: behind by a serial, for longer and longer
        stop_pid(knot)
        wait_for(lambda: s.metric("kubezone_secondary_up{%s}" % labels) == 0, 10,
                 what="Knot seen down")
        create(fake, service("late"))
        wait_for(lambda: s.metric("kubezone_secondary_behind_serials{%s}" % labels) >= 1, 10,
                 what="behind in serials")
        t1 = s.metric("kubezone_secondary_behind_seconds{%s}" % labels)
        wait_for(lambda: s.metric("kubezone_secondary_behind_seconds{%s}" % labels) >= t1 + 1,
                 10, what="behind_seconds grows")
        m = s.metrics()
        assert m["kubezone_secondary_serial{%s}" % labels] < m["kubezone_zone_serial{%s}" % ZONE]

        # Knot runs again: it catches up, and the lag is back to 0
        knot = start_knot(tmp_path / "knot", knot_port, s.dns_port)
        wait_for(current, 30, what="Knot caught up")
        m = s.metrics()
        assert m["kubezone_secondary_behind_serials{%s}" % labels] == 0
        assert m["kubezone_secondary_behind_seconds{%s}" % labels] == 0

        # The alert rules of docs/operations.md use only metrics this
        # live scrape has (so the documentation cannot rot).
        status, text = s.http("/metrics")
        assert status == 200
        check_alert_rules(text)
    finally:
        stop_pid(knot)
        assert s.stop() == 0, s.log_text()[-3000:]


def check_alert_rules(scrape):
    doc = (ROOT / "docs" / "operations.md").read_text()
    block = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "alert:" in b]
    assert len(block) == 1
    rules = {r["alert"]: r for r in yaml.safe_load(block[0])["groups"][0]["rules"]}
    for name in ("KubezoneSecondaryBehind", "KubezoneSecondaryNoAnswer",
                 "KubezoneProgrammingLatency", "KubezoneNSDServesBehind", "KubezoneAPIDown"):
        assert name in rules, name
    exported = set(re.findall(r"^# TYPE (\S+) ", scrape, re.M))
    series = {line.split("{")[0].split(" ")[0] for line in scrape.splitlines()
              if line and not line.startswith("#")}
    for name, r in rules.items():
        for metric in re.findall(r"\b(kubezone_[a-z_]+)\b", r["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", metric)
            assert metric in exported or base in exported, (name, metric)
            # A counter without errors has no series, nor has a signature
            # metric without --dnssec (tests/system/dnssec checks those).
            if name != "KubezoneAPIForbidden" and \
                    not metric.startswith("kubezone_dnssec_"):
                assert metric in series, (name, metric)
