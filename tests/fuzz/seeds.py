#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/.

Seeds are real-shaped inputs built from examples/cluster.json and the
golden test input: what kubectl and the API server send, watch streams,
kubeconfigs, command lines, names. Run it again after changing it; it
rewrites only files named seed-*, so regression inputs (crash-*, kept
when a fuzzer finds a bug) stay.

  /usr/bin/python3 tests/fuzz/seeds.py
"""

import base64
import copy
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def load(path):
    with open(os.path.join(ROOT, path)) as f:
        return json.load(f)


EXAMPLE = load("examples/cluster.json")
GOLDEN = load("tests/golden/small-cluster/input.json")
ITEMS = EXAMPLE["items"] + GOLDEN["items"]


# The Multi-Cluster Services API's objects: ServiceImports of both types
# and the multicluster EndpointSlices of a headless one.
MCS = [
    {"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
     "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "12"},
     "spec": {"type": "ClusterSetIP", "ips": ["10.42.0.10", "fd42::10"],
              "ports": [{"name": "http", "protocol": "TCP", "port": 80}, {"port": 8080}]},
     "status": {"clusters": [{"cluster": "east"}, {"cluster": "west"}]}},
    {"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
     "metadata": {"name": "db", "namespace": "shop"},
     "spec": {"type": "Headless", "ports": [{"name": "pg", "port": 5432}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "db-east-x1", "namespace": "shop", "labels": {
         "multicluster.kubernetes.io/service-name": "db",
         "multicluster.kubernetes.io/source-cluster": "east"}},
     "addressType": "IPv4", "ports": [{"name": "pg", "protocol": "TCP", "port": 5432}],
     "endpoints": [{"addresses": ["10.1.0.5"], "hostname": "db-0", "conditions": {"ready": True}},
                   {"addresses": ["10.1.0.6"], "conditions": {"ready": False}}]},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "db-west-y2", "namespace": "shop", "labels": {
         "multicluster.kubernetes.io/service-name": "db",
         "multicluster.kubernetes.io/source-cluster": "west"}},
     "addressType": "IPv6", "ports": [{"name": "pg", "protocol": "TCP", "port": 5432}],
     "endpoints": [{"addresses": ["fd01::5"], "hostname": "db-0"}]},
]


def by_kind(kind):
    return [i for i in ITEMS if i.get("kind") == kind]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def clean(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.unlink(os.path.join(d, f))


# --- decode: whole documents and single objects ---------------------------

def decode_seeds():
    t = "decode"
    clean(t)
    write(t, "example-list", json.dumps(EXAMPLE, indent=4))
    write(t, "golden-list", compact(GOLDEN))
    for kind in ("Service", "EndpointSlice", "Pod", "Namespace"):
        objs = by_kind(kind)
        for n, o in enumerate(objs[:6]):
            write(t, f"{kind.lower()}-{n}", json.dumps(o, indent=2))
        typed = {"kind": kind + "List", "apiVersion": "v1",
                 "metadata": {"resourceVersion": "4242"},
                 "items": [{k: v for k, v in o.items() if k != "kind"} for o in objs]}
        write(t, f"{kind.lower()}-list", compact(typed))
        # "kind" after "items": items wait for the list's kind
        late = {"apiVersion": "v1", "items": typed["items"], "kind": kind + "List"}
        write(t, f"{kind.lower()}-list-kind-last", compact(late))
    write(t, "array-of-objects", compact(by_kind("Service")[:3] + by_kind("Pod")[:2]))
    write(t, "several-documents", "\n".join(compact(o) for o in ITEMS[:8]))
    write(t, "empty", "")
    write(t, "whitespace", " \n\t\r\n")
    write(t, "empty-list", '{"kind":"List","apiVersion":"v1","items":[]}')
    write(t, "null-items", '{"kind":"ServiceList","items":null}')
    write(t, "other-kinds", compact({"kind": "List", "items": [
        {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}, "data": {"a": "b"}},
        {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 2}}]}))
    write(t, "truncated", compact(EXAMPLE)[:5000])
    write(t, "bad-bracket", '{"kind":"List","items":[{"kind":"Service"]}')
    write(t, "strings-escapes", compact({"kind": "Service", "metadata": {
        "name": "w\u00e9b\\\"x", "namespace": "a\nb"}, "spec": {"clusterIP": "10.0.0.1\u0000"}}))
    write(t, "deep", "[" * 300 + "]" * 300)
    svc = copy.deepcopy(by_kind("Service")[0])
    svc["spec"]["clusterIPs"] = ["10.96.0.1", "fd00::1", "bogus"]
    svc["spec"]["ports"].append({"name": "x" * 80, "port": 70000, "protocol": "SCTP"})
    write(t, "service-odd-fields", compact(svc))
    ext = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "ext", "namespace": "shop"},
           "spec": {"type": "ExternalName", "externalName": "db.example.COM."}}
    write(t, "service-externalname", compact(ext))
    es = copy.deepcopy(by_kind("EndpointSlice")[0])
    es["addressType"] = "FQDN"
    write(t, "slice-fqdn", compact(es))
    for n, o in enumerate(MCS):
        write(t, f"mcs-{n}", json.dumps(o, indent=2))
    write(t, "serviceimport-list", compact({
        "kind": "ServiceImportList", "apiVersion": "multicluster.x-k8s.io/v1alpha1",
        "metadata": {"resourceVersion": "99"},
        "items": [{k: v for k, v in o.items() if k != "kind"} for o in MCS[:2]]}))
    odd = copy.deepcopy(MCS[0])
    odd["spec"]["ips"] = ["10.42.0.1", "fd42::1", "10.42.0.2", "bogus"]
    odd["spec"]["type"] = "LoadBalancer"
    write(t, "serviceimport-odd", compact(odd))


# --- framer: watch streams as bytes -----------------------------------------

def events(kind, objs, types=("ADDED", "MODIFIED", "DELETED")):
    out = []
    rv = 100
    for o in objs:
        for ty in types:
            rv += 1
            o = copy.deepcopy(o)
            o.setdefault("metadata", {})["resourceVersion"] = str(rv)
            out.append(compact({"type": ty, "object": o}))
    out.append(compact({"type": "BOOKMARK", "object": {"kind": kind, "metadata": {
        "resourceVersion": str(rv + 1)}}}))
    return out


def framer_seeds():
    t = "framer"
    clean(t)
    svc = events("Service", by_kind("Service")[:3])
    write(t, "stream", b"\xff\x11" + "\n".join(svc).encode() + b"\n")
    write(t, "stream-crlf", b"\xff\x22" + "\r\n".join(svc).encode() + b"\r\n")
    write(t, "stream-small-limit", b"\x20\x33" + "\n".join(svc).encode() + b"\n")
    write(t, "empty-lines", b"\x40\x01" + b"\n\n\r\n{}\n\n{\"a\":1}\r\n\r\n")
    write(t, "partial-tail", b"\x80\x05" + b'{"type":"ADDED"}\n{"type":"MOD')
    write(t, "long-line", b"\x02\x07" + b"x" * 2000 + b"\n{}\n" + b"y" * 20)
    write(t, "only-newlines", b"\x00\x00" + b"\n" * 100)


# --- watch: streams and list pages per reflector ------------------------------

REFLECTORS = [("Namespace", 0), ("Service", 1), ("EndpointSlice", 2), ("Pod", 3)]


def watch_seeds():
    t = "watch"
    clean(t)
    for kind, idx in REFLECTORS:
        objs = by_kind(kind)[:4]
        stream = events(kind, objs)
        write(t, f"{kind.lower()}-stream", bytes([idx | (5 << 3)]) + "\n".join(stream).encode() + b"\n")
        gone = stream[:2] + [compact({"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "too old resource version: 1 (5)", "reason": "Expired", "code": 410}})]
        write(t, f"{kind.lower()}-gone", bytes([idx]) + "\n".join(gone).encode() + b"\n")
        page = {"kind": kind + "List", "apiVersion": "v1",
                "metadata": {"resourceVersion": "777", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"},
                "items": [{k: v for k, v in o.items() if k != "kind"} for o in objs]}
        write(t, f"{kind.lower()}-page", bytes([idx | 4]) + compact(page).encode())
        last = dict(page, metadata={"resourceVersion": "778"})
        write(t, f"{kind.lower()}-last-page", bytes([idx | 4 | (9 << 3)]) + json.dumps(last, indent=1).encode())
    write(t, "service-malformed", bytes([1]) + b'{"type":"ADDED","object":{"kind":"Serv\n'
          + events("Service", by_kind("Service")[:1])[0].encode() + b"\n")
    write(t, "service-error-500", bytes([1]) + compact({"type": "ERROR", "object": {
        "kind": "Status", "code": 500, "message": "etcd is down"}}).encode() + b"\n")
    write(t, "service-no-type", bytes([1]) + b'{"object":{}}\n{"type":7}\n{"type":"ADDED","object":[]}\n')
    write(t, "service-oversized", bytes([1 | (2 << 3)]) + b'{"type":"ADDED","object":{"x":"'
          + b"a" * 5000 + b'"}}\n' + events("Service", by_kind("Service")[:1])[0].encode() + b"\n")
    write(t, "page-not-object", bytes([5]) + b'[1,2,3]')
    write(t, "page-items-string", bytes([5]) + b'{"items":"no","metadata":{"resourceVersion":"1"}}')


# --- prune: one watch event, byte 0 the kind whose unread members go ----------

# zonegen/model.h's enum zg_kind order.
KINDS = ["Service", "EndpointSlice", "Pod", "Namespace", "ServiceImport"]


def prune_seeds():
    t = "prune"
    clean(t)
    for idx, kind in enumerate(KINDS):
        objs = by_kind(kind)[:2] or MCS[:1]
        for n, line in enumerate(events(kind, objs)[:3]):
            write(t, f"{kind.lower()}-{n}", bytes([idx]) + line.encode())
    pod = copy.deepcopy(by_kind("Pod")[0])
    pod["metadata"]["managedFields"] = [{"manager": "kubelet", "fieldsV1": {"f:status": {
        "f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}}}}}}]
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    pod["status"]["containerStatuses"] = [{"name": "c", "ready": True, "state": {"running": {}}}]
    pod["spec"] = {"containers": [{"name": "c", "args": ["a}]\"[", "\\"]}]}
    write(t, "pod-full", bytes([2]) + json.dumps({"type": "MODIFIED", "object": pod}, indent=1).encode())
    write(t, "pod-escaped-key", bytes([2]) + b'{"object":{"sp\\u0065c":1,"status":{"conditions":[]}}}')
    write(t, "pod-duplicates", bytes([2]) + b'{"object":{"status":{"conditions":1},"status":{"phase":2},"spec":{},"spec":[]}}')
    write(t, "pod-bad-inside", bytes([2]) + b'{"object":{"spec":{"x":01,"y":"\xff"},"metadata":{"name":"p"}}}')
    write(t, "pod-unbalanced", bytes([2]) + b'{"object":{"spec":[}],"metadata":{}}}')
    write(t, "deep", bytes([2]) + b'{"object":{"spec":' + b"[" * 80 + b"]" * 80 + b"}}")


# --- kubeconfig ----------------------------------------------------------------

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n").decode()
KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n").decode()


def kubeconfig(server="https://127.0.0.1:6443", user=None, extra_cluster="", ctx="kind-kind"):
    user = user or "    token: abc.def"
    return f"""apiVersion: v1
kind: Config
current-context: {ctx}
clusters:
- name: {ctx}
  cluster:
    server: {server}
    certificate-authority-data: {CA}
{extra_cluster}contexts:
- name: {ctx}
  context:
    cluster: {ctx}
    user: {ctx}-admin
    namespace: default
users:
- name: {ctx}-admin
  user:
{user}
preferences: {{}}
"""


def kubeconfig_seeds():
    t = "kubeconfig"
    clean(t)
    write(t, "token", kubeconfig())
    write(t, "token-file", kubeconfig(user="    tokenFile: ../secrets/token"))
    write(t, "client-cert-data", kubeconfig(
        user=f"    client-certificate-data: {CA}\n    client-key-data: {KEY}"))
    write(t, "client-cert-files", kubeconfig(
        user="    client-certificate: certs/client.crt\n    client-key: /etc/k/client.key"))
    write(t, "basic-auth", kubeconfig(user="    username: admin\n    password: s3cret"))
    write(t, "insecure-http", kubeconfig(server="http://localhost:8080/prefix///",
                                         extra_cluster="    insecure-skip-tls-verify: true\n"))
    write(t, "exec-plugin", kubeconfig(user="    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                                             "      command: aws\n      args: [eks, get-token]"))
    write(t, "exec-plugin-full", kubeconfig(
        user="    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
             "      command: ./bin/gke-gcloud-auth-plugin\n      args: ['--x', '']\n"
             "      env: [{name: A, value: b}, {name: C, value: ''}]\n"
             "      provideClusterInfo: true\n      interactiveMode: IfAvailable\n"
             "      installHint: install it",
        extra_cluster=f"    certificate-authority-data: {CA}\n    tls-server-name: api\n"))
    write(t, "exec-plugin-bad", kubeconfig(
        user="    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: kubelogin\n      args: {a: b}\n      env: [{value: x}]\n"
             "      interactiveMode: Always"))
    write(t, "auth-provider", kubeconfig(user="    auth-provider:\n      name: gcp\n      config: {}"))
    write(t, "bad-base64", kubeconfig(user="    client-certificate-data: '!!notbase64=='\n"
                                           "    client-key-data: QUJD"))
    write(t, "json", json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://10.0.0.1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}]}))
    write(t, "merge-two-files", kubeconfig(ctx="a") + "\n#---\n" + kubeconfig(ctx="b", server="https://b:1"))
    write(t, "select-context", "#context b\n" + kubeconfig(ctx="a") + "\n#---\n" + kubeconfig(ctx="b"))
    write(t, "missing-user", kubeconfig().replace("user: kind-kind-admin", "user: nobody"))
    write(t, "no-current-context", kubeconfig().replace("current-context: kind-kind\n", ""))
    write(t, "anchors", """clusters:
- &c
  name: x
  cluster: {server: "https://h:1"}
contexts: [{name: x, context: {cluster: x, user: *c}}]
users: [*c]
current-context: x
""")
    write(t, "not-yaml", "{{{: [\n\t- ]]")
    write(t, "empty", "")


# --- execcred: what credential plugins print -----------------------------------

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


def exec_credential(status, api=V1, kind="ExecCredential"):
    return compact({"apiVersion": api, "kind": kind, "spec": {"interactive": False},
                    "status": status})


def execcred_seeds():
    """First byte: 0 asks for v1, 1 for v1beta1; the rest is the plugin's stdout."""
    t = "execcred"
    clean(t)
    pem = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBBQUA\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----\n"
    write(t, "v1-token", b"\0" + exec_credential(
        {"token": "k8s-aws-v1.aHR0cHM6Ly9zdHM", "expirationTimestamp": "2026-12-03T15:04:05Z"}).encode())
    write(t, "v1beta1-token", b"\1" + exec_credential({"token": "ya29.a0AfH6"}, api=V1BETA1).encode())
    write(t, "v1-cert", b"\0" + exec_credential(
        {"clientCertificateData": pem, "clientKeyData": key,
         "expirationTimestamp": "2026-12-03T16:04:05.123456+01:00"}).encode())
    write(t, "cert-without-key", b"\0" + exec_credential({"clientCertificateData": pem}).encode())
    write(t, "wrong-kind", b"\0" + exec_credential({"token": "a"}, kind="Status").encode())
    write(t, "wrong-version", b"\1" + exec_credential({"token": "a"}).encode())
    write(t, "no-status", b"\0" + compact({"apiVersion": V1, "kind": "ExecCredential"}).encode())
    write(t, "bad-time", b"\0" + exec_credential(
        {"token": "a", "expirationTimestamp": "2026-02-30T25:00:00"}).encode())
    write(t, "nul-in-key", b"\0" + exec_credential(
        {"clientCertificateData": pem + "\u0000tail", "clientKeyData": key}).encode())
    write(t, "garbage", b"\0Enter MFA code for arn:aws:iam::123:mfa/me: ")
    write(t, "empty", b"\1")


# --- opt: command lines --------------------------------------------------------

def argv(cmd, *args):
    return bytes([cmd]) + "\0".join(args).encode()


def opt_seeds():
    t = "opt"
    clean(t)
    write(t, "render-basic", argv(0, "--zone", "cluster.local", "--ttl=30", "cluster.json"))
    write(t, "render-all", argv(0, "--zone=Example.COM.", "--dns-ip", "10.96.0.10", "--dns-ip",
                                "fd00::a", "--namespace", "shop", "--reverse-zone", "10.96.0.0/12",
                                "--reverse-zone=fd00:10:96::/112", "--pod-records",
                                "--endpoint-pod-names", "--no-clusterip-endpoint-names"))
    write(t, "render-labels", argv(0, "--labels", "app in (web, db),tier!=x,!canary",
                                   "--namespace-labels", "example.com/team==a", "cluster.json"))
    write(t, "render-bad-selector", argv(0, "--labels", "app in (web", "--namespace-labels", "-x"))
    write(t, "render-name-servers", argv(0, "--ns", "ns1.example.net", "--ns",
                                         "NS2.Cluster.Local.=192.0.2.53", "--ns",
                                         "ns2.cluster.local=2001:db8::53", "--soa-rname",
                                         "dns.admin@example.net", "--soa-refresh", "3600",
                                         "--soa-retry", "600", "--soa-expire", "1209600",
                                         "--soa-minimum", "60", "--reverse-zone", "10.96.0.0/16"))
    write(t, "render-catalog", argv(0, "--catalog-zone", "catalog.kubezone.invalid",
                                    "--reverse-zone", "10.96.0.0/23"))
    write(t, "sync-clusters", argv(2, "--clusters", "/etc/kubezone/clusters.yaml",
                                   "--catalog-zone", "catalog.kubezone.invalid"))
    write(t, "render-clusterset", argv(0, "--clusterset-zone", "ClusterSet.Local.",
                                       "--catalog-zone", "catalog.invalid"))
    write(t, "render-clusterset-bad", argv(0, "--clusterset-zone", "svc.cluster.local",
                                           "--clusterset-zone", "."))
    write(t, "sync-name-servers-bad", argv(2, "--ns", "ns1.cluster.local", "--soa-expire", "3600",
                                           "--soa-refresh", "3000", "--soa-retry", "601", "--ns",
                                           "ns.96.10.in-addr.arpa", "--dns-ip", "10.96.0.10",
                                           "--catalog-zone", "cluster.local"))
    write(t, "render-bad", argv(0, "--ttl", "99999999", "--zone", "a..b", "--reverse-zone", "10.1.0.0/8"))
    write(t, "render-help", argv(0, "--help"))
    write(t, "render-dashdash", argv(0, "--", "--zone", "-"))
    write(t, "nsdconf-basic", argv(1, "--listen", "127.0.0.1:5353", "--listen", "[::1]:53",
                                   "--state-dir", "/var/lib/kubezone"))
    write(t, "nsdconf-tsig", argv(1, "--tsig-key", "xfr.example:hmac-sha256:c2VjcmV0c2VjcmV0",
                                  "--allow-transfer", "10.0.0.0/8,key=xfr.example",
                                  "--notify", "10.1.2.3:53,key=xfr.example",
                                  "--verbosity", "2", "--ixfr-number", "5", "--edns-size", "1232"))
    write(t, "nsdconf-missing-key", argv(1, "--allow-transfer", "10.0.0.0/8,key=nope"))
    write(t, "nsdconf-feed-key-name", argv(1, "--tsig-key", "Kubezone-Feed.:hmac-sha256:c2VjcmV0c2VjcmV0"))
    write(t, "sync-api", argv(2, "--kubeconfig", "/tmp/kc", "--context", "kind", "--page-size", "500",
                              "--watch-timeout", "5m", "--idle-timeout", "130s", "--backoff-max", "30s",
                              "--relist-interval", "30m", "--token-refresh", "1m",
                              "--max-event-size", "16MiB", "--min-interval", "100ms",
                              "--http", "127.0.0.1:9154"))
    write(t, "sync-odd", argv(2, "--http", "off", "--watch-timeout", "1h2m3s4ms", "--min-interval=0",
                              "--idle-timeout", "99999999999h", "--http=[::1]:0"))
    write(t, "newline-separated", bytes([2]) + b"--zone\nk8s.test\n--ttl\n0\n--http\n[fe80::1]:80")


# --- names ---------------------------------------------------------------------

# --- clusters: the clusters file ---------------------------------------------

CLUSTERS_FILE = """\
# two clusters
clusters:
  - name: prod-eu
    kubeconfig: /etc/kubezone/prod-eu.kubeconfig
    context: prod-eu
    zone: prod-eu.k8s.example
    options:
      reverse-zone: [10.96.0.0/16, 'fd00:10::/56']
      clusterset-zone: clusterset.local
      pod-records: true
      namespace:
        - shop
        - kube-system
  - name: prod-us
    in-cluster: true
    zone: prod-us.k8s.example
    options: {reverse-zone: 10.112.0.0/16, ttl: 60, labels: "app in (web, db)"}
"""


def clusters_seeds():
    t = "clusters"
    clean(t)
    write(t, "two", CLUSTERS_FILE)
    write(t, "one-minimal", "clusters:\n  - name: a\n    zone: a.example\n")
    write(t, "collision", CLUSTERS_FILE.replace("10.112.0.0/16", "10.96.128.0/17"))
    write(t, "default-reverse", "clusters:\n  - {name: a, zone: a.example}\n"
          "  - {name: b, zone: b.example}\n")
    write(t, "bad-option", CLUSTERS_FILE.replace("ttl: 60", "ttl: [60]"))
    write(t, "unknown-key", CLUSTERS_FILE.replace("context: prod-eu", "colour: red"))
    write(t, "anchors", "base: &o {pod-records: true}\nclusters:\n"
          "  - {name: a, zone: a.example, options: *o}\n")
    write(t, "not-yaml", "clusters: [\n  - {name: a\n")
    write(t, "empty", "")


def names_seeds():
    t = "names"
    clean(t)
    seeds = {
        "name": "web.shop.svc.cluster.local\nWeb.Shop.svc.cluster.local.",
        "srv": "_http._tcp.web.shop.svc.cluster.local\n_https._tcp.web.shop.svc.cluster.local",
        "root-dot": ".",
        "escaped": "a\\.b.c\\065.example\nexample",
        "long-label": "a" * 63 + ".b\n" + "a" * 64 + ".b",
        "long-name": ".".join(["abcdefghi"] * 25) + "\n" + ".".join(["x"] * 127),
        "ipv4": "10.96.0.10",
        "ipv6": "fd00:10:244:1::1e",
        "ipv6-mapped": "::ffff:10.1.2.3",
        "ipv6-trailing": "2001:db8::",
        "cidr4": "10.96.0.0/12",
        "cidr4-odd": "192.168.0.0/17",
        "cidr6": "fd00:10:96::/108",
        "cidr6-zero": "::/0",
        "cidr-host-bits": "10.96.0.1/12",
        "underscore": "_dmarc\n_",
        "upper-unicode": "WEB.\u00e9xample.COM",
        "empty": "",
    }
    for k, v in seeds.items():
        write(t, k, v)


# --- selector: a label selector, then labels "k=v" a line ----------------------

def selector_seeds():
    t = "selector"
    clean(t)
    seeds = {
        "equality": "environment = production,tier!=frontend\nenvironment=production\ntier=backend",
        "sets": "environment in (production, qa),tier notin (frontend,backend)\nenvironment=qa",
        "exists": "partition,!canary\npartition=customerA",
        "prefixed": "app.kubernetes.io/name==web,kubernetes.io/service-name\napp.kubernetes.io/name=web",
        "empty-values": "release=,x in (a,),y in ()\nrelease=\nx=",
        "bad": "app in (a b\napp=a",
        "empty": "",
    }
    for k, v in seeds.items():
        write(t, k, v)


# --- render: options and documents --------------------------------------------

def render_seeds():
    t = "render"
    clean(t)
    write(t, "example", compact(EXAMPLE))
    write(t, "golden-pod-records", "#opts --pod-records\n" + compact(GOLDEN))
    write(t, "golden-all-options", "#opts --pod-records --endpoint-pod-names --zone k8s.example "
          "--ttl 5 --reverse-zone 10.96.0.0/12 --reverse-zone fd00::/8 --dns-ip 10.96.0.10\n"
          + compact(GOLDEN))
    write(t, "golden-namespace", "#opts --namespace shop --no-clusterip-endpoint-names\n" + compact(GOLDEN))
    write(t, "golden-labels", "#opts --pod-records --labels app!=db,!hidden "
          "--namespace-labels kubernetes.io/metadata.name\n" + compact(GOLDEN))
    for kind in ("Service", "EndpointSlice", "Pod"):
        write(t, kind.lower() + "s", "#opts --pod-records\n" + compact({"kind": "List", "items": by_kind(kind)}))
    svc = by_kind("Service")
    sl = by_kind("EndpointSlice")
    write(t, "headless-pair", compact({"kind": "List", "items": [
        s for s in svc if s["spec"].get("clusterIP") == "None"] + sl}))
    write(t, "clusterset", "#opts --clusterset-zone clusterset.local --reverse-zone 10.0.0.0/8 "
          "--reverse-zone fd00::/8 --catalog-zone catalog.invalid\n"
          + compact({"kind": "List", "items": GOLDEN["items"] + MCS}))
    write(t, "externalname", compact({"kind": "Service", "apiVersion": "v1",
                                      "metadata": {"name": "ext", "namespace": "shop"},
                                      "spec": {"type": "ExternalName", "externalName": "db.example.com"}}))
    write(t, "empty", "")


# --- events: model events against the zone database --------------------------
#
# The bytes are the choices fuzz_events.c makes (see its header): byte 0
# the options, then per batch its size and per event its kind and fields.
# The helpers below spell the choices out; pick() takes a byte modulo n.

EV_POD_RECORDS, EV_EP_POD_NAMES, EV_NS_FILTER, EV_REVERSE = 1, 2, 4, 8
EV_SMALL_CAP, EV_NO_R14, EV_DNS_IP, EV_FIRST_LOAD = 16, 32, 64, 128


def ev_ip(v6=False, clusterip=False, last=1):
    """An address choice: fd00::N, 10.96.0.N or 10.244.0.N."""
    if v6:
        return [6 * last]
    return [1 + (0 if clusterip else 6) + 30 * (last - 1)]


def ev_ports(*ports):
    """(name index, port 80..82, udp) per port; at most 2."""
    out = [len(ports)]
    for name, port, udp in ports:
        out += [name, 1 + 5 * (port - 80) + (15 if udp else 0)]
    return out


def ev_service(ns, name, ips=(), headless=False, ext=None, ports=()):
    out = [0, ns, name]
    if ext is not None:
        out += [0, ext]
    elif headless:
        out += [1]
    else:
        out += [6 if len(ips) == 1 else 8] + sum(ips, [])
    return out + ev_ports(*ports)


def ev_slice(ns, svc, endpoints, suffix=0, label=True, fqdn=False, ports=()):
    """ENDPOINTS: (host index, ready, target pod or None, ip choice)."""
    b = (1 if label else 0) + (0 if fqdn else 16)
    out = [9, svc, suffix, ns, b] + ev_ports(*ports) + [len(endpoints)]
    for host, ready, target, ip in endpoints:
        eb = (1 if ready else 0) + (4 + 8 * target if target is not None else 0)
        out += [host, eb] + ip
    return out


def ev_pod(ns, idx, ips, active=True):
    return [18, idx, ns, (1 if active else 0) + 5 * len(ips)] + sum(ips, [])


def ev_namespace(ns):
    return [23, ns]


def ev_delete(kind, which):
    return [25, kind, which]


def ev_relist(kind, slices=()):
    return [28, kind, len(slices)] + sum((s[1:] for s in slices), [])


def ev_replace(*events):
    return [31, len(events)] + sum(events, [])


def ev_batches(*batches):
    """Each batch: its events; the size byte comes first."""
    out = []
    for b in batches:
        out += [len(b) - 1] + sum(b, [])
    return bytes(out)


def events_seeds():
    import random
    t = "events"
    clean(t)
    web = ev_service(0, 0, [ev_ip(clusterip=True, last=1)], ports=[(1, 80, False)])
    db = ev_service(0, 1, [ev_ip(clusterip=True, last=2), ev_ip(v6=True, last=1)],
                    ports=[(1, 80, False), (2, 81, True)])
    dns = ev_service(2, 2, [ev_ip(clusterip=True, last=3)], ports=[(2, 81, True), (2, 81, False)])
    headless = ev_service(1, 3, headless=True, ports=[(1, 80, False)])
    web_eps = ev_slice(0, 0, [(1, True, 0, ev_ip(last=1)), (2, True, 1, ev_ip(last=2)),
                              (0, False, None, ev_ip(last=3))], ports=[(1, 80, False)])
    hl_eps = ev_slice(1, 3, [(1, True, 0, ev_ip(last=1)), (2, True, None, ev_ip(last=2)),
                             (4, True, None, ev_ip(last=4))], ports=[(1, 80, False)])
    pods = [ev_pod(0, 0, [ev_ip(last=1)]), ev_pod(0, 1, [ev_ip(last=2), ev_ip(v6=True, last=2)]),
            ev_pod(1, 2, [ev_ip(last=3)], active=False)]
    cluster = [web, db, dns, headless, web_eps, hl_eps] + pods
    write(t, "cluster-default", bytes([0]) + ev_batches(*([c] for c in cluster)))
    write(t, "cluster-all-options", bytes([0x7f]) + ev_batches(
        cluster[:3], cluster[3:6], pods, [ev_namespace(0), ev_namespace(2)],
        [ev_delete(0, 0)], [ev_relist(1, [hl_eps])]))
    write(t, "first-load-then-churn", bytes([EV_FIRST_LOAD | EV_REVERSE | EV_POD_RECORDS, 7]) +
          bytes(sum(cluster[:8], [])) + ev_batches(
              [ev_service(0, 0, [ev_ip(clusterip=True, last=4)], ports=[(1, 80, False)])],
              [ev_slice(0, 0, [(1, True, 0, ev_ip(last=4))], ports=[(1, 80, False)])],
              [ev_delete(2, 0)], [ev_delete(1, 0), ev_delete(0, 0)]))
    write(t, "clusterip-at-endpoint", bytes([EV_REVERSE]) + ev_batches(
        [web, ev_slice(0, 0, [(1, True, None, ev_ip(clusterip=True, last=1))])],
        [ev_delete(0, 0)], [web]))
    write(t, "cname-conflict", bytes([EV_POD_RECORDS]) + ev_batches(
        [ev_service(0, 0, ext=1), web_eps],
        [ev_service(0, 0, ext=0)], [web], [ev_service(0, 0, ext=3)]))
    write(t, "small-cap-headless", bytes([EV_SMALL_CAP | EV_REVERSE | EV_EP_POD_NAMES]) + ev_batches(
        [headless, hl_eps], [ev_slice(1, 3, [(0, True, None, ev_ip(last=n)) for n in (1, 2, 3, 4)],
                                      suffix=1)],
        [ev_delete(1, 0)], [ev_relist(1, [])]))
    write(t, "namespace-filter-replace", bytes([EV_NS_FILTER | EV_POD_RECORDS | EV_DNS_IP]) + ev_batches(
        [web, dns, pods[0]], [ev_namespace(0)], [ev_replace(dns, headless, ev_namespace(2))],
        [ev_delete(3, 0)], [ev_replace()]))
    rnd = random.Random(0x6b7a)
    for n, opts in enumerate((0x00, 0x09, 0x3f, 0xd5)):
        write(t, f"random-{n}", bytes([opts]) + bytes(rnd.randrange(256) for _ in range(600)))


def main():
    decode_seeds()
    framer_seeds()
    watch_seeds()
    prune_seeds()
    kubeconfig_seeds()
    clusters_seeds()
    execcred_seeds()
    opt_seeds()
    names_seeds()
    selector_seeds()
    render_seeds()
    events_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))))


if __name__ == "__main__":
    main()
