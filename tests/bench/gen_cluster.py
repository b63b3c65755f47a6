#!/usr/bin/python3
"""gen_cluster.py -- a synthetic Kubernetes cluster for the benchmarks.

Prints what `kubectl get svc,endpointslices,pods,namespaces -A -o json`
prints (a `List`, indented by four spaces, items grouped by kind and
sorted by namespace and name as the API server lists them) for a cluster
at Kubernetes' documented scale limits:

  * 10,000 Services: most ClusterIP with 1-3 named ports (a few NodePort
    and LoadBalancer), ~10% headless Services in front of StatefulSets
    (pods with hostname and subdomain), ~3% ExternalName, ~5% dual-stack;
    kube-system/kube-dns and default/kubernetes as a real cluster has;
  * 150,000 Pods on 100 pods per node: Deployment and StatefulSet
    replicas, two host-network DaemonSets per node, completed Job pods; a
    few are pending (no IP), not ready, or terminating;
  * the EndpointSlices the controller would keep for those Services: at
    most 100 endpoints each, one address family each, targetRef to the
    pod, ready/serving/terminating conditions;
  * 500 Namespaces.

The output depends only on the arguments (the seed included): the same
arguments give the same bytes. Objects have the metadata kubectl shows
(uid, resourceVersion, creationTimestamp, labels, ownerReferences; no
managedFields) and full pod specs and statuses, so the input has the
size and shape a real listing has.

Speed: an object's JSON is produced by filling a template (made once per
object shape with json.dumps) with %-formatting, so the full-size cluster
(1.7 GB) takes about 20 seconds.

Usage: gen_cluster.py [--services N] [--pods N] [--namespaces N]
                      [--seed N] [--out FILE]
"""

import argparse
import json
import math
import random
import re
import sys
import time

BASE_TIME = 1780000000  # 2026-05-28, the "now" of the synthetic cluster

# --- words for names -----------------------------------------------------

TEAMS = """accounts ads analytics api audit auth billing bookings cart catalog
chat checkout cms compliance data delivery devices docs email events
experiments feeds finance fraud gateway geo growth identity images inventory
invoices kyc ledger loyalty maps marketing media messaging ml mobile
monitoring notifications orders partners payments platform pricing profiles
promotions recommendations reporting reviews risk search security shipping
social storage streaming subscriptions support tax tickets video
warehouse""".split()

ENVS = "prod staging dev qa canary perf sandbox preview int uat".split()

NOUNS = """api web worker frontend backend gateway proxy cache db queue
scheduler indexer ingest exporter reader writer sync router auth store
stream broker resolver renderer notifier collector aggregator validator
planner tracker uploader crawler""".split()

ADJS = """core main edge internal public batch realtime legacy shared
primary read write async fast bulk live admin partner mobile""".split()

STATEFUL = """postgres redis kafka zookeeper etcd mongodb cassandra rabbitmq
elasticsearch nats minio clickhouse consul vault mysql memcached""".split()

EXTERNAL_DOMAINS = """db.example.com mq.example.net cache.example.org
storage.example.com api.partner.example search.example.io
legacy.corp.example mail.example.com""".split()

# (name, port, protocol, appProtocol or None)
PORTS = [
    ("http", 80, "TCP", "http"), ("https", 443, "TCP", "https"),
    ("grpc", 9090, "TCP", "grpc"), ("metrics", 9100, "TCP", None),
    ("admin", 8081, "TCP", None), ("health", 8086, "TCP", None),
    ("http-alt", 8080, "TCP", None), ("ws", 8000, "TCP", None),
    ("statsd", 8125, "UDP", None), ("syslog", 514, "UDP", None),
    ("dns", 53, "UDP", None), ("gossip", 7946, "UDP", None),
    ("sip", 5060, "SCTP", None),
]
STATEFUL_PORTS = {
    "postgres": 5432, "redis": 6379, "kafka": 9092, "zookeeper": 2181,
    "etcd": 2379, "mongodb": 27017, "cassandra": 9042, "rabbitmq": 5672,
    "elasticsearch": 9200, "nats": 4222, "minio": 9000, "clickhouse": 8123,
    "consul": 8500, "vault": 8200, "mysql": 3306, "memcached": 11211,
}

HASH_CHARS = "bcdfghjklmnpqrstvwxz2456789"

# --- templates -----------------------------------------------------------
#
# An object is first built as a Python dict in which the values that vary
# between objects of the same shape are placeholders: S(k) inside a JSON
# string, R(k) for a whole JSON value written as is (numbers, booleans,
# nested documents). json.dumps renders the dict once; the placeholders
# become %(k)s, and each object is then one %-format with its values.

def S(key):
    return "\0" + key + "\0"


def R(key):
    return "\0#" + key + "\0"


_RAW = re.compile(r'"\\u0000#(\w+)\\u0000"')
_STR = re.compile(r'\\u0000(\w+)\\u0000')


def nest(text, depth):
    """Indent every line of TEXT by DEPTH spaces."""
    pad = " " * depth
    return pad + text.replace("\n", "\n" + pad)


def template(obj, depth):
    text = json.dumps(obj, indent=4).replace("%", "%%")
    text = _RAW.sub(r"%(\1)s", text)
    text = _STR.sub(r"%(\1)s", text)
    return nest(text, depth)


class Templates:
    """Templates by shape key, built on first use by a builder function."""

    def __init__(self, builder, depth):
        self.builder = builder
        self.depth = depth
        self.cache = {}

    def get(self, key):
        t = self.cache.get(key)
        if t is None:
            t = self.cache[key] = template(self.builder(*key), self.depth)
        return t


ITEM_DEPTH = 8          # items of the List: { "items": [ {...} ] }
ENDPOINT_DEPTH = 16     # endpoints of an EndpointSlice item


def meta_tmpl(extra_labels=(), owner=None, generate_name=False,
              namespaced=True, deletion=False, annotations=None):
    m = {"creationTimestamp": S("ts")}
    if deletion:
        m["deletionGracePeriodSeconds"] = 30
        m["deletionTimestamp"] = S("deleted")
    if generate_name:
        m["generateName"] = S("generate")
    if annotations:
        m["annotations"] = annotations
    labels = {k: S(v) for k, v in extra_labels}
    if labels:
        m["labels"] = dict(sorted(labels.items()))
    m["name"] = S("name")
    if namespaced:
        m["namespace"] = S("ns")
    if owner:
        m["ownerReferences"] = [{
            "apiVersion": owner[0], "blockOwnerDeletion": True,
            "controller": True, "kind": owner[1], "name": S("owner"),
            "uid": S("owner_uid")}]
    m["resourceVersion"] = S("rv")
    m["uid"] = S("uid")
    return m


APP_LABELS = (("app.kubernetes.io/instance", "app_instance"),
              ("app.kubernetes.io/name", "app"),
              ("app.kubernetes.io/part-of", "part_of"))


def service_tmpl(kind, nports, dual, pna):
    """kind: ClusterIP, NodePort, LoadBalancer, Headless, ExternalName."""
    spec = {}
    if kind != "ExternalName":
        if kind == "Headless":
            spec["clusterIP"] = "None"
            spec["clusterIPs"] = ["None"]
        else:
            spec["clusterIP"] = S("ip4")
            spec["clusterIPs"] = [S("ip4"), S("ip6")] if dual else [S("ip4")]
        if kind in ("NodePort", "LoadBalancer"):
            spec["externalTrafficPolicy"] = "Cluster"
    else:
        spec["externalName"] = S("external")
    if kind != "ExternalName":
        spec["internalTrafficPolicy"] = "Cluster"
        spec["ipFamilies"] = ["IPv4", "IPv6"] if dual else ["IPv4"]
        spec["ipFamilyPolicy"] = S("family_policy")
    ports = []
    for i in range(nports):
        p = {"name": S("pname%d" % i)}
        if kind in ("NodePort", "LoadBalancer"):
            p["nodePort"] = R("nodeport%d" % i)
        p["port"] = R("port%d" % i)
        p["protocol"] = S("proto%d" % i)
        p["targetPort"] = R("tport%d" % i)
        ports.append(p)
    if ports:
        spec["ports"] = ports
    if pna:
        spec["publishNotReadyAddresses"] = True
    if kind != "ExternalName":
        spec["selector"] = {"app.kubernetes.io/instance": S("app_instance"),
                            "app.kubernetes.io/name": S("app")}
    spec["sessionAffinity"] = "None"
    spec["type"] = "ClusterIP" if kind == "Headless" else kind
    status = {"loadBalancer": {}}
    if kind == "LoadBalancer":
        status["loadBalancer"] = {"ingress": [{"ip": S("lb_ip"),
                                               "ipMode": "VIP"}]}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta_tmpl(APP_LABELS),
            "spec": spec, "status": status}


def slice_tmpl(v6, nports):
    ports = []
    for i in range(nports):
        p = {"name": S("pname%d" % i), "port": R("tport%d" % i),
             "protocol": S("proto%d" % i)}
        ports.append(p)
    meta = meta_tmpl(APP_LABELS + (
        ("endpointslice.kubernetes.io/managed-by", "managed_by"),
        ("kubernetes.io/service-name", "service")),
        owner=("v1", "Service"), generate_name=True,
        annotations={"endpoints.kubernetes.io/last-change-trigger-time":
                     S("trigger")})
    return {"addressType": "IPv6" if v6 else "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": R("endpoints"),
            "kind": "EndpointSlice",
            "metadata": meta,
            "ports": ports if ports else None}


def endpoint_tmpl(hostname, target):
    e = {"addresses": [S("addr")],
         "conditions": {"ready": R("ready"), "serving": R("serving"),
                        "terminating": R("terminating")}}
    if hostname:
        e["hostname"] = S("hostname")
    e["nodeName"] = S("node")
    if target:
        e["targetRef"] = {"kind": "Pod", "name": S("pod"),
                          "namespace": S("ns"), "uid": S("pod_uid")}
    e["zone"] = S("zone")
    return e


def pod_tmpl(owner_kind, ports, dual, state, host_network, sts):
    """ports: a tuple of port counts, one per container; state: ready,
    notready, terminating, pending, succeeded."""
    labels = list(APP_LABELS)
    if owner_kind == "ReplicaSet":
        labels.append(("pod-template-hash", "template_hash"))
    elif owner_kind == "StatefulSet":
        labels += [("apps.kubernetes.io/pod-index", "index"),
                   ("controller-revision-hash", "template_hash"),
                   ("statefulset.kubernetes.io/pod-name", "name")]
    elif owner_kind == "DaemonSet":
        labels += [("controller-revision-hash", "template_hash"),
                   ("pod-template-generation", "generation")]
    elif owner_kind == "Job":
        labels += [("batch.kubernetes.io/controller-uid", "owner_uid"),
                   ("batch.kubernetes.io/job-name", "owner"),
                   ("job-name", "owner")]
    meta = meta_tmpl(labels, owner=("batch/v1" if owner_kind == "Job"
                                    else "apps/v1", owner_kind),
                     generate_name=owner_kind != "StatefulSet",
                     deletion=state == "terminating")
    containers = []
    statuses = []
    for c, nports in enumerate(ports):
        cp = [{"containerPort": R("cport%d_%d" % (c, i)),
               "name": S("cpname%d_%d" % (c, i)),
               "protocol": S("cproto%d_%d" % (c, i))}
              for i in range(nports)]
        ctr = {"env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "LOG_LEVEL", "value": "info"}],
            "image": S("image%d" % c),
            "imagePullPolicy": "IfNotPresent",
            "name": S("cname%d" % c)}
        if cp:
            ctr["ports"] = cp
            ctr["readinessProbe"] = {
                "failureThreshold": 3,
                "httpGet": {"path": "/healthz", "port": R("cport%d_0" % c),
                            "scheme": "HTTP"},
                "periodSeconds": 10, "successThreshold": 1,
                "timeoutSeconds": 1}
        ctr["resources"] = {"limits": {"memory": S("mem")},
                            "requests": {"cpu": S("cpu"), "memory": S("mem")}}
        ctr["terminationMessagePath"] = "/dev/termination-log"
        ctr["terminationMessagePolicy"] = "File"
        ctr["volumeMounts"] = [{
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            "name": S("api_volume"), "readOnly": True}]
        containers.append(ctr)
        st = {"containerID": S("cid%d" % c), "image": S("image%d" % c),
              "imageID": S("image_id%d" % c), "lastState": {},
              "name": S("cname%d" % c),
              "ready": state == "ready", "restartCount": R("restarts"),
              "started": state not in ("succeeded",)}
        if state == "succeeded":
            st["state"] = {"terminated": {
                "containerID": S("cid%d" % c), "exitCode": 0,
                "finishedAt": S("finished"), "reason": "Completed",
                "startedAt": S("started")}}
        else:
            st["state"] = {"running": {"startedAt": S("started")}}
        statuses.append(st)
    spec = {"containers": containers}
    spec["dnsPolicy"] = ("ClusterFirstWithHostNet" if host_network
                         else "ClusterFirst")
    spec["enableServiceLinks"] = True
    if sts:
        spec["hostname"] = S("name")
    if host_network:
        spec["hostNetwork"] = True
    if state != "pending":
        spec["nodeName"] = S("node")
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = R("priority")
    if host_network:
        spec["priorityClassName"] = "system-node-critical"
    spec["restartPolicy"] = "Never" if owner_kind == "Job" else "Always"
    spec["schedulerName"] = "default-scheduler"
    spec["securityContext"] = {}
    spec["serviceAccount"] = S("service_account")
    spec["serviceAccountName"] = S("service_account")
    if sts:
        spec["subdomain"] = S("subdomain")
    spec["terminationGracePeriodSeconds"] = 30
    spec["tolerations"] = [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
         "operator": "Exists", "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
         "operator": "Exists", "tolerationSeconds": 300}]
    spec["volumes"] = [{"name": S("api_volume"), "projected": {
        "defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607,
                                     "path": "token"}},
            {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                           "name": "kube-root-ca.crt"}},
            {"downwardAPI": {"items": [{"fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"},
                "path": "namespace"}]}}]}}]

    def cond(kind, ok, reason=None):
        c = {"lastProbeTime": None, "lastTransitionTime": S("started"),
             "status": "True" if ok else "False", "type": kind}
        if reason:
            c["reason"] = reason
        return c
    if state == "pending":
        status = {"conditions": [
            {"lastProbeTime": None, "lastTransitionTime": S("ts"),
             "message": "0/1500 nodes are available: 1500 Insufficient cpu.",
             "reason": "Unschedulable", "status": "False",
             "type": "PodScheduled"}],
            "phase": "Pending", "qosClass": "Burstable"}
    else:
        ready = state == "ready"
        done = "PodCompleted" if state == "succeeded" else None
        status = {"conditions": [
            cond("PodReadyToStartContainers", state != "succeeded"),
            cond("Initialized", True, done),
            cond("Ready", ready, done or (None if ready
                                          else "ContainersNotReady")),
            cond("ContainersReady", ready, done or (
                None if ready else "ContainersNotReady")),
            cond("PodScheduled", True)],
            "containerStatuses": statuses,
            "hostIP": S("host_ip"),
            "hostIPs": [{"ip": S("host_ip")}],
            "phase": "Succeeded" if state == "succeeded" else "Running",
            "podIP": S("ip4"),
            "podIPs": ([{"ip": S("ip4")}, {"ip": S("ip6")}] if dual
                       else [{"ip": S("ip4")}]),
            "qosClass": "Burstable",
            "startTime": S("ts")}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": spec, "status": status}


def namespace_tmpl(team):
    labels = [("kubernetes.io/metadata.name", "name")]
    if team:
        labels.append(("team", "team"))
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": meta_tmpl(labels, namespaced=False),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}}


SERVICE_T = Templates(service_tmpl, ITEM_DEPTH)
SLICE_T = Templates(slice_tmpl, ITEM_DEPTH)
ENDPOINT_T = Templates(endpoint_tmpl, ENDPOINT_DEPTH)
POD_T = Templates(pod_tmpl, ITEM_DEPTH)
NAMESPACE_T = Templates(namespace_tmpl, ITEM_DEPTH)

# --- the cluster ---------------------------------------------------------


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.rv = 1000000

    def uid(self):
        x = self.rng.getrandbits(128)
        s = "%032x" % x
        return "%s-%s-4%s-%s-%s" % (s[:8], s[8:12], s[13:16], s[16:20],
                                   s[20:])

    def next_rv(self):
        self.rv += self.rng.randrange(1, 40)
        return str(self.rv)

    def suffix(self, n):
        r = self.rng
        return "".join(r.choice(HASH_CHARS) for _ in range(n))

    def hex(self, bits):
        return "%0*x" % (bits // 4, self.rng.getrandbits(bits))


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Node:
    __slots__ = ("name", "ip", "index", "zone", "next_host")

    def __init__(self, i):
        self.index = i
        self.name = "worker-%04d" % i
        self.ip = "10.0.%d.%d" % (1 + i // 250, 1 + i % 250)
        self.zone = "zone-" + "abc"[i % 3]
        self.next_host = 2


def pod_ips(node, dual):
    """The next pod address on NODE's /24 (10.128.0.0/12) and /64."""
    h = node.next_host
    node.next_host += 1
    if h > 254:
        raise SystemExit("gen_cluster: more than 253 pods on %s" % node.name)
    i = node.index
    ip4 = "10.%d.%d.%d" % (128 + (i >> 8), i & 255, h)
    ip6 = "fd00:10:128:%x::%x" % (i, h) if dual else None
    return ip4, ip6


def choose_namespaces(g, n):
    names = ["default", "kube-system", "kube-public", "kube-node-lease"]
    combos = [(t, e) for t in TEAMS for e in ENVS]
    g.rng.shuffle(combos)
    i = 0
    while len(names) < n:
        t, e = combos[i % len(combos)]
        rnd = i // len(combos)
        names.append("%s-%s" % (t, e) + ("-%d" % rnd if rnd else ""))
        i += 1
    return names[:max(n, 4)]


def distribute(g, total, weights, minimum):
    """Split TOTAL into integers proportional to WEIGHTS, each at least
    MINIMUM when TOTAL allows it (largest remainder)."""
    n = len(weights)
    if n == 0:
        return []
    if total < minimum * n:
        out = [0] * n
        for i in g.rng.sample(range(n), total):
            out[i] = 1
        return out
    rest = total - minimum * n
    s = sum(weights)
    raw = [rest * w / s for w in weights]
    out = [minimum + int(x) for x in raw]
    left = total - sum(out)
    order = sorted(range(n), key=lambda i: raw[i] - int(raw[i]),
                   reverse=True)
    for i in order[:left]:
        out[i] += 1
    return out


def build(args):
    g = Gen(args.seed)
    r = g.rng
    namespaces = choose_namespaces(g, args.namespaces)
    user_ns = namespaces[4:] or ["default"]
    # A few namespaces are much busier than the rest.
    ns_weight = [r.paretovariate(1.2) for _ in user_ns]

    npods = args.pods
    nnodes = max(1, math.ceil(npods / 100))
    nodes = [Node(i) for i in range(nnodes)]

    ns_uid = {ns: g.uid() for ns in namespaces}
    ns_time = {ns: BASE_TIME - 86400 * 400 + r.randrange(86400 * 200)
               for ns in namespaces}

    services = []       # dicts
    used_names = set()
    workloads = set()
    used_ip4 = {1, 10}
    used_ip6 = set()

    def svc_name(ns, base):
        name = base
        k = 2
        while (ns, name) in used_names:
            name = "%s-%d" % (base, k)
            k += 1
        used_names.add((ns, name))
        return name

    def cluster_ip4():
        while True:
            x = r.randrange(11, (1 << 20) - 1)
            if x not in used_ip4:
                used_ip4.add(x)
                return "10.%d.%d.%d" % (96 + (x >> 16), (x >> 8) & 255,
                                        x & 255)

    def cluster_ip6():
        while True:
            x = r.randrange(1, 1 << 16)
            if x not in used_ip6:
                used_ip6.add(x)
                return "fd00:10:96::%x" % x

    # The two Services every cluster has.
    services.append({"ns": "default", "name": "kubernetes",
                     "kind": "ClusterIP", "ip4": "10.96.0.1", "ip6": None,
                     "ports": [("https", 443, "TCP", 6443)],
                     "replicas": 0, "apiserver": True, "app": "kubernetes",
                     "part_of": "kubernetes"})
    used_names.add(("default", "kubernetes"))
    services.append({"ns": "kube-system", "name": "kube-dns",
                     "kind": "ClusterIP", "ip4": "10.96.0.10", "ip6": None,
                     "ports": [("dns", 53, "UDP", 53),
                               ("dns-tcp", 53, "TCP", 53),
                               ("metrics", 9153, "TCP", 9153)],
                     "replicas": 2, "workload": "coredns",
                     "owner_kind": "ReplicaSet", "app": "coredns",
                     "part_of": "kube-dns"})
    used_names.add(("kube-system", "kube-dns"))

    nsvc = max(0, args.services - 2)
    n_external = round(nsvc * 0.03)
    n_headless = round(nsvc * 0.10)
    kinds = (["ExternalName"] * n_external + ["Headless"] * n_headless +
             ["ClusterIP"] * (nsvc - n_external - n_headless))
    r.shuffle(kinds)
    for kind in kinds:
        ns = r.choices(user_ns, ns_weight)[0]
        s = {"ns": ns, "kind": kind, "ip6": None, "replicas": 0}
        if kind == "Headless":
            app = r.choice(STATEFUL)
            base = app if r.random() < 0.5 else "%s-%s" % (r.choice(ADJS),
                                                           app)
            name = svc_name(ns, base + ("-headless" if r.random() < 0.5
                                        else ""))
            wl = name[:-9] if name.endswith("-headless") else name
            if (ns, wl) in workloads:
                wl = name
            workloads.add((ns, wl))
            s["workload"] = wl
            port = STATEFUL_PORTS[app]
            s["ports"] = [(app, port, "TCP", port)]
            if r.random() < 0.5:
                s["ports"].append(("metrics", 9100, "TCP", 9100))
            s["replicas"] = r.choice((1, 3, 3, 3, 3, 5, 5, 7))
            s["pna"] = r.random() < 0.3
            s["owner_kind"] = "StatefulSet"
            s["app"] = app
        elif kind == "ExternalName":
            name = svc_name(ns, "%s-%s" % (r.choice(ADJS), r.choice(NOUNS)))
            s["external"] = "%s.%s" % (name, r.choice(EXTERNAL_DOMAINS))
            s["ports"] = ([] if r.random() < 0.7 else
                          [("https", 443, "TCP", 443)])
            s["app"] = name
        else:
            x = r.random()
            s["kind"] = ("NodePort" if x < 0.04 else
                         "LoadBalancer" if x < 0.06 else "ClusterIP")
            name = svc_name(ns, "%s-%s" % (r.choice(ADJS), r.choice(NOUNS))
                            if r.random() < 0.5 else r.choice(NOUNS))
            s["workload"] = name
            workloads.add((ns, name))
            s["ip4"] = cluster_ip4()
            if r.random() < 0.05:
                s["ip6"] = cluster_ip6()
            k = r.choice((1, 1, 2, 2, 2, 3))
            chosen = [PORTS[0]] + r.sample(PORTS[1:], k - 1)
            s["ports"] = [(p[0], p[1], p[2], 8080 + i if p[1] < 1024
                           else p[1]) for i, p in enumerate(chosen)]
            s["owner_kind"] = "ReplicaSet"
            s["app"] = name
        s["name"] = name
        s["part_of"] = ns.split("-")[0]
        services.append(s)

    # Pods: DaemonSets (two per node, host network), completed Jobs,
    # StatefulSets, and the Deployments behind the other Services.
    n_daemon = 2 * nnodes if npods >= 2 * nnodes * 5 else 0
    n_jobs = npods // 50
    n_sts = sum(s["replicas"] for s in services if s["kind"] == "Headless")
    n_fixed = 2   # coredns
    deploy = [s for s in services
              if s.get("owner_kind") == "ReplicaSet" and s["name"] != "kube-dns"]
    budget = npods - n_daemon - n_jobs - n_sts - n_fixed
    if budget < 0:
        # Small variants: keep the proportions, drop the extras.
        n_jobs = 0
        budget = npods - n_daemon - n_sts - n_fixed
        if budget < 0:
            raise SystemExit("gen_cluster: --pods %d is too small for "
                             "--services %d (at least %d)" % (
                                 npods, args.services, npods - budget))
    weights = [r.paretovariate(1.3) for _ in deploy]
    for s, n in zip(deploy, distribute(g, budget, weights, 1)):
        s["replicas"] = n
    return g, namespaces, ns_uid, ns_time, nodes, services, n_daemon, n_jobs


def node_picker(g, nodes):
    """Nodes in a shuffled round robin, skipping full ones."""
    order = list(range(len(nodes)))
    g.rng.shuffle(order)
    state = {"i": 0}

    def pick():
        for _ in range(len(order)):
            n = nodes[order[state["i"] % len(order)]]
            state["i"] += 1
            if n.next_host < 255:
                return n
        raise SystemExit("gen_cluster: every node is full")
    return pick


def emit(args, out):
    (g, namespaces, ns_uid, ns_time, nodes, services, n_daemon,
     n_jobs) = build(args)
    r = g.rng
    pick_node = node_picker(g, nodes)
    svc_items = []
    slice_items = []
    pod_items = []
    counts = {"endpoints": 0}
    taken = set()           # (namespace, pod name)
    taken_slices = set()    # (namespace, EndpointSlice name)

    def container_values(v, prefix_image, ports, ncontainers, state):
        for c in range(ncontainers):
            v["cname%d" % c] = "main" if c == 0 else "proxy"
            v["image%d" % c] = prefix_image[c]
            v["image_id%d" % c] = prefix_image[c + 2]
            v["cid%d" % c] = "containerd://" + g.hex(256)
        for i, p in enumerate(ports):
            v["cport0_%d" % i] = p[3]
            v["cpname0_%d" % i] = p[0][:15]
            v["cproto0_%d" % i] = p[2]
        if ncontainers > 1:
            v["cport1_0"] = 15090
            v["cpname1_0"] = "proxy-metrics"
            v["cproto1_0"] = "TCP"

    def make_pods(s, count, owner_kind, owner, owner_uid, dual, sts,
                  host_network=False, fixed_node=None, state_of=None):
        """Pods of one workload; returns their endpoint facts."""
        ns = s["ns"]
        ncont = 2 if (not host_network and r.random() < 0.2) else 1
        ports = s["ports"] if owner_kind != "Job" else []
        img = "registry.example.com/%s/%s:v1.%d.%d" % (
            s.get("part_of", "platform"), s["app"], r.randrange(40),
            r.randrange(10))
        images = [img, "registry.example.com/mesh/proxy:v1.22.1",
                  img.split(":")[0] + "@sha256:" + g.hex(256),
                  "registry.example.com/mesh/proxy@sha256:" + g.hex(256)]
        template_hash = g.suffix(10 if owner_kind == "ReplicaSet" else 9)
        if owner_kind == "ReplicaSet":
            owner = "%s-%s" % (owner, template_hash)
        born = ns_time[ns] + r.randrange(86400 * 150)
        cpu = r.choice(("50m", "100m", "250m", "500m", "1"))
        mem = r.choice(("64Mi", "128Mi", "256Mi", "512Mi", "1Gi"))
        eps = []
        for i in range(count):
            if state_of:
                state = state_of
            else:
                x = r.random()
                state = ("pending" if x < 0.005 else
                         "notready" if x < 0.025 else
                         "terminating" if x < 0.035 else "ready")
            if sts:
                name = "%s-%d" % (owner, i)
            else:
                name = "%s-%s" % (owner, g.suffix(5))
                while (ns, name) in taken:
                    name = "%s-%s" % (owner, g.suffix(5))
            taken.add((ns, name))
            t = born + r.randrange(86400 * 30)
            v = {"ts": ts(t), "started": ts(t + r.randrange(2, 40)),
                 "name": name, "ns": ns, "owner": owner,
                 "owner_uid": owner_uid, "rv": g.next_rv(), "uid": g.uid(),
                 "generate": owner + "-", "app": s["app"],
                 "app_instance": s["workload_instance"],
                 "part_of": s.get("part_of", "platform"),
                 "template_hash": template_hash, "index": str(i),
                 "generation": "1", "priority": (2000001000 if host_network
                                                 else 0),
                 "restarts": 0 if state == "ready" else r.randrange(1, 9),
                 "service_account": ("default" if owner_kind != "DaemonSet"
                                     else owner),
                 "api_volume": "kube-api-access-" + g.suffix(5),
                 "cpu": cpu, "mem": mem, "subdomain": s["name"]}
            if state == "terminating":
                v["deleted"] = ts(BASE_TIME - r.randrange(5, 25))
            if state == "succeeded":
                v["finished"] = ts(t + r.randrange(60, 900))
            node = None
            if state != "pending":
                node = fixed_node or pick_node()
                v["node"] = node.name
                v["host_ip"] = node.ip
                if host_network:
                    v["ip4"], v["ip6"] = node.ip, None
                else:
                    v["ip4"], v["ip6"] = pod_ips(node, dual)
            container_values(v, images, ports, ncont, state)
            key = (owner_kind, (len(ports),) + ((1,) if ncont > 1 else ()),
                   dual and not host_network, state, host_network, sts)
            pod_items.append((ns, name, POD_T.get(key) % v))
            if node is not None and state != "succeeded":
                eps.append((name, v["uid"], node, v["ip4"], v["ip6"], state))
        return eps

    def endpoint_text(s, ep, v6, hostname):
        name, uid, node, ip4, ip6, state = ep
        ready = state == "ready" or (s.get("pna") and state == "notready")
        serving = ready or (state == "terminating" and r.random() < 0.5)
        v = {"addr": ip6 if v6 else ip4, "pod": name, "pod_uid": uid,
             "ns": s["ns"], "node": node.name, "zone": node.zone,
             "ready": "true" if ready else "false",
             "serving": "true" if serving else "false",
             "terminating": "true" if state == "terminating" else "false",
             "hostname": name}
        counts["endpoints"] += 1
        return ENDPOINT_T.get((hostname, True)) % v

    def make_slices(s, svc_uid, eps, hostname, apiserver=None):
        families = [False, True] if s.get("ip6") else [False]
        for v6 in families:
            if apiserver:
                texts = []
                for i, ip in enumerate(apiserver):
                    node = nodes[i % len(nodes)]
                    texts.append(ENDPOINT_T.get((False, False)) % {
                        "addr": ip, "ready": "true", "serving": "true",
                        "terminating": "false", "node": node.name,
                        "zone": node.zone})
                    counts["endpoints"] += 1
            else:
                texts = [endpoint_text(s, ep, v6, hostname) for ep in eps
                         if not (v6 and ep[4] is None)]
            chunks = [texts[i:i + 100] for i in range(0, len(texts), 100)]
            for chunk in chunks or [[]]:
                body = ("[\n" + ",\n".join(chunk) + "\n" + " " * 12 + "]"
                        if chunk else "null")
                name = "%s-%s" % (s["name"][:57], g.suffix(5))
                while (s["ns"], name) in taken_slices:
                    name = "%s-%s" % (s["name"][:57], g.suffix(5))
                taken_slices.add((s["ns"], name))
                ports = s["ports"]
                v = {"ts": ts(s["born"] + 5), "name": name, "ns": s["ns"],
                     "generate": s["name"][:57] + "-", "rv": g.next_rv(),
                     "uid": g.uid(), "owner": s["name"], "owner_uid": svc_uid,
                     "app": s["app"], "app_instance": s["workload_instance"],
                     "part_of": s.get("part_of", "platform"),
                     "managed_by": "endpointslice-controller.k8s.io",
                     "service": s["name"], "trigger": ts(BASE_TIME - 3600),
                     "endpoints": body}
                for i, p in enumerate(ports):
                    v["pname%d" % i] = p[0]
                    v["tport%d" % i] = p[3]
                    v["proto%d" % i] = p[2]
                slice_items.append((s["ns"], name, SLICE_T.get(
                    (v6, len(ports))) % v))

    for s in services:
        ns = s["ns"]
        s["born"] = ns_time[ns] + r.randrange(86400 * 100)
        s["workload_instance"] = s.get("workload", s["name"])
        uid = g.uid()
        dual = s["ip6"] is not None
        kind = s["kind"]
        v = {"ts": ts(s["born"]), "name": s["name"], "ns": ns,
             "rv": g.next_rv(), "uid": uid, "app": s["app"],
             "app_instance": s["workload_instance"],
             "part_of": s.get("part_of", "platform"),
             "ip4": s.get("ip4"), "ip6": s["ip6"],
             "family_policy": ("PreferDualStack" if dual else "SingleStack"),
             "external": s.get("external"),
             "lb_ip": "203.0.113.%d" % r.randrange(1, 255)}
        for i, p in enumerate(s["ports"]):
            v["pname%d" % i] = p[0]
            v["port%d" % i] = p[1]
            v["proto%d" % i] = p[2]
            v["tport%d" % i] = p[3]
            v["nodeport%d" % i] = r.randrange(30000, 32768)
        svc_items.append((ns, s["name"], SERVICE_T.get(
            (kind, len(s["ports"]), dual, bool(s.get("pna")))) % v))
        if kind == "ExternalName":
            continue
        if s.get("apiserver"):
            make_slices(s, uid, [], False,
                        apiserver=["10.0.0.%d" % (i + 2) for i in range(3)])
            continue
        sts = s["owner_kind"] == "StatefulSet"
        eps = make_pods(s, s["replicas"], s["owner_kind"], s["workload"],
                        g.uid(), dual, sts)
        make_slices(s, uid, eps, sts)

    # DaemonSets: one host-network pod of each per node.
    if n_daemon:
        for dsname in ("kube-proxy", "cni-agent"):
            ds = {"ns": "kube-system", "name": dsname, "app": dsname,
                  "workload_instance": dsname, "part_of": "kubernetes",
                  "ports": ([("metrics", 10249, "TCP", 10249)]
                            if dsname == "kube-proxy" else
                            [("health", 9879, "TCP", 9879)])}
            ds_uid = g.uid()
            for node in nodes:
                make_pods(ds, 1, "DaemonSet", dsname, ds_uid, False, False,
                          host_network=True, fixed_node=node,
                          state_of="ready")
    # Completed Jobs: a CronJob's last few runs, one pod each.
    jobs_left = n_jobs
    while jobs_left > 0:
        ns = r.choice(namespaces[4:] or ["default"])
        app = "%s-%s" % (r.choice(ADJS), r.choice(("report", "backup",
                                                   "cleanup", "sync",
                                                   "migrate", "export")))
        job = {"ns": ns, "name": app, "app": app, "workload_instance": app,
               "part_of": ns.split("-")[0], "ports": []}
        for _ in range(min(jobs_left, r.randrange(1, 4))):
            jname = "%s-%d" % (app, 29000000 + r.randrange(1000000))
            make_pods(job, 1, "Job", jname, g.uid(), False, False,
                      state_of="succeeded")
            jobs_left -= 1

    ns_items = []
    for i, ns in enumerate(namespaces):
        team = ns.split("-")[0] if i >= 4 else None
        v = {"ts": ts(ns_time[ns]), "name": ns, "rv": g.next_rv(),
             "uid": ns_uid[ns], "team": team}
        ns_items.append((ns, ns, NAMESPACE_T.get((team is not None,)) % v))

    out.write('{\n    "apiVersion": "v1",\n    "items": [\n')
    first = True
    total = 0
    for items in (svc_items, slice_items, pod_items, ns_items):
        items.sort(key=lambda t: (t[0], t[1]))
        for k in range(0, len(items), 1000):
            chunk = ",\n".join(t[2] for t in items[k:k + 1000])
            if not first:
                out.write(",\n")
            out.write(chunk)
            first = False
            total += min(1000, len(items) - k)
    out.write('\n    ],\n    "kind": "List",\n    "metadata": {\n'
              '        "resourceVersion": ""\n    }\n}\n')
    return {"Service": len(svc_items), "EndpointSlice": len(slice_items),
            "Pod": len(pod_items), "Namespace": len(ns_items),
            "endpoints": counts["endpoints"], "nodes": len(nodes),
            "items": total}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--pods", type=int, default=150000)
    ap.add_argument("--namespaces", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-", help="output file (- stdout)")
    args = ap.parse_args()
    if args.services < 2 or args.pods < 0 or args.namespaces < 4:
        ap.error("need --services >= 2, --pods >= 0, --namespaces >= 4")
    if args.out == "-":
        out = open(sys.stdout.fileno(), "w", encoding="ascii",
                   buffering=1 << 20, closefd=False)
    else:
        out = open(args.out, "w", encoding="ascii", buffering=1 << 20)
    with out:
        counts = emit(args, out)
    print("gen_cluster: %(items)d items: %(Service)d Service, "
          "%(EndpointSlice)d EndpointSlice (%(endpoints)d endpoints), "
          "%(Pod)d Pod, %(Namespace)d Namespace; %(nodes)d nodes" % counts,
          file=sys.stderr)


if __name__ == "__main__":
    main()
