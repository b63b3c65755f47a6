/*
 * nsd-conf/dnssec.h -- the signer: zones kept signed, change by change.
 *
 * Per signed zone the signer keeps the owner names in DNS canonical
 * order (a red-black tree), the types each serves, its NSEC record, and
 * every RRSIG it made, also indexed by expiration. With NSEC3 (RFC 5155,
 * RFC 9276 parameters: SHA-1, no salt, no extra iterations, no opt-out)
 * a second tree holds the hashed owners in hash order -- one per name
 * and per empty non-terminal, counted by the names below it -- with
 * their NSEC3 records, and the apex serves NSEC3PARAM. It never stores the
 * zone's records: those stay in the zone database (zonegen/zonedb.h),
 * and the signer reads back the RRsets it signs, by owner.
 *
 *  - nc_dnssec_sign_full() signs a zone from scratch: the DNSKEY RRset
 *    (the zone's keys), one RRSIG per RRset and key, the NSEC chain,
 *    the SOA (given its serial: the feed synthesises it).
 *  - nc_dnssec_diff() follows one database diff: the RRsets it touches
 *    are signed again, the NSEC (NSEC3) of a name whose types changed,
 *    of a name (hashed owner) added and of the predecessor of one added
 *    or removed is remade, and the SOA gets a signature for the new serial. What
 *    changes is handed back as records to delete and add, which go into
 *    the same IXFR as the diff itself.
 *  - nc_dnssec_refresh() signs again the RRsets whose signatures expire
 *    within the refresh period (plus the gap, nc_dnssec_gap()).
 *    Expirations carry a per-RRset offset
 *    (a hash of owner and type, up to half of validity minus refresh),
 *    so a zone signed at once falls due over a spread of time, never at
 *    one moment. Inception is always NC_DNSSEC_SKEW seconds back.
 *  - nc_dnssec_foreach() emits the signer's records (DNSKEY, NSEC,
 *    RRSIG) for a full transfer.
 *
 * With fixed NOW and Ed25519 keys every signature is a function of the
 * zone's contents alone: an incrementally kept zone and a fresh signing
 * of the same records compare byte for byte (tests/unit/test_dnssec.c).
 *
 * No clock and no I/O: NOW is passed in. Ownership: the signer owns its
 * zones' state and the keys handed to nc_dnssec_zone_keys(); it borrows
 * the database for the duration of a call. Records handed back stay
 * valid until the next call on the same signer.
 */
#ifndef KZ_NSDCONF_DNSSEC_H
#define KZ_NSDCONF_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "nsd-conf/dnssec_opts.h"
#include "nsd-conf/feed.h"
#include "nsd-conf/keys.h"
#include "zonegen/zonedb.h"

#define NC_DNSSEC_SKEW 3600		/* inception this far back (s) */
#define NC_DNSSEC_DIGEST 32		/* nc_dnssec_digest(): SHA-256 */

/* The records one call changed (valid until the next call). */
struct nc_dnssec_out {
	struct nc_rr *del;
	size_t ndel, capdel;
	struct nc_rr *add;
	size_t nadd, capadd;
};

struct nc_dnssec_stats {
	unsigned long signatures;	/* made (total) */
	unsigned long refreshed;	/* RRsets signed again by refresh */
};

struct nc_dnssec_zone;

struct nc_dnssec {
	struct nc_dnssec_opts o;	/* a copy; key_files not used */
	struct nc_dnssec_zone **zones;	/* per database zone; NULL:
					 * not signed */
	size_t nzones;
	struct kz_arena scratch;	/* records of the last call */
	struct nc_dnssec_out out;
	struct nc_dnssec_stats stats;
};

/* Set S up for NZONES database zones (none signed yet). 0 or KZ_ENOMEM;
 * free with nc_dnssec_free (also after a failure). */
int nc_dnssec_init(struct nc_dnssec *s, const struct nc_dnssec_opts *o,
    size_t nzones);
void nc_dnssec_free(struct nc_dnssec *s);

/*
 * Sign database zone Z (origin ORIGIN) with the NKEYS keys KEYS (the
 * array and the keys are stolen, also on failure). 0, KZ_EINVAL (a key
 * of another zone), KZ_ENOMEM.
 */
int nc_dnssec_zone_keys(struct nc_dnssec *s, size_t z, const char *origin,
    struct nc_dkey *keys, size_t nkeys);

/* Whether database zone Z is signed. */
bool nc_dnssec_signed(const struct nc_dnssec *s, size_t z);

/*
 * Sign zone Z of DB whole, its SOA with SERIAL, dropping any state kept
 * before. 0, or KZ_ENOMEM / KZ_EINVAL (the zone is then unsigned until
 * the next full signing: publish it whole again).
 */
int nc_dnssec_sign_full(struct nc_dnssec *s, const struct zg_db *db,
    size_t z, uint32_t serial, uint32_t now);

/*
 * The same whole signing in steps, so that a large zone (seconds of
 * CPU) never holds the caller up for long: nc_dnssec_sign_begin() drops
 * the zone's state and lists its names; each nc_dnssec_sign_step()
 * makes about MAX more signatures (0: all that are left) and returns 1
 * while work is left, 0 once only nc_dnssec_sign_finish() is left, which
 * signs the apex (DNSKEY, NSEC3PARAM, the SOA with SERIAL) and makes
 * the zone signed. DB must not change from the begin to the finish
 * (the caller holds its diffs back). Any error drops the job: the zone
 * is then unsigned (and never transferred) until signed whole again.
 * With the same NOW throughout, the result equals nc_dnssec_sign_full().
 */
int nc_dnssec_sign_begin(struct nc_dnssec *s, const struct zg_db *db,
    size_t z);
int nc_dnssec_sign_step(struct nc_dnssec *s, const struct zg_db *db,
    size_t z, uint32_t now, size_t max);
int nc_dnssec_sign_finish(struct nc_dnssec *s, const struct zg_db *db,
    size_t z, uint32_t serial, uint32_t now);

/* Whether a whole signing of zone Z is under way (begun, not finished
 * nor failed). */
bool nc_dnssec_signing(const struct nc_dnssec *s, size_t z);

/*
 * Signatures taken over from the zone as served before (NSD's zone file
 * after a restart), so that a restart does not sign the zone again
 * whole. Between nc_dnssec_sign_begin() and the first step, the caller
 * hands over the old zone: nc_dnssec_reuse_set() the digest of each of
 * its RRsets (nc_dnssec_digest(); the SOA left out), nc_dnssec_reuse_sig()
 * each RRSIG (RDATA in wire form). The job then takes over the old
 * signatures of an RRset instead of signing it when the RRset is the
 * same (the same digest: owner, TTL, every RDATA) and the old zone has
 * a signature of it by every key of the zone, with this TTL, begun and
 * not due for refresh; otherwise it signs as usual. After
 * nc_dnssec_sign_finish(), nc_dnssec_reuse_end() hands back the RRSIG
 * part of the difference from the old zone -- the old signatures not
 * taken over to delete, the new ones to add -- and *TAKEN, the RRsets
 * whose signatures were taken over; KZ_ETOOBIG when that difference
 * holds more than MAX records (0: no limit). Either way the old zone's
 * data is dropped (none handed over: every signature is new). The other
 * records of the difference (the zone's own, NSEC, NSEC3, DNSKEY,
 * NSEC3PARAM) are the caller's to compare. Errors: KZ_EINVAL (no job,
 * or one past its first step; for _end, a zone not signed), KZ_ENOMEM.
 */
int nc_dnssec_reuse_set(struct nc_dnssec *s, size_t z, const uint8_t *owner,
    size_t ol, uint16_t type, const uint8_t *digest);
int nc_dnssec_reuse_sig(struct nc_dnssec *s, size_t z, const uint8_t *owner,
    size_t ol, uint32_t ttl, const uint8_t *rdata, size_t rdlen);
int nc_dnssec_reuse_end(struct nc_dnssec *s, size_t z, size_t max,
    const struct nc_dnssec_out **out, size_t *taken);

/*
 * The digest of an RRset for nc_dnssec_reuse_set(): SHA-256 of the
 * owner (lower case) and of each record's type, TTL, RDATA length and
 * RDATA, the records in canonical order (RFC 4034 6.3), into OUT
 * (NC_DNSSEC_DIGEST octets). RRS: the N records of one RRset (N > 0),
 * in any order. 0, KZ_EINVAL or KZ_ENOMEM.
 */
int nc_dnssec_digest(const struct nc_rr *rrs, size_t n, uint8_t *out);

/*
 * Follow diff D of zone Z of DB (after zg_db_apply) up to the new
 * SERIAL. *OUT gets the signer's records to delete and add. 0, or an
 * error (the zone must then be signed whole: nc_dnssec_sign_full).
 */
int nc_dnssec_diff(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    const struct zg_diff *d, uint32_t serial, uint32_t now,
    const struct nc_dnssec_out **out);

/*
 * Sign again, at most MAX (0: no limit) of the RRsets of zone Z whose
 * signatures expire within the refresh period and gap, and the SOA for
 * SERIAL.
 * *OUT as for nc_dnssec_diff(); *LEFT (may be NULL) the RRsets still
 * due. 0 or an error (sign the zone whole).
 */
int nc_dnssec_refresh(struct nc_dnssec *s, const struct zg_db *db, size_t z,
    uint32_t serial, uint32_t now, size_t max,
    const struct nc_dnssec_out **out, size_t *left);

/* Whether zone Z has signatures due for refresh at NOW. */
bool nc_dnssec_due(const struct nc_dnssec *s, size_t z, uint32_t now);

/* The Unix time at which zone Z's next signature falls due for refresh
 * (0: the zone is not signed). */
uint32_t nc_dnssec_next_due(const struct nc_dnssec *s, size_t z);

/* The earliest expiration of any signature of zone Z (0: unsigned). */
uint32_t nc_dnssec_earliest(const struct nc_dnssec *s, size_t z);

/* The number of signatures zone Z holds. */
size_t nc_dnssec_count(const struct nc_dnssec *s, size_t z);

/* Emit the signer's records of zone Z (DNSKEY, NSEC or NSEC3PARAM and
 * NSEC3, RRSIG); stops at and returns EMIT's first non-zero result.
 * KZ_EINVAL for a signed zone whose signing failed (until it is signed
 * whole again): a transfer must not serve it unsigned. */
int nc_dnssec_foreach(const struct nc_dnssec *s, size_t z,
    int (*emit)(void *ectx, const struct nc_rr *rr), void *ectx);

/* The keys of zone Z and their number (NULL, 0: unsigned). */
const struct nc_dkey *nc_dnssec_keys(const struct nc_dnssec *s, size_t z,
    size_t *nkeys);

#endif
