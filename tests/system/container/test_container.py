"""container/: the Kubernetes manifests and the Dockerfile, with real tools.

- The manifests parse (PyYAML), kustomize builds them (kubectl kustomize)
  and the real kubectl applies them to the fake API server
  (tests/fakeapi): first with --dry-run=server, then for real, then again
  with nothing left to change.
- What they grant and how they run is checked field by field: RBAC is
  list and watch on exactly the resources kubezone reads; the pod is
  non-root, read-only, without capabilities, with seccomp; probes, ports,
  the state dir and the TSIG Secret agree with the container's args; and
  kubezone itself accepts those args.
- The Dockerfile installs its packages from container/packages.txt (the
  build section in the build stage, runtime in the final one) through
  container/deps.sh, the developer machines' dependency step, and names
  no package itself.

The image itself is built and run by test_image.py.
"""

import base64
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
MANIFESTS = os.path.join(ROOT, "container", "manifests")
DOCKERFILE = os.path.join(ROOT, "container", "Dockerfile")
PACKAGES = os.path.join(ROOT, "container", "packages.txt")
sys.path.insert(0, os.path.join(ROOT, "tests", "fakeapi"))
from client import KUBECTL, FakeApi  # noqa: E402

TEST_KEY = "xfr:hmac-sha256:a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not on PATH: the manifests cannot "
    "be checked with the real kubectl")


# -- reading the manifests ----------------------------------------------------

def kustomization():
    with open(os.path.join(MANIFESTS, "kustomization.yaml")) as f:
        return yaml.safe_load(f)


def manifest_objects():
    """Every object of the files the kustomization lists, as parsed."""
    objs = []
    for name in kustomization()["resources"]:
        with open(os.path.join(MANIFESTS, name)) as f:
            objs += [o for o in yaml.safe_load_all(f) if o is not None]
    return objs


def kubectl_plain(*args, check=True, home=None):
    """kubectl without any cluster (kustomize needs none)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KUBE", "KUBERNETES_"))}
    if home:
        env["HOME"] = str(home)
    r = subprocess.run([KUBECTL, *args], capture_output=True, text=True,
                       env=env, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("kubectl %s: %s" % (" ".join(args), r.stderr))
    return r


def built(tmp_path, path=MANIFESTS):
    """`kubectl kustomize PATH` as a list of objects."""
    out = kubectl_plain("kustomize", str(path), home=tmp_path).stdout
    return [o for o in yaml.safe_load_all(out) if o is not None]


def one(objs, kind, name=None):
    found = [o for o in objs if o["kind"] == kind and
             (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, "%d %s %s" % (len(found), kind, name or "")
    return found[0]


def container_of(objs):
    dep = one(objs, "Deployment")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return dep, c


def arg_values(args, name):
    """Values of --NAME in ARGS (both --name=v and --name v)."""
    out = []
    for i, a in enumerate(args):
        if a == "--" + name and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith("--" + name + "="):
            out.append(a.split("=", 1)[1])
    return out


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def makefile_version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def dockerfile_uid():
    with open(DOCKERFILE) as f:
        users = re.findall(r"^USER\s+(\S+)", f.read(), re.M)
    assert users, "the Dockerfile sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and gid.isdigit(), \
        "USER %s: numeric, so that runAsNonRoot can be checked" % users[-1]
    return int(uid), int(gid)


# -- the files -----------------------------------------------------------------

def test_manifests_parse_and_kustomize_lists_every_file():
    k = kustomization()
    assert k["kind"] == "Kustomization"
    files = sorted(f for f in os.listdir(MANIFESTS)
                   if f.endswith(".yaml") and f != "kustomization.yaml")
    assert sorted(k["resources"]) == files, \
        "every manifest is a resource of kustomization.yaml"
    kinds = sorted(o["kind"] for o in manifest_objects())
    assert kinds == sorted(["Namespace", "ServiceAccount", "ClusterRole",
                            "ClusterRoleBinding", "Deployment", "Service",
                            "Service"])
    for o in manifest_objects():
        assert o["apiVersion"] and o["metadata"]["name"]
        assert o["metadata"]["labels"]["app.kubernetes.io/name"] == \
            "kubezone", o["kind"]


@needs_kubectl
def test_kustomize_builds_with_the_released_image(tmp_path):
    objs = built(tmp_path)
    assert len(objs) == len(manifest_objects())
    _, c = container_of(objs)
    assert c["image"] == "kubezone:" + makefile_version(), \
        "kustomization.yaml's image tag follows the Makefile's VERSION"


def test_rbac_is_list_and_watch_on_what_kubezone_reads():
    objs = manifest_objects()
    role = one(objs, "ClusterRole")
    granted = set()
    for rule in role["rules"]:
        assert sorted(rule["verbs"]) == ["list", "watch"], rule
        assert set(rule) == {"apiGroups", "resources", "verbs"}, \
            "no resourceNames or nonResourceURLs: %s" % rule
        for g in rule["apiGroups"]:
            for r in rule["resources"]:
                granted.add((g, r))
    # ServiceImports: read with --clusterset-zone (the MCS API's CRD).
    assert granted == {("", "services"), ("", "namespaces"), ("", "pods"),
                       ("discovery.k8s.io", "endpointslices"),
                       ("multicluster.x-k8s.io", "serviceimports")}
    assert not any(o["kind"] in ("Role", "RoleBinding") for o in objs)

    sa = one(objs, "ServiceAccount")
    binding = one(objs, "ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{
        "kind": "ServiceAccount", "name": sa["metadata"]["name"],
        "namespace": sa["metadata"]["namespace"]}]
    dep, _ = container_of(objs)
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == \
        sa["metadata"]["name"]
    assert dep["metadata"]["namespace"] == sa["metadata"]["namespace"] == \
        one(objs, "Namespace")["metadata"]["name"]


def test_pod_runs_with_least_privilege():
    dep, c = container_of(manifest_objects())
    pod = dep["spec"]["template"]["spec"]
    psc, csc = pod["securityContext"], c["securityContext"]
    uid, gid = dockerfile_uid()
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] == uid and psc["runAsGroup"] == gid, \
        "the pod runs as the image's user"
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["capabilities"]["drop"] == ["ALL"]
    low = [port_of(a) for a in arg_values(c["args"], "listen")
           if port_of(a) < 1024]
    sysctls = {s["name"]: s["value"] for s in psc.get("sysctls", [])}
    unprivileged = int(sysctls.get("net.ipv4.ip_unprivileged_port_start",
                                   1024))
    if low and min(low) < unprivileged:
        assert csc["capabilities"].get("add") == ["NET_BIND_SERVICE"], \
            "a port under 1024 needs NET_BIND_SERVICE (or the sysctl)"
    else:
        assert "add" not in csc["capabilities"], \
            "no capability while DNS listens on a high port"
    assert not pod.get("hostNetwork") and not csc.get("privileged")
    assert pod.get("automountServiceAccountToken", True), \
        "the in-cluster token is how kubezone reaches the API"
    # The namespace enforces the restricted Pod Security Standard.
    ns = one(manifest_objects(), "Namespace")
    assert ns["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"


def test_probes_ports_and_volumes_agree_with_the_args():
    objs = manifest_objects()
    dep, c = container_of(objs)
    args = c["args"]
    assert args[0] == "sync"
    ports = {p["name"]: p for p in c["ports"]}

    (listen,) = arg_values(args, "listen")
    assert ports["dns"]["containerPort"] == port_of(listen)
    assert ports["dns"]["protocol"] == "UDP"
    assert ports["dns-tcp"]["containerPort"] == port_of(listen)
    assert ports["dns-tcp"]["protocol"] == "TCP"
    (http,) = arg_values(args, "http")
    assert ports["metrics"]["containerPort"] == port_of(http)
    assert not http.startswith("127.") and not listen.startswith("127."), \
        "probes and Services reach the pod's address"

    for probe, path in (("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):
        get = c[probe]["httpGet"]
        assert get["path"] == path and get["port"] == "metrics", probe

    res = c["resources"]
    for what in ("requests", "limits"):
        assert set(res[what]) >= {"cpu", "memory"}, what

    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"][
        "volumes"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    (state,) = arg_values(args, "state-dir")
    # A private directory kubezone makes inside the emptyDir (the
    # kubelet creates that one group-writable).
    assert os.path.dirname(state) in mounts, state
    assert "emptyDir" in volumes[mounts[os.path.dirname(state)]["name"]], \
        "the state dir is in an emptyDir (the root filesystem is read-only)"
    (keys,) = arg_values(args, "tsig-key-file")
    mount = mounts[os.path.dirname(keys)]
    assert mount["readOnly"] is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "kubezone-tsig"
    # Readable by the pod's group (fsGroup), by no one else.
    assert secret["defaultMode"] & 0o007 == 0
    assert dep["spec"]["template"]["spec"]["securityContext"][
        "fsGroup"] == dockerfile_uid()[1]


def test_services_expose_dns_on_53_and_metrics():
    objs = manifest_objects()
    dep, c = container_of(objs)
    selector = dep["spec"]["selector"]["matchLabels"]
    assert dep["spec"]["template"]["metadata"]["labels"].items() >= \
        selector.items()
    named = {p["name"]: p for p in c["ports"]}
    seen = set()
    for svc in (o for o in objs if o["kind"] == "Service"):
        assert svc["spec"]["selector"] == selector
        for p in svc["spec"]["ports"]:
            target = named[p["targetPort"]]
            assert target["protocol"] == p["protocol"]
            seen.add((p["port"], p["protocol"], p["targetPort"]))
    assert {(53, "UDP", "dns"), (53, "TCP", "dns-tcp"),
            (9154, "TCP", "metrics")} <= seen


def test_kubezone_accepts_the_deployment_args(kubezone, tmp_path):
    """The args parse as `kubezone sync` options, and the NSD part of them
    makes a valid nsd.conf with the Secret's key."""
    _, c = container_of(manifest_objects())
    keys = tmp_path / "tsig.keys"
    keys.write_text("# as in the kubezone-tsig Secret\n%s\n" % TEST_KEY)
    (path,) = arg_values(c["args"], "tsig-key-file")
    args = [a.replace(path, str(keys)) for a in c["args"][1:]]
    r = subprocess.run([kubezone, "sync", *args, "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    # nsd-conf takes the source, render and NSD options of sync.
    md = subprocess.run([kubezone, "nsd-conf", "--help-markdown"],
                        capture_output=True, text=True, check=True).stdout
    known = set(re.findall(r"^\| `--([a-z0-9-]+)", md, re.M))
    nsd_args, i = [], 0
    while i < len(args):
        name = args[i][2:].split("=", 1)[0]
        takes = "=" not in args[i] and i + 1 < len(args) and \
            not args[i + 1].startswith("--")
        if name in known:
            nsd_args += args[i:i + 1 + takes]
        i += 1 + takes
    state = tmp_path / "state"
    nsd_args = [a for a in nsd_args if not a.startswith("--state-dir")]
    r = subprocess.run([kubezone, "nsd-conf", *nsd_args,
                        "--state-dir", str(state)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    conf = r.stdout
    (listen,) = arg_values(args, "listen")
    assert "ip-address: %s@%d" % (listen.rsplit(":", 1)[0],
                                  port_of(listen)) in conf
    assert 'name: "xfr"' in conf
    for cidr in arg_values(args, "allow-transfer"):
        assert "provide-xfr: %s xfr" % cidr.split(",")[0] in conf


# -- the real kubectl against the fake API server ------------------------------

@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake") as api:
        yield api


def lines(result):
    return [l for l in (result.stdout + result.stderr).splitlines() if l]


@needs_kubectl
def test_kubectl_applies_the_manifests(fake, tmp_path):
    objs = built(tmp_path)
    # A server dry run of namespaced objects needs their namespace to
    # exist, as on a real API server: create it, then dry-run the rest.
    fake.kubectl("apply", "-f", os.path.join(MANIFESTS, "namespace.yaml"))
    before = len(fake.state()["items"])
    r = fake.kubectl("apply", "-k", MANIFESTS, "--dry-run=server")
    out = lines(r)
    assert len(out) == len(objs), out
    assert all("(server dry run)" in l for l in out), out
    assert len(fake.state()["items"]) == before, "a dry run stores nothing"

    r = fake.kubectl("apply", "-k", MANIFESTS)
    assert len(lines(r)) == len(objs), lines(r)
    stored = {(o["kind"], o["metadata"]["name"]) for o in
              fake.state()["items"]}
    for o in objs:
        assert (o["kind"], o["metadata"]["name"]) in stored
    # What the server stored reads back as what was applied.
    got = json.loads(fake.kubectl("get", "deployment", "kubezone", "-n",
                                  "kubezone", "-o", "json").stdout)
    _, c = container_of(objs)
    assert got["spec"]["template"]["spec"]["containers"][0]["args"] == \
        c["args"]
    # Applying again changes nothing.
    r = fake.kubectl("apply", "-k", MANIFESTS)
    assert all(l.endswith(" unchanged") for l in lines(r)), lines(r)


def operations_overlay():
    """The overlay docs/operations.md gives (the yaml block with the
    secretGenerator), its text."""
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        doc = f.read()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    found = [b for b in blocks if "secretGenerator" in b]
    assert len(found) == 1, "docs/operations.md: one overlay with the " \
        "TSIG secretGenerator"
    return textwrap.dedent(found[0])


@needs_kubectl
def test_documented_overlay_with_the_tsig_secret(fake, tmp_path):
    """The overlay of docs/operations.md builds and applies: the Secret
    it generates is the one the Deployment mounts."""
    site = tmp_path / "site"
    site.mkdir()
    text = operations_overlay()
    base = re.search(r"^\s*-\s*(\S*container/manifests)\s*$", text, re.M)
    assert base, text
    text = text.replace(base.group(1), os.path.relpath(MANIFESTS, site))
    (site / "kustomization.yaml").write_text(text)
    (site / "tsig.keys").write_text(TEST_KEY + "\n")
    objs = built(tmp_path, site)
    secret = one(objs, "Secret")
    dep, c = container_of(objs)
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"][
        "volumes"]}
    assert secret["metadata"]["name"] == volumes["tsig"]["secret"][
        "secretName"]
    assert secret["metadata"]["namespace"] == dep["metadata"]["namespace"]
    (path,) = arg_values(c["args"], "tsig-key-file")
    assert base64.b64decode(secret["data"][os.path.basename(path)]) \
        .decode().strip() == TEST_KEY
    fake.kubectl("apply", "-f", os.path.join(MANIFESTS, "namespace.yaml"))
    r = fake.kubectl("apply", "-k", str(site), "--dry-run=server")
    assert all("(server dry run)" in l for l in lines(r)), lines(r)
    fake.kubectl("apply", "-k", str(site))
    got = fake.kubectl("get", "secret", secret["metadata"]["name"], "-n",
                       secret["metadata"]["namespace"], "-o", "json").stdout
    assert json.loads(got)["data"] == secret["data"]


# -- the Dockerfile -------------------------------------------------------------

def sections():
    out = {}
    with open(PACKAGES) as f:
        for line in f:
            m = re.match(r"^([a-z]+):\s*(.*)$", line)
            if m:
                out[m.group(1)] = m.group(2).split()
    return out


def dockerfile_stages():
    """[(stage FROM line, [instructions])], continuation lines joined."""
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def test_dockerfile_installs_the_package_list_sections():
    """Packages come from container/packages.txt via deps.sh: build in the
    build stage, runtime in the final stage, and no name is repeated in
    the Dockerfile, so the two cannot drift."""
    stages = dockerfile_stages()
    assert len(stages) == 2, [s[0] for s in stages]
    want = (["build"], ["runtime"])
    every = {p for names in sections().values() for p in names}
    for (frm, instructions), sections_wanted in zip(stages, want):
        copies = [i for i in instructions if i.upper().startswith("COPY ")
                  and "container/packages.txt" in i]
        assert copies, "%s: COPYs container/packages.txt" % frm
        runs = " ".join(i for i in instructions if i.upper().startswith(
            "RUN "))
        used = re.findall(r"deps\.sh((?:\s+[a-z]+)+)", runs)
        assert [u.split() for u in used] == [sections_wanted], (frm, used)
        assert not re.search(r"apt-get\s+(-\S+\s+)*install", runs), \
            "%s: packages are installed by deps.sh only" % frm
        words = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", runs))
        named = (words & every) - {"make", "nsd"}
        assert not named, "%s names packages itself: %s" % (frm, named)
    base = stages[0][0].split()[1]
    assert stages[1][0].split()[1] == base, "both stages on one base"
    with open(DOCKERFILE) as f:
        assert re.search(r"^ARG BASE=debian:bookworm-slim$", f.read(), re.M)


def test_deps_sh_reads_the_same_sections():
    """deps.sh reads container/packages.txt; every section is filled and
    the image section has the tools make image needs."""
    for name, pkgs in sections().items():
        assert pkgs, name
    r = subprocess.run(["sh", "-n", os.path.join(ROOT, "container",
                                                  "deps.sh")])
    assert r.returncode == 0
    with open(os.path.join(ROOT, "container", "deps.sh")) as f:
        script = f.read()
    assert 'list="$here/packages.txt"' in script
    assert "image" in sections() and {"podman", "runc", "debootstrap"} <= \
        set(sections()["image"])


def test_build_image_script_is_the_make_target():
    with open(os.path.join(ROOT, "Makefile")) as f:
        mk = f.read()
    assert re.search(r"^image:.*\n\t@?container/build-image\.sh", mk, re.M)
    r = subprocess.run(["sh", "-n", os.path.join(ROOT, "container",
                                                  "build-image.sh")])
    assert r.returncode == 0
    with open(os.path.join(ROOT, "container", "build-image.sh")) as f:
        assert "container/deps.sh image" in f.read()
