/*
 * zonegen/render_opts.c -- the render options: defaults, table, setters,
 * and the checks that look at several options at once.
 *
 * Declared in zonegen/render.h. Every command that renders (render,
 * sync, nsd-conf) parses these rows and then calls
 * zg_render_opts_finish(), so they mean the same everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

void
zg_render_opts_init(struct zg_render_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->zone, sizeof(o->zone), "cluster.local");
	o->ttl = 30;
	o->clusterip_endpoint_names = true;
	o->soa_refresh = ZG_SOA_REFRESH;
	o->soa_retry = ZG_SOA_RETRY;
	o->soa_expire = ZG_SOA_EXPIRE;
}

void
zg_render_opts_free(struct zg_render_opts *o)
{
	for (size_t i = 0; i < o->nnamespaces; i++)
		free(o->namespaces[i]);
	o->nnamespaces = 0;
	for (size_t i = 0; i < o->nns; i++)
		free(o->ns[i].name);
	o->nns = 0;
	zg_sel_free(o->labels);
	zg_sel_free(o->ns_labels);
	o->labels = o->ns_labels = NULL;
}

/* --- what several options decide together ---------------------------- */

/* True when NAME is ZONE or below it (both lower case, no final dot). */
static bool
at_or_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' &&
	    strcmp(name + n - z, zone) == 0;
}

bool
zg_in_cluster_zone(const struct zg_render_opts *o, const char *name)
{
	return at_or_below(name, o->zone);
}

void
zg_soa_mname(const struct zg_render_opts *o, char *out, size_t outsz)
{
	if (o->nns)
		snprintf(out, outsz, "%s.", o->ns[0].name);
	else
		snprintf(out, outsz, "ns.dns.%s.", o->zone);
}

void
zg_soa_rname(const struct zg_render_opts *o, char *out, size_t outsz)
{
	if (o->soa_rname[0])
		snprintf(out, outsz, "%s.", o->soa_rname);
	else
		snprintf(out, outsz, "hostmaster.%s.", o->zone);
}

uint32_t
zg_soa_minimum(const struct zg_render_opts *o)
{
	return o->soa_minimum_set ? o->soa_minimum : o->ttl;
}

struct below_ctx {
	const char *name;
	const char *zone;	/* the reverse zone NAME is in, or NULL */
	char buf[ZG_NAME_TEXT];
};

static int
below_zone(void *ctx, const char *zone)
{
	struct below_ctx *b = ctx;

	if (!at_or_below(b->name, zone))
		return 0;
	snprintf(b->buf, sizeof(b->buf), "%s", zone);
	b->zone = b->buf;
	return 1;
}

/* The served reverse zone NAME is at or below, or NULL. */
static const char *
reverse_zone_of(const struct zg_render_opts *o, const char *name,
    struct below_ctx *b)
{
	struct zg_cidr all4 = { .ip = { .family = ZG_IPV4 }, .prefix = 0 };
	struct zg_cidr all6 = { .ip = { .family = ZG_IPV6 }, .prefix = 0 };

	b->name = name;
	b->zone = NULL;
	if (o->nreverse == 0) {
		if (zg_cidr_zones(&all4, below_zone, b) == 0)
			zg_cidr_zones(&all6, below_zone, b);
	}
	for (size_t i = 0; i < o->nreverse && b->zone == NULL; i++)
		zg_cidr_zones(&o->reverse[i], below_zone, b);
	return b->zone;
}

/* Whether any --ns entry for NAME carries an address. */
static bool
ns_has_address(const struct zg_render_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nns; i++)
		if (o->ns[i].has_ip && strcmp(o->ns[i].name, name) == 0)
			return true;
	return false;
}

/* One --ns entry against the zones the options give. */
static int
check_ns(const struct zg_render_opts *o, const struct zg_ns *ns, char *err,
    size_t errsz)
{
	char ip[64] = "", svc[ZG_NAME_TEXT + 8], pod[ZG_NAME_TEXT + 8];
	struct below_ctx b;
	bool inside = zg_in_cluster_zone(o, ns->name);

	if (ns->has_ip)
		zg_ip_str(&ns->ip, ip, sizeof(ip));
	snprintf(svc, sizeof(svc), "svc.%s", o->zone);
	snprintf(pod, sizeof(pod), "pod.%s", o->zone);
	if (reverse_zone_of(o, ns->name, &b))
		snprintf(err, errsz, "--ns %s: inside the reverse zone %s., "
		    "which holds PTR records only: name a server outside it",
		    ns->name, b.zone);
	else if (inside && (at_or_below(ns->name, svc) ||
	    at_or_below(ns->name, pod)))
		snprintf(err, errsz, "--ns %s: inside %s. or %s., where the "
		    "names of Services and Pods are: name a server outside "
		    "them", ns->name, svc, pod);
	else if (inside && !ns_has_address(o, ns->name))
		snprintf(err, errsz, "--ns %s: inside %s., so kubezone serves "
		    "its address: give it as --ns %s=ADDR", ns->name, o->zone,
		    ns->name);
	else if (!inside && ns->has_ip)
		snprintf(err, errsz, "--ns %s=%s: %s is outside %s., whose "
		    "zone cannot hold its address: give the name alone and "
		    "its address in its own zone", ns->name, ip, ns->name,
		    o->zone);
	else
		return KZ_OK;
	return KZ_EUSAGE;
}

/*
 * The catalog zone is a zone of its own: not a served zone, not above
 * or below one (a catalog under the cluster domain would be a
 * delegation kubezone does not make), and not under .arpa.
 */
static int
check_catalog(const struct zg_render_opts *o, char *err, size_t errsz)
{
	const char *c = o->catalog;

	if (at_or_below(c, o->zone) || at_or_below(o->zone, c)) {
		snprintf(err, errsz, "--catalog-zone %s: %s the cluster zone "
		    "%s; name a zone of its own, such as catalog.invalid or "
		    "catalog.<your domain>", c, strcmp(c, o->zone) == 0 ? "is" :
		    at_or_below(c, o->zone) ? "is below" : "is above", o->zone);
		return KZ_EUSAGE;
	}
	if (at_or_below(c, "arpa") || at_or_below("in-addr.arpa", c)) {
		snprintf(err, errsz, "--catalog-zone %s: overlaps the reverse "
		    "zones (.arpa); name a zone of its own, such as "
		    "catalog.invalid", c);
		return KZ_EUSAGE;
	}
	return KZ_OK;
}

/*
 * The clusterset zone is a zone of its own too: not the cluster zone,
 * not above or below it, not the catalog, not under .arpa.
 */
static int
check_clusterset(const struct zg_render_opts *o, char *err, size_t errsz)
{
	const char *c = o->clusterset;

	if (at_or_below(c, o->zone) || at_or_below(o->zone, c)) {
		snprintf(err, errsz, "--clusterset-zone %s: %s the cluster zone "
		    "%s; the clusterset zone is a zone of its own, such as "
		    "clusterset.local", c, strcmp(c, o->zone) == 0 ? "is" :
		    at_or_below(c, o->zone) ? "is below" : "is above", o->zone);
		return KZ_EUSAGE;
	}
	if (o->catalog[0] && (at_or_below(c, o->catalog) ||
	    at_or_below(o->catalog, c))) {
		snprintf(err, errsz, "--clusterset-zone %s: overlaps "
		    "--catalog-zone %s", c, o->catalog);
		return KZ_EUSAGE;
	}
	if (at_or_below(c, "arpa") || at_or_below("in-addr.arpa", c)) {
		snprintf(err, errsz, "--clusterset-zone %s: overlaps the "
		    "reverse zones (.arpa)", c);
		return KZ_EUSAGE;
	}
	return KZ_OK;
}

int
zg_render_opts_finish(const struct zg_render_opts *o, char *err,
    size_t errsz)
{
	uint64_t need = (uint64_t)o->soa_refresh + o->soa_retry;

	if (o->nns && o->ndns_ips) {
		snprintf(err, errsz, "--dns-ip: gives the addresses of ns.dns."
		    "%s, which --ns replaces: name it with --ns ns.dns.%s=IP "
		    "instead", o->zone, o->zone);
		return KZ_EUSAGE;
	}
	for (size_t i = 0; i < o->nns; i++)
		if (check_ns(o, &o->ns[i], err, errsz))
			return KZ_EUSAGE;
	if (o->catalog[0] && check_catalog(o, err, errsz))
		return KZ_EUSAGE;
	if (o->clusterset[0] && check_clusterset(o, err, errsz))
		return KZ_EUSAGE;
	if (o->soa_expire < need) {
		snprintf(err, errsz, "--soa-expire %u: below --soa-refresh + "
		    "--soa-retry (%u + %u = %llu): a secondary would drop the "
		    "zones before its retries end; raise --soa-expire (RFC "
		    "1912 suggests 2 to 4 weeks)", o->soa_expire,
		    o->soa_refresh, o->soa_retry, (unsigned long long)need);
		return KZ_EUSAGE;
	}
	return KZ_OK;
}

/* --- setters ----------------------------------------------------------- */

static int
set_catalog(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	char z[sizeof(o->catalog)];
	const char *why;

	if (zg_name_parse(arg, z, sizeof(z), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	if (z[0] == '\0') {
		snprintf(err, errsz, "the root cannot be a catalog zone");
		return KZ_EINVAL;
	}
	memcpy(o->catalog, z, strlen(z) + 1);
	return KZ_OK;
}

static int
set_clusterset(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	char z[sizeof(o->clusterset)];
	const char *why;

	if (zg_name_parse(arg, z, sizeof(z), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	if (z[0] == '\0') {
		snprintf(err, errsz, "the root cannot be a clusterset zone");
		return KZ_EINVAL;
	}
	memcpy(o->clusterset, z, strlen(z) + 1);
	return KZ_OK;
}

static int
set_zone(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	char z[sizeof(o->zone)];
	const char *why;

	if (zg_name_parse(arg, z, sizeof(z), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	memcpy(o->zone, z, strlen(z) + 1);
	return KZ_OK;
}

static int
set_ttl(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct zg_render_opts *)ctx)->ttl = (uint32_t)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_dns_ip(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->ndns_ips == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d addresses", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (zg_ip_parse(&o->dns_ips[o->ndns_ips], arg)) {
		snprintf(err, errsz, "not an IPv4 or IPv6 address");
		return KZ_EINVAL;
	}
	o->ndns_ips++;
	return KZ_OK;
}

static int
set_namespace(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->nnamespaces == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d namespaces", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (!zg_label_ok(arg, strlen(arg), false)) {
		snprintf(err, errsz, "not a namespace name (DNS label)");
		return KZ_EINVAL;
	}
	o->namespaces[o->nnamespaces] = strdup(arg);
	if (o->namespaces[o->nnamespaces] == NULL) {
		snprintf(err, errsz, "out of memory");
		return KZ_ENOMEM;
	}
	o->nnamespaces++;
	return KZ_OK;
}

static int
set_reverse(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->nreverse == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d CIDRs", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (zg_cidr_parse(&o->reverse[o->nreverse], arg)) {
		snprintf(err, errsz,
		    "expected a CIDR such as 10.96.0.0/12 (host bits zero)");
		return KZ_EINVAL;
	}
	o->nreverse++;
	return KZ_OK;
}

static int
set_pod_records(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->pod_records = true;
	return KZ_OK;
}

static int
set_endpoint_pod_names(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->endpoint_pod_names = true;
	return KZ_OK;
}

static int
set_no_cip_names(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->clusterip_endpoint_names = false;
	return KZ_OK;
}

static int
set_rrset_bytes(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct zg_render_opts *)ctx)->rrset_bytes = (uint32_t)strtoul(arg, NULL, 10);
	return KZ_OK;
}

/* A label selector into *SEL (given once: the row is not repeatable). */
static int
set_selector(struct zg_sel **sel, const char *arg, char *err, size_t errsz)
{
	struct zg_sel *s;
	int rc = zg_sel_parse(arg, &s, err, errsz);

	if (rc)
		return rc;
	zg_sel_free(*sel);
	*sel = s;
	return KZ_OK;
}

static int
set_labels(void *ctx, const char *arg, char *err, size_t errsz)
{
	return set_selector(&((struct zg_render_opts *)ctx)->labels, arg, err,
	    errsz);
}

static int
set_ns_labels(void *ctx, const char *arg, char *err, size_t errsz)
{
	return set_selector(&((struct zg_render_opts *)ctx)->ns_labels, arg,
	    err, errsz);
}

/* True when NAME's labels are host name labels (no leading '_'). */
static bool
host_name(const char *name)
{
	for (const char *p = name; *p; p++)
		if (*p == '_')
			return false;
	return true;
}

static int
set_ns(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	struct zg_ns *ns;
	const char *eq = strchr(arg, '='), *why;
	char text[ZG_NAME_TEXT + 1], name[ZG_NAME_TEXT];
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (o->nns == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d name servers", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (n >= sizeof(text)) {
		snprintf(err, errsz, "name longer than 255 octets");
		return KZ_EINVAL;
	}
	memcpy(text, arg, n);
	text[n] = '\0';
	if (zg_name_parse(text, name, sizeof(name), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	if (!host_name(name)) {
		snprintf(err, errsz, "not a host name (a label starts with _)");
		return KZ_EINVAL;
	}
	ns = &o->ns[o->nns];
	memset(ns, 0, sizeof(*ns));
	if (eq && zg_ip_parse(&ns->ip, eq + 1)) {
		snprintf(err, errsz, "not an IPv4 or IPv6 address after '='");
		return KZ_EINVAL;
	}
	ns->has_ip = eq != NULL;
	ns->name = strdup(name);
	if (ns->name == NULL) {
		snprintf(err, errsz, "out of memory");
		return KZ_ENOMEM;
	}
	o->nns++;
	return KZ_OK;
}

/* Characters of a mailbox's local part kubezone writes (as is, but '.'
 * escaped): nothing a zone file gives a meaning to. */
static bool
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-_+=.", c) != NULL;
}

/*
 * The RNAME of the mailbox LOCAL@DOMAIN (RFC 1035 section 8: the local
 * part becomes the first label, a '.' in it escaped) into OUT.
 */
static int
mailbox_rname(const char *local, size_t nlocal, const char *domain,
    char *out, size_t outsz, char *err, size_t errsz)
{
	char name[ZG_NAME_TEXT];
	const char *why;
	size_t o = 0;

	if (nlocal == 0 || nlocal > ZG_LABEL_MAX) {
		snprintf(err, errsz, "the part before '@' must have 1 to 63 "
		    "characters");
		return KZ_EINVAL;
	}
	if (strchr(domain, '@') ||
	    zg_name_parse(domain, name, sizeof(name), &why)) {
		snprintf(err, errsz, "the part after '@' is not a domain name");
		return KZ_EINVAL;
	}
	if (1 + nlocal + zg_name_wire_len(name) > ZG_NAME_MAX) {
		snprintf(err, errsz, "name longer than 255 octets");
		return KZ_EINVAL;
	}
	for (size_t i = 0; i < nlocal; i++) {
		char c = local[i];

		if (!local_char(c)) {
			snprintf(err, errsz, "the part before '@' may hold "
			    "letters, digits and - _ + = . only");
			return KZ_EINVAL;
		}
		if (c == '.')
			out[o++] = '\\';
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	snprintf(out + o, outsz - o, ".%s", name);
	return KZ_OK;
}

static int
set_soa_rname(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	const char *at = strchr(arg, '@'), *why;
	char name[ZG_NAME_TEXT];

	if (at)
		return mailbox_rname(arg, (size_t)(at - arg), at + 1,
		    o->soa_rname, sizeof(o->soa_rname), err, errsz);
	if (zg_name_parse(arg, name, sizeof(name), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	snprintf(o->soa_rname, sizeof(o->soa_rname), "%s", name);
	return KZ_OK;
}

/* The SOA timers: the table's range was checked. */
static uint32_t
seconds(const char *arg)
{
	return (uint32_t)strtoul(arg, NULL, 10);
}

static int
set_soa_refresh(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->soa_refresh = seconds(arg);
	return KZ_OK;
}

static int
set_soa_retry(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->soa_retry = seconds(arg);
	return KZ_OK;
}

static int
set_soa_expire(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->soa_expire = seconds(arg);
	return KZ_OK;
}

static int
set_soa_minimum(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	(void)err, (void)errsz;
	o->soa_minimum = seconds(arg);
	o->soa_minimum_set = true;
	return KZ_OK;
}

const struct kz_opt zg_render_opt_table[] = {
	{ "zone", "DOMAIN", "cluster.local", NULL, false, set_zone,
	  "The cluster domain: the forward zone's origin." },
	{ "ttl", "SECONDS", "30", NULL, false, set_ttl,
	  "TTL of every record but the dns-version TXT (28800); the SOA "
	  "gets min(TTL, 300) and, without --soa-minimum, TTL as its "
	  "MINIMUM.", KZ_OPT_NUMBER, 0, 86400 },
	{ "dns-ip", "IP", "the ClusterIPs of kube-system/kube-dns", NULL, true,
	  set_dns_ip,
	  "Address of ns.dns.<zone>, the name server named by every SOA and "
	  "NS unless --ns is given (then not allowed)." },
	{ "ns", "NAME[=ADDR]", "ns.dns.<zone>", NULL, true, set_ns,
	  "A name server of every zone, forward and reverse: the NS records "
	  "name these servers only, and the first one is the SOA MNAME. A "
	  "NAME inside the cluster domain needs =ADDR (IPv4 or IPv6; repeat "
	  "the NAME for more), which kubezone serves as its A or AAAA "
	  "record; an address for a NAME outside it, and a NAME in a served "
	  "reverse zone or under svc.<zone> or pod.<zone>, are refused. "
	  "With --ns, ns.dns.<zone> is written only if named." },
	{ "soa-rname", "MAILBOX", "hostmaster.<zone>", NULL, false,
	  set_soa_rname,
	  "The SOA RNAME, the zones' contact: a name such as "
	  "hostmaster.example.com, or a mailbox such as dns-admin@example.com, "
	  "which becomes dns-admin.example.com. as RFC 1035 says (a dot "
	  "before the @ escaped)." },
	{ "soa-refresh", "SECONDS", "7200", NULL, false, set_soa_refresh,
	  "SOA REFRESH: how often a secondary asks for the serial when no "
	  "NOTIFY reaches it.", KZ_OPT_NUMBER, 60, 604800 },
	{ "soa-retry", "SECONDS", "1800", NULL, false, set_soa_retry,
	  "SOA RETRY: how soon a secondary asks again after a refresh "
	  "failed.", KZ_OPT_NUMBER, 60, 86400 },
	{ "soa-expire", "SECONDS", "86400", NULL, false, set_soa_expire,
	  "SOA EXPIRE: how long a secondary that cannot reach kubezone keeps "
	  "answering for the zones; at least --soa-refresh + --soa-retry "
	  "(RFC 1912 suggests 2 to 4 weeks).", KZ_OPT_NUMBER, 3600, 2419200 },
	{ "soa-minimum", "SECONDS", "--ttl", NULL, false, set_soa_minimum,
	  "SOA MINIMUM: resolvers cache NXDOMAIN and NODATA answers for the "
	  "smaller of this and the SOA's TTL, min(--ttl, 300) (RFC 2308).",
	  KZ_OPT_NUMBER, 0, 86400 },
	{ "namespace", "NAME", "all namespaces", NULL, true, set_namespace,
	  "Expose only this namespace (forward and reverse records)." },
	{ "labels", "SELECTOR", "all objects", NULL, false, set_labels,
	  "Expose only the Services, EndpointSlices and Pods this Kubernetes "
	  "label selector selects (=, ==, !=, in (...), notin (...), KEY, "
	  "!KEY, joined by commas); the API is asked for those only. A "
	  "Service left out has no records; a Service's endpoints come from "
	  "the slices selected by their own labels, which the "
	  "EndpointSlice controller copies from the Service." },
	{ "namespace-labels", "SELECTOR", "all namespaces", NULL, false,
	  set_ns_labels,
	  "Expose only the namespaces whose Namespace object this label "
	  "selector selects; a namespace whose labels change enters or "
	  "leaves the zones whole. Together with --namespace, a namespace "
	  "must pass both." },
	{ "reverse-zone", "CIDR", "in-addr.arpa and ip6.arpa", NULL, true,
	  set_reverse,
	  "Serve the reverse zones covering CIDR, split on octet (IPv4) or "
	  "nibble (IPv6) boundaries; only those." },
	{ "pod-records", NULL, "off", NULL, false, set_pod_records,
	  "Serve A/AAAA records a-b-c-d.<ns>.pod.<zone> for existing pods." },
	{ "endpoint-pod-names", NULL, "off", NULL, false,
	  set_endpoint_pod_names,
	  "Name endpoints without a hostname after their pod, not their address." },
	{ "no-clusterip-endpoint-names", NULL, NULL, NULL, false,
	  set_no_cip_names,
	  "Leave out <endpoint>.<svc>.<ns>.svc.<zone> names (and their PTRs) "
	  "for ClusterIP Services." },
	{ "max-rrset-bytes", "BYTES", "64000", NULL, false, set_rrset_bytes,
	  "Cap each RRset at this many bytes of records (12 per record plus "
	  "its RDATA), keeping the first in DNS canonical order, so that one "
	  "DNS message over TCP can carry it: about 4,000 A records. A "
	  "capped RRset is logged with the object it comes from.",
	  KZ_OPT_NUMBER, 512, 65000 },
	{ "catalog-zone", "NAME", "none", NULL, false, set_catalog,
	  "Also serve a catalog zone NAME (RFC 9432, version 2) listing every "
	  "zone kubezone serves, the cluster zone and each reverse zone, so "
	  "that secondaries configured with the catalog (Knot, BIND) add and "
	  "drop those zones on their own. Each zone's member label is a "
	  "hash of its name: the same across restarts." },
	{ "clusterset-zone", "NAME", "none", NULL, false, set_clusterset,
	  "Also serve NAME (the Multi-Cluster Services API's "
	  "clusterset.local) from the cluster's ServiceImports "
	  "(multicluster.x-k8s.io/v1alpha1): a ClusterSetIP import's "
	  "addresses and named-port SRV records, a Headless import's ready "
	  "endpoints as <hostname>.<clusterid>.<svc>.<ns>.svc.<NAME> from "
	  "the EndpointSlices labelled multicluster.kubernetes.io/"
	  "service-name and source-cluster. When the cluster has no "
	  "ServiceImport resource, the zone holds its apex records only." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};
