/*
 * zonegen/decode.c -- Kubernetes JSON into the cluster model, streaming.
 *
 * Two layers. At the bottom a byte scanner frames JSON values: it tracks
 * strings, escapes and nesting, and finds where a value ends without
 * building anything. Above it a small state machine follows the
 * top-level structure only: documents one after another, the keys of a
 * top-level object, and the elements of its "items" array. Every framed
 * value (a key, a small top-level value, one list item) is handed to
 * json_loadb() on its own and turned into model objects at once, so the
 * decoder holds the current item and the chunk being read, never the
 * document.
 *
 * Offsets follow jansson: an error's offset is the number of input bytes
 * up to and including the byte where the problem was found (the input
 * length for a truncated input).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "zonegen/decode.h"
#include "zonegen/selector.h"

#define DECODE_CHUNK	(1024u * 1024)		/* read size */
#define DECODE_PROGRESS	(4u * 1024 * 1024)	/* progress interval */
#define FRAME_MAX_DEPTH	2048		/* jansson's own limit */
#define SNIFF_MAX	64		/* bytes looked at in non-JSON input */
#define BOM_DONE	4		/* dec.bom: the start has been checked */

/* decode_object(): a Service that needs a clusterIP and has none. */
#define DEC_NO_CLUSTER_IP 2
#define DEC_UNSELECTED 3	/* left out by the model's label selector */

/* ------------------------------------------------------------------ */
/* One object into the model                                           */
/* ------------------------------------------------------------------ */

static int obj_invalid(struct zg_decode_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Say why an object is unusable; always KZ_EPARSE. */
static int
obj_invalid(struct zg_decode_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return KZ_EPARSE;
}

/* The string at OBJ[KEY], NULL when absent, empty or not a string. */
static const char *
get_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : NULL;
}

/* True when OBJ[KEY] is present and not null. */
static bool
has_value(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v != NULL && !json_is_null(v);
}

/* PORTS[I].port: 1..65535; a slice port may also be absent or null (0). */
static int
port_number(json_t *v, bool slice, const char *what, size_t i,
    uint16_t *out, struct zg_decode_error *err)
{
	json_int_t n;

	if (v == NULL || json_is_null(v)) {
		if (slice) {
			*out = 0;
			return KZ_OK;
		}
		return obj_invalid(err, "%s[%zu].port is missing", what, i);
	}
	if (!json_is_integer(v))
		return obj_invalid(err, "%s[%zu].port is not a number", what,
		    i);
	n = json_integer_value(v);
	if (n < 1 || n > 65535)
		return obj_invalid(err, "%s[%zu].port %" JSON_INTEGER_FORMAT
		    " is out of range", what, i, n);
	*out = (uint16_t)n;
	return KZ_OK;
}

/* PORTS[I].protocol: TCP (also when absent or null), UDP or SCTP. */
static int
port_proto(json_t *v, const char *what, size_t i, uint8_t *out,
    struct zg_decode_error *err)
{
	static const char *const names[] = { "TCP", "UDP", "SCTP" };
	const char *s = json_string_value(v);

	if (v == NULL || json_is_null(v)) {
		*out = ZG_TCP;
		return KZ_OK;
	}
	for (uint8_t k = 0; s && k < 3; k++) {
		if (strcmp(s, names[k]) == 0) {
			*out = k;	/* names[] follows enum zg_proto */
			return KZ_OK;
		}
	}
	if (s == NULL)
		return obj_invalid(err, "%s[%zu].protocol is not a string",
		    what, i);
	return obj_invalid(err, "%s[%zu].protocol '%.64s' is not TCP, UDP "
	    "or SCTP", what, i, s);
}

/*
 * Decode the ports array ARR into *PORTSP / *NP. The array is attached
 * before it is filled, so on failure the caller's object free releases
 * whatever was copied.
 */
static int
decode_ports(json_t *arr, bool slice, struct zg_port **portsp,
    uint16_t *np, struct zg_decode_error *err)
{
	const char *what = slice ? "ports" : "spec.ports";
	size_t n = json_array_size(arr);
	struct zg_port *ports;
	const char *name;
	json_t *p;
	int rc;

	if (n == 0)
		return KZ_OK;
	if (n > UINT16_MAX)
		return obj_invalid(err, "%s has %zu entries", what, n);
	ports = calloc(n, sizeof(*ports));
	if (ports == NULL)
		return KZ_ENOMEM;
	*portsp = ports;
	*np = (uint16_t)n;
	for (size_t i = 0; i < n; i++) {
		p = json_array_get(arr, i);
		if (!json_is_object(p))
			return obj_invalid(err, "%s[%zu] is not an object",
			    what, i);
		rc = port_number(json_object_get(p, "port"), slice, what, i,
		    &ports[i].port, err);
		if (rc == KZ_OK)
			rc = port_proto(json_object_get(p, "protocol"), what, i,
			    &ports[i].proto, err);
		if (rc)
			return rc;
		name = get_str(p, "name");
		if (name && (ports[i].name = strdup(name)) == NULL)
			return KZ_ENOMEM;
	}
	return KZ_OK;
}

static int
svc_type(json_t *spec, uint8_t *type, struct zg_decode_error *err)
{
	static const char *const names[] = { "ClusterIP", "NodePort",
		"LoadBalancer", "ExternalName" };
	const char *t = get_str(spec, "type");

	*type = ZG_SVC_CLUSTERIP;
	if (t == NULL)
		return KZ_OK;
	for (uint8_t k = 0; k < 4; k++) {
		if (strcmp(t, names[k]) == 0) {
			*type = k;	/* names[] follows enum zg_svc_type */
			return KZ_OK;
		}
	}
	return obj_invalid(err, "spec.type '%.64s' is unknown", t);
}

/* Add textual address S to the service when it parses; at most two. */
static void
svc_add_ip(struct zg_service *s, const char *ip)
{
	if (ip && s->nips < 2 && zg_ip_parse(&s->ips[s->nips], ip) == 0)
		s->nips++;
}

/*
 * Addresses and headlessness: spec.clusterIPs, or [spec.clusterIP] when
 * that is absent or empty. Entries that do not parse are skipped, but a
 * clusterIP that is set, not "None" and not an address is an error.
 */
static int
svc_ips(json_t *spec, struct zg_service *s, struct zg_decode_error *err)
{
	json_t *ips = json_object_get(spec, "clusterIPs");
	const char *cip = get_str(spec, "clusterIP");
	const char *first = cip;
	struct zg_ip ip;
	size_t i;
	json_t *v;

	if (cip && strcmp(cip, "None") != 0 && zg_ip_parse(&ip, cip) != 0)
		return obj_invalid(err, "clusterIP '%.64s' is not an address",
		    cip);
	if (json_array_size(ips) > 0) {
		first = json_string_value(json_array_get(ips, 0));
		json_array_foreach(ips, i, v)
			svc_add_ip(s, json_string_value(v));
	} else {
		svc_add_ip(s, cip);
	}
	s->headless = (cip && strcmp(cip, "None") == 0) ||
	    (first && strcmp(first, "None") == 0);
	return KZ_OK;
}

static int
decode_service(struct zg_model *m, json_t *obj, const char *ns,
    const char *name, struct zg_decode_error *err)
{
	json_t *spec = json_object_get(obj, "spec");
	struct zg_service *s;
	const char *ext;
	int rc;

	s = zg_service_new(m, ns, name);
	if (s == NULL)
		return KZ_ENOMEM;
	rc = svc_type(spec, &s->type, err);
	if (rc)
		goto fail;
	rc = svc_ips(spec, s, err);
	if (rc)
		goto fail;
	rc = decode_ports(json_object_get(spec, "ports"), false, &s->ports,
	    &s->nports, err);
	if (rc)
		goto fail;
	/* Last: a Service wrong in other ways too counts as invalid. */
	if (s->type != ZG_SVC_EXTERNALNAME && !s->headless && s->nips == 0) {
		obj_invalid(err, "no clusterIP (and not headless)");
		rc = DEC_NO_CLUSTER_IP;
		goto fail;
	}
	ext = json_string_value(json_object_get(spec, "externalName"));
	if (s->type == ZG_SVC_EXTERNALNAME && ext &&
	    (s->external_name = strdup(ext)) == NULL) {
		rc = KZ_ENOMEM;
		goto fail;
	}
	return zg_model_put_service(m, s);
fail:
	zg_service_free(s);
	return rc;
}

/* Parse one endpoint address; true when it is an address of FAMILY. */
static bool
ep_addr(json_t *v, uint8_t family, struct zg_ip *ip)
{
	const char *s = json_string_value(v);

	return s && zg_ip_parse(ip, s) == 0 && ip->family == family;
}

/* conditions.ready: true, absent and null mean ready. */
static bool
ep_ready(json_t *ep)
{
	json_t *r = json_object_get(json_object_get(ep, "conditions"),
	    "ready");

	return r == NULL || json_is_null(r) || json_is_true(r);
}

/* targetRef.name when targetRef.kind is "Pod", else NULL. */
static const char *
ep_target(json_t *ep)
{
	json_t *ref = json_object_get(ep, "targetRef");
	const char *kind = get_str(ref, "kind");

	if (kind == NULL || strcmp(kind, "Pod") != 0)
		return NULL;
	return get_str(ref, "name");
}

static size_t
str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copy S (may be NULL) to *POS in a blob sized for it; return the copy. */
static const char *
blob_put(char **pos, const char *s)
{
	char *out = *pos;
	size_t n = str_size(s);

	if (n == 0)
		return NULL;
	memcpy(out, s, n);
	*pos += n;
	return out;
}

/*
 * Count the usable addresses of the slice's endpoints and the bytes of
 * the hostnames and targets they need; addresses that are not of the
 * slice's family are counted in *BAD.
 */
static void
slice_sizes(json_t *eps, uint8_t family, size_t *naddrs, size_t *nbytes,
    size_t *bad)
{
	struct zg_ip ip;
	size_t i, j, good;
	json_t *ep, *addrs, *a;

	*naddrs = *nbytes = 0;
	json_array_foreach(eps, i, ep) {
		addrs = json_object_get(ep, "addresses");
		good = 0;
		json_array_foreach(addrs, j, a) {
			if (ep_addr(a, family, &ip))
				good++;
			else
				(*bad)++;
		}
		if (good == 0)
			continue;
		*naddrs += good;
		*nbytes += str_size(get_str(ep, "hostname")) +
		    str_size(ep_target(ep));
	}
}

/* Fill s->addrs and s->strings, allocated once at their exact sizes. */
static int
slice_endpoints(struct zg_slice *s, json_t *eps, size_t *bad)
{
	uint8_t family = s->addr_type == ZG_ADDR_IPV4 ? ZG_IPV4 : ZG_IPV6;
	size_t naddrs, nbytes, i, j, n = 0;
	const char *host, *target;
	json_t *ep, *addrs, *a;
	struct zg_ip ip;
	char *pos;
	bool copied;

	slice_sizes(eps, family, &naddrs, &nbytes, bad);
	if (naddrs == 0)
		return KZ_OK;
	if (naddrs > UINT32_MAX)
		return KZ_ETOOBIG;
	s->addrs = calloc(naddrs, sizeof(*s->addrs));
	if (s->addrs == NULL)
		return KZ_ENOMEM;
	if (nbytes && (s->strings = malloc(nbytes)) == NULL)
		return KZ_ENOMEM;
	pos = s->strings;
	json_array_foreach(eps, i, ep) {
		addrs = json_object_get(ep, "addresses");
		host = target = NULL;
		copied = false;
		json_array_foreach(addrs, j, a) {
			if (!ep_addr(a, family, &ip))
				continue;
			if (!copied) {
				host = blob_put(&pos, get_str(ep, "hostname"));
				target = blob_put(&pos, ep_target(ep));
				copied = true;
			}
			s->addrs[n].ip = ip;
			s->addrs[n].ready = ep_ready(ep);
			s->addrs[n].hostname = host;
			s->addrs[n].target = target;
			n++;
		}
	}
	s->naddrs = (uint32_t)n;
	return KZ_OK;
}

static int
slice_addr_type(json_t *obj, uint8_t *type, struct zg_decode_error *err)
{
	static const char *const names[] = { "IPv4", "IPv6", "FQDN" };
	const char *t = get_str(obj, "addressType");

	if (t == NULL)
		return obj_invalid(err, "no addressType");
	for (uint8_t k = 0; k < 3; k++) {
		if (strcmp(t, names[k]) == 0) {
			*type = k;	/* names[] follows zg_addr_type */
			return KZ_OK;
		}
	}
	return obj_invalid(err, "addressType '%.64s' is not IPv4, IPv6 or "
	    "FQDN", t);
}

/*
 * When the change this slice carries was triggered (the annotation the
 * endpoints controller sets): only read for the programming latency
 * metric, so a missing or unreadable value is no error (0).
 */
static void
slice_trigger_time(json_t *obj, struct zg_slice *s)
{
	json_t *ann = json_object_get(json_object_get(obj, "metadata"),
	    "annotations");
	const char *t = get_str(ann,
	    "endpoints.kubernetes.io/last-change-trigger-time");

	if (t == NULL || kz_rfc3339_parse(t, &s->trigger_time) != KZ_OK)
		s->trigger_time = 0;
}

/*
 * The MCS API's labels of a multicluster slice: both
 * multicluster.kubernetes.io/service-name and .../source-cluster, or the
 * slice is not one (one alone is ignored).
 */
static int
slice_multicluster(json_t *labels, struct zg_slice *s)
{
	const char *svc = get_str(labels, ZG_MC_SERVICE_LABEL);
	const char *cluster = get_str(labels, ZG_MC_CLUSTER_LABEL);

	if (svc == NULL || cluster == NULL)
		return KZ_OK;
	s->mc_service = strdup(svc);
	s->mc_cluster = strdup(cluster);
	return s->mc_service && s->mc_cluster ? KZ_OK : KZ_ENOMEM;
}

static int
decode_slice(struct zg_model *m, json_t *obj, const char *ns,
    const char *name, struct zg_decode_error *err, size_t *bad)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"),
	    "labels");
	const char *svc = get_str(labels, "kubernetes.io/service-name");
	struct zg_slice *s;
	int rc;

	s = zg_slice_new(m, ns, name);
	if (s == NULL)
		return KZ_ENOMEM;
	rc = slice_addr_type(obj, &s->addr_type, err);
	if (rc)
		goto fail;
	slice_trigger_time(obj, s);
	if (svc && (s->service = strdup(svc)) == NULL) {
		rc = KZ_ENOMEM;
		goto fail;
	}
	rc = slice_multicluster(labels, s);
	if (rc)
		goto fail;
	rc = decode_ports(json_object_get(obj, "ports"), true, &s->ports,
	    &s->nports, err);
	if (rc)
		goto fail;
	if (s->addr_type != ZG_ADDR_FQDN) {
		rc = slice_endpoints(s, json_object_get(obj, "endpoints"), bad);
		if (rc == KZ_ETOOBIG)
			rc = obj_invalid(err, "too many endpoint addresses");
		if (rc)
			goto fail;
	}
	return zg_model_put_slice(m, s);
fail:
	zg_slice_free(s);
	return rc;
}

/* Keep the first parsable address of each family; at most two. */
static void
pod_add_ip(struct zg_pod *p, const char *s)
{
	struct zg_ip ip;

	if (s == NULL || p->nips == 2 || zg_ip_parse(&ip, s) != 0)
		return;
	for (uint8_t k = 0; k < p->nips; k++)
		if (p->ips[k].family == ip.family)
			return;
	p->ips[p->nips++] = ip;
}

/* Not finished (Succeeded, Failed), not Unknown, not being deleted. */
static bool
pod_active(json_t *obj, json_t *status)
{
	const char *phase = get_str(status, "phase");

	if (has_value(json_object_get(obj, "metadata"), "deletionTimestamp"))
		return false;
	return phase == NULL || (strcmp(phase, "Succeeded") != 0 &&
	    strcmp(phase, "Failed") != 0 && strcmp(phase, "Unknown") != 0);
}

static int
decode_pod(struct zg_model *m, json_t *obj, const char *ns,
    const char *name)
{
	json_t *status = json_object_get(obj, "status");
	json_t *ips = json_object_get(status, "podIPs");
	struct zg_pod p = { 0 };
	size_t i;
	json_t *v;

	p.active = pod_active(obj, status);
	if (json_array_size(ips) > 0) {
		json_array_foreach(ips, i, v)
			pod_add_ip(&p, get_str(v, "ip"));
	} else {
		pod_add_ip(&p, get_str(status, "podIP"));
	}
	return zg_model_set_pod(m, ns, name, &p);
}

/* spec.type of a ServiceImport: ClusterSetIP or Headless. */
static int
import_type(json_t *spec, uint8_t *type, struct zg_decode_error *err)
{
	const char *t = get_str(spec, "type");

	if (t == NULL)
		return obj_invalid(err, "spec.type is missing");
	if (strcmp(t, "ClusterSetIP") == 0)
		*type = ZG_IMPORT_CLUSTERSETIP;
	else if (strcmp(t, "Headless") == 0)
		*type = ZG_IMPORT_HEADLESS;
	else
		return obj_invalid(err, "spec.type '%.64s' is not ClusterSetIP "
		    "or Headless", t);
	return KZ_OK;
}

/*
 * A ServiceImport: its type, spec.ips (a ClusterSetIP import needs one
 * that parses; a Headless one's are ignored) and spec.ports.
 */
static int
decode_import(struct zg_model *m, json_t *obj, const char *ns,
    const char *name, struct zg_decode_error *err)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *ips = json_object_get(spec, "ips");
	struct zg_import *s;
	size_t i;
	json_t *v;
	int rc;

	s = zg_import_new(m, ns, name);
	if (s == NULL)
		return KZ_ENOMEM;
	rc = import_type(spec, &s->type, err);
	if (rc)
		goto fail;
	json_array_foreach(ips, i, v) {
		const char *text = json_string_value(v);
		struct zg_ip ip;

		if (text == NULL || zg_ip_parse(&ip, text) != 0) {
			rc = obj_invalid(err, "spec.ips[%zu] is not an address",
			    i);
			goto fail;
		}
		if (s->nips < 2)
			s->ips[s->nips++] = ip;
	}
	if (s->type == ZG_IMPORT_HEADLESS)
		s->nips = 0;
	else if (s->nips == 0) {
		rc = obj_invalid(err, "ClusterSetIP import without spec.ips");
		goto fail;
	}
	rc = decode_ports(json_object_get(spec, "ports"), false, &s->ports,
	    &s->nports, err);
	if (rc)
		goto fail;
	return zg_model_put_import(m, s);
fail:
	zg_import_free(s);
	return rc;
}

/*
 * Kept in step with what the decode_* functions above read: a path
 * listed here must never be read by them (tests/unit/test_decode.c
 * decodes each kind with and without these members).
 */
const char *const *
zg_decode_unread(enum zg_kind kind)
{
	static const char *const pod[] = { "metadata.managedFields", "spec",
		"status.conditions", "status.containerStatuses",
		"status.initContainerStatuses",
		"status.ephemeralContainerStatuses", NULL };
	static const char *const ns[] = { "metadata.managedFields", "spec",
		"status", NULL };
	static const char *const other[] = { "metadata.managedFields", NULL };

	switch (kind) {
	case ZG_KIND_POD:
		return pod;
	case ZG_KIND_NAMESPACE:
		return ns;
	default:
		return other;
	}
}

int
zg_decode_meta(json_t *obj, const char **ns, const char **name)
{
	json_t *meta = json_object_get(obj, "metadata");

	*ns = get_str(meta, "namespace");
	*name = get_str(meta, "name");
	return *name ? KZ_OK : KZ_EPARSE;
}

/* --- label selectors ---------------------------------------------------- */

/* A label of an object's metadata.labels (a JSON object), or NULL. */
static const char *
label_lookup(void *ctx, const char *key)
{
	return json_string_value(json_object_get(ctx, key));
}

/*
 * Whether the model's selector for KIND selects OBJ. One that is not
 * selected is absent: its copy in M, if any, is deleted, so an object
 * whose labels stop matching leaves the model as a delete would.
 */
static bool
selected(struct zg_model *m, int kind, json_t *obj, const char *ns,
    const char *name)
{
	const struct zg_sel *sel = kind == ZG_KIND_NAMESPACE ?
	    m->sel_namespaces : m->sel_objects;
	json_t *labels;

	if (sel == NULL)
		return true;
	labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	if (zg_sel_match(sel, label_lookup, json_is_object(labels) ? labels :
	    NULL))
		return true;
	zg_model_del(m, (enum zg_kind)kind, ns, name);
	return false;
}

/*
 * zg_decode_object() with what the stream decoder also wants: the kind
 * found (*KINDP, -1 when not ours), the count of endpoint addresses
 * skipped (added to *BAD), and DEC_NO_CLUSTER_IP for a Service that is
 * unusable for want of a clusterIP (ERR filled).
 */
static int
decode_object(struct zg_model *m, json_t *obj, const char *kind,
    struct zg_decode_error *err, int *kindp, size_t *bad)
{
	const char *ns, *name;
	int k;

	*kindp = -1;
	if (!json_is_object(obj))
		return 1;
	if (kind == NULL)
		kind = json_string_value(json_object_get(obj, "kind"));
	k = kind ? zg_kind_from_name(kind) : -1;
	if (k < 0)
		return 1;
	*kindp = k;
	if (zg_decode_meta(obj, &ns, &name))
		return obj_invalid(err, "no metadata.name");
	if (ns == NULL)
		ns = "default";
	if (!selected(m, k, obj, ns, name))
		return DEC_UNSELECTED;
	switch (k) {
	case ZG_KIND_SERVICE:
		return decode_service(m, obj, ns, name, err);
	case ZG_KIND_SLICE:
		return decode_slice(m, obj, ns, name, err, bad);
	case ZG_KIND_POD:
		return decode_pod(m, obj, ns, name);
	case ZG_KIND_IMPORT:
		return decode_import(m, obj, ns, name, err);
	default:
		return zg_model_put_namespace(m, name);
	}
}

int
zg_decode_object(struct zg_model *m, json_t *obj, const char *kind,
    struct zg_decode_error *err)
{
	size_t bad = 0;
	int k, rc;

	rc = decode_object(m, obj, kind, err, &k, &bad);
	if (rc == DEC_UNSELECTED)
		return KZ_OK;
	return rc == DEC_NO_CLUSTER_IP ? KZ_EPARSE : rc;
}

/* ------------------------------------------------------------------ */
/* The value scanner                                                   */
/* ------------------------------------------------------------------ */

/*
 * Framing state of one JSON value. Containers are followed by depth and
 * a bit per level ('{' or '['), so a mismatched bracket is caught where
 * it stands; a scalar ends at the first delimiter. Validation of
 * everything else is left to jansson.
 */
struct frame {
	uint32_t depth;
	bool in_str;		/* inside a string */
	bool esc;		/* a backslash ended the previous chunk */
	bool scalar;		/* a number or literal */
	uint64_t is_obj[FRAME_MAX_DEPTH / 64];
};

enum { FRAME_MORE = 0, FRAME_DONE, FRAME_BAD };

/* Bytes that matter outside strings: 1 quote, 2 open, 3 close. */
static const unsigned char frame_class[256] = {
	['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3
};

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void
frame_start(struct frame *f, unsigned char first)
{
	f->depth = 0;
	f->in_str = false;
	f->esc = false;
	f->scalar = first != '"' && first != '{' && first != '[';
}

/*
 * Scan string contents from S; return where the string ends (past its
 * quote, in_str cleared) or E when it goes on. Most strings are short,
 * so a plain loop looks at the first few bytes; past that memchr finds
 * the next quote and backslash. The quote found is kept until passed,
 * so each byte is looked at a bounded number of times even in long
 * strings full of escapes.
 */
static const unsigned char *
frame_string(struct frame *f, const unsigned char *s, const unsigned char *e)
{
	const unsigned char *q = NULL, *b, *lim;

	if (f->esc) {
		if (s == e)
			return e;
		s++;
		f->esc = false;
	}
	for (;;) {
		lim = e - s > 16 ? s + 16 : e;
		for (b = s; b < lim && *b != '"' && *b != '\\'; b++)
			;
		if (b == lim && b < e) {
			if (q == NULL || q < b) {
				q = memchr(b, '"', (size_t)(e - b));
				if (q == NULL)
					q = e;
			}
			b = memchr(b, '\\', (size_t)(q - b));
			if (b == NULL)
				b = q;
		}
		if (b == e)
			return e;
		if (*b == '"') {
			f->in_str = false;
			return b + 1;
		}
		if (b + 1 == e) {
			f->esc = true;
			return e;
		}
		s = b + 2;
	}
}

static int
frame_scalar(const unsigned char *s, const unsigned char *e,
    const unsigned char **stop)
{
	while (s < e && !is_ws(*s) && *s != ',' && *s != ']' && *s != '}')
		s++;
	*stop = s;
	return s < e ? FRAME_DONE : FRAME_MORE;
}

/* Push or pop one bracket C; false on a mismatch or too deep. */
static bool
frame_bracket(struct frame *f, unsigned char c)
{
	uint64_t bit;

	if (c == '{' || c == '[') {
		if (f->depth >= FRAME_MAX_DEPTH)
			return false;
		bit = (uint64_t)1 << (f->depth % 64);
		if (c == '{')
			f->is_obj[f->depth / 64] |= bit;
		else
			f->is_obj[f->depth / 64] &= ~bit;
		f->depth++;
		return true;
	}
	if (f->depth == 0)
		return false;
	f->depth--;
	bit = (uint64_t)1 << (f->depth % 64);
	return ((f->is_obj[f->depth / 64] & bit) != 0) == (c == '}');
}

/*
 * Advance over [P, END). Returns FRAME_MORE (all consumed), FRAME_DONE
 * (*STOP just past the value; for a scalar, at its delimiter) or
 * FRAME_BAD (*STOP just past the offending bracket).
 */
static int
frame_scan(struct frame *f, const char *p, const char *end,
    const char **stop)
{
	const unsigned char *s = (const unsigned char *)p;
	const unsigned char *e = (const unsigned char *)end;
	int r;

	if (f->scalar) {
		r = frame_scalar(s, e, &s);
		*stop = (const char *)s;
		return r;
	}
	for (;;) {
		if (f->in_str) {
			s = frame_string(f, s, e);
			if (f->in_str)
				break;
			if (f->depth == 0)
				goto done;
		}
		while (s < e && frame_class[*s] == 0)
			s++;
		if (s == e)
			break;
		if (frame_class[*s] == 1) {
			f->in_str = true;
			s++;
			continue;
		}
		if (!frame_bracket(f, *s++)) {
			*stop = (const char *)s;
			return FRAME_BAD;
		}
		if (f->depth == 0)
			goto done;
	}
	*stop = end;
	return FRAME_MORE;
done:
	*stop = (const char *)s;
	return FRAME_DONE;
}

/* ------------------------------------------------------------------ */
/* The document state machine                                          */
/* ------------------------------------------------------------------ */

enum dec_state {
	ST_TOP,		/* between documents */
	ST_OBJ_OPEN,	/* after '{': a key or '}' */
	ST_OBJ_KEY,	/* after ',': a key */
	ST_COLON,	/* after a key */
	ST_OBJ_VALUE,	/* after ':' */
	ST_OBJ_NEXT,	/* after a value: ',' or '}' */
	ST_ARR_OPEN,	/* after '[': an item or ']' */
	ST_ARR_ITEM,	/* after ',': an item */
	ST_ARR_NEXT	/* after an item: ',' or ']' */
};

enum dec_framing { FR_NONE = 0, FR_KEY, FR_VALUE, FR_ITEM };

struct dec {
	struct zg_model *m;
	const struct zg_decode_sink *sink;	/* NULL: into M */
	const char *source;
	struct zg_decode_stats *stats;
	struct zg_decode_error *err;
	size_t max_item;
	/* where we are in the input */
	const char *chunk;	/* the chunk being fed */
	size_t base;		/* offset of CHUNK in the input */
	enum dec_state state;
	bool top_array;		/* the document is an array of objects */
	/* the value being framed */
	enum dec_framing framing;
	struct frame fr;
	const char *span;	/* its bytes of this chunk not yet in CAP */
	size_t vstart;		/* offset of its first byte */
	struct kz_buf cap;	/* its bytes from earlier chunks */
	/* the top-level object being read */
	size_t doc_start;
	size_t doc_bytes;	/* its bytes outside a streamed "items" */
	json_t *doc;		/* its members except a streamed "items" */
	json_t *key;		/* the key whose value comes next */
	bool has_items;		/* an "items" array was streamed */
	bool kind_seen;		/* its "kind" was read */
	char *item_kind;	/* the kind its items have when they lack one */
	struct kz_buf pending;	/* kind-less items read before "kind" */
	/* the start of the input */
	uint8_t bom;		/* UTF-8 BOM bytes matched; BOM_DONE after */
	size_t docs;		/* documents begun */
	bool junk;		/* no JSON where the first one should be */
	size_t junk_off;	/* where it starts */
	size_t nsniff;
	char sniff[SNIFF_MAX];	/* its first bytes, to say what it is */
};

/* A pending item: this header, then LEN bytes. */
struct pending_hdr {
	size_t off;
	size_t len;
};

static int dec_fail(struct dec *d, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill the error: SOURCE, OFF and text. Always KZ_EPARSE. */
static int
dec_fail(struct dec *d, size_t off, const char *fmt, ...)
{
	va_list ap;

	snprintf(d->err->source, sizeof(d->err->source), "%s", d->source);
	d->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(d->err->text, sizeof(d->err->text), fmt, ap);
	va_end(ap);
	return KZ_EPARSE;
}

static size_t
dec_off(const struct dec *d, const char *p)
{
	return d->base + (size_t)(p - d->chunk);
}

static void
dec_init(struct dec *d, struct zg_model *m, const char *source,
    const struct zg_decode_opts *opts, struct zg_decode_stats *stats,
    struct zg_decode_error *err)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->sink = opts ? opts->sink : NULL;
	d->source = source ? source : "-";
	d->stats = stats;
	d->err = err;
	d->max_item = opts && opts->max_item ? opts->max_item :
	    ZG_DECODE_MAX_ITEM;
	kz_buf_init(&d->cap, d->max_item);
	kz_buf_init(&d->pending, SIZE_MAX / 2);
}

/* Forget the current top-level document. */
static void
doc_reset(struct dec *d)
{
	json_decref(d->doc);
	json_decref(d->key);
	free(d->item_kind);
	d->doc = d->key = NULL;
	d->item_kind = NULL;
	d->has_items = d->kind_seen = d->top_array = false;
	d->doc_bytes = 0;
	kz_buf_reset(&d->pending);
}

static void
dec_free(struct dec *d)
{
	doc_reset(d);
	kz_buf_free(&d->cap);
	kz_buf_free(&d->pending);
}

/* Parse one framed value that starts at input offset OFF. */
static int
dec_parse(struct dec *d, const char *p, size_t len, size_t off,
    json_t **out)
{
	json_error_t je;

	/*
	 * jansson leaves the error empty (and its code unset) when some
	 * of its allocations fail: an empty text is out of memory too.
	 */
	memset(&je, 0, sizeof(je));
	*out = json_loadb(p, len, JSON_DECODE_ANY, &je);
	if (*out)
		return KZ_OK;
	if (je.text[0] == '\0' ||
	    json_error_code(&je) == json_error_out_of_memory)
		return KZ_ENOMEM;
	return dec_fail(d, off + (size_t)(je.position > 0 ? je.position : 0),
	    "%s", je.text);
}

/* "ns/name" of OBJ ("name" when CLUSTER_SCOPED), "?" for what is
 * missing, quoted for the log into OUT. */
static const char *
obj_label(json_t *obj, bool cluster_scoped, char *out, size_t outsz)
{
	char object[300];
	const char *ns, *name;

	zg_decode_meta(obj, &ns, &name);
	if (cluster_scoped)
		snprintf(object, sizeof(object), "%s", name ? name : "?");
	else
		snprintf(object, sizeof(object), "%s/%s",
		    ns ? ns : "default", name ? name : "?");
	return kz_log_quote(out, outsz, object);
}

/* Log an object of our kinds that cannot be used; it starts at OFF. */
static void
dec_warn(struct dec *d, json_t *obj, int kind, const char *why,
    size_t off)
{
	char qobj[320], qwhy[320], qsrc[320];

	kz_warn("object skipped", "kind=%s object=%s reason=%s source=%s "
	    "byte=%zu", zg_kind_name((enum zg_kind)kind),
	    obj_label(obj, kind == ZG_KIND_NAMESPACE, qobj, sizeof(qobj)),
	    kz_log_quote(qwhy, sizeof(qwhy), why),
	    kz_log_quote(qsrc, sizeof(qsrc), d->source), off + 1);
}

/* Name an object of KIND (may be NULL) that gives no records (debug). */
static void
dec_ignored(struct dec *d, json_t *obj, const char *kind, const char *why,
    size_t off)
{
	char qkind[80], qobj[320], qwhy[200], qsrc[320];

	if (!kz_log_enabled(KZ_LOG_DEBUG))
		return;
	kz_debug("object ignored", "kind=%s object=%s reason=%s source=%s "
	    "byte=%zu", kz_log_quote(qkind, sizeof(qkind), kind ? kind : "?"),
	    obj ? obj_label(obj, false, qobj, sizeof(qobj)) : "?",
	    kz_log_quote(qwhy, sizeof(qwhy), why),
	    kz_log_quote(qsrc, sizeof(qsrc), d->source), off + 1);
}

/* An object of a kind we do not use: count it, by kind. */
static void
kind_ignored(struct dec *d, json_t *obj, const char *kind, size_t off)
{
	bool ep = kind && strcmp(kind, "Endpoints") == 0;

	d->stats->skipped_kind++;
	if (ep)
		d->stats->endpoints++;
	dec_ignored(d, obj, kind, ep ? "v1 Endpoints (kubezone reads "
	    "EndpointSlices)" : "kind not used", off);
}

/* A slice stored that gives no records: FQDN, or no Service label. */
static void
slice_ignored(struct dec *d, json_t *obj, size_t off)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"),
	    "labels");
	const char *type = get_str(obj, "addressType");

	if (type && strcmp(type, "FQDN") == 0) {
		d->stats->slices_fqdn++;
		dec_ignored(d, obj, "EndpointSlice", "addressType FQDN", off);
	} else if (get_str(labels, "kubernetes.io/service-name") == NULL &&
	    (get_str(labels, ZG_MC_SERVICE_LABEL) == NULL ||
	    get_str(labels, ZG_MC_CLUSTER_LABEL) == NULL)) {
		d->stats->slices_unlabelled++;
		dec_ignored(d, obj, "EndpointSlice", "no "
		    "kubernetes.io/service-name label", off);
	}
}

/* True when M already holds the object OBJ of KIND names. */
static bool
dec_known(struct dec *d, json_t *obj, const char *kind)
{
	int k = kind ? zg_kind_from_name(kind) : -1;
	const char *ns, *name;
	char key[512];
	int n;

	if (k < 0 || !json_is_object(obj) || zg_decode_meta(obj, &ns, &name))
		return false;
	if (k == ZG_KIND_NAMESPACE)
		n = snprintf(key, sizeof(key), "%s", name);
	else
		n = snprintf(key, sizeof(key), "%s/%s", ns ? ns : "default",
		    name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return false;	/* longer than any key the model holds */
	return kz_map_get(&d->m->objects[k], key) != NULL;
}

/*
 * OBJ of KIND was given before: warn. The later one wins, so when it
 * was not STORED (unusable), the earlier one goes too.
 */
static void
dec_duplicate(struct dec *d, json_t *obj, int kind, bool stored,
    size_t off)
{
	char qobj[320], qsrc[320];
	const char *ns, *name;

	d->stats->duplicates++;
	kz_warn("object given more than once", "kind=%s object=%s "
	    "source=%s byte=%zu note=%s", zg_kind_name((enum zg_kind)kind),
	    obj_label(obj, kind == ZG_KIND_NAMESPACE, qobj, sizeof(qobj)),
	    kz_log_quote(qsrc, sizeof(qsrc), d->source), off + 1,
	    stored ? "\"this copy replaces the earlier one\"" :
	    "\"this copy is unusable: the earlier one is dropped too\"");
	if (!stored && zg_decode_meta(obj, &ns, &name) == KZ_OK)
		zg_model_del(d->m, (enum zg_kind)kind, ns ? ns : "default",
		    name);
}

/*
 * A Status object that is not a success is what the API server (or a
 * proxy) answered instead of objects: stop with its reason, code and
 * message (KZ_EPROTO).
 */
static int
dec_status(struct dec *d, json_t *obj, const char *kind, size_t off)
{
	const char *status, *reason, *msg;
	json_t *code;

	if (kind == NULL || strcmp(kind, "Status") != 0)
		return KZ_OK;
	status = get_str(obj, "status");
	if (status && strcmp(status, "Success") == 0)
		return KZ_OK;
	reason = get_str(obj, "reason");
	msg = get_str(obj, "message");
	code = json_object_get(obj, "code");
	snprintf(d->err->source, sizeof(d->err->source), "%s", d->source);
	d->err->offset = off + 1;
	snprintf(d->err->text, sizeof(d->err->text), "an API error instead "
	    "of objects: %.40s (code %" JSON_INTEGER_FORMAT "): %.160s",
	    reason ? reason : "no reason",
	    json_is_integer(code) ? json_integer_value(code) : 0,
	    msg ? msg : "no message");
	return KZ_EPROTO;
}

/* Decode OBJ (of KIND, or its own) into the model and count it. */
static int
dec_object(struct dec *d, json_t *obj, const char *kind, size_t off)
{
	struct zg_decode_error e;
	bool known;
	int k, rc;

	if (kind == NULL)
		kind = json_string_value(json_object_get(obj, "kind"));
	rc = dec_status(d, obj, kind, off);
	if (rc)
		return rc;
	if (d->sink)
		return d->sink->object(d->sink->ctx, obj, kind);
	known = dec_known(d, obj, kind);
	e.text[0] = '\0';
	rc = decode_object(d->m, obj, kind, &e, &k, &d->stats->bad_addresses);
	if (rc == KZ_OK) {
		d->stats->decoded[k]++;
		if (k == ZG_KIND_SLICE)
			slice_ignored(d, obj, off);
	} else if (rc == DEC_UNSELECTED) {
		d->stats->unselected[k]++;
		dec_ignored(d, obj, kind, "not selected by its label "
		    "selector", off);
		return KZ_OK;	/* no copy of it is left in the model */
	} else if (rc == 1) {
		kind_ignored(d, obj, kind, off);
	} else if (rc == KZ_EPARSE || rc == DEC_NO_CLUSTER_IP) {
		if (rc == KZ_EPARSE)
			d->stats->invalid++;
		else
			d->stats->no_cluster_ip++;
		dec_warn(d, obj, k, e.text, off);
	} else {
		return rc;
	}
	if (known)
		dec_duplicate(d, obj, k, rc == KZ_OK, off);
	return KZ_OK;
}

/* Keep a kind-less item until the list's kind is known. */
static int
pending_add(struct dec *d, const char *p, size_t len, size_t off)
{
	struct pending_hdr h = { off, len };
	int rc;

	rc = kz_buf_reserve(&d->pending, sizeof(h) + len);
	if (rc)
		return rc == KZ_ETOOBIG ? KZ_ENOMEM : rc;
	kz_buf_append(&d->pending, &h, sizeof(h));
	kz_buf_append(&d->pending, p, len);
	return KZ_OK;
}

/* Decode the pending items with the list's kind, or skip them. */
static int
pending_flush(struct dec *d)
{
	const char *p = d->pending.data, *end;
	struct pending_hdr h;
	json_t *obj;
	int rc = KZ_OK;

	if (p == NULL)		/* nothing was ever kept */
		return KZ_OK;
	end = p + d->pending.len;
	while (rc == KZ_OK && p < end) {
		memcpy(&h, p, sizeof(h));
		p += sizeof(h);
		if (d->item_kind == NULL) {
			kind_ignored(d, NULL, NULL, h.off);
		} else if ((rc = dec_parse(d, p, h.len, h.off, &obj)) == 0) {
			rc = dec_object(d, obj, d->item_kind, h.off);
			json_decref(obj);
		}
		p += h.len;
	}
	kz_buf_reset(&d->pending);
	return rc;
}

/* A list item has been framed. */
static int
on_item(struct dec *d, const char *p, size_t len, size_t off)
{
	const char *kind;
	json_t *obj;
	int rc;

	rc = dec_parse(d, p, len, off, &obj);
	if (rc)
		return rc;
	d->stats->objects++;
	kind = json_string_value(json_object_get(obj, "kind"));
	if (kind || !json_is_object(obj))
		rc = dec_object(d, obj, kind, off);
	else if (d->item_kind)
		rc = dec_object(d, obj, d->item_kind, off);
	else if (d->kind_seen)
		kind_ignored(d, obj, NULL, off);
	else
		rc = pending_add(d, p, len, off);
	json_decref(obj);
	d->state = ST_ARR_NEXT;
	return rc;
}

/* "PodList" -> "Pod"; NULL for "List" and for kinds of single objects. */
static const char *
list_item_kind(const char *kind, size_t *n)
{
	size_t len = kind ? strlen(kind) : 0;

	if (len <= 4 || strcmp(kind + len - 4, "List") != 0)
		return NULL;
	*n = len - 4;
	return kind;
}

static int
doc_limit(struct dec *d, size_t len, size_t off)
{
	d->doc_bytes += len;
	if (d->doc_bytes > d->max_item)
		return dec_fail(d, off, "top-level object larger than %zu "
		    "bytes outside its items", d->max_item);
	return KZ_OK;
}

/* A key of the top-level object has been framed. */
static int
on_key(struct dec *d, const char *p, size_t len, size_t off)
{
	int rc = doc_limit(d, len, off + len);

	if (rc == KZ_OK)
		rc = dec_parse(d, p, len, off, &d->key);
	d->state = ST_COLON;
	return rc;
}

/* A value of the top-level object (other than "items") has been framed. */
static int
on_value(struct dec *d, const char *p, size_t len, size_t off)
{
	const char *key = json_string_value(d->key), *kind;
	json_t *v;
	size_t n = 0;
	int rc;

	rc = doc_limit(d, len, off + len);
	if (rc == KZ_OK)
		rc = dec_parse(d, p, len, off, &v);
	if (rc)
		return rc;
	if (strcmp(key, "kind") == 0) {
		d->kind_seen = true;
		free(d->item_kind);
		d->item_kind = NULL;
		kind = list_item_kind(json_string_value(v), &n);
		if (kind && (d->item_kind = strndup(kind, n)) == NULL) {
			json_decref(v);
			return KZ_ENOMEM;
		}
	}
	if (json_object_set_new(d->doc, key, v))
		return KZ_ENOMEM;
	json_decref(d->key);
	d->key = NULL;
	d->state = ST_OBJ_NEXT;
	return KZ_OK;
}

/* The top-level object is complete: a list or one object. */
static int
doc_end(struct dec *d)
{
	const char *kind = json_string_value(json_object_get(d->doc, "kind"));
	size_t n;
	int rc;

	if (d->has_items || list_item_kind(kind, &n)) {
		rc = pending_flush(d);
	} else {
		d->stats->objects++;
		rc = dec_object(d, d->doc, NULL, d->doc_start);
	}
	if (rc == KZ_OK && d->sink && d->sink->document)
		rc = d->sink->document(d->sink->ctx, d->doc);
	doc_reset(d);
	d->state = ST_TOP;
	return rc;
}

static int
arr_end(struct dec *d)
{
	if (d->top_array) {
		doc_reset(d);
		d->state = ST_TOP;
	} else {
		d->state = ST_OBJ_NEXT;
	}
	return KZ_OK;
}

/* Start framing the value whose first byte is at P. */
static int
frame_begin(struct dec *d, const char *p, enum dec_framing what)
{
	if (*p == ',' || *p == ']' || *p == '}')
		return dec_fail(d, dec_off(d, p) + 1, "value expected");
	d->framing = what;
	frame_start(&d->fr, (unsigned char)*p);
	d->span = p;
	d->vstart = dec_off(d, p);
	kz_buf_reset(&d->cap);
	return KZ_OK;
}

static int
too_big(struct dec *d)
{
	return dec_fail(d, d->vstart + d->max_item + 1, "%s at byte %zu is "
	    "larger than %zu bytes", d->framing == FR_ITEM ? "list item" :
	    "value", d->vstart + 1, d->max_item);
}

/* Move this chunk's bytes of the value, up to UPTO, into CAP. */
static int
cap_add(struct dec *d, const char *upto)
{
	int rc = kz_buf_append(&d->cap, d->span, (size_t)(upto - d->span));

	d->span = upto;
	if (rc == KZ_ETOOBIG)
		return too_big(d);
	return rc;
}

/* The framed value's bytes, up to STOP: in place when they allow it. */
static int
frame_bytes(struct dec *d, const char *stop, const char **p, size_t *len)
{
	int rc;

	if (d->cap.len == 0) {
		*p = d->span;
		*len = (size_t)(stop - d->span);
		return *len > d->max_item ? too_big(d) : KZ_OK;
	}
	rc = cap_add(d, stop);
	*p = d->cap.data;
	*len = d->cap.len;
	return rc;
}

/*
 * The scanner gave up on a value (a mismatched bracket, or the end of
 * the input inside it). Let jansson name the first problem in its
 * bytes; fall back to WHY at offset OFF.
 */
static int
frame_diagnose(struct dec *d, const char *p, size_t len, size_t off,
    const char *why)
{
	json_t *v;
	int rc = dec_parse(d, p, len, d->vstart, &v);

	if (rc)
		return rc;
	json_decref(v);
	return dec_fail(d, off, "%s", why);
}

/* Continue framing at *PP. */
static int
dec_frame(struct dec *d, const char **pp, const char *end)
{
	enum dec_framing what = d->framing;
	const char *stop, *p;
	size_t len;
	int r, rc;

	r = frame_scan(&d->fr, *pp, end, &stop);
	if (r == FRAME_MORE) {
		*pp = end;
		return cap_add(d, end);
	}
	rc = frame_bytes(d, stop, &p, &len);
	if (rc)
		return rc;
	if (r == FRAME_BAD)
		return frame_diagnose(d, p, len, dec_off(d, stop),
		    d->fr.depth >= FRAME_MAX_DEPTH ? "nesting too deep" :
		    "mismatched bracket");
	*pp = stop;
	d->framing = FR_NONE;
	if (what == FR_KEY)
		rc = on_key(d, p, len, d->vstart);
	else if (what == FR_VALUE)
		rc = on_value(d, p, len, d->vstart);
	else
		rc = on_item(d, p, len, d->vstart);
	kz_buf_reset(&d->cap);
	return rc;
}

/* A key at the start of S: letters, digits, "_-./", then ':' and a
 * blank (or the end of what was read). */
static bool
yaml_key(const char *s, size_t n)
{
	size_t i = 0;
	char c;

	for (; i < n; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.' || c == '/'))
			break;
	}
	return i > 0 && i < n && s[i] == ':' &&
	    (i + 1 == n || is_ws((unsigned char)s[i + 1]));
}

/* True when the N bytes at S start like a YAML document. */
static bool
looks_yaml(const char *s, size_t n)
{
	if (n >= 3 && memcmp(s, "---", 3) == 0)
		return true;
	if (n >= 5 && memcmp(s, "%YAML", 5) == 0)
		return true;
	if (n >= 1 && s[0] == '#')
		return true;
	if (n >= 2 && s[0] == '-' && is_ws((unsigned char)s[1]))
		return true;
	return yaml_key(s, n);
}

/* What the input is, when its first document is not JSON. */
static int
junk_fail(struct dec *d)
{
	const unsigned char *u = (const unsigned char *)d->sniff;
	const char *why = "JSON object or array expected";

	if (d->nsniff >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) ||
	    (u[0] == 0xFE && u[1] == 0xFF)))
		why = "UTF-16 text, but kubezone reads UTF-8 JSON (write the "
		    "file as UTF-8, or pipe kubectl's output in)";
	else if (looks_yaml(d->sniff, d->nsniff))
		why = "this looks like YAML, but kubezone reads JSON "
		    "(kubectl get ... -o json)";
	return dec_fail(d, d->junk_off + 1, "%s", why);
}

/* Keep the first bytes of what is not JSON, then say what it is. */
static int
dec_sniff(struct dec *d, const char **pp, const char *end)
{
	size_t n = (size_t)(end - *pp);

	if (n > SNIFF_MAX - d->nsniff)
		n = SNIFF_MAX - d->nsniff;
	memcpy(d->sniff + d->nsniff, *pp, n);
	d->nsniff += n;
	*pp += n;
	return d->nsniff == SNIFF_MAX ? junk_fail(d) : KZ_OK;
}

/* The input starts with N bytes of a UTF-8 BOM and then something else:
 * sniff it from its first byte. */
static void
bom_junk(struct dec *d)
{
	static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

	memcpy(d->sniff, bom, d->bom);
	d->nsniff = d->bom;
	d->junk = true;
	d->junk_off = 0;
	d->bom = BOM_DONE;
}

/* Skip a UTF-8 byte-order mark at the start of the input (any chunk). */
static void
dec_bom(struct dec *d, const char **pp, const char *end)
{
	static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
	const char *p = *pp;

	while (d->bom < 3 && p < end && (unsigned char)*p == bom[d->bom]) {
		d->bom++;
		p++;
	}
	*pp = p;
	if (d->bom == 3)
		d->bom = BOM_DONE;
	else if (p < end && d->bom > 0)
		bom_junk(d);
	else if (p < end)
		d->bom = BOM_DONE;	/* no BOM */
}

static int
top_start(struct dec *d, const char *p, bool *adv)
{
	d->doc_start = dec_off(d, p);
	if (*p == '[') {
		d->top_array = true;
		d->kind_seen = true;	/* items must name their kind */
		d->state = ST_ARR_OPEN;
		d->docs++;
		d->stats->documents++;
		return KZ_OK;
	}
	if (*p != '{' && d->docs > 0)
		return dec_fail(d, dec_off(d, p) + 1, "JSON object or array "
		    "expected");
	if (*p != '{') {
		/* Not JSON from the start: find out what it is. */
		d->junk = true;
		d->junk_off = dec_off(d, p);
		*adv = false;
		return KZ_OK;
	}
	d->doc = json_object();
	if (d->doc == NULL)
		return KZ_ENOMEM;
	d->state = ST_OBJ_OPEN;
	d->docs++;
	d->stats->documents++;
	return KZ_OK;
}

/* One structural byte C at P in an object state; *ADV: consumed. */
static int
dec_object_byte(struct dec *d, const char *p, bool *adv)
{
	size_t off = dec_off(d, p);
	char c = *p;

	switch (d->state) {
	case ST_OBJ_OPEN:
	case ST_OBJ_KEY:
		if (c == '}' && d->state == ST_OBJ_OPEN)
			return doc_end(d);
		if (c != '"')
			return dec_fail(d, off + 1, d->state == ST_OBJ_OPEN ?
			    "string or '}' expected" : "string expected");
		*adv = false;
		return frame_begin(d, p, FR_KEY);
	case ST_COLON:
		if (c != ':')
			return dec_fail(d, off + 1, "':' expected");
		d->state = ST_OBJ_VALUE;
		return KZ_OK;
	case ST_OBJ_VALUE:
		if (c == '[' &&
		    strcmp(json_string_value(d->key), "items") == 0) {
			json_decref(d->key);
			d->key = NULL;
			d->has_items = true;
			d->state = ST_ARR_OPEN;
			return KZ_OK;
		}
		*adv = false;
		return frame_begin(d, p, FR_VALUE);
	default:	/* ST_OBJ_NEXT */
		if (c == ',') {
			d->state = ST_OBJ_KEY;
			return KZ_OK;
		}
		if (c == '}')
			return doc_end(d);
		return dec_fail(d, off + 1, "',' or '}' expected");
	}
}

/* One structural byte at P in an array state; *ADV: consumed. */
static int
dec_array_byte(struct dec *d, const char *p, bool *adv)
{
	char c = *p;

	if (d->state == ST_ARR_NEXT) {
		if (c == ',') {
			d->state = ST_ARR_ITEM;
			return KZ_OK;
		}
		if (c == ']')
			return arr_end(d);
		return dec_fail(d, dec_off(d, p) + 1, "',' or ']' expected");
	}
	if (c == ']' && d->state == ST_ARR_OPEN)
		return arr_end(d);
	*adv = false;
	return frame_begin(d, p, FR_ITEM);
}

/* Skip whitespace, then act on one structural byte. */
static int
dec_struct(struct dec *d, const char **pp, const char *end)
{
	const char *p = *pp;
	bool adv = true;
	int rc;

	while (p < end && is_ws((unsigned char)*p))
		p++;
	*pp = p;
	if (p == end)
		return KZ_OK;
	switch (d->state) {
	case ST_TOP:
		rc = top_start(d, p, &adv);
		break;
	case ST_ARR_OPEN:
	case ST_ARR_ITEM:
	case ST_ARR_NEXT:
		rc = dec_array_byte(d, p, &adv);
		break;
	default:
		rc = dec_object_byte(d, p, &adv);
		break;
	}
	if (adv)
		*pp = p + 1;
	return rc;
}

/* Feed the next LEN bytes of input. */
static int
dec_feed(struct dec *d, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int rc = KZ_OK;

	d->chunk = buf;
	d->span = buf;
	if (d->bom < BOM_DONE)
		dec_bom(d, &p, end);
	while (rc == KZ_OK && p < end) {
		if (d->junk)
			rc = dec_sniff(d, &p, end);
		else if (d->framing != FR_NONE)
			rc = dec_frame(d, &p, end);
		else
			rc = dec_struct(d, &p, end);
	}
	d->base += len;
	d->stats->bytes += len;
	return rc;
}

/* The input has ended: it must end between documents. */
static int
dec_finish(struct dec *d)
{
	if (d->bom > 0 && d->bom < 3)
		bom_junk(d);	/* ended inside what began as a BOM */
	if (d->junk)
		return junk_fail(d);
	if (d->framing != FR_NONE)
		return frame_diagnose(d, d->cap.data ? d->cap.data : "",
		    d->cap.len, d->base, "unexpected end of input");
	if (d->state != ST_TOP)
		return dec_fail(d, d->base, "unexpected end of input");
	return KZ_OK;
}

int
zg_decode_fd(struct zg_model *m, int fd, const char *source,
    const struct zg_decode_opts *opts, struct zg_decode_stats *stats,
    struct zg_decode_error *err)
{
	size_t chunk = opts && opts->chunk_size ? opts->chunk_size :
	    DECODE_CHUNK;
	zg_progress_fn progress = opts ? opts->progress : NULL;
	struct zg_decode_stats dummy_stats = { 0 };
	struct zg_decode_error dummy_err;
	size_t next = DECODE_PROGRESS;
	char *buf = NULL;
	struct dec d;
	ssize_t n;
	int rc;

	dec_init(&d, m, source, opts, stats ? stats : &dummy_stats,
	    err ? err : &dummy_err);
	buf = malloc(chunk);
	if (buf == NULL) {
		rc = KZ_ENOMEM;
		goto cleanup;
	}
	for (;;) {
		n = read(fd, buf, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			dec_fail(&d, d.base, "read: %s", strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		rc = dec_feed(&d, buf, (size_t)n);
		if (rc)
			goto cleanup;
		if (progress && d.base >= next) {
			progress(opts->progress_ctx, d.base, d.stats->objects);
			next = d.base + DECODE_PROGRESS;
		}
	}
	rc = dec_finish(&d);
	if (rc == KZ_OK && progress)
		progress(opts->progress_ctx, d.base, d.stats->objects);
cleanup:
	free(buf);
	dec_free(&d);
	return rc;
}

int
zg_decode_mem(struct zg_model *m, const char *data, size_t len,
    const char *source, const struct zg_decode_opts *opts,
    struct zg_decode_stats *stats, struct zg_decode_error *err)
{
	struct zg_decode_stats dummy_stats = { 0 };
	struct zg_decode_error dummy_err;
	struct dec d;
	int rc;

	dec_init(&d, m, source, opts, stats ? stats : &dummy_stats,
	    err ? err : &dummy_err);
	rc = len ? dec_feed(&d, data, len) : KZ_OK;
	if (rc == KZ_OK)
		rc = dec_finish(&d);
	dec_free(&d);
	return rc;
}

int
zg_decode_buffer(struct zg_model *m, const char *data, size_t len,
    const char *source, struct zg_decode_stats *stats,
    struct zg_decode_error *err)
{
	return zg_decode_mem(m, data, len, source, NULL, stats, err);
}

int
zg_decode_path(struct zg_model *m, const char *path,
    const struct zg_decode_opts *opts, struct zg_decode_stats *stats,
    struct zg_decode_error *err)
{
	bool in = strcmp(path, "-") == 0;
	int fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		memset(err, 0, sizeof(*err));
		snprintf(err->source, sizeof(err->source), "%s", path);
		snprintf(err->text, sizeof(err->text), "%s", strerror(-rc));
		return rc;
	}
	rc = zg_decode_fd(m, fd, path, opts, stats, err);
	if (!in)
		close(fd);
	return rc;
}

const char *
zg_decode_strerror(int rc, const struct zg_decode_error *err, char *out,
    size_t outsz)
{
	if (rc == KZ_EPARSE)
		snprintf(out, outsz, "%s: byte %zu: %s", err->source,
		    err->offset, err->text);
	else
		snprintf(out, outsz, "%s: %s", err->source[0] ? err->source :
		    "input", err->text[0] ? err->text : kz_strerror(rc));
	return out;
}
