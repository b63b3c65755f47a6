/*
 * nsd-conf/publish.h -- rendered zones onto disk, safely, then into NSD.
 *
 * For each zone of a zone set whose content hash differs from the one
 * last published, the publisher picks a new serial, writes the zone to
 * a temporary file in the zone directory, fsyncs it, parses it back
 * with ldns (a zone NSD would reject must never reach it: with
 * database "" a bad file empties the zone), renames it over the old
 * file, fsyncs the directory, persists serial and hash in the state
 * file, and finally asks NSD (through a callback) to reload only the
 * zones that changed. Unchanged zones are neither rewritten nor
 * reloaded. A zone that fails to write or validate keeps its last good
 * file; the failure is logged and counted.
 *
 * Serials follow RFC 1982: a changed zone gets max(now, last + 1) in
 * serial-number order, so they never go backwards, also across
 * restarts (the state file is read back by nc_pub_init).
 */
#ifndef KZ_NSDCONF_PUBLISH_H
#define KZ_NSDCONF_PUBLISH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zonegen/render.h"

#define NC_PUB_MAX_ZONE_BYTES (2ULL * 1024 * 1024 * 1024)

/* RFC 1982 comparison: -1 when A < B, 1 when A > B, 0 when equal or
 * undefined (exactly 2^31 apart). */
int nc_serial_cmp(uint32_t a, uint32_t b);

/* The serial for changed content: NOW when that is after LAST in
 * serial order, else LAST + 1 (wrapping). NOW alone when !HAVE_LAST. */
uint32_t nc_serial_next(uint32_t last, bool have_last, uint32_t now);

/*
 * Record lines already validated: 64-bit hashes of each plain record
 * line (one line, no parentheses or comments) together with the $ORIGIN
 * and $TTL in force, in an open-addressed set. A rendered zone changes
 * by a few lines at a time, so validating a new version only parses the
 * lines that are not in the last validated one; the SOA and every structural check (first
 * record, owners inside the zone, CNAME alone) still cover every line.
 */
struct nc_known {
	uint64_t *hash;		/* CAP slots, 0 free */
	size_t cap;		/* a power of two, or 0 */
	size_t n;		/* distinct lines held */
};

void nc_known_free(struct nc_known *k);

/* Build K (replacing its contents) from zone TEXT as zone ORIGIN. */
int nc_known_build(struct nc_known *k, const char *text, size_t len,
    const char *origin);

/* What the publisher knows of one zone. */
struct nc_pub_zone {
	char origin[256];	/* "cluster.local." */
	char file[256];		/* relative to the zone directory */
	uint32_t serial;	/* of the installed file */
	uint64_t hash;		/* of the installed content */
	bool installed;		/* a validated file is in place */
	struct nc_known known;	/* lines of the installed file (memory only) */
};

struct nc_pub_stats {
	unsigned long published;	/* zones written and installed */
	unsigned long unchanged;	/* zones skipped, same content */
	unsigned long failed;		/* zones rejected (write/validate) */
	unsigned long reload_failed;	/* reload requests NSD refused */
};

/* Ask the server to reload ORIGIN. 0 when done or queued. */
typedef int (*nc_reload_fn)(void *ctx, const char *origin);

struct nc_publisher {
	char zonedir[PATH_MAX];
	char statefile[PATH_MAX];
	struct nc_pub_zone *zones;
	size_t nzones;
	size_t cap;
	struct nc_pub_stats stats;
	nc_reload_fn reload;	/* NULL: write only (NSD not running) */
	void *reload_ctx;
};

/* What one nc_pub_publish() call did. */
struct nc_pub_result {
	size_t changed;		/* zones installed with a new serial */
	size_t unchanged;
	size_t failed;
	size_t reloaded;	/* reload requests accepted */
};

/*
 * Set up P for ZONEDIR and STATEFILE and read the state file back (a
 * missing file is an empty state; a damaged line is skipped with a
 * warning). 0, KZ_ENOMEM or KZ_ETOOBIG. Free with nc_pub_free (also
 * after a failure).
 */
int nc_pub_init(struct nc_publisher *p, const char *zonedir,
    const char *statefile);
void nc_pub_free(struct nc_publisher *p);

/* The known zone ORIGIN (with or without the final dot), or NULL. */
const struct nc_pub_zone *nc_pub_find(const struct nc_publisher *p,
    const char *origin);

/*
 * Publish every zone of ZS with NOW (Unix seconds) as the serial clock.
 * RES (may be NULL) says what happened. Returns 0 when every zone is
 * either unchanged or installed, KZ_EPARSE when one failed validation,
 * -errno when one could not be written (the others are still done), or
 * KZ_ENOMEM.
 */
int nc_pub_publish(struct nc_publisher *p, const struct zg_zoneset *zs,
    uint32_t now, struct nc_pub_result *res);

/* Write the state file atomically. 0 or -errno. */
int nc_pub_save(const struct nc_publisher *p);

/*
 * Parse the zone file PATH with ldns as zone ORIGIN: every record must
 * parse, the first must be the SOA at the apex with serial SERIAL (any
 * serial when CHECK_SERIAL is false), no other SOA, every owner inside
 * the zone, no CNAME beside other data. *NRECORDS gets the count.
 * 0 or KZ_EPARSE with the reason (and line) in ERR; -errno when PATH
 * cannot be read.
 */
int nc_zone_validate(const char *path, const char *origin, bool check_serial,
    uint32_t serial, size_t *nrecords, char *err, size_t errsz);

/*
 * The same, but lines in KNOWN (may be NULL) are taken as parsed: only
 * their type is read, for the structural checks. *PARSED (may be NULL)
 * gets the number of records that went through ldns.
 */
int nc_zone_validate_known(const char *path, const char *origin,
    bool check_serial, uint32_t serial, const struct nc_known *known,
    size_t *nrecords, size_t *parsed, char *err, size_t errsz);

#endif
