/*
 * zonegen/render.c -- the Kubernetes DNS rules.
 *
 * The rules run per object -- the zone apex, a Service with its
 * EndpointSlices, a Pod -- and emit that object's records into a zone
 * database (zonedb.h), which decides per owner name what is served
 * (duplicates, CNAME conflicts, R13, SRV weights, the RRset cap). A
 * render is a database loaded with the whole model, written as text.
 * Rule numbers (R1..R25, E1..E30) refer to the rule book summarised in
 * docs/records.md.
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
#include "zonegen/zonedb.h"

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
#define ZONE_TEXT_MAX ((size_t)4 << 30)

/* Scratch size for names while they are built: big enough for any
 * concatenation of checked parts; zg_name_check() rejects what is long. */
#define SCRATCH 1024

#define WARNED_MAX 8	/* distinct reasons warned about per object */

struct render_ctx {
	struct zg_db *db;
	const struct zg_model *m;
	const struct zg_render_opts *o;
	const char *zone;		/* the cluster domain, no final dot */
	const char *warned[WARNED_MAX];	/* reasons this object warned */
	size_t nwarned;
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

/* --- explaining --------------------------------------------------------- */

/*
 * Append S to the note OUT of length O; returns the new length (the
 * note is cut at ZG_DB_NOTE_MAX - 1 bytes). The note ends up in a
 * zone-file comment, which a line break would end: names come from
 * the input unchecked (a slice's, a target pod's), so every byte but
 * printable ASCII becomes '?', and so does ';', which separates the
 * contributors of a record.
 */
static size_t
note_put(char *out, size_t o, const char *s)
{
	for (; *s != '\0' && o + 1 < ZG_DB_NOTE_MAX; s++)
		out[o++] = *s >= 0x20 && *s < 0x7f && *s != ';' ? *s : '?';
	out[o] = '\0';
	return o;
}

/*
 * When the database explains (zg_db_explain), set what the records
 * emitted next come from: the PARTS (NULL-terminated), then, when
 * Namespace objects decide which namespaces exist, the Namespace NS
 * (NULL: none), then the RULE in parentheses: "Service shop/web,
 * Namespace shop (R5)". Nothing otherwise: the daemon never explains.
 */
static void
explain(struct render_ctx *c, const char *ns, const char *rule, ...)
{
	char *out = c->db->note;
	const char *part;
	size_t o = 0;
	va_list ap;

	if (out == NULL)
		return;
	va_start(ap, rule);
	while ((part = va_arg(ap, const char *)) != NULL)
		o = note_put(out, o, part);
	va_end(ap);
	if (ns != NULL && c->db->had_namespaces) {
		o = note_put(out, o, ", Namespace ");
		o = note_put(out, o, ns);
	}
	o = note_put(out, o, " (");
	o = note_put(out, o, rule);
	note_put(out, o, ")");
}

/* Explaining costs a render that does not explain one test per
 * record (the daemon never explains). */
#define EXPLAIN(c, ...) do {						\
	if ((c)->db->note != NULL)					\
		explain((c), __VA_ARGS__);				\
} while (0)
#define EXPLAIN_ENDPOINT(c, s, sl, a, rule) do {			\
	if ((c)->db->note != NULL)					\
		explain_endpoint((c), (s), (sl), (a), (rule));		\
} while (0)

/* The same for a record an endpoint address A of slice SL of Service S
 * gives: "Service shop/web, EndpointSlice shop/web-abc12 endpoint
 * 10.244.1.10 (pod web-7d9-x2) (R14)". */
static void
explain_endpoint(struct render_ctx *c, const struct zg_service *s,
    const struct zg_slice *sl, const struct zg_epaddr *a, const char *rule)
{
	char ip[64];

	if (c->db->note == NULL)
		return;
	zg_ip_str(&a->ip, ip, sizeof(ip));
	explain(c, s->ns, rule, "Service ", s->key, ", EndpointSlice ",
	    sl->key, " endpoint ", ip, a->target ? " (pod " : "",
	    a->target ? a->target : "", a->target ? ")" : "", (char *)NULL);
}

/* --- records ----------------------------------------------------------- */

static void
add_addr(struct render_ctx *c, size_t zone, const char *owner,
    const struct zg_ip *ip)
{
	zg_db_emit(c->db, zone, owner, ip->family == ZG_IPV4 ? T_A : T_AAAA,
	    ip->addr, ip->family == ZG_IPV4 ? 4 : 16, 0);
}

static void
add_name_rr(struct render_ctx *c, size_t zone, const char *owner,
    uint16_t type, const char *target, uint8_t flags)
{
	uint8_t wire[ZG_NAME_MAX + 2];
	size_t n = zg_name_wire(target, wire, sizeof(wire));

	zg_db_emit(c->db, zone, owner, type, wire, n, flags);
}

static void
add_srv_in(struct render_ctx *c, size_t zone, const char *owner,
    uint16_t port, const char *target, bool share)
{
	uint8_t rd[2 + ZG_NAME_MAX + 2];
	size_t n;

	/* Priority and weight are the database's: port and target here. */
	rd[0] = (uint8_t)(port >> 8);
	rd[1] = (uint8_t)port;
	n = zg_name_wire(target, rd + 2, sizeof(rd) - 2);
	zg_db_emit(c->db, zone, owner, T_SRV, rd, n + 2,
	    share ? ZG_RR_SRV_SHARE : 0);
}

static void
add_srv(struct render_ctx *c, const char *owner, uint16_t port,
    const char *target, bool share)
{
	add_srv_in(c, 0, owner, port, target, share);
}

/* --- warnings ------------------------------------------------------------ */

/* True the first time this object skips a record for REASON. */
static bool
first_warning(struct render_ctx *c, const char *reason)
{
	for (size_t i = 0; i < c->nwarned; i++)
		if (strcmp(c->warned[i], reason) == 0)
			return false;
	if (c->nwarned < WARNED_MAX)
		c->warned[c->nwarned++] = reason;
	return true;
}

/* Count a skipped record; warn once per object and reason (the first
 * name skipped stands for the others, one per endpoint say). */
static void
skip_warn(struct render_ctx *c, const char *src, const char *what,
    const char *reason)
{
	char qsrc[300], qwhat[300], qreason[200];

	zg_db_skipped(c->db);
	if (!first_warning(c, reason))
		return;
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

/* R8, R13: a PTR for IP pointing at TARGET, when a served zone holds it;
 * with FLAGS ZG_RR_CIP_MARK, only the mark that a ClusterIP lives there. */
static void
add_ptr(struct render_ctx *c, const struct zg_ip *ip, const char *target,
    uint8_t flags)
{
	char owner[ZG_NAME_TEXT];
	long zone;

	zg_reverse_name(ip, owner, sizeof(owner));
	zone = zg_db_reverse_zone(c->db, owner);
	if (zone < 0)
		return;
	if (flags & ZG_RR_CIP_MARK)
		zg_db_emit(c->db, (size_t)zone, owner, 0, NULL, 0, flags);
	else
		add_name_rr(c, (size_t)zone, owner, T_PTR, target, flags);
}

/* --- namespaces ---------------------------------------------------------- */

bool
zg_rules_exposed(const struct zg_db *db, const struct zg_model *m,
    const char *ns)
{
	const struct zg_render_opts *o = db->o;

	if (o->nnamespaces) {
		size_t i;
		for (i = 0; i < o->nnamespaces; i++)
			if (strcmp(o->namespaces[i], ns) == 0)
				break;
		if (i == o->nnamespaces)
			return false;
	}
	/* With --namespace-labels only the Namespaces it selects are in
	 * the model, and only they are exposed. */
	if (o->ns_labels)
		return zg_model_has_namespace(m, ns);
	/* Namespace objects are optional: when the input has none, every
	 * namespace exists. */
	if (zg_model_count(m, ZG_KIND_NAMESPACE) > 0 &&
	    !zg_model_has_namespace(m, ns))
		return false;
	return true;
}

/* --- apex records (R1-R4) ------------------------------------------------ */

/* The name server's addresses: --dns-ip, else kube-system/kube-dns's
 * ClusterIPs. *IPS is borrowed; returns their number (0: none known). */
static size_t
apex_ns_ips(const struct zg_render_opts *o, const struct zg_model *m,
    const struct zg_ip **ips)
{
	const struct zg_service *kdns;

	*ips = o->dns_ips;
	if (o->ndns_ips)
		return o->ndns_ips;
	kdns = zg_model_service(m, "kube-system/kube-dns");
	if (kdns == NULL || kdns->headless)
		return 0;
	*ips = kdns->ips;
	return kdns->nips;
}

/*
 * R2, R3: every zone's NS is ns.dns.<zone>, with its addresses in the
 * cluster zone. With no address known, an NS inside the zone would have
 * none, and BIND and Knot refuse such a zone: the NS is then localhost.
 * (as in BIND's own local zones) and kubezone warns.
 */
static void
apex_default_ns(struct render_ctx *c)
{
	struct zg_db *db = c->db;
	char ns[ZG_NAME_TEXT];
	const struct zg_ip *ips;
	size_t nips = apex_ns_ips(c->o, c->m, &ips);

	join(ns, sizeof(ns), "ns.dns.", c->zone, (char *)NULL);
	if (nips == 0)
		kz_warn("no name server address", "name=%s ns=localhost. "
		    "hint=\"use --dns-ip or --ns, or include the "
		    "kube-system/kube-dns Service\"", ns);
	EXPLAIN(c, NULL, "R2", nips ? "zone apex" :
	    "zone apex: no name server address, localhost", (char *)NULL);
	for (size_t i = 0; i < db->nzones; i++) {
		char apex[ZG_NAME_TEXT];

		if (i + 1 == db->catalog)
			continue;
		zg_name_bare(apex, sizeof(apex), db->zones[i].origin);
		add_name_rr(c, i, apex, T_NS, nips ? ns : "localhost", 0);
	}
	if (c->o->ndns_ips)
		EXPLAIN(c, NULL, "R3", "zone apex: --dns-ip", (char *)NULL);
	else
		EXPLAIN(c, NULL, "R3", "zone apex: ClusterIP of Service "
		    "kube-system/kube-dns", (char *)NULL);
	for (size_t i = 0; i < nips; i++)
		add_addr(c, 0, ns, &ips[i]);
}

/*
 * R2, R3 with --ns: every zone's NS RRset names the servers given, and
 * those inside the cluster domain have their addresses there (the
 * options are checked: each has one, and none is in a reverse zone, so
 * no reverse zone needs an address record).
 */
static void
apex_given_ns(struct render_ctx *c)
{
	const struct zg_render_opts *o = c->o;
	struct zg_db *db = c->db;

	EXPLAIN(c, NULL, "R2", "zone apex: --ns", (char *)NULL);
	for (size_t i = 0; i < db->nzones; i++) {
		char apex[ZG_NAME_TEXT];

		if (i + 1 == db->catalog)
			continue;
		zg_name_bare(apex, sizeof(apex), db->zones[i].origin);
		for (size_t j = 0; j < o->nns; j++)
			add_name_rr(c, i, apex, T_NS, o->ns[j].name, 0);
	}
	for (size_t j = 0; j < o->nns; j++) {
		char ip[64] = "";

		if (!o->ns[j].has_ip || !zg_in_cluster_zone(o, o->ns[j].name))
			continue;
		if (db->note != NULL)
			zg_ip_str(&o->ns[j].ip, ip, sizeof(ip));
		EXPLAIN(c, NULL, "R3", "zone apex: --ns ", o->ns[j].name, "=",
		    ip, (char *)NULL);
		add_addr(c, 0, o->ns[j].name, &o->ns[j].ip);
	}
}

void
zg_catalog_label(const char *origin, char *out, size_t outsz)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, 64 bits */
	size_t n = strlen(origin);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)origin[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * 0x100000001b3ULL;
	}
	if (n == 0 || origin[n - 1] != '.')
		h = (h ^ '.') * 0x100000001b3ULL;
	snprintf(out, outsz, "%016llx", (unsigned long long)h);
}

/*
 * The catalog zone (RFC 9432, version 2): the NS RRset "invalid." that
 * section 4.1 asks for, the version TXT "2", and one member PTR
 * <label>.zones.<catalog> per served zone.
 */
static void
apex_catalog(struct render_ctx *c)
{
	struct zg_db *db = c->db;
	size_t cz = db->catalog - 1;
	static const uint8_t version[] = { 1, '2' };
	char owner[ZG_NAME_TEXT], label[17], target[ZG_NAME_TEXT];

	EXPLAIN(c, NULL, "RFC 9432", "catalog zone: --catalog-zone",
	    (char *)NULL);
	add_name_rr(c, cz, c->o->catalog, T_NS, "invalid", 0);
	join(owner, sizeof(owner), "version.", c->o->catalog, (char *)NULL);
	zg_db_emit(db, cz, owner, T_TXT, version, sizeof(version), 0);
	for (size_t i = 0; i < db->nmembers; i++) {
		zg_catalog_label(db->members[i], label, sizeof(label));
		join(owner, sizeof(owner), label, ".zones.", c->o->catalog,
		    (char *)NULL);
		EXPLAIN(c, NULL, "RFC 9432", "catalog member: zone ",
		    db->members[i], (char *)NULL);
		add_name_rr(c, cz, owner, T_PTR, db->members[i], 0);
	}
	for (size_t i = 0; db->members == NULL && i < db->nzones; i++) {
		if (i == cz)
			continue;
		zg_catalog_label(db->zones[i].origin, label, sizeof(label));
		join(owner, sizeof(owner), label, ".zones.", c->o->catalog,
		    (char *)NULL);
		zg_name_bare(target, sizeof(target), db->zones[i].origin);
		EXPLAIN(c, NULL, "RFC 9432", "catalog member: zone ", target,
		    (char *)NULL);
		add_name_rr(c, cz, owner, T_PTR, target, 0);
	}
}

/* R2-R4: the apex object: NS and its addresses, the dns-version TXT;
 * and the catalog zone's records. */
void
zg_rules_apex(struct zg_db *db, const struct zg_model *m)
{
	const struct zg_render_opts *o = db->o;
	struct render_ctx c = { db, m, o, o->zone };
	char owner[ZG_NAME_TEXT];
	static const uint8_t txt[] = { 5, '1', '.', '1', '.', '0' };

	if (db->members) {	/* a catalog of other databases' zones */
		apex_catalog(&c);
		return;
	}
	if (o->nns)
		apex_given_ns(&c);
	else
		apex_default_ns(&c);
	join(owner, sizeof(owner), "dns-version.", c.zone, (char *)NULL);
	EXPLAIN(&c, NULL, "R4", "schema version", (char *)NULL);
	zg_db_emit(db, 0, owner, T_TXT, txt, sizeof(txt), 0);
	if (db->clusterset) {
		/* The MCS DNS specification's schema version (2.2). */
		static const uint8_t mcs[] = { 5, '1', '.', '0', '.', '0' };

		join(owner, sizeof(owner), "dns-version.", o->clusterset,
		    (char *)NULL);
		EXPLAIN(&c, NULL, "MCS 2.2", "clusterset schema version",
		    (char *)NULL);
		zg_db_emit(db, db->clusterset - 1, owner, T_TXT, mcs,
		    sizeof(mcs), 0);
	}
	if (db->catalog)
		apex_catalog(&c);
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
	EXPLAIN(c, s->ns, "R15", "Service ", s->key, (char *)NULL);
	add_name_rr(c, 0, base, T_CNAME, target, 0);
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
					c->db->rc = KZ_ENOMEM;
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
	for (size_t i = 0; i < n && c->db->rc == 0; i++) {
		const struct zg_epaddr *a = v[i].a;
		const struct zg_slice *sl = v[i].slice;
		bool label_ok;

		if (headless) {
			EXPLAIN_ENDPOINT(c, s, sl, a, "R9");
			add_addr(c, 0, base, &a->ip);	/* R9 */
		}
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
		EXPLAIN_ENDPOINT(c, s, sl, a, headless ? "R10" : "R14");
		add_addr(c, 0, name, &a->ip);	/* R10/R14 */
		if (headless) {
			for (uint16_t p = 0; p < sl->nports; p++) {
				const struct zg_port *pt = &sl->ports[p];
				if (pt->port == 0)
					continue;	/* E26: no port number */
				EXPLAIN_ENDPOINT(c, s, sl, a, "R11");
				if (port_owner(c, pt, base, src, owner,
				    sizeof(owner)))
					add_srv(c, owner, pt->port, name,
					    true);	/* R11 */
				EXPLAIN_ENDPOINT(c, s, sl, a, "R12");
				add_srv(c, base, pt->port, name, true);	/* R12 */
			}
		}
		/* R13: not for addresses that are some Service's ClusterIP
		 * (the database drops it where a ClusterIP mark is). */
		EXPLAIN_ENDPOINT(c, s, sl, a, "R13");
		add_ptr(c, &a->ip, name, ZG_RR_EP_PTR);
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
		EXPLAIN(c, s->ns, "R5", "Service ", s->key, (char *)NULL);
		add_addr(c, 0, base, &s->ips[i]);	/* R5 */
		EXPLAIN(c, s->ns, "R8", "Service ", s->key, (char *)NULL);
		add_ptr(c, &s->ips[i], base, 0);	/* R8 */
	}
	for (uint16_t p = 0; p < s->nports; p++) {
		const struct zg_port *pt = &s->ports[p];
		if (pt->port == 0)
			continue;
		EXPLAIN(c, s->ns, "R6", "Service ", s->key, (char *)NULL);
		if (port_owner(c, pt, base, src, owner, sizeof(owner)))
			add_srv(c, owner, pt->port, base, false);	/* R6 */
		EXPLAIN(c, s->ns, "R7", "Service ", s->key, (char *)NULL);
		add_srv(c, base, pt->port, base, false);	/* R7 */
	}
}

/* R5-R15 and the ClusterIP marks R13 looks for. */
void
zg_rules_service(struct zg_db *db, const struct zg_model *m,
    const struct zg_service *s, const struct zg_slice *const *slices,
    size_t nslices, bool exposed)
{
	struct render_ctx ctx = { db, m, db->o, db->o->zone }, *c = &ctx;
	char base[SCRATCH], src[SCRATCH];

	if (!exposed) {
		db->stats.filtered++;
		return;
	}
	/* R13 compares endpoint addresses with every exposed Service's
	 * ClusterIPs, whether or not its own name is valid. */
	if (!s->headless && s->type != ZG_SVC_EXTERNALNAME)
		for (uint8_t i = 0; i < s->nips; i++)
			add_ptr(c, &s->ips[i], NULL, ZG_RR_CIP_MARK);
	join(src, sizeof(src), "Service ", s->key, (char *)NULL);
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
	db->stats.services++;
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

/* --- ServiceImports: the clusterset zone (MCS DNS specification) ---- */

/*
 * A ClusterSetIP import (section 2.3): A/AAAA for each clusterset IP at
 * <svc>.<ns>.svc.<clustersetzone>, an SRV at _<port>._<proto> of it for
 * each named port, pointing at that name, and a PTR for each IP where
 * it is the only PTR of the address.
 */
static void
render_import_ip(struct render_ctx *c, size_t zone,
    const struct zg_import *s, const char *base, const char *src)
{
	char owner[SCRATCH];

	for (uint8_t i = 0; i < s->nips; i++) {
		EXPLAIN(c, s->ns, "MCS 2.3.1", "ServiceImport ", s->key,
		    (char *)NULL);
		add_addr(c, zone, base, &s->ips[i]);
		EXPLAIN(c, s->ns, "MCS 2.3.3", "ServiceImport ", s->key,
		    (char *)NULL);
		add_ptr(c, &s->ips[i], base, ZG_RR_MCS_PTR);
	}
	for (uint16_t p = 0; p < s->nports; p++) {
		const struct zg_port *pt = &s->ports[p];

		EXPLAIN(c, s->ns, "MCS 2.3.2", "ServiceImport ", s->key,
		    (char *)NULL);
		if (pt->port && port_owner(c, pt, base, src, owner,
		    sizeof(owner)))
			add_srv_in(c, zone, owner, pt->port, base, false);
	}
}

/*
 * A Headless import (section 2.4): for each ready endpoint of its
 * multicluster slices, A/AAAA at the service name and at
 * <hostname>.<clusterid>.<svc>.<ns>.svc.<clustersetzone>, an SRV at
 * _<port>._<proto>.<svc>... for each named port of the endpoint's slice
 * pointing at that name, and a PTR where it is the address's only one.
 */
/* "ServiceImport shop/db, EndpointSlice shop/db-x endpoint 10.1.0.5
 * (cluster east) (MCS 2.4.1)" when explaining. */
static void
explain_import_ep(struct render_ctx *c, const struct zg_import *s,
    const struct zg_slice *sl, const struct zg_epaddr *a, const char *rule)
{
	char ip[64];

	if (c->db->note == NULL)
		return;
	zg_ip_str(&a->ip, ip, sizeof(ip));
	explain(c, s->ns, rule, "ServiceImport ", s->key, ", EndpointSlice ",
	    sl->key, " endpoint ", ip, " (cluster ", sl->mc_cluster, ")",
	    (char *)NULL);
}

static void
render_import_headless(struct render_ctx *c, size_t zone,
    const struct zg_import *s, const char *base, const char *src,
    const struct zg_slice *const *slices, size_t nslices)
{
	char label[ZG_NAME_TEXT], name[SCRATCH * 2], owner[SCRATCH * 2];

	for (size_t i = 0; i < nslices && c->db->rc == 0; i++) {
		const struct zg_slice *sl = slices[i];
		const char *cid = sl->mc_cluster;

		if (!zg_label_ok(cid, strlen(cid), false)) {
			join(name, sizeof(name), cid, ".", base, (char *)NULL);
			skip_warn(c, src, name, "source-cluster label is not a "
			    "DNS label");
			continue;
		}
		for (uint32_t j = 0; j < sl->naddrs; j++) {
			const struct zg_epaddr *a = &sl->addrs[j];

			if (!a->ready)
				continue;
			explain_import_ep(c, s, sl, a, "MCS 2.4.1");
			add_addr(c, zone, base, &a->ip);
			zg_endpoint_label(a, c->o->endpoint_pod_names, label,
			    sizeof(label));
			join(name, sizeof(name), label, ".", cid, ".", base,
			    (char *)NULL);
			if (!zg_label_ok(label, strlen(label), false)) {
				skip_warn(c, src, name, "endpoint hostname is "
				    "not a DNS label");
				continue;
			}
			if (!name_ok(c, name, src))
				continue;
			add_addr(c, zone, name, &a->ip);
			explain_import_ep(c, s, sl, a, "MCS 2.4.2");
			for (uint16_t p = 0; p < sl->nports; p++) {
				const struct zg_port *pt = &sl->ports[p];
				if (pt->port && port_owner(c, pt, base, src,
				    owner, sizeof(owner)))
					add_srv_in(c, zone, owner, pt->port,
					    name, true);
			}
			explain_import_ep(c, s, sl, a, "MCS 2.4.3");
			add_ptr(c, &a->ip, name, ZG_RR_MCS_PTR);
		}
	}
}

void
zg_rules_import(struct zg_db *db, const struct zg_import *s,
    const struct zg_slice *const *slices, size_t nslices, bool exposed)
{
	struct render_ctx ctx = { db, NULL, db->o, db->o->zone }, *c = &ctx;
	char base[SCRATCH], src[SCRATCH];
	size_t zone = db->clusterset - 1;

	if (!exposed) {
		db->stats.filtered++;
		return;
	}
	join(src, sizeof(src), "ServiceImport ", s->key, (char *)NULL);
	join(base, sizeof(base), s->name, ".", s->ns, ".svc.", db->o->clusterset,
	    (char *)NULL);
	if (!zg_label_ok(s->name, strlen(s->name), false) ||
	    !zg_label_ok(s->ns, strlen(s->ns), false)) {
		skip_warn(c, src, base, "name is not a DNS label");
		return;
	}
	if (!name_ok(c, base, src))
		return;
	if (s->type == ZG_IMPORT_CLUSTERSETIP)
		render_import_ip(c, zone, s, base, src);
	else
		render_import_headless(c, zone, s, base, src, slices, nslices);
}

/* --- pods (R16) -------------------------------------------------------- */

void
zg_rules_pod(struct zg_db *db, const struct zg_pod *p)
{
	struct render_ctx ctx = { db, NULL, db->o, db->o->zone };
	char label[ZG_NAME_TEXT], name[SCRATCH], src[SCRATCH];

	if (!p->active)
		return;
	for (uint8_t i = 0; i < p->nips; i++) {
		zg_pod_label(&p->ips[i], label, sizeof(label));
		join(name, sizeof(name), label, ".", p->ns, ".pod.", ctx.zone,
		    (char *)NULL);
		if (zg_name_check(name, NULL) != KZ_OK) {
			join(src, sizeof(src), "Pod ", p->key, (char *)NULL);
			name_ok(&ctx, name, src);
			continue;
		}
		EXPLAIN(&ctx, p->ns, "R16", "Pod ", p->key, (char *)NULL);
		add_addr(&ctx, 0, name, &p->ips[i]);
	}
}

static void
hash_zone(struct zg_zone *z)
{
	uint64_t h = KZ_FNV64_INIT;
	const uint32_t nums[7] = { z->soa_ttl, z->ttl, 0, z->refresh,
	    z->retry, z->expire, z->minimum };
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

static char *
dup_or_null(const char *s, int *rc)
{
	char *d = strdup(s);

	if (d == NULL)
		*rc = KZ_ENOMEM;
	return d;
}

/* Write every zone of DB as text into OUT. */
int
zg_db_zoneset(const struct zg_db *db, struct zg_zoneset *out)
{
	int rc = 0;

	out->zones = calloc(db->nzones ? db->nzones : 1, sizeof(*out->zones));
	if (out->zones == NULL)
		return KZ_ENOMEM;
	out->nzones = db->nzones;
	for (size_t i = 0; i < db->nzones && rc == 0; i++) {
		const struct zg_db_zone *dz = &db->zones[i];
		struct zg_zone *z = &out->zones[i];

		kz_buf_init(&z->body, ZONE_TEXT_MAX);
		z->origin = dup_or_null(dz->origin, &rc);
		z->file = dup_or_null(dz->file, &rc);
		z->mname = dup_or_null(dz->mname, &rc);
		z->rname = dup_or_null(dz->rname, &rc);
		z->ttl = dz->ttl;
		z->soa_ttl = dz->soa_ttl;
		z->refresh = dz->refresh;
		z->retry = dz->retry;
		z->expire = dz->expire;
		z->minimum = dz->minimum;
		z->explained = db->note != NULL;
		if (rc)
			break;
		rc = zg_db_write(db, i, &z->body, &z->nrecords);
		z->nrecords++;	/* the SOA */
		out->stats.records += z->nrecords;
		hash_zone(z);
	}
	return rc;
}

/*
 * The EndpointSlices of Services outside the exposed namespaces (the
 * database counts the Services and Pods it filtered, not their slices).
 */
static size_t
slices_outside(const struct zg_db *db, const struct zg_model *m)
{
	const struct zg_slice *sl;
	size_t it = 0, n = 0;
	void *v;

	while (kz_map_next(&m->objects[ZG_KIND_SLICE], &it, NULL, &v)) {
		sl = v;
		if (sl->service && sl->addr_type != ZG_ADDR_FQDN &&
		    !zg_rules_exposed(db, m, sl->ns))
			n++;
	}
	return n;
}

static int
render(const struct zg_model *m, const struct zg_render_opts *o,
    bool explained, struct zg_zoneset *out)
{
	struct zg_db db;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = zg_db_init(&db, o);
	if (rc == 0 && explained)
		rc = zg_db_explain(&db);
	if (rc == 0)
		rc = zg_db_load(&db, m);
	if (rc == 0)
		rc = zg_db_zoneset(&db, out);
	out->stats.services = db.stats.services;
	out->stats.skipped = db.stats.skipped;
	out->stats.filtered = db.stats.filtered + slices_outside(&db, m);
	zg_db_free(&db);
	return rc;
}

int
zg_render(const struct zg_model *m, const struct zg_render_opts *o,
    struct zg_zoneset *out)
{
	return render(m, o, false, out);
}

int
zg_render_explain(const struct zg_model *m, const struct zg_render_opts *o,
    struct zg_zoneset *out)
{
	return render(m, o, true, out);
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
	    "@\t%u\tIN\tSOA\t%s %s %u %u %u %u %u%s\n",
	    z->origin, z->ttl, z->soa_ttl, z->mname, z->rname, serial,
	    z->refresh, z->retry, z->expire, z->minimum,
	    z->explained ? "\t; zone apex (R1)" : "");
	if (rc == 0 && z->body.len)
		rc = kz_buf_append(out, z->body.data, z->body.len);
	return rc;
}
