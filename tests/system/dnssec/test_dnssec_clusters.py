"""`kubezone sync --clusters FILE --dnssec`: every cluster's zones signed.

What is expected (docs/operations.md, DNSSEC, several clusters): each
zone of each cluster is served signed and verifies (ldns-verify-zone),
with its own key made in the state directory; the catalog of every
cluster's zones is not signed; a change in one cluster is served signed;
one refresh timer renews the signatures of both clusters' zones; the
signature metrics are per zone, whichever cluster it is from.

Real kubezone, real NSD, two fake kube-apiservers, ldns-verify-zone.
"""

import os
import re
import subprocess
import time

import pytest

from syncer_harness import FakeApi, Syncer, service, svc_path, wait_for

CATALOG = "catalog.kubezone.invalid"
EU, US = "prod-eu.k8s.example.", "prod-us.k8s.example."

CLUSTERS = """\
clusters:
  - name: prod-eu
    kubeconfig: {eu}
    zone: prod-eu.k8s.example
    options:
      reverse-zone: [10.96.0.0/16]
  - name: prod-us
    kubeconfig: {us}
    zone: prod-us.k8s.example
    options:
      reverse-zone: [10.100.0.0/16]
"""
ZONES = (EU, "96.10.in-addr.arpa.", US, "100.10.in-addr.arpa.")


@pytest.fixture
def fakes(tmp_path):
    eu = FakeApi(tmp_path / "eu", args=["--bookmark-interval", "1"])
    us = FakeApi(tmp_path / "us", args=["--bookmark-interval", "1"])
    with eu, us:
        eu.write_kubeconfig()
        us.write_kubeconfig()
        eu.api("POST", svc_path(), service("web", clusterIP="10.96.1.10"), expect=201)
        us.api("POST", svc_path(), service("api", clusterIP="10.100.1.20"), expect=201)
        yield eu, us


def verify(s, zone, tmp_path):
    """ZONE as served verifies with ldns-verify-zone; returns its records."""
    # A transfer may fail while NSD swaps its server processes (a refresh
    # every few seconds here): taken again, not counted as a failure.
    records = wait_for(lambda: s.axfr(zone), 30, what="an AXFR of " + zone)
    path = tmp_path / (zone + "zone")

    def transfer():
        r = subprocess.run(["dig", "@127.0.0.1", "-p", str(s.dns_port), zone, "AXFR",
                            "+nocmd", "+nostats", "+nocomments", "+onesoa"],
                           capture_output=True, text=True, check=True)
        ok = re.search(r"\sIN\sSOA\s", r.stdout) and "Transfer failed" not in r.stdout
        return r.stdout if ok else None
    path.write_text(wait_for(transfer, 30, what="dig's AXFR of " + zone))
    r = subprocess.run(["ldns-verify-zone", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, (zone, r.stdout, r.stderr)
    return records


def rtypes(records):
    return {r[2] for r in records}


def test_two_clusters_signed(fakes, tmp_path):
    eu, us = fakes
    cfg = tmp_path / "clusters.yaml"
    cfg.write_text(CLUSTERS.format(eu=eu.workdir / "kubeconfig", us=us.workdir / "kubeconfig"))
    s = Syncer(tmp_path / "kz", args=["--clusters", cfg, "--catalog-zone", CATALOG,
                                      "--dnssec", "--dnssec-validity", "12s",
                                      "--dnssec-refresh", "6s", "--log-level", "debug"])
    s.start()
    try:
        s.wait_ready(timeout=30)
        start = time.time()
        for zone in ZONES:
            assert {"DNSKEY", "RRSIG", "NSEC"} <= rtypes(verify(s, zone, tmp_path)), zone
        # One key per zone, made in the state directory.
        keys = os.listdir(tmp_path / "kz" / "state")
        for zone in ZONES:
            assert len([k for k in keys if k.startswith("K" + zone + "+")
                        and k.endswith(".private")]) == 1, (zone, keys)
        # The catalog is for secondaries: not signed.
        cat = s.axfr(CATALOG + ".")
        assert not {"DNSKEY", "RRSIG", "NSEC"} & rtypes(cat), cat
        assert {r[3] for r in cat if r[2] == "PTR"} == set(ZONES)

        # A change in one cluster is served signed.
        us.api("POST", svc_path(), service("late", clusterIP="10.100.1.21"), expect=201)
        s.wait_answer("late.default.svc.prod-us.k8s.example", "A", ["10.100.1.21"])
        assert any(r[0] == "late.default.svc.prod-us.k8s.example." and r[2] == "RRSIG"
                   for r in verify(s, US, tmp_path))

        # Validity 12 s, refresh 6 s: the one refresh timer renews every
        # signature of both clusters' zones before it expires, so each
        # zone's earliest expiry passes the latest one of its first signing.
        def expiry(zone):
            return s.metrics().get('kubezone_dnssec_signature_expiry_earliest_'
                                   'timestamp_seconds{zone="%s"}' % zone.rstrip("."), 0)
        for zone in ZONES:
            wait_for(lambda: expiry(zone) > start + 12, 30, what="every signature of " + zone +
                     " renewed")
        for cluster, zone in (("prod-eu", EU), ("prod-us", US)):
            line = 'msg="signatures refreshed" cluster=%s zone=%s ' % (cluster, zone)
            assert s.log_text().count(line) >= 2, zone
        now = time.time()
        m = s.metrics()
        for zone in ZONES:
            assert now < expiry(zone) <= now + 12, (zone, expiry(zone), now)
            assert 'kubezone_dnssec_sign_seconds{zone="%s"}' % zone.rstrip(".") in m
        assert not any("catalog" in k for k in m if k.startswith("kubezone_dnssec"))
        assert m["kubezone_dnssec_refreshes_total"] >= 6
        for zone in ZONES:
            verify(s, zone, tmp_path)
        assert "expires within the refresh period" not in s.log_text()
    finally:
        assert s.stop() == 0
