/*
 * tests/unit/test_dnssec.c -- nsd-conf/keys and nsd-conf/dnssec: key
 * files, and zones kept signed by diffs equal a fresh signing.
 *
 * The property test drives a model through random steps (Services,
 * EndpointSlices, Pods, Namespaces created, changed and deleted over
 * small pools of names, so owner names come and go often), applies each
 * step to a long-lived zone database and signer with a fixed clock, and
 * after every step checks that
 *
 *   1. a mirror of each zone kept only from the diffs (database and
 *      signer records; every deleted record must be there, every added
 *      one absent) holds exactly the records of the database plus a
 *      fresh signing of it;
 *   2. with Ed25519 (deterministic signatures) the records compare byte
 *      for byte; with ECDSA the RRSIGs compare without their signature
 *      field, and every signature of the final zone verifies.
 *
 * KZ_TEST_SEED sets the seed and KZ_TEST_STEPS the steps; the seed is
 * printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "nsd-conf/dnssec.h"
#include "nsd-conf/keys.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define NOW 1790000000u

static uint64_t rng_state;
static char keydir[64];

static void seed(void);

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static const char *const nss[] = { "a", "b", "c" };
static const char *const names[] = { "web", "db", "api", "x", "y" };

static void
rand_ip(struct zg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (rnd(5) == 0) {
		ip->family = ZG_IPV6;
		ip->addr[0] = 0xfd;
		ip->addr[15] = (uint8_t)(1 + rnd(4));
		return;
	}
	ip->family = ZG_IPV4;
	ip->addr[0] = 10;
	ip->addr[1] = 96;
	ip->addr[3] = (uint8_t)(1 + rnd(8));
}

static void
put_service(struct zg_model *m)
{
	struct zg_service *s = zg_service_new(m, nss[rnd(3)], names[rnd(5)]);

	s->type = ZG_SVC_CLUSTERIP;
	if (rnd(4) == 0) {
		s->headless = true;
	} else {
		s->nips = 1;
		rand_ip(&s->ips[0]);
	}
	s->nports = (uint16_t)rnd(2);
	s->ports = calloc(1, sizeof(*s->ports));
	if (s->nports) {
		s->ports[0].name = strdup(rnd(2) ? "http" : "dns");
		s->ports[0].port = (uint16_t)(80 + rnd(2));
		s->ports[0].proto = (uint8_t)rnd(2);
	}
	assert_int_equal(zg_model_put_service(m, s), 0);
}

static void
put_pod(struct zg_model *m)
{
	char name[16];
	struct zg_pod *p;

	snprintf(name, sizeof(name), "pod-%u", rnd(8));
	p = zg_pod_new(m, nss[rnd(3)], name);
	p->active = rnd(5) != 0;
	p->nips = (uint8_t)rnd(2);
	for (uint8_t i = 0; i < p->nips; i++)
		rand_ip(&p->ips[i]);
	assert_int_equal(zg_model_put_pod(m, p), 0);
}

static void
delete_one(struct zg_model *m)
{
	enum zg_kind kind = rnd(2) ? ZG_KIND_SERVICE : ZG_KIND_POD;
	size_t it = 0, pick, i = 0;
	const char *key;
	char copy[600], *slash;

	if (zg_model_count(m, kind) == 0)
		return;
	pick = rnd((uint32_t)zg_model_count(m, kind));
	while (kz_map_next(&m->objects[kind], &it, &key, NULL))
		if (i++ == pick)
			break;
	snprintf(copy, sizeof(copy), "%s", key);
	slash = strchr(copy, '/');
	*slash = '\0';
	assert_int_equal(zg_model_del(m, kind, copy, slash + 1), 1);
}

static void
step(struct zg_model *m)
{
	switch (rnd(6)) {
	case 0: case 1:
		put_service(m);
		break;
	case 2: case 3:
		put_pod(m);
		break;
	default:
		delete_one(m);
		break;
	}
}

/* --- records as comparable strings -------------------------------------- */

/* "owner-hex type ttl rdata-hex"; with ECDSA an RRSIG without its
 * signature (the last 64 octets). */
static char *
rr_key(const struct nc_rr *rr, bool strip_sig)
{
	size_t rdl = rr->rdlen;
	size_t cap = 2 * rr->ownerlen + 2 * rdl + 32, n = 0;
	char *s = malloc(cap);

	if (strip_sig && rr->type == 46 && rdl > 64)
		rdl -= 64;
	for (size_t i = 0; i < rr->ownerlen; i++)
		n += (size_t)snprintf(s + n, cap - n, "%02x", rr->owner[i]);
	n += (size_t)snprintf(s + n, cap - n, " %u %u ", rr->type, rr->ttl);
	for (size_t i = 0; i < rdl; i++)
		n += (size_t)snprintf(s + n, cap - n, "%02x", rr->rdata[i]);
	return s;
}

struct set {
	struct kz_map m;
	bool strip;
};

static int
set_add(void *ctx, const struct nc_rr *rr)
{
	struct set *st = ctx;
	char *k = rr_key(rr, st->strip);

	if (kz_map_get(&st->m, k))
		fail_msg("record added twice: %s", k);
	assert_int_equal(kz_map_put(&st->m, k, k, NULL), 0);
	return 0;
}

static void
set_del(struct set *st, const struct nc_rr *rr)
{
	char *k = rr_key(rr, st->strip);
	char *old = kz_map_del(&st->m, k);

	if (old == NULL)
		fail_msg("diff deletes a record not served: %s", k);
	free(old);
	free(k);
}

/* A database record as the signer's record type (the same fields). */
static struct nc_rr
nc_of(const struct zg_rr *rr)
{
	return (struct nc_rr){ rr->owner, rr->ownerlen, rr->type, rr->ttl,
	    rr->rdata, rr->rdlen };
}

/* zg_db_foreach() handing each record to FN as a struct nc_rr. */
struct via {
	int (*fn)(void *ctx, const struct nc_rr *rr);
	void *ctx;
};

static int
via_nc(void *ctx, const struct zg_rr *rr)
{
	struct via *v = ctx;
	struct nc_rr r = nc_of(rr);

	return v->fn(v->ctx, &r);
}

static int
db_each(const struct zg_db *db, size_t z,
    int (*fn)(void *ctx, const struct nc_rr *rr), void *ctx)
{
	struct via v = { fn, ctx };

	return zg_db_foreach(db, z, via_nc, &v);
}

static void
set_free(struct set *st)
{
	size_t it = 0;
	const char *k;
	void *v;

	while (kz_map_next(&st->m, &it, &k, &v))
		free(v);
	kz_map_free(&st->m);
}

static void
set_equal(const struct set *a, const struct set *b)
{
	size_t it = 0;
	const char *k;

	while (kz_map_next(&a->m, &it, &k, NULL))
		if (kz_map_get(&b->m, k) == NULL)
			fail_msg("incremental zone has a record a fresh signing "
			    "does not: %s", k);
	assert_int_equal(a->m.count, b->m.count);
}

static void
apply_zg(struct set *st, const struct zg_diff *d)
{
	for (size_t i = 0; i < d->ndel; i++) {
		struct nc_rr r = nc_of(&d->del[i]);
		set_del(st, &r);
	}
	for (size_t i = 0; i < d->nadd; i++) {
		struct nc_rr r = nc_of(&d->add[i]);
		set_add(st, &r);
	}
}

static void
apply_out(struct set *st, const struct nc_dnssec_out *o)
{
	for (size_t i = 0; i < o->ndel; i++)
		set_del(st, &o->del[i]);
	for (size_t i = 0; i < o->nadd; i++)
		set_add(st, &o->add[i]);
}

/* --- keys -------------------------------------------------------------------- */

static void
make_keydir(void)
{
	snprintf(keydir, sizeof(keydir), "/tmp/kz-dnssec-XXXXXX");
	assert_non_null(mkdtemp(keydir));
}

static void
rm_keydir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keydir);
	assert_int_equal(system(cmd), 0);
}

/* Keys of ALG for every zone of DB into S (made once per zone, then
 * loaded again from KEYDIR for a second signer). */
static size_t nkeys_wanted = 1;
static bool use_nsec3;

static void
sign_zones(struct nc_dnssec *s, const struct zg_db *db, int alg)
{
	char err[256];

	for (size_t z = 0; z < db->nzones; z++) {
		struct nc_dkey *keys = NULL;
		size_t n = 0;

		assert_int_equal(nc_keys_find(keydir, db->zones[z].origin,
		    &keys, &n, err, sizeof(err)), 0);
		if (n == 0) {
			keys = calloc(nkeys_wanted, sizeof(*keys));
			for (n = 0; n < nkeys_wanted; n++)
				if (nc_key_generate(&keys[n],
				    db->zones[z].origin, alg, keydir, err,
				    sizeof(err)))
					fail_msg("%s", err);
		}
		assert_int_equal(nc_dnssec_zone_keys(s, z, db->zones[z].origin,
		    keys, n), 0);
	}
}

static void
test_keys(void **state)
{
	int algs[2] = { 13, 15 };
	char err[256], path[512];

	(void)state;
	make_keydir();
	for (int a = 0; a < 2; a++) {
		struct nc_dkey k, l;
		struct kz_buf b;
		struct stat st;
		char zone[32];

		snprintf(zone, sizeof(zone), "z%d.example.", a);
		if (nc_key_generate(&k, zone, algs[a], keydir, err,
		    sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(k.alg, algs[a]);
		assert_int_equal(k.flags, 257);
		assert_int_equal(stat(k.path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(path, sizeof(path), "%s/K%s+%03d+%05u.key", keydir,
		    zone, algs[a], k.tag);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		if (nc_key_load(&l, path, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(l.tag, k.tag);
		assert_string_equal(l.zone, zone);
		/* DS: "zone TTL IN DS tag alg 2 <64 hex>" */
		kz_buf_init(&b, 4096);
		assert_int_equal(nc_key_ds(&l, &b), 0);
		assert_int_equal(kz_buf_putc(&b, '\0'), 0);
		{
			char owner[64], hex[80];
			unsigned tag, alg, dt;
			assert_int_equal(sscanf(b.data, "%63s %*u IN DS %u %u "
			    "%u %79s", owner, &tag, &alg, &dt, hex), 5);
			assert_string_equal(owner, zone);
			assert_int_equal(tag, k.tag);
			assert_int_equal(alg, (unsigned)algs[a]);
			assert_int_equal(dt, 2);
			assert_int_equal(strlen(hex), 64);
		}
		kz_buf_free(&b);
		nc_key_free(&k);
		nc_key_free(&l);
	}
	/* a .key without its .private */
	snprintf(path, sizeof(path), "%s/Knone.+013+00001.key", keydir);
	assert_int_not_equal(nc_key_load(&(struct nc_dkey){ 0 }, path, err,
	    sizeof(err)), 0);
	/* a key given by the operator may be a symbolic link (a Secret's
	 * files are); one in the state directory may not */
	{
		struct nc_dkey k, *keys = NULL;
		char sub[128], from[600], to[600];
		size_t n = 0;
		const char *ext[2] = { "key", "private" };

		if (nc_key_generate(&k, "link.example.", 13, keydir, err,
		    sizeof(err)))
			fail_msg("%s", err);
		snprintf(sub, sizeof(sub), "%s/sub", keydir);
		assert_int_equal(mkdir(sub, 0700), 0);
		for (int i = 0; i < 2; i++) {
			snprintf(from, sizeof(from), "%s/Klink.example.+013+%05u."
			    "%s", keydir, k.tag, ext[i]);
			snprintf(to, sizeof(to), "%s/Klink.example.+013+%05u.%s",
			    sub, k.tag, ext[i]);
			assert_int_equal(symlink(from, to), 0);
		}
		nc_key_free(&k);
		if (nc_key_load(&k, to, err, sizeof(err)))
			fail_msg("%s", err);
		nc_key_free(&k);
		assert_int_not_equal(nc_keys_find(sub, "link.example.", &keys,
		    &n, err, sizeof(err)), 0);
		assert_int_equal(n, 0);
	}
	rm_keydir();
}

/* A key pair written by BIND's dnssec-keygen loads and signs. */
static void
test_bind_key(void **state)
{
	char cmd[1024], err[256], path[512];
	struct nc_dkey k;
	FILE *p;

	(void)state;
	if (system("command -v dnssec-keygen >/dev/null 2>&1") != 0)
		skip();
	make_keydir();
	snprintf(cmd, sizeof(cmd), "cd '%s' && dnssec-keygen -q -a "
	    "ECDSAP256SHA256 -f KSK bind.example", keydir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, sizeof(path), p));
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "%s/%s", keydir, path);
	if (nc_key_load(&k, cmd, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(k.zone, "bind.example.");
	assert_int_equal(k.flags, 257);
	assert_int_equal(k.alg, 13);
	nc_key_free(&k);
	rm_keydir();
}

/* --- the property test ------------------------------------------------------ */

/* Signer F of ALG (NSEC3 when use_nsec3) with the keys of KEYDIR for
 * every zone of DB. */
static void
signer_new(struct nc_dnssec *f, const struct zg_db *db, int alg)
{
	struct nc_dnssec_opts o;

	nc_dnssec_opts_init(&o);
	o.alg = alg;
	o.nsec3 = use_nsec3;
	assert_int_equal(nc_dnssec_init(f, &o, db->nzones), 0);
	sign_zones(f, db, alg);
}

static void
fresh_set(const struct zg_db *db, size_t z, uint32_t serial, int alg,
    struct set *out)
{
	struct nc_dnssec f;

	signer_new(&f, db, alg);
	assert_int_equal(nc_dnssec_sign_full(&f, db, z, serial, NOW), 0);
	kz_map_init(&out->m);
	assert_int_equal(db_each(db, z, set_add, out), 0);
	assert_int_equal(nc_dnssec_foreach(&f, z, set_add, out), 0);
	nc_dnssec_free(&f);
}

/* Records as ldns records, for verification. */
static int
ldns_add(void *ctx, const struct nc_rr *rr)
{
	ldns_rr_list *l = ctx;
	uint8_t w[2048];
	size_t pos = 0, ol = rr->ownerlen;
	ldns_rr *r = NULL;

	assert_true(ol + 10 + rr->rdlen <= sizeof(w));
	memcpy(w, rr->owner, ol);
	ldns_write_uint16(w + ol, rr->type);
	ldns_write_uint16(w + ol + 2, LDNS_RR_CLASS_IN);
	ldns_write_uint32(w + ol + 4, rr->ttl);
	ldns_write_uint16(w + ol + 8, (uint16_t)rr->rdlen);
	memcpy(w + ol + 10, rr->rdata, rr->rdlen);
	assert_int_equal(ldns_wire2rr(&r, w, ol + 10 + rr->rdlen, &pos,
	    LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
	assert_true(ldns_rr_list_push_rr(l, r));
	return 0;
}

/* Every RRSIG of zone Z verifies (at NOW) against its RRset and the
 * zone's DNSKEY RRset, and every RRset has one. */
static void
verify_all(const struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial)
{
	const struct zg_db_zone *dz = &db->zones[z];
	ldns_rr_list *all = ldns_rr_list_new(), *keys = ldns_rr_list_new();
	ldns_rr *soa = NULL;
	char text[1024];
	size_t nsigs = 0;

	assert_int_equal(db_each(db, z, ldns_add, all), 0);
	assert_int_equal(nc_dnssec_foreach(s, z, ldns_add, all), 0);
	snprintf(text, sizeof(text), "%s %u IN SOA %s %s %u %u %u %u %u",
	    dz->origin, dz->soa_ttl, dz->mname, dz->rname, serial, dz->refresh,
	    dz->retry, dz->expire, dz->minimum);
	assert_int_equal(ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_rr_list_push_rr(all, soa);
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(all, i)) ==
		    LDNS_RR_TYPE_DNSKEY)
			ldns_rr_list_push_rr(keys, ldns_rr_list_rr(all, i));
	assert_true(ldns_rr_list_rr_count(keys) > 0);
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *sig = ldns_rr_list_rr(all, i);
		ldns_rr_list *set;
		ldns_rr_type covered;
		ldns_status st;

		if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG)
			continue;
		set = ldns_rr_list_new();
		covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
		for (size_t j = 0; j < ldns_rr_list_rr_count(all); j++) {
			ldns_rr *r = ldns_rr_list_rr(all, j);
			if (ldns_rr_get_type(r) == covered &&
			    ldns_dname_compare(ldns_rr_owner(r),
			    ldns_rr_owner(sig)) == 0)
				ldns_rr_list_push_rr(set, r);
		}
		st = ldns_verify_rrsig_keylist_time(set, sig, keys, NOW, NULL);
		if (st != LDNS_STATUS_OK)
			fail_msg("RRSIG %s does not verify: %s",
			    ldns_rr2str(sig), ldns_get_errorstr_by_id(st));
		ldns_rr_list_free(set);
		nsigs++;
	}
	assert_int_equal(nsigs, nc_dnssec_count(s, z));
	ldns_rr_list_free(keys);
	ldns_rr_list_deep_free(all);
}

/*
 * Sign zone Z of DB whole in steps of a few signatures: while the job
 * is under way the zone is not transferable, and each step but the
 * last says more work is left.
 */
static void
sign_in_steps(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial)
{
	size_t max = 1 + rnd(7);
	unsigned long made = s->stats.signatures;
	struct set tmp = { 0 };
	unsigned nsteps = 0;
	int r;

	assert_int_equal(nc_dnssec_sign_begin(s, db, z), 0);
	kz_map_init(&tmp.m);
	while ((r = nc_dnssec_sign_step(s, db, z, NOW, max)) == 1) {
		assert_true(nc_dnssec_signing(s, z));
		assert_int_equal(nc_dnssec_foreach(s, z, set_add, &tmp),
		    KZ_EINVAL);
		/* a step stops within a name's RRsets of its budget */
		assert_true(s->stats.signatures - made <= max + 16);
		made = s->stats.signatures;
		nsteps++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(nc_dnssec_sign_finish(s, db, z, serial, NOW), 0);
	assert_false(nc_dnssec_signing(s, z));
	assert_true(nsteps > 0);
	set_free(&tmp);
}

/* --- a restart that takes the old signatures over --------------------------- */

/* Records, owned. */
struct rrv {
	struct nc_rr *v;
	size_t n, cap;
};

static int
rrv_add(void *ctx, const struct nc_rr *rr)
{
	struct rrv *a = ctx;
	uint8_t *o = malloc(rr->ownerlen), *d = malloc(rr->rdlen + 1);

	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 256;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
	}
	memcpy(o, rr->owner, rr->ownerlen);
	memcpy(d, rr->rdata, rr->rdlen);
	a->v[a->n++] = (struct nc_rr){ o, rr->ownerlen, rr->type, rr->ttl, d,
	    rr->rdlen };
	return 0;
}

static void
rrv_free(struct rrv *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free((void *)a->v[i].owner);
		free((void *)a->v[i].rdata);
	}
	free(a->v);
}

/* Owner (length, then octets), then type: one RRset's records together. */
static int
rrset_cmp(const void *pa, const void *pb)
{
	const struct nc_rr *a = pa, *b = pb;

	if (a->ownerlen != b->ownerlen)
		return a->ownerlen < b->ownerlen ? -1 : 1;
	int r = memcmp(a->owner, b->owner, a->ownerlen);
	return r ? r : (a->type > b->type) - (a->type < b->type);
}

/* The old zone OLD (every record but the SOA) to signer F's job. */
static void
hand_over(struct nc_dnssec *f, size_t z, struct rrv *old)
{
	uint8_t digest[NC_DNSSEC_DIGEST];

	qsort(old->v, old->n, sizeof(*old->v), rrset_cmp);
	for (size_t i = 0, j; i < old->n; i = j) {
		for (j = i + 1; j < old->n && rrset_cmp(&old->v[i],
		    &old->v[j]) == 0; j++)
			;
		if (old->v[i].type != 46) {
			assert_int_equal(nc_dnssec_digest(&old->v[i], j - i,
			    digest), 0);
			assert_int_equal(nc_dnssec_reuse_set(f, z,
			    old->v[i].owner, old->v[i].ownerlen,
			    old->v[i].type, digest), 0);
			continue;
		}
		for (size_t k = i; k < j; k++)
			assert_int_equal(nc_dnssec_reuse_sig(f, z,
			    old->v[k].owner, old->v[k].ownerlen, old->v[k].ttl,
			    old->v[k].rdata, old->v[k].rdlen), 0);
	}
}

static bool
chain_rr_type(uint16_t t)
{
	return t == 47 || t == 48 || t == 50 || t == 51;
}

static int
chain_add(void *ctx, const struct nc_rr *rr)
{
	return chain_rr_type(rr->type) ? set_add(ctx, rr) : 0;
}

/* Drop the chain and key records (NSEC, NSEC3, DNSKEY, NSEC3PARAM). */
static void
drop_chain(struct set *st)
{
	size_t it = 0;
	const char *k;
	void *v;
	char **gone = calloc(st->m.count + 1, sizeof(*gone));
	size_t n = 0;

	while (kz_map_next(&st->m, &it, &k, &v)) {
		unsigned type = 0;

		if (sscanf(k, "%*s %u", &type) == 1 && chain_rr_type(
		    (uint16_t)type))
			gone[n++] = v;
	}
	for (size_t i = 0; i < n; i++) {
		kz_map_del(&st->m, gone[i]);
		free(gone[i]);
	}
	free(gone);
}

/*
 * Zone Z was served as OLD (with MIR, its records as a set) and DB
 * changed by its last diff while no signer followed: a new signer takes
 * OLD's signatures over, in steps. It must give the zone a fresh
 * signing gives, and the difference it hands back (with the database's
 * diff and the chain records) must turn MIR into that zone.
 */
static void
restart_check(const struct zg_db *db, size_t z, struct rrv *old,
    uint32_t serial, int alg, struct set *mir)
{
	struct nc_dnssec f;
	const struct nc_dnssec_out *out;
	struct set fresh = { .strip = alg == 13 }, got = { .strip = alg == 13 };
	size_t taken = 0, max = 1 + rnd(50);
	unsigned long made;
	int r;

	signer_new(&f, db, alg);
	assert_int_equal(nc_dnssec_sign_begin(&f, db, z), 0);
	hand_over(&f, z, old);
	while ((r = nc_dnssec_sign_step(&f, db, z, NOW, max)) == 1)
		;
	assert_int_equal(r, 0);
	assert_int_equal(nc_dnssec_sign_finish(&f, db, z, serial, NOW), 0);
	made = f.stats.signatures;
	assert_int_equal(nc_dnssec_reuse_end(&f, z, 0, &out, &taken), 0);
	/* every RRset the diff left alone kept its signature */
	assert_true(taken > 0);
	assert_true(made < nc_dnssec_count(&f, z));
	apply_zg(mir, &db->zones[z].diff);
	apply_out(mir, out);
	drop_chain(mir);
	assert_int_equal(nc_dnssec_foreach(&f, z, chain_add, mir), 0);
	fresh_set(db, z, serial, alg, &fresh);
	kz_map_init(&got.m);
	assert_int_equal(db_each(db, z, set_add, &got), 0);
	assert_int_equal(nc_dnssec_foreach(&f, z, set_add, &got), 0);
	set_equal(&got, &fresh);
	set_equal(mir, &fresh);
	verify_all(&f, db, z, serial);
	set_free(&fresh);
	set_free(&got);
	nc_dnssec_free(&f);
}

static void
run(int alg, unsigned steps)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct nc_dnssec s;
	struct set *mir;
	struct rrv *old;
	uint32_t *serials;
	const char *argv[] = { "t", "--reverse-zone", "10.96.0.0/16",
	    "--reverse-zone", "fd00::/8", "--pod-records" };
	struct kz_opt_table t;
	char *pos[8], err[256];
	size_t npos;
	int help;
	uint32_t serial = 1;

	make_keydir();
	zg_render_opts_init(&o);
	t = (struct kz_opt_table){ "r", zg_render_opt_table, &o };
	assert_int_equal(kz_opt_parse(6, (char **)argv, &t, 1, pos, &npos,
	    &help, err, sizeof(err)), 0);
	assert_int_equal(zg_render_opts_finish(&o, err, sizeof(err)), 0);
	zg_model_init(&m);
	zg_model_track(&m, true);
	assert_int_equal(zg_db_init(&db, &o), 0);
	signer_new(&s, &db, alg);
	for (unsigned i = 0; i < 6; i++)
		step(&m);
	assert_true(zg_db_apply(&db, &m, false) >= 0);
	mir = calloc(db.nzones, sizeof(*mir));
	serials = calloc(db.nzones, sizeof(*serials));
	for (size_t z = 0; z < db.nzones; z++) {
		mir[z].strip = alg == 13;
		kz_map_init(&mir[z].m);
		serials[z] = serial;
		sign_in_steps(&s, &db, z, serial);
		assert_int_equal(db_each(&db, z, set_add, &mir[z]), 0);
		assert_int_equal(nc_dnssec_foreach(&s, z, set_add, &mir[z]), 0);
		/* in steps, the same zone as signed at once */
		{
			struct set fresh = { .strip = alg == 13 };

			fresh_set(&db, z, serial, alg, &fresh);
			set_equal(&mir[z], &fresh);
			set_free(&fresh);
		}
	}
	for (unsigned i = 0; i < steps; i++) {
		for (unsigned k = 1 + rnd(3); k > 0; k--)
			step(&m);
		assert_true(zg_db_apply(&db, &m, true) >= 0);
		serial++;
		for (size_t z = 0; z < db.nzones; z++) {
			const struct zg_diff *d = &db.zones[z].diff;
			const struct nc_dnssec_out *out;
			struct set fresh = { .strip = alg == 13 };

			if (d->ndel + d->nadd == 0)
				continue;
			assert_int_equal(nc_dnssec_diff(&s, &db, z, d, serial,
			    NOW, &out), 0);
			serials[z] = serial;
			apply_zg(&mir[z], d);
			apply_out(&mir[z], out);
			fresh_set(&db, z, serial, alg, &fresh);
			set_equal(&mir[z], &fresh);
			set_free(&fresh);
		}
	}
	for (size_t z = 0; z < db.nzones; z++)
		verify_all(&s, &db, z, serials[z]);
	/* a restart: the zones as served, then changes while no signer
	 * follows; a new signer takes the old signatures over */
	old = calloc(db.nzones, sizeof(*old));
	for (size_t z = 0; z < db.nzones; z++) {
		assert_int_equal(db_each(&db, z, rrv_add, &old[z]), 0);
		assert_int_equal(nc_dnssec_foreach(&s, z, rrv_add, &old[z]), 0);
	}
	for (unsigned k = 0; k < 3; k++)
		step(&m);
	assert_true(zg_db_apply(&db, &m, true) >= 0);
	for (size_t z = 0; z < db.nzones; z++) {
		if (db.zones[z].nrecords > 0)
			restart_check(&db, z, &old[z], serial + 1, alg,
			    &mir[z]);
		rrv_free(&old[z]);
		set_free(&mir[z]);
	}
	free(old);
	free(mir);
	free(serials);
	nc_dnssec_free(&s);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
	rm_keydir();
}

/* The smallest RRSIG expiration in ST (keys "owner type ttl rdata"). */
static uint32_t
min_expiry(const struct set *st)
{
	uint32_t min = UINT32_MAX;
	size_t it = 0;
	const char *k;

	while (kz_map_next(&st->m, &it, &k, NULL)) {
		unsigned type, ttl;
		int off = 0;
		char hex[9];

		if (sscanf(k, "%*s %u %u %n", &type, &ttl, &off) < 2 ||
		    type != 46)
			continue;
		memcpy(hex, k + off + 16, 8);	/* octets 8-11 */
		hex[8] = '\0';
		if ((uint32_t)strtoul(hex, NULL, 16) < min)
			min = (uint32_t)strtoul(hex, NULL, 16);
	}
	return min;
}

/*
 * Short lifetimes (validity 200 s, refresh 80 s): over three lifetimes
 * of a fixed zone, ticking every gap, no signature of the served zone
 * (the mirror kept from the refresh diffs) ever comes within the
 * refresh period, the refreshes come in several smaller batches rather
 * than the whole zone at once, and the mirror stays the signer's zone.
 */
static void
refresh_run(void)
{
	struct zg_render_opts o;
	struct nc_dnssec_opts so;
	struct zg_model m;
	struct zg_db db;
	struct nc_dnssec s;
	struct set mir = { .strip = false }, now_set = { .strip = false };
	uint32_t now = NOW, serial = 1, gap;
	size_t batches = 0, biggest = 0, total;
	char err[256];

	seed();
	make_keydir();
	zg_render_opts_init(&o);
	nc_dnssec_opts_init(&so);
	so.alg = 15;
	so.nsec3 = use_nsec3;
	so.validity = 200;
	so.refresh = 80;
	assert_int_equal(nc_dnssec_opts_finish(&so, err, sizeof(err)), 0);
	gap = nc_dnssec_gap(&so);
	zg_model_init(&m);
	for (unsigned i = 0; i < 40; i++)
		step(&m);
	assert_int_equal(zg_db_init(&db, &o), 0);
	assert_int_equal(zg_db_load(&db, &m), 0);
	assert_int_equal(nc_dnssec_init(&s, &so, db.nzones), 0);
	sign_zones(&s, &db, 15);
	kz_map_init(&mir.m);
	assert_int_equal(nc_dnssec_sign_full(&s, &db, 0, serial, now), 0);
	assert_int_equal(db_each(&db, 0, set_add, &mir), 0);
	assert_int_equal(nc_dnssec_foreach(&s, 0, set_add, &mir), 0);
	total = nc_dnssec_count(&s, 0);
	assert_true(min_expiry(&mir) > now + so.refresh + gap);
	for (; now < NOW + 3 * so.validity; now += gap) {
		const struct nc_dnssec_out *out;
		size_t left;

		if (nc_dnssec_due(&s, 0, now)) {
			assert_int_equal(nc_dnssec_refresh(&s, &db, 0, ++serial,
			    now, 0, &out, &left), 0);
			assert_int_equal(left, 0);
			apply_out(&mir, out);
			batches++;
			if (out->nadd > biggest)
				biggest = out->nadd;
		}
		if (min_expiry(&mir) <= now + so.refresh)
			fail_msg("a signature expires within the refresh period "
			    "at %u: %u", now, min_expiry(&mir));
		assert_true(nc_dnssec_earliest(&s, 0) > now + so.refresh);
	}
	print_message("%zu signatures, %zu refreshes, at most %zu at once\n",
	    total, batches, biggest);
	assert_true(batches >= 6);
	assert_true(biggest < total / 2 + 2);
	kz_map_init(&now_set.m);
	assert_int_equal(db_each(&db, 0, set_add, &now_set), 0);
	assert_int_equal(nc_dnssec_foreach(&s, 0, set_add, &now_set), 0);
	set_equal(&mir, &now_set);
	set_free(&mir);
	set_free(&now_set);
	nc_dnssec_free(&s);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
	rm_keydir();
}

static void
test_refresh_short_lifetimes(void **state)
{
	(void)state;
	refresh_run();
	use_nsec3 = true;
	refresh_run();
	use_nsec3 = false;
}

static unsigned
steps_per_run(void)
{
	const char *s = getenv("KZ_TEST_STEPS");

	return s ? (unsigned)strtoul(s, NULL, 10) : 300;
}

static void
seed(void)
{
	const char *s = getenv("KZ_TEST_SEED");

	rng_state = s ? strtoull(s, NULL, 10) : 0x64737363ULL;
	if (rng_state == 0)
		rng_state = 1;
	print_message("seed %llu\n", (unsigned long long)rng_state);
}

static void
test_incremental_ed25519(void **state)
{
	(void)state;
	seed();
	run(15, steps_per_run());
}

/* Two keys (a rollover's double signature): two RRSIGs per RRset. */
static void
test_incremental_two_keys(void **state)
{
	(void)state;
	seed();
	nkeys_wanted = 2;
	run(15, steps_per_run() / 3);
	nkeys_wanted = 1;
}

/* NSEC3: the hashed chain, empty non-terminals coming and going. */
static void
test_incremental_nsec3(void **state)
{
	(void)state;
	seed();
	use_nsec3 = true;
	run(15, steps_per_run());
	use_nsec3 = false;
}

static void
test_incremental_ecdsa(void **state)
{
	(void)state;
	seed();
	run(13, steps_per_run() / 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bind_key),
		cmocka_unit_test(test_incremental_ed25519),
		cmocka_unit_test(test_incremental_ecdsa),
		cmocka_unit_test(test_incremental_two_keys),
		cmocka_unit_test(test_incremental_nsec3),
		cmocka_unit_test(test_refresh_short_lifetimes),
	};

	kz_log_set_level(KZ_LOG_OFF);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
