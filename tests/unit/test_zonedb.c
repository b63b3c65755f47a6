/*
 * tests/unit/test_zonedb.c -- zonegen/zonedb: incremental zones equal a
 * fresh render, and their diffs are exact.
 *
 * The property test drives a model through thousands of random steps
 * (create, update, identical update, delete and relist of Services,
 * EndpointSlices, Pods and Namespaces, over small pools of names and
 * addresses so that collisions -- duplicates, shared owners, ClusterIPs
 * at endpoint addresses, CNAME conflicts, capped RRsets -- happen
 * often), applies each step to one long-lived database with diffs, and
 * after every step checks two things:
 *
 *   1. every zone of the database, written as text, equals what
 *      zg_render() writes for the same model from scratch;
 *   2. a mirror of each zone, kept only by applying the diffs (every
 *      deleted record must be present, every added one absent), holds
 *      exactly the lines of that fresh render.
 *
 * ServiceImports (ClusterSetIP and Headless) and multicluster slices
 * (the MCS API's labels, a random source cluster) feed the clusterset
 * zone in the runs that serve one.
 *
 * Options vary per run: namespace filter, reverse zones, pod records,
 * endpoint pod names, a small RRset cap, name servers and SOA timers,
 * label selectors (--labels, --namespace-labels), a catalog zone. Some
 * steps decode objects with random labels, as the API sends them, so
 * that objects and whole namespaces move in and out of the selection.
 * One run explains (zg_db_explain): its zones must equal a fresh
 * zg_render_explain(), comments included, and its diffs the plain
 * render. KZ_TEST_SEED sets the seed and KZ_TEST_STEPS the steps per
 * run; the seed is printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "common/opt.h"
#include "zonegen/decode.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	/* xorshift64*: deterministic per seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static const char *const nss[] = { "a", "b", "kube-system", "c" };
static const char *const names[] = { "web", "db", "kube-dns", "x", "bad_name" };
static const char *const hosts[] = { NULL, "h0", "h1", "10-244-0-1", "Bad" };
static const char *const pnames[] = { NULL, "http", "dns", "" };

static void
rand_ip(struct zg_ip *ip, int pool)
{
	memset(ip, 0, sizeof(*ip));
	if (rnd(6) == 0) {
		ip->family = ZG_IPV6;
		ip->addr[0] = 0xfd;
		ip->addr[15] = (uint8_t)(1 + rnd(3));
		return;
	}
	ip->family = ZG_IPV4;
	ip->addr[0] = 10;
	/* Endpoints sometimes sit at a ClusterIP (R13). */
	ip->addr[1] = pool == 0 || rnd(5) == 0 ? 96 : 244;
	ip->addr[3] = (uint8_t)(1 + rnd(4));
}

static struct zg_port *
rand_ports(uint16_t *n)
{
	struct zg_port *p;

	*n = (uint16_t)rnd(3);
	p = calloc(*n ? *n : 1, sizeof(*p));
	for (uint16_t i = 0; i < *n; i++) {
		const char *nm = pnames[rnd(4)];
		p[i].name = nm ? strdup(nm) : NULL;
		p[i].port = (uint16_t)(rnd(5) == 0 ? 0 : 80 + rnd(3));
		p[i].proto = (uint8_t)rnd(2);
	}
	return p;
}

static void
put_service(struct zg_model *m)
{
	struct zg_service *s = zg_service_new(m, nss[rnd(4)], names[rnd(5)]);
	uint32_t t = rnd(10);

	s->type = t == 0 ? ZG_SVC_EXTERNALNAME : ZG_SVC_CLUSTERIP;
	if (s->type == ZG_SVC_EXTERNALNAME) {
		static const char *const ext[] = { "example.com",
		    "web.a.svc.cluster.local", "1.2.3.4", "" };
		s->external_name = strdup(ext[rnd(4)]);
	} else if (rnd(3) == 0) {
		s->headless = true;
	} else {
		s->nips = (uint8_t)(rnd(4) == 0 ? 2 : 1);
		for (uint8_t i = 0; i < s->nips; i++)
			rand_ip(&s->ips[i], 0);
		if (rnd(8) == 0)
			s->nips = 0;
	}
	s->ports = rand_ports(&s->nports);
	assert_int_equal(zg_model_put_service(m, s), 0);
}

static void
put_slice(struct zg_model *m)
{
	char name[32];
	struct zg_slice *sl;
	const char *svc = names[rnd(5)];
	size_t off = 0;

	snprintf(name, sizeof(name), "%s-%u", svc, rnd(3));
	sl = zg_slice_new(m, nss[rnd(4)], name);
	if (rnd(8))
		sl->service = strdup(svc);
	if (rnd(4) == 0) {
		static const char *const cids[] = { "east", "west", "Bad_Id" };
		sl->mc_service = strdup(svc);
		sl->mc_cluster = strdup(cids[rnd(3)]);
	}
	sl->addr_type = rnd(10) == 0 ? ZG_ADDR_FQDN : ZG_ADDR_IPV4;
	sl->ports = rand_ports(&sl->nports);
	sl->naddrs = rnd(5);
	sl->addrs = calloc(sl->naddrs ? sl->naddrs : 1, sizeof(*sl->addrs));
	sl->strings = calloc(1, 256);
	for (uint32_t i = 0; i < sl->naddrs; i++) {
		struct zg_epaddr *a = &sl->addrs[i];
		const char *h = hosts[rnd(5)];
		rand_ip(&a->ip, 1);
		a->ready = rnd(4) != 0;
		if (h) {
			a->hostname = sl->strings + off;
			memcpy(sl->strings + off, h, strlen(h) + 1);
			off += strlen(h) + 1;
		}
		if (rnd(2)) {
			a->target = sl->strings + off;
			off += (size_t)snprintf(sl->strings + off, 256 - off,
			    "pod-%u", rnd(3)) + 1;
		}
	}
	assert_int_equal(zg_model_put_slice(m, sl), 0);
}

static void
put_import(struct zg_model *m)
{
	struct zg_import *s = zg_import_new(m, nss[rnd(4)], names[rnd(5)]);

	s->type = rnd(2) ? ZG_IMPORT_CLUSTERSETIP : ZG_IMPORT_HEADLESS;
	if (s->type == ZG_IMPORT_CLUSTERSETIP) {
		s->nips = (uint8_t)(rnd(4) == 0 ? 2 : 1);
		for (uint8_t i = 0; i < s->nips; i++)
			rand_ip(&s->ips[i], (int)rnd(2));
	}
	s->ports = rand_ports(&s->nports);
	assert_int_equal(zg_model_put_import(m, s), 0);
}

static void
put_pod(struct zg_model *m)
{
	char name[16];
	struct zg_pod *p;

	snprintf(name, sizeof(name), "pod-%u", rnd(6));
	p = zg_pod_new(m, nss[rnd(4)], name);
	p->active = rnd(5) != 0;
	p->nips = (uint8_t)rnd(3);
	for (uint8_t i = 0; i < p->nips; i++)
		rand_ip(&p->ips[i], 1);
	assert_int_equal(zg_model_put_pod(m, p), 0);
}

/* Delete a random existing object of a random kind. */
static void
delete_one(struct zg_model *m)
{
	enum zg_kind kind = (enum zg_kind)rnd(ZG_KIND_COUNT);
	size_t it = 0, pick, i = 0;
	const char *key;
	char copy[600];

	if (zg_model_count(m, kind) == 0)
		return;
	pick = rnd((uint32_t)zg_model_count(m, kind));
	while (kz_map_next(&m->objects[kind], &it, &key, NULL))
		if (i++ == pick)
			break;
	snprintf(copy, sizeof(copy), "%s", key);
	if (kind == ZG_KIND_NAMESPACE) {
		assert_int_equal(zg_model_del(m, kind, NULL, copy), 1);
	} else {
		char *slash = strchr(copy, '/');
		*slash = '\0';
		assert_int_equal(zg_model_del(m, kind, copy, slash + 1), 1);
	}
}

/* The options of the current run: the models' selectors. */
static const struct zg_render_opts *cur_opts;

/* Random labels from a small pool: tier, team, hidden, or none. */
static json_t *
rand_labels(void)
{
	static const char *const tiers[] = { "web", "db", "cache" };
	static const char *const teams[] = { "x", "y" };
	json_t *l = json_object();

	if (rnd(3))
		json_object_set_new(l, "tier", json_string(tiers[rnd(3)]));
	if (rnd(2))
		json_object_set_new(l, "team", json_string(teams[rnd(2)]));
	if (rnd(4) == 0)
		json_object_set_new(l, "hidden", json_string(""));
	return l;
}

/*
 * An object with random labels through the decoder, as a watch event
 * gives it: one the model's selector leaves out is deleted, so labels
 * that change move it out of or into the zones.
 */
static void
decode_labelled(struct zg_model *m)
{
	char name[32], ip[32];
	const char *ns = nss[rnd(4)], *svc = names[rnd(5)];
	struct zg_decode_error err;
	json_t *labels = rand_labels(), *obj;

	snprintf(ip, sizeof(ip), "10.%u.0.%u", rnd(2) ? 96 : 244, 1 + rnd(4));
	switch (rnd(4)) {
	case 0:
		obj = json_pack("{s:s, s:{s:s, s:o}}", "kind", "Namespace",
		    "metadata", "name", ns, "labels", labels);
		break;
	case 1:
		obj = json_pack("{s:s, s:{s:s, s:s, s:o}, s:{s:s, s:[{s:i}]}}",
		    "kind", "Service", "metadata", "name", svc, "namespace",
		    ns, "labels", labels, "spec", "clusterIP",
		    rnd(3) ? ip : "None", "ports", "port", 80);
		break;
	case 2:
		snprintf(name, sizeof(name), "%s-%u", svc, rnd(3));
		json_object_set_new(labels, "kubernetes.io/service-name",
		    json_string(svc));
		obj = json_pack("{s:s, s:{s:s, s:s, s:o}, s:s, "
		    "s:[{s:[s], s:s}], s:[{s:i}]}", "kind", "EndpointSlice",
		    "metadata", "name", name, "namespace", ns, "labels",
		    labels, "addressType", "IPv4", "endpoints", "addresses",
		    ip, "hostname", rnd(2) ? "h0" : "h1", "ports", "port", 80);
		break;
	default:
		snprintf(name, sizeof(name), "pod-%u", rnd(6));
		obj = json_pack("{s:s, s:{s:s, s:s, s:o}, s:{s:s, s:s}}",
		    "kind", "Pod", "metadata", "name", name, "namespace", ns,
		    "labels", labels, "status", "phase", "Running", "podIP",
		    ip);
		break;
	}
	assert_non_null(obj);
	assert_int_equal(zg_decode_object(m, obj, NULL, &err), 0);
	json_decref(obj);
}

static void step(struct zg_model *m);

/* A snapshot read again: a new model of random objects replaces M. */
static void
replace_all(struct zg_model *m)
{
	struct zg_model next;

	zg_model_init(&next);
	zg_model_select(&next, cur_opts->labels, cur_opts->ns_labels);
	for (uint32_t i = rnd(12); i > 0; i--)
		step(&next);
	assert_int_equal(zg_model_replace(m, &next), 0);
	zg_model_free(&next);
}

static void
step(struct zg_model *m)
{
	if (m->track && rnd(40) == 0) {
		replace_all(m);
		return;
	}
	if (rnd(4) == 0) {
		decode_labelled(m);
		return;
	}
	switch (rnd(12)) {
	case 0: case 1: case 2:
		put_service(m);
		break;
	case 3: case 4: case 5:
		put_slice(m);
		break;
	case 6:
		put_pod(m);
		break;
	case 7:
		if (rnd(2))
			put_pod(m);
		else
			put_import(m);
		break;
	case 8:
		assert_int_equal(zg_model_put_namespace(m, nss[rnd(4)]), 0);
		break;
	case 9: case 10:
		delete_one(m);
		break;
	default:	/* a relist: one kind emptied, then partly refilled */
		zg_model_clear_kind(m, (enum zg_kind)rnd(ZG_KIND_COUNT));
		for (uint32_t i = rnd(4); i > 0; i--)
			put_slice(m);
		break;
	}
}

/* --- the mirror: a zone kept only from diffs ---------------------------- */

struct mirror {
	struct kz_map lines;	/* line -> line (owned) */
};

static char *
rr_line(const struct zg_rr *rr, const char *origin)
{
	struct kz_buf b;
	char *s;

	kz_buf_init(&b, 1 << 20);
	assert_int_equal(zg_rr_write(rr, origin, &b), 0);
	assert_int_equal(kz_buf_putc(&b, '\0'), 0);
	s = strdup(b.data);
	kz_buf_free(&b);
	return s;
}

static void
mirror_apply(struct mirror *mi, const struct zg_diff *d, const char *origin)
{
	for (size_t i = 0; i < d->ndel; i++) {
		char *l = rr_line(&d->del[i], origin);
		char *old = kz_map_del(&mi->lines, l);
		if (old == NULL)
			fail_msg("diff deletes a record not served: %s", l);
		free(old);
		free(l);
	}
	for (size_t i = 0; i < d->nadd; i++) {
		char *l = rr_line(&d->add[i], origin);
		if (kz_map_get(&mi->lines, l))
			fail_msg("diff adds a record already served: %s", l);
		assert_int_equal(kz_map_put(&mi->lines, l, l, NULL), 0);
	}
}

/* Every line of BODY is in the mirror, and nothing else is. */
static void
mirror_check(const struct mirror *mi, const char *body, size_t len)
{
	size_t n = 0;
	char *copy = strndup(body, len), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l;
	    l = strtok_r(NULL, "\n", &save)) {
		char line[1024];
		snprintf(line, sizeof(line), "%s\n", l);
		if (kz_map_get(&mi->lines, line) == NULL)
			fail_msg("render has a line the diffs never added: %s", l);
		n++;
	}
	free(copy);
	assert_int_equal(n, mi->lines.count);
}

static void
mirror_free(struct mirror *mi)
{
	size_t it = 0;
	void *v;

	while (kz_map_next(&mi->lines, &it, NULL, &v))
		free(v);
	kz_map_free(&mi->lines);
}

/* --- the property ---------------------------------------------------------- */

static bool explaining;		/* run(): the database explains */

static void
check_equal(struct zg_db *db, struct zg_model *m,
    const struct zg_render_opts *o, struct mirror *mirrors)
{
	struct zg_zoneset zs, plain = { 0 };
	const struct zg_zoneset *pz = &zs;
	struct zg_db fresh;
	size_t capped = 0;

	if (explaining) {
		assert_int_equal(zg_render_explain(m, o, &zs), 0);
		assert_int_equal(zg_render(m, o, &plain), 0);
		pz = &plain;
	} else {
		assert_int_equal(zg_render(m, o, &zs), 0);
	}
	assert_int_equal(zs.nzones, db->nzones);
	/* The per-zone counts (metrics) equal a fresh load's. */
	assert_int_equal(zg_db_init(&fresh, o), 0);
	assert_int_equal(zg_db_load(&fresh, m), 0);
	for (size_t z = 0; z < db->nzones; z++) {
		assert_int_equal(db->zones[z].capped, fresh.zones[z].capped);
		assert_int_equal(db->zones[z].nrecords,
		    fresh.zones[z].nrecords);
		capped += db->zones[z].capped;
	}
	assert_int_equal(capped, db->stats.capped);
	assert_int_equal(fresh.stats.capped, db->stats.capped);
	zg_db_free(&fresh);
	for (size_t z = 0; z < db->nzones; z++) {
		struct kz_buf b;
		size_t n = 0;

		kz_buf_init(&b, 1 << 24);
		assert_int_equal(zg_db_write(db, z, &b, &n), 0);
		if (b.len != zs.zones[z].body.len ||
		    memcmp(b.data, zs.zones[z].body.data, b.len) != 0)
			fail_msg("zone %s differs from a fresh render:\n"
			    "incremental:\n%.*s\nrender:\n%.*s",
			    db->zones[z].origin, (int)b.len, b.data,
			    (int)zs.zones[z].body.len, zs.zones[z].body.data);
		assert_int_equal(n, db->zones[z].nrecords);
		mirror_check(&mirrors[z], pz->zones[z].body.data,
		    pz->zones[z].body.len);
		kz_buf_free(&b);
	}
	zg_zoneset_free(&zs);
	zg_zoneset_free(&plain);
}

static void
run(struct zg_render_opts *o, unsigned steps)
{
	struct zg_model m;
	struct zg_db db;
	struct mirror *mirrors;

	cur_opts = o;
	zg_model_init(&m);
	zg_model_select(&m, o->labels, o->ns_labels);
	zg_model_track(&m, true);
	assert_int_equal(zg_db_init(&db, o), 0);
	if (explaining)
		assert_int_equal(zg_db_explain(&db), 0);
	mirrors = calloc(db.nzones, sizeof(*mirrors));
	/* The first load gives no diff: seed the mirrors from it. */
	for (unsigned i = 0; i < 6; i++)
		step(&m);
	assert_true(zg_db_apply(&db, &m, false) >= 0);
	for (size_t z = 0; z < db.nzones; z++) {
		struct kz_buf b;
		char *save = NULL;
		kz_buf_init(&b, 1 << 24);
		assert_int_equal(zg_db_write(&db, z, &b, NULL), 0);
		assert_int_equal(kz_buf_putc(&b, '\0'), 0);
		for (char *l = strtok_r(b.data, "\n", &save); l;
		    l = strtok_r(NULL, "\n", &save)) {
			char *why = strstr(l, "\t; "), *line;

			assert_true(explaining == (why != NULL));
			if (why)
				*why = '\0';	/* the mirror is plain */
			line = malloc(strlen(l) + 2);
			snprintf(line, strlen(l) + 2, "%s\n", l);
			assert_int_equal(kz_map_put(&mirrors[z].lines, line,
			    line, NULL), 0);
		}
		kz_buf_free(&b);
	}
	for (unsigned i = 0; i < steps; i++) {
		unsigned k = 1 + rnd(3);
		while (k--)
			step(&m);
		assert_true(zg_db_apply(&db, &m, true) >= 0);
		for (size_t z = 0; z < db.nzones; z++)
			mirror_apply(&mirrors[z], &db.zones[z].diff,
			    db.zones[z].origin);
		check_equal(&db, &m, o, mirrors);
	}
	for (size_t z = 0; z < db.nzones; z++)
		mirror_free(&mirrors[z]);
	free(mirrors);
	zg_db_free(&db);
	zg_model_free(&m);
}

static unsigned
steps_per_run(void)
{
	const char *s = getenv("KZ_TEST_STEPS");

	return s ? (unsigned)strtoul(s, NULL, 10) : 1500;
}

static void
seed(void)
{
	const char *s = getenv("KZ_TEST_SEED");

	rng_state = s ? strtoull(s, NULL, 10) : 0x6b7a6462ULL;
	if (rng_state == 0)
		rng_state = 1;
	print_message("seed %llu\n", (unsigned long long)rng_state);
}

static void
test_default_options(void **state)
{
	struct zg_render_opts o;

	(void)state;
	zg_render_opts_init(&o);
	run(&o, steps_per_run());
}

static void
test_filters_and_pod_records(void **state)
{
	struct zg_render_opts o;

	(void)state;
	zg_render_opts_init(&o);
	o.pod_records = true;
	o.endpoint_pod_names = true;
	o.namespaces[o.nnamespaces++] = strdup("a");
	o.namespaces[o.nnamespaces++] = strdup("kube-system");
	assert_int_equal(zg_cidr_parse(&o.reverse[o.nreverse++],
	    "10.96.0.0/16"), 0);
	assert_int_equal(zg_cidr_parse(&o.reverse[o.nreverse++],
	    "fd00::/8"), 0);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
}

static void
test_small_cap_no_r14(void **state)
{
	struct zg_render_opts o;

	(void)state;
	zg_render_opts_init(&o);
	o.pod_records = true;
	o.clusterip_endpoint_names = false;
	o.rrset_bytes = 40;	/* two A records */
	o.ndns_ips = 1;
	assert_int_equal(zg_ip_parse(&o.dns_ips[0], "10.96.0.10"), 0);
	run(&o, steps_per_run());
}

/* The clusterset zone beside reverse zones (its PTRs) and the catalog. */
static void
test_clusterset_zone(void **state)
{
	struct zg_render_opts o;

	(void)state;
	zg_render_opts_init(&o);
	snprintf(o.clusterset, sizeof(o.clusterset), "clusterset.local");
	snprintf(o.catalog, sizeof(o.catalog), "catalog.invalid");
	assert_int_equal(zg_cidr_parse(&o.reverse[o.nreverse++],
	    "10.96.0.0/16"), 0);
	assert_int_equal(zg_cidr_parse(&o.reverse[o.nreverse++],
	    "fd00::/8"), 0);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
}

static void
test_explaining(void **state)
{
	struct zg_render_opts o;

	(void)state;
	zg_render_opts_init(&o);
	o.pod_records = true;
	o.endpoint_pod_names = true;
	o.rrset_bytes = 100;
	snprintf(o.clusterset, sizeof(o.clusterset), "clusterset.local");
	explaining = true;
	run(&o, steps_per_run() / 2);
	explaining = false;
	zg_render_opts_free(&o);
}

/* Parse ARGS (NULL-terminated) as render options into O (initialised). */
static void
parse_opts(struct zg_render_opts *o, ...)
{
	struct kz_opt_table t = { "render options", zg_render_opt_table, o };
	char *argv[32] = { (char *)"kubezone" }, *pos[32], err[512];
	size_t npos = 0;
	int argc = 1, help = 0;
	va_list ap;

	zg_render_opts_init(o);
	va_start(ap, o);
	while (argc < 31 &&
	    (argv[argc] = (char *)va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	if (kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err)) || zg_render_opts_finish(o, err, sizeof(err)))
		fail_msg("%s", err);
}

static void
test_name_servers_and_soa(void **state)
{
	struct zg_render_opts o;

	(void)state;
	parse_opts(&o, "--ns", "ns1.example.net", "--ns",
	    "ns2.cluster.local=192.0.2.53", "--ns",
	    "ns2.cluster.local=fd00::53", "--soa-rname", "dns@example.net",
	    "--soa-expire", "1209600", "--soa-minimum", "5",
	    "--reverse-zone", "10.96.0.0/24", "--catalog-zone",
	    "catalog.example.net", (const char *)NULL);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
}

/* Label selectors, alone and with the --namespace filter. */
static void
test_label_selectors(void **state)
{
	struct zg_render_opts o;

	(void)state;
	parse_opts(&o, "--labels", "tier in (web, db),!hidden",
	    "--namespace-labels", "team=x", "--pod-records",
	    (const char *)NULL);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
	parse_opts(&o, "--namespace-labels", "team!=y", "--namespace", "a",
	    "--namespace", "b", (const char *)NULL);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
	parse_opts(&o, "--labels", "team", "--pod-records",
	    "--reverse-zone", "10.96.0.0/16", (const char *)NULL);
	run(&o, steps_per_run());
	zg_render_opts_free(&o);
}

/*
 * A Namespace whose labels change so that --namespace-labels no longer
 * selects it takes its namespace out of the zones in one change: only
 * that namespace's objects are computed again; selected again, they
 * come back.
 */
static void
test_namespace_label_flip(void **state)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct zg_decode_error err;
	unsigned long objects;
	size_t records;
	json_t *ns_in, *ns_out;

	(void)state;
	parse_opts(&o, "--namespace-labels", "dns=on", (const char *)NULL);
	zg_model_init(&m);
	zg_model_select(&m, o.labels, o.ns_labels);
	zg_model_track(&m, true);
	assert_int_equal(zg_db_init(&db, &o), 0);
	ns_in = json_pack("{s:s, s:{s:s, s:{s:s}}}", "kind", "Namespace",
	    "metadata", "name", "a", "labels", "dns", "on");
	ns_out = json_pack("{s:s, s:{s:s, s:{s:s}}}", "kind", "Namespace",
	    "metadata", "name", "a", "labels", "dns", "off");
	assert_int_equal(zg_decode_object(&m, ns_in, NULL, &err), 0);
	for (int i = 0; i < 3; i++) {
		char name[16], ip[32];
		struct zg_service *s;
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(ip, sizeof(ip), "10.96.0.%d", i + 1);
		s = zg_service_new(&m, i < 2 ? "a" : "b", name);
		s->nips = 1;
		assert_int_equal(zg_ip_parse(&s->ips[0], ip), 0);
		assert_int_equal(zg_model_put_service(&m, s), 0);
	}
	assert_true(zg_db_apply(&db, &m, false) > 0);
	/* NS, TXT, s0 and s1 of a (b has no Namespace: not exposed). */
	records = db.zones[0].nrecords;
	assert_int_equal(records, 4);
	objects = db.stats.objects;
	assert_int_equal(zg_decode_object(&m, ns_out, NULL, &err), 0);
	assert_false(zg_model_has_namespace(&m, "a"));
	assert_true(zg_db_apply(&db, &m, true) > 0);
	assert_int_equal(db.stats.objects - objects, 2);	/* s0, s1 */
	assert_int_equal(db.zones[0].diff.ndel, 2);
	assert_int_equal(db.zones[0].diff.nadd, 0);
	objects = db.stats.objects;
	assert_int_equal(zg_decode_object(&m, ns_in, NULL, &err), 0);
	assert_true(zg_db_apply(&db, &m, true) > 0);
	assert_int_equal(db.stats.objects - objects, 2);
	assert_int_equal(db.zones[0].diff.nadd, 2);
	assert_int_equal(db.zones[0].nrecords, records);
	json_decref(ns_in);
	json_decref(ns_out);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
}

/*
 * Without --ns (and --dns-ip) the apex follows kube-system/kube-dns:
 * its ClusterIP is ns.dns's address (R3), recomputed with the Service.
 * With --ns the apex depends on the options alone: a kube-dns change
 * recomputes the Service only, and the apex records stay as they are.
 */
static void
test_ns_apex_ignores_kube_dns(void **state)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	unsigned long objects;

	(void)state;
	for (int given = 0; given < 2; given++) {
		if (given)
			parse_opts(&o, "--ns", "ns1.example.net", "--ns",
			    "ns2.cluster.local=192.0.2.53", (const char *)NULL);
		else
			zg_render_opts_init(&o);
		zg_model_init(&m);
		zg_model_track(&m, true);
		assert_int_equal(zg_db_init(&db, &o), 0);
		for (int i = 0; i < 2; i++) {
			struct zg_service *s = zg_service_new(&m,
			    "kube-system", "kube-dns");

			s->type = ZG_SVC_CLUSTERIP;
			s->nips = 1;
			assert_int_equal(zg_ip_parse(&s->ips[0], i ?
			    "10.96.0.11" : "10.96.0.10"), 0);
			assert_int_equal(zg_model_put_service(&m, s), 0);
			objects = db.stats.objects;
			assert_true(zg_db_apply(&db, &m, true) > 0);
		}
		/* The second apply: the Service, and the apex without --ns. */
		assert_int_equal(db.stats.objects - objects, given ? 1 : 2);
		/* The Service's A; and ns.dns's A without --ns. */
		assert_int_equal(db.zones[0].diff.nadd, given ? 1 : 2);
		assert_int_equal(db.zones[0].diff.ndel, given ? 1 : 2);
		/* NS (two with --ns), TXT, the servers' A, the Service's A. */
		assert_int_equal(db.zones[0].nrecords, given ? 5 : 4);
		zg_db_free(&db);
		zg_model_free(&m);
		zg_render_opts_free(&o);
	}
}

/*
 * The catalog zone (RFC 9432 version 2) lists every other zone under a
 * label that is FNV-1a/64 of the zone's name with its final dot, in
 * lower case (the labels below were computed apart from kubezone, from
 * the FNV-1a definition); it comes last and has NS invalid. only.
 */
static void
test_catalog_zone(void **state)
{
	static const char want[] =
	    "@\t30\tIN\tNS\tinvalid.\n"
	    "version\t28800\tIN\tTXT\t\"2\"\n"
	    "77e5d22333964626.zones\t30\tIN\tPTR\tcluster.local.\n"
	    "df518d595873fb84.zones\t30\tIN\tPTR\t0.96.10.in-addr.arpa.\n"
	    "e664534fc99d54e3.zones\t30\tIN\tPTR\t1.96.10.in-addr.arpa.\n";
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct kz_buf b;
	char label[17];

	(void)state;
	parse_opts(&o, "--catalog-zone", "Catalog.Invalid", "--reverse-zone",
	    "10.96.0.0/23", (const char *)NULL);
	zg_model_init(&m);
	assert_int_equal(zg_db_init(&db, &o), 0);
	assert_int_equal(zg_db_load(&db, &m), 0);
	assert_int_equal(db.nzones, 4);
	assert_int_equal(db.catalog, 4);
	assert_string_equal(db.zones[3].origin, "catalog.invalid.");
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(zg_db_write(&db, 3, &b, NULL), 0);
	assert_int_equal(kz_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, want);
	/* No zone but the catalog names "invalid." as its server. */
	for (size_t z = 0; z < 3; z++) {
		kz_buf_reset(&b);
		assert_int_equal(zg_db_write(&db, z, &b, NULL), 0);
		assert_int_equal(kz_buf_append(&b, "", 1), 0);
		assert_null(strstr(b.data, "invalid."));
		assert_non_null(strstr(b.data, "@\t30\tIN\tNS\t"));
	}
	/* The label depends on the name alone, not on its case. */
	zg_catalog_label("CLUSTER.local", label, sizeof(label));
	assert_string_equal(label, "77e5d22333964626");
	kz_buf_free(&b);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
}

/* The one catalog of several databases: the same records as a
 * database's own catalog, for members given by name. */
static void
test_catalog_of_members(void **state)
{
	static const char want[] =
	    "@\t30\tIN\tNS\tinvalid.\n"
	    "version\t28800\tIN\tTXT\t\"2\"\n"
	    "77e5d22333964626.zones\t30\tIN\tPTR\tcluster.local.\n"
	    "df518d595873fb84.zones\t30\tIN\tPTR\t0.96.10.in-addr.arpa.\n";
	static const char *const members[] = { "cluster.local.",
	    "0.96.10.in-addr.arpa" };
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct kz_buf b;

	(void)state;
	parse_opts(&o, "--catalog-zone", "catalog.invalid", (const char *)NULL);
	zg_model_init(&m);
	assert_int_equal(zg_db_init_catalog(&db, &o, members, 2), 0);
	assert_int_equal(zg_db_load(&db, &m), 0);
	assert_int_equal(db.nzones, 1);
	assert_string_equal(db.zones[0].origin, "catalog.invalid.");
	assert_string_equal(db.zones[0].mname, "ns.dns.cluster.local.");
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(zg_db_write(&db, 0, &b, NULL), 0);
	assert_int_equal(kz_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, want);
	kz_buf_free(&b);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
}

/* A catalog that would overlap a served zone is refused. */
static void
test_catalog_zone_refused(void **state)
{
	static const char *const bad[] = { "cluster.local",
	    "catalog.cluster.local", "local", "catalog.in-addr.arpa", "arpa",
	    NULL };
	struct kz_opt_table t = { "render options", zg_render_opt_table,
	    NULL };
	struct zg_render_opts o;
	char err[512];

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		char *argv[] = { (char *)"kubezone", (char *)"--catalog-zone",
		    (char *)bad[i] }, *pos[4];
		size_t npos = 0;
		int help = 0;

		zg_render_opts_init(&o);
		t.ctx = &o;
		err[0] = '\0';
		assert_int_equal(kz_opt_parse(3, argv, &t, 1, pos, &npos,
		    &help, err, sizeof(err)), 0);
		assert_int_equal(zg_render_opts_finish(&o, err, sizeof(err)),
		    KZ_EUSAGE);
		assert_non_null(strstr(err, "--catalog-zone"));
		zg_render_opts_free(&o);
	}
}

/* A content-identical put is no change at all: no work, no diff. */
static void
test_identical_put_is_no_work(void **state)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct zg_pod *p;
	size_t n;
	int lost;

	(void)state;
	zg_render_opts_init(&o);
	o.pod_records = true;
	zg_model_init(&m);
	zg_model_track(&m, true);
	assert_int_equal(zg_db_init(&db, &o), 0);
	p = zg_pod_new(&m, "a", "p");
	p->active = true;
	p->nips = 1;
	assert_int_equal(zg_ip_parse(&p->ips[0], "10.244.0.9"), 0);
	assert_int_equal(zg_model_put_pod(&m, p), 0);
	assert_true(zg_db_apply(&db, &m, true) > 0);
	assert_int_equal(db.zones[0].diff.nadd, 3);	/* NS, TXT, the pod */

	p = zg_pod_new(&m, "a", "p");	/* same content, a new object */
	p->active = true;
	p->nips = 1;
	assert_int_equal(zg_ip_parse(&p->ips[0], "10.244.0.9"), 0);
	assert_int_equal(zg_model_put_pod(&m, p), 0);
	zg_changes_free(zg_model_take_changes(&m, &n, &lost), n);
	assert_int_equal(n, 0);
	assert_int_equal(zg_db_apply(&db, &m, true), 0);
	assert_int_equal(db.zones[0].diff.nadd + db.zones[0].diff.ndel, 0);
	zg_db_free(&db);
	zg_model_free(&m);
}

/* A moved Pod costs its own records: one deleted, one added. */
static void
test_pod_move_is_one_diff(void **state)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	unsigned long objects;

	(void)state;
	zg_render_opts_init(&o);
	o.pod_records = true;
	zg_model_init(&m);
	zg_model_track(&m, true);
	assert_int_equal(zg_db_init(&db, &o), 0);
	for (int i = 0; i < 500; i++) {
		char name[16];
		struct zg_pod *p;
		snprintf(name, sizeof(name), "p%d", i);
		p = zg_pod_new(&m, "a", name);
		p->active = true;
		p->nips = 1;
		p->ips[0].family = ZG_IPV4;
		p->ips[0].addr[0] = 10;
		p->ips[0].addr[2] = (uint8_t)(i >> 8);
		p->ips[0].addr[3] = (uint8_t)i;
		assert_int_equal(zg_model_put_pod(&m, p), 0);
	}
	assert_true(zg_db_apply(&db, &m, false) > 0);
	objects = db.stats.objects;
	{
		struct zg_pod *p = zg_pod_new(&m, "a", "p7");
		p->active = true;
		p->nips = 1;
		assert_int_equal(zg_ip_parse(&p->ips[0], "10.9.9.9"), 0);
		assert_int_equal(zg_model_put_pod(&m, p), 0);
	}
	assert_int_equal(zg_db_apply(&db, &m, true), 2);
	assert_int_equal(db.stats.objects - objects, 1);
	assert_int_equal(db.zones[0].diff.ndel, 1);
	assert_int_equal(db.zones[0].diff.nadd, 1);
	zg_db_free(&db);
	zg_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_put_is_no_work),
		cmocka_unit_test(test_pod_move_is_one_diff),
		cmocka_unit_test(test_default_options),
		cmocka_unit_test(test_filters_and_pod_records),
		cmocka_unit_test(test_small_cap_no_r14),
		cmocka_unit_test(test_explaining),
		cmocka_unit_test(test_name_servers_and_soa),
		cmocka_unit_test(test_ns_apex_ignores_kube_dns),
		cmocka_unit_test(test_catalog_zone),
		cmocka_unit_test(test_clusterset_zone),
		cmocka_unit_test(test_catalog_of_members),
		cmocka_unit_test(test_catalog_zone_refused),
		cmocka_unit_test(test_label_selectors),
		cmocka_unit_test(test_namespace_label_flip),
	};

	kz_log_set_level(KZ_LOG_ERROR);
	seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
