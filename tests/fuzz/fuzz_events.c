/*
 * tests/fuzz/fuzz_events.c -- the zone database under a stream of
 * model events: incremental zones equal a fresh render, diffs are exact.
 *
 * The input bytes are the choices of tests/unit/test_zonedb.c's random
 * generator: byte 0 picks the render options (pod records, endpoint pod
 * names, a namespace filter, reverse zones, a small RRset cap, no R14,
 * a --dns-ip, and whether the first batch is a load without diffs);
 * then each step takes an event (put a Service, EndpointSlice, Pod or
 * Namespace with fields from the next bytes, a delete, a relist of one
 * kind, or a snapshot read again through zg_model_replace()) and how
 * many events make a batch. Names and addresses come from small pools
 * so that collisions (shared owners, duplicates, ClusterIPs at endpoint
 * addresses, CNAME conflicts, capped RRsets) are common. When the bytes
 * run out every further choice is 0; at most MAX_STEPS events.
 *
 * After each batch zg_db_apply(db, m, true) runs and, for every zone:
 *   - zg_db_write() equals the body zg_render() gives for the model,
 *     and counts as many records as the zone says it holds;
 *   - the diff, applied to a mirror of lines (zg_rr_write()) kept only
 *     from diffs, deletes only lines there and adds only lines absent,
 *     and the mirror then holds exactly the rendered lines;
 *   - the apply's result is the number of records in the diffs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/map.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/model.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 64
#define MAX_REPLACE 8		/* events in a snapshot read again */
#define TEXT_MAX (16u * 1024 * 1024)

/* Option bits of byte 0. */
#define OPT_POD_RECORDS 0x01
#define OPT_EP_POD_NAMES 0x02
#define OPT_NS_FILTER 0x04
#define OPT_REVERSE 0x08
#define OPT_SMALL_CAP 0x10
#define OPT_NO_R14 0x20
#define OPT_DNS_IP 0x40
#define OPT_FIRST_LOAD 0x80	/* the first batch is a load, no diffs */

/* The input, read as a sequence of choices. */
struct src {
	const uint8_t *p;
	size_t n, i;
};

/* A choice in [0, N): the next byte modulo N, 0 once the bytes run out. */
static uint32_t
pick(struct src *s, uint32_t n)
{
	if (s->i >= s->n)
		return 0;
	return s->p[s->i++] % n;
}

static bool
more(const struct src *s)
{
	return s->i < s->n;
}

static const char *const nss[] = { "a", "b", "kube-system", "c" };
static const char *const names[] = { "web", "db", "kube-dns", "x",
    "bad_name" };
static const char *const hosts[] = { NULL, "h0", "h1", "10-244-0-1", "Bad" };
static const char *const pnames[] = { NULL, "http", "dns", "" };
static const char *const ext[] = { "example.com", "web.a.svc.cluster.local",
    "1.2.3.4", "" };

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	FUZZ_CHECK(d != NULL, "out of memory");
	return d;
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	FUZZ_CHECK(p != NULL, "out of memory");
	return p;
}

/* POOL 0: ClusterIPs; 1: endpoints and pods, sometimes at a ClusterIP. */
static void
gen_ip(struct src *s, struct zg_ip *ip, int pool)
{
	uint32_t b = pick(s, 256);

	memset(ip, 0, sizeof(*ip));
	if (b % 6 == 0) {
		ip->family = ZG_IPV6;
		ip->addr[0] = 0xfd;
		ip->addr[15] = (uint8_t)(1 + (b / 6) % 3);
		return;
	}
	ip->family = ZG_IPV4;
	ip->addr[0] = 10;
	ip->addr[1] = pool == 0 || (b / 6) % 5 == 0 ? 96 : 244;
	ip->addr[3] = (uint8_t)(1 + (b / 30) % 4);
}

static struct zg_port *
gen_ports(struct src *s, uint16_t *n)
{
	struct zg_port *p;

	*n = (uint16_t)pick(s, 3);
	p = xcalloc(*n, sizeof(*p));
	for (uint16_t i = 0; i < *n; i++) {
		const char *nm = pnames[pick(s, 4)];
		uint32_t b = pick(s, 256);

		p[i].name = nm ? xstrdup(nm) : NULL;
		p[i].port = (uint16_t)(b % 5 == 0 ? 0 : 80 + (b / 5) % 3);
		p[i].proto = (uint8_t)((b / 15) % 2);
	}
	return p;
}

static void
put_service(struct src *s, struct zg_model *m)
{
	const char *ns = nss[pick(s, 4)];	/* in this order */
	struct zg_service *svc = zg_service_new(m, ns, names[pick(s, 5)]);
	uint32_t t = pick(s, 16);

	FUZZ_CHECK(svc != NULL, "out of memory");
	if (t == 0) {
		svc->type = ZG_SVC_EXTERNALNAME;
		svc->external_name = xstrdup(ext[pick(s, 4)]);
	} else if (t < 5) {
		svc->headless = true;
	} else {
		svc->type = (uint8_t)(t % 3);	/* ClusterIP, NodePort, LB */
		svc->nips = (uint8_t)(t == 15 ? 0 : t % 4 == 0 ? 2 : 1);
		for (uint8_t i = 0; i < svc->nips; i++)
			gen_ip(s, &svc->ips[i], 0);
	}
	svc->ports = gen_ports(s, &svc->nports);
	FUZZ_CHECK(zg_model_put_service(m, svc) == 0, "put service");
}

static void
put_slice(struct src *s, struct zg_model *m)
{
	char name[32];
	struct zg_slice *sl;
	const char *svc = names[pick(s, 5)];
	uint32_t b;
	size_t off = 0;

	snprintf(name, sizeof(name), "%s-%u", svc, pick(s, 3));
	sl = zg_slice_new(m, nss[pick(s, 4)], name);
	FUZZ_CHECK(sl != NULL, "out of memory");
	b = pick(s, 256);
	if (b % 8)
		sl->service = xstrdup(svc);
	sl->addr_type = (b / 8) % 10 == 0 ? ZG_ADDR_FQDN :
	    (b / 8) % 10 == 1 ? ZG_ADDR_IPV6 : ZG_ADDR_IPV4;
	sl->ports = gen_ports(s, &sl->nports);
	sl->naddrs = pick(s, 5);
	sl->addrs = xcalloc(sl->naddrs, sizeof(*sl->addrs));
	sl->strings = xcalloc(1, 256);
	for (uint32_t i = 0; i < sl->naddrs; i++) {
		struct zg_epaddr *a = &sl->addrs[i];
		const char *h = hosts[pick(s, 5)];

		b = pick(s, 256);
		gen_ip(s, &a->ip, 1);
		a->ready = b % 4 != 0;
		if (h) {
			a->hostname = sl->strings + off;
			memcpy(sl->strings + off, h, strlen(h) + 1);
			off += strlen(h) + 1;
		}
		if ((b / 4) % 2) {
			a->target = sl->strings + off;
			off += (size_t)snprintf(sl->strings + off, 256 - off,
			    "pod-%u", (b / 8) % 3) + 1;
		}
	}
	FUZZ_CHECK(zg_model_put_slice(m, sl) == 0, "put slice");
}

static void
put_pod(struct src *s, struct zg_model *m)
{
	char name[16];
	struct zg_pod *p;
	uint32_t b;

	snprintf(name, sizeof(name), "pod-%u", pick(s, 6));
	p = zg_pod_new(m, nss[pick(s, 4)], name);
	FUZZ_CHECK(p != NULL, "out of memory");
	b = pick(s, 256);
	p->active = b % 5 != 0;
	p->nips = (uint8_t)((b / 5) % 3);
	for (uint8_t i = 0; i < p->nips; i++)
		gen_ip(s, &p->ips[i], 1);
	FUZZ_CHECK(zg_model_put_pod(m, p) == 0, "put pod");
}

/* Delete an existing object of a kind the bytes choose. */
static void
delete_one(struct src *s, struct zg_model *m)
{
	enum zg_kind kind = (enum zg_kind)pick(s, ZG_KIND_COUNT);
	size_t it = 0, want, i = 0, count = zg_model_count(m, kind);
	const char *key = NULL;
	char copy[600];
	char *slash;

	if (count == 0)
		return;
	want = pick(s, 256) % count;
	while (kz_map_next(&m->objects[kind], &it, &key, NULL))
		if (i++ == want)
			break;
	FUZZ_CHECK(key != NULL, "no key");
	snprintf(copy, sizeof(copy), "%s", key);
	if (kind == ZG_KIND_NAMESPACE) {
		FUZZ_CHECK(zg_model_del(m, kind, NULL, copy) == 1, "del ns");
		return;
	}
	slash = strchr(copy, '/');
	FUZZ_CHECK(slash != NULL, "key %s", copy);
	*slash = '\0';
	FUZZ_CHECK(zg_model_del(m, kind, copy, slash + 1) == 1, "del %s",
	    key);
}

/* One event that puts or deletes; ALL adds relists and snapshots. */
static void event(struct src *s, struct zg_model *m, bool all);

/* A snapshot read again: a fresh model of a few objects replaces M. */
static void
replace_all(struct src *s, struct zg_model *m)
{
	struct zg_model next;

	zg_model_init(&next);
	for (uint32_t i = pick(s, MAX_REPLACE); i > 0; i--)
		event(s, &next, false);
	FUZZ_CHECK(zg_model_replace(m, &next) == 0, "replace");
	zg_model_free(&next);
}

static void
event(struct src *s, struct zg_model *m, bool all)
{
	uint32_t e = pick(s, all ? 32 : 28);

	if (e < 9) {
		put_service(s, m);
	} else if (e < 18) {
		put_slice(s, m);
	} else if (e < 23) {
		put_pod(s, m);
	} else if (e < 25) {
		FUZZ_CHECK(zg_model_put_namespace(m, nss[pick(s, 4)]) == 0,
		    "put namespace");
	} else if (e < 28) {
		delete_one(s, m);
	} else if (e < 31) {
		/* a relist: one kind emptied, then partly refilled */
		zg_model_clear_kind(m, (enum zg_kind)pick(s, ZG_KIND_COUNT));
		for (uint32_t i = pick(s, 4); i > 0; i--)
			put_slice(s, m);
	} else {
		replace_all(s, m);
	}
}

/* --- the mirror: each zone kept only from its diffs ---------------------- */

static char *
rr_line(const struct zg_rr *rr, const char *origin)
{
	struct kz_buf b;
	char *line;

	kz_buf_init(&b, TEXT_MAX);
	FUZZ_CHECK(zg_rr_write(rr, origin, &b) == 0, "rr write");
	line = xstrdup(b.data ? b.data : "");
	kz_buf_free(&b);
	return line;
}

static void
mirror_put(struct kz_map *mi, char *line)
{
	FUZZ_CHECK(kz_map_get(mi, line) == NULL,
	    "diff adds a record already served: %s", line);
	FUZZ_CHECK(kz_map_put(mi, line, line, NULL) == 0, "out of memory");
}

static void
mirror_apply(struct kz_map *mi, const struct zg_diff *d, const char *origin)
{
	for (size_t i = 0; i < d->ndel; i++) {
		char *line = rr_line(&d->del[i], origin);
		char *old = kz_map_del(mi, line);

		FUZZ_CHECK(old != NULL, "diff deletes a record not served: %s",
		    line);
		free(old);
		free(line);
	}
	for (size_t i = 0; i < d->nadd; i++)
		mirror_put(mi, rr_line(&d->add[i], origin));
}

/* Every line of TEXT, newline included, into MI. */
static void
mirror_seed(struct kz_map *mi, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *line = strndup(p, n);

		FUZZ_CHECK(line != NULL, "out of memory");
		mirror_put(mi, line);
		p += n;
	}
}

/* The mirror holds exactly the lines of BODY. */
static void
mirror_check(const struct kz_map *mi, const char *body, size_t len,
    const char *origin)
{
	const char *p = body, *end = body + len;
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *line = strndup(p, l);

		FUZZ_CHECK(line != NULL, "out of memory");
		FUZZ_CHECK(kz_map_get(mi, line) != NULL, "zone %s: the render "
		    "has a line the diffs never added: %s", origin, line);
		free(line);
		n++;
		p += l;
	}
	FUZZ_CHECK(n == mi->count, "zone %s: %zu lines rendered, %zu in the "
	    "mirror", origin, n, (size_t)mi->count);
}

static void
mirror_free(struct kz_map *mi)
{
	size_t it = 0;
	void *v;

	while (kz_map_next(mi, &it, NULL, &v))
		free(v);
	kz_map_free(mi);
}

/* --- the property ---------------------------------------------------------- */

static void
check(const struct zg_db *db, const struct zg_model *m,
    const struct zg_render_opts *o, struct kz_map *mirrors)
{
	struct zg_zoneset zs;

	memset(&zs, 0, sizeof(zs));
	FUZZ_CHECK(zg_render(m, o, &zs) == 0, "render");
	FUZZ_CHECK(zs.nzones == db->nzones, "%zu zones rendered, %zu in the "
	    "database", zs.nzones, db->nzones);
	for (size_t z = 0; z < db->nzones; z++) {
		const struct zg_zone *rz = &zs.zones[z];
		struct kz_buf b;
		size_t n = 0;

		kz_buf_init(&b, TEXT_MAX);
		FUZZ_CHECK(zg_db_write(db, z, &b, &n) == 0, "db write");
		FUZZ_CHECK(strcmp(rz->origin, db->zones[z].origin) == 0,
		    "zone %zu: %s rendered, %s in the database", z, rz->origin,
		    db->zones[z].origin);
		FUZZ_CHECK(b.len == rz->body.len && (b.len == 0 ||
		    memcmp(b.data, rz->body.data, b.len) == 0),
		    "zone %s differs from a fresh render:\nincremental:\n%.*s"
		    "\nrender:\n%.*s", rz->origin, (int)b.len,
		    b.data ? b.data : "", (int)rz->body.len,
		    rz->body.data ? rz->body.data : "");
		FUZZ_CHECK(n == db->zones[z].nrecords, "zone %s: %zu written, "
		    "%zu counted", rz->origin, n, db->zones[z].nrecords);
		FUZZ_CHECK(n + 1 == rz->nrecords, "zone %s: %zu written, "
		    "render counts %zu with the SOA", rz->origin, n,
		    rz->nrecords);
		mirror_check(&mirrors[z], rz->body.data ? rz->body.data : "",
		    rz->body.len, rz->origin);
		kz_buf_free(&b);
	}
	zg_zoneset_free(&zs);
}

static void
set_opts(struct zg_render_opts *o, uint8_t bits)
{
	zg_render_opts_init(o);
	o->pod_records = bits & OPT_POD_RECORDS;
	o->endpoint_pod_names = bits & OPT_EP_POD_NAMES;
	o->clusterip_endpoint_names = !(bits & OPT_NO_R14);
	if (bits & OPT_NS_FILTER) {
		o->namespaces[0] = xstrdup("a");
		o->namespaces[1] = xstrdup("kube-system");
		o->nnamespaces = 2;
	}
	if (bits & OPT_REVERSE) {
		FUZZ_CHECK(zg_cidr_parse(&o->reverse[o->nreverse++],
		    "10.96.0.0/16") == 0, "cidr");
		FUZZ_CHECK(zg_cidr_parse(&o->reverse[o->nreverse++],
		    "10.244.0.0/16") == 0, "cidr");
		FUZZ_CHECK(zg_cidr_parse(&o->reverse[o->nreverse++],
		    "fd00::/8") == 0, "cidr");
	}
	if (bits & OPT_SMALL_CAP)
		o->rrset_bytes = 40;	/* two A records */
	if (bits & OPT_DNS_IP) {
		o->ndns_ips = 1;
		FUZZ_CHECK(zg_ip_parse(&o->dns_ips[0], "10.96.0.10") == 0,
		    "dns ip");
	}
}

/* Apply the batch with diffs, mirror them and check everything. */
static void
apply(struct zg_db *db, struct zg_model *m, const struct zg_render_opts *o,
    struct kz_map *mirrors)
{
	long changed = zg_db_apply(db, m, true), sum = 0;

	FUZZ_CHECK(changed >= 0, "apply returned %ld", changed);
	for (size_t z = 0; z < db->nzones; z++) {
		const struct zg_diff *d = &db->zones[z].diff;

		mirror_apply(&mirrors[z], d, db->zones[z].origin);
		sum += (long)(d->ndel + d->nadd);
	}
	FUZZ_CHECK(changed == sum, "apply says %ld records changed, the "
	    "diffs hold %ld", changed, sum);
	check(db, m, o, mirrors);
}

/* A first load without diffs: the mirrors start from what it wrote. */
static void
first_load(struct zg_db *db, struct zg_model *m,
    const struct zg_render_opts *o, struct kz_map *mirrors)
{
	FUZZ_CHECK(zg_db_apply(db, m, false) >= 0, "first load");
	for (size_t z = 0; z < db->nzones; z++) {
		struct kz_buf b;

		FUZZ_CHECK(db->zones[z].diff.ndel + db->zones[z].diff.nadd ==
		    0, "a load without diffs left a diff");
		kz_buf_init(&b, TEXT_MAX);
		FUZZ_CHECK(zg_db_write(db, z, &b, NULL) == 0, "db write");
		mirror_seed(&mirrors[z], b.data ? b.data : "", b.len);
		kz_buf_free(&b);
	}
	check(db, m, o, mirrors);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { data, size, 0 };
	struct zg_render_opts o;
	struct kz_map *mirrors;
	struct zg_model m;
	struct zg_db db;
	unsigned steps = 0;
	uint8_t bits;

	fuzz_quiet();
	if (size == 0)
		return 0;
	bits = (uint8_t)pick(&s, 256);
	set_opts(&o, bits);
	zg_model_init(&m);
	zg_model_track(&m, true);
	FUZZ_CHECK(zg_db_init(&db, &o) == 0, "db init");
	mirrors = xcalloc(db.nzones, sizeof(*mirrors));
	for (size_t z = 0; z < db.nzones; z++)
		kz_map_init(&mirrors[z]);

	if (bits & OPT_FIRST_LOAD) {
		for (uint32_t k = 1 + pick(&s, 8); k > 0; k--, steps++)
			event(&s, &m, true);
		first_load(&db, &m, &o, mirrors);
	}
	do {
		for (uint32_t k = 1 + pick(&s, 4); k > 0 &&
		    steps < MAX_STEPS; k--, steps++)
			event(&s, &m, true);
		apply(&db, &m, &o, mirrors);
	} while (more(&s) && steps < MAX_STEPS);
	/* The last check: a no-op apply changes nothing. */
	FUZZ_CHECK(zg_db_apply(&db, &m, true) == 0, "an apply without "
	    "changes changed records");

	for (size_t z = 0; z < db.nzones; z++)
		mirror_free(&mirrors[z]);
	free(mirrors);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
	return 0;
}
