/*
 * zonegen/render.c -- the Kubernetes DNS rules.
 *
 * One render: collect every record the rules produce into per-zone
 * arrays (strings and keys in one arena), then per zone sort into
 * canonical order, drop duplicates and conflicts, fix SRV weights and
 * write the text. Rule numbers (R1..R25, E1..E30) refer to the rule
 * book summarised in docs/records.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33

#define DNS_VERSION "1.1.0"
#define DNS_VERSION_TTL 28800
#define SOA_REFRESH 7200
#define SOA_RETRY 1800
#define SOA_EXPIRE 86400
#define ZONE_TEXT_MAX ((size_t)4 << 30)

/* Scratch size for names while they are built: big enough for any
 * concatenation of checked parts; zg_name_check() rejects what is long. */
#define SCRATCH 1024

#define RR_SRV_SHARE 0x01	/* SRV weight = 100 / RRset size */
#define RR_DROP 0x02		/* removed by the finishing pass */

struct rr {
	const uint8_t *okey;	/* owner canonical key */
	const uint8_t *rkey;	/* RDATA sort key (wire order) */
	const char *owner;	/* dotted, absolute, no final dot */
	const char *rdata;	/* text; SRV: "PORT TARGET." (no prio/weight) */
	const char *src;	/* the object it came from, for warnings */
	uint32_t ttl;
	uint16_t okeylen;
	uint16_t rkeylen;
	uint16_t type;
	uint8_t flags;
};

struct zone_build {
	struct zg_zone *z;
	struct rr *rrs;
	size_t n, cap;
};

struct render_ctx {
	const struct zg_model *m;
	const struct zg_render_opts *o;
	struct zg_zoneset *out;
	struct kz_arena arena;
	struct zone_build *zb;		/* parallel to out->zones */
	struct kz_map revzones;		/* reverse zone origin -> zone_build */
	size_t rev_max_labels;		/* labels of the deepest reverse zone */
	struct zg_ip *clusterips;	/* sorted, for R13's exclusion */
	size_t nclusterips;
	const char *zone;		/* the cluster domain, no final dot */
	int rc;				/* first hard error (KZ_ENOMEM) */
};

/*
 * Join the NULL-terminated strings after OUT into OUT (OUTSZ bytes):
 * the hot paths build every name with this, not snprintf. Returns the
 * length, or OUTSZ when the result did not fit (OUT is then truncated).
 */
static size_t
join(char *out, size_t outsz, ...)
{
	size_t o = 0;
	const char *part;
	va_list ap;

	va_start(ap, outsz);
	while ((part = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(part);

		if (o + n >= outsz) {
			memcpy(out + o, part, outsz - 1 - o);
			o = outsz;
			break;
		}
		memcpy(out + o, part, n);
		o += n;
	}
	va_end(ap);
	out[o < outsz ? o : outsz - 1] = '\0';
	return o;
}

/* --- records ----------------------------------------------------------- */

static struct rr *
zone_push(struct render_ctx *c, struct zone_build *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct rr *p = realloc(b->rrs, cap * sizeof(*p));
		if (p == NULL) {
			c->rc = KZ_ENOMEM;
			return NULL;
		}
		b->rrs = p;
		b->cap = cap;
	}
	return &b->rrs[b->n++];
}

static const uint8_t *
arena_key(struct render_ctx *c, const char *name, uint16_t *len, bool wire)
{
	uint8_t tmp[ZG_NAME_MAX + 2];
	size_t n = wire ? zg_name_wire(name, tmp, sizeof(tmp)) :
	    zg_name_key(name, tmp, sizeof(tmp));
	uint8_t *p = kz_arena_alloc(&c->arena, n ? n : 1);

	if (p == NULL) {
		c->rc = KZ_ENOMEM;
		return NULL;
	}
	memcpy(p, tmp, n);
	*len = (uint16_t)n;
	return p;
}

/*
 * Add a record to zone B. OWNER and RDATA are copied. RKEY (RKEYLEN
 * bytes) is the RDATA sort key; when NULL, RKEY_NAME (a dotted name) is
 * turned into wire form instead.
 */
static void
add_rr(struct render_ctx *c, struct zone_build *b, const char *owner,
    uint16_t type, uint32_t ttl, const char *rdata, const uint8_t *rkey,
    size_t rkeylen, const char *rkey_name, const char *src, uint8_t flags)
{
	struct rr *r;
	uint8_t *k;

	if (c->rc)
		return;
	r = zone_push(c, b);
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
	r->owner = kz_arena_strdup(&c->arena, owner);
	r->rdata = kz_arena_strdup(&c->arena, rdata);
	r->okey = arena_key(c, owner, &r->okeylen, false);
	if (rkey_name) {
		r->rkey = arena_key(c, rkey_name, &r->rkeylen, true);
	} else {
		k = kz_arena_alloc(&c->arena, rkeylen ? rkeylen : 1);
		if (k)
			memcpy(k, rkey, rkeylen);
		r->rkey = k;
		r->rkeylen = (uint16_t)rkeylen;
	}
	if (r->owner == NULL || r->rdata == NULL || r->rkey == NULL) {
		c->rc = KZ_ENOMEM;
		b->n--;
		return;
	}
	r->src = src;
	r->type = type;
	r->ttl = ttl;
	r->flags = flags;
}

static void
add_addr(struct render_ctx *c, struct zone_build *b, const char *owner,
    const struct zg_ip *ip, uint32_t ttl, const char *src)
{
	char text[64];
	size_t len = ip->family == ZG_IPV4 ? 4 : 16;

	zg_ip_str(ip, text, sizeof(text));
	add_rr(c, b, owner, ip->family == ZG_IPV4 ? T_A : T_AAAA, ttl, text,
	    ip->addr, len, NULL, src, 0);
}

static void
add_name_rr(struct render_ctx *c, struct zone_build *b, const char *owner,
    uint16_t type, const char *target, const char *src)
{
	char text[SCRATCH];

	join(text, sizeof(text), target, ".", (char *)NULL);
	add_rr(c, b, owner, type, c->o->ttl, text, NULL, 0, target, src, 0);
}

static void
add_srv(struct render_ctx *c, const char *owner, uint16_t port,
    const char *target, bool share, const char *src)
{
	uint8_t key[2 + ZG_NAME_MAX + 2];
	char text[ZG_NAME_TEXT + 16], num[8];
	size_t n;

	/* Wire order within an RRset: priority (always 0), weight (the
	 * same for the whole RRset), port, target. */
	key[0] = (uint8_t)(port >> 8);
	key[1] = (uint8_t)port;
	n = zg_name_wire(target, key + 2, sizeof(key) - 2);
	snprintf(num, sizeof(num), "%u", port);
	join(text, sizeof(text), num, " ", target, ".", (char *)NULL);
	add_rr(c, &c->zb[0], owner, T_SRV, c->o->ttl, text, key, n + 2, NULL,
	    src, share ? RR_SRV_SHARE : 0);
}

/* --- warnings ------------------------------------------------------------ */

static void
skip_warn(struct render_ctx *c, const char *src, const char *what,
    const char *reason)
{
	char qsrc[300], qwhat[300], qreason[200];

	c->out->stats.skipped++;
	kz_warn("record skipped", "object=%s name=%s reason=%s",
	    kz_log_quote(qsrc, sizeof(qsrc), src),
	    kz_log_quote(qwhat, sizeof(qwhat), what),
	    kz_log_quote(qreason, sizeof(qreason), reason));
}

/* Check NAME; warn and return false when a zone cannot hold it. */
static bool
name_ok(struct render_ctx *c, const char *name, const char *src)
{
	const char *why;

	if (zg_name_check(name, &why) == KZ_OK)
		return true;
	skip_warn(c, src, name, why);
	return false;
}

/* --- zones ---------------------------------------------------------------- */

static struct zone_build *
zone_add(struct render_ctx *c, const char *origin)
{
	struct zg_zoneset *zs = c->out;
	struct zg_zone *zones;
	struct zone_build *zb;
	size_t i = zs->nzones;

	zones = realloc(zs->zones, (i + 1) * sizeof(*zones));
	if (zones == NULL)
		goto nomem;
	zs->zones = zones;
	zb = realloc(c->zb, (i + 1) * sizeof(*zb));
	if (zb == NULL)
		goto nomem;
	c->zb = zb;
	memset(&zones[i], 0, sizeof(zones[i]));
	memset(&zb[i], 0, sizeof(zb[i]));
	zs->nzones++;
	kz_buf_init(&zones[i].body, ZONE_TEXT_MAX);
	zones[i].origin = malloc(strlen(origin) + 2);
	zones[i].file = malloc(strlen(origin) + 6);
	zones[i].mname = malloc(strlen(c->zone) + 9);
	zones[i].rname = malloc(strlen(c->zone) + 13);
	if (!zones[i].origin || !zones[i].file || !zones[i].mname ||
	    !zones[i].rname)
		goto nomem;
	snprintf(zones[i].origin, strlen(origin) + 2, "%s.", origin);
	snprintf(zones[i].file, strlen(origin) + 6, "%s.zone", origin);
	snprintf(zones[i].mname, strlen(c->zone) + 9, "ns.dns.%s.", c->zone);
	snprintf(zones[i].rname, strlen(c->zone) + 13, "hostmaster.%s.",
	    c->zone);
	zones[i].ttl = c->o->ttl;
	zones[i].soa_ttl = c->o->ttl < 300 ? c->o->ttl : 300;
	zb[i].z = &zones[i];
	return &zb[i];
nomem:
	c->rc = KZ_ENOMEM;
	return NULL;
}

static size_t
count_labels(const char *name)
{
	size_t n = *name ? 1 : 0;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

static int
add_reverse_zone(void *ctx, const char *origin)
{
	struct render_ctx *c = ctx;

	if (kz_map_get(&c->revzones, origin))
		return 0;	/* overlapping CIDRs: one zone */
	if (zone_add(c, origin) == NULL)
		return KZ_ENOMEM;
	return 0;
}

/* Build the zone list; map reverse zones by origin once the array is
 * final (zone_add reallocates). */
static int
make_zones(struct render_ctx *c)
{
	const struct zg_render_opts *o = c->o;
	struct zg_cidr all4 = { .ip = { .family = ZG_IPV4 }, .prefix = 0 };
	struct zg_cidr all6 = { .ip = { .family = ZG_IPV6 }, .prefix = 0 };

	if (zone_add(c, c->zone) == NULL)
		return KZ_ENOMEM;
	if (o->nreverse == 0) {
		if (zg_cidr_zones(&all4, add_reverse_zone, c) ||
		    zg_cidr_zones(&all6, add_reverse_zone, c))
			return KZ_ENOMEM;
	}
	for (size_t i = 0; i < o->nreverse; i++)
		if (zg_cidr_zones(&o->reverse[i], add_reverse_zone, c))
			return KZ_ENOMEM;
	for (size_t i = 0; i < c->out->nzones; i++) {
		const char *origin = c->out->zones[i].origin;
		char *key;

		c->zb[i].z = &c->out->zones[i];
		if (i == 0)
			continue;
		/* Keyed without the final dot, as names are built. */
		key = kz_arena_strndup(&c->arena, origin, strlen(origin) - 1);
		if (key == NULL ||
		    kz_map_put(&c->revzones, key, &c->zb[i], NULL))
			return KZ_ENOMEM;
		if (count_labels(key) > c->rev_max_labels)
			c->rev_max_labels = count_labels(key);
	}
	return c->rc;
}

/*
 * The reverse zone that holds NAME (longest match), or NULL. Only
 * suffixes no deeper than the deepest zone are looked up: an ip6.arpa
 * name has 34 labels, the default zone two.
 */
static struct zone_build *
reverse_zone_for(struct render_ctx *c, const char *name)
{
	size_t labels = count_labels(name);

	for (const char *p = name; p; p = strchr(p, '.'), labels--) {
		struct zone_build *b;

		if (*p == '.')
			p++;
		if (labels > c->rev_max_labels)
			continue;
		b = kz_map_get(&c->revzones, p);
		if (b)
			return b;
	}
	return NULL;
}

/* R8, R13: a PTR for IP pointing at TARGET, when a served zone holds it. */
static void
add_ptr(struct render_ctx *c, const struct zg_ip *ip, const char *target,
    const char *src)
{
	char owner[ZG_NAME_TEXT];
	struct zone_build *b;

	zg_reverse_name(ip, owner, sizeof(owner));
	b = reverse_zone_for(c, owner);
	if (b)
		add_name_rr(c, b, owner, T_PTR, target, src);
}

/* --- namespaces ---------------------------------------------------------- */

static bool
ns_exposed(struct render_ctx *c, const char *ns)
{
	const struct zg_render_opts *o = c->o;

	if (o->nnamespaces) {
		size_t i;
		for (i = 0; i < o->nnamespaces; i++)
			if (strcmp(o->namespaces[i], ns) == 0)
				break;
		if (i == o->nnamespaces)
			return false;
	}
	/* Namespace objects are optional: when the input has none, every
	 * namespace exists. */
	if (zg_model_count(c->m, ZG_KIND_NAMESPACE) > 0 &&
	    !zg_model_has_namespace(c->m, ns))
		return false;
	return true;
}

/* --- apex records (R1-R4) ------------------------------------------------ */

static void
apex_records(struct render_ctx *c)
{
	const struct zg_render_opts *o = c->o;
	char owner[ZG_NAME_TEXT], ns[ZG_NAME_TEXT];
	const struct zg_ip *ips = o->dns_ips;
	size_t nips = o->ndns_ips;
	const struct zg_service *kdns;
	static const uint8_t txtkey[] = { 5, '1', '.', '1', '.', '0' };

	snprintf(ns, sizeof(ns), "ns.dns.%s", c->zone);
	for (size_t i = 0; i < c->out->nzones; i++) {
		const char *origin = c->out->zones[i].origin;
		char apex[ZG_NAME_TEXT];

		snprintf(apex, sizeof(apex), "%.*s", (int)strlen(origin) - 1,
		    origin);
		add_name_rr(c, &c->zb[i], apex, T_NS, ns, "zone apex");
	}
	snprintf(owner, sizeof(owner), "dns-version.%s", c->zone);
	add_rr(c, &c->zb[0], owner, T_TXT, DNS_VERSION_TTL, "\"" DNS_VERSION "\"",
	    txtkey, sizeof(txtkey), NULL, "zone apex", 0);

	if (nips == 0) {
		kdns = zg_model_service(c->m, "kube-system/kube-dns");
		if (kdns && !kdns->headless) {
			ips = kdns->ips;
			nips = kdns->nips;
		}
	}
	if (nips == 0)
		kz_warn("no name server address",
		    "name=%s hint=\"use --dns-ip, or include the kube-system/kube-dns Service\"",
		    ns);
	for (size_t i = 0; i < nips; i++)
		add_addr(c, &c->zb[0], ns, &ips[i], o->ttl, "zone apex");
}

/* --- services ---------------------------------------------------------- */

static const char *const proto_labels[] = { "_tcp", "_udp", "_sctp" };

/* "_name._proto.BASE" for a named port, or NULL (unnamed or invalid). */
static const char *
port_owner(struct render_ctx *c, const struct zg_port *p, const char *base,
    const char *src, char *buf, size_t bufsz)
{
	char label[ZG_NAME_TEXT];
	size_t n;

	if (p->name == NULL || p->name[0] == '\0')
		return NULL;
	n = join(label, sizeof(label), "_", p->name, (char *)NULL);
	/* E6: upper case from non-validated sources is folded. */
	for (size_t i = 0; i < n && i < sizeof(label); i++)
		if (label[i] >= 'A' && label[i] <= 'Z')
			label[i] = (char)(label[i] - 'A' + 'a');
	join(buf, bufsz, label, ".", proto_labels[p->proto % 3], ".", base,
	    (char *)NULL);
	if (n >= sizeof(label) || !zg_label_ok(label, n, true)) {
		/* E13: a 63-character port name makes a 64-octet label. */
		skip_warn(c, src, buf, n > ZG_LABEL_MAX ?
		    "port label longer than 63 octets" :
		    "port name is not a DNS label");
		return NULL;
	}
	return name_ok(c, buf, src) ? buf : NULL;
}

static int
cmp_ip(const void *a, const void *b)
{
	return zg_ip_cmp(a, b);
}

static bool
is_clusterip(struct render_ctx *c, const struct zg_ip *ip)
{
	return bsearch(ip, c->clusterips, c->nclusterips,
	    sizeof(*c->clusterips), cmp_ip) != NULL;
}

/* R15: ExternalName CNAME (E9, E10). */
static void
render_external(struct render_ctx *c, const struct zg_service *s,
    const char *base, const char *src)
{
	char target[ZG_NAME_TEXT];
	const char *why;
	struct zg_ip ip;
	size_t n, bl;

	if (s->external_name == NULL || s->external_name[0] == '\0') {
		skip_warn(c, src, base, "ExternalName Service without externalName");
		return;
	}
	if (zg_ip_parse(&ip, s->external_name) == KZ_OK) {
		skip_warn(c, src, base, "externalName is an IP address");
		return;
	}
	if (zg_name_parse(s->external_name, target, sizeof(target), &why)) {
		skip_warn(c, src, base, why);
		return;
	}
	if (zg_ip_parse(&ip, target) == KZ_OK) {	/* "1.2.3.4." */
		skip_warn(c, src, base, "externalName is an IP address");
		return;
	}
	/* E10: CoreDNS drops a target equal to or below the owner. */
	n = strlen(target);
	bl = strlen(base);
	if (strcmp(target, base) == 0 ||
	    (n > bl && target[n - bl - 1] == '.' &&
	    strcmp(target + n - bl, base) == 0)) {
		skip_warn(c, src, base, "externalName points at or below itself");
		return;
	}
	add_name_rr(c, &c->zb[0], base, T_CNAME, target, src);
}

/* One ready endpoint address with its label, for E4 checking. */
struct ready_addr {
	const struct zg_epaddr *a;
	const struct zg_slice *slice;
	char label[ZG_NAME_TEXT];
	bool from_hostname;
};

/* The ready addresses of S across its slices (R18, E1). */
static size_t
ready_set(struct render_ctx *c, const struct zg_slice *const *slices,
    size_t nslices, struct ready_addr **out)
{
	size_t n = 0, cap = 0;
	struct ready_addr *v = NULL, *p;

	for (size_t i = 0; i < nslices; i++) {
		const struct zg_slice *sl = slices[i];
		for (uint32_t j = 0; j < sl->naddrs; j++) {
			const struct zg_epaddr *a = &sl->addrs[j];
			if (!a->ready)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				p = realloc(v, cap * sizeof(*v));
				if (p == NULL) {
					free(v);
					c->rc = KZ_ENOMEM;
					*out = NULL;
					return 0;
				}
				v = p;
			}
			v[n].a = a;
			v[n].slice = sl;
			v[n].from_hostname = a->hostname && a->hostname[0];
			zg_endpoint_label(a, c->o->endpoint_pod_names,
			    v[n].label, sizeof(v[n].label));
			n++;
		}
	}
	*out = v;
	return n;
}

static int
cmp_ready_label(const void *a, const void *b)
{
	const struct ready_addr *x = a, *y = b;

	return strcmp(x->label, y->label);
}

/* E4: a hostname that equals another endpoint's dashed address. */
static void
warn_label_clash(struct ready_addr *v, size_t n,
    const char *src)
{
	struct ready_addr *sorted;

	if (n < 2)
		return;
	sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return;
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_ready_label);
	for (size_t i = 0; i + 1 < n; i++) {
		size_t j = i + 1;
		if (strcmp(sorted[i].label, sorted[j].label) == 0 &&
		    sorted[i].from_hostname != sorted[j].from_hostname) {
			char ql[300], qs[300];
			kz_warn("endpoint name shared by a hostname and an address",
			    "object=%s label=%s",
			    kz_log_quote(qs, sizeof(qs), src),
			    kz_log_quote(ql, sizeof(ql), sorted[i].label));
			break;
		}
	}
	free(sorted);
}

/*
 * Endpoint records of a Service: R10 (headless) or R14 (ClusterIP) names,
 * R11/R12 SRV (headless only), R13 PTR, and R9 (headless only).
 */
static void
render_endpoints(struct render_ctx *c, const struct zg_service *s,
    const char *base, const char *src, const struct zg_slice *const *slices,
    size_t nslices)
{
	bool headless = s->headless;
	struct ready_addr *v = NULL;
	size_t n = ready_set(c, slices, nslices, &v);
	char name[SCRATCH + ZG_NAME_TEXT + 2], owner[SCRATCH * 2];

	if (v == NULL)
		return;
	warn_label_clash(v, n, src);
	for (size_t i = 0; i < n && c->rc == 0; i++) {
		const struct zg_epaddr *a = v[i].a;
		const struct zg_slice *sl = v[i].slice;
		bool label_ok;

		if (headless)
			add_addr(c, &c->zb[0], base, &a->ip, c->o->ttl, src);	/* R9 */
		/* Without R14, a ClusterIP Service's endpoints get no names,
		 * and so no PTRs (they would point at nothing). */
		if (!headless && !c->o->clusterip_endpoint_names)
			continue;
		label_ok = zg_label_ok(v[i].label, strlen(v[i].label), false);
		join(name, sizeof(name), v[i].label, ".", base, (char *)NULL);
		if (!label_ok) {
			skip_warn(c, src, name, strlen(v[i].label) > ZG_LABEL_MAX ?
			    "endpoint label longer than 63 octets" :
			    "endpoint hostname is not a DNS label");
			continue;
		}
		if (!name_ok(c, name, src))
			continue;
		add_addr(c, &c->zb[0], name, &a->ip, c->o->ttl, src);	/* R10/R14 */
		if (headless) {
			for (uint16_t p = 0; p < sl->nports; p++) {
				const struct zg_port *pt = &sl->ports[p];
				if (pt->port == 0)
					continue;	/* E26: no port number */
				if (port_owner(c, pt, base, src, owner,
				    sizeof(owner)))
					add_srv(c, owner, pt->port, name, true,
					    src);	/* R11 */
				add_srv(c, base, pt->port, name, true, src);	/* R12 */
			}
		}
		/* R13: not for addresses that are some Service's ClusterIP. */
		if (!is_clusterip(c, &a->ip))
			add_ptr(c, &a->ip, name, src);
	}
	free(v);
}

/* R5-R8: the ClusterIP records. */
static void
render_clusterip(struct render_ctx *c, const struct zg_service *s,
    const char *base, const char *src)
{
	char owner[SCRATCH];

	for (uint8_t i = 0; i < s->nips; i++) {
		add_addr(c, &c->zb[0], base, &s->ips[i], c->o->ttl, src);	/* R5 */
		add_ptr(c, &s->ips[i], base, src);				/* R8 */
	}
	for (uint16_t p = 0; p < s->nports; p++) {
		const struct zg_port *pt = &s->ports[p];
		if (pt->port == 0)
			continue;
		if (port_owner(c, pt, base, src, owner, sizeof(owner)))
			add_srv(c, owner, pt->port, base, false, src);	/* R6 */
		add_srv(c, base, pt->port, base, false, src);		/* R7 */
	}
}

static void
render_service(struct render_ctx *c, const struct zg_service *s,
    const struct zg_slice *const *slices, size_t nslices)
{
	char base[SCRATCH];
	const char *src;

	if (join(base, sizeof(base), "Service ", s->key, (char *)NULL) <
	    sizeof(base))
		src = kz_arena_strdup(&c->arena, base);
	else
		src = kz_arena_printf(&c->arena, "Service %s", s->key);
	if (src == NULL) {
		c->rc = KZ_ENOMEM;
		return;
	}
	join(base, sizeof(base), s->name, ".", s->ns, ".svc.", c->zone,
	    (char *)NULL);
	if (!zg_label_ok(s->name, strlen(s->name), false) ||
	    !zg_label_ok(s->ns, strlen(s->ns), false)) {
		skip_warn(c, src, base, strlen(s->name) > ZG_LABEL_MAX ||
		    strlen(s->ns) > ZG_LABEL_MAX ?
		    "label longer than 63 octets" :
		    "name is not a DNS label");
		return;
	}
	if (!name_ok(c, base, src))
		return;
	c->out->stats.services++;
	if (s->type == ZG_SVC_EXTERNALNAME) {
		render_external(c, s, base, src);
		return;
	}
	if (!s->headless) {
		if (s->nips == 0) {
			skip_warn(c, src, base, "Service without clusterIP");
			return;
		}
		render_clusterip(c, s, base, src);
	}
	/* A headless Service with no ready endpoints gets no records at
	 * all: NXDOMAIN (R19). */
	render_endpoints(c, s, base, src, slices, nslices);
}

/* --- pods (R16) -------------------------------------------------------- */

static void
render_pods(struct render_ctx *c)
{
	char label[ZG_NAME_TEXT], name[SCRATCH];
	size_t it = 0;
	void *v;

	while (kz_map_next(&c->m->objects[ZG_KIND_POD], &it, NULL, &v)) {
		const struct zg_pod *p = v;

		if (!p->active || p->nips == 0)
			continue;
		if (!ns_exposed(c, p->ns)) {
			c->out->stats.filtered++;
			continue;
		}
		for (uint8_t i = 0; i < p->nips; i++) {
			zg_pod_label(&p->ips[i], label, sizeof(label));
			join(name, sizeof(name), label, ".", p->ns, ".pod.",
			    c->zone, (char *)NULL);
			if (zg_name_check(name, NULL) != KZ_OK) {
				const char *src = kz_arena_printf(&c->arena,
				    "Pod %s/%s", p->ns, p->name);
				name_ok(c, name, src ? src : "Pod");
				continue;
			}
			add_addr(c, &c->zb[0], name, &p->ips[i], c->o->ttl,
			    "Pod");
		}
	}
}

/* --- service and slice traversal ----------------------------------------- */

struct svc_slices {
	const struct zg_service *svc;
	const struct zg_slice **slices;
	size_t n, cap;
};

static int
cmp_svc(const void *a, const void *b)
{
	const struct svc_slices *x = a, *y = b;

	return strcmp(x->svc->key, y->svc->key);
}

static int
cmp_slice_ptr(const void *a, const void *b)
{
	const struct zg_slice *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

/*
 * Services in key order, each with its slices (E1: every slice whose
 * service-name label names it; E20, E21: orphan, unlabelled and FQDN
 * slices are ignored).
 */
static struct svc_slices *
collect_services(struct render_ctx *c, size_t *count)
{
	const struct zg_model *m = c->m;
	size_t n = 0, it = 0, nsvc = zg_model_count(m, ZG_KIND_SERVICE);
	struct svc_slices *v = calloc(nsvc ? nsvc : 1, sizeof(*v));
	struct kz_map index;
	char key[600];
	void *obj;

	if (v == NULL)
		return NULL;
	kz_map_init(&index);
	while (kz_map_next(&m->objects[ZG_KIND_SERVICE], &it, NULL, &obj)) {
		const struct zg_service *s = obj;
		if (!ns_exposed(c, s->ns)) {
			c->out->stats.filtered++;
			continue;
		}
		v[n++].svc = s;
	}
	qsort(v, n, sizeof(*v), cmp_svc);
	for (size_t i = 0; i < n; i++)
		if (kz_map_put(&index, v[i].svc->key, &v[i], NULL))
			goto nomem;
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SLICE], &it, NULL, &obj);) {
		const struct zg_slice *sl = obj;
		struct svc_slices *ss;

		if (sl->service == NULL || sl->addr_type == ZG_ADDR_FQDN)
			continue;
		snprintf(key, sizeof(key), "%s/%s", sl->ns, sl->service);
		ss = kz_map_get(&index, key);
		if (ss == NULL)
			continue;
		if (ss->n == ss->cap) {
			size_t cap = ss->cap ? ss->cap * 2 : 2;
			const struct zg_slice **p = realloc(ss->slices,
			    cap * sizeof(*p));
			if (p == NULL)
				goto nomem;
			ss->slices = p;
			ss->cap = cap;
		}
		ss->slices[ss->n++] = sl;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].n > 1)
			qsort(v[i].slices, v[i].n, sizeof(*v[i].slices),
			    cmp_slice_ptr);
	kz_map_free(&index);
	*count = n;
	return v;
nomem:
	kz_map_free(&index);
	for (size_t i = 0; i < n; i++)
		free(v[i].slices);
	free(v);
	return NULL;
}

static int
collect_clusterips(struct render_ctx *c, const struct svc_slices *v,
    size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		if (!v[i].svc->headless && v[i].svc->type != ZG_SVC_EXTERNALNAME)
			total += v[i].svc->nips;
	c->clusterips = malloc((total ? total : 1) * sizeof(*c->clusterips));
	if (c->clusterips == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct zg_service *s = v[i].svc;
		if (s->headless || s->type == ZG_SVC_EXTERNALNAME)
			continue;
		for (uint8_t j = 0; j < s->nips; j++)
			c->clusterips[c->nclusterips++] = s->ips[j];
	}
	qsort(c->clusterips, c->nclusterips, sizeof(*c->clusterips), cmp_ip);
	return KZ_OK;
}

/* --- finishing a zone -------------------------------------------------------- */

static int
cmp_keys(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int r = memcmp(a, b, n);

	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int
cmp_rr(const void *pa, const void *pb)
{
	const struct rr *a = pa, *b = pb;
	int r = cmp_keys(a->okey, a->okeylen, b->okey, b->okeylen);

	if (r)
		return r;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	r = cmp_keys(a->rkey, a->rkeylen, b->rkey, b->rkeylen);
	if (r)
		return r;
	/* Same record from two objects: keep the order total. */
	return strcmp(a->src, b->src);
}

static bool
same_rr(const struct rr *a, const struct rr *b)
{
	return a->type == b->type && a->okeylen == b->okeylen &&
	    a->rkeylen == b->rkeylen &&
	    memcmp(a->okey, b->okey, a->okeylen) == 0 &&
	    memcmp(a->rkey, b->rkey, a->rkeylen) == 0;
}

static bool
same_owner(const struct rr *a, const struct rr *b)
{
	return a->okeylen == b->okeylen &&
	    memcmp(a->okey, b->okey, a->okeylen) == 0;
}

/* Sort, drop duplicates (E2) and CNAMEs that share their owner (E11). */
static void
finish_records(struct render_ctx *c, struct zone_build *b)
{
	size_t i, j, k;

	qsort(b->rrs, b->n, sizeof(*b->rrs), cmp_rr);
	for (i = 0, k = 0; i < b->n; i++) {
		if (k > 0 && same_rr(&b->rrs[k - 1], &b->rrs[i]))
			continue;
		b->rrs[k++] = b->rrs[i];
	}
	b->n = k;
	for (i = 0; i < b->n; i = j) {
		bool cname = false, other = false;
		for (j = i; j < b->n && same_owner(&b->rrs[i], &b->rrs[j]); j++) {
			if (b->rrs[j].type == T_CNAME)
				cname = true;
			else
				other = true;
		}
		if (!(cname && other))
			continue;
		for (k = i; k < j; k++)
			if (b->rrs[k].type == T_CNAME) {
				b->rrs[k].flags |= RR_DROP;
				skip_warn(c, b->rrs[k].src, b->rrs[k].owner,
				    "CNAME would share its name with other records");
			}
	}
}

/* Append the decimal form of V. */
static int
put_uint(struct kz_buf *b, unsigned v)
{
	char tmp[12];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return kz_buf_append(b, tmp + n, sizeof(tmp) - n);
}

/* One line: "OWNER<TAB>TTL<TAB>IN<TAB>TYPE<TAB>[0 WEIGHT ]RDATA\n". */
static int
put_rr(struct kz_buf *b, const struct rr *r, size_t olen, unsigned weight)
{
	static const char *const tname[64] = { [T_A] = "A", [T_NS] = "NS",
		[T_CNAME] = "CNAME", [T_PTR] = "PTR", [T_TXT] = "TXT",
		[T_AAAA] = "AAAA", [T_SRV] = "SRV" };
	size_t len = strlen(r->owner);
	int rc;

	/* Owners are relative to the origin; the apex is "@". */
	if (len > olen)
		rc = kz_buf_append(b, r->owner, len - olen - 1);
	else
		rc = kz_buf_putc(b, '@');
	rc = rc ? rc : kz_buf_putc(b, '\t');
	rc = rc ? rc : put_uint(b, r->ttl);
	rc = rc ? rc : kz_buf_puts(b, "\tIN\t");
	rc = rc ? rc : kz_buf_puts(b, tname[r->type]);
	rc = rc ? rc : kz_buf_putc(b, '\t');
	if (r->type == T_SRV) {
		rc = rc ? rc : kz_buf_puts(b, "0 ");
		rc = rc ? rc : put_uint(b, weight);
		rc = rc ? rc : kz_buf_putc(b, ' ');
	}
	rc = rc ? rc : kz_buf_puts(b, r->rdata);
	return rc ? rc : kz_buf_putc(b, '\n');
}

static int
write_zone(struct render_ctx *c, struct zone_build *b)
{
	struct zg_zone *z = b->z;
	size_t olen = strlen(z->origin) - 1, i, j;	/* without final dot */
	int rc = 0;

	for (i = 0; i < b->n && rc == 0; i = j) {
		size_t rrset = 0;
		unsigned w;

		for (j = i; j < b->n && same_owner(&b->rrs[i], &b->rrs[j]) &&
		    b->rrs[j].type == b->rrs[i].type; j++)
			if (!(b->rrs[j].flags & RR_DROP))
				rrset++;
		/* SRV weights: 100, or shared out over the RRset (R11, R12). */
		w = (b->rrs[i].flags & RR_SRV_SHARE) && rrset ?
		    (unsigned)(100 / rrset) : 100;
		for (size_t k = i; k < j && rc == 0; k++) {
			if (b->rrs[k].flags & RR_DROP)
				continue;
			rc = put_rr(&z->body, &b->rrs[k], olen, w ? w : 1);
			z->nrecords++;
		}
	}
	z->nrecords++;	/* the SOA */
	c->out->stats.records += z->nrecords;
	return rc;
}

static void
hash_zone(struct zg_zone *z)
{
	uint64_t h = KZ_FNV64_INIT;
	const uint32_t nums[3] = { z->soa_ttl, z->ttl, 0 };
	uint8_t b[sizeof(nums)];

	/* The numbers byte by byte, least significant first (as the
	 * hashes kept in publish.state were computed on x86). */
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(nums[i / 4] >> (8 * (i % 4)));
	h = kz_fnv64(h, z->origin, strlen(z->origin) + 1);
	h = kz_fnv64(h, z->mname, strlen(z->mname) + 1);
	h = kz_fnv64(h, z->rname, strlen(z->rname) + 1);
	h = kz_fnv64(h, b, sizeof(b));
	z->hash = z->body.len ? kz_fnv64(h, z->body.data, z->body.len) : h;
}

/* --- entry points -------------------------------------------------------- */

static void
render_ctx_free(struct render_ctx *c)
{
	for (size_t i = 0; c->zb && i < c->out->nzones; i++)
		free(c->zb[i].rrs);
	free(c->zb);
	free(c->clusterips);
	kz_map_free(&c->revzones);
	kz_arena_free(&c->arena);
}

int
zg_render(const struct zg_model *m, const struct zg_render_opts *o,
    struct zg_zoneset *out)
{
	struct render_ctx c;
	struct svc_slices *svcs = NULL;
	size_t nsvcs = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.m = m;
	c.o = o;
	c.out = out;
	c.zone = o->zone;
	kz_arena_init(&c.arena, 1 << 20);
	kz_map_init(&c.revzones);

	rc = make_zones(&c);
	if (rc)
		goto out;
	svcs = collect_services(&c, &nsvcs);
	if (svcs == NULL || collect_clusterips(&c, svcs, nsvcs)) {
		rc = KZ_ENOMEM;
		goto out;
	}
	apex_records(&c);
	for (size_t i = 0; i < nsvcs && c.rc == 0; i++)
		render_service(&c, svcs[i].svc, svcs[i].slices, svcs[i].n);
	if (o->pod_records)
		render_pods(&c);
	rc = c.rc;
	for (size_t i = 0; i < out->nzones && rc == 0; i++) {
		finish_records(&c, &c.zb[i]);
		rc = write_zone(&c, &c.zb[i]);
		hash_zone(&out->zones[i]);
		free(c.zb[i].rrs);
		c.zb[i].rrs = NULL;
	}
out:
	for (size_t i = 0; svcs && i < nsvcs; i++)
		free(svcs[i].slices);
	free(svcs);
	render_ctx_free(&c);
	return rc;
}

void
zg_zoneset_free(struct zg_zoneset *zs)
{
	for (size_t i = 0; i < zs->nzones; i++) {
		struct zg_zone *z = &zs->zones[i];
		free(z->origin);
		free(z->file);
		free(z->mname);
		free(z->rname);
		kz_buf_free(&z->body);
	}
	free(zs->zones);
	memset(zs, 0, sizeof(*zs));
}

const struct zg_zone *
zg_zoneset_find(const struct zg_zoneset *zs, const char *origin)
{
	size_t n = zg_name_bare_len(origin);

	for (size_t i = 0; i < zs->nzones; i++) {
		const char *z = zs->zones[i].origin;
		if (strncmp(z, origin, n) == 0 && (z[n] == '\0' ||
		    (z[n] == '.' && z[n + 1] == '\0')))
			return &zs->zones[i];
	}
	return NULL;
}

int
zg_zone_write(const struct zg_zone *z, uint32_t serial, struct kz_buf *out)
{
	int rc;

	rc = kz_buf_printf(out,
	    "$ORIGIN %s\n"
	    "$TTL %u\n"
	    "@\t%u\tIN\tSOA\t%s %s %u %u %u %u %u\n",
	    z->origin, z->ttl, z->soa_ttl, z->mname, z->rname, serial,
	    SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, z->ttl);
	if (rc == 0 && z->body.len)
		rc = kz_buf_append(out, z->body.data, z->body.len);
	return rc;
}
