/*
 * nsd-conf/serial.h -- SOA serials that never go back and are never
 * reused, across restarts and crashes at any point.
 *
 * NSD holds every zone as a secondary of kubezone's feed, and NSD and
 * every downstream secondary ignore a serial that is not greater than
 * theirs (RFC 1982). So each zone's serial must keep rising even when
 * kubezone crashes, without an fsync on every publish:
 *
 *  - Reservations. STATE/serial.state holds, per zone, a reserved
 *    high-water mark R: every serial ever handed out is <= the R on
 *    disk. nc_serial_issue() writes a new R (the serial + block - 1,
 *    atomically, with fsync) before it hands out a serial above the
 *    R on disk. After a restart the next serial is R + 1 or more, so a
 *    serial handed out before a crash is skipped over, never reused.
 *  - Off the latency path. When more than half a block is used,
 *    nc_serial_wants_save() says so and the caller calls
 *    nc_serial_save() after its NOTIFY went out; only an exhausted
 *    block makes nc_serial_issue() write synchronously. Right after
 *    start-up (the reserved serials are all behind), one save reserves
 *    the first block of every zone at once.
 *  - Learning. nc_serial_learn() raises a zone's floor: the next serial
 *    is greater than every serial learned. The caller learns the SOA
 *    serial of NSD's zone files (nc_zonefile_serial()) and the serial
 *    each --notify secondary answers to an SOA query, so a lost state
 *    directory still continues above what the world has seen.
 *  - The clock. A zone with nothing known at all starts at the Unix
 *    time (as kubezone's serials always did); after that, +1 per
 *    change, wrapping in RFC 1982 arithmetic.
 *
 * The old publish.state (origin serial hash file) is read once and its
 * serials learned, so an upgrade continues the old serials.
 *
 * The store is single-threaded and owns its memory (nc_serial_free).
 */
#ifndef KZ_NSDCONF_SERIAL_H
#define KZ_NSDCONF_SERIAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_SERIAL_BLOCK 1024		/* serials reserved per save */
#define NC_SERIAL_MAGIC "# kubezone serial state v1"

/*
 * RFC 1982 comparison: -1 when A < B, 1 when A > B, 0 when equal or
 * undefined (exactly 2^31 apart).
 */
int nc_sn_cmp(uint32_t a, uint32_t b);

/* The greater of A and B in RFC 1982 order; A when undefined. */
uint32_t nc_sn_max(uint32_t a, uint32_t b);

/* One zone. */
struct nc_sn_zone {
	char origin[256];	/* absolute, lower case: "cluster.local." */
	uint32_t last;		/* last serial handed out (have_last) */
	uint32_t floor;		/* the next serial is above it (have_floor) */
	uint32_t reserved;	/* R on disk (have_reserved) */
	bool have_last;		/* a serial was handed out in this process */
	bool have_floor;
	bool have_reserved;
};

struct nc_serials {
	char path[PATH_MAX];	/* serial.state */
	uint32_t block;		/* serials reserved per save */
	struct nc_sn_zone *zones;	/* owned */
	size_t nzones;
	size_t cap;
	unsigned long saves;		/* successful writes of PATH */
	unsigned long sync_saves;	/* of those, made by nc_serial_issue */
};

/*
 * Set up S for the state file PATH and read it back; then read LEGACY
 * (the old publish.state; NULL or "" for none) and learn its serials.
 * Missing files are empty; a damaged line is skipped with a warning.
 * BLOCK 0 means NC_SERIAL_BLOCK; otherwise 2 to 2^30.
 * 0, KZ_EINVAL (BLOCK), KZ_ETOOBIG (PATH), KZ_ENOMEM, or -errno when a
 * file exists but cannot be read (then S is unusable: do not hand out
 * serials that could repeat). ERR gets the reason. Free S with
 * nc_serial_free, also after a failure.
 */
int nc_serial_open(struct nc_serials *s, const char *path,
    const char *legacy, uint32_t block, char *err, size_t errsz);
void nc_serial_free(struct nc_serials *s);

/*
 * Raise the floor of ZONE (with or without the final dot, any case):
 * the next serial will be greater than SERIAL in RFC 1982 order. A
 * serial not above the zone's floor or last serial changes nothing.
 * 0, KZ_ENAME or KZ_ENOMEM.
 */
int nc_serial_learn(struct nc_serials *s, const char *zone, uint32_t serial);

/*
 * The next serial of ZONE into *OUT: the last + 1, or above the floor
 * (reservation on disk, serials learned), or NOW (Unix seconds) when
 * nothing at all is known of ZONE. Writes the state file first when
 * that serial is not covered by the reservation on disk.
 * 0, KZ_ENAME, KZ_ENOMEM, or the -errno of that write (then nothing is
 * handed out, *OUT is unchanged; try again later).
 */
int nc_serial_issue(struct nc_serials *s, const char *zone, uint32_t now,
    uint32_t *out);

/* The last serial handed out for ZONE: 0, or KZ_ENOTFOUND when none. */
int nc_serial_last(const struct nc_serials *s, const char *zone,
    uint32_t *out);

/*
 * True when some zone has used more than half of its reserved block,
 * or has a next serial not reserved at all (after start-up and after
 * learning): call nc_serial_save() when the latency does not matter.
 */
bool nc_serial_wants_save(const struct nc_serials *s);

/*
 * Reserve a fresh block above the next serial of every zone and write
 * the state file atomically (temp file, fsync, rename, fsync of the
 * directory, mode 0640). The reservation in memory moves only when the
 * write succeeded. 0, KZ_ENOMEM or -errno.
 */
int nc_serial_save(struct nc_serials *s);

/*
 * The serial of the SOA of zone ORIGIN in the zone file PATH (as NSD
 * writes it: the SOA first, after $ORIGIN/$TTL lines and comments).
 * Reads records only up to that SOA, so it is cheap for any size.
 * 0; -errno when PATH cannot be opened (-ENOENT: no file yet);
 * KZ_EPARSE when the file does not start with ORIGIN's SOA (reason and
 * line in ERR); KZ_ENAME for a bad ORIGIN; KZ_ENOMEM.
 */
int nc_zonefile_serial(const char *path, const char *origin,
    uint32_t *serial, char *err, size_t errsz);

#endif
