"""The Knot and BIND configurations the secondary tests run.

docs/operations.md shows the same (tests/system/docs/test_docs.py compares
them), so what the documentation tells operators is what is tested.
"""

KEY_NAME = "xfr"
KEY_SECRET = "a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

KNOT_CONF = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
log:
  - target: "{dir}/knot.log"
    any: info
database:
    storage: "{dir}/db"
control:
    listen: "{dir}/knot.sock"
remote:
  - id: kubezone
    address: 127.0.0.1@{primary}
acl:
  - id: notify-from-kubezone
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{dir}/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: cluster.local
    master: kubezone
    acl: notify-from-kubezone
"""

BIND_CONF = """\
options {{
    directory "{dir}";
    pid-file "{dir}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    transfer-source 127.0.0.3;
}};
controls {{ }};
key "{key}" {{
    algorithm hmac-sha256;
    secret "{secret}";
}};
logging {{
    channel log {{ file "{dir}/named.log"; severity info; print-time yes;
                   print-category yes; }};
    category default {{ log; }};
    category xfer-in {{ log; }};
    category notify {{ log; }};
}};
zone "cluster.local" {{
    type secondary;
    primaries port {primary} {{ 127.0.0.1 key "{key}"; }};
    file "cluster.local.db";
}};
"""
