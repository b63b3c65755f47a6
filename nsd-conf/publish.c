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

static void resume_free(struct nc_pub_resume *rs);
static int resume_work(struct nc_publisher *p, size_t z, size_t max);
static bool resume_before_sign(const struct nc_publisher *p, size_t z);
static int resume_done(struct nc_publisher *p, size_t z, uint32_t now);

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
	p->job = calloc(db->nzones ? db->nzones : 1, sizeof(*p->job));
	p->resume = calloc(db->nzones ? db->nzones : 1, sizeof(*p->resume));
	if (p->fz == NULL || p->first == NULL || p->whole == NULL ||
	    p->sign_seconds == NULL || p->job == NULL || p->resume == NULL)
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
	free(p->job);
	for (size_t z = 0; p->resume && z < p->db->nzones; z++)
		resume_free(p->resume[z]);
	free(p->resume);
	free(p->rrs);
	memset(p, 0, sizeof(*p));
}

/* A whole signing under way (p->job). */
enum { JOB_NONE, JOB_FIRST, JOB_AGAIN, JOB_RESUME };

/* Zone Z under a new serial, whole (no diff), once signed if it is. */
static int
publish_serial(struct nc_publisher *p, size_t z, uint32_t now, bool first)
{
	const char *origin = p->db->zones[z].origin;
	bool sign = nc_dnssec_signed(p->sign, z);
	uint32_t serial;
	int rc;

	rc = nc_serial_issue(p->serials, origin, now, &serial);
	if (rc == 0 && sign) {
		uint64_t cpu0 = kz_cpu_ns();

		rc = nc_dnssec_sign_finish(p->sign, p->db, z, serial, now);
		p->sign_seconds[z] += (double)(kz_cpu_ns() - cpu0) / 1e9;
	}
	if (rc == 0)
		rc = nc_feed_set_serial(p->feed, p->fz[z], serial);
	if (rc) {
		kz_error("cannot publish a zone", "zone=%s error=\"%s\"",
		    origin, kz_strerror(rc));
		p->stats.failed++;
		return rc;
	}
	if (sign)
		kz_info("zone signed", "zone=%s signatures=%zu cpu_s=%.3f",
		    origin, nc_dnssec_count(p->sign, z), p->sign_seconds[z]);
	if (first)
		p->first[z] = serial;
	kz_info("zone published", "zone=%s serial=%u records=%zu", origin,
	    serial, p->db->zones[z].nrecords + 1);
	return 0;
}

/* Begin the whole signing of zone Z as job JOB (nc_pub_work goes on
 * with it): 1, or an error. */
static int
sign_begin(struct nc_publisher *p, size_t z, unsigned char job)
{
	int rc = nc_dnssec_sign_begin(p->sign, p->db, z);

	p->sign_seconds[z] = 0;
	if (rc) {
		kz_error("cannot sign a zone", "zone=%s error=\"%s\"",
		    p->db->zones[z].origin, kz_strerror(rc));
		p->stats.failed++;
		return rc;
	}
	p->job[z] = job;
	kz_info("signing zone whole", "zone=%s records=%zu",
	    p->db->zones[z].origin, p->db->zones[z].nrecords + 1);
	return 1;
}

/*
 * The whole of zone Z under a new serial (no diff): 0. A signed zone
 * is signed first, in steps (nc_pub_work): 1, it is published when its
 * signing is done.
 */
static int
publish_whole(struct nc_publisher *p, size_t z, uint32_t now)
{
	bool first = !p->started || z + 1 == p->held;

	if (!nc_dnssec_signed(p->sign, z))
		return publish_serial(p, z, now, first);
	return sign_begin(p, z, first ? JOB_FIRST : JOB_AGAIN);
}

bool
nc_pub_busy(const struct nc_publisher *p)
{
	for (size_t z = 0; p->job && z < p->db->nzones; z++)
		if (nc_pub_signing(p, z))
			return true;
	return false;
}

bool
nc_pub_signing(const struct nc_publisher *p, size_t z)
{
	return p->job && z < p->db->nzones && p->job[z] != JOB_NONE;
}

int
nc_pub_work(struct nc_publisher *p, uint32_t now, size_t max)
{
	for (size_t z = 0; p->job && z < p->db->nzones; z++) {
		uint64_t cpu0 = kz_cpu_ns();
		bool first = p->job[z] != JOB_AGAIN;
		int rc;

		if (p->job[z] == JOB_NONE)
			continue;
		if (p->job[z] == JOB_RESUME && resume_before_sign(p, z))
			return resume_work(p, z, max);
		rc = nc_dnssec_sign_step(p->sign, p->db, z, now, max);
		p->sign_seconds[z] += (double)(kz_cpu_ns() - cpu0) / 1e9;
		if (rc > 0)
			return 1;
		if (rc == 0 && p->job[z] == JOB_RESUME) {
			p->job[z] = JOB_NONE;
			rc = resume_done(p, z, now);
		} else if (rc == 0) {
			p->job[z] = JOB_NONE;
			rc = publish_serial(p, z, now, first);
		} else {
			p->job[z] = JOB_NONE;
			resume_free(p->resume[z]);
			p->resume[z] = NULL;
			kz_error("cannot sign a zone", "zone=%s error=\"%s\"",
			    p->db->zones[z].origin, kz_strerror(rc));
			p->stats.failed++;
		}
		if (rc) {
			p->whole[z] = true;	/* signed again next time */
			return rc;
		}
		return nc_pub_busy(p) ? 1 : 0;
	}
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

/* Move blob BL to BS (BL is left empty). */
static void
blob_move(struct blobs *bs, struct blob *bl)
{
	if (bs->rc == 0 && bs->n == bs->cap) {
		size_t cap = bs->cap ? bs->cap * 2 : 1024;
		struct blob *v = realloc(bs->v, cap * sizeof(*v));
		if (v == NULL) {
			bs->rc = KZ_ENOMEM;
			return;
		}
		bs->v = v;
		bs->cap = cap;
	}
	if (bs->rc == 0) {
		bs->v[bs->n++] = *bl;
		*bl = (struct blob){ NULL, 0 };
	}
}

/* Append the records of blobs BS to V (room made by the caller). */
static size_t
put_blobs(struct nc_rr *v, const struct blobs *bs)
{
	for (size_t i = 0; i < bs->n; i++)
		blob_rr(&bs->v[i], &v[i]);
	return bs->n;
}

/*
 * The difference of the blobs OLD and NEW, sorted here: those only in
 * OLD go to DEL (copied when KEEP_OLD, OLD being needed whole later;
 * else moved), those only in NEW are moved to ADD. Blobs of OLD that
 * SKIP (may be NULL) says of take no part. 0 or KZ_ENOMEM.
 */
static int
blobs_diff(struct blobs *old, struct blobs *new,
    bool (*skip)(const struct blob *), bool keep_old, struct blobs *del,
    struct blobs *add)
{
	size_t i = 0, j = 0;

	if (old->n > 1)
		qsort(old->v, old->n, sizeof(*old->v), cmp_blob);
	if (new->n > 1)
		qsort(new->v, new->n, sizeof(*new->v), cmp_blob);
	while ((i < old->n || j < new->n) && del->rc == 0 && add->rc == 0) {
		int c;

		if (i < old->n && skip && skip(&old->v[i])) {
			i++;
			continue;
		}
		c = i == old->n ? 1 : j == new->n ? -1 :
		    cmp_blob(&old->v[i], &new->v[j]);
		if (c == 0) {
			i++, j++;
		} else if (c > 0) {
			blob_move(add, &new->v[j++]);
		} else if (keep_old) {
			struct nc_rr r;

			blob_rr(&old->v[i++], &r);
			blob_add(del, r.owner, r.ownerlen, r.type, r.ttl,
			    r.rdata, r.rdlen);
		} else {
			blob_move(del, &old->v[i++]);
		}
	}
	return del->rc ? del->rc : add->rc;
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

/* A zone file read record by record (zf_open, zf_read, zf_close). */
struct zfile {
	FILE *f;
	ldns_rdf *org, *prev;
	ldns_buffer *rd;
	uint32_t ttl;
	int line;
	bool soa_same;		/* its SOA is the zone's (the serial aside) */
};

static void
zf_close(struct zfile *zf)
{
	if (zf->f)
		fclose(zf->f);
	if (zf->org)
		ldns_rdf_deep_free(zf->org);
	if (zf->prev)
		ldns_rdf_deep_free(zf->prev);
	if (zf->rd)
		ldns_buffer_free(zf->rd);
	zf->f = NULL;
	zf->org = zf->prev = NULL;
	zf->rd = NULL;		/* soa_same stays */
}

static int
zf_open(struct zfile *zf, const char *path, const char *origin)
{
	memset(zf, 0, sizeof(*zf));
	zf->ttl = 3600;
	zf->line = 1;
	zf->f = nc_fopen_regular(path);
	zf->org = ldns_dname_new_frm_str(origin);
	zf->rd = ldns_buffer_new(512);
	if (zf->f == NULL || zf->org == NULL || zf->rd == NULL) {
		int rc = zf->f == NULL && errno ? -errno : KZ_ENOMEM;
		zf_close(zf);
		return rc;
	}
	return 0;
}

/*
 * At most MAX (0: all) more records of ZF but the SOA into BS as blobs
 * (the SOA compared with DZ's). 1 while records are left, 0 at the end
 * of the file, or an error (KZ_EPARSE: not a zone file kubezone reads).
 */
static int
zf_read(struct zfile *zf, const struct zg_db_zone *dz, struct blobs *bs,
    size_t max)
{
	size_t n = 0;

	while (bs->rc == 0 && !feof(zf->f)) {
		ldns_rr *rr = NULL;
		ldns_status st;
		ldns_rdf *owner;

		if (max && n++ == max)
			return 1;
		st = ldns_rr_new_frm_fp_l(&rr, zf->f, &zf->ttl, &zf->org,
		    &zf->prev, &zf->line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK)
			return feof(zf->f) ? 0 : KZ_EPARSE;
		owner = ldns_rr_owner(rr);
		ldns_buffer_clear(zf->rd);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			zf->soa_same = soa_same(rr, dz);
		else if (ldns_rr_rdata2buffer_wire(zf->rd, rr) == LDNS_STATUS_OK)
			blob_add(bs, ldns_rdf_data(owner), ldns_rdf_size(owner),
			    (uint16_t)ldns_rr_get_type(rr), ldns_rr_ttl(rr),
			    ldns_buffer_begin(zf->rd),
			    ldns_buffer_position(zf->rd));
		ldns_rr_free(rr);
	}
	return bs->rc;
}

/*
 * Every record of the zone file PATH but the SOA, as blobs; *SOA_SAME
 * tells whether its SOA is DZ's (the serial aside).
 */
static int
file_blobs(const char *path, const struct zg_db_zone *dz, struct blobs *bs,
    bool *soa_same_out)
{
	struct zfile zf;
	int rc = zf_open(&zf, path, dz->origin);

	if (rc == 0)
		rc = zf_read(&zf, dz, bs, 0);
	*soa_same_out = zf.soa_same;
	zf_close(&zf);
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
	struct blobs fb = { 0 }, db = { 0 }, bdel = { 0 }, badd = { 0 };
	struct nc_rr *del = NULL, *add = NULL;
	size_t ndel = 0, nadd = 0;
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
	if ((rc = blobs_diff(&fb, &db, NULL, false, &bdel, &badd)) != 0)
		goto out;
	del = malloc((bdel.n ? bdel.n : 1) * sizeof(*del));
	add = malloc((badd.n ? badd.n : 1) * sizeof(*add));
	if (del == NULL || add == NULL) {
		rc = KZ_ENOMEM;
		goto out;
	}
	ndel = put_blobs(del, &bdel);
	nadd = put_blobs(add, &badd);
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
	blobs_free(&bdel);
	blobs_free(&badd);
	return rc;
}

/* --- a signed zone resuming from NSD's zone file ------------------------ */

/*
 * What a signed zone resuming from NSD's zone file keeps while it is
 * signed in steps: the file's serial, the difference of the zone's own
 * records, and the file's chain and key records (NSEC, NSEC3, DNSKEY,
 * NSEC3PARAM) to compare with the signer's at the end. The file's
 * signatures went to the signer (nc_dnssec_reuse_*).
 */
struct nc_pub_resume {
	int stage;		/* RS_* */
	uint32_t fserial;
	struct zfile zf;	/* while RS_READ */
	struct blobs fb;	/* the file's records, until RS_SIGN */
	size_t next;		/* RS_HAND: the next RRset of fb */
	struct blobs del, add;	/* the zone's own records */
	struct blobs chain;	/* the file's */
};

/* The stages of a signed zone's resumption, each in steps but RS_PREP. */
enum {
	RS_READ,	/* the file read, some records a step */
	RS_PREP,	/* sorted; the signing begun */
	RS_HAND,	/* its RRsets and signatures handed to the signer */
	RS_SIGN		/* the signer's job, then resume_done() */
};

/* Records read from a zone file in a step, for a budget of MAX
 * signatures (reading one costs a fraction of making one). */
#define RS_READ_PER_SIG 8

static bool
is_dnssec_type(uint16_t t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_DNSKEY ||
	    t == LDNS_RR_TYPE_NSEC3PARAM;
}

static uint16_t
blob_type(const struct blob *bl)
{
	return (uint16_t)(bl->b[1 + bl->b[0]] << 8 | bl->b[2 + bl->b[0]]);
}

/* The file's own DNSSEC records are no part of the zone's records. */
static bool
skip_dnssec(const struct blob *bl)
{
	return is_dnssec_type(blob_type(bl));
}

static void
resume_free(struct nc_pub_resume *rs)
{
	if (rs == NULL)
		return;
	zf_close(&rs->zf);
	blobs_free(&rs->fb);
	blobs_free(&rs->del);
	blobs_free(&rs->add);
	blobs_free(&rs->chain);
	free(rs);
}

/* Whether blobs A and B have the same owner and type. */
static bool
same_set(const struct blob *a, const struct blob *b)
{
	size_t l = 3 + (size_t)a->b[0];

	return a->b[0] == b->b[0] && memcmp(a->b, b->b, l) == 0;
}

/* The file's RRsets FB[I..J) (one owner and type) to the signer. */
static int
hand_over(struct nc_publisher *p, size_t z, struct nc_pub_resume *rs,
    struct blobs *fb, size_t i, size_t j)
{
	uint16_t type = blob_type(&fb->v[i]);
	uint8_t digest[NC_DNSSEC_DIGEST];
	struct nc_rr *rrs;
	int rc = 0;

	if (j <= i)
		return 0;
	if (type == LDNS_RR_TYPE_RRSIG) {
		for (size_t k = i; k < j && rc == 0; k++) {
			struct nc_rr r;

			blob_rr(&fb->v[k], &r);
			rc = nc_dnssec_reuse_sig(p->sign, z, r.owner,
			    r.ownerlen, r.ttl, r.rdata, r.rdlen);
		}
		return rc == KZ_EINVAL ? 0 : rc;	/* not an RRSIG */
	}
	if ((rrs = malloc((j - i) * sizeof(*rrs))) == NULL)
		return KZ_ENOMEM;
	for (size_t k = i; k < j; k++)
		blob_rr(&fb->v[k], &rrs[k - i]);
	rc = nc_dnssec_digest(rrs, j - i, digest);
	if (rc == 0)
		rc = nc_dnssec_reuse_set(p->sign, z, rrs[0].owner,
		    rrs[0].ownerlen, type, digest);
	free(rrs);
	for (size_t k = i; rc == 0 && k < j && is_dnssec_type(type); k++)
		blob_move(&rs->chain, &fb->v[k]);
	return rc ? rc : rs->chain.rc;
}

/*
 * Signed zone Z resumes from NSD's zone file PATH (serial FSERIAL): the
 * file is read, its signatures handed to the signer to take over and
 * the difference of the zone's own records kept for the end
 * (resume_done), all in steps (resume_step). 1 (under way), or an
 * error (the caller publishes the zone whole).
 */
static int
resume_signed(struct nc_publisher *p, size_t z, const char *path,
    uint32_t fserial)
{
	struct nc_pub_resume *rs = calloc(1, sizeof(*rs));
	int rc = rs ? zf_open(&rs->zf, path, p->db->zones[z].origin) :
	    KZ_ENOMEM;

	if (rc) {
		resume_free(rs);
		return rc;
	}
	rs->fserial = fserial;
	rs->stage = RS_READ;
	p->resume[z] = rs;
	p->job[z] = JOB_RESUME;
	kz_info("resuming signed zone from nsd's zone file", "zone=%s "
	    "records=%zu file_serial=%u", p->db->zones[z].origin,
	    p->db->zones[z].nrecords + 1, fserial);
	return 1;
}

/* RS_PREP: sort the file's records, begin the signing, and keep the
 * difference of the zone's own records. */
static int
resume_prep(struct nc_publisher *p, size_t z, struct nc_pub_resume *rs)
{
	struct blobs db = { 0 };
	struct blobs *fb = &rs->fb;
	int rc;

	if (!rs->zf.soa_same) {
		kz_info("zone's SOA changed since nsd's zone file", "zone=%s "
		    "file_serial=%u", p->db->zones[z].origin, rs->fserial);
		return KZ_ENOTFOUND;	/* published whole, a new SOA */
	}
	rc = zg_db_foreach(p->db, z, db_blob, &db);
	rc = rc ? rc : db.rc;
	if (rc == 0)
		rc = nc_dnssec_sign_begin(p->sign, p->db, z);
	if (rc)
		goto out;
	/* copies: the file's RRsets are handed over whole next */
	rc = blobs_diff(fb, &db, skip_dnssec, true, &rs->del, &rs->add);
out:
	blobs_free(&db);
	return rc;
}

/*
 * One step of signed zone Z's resumption before its signing proper:
 * about MAX signatures' worth of work. 1 while there is more, 0 when
 * the signer's job can run, or an error (then it is signed whole).
 */
static int
resume_step(struct nc_publisher *p, size_t z, size_t max)
{
	struct nc_pub_resume *rs = p->resume[z];
	struct blobs *fb = &rs->fb;
	size_t budget = max ? max * RS_READ_PER_SIG : 0, done = 0;
	int rc = 0;

	switch (rs->stage) {
	case RS_READ:
		rc = zf_read(&rs->zf, &p->db->zones[z], fb, budget);
		if (rc == 0) {
			zf_close(&rs->zf);
			rs->stage = RS_PREP;
		}
		return rc < 0 ? rc : 1;
	case RS_PREP:
		if ((rc = resume_prep(p, z, rs)) != 0)
			return rc;
		rs->stage = RS_HAND;
		return 1;
	case RS_HAND:
		while (rc == 0 && rs->next < fb->n &&
		    (budget == 0 || done < budget)) {
			size_t i = rs->next, j;

			for (j = i + 1; j < fb->n && same_set(&fb->v[i],
			    &fb->v[j]); j++)
				;
			rc = hand_over(p, z, rs, fb, i, j);
			done += j - i;
			rs->next = j;
		}
		if (rc == 0 && rs->next == fb->n) {
			blobs_free(fb);
			memset(fb, 0, sizeof(*fb));
			rs->stage = RS_SIGN;
			return 0;
		}
		return rc ? rc : 1;
	default:
		return 0;
	}
}

static int
chain_blob(void *ctx, const struct nc_rr *rr)
{
	struct blobs *bs = ctx;

	if (rr->type != LDNS_RR_TYPE_RRSIG)
		blob_add(bs, rr->owner, rr->ownerlen, rr->type, rr->ttl,
		    rr->rdata, rr->rdlen);
	return bs->rc;
}

/*
 * Signed zone Z, resuming, is signed: the difference from NSD's file
 * (its own records, chain and key records, signatures) goes out as one
 * diff on top of the file's serial -- NSD and the secondaries get an
 * IXFR -- or, when the signatures differ in more than half the zone
 * (other keys), the zone goes out whole.
 */
static int
resume_done(struct nc_publisher *p, size_t z, uint32_t now)
{
	struct nc_pub_resume *rs = p->resume[z];
	const char *origin = p->db->zones[z].origin;
	const struct nc_dnssec_out *so = NULL;
	struct blobs cur = { 0 }, cdel = { 0 }, cadd = { 0 };
	struct nc_rr *del = NULL, *add = NULL;
	size_t ndel = 0, nadd = 0, taken = 0, i, j;
	uint32_t serial;
	int rc;

	p->resume[z] = NULL;
	rc = nc_serial_issue(p->serials, origin, now, &serial);
	if (rc == 0)
		rc = nc_dnssec_sign_finish(p->sign, p->db, z, serial, now);
	if (rc == 0)
		rc = nc_dnssec_reuse_end(p->sign, z,
		    nc_dnssec_count(p->sign, z), &so, &taken);
	if (rc == KZ_ETOOBIG) {
		kz_info("zone's signatures differ from nsd's zone file, "
		    "publishing it whole", "zone=%s file_serial=%u", origin,
		    rs->fserial);
		rc = nc_feed_set_serial(p->feed, p->fz[z], serial);
		goto out;
	}
	if (rc == 0)
		rc = nc_dnssec_foreach(p->sign, z, chain_blob, &cur);
	rc = rc ? rc : cur.rc;
	if (rc)
		goto out;
	rc = blobs_diff(&rs->chain, &cur, NULL, false, &cdel, &cadd);
	if (rc)
		goto out;
	ndel = rs->del.n + cdel.n + so->ndel;
	nadd = rs->add.n + cadd.n + so->nadd;
	del = malloc((ndel ? ndel : 1) * sizeof(*del));
	add = malloc((nadd ? nadd : 1) * sizeof(*add));
	if (del == NULL || add == NULL) {
		rc = KZ_ENOMEM;
		goto out;
	}
	i = put_blobs(del, &rs->del);
	i += put_blobs(del + i, &cdel);
	if (so->ndel)
		memcpy(del + i, so->del, so->ndel * sizeof(*del));
	j = put_blobs(add, &rs->add);
	j += put_blobs(add + j, &cadd);
	if (so->nadd)
		memcpy(add + j, so->add, so->nadd * sizeof(*add));
	rc = nc_feed_set_serial(p->feed, p->fz[z], rs->fserial);
	if (rc == 0)
		rc = nc_feed_commit(p->feed, p->fz[z], serial, del, ndel, add,
		    nadd);
	if (rc == 0)
		kz_info("zone resumed from nsd's zone file", "zone=%s "
		    "file_serial=%u serial=%u deleted=%zu added=%zu "
		    "rrsets_taken_over=%zu signatures_made=%zu cpu_s=%.3f",
		    origin, rs->fserial, serial, ndel, nadd, taken, so->nadd,
		    p->sign_seconds[z]);
out:
	if (rc == 0)
		p->first[z] = serial;
	else
		kz_error("cannot publish a zone", "zone=%s error=\"%s\"",
		    origin, kz_strerror(rc));
	free(del);
	free(add);
	blobs_free(&cur);
	blobs_free(&cdel);
	blobs_free(&cadd);
	resume_free(rs);
	return rc;
}

/* Whether zone Z's resumption has not reached its signing yet. */
static bool
resume_before_sign(const struct nc_publisher *p, size_t z)
{
	return p->resume[z] && p->resume[z]->stage != RS_SIGN;
}

/* A step of zone Z's resumption; on failure the zone is signed whole
 * (from scratch). 1: work is left; an error when that cannot begin. */
static int
resume_work(struct nc_publisher *p, size_t z, size_t max)
{
	int rc = resume_step(p, z, max);

	if (rc >= 0)
		return 1;
	if (rc != KZ_ENOTFOUND)
		kz_warn("cannot resume a signed zone from nsd's zone file, "
		    "signing it whole", "zone=%s error=\"%s\"",
		    p->db->zones[z].origin, kz_strerror(rc));
	resume_free(p->resume[z]);
	p->resume[z] = NULL;
	p->job[z] = JOB_NONE;
	if ((rc = sign_begin(p, z, JOB_FIRST)) < 0)
		p->whole[z] = true;
	return rc;
}

/* Publish zone Z: resume from NSD's zone file in ZONEDIR, or whole
 * (0, or 1: being signed first). */
static int
start_zone(struct nc_publisher *p, size_t z, const char *zonedir,
    uint32_t now)
{
	const struct zg_db_zone *dz = &p->db->zones[z];
	char path[4096], err[256];
	uint32_t fserial;

	if (zonedir == NULL || (size_t)snprintf(path, sizeof(path), "%s/%s",
	    zonedir, dz->file) >= sizeof(path) ||
	    nc_zonefile_serial(path, dz->origin, &fserial, err,
	    sizeof(err)) != 0)
		return publish_whole(p, z, now);
	if (nc_dnssec_signed(p->sign, z))
		return resume_signed(p, z, path, fserial) > 0 ? 1 :
		    publish_whole(p, z, now);
	if (resume_zone(p, z, path, fserial, now) == 0)
		return 0;
	return publish_whole(p, z, now);
}

int
nc_pub_start(struct nc_publisher *p, const char *zonedir, uint32_t now)
{
	int rc = 0;

	for (size_t z = 0; z < p->db->nzones && rc >= 0; z++)
		if (z + 1 != p->held)
			rc = start_zone(p, z, zonedir, now);
	if (rc < 0)
		return rc;
	p->started = true;
	return 0;
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
	if (rc < 0)
		return rc;
	p->held = 0;
	return 0;
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
	if (nc_pub_busy(p))
		return KZ_EINVAL;	/* the database changed under a job */
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
		p->whole[z] = r < 0;
		if (r > 0)
			continue;	/* published once signed */
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
