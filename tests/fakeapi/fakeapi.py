#!/usr/bin/python3
"""A fake kube-apiserver for kubezone's integration tests.

It speaks enough of the real Kubernetes REST protocol for the real kubectl and
for kubezone's syncer: discovery, stub OpenAPI v3 documents, LIST with
pagination and selectors, chunked WATCH with bookmarks and 410 Gone, and
create / replace / patch / delete with server-side defaulting.  A test control
plane under /_fake/ loads fixtures, exposes the request log and the state, and
injects faults.  See README.md in this directory.

Python 3 standard library only.  Run it with /usr/bin/python3.
"""

import argparse
import base64
import bisect
import ipaddress
import json
import marshal
import os
import random
import re
import select
import signal
import socket
import ssl
import string
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4-fake",
           "gitCommit": "0" * 40, "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.6",
           "compiler": "gc", "platform": "linux/amd64"}
# Watch bytes held before a write while events are at hand (the API server
# writes through a buffer and flushes when no event is queued).
PENDING_MAX = 64 << 10
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"


# ---------------------------------------------------------------------------
# Resource catalogue

class ResourceType:
    """One served REST collection and the per-kind rules that apply to it."""

    def __init__(self, group, plural, kind, namespaced, short=(), names="subdomain",
                 status=False, fields=(), categories=(), version="v1", crd=False):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        # A CustomResourceDefinition's resource: served (discovery, paths)
        # only while the CRD is "installed" (--crd, /_fake/crds).
        self.crd = crd
        self.namespaced = namespaced
        self.short_names, self.categories = list(short), list(categories)
        self.name_rule = names
        self.has_status = status
        self.fields = {"metadata.name", "metadata.namespace", *fields}

    @property
    def group_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self):
        return f"/apis/{self.group_version}" if self.group else "/api/v1"

    def discovery(self):
        """The APIResource entries for this resource and its status subresource."""
        entry = {"name": self.plural, "singularName": self.kind.lower(),
                 "namespaced": self.namespaced, "kind": self.kind,
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
        if self.short_names:
            entry["shortNames"] = self.short_names
        if self.categories:
            entry["categories"] = self.categories
        entries = [entry]
        if self.has_status:
            entries.append({"name": self.plural + "/status", "singularName": "",
                            "namespaced": self.namespaced, "kind": self.kind,
                            "verbs": ["get", "patch", "update"]})
        return entries


POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
              "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
              "status.podIP", "status.nominatedNodeName")
RBAC = "rbac.authorization.k8s.io"
RESOURCES = [
    ResourceType("", "namespaces", "Namespace", False, ["ns"], "label", True, ["status.phase"]),
    ResourceType("", "services", "Service", True, ["svc"], "dns1035", True,
                 ["spec.clusterIP", "spec.type"], ["all"]),
    ResourceType("", "pods", "Pod", True, ["po"], status=True, fields=POD_FIELDS, categories=["all"]),
    ResourceType("", "configmaps", "ConfigMap", True, ["cm"]),
    ResourceType("", "secrets", "Secret", True, fields=["type"]),
    ResourceType("", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    ResourceType("discovery.k8s.io", "endpointslices", "EndpointSlice", True),
    ResourceType("apps", "deployments", "Deployment", True, ["deploy"], status=True, categories=["all"]),
    ResourceType(RBAC, "clusterroles", "ClusterRole", False, names="path"),
    ResourceType(RBAC, "clusterrolebindings", "ClusterRoleBinding", False, names="path"),
    ResourceType(RBAC, "roles", "Role", True, names="path"),
    ResourceType(RBAC, "rolebindings", "RoleBinding", True, names="path"),
    # The Multi-Cluster Services API's ServiceImport, a CRD.
    ResourceType("multicluster.x-k8s.io", "serviceimports", "ServiceImport", True, ["svcim"],
                 version="v1alpha1", crd=True),
]
BY_GV = {}
for _rt in RESOURCES:
    BY_GV.setdefault(_rt.group_version, {})[_rt.plural] = _rt
BY_KIND = {(rt.group_version, rt.kind): rt for rt in RESOURCES}
GROUP_VERSION = {rt.group: rt.version for rt in RESOURCES if rt.group}
CRDS = {rt.plural: rt for rt in RESOURCES if rt.crd}


def served(rt, crds):
    """True when RT is served: built in, or a CRD that is installed (in CRDS)."""
    return not rt.crd or rt.plural in crds
NAMESPACES = BY_KIND[("v1", "Namespace")]
SERVICES = BY_KIND[("v1", "Service")]

NAME_RULES = {
    "label": (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", 63, "a lowercase RFC 1123 label must consist of lower "
              "case alphanumeric characters or '-', and must start and end with an alphanumeric character"),
    "dns1035": (r"[a-z]([-a-z0-9]*[a-z0-9])?", 63, "a DNS-1035 label must consist of lower case "
                "alphanumeric characters or '-', start with an alphabetic character, and end with an "
                "alphanumeric character"),
    "subdomain": (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", 253,
                  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                  "'-' or '.', and must start and end with an alphanumeric character"),
    "path": (r"(?!\.\.?\Z)[^/%]+", 253, "may not be '.' or '..' and may not contain '/' or '%'"),
}


# ---------------------------------------------------------------------------
# Errors (every error body is a metav1.Status)

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType",
           422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}


class ApiError(Exception):
    """An API failure, rendered as a Status object with the matching HTTP code."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code, self.message = code, message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details, self.headers = details, headers or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(rt, name, kind=None, **extra):
    details = {"name": name, "kind": kind or rt.plural, **extra}
    if rt.group:
        details["group"] = rt.group
    return details


def not_found(rt, name):
    return ApiError(404, f'{rt.plural} "{name}" not found', details=_details(rt, name))


def invalid(rt, name, field, message):
    """A 422 for one field; MESSAGE is e.g. 'Required value' or 'Invalid value: ...'."""
    cause = {"reason": "FieldValueRequired" if message.startswith("Required") else "FieldValueInvalid",
             "message": message, "field": field}
    return ApiError(422, f'{rt.kind} "{name}" is invalid: {field}: {message}',
                    details=_details(rt, name, rt.kind, causes=[cause]))


def too_old(rv, oldest):
    return ApiError(410, f"too old resource version: {rv} ({oldest - 1})")


def parse_rv(value):
    if not re.fullmatch(r"\d+", value or ""):
        raise ApiError(400, f"invalid resource version: {value!r}")
    return int(value)


def flag(query, name):
    """Kubernetes boolean query parameters: present and not 0/false means true."""
    return name in query and query[name].lower() not in ("0", "false")


# ---------------------------------------------------------------------------
# Label and field selectors

def _terms(text):
    return [t.strip() for t in re.findall(r"(?:[^,(]|\([^)]*\))+", text or "") if t.strip()]


# Label selectors, as the API server reads them: requirements joined by
# commas (AND): k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k.  Words are
# runs of anything but whitespace and !=,(); "in"/"notin" are operators only
# after a key.  Keys: [DNS-subdomain prefix/]name; names and values at most 63
# characters of [A-Za-z0-9_.-], alphanumeric at both ends (values may be
# empty).  Inside parentheses an empty entry is the empty value.

_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_SEL_TOKEN = re.compile(r"\s*(!=|==|[!=,()]|[^\s!=,()]+|\Z)")


def label_key_ok(key):
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or "/" in prefix
                  or not all(len(p) <= 63 and _DNS_LABEL.match(p) for p in prefix.split("."))):
        return False
    return bool(_LABEL_NAME.match(name))


def label_value_ok(value):
    return value == "" or bool(_LABEL_NAME.match(value))


def _sel_tokens(text):
    pos, out = 0, []
    while True:
        m = _SEL_TOKEN.match(text, pos)
        tok = m.group(1)
        out.append((tok, m.start(1)))
        if tok == "":
            return out
        pos = m.end()


def parse_label_selector(text):
    """[(op, key, values)] of a labelSelector; ValueError names the fault."""
    toks, i, reqs = _sel_tokens(text or ""), 0, []
    special = {"!", "=", "==", "!=", ",", "(", ")", ""}

    def word(t):
        return t not in special

    def value():
        nonlocal i
        tok, at = toks[i]
        if not word(tok):
            return ""
        if not label_value_ok(tok):
            raise ValueError(f"invalid label value: {tok!r} at {at + 1}")
        i += 1
        return tok

    if toks[0][0] == "":
        return reqs
    while True:
        neg = toks[i][0] == "!"
        i += neg
        key, at = toks[i]
        if not word(key) or not label_key_ok(key):
            raise ValueError(f"invalid label key: {key!r} at {at + 1}")
        i += 1
        tok = toks[i][0]
        if neg or tok in (",", ""):
            reqs.append(("absent" if neg else "exists", key, ()))
        elif tok in ("=", "==", "!="):
            i += 1
            reqs.append(("!=" if tok == "!=" else "=", key, (value(),)))
        elif tok in ("in", "notin"):
            i += 1
            if toks[i][0] != "(":
                raise ValueError(f"expected '(' after {tok} at {toks[i][1] + 1}")
            i += 1
            values = [value()]
            while toks[i][0] == ",":
                i += 1
                values.append(value())
            if toks[i][0] != ")":
                raise ValueError(f"expected ',' or ')' at {toks[i][1] + 1}")
            i += 1
            reqs.append((tok, key, tuple(values)))
        else:
            raise ValueError(f"unexpected {tok!r} after the key at {toks[i][1] + 1}")
        tok, at = toks[i]
        if tok == "":
            return reqs
        if tok != ",":
            raise ValueError(f"expected ',' or the end at {at + 1}")
        i += 1


def label_requirement_holds(op, key, values, labels):
    if op in ("=", "in"):
        return key in labels and labels[key] in values
    if op in ("!=", "notin"):
        return key not in labels or labels[key] not in values
    return (key in labels) == (op == "exists")


def label_selector(text):
    """Compile a labelSelector into a predicate over an object."""
    try:
        reqs = parse_label_selector(text)
    except ValueError as e:
        raise ApiError(400, f"unable to parse requirement: {e}") from None
    return lambda obj: all(label_requirement_holds(op, k, v, obj["metadata"].get("labels") or {})
                           for op, k, v in reqs)


def field_value(obj, path):
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    if isinstance(obj, bool):
        return "true" if obj else "false"
    return "" if obj is None else str(obj)


def field_selector(rt, text):
    """Compile a fieldSelector into a predicate; only the kind's fields are allowed."""
    tests = []
    for term in _terms(text):
        m = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise ApiError(400, f"invalid selector: {text!r}; can't understand {term!r}")
        field, op, wanted = m.groups()
        if field not in rt.fields:
            raise ApiError(400, f"field label not supported: {field}")
        tests.append(lambda o, f=field, w=wanted, eq=op != "!=": (field_value(o, f) == w) == eq)
    return lambda obj: all(t(obj) for t in tests)


# ---------------------------------------------------------------------------
# Patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge

def merge_patch(_kind, target, patch):
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(None, result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise ApiError(422, f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _at(doc, parts):
    for part in parts:
        try:
            doc = doc[int(part)] if isinstance(doc, list) else doc[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, f"the server rejected our request: path not found: /{'/'.join(parts)}")
    return doc


def _add(doc, parts, value):
    if not parts:
        return value
    parent, key = _at(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        index = len(parent) if key == "-" else int(key) if key.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise ApiError(422, f"json patch: index out of range: {key}")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        raise ApiError(422, f"json patch: cannot add to /{'/'.join(parts)}")
    return doc


def _remove(doc, parts):
    _at(doc, parts)
    parent, key = _at(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        del parent[int(key)]
    else:
        del parent[key]
    return doc


def json_patch(_kind, doc, ops):
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be an array of operations")
    for op in ops:
        action, parts = op.get("op"), _pointer(op.get("path"))
        if action == "test":
            if _at(doc, parts) != op.get("value"):
                raise ApiError(422, f"the server rejected our request: testing value at {op['path']} failed")
        elif action == "remove":
            doc = _remove(doc, parts)
        elif action == "add":
            doc = _add(doc, parts, clone(op.get("value")))
        elif action == "replace":
            doc = _add(_remove(doc, parts), parts, clone(op.get("value")))
        elif action in ("move", "copy"):
            source = _pointer(op.get("from"))
            value = clone(_at(doc, source))
            if action == "move":
                doc = _remove(doc, source)
            doc = _add(doc, parts, value)
        else:
            raise ApiError(422, f"json patch: unsupported operation {action!r}")
    return doc


MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
              "volumes": "name", "env": "name", "imagePullSecrets": "name",
              "volumeMounts": "mountPath", "conditions": "type", "hostAliases": "ip"}


def merge_key(kind, path):
    """The strategic-merge key of the list at PATH (field names only), or None (replace)."""
    if path[-1:] == ("ports",):
        if kind == "Service" and path == ("spec", "ports"):
            return "port"
        return "containerPort" if path[-2:-1] in (("containers",), ("initContainers",)) else None
    return MERGE_KEYS.get(path[-1])


def strategic_merge(kind, target, patch, path=()):
    """Apply a strategic merge patch, enough for kubectl apply/patch on our kinds."""
    if not isinstance(patch, dict):
        raise ApiError(400, "strategic merge patch must be a JSON object")
    if patch.get("$patch") == "replace":
        target = {}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
        elif key.startswith("$"):
            continue  # $patch, $retainKeys and $setElementOrder carry no data here
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge(kind, result.get(key), value, path + (key,))
        elif isinstance(value, list):
            result[key] = _merge_list(kind, result.get(key), value, path + (key,))
        else:
            result[key] = value
    return result


def _merge_list(kind, current, patch, path):
    def clean(elem):
        return strategic_merge(kind, {}, elem, path) if isinstance(elem, dict) else elem

    key = merge_key(kind, path)
    directives = [e.get("$patch") for e in patch if isinstance(e, dict)]
    if key is None or not isinstance(current, list) or "replace" in directives:
        return [clean(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
    result = list(current)
    for elem in patch:
        if not isinstance(elem, dict):
            continue
        index = next((i for i, cur in enumerate(result)
                      if isinstance(cur, dict) and cur.get(key) == elem.get(key)), None)
        if elem.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(clean(elem))
        else:
            result[index] = strategic_merge(kind, result[index], elem, path)
    return result


PATCHERS = {"application/merge-patch+json": merge_patch,
            "application/json-patch+json": json_patch,
            "application/strategic-merge-patch+json": strategic_merge}


# ---------------------------------------------------------------------------
# Storage: objects, the global revision, event history and list snapshots

Event = namedtuple("Event", "rv type rt old new")


def clone(doc):
    """A deep copy of a JSON document (dicts, lists, strings, numbers, booleans,
    None): through marshal, five times faster than copy.deepcopy."""
    return marshal.loads(marshal.dumps(doc))


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """Every object, the etcd-like revision counter and a bounded event history.

    All public methods hold `changed` (a Condition) and notify it on every
    write, which is what open watches wait on.  Objects are deep-copied on the
    way in and out, and stored dicts are never mutated once stored: history
    events reference them.
    """

    def __init__(self, window=1000, rv_start=0, seed_items=()):
        self.changed = threading.Condition()
        self.window, self.rv = window, rv_start
        self.seed_items = list(seed_items)
        self.objects = {rt: {} for rt in RESOURCES}
        self.history = []
        self.snapshots, self.next_snapshot = {}, 0
        self.cluster_ips = set()
        with self.changed:
            self._populate()

    # -- queries -------------------------------------------------------------

    @property
    def oldest(self):
        """The first revision still in the history (rv+1 when it is empty)."""
        return self.history[0].rv if self.history else self.rv + 1

    def get(self, rt, ns, name):
        with self.changed:
            return clone(self._existing(rt, ns, name))

    def list(self, rt, ns, predicate):
        """Matching objects sorted by namespace/name, and the current revision."""
        with self.changed:
            items = [o for (n, _), o in sorted(self.objects[rt].items())
                     if ns is None or n == ns]
            return clone([o for o in items if predicate(o)]), self.rv

    def dump(self):
        with self.changed:
            items = [o for rt in RESOURCES for _, o in sorted(self.objects[rt].items())]
            return clone(items), self.rv, self.oldest

    def events_after(self, rv):
        return self.history[bisect.bisect_right(self.history, rv, key=lambda e: e.rv):]

    def wait_for(self, rv, timeout):
        with self.changed:
            return self.changed.wait_for(lambda: self.rv >= rv, timeout)

    # -- list snapshots for pagination ----------------------------------------

    def save_snapshot(self, items, rv):
        with self.changed:
            self.next_snapshot += 1
            self.snapshots[self.next_snapshot] = (items, rv)
            for old in sorted(self.snapshots)[:-64]:
                del self.snapshots[old]
            return self.next_snapshot

    def snapshot(self, snapshot_id):
        with self.changed:
            if snapshot_id not in self.snapshots:
                raise ApiError(410, "The provided continue parameter is too old to display a "
                               "consistent list result. You can start a new list without the "
                               "continue parameter, or use the continue token in this response "
                               "to retrieve the remainder of the results.")
            return self.snapshots[snapshot_id]

    # -- writes through the API ----------------------------------------------

    def create(self, rt, ns, body, dry_run=False):
        with self.changed:
            obj = self._admit(rt, ns, body, None)
            return obj if dry_run else self._commit("ADDED", rt, None, obj)

    def update(self, rt, ns, name, body, status_only=False, dry_run=False):
        with self.changed:
            return self._update(rt, ns, name, body, status_only, dry_run)

    def patch(self, rt, ns, name, patcher, patch, status_only=False, dry_run=False):
        with self.changed:
            current = clone(self._existing(rt, ns, name))
            patched = patcher(rt.kind, current, patch)
            if not isinstance(patched, dict):
                raise ApiError(422, "the patched object is not a JSON object")
            return self._update(rt, ns, name, patched, status_only, dry_run)

    def delete(self, rt, ns, name, dry_run=False):
        """Delete an object (a Namespace takes its contents with it)."""
        with self.changed:
            old = self._existing(rt, ns, name)
            if dry_run:
                return clone(old)
            if rt is NAMESPACES:
                for child_rt in RESOURCES:
                    for child_ns, child in sorted(self.objects[child_rt]):
                        if child_rt.namespaced and child_ns == name:
                            self._remove(child_rt, child_ns, child)
            return self._remove(rt, ns, name)

    # -- control plane ----------------------------------------------------------

    def seed(self, items):
        """Write full objects (keeping status, uid, timestamps); namespaces are created as needed."""
        with self.changed:
            for item in items:
                rt = BY_KIND.get((item.get("apiVersion"), item.get("kind")))
                meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
                if rt is None:
                    raise ApiError(400, f"unsupported kind {item.get('apiVersion')}/{item.get('kind')}")
                ns = (meta.get("namespace") or "default") if rt.namespaced else ""
                if ns and ("", ns) not in self.objects[NAMESPACES]:
                    self._commit("ADDED", NAMESPACES, None, self._admit(
                        NAMESPACES, "", {"metadata": {"name": ns}}, None))
                old = self.objects[rt].get((ns, meta.get("name")))
                obj = self._admit(rt, ns, item, old, verbatim=True)
                if obj != old:
                    self._commit("MODIFIED" if old else "ADDED", rt, old, obj)

    def reset(self, items=None):
        """Back to the initial objects (or built-ins plus ITEMS); history is dropped, rv goes on."""
        with self.changed:
            self.objects = {rt: {} for rt in RESOURCES}
            self.cluster_ips.clear()
            if items is not None:
                self.seed_items = list(items)
            self._populate()
            self.compact()

    def compact(self):
        """Forget the history and every continue token, as an etcd compaction would."""
        with self.changed:
            self.history.clear()
            self.snapshots.clear()
            self.changed.notify_all()

    def set_rv(self, rv):
        with self.changed:
            if rv < self.rv:
                self.history.clear()
            self.rv = rv
            self.changed.notify_all()

    # -- internals (the lock is held) ---------------------------------------------

    def _populate(self):
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            namespace = self._admit(NAMESPACES, "", {"metadata": {"name": name}}, None)
            self._commit("ADDED", NAMESPACES, None, namespace)
        labels = {"component": "apiserver", "provider": "kubernetes"}
        kubernetes = {"metadata": {"name": "kubernetes", "labels": labels},
                      "spec": {"clusterIP": KUBERNETES_SERVICE_IP,
                               "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}}
        self._commit("ADDED", SERVICES, None, self._admit(SERVICES, "default", kubernetes, None))
        self.seed(self.seed_items)

    def _existing(self, rt, ns, name):
        obj = self.objects[rt].get((ns or "", name))
        if obj is None:
            raise not_found(rt, name)
        return obj

    def _update(self, rt, ns, name, body, status_only, dry_run):
        old = self._existing(rt, ns, name)
        meta = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            raise ApiError(400, "the object has no metadata")
        if (meta.get("name") or name) != name:
            raise ApiError(400, f"the name of the object ({meta['name']}) does not match "
                           f"the name on the URL ({name})")
        if meta.get("resourceVersion") and meta["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise ApiError(409, f'Operation cannot be fulfilled on {rt.plural} "{name}": the object has been '
                           "modified; please apply your changes to the latest version and try again",
                           details=_details(rt, name))
        obj = self._admit(rt, ns, {**body, "metadata": {**meta, "name": name}}, old, status_only=status_only)
        if obj == old or dry_run:
            return clone(obj)
        return self._commit("MODIFIED", rt, old, obj)

    def _remove(self, rt, ns, name):
        old = self.objects[rt][(ns, name)]
        return self._commit("DELETED", rt, old, clone(old))

    def _commit(self, etype, rt, old, new):
        self.rv += 1
        meta = new["metadata"]
        meta["resourceVersion"] = str(self.rv)
        key = (meta.get("namespace", ""), meta["name"])
        if etype == "DELETED":
            del self.objects[rt][key]
        else:
            self.objects[rt][key] = new
        if rt is SERVICES:
            if old:
                self.cluster_ips.discard(old["spec"].get("clusterIP"))
            if etype != "DELETED":
                self.cluster_ips.add(new["spec"].get("clusterIP"))
        self.history.append(Event(self.rv, etype, rt, old, new))
        del self.history[:-self.window]
        self.changed.notify_all()
        return clone(new)

    def _admit(self, rt, ns, body, old, status_only=False, verbatim=False):
        """Validate and default BODY as a create (OLD is None) or an update of OLD.

        VERBATIM (fixture seeding) keeps status and the system metadata given.
        """
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise ApiError(400, "the request body is not a Kubernetes object")
        for field, expected in (("kind", rt.kind), ("apiVersion", rt.group_version)):
            if body.get(field, expected) != expected:
                raise ApiError(400, f"the {field} in the data ({body[field]}) does not match "
                               f"the expected {field} ({expected})")
        source = {**old, "status": body.get("status")} if status_only else body
        obj = {"kind": rt.kind, "apiVersion": rt.group_version, **clone(source)}
        obj["kind"], obj["apiVersion"] = rt.kind, rt.group_version
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace", ns) not in (ns, ""):
                raise ApiError(400, "the namespace of the provided object does not match "
                               "the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if old is None:
            self._admit_new(rt, ns, obj, verbatim)
        else:
            for field in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                meta[field] = old["metadata"].get(field)
            if rt.has_status and not status_only and not verbatim:
                obj["status"] = clone(old.get("status"))
        if obj.get("status") is None:
            obj.pop("status", None)
        DEFAULTERS.get(rt.kind, lambda *_: None)(self, rt, obj, old)
        if old is not None and _spec(obj) != _spec(old):
            meta["generation"] = (old["metadata"].get("generation") or 0) + 1
        return obj

    def _admit_new(self, rt, ns, obj, verbatim):
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            suffix = random.choices(string.ascii_lowercase + string.digits, k=5)
            meta["name"] = meta["generateName"] + "".join(suffix)
        name = meta.get("name") or ""
        pattern, limit, rule = NAME_RULES[rt.name_rule]
        if not name:
            raise invalid(rt, name, "metadata.name", "Required value: name or generateName is required")
        if not re.fullmatch(pattern, name) or len(name) > limit:
            raise invalid(rt, name, "metadata.name", f"Invalid value: {json.dumps(name)}: {rule}")
        if rt.namespaced and ("", ns) not in self.objects[NAMESPACES]:
            raise not_found(NAMESPACES, ns)
        if (ns, name) in self.objects[rt]:
            raise ApiError(409, f'{rt.plural} "{name}" already exists', "AlreadyExists", _details(rt, name))
        fresh = {"uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(), "generation": 1}
        for field, value in fresh.items():
            if not verbatim or not meta.get(field):
                meta[field] = value
        meta.pop("resourceVersion", None)
        if rt.has_status and not verbatim:
            obj.pop("status", None)

    # -- per-kind defaulting and validation ------------------------------------------

    def _default_namespace(self, _rt, obj, _old):
        meta = obj["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta["name"]}
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {"phase": "Active"})

    def _default_service(self, rt, obj, old):
        name, spec = obj["metadata"]["name"], obj.setdefault("spec", {})
        old_spec = (old or {}).get("spec") or {}
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        obj.setdefault("status", {"loadBalancer": {}})
        ip = spec.get("clusterIP") or ""
        if spec["type"] == "ExternalName":
            if not spec.get("externalName"):
                raise invalid(rt, name, "spec.externalName", "Required value")
            if ip and ip != old_spec.get("clusterIP"):
                raise invalid(rt, name, "spec.clusterIP",
                              f"Invalid value: {json.dumps(ip)}: must be empty for ExternalName services")
            for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
                spec.pop(field, None)
        else:
            old_ip = old_spec.get("clusterIP")
            if ip and old_ip and ip != old_ip:
                raise invalid(rt, name, "spec.clusterIP",
                              f"Invalid value: {json.dumps(ip)}: field is immutable")
            ip = ip or old_ip or self._allocate_ip()
            if ip != "None" and ip != old_ip and ip in self.cluster_ips:
                raise invalid(rt, name, "spec.clusterIPs", f"Invalid value: [{json.dumps(ip)}]: "
                              f"failed to allocate IP {ip}: provided IP is already allocated")
            spec["clusterIP"] = ip
            spec.setdefault("clusterIPs", [ip])
            if ip != "None":
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            if not spec.get("ports") and ip != "None":
                raise invalid(rt, name, "spec.ports", "Required value")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if spec["type"] in ("NodePort", "LoadBalancer") and "nodePort" not in port:
                port["nodePort"] = 30000 + random.randrange(2768)
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")

    def _allocate_ip(self):
        hosts = SERVICE_CIDR.num_addresses - 2
        for _ in range(hosts):
            candidate = str(SERVICE_CIDR[10 + random.randrange(hosts - 10)])
            if candidate not in self.cluster_ips:
                return candidate
        raise ApiError(500, "the service IP range is full")

    def _default_pod(self, rt, obj, _old):
        spec = obj.setdefault("spec", {})
        if not spec.get("containers"):
            raise invalid(rt, obj["metadata"]["name"], "spec.containers", "Required value")
        for field, value in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                             ("schedulerName", "default-scheduler"), ("terminationGracePeriodSeconds", 30)):
            spec.setdefault(field, value)
        obj.setdefault("status", {"phase": "Pending"})

    def _default_endpointslice(self, rt, obj, _old):
        if obj.get("addressType") not in ("IPv4", "IPv6", "FQDN"):
            message = (f"Unsupported value: {json.dumps(obj.get('addressType'))}: "
                       'supported values: "FQDN", "IPv4", "IPv6"')
            raise invalid(rt, obj["metadata"]["name"], "addressType",
                          "Required value" if obj.get("addressType") is None else message)
        obj.setdefault("endpoints", None)
        obj.setdefault("ports", None)

    def _default_secret(self, _rt, obj, _old):
        obj.setdefault("type", "Opaque")
        for key, value in (obj.pop("stringData", None) or {}).items():
            obj.setdefault("data", {})[key] = base64.b64encode(value.encode()).decode()

    def _default_deployment(self, _rt, obj, _old):
        obj.setdefault("spec", {}).setdefault("replicas", 1)


def _spec(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


DEFAULTERS = {"Namespace": Store._default_namespace, "Service": Store._default_service,
              "Pod": Store._default_pod, "EndpointSlice": Store._default_endpointslice,
              "Secret": Store._default_secret, "Deployment": Store._default_deployment}


# ---------------------------------------------------------------------------
# Fault rules

FAULT_ACTIONS = {"status", "drop", "delay", "stall", "html", "malformed", "slow",
                 "gone", "cut", "end", "split", "coalesce", "bigline"}
WATCH_ACTIONS = {"end", "cut", "gone", "stall", "malformed", "bigline", "bookmark"}
FAULT_DEFAULTS = {"match": "", "method": None, "watch": None, "count": 1, "action": None,
                  "code": 500, "message": "", "delay_ms": 0, "after_events": 0, "size": 0,
                  "partial": False}


class Faults:
    """Fault rules: the first rule matching a request fires and uses up one count."""

    def __init__(self):
        self.lock, self.rules = threading.Lock(), []

    def add(self, spec):
        unknown = set(spec) - set(FAULT_DEFAULTS)
        rule = {**FAULT_DEFAULTS, **spec}
        if unknown or rule["action"] not in FAULT_ACTIONS:
            raise ApiError(400, f"bad fault rule (unknown keys {sorted(unknown)} or action {rule['action']!r})")
        try:
            re.compile(rule["match"])
        except re.error as err:
            raise ApiError(400, f"bad match regex: {err}")
        with self.lock:
            self.rules.append(rule)
        return rule

    def take(self, method, target, is_watch):
        with self.lock:
            for rule in self.rules:
                if (re.search(rule["match"], target) and rule["method"] in (None, method)
                        and rule["watch"] in (None, is_watch)):
                    rule["count"] -= 1
                    if rule["count"] == 0:
                        self.rules.remove(rule)
                    return dict(rule)
        return None

    def clear(self):
        with self.lock:
            self.rules.clear()


# ---------------------------------------------------------------------------
# Watch streams

class StreamOver(Exception):
    """Ends a watch stream; the argument is the note for the request log."""


class Watch:
    """One open watch: a chunked stream fed from the store's event history.

    Test injections (`inject`) and an optional fault rule change what the
    stream does.  Nothing is written while the store lock is held.
    """

    TERMINAL = ("gone", "cut", "end", "stall")

    def __init__(self, handler, rt, ns, predicate, allow_bookmarks, timeout, rule):
        self.handler, self.server, self.store = handler, handler.server, handler.server.store
        self.rt, self.ns, self.matches = rt, ns, predicate
        self.allow_bookmarks, self.rule = allow_bookmarks, rule
        self.deadline = time.monotonic() + timeout
        self.path, self.cursor, self.sent = handler.path, 0, 0
        self.actions, self.stalled, self.batch = [], False, None
        # Chunks written but not yet flushed: as the API server, events that
        # are already waiting go out together, flushed when none is left.
        self.pending = None
        action = rule["action"] if rule else None
        self.split = action == "split" or self.server.settings["split"]
        self.slow, self.coalesce = action == "slow", action == "coalesce"

    def inject(self, action, params):
        """Queue a control-plane action; the caller holds the store lock and notifies."""
        self.actions.append((action, params))

    def run(self, start_rv, initial_events):
        """Serve the stream until it ends; returns a note for the request log."""
        with self.store.changed:
            if start_rv in ("", "0") or initial_events:
                initial, self.cursor = self.store.list(self.rt, self.ns, self.matches)
            else:
                initial, self.cursor = [], parse_rv(start_rv)
                if self.cursor < self.store.oldest - 1:
                    self.actions.append(("gone", {}))
            self.server.watches.add(self)
        self.handler.send_response(200)
        self.handler.send_headers({**JSON_HEADERS, "Transfer-Encoding": "chunked"})
        self.handler.log(f"watch-start rv={start_rv}")
        try:
            self._check_rule()
            self._send_batch(("ADDED", obj) for obj in initial)
            if initial_events and self.allow_bookmarks and not self.stalled:
                self._bookmark({"k8s.io/initial-events-end": "true"})
            self._loop()
        except StreamOver as over:
            return over.args[0]
        except (OSError, ValueError):
            return "watch-abort: client gone"
        finally:
            with self.store.changed:
                self.server.watches.discard(self)

    def _loop(self):
        store, last_bookmark = self.store, time.monotonic()
        while True:
            interval = self.server.settings["bookmark_interval"]
            next_bookmark = last_bookmark + interval if interval > 0 else float("inf")
            # A stalled stream ignores its deadline; everything else wakes at least every second.
            wake = time.monotonic() + 1.0 if self.stalled else min(self.deadline, next_bookmark,
                                                                     time.monotonic() + 1.0)
            with store.changed:
                store.changed.wait_for(lambda: self.actions or self.server.stopping or (
                    not self.stalled and store.history and store.history[-1].rv > self.cursor),
                    timeout=max(0.0, wake - time.monotonic()))
                actions, self.actions = self.actions, []
                if not self.stalled and self.cursor < store.oldest - 1:
                    actions.append(("gone", {}))
                events = [] if self.stalled else store.events_after(self.cursor)
            if self.server.stopping:
                self._end("watch-end: server stopping")
            for action, params in actions:
                self._act(action, params)
            if select.select([self.handler.connection], [], [], 0)[0]:
                raise StreamOver("watch-abort: client gone")  # clients send nothing mid-stream
            if self.stalled:
                continue
            self._send_batch(self._visible(events))
            now = time.monotonic()
            if self.allow_bookmarks and (now >= next_bookmark or now >= self.deadline):
                self._bookmark()
            if now >= next_bookmark:
                last_bookmark = now
            if now >= self.deadline:
                self._end("watch-end: timeout")

    def _visible(self, events):
        """(type, object) pairs this watcher sees among history EVENTS; advances the cursor."""
        for event in events:
            self.cursor = event.rv
            if event.rt is not self.rt or (self.ns and event.new["metadata"].get("namespace") != self.ns):
                continue
            new_match = self.matches(event.new)
            if event.type != "MODIFIED":
                etype = event.type if new_match else None
            else:
                etype = {(True, True): "MODIFIED", (False, True): "ADDED",
                         (True, False): "DELETED"}.get((self.matches(event.old), new_match))
            if etype == "DELETED" and event.type == "MODIFIED":
                # As the API server's watch cache: the previous content,
                # at the revision of the change that took it out.
                gone = clone(event.old)
                gone["metadata"]["resourceVersion"] = event.new["metadata"].get("resourceVersion")
                yield etype, gone
            elif etype:
                yield etype, event.new

    def _send_batch(self, events):
        """Send events (in one chunk when coalescing); a fault rule may interrupt.

        Each event is its own chunk; the chunks of the events at hand are
        sent together and flushed once (every PENDING_MAX bytes at most), as
        the API server flushes a watch only when no further event is queued.
        """
        self.batch = [] if self.coalesce else None
        self.pending = None if self.split or self.slow else bytearray()
        try:
            for etype, obj in events:
                if self.stalled:
                    break
                rule = self.rule
                if rule and rule["action"] in ("malformed", "bigline") and self.sent == rule["after_events"]:
                    self._act(rule["action"], rule)  # replaces this event
                else:
                    self._write_line(json.dumps({"type": etype, "object": obj}, separators=(",", ":")))
                self.sent += 1
                self._check_rule()
        finally:
            batch, self.batch = self.batch, None
            if batch:
                self._write_chunk(b"".join(batch))
            self._flush()
            self.pending = None

    def _check_rule(self):
        rule = self.rule
        if rule and rule["action"] in self.TERMINAL and self.sent >= rule["after_events"]:
            self.rule = None
            self._act(rule["action"], rule)

    def _act(self, action, params):
        """Perform one test action; raises StreamOver when it ends the stream."""
        if action == "bookmark" and self.allow_bookmarks and not self.stalled:
            self._bookmark()
        elif action == "stall":
            self.stalled = True
        elif action == "malformed":
            self._write_line('{"type":"MODIFIED","object":{"kind":"' + self.rt.kind + '","metadata":{')
        elif action == "bigline":
            obj = {"kind": self.rt.kind, "apiVersion": self.rt.group_version,
                   "metadata": {"name": "bigline", "namespace": self.ns or "default",
                                "resourceVersion": str(self.cursor),
                                "annotations": {"blob": "x" * (params.get("size") or 4 << 20)}}}
            self._write_line(json.dumps({"type": "ADDED", "object": obj}))
        elif action == "gone":
            with self.store.changed:
                oldest = max(self.store.oldest, self.cursor + 2)
            self._write_line(json.dumps({"type": "ERROR", "object": too_old(self.cursor, oldest).status()}))
            self._end("watch-end: gone")
        elif action == "end":
            self._end("watch-end: closed")
        elif action == "cut":
            if params.get("partial"):
                self._write_chunk(b'{"type":"MODIFIED","object":{"kind":"' + self.rt.kind.encode())
            self._flush()
            self.handler.drop()
            raise StreamOver("watch-abort: cut")

    def _end(self, note):
        """Finish the stream cleanly (the terminating zero-length chunk)."""
        self._write_chunk(b"")
        raise StreamOver(note)

    def _bookmark(self, annotations=None):
        """A BOOKMARK at the last revision examined, never above the store's revision."""
        meta = {"resourceVersion": str(min(self.cursor, self.store.rv))}
        if annotations:
            meta["annotations"] = annotations
        obj = {"kind": self.rt.kind, "apiVersion": self.rt.group_version, "metadata": meta}
        self._write_line(json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")))

    def _write_line(self, text):
        data = (text + "\n").encode()
        if self.batch is not None:
            self.batch.append(data)
        elif self.split:
            self._write_chunk(data[:len(data) // 2])
            time.sleep(0.01)
            self._write_chunk(data[len(data) // 2:])
        elif self.slow:
            step, pause = self.rule["size"] or 1, (self.rule["delay_ms"] or 50) / 1000
            for i in range(0, len(data), step):
                self._write_chunk(data[i:i + step])
                time.sleep(pause)
        else:
            self._write_chunk(data)

    def _write_chunk(self, data):
        chunk = b"%x\r\n%s\r\n" % (len(data), data)
        if self.pending is None:
            self.handler.wfile.write(chunk)
            self.handler.wfile.flush()
            return
        self.pending += chunk
        if len(self.pending) >= PENDING_MAX:
            self._flush()

    def _flush(self):
        if self.pending:
            data, self.pending[:] = bytes(self.pending), b""
            self.handler.wfile.write(data)
            self.handler.wfile.flush()


# ---------------------------------------------------------------------------
# Discovery and OpenAPI documents

def api_versions(port):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}]}


def api_group(group):
    gv = {"groupVersion": f"{group}/{GROUP_VERSION[group]}", "version": GROUP_VERSION[group]}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def served_gvs(crds):
    """The group/versions with at least one served resource."""
    return [gv for gv, rts in BY_GV.items() if any(served(rt, crds) for rt in rts.values())]


def api_group_list(crds):
    groups = sorted({gv.split("/")[0] for gv in served_gvs(crds) if "/" in gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [api_group(g) for g in groups]}


def resource_list(gv, crds):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [e for rt in BY_GV[gv].values() if served(rt, crds) for e in rt.discovery()]}


def openapi_root(crds):
    paths = {}
    for gv in served_gvs(crds):
        path = "api/v1" if gv == "v1" else f"apis/{gv}"
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash=00000000"}
    return {"paths": paths}


def openapi_document(gv, crds):
    """Just enough OpenAPI v3 for kubectl's fieldValidation check: one PATCH per kind."""
    paths = {}
    for rt in BY_GV[gv].values():
        if not served(rt, crds):
            continue
        scope = "/namespaces/{namespace}" if rt.namespaced else ""
        paths[f"{rt.prefix}{scope}/{rt.plural}/{{name}}"] = {"patch": {
            "operationId": f"patch{rt.kind}", "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
            "parameters": [{"name": "fieldValidation", "in": "query",
                            "schema": {"type": "string", "uniqueItems": True}}],
            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "components": {"schemas": {}}, "paths": paths}


API_PATH = re.compile(r"/(?:api/v1|apis/(?P<group>[^/]+)/(?P<version>[^/]+))(?:/(?P<rest>.*))?\Z")


def parse_resource_path(path, crds):
    """Split an API path into (rt, namespace, name, subresource), or None if it is not one
    (a CRD's resource is one only while installed, in CRDS)."""
    m = API_PATH.match(path)
    gv = f"{m.group('group')}/{m.group('version')}" if m and m.group("group") else "v1"
    if not m or gv not in BY_GV:
        return None
    resources = {k: rt for k, rt in BY_GV[gv].items() if served(rt, crds)}
    segs = (m.group("rest") or "").rstrip("/").split("/")
    ns = None
    if len(segs) >= 3 and segs[0] == "namespaces" and getattr(resources.get(segs[2]), "namespaced", False):
        ns, segs = segs[1], segs[2:]
    rt = resources.get(segs[0])
    if rt is None or len(segs) > 3 or (rt.namespaced and ns is None and len(segs) > 1):
        return None
    name = segs[1] if len(segs) > 1 else None
    sub = segs[2] if len(segs) > 2 else None
    if sub is not None and not (sub == "status" and rt.has_status):
        return None
    return rt, ns, name, sub


# ---------------------------------------------------------------------------
# HTTP handler

PUBLIC_PATHS = {"/version", "/healthz", "/readyz", "/livez"}
HTML_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>upstream unavailable</p></body></html>"


class Handler(BaseHTTPRequestHandler):
    """Routes one request: control plane, faults, then the Kubernetes API."""

    protocol_version = "HTTP/1.1"
    server_version = "kubezone-fakeapi/1"

    def do_GET(self):
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.code, self.mangle, self.logged, self.note = None, None, False, ""
        try:
            self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/_fake/"):
                self.send_json(200, self.server.control(self.command, url.path, self.json_body({})))
                return
            if self.server.down:
                self.drop()
                return
            self.authenticate(url.path)
            rule = self.server.faults.take(self.command, self.path, flag(self.query, "watch"))
            if rule and self.pre_fault(rule):
                return
            self.route(url.path, rule)
        except ApiError as err:
            self.send_json(err.code, err.status(), err.headers)
        except ConnectionError:
            self.close_connection = True
        except Exception as err:  # a bug in the fake: answer 500 rather than hang up
            traceback.print_exc()
            if self.code is None:
                self.send_json(500, ApiError(500, f"fakeapi internal error: {err!r}").status())
        finally:
            if not url.path.startswith("/_fake/") and not self.logged:
                self.log()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing ------------------------------------------------------------------

    def json_body(self, default=None):
        if "protobuf" in self.headers.get("Content-Type", ""):
            raise ApiError(415, "the fake apiserver accepts JSON bodies only (kubectl create <kind> <name> "
                           "sends protobuf: use a manifest with create/apply -f)")
        if not self.body:
            if default is None:
                raise ApiError(400, "the request body is empty")
            return default
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise ApiError(400, f"the request body is not JSON: {err}")

    def send_headers(self, headers):
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()

    def send_body(self, code, body, headers):
        self.code = code
        if self.mangle and self.mangle["action"] == "malformed":
            body = body[:len(body) // 2]
        self.send_response(code)
        self.send_headers({**headers, "Content-Length": str(len(body))})
        if self.mangle and self.mangle["action"] == "slow":
            step, pause = self.mangle["size"] or 1, (self.mangle["delay_ms"] or 50) / 1000
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(pause)
        else:
            self.wfile.write(body)

    def send_json(self, code, obj, headers=None):
        self.send_body(code, json.dumps(obj).encode(), {**JSON_HEADERS, **(headers or {})})

    def drop(self):
        """Close the connection without (or in the middle of) a response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log(self, note=None):
        """Append this request to the request log (the oracle for client behaviour)."""
        self.logged = True
        auth = self.headers.get("Authorization", "")
        self.server.record({
            "t": time.time(), "method": self.command, "path": self.path, "code": self.code,
            "accept": self.headers.get("Accept", ""), "ctype": self.headers.get("Content-Type", ""),
            "ua": self.headers.get("User-Agent", ""), "auth": bool(auth),
            "body": self.body[:600].decode("utf-8", "replace"), "note": note or self.note})

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fakeapi: %s - %s\n" % (self.address_string(), fmt % args))

    def client_cn(self):
        """The CN of the client certificate (signed by the fake's CA), or None."""
        getpeercert = getattr(self.connection, "getpeercert", None)
        cert = getpeercert() if getpeercert else None
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None

    def authenticate(self, path):
        accepted = self.server.accepted_tokens()
        header = self.headers.get("Authorization", "")
        if not accepted or (not header and path in PUBLIC_PATHS):
            return
        if not header and self.server.client_cns and self.client_cn() in self.server.client_cns:
            return
        if not header.startswith("Bearer ") or header[7:].strip() not in accepted:
            raise ApiError(401, "Unauthorized")

    def pre_fault(self, rule):
        """Apply a fault that acts before routing; True when the request is finished."""
        action, self.note = rule["action"], f"fault-{rule['action']}"
        if not flag(self.query, "watch"):
            self.mangle = rule
        if action == "delay":
            time.sleep(rule["delay_ms"] / 1000)
        elif action == "status":
            code = rule["code"]
            details = {"retryAfterSeconds": 1} if code == 429 else None
            headers = {"Retry-After": "1"} if code == 429 else None
            raise ApiError(code, rule["message"] or f"fake fault: {REASONS.get(code, code)}",
                           details=details, headers=headers)
        elif action == "drop":
            self.drop()
            return True
        elif action == "html":
            self.send_body(200, HTML_PAGE, {"Content-Type": "text/html"})
            return True
        elif action == "stall" and self.mangle:
            until = time.monotonic() + (rule["delay_ms"] / 1000 if rule["delay_ms"] else 1e9)
            while time.monotonic() < until and not self.server.stopping:
                if select.select([self.connection], [], [], 0.2)[0]:
                    break
            self.drop()
            return True
        return False

    # -- Kubernetes API ---------------------------------------------------------------

    def route(self, path, rule):
        if self.command == "GET":
            static = self.static_document(path)
            if static is not None:
                if isinstance(static, bytes):
                    self.send_body(200, static, {"Content-Type": "text/plain; charset=utf-8"})
                else:
                    self.send_json(200, static)
                return
        parsed = parse_resource_path(path, self.server.crds)
        if parsed is None:
            raise ApiError(404, "the server could not find the requested resource", details={})
        rt, ns, name, sub = parsed
        dry_run = "dryRun" in self.query
        if dry_run and self.query["dryRun"] != "All":
            raise ApiError(400, f"Unsupported value: {self.query['dryRun']!r}: supported values: \"All\"")
        method = self.command
        if name is None:
            if method == "GET" and flag(self.query, "watch"):
                self.serve_watch(rt, ns, rule)
            elif method == "GET":
                self.send_json(200, self.list_objects(rt, ns))
            elif method == "POST" and (ns is not None or not rt.namespaced):
                self.send_json(201, self.server.store.create(rt, ns or "", self.json_body(), dry_run))
            else:
                raise ApiError(405, "the server does not allow this method on the requested resource")
            return
        store, status_only = self.server.store, sub == "status"
        if method == "GET":
            self.send_json(200, store.get(rt, ns, name))
        elif method == "PUT":
            self.send_json(200, store.update(rt, ns or "", name, self.json_body(), status_only, dry_run))
        elif method == "PATCH":
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            if ctype not in PATCHERS:
                raise ApiError(415, f"the body of the request was in an unknown format - accepted media "
                               f"types include: {', '.join(PATCHERS)}")
            self.send_json(200, store.patch(rt, ns or "", name, PATCHERS[ctype], self.json_body(),
                                            status_only, dry_run))
        elif method == "DELETE" and not sub:
            self.send_json(200, store.delete(rt, ns or "", name, dry_run))
        else:
            raise ApiError(405, "the server does not allow this method on the requested resource")

    def static_document(self, path):
        """Health, version, discovery and OpenAPI documents (None when PATH is not one)."""
        if path in ("/healthz", "/readyz", "/livez"):
            return b"ok"
        if path == "/version":
            return VERSION
        if path == "/api":
            return api_versions(self.server.server_address[1])
        crds = self.server.crds
        if path == "/apis":
            return api_group_list(crds)
        if path == "/api/v1":
            return resource_list("v1", crds)
        if path == "/openapi/v3":
            return openapi_root(crds)
        m = re.fullmatch(r"/openapi/v3/(?:api/v1|apis/([^/]+)/([^/]+))|/apis/([^/]+)(?:/([^/]+))?", path)
        group = m and (m.group(1) or m.group(3))
        version = m and (m.group(2) or m.group(4))
        gv = f"{group}/{version or GROUP_VERSION.get(group)}" if group else "v1"
        if not m or gv not in served_gvs(crds):
            return None
        if path.startswith("/openapi/"):
            return openapi_document(gv, crds)
        return resource_list(gv, crds) if version else {"kind": "APIGroup", "apiVersion": "v1",
                                                        **api_group(group)}

    def list_objects(self, rt, ns):
        q, store = self.query, self.server.store
        rv, match, token = q.get("resourceVersion", ""), q.get("resourceVersionMatch", ""), q.get("continue")
        limit = int(q["limit"]) if q.get("limit", "").isdigit() else 0
        if token:
            if rv or match:
                raise ApiError(400, "specifying resource version is not allowed when using continue")
            try:
                snapshot_id, offset = json.loads(base64.urlsafe_b64decode(token))
            except ValueError:
                raise ApiError(400, "continue key is not valid")
            items, list_rv = store.snapshot(snapshot_id)
        else:
            if match and not rv:
                raise ApiError(422, "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                               "unless resourceVersion is provided")
            predicate = self.selector(rt)
            if rv not in ("", "0"):
                wanted = parse_rv(rv)
                if not store.wait_for(wanted, 3.0):
                    raise ApiError(504, f"Too large resource version: {wanted}, current: {store.rv}",
                                   details={"causes": [{"reason": "ResourceVersionTooLarge",
                                                        "message": "Too large resource version"}],
                                            "retryAfterSeconds": 1})
                if (match == "Exact" or (not match and limit)) and wanted != store.rv:
                    raise too_old(wanted, store.oldest)
            items, list_rv = store.list(rt, ns, predicate)
            snapshot_id, offset = None, 0
        page = items[offset:offset + limit] if limit else items[offset:]
        meta = {"resourceVersion": str(list_rv)}
        remaining = len(items) - offset - len(page)
        if remaining > 0:
            snapshot_id = snapshot_id or store.save_snapshot(items, list_rv)
            next_token = json.dumps([snapshot_id, offset + len(page)]).encode()
            meta["continue"] = base64.urlsafe_b64encode(next_token).decode()
            meta["remainingItemCount"] = remaining
        for item in page:
            item.pop("kind", None)
            item.pop("apiVersion", None)
        return {"kind": rt.kind + "List", "apiVersion": rt.group_version, "metadata": meta, "items": page}

    def selector(self, rt):
        labels = label_selector(self.query.get("labelSelector"))
        fields = field_selector(rt, self.query.get("fieldSelector"))
        return lambda obj: labels(obj) and fields(obj)

    def serve_watch(self, rt, ns, rule):
        q = self.query
        initial_events = flag(q, "sendInitialEvents")
        match = q.get("resourceVersionMatch", "")
        if match and "sendInitialEvents" not in q:
            raise ApiError(422, "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for "
                           "watch unless sendInitialEvents is provided")
        if "sendInitialEvents" in q and match != "NotOlderThan":
            raise ApiError(422, "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                           "resourceVersionMatch to NotOlderThan")
        if not q.get("timeoutSeconds", "0").isdigit():
            raise ApiError(400, f"invalid timeoutSeconds: {q['timeoutSeconds']!r}")
        minimum = self.server.settings["min_request_timeout"]
        timeout = int(q.get("timeoutSeconds") or 0) or random.uniform(minimum, 2 * minimum)
        watch = Watch(self, rt, ns, self.selector(rt), flag(q, "allowWatchBookmarks"), timeout, rule)
        rv = q.get("resourceVersion", "")
        if rv not in ("", "0"):
            parse_rv(rv)
        self.code = 200
        self.log(watch.run(rv, initial_events))


# ---------------------------------------------------------------------------
# Server

class FakeApiServer(ThreadingHTTPServer):
    """The listening server: shared state, settings, request log and control plane."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, store, tls=None, tokens=(), token_file=None,
                 bookmark_interval=60.0, min_request_timeout=1800.0, verbose=False, crds=()):
        self.store, self.tls, self.verbose = store, tls, verbose
        self.crds = set(crds)   # the CRDs installed (plurals of CRDS)
        self.tokens, self.token_file = list(tokens), token_file
        self.client_cns = set()         # CNs of accepted client certificates
        self.settings = {"bookmark_interval": bookmark_interval,
                         "min_request_timeout": min_request_timeout, "split": False}
        self.faults, self.watches = Faults(), set()
        self.requests, self.requests_lock = [], threading.Lock()
        self.stopping, self.down, self.refuse_seconds = False, False, 0.0
        self.woken = threading.Event()
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)

    def accepted_tokens(self):
        """The static tokens plus the token file's content, re-read on every request."""
        tokens = set(self.tokens)
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as f:
                    tokens.add(f.read().strip())
            except OSError:
                pass
        return tokens - {""}

    def record(self, entry):
        with self.requests_lock:
            self.requests.append(entry)
            del self.requests[:-20000]

    def inject(self, action, params=None, match=""):
        """Queue ACTION on every open watch whose path matches MATCH; returns how many."""
        with self.store.changed:
            targets = [w for w in self.watches if re.search(match or "", w.path)]
            for watch in targets:
                watch.inject(action, params or {})
            self.store.changed.notify_all()
        return len(targets)

    def serve(self):
        """Serve until stop(); a refusing outage closes and later reopens the listener."""
        while True:
            self.serve_forever(poll_interval=0.2)
            if self.stopping:
                return
            self.socket.close()
            self.woken.wait(self.refuse_seconds)
            if self.stopping:
                return
            self.socket = socket.socket(self.address_family, self.socket_type)
            self.server_bind()
            self.server_activate()
            self.down = False

    def stop(self):
        with self.store.changed:
            self.stopping = True
            self.store.changed.notify_all()
        self.woken.set()
        self.shutdown()

    def control(self, method, path, body):
        """The /_fake/ test control plane; returns the JSON answer."""
        store, action = self.store, path[len("/_fake/"):]
        if method == "GET" and action == "requests":
            with self.requests_lock:
                return {"items": list(self.requests)}
        if method == "GET" and action == "state":
            items, rv, oldest = store.dump()
            with store.changed:
                watches = [{"path": w.path, "rv": str(w.cursor)} for w in self.watches]
            return {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": str(rv)},
                    "items": items, "rv": rv, "oldest": oldest, "watches": watches}
        if method == "GET" and action == "faults":
            with self.faults.lock:
                return {"items": list(self.faults.rules)}
        if method == "DELETE" and action == "faults":
            self.faults.clear()
            return {}
        if method != "POST":
            raise ApiError(405, f"{method} /_fake/{action} is not supported")
        if action == "clear-log":
            with self.requests_lock:
                self.requests.clear()
        elif action == "seed":
            store.seed(body.get("items") or [])
        elif action in ("load", "reset"):  # open watches then get a 410: their RV is gone
            store.reset(body.get("items") or [] if action == "load" else None)
        elif action == "compact":
            store.compact()
            if body.get("gone"):
                return {"watches": self.inject("gone")}
        elif action == "close-watches":
            return {"watches": self.inject("cut" if body.get("abrupt") else "end", body)}
        elif action == "bookmark":
            return {"watches": self.inject("bookmark")}
        elif action == "watches":
            if body.get("action") not in WATCH_ACTIONS:
                raise ApiError(400, f"watch action must be one of {sorted(WATCH_ACTIONS)}")
            return {"watches": self.inject(body["action"], body, body.get("match"))}
        elif action == "tokens":
            self.tokens = list(body.get("accept") or [])
        elif action == "rv":
            store.set_rv(int(body["set"]))
        elif action == "fault":
            return {"rule": self.faults.add(body)}
        elif action == "config":
            unknown = set(body) - set(self.settings) - {"window"}
            if unknown:
                raise ApiError(400, f"unknown settings: {sorted(unknown)}")
            store.window = int(body.pop("window", store.window))
            self.settings.update(body)
        elif action == "crds":
            unknown = set(body) - set(CRDS)
            if unknown:
                raise ApiError(400, f"unknown CRDs: {sorted(unknown)} (known: {sorted(CRDS)})")
            for plural, on in body.items():
                (self.crds.add if on else self.crds.discard)(plural)
            if not all(body.values()):  # a removed CRD's watches end
                self.inject("end", {}, "|".join(f"/{p}" for p, on in body.items() if not on))
            return {"crds": sorted(self.crds)}
        elif action == "down":
            self.down = True
            self.inject("cut")
            if body.get("refuse_seconds"):
                self.refuse_seconds = float(body["refuse_seconds"])
                threading.Thread(target=self.shutdown, daemon=True).start()
        elif action == "up":
            self.down = False
        else:
            raise ApiError(404, f"unknown control endpoint /_fake/{action}")
        with store.changed:
            return {"rv": store.rv}


# ---------------------------------------------------------------------------
# TLS material and command line

OPENSSL_CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = kubezone-fakeapi-ca
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
"""


def tls_context(tls_dir, client_certs=False):
    """Load (creating them with the openssl CLI on first use) ca.crt, server.crt and server.key;
    with CLIENT_CERTS, ask for client certificates signed by ca.crt (optional)."""
    def path(name):
        return os.path.join(tls_dir, name)

    if not all(os.path.exists(path(n)) for n in ("ca.crt", "server.crt", "server.key")):
        os.makedirs(tls_dir, exist_ok=True)
        with open(path("openssl.cnf"), "w", encoding="utf-8") as f:
            f.write(OPENSSL_CONFIG)
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for command in (
                ["req", "-x509", "-config", path("openssl.cnf"), "-extensions", "ca", *newkey,
                 "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "3650"],
                ["req", "-new", "-config", path("openssl.cnf"), "-subj", "/CN=127.0.0.1", *newkey,
                 "-keyout", path("server.key"), "-out", path("server.csr")],
                ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                 "-set_serial", str(random.getrandbits(63)), "-days", "3650",
                 "-extfile", path("openssl.cnf"), "-extensions", "server", "-out", path("server.crt")]):
            subprocess.run(["openssl", *command], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(path("server.crt"), path("server.key"))
    if client_certs:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(path("ca.crt"))
    return context


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake kube-apiserver for kubezone's tests.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    p.add_argument("--port-file", help="write the chosen port here once listening")
    p.add_argument("--tls-dir", help="serve https with certificates from (or generated into) this directory")
    p.add_argument("--token", action="append", default=[], help="accept this bearer token (repeatable)")
    p.add_argument("--token-file", help="accept the token in this file (re-read on every request)")
    p.add_argument("--client-cn", action="append", default=[],
                   help="with --tls-dir: accept a client certificate signed by ca.crt with this CN")
    p.add_argument("--snapshot", help="preload the objects of this kubectl List JSON file")
    p.add_argument("--window", type=int, default=1000, help="events kept for watch replay")
    p.add_argument("--rv-start", type=int, default=0, help="initial resourceVersion counter")
    p.add_argument("--bookmark-interval", type=float, default=60.0, help="seconds between bookmarks")
    p.add_argument("--min-request-timeout", type=float, default=1800.0,
                   help="watches without timeoutSeconds last [S, 2S) seconds")
    p.add_argument("--crd", action="append", default=[], choices=sorted(CRDS),
                   help="install this CRD's resource at start (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    items = []
    if args.snapshot:
        with open(args.snapshot, encoding="utf-8") as f:
            items = json.load(f).get("items") or []
    store = Store(window=args.window, rv_start=args.rv_start, seed_items=items)
    server = FakeApiServer(args.port, store,
                           tls_context(args.tls_dir, bool(args.client_cn)) if args.tls_dir else None,
                           args.token, args.token_file, args.bookmark_interval,
                           args.min_request_timeout, args.verbose, args.crd)
    server.client_cns = set(args.client_cn)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"fakeapi listening on {'https' if args.tls_dir else 'http'}://127.0.0.1:{port}", flush=True)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: threading.Thread(target=server.stop, daemon=True).start())
    server.serve()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
