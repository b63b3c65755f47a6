/*
 * nsd-conf/publish.h -- the zone database's diffs into the feed, with
 * serials.
 *
 * The publisher connects the three pieces between the cluster and NSD:
 * the zone database (zonegen/zonedb.h), which says what changed; the
 * serial store (serial.h), which says which serial a change gets; and
 * the feed (feed.h), which keeps the diffs in its journal, serves them
 * to NSD by IXFR and sends the NOTIFY. One diff of one zone is one new
 * serial; a zone that did not change keeps its serial.
 *
 * The first publication of a zone (nc_pub_start) has no diff: the feed
 * serves the whole zone, so NSD transfers it by AXFR once; from then on
 * every nc_pub_diffs() is an IXFR.
 *
 * Nothing here blocks: a serial outside the reservation on disk is the
 * one case that writes (and fsyncs) synchronously, once per block; the
 * caller saves the serial store when nc_serial_wants_save() says so,
 * after the NOTIFY went out.
 *
 * Ownership: borrows the database, the feed, the serial store and the
 * signer (nc_pub_sign), which must outlive the publisher; owns its zone
 * map.
 */
#ifndef KZ_NSDCONF_PUBLISH_H
#define KZ_NSDCONF_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsd-conf/dnssec.h"
#include "nsd-conf/feed.h"
#include "nsd-conf/serial.h"
#include "zonegen/zonedb.h"

struct nc_pub_stats {
	unsigned long diffs;		/* diffs committed (one per zone) */
	unsigned long records;		/* records in them */
	unsigned long failed;		/* commits that failed (ENOMEM, serial) */
	unsigned long refreshes;	/* signature refreshes committed */
};

struct nc_pub_resume;

struct nc_publisher {
	struct zg_db *db;
	struct nc_feed *feed;
	struct nc_serials *serials;
	size_t *fz;		/* the feed's zone index per database zone */
	uint32_t *first;	/* the serial of each zone's first publication */
	bool *whole;		/* a diff of this zone could not be
				 * committed: it goes out whole next time */
	size_t held;		/* index + 1 of a zone held back until
				 * nc_pub_release(), 0: none */
	bool started;		/* nc_pub_start() succeeded */
	struct nc_dnssec *sign;	/* the signer (borrowed), or NULL */
	double *sign_seconds;	/* per zone: CPU time of its last full
				 * signing */
	unsigned char *job;	/* per zone: a whole signing under way
				 * (its first publication, or again) */
	struct nc_pub_resume **resume;	/* per zone: a signed zone
				 * resuming from NSD's zone file */
	struct nc_rr *rrs;	/* a commit's records, kept for the next */
	size_t rrcap;
	struct nc_pub_stats stats;
};

/*
 * Set P up and add every zone of DB to FEED (served from DB, not
 * published yet). 0, KZ_ENOMEM or the feed's error; free P with
 * nc_pub_free (also after a failure).
 */
int nc_pub_init(struct nc_publisher *p, struct zg_db *db,
    struct nc_feed *feed, struct nc_serials *serials);
void nc_pub_free(struct nc_publisher *p);

/*
 * Publish every zone of the database as it is (after its first load).
 * When ZONEDIR (may be NULL) holds NSD's zone file of a zone -- what
 * NSD serves at once after a restart -- the zone resumes from it: the
 * feed starts at the file's serial and what differs goes out as one
 * diff (NSD and its secondaries then get an IXFR, or nothing at all if
 * the zone is unchanged; a signed zone resumes in steps, see
 * nc_pub_sign()). Otherwise, and when the file's SOA differs
 * from the zone's in anything but the serial (--ns, --soa-*, --ttl
 * changed), a zone gets a new serial and no diff (NSD transfers it
 * whole). The feed NOTIFYs. NOW is the Unix time
 * for zones whose serial nothing is known of. 0 or an error (try again
 * later).
 */
int nc_pub_start(struct nc_publisher *p, const char *zonedir, uint32_t now);

/*
 * Hold database zone Z back (before nc_pub_start): it is published only
 * by nc_pub_release(), and the feed answers SERVFAIL for it until then.
 * The catalog zone waits so that NSD serves every member zone before
 * the catalog names it.
 */
void nc_pub_hold(struct nc_publisher *p, size_t z);

/*
 * Publish the held zone as nc_pub_start() would (resuming from ZONEDIR
 * when NSD's zone file is there), after nc_pub_start(). 0 (also when no
 * zone is held), or an error (try again later).
 */
int nc_pub_release(struct nc_publisher *p, const char *zonedir,
    uint32_t now);

/* True while zone Z is held back. */
bool nc_pub_held(const struct nc_publisher *p, size_t z);

/*
 * Commit the database's diffs of its last zg_db_apply(): one serial per
 * zone that changed. Returns the number of zones committed, or an
 * error (then the zones not committed are published whole by the next
 * call, so nothing is lost); KZ_EINVAL while nc_pub_busy() (the
 * database must not have changed).
 */
long nc_pub_diffs(struct nc_publisher *p, uint32_t now);

/*
 * Sign the zones SIGN signs (before nc_pub_start; SIGN is borrowed).
 * A signed zone is signed whole at its first publication, or, when
 * NSD's zone file is there, resumes from it: the signatures of RRsets
 * that did not change are taken over, and the difference from the file
 * (records, chain, signatures) goes out as one diff. Every diff carries
 * the signer's changes (nsd-conf/dnssec.h); the feed's full transfers
 * hold the signer's records too.
 *
 * A whole signing takes seconds of CPU at scale, so it is done in
 * steps (reading NSD's zone file too, when resuming): nc_pub_start()
 * (or nc_pub_diffs(), for a zone going out whole again) begins it, and the zone is published -- a new serial, the
 * feed serves it -- once nc_pub_work() has finished it. Until then the
 * feed answers for the zone as before (SERVFAIL the first time: NSD
 * keeps serving its zone file), and the database must not change: the
 * caller holds zg_db_apply() and nc_pub_diffs() back while
 * nc_pub_busy().
 */
void nc_pub_sign(struct nc_publisher *p, struct nc_dnssec *sign);

/* Whether a whole signing of any zone is under way. */
bool nc_pub_busy(const struct nc_publisher *p);

/* Whether database zone Z is being signed whole (not published yet, or
 * published before the signing began). */
bool nc_pub_signing(const struct nc_publisher *p, size_t z);

/*
 * One step of the whole signings under way: about MAX signatures (0:
 * all). 1 while work is left, 0 when none is (every zone signed is
 * published), or an error (that zone goes out whole, signed afresh, at
 * the next nc_pub_diffs()).
 */
int nc_pub_work(struct nc_publisher *p, uint32_t now, size_t max);

/*
 * Commit a signature refresh (a new serial) for every signed zone with
 * signatures due at NOW, at most MAX RRsets per zone (0: all). Returns
 * the number of zones committed, or an error (the zone then goes out
 * whole, signed afresh, at the next nc_pub_diffs).
 */
long nc_pub_refresh(struct nc_publisher *p, uint32_t now, size_t max);

/* The Unix time of the next signature refresh due (0: none). */
uint32_t nc_pub_next_refresh(const struct nc_publisher *p);

/* The current serial of database zone Z (0 before nc_pub_start). */
uint32_t nc_pub_serial(const struct nc_publisher *p, size_t z);

#endif
