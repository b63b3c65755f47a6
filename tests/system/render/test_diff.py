"""`kubezone diff OLD NEW`: what a change of the cluster does to the zones.

OLD is examples/cluster.json; NEW is the same cluster after a deploy:
the Deployment shop/web scaled from 2 to 3 ready replicas, a Service
shop/cart added, the Pod data/db-1 deleted, and the ExternalName of
shop/payments changed. The expected lines are written from the rule
book (R5-R8 for the new Service, R13/R14 for the new endpoint, R15 for
the CNAME, R16 for the Pods with --pod-records) in DNS canonical order,
removed before added at each name, with the explanation comment.
"""
import copy
import json
import re
import subprocess

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from test_render_cli import KUBEZONE, ROOT

EXAMPLE = ROOT / "examples" / "cluster.json"


def diff(*args, stdin=None):
    return subprocess.run([KUBEZONE, "diff", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=60)


def deployed(doc):
    """The example cluster after the deploy (see the module docstring)."""
    new = copy.deepcopy(doc)
    items = []
    for it in new["items"]:
        kind, meta = it["kind"], it["metadata"]
        if kind == "Pod" and meta["name"] == "db-1":
            continue                      # the Pod deleted
        if kind == "Service" and meta["name"] == "payments":
            it["spec"]["externalName"] = "pay.example.net"
        if kind == "EndpointSlice" and meta["name"] == "web-k2j9s":
            ep = copy.deepcopy(it["endpoints"][0])
            ep["addresses"] = ["10.244.3.12"]
            ep["targetRef"]["name"] = "web-7c9f8d6b5-n3w7p"
            it["endpoints"].append(ep)    # the third replica, ready
        items.append(it)
        if kind == "Pod" and meta["name"] == "web-7c9f8d6b5-8kqvt":
            pod = copy.deepcopy(it)
            pod["metadata"]["name"] = "web-7c9f8d6b5-n3w7p"
            pod["status"]["podIP"] = "10.244.3.12"
            pod["status"]["podIPs"] = [{"ip": "10.244.3.12"}]
            items.append(pod)
        if kind == "Service" and meta["name"] == "web":
            cart = copy.deepcopy(it)
            cart["metadata"]["name"] = "cart"
            cart["spec"]["clusterIP"] = "10.96.30.7"
            cart["spec"]["clusterIPs"] = ["10.96.30.7"]
            cart["spec"]["ports"] = [{"name": "http", "port": 80, "protocol": "TCP",
                                      "targetPort": 8080}]
            items.append(cart)
    new["items"] = items
    return new


@pytest.fixture
def dumps(tmp_path):
    old = json.loads(EXAMPLE.read_text())
    new_path = tmp_path / "new.json"
    new_path.write_text(json.dumps(deployed(old), indent=4))
    return EXAMPLE, new_path


NS_SHOP, NS_DATA = ", Namespace shop", ", Namespace data"
WEB_EP = ("Service shop/web, EndpointSlice shop/web-k2j9s endpoint 10.244.3.12 "
          "(pod web-7c9f8d6b5-n3w7p)" + NS_SHOP)
EXPECTED = f"""\
;; zone cluster.local.
- 10-244-2-21.data.pod.cluster.local.\t30\tIN\tA\t10.244.2.21\t; Pod data/db-1{NS_DATA} (R16)
+ 10-244-3-12.shop.pod.cluster.local.\t30\tIN\tA\t10.244.3.12\t; Pod shop/web-7c9f8d6b5-n3w7p{NS_SHOP} (R16)
+ cart.shop.svc.cluster.local.\t30\tIN\tA\t10.96.30.7\t; Service shop/cart{NS_SHOP} (R5)
+ cart.shop.svc.cluster.local.\t30\tIN\tSRV\t0 100 80 cart.shop.svc.cluster.local.\t; Service shop/cart{NS_SHOP} (R7)
+ _http._tcp.cart.shop.svc.cluster.local.\t30\tIN\tSRV\t0 100 80 cart.shop.svc.cluster.local.\t; Service shop/cart{NS_SHOP} (R6)
- payments.shop.svc.cluster.local.\t30\tIN\tCNAME\tpayments.example.com.\t; Service shop/payments{NS_SHOP} (R15)
+ payments.shop.svc.cluster.local.\t30\tIN\tCNAME\tpay.example.net.\t; Service shop/payments{NS_SHOP} (R15)
+ 10-244-3-12.web.shop.svc.cluster.local.\t30\tIN\tA\t10.244.3.12\t; {WEB_EP} (R14)
;; zone in-addr.arpa.
+ 12.3.244.10.in-addr.arpa.\t30\tIN\tPTR\t10-244-3-12.web.shop.svc.cluster.local.\t; {WEB_EP} (R13)
+ 7.30.96.10.in-addr.arpa.\t30\tIN\tPTR\tcart.shop.svc.cluster.local.\t; Service shop/cart{NS_SHOP} (R8)
"""


def test_a_deploy_as_removed_and_added_records(dumps):
    old, new = dumps
    res = diff("--pod-records", old, new)
    assert res.returncode == 1, res.stderr
    assert res.stdout == EXPECTED
    assert res.stderr.strip().splitlines()[-1] == (
        "diff: cluster.local. 2 removed, 6 added; in-addr.arpa. 0 removed, 2 added")


def test_the_lines_parse(dumps):
    """A script reads a line as sign, owner, TTL, class, type, RDATA and a
    comment: every RDATA is valid for its type."""
    old, new = dumps
    res = diff("--pod-records", old, new)
    for line in res.stdout.splitlines():
        if line.startswith(";; zone "):
            assert line.endswith(".")
            continue
        sign, rest = line[0], line[2:]
        assert sign in "+-" and line[1] == " "
        record, _, why = rest.partition("\t; ")
        owner, ttl, cls, rtype, rdata = record.split("\t")
        assert owner.endswith(".") and int(ttl) >= 0 and cls == "IN"
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), rdata)
        assert re.search(r" \(R[0-9]+\)$", why)


def test_without_explanations_and_without_pod_records(dumps):
    old, new = dumps
    res = diff("--no-explain", old, new)
    assert res.returncode == 1, res.stderr
    want = [l.split("\t; ")[0] for l in EXPECTED.splitlines() if ".pod." not in l]
    assert res.stdout.splitlines() == want


def test_render_options_apply(dumps):
    old, new = dumps
    res = diff("--zone", "example.internal", "--reverse-zone", "10.96.0.0/12",
               "--no-clusterip-endpoint-names", "--no-explain", old, new)
    assert res.returncode == 1, res.stderr
    assert res.stdout == (
        ";; zone example.internal.\n"
        "+ cart.shop.svc.example.internal.\t30\tIN\tA\t10.96.30.7\n"
        "+ cart.shop.svc.example.internal.\t30\tIN\tSRV\t0 100 80 "
        "cart.shop.svc.example.internal.\n"
        "+ _http._tcp.cart.shop.svc.example.internal.\t30\tIN\tSRV\t0 100 80 "
        "cart.shop.svc.example.internal.\n"
        "- payments.shop.svc.example.internal.\t30\tIN\tCNAME\tpayments.example.com.\n"
        "+ payments.shop.svc.example.internal.\t30\tIN\tCNAME\tpay.example.net.\n"
        ";; zone 96.10.in-addr.arpa.\n"
        "+ 7.30.96.10.in-addr.arpa.\t30\tIN\tPTR\tcart.shop.svc.example.internal.\n")


def test_weights_that_change_are_removed_and_added(tmp_path):
    """A third ready endpoint of a headless Service: every SRV of its
    RRsets changes weight, 50 -> 33 (R11, R12), so each is removed and
    added again."""
    def doc(n):
        eps = [{"addresses": [f"10.244.0.{i}"], "conditions": {"ready": True}}
               for i in range(1, n + 1)]
        return {"kind": "List", "items": [
            {"kind": "Service", "metadata": {"name": "db", "namespace": "a"},
             "spec": {"clusterIP": "None"}},
            {"kind": "EndpointSlice",
             "metadata": {"name": "db-1", "namespace": "a",
                          "labels": {"kubernetes.io/service-name": "db"}},
             "addressType": "IPv4", "ports": [{"port": 5432}], "endpoints": eps}]}
    (tmp_path / "old.json").write_text(json.dumps(doc(2)))
    (tmp_path / "new.json").write_text(json.dumps(doc(3)))
    res = diff("--no-explain", "--dns-ip", "10.96.0.10", "--reverse-zone",
               "10.244.0.0/24", tmp_path / "old.json", tmp_path / "new.json")
    assert res.returncode == 1, res.stderr
    srv = "db.a.svc.cluster.local.\t30\tIN\tSRV\t0 {} 5432 10-244-0-{}.db.a.svc.cluster.local."
    assert res.stdout.splitlines() == [
        ";; zone cluster.local.",
        "- db.a.svc.cluster.local.\t30\tIN\tSRV\t" + srv.split("\t")[4].format(50, 1),
        "- db.a.svc.cluster.local.\t30\tIN\tSRV\t" + srv.split("\t")[4].format(50, 2),
        "+ db.a.svc.cluster.local.\t30\tIN\tA\t10.244.0.3",
        "+ " + srv.format(33, 1),
        "+ " + srv.format(33, 2),
        "+ " + srv.format(33, 3),
        "+ 10-244-0-3.db.a.svc.cluster.local.\t30\tIN\tA\t10.244.0.3",
        ";; zone 0.244.10.in-addr.arpa.",
        "+ 3.0.244.10.in-addr.arpa.\t30\tIN\tPTR\t10-244-0-3.db.a.svc.cluster.local.",
    ]


def test_identical_dumps_say_nothing(tmp_path):
    res = diff("--pod-records", EXAMPLE, EXAMPLE)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    # The same objects in another order, as typed lists, one from stdin.
    doc = json.loads(EXAMPLE.read_text())
    lists = []
    for kind in ("Namespace", "Pod", "EndpointSlice", "Service"):
        items = [i for i in reversed(doc["items"]) if i["kind"] == kind]
        lists.append(json.dumps({"kind": kind + "List", "items": items}))
    res = diff("--pod-records", EXAMPLE, "-", stdin="\n".join(lists))
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert res.stderr.strip().splitlines()[-1] == "diff: the zones are the same"


def test_malformed_new_is_an_error(dumps, tmp_path):
    old, new = dumps
    text = new.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text(text[:len(text) // 2])
    res = diff(old, bad)
    assert res.returncode == 2
    assert res.stdout == ""
    assert re.match(rf"kubezone diff: {re.escape(str(bad))}: byte [0-9]+: ",
                    res.stderr.strip().splitlines()[-1]), res.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("")
    res = diff(old, empty)
    assert res.returncode == 2 and res.stdout == ""
    assert f"no Kubernetes objects in {empty}" in res.stderr


@pytest.mark.parametrize("args,message", [
    ([], "give two inputs"),
    (["a.json"], "give two inputs"),
    (["-", "-"], "only one of OLD and NEW"),
    (["--nope", "a", "b"], "--nope"),
    (["--ttl", "99999999", "a", "b"], "--ttl"),
    (["/nonexistent/old.json", str(EXAMPLE)], "/nonexistent/old.json"),
])
def test_usage_and_input_errors_exit_2(args, message):
    res = diff(*args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert res.stdout == ""


def test_help_lists_render_options():
    res = diff("--help")
    assert res.returncode == 0
    assert res.stdout.startswith("usage: kubezone diff [OPTIONS] OLD NEW\n")
    for opt in ("--zone", "--pod-records", "--reverse-zone", "--ns", "--no-explain"):
        assert opt in res.stdout
    res = subprocess.run([KUBEZONE, "--help"], capture_output=True, text=True)
    assert re.search(r"^  diff\s", res.stdout, re.M)
