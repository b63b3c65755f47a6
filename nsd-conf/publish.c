/*
 * nsd-conf/publish.c -- diffs into the feed, one serial per diff.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/publish.h"
#include "zonegen/render.h"

/* struct zg_rr and struct nc_rr are the same record: one conversion. */
static void
to_nc(struct nc_rr *out, const struct zg_rr *in)
{
	out->owner = in->owner;
	out->ownerlen = in->ownerlen;
	out->type = in->type;
	out->ttl = in->ttl;
	out->rdata = in->rdata;
	out->rdlen = in->rdlen;
}

struct emit_ctx {
	int (*emit)(void *ectx, const struct nc_rr *rr);
	void *ectx;
};

static int
emit_one(void *ctx, const struct zg_rr *rr)
{
	struct emit_ctx *e = ctx;
	struct nc_rr r;

	to_nc(&r, rr);
	return e->emit(e->ectx, &r);
}

/* The feed's record source: the database zone that maps to ZONE. */
static int
foreach_zone(void *ctx, size_t zone, int (*emit)(void *, const struct nc_rr *),
    void *ectx)
{
	struct nc_publisher *p = ctx;
	struct emit_ctx e = { emit, ectx };

	for (size_t z = 0; z < p->db->nzones; z++) {
		int rc;

		if (p->fz[z] != zone)
			continue;
		rc = zg_db_foreach(p->db, z, emit_one, &e);
		if (rc == 0 && nc_dnssec_signed(p->sign, z))
			rc = nc_dnssec_foreach(p->sign, z, emit, ectx);
		return rc;
	}
	return KZ_EINVAL;
}

int
nc_pub_init(struct nc_publisher *p, struct zg_db *db, struct nc_feed *feed,
    struct nc_serials *serials)
{
	memset(p, 0, sizeof(*p));
	p->db = db;
	p->feed = feed;
	p->serials = serials;
	p->fz = calloc(db->nzones ? db->nzones : 1, sizeof(*p->fz));
	p->first = calloc(db->nzones ? db->nzones : 1, sizeof(*p->first));
	p->whole = calloc(db->nzones ? db->nzones : 1, sizeof(*p->whole));
	p->sign_seconds = calloc(db->nzones ? db->nzones : 1,
	    sizeof(*p->sign_seconds));
	if (p->fz == NULL || p->first == NULL || p->whole == NULL ||
	    p->sign_seconds == NULL)
		return KZ_ENOMEM;
	for (size_t z = 0; z < db->nzones; z++) {
		const struct zg_db_zone *dz = &db->zones[z];
		struct nc_feed_soa soa = { dz->mname, dz->rname,
		    dz->refresh, dz->retry, dz->expire, dz->minimum,
		    dz->soa_ttl };
		int rc = nc_feed_add_zone(feed, dz->origin, &soa, foreach_zone,
		    p, &p->fz[z]);

		if (rc)
			return rc;
	}
	return 0;
}

void
nc_pub_free(struct nc_publisher *p)
{
	free(p->fz);
	free(p->first);
	free(p->whole);
	free(p->sign_seconds);
	free(p->rrs);
	memset(p, 0, sizeof(*p));
}

/* The whole of zone Z under a new serial (no diff). */
static int
publish_whole(struct nc_publisher *p, size_t z, uint32_t now)
{
	const char *origin = p->db->zones[z].origin;
	uint32_t serial;
	int rc;

	rc = nc_serial_issue(p->serials, origin, now, &serial);
	if (rc == 0 && nc_dnssec_signed(p->sign, z)) {
		uint64_t cpu0 = kz_cpu_ns();

		rc = nc_dnssec_sign_full(p->sign, p->db, z, serial, now);
		p->sign_seconds[z] = (double)(kz_cpu_ns() - cpu0) / 1e9;
		if (rc == 0)
			kz_info("zone signed", "zone=%s signatures=%zu "
			    "cpu_s=%.3f", origin, nc_dnssec_count(p->sign, z),
			    p->sign_seconds[z]);
	}
	if (rc == 0)
		rc = nc_feed_set_serial(p->feed, p->fz[z], serial);
	if (rc) {
		kz_error("cannot publish a zone", "zone=%s error=\"%s\"",
		    origin, kz_strerror(rc));
		p->stats.failed++;
		return rc;
	}
	if (!p->started || z + 1 == p->held)
		p->first[z] = serial;
	kz_info("zone published", "zone=%s serial=%u records=%zu", origin,
	    serial, p->db->zones[z].nrecords + 1);
	return 0;
}

/* --- resuming from NSD's zone file ------------------------------------ */

/*
 * One record as a comparable blob: owner length, owner (wire, lower
 * case), type, TTL, RDATA. Sorting blobs with memcmp and merging two
 * sorted lists gives the difference of two record sets.
 */
struct blob {
	uint8_t *b;
	size_t len;
};

struct blobs {
	struct blob *v;
	size_t n, cap;
	int rc;
};

static void
blob_add(struct blobs *bs, const uint8_t *owner, size_t ol, uint16_t type,
    uint32_t ttl, const uint8_t *rd, size_t rdl)
{
	uint8_t *b;

	if (bs->rc || ol > 255)
		return;
	if (bs->n == bs->cap) {
		size_t cap = bs->cap ? bs->cap * 2 : 1024;
		struct blob *v = realloc(bs->v, cap * sizeof(*v));
		if (v == NULL)
			goto nomem;
		bs->v = v;
		bs->cap = cap;
	}
	b = malloc(1 + ol + 6 + rdl);
	if (b == NULL)
		goto nomem;
	b[0] = (uint8_t)ol;
	for (size_t i = 0; i < ol; i++)	/* labels' length octets < 'A' */
		b[1 + i] = (uint8_t)(owner[i] >= 'A' && owner[i] <= 'Z' ?
		    owner[i] - 'A' + 'a' : owner[i]);
	b[1 + ol] = (uint8_t)(type >> 8);
	b[2 + ol] = (uint8_t)type;
	for (int i = 0; i < 4; i++)
		b[3 + ol + i] = (uint8_t)(ttl >> (24 - 8 * i));
	if (rdl)
		memcpy(b + 7 + ol, rd, rdl);
	bs->v[bs->n++] = (struct blob){ b, 1 + ol + 6 + rdl };
	return;
nomem:
	bs->rc = KZ_ENOMEM;
}

static void
blobs_free(struct blobs *bs)
{
	for (size_t i = 0; i < bs->n; i++)
		free(bs->v[i].b);
	free(bs->v);
}

static int
cmp_blob(const void *pa, const void *pb)
{
	const struct blob *a = pa, *b = pb;
	int r = memcmp(a->b, b->b, a->len < b->len ? a->len : b->len);

	return r ? r : (a->len > b->len) - (a->len < b->len);
}

static void
blob_rr(const struct blob *bl, struct nc_rr *rr)
{
	size_t ol = bl->b[0];

	rr->owner = bl->b + 1;
	rr->ownerlen = ol;
	rr->type = (uint16_t)(bl->b[1 + ol] << 8 | bl->b[2 + ol]);
	rr->ttl = (uint32_t)bl->b[3 + ol] << 24 | (uint32_t)bl->b[4 + ol] << 16 |
	    (uint32_t)bl->b[5 + ol] << 8 | bl->b[6 + ol];
	rr->rdata = bl->b + 7 + ol;
	rr->rdlen = bl->len - 7 - ol;
}

static int
db_blob(void *ctx, const struct zg_rr *rr)
{
	struct blobs *bs = ctx;

	blob_add(bs, rr->owner, rr->ownerlen, rr->type, rr->ttl, rr->rdata,
	    rr->rdlen);
	return bs->rc;
}

/*
 * Whether the SOA RR of a zone file is the one database zone DZ serves,
 * the serial aside: names compared as DNS names, timers, TTL.
 */
static bool
soa_same(const ldns_rr *rr, const struct zg_db_zone *dz)
{
	const uint32_t want[4] = { dz->refresh, dz->retry, dz->expire,
	    dz->minimum };
	ldns_rdf *mname = ldns_dname_new_frm_str(dz->mname);
	ldns_rdf *rname = ldns_dname_new_frm_str(dz->rname);
	bool same = mname && rname && ldns_rr_rd_count(rr) == 7 &&
	    ldns_rr_ttl(rr) == dz->soa_ttl &&
	    ldns_dname_compare(ldns_rr_rdf(rr, 0), mname) == 0 &&
	    ldns_dname_compare(ldns_rr_rdf(rr, 1), rname) == 0;

	for (size_t i = 0; same && i < 4; i++)
		same = ldns_rdf2native_int32(ldns_rr_rdf(rr, 3 + i)) == want[i];
	if (mname)
		ldns_rdf_deep_free(mname);
	if (rname)
		ldns_rdf_deep_free(rname);
	return same;
}

/*
 * Every record of the zone file PATH but the SOA, as blobs; *SOA_SAME
 * tells whether its SOA is DZ's (the serial aside).
 */
static int
file_blobs(const char *path, const struct zg_db_zone *dz, struct blobs *bs,
    bool *soa_same_out)
{
	const char *origin = dz->origin;
	ldns_rdf *org = ldns_dname_new_frm_str(origin), *prev = NULL;
	ldns_buffer *rd = ldns_buffer_new(512);
	uint32_t ttl = 3600;
	int line = 1, rc = 0;
	FILE *f = nc_fopen_regular(path);

	if (f == NULL || org == NULL || rd == NULL) {
		rc = f == NULL && errno ? -errno : KZ_ENOMEM;
		goto out;
	}
	while (rc == 0 && bs->rc == 0 && !feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &org, &prev,
		    &line);
		ldns_rdf *owner;

		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			rc = feof(f) ? 0 : KZ_EPARSE;
			break;
		}
		owner = ldns_rr_owner(rr);
		ldns_buffer_clear(rd);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			*soa_same_out = soa_same(rr, dz);
		else if (ldns_rr_rdata2buffer_wire(rd, rr) == LDNS_STATUS_OK)
			blob_add(bs, ldns_rdf_data(owner), ldns_rdf_size(owner),
			    (uint16_t)ldns_rr_get_type(rr), ldns_rr_ttl(rr),
			    ldns_buffer_begin(rd), ldns_buffer_position(rd));
		ldns_rr_free(rr);
	}
	rc = rc ? rc : bs->rc;
out:
	if (f)
		fclose(f);
	if (org)
		ldns_rdf_deep_free(org);
	if (prev)
		ldns_rdf_deep_free(prev);
	if (rd)
		ldns_buffer_free(rd);
	return rc;
}

/*
 * Zone Z as NSD already serves it from its zone file PATH (serial
 * FSERIAL): the feed starts at FSERIAL, and what differs from the file
 * goes out as one diff, so NSD (and the secondaries after it) get an
 * IXFR, or nothing at all when the zone did not change. Any trouble
 * with the file: KZ_EPARSE or the like, and the caller publishes whole.
 */
static int
resume_zone(struct nc_publisher *p, size_t z, const char *path,
    uint32_t fserial, uint32_t now)
{
	struct blobs fb = { 0 }, db = { 0 };
	struct nc_rr *del = NULL, *add = NULL;
	size_t ndel = 0, nadd = 0, i = 0, j = 0;
	uint32_t serial = fserial;
	bool soa_ok = false;
	int rc;

	rc = file_blobs(path, &p->db->zones[z], &fb, &soa_ok);
	if (rc == 0)
		rc = zg_db_foreach(p->db, z, db_blob, &db);
	rc = rc ? rc : db.rc;
	if (rc)
		goto out;
	if (!soa_ok) {
		/* The SOA is not part of a diff: NSD takes a new one whole. */
		kz_info("zone's SOA changed since nsd's zone file", "zone=%s "
		    "file_serial=%u", p->db->zones[z].origin, fserial);
		rc = KZ_ENOTFOUND;
		goto out;
	}
	if (fb.n > 1)
		qsort(fb.v, fb.n, sizeof(*fb.v), cmp_blob);
	if (db.n > 1)
		qsort(db.v, db.n, sizeof(*db.v), cmp_blob);
	del = malloc((fb.n ? fb.n : 1) * sizeof(*del));
	add = malloc((db.n ? db.n : 1) * sizeof(*add));
	if (del == NULL || add == NULL) {
		rc = KZ_ENOMEM;
		goto out;
	}
	while (i < fb.n || j < db.n) {
		int c = i == fb.n ? 1 : j == db.n ? -1 :
		    cmp_blob(&fb.v[i], &db.v[j]);
		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			blob_rr(&fb.v[i++], &del[ndel++]);
		} else {
			blob_rr(&db.v[j++], &add[nadd++]);
		}
	}
	rc = nc_feed_set_serial(p->feed, p->fz[z], fserial);
	if (rc == 0 && ndel + nadd > 0 &&
	    (rc = nc_serial_issue(p->serials, p->db->zones[z].origin, now,
	    &serial)) == 0)
		rc = nc_feed_commit(p->feed, p->fz[z], serial, del, ndel, add,
		    nadd);
	if (rc == 0) {
		p->first[z] = serial;
		kz_info("zone resumed from nsd's zone file", "zone=%s "
		    "file_serial=%u serial=%u deleted=%zu added=%zu",
		    p->db->zones[z].origin, fserial, serial, ndel, nadd);
	}
out:
	free(del);
	free(add);
	blobs_free(&fb);
	blobs_free(&db);
	return rc;
}

/* Publish zone Z: resume from NSD's zone file in ZONEDIR, or whole. */
static int
start_zone(struct nc_publisher *p, size_t z, const char *zonedir,
    uint32_t now)
{
	const struct zg_db_zone *dz = &p->db->zones[z];
	char path[4096], err[256];
	uint32_t fserial;

	/* A signed zone is signed afresh: NSD's file holds old signatures. */
	if (zonedir && !nc_dnssec_signed(p->sign, z) &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s", zonedir,
	    dz->file) < sizeof(path) &&
	    nc_zonefile_serial(path, dz->origin, &fserial, err,
	    sizeof(err)) == 0 &&
	    resume_zone(p, z, path, fserial, now) == 0)
		return 0;
	return publish_whole(p, z, now);
}

int
nc_pub_start(struct nc_publisher *p, const char *zonedir, uint32_t now)
{
	int rc = 0;

	for (size_t z = 0; z < p->db->nzones && rc == 0; z++)
		if (z + 1 != p->held)
			rc = start_zone(p, z, zonedir, now);
	if (rc == 0)
		p->started = true;
	return rc;
}

void
nc_pub_hold(struct nc_publisher *p, size_t z)
{
	if (!p->started && z < p->db->nzones)
		p->held = z + 1;
}

bool
nc_pub_held(const struct nc_publisher *p, size_t z)
{
	return z + 1 == p->held;
}

int
nc_pub_release(struct nc_publisher *p, const char *zonedir, uint32_t now)
{
	size_t z = p->held - 1;
	int rc;

	if (p->held == 0 || !p->started)
		return p->held ? KZ_EINVAL : 0;
	rc = start_zone(p, z, zonedir, now);
	if (rc == 0)
		p->held = 0;
	return rc;
}

/* Records a commit keeps in P->rrs for the next one; past it, freed. */
#define KEEP_RRS 1024

/*
 * Zone Z's diff D and the signer's changes S (may be NULL) as one record
 * list each, *DEL and *ADD, in P->rrs (grown as needed).
 */
static int
join(struct nc_publisher *p, const struct zg_diff *d,
    const struct nc_dnssec_out *s, struct nc_rr **del, size_t *ndel,
    struct nc_rr **add, size_t *nadd)
{
	size_t sd = s ? s->ndel : 0, sa = s ? s->nadd : 0;

	*ndel = d->ndel + sd;
	*nadd = d->nadd + sa;
	if (*nadd > SIZE_MAX - *ndel)
		return KZ_ENOMEM;
	if (*ndel + *nadd > p->rrcap) {
		struct nc_rr *v = reallocarray(p->rrs, *ndel + *nadd,
		    sizeof(*v));

		if (v == NULL)
			return KZ_ENOMEM;
		p->rrs = v;
		p->rrcap = *ndel + *nadd;
	}
	*del = p->rrs;
	*add = p->rrs + *ndel;
	for (size_t i = 0; i < d->ndel; i++)
		to_nc(&(*del)[i], &d->del[i]);
	for (size_t i = 0; i < d->nadd; i++)
		to_nc(&(*add)[i], &d->add[i]);
	if (sd)
		memcpy(*del + d->ndel, s->del, sd * sizeof(**del));
	if (sa)
		memcpy(*add + d->nadd, s->add, sa * sizeof(**add));
	return 0;
}

/* Commit zone Z's diff D as one new serial (signed, when Z is). */
static int
commit(struct nc_publisher *p, size_t z, const struct zg_diff *d,
    uint32_t now)
{
	const char *origin = p->db->zones[z].origin;
	const struct nc_dnssec_out *so = NULL;
	struct nc_rr *del = NULL, *add = NULL;
	size_t ndel = 0, nadd = 0;
	uint32_t serial;
	int rc;

	rc = nc_serial_issue(p->serials, origin, now, &serial);
	if (rc == 0 && nc_dnssec_signed(p->sign, z))
		rc = nc_dnssec_diff(p->sign, p->db, z, d, serial, now, &so);
	if (rc == 0)
		rc = join(p, d, so, &del, &ndel, &add, &nadd);
	if (rc == 0)
		rc = nc_feed_commit(p->feed, p->fz[z], serial, del, ndel, add,
		    nadd);
	if (p->rrcap > KEEP_RRS) {
		free(p->rrs);
		p->rrs = NULL;
		p->rrcap = 0;
	}
	if (rc) {
		kz_error("cannot publish a change", "zone=%s error=\"%s\"",
		    origin, kz_strerror(rc));
		p->stats.failed++;
		return rc;
	}
	p->stats.diffs++;
	p->stats.records += ndel + nadd;
	/* The feed's "feed: commit" line tells the serial and the counts. */
	return 0;
}

long
nc_pub_diffs(struct nc_publisher *p, uint32_t now)
{
	long n = 0;
	int rc = 0;

	if (!p->started)
		return nc_pub_start(p, NULL, now);
	for (size_t z = 0; z < p->db->nzones; z++) {
		const struct zg_diff *d = &p->db->zones[z].diff;
		int r;

		if (z + 1 == p->held)
			continue;	/* published whole when released */
		/* After a failed commit the diff chain is broken: the
		 * zone goes out whole (NSD then transfers it by AXFR). */
		if (p->whole[z])
			r = publish_whole(p, z, now);
		else if (d->ndel + d->nadd == 0)
			continue;
		else
			r = commit(p, z, d, now);
		p->whole[z] = r != 0;
		if (r) {
			if (rc == 0)
				rc = r;
			continue;
		}
		n++;
	}
	return rc ? rc : n;
}

void
nc_pub_sign(struct nc_publisher *p, struct nc_dnssec *sign)
{
	if (!p->started)
		p->sign = sign;
}

/* Commit a refresh of zone Z's signatures due at NOW. */
static int
refresh_zone(struct nc_publisher *p, size_t z, uint32_t now, size_t max)
{
	const char *origin = p->db->zones[z].origin;
	const struct nc_dnssec_out *so = NULL;
	uint32_t serial;
	size_t left = 0;
	int rc;

	rc = nc_serial_issue(p->serials, origin, now, &serial);
	if (rc == 0)
		rc = nc_dnssec_refresh(p->sign, p->db, z, serial, now, max,
		    &so, &left);
	if (rc == 0)
		rc = nc_feed_commit(p->feed, p->fz[z], serial, so->del,
		    so->ndel, so->add, so->nadd);
	if (rc) {
		kz_error("cannot refresh signatures", "zone=%s error=\"%s\"",
		    origin, kz_strerror(rc));
		p->stats.failed++;
		return rc;
	}
	p->stats.refreshes++;
	kz_debug("signatures refreshed", "zone=%s serial=%u signatures=%zu "
	    "still_due=%zu", origin, serial, so->nadd, left);
	return 0;
}

long
nc_pub_refresh(struct nc_publisher *p, uint32_t now, size_t max)
{
	long n = 0;
	int rc = 0;

	for (size_t z = 0; p->started && z < p->db->nzones; z++) {
		int r;

		if (z + 1 == p->held || p->whole[z] ||
		    !nc_dnssec_due(p->sign, z, now))
			continue;
		r = refresh_zone(p, z, now, max);
		p->whole[z] = r != 0;
		if (r && rc == 0)
			rc = r;
		n += r == 0;
	}
	return rc ? rc : n;
}

uint32_t
nc_pub_next_refresh(const struct nc_publisher *p)
{
	uint32_t next = 0;

	for (size_t z = 0; p->started && z < p->db->nzones; z++) {
		uint32_t t = nc_dnssec_next_due(p->sign, z);

		if (t && (next == 0 || t < next))
			next = t;
	}
	return next;
}

uint32_t
nc_pub_serial(const struct nc_publisher *p, size_t z)
{
	return nc_feed_serial(p->feed, p->fz[z], NULL);
}
