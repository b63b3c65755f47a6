"""`kubezone render --explain`: every record says where it comes from.

An explained zone is the plain zone with a comment after each record
line ("<TAB>; Service shop/web (R5)"; several contributors joined by
"; "): NSD, BIND and Knot load it, taking the comments away gives the
plain render byte for byte, and the rule it names for each record is one
the hand-written golden zones name for that record (those zones are
written from the rule book, not by kubezone).
"""
import json
import re
import subprocess

import dns.zone
import pytest

from test_render_cli import (KUBEZONE, ROOT, assert_zones_load, eps, item,
                             smuggling_objects, svc)
from test_render_golden import (CASES, GOLDEN, HANDWRITTEN, case_args,
                                rule_comments, split_comment)

EXAMPLE = ROOT / "examples" / "cluster.json"


def render(out, *args):
    res = subprocess.run([KUBEZONE, "render", "--out", str(out), *map(str, args)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res


def strip_comments(text):
    """TEXT with each record's comment and the tab before it taken away;
    every record line must have one."""
    out = []
    for line in text.splitlines(True):
        if line.startswith("$"):
            out.append(line)
            continue
        data, sep, comment = line.partition("\t; ")
        assert sep and comment.strip() and "\n" not in comment[:-1], line
        out.append(data + "\n")
    return "".join(out)


def explanations(text):
    """{record line without its comment: [contributors]}"""
    out = {}
    for line in text.splitlines():
        if line.startswith("$"):
            continue
        data, _, comment = line.partition("\t; ")
        out[data] = comment.split("; ")
    return out


INPUTS = [("example", EXAMPLE, []),
          ("catalog", EXAMPLE, ["--catalog-zone", "catalog.invalid",
                                "--reverse-zone", "10.96.0.0/23"])] + [
    (case, GOLDEN / case / "input.json", case_args(case)) for case in CASES]


@pytest.mark.parametrize("name,path,args", INPUTS, ids=[i[0] for i in INPUTS])
def test_explained_zones_load_and_strip_to_the_plain_ones(tmp_path, name, path, args):
    plain, explained = tmp_path / "plain", tmp_path / "explained"
    render(plain, *args, path)
    render(explained, "--explain", *args, path)
    files = sorted(p.name for p in plain.iterdir())
    assert files == sorted(p.name for p in explained.iterdir())
    for f in files:
        text = (explained / f).read_text()
        assert strip_comments(text) == (plain / f).read_text(), f
        # dnspython reads the same records from both.
        origin = f[:-len("zone")]
        a = dns.zone.from_text((plain / f).read_text(), origin, relativize=False)
        b = dns.zone.from_text(text, origin, relativize=False)
        assert a == b, f
    assert_zones_load(explained)


@pytest.mark.parametrize("case", HANDWRITTEN)
def test_rules_named_are_those_of_the_hand_written_zones(tmp_path, case):
    render(tmp_path, "--explain", *case_args(case), GOLDEN / case / "input.json")
    checked = 0
    for zone in sorted((GOLDEN / case / "expected").glob("*.zone")):
        hand = {}
        for _, line, ids in rule_comments(zone):
            data, _ = split_comment(line)
            hand[" ".join(data.split())] = {k + n for k, n in ids}
        for data, whys in explanations((tmp_path / zone.name).read_text()).items():
            if data.split("\t")[3] == "SOA":
                continue
            want = hand[" ".join(data.split())]
            for why in whys:
                rules = re.findall(r"\((R[0-9]+)\)$", why)
                assert len(rules) == 1, why
                assert rules[0] in want, (zone.name, data, why, want)
                checked += 1
    assert checked > 0


def test_catalog_records_name_their_member(tmp_path):
    """Each member PTR of the catalog names the zone it lists (RFC 9432);
    the catalog's own NS and version name the option."""
    render(tmp_path, "--explain", "--catalog-zone", "catalog.invalid",
           "--reverse-zone", "10.96.0.0/23", EXAMPLE)
    got = explanations((tmp_path / "catalog.invalid.zone").read_text())
    members = {d.split("\t")[-1]: c for d, c in got.items()
               if "\tPTR\t" in d}
    assert members == {
        z + ".": ["catalog member: zone %s (RFC 9432)" % z]
        for z in ("cluster.local", "0.96.10.in-addr.arpa",
                  "1.96.10.in-addr.arpa")}
    others = [c for d, c in got.items() if "\tPTR\t" not in d and
              "\tSOA\t" not in d]
    assert others == [["catalog zone: --catalog-zone (RFC 9432)"]] * 2


def test_shared_address_shows_both_services(tmp_path):
    """One pod behind two headless Services: its address has a PTR from
    each (R13), each naming its Service, slice, address and pod; one
    address in two slices of one Service is one record naming both
    slices (E2); a host-network address of two Pods is one record naming
    both Pods."""
    ep = {"addresses": ["10.244.1.10"], "conditions": {"ready": True},
          "targetRef": {"kind": "Pod", "name": "web-7d9-x2", "namespace": "shop"}}
    items = [item("Namespace", None, "shop"),
             item("Service", "shop", "web", spec={"clusterIP": "None"}),
             item("Service", "shop", "peers", spec={"clusterIP": "None"}),
             {**eps("shop", "web-abc12", "web", "10.244.1.10"), "endpoints": [ep]},
             {**eps("shop", "web-def34", "web", "10.244.1.10"), "endpoints": [ep]},
             {**eps("shop", "peers-x1", "peers", "10.244.1.10"), "endpoints": [ep]}]
    for pod in ("proxy-a", "proxy-b"):
        items.append(item("Pod", "shop", pod, status={
            "phase": "Running", "podIP": "192.168.49.2"}))
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"kind": "List", "items": items}))
    out = tmp_path / "zones"
    render(out, "--explain", "--pod-records", "--dns-ip", "10.96.0.10", f)
    rev = explanations((out / "in-addr.arpa.zone").read_text())
    ns = ", Namespace shop"
    assert rev["10.1.244.10\t30\tIN\tPTR\t10-244-1-10.peers.shop.svc.cluster.local."] == [
        f"Service shop/peers, EndpointSlice shop/peers-x1 endpoint 10.244.1.10 "
        f"(pod web-7d9-x2){ns} (R13)"]
    assert rev["10.1.244.10\t30\tIN\tPTR\t10-244-1-10.web.shop.svc.cluster.local."] == [
        f"Service shop/web, EndpointSlice shop/web-abc12 endpoint 10.244.1.10 "
        f"(pod web-7d9-x2){ns} (R13)",
        f"Service shop/web, EndpointSlice shop/web-def34 endpoint 10.244.1.10 "
        f"(pod web-7d9-x2){ns} (R13)"]
    fwd = explanations((out / "cluster.local.zone").read_text())
    assert fwd["web.shop.svc\t30\tIN\tA\t10.244.1.10"] == [
        f"Service shop/web, EndpointSlice shop/web-abc12 endpoint 10.244.1.10 "
        f"(pod web-7d9-x2){ns} (R9)",
        f"Service shop/web, EndpointSlice shop/web-def34 endpoint 10.244.1.10 "
        f"(pod web-7d9-x2){ns} (R9)"]
    assert fwd["192-168-49-2.shop.pod\t30\tIN\tA\t192.168.49.2"] == [
        f"Pod shop/proxy-a{ns} (R16)", f"Pod shop/proxy-b{ns} (R16)"]
    assert fwd["ns.dns\t30\tIN\tA\t10.96.0.10"] == ["zone apex: --dns-ip (R3)"]
    assert_zones_load(out)


def test_explain_to_stdout(tmp_path):
    res = subprocess.run([KUBEZONE, "render", "--explain", "-"],
                         input=json.dumps({"kind": "List", "items": [
                             svc("shop", "web", "10.96.0.5"),
                             eps("shop", "web-1", "web", "10.244.0.5")]}),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "\n@\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. " \
           "1 7200 1800 86400 30\t; zone apex (R1)\n" in res.stdout
    assert "\nweb.shop.svc\t30\tIN\tA\t10.96.0.5\t; Service shop/web (R5)\n" in res.stdout
    assert "\n10-244-0-5.web.shop.svc\t30\tIN\tA\t10.244.0.5\t; Service shop/web, " \
           "EndpointSlice shop/web-1 endpoint 10.244.0.5 (R14)\n" in res.stdout


def test_names_cannot_leave_the_comment(tmp_path):
    """Every text that would mean something in a zone file, given as the
    names of objects, stays inside the comment of its line: the zones
    load, strip to the plain ones, and hold only record lines."""
    items, _ = smuggling_objects()
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"kind": "List", "items": items}))
    plain, explained = tmp_path / "plain", tmp_path / "explained"
    args = ["--pod-records", "--endpoint-pod-names", f]
    render(plain, *args)
    render(explained, "--explain", *args)
    for path in sorted(explained.iterdir()):
        text = path.read_text()
        assert strip_comments(text) == (plain / path.name).read_text()
        for line in text.splitlines()[2:]:
            data, _, comment = line.partition("\t; ")
            assert "\r" not in comment
            for why in comment.split("; "):
                assert re.search(r" \(R[0-9]+\)$", why), line
    assert_zones_load(explained)
