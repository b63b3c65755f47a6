/*
 * zonegen/zonedb.h -- the zones as canonical record sets that change by
 * diffs.
 *
 * A zone database holds every zone kubezone serves for one cluster (the
 * cluster zone first, then the reverse zones, the clusterset zone of
 * the Multi-Cluster Services API when --clusterset-zone names one, and
 * the catalog zone last) as records in memory, and remembers
 * which object contributed each record. The rules of render.c run per
 * object -- a Service with its EndpointSlices, a ServiceImport with its
 * multicluster EndpointSlices, a Pod, the zone apex --
 * and give that object's records; zg_db_apply() reads the model's change
 * log, recomputes only the objects it names (and the Services whose
 * slices changed, the objects of a Namespace that came or went), and
 * yields per zone the records removed and added.
 *
 * Rules that look across objects are decided per owner name, over every
 * record contributed there, and only for the owner names a change
 * touches: duplicates collapse into one record (E2), a CNAME beside
 * other data is dropped (E11), an endpoint PTR at the address of some
 * Service's ClusterIP is dropped (R13), SRV weights are shared out over
 * the RRset (R11, R12), and no RRset grows past what one DNS message
 * can carry (the RRset cap). The cost of one change therefore follows
 * the records of the objects and owner names it touches, never the
 * number of objects in the cluster (hash lookups only).
 *
 * zg_render() is zg_db_load() of the whole model followed by
 * zg_db_write(): the offline render and the daemon share every rule,
 * and after any sequence of changes a database equals a fresh load of
 * the same model, record for record (tests/unit/test_zonedb.c).
 *
 * Explaining (kubezone render --explain, kubezone diff): after
 * zg_db_explain(), every record also keeps a short text naming what it
 * comes from ("Service shop/web (R5)"), which zg_db_write() appends to
 * its line as a comment and a cursor hands out; a record several
 * objects contribute (collapsed by E2) names them all. A database that
 * does not explain keeps nothing more than before and pays one branch
 * per record.
 *
 * Pure: no I/O but warnings through common/log. Ownership: the database
 * owns its zones, records and diffs; it borrows the options (which must
 * outlive it) and reads the model only inside zg_db_apply/zg_db_load.
 */
#ifndef KZ_ZONEGEN_ZONEDB_H
#define KZ_ZONEGEN_ZONEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/map.h"
#include "common/pool.h"
#include "zonegen/model.h"

struct zg_render_opts;

/* One resource record in uncompressed wire form, as it goes to a peer. */
struct zg_rr {
	const uint8_t *owner;	/* wire name, lower case */
	size_t ownerlen;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;	/* wire RDATA (SRV with its weight) */
	size_t rdlen;
};

/* What one zg_db_apply() changed in one zone (valid until the next). */
struct zg_diff {
	struct zg_rr *del;
	size_t ndel;
	struct zg_rr *add;
	size_t nadd;
};

struct db_owner;
struct db_obj;
struct db_touch;
struct db_vis;

/* An owner table: chained hash of owner names (internal). */
struct db_otab {
	struct db_owner **b;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

struct zg_db_zone {
	char *origin;		/* "cluster.local." */
	char *file;		/* "cluster.local.zone" */
	char *mname;		/* SOA MNAME, absolute */
	char *rname;		/* SOA RNAME, absolute */
	uint32_t soa_ttl;
	uint32_t ttl;		/* $TTL */
	uint32_t refresh, retry, expire, minimum;	/* SOA timers */
	struct db_otab owners;
	size_t nrecords;	/* records served, SOA excluded */
	size_t capped;		/* RRsets cut to the cap, now */
	struct zg_diff diff;	/* of the last zg_db_apply() */
	size_t delcap, addcap;
};

struct zg_db_stats {
	size_t services;	/* Services with a valid name, exposed */
	size_t skipped;		/* records skipped with a warning (total) */
	size_t filtered;	/* objects outside the exposed namespaces */
	size_t capped;		/* RRsets cut to the cap, now */
	unsigned long applies;	/* zg_db_apply() calls that changed records */
	unsigned long objects;	/* object recomputations (total) */
};

struct zg_db {
	const struct zg_render_opts *o;
	struct zg_db_zone *zones;	/* the cluster zone first */
	size_t nzones;
	struct kz_map revzones;		/* reverse origin (no dot) -> index+1 */
	size_t rev_max_labels;
	struct kz_map objs[ZG_KIND_COUNT];	/* key -> struct db_obj */
	size_t clusterset;		/* index + 1 of the clusterset zone
					 * (before the catalog), 0: none */
	size_t catalog;			/* index + 1 of the catalog zone (it
					 * comes last), 0: none */
	char **members;			/* a catalog of other databases'
					 * zones (zg_db_init_catalog), owned */
	size_t nmembers;
	struct db_obj *apex;		/* NS, TXT, the name server's address,
					 * the catalog */
	struct kz_map groups;		/* "ns/service" -> slice group */
	struct kz_map nslists;		/* namespace -> objects in it */
	bool had_namespaces;		/* Namespace objects existed */
	struct db_obj **dirty;		/* objects to recompute */
	size_t ndirty, capdirty;
	struct db_touch *touched;	/* owner names this batch touched */
	size_t ntouched, captouched;
	struct kz_arena scratch;	/* this batch's diff records */
	struct kz_pool pool;		/* owners, records and objects */
	struct db_obj *cur;		/* the object being computed */
	struct zg_db_visbuf {		/* what an owner serves: scratch */
		struct db_vis *v;
		size_t n, cap;
	} vis;
	bool diffs;			/* this batch records diffs */
	uint32_t rrset_bytes;		/* the cap in wire bytes */
	struct zg_db_stats stats;
	int rc;				/* first hard error of a batch */
	char *note;			/* explaining: the text the records
					 * emitted next carry (ZG_DB_NOTE_MAX
					 * bytes, owned); NULL: not explaining */
};

/* The cap's default: the RDATA of one RRset fits a 65,535-byte
 * message with room for the header, question, OPT and TSIG. */
#define ZG_RRSET_BYTES 64000

/*
 * Set DB up for the options O (borrowed): make the zone list (the
 * cluster zone, then the reverse zones of O). 0 or KZ_ENOMEM; free with
 * zg_db_free (also after a failure).
 */
int zg_db_init(struct zg_db *db, const struct zg_render_opts *o);
void zg_db_free(struct zg_db *db);

/*
 * Set DB up as a catalog zone alone, O->catalog, listing the zones
 * MEMBERS[0..N) (origins, with or without the final dot; copied): the
 * one catalog of several clusters' databases, each set up without a
 * catalog. Its SOA comes from O as in a cluster's database. Load it
 * with zg_db_load() of any model (an empty one). 0 or KZ_ENOMEM; free
 * with zg_db_free (also after a failure).
 */
int zg_db_init_catalog(struct zg_db *db, const struct zg_render_opts *o,
    const char *const *members, size_t n);

/* The zone with ORIGIN (with or without the final dot), or -1. */
long zg_db_find(const struct zg_db *db, const char *origin);

/*
 * Consume M's change log and bring every zone up to date with M. With
 * DIFFS, each zone's diff says what was removed and added (without,
 * the diffs are left empty: the first load of a large cluster keeps no
 * copy of it). Returns the number of records changed over all zones
 * (>= 0), or KZ_ENOMEM (the database is then unusable: rebuild it).
 */
long zg_db_apply(struct zg_db *db, struct zg_model *m, bool diffs);

/* Recompute every object of M (a first load, an offline render). */
int zg_db_load(struct zg_db *db, const struct zg_model *m);

/*
 * Call FN for every record of ZONE but the SOA, in no particular order;
 * stops at and returns FN's first non-zero result. The records passed
 * are valid only during the call.
 */
int zg_db_foreach(const struct zg_db *db, size_t zone,
    int (*fn)(void *ctx, const struct zg_rr *rr), void *ctx);

/*
 * Call FN for every record ZONE serves at OWNER (dotted, lower case,
 * without the final dot), as zg_db_foreach does; 0 at once when OWNER
 * has none. A hash lookup: for callers that follow a diff.
 */
int zg_db_owner_foreach(const struct zg_db *db, size_t zone,
    const char *owner, int (*fn)(void *ctx, const struct zg_rr *rr),
    void *ctx);

/*
 * Append ZONE's records but the SOA to OUT as zone-file lines in DNS
 * canonical order (owners relative to the origin, "@" for the apex);
 * *NRECORDS gets their number. A database that explains (zg_db_explain)
 * ends each line with its explanation as a comment. 0, KZ_ENOMEM or
 * KZ_ETOOBIG.
 */
int zg_db_write(const struct zg_db *db, size_t zone, struct kz_buf *out,
    size_t *nrecords);

/* One record as a zone-file line (for diffs in logs and tests). */
int zg_rr_write(const struct zg_rr *rr, const char *origin,
    struct kz_buf *out);

/* --- explaining records ------------------------------------------------ */

#define ZG_DB_NOTE_MAX 1024	/* bytes of one record's explanation */

/*
 * Make DB explain its records: every record computed from now on keeps
 * the text naming what it comes from, and zg_db_write() follows each
 * line with it as a comment ("\t; Service shop/web (R5)"; contributors
 * of a record collapsed by E2 sorted and joined by "; "). Call it
 * before the first load. 0 or KZ_ENOMEM.
 */
int zg_db_explain(struct zg_db *db);

/*
 * One record as a zone-file line like zg_rr_write(), followed by WHY
 * as a comment when WHY is not NULL or empty. ORIGIN NULL writes the
 * owner as an absolute name.
 */
int zg_rr_write_why(const struct zg_rr *rr, const char *origin,
    const char *why, struct kz_buf *out);

/* One record an owner serves and what it comes from. */
struct zg_db_entry {
	struct zg_rr rr;	/* SRV RDATA with its weight */
	const char *why;	/* explaining: the contributors; else NULL */
};

/* An owner name and the records it serves, in canonical order. */
struct zg_db_owner_view {
	const char *name;	/* dotted, lower case, no final dot */
	const uint8_t *key;	/* its canonical sort key (zg_name_key) */
	size_t keylen;
	const struct zg_db_entry *v;
	size_t n;		/* >= 1 */
};

struct zg_db_cursor;

/*
 * A cursor over ZONE's owner names in DNS canonical order (the order of
 * zg_db_write), for readers that compare zones: *OUT must be freed with
 * zg_db_cursor_free (which takes NULL). The database must not change
 * while the cursor lives. 0 or KZ_ENOMEM.
 */
int zg_db_cursor_new(const struct zg_db *db, size_t zone,
    struct zg_db_cursor **out);
/*
 * The next owner name that serves records (the SOA excepted): 1 with
 * *VIEW set (valid until the next call), 0 at the end, or KZ_ENOMEM.
 */
int zg_db_cursor_next(struct zg_db_cursor *c,
    const struct zg_db_owner_view **view);
void zg_db_cursor_free(struct zg_db_cursor *c);

/* Approximate heap bytes held by DB (for benchmarks). */
size_t zg_db_bytes(const struct zg_db *db);

/* --- for the rules (render.c) only ------------------------------------ */

#define ZG_RR_SRV_SHARE 0x01	/* SRV weight = 100 / RRset size */
#define ZG_RR_EP_PTR 0x02	/* an endpoint PTR (R13) */
#define ZG_RR_CIP_MARK 0x04	/* not served: a ClusterIP lives here */
#define ZG_RR_MCS_PTR 0x08	/* a clusterset PTR: served only where no
				 * other PTR is, and alone */

/* The zone that holds a reverse NAME (longest match), or -1. */
long zg_db_reverse_zone(const struct zg_db *db, const char *name);

/* Add a record of the object being computed to ZONE. */
void zg_db_emit(struct zg_db *db, size_t zone, const char *owner,
    uint16_t type, const uint8_t *rdata, size_t rdlen, uint8_t flags);

/* Count a skipped record (the warning is the caller's). */
void zg_db_skipped(struct zg_db *db);

/*
 * The rules, per object (render.c): each emits the object's records
 * with zg_db_emit(). Called by the database while it recomputes an
 * object; never directly.
 */
void zg_rules_apex(struct zg_db *db, const struct zg_model *m);
void zg_rules_service(struct zg_db *db, const struct zg_model *m,
    const struct zg_service *s, const struct zg_slice *const *slices,
    size_t nslices, bool exposed);
void zg_rules_pod(struct zg_db *db, const struct zg_pod *p);
void zg_rules_import(struct zg_db *db, const struct zg_import *s,
    const struct zg_slice *const *slices, size_t nslices, bool exposed);
bool zg_rules_exposed(const struct zg_db *db, const struct zg_model *m,
    const char *ns);

#endif
