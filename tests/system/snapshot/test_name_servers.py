"""kubezone sync with --ns and the --soa-* options: NSD answers, for every
zone, the SOA and the NS RRset the options give, and the address of the
name server inside the cluster domain; its zones equal `kubezone render`
with the same options; and a restart with another SOA serves that SOA."""

import dns.flags
import dns.rcode
import dns.rdatatype

from conftest import answers, axfr, query, rendered_zones, soa_serial, \
    without_soa_serial

ZONES = ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]
NS = ("--ns", "ns1.example.net", "--ns", "ns2.cluster.local=192.0.2.53")
ARGS = NS + ("--soa-expire", "1209600")


def soa(zone, port):
    """The SOA record NSD answers for ZONE, and the answer's TTL."""
    r = query(zone, "SOA", port=port)
    assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
    assert r.flags & dns.flags.AA
    assert len(r.answer) == 1 and len(r.answer[0]) == 1
    return r.answer[0][0], r.answer[0].ttl


def test_nsd_serves_the_name_servers_and_soa(sync, snapshot, kubezone):
    s = sync(snapshot, *ARGS)
    p = s.port
    for zone in ZONES:
        rr, ttl = soa(zone, p)
        # MNAME: the first --ns; RNAME, REFRESH, RETRY: the defaults;
        # EXPIRE as given; MINIMUM and TTL follow --ttl (30).
        assert rr.mname.to_text() == "ns1.example.net.", zone
        assert rr.rname.to_text() == "hostmaster.cluster.local.", zone
        assert (rr.refresh, rr.retry, rr.expire, rr.minimum) == \
            (7200, 1800, 1209600, 30), zone
        assert ttl == 30
        assert answers(zone, "NS", p) == ["ns1.example.net.",
                                          "ns2.cluster.local."], zone
    assert answers("ns2.cluster.local.", "A", p) == ["192.0.2.53"]
    assert answers("ns2.cluster.local.", "AAAA", p) == []
    # NSD adds the in-zone server's address to an NS answer.
    r = query("cluster.local.", "NS", port=p)
    glue = {(rrset.name.to_text(), rd.to_text()) for rrset in r.additional
            if rrset.rdtype == dns.rdatatype.A for rd in rrset}
    assert glue == {("ns2.cluster.local.", "192.0.2.53")}
    # ns.dns is named by no --ns: not written, though kube-dns has a
    # ClusterIP.
    r = query("ns.dns.cluster.local.", "A", port=p)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert answers("kube-dns.kube-system.svc.cluster.local.", "A", p) == \
        ["10.96.0.10"]

    want = rendered_zones(kubezone, snapshot, *ARGS)
    assert sorted(want) == sorted(ZONES)
    for zone in ZONES:
        assert without_soa_serial(axfr(zone, p)) == \
            without_soa_serial(want[zone]), zone


def test_restart_with_another_soa_serves_it(sync, snapshot, state_dir):
    """The same records under another SOA (only --soa-expire differs):
    NSD's zone files no longer match, so every zone goes out with a new
    serial and NSD serves the new SOA."""
    s = sync(snapshot, *NS)
    first = {z: soa_serial(z, s.port) for z in ZONES}
    assert {soa(z, s.port)[0].expire for z in ZONES} == {86400}
    assert s.stop() == 0

    s2 = sync(snapshot, *ARGS, state=state_dir)
    for zone in ZONES:
        rr, _ = soa(zone, s2.port)
        assert rr.expire == 1209600, zone
        assert rr.serial > first[zone], zone
        assert rr.mname.to_text() == "ns1.example.net."
    assert s2.text().count("zone's SOA changed since nsd's zone file") == \
        len(ZONES)

    # Unchanged options: the zones resume as they are, same serials.
    second = {z: soa_serial(z, s2.port) for z in ZONES}
    assert s2.stop() == 0
    s3 = sync(snapshot, *ARGS, state=state_dir)
    for zone in ZONES:
        rr, _ = soa(zone, s3.port)
        assert rr.expire == 1209600
        assert rr.serial == second[zone]
    assert s3.text().count("deleted=0 added=0") == len(ZONES)
    assert "zone's SOA changed" not in s3.text()
