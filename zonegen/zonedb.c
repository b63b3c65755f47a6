/*
 * zonegen/zonedb.c -- zones as record sets with contributors, changed by
 * diffs.
 *
 * Layout: each zone has a chained hash of owner names; each owner holds
 * the records contributed there, each record naming the object it came
 * from; each object lists the owners it contributed to, so recomputing
 * it first takes exactly its own records away. The records an owner
 * serves are a function of everything contributed there (visible());
 * a batch remembers the served records of every owner it touches
 * before the first change and compares them with the result at the
 * end, which gives the diff.
 *
 * Memory: a large cluster holds half a million owners and records, so
 * they and the objects come from the database's pool (no malloc header
 * per block, sizes 8 bytes apart), and an owner keeps its name relative
 * to the zone's origin ("10-0-0-1.shop.pod", not
 * "10-0-0-1.shop.pod.cluster.local").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/log.h"
#include "common/pool.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define T_CNAME 5
#define T_PTR 12
#define T_TXT 16
#define T_SRV 33
#define TXT_TTL 28800
#define KIND_APEX ZG_KIND_COUNT
/* A group key of a ServiceImport's slices starts with this (no
 * namespace name can). */
#define IMPORT_GROUP '+'
#define DB_NOTE 0x40	/* db_rec: its explanation follows the RDATA */
#define REC_RDLEN_MAX 511	/* a name (255) and an SRV's port: room */

struct db_rec {
	struct db_rec *next;		/* at the same owner */
	const struct db_obj *src;	/* the contributing object */
	uint32_t type : 16;
	uint32_t rdlen : 9;		/* <= REC_RDLEN_MAX */
	uint32_t flags : 7;		/* ZG_RR_*, DB_NOTE */
	uint8_t rdata[];		/* SRV: port and target only; with
					 * DB_NOTE, the explanation follows
					 * (NUL-terminated) */
};

struct db_owner {
	struct db_owner *hnext;
	struct db_rec *recs;
	uint32_t nvisible;		/* records served here */
	uint32_t touch;			/* index + 1 in the batch, or 0 */
	uint16_t zone;
	uint8_t ncapped;		/* RRsets cut to the cap */
	uint8_t rel;			/* NAME is relative to the origin */
	char name[];			/* dotted, no final dot; relative:
					 * "" is the apex */
};

struct db_obj {
	uint8_t kind;			/* enum zg_kind, or KIND_APEX */
	bool dirty;
	bool gone;			/* absent from the model */
	bool vec;			/* the owners are in a vector of
					 * obj_cap(nowners) or more */
	uint32_t nowners;
	struct db_obj *nsprev, *nsnext;	/* in its namespace's list */
	union {
		struct db_owner **v;	/* vec */
		struct db_owner *one;	/* !vec: most objects */
	} owners;			/* where it has records */
	char *group;			/* slices: the Service key it joins */
	char key[];
};

/* Pool sizes of the blocks above (the flexible members included). */
#define REC_SIZE(rdlen, notelen) (offsetof(struct db_rec, rdata) + \
	(size_t)(rdlen) + (notelen))
#define OWNER_SIZE(namelen) (offsetof(struct db_owner, name) + \
	(size_t)(namelen) + 1)
#define OBJ_SIZE(keylen) (offsetof(struct db_obj, key) + (size_t)(keylen) + 1)

/* The objects of one namespace (Services and Pods). */
struct db_nslist {
	struct db_obj *head;
	char name[];
};

/* The slices that name one Service. */
struct db_group {
	char **slices;			/* slice keys, owned */
	size_t n, cap;
	char key[];
};

/* A served record, while it is decided. */
struct db_vis {
	const struct db_rec *r;
	uint16_t weight;		/* SRV */
};

#define visbuf zg_db_visbuf
#define DB_VIS(db) (&(db)->vis)

/* An owner touched by a batch, with what it served before. */
struct db_touch {
	struct db_owner *o;
	struct zg_rr *before;		/* in the scratch arena */
	size_t nbefore;
};


/* --- small helpers ------------------------------------------------------- */

static uint32_t
rr_ttl(const struct zg_db *db, uint16_t type)
{
	return type == T_TXT ? TXT_TTL : db->o->ttl;
}

static int
grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	p = realloc(*v, n * size);
	if (p == NULL)
		return KZ_ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

static size_t
count_labels(const char *name)
{
	size_t n = *name ? 1 : 0;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

/* --- owner names ---------------------------------------------------------- */

/* Room for an owner's whole name: the stored part, a dot, the origin. */
#define OWNER_TEXT (2 * ZG_NAME_TEXT)

/* FNV-1a (kz_map_hash) over the N bytes at S. */
static uint32_t
name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The length of the part of OWNER that zone Z keeps: relative to the
 * origin when OWNER is at or below it (*REL true; 0 for the apex),
 * else the whole name. */
static size_t
owner_part(const struct zg_db_zone *z, const char *owner, bool *rel)
{
	size_t n = strlen(owner), ol = strlen(z->origin) - 1;

	*rel = true;
	if (n == ol && memcmp(owner, z->origin, ol) == 0)
		return 0;
	if (n > ol + 1 && owner[n - ol - 1] == '.' &&
	    memcmp(owner + n - ol, z->origin, ol) == 0)
		return n - ol - 1;
	*rel = false;
	return n;
}

/* O's whole name, dotted without the final dot: O's own or BUF
 * (OWNER_TEXT bytes). */
static const char *
owner_name(const struct zg_db *db, const struct db_owner *o, char *buf)
{
	const char *origin = db->zones[o->zone].origin;
	size_t n = strlen(o->name), ol = strlen(origin) - 1, k = 0;

	if (!o->rel)
		return o->name;
	if (n + 1 + ol >= OWNER_TEXT)
		return o->name;	/* cannot be: both parts are names */
	if (n) {
		memcpy(buf, o->name, n);
		buf[n] = '.';
		k = n + 1;
	}
	memcpy(buf + k, origin, ol);
	buf[k + ol] = '\0';
	return buf;
}

/* --- owner tables -------------------------------------------------------- */

/* Owners per bucket, on average, before the table doubles. */
#define OTAB_LOAD 2

/* The bucket of O in a table of CAP buckets. */
static size_t
owner_bucket(const struct db_owner *o, size_t cap)
{
	return name_hash(o->name, strlen(o->name)) & (cap - 1);
}

/* The owner whose stored part is NAME[0..LEN) (REL as owner_part()
 * says), with hash H. */
static struct db_owner *
otab_get(const struct db_otab *t, const char *name, size_t len, bool rel,
    uint32_t h)
{
	if (t->cap == 0)
		return NULL;
	for (struct db_owner *o = t->b[h & (t->cap - 1)]; o; o = o->hnext)
		if (o->rel == rel && strncmp(o->name, name, len) == 0 &&
		    o->name[len] == '\0')
			return o;
	return NULL;
}

static int
otab_grow(struct db_otab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct db_owner **b = calloc(cap, sizeof(*b));

	if (b == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct db_owner *o = t->b[i], *next;
		for (; o; o = next) {
			next = o->hnext;
			size_t k = owner_bucket(o, cap);
			o->hnext = b[k];
			b[k] = o;
		}
	}
	free(t->b);
	t->b = b;
	t->cap = cap;
	return 0;
}

static void
otab_del(struct db_otab *t, struct db_owner *o)
{
	struct db_owner **pp = &t->b[owner_bucket(o, t->cap)];

	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	t->n--;
}

/* The explanation record R carries, or NULL. */
static const char *
rec_note(const struct db_rec *r)
{
	return r->flags & DB_NOTE ? (const char *)r->rdata + r->rdlen : NULL;
}

static void
rec_free(struct zg_db *db, struct db_rec *r)
{
	const char *note = rec_note(r);

	kz_pool_free(&db->pool, r, REC_SIZE(r->rdlen,
	    note ? strlen(note) + 1 : 0));
}

static void
owner_free(struct zg_db *db, struct db_owner *o)
{
	kz_pool_free(&db->pool, o, OWNER_SIZE(strlen(o->name)));
}

static void
otab_free(struct zg_db *db, struct db_otab *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct db_owner *o = t->b[i], *next;
		for (; o; o = next) {
			struct db_rec *r = o->recs, *rn;
			next = o->hnext;
			for (; r; r = rn) {
				rn = r->next;
				rec_free(db, r);
			}
			owner_free(db, o);
		}
	}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

/* --- deciding what an owner serves ------------------------------------ */

static int
cmp_rdata(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int
cmp_vis(const void *pa, const void *pb)
{
	const struct db_rec *a = ((const struct db_vis *)pa)->r;
	const struct db_rec *b = ((const struct db_vis *)pb)->r;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return cmp_rdata(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static void
warn_dropped(struct zg_db *db, const struct db_owner *o,
    const struct db_rec *r, const char *reason)
{
	char qsrc[300], qname[300], src[300], name[OWNER_TEXT];

	db->stats.skipped++;
	snprintf(src, sizeof(src), "%s %s", r->src->kind == KIND_APEX ?
	    "zone" : zg_kind_name((enum zg_kind)r->src->kind),
	    r->src->kind == KIND_APEX ? "apex" : r->src->key);
	kz_warn("record skipped", "object=%s name=%s reason=%s",
	    kz_log_quote(qsrc, sizeof(qsrc), src),
	    kz_log_quote(qname, sizeof(qname), owner_name(db, o, name)),
	    reason);
}

/* Cut each RRset of V[0..N) to the cap; set SRV weights. Returns the
 * new length and the number of RRsets cut. */
static size_t
cap_rrsets(const struct zg_db *db, struct db_vis *v, size_t n, unsigned *cut)
{
	size_t i, j, k = 0;

	*cut = 0;
	for (i = 0; i < n; i = j) {
		size_t bytes = 0, kept = 0;
		bool share = false;

		for (j = i; j < n && v[j].r->type == v[i].r->type; j++) {
			size_t len = 12 + v[j].r->rdlen +
			    (v[j].r->type == T_SRV ? 4 : 0);
			share |= (v[j].r->flags & ZG_RR_SRV_SHARE) != 0;
			if (bytes + len > db->rrset_bytes)
				continue;
			bytes += len;
			v[k + kept++] = v[j];
		}
		if (kept < j - i)
			(*cut)++;
		for (size_t x = k; x < k + kept; x++) {
			unsigned w = share ? (unsigned)(100 / kept) : 100;
			v[x].weight = (uint16_t)(w ? w : 1);
		}
		k += kept;
	}
	return k;
}

/*
 * The records owner O serves, in canonical order, into VB: duplicates
 * collapse (E2), endpoint PTRs at a ClusterIP go (R13), a CNAME beside
 * other data goes (E11), RRsets are capped and SRV weights set. With
 * WARN, dropped records are reported. *CUT gets the capped RRsets.
 */
static int
visible(struct zg_db *db, const struct db_owner *o, struct visbuf *vb,
    bool warn, unsigned *cut)
{
	bool mark = false, cname = false, other = false, ptr = false;
	size_t n = 0, k, nmcs = 0;

	vb->n = 0;
	if (grow((void **)&vb->v, &vb->cap, 1, sizeof(*vb->v)))
		return KZ_ENOMEM;
	for (const struct db_rec *r = o->recs; r; r = r->next)
		if (r->flags & ZG_RR_CIP_MARK)
			mark = true;
	for (const struct db_rec *r = o->recs; r; r = r->next) {
		if ((r->flags & ZG_RR_CIP_MARK) ||
		    (mark && (r->flags & ZG_RR_EP_PTR)))
			continue;
		if (grow((void **)&vb->v, &vb->cap, n + 1, sizeof(*vb->v)))
			return KZ_ENOMEM;
		vb->v[n].r = r;
		vb->v[n++].weight = 0;
	}
	if (n > 1)
		qsort(vb->v, n, sizeof(*vb->v), cmp_vis);
	for (size_t i = k = 0; i < n; i++) {
		if (k > 0 && cmp_vis(&vb->v[k - 1], &vb->v[i]) == 0)
			continue;
		vb->v[k++] = vb->v[i];
		if (vb->v[i].r->type == T_CNAME)
			cname = true;
		else
			other = true;
		if (vb->v[i].r->flags & ZG_RR_MCS_PTR)
			nmcs++;
		else if (vb->v[i].r->type == T_PTR)
			ptr = true;
	}
	n = k;
	/* A clusterset PTR only where it is the one PTR for its address. */
	if (nmcs && (mark || ptr || nmcs > 1)) {
		for (size_t i = k = 0; i < n; i++)
			if (!(vb->v[i].r->flags & ZG_RR_MCS_PTR))
				vb->v[k++] = vb->v[i];
		n = k;
	}
	if (cname && other) {
		for (size_t i = k = 0; i < n; i++) {
			if (vb->v[i].r->type != T_CNAME) {
				vb->v[k++] = vb->v[i];
				continue;
			}
			if (warn)
				warn_dropped(db, o, vb->v[i].r,
				    "\"CNAME would share its name with other records\"");
		}
		n = k;
	}
	vb->n = cap_rrsets(db, vb->v, n, cut);
	return 0;
}

/* The wire RDATA of a served record into BUF (at least 4 + 257 bytes). */
static size_t
vis_rdata(const struct db_vis *v, uint8_t *buf, const uint8_t **out)
{
	const struct db_rec *r = v->r;

	if (r->type != T_SRV) {
		*out = r->rdata;
		return r->rdlen;
	}
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = (uint8_t)(v->weight >> 8);
	buf[3] = (uint8_t)v->weight;
	memcpy(buf + 4, r->rdata, r->rdlen);
	*out = buf;
	return (size_t)r->rdlen + 4;
}

/* --- zones ------------------------------------------------------------------ */

static int
zone_add(struct zg_db *db, const char *origin)
{
	const struct zg_render_opts *o = db->o;
	struct zg_db_zone *zones, *z;
	char mname[ZG_RNAME_TEXT + 1], rname[ZG_RNAME_TEXT + 1];
	size_t ol = strlen(origin);

	zones = realloc(db->zones, (db->nzones + 1) * sizeof(*zones));
	if (zones == NULL)
		return KZ_ENOMEM;
	db->zones = zones;
	z = &zones[db->nzones++];
	memset(z, 0, sizeof(*z));
	zg_soa_mname(o, mname, sizeof(mname));
	zg_soa_rname(o, rname, sizeof(rname));
	z->origin = malloc(ol + 2);
	z->file = malloc(ol + 6);
	z->mname = strdup(mname);
	z->rname = strdup(rname);
	if (!z->origin || !z->file || !z->mname || !z->rname)
		return KZ_ENOMEM;
	snprintf(z->origin, ol + 2, "%s.", origin);
	snprintf(z->file, ol + 6, "%s.zone", origin);
	z->ttl = o->ttl;
	z->soa_ttl = o->ttl < 300 ? o->ttl : 300;
	z->refresh = o->soa_refresh;
	z->retry = o->soa_retry;
	z->expire = o->soa_expire;
	z->minimum = zg_soa_minimum(o);
	return 0;
}

static int
add_reverse_zone(void *ctx, const char *origin)
{
	struct zg_db *db = ctx;
	char *key;
	int rc;

	if (kz_map_get(&db->revzones, origin))
		return 0;	/* overlapping CIDRs: one zone */
	rc = zone_add(db, origin);
	if (rc)
		return rc;
	key = strdup(origin);
	if (key == NULL)
		return KZ_ENOMEM;
	if (kz_map_put(&db->revzones, key, (void *)(uintptr_t)db->nzones,
	    NULL)) {
		free(key);
		return KZ_ENOMEM;
	}
	if (count_labels(key) > db->rev_max_labels)
		db->rev_max_labels = count_labels(key);
	return 0;
}

/* A new object of KIND with KEY (LEN bytes) from DB's pool, or NULL. */
static struct db_obj *
obj_new(struct zg_db *db, uint8_t kind, const char *key, size_t len)
{
	struct db_obj *x = kz_pool_alloc(&db->pool, OBJ_SIZE(len));

	if (x == NULL)
		return NULL;
	memset(x, 0, offsetof(struct db_obj, key));
	x->kind = kind;
	memcpy(x->key, key, len);
	x->key[len] = '\0';
	return x;
}

static void
obj_free(struct zg_db *db, struct db_obj *x)
{
	if (x == NULL)
		return;
	if (x->vec)
		free(x->owners.v);
	free(x->group);
	kz_pool_free(&db->pool, x, OBJ_SIZE(strlen(x->key)));
}

/* What every database starts from: empty maps, no zones yet. */
static void
db_setup(struct zg_db *db, const struct zg_render_opts *o)
{
	memset(db, 0, sizeof(*db));
	db->o = o;
	db->rrset_bytes = o->rrset_bytes ? o->rrset_bytes : ZG_RRSET_BYTES;
	kz_map_init(&db->revzones);
	kz_map_init(&db->groups);
	kz_map_init(&db->nslists);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		kz_map_init(&db->objs[k]);
	kz_arena_init(&db->scratch, 1 << 16);
	kz_pool_init(&db->pool);
}

int
zg_db_init(struct zg_db *db, const struct zg_render_opts *o)
{
	struct zg_cidr all4 = { .ip = { .family = ZG_IPV4 }, .prefix = 0 };
	struct zg_cidr all6 = { .ip = { .family = ZG_IPV6 }, .prefix = 0 };
	int rc;

	db_setup(db, o);
	rc = zone_add(db, o->zone);
	if (rc == 0 && o->nreverse == 0)
		rc = zg_cidr_zones(&all4, add_reverse_zone, db) ?
		    KZ_ENOMEM : zg_cidr_zones(&all6, add_reverse_zone, db);
	for (size_t i = 0; rc == 0 && i < o->nreverse; i++)
		rc = zg_cidr_zones(&o->reverse[i], add_reverse_zone, db);
	if (rc == 0 && o->clusterset[0]) {
		rc = zone_add(db, o->clusterset);
		db->clusterset = db->nzones;
	}
	if (rc == 0 && o->catalog[0]) {
		rc = zone_add(db, o->catalog);
		db->catalog = db->nzones;
	}
	if (rc)
		return KZ_ENOMEM;
	db->apex = obj_new(db, KIND_APEX, "", 0);
	return db->apex ? 0 : KZ_ENOMEM;
}

int
zg_db_init_catalog(struct zg_db *db, const struct zg_render_opts *o,
    const char *const *members, size_t n)
{
	int rc;

	db_setup(db, o);
	db->members = calloc(n ? n : 1, sizeof(*db->members));
	if (db->members == NULL)
		return KZ_ENOMEM;
	for (; db->nmembers < n; db->nmembers++) {
		size_t len = zg_name_bare_len(members[db->nmembers]);
		db->members[db->nmembers] = strndup(members[db->nmembers], len);
		if (db->members[db->nmembers] == NULL)
			return KZ_ENOMEM;
	}
	rc = zone_add(db, o->catalog);
	if (rc)
		return rc;
	db->catalog = db->nzones;
	db->apex = obj_new(db, KIND_APEX, "", 0);
	return db->apex ? 0 : KZ_ENOMEM;
}

void
zg_db_free(struct zg_db *db)
{
	size_t it;
	const char *k;
	void *v;

	for (size_t i = 0; i < db->nzones; i++) {
		struct zg_db_zone *z = &db->zones[i];
		otab_free(db, &z->owners);
		free(z->origin);
		free(z->file);
		free(z->mname);
		free(z->rname);
		free(z->diff.del);
		free(z->diff.add);
	}
	free(db->zones);
	for (it = 0; kz_map_next(&db->revzones, &it, &k, NULL);)
		free((char *)k);
	kz_map_free(&db->revzones);
	for (int kind = 0; kind < ZG_KIND_COUNT; kind++) {
		for (it = 0; kz_map_next(&db->objs[kind], &it, NULL, &v);)
			obj_free(db, v);
		kz_map_free(&db->objs[kind]);
	}
	for (it = 0; kz_map_next(&db->groups, &it, NULL, &v);) {
		struct db_group *g = v;
		for (size_t i = 0; i < g->n; i++)
			free(g->slices[i]);
		free(g->slices);
		free(g);
	}
	kz_map_free(&db->groups);
	for (it = 0; kz_map_next(&db->nslists, &it, NULL, &v);)
		free(v);
	kz_map_free(&db->nslists);
	obj_free(db, db->apex);
	for (size_t i = 0; i < db->nmembers; i++)
		free(db->members[i]);
	free(db->members);
	free(db->dirty);
	free(db->touched);
	free(db->vis.v);
	free(db->note);
	kz_arena_free(&db->scratch);
	kz_pool_destroy(&db->pool);
	memset(db, 0, sizeof(*db));
}

long
zg_db_find(const struct zg_db *db, const char *origin)
{
	size_t n = zg_name_bare_len(origin);

	for (size_t i = 0; i < db->nzones; i++) {
		const char *z = db->zones[i].origin;
		if (strncmp(z, origin, n) == 0 && z[n] == '.' && z[n + 1] == 0)
			return (long)i;
	}
	return -1;
}

long
zg_db_reverse_zone(const struct zg_db *db, const char *name)
{
	size_t labels = count_labels(name);

	for (const char *p = name; p; p = strchr(p, '.'), labels--) {
		void *v;

		if (*p == '.')
			p++;
		if (labels > db->rev_max_labels)
			continue;
		v = kz_map_get(&db->revzones, p);
		if (v)
			return (long)(uintptr_t)v - 1;
	}
	return -1;
}

/* --- batches: touching owners ------------------------------------------ */

static struct zg_rr *
snapshot(struct zg_db *db, const struct db_owner *o, size_t *n)
{
	uint8_t wire[ZG_NAME_MAX + 2], buf[4 + 512];
	char name[OWNER_TEXT];
	struct zg_rr *v;
	uint8_t *ow;
	size_t wl;
	unsigned cut;

	*n = 0;
	if (o->recs == NULL || visible(db, o, DB_VIS(db), false, &cut))
		return NULL;
	if (DB_VIS(db)->n == 0)
		return NULL;
	wl = zg_name_wire(owner_name(db, o, name), wire, sizeof(wire));
	ow = kz_arena_alloc(&db->scratch, wl);
	v = kz_arena_alloc(&db->scratch, DB_VIS(db)->n * sizeof(*v));
	if (ow == NULL || v == NULL)
		goto nomem;
	memcpy(ow, wire, wl);
	for (size_t i = 0; i < DB_VIS(db)->n; i++) {
		const uint8_t *rd;
		size_t len = vis_rdata(&DB_VIS(db)->v[i], buf, &rd);
		uint8_t *copy = kz_arena_alloc(&db->scratch, len ? len : 1);
		if (copy == NULL)
			goto nomem;
		memcpy(copy, rd, len);
		v[i] = (struct zg_rr){ ow, wl, DB_VIS(db)->v[i].r->type,
		    rr_ttl(db, DB_VIS(db)->v[i].r->type), copy, len };
	}
	*n = DB_VIS(db)->n;
	return v;
nomem:
	db->rc = KZ_ENOMEM;
	return NULL;
}

static void
touch(struct zg_db *db, struct db_owner *o)
{
	struct db_touch *t;

	if (o->touch)
		return;
	if (grow((void **)&db->touched, &db->captouched, db->ntouched + 1,
	    sizeof(*db->touched))) {
		db->rc = KZ_ENOMEM;
		return;
	}
	t = &db->touched[db->ntouched++];
	t->o = o;
	t->before = NULL;
	t->nbefore = 0;
	if (db->diffs)
		t->before = snapshot(db, o, &t->nbefore);
	o->touch = (uint32_t)db->ntouched;
}

/* The owners X has records at (most objects have one: kept inline). */
static struct db_owner **
obj_owners(struct db_obj *x)
{
	return x->vec ? x->owners.v : &x->owners.one;
}

/* The least room of a vector holding N owners: 4, then powers of two.
 * Its real size may be larger (N fell since it grew); a vector that
 * must grow past obj_cap(N) is reallocated to twice that. */
static size_t
obj_cap(size_t n)
{
	size_t cap = 4;

	while (cap < n)
		cap *= 2;
	return cap;
}

static int
obj_push_owner(struct db_obj *x, struct db_owner *o)
{
	struct db_owner **v = obj_owners(x);

	if (x->nowners && v[x->nowners - 1] == o)
		return 0;
	if (!x->vec && x->nowners == 0) {
		x->owners.one = o;
		x->nowners = 1;
		return 0;
	}
	if (!x->vec) {
		struct db_owner *first = x->owners.one;
		x->owners.v = malloc(obj_cap(1) * sizeof(*x->owners.v));
		if (x->owners.v == NULL) {
			x->owners.one = first;
			return KZ_ENOMEM;
		}
		x->owners.v[0] = first;
		x->vec = true;
	}
	if (x->nowners == obj_cap(x->nowners)) {
		v = realloc(x->owners.v, 2 * obj_cap(x->nowners) *
		    sizeof(*x->owners.v));
		if (v == NULL)
			return KZ_ENOMEM;
		x->owners.v = v;
	}
	x->owners.v[x->nowners++] = o;
	return 0;
}

/* Take every record of X away (X is recomputed or gone). */
static void
obj_clear(struct zg_db *db, struct db_obj *x)
{
	struct db_owner **v = obj_owners(x);

	for (uint32_t i = 0; i < x->nowners; i++) {
		struct db_owner *o = v[i];
		struct db_rec **pp = &o->recs;

		touch(db, o);
		while (*pp) {
			struct db_rec *r = *pp;
			if (r->src == x) {
				*pp = r->next;
				rec_free(db, r);
			} else {
				pp = &r->next;
			}
		}
	}
	x->nowners = 0;
}

void
zg_db_emit(struct zg_db *db, size_t zone, const char *owner, uint16_t type,
    const uint8_t *rdata, size_t rdlen, uint8_t flags)
{
	struct db_otab *t = &db->zones[zone].owners;
	struct db_obj *x = db->cur;
	struct db_owner *o;
	struct db_rec *r;
	size_t nl = 0, len;
	uint32_t h;
	bool rel;

	if (db->rc || x == NULL)
		return;
	if (rdlen > REC_RDLEN_MAX) {
		db->rc = KZ_ETOOBIG;	/* the rules make none */
		return;
	}
	if (db->note != NULL)
		nl = strlen(db->note);
	len = owner_part(&db->zones[zone], owner, &rel);
	h = name_hash(owner, len);
	o = otab_get(t, owner, len, rel, h);
	if (o == NULL) {
		if (t->n >= OTAB_LOAD * t->cap && otab_grow(t))
			goto nomem;
		o = kz_pool_alloc(&db->pool, OWNER_SIZE(len));
		if (o == NULL)
			goto nomem;
		memset(o, 0, offsetof(struct db_owner, name));
		memcpy(o->name, owner, len);
		o->name[len] = '\0';
		o->zone = (uint16_t)zone;
		o->rel = rel;
		o->hnext = t->b[h & (t->cap - 1)];
		t->b[h & (t->cap - 1)] = o;
		t->n++;
	}
	touch(db, o);
	r = kz_pool_alloc(&db->pool, REC_SIZE(rdlen, nl ? nl + 1 : 0));
	if (r == NULL)
		goto nomem;
	r->src = x;
	r->type = type;
	r->flags = flags;
	r->rdlen = (uint16_t)rdlen;
	if (rdlen)
		memcpy(r->rdata, rdata, rdlen);
	if (nl) {
		memcpy(r->rdata + rdlen, db->note, nl + 1);
		r->flags |= DB_NOTE;
	}
	r->next = o->recs;
	o->recs = r;
	if (obj_push_owner(x, o))
		goto nomem;
	return;
nomem:
	db->rc = KZ_ENOMEM;
}

void
zg_db_skipped(struct zg_db *db)
{
	db->stats.skipped++;
}

/* --- objects and their indexes --------------------------------------- */

static struct db_obj *
obj_get(struct zg_db *db, enum zg_kind kind, const char *key, bool create)
{
	struct db_obj *x = kz_map_get(&db->objs[kind], key);
	size_t len;

	if (x || !create)
		return x;
	len = strlen(key);
	x = obj_new(db, (uint8_t)kind, key, len);
	if (x == NULL)
		goto nomem;
	if (kz_map_put(&db->objs[kind], x->key, x, NULL)) {
		obj_free(db, x);
		goto nomem;
	}
	if (kind == ZG_KIND_SERVICE || kind == ZG_KIND_POD ||
	    kind == ZG_KIND_IMPORT) {
		/* Into its namespace's list ("ns/name"). */
		const char *slash = strchr(key, '/');
		size_t nl = slash ? (size_t)(slash - key) : 0;
		char ns[256];
		struct db_nslist *l;

		snprintf(ns, sizeof(ns), "%.*s", (int)nl, key);
		l = kz_map_get(&db->nslists, ns);
		if (l == NULL) {
			l = calloc(1, sizeof(*l) + strlen(ns) + 1);
			if (l == NULL)
				goto nomem;
			memcpy(l->name, ns, strlen(ns) + 1);
			if (kz_map_put(&db->nslists, l->name, l, NULL)) {
				free(l);
				goto nomem;
			}
		}
		x->nsnext = l->head;
		if (l->head)
			l->head->nsprev = x;
		l->head = x;
	}
	return x;
nomem:
	db->rc = KZ_ENOMEM;
	return NULL;
}

static void
mark(struct zg_db *db, struct db_obj *x)
{
	if (x == NULL || x->dirty)
		return;
	if (grow((void **)&db->dirty, &db->capdirty, db->ndirty + 1,
	    sizeof(*db->dirty))) {
		db->rc = KZ_ENOMEM;
		return;
	}
	x->dirty = true;
	db->dirty[db->ndirty++] = x;
}

static void
mark_key(struct zg_db *db, const struct zg_model *m, enum zg_kind kind,
    const char *key)
{
	bool exists = kz_map_get(&m->objects[kind], key) != NULL;

	if (kind == ZG_KIND_POD && !db->o->pod_records)
		return;
	if (kind == ZG_KIND_IMPORT && !db->clusterset)
		return;
	mark(db, obj_get(db, kind, key, exists));
	if (kind == ZG_KIND_SERVICE && db->o->ndns_ips == 0 &&
	    db->o->nns == 0 && strcmp(key, "kube-system/kube-dns") == 0)
		mark(db, db->apex);
}

static void
unlink_ns(struct zg_db *db, struct db_obj *x)
{
	const char *slash = strchr(x->key, '/');
	char ns[256];
	struct db_nslist *l;

	if (slash == NULL)
		return;
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - x->key), x->key);
	l = kz_map_get(&db->nslists, ns);
	if (l == NULL)
		return;
	if (x->nsprev)
		x->nsprev->nsnext = x->nsnext;
	else
		l->head = x->nsnext;
	if (x->nsnext)
		x->nsnext->nsprev = x->nsprev;
	if (l->head == NULL) {
		kz_map_del(&db->nslists, ns);
		free(l);
	}
}

static int
group_add(struct zg_db *db, const char *gkey, const char *slice)
{
	struct db_group *g = kz_map_get(&db->groups, gkey);
	char *s;

	if (g == NULL) {
		g = calloc(1, sizeof(*g) + strlen(gkey) + 1);
		if (g == NULL)
			return KZ_ENOMEM;
		memcpy(g->key, gkey, strlen(gkey) + 1);
		if (kz_map_put(&db->groups, g->key, g, NULL)) {
			free(g);
			return KZ_ENOMEM;
		}
	}
	s = strdup(slice);
	if (s == NULL || grow((void **)&g->slices, &g->cap, g->n + 1,
	    sizeof(*g->slices))) {
		free(s);
		return KZ_ENOMEM;
	}
	g->slices[g->n++] = s;
	return 0;
}

static void
group_del(struct zg_db *db, const char *gkey, const char *slice)
{
	struct db_group *g = kz_map_get(&db->groups, gkey);

	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->slices[i], slice) == 0) {
			free(g->slices[i]);
			g->slices[i] = g->slices[--g->n];
			break;
		}
	if (g->n == 0) {
		kz_map_del(&db->groups, gkey);
		free(g->slices);
		free(g);
	}
}

/* The Service or ServiceImport whose slices group GKEY holds. */
static void
mark_group(struct zg_db *db, const struct zg_model *m, const char *gkey)
{
	if (gkey[0] == IMPORT_GROUP)
		mark_key(db, m, ZG_KIND_IMPORT, gkey + 1);
	else
		mark_key(db, m, ZG_KIND_SERVICE, gkey);
}

/* A slice came, went or changed: move it between the groups of
 * Services and ServiceImports and recompute those it left and joined. */
static void
slice_changed(struct zg_db *db, const struct zg_model *m, const char *key)
{
	const struct zg_slice *sl = kz_map_get(&m->objects[ZG_KIND_SLICE],
	    key);
	struct db_obj *x = kz_map_get(&db->objs[ZG_KIND_SLICE], key);
	char gkey[600];

	gkey[0] = '\0';
	if (sl && sl->mc_service && sl->addr_type != ZG_ADDR_FQDN)
		snprintf(gkey, sizeof(gkey), "%c%s/%s", IMPORT_GROUP, sl->ns,
		    sl->mc_service);
	else if (sl && sl->service && sl->addr_type != ZG_ADDR_FQDN)
		snprintf(gkey, sizeof(gkey), "%s/%s", sl->ns, sl->service);
	if (x && x->group && strcmp(x->group, gkey) != 0) {
		group_del(db, x->group, key);
		mark_group(db, m, x->group);
		free(x->group);
		x->group = NULL;
	}
	if (gkey[0] == '\0') {
		if (x) {
			kz_map_del(&db->objs[ZG_KIND_SLICE], key);
			obj_free(db, x);
		}
		return;
	}
	if (x == NULL && (x = obj_get(db, ZG_KIND_SLICE, key, true)) == NULL)
		return;
	if (x->group == NULL) {
		x->group = strdup(gkey);
		if (x->group == NULL || group_add(db, gkey, key)) {
			db->rc = KZ_ENOMEM;
			return;
		}
	}
	mark_group(db, m, gkey);
}

static void
mark_namespace(struct zg_db *db, const struct zg_model *m, const char *ns)
{
	struct db_nslist *l = kz_map_get(&db->nslists, ns);

	for (struct db_obj *x = l ? l->head : NULL; x; x = x->nsnext)
		mark(db, x);
	(void)m;
}

static void
mark_all(struct zg_db *db, const struct zg_model *m)
{
	size_t it;
	const char *key;

	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SLICE], &it, &key, NULL);)
		slice_changed(db, m, key);
	for (int k = 0; k < ZG_KIND_COUNT; k++) {
		void *v;
		if (k == ZG_KIND_SLICE || k == ZG_KIND_NAMESPACE)
			continue;
		for (it = 0; kz_map_next(&m->objects[k], &it, &key, NULL);)
			mark_key(db, m, (enum zg_kind)k, key);
		for (it = 0; kz_map_next(&db->objs[k], &it, NULL, &v);)
			mark(db, v);
	}
	mark(db, db->apex);
	db->had_namespaces = zg_model_count(m, ZG_KIND_NAMESPACE) > 0;
}

static void
namespace_changed(struct zg_db *db, const struct zg_model *m,
    const char *ns)
{
	bool now = zg_model_count(m, ZG_KIND_NAMESPACE) > 0;

	/* With --namespace-labels a namespace is exposed exactly when its
	 * Namespace is in the model (it is there only when selected): a
	 * label change that moves it in or out is one change, and only
	 * its own objects are computed again. */
	if (db->o->ns_labels) {
		db->had_namespaces = now;
		mark_namespace(db, m, ns);
		return;
	}
	/* The first Namespace object turns the filter on for all. */
	if (now != db->had_namespaces)
		mark_all(db, m);
	else
		mark_namespace(db, m, ns);
}

/* --- recomputing objects ------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
compute_service(struct zg_db *db, const struct zg_model *m,
    struct db_obj *x)
{
	const struct zg_service *s = kz_map_get(&m->objects[ZG_KIND_SERVICE],
	    x->key);
	struct db_group *g;
	const struct zg_slice **sl = NULL;
	size_t n = 0;
	bool exposed;

	if (s == NULL) {
		x->gone = true;
		return;
	}
	exposed = zg_rules_exposed(db, m, s->ns);
	g = kz_map_get(&db->groups, x->key);
	if (exposed && g && g->n) {
		sl = malloc(g->n * sizeof(*sl));
		if (sl == NULL) {
			db->rc = KZ_ENOMEM;
			return;
		}
		/* In key order, as an offline render walks them. */
		qsort(g->slices, g->n, sizeof(*g->slices), cmp_str);
		for (size_t i = 0; i < g->n; i++) {
			const struct zg_slice *p = kz_map_get(
			    &m->objects[ZG_KIND_SLICE], g->slices[i]);
			if (p)
				sl[n++] = p;
		}
	}
	zg_rules_service(db, m, s, sl, n, exposed);
	free(sl);
}

/* The slices of group GKEY in key order (as an offline render walks
 * them); *N gets their number. NULL with *N 0 when there are none. */
static const struct zg_slice **
group_slices(struct zg_db *db, const struct zg_model *m, const char *gkey,
    size_t *n)
{
	struct db_group *g = kz_map_get(&db->groups, gkey);
	const struct zg_slice **sl;

	*n = 0;
	if (g == NULL || g->n == 0)
		return NULL;
	sl = malloc(g->n * sizeof(*sl));
	if (sl == NULL) {
		db->rc = KZ_ENOMEM;
		return NULL;
	}
	qsort(g->slices, g->n, sizeof(*g->slices), cmp_str);
	for (size_t i = 0; i < g->n; i++) {
		const struct zg_slice *p = kz_map_get(
		    &m->objects[ZG_KIND_SLICE], g->slices[i]);
		if (p)
			sl[(*n)++] = p;
	}
	return sl;
}

static void
compute_import(struct zg_db *db, const struct zg_model *m,
    struct db_obj *x)
{
	const struct zg_import *s = kz_map_get(&m->objects[ZG_KIND_IMPORT],
	    x->key);
	const struct zg_slice **sl = NULL;
	char gkey[600];
	size_t n = 0;
	bool exposed;

	if (s == NULL) {
		x->gone = true;
		return;
	}
	exposed = zg_rules_exposed(db, m, s->ns);
	if (exposed && s->type == ZG_IMPORT_HEADLESS) {
		snprintf(gkey, sizeof(gkey), "%c%s", IMPORT_GROUP, x->key);
		sl = group_slices(db, m, gkey, &n);
		if (db->rc) {
			free(sl);
			return;
		}
	}
	zg_rules_import(db, s, sl, n, exposed);
	free(sl);
}

static void
compute(struct zg_db *db, const struct zg_model *m, struct db_obj *x)
{
	const struct zg_pod *p;

	obj_clear(db, x);
	db->cur = x;
	db->stats.objects++;
	if (db->note != NULL)
		db->note[0] = '\0';	/* each object sets its own */
	switch (x->kind) {
	case KIND_APEX:
		zg_rules_apex(db, m);
		break;
	case ZG_KIND_SERVICE:
		compute_service(db, m, x);
		break;
	case ZG_KIND_IMPORT:
		compute_import(db, m, x);
		break;
	case ZG_KIND_POD:
		p = kz_map_get(&m->objects[ZG_KIND_POD], x->key);
		if (p == NULL)
			x->gone = true;
		else if (!zg_rules_exposed(db, m, p->ns))
			db->stats.filtered += p->active && p->nips;
		else
			zg_rules_pod(db, p);
		break;
	default:
		break;
	}
	db->cur = NULL;
}

/* --- finishing a batch ------------------------------------------------- */

static int
cmp_diff_rr(const struct zg_rr *a, const struct zg_rr *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	/* SRV: the weight follows the RRset; order on port and target. */
	if (a->type == T_SRV && a->rdlen > 4 && b->rdlen > 4)
		return cmp_rdata(a->rdata + 4, a->rdlen - 4, b->rdata + 4,
		    b->rdlen - 4);
	return cmp_rdata(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static int
diff_push(struct zg_db *db, struct zg_db_zone *z, bool add,
    const struct zg_rr *rr)
{
	struct zg_rr **v = add ? &z->diff.add : &z->diff.del;
	size_t *n = add ? &z->diff.nadd : &z->diff.ndel;
	size_t *cap = add ? &z->addcap : &z->delcap;

	(void)db;
	if (grow((void **)v, cap, *n + 1, sizeof(**v)))
		return KZ_ENOMEM;
	(*v)[(*n)++] = *rr;
	return 0;
}

/* Compare what O served before with what it serves now. */
static size_t
diff_owner(struct zg_db *db, const struct db_touch *t)
{
	struct zg_db_zone *z = &db->zones[t->o->zone];
	size_t nafter = 0, i = 0, j = 0, changed = 0;
	struct zg_rr *after = snapshot(db, t->o, &nafter);

	while (db->rc == 0 && (i < t->nbefore || j < nafter)) {
		int c = i == t->nbefore ? 1 : j == nafter ? -1 :
		    cmp_diff_rr(&t->before[i], &after[j]);
		if (c == 0) {
			const struct zg_rr *a = &t->before[i], *b = &after[j];
			if (a->rdlen == b->rdlen && a->ttl == b->ttl &&
			    memcmp(a->rdata, b->rdata, a->rdlen) == 0) {
				i++, j++;
				continue;
			}
			c = 2;	/* same record, new weight: both */
		}
		if (c < 0 || c == 2) {
			db->rc = diff_push(db, z, false, &t->before[i++]);
			changed++;
		}
		if (db->rc == 0 && (c > 0)) {
			db->rc = diff_push(db, z, true, &after[j++]);
			changed++;
		}
	}
	return changed;
}

static void
warn_capped(struct zg_db *db, const struct db_owner *o)
{
	char qname[300], qsrc[300], src[300], name[OWNER_TEXT];
	const struct db_rec *r = o->recs;

	snprintf(src, sizeof(src), "%s %s", r->src->kind == KIND_APEX ?
	    "zone" : zg_kind_name((enum zg_kind)r->src->kind),
	    r->src->kind == KIND_APEX ? "apex" : r->src->key);
	kz_warn("RRset capped", "object=%s name=%s max_bytes=%u "
	    "hint=\"one DNS message cannot carry more; the records first "
	    "in canonical order are served\"",
	    kz_log_quote(qsrc, sizeof(qsrc), src),
	    kz_log_quote(qname, sizeof(qname), owner_name(db, o, name)),
	    db->rrset_bytes);
}

static long
finish(struct zg_db *db)
{
	long changed = 0;

	for (size_t i = 0; i < db->ntouched && db->rc == 0; i++) {
		struct db_touch *t = &db->touched[i];
		struct db_owner *o = t->o;
		struct zg_db_zone *z = &db->zones[o->zone];
		unsigned cut = 0;

		if (db->diffs)
			changed += (long)diff_owner(db, t);
		if (db->rc)
			break;
		if (visible(db, o, DB_VIS(db), true, &cut)) {
			db->rc = KZ_ENOMEM;
			break;
		}
		if (!db->diffs)
			changed += (long)(DB_VIS(db)->n > o->nvisible ?
			    DB_VIS(db)->n - o->nvisible : o->nvisible - DB_VIS(db)->n);
		z->nrecords = z->nrecords + DB_VIS(db)->n - o->nvisible;
		o->nvisible = (uint32_t)DB_VIS(db)->n;
		if (cut && !o->ncapped)
			warn_capped(db, o);
		db->stats.capped = db->stats.capped + cut - o->ncapped;
		z->capped = z->capped + cut - o->ncapped;
		o->ncapped = (uint8_t)cut;
	}
	/* Owners nothing contributes to any more go now. */
	for (size_t i = 0; i < db->ntouched; i++) {
		struct db_owner *o = db->touched[i].o;
		o->touch = 0;
		if (o->recs == NULL) {
			otab_del(&db->zones[o->zone].owners, o);
			owner_free(db, o);
		}
	}
	db->ntouched = 0;
	/* A first load touches every owner: give that memory back. */
	if (db->captouched > 4096) {
		free(db->touched);
		db->touched = NULL;
		db->captouched = 0;
	}
	return db->rc ? db->rc : changed;
}

static void
batch_begin(struct zg_db *db, bool diffs)
{
	kz_arena_reset(&db->scratch);
	for (size_t i = 0; i < db->nzones; i++) {
		db->zones[i].diff.ndel = 0;
		db->zones[i].diff.nadd = 0;
	}
	db->diffs = diffs;
	db->rc = 0;
}

static long
batch_run(struct zg_db *db, const struct zg_model *m)
{
	long rc;

	for (size_t i = 0; i < db->ndirty && db->rc == 0; i++)
		compute(db, m, db->dirty[i]);
	for (size_t i = 0; i < db->ndirty; i++) {
		struct db_obj *x = db->dirty[i];
		x->dirty = false;
		if (x->gone && db->rc == 0) {
			unlink_ns(db, x);
			kz_map_del(&db->objs[x->kind], x->key);
			obj_free(db, x);
		}
	}
	db->ndirty = 0;
	if (db->capdirty > 4096) {
		free(db->dirty);
		db->dirty = NULL;
		db->capdirty = 0;
	}
	rc = finish(db);
	if (rc > 0)
		db->stats.applies++;
	return rc;
}

long
zg_db_apply(struct zg_db *db, struct zg_model *m, bool diffs)
{
	size_t n = 0;
	int lost = 0;
	struct zg_change **v = zg_model_take_changes(m, &n, &lost);

	batch_begin(db, diffs);
	if (db->stats.objects == 0)
		mark(db, db->apex);	/* the first batch: the apex too */
	if (lost) {
		mark_all(db, m);
	} else {
		for (size_t i = 0; i < n && db->rc == 0; i++) {
			const char *key = v[i]->key;
			switch (v[i]->kind) {
			case ZG_KIND_SLICE:
				slice_changed(db, m, key);
				break;
			case ZG_KIND_NAMESPACE:
				namespace_changed(db, m, key);
				break;
			default:
				mark_key(db, m, (enum zg_kind)v[i]->kind, key);
				break;
			}
		}
	}
	zg_changes_free(v, n);
	return batch_run(db, m);
}

int
zg_db_load(struct zg_db *db, const struct zg_model *m)
{
	long rc;

	batch_begin(db, false);
	mark_all(db, m);
	rc = batch_run(db, m);
	return rc < 0 ? (int)rc : 0;
}

/* --- reading zones --------------------------------------------------------- */

int
zg_db_foreach(const struct zg_db *db, size_t zone,
    int (*fn)(void *ctx, const struct zg_rr *rr), void *ctx)
{
	const struct db_otab *t = &db->zones[zone].owners;
	struct visbuf vb = { 0 };
	uint8_t wire[ZG_NAME_MAX + 2], buf[4 + 512];
	char name[OWNER_TEXT];
	int rc = 0;

	for (size_t i = 0; i < t->cap && rc == 0; i++) {
		for (struct db_owner *o = t->b[i]; o && rc == 0; o = o->hnext) {
			unsigned cut;
			size_t wl = zg_name_wire(owner_name(db, o, name), wire,
			    sizeof(wire));

			rc = visible((struct zg_db *)db, o, &vb, false, &cut);
			for (size_t k = 0; k < vb.n && rc == 0; k++) {
				struct zg_rr rr = { wire, wl, vb.v[k].r->type,
				    rr_ttl(db, vb.v[k].r->type), NULL, 0 };
				rr.rdlen = vis_rdata(&vb.v[k], buf, &rr.rdata);
				rc = fn(ctx, &rr);
			}
		}
	}
	free(vb.v);
	return rc;
}

int
zg_db_owner_foreach(const struct zg_db *db, size_t zone, const char *owner,
    int (*fn)(void *ctx, const struct zg_rr *rr), void *ctx)
{
	const struct db_owner *o;
	struct visbuf vb = { 0 };
	uint8_t wire[ZG_NAME_MAX + 2], buf[4 + 512];
	char name[OWNER_TEXT];
	unsigned cut;
	size_t wl;
	bool rel;
	int rc;

	wl = owner_part(&db->zones[zone], owner, &rel);
	o = otab_get(&db->zones[zone].owners, owner, wl, rel,
	    name_hash(owner, wl));
	if (o == NULL)
		return 0;
	wl = zg_name_wire(owner_name(db, o, name), wire, sizeof(wire));
	rc = visible((struct zg_db *)db, o, &vb, false, &cut);
	for (size_t k = 0; k < vb.n && rc == 0; k++) {
		struct zg_rr rr = { wire, wl, vb.v[k].r->type,
		    rr_ttl(db, vb.v[k].r->type), NULL, 0 };
		rr.rdlen = vis_rdata(&vb.v[k], buf, &rr.rdata);
		rc = fn(ctx, &rr);
	}
	free(vb.v);
	return rc;
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

/* A wire name as absolute text ("a.b." or "."). */
static int
put_wire_name(struct kz_buf *b, const uint8_t *w, size_t len)
{
	size_t i = 0;
	int rc = 0;

	if (len == 0 || w[0] == 0)
		return kz_buf_putc(b, '.');
	while (i < len && w[i] && rc == 0) {
		rc = kz_buf_append(b, (const char *)w + i + 1, w[i]);
		rc = rc ? rc : kz_buf_putc(b, '.');
		i += (size_t)w[i] + 1;
	}
	return rc;
}

static int
put_rdata(struct kz_buf *b, uint16_t type, const uint8_t *rd, size_t len)
{
	char text[64];
	struct zg_ip ip = { 0 };
	int rc;

	switch (type) {
	case 1:
	case 28:
		ip.family = type == 1 ? ZG_IPV4 : ZG_IPV6;
		memcpy(ip.addr, rd, len > 16 ? 16 : len);
		return kz_buf_puts(b, zg_ip_str(&ip, text, sizeof(text)));
	case T_SRV:
		rc = put_uint(b, (unsigned)(rd[0] << 8 | rd[1]));
		rc = rc ? rc : kz_buf_putc(b, ' ');
		rc = rc ? rc : put_uint(b, (unsigned)(rd[2] << 8 | rd[3]));
		rc = rc ? rc : kz_buf_putc(b, ' ');
		rc = rc ? rc : put_uint(b, (unsigned)(rd[4] << 8 | rd[5]));
		rc = rc ? rc : kz_buf_putc(b, ' ');
		return rc ? rc : put_wire_name(b, rd + 6, len - 6);
	case T_TXT:
		rc = kz_buf_putc(b, '"');
		rc = rc ? rc : kz_buf_append(b, (const char *)rd + 1,
		    len ? len - 1 : 0);
		return rc ? rc : kz_buf_putc(b, '"');
	default:	/* NS, CNAME, PTR */
		return put_wire_name(b, rd, len);
	}
}

static const char *
type_name(uint16_t type)
{
	switch (type) {
	case 1: return "A";
	case 2: return "NS";
	case T_CNAME: return "CNAME";
	case T_PTR: return "PTR";
	case T_TXT: return "TXT";
	case 28: return "AAAA";
	case T_SRV: return "SRV";
	default: return "TYPE0";
	}
}

/* "<TAB>TTL<TAB>IN<TAB>TYPE<TAB>RDATA", then "<TAB>; WHY" when WHY is
 * not NULL or empty, then the newline. */
static int
put_rest(struct kz_buf *b, uint16_t type, uint32_t ttl, const uint8_t *rd,
    size_t rdlen, const char *why)
{
	int rc;

	rc = kz_buf_putc(b, '\t');
	rc = rc ? rc : put_uint(b, ttl);
	rc = rc ? rc : kz_buf_puts(b, "\tIN\t");
	rc = rc ? rc : kz_buf_puts(b, type_name(type));
	rc = rc ? rc : kz_buf_putc(b, '\t');
	rc = rc ? rc : put_rdata(b, type, rd, rdlen);
	if (rc == 0 && why != NULL && why[0] != '\0') {
		rc = kz_buf_puts(b, "\t; ");
		rc = rc ? rc : kz_buf_puts(b, why);
	}
	return rc ? rc : kz_buf_putc(b, '\n');
}

/* "OWNER<TAB>TTL<TAB>IN<TAB>TYPE<TAB>RDATA[<TAB>; WHY]\n", OWNER
 * relative. */
static int
put_line(struct kz_buf *b, const char *owner, size_t olen, uint16_t type,
    uint32_t ttl, const uint8_t *rd, size_t rdlen, const char *why)
{
	size_t len = strlen(owner);
	int rc;

	if (len > olen)
		rc = kz_buf_append(b, owner, len - olen - 1);
	else
		rc = kz_buf_putc(b, '@');
	return rc ? rc : put_rest(b, type, ttl, rd, rdlen, why);
}

int
zg_rr_write_why(const struct zg_rr *rr, const char *origin, const char *why,
    struct kz_buf *out)
{
	struct kz_buf name;
	int rc;

	kz_buf_init(&name, 512);
	rc = put_wire_name(&name, rr->owner, rr->ownerlen);
	rc = rc ? rc : kz_buf_putc(&name, '\0');
	if (rc == 0) {
		/* Relative to ORIGIN when at or below it, like zone lines;
		 * else absolute. */
		size_t n = strlen(name.data) - 1;
		size_t o = origin ? strlen(origin) - 1 : 0;
		const char *nm = name.data;
		bool below = origin != NULL && (n == o ?
		    strncmp(nm, origin, o) == 0 :
		    n > o && nm[n - o - 1] == '.' &&
		    strncmp(nm + n - o, origin, o) == 0);

		if (below) {
			name.data[n] = '\0';	/* the final dot */
			rc = put_line(out, nm, o, rr->type, rr->ttl,
			    rr->rdata, rr->rdlen, why);
		} else {
			rc = kz_buf_puts(out, nm);
			rc = rc ? rc : put_rest(out, rr->type, rr->ttl,
			    rr->rdata, rr->rdlen, why);
		}
	}
	kz_buf_free(&name);
	return rc;
}

int
zg_rr_write(const struct zg_rr *rr, const char *origin, struct kz_buf *out)
{
	return zg_rr_write_why(rr, origin, NULL, out);
}

struct sorted_owner {
	const struct db_owner *o;
	uint8_t *key;
	size_t keylen;
};

static int
cmp_sorted(const void *pa, const void *pb)
{
	const struct sorted_owner *a = pa, *b = pb;

	return cmp_rdata(a->key, a->keylen, b->key, b->keylen);
}

/* The owners of T in canonical order into *OUT (caller frees), their
 * keys in KEYS. 0 or KZ_ENOMEM (*OUT is then freed and NULL). */
static int
sort_owners(const struct zg_db *db, const struct db_otab *t,
    struct kz_arena *keys, struct sorted_owner **out, size_t *nout)
{
	struct sorted_owner *v = calloc(t->n ? t->n : 1, sizeof(*v));
	char name[OWNER_TEXT];
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	if (v == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		for (struct db_owner *o = t->b[i]; o; o = o->hnext) {
			uint8_t k[ZG_NAME_MAX + 2];
			size_t kl = zg_name_key(owner_name(db, o, name), k,
			    sizeof(k));
			v[n].o = o;
			v[n].key = kz_arena_alloc(keys, kl ? kl : 1);
			if (v[n].key == NULL) {
				free(v);
				return KZ_ENOMEM;
			}
			memcpy(v[n].key, k, kl);
			v[n++].keylen = kl;
		}
	qsort(v, n, sizeof(*v), cmp_sorted);
	*out = v;
	*nout = n;
	return 0;
}

/* --- explaining --------------------------------------------------------- */

/* What the records an owner serves come from (scratch, reused). */
struct why_buf {
	struct visbuf all;	/* every record contributed there, sorted */
	const char **notes;
	size_t capnotes;
	struct kz_buf text;	/* the explanations, each NUL-terminated */
	size_t *off;		/* per served record: its text in TEXT */
	size_t capoff;
};

static void
why_init(struct why_buf *w)
{
	memset(w, 0, sizeof(*w));
	kz_buf_init(&w->text, (size_t)1 << 30);
}

static void
why_free(struct why_buf *w)
{
	free(w->all.v);
	free(w->notes);
	free(w->off);
	kz_buf_free(&w->text);
}

static int
cmp_note(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append the distinct NOTES[0..N), sorted, joined by "; ", and a NUL. */
static int
put_notes(struct kz_buf *b, const char **notes, size_t n)
{
	int rc = 0;

	if (n > 1)
		qsort(notes, n, sizeof(*notes), cmp_note);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0 && strcmp(notes[i - 1], notes[i]) == 0)
			continue;
		if (i > 0)
			rc = kz_buf_puts(b, "; ");
		rc = rc ? rc : kz_buf_puts(b, notes[i]);
	}
	return rc ? rc : kz_buf_putc(b, '\0');
}

/*
 * For each record VB serves at O (in visible()'s order), the
 * explanations of every record contributed there that it stands for
 * (equal type and RDATA: E2 collapsed them) into W. The records R13
 * hides and the ClusterIP marks stand for nothing served.
 */
static int
owner_whys(const struct db_owner *o, const struct visbuf *vb,
    struct why_buf *w)
{
	bool mark = false;
	size_t n = 0, i = 0;

	kz_buf_reset(&w->text);
	if (grow((void **)&w->off, &w->capoff, vb->n ? vb->n : 1,
	    sizeof(*w->off)))
		return KZ_ENOMEM;
	for (const struct db_rec *r = o->recs; r; r = r->next)
		mark |= (r->flags & ZG_RR_CIP_MARK) != 0;
	for (const struct db_rec *r = o->recs; r; r = r->next) {
		if ((r->flags & ZG_RR_CIP_MARK) ||
		    (mark && (r->flags & ZG_RR_EP_PTR)))
			continue;
		if (grow((void **)&w->all.v, &w->all.cap, n + 1,
		    sizeof(*w->all.v)))
			return KZ_ENOMEM;
		w->all.v[n].r = r;
		w->all.v[n++].weight = 0;
	}
	if (n > 1)
		qsort(w->all.v, n, sizeof(*w->all.v), cmp_vis);
	for (size_t k = 0; k < vb->n; k++) {
		size_t nn = 0;

		while (i < n && cmp_vis(&w->all.v[i], &vb->v[k]) < 0)
			i++;
		for (size_t j = i; j < n &&
		    cmp_vis(&w->all.v[j], &vb->v[k]) == 0; j++) {
			const char *note = rec_note(w->all.v[j].r);
			if (note == NULL)
				continue;
			if (grow((void **)&w->notes, &w->capnotes, nn + 1,
			    sizeof(*w->notes)))
				return KZ_ENOMEM;
			w->notes[nn++] = note;
		}
		w->off[k] = w->text.len;
		if (put_notes(&w->text, w->notes, nn))
			return KZ_ENOMEM;
	}
	return 0;
}

int
zg_db_explain(struct zg_db *db)
{
	if (db->note == NULL)
		db->note = calloc(1, ZG_DB_NOTE_MAX);
	return db->note ? 0 : KZ_ENOMEM;
}

int
zg_db_write(const struct zg_db *db, size_t zone, struct kz_buf *out,
    size_t *nrecords)
{
	const struct zg_db_zone *z = &db->zones[zone];
	size_t n = 0, olen = strlen(z->origin) - 1, count = 0;
	struct sorted_owner *v = NULL;
	struct kz_arena keys;
	struct visbuf vb = { 0 };
	struct why_buf w;
	uint8_t buf[4 + 512];
	char name[OWNER_TEXT];
	int rc;

	kz_arena_init(&keys, 1 << 20);
	why_init(&w);
	rc = sort_owners(db, &z->owners, &keys, &v, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned cut;

		rc = visible((struct zg_db *)db, v[i].o, &vb, false, &cut);
		if (rc == 0 && db->note != NULL)
			rc = owner_whys(v[i].o, &vb, &w);
		for (size_t k = 0; k < vb.n && rc == 0; k++) {
			const uint8_t *rd;
			size_t len = vis_rdata(&vb.v[k], buf, &rd);
			rc = put_line(out, owner_name(db, v[i].o, name), olen,
			    vb.v[k].r->type,
			    rr_ttl(db, vb.v[k].r->type), rd, len,
			    db->note ? w.text.data + w.off[k] : NULL);
			count++;
		}
	}
	free(vb.v);
	free(v);
	why_free(&w);
	kz_arena_free(&keys);
	if (nrecords)
		*nrecords = count;
	return rc;
}

/* --- cursors -------------------------------------------------------------- */

struct zg_db_cursor {
	struct zg_db *db;
	struct sorted_owner *v;
	size_t n, next;
	struct kz_arena keys;
	struct visbuf vb;		/* what the current owner serves */
	struct why_buf why;
	struct zg_db_entry *e;
	size_t cape;
	uint8_t *bytes;			/* SRV RDATA with weights */
	size_t capbytes;
	uint8_t wire[ZG_NAME_MAX + 2];
	char name[OWNER_TEXT];		/* the current owner's */
	struct zg_db_owner_view view;
};

int
zg_db_cursor_new(const struct zg_db *db, size_t zone,
    struct zg_db_cursor **out)
{
	struct zg_db_cursor *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return KZ_ENOMEM;
	c->db = (struct zg_db *)db;	/* visible() reads it only */
	kz_arena_init(&c->keys, 1 << 20);
	why_init(&c->why);
	if (sort_owners(db, &db->zones[zone].owners, &c->keys, &c->v,
	    &c->n)) {
		zg_db_cursor_free(c);
		return KZ_ENOMEM;
	}
	*out = c;
	return 0;
}

/* Fill C's view from what O serves (C->vb). */
static int
cursor_fill(struct zg_db_cursor *c, const struct sorted_owner *so)
{
	const char *name = owner_name(c->db, so->o, c->name);
	size_t wl = zg_name_wire(name, c->wire, sizeof(c->wire));
	size_t need = 1, pos = 0;

	if (c->db->note != NULL && owner_whys(so->o, &c->vb, &c->why))
		return KZ_ENOMEM;
	for (size_t k = 0; k < c->vb.n; k++)
		if (c->vb.v[k].r->type == T_SRV)
			need += 4 + (size_t)c->vb.v[k].r->rdlen;
	if (grow((void **)&c->e, &c->cape, c->vb.n, sizeof(*c->e)) ||
	    grow((void **)&c->bytes, &c->capbytes, need, 1))
		return KZ_ENOMEM;
	for (size_t k = 0; k < c->vb.n; k++) {
		struct zg_db_entry *e = &c->e[k];
		uint16_t type = c->vb.v[k].r->type;

		e->rr = (struct zg_rr){ c->wire, wl, type, rr_ttl(c->db, type),
		    NULL, 0 };
		e->rr.rdlen = vis_rdata(&c->vb.v[k], c->bytes + pos,
		    &e->rr.rdata);
		if (type == T_SRV)
			pos += e->rr.rdlen;
		e->why = c->db->note ? c->why.text.data + c->why.off[k] : NULL;
	}
	c->view = (struct zg_db_owner_view){ name, so->key, so->keylen,
	    c->e, c->vb.n };
	return 0;
}

int
zg_db_cursor_next(struct zg_db_cursor *c,
    const struct zg_db_owner_view **view)
{
	while (c->next < c->n) {
		const struct sorted_owner *so = &c->v[c->next++];
		unsigned cut;

		if (visible(c->db, so->o, &c->vb, false, &cut))
			return KZ_ENOMEM;
		if (c->vb.n == 0)
			continue;
		if (cursor_fill(c, so))
			return KZ_ENOMEM;
		*view = &c->view;
		return 1;
	}
	return 0;
}

void
zg_db_cursor_free(struct zg_db_cursor *c)
{
	if (c == NULL)
		return;
	free(c->v);
	kz_arena_free(&c->keys);
	free(c->vb.v);
	why_free(&c->why);
	free(c->e);
	free(c->bytes);
	free(c);
}

size_t
zg_db_bytes(const struct zg_db *db)
{
	size_t b = db->pool.used, it;
	void *v;

	/* The owners, records and objects as the pool hands them out (its
	 * slabs hold at most one slab more, and the blocks freed); malloc's
	 * blocks count with 16 bytes of overhead. */
	for (size_t i = 0; i < db->nzones; i++)
		b += db->zones[i].owners.cap * sizeof(struct db_owner *);
	for (int k = 0; k < ZG_KIND_COUNT; k++) {
		b += db->objs[k].cap * sizeof(struct kz_map_slot);
		for (it = 0; kz_map_next(&db->objs[k], &it, NULL, &v);) {
			const struct db_obj *x = v;
			if (x->vec)
				b += obj_cap(x->nowners) *
				    sizeof(*x->owners.v) + 16;
			if (x->group)
				b += strlen(x->group) + 1 + 16;
		}
	}
	b += db->groups.cap * sizeof(struct kz_map_slot);
	for (it = 0; kz_map_next(&db->groups, &it, NULL, &v);) {
		const struct db_group *g = v;
		b += sizeof(*g) + strlen(g->key) + 1 + 16 +
		    g->cap * sizeof(*g->slices) + 16;
		for (size_t i = 0; i < g->n; i++)
			b += strlen(g->slices[i]) + 1 + 16;
	}
	return b;
}
