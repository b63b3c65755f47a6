/*
 * nsd-conf/dnssec.c -- the signer: full signing, incremental re-signing,
 * NSEC chain repair, refresh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "nsd-conf/dnssec.h"
#include "zonegen/names.h"

#define T_SOA 6
#define T_RRSIG 46
#define T_NSEC 47
#define T_DNSKEY 48
#define T_NSEC3 50
#define T_NSEC3PARAM 51
#define NSEC3_HASHLEN 20	/* SHA-1 */

/* A wire owner name as a tree key. */
struct nkey {
	const uint8_t *w;
	size_t len;
};

struct sig;

/*
 * One owner name of a signed zone: a name of the zone (the name tree),
 * or with NSEC3 the owner of one NSEC3 record (the hashed tree: the hash
 * of a name of the zone or of an empty non-terminal).
 */
struct sname {
	ldns_rbnode_t node;	/* in its tree; key: &key */
	struct nkey key;
	struct sig *sigs;	/* its RRSIGs */
	uint16_t *types;	/* served (not NSEC, RRSIG), ascending */
	uint16_t ntypes;
	uint16_t nseclen;	/* 0: no NSEC (NSEC3) record yet */
	uint8_t *nsec;		/* NSEC RDATA, or NSEC3 RDATA when hashed */
	bool dirty;		/* its NSEC (NSEC3) must be remade */
	bool gone;		/* serves nothing any more */
	bool hashed;		/* an NSEC3 owner */
	struct sname *h3;	/* NSEC3: a name's hashed owner; a hashed
				 * owner's name (NULL: empty non-terminal) */
	uint32_t below;		/* hashed: names of the zone below it */
	uint8_t owner[];	/* wire, lower case */
};

/* One RRSIG. */
struct sig {
	ldns_rbnode_t xnode;	/* in the expiry index; key: this */
	struct sig *next;	/* of the same name */
	struct sname *name;
	uint32_t expire;
	uint32_t ttl;
	uint16_t covered;
	uint16_t rdlen;
	bool reused;		/* taken over from the old zone */
	uint8_t rdata[];
};

/* An RRset of the zone as served before (nc_dnssec_reuse_set) and its
 * signatures (nc_dnssec_reuse_sig), which the job may take over. */
struct ru_sig {
	struct ru_sig *next;
	uint32_t ttl;
	uint16_t rdlen;
	bool taken;		/* adopted by the job */
	uint8_t rdata[];
};

struct ru {
	const uint8_t *owner;	/* in key's arena */
	size_t ol;
	uint16_t type;
	bool have;		/* the RRset's digest is known */
	uint8_t digest[NC_DNSSEC_DIGEST];
	struct ru_sig *sigs;
	char key[];		/* ru_key() */
};

/* Records read back from the database at one owner. */
struct rec {
	uint16_t type;
	uint32_t ttl;
	size_t off, len;	/* in the data buffer */
};

/* The phases of a whole signing (nc_dnssec_sign_begin to _finish). */
enum {
	JOB_NONE,	/* none under way */
	JOB_OWNERS,	/* each name's RRsets signed */
	JOB_HASHED,	/* NSEC3: each name's hashed owner */
	JOB_CHAIN,	/* each NSEC (NSEC3) made and signed */
	JOB_READY	/* the apex's DNSKEY, NSEC3PARAM and SOA left */
};

/* The work of one signature, in names visited, for a step's budget. */
#define SIGN_WEIGHT 16

struct nc_dnssec_zone {
	ldns_rbtree_t names;	/* struct sname, canonical order */
	ldns_rbtree_t hashed;	/* NSEC3 owners, canonical (hash) order */
	bool nsec3;		/* NSEC3 (RFC 9276 parameters), not NSEC */
	ldns_rbtree_t expiry;	/* struct sig, by expiration */
	struct nc_dkey *keys;
	size_t nkeys;
	ldns_key_list *klist;	/* the keys' ldns keys, borrowed */
	struct sname *apex;
	char origin[256];	/* absolute */
	char bare[256];		/* without the final dot */
	uint32_t nsec_ttl, dnskey_ttl, soa_ttl;
	size_t nsigs;
	bool built;		/* signed whole since the last failure */
	bool ru_on;		/* signatures to take over (ru_map) */
	struct kz_map ru_map;	/* ru_key() -> struct ru */
	struct kz_arena ru_arena;
	size_t ru_taken;	/* RRsets whose signatures were adopted */
	int job;		/* a whole signing under way: JOB_* */
	ldns_rbnode_t *cur;	/* its next name (in the job's tree) */
	bool emit;		/* hand changes back (not when whole) */
	/* scratch */
	struct rec *recs;
	size_t nrecs, caprecs;
	uint8_t *data;
	size_t datalen, datacap;
	struct sname **dirty, **fresh, **gone;
	size_t ndirty, nfresh, ngone, capdirty, capfresh, capgone;
	struct sname **hfresh, **hgone;	/* NSEC3 owners added, removed */
	size_t nhfresh, nhgone, caphfresh, caphgone;
};

/* --- names ------------------------------------------------------------ */

/* Label offsets of wire name W (root label excluded); their number. */
static size_t
labels(const uint8_t *w, size_t len, uint8_t *off)
{
	size_t n = 0;

	for (size_t i = 0; i < len && w[i] && n < 128; i += (size_t)w[i] + 1)
		off[n++] = (uint8_t)i;
	return n;
}

/* RFC 4034 6.1 canonical order of two lower-case wire names. */
static int
name_cmp(const void *pa, const void *pb)
{
	const struct nkey *a = pa, *b = pb;
	uint8_t oa[128], ob[128];
	size_t na = labels(a->w, a->len, oa), nb = labels(b->w, b->len, ob);

	while (na > 0 && nb > 0) {
		const uint8_t *x = a->w + oa[--na], *y = b->w + ob[--nb];
		size_t m = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, m);

		if (c)
			return c;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return (na > 0) - (nb > 0);
}

static int
sig_cmp(const void *pa, const void *pb)
{
	const struct sig *a = pa, *b = pb;

	if (a->expire != b->expire)
		return a->expire < b->expire ? -1 : 1;
	return (a > b) - (a < b);
}

/* Wire name W as dotted text without the final dot. */
static void
wire_text(const uint8_t *w, size_t len, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len && w[i] && o + w[i] + 1 < outsz;
	    i += (size_t)w[i] + 1) {
		if (o)
			out[o++] = '.';
		memcpy(out + o, w + i + 1, w[i]);
		o += w[i];
	}
	out[o] = '\0';
}

static struct sname *
name_find(struct nc_dnssec_zone *zn, const uint8_t *w, size_t len)
{
	struct nkey k = { w, len };
	ldns_rbnode_t *n = ldns_rbtree_search(&zn->names, &k);

	return n ? (struct sname *)n : NULL;
}

static struct sname *
name_add(struct nc_dnssec_zone *zn, const uint8_t *w, size_t len)
{
	struct sname *n = calloc(1, sizeof(*n) + len);

	if (n == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)	/* length octets < 'A' */
		n->owner[i] = (uint8_t)(w[i] >= 'A' && w[i] <= 'Z' ?
		    w[i] - 'A' + 'a' : w[i]);
	n->key = (struct nkey){ n->owner, len };
	n->node.key = &n->key;
	if (ldns_rbtree_insert(&zn->names, &n->node) == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

/* --- output ----------------------------------------------------------- */

static int
out_push(struct nc_dnssec *s, bool add, const uint8_t *owner, size_t ol,
    uint16_t type, uint32_t ttl, const uint8_t *rd, size_t rdl)
{
	struct nc_dnssec_out *o = &s->out;
	struct nc_rr **v = add ? &o->add : &o->del;
	size_t *n = add ? &o->nadd : &o->ndel, *cap = add ? &o->capadd :
	    &o->capdel;
	uint8_t *ow, *r;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct nc_rr *nv = realloc(*v, nc * sizeof(*nv));
		if (nv == NULL)
			return KZ_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	ow = kz_arena_alloc(&s->scratch, ol);
	r = kz_arena_alloc(&s->scratch, rdl ? rdl : 1);
	if (ow == NULL || r == NULL)
		return KZ_ENOMEM;
	memcpy(ow, owner, ol);
	if (rdl)
		memcpy(r, rd, rdl);
	(*v)[(*n)++] = (struct nc_rr){ ow, ol, type, ttl, r, rdl };
	return 0;
}

static void
out_reset(struct nc_dnssec *s)
{
	kz_arena_free(&s->scratch);
	kz_arena_init(&s->scratch, 64 * 1024);
	s->out.ndel = s->out.nadd = 0;
}

/* --- signatures --------------------------------------------------------- */

static void
sig_unlink(struct nc_dnssec_zone *zn, struct sig *g)
{
	ldns_rbtree_delete(&zn->expiry, g);
	zn->nsigs--;
	free(g);
}

/* A signature of N's RRset TYPE (RDATA RD, RDLEN octets), indexed by
 * its expiration EXPIRE; REUSED: taken over from the old zone. NULL: no
 * memory. */
static struct sig *
sig_attach(struct nc_dnssec_zone *zn, struct sname *n, uint16_t type,
    uint32_t expire, uint32_t ttl, const uint8_t *rd, size_t rdlen,
    bool reused)
{
	struct sig *g = calloc(1, sizeof(*g) + rdlen);

	if (g == NULL)
		return NULL;
	g->name = n;
	g->expire = expire;
	g->ttl = ttl;
	g->covered = type;
	g->rdlen = (uint16_t)rdlen;
	g->reused = reused;
	memcpy(g->rdata, rd, rdlen);
	g->xnode.key = g;
	ldns_rbtree_insert(&zn->expiry, &g->xnode);
	g->next = n->sigs;
	n->sigs = g;
	zn->nsigs++;
	return g;
}

/* Drop N's signatures over TYPE (every type when TYPE is 0), handing
 * their deletion back. */
static int
drop_sigs(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint16_t type)
{
	struct sig **pp = &n->sigs;
	int rc = 0;

	while (*pp) {
		struct sig *g = *pp;

		if (type && g->covered != type) {
			pp = &g->next;
			continue;
		}
		if (zn->emit && rc == 0)
			rc = out_push(s, false, n->owner, n->key.len, T_RRSIG,
			    g->ttl, g->rdata, g->rdlen);
		*pp = g->next;
		sig_unlink(zn, g);
	}
	return rc;
}

/* A deterministic offset for the expiration of (N, TYPE): spreads a zone
 * signed at once over half of validity minus refresh. */
static uint32_t
jitter(const struct nc_dnssec *s, const struct sname *n, uint16_t type)
{
	uint32_t span = (s->o.validity - s->o.refresh) / 2, h = 2166136261u;

	for (size_t i = 0; i < n->key.len; i++)
		h = (h ^ n->owner[i]) * 16777619u;
	h = (h ^ type) * 16777619u;
	return span ? h % span : 0;
}

/* One record in wire form (owner, type, class IN, TTL, RDATA) as an
 * ldns record appended to SET. */
static int
set_push(ldns_rr_list *set, const uint8_t *owner, size_t ol, uint16_t type,
    uint32_t ttl, const uint8_t *rd, size_t rdl)
{
	uint8_t *w = malloc(ol + 10 + rdl);
	ldns_rr *rr = NULL;
	size_t pos = 0;
	ldns_status st;

	if (w == NULL)
		return KZ_ENOMEM;
	memcpy(w, owner, ol);
	ldns_write_uint16(w + ol, type);
	ldns_write_uint16(w + ol + 2, LDNS_RR_CLASS_IN);
	ldns_write_uint32(w + ol + 4, ttl);
	ldns_write_uint16(w + ol + 8, (uint16_t)rdl);
	if (rdl)
		memcpy(w + ol + 10, rd, rdl);
	st = ldns_wire2rr(&rr, w, ol + 10 + rdl, &pos, LDNS_SECTION_ANSWER);
	free(w);
	if (st != LDNS_STATUS_OK)
		return KZ_EINVAL;
	if (!ldns_rr_list_push_rr(set, rr)) {
		ldns_rr_free(rr);
		return KZ_ENOMEM;
	}
	return 0;
}

/* --- signatures taken over from the zone served before ------------------ */

#define RU_KEYMAX (2 * 255 + 8)

/* The map key of (OWNER, TYPE): the owner's wire form in hex, "/type". */
static void
ru_key(const uint8_t *owner, size_t ol, uint16_t type, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < ol && i < 255; i++) {
		uint8_t c = (uint8_t)(owner[i] >= 'A' && owner[i] <= 'Z' ?
		    owner[i] - 'A' + 'a' : owner[i]);
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	snprintf(out + o, RU_KEYMAX - o, "/%u", (unsigned)type);
}

static void
ru_drop(struct nc_dnssec_zone *zn)
{
	if (!zn->ru_on)
		return;
	kz_map_free(&zn->ru_map);
	kz_arena_free(&zn->ru_arena);
	zn->ru_on = false;
}

/* The entry of (OWNER, TYPE); made when CREATE (NULL: no memory). */
static struct ru *
ru_get(struct nc_dnssec_zone *zn, const uint8_t *owner, size_t ol,
    uint16_t type, bool create)
{
	char key[RU_KEYMAX];
	struct ru *r;
	uint8_t *ow;
	size_t kl;

	if (!zn->ru_on) {
		if (!create)
			return NULL;
		kz_map_init(&zn->ru_map);
		kz_arena_init(&zn->ru_arena, 1 << 20);
		zn->ru_on = true;
		zn->ru_taken = 0;
	}
	ru_key(owner, ol, type, key);
	if ((r = kz_map_get(&zn->ru_map, key)) != NULL || !create)
		return r;
	kl = strlen(key) + 1;
	r = kz_arena_calloc(&zn->ru_arena, 1, sizeof(*r) + kl);
	ow = kz_arena_alloc(&zn->ru_arena, ol ? ol : 1);
	if (r == NULL || ow == NULL)
		return NULL;
	for (size_t i = 0; i < ol; i++)
		ow[i] = (uint8_t)(owner[i] >= 'A' && owner[i] <= 'Z' ?
		    owner[i] - 'A' + 'a' : owner[i]);
	r->owner = ow;
	r->ol = ol;
	r->type = type;
	memcpy(r->key, key, kl);
	return kz_map_put(&zn->ru_map, r->key, r, NULL) ? NULL : r;
}

/* The zone of a whole signing that has not made a signature yet. */
static struct nc_dnssec_zone *
ru_zone(struct nc_dnssec *s, size_t z)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;

	return zn && zn->job == JOB_OWNERS && zn->nsigs == 0 ? zn : NULL;
}

int
nc_dnssec_reuse_set(struct nc_dnssec *s, size_t z, const uint8_t *owner,
    size_t ol, uint16_t type, const uint8_t *digest)
{
	struct nc_dnssec_zone *zn = ru_zone(s, z);
	struct ru *r;

	if (zn == NULL || ol == 0 || ol > 255)
		return KZ_EINVAL;
	if ((r = ru_get(zn, owner, ol, type, true)) == NULL)
		return KZ_ENOMEM;
	r->have = true;
	memcpy(r->digest, digest, NC_DNSSEC_DIGEST);
	return 0;
}

int
nc_dnssec_reuse_sig(struct nc_dnssec *s, size_t z, const uint8_t *owner,
    size_t ol, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct nc_dnssec_zone *zn = ru_zone(s, z);
	struct ru_sig *g;
	struct ru *r;

	if (zn == NULL || ol == 0 || ol > 255 || rdlen < 19 || rdlen > 65535)
		return KZ_EINVAL;
	r = ru_get(zn, owner, ol, (uint16_t)(rdata[0] << 8 | rdata[1]), true);
	g = r ? kz_arena_alloc(&zn->ru_arena, sizeof(*g) + rdlen) : NULL;
	if (g == NULL)
		return KZ_ENOMEM;
	g->ttl = ttl;
	g->rdlen = (uint16_t)rdlen;
	g->taken = false;
	memcpy(g->rdata, rdata, rdlen);
	g->next = r->sigs;
	r->sigs = g;
	return 0;
}

static int
digest_cmp(const void *pa, const void *pb)
{
	const struct nc_rr *a = *(const struct nc_rr *const *)pa;
	const struct nc_rr *b = *(const struct nc_rr *const *)pb;
	int r = memcmp(a->rdata, b->rdata, a->rdlen < b->rdlen ? a->rdlen :
	    b->rdlen);

	return r ? r : (a->rdlen > b->rdlen) - (a->rdlen < b->rdlen);
}

int
nc_dnssec_digest(const struct nc_rr *rrs, size_t n, uint8_t *out)
{
	const struct nc_rr **v;
	size_t len, o = 0;
	uint8_t *b;

	if (n == 0 || rrs[0].ownerlen > 255)
		return KZ_EINVAL;
	len = rrs[0].ownerlen;
	for (size_t i = 0; i < n; i++)
		len += 8 + rrs[i].rdlen;
	v = malloc(n * sizeof(*v));
	b = malloc(len);
	if (v == NULL || b == NULL || len > UINT32_MAX) {
		free(v);
		free(b);
		return KZ_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &rrs[i];
	qsort(v, n, sizeof(*v), digest_cmp);
	for (size_t i = 0; i < rrs[0].ownerlen; i++, o++)
		b[o] = (uint8_t)(rrs[0].owner[i] >= 'A' &&
		    rrs[0].owner[i] <= 'Z' ? rrs[0].owner[i] - 'A' + 'a' :
		    rrs[0].owner[i]);
	for (size_t i = 0; i < n; i++) {
		ldns_write_uint16(b + o, v[i]->type);
		ldns_write_uint32(b + o + 2, v[i]->ttl);
		ldns_write_uint16(b + o + 6, (uint16_t)v[i]->rdlen);
		if (v[i]->rdlen)
			memcpy(b + o + 8, v[i]->rdata, v[i]->rdlen);
		o += 8 + v[i]->rdlen;
	}
	ldns_sha256(b, (unsigned int)len, out);
	free(v);
	free(b);
	return 0;
}

/* The digest of SET, the RRset TYPE of N (nc_dnssec_digest()). */
static int
set_digest(const struct sname *n, uint16_t type, ldns_rr_list *set,
    uint8_t *out)
{
	size_t cnt = ldns_rr_list_rr_count(set);
	struct nc_rr *rrs = calloc(cnt ? cnt : 1, sizeof(*rrs));
	ldns_buffer *b = ldns_buffer_new(512);
	size_t *off = calloc(cnt ? cnt : 1, sizeof(*off));
	int rc = rrs && b && off ? 0 : KZ_ENOMEM;

	for (size_t i = 0; rc == 0 && i < cnt; i++) {
		ldns_rr *rr = ldns_rr_list_rr(set, i);

		off[i] = ldns_buffer_position(b);
		if (ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK)
			rc = KZ_ENOMEM;
		rrs[i] = (struct nc_rr){ n->owner, n->key.len, type,
		    ldns_rr_ttl(rr), NULL, ldns_buffer_position(b) - off[i] };
	}
	for (size_t i = 0; rc == 0 && i < cnt; i++)
		rrs[i].rdata = ldns_buffer_begin(b) + off[i];
	if (rc == 0)
		rc = nc_dnssec_digest(rrs, cnt, out);
	free(rrs);
	free(off);
	if (b)
		ldns_buffer_free(b);
	return rc;
}

/* A signature of R by key K, valid now and not due for refresh. */
static struct ru_sig *
ru_pick(const struct nc_dnssec *s, const struct ru *r,
    const struct nc_dkey *k, uint32_t ttl, uint32_t now)
{
	uint32_t lead = now + s->o.refresh + nc_dnssec_gap(&s->o);

	for (struct ru_sig *g = r->sigs; g; g = g->next) {
		const uint8_t *d = g->rdata;

		if (!g->taken && d[2] == k->alg &&
		    ldns_read_uint16(d + 16) == k->tag &&
		    ldns_read_uint32(d + 4) == ttl &&
		    ldns_read_uint32(d + 8) > lead &&
		    ldns_read_uint32(d + 12) <= now)
			return g;
	}
	return NULL;
}

/*
 * Take over the old signatures of SET (the RRset TYPE of N) when the
 * old zone had the same RRset and a signature of it by every key that
 * is not due for refresh: *TAKEN then.
 */
static int
ru_take(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint16_t type, ldns_rr_list *set, uint32_t now, bool *taken)
{
	struct ru *r = ru_get(zn, n->owner, n->key.len, type, false);
	struct ru_sig *pick[NC_DNSSEC_KEYS_MAX] = { 0 };
	uint8_t digest[NC_DNSSEC_DIGEST];
	size_t nk = zn->nkeys;
	uint32_t ttl;
	int rc;

	*taken = false;
	if (r == NULL || !r->have || r->sigs == NULL ||
	    ldns_rr_list_rr_count(set) == 0 || zn->nkeys > NC_DNSSEC_KEYS_MAX)
		return 0;
	if ((rc = set_digest(n, type, set, digest)) != 0)
		return rc;
	if (memcmp(digest, r->digest, sizeof(digest)) != 0)
		return 0;
	ttl = ldns_rr_ttl(ldns_rr_list_rr(set, 0));
	for (size_t i = 0; i < nk; i++)
		if ((pick[i] = ru_pick(s, r, &zn->keys[i], ttl, now)) == NULL)
			return 0;
	for (size_t i = 0; i < nk; i++) {
		if (pick[i] == NULL || sig_attach(zn, n, type,
		    ldns_read_uint32(pick[i]->rdata + 8), pick[i]->ttl,
		    pick[i]->rdata, pick[i]->rdlen, true) == NULL)
			return KZ_ENOMEM;
		pick[i]->taken = true;
	}
	zn->ru_taken++;
	*taken = true;
	return 0;
}

/* The old signatures not taken over (DEL) or the new ones (not DEL):
 * their number, and into s->out when PUSH. */
static size_t
ru_diff(struct nc_dnssec *s, struct nc_dnssec_zone *zn, bool del, bool push,
    int *rc)
{
	size_t n = 0, it = 0;
	const char *k;
	void *v;

	if (del) {
		while (zn->ru_on && kz_map_next(&zn->ru_map, &it, &k, &v)) {
			const struct ru *r = v;

			for (const struct ru_sig *g = r->sigs; g; g = g->next) {
				if (g->taken)
					continue;
				n++;
				if (push && *rc == 0)
					*rc = out_push(s, false, r->owner,
					    r->ol, T_RRSIG, g->ttl, g->rdata,
					    g->rdlen);
			}
		}
		return n;
	}
	for (int t = 0; t < 2; t++) {
		ldns_rbtree_t *tree = t ? &zn->hashed : &zn->names;

		for (ldns_rbnode_t *x = ldns_rbtree_first(tree);
		    x != LDNS_RBTREE_NULL; x = ldns_rbtree_next(x)) {
			const struct sname *sn = (const struct sname *)x;

			for (const struct sig *g = sn->sigs; g; g = g->next) {
				if (g->reused)
					continue;
				n++;
				if (push && *rc == 0)
					*rc = out_push(s, true, sn->owner,
					    sn->key.len, T_RRSIG, g->ttl,
					    g->rdata, g->rdlen);
			}
		}
	}
	return n;
}

int
nc_dnssec_reuse_end(struct nc_dnssec *s, size_t z, size_t max,
    const struct nc_dnssec_out **out, size_t *taken)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	size_t n;
	int rc = 0;

	out_reset(s);
	*out = &s->out;
	*taken = 0;
	if (zn == NULL || !zn->built) {
		if (zn)
			ru_drop(zn);
		return KZ_EINVAL;
	}
	n = ru_diff(s, zn, true, false, &rc) + ru_diff(s, zn, false, false,
	    &rc);
	if (max && n > max) {
		ru_drop(zn);
		return KZ_ETOOBIG;
	}
	ru_diff(s, zn, true, true, &rc);
	ru_diff(s, zn, false, true, &rc);
	*taken = zn->ru_taken;
	ru_drop(zn);
	return rc;
}

/* Sign SET (the RRset TYPE of N) with every key of the zone. */
static int
sign_set(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint16_t type, ldns_rr_list *set, uint32_t now)
{
	uint32_t exp = now + s->o.validity - jitter(s, n, type);
	ldns_buffer *b = NULL;
	ldns_rr_list *sigs;
	bool taken = false;
	int rc = 0;

	if (zn->ru_on && zn->job != JOB_NONE &&
	    ((rc = ru_take(s, zn, n, type, set, now, &taken)) != 0 || taken))
		return rc;
	for (size_t i = 0; i < zn->nkeys; i++) {
		ldns_key_set_inception(zn->keys[i].k, now - NC_DNSSEC_SKEW);
		ldns_key_set_expiration(zn->keys[i].k, exp);
	}
	sigs = ldns_sign_public(set, zn->klist);
	if (sigs == NULL || (b = ldns_buffer_new(256)) == NULL) {
		rc = sigs ? KZ_ENOMEM : KZ_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs) && rc == 0; i++) {
		ldns_rr *rr = ldns_rr_list_rr(sigs, i);
		struct sig *g;

		ldns_buffer_clear(b);
		if (ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK) {
			rc = KZ_ENOMEM;
			break;
		}
		g = sig_attach(zn, n, type, exp, ldns_rr_ttl(rr),
		    ldns_buffer_begin(b), ldns_buffer_position(b), false);
		if (g == NULL) {
			rc = KZ_ENOMEM;
			break;
		}
		s->stats.signatures++;
		if (zn->emit)
			rc = out_push(s, true, n->owner, n->key.len, T_RRSIG,
			    g->ttl, g->rdata, g->rdlen);
	}
out:
	if (sigs)
		ldns_rr_list_deep_free(sigs);
	if (b)
		ldns_buffer_free(b);
	return rc;
}

/* --- reading the database ------------------------------------------------ */

static int
read_rec(void *ctx, const struct zg_rr *rr)
{
	struct nc_dnssec_zone *zn = ctx;

	if (zn->nrecs == zn->caprecs) {
		size_t nc = zn->caprecs ? zn->caprecs * 2 : 16;
		struct rec *v = realloc(zn->recs, nc * sizeof(*v));
		if (v == NULL)
			return KZ_ENOMEM;
		zn->recs = v;
		zn->caprecs = nc;
	}
	if (zn->datalen + rr->rdlen > zn->datacap) {
		size_t nc = zn->datacap ? zn->datacap : 1024;
		uint8_t *d;
		while (nc < zn->datalen + rr->rdlen)
			nc *= 2;
		if ((d = realloc(zn->data, nc)) == NULL)
			return KZ_ENOMEM;
		zn->data = d;
		zn->datacap = nc;
	}
	memcpy(zn->data + zn->datalen, rr->rdata, rr->rdlen);
	zn->recs[zn->nrecs++] = (struct rec){ rr->type, rr->ttl, zn->datalen,
	    rr->rdlen };
	zn->datalen += rr->rdlen;
	return 0;
}

/* The records database zone Z serves at wire name OWNER, into
 * zn->recs. */
static int
read_owner(struct nc_dnssec_zone *zn, const struct zg_db *db, size_t z,
    const uint8_t *owner, size_t ol)
{
	char text[ZG_NAME_TEXT];

	zn->nrecs = zn->datalen = 0;
	wire_text(owner, ol, text, sizeof(text));
	return zg_db_owner_foreach(db, z, text, read_rec, zn);
}

static int
type_cmp(const void *pa, const void *pb)
{
	uint16_t a = *(const uint16_t *)pa, b = *(const uint16_t *)pb;

	return (a > b) - (a < b);
}

/* --- the special RRsets: SOA, DNSKEY, NSEC ------------------------------- */

/* The SOA of zone DZ with SERIAL, as the feed serves it. */
static int
soa_set(ldns_rr_list *set, const struct nc_dnssec_zone *zn,
    const struct zg_db_zone *dz, uint32_t serial)
{
	ldns_rdf *m = ldns_dname_new_frm_str(dz->mname);
	ldns_rdf *r = ldns_dname_new_frm_str(dz->rname);
	uint8_t rd[2 * 256 + 20];
	size_t len = 0;
	int rc = KZ_EINVAL;
	const uint32_t v[5] = { serial, dz->refresh, dz->retry, dz->expire,
	    dz->minimum };

	if (m && r) {
		memcpy(rd, ldns_rdf_data(m), ldns_rdf_size(m));
		len = ldns_rdf_size(m);
		memcpy(rd + len, ldns_rdf_data(r), ldns_rdf_size(r));
		len += ldns_rdf_size(r);
		for (int i = 0; i < 5; i++, len += 4)
			ldns_write_uint32(rd + len, v[i]);
		rc = set_push(set, zn->apex->owner, zn->apex->key.len, T_SOA,
		    dz->soa_ttl, rd, len);
	}
	if (m)
		ldns_rdf_deep_free(m);
	if (r)
		ldns_rdf_deep_free(r);
	return rc;
}

static int
dnskey_set(ldns_rr_list *set, const struct nc_dnssec_zone *zn,
    void *emitctx, int (*emit)(void *, const struct nc_rr *))
{
	int rc = 0;

	for (size_t i = 0; i < zn->nkeys && rc == 0; i++) {
		ldns_buffer *b = ldns_buffer_new(256);

		if (b == NULL || ldns_rr_rdata2buffer_wire(b,
		    zn->keys[i].dnskey) != LDNS_STATUS_OK) {
			rc = KZ_ENOMEM;
		} else if (set) {
			rc = set_push(set, zn->apex->owner, zn->apex->key.len,
			    T_DNSKEY, zn->dnskey_ttl, ldns_buffer_begin(b),
			    ldns_buffer_position(b));
		} else {
			struct nc_rr rr = { zn->apex->owner,
			    zn->apex->key.len, T_DNSKEY, zn->dnskey_ttl,
			    ldns_buffer_begin(b), ldns_buffer_position(b) };
			rc = emit(emitctx, &rr);
		}
		if (b)
			ldns_buffer_free(b);
	}
	return rc;
}

/* The type bitmap of the NT types T (RFC 4034 4.1.2) at OUT (room for
 * 256 * 34 octets); its length. */
static size_t
bitmap(const uint16_t *t, size_t nt, uint8_t *out)
{
	uint8_t win[256][32], used[256] = { 0 };
	size_t len = 0;

	memset(win, 0, sizeof(win));
	for (size_t i = 0; i < nt; i++) {
		uint8_t w = (uint8_t)(t[i] >> 8), lo = (uint8_t)t[i];
		win[w][lo / 8] |= (uint8_t)(0x80 >> (lo % 8));
		if (lo / 8 + 1 > used[w])
			used[w] = (uint8_t)(lo / 8 + 1);
	}
	for (int w = 0; w < 256; w++) {
		if (!used[w])
			continue;
		out[len++] = (uint8_t)w;
		out[len++] = used[w];
		memcpy(out + len, win[w], used[w]);
		len += used[w];
	}
	return len;
}

/* The types N's NSEC (NSEC3) lists: its own, RRSIG, NSEC or, at the apex
 * with NSEC3, NSEC3PARAM; none for an empty non-terminal. */
static size_t
chain_types(const struct nc_dnssec_zone *zn, const struct sname *n,
    uint16_t *t)
{
	size_t nt = 0;

	if (n == NULL || n->ntypes == 0)
		return 0;
	for (size_t i = 0; i < n->ntypes && nt < 256; i++)
		t[nt++] = n->types[i];
	t[nt++] = T_RRSIG;
	if (!zn->nsec3)
		t[nt++] = T_NSEC;	/* NSEC3 is at the hashed owner */
	return nt;
}

/* The 20 octets of hashed owner N's first label (base32hex). */
static int
owner_hash(const struct sname *n, uint8_t *hash)
{
	char label[64];

	memcpy(label, n->owner + 1, n->owner[0]);
	return ldns_b32_pton_extended_hex(label, n->owner[0], hash,
	    NSEC3_HASHLEN) == NSEC3_HASHLEN ? 0 : KZ_EINVAL;
}

/*
 * The NSEC RDATA of N (the next name, the types), or with NSEC3 that of
 * hashed owner N: SHA-1, flags 0, 0 iterations, no salt, the next hash,
 * the types of the name it hashes.
 */
static int
nsec_make(const struct nc_dnssec_zone *zn, const struct sname *n,
    uint8_t **out, size_t *outlen)
{
	ldns_rbnode_t *nx = ldns_rbtree_next((ldns_rbnode_t *)&n->node);
	const struct sname *next;
	uint16_t t[260];
	uint8_t bm[256 * 34], *rd;
	size_t nt, bl, len;

	if (n->hashed) {
		next = nx != LDNS_RBTREE_NULL ? (const struct sname *)nx :
		    (const struct sname *)ldns_rbtree_first(&zn->hashed);
		nt = chain_types(zn, n->h3, t);
	} else {
		next = nx != LDNS_RBTREE_NULL ? (const struct sname *)nx :
		    zn->apex;
		nt = chain_types(zn, n, t);
	}
	bl = bitmap(t, nt, bm);
	len = (n->hashed ? 6 + NSEC3_HASHLEN : next->key.len) + bl;
	if ((rd = malloc(len)) == NULL)
		return KZ_ENOMEM;
	if (n->hashed) {
		memcpy(rd, "\001\000\000\000\000\024", 6);
		if (owner_hash(next, rd + 6) != 0) {
			free(rd);
			return KZ_EINVAL;
		}
		memcpy(rd + 6 + NSEC3_HASHLEN, bm, bl);
	} else {
		memcpy(rd, next->owner, next->key.len);
		memcpy(rd + next->key.len, bm, bl);
	}
	*out = rd;
	*outlen = len;
	return 0;
}

/* N's chain record type: NSEC, or NSEC3 for a hashed owner. */
static uint16_t
chain_type(const struct sname *n)
{
	return n->hashed ? T_NSEC3 : T_NSEC;
}

/* Sign N's NSEC (NSEC3) RRset. */
static int
sign_nsec(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint32_t now)
{
	ldns_rr_list *set = ldns_rr_list_new();
	int rc;

	if (set == NULL)
		return KZ_ENOMEM;
	rc = set_push(set, n->owner, n->key.len, chain_type(n), zn->nsec_ttl,
	    n->nsec, n->nseclen);
	if (rc == 0)
		rc = sign_set(s, zn, n, chain_type(n), set, now);
	ldns_rr_list_deep_free(set);
	return rc;
}

/* Make N's NSEC again; when it changed, hand back the old and new ones
 * and their signatures. */
static int
nsec_update(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint32_t now)
{
	uint8_t *rd;
	size_t len;
	int rc = nsec_make(zn, n, &rd, &len);

	if (rc)
		return rc;
	if (n->nseclen == len && memcmp(n->nsec, rd, len) == 0) {
		free(rd);
		return 0;
	}
	if (n->nseclen) {
		if (zn->emit && (rc = out_push(s, false, n->owner, n->key.len,
		    chain_type(n), zn->nsec_ttl, n->nsec, n->nseclen)) != 0)
			goto fail;
		if ((rc = drop_sigs(s, zn, n, chain_type(n))) != 0)
			goto fail;
	}
	free(n->nsec);
	n->nsec = rd;
	n->nseclen = (uint16_t)len;
	if (zn->emit && (rc = out_push(s, true, n->owner, n->key.len,
	    chain_type(n), zn->nsec_ttl, rd, len)) != 0)
		return rc;
	return sign_nsec(s, zn, n, now);
fail:
	free(rd);
	return rc;
}

/* --- one owner ------------------------------------------------------------ */

/* Sign the RRset TYPE of N from zn->recs (dropping its old signatures);
 * a type N no longer serves only loses them. */
static int
resign_type(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n,
    uint16_t type, uint32_t now)
{
	ldns_rr_list *set;
	int rc = drop_sigs(s, zn, n, type);

	if (rc || type == T_SOA || type == T_DNSKEY || type == T_NSEC ||
	    type == T_NSEC3PARAM)
		return rc;
	if ((set = ldns_rr_list_new()) == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < zn->nrecs && rc == 0; i++)
		if (zn->recs[i].type == type)
			rc = set_push(set, n->owner, n->key.len, type,
			    zn->recs[i].ttl, zn->data + zn->recs[i].off,
			    zn->recs[i].len);
	if (rc == 0 && ldns_rr_list_rr_count(set) > 0)
		rc = sign_set(s, zn, n, type, set, now);
	ldns_rr_list_deep_free(set);
	return rc;
}

static int
list_push(struct sname ***v, size_t *n, size_t *cap, struct sname *x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct sname **nv = realloc(*v, nc * sizeof(*nv));
		if (nv == NULL)
			return KZ_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int
mark_dirty(struct nc_dnssec_zone *zn, struct sname *n)
{
	if (n->dirty || n->gone)
		return 0;
	n->dirty = true;
	return list_push(&zn->dirty, &zn->ndirty, &zn->capdirty, n);
}

/*
 * Bring owner OWNER up to date with the database: sign again the NTOUCH
 * types TOUCH (every type it serves when ALL) and note its new types.
 * A new name joins the tree (zn->fresh), one that serves nothing any
 * more is marked gone (zn->gone); either, or changed types, makes its
 * NSEC dirty.
 */
static int
sync_owner(struct nc_dnssec *s, struct nc_dnssec_zone *zn,
    const struct zg_db *db, size_t z, const uint8_t *owner, size_t ol,
    const uint16_t *touch, size_t ntouch, bool all, uint32_t now)
{
	struct sname *n = name_find(zn, owner, ol);
	uint16_t types[256];
	size_t nt = 0;
	int rc;

	if ((rc = read_owner(zn, db, z, owner, ol)) != 0)
		return rc;
	if (n == NULL) {
		if (zn->nrecs == 0)
			return 0;	/* neither before nor now */
		if ((n = name_add(zn, owner, ol)) == NULL)
			return KZ_ENOMEM;
		if ((rc = list_push(&zn->fresh, &zn->nfresh, &zn->capfresh,
		    n)) != 0)
			return rc;
	}
	if (n == zn->apex) {
		types[nt++] = T_SOA;
		types[nt++] = T_DNSKEY;
		if (zn->nsec3)
			types[nt++] = T_NSEC3PARAM;
	}
	for (size_t i = 0; i < zn->nrecs; i++) {
		bool seen = false;
		for (size_t j = 0; j < nt && !seen; j++)
			seen = types[j] == zn->recs[i].type;
		if (!seen && nt < 256)
			types[nt++] = zn->recs[i].type;
	}
	qsort(types, nt, sizeof(*types), type_cmp);
	if (all)
		touch = types, ntouch = nt;
	for (size_t i = 0; i < ntouch && rc == 0; i++)
		rc = resign_type(s, zn, n, touch[i], now);
	if (rc)
		return rc;
	if (nt != n->ntypes || memcmp(types, n->types, nt * sizeof(*types))) {
		uint16_t *v = malloc((nt ? nt : 1) * sizeof(*v));
		if (v == NULL)
			return KZ_ENOMEM;
		memcpy(v, types, nt * sizeof(*v));
		free(n->types);
		n->types = v;
		n->ntypes = (uint16_t)nt;
		if (nt == 0) {
			n->gone = true;
			return list_push(&zn->gone, &zn->ngone, &zn->capgone,
			    n);
		}
		return mark_dirty(zn, n);
	}
	return 0;
}

/* --- zone state ------------------------------------------------------------ */

static void
name_free(struct sname *n)
{
	while (n->sigs) {
		struct sig *g = n->sigs;
		n->sigs = g->next;
		free(g);
	}
	free(n->types);
	free(n->nsec);
	free(n);
}

static void
free_name_node(ldns_rbnode_t *node, void *arg)
{
	(void)arg;
	name_free((struct sname *)node);
}

/* Drop every name and signature of ZN (keys stay). */
static void
zone_clear(struct nc_dnssec_zone *zn)
{
	ldns_traverse_postorder(&zn->names, free_name_node, NULL);
	ldns_traverse_postorder(&zn->hashed, free_name_node, NULL);
	ldns_rbtree_init(&zn->names, name_cmp);
	ldns_rbtree_init(&zn->hashed, name_cmp);
	ldns_rbtree_init(&zn->expiry, sig_cmp);
	zn->apex = NULL;
	zn->nsigs = 0;
	zn->built = false;
	zn->job = JOB_NONE;
	zn->cur = NULL;
	ru_drop(zn);
}

static void
zone_free(struct nc_dnssec_zone *zn)
{
	if (zn == NULL)
		return;
	zone_clear(zn);
	if (zn->klist) {
		/* the keys are ours (zn->keys): the list only drops them */
		ldns_key_list_set_key_count(zn->klist, 0);
		ldns_key_list_free(zn->klist);
	}
	nc_keys_free(zn->keys, zn->nkeys);
	free(zn->recs);
	free(zn->data);
	free(zn->dirty);
	free(zn->fresh);
	free(zn->gone);
	free(zn->hfresh);
	free(zn->hgone);
	free(zn);
}

int
nc_dnssec_init(struct nc_dnssec *s, const struct nc_dnssec_opts *o,
    size_t nzones)
{
	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->o.nkey_files = 0;	/* not ours */
	kz_arena_init(&s->scratch, 64 * 1024);
	s->zones = calloc(nzones ? nzones : 1, sizeof(*s->zones));
	s->nzones = nzones;
	return s->zones ? 0 : KZ_ENOMEM;
}

void
nc_dnssec_free(struct nc_dnssec *s)
{
	for (size_t z = 0; s->zones && z < s->nzones; z++)
		zone_free(s->zones[z]);
	free(s->zones);
	free(s->out.del);
	free(s->out.add);
	kz_arena_free(&s->scratch);
	memset(s, 0, sizeof(*s));
}

int
nc_dnssec_zone_keys(struct nc_dnssec *s, size_t z, const char *origin,
    struct nc_dkey *keys, size_t nkeys)
{
	struct nc_dnssec_zone *zn;
	ldns_rdf *o = ldns_dname_new_frm_str(origin);
	char *canon = NULL;
	int rc = KZ_EINVAL;

	if (z >= s->nzones || s->zones[z] || nkeys == 0 || o == NULL)
		goto fail;
	ldns_dname2canonical(o);
	if ((canon = ldns_rdf2str(o)) == NULL)
		goto fail;
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].zone, canon) != 0)
			goto fail;
	rc = KZ_ENOMEM;
	if ((zn = calloc(1, sizeof(*zn))) == NULL)
		goto fail;
	ldns_rbtree_init(&zn->names, name_cmp);
	ldns_rbtree_init(&zn->hashed, name_cmp);
	ldns_rbtree_init(&zn->expiry, sig_cmp);
	zn->nsec3 = s->o.nsec3;
	zn->keys = keys;
	zn->nkeys = nkeys;
	keys = NULL;
	s->zones[z] = zn;
	if ((zn->klist = ldns_key_list_new()) == NULL)
		goto fail;
	for (size_t i = 0; i < zn->nkeys; i++)
		if (!ldns_key_list_push_key(zn->klist, zn->keys[i].k))
			goto fail;
	snprintf(zn->origin, sizeof(zn->origin), "%s", canon);
	snprintf(zn->bare, sizeof(zn->bare), "%s", canon);
	if (strlen(zn->bare) > 1)
		zn->bare[strlen(zn->bare) - 1] = '\0';
	free(canon);
	ldns_rdf_deep_free(o);
	return 0;
fail:
	if (keys)
		nc_keys_free(keys, nkeys);
	free(canon);
	if (o)
		ldns_rdf_deep_free(o);
	return rc;
}

bool
nc_dnssec_signed(const struct nc_dnssec *s, size_t z)
{
	return s && z < s->nzones && s->zones[z] != NULL;
}

const struct nc_dkey *
nc_dnssec_keys(const struct nc_dnssec *s, size_t z, size_t *nkeys)
{
	*nkeys = nc_dnssec_signed(s, z) ? s->zones[z]->nkeys : 0;
	return *nkeys ? s->zones[z]->keys : NULL;
}

/* The SOA's signature for SERIAL (the old one handed back deleted). */
static int
sign_soa(struct nc_dnssec *s, struct nc_dnssec_zone *zn,
    const struct zg_db_zone *dz, uint32_t serial, uint32_t now)
{
	ldns_rr_list *set = ldns_rr_list_new();
	int rc;

	if (set == NULL)
		return KZ_ENOMEM;
	rc = drop_sigs(s, zn, zn->apex, T_SOA);
	if (rc == 0)
		rc = soa_set(set, zn, dz, serial);
	if (rc == 0)
		rc = sign_set(s, zn, zn->apex, T_SOA, set, now);
	ldns_rr_list_deep_free(set);
	return rc;
}

static int
sign_dnskey(struct nc_dnssec *s, struct nc_dnssec_zone *zn, uint32_t now)
{
	ldns_rr_list *set = ldns_rr_list_new();
	int rc;

	if (set == NULL)
		return KZ_ENOMEM;
	rc = drop_sigs(s, zn, zn->apex, T_DNSKEY);
	if (rc == 0)
		rc = dnskey_set(set, zn, NULL, NULL);
	if (rc == 0)
		rc = sign_set(s, zn, zn->apex, T_DNSKEY, set, now);
	ldns_rr_list_deep_free(set);
	return rc;
}

/* RFC 9276: SHA-1, no flags, no extra iterations, no salt. */
static const uint8_t nsec3param[5] = { 1, 0, 0, 0, 0 };

static int
sign_nsec3param(struct nc_dnssec *s, struct nc_dnssec_zone *zn, uint32_t now)
{
	ldns_rr_list *set = ldns_rr_list_new();
	int rc;

	if (set == NULL)
		return KZ_ENOMEM;
	rc = drop_sigs(s, zn, zn->apex, T_NSEC3PARAM);
	if (rc == 0)
		rc = set_push(set, zn->apex->owner, zn->apex->key.len,
		    T_NSEC3PARAM, zn->nsec_ttl, nsec3param, sizeof(nsec3param));
	if (rc == 0)
		rc = sign_set(s, zn, zn->apex, T_NSEC3PARAM, set, now);
	ldns_rr_list_deep_free(set);
	return rc;
}

static int h3_attach(struct nc_dnssec_zone *zn, struct sname *n);

struct full_ctx {
	struct nc_dnssec_zone *zn;
	int rc;
};

static int
full_name(void *ctx, const struct zg_rr *rr)
{
	struct full_ctx *c = ctx;

	if (name_find(c->zn, rr->owner, rr->ownerlen) == NULL &&
	    name_add(c->zn, rr->owner, rr->ownerlen) == NULL)
		return KZ_ENOMEM;
	return 0;
}

static void
zone_ttls(struct nc_dnssec_zone *zn, const struct zg_db_zone *dz)
{
	zn->soa_ttl = dz->soa_ttl;
	zn->nsec_ttl = dz->minimum < dz->soa_ttl ? dz->minimum : dz->soa_ttl;
	zn->dnskey_ttl = dz->soa_ttl;
}

int
nc_dnssec_sign_begin(struct nc_dnssec *s, const struct zg_db *db, size_t z)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	struct full_ctx c = { zn, 0 };
	uint8_t apex[256];
	size_t alen;
	int rc;

	if (zn == NULL)
		return KZ_EINVAL;
	zone_clear(zn);
	zn->emit = false;
	zn->nfresh = zn->ngone = zn->ndirty = zn->nhfresh = zn->nhgone = 0;
	zone_ttls(zn, &db->zones[z]);
	alen = zg_name_wire(zn->bare, apex, sizeof(apex));
	if (alen == 0 || (zn->apex = name_add(zn, apex, alen)) == NULL) {
		zone_clear(zn);
		return KZ_ENOMEM;
	}
	rc = zg_db_foreach(db, z, full_name, &c);
	if (rc) {
		zone_clear(zn);
		return rc;
	}
	zn->job = JOB_OWNERS;
	zn->cur = ldns_rbtree_first(&zn->names);
	return 0;
}

/* The next phase of ZN's signing, once its names are through. */
static void
job_next(struct nc_dnssec_zone *zn)
{
	if (zn->job == JOB_OWNERS && zn->nsec3) {
		zn->job = JOB_HASHED;
		zn->cur = ldns_rbtree_first(&zn->names);
		return;
	}
	if (zn->job == JOB_CHAIN) {
		zn->job = JOB_READY;
		return;
	}
	/* the names' chain records are all made next, whole */
	for (size_t i = 0; i < zn->ndirty; i++)
		zn->dirty[i]->dirty = false;
	zn->nfresh = zn->ngone = zn->ndirty = zn->nhfresh = zn->nhgone = 0;
	zn->job = JOB_CHAIN;
	zn->cur = ldns_rbtree_first(zn->nsec3 ? &zn->hashed : &zn->names);
}

/* One name of ZN's job. */
static int
job_name(struct nc_dnssec *s, struct nc_dnssec_zone *zn,
    const struct zg_db *db, size_t z, struct sname *sn, uint32_t now)
{
	switch (zn->job) {
	case JOB_OWNERS:
		return sync_owner(s, zn, db, z, sn->owner, sn->key.len, NULL,
		    0, true, now);
	case JOB_HASHED:
		return h3_attach(zn, sn);
	default:
		return nsec_update(s, zn, sn, now);
	}
}

int
nc_dnssec_sign_step(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t now, size_t max)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	size_t work = 0, limit = max ? max * SIGN_WEIGHT : SIZE_MAX;
	unsigned long sigs = s->stats.signatures;
	int rc = 0;

	if (zn == NULL || zn->job == JOB_NONE)
		return KZ_EINVAL;
	while (zn->job != JOB_READY) {
		struct sname *sn;

		if (work >= limit)
			return 1;
		if (zn->cur == LDNS_RBTREE_NULL) {
			job_next(zn);
			continue;
		}
		sn = (struct sname *)zn->cur;
		zn->cur = ldns_rbtree_next(zn->cur);
		if ((rc = job_name(s, zn, db, z, sn, now)) != 0) {
			zone_clear(zn);
			return rc;
		}
		work += 1 + (s->stats.signatures - sigs) * SIGN_WEIGHT;
		sigs = s->stats.signatures;
	}
	return 0;
}

int
nc_dnssec_sign_finish(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial, uint32_t now)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	int rc;

	if (zn == NULL || zn->job != JOB_READY)
		return KZ_EINVAL;
	rc = sign_dnskey(s, zn, now);
	if (rc == 0 && zn->nsec3)
		rc = sign_nsec3param(s, zn, now);
	if (rc == 0)
		rc = sign_soa(s, zn, &db->zones[z], serial, now);
	if (rc) {
		zone_clear(zn);
		return rc;
	}
	zn->job = JOB_NONE;
	zn->built = true;
	zn->emit = true;
	return 0;
}

bool
nc_dnssec_signing(const struct nc_dnssec *s, size_t z)
{
	return nc_dnssec_signed(s, z) && s->zones[z]->job != JOB_NONE;
}

int
nc_dnssec_sign_full(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial, uint32_t now)
{
	int rc = nc_dnssec_sign_begin(s, db, z);

	if (rc == 0)
		rc = nc_dnssec_sign_step(s, db, z, now, 0);
	if (rc == 0)
		rc = nc_dnssec_sign_finish(s, db, z, serial, now);
	return rc;
}

/* --- following a diff -------------------------------------------------------- */

struct touch {
	const uint8_t *owner;
	size_t len;
	uint16_t type;
};

static int
touch_cmp(const void *pa, const void *pb)
{
	const struct touch *a = pa, *b = pb;
	int c;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if ((c = memcmp(a->owner, b->owner, a->len)) != 0)
		return c;
	return (a->type > b->type) - (a->type < b->type);
}

/* --- NSEC3: the hashed owners ------------------------------------------------ */

/* The NSEC3 owner of wire name W: base32hex(SHA-1(W)).zone, into OUT
 * (room for 256 octets); its length. */
static size_t
hashed_owner(const struct nc_dnssec_zone *zn, const uint8_t *w, size_t len,
    uint8_t *out)
{
	uint8_t d[NSEC3_HASHLEN];
	char b32[64];
	int n;

	ldns_sha1(w, (unsigned)len, d);
	n = ldns_b32_ntop_extended_hex(d, sizeof(d), b32, sizeof(b32));
	if (n != 32 || 33 + zn->apex->key.len > 256)
		return 0;
	out[0] = 32;
	for (int i = 0; i < 32; i++)
		out[1 + i] = (uint8_t)(b32[i] >= 'A' && b32[i] <= 'Z' ?
		    b32[i] - 'A' + 'a' : b32[i]);
	memcpy(out + 33, zn->apex->owner, zn->apex->key.len);
	return 33 + zn->apex->key.len;
}

/* The hashed owner of W; made (and listed in zn->hfresh) when CREATE. */
static struct sname *
h3_get(struct nc_dnssec_zone *zn, const uint8_t *w, size_t len, bool create,
    int *rc)
{
	uint8_t h[256];
	size_t hl = hashed_owner(zn, w, len, h);
	struct nkey k = { h, hl };
	ldns_rbnode_t *x;
	struct sname *n;

	if (hl == 0) {
		*rc = KZ_EINVAL;
		return NULL;
	}
	if ((x = ldns_rbtree_search(&zn->hashed, &k)) != NULL)
		return (struct sname *)x;
	if (!create)
		return NULL;
	if ((n = calloc(1, sizeof(*n) + hl)) == NULL) {
		*rc = KZ_ENOMEM;
		return NULL;
	}
	memcpy(n->owner, h, hl);
	n->key = (struct nkey){ n->owner, hl };
	n->node.key = &n->key;
	n->hashed = true;
	ldns_rbtree_insert(&zn->hashed, &n->node);
	if ((*rc = list_push(&zn->hfresh, &zn->nhfresh, &zn->caphfresh, n))) {
		ldns_rbtree_delete(&zn->hashed, &n->key);
		free(n);
		return NULL;
	}
	return n;
}

/* Hashed owner H leaves the chain: its NSEC3 and signatures go. */
static int
h3_remove(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *h)
{
	int rc = 0;

	if (h->nseclen && zn->emit)
		rc = out_push(s, false, h->owner, h->key.len, T_NSEC3,
		    zn->nsec_ttl, h->nsec, h->nseclen);
	if (rc == 0)
		rc = drop_sigs(s, zn, h, 0);
	/* listed first: a hashed owner leaves its tree only to be freed */
	if (rc == 0 && (rc = list_push(&zn->hgone, &zn->nhgone,
	    &zn->caphgone, h)) == 0) {
		ldns_rbtree_delete(&zn->hashed, &h->key);
		h->gone = true;
	}
	return rc;
}

/* Name N joins the zone: its hashed owner (its NSEC3 lists its types
 * now) and those of the empty non-terminals above it. */
static int
h3_attach(struct nc_dnssec_zone *zn, struct sname *n)
{
	struct sname *h;
	int rc = 0;

	if ((h = h3_get(zn, n->owner, n->key.len, true, &rc)) == NULL)
		return rc;
	h->h3 = n;
	n->h3 = h;
	if ((rc = mark_dirty(zn, h)) != 0)
		return rc;
	for (size_t i = n->owner[0] + 1u; rc == 0 && n->key.len - i >
	    zn->apex->key.len; i += (size_t)n->owner[i] + 1) {
		if ((h = h3_get(zn, n->owner + i, n->key.len - i, true,
		    &rc)) == NULL)
			break;
		h->below++;
	}
	return rc;
}

/* Name N leaves the zone: its hashed owner goes, or stays as an empty
 * non-terminal's; so do those of the empty non-terminals above it. */
static int
h3_detach(struct nc_dnssec *s, struct nc_dnssec_zone *zn, struct sname *n)
{
	struct sname *h = n->h3;
	int rc = 0;

	if (h) {
		h->h3 = NULL;
		n->h3 = NULL;
		rc = h->below ? mark_dirty(zn, h) : h3_remove(s, zn, h);
	}
	for (size_t i = n->owner[0] + 1u; rc == 0 && n->key.len - i >
	    zn->apex->key.len; i += (size_t)n->owner[i] + 1) {
		if ((h = h3_get(zn, n->owner + i, n->key.len - i, false,
		    &rc)) == NULL)
			return rc ? rc : KZ_EINVAL;
		if (--h->below == 0 && h->h3 == NULL)
			rc = h3_remove(s, zn, h);
	}
	return rc;
}

/* The owner before N in the circular hashed chain (N itself when alone). */
static struct sname *
h3_prev(struct nc_dnssec_zone *zn, const struct nkey *k)
{
	ldns_rbnode_t *p = NULL;

	if (ldns_rbtree_find_less_equal(&zn->hashed, k, &p) && p &&
	    p != LDNS_RBTREE_NULL)
		p = ldns_rbtree_previous(p);
	if (p == NULL || p == LDNS_RBTREE_NULL)
		p = ldns_rbtree_last(&zn->hashed);
	return p != LDNS_RBTREE_NULL ? (struct sname *)p : NULL;
}

/*
 * The NSEC3 chain after names came and went: names gone leave (with
 * their hashed owners, and those of empty non-terminals no longer
 * needed), names added join; then the NSEC3 of every hashed owner added,
 * of a name whose types changed, and of the predecessor of any hashed
 * owner added or removed is made again.
 */
static int
repair_chain3(struct nc_dnssec *s, struct nc_dnssec_zone *zn, uint32_t now)
{
	size_t nreal = zn->ndirty;
	int rc = 0;

	/* every name gone leaves the tree, also after an error: they are
	 * freed below (the zone is then signed whole again) */
	for (size_t i = 0; i < zn->ngone; i++) {
		struct sname *n = zn->gone[i];
		int r = drop_sigs(s, zn, n, 0);

		rc = rc ? rc : r;
		if (rc == 0)
			rc = h3_detach(s, zn, n);
		else if (n->h3)
			n->h3->h3 = NULL;
		ldns_rbtree_delete(&zn->names, &n->key);
	}
	for (size_t i = 0; i < zn->nfresh && rc == 0; i++)
		if (!zn->fresh[i]->gone)
			rc = h3_attach(zn, zn->fresh[i]);
	/* names whose types changed: their hashed owners */
	for (size_t i = 0; i < nreal && rc == 0; i++)
		if (zn->dirty[i]->h3)
			rc = mark_dirty(zn, zn->dirty[i]->h3);
	for (size_t i = 0; i < zn->nhgone && rc == 0; i++) {
		struct sname *p = h3_prev(zn, &zn->hgone[i]->key);
		if (p)
			rc = mark_dirty(zn, p);
	}
	for (size_t i = 0; i < zn->nhfresh && rc == 0; i++) {
		struct sname *h = zn->hfresh[i], *p;
		if (h->gone)
			continue;
		if ((rc = mark_dirty(zn, h)) == 0 &&
		    (p = h3_prev(zn, &h->key)) != NULL)
			rc = mark_dirty(zn, p);
	}
	for (size_t i = nreal; i < zn->ndirty && rc == 0; i++)
		if (!zn->dirty[i]->gone)
			rc = nsec_update(s, zn, zn->dirty[i], now);
	for (size_t i = 0; i < zn->ndirty; i++)
		zn->dirty[i]->dirty = false;
	for (size_t i = 0; i < zn->ngone; i++)
		name_free(zn->gone[i]);
	for (size_t i = 0; i < zn->nhgone; i++)
		name_free(zn->hgone[i]);
	zn->ndirty = zn->nfresh = zn->ngone = zn->nhfresh = zn->nhgone = 0;
	return rc;
}

/* Names gone leave the tree; their predecessors', and those of names
 * added, NSEC become dirty; then every dirty NSEC is made again. */
static int
repair_chain(struct nc_dnssec *s, struct nc_dnssec_zone *zn, uint32_t now)
{
	int rc = 0;

	if (zn->nsec3)
		return repair_chain3(s, zn, now);
	/* every name gone leaves the tree, also after an error: they are
	 * freed below */
	for (size_t i = 0; i < zn->ngone; i++) {
		struct sname *n = zn->gone[i];
		int r;

		if (rc == 0 && n->nseclen && zn->emit)
			rc = out_push(s, false, n->owner, n->key.len, T_NSEC,
			    zn->nsec_ttl, n->nsec, n->nseclen);
		r = drop_sigs(s, zn, n, 0);
		rc = rc ? rc : r;
		ldns_rbtree_delete(&zn->names, &n->key);
	}
	for (size_t i = 0; i < zn->ngone && rc == 0; i++) {
		ldns_rbnode_t *p = NULL;

		(void)ldns_rbtree_find_less_equal(&zn->names,
		    &zn->gone[i]->key, &p);
		if (p && p != LDNS_RBTREE_NULL)
			rc = mark_dirty(zn, (struct sname *)p);
	}
	for (size_t i = 0; i < zn->nfresh && rc == 0; i++) {
		struct sname *n = zn->fresh[i];
		ldns_rbnode_t *p;

		if (n->gone)
			continue;
		p = ldns_rbtree_previous(&n->node);
		if (p != LDNS_RBTREE_NULL)
			rc = mark_dirty(zn, (struct sname *)p);
	}
	for (size_t i = 0; i < zn->ndirty && rc == 0; i++)
		rc = nsec_update(s, zn, zn->dirty[i], now);
	for (size_t i = 0; i < zn->ndirty; i++)
		zn->dirty[i]->dirty = false;
	for (size_t i = 0; i < zn->ngone; i++)
		name_free(zn->gone[i]);
	zn->ndirty = zn->nfresh = zn->ngone = 0;
	return rc;
}

static int
touch_collect(struct touch *t, size_t *n, const struct zg_rr *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++)
		t[(*n)++] = (struct touch){ v[i].owner, v[i].ownerlen,
		    v[i].type };
	return 0;
}

int
nc_dnssec_diff(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    const struct zg_diff *d, uint32_t serial, uint32_t now,
    const struct nc_dnssec_out **out)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	size_t nt = 0, i = 0;
	struct touch *t;
	int rc = 0;

	out_reset(s);
	*out = &s->out;
	if (zn == NULL || !zn->built)
		return KZ_EINVAL;
	if ((t = malloc((d->ndel + d->nadd + 1) * sizeof(*t))) == NULL)
		return KZ_ENOMEM;
	touch_collect(t, &nt, d->del, d->ndel);
	touch_collect(t, &nt, d->add, d->nadd);
	qsort(t, nt, sizeof(*t), touch_cmp);
	while (i < nt && rc == 0) {
		uint16_t types[256];
		size_t j = i, ntypes = 0;

		for (; j < nt && t[j].len == t[i].len &&
		    memcmp(t[j].owner, t[i].owner, t[i].len) == 0; j++)
			if (ntypes < 256 && (ntypes == 0 ||
			    types[ntypes - 1] != t[j].type))
				types[ntypes++] = t[j].type;
		rc = sync_owner(s, zn, db, z, t[i].owner, t[i].len, types,
		    ntypes, false, now);
		i = j;
	}
	free(t);
	if (rc == 0)
		rc = repair_chain(s, zn, now);
	if (rc == 0)
		rc = sign_soa(s, zn, &db->zones[z], serial, now);
	if (rc)
		zn->built = false;
	return rc;
}

/* --- refresh ------------------------------------------------------------------ */

struct due {
	struct sname *n;
	uint16_t type;
};

static int
due_cmp(const void *pa, const void *pb)
{
	const struct due *a = pa, *b = pb;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return (a->type > b->type) - (a->type < b->type);
}

int
nc_dnssec_refresh(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial, uint32_t now, size_t max,
    const struct nc_dnssec_out **out, size_t *left)
{
	struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ? s->zones[z] : NULL;
	struct due *v = NULL;
	size_t n = 0, cap = 0, more = 0;
	int rc = 0;

	out_reset(s);
	*out = &s->out;
	if (zn == NULL || !zn->built)
		return KZ_EINVAL;
	for (ldns_rbnode_t *x = ldns_rbtree_first(&zn->expiry);
	    x != LDNS_RBTREE_NULL; x = ldns_rbtree_next(x)) {
		struct sig *g = (struct sig *)x;

		if (g->expire > now + s->o.refresh + nc_dnssec_gap(&s->o))
			break;
		if (g->covered == T_SOA)
			continue;
		if (max && n >= max) {
			more++;
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct due *nv = realloc(v, nc * sizeof(*nv));
			if (nv == NULL) {
				free(v);
				return KZ_ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = (struct due){ g->name, g->covered };
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), due_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct sname *sn = v[i].n;

		if (i > 0 && due_cmp(&v[i], &v[i - 1]) == 0)
			continue;
		s->stats.refreshed++;
		if (v[i].type == T_NSEC || v[i].type == T_NSEC3) {
			if ((rc = drop_sigs(s, zn, sn, v[i].type)) == 0)
				rc = sign_nsec(s, zn, sn, now);
		} else if (v[i].type == T_DNSKEY) {
			rc = sign_dnskey(s, zn, now);
		} else if (v[i].type == T_NSEC3PARAM) {
			rc = sign_nsec3param(s, zn, now);
		} else if ((rc = read_owner(zn, db, z, sn->owner,
		    sn->key.len)) == 0) {
			rc = resign_type(s, zn, sn, v[i].type, now);
		}
	}
	free(v);
	if (rc == 0)
		rc = sign_soa(s, zn, &db->zones[z], serial, now);
	if (rc)
		zn->built = false;
	if (left)
		*left = more;
	return rc;
}

static const struct sig *
earliest(const struct nc_dnssec *s, size_t z)
{
	ldns_rbnode_t *x;

	if (!nc_dnssec_signed(s, z) || !s->zones[z]->built)
		return NULL;
	x = ldns_rbtree_first(&s->zones[z]->expiry);
	return x != LDNS_RBTREE_NULL ? (const struct sig *)x : NULL;
}

uint32_t
nc_dnssec_earliest(const struct nc_dnssec *s, size_t z)
{
	const struct sig *g = earliest(s, z);

	return g ? g->expire : 0;
}

uint32_t
nc_dnssec_next_due(const struct nc_dnssec *s, size_t z)
{
	const struct sig *g = earliest(s, z);

	if (g == NULL)
		return 0;
	uint32_t lead = s->o.refresh + nc_dnssec_gap(&s->o);

	return g->expire > lead ? g->expire - lead : 1;
}

bool
nc_dnssec_due(const struct nc_dnssec *s, size_t z, uint32_t now)
{
	uint32_t t = nc_dnssec_next_due(s, z);

	return t && t <= now;
}

size_t
nc_dnssec_count(const struct nc_dnssec *s, size_t z)
{
	return nc_dnssec_signed(s, z) ? s->zones[z]->nsigs : 0;
}

/* The chain record and the signatures of every name of TREE to EMIT. */
static int
emit_names(const struct nc_dnssec_zone *zn, const ldns_rbtree_t *tree,
    int (*emit)(void *, const struct nc_rr *), void *ectx)
{
	int rc = 0;

	for (ldns_rbnode_t *x = ldns_rbtree_first(tree);
	    rc == 0 && x != LDNS_RBTREE_NULL; x = ldns_rbtree_next(x)) {
		const struct sname *n = (const struct sname *)x;
		struct nc_rr rr = { n->owner, n->key.len, chain_type(n),
		    zn->nsec_ttl, n->nsec, n->nseclen };

		if (n->nseclen)
			rc = emit(ectx, &rr);
		for (const struct sig *g = n->sigs; g && rc == 0; g = g->next) {
			rr = (struct nc_rr){ n->owner, n->key.len, T_RRSIG,
			    g->ttl, g->rdata, g->rdlen };
			rc = emit(ectx, &rr);
		}
	}
	return rc;
}

int
nc_dnssec_foreach(const struct nc_dnssec *s, size_t z,
    int (*emit)(void *ectx, const struct nc_rr *rr), void *ectx)
{
	const struct nc_dnssec_zone *zn = nc_dnssec_signed(s, z) ?
	    s->zones[z] : NULL;
	int rc;

	if (zn == NULL)
		return 0;
	if (!zn->built)		/* never the zone unsigned: no transfer */
		return KZ_EINVAL;
	rc = dnskey_set(NULL, zn, ectx, emit);
	if (rc == 0 && zn->nsec3) {
		struct nc_rr rr = { zn->apex->owner, zn->apex->key.len,
		    T_NSEC3PARAM, zn->nsec_ttl, nsec3param,
		    sizeof(nsec3param) };
		rc = emit(ectx, &rr);
	}
	if (rc == 0)
		rc = emit_names(zn, &zn->names, emit, ectx);
	if (rc == 0)
		rc = emit_names(zn, &zn->hashed, emit, ectx);
	return rc;
}
