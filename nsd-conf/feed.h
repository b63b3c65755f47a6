/*
 * nsd-conf/feed.h -- the zone feed: kubezone as the primary of its NSD.
 *
 * kubezone keeps its zones in memory; the embedded NSD holds each of
 * them as a secondary ("request-xfr: 127.0.0.1@PORT kubezone-feed",
 * "allow-notify: 127.0.0.1 kubezone-feed"). The feed is the small DNS
 * server NSD transfers from, plus the client side kubezone needs:
 * NOTIFY after a change and SOA probes. Single-threaded, non-blocking,
 * driven by the caller's poll loop through struct nc_feed_io,
 * nc_feed_ready(), nc_feed_deadline() and nc_feed_tick().
 *
 * Protocol (every message is built and parsed with ldns, but the
 * NOTIFY, written in wire form and signed by nsd-conf/tsig.h):
 *  - UDP and TCP on a loopback address. Every query must carry a TSIG
 *    with the feed's key (hmac-sha256, random, made at init). No TSIG:
 *    REFUSED, unsigned. TSIG with another key name or algorithm:
 *    NOTAUTH + TSIG error BADKEY; a wrong MAC: NOTAUTH + BADSIG; a time
 *    outside the fudge: NOTAUTH + BADTIME (these three unsigned, MAC
 *    empty). Each is logged as a warning and counted. Every other
 *    answer is signed.
 *  - Per zone: SOA (UDP, TCP): AA answer with the current SOA. AXFR
 *    (TCP only; UDP gets REFUSED): SOA, every record, SOA. IXFR over
 *    TCP (RFC 1995): client serial (SOA in the authority section) equal
 *    to or newer than the current one: the current SOA alone; a
 *    journal chain from the client's serial: SOA(cur), per diff
 *    SOA(from) deleted... SOA(to) added..., SOA(cur); otherwise the
 *    whole zone in AXFR form. IXFR over UDP: the current SOA alone.
 *    Transfers go in messages of at most NC_FEED_MSG_MAX bytes, written
 *    in wire form from the records kept flat (an owner in the zone ends
 *    in a pointer to the question's name, nothing else is compressed),
 *    the first signed with the request MAC, the others with the prior
 *    MAC and the timers only (RFC 8945 5.3.1).
 *  - Unknown zone, other opcodes or qtypes: REFUSED (signed). A zone
 *    whose first serial is not set yet: SERVFAIL (signed).
 *  - An AXFR (or IXFR fallback) calls the zone's foreach once and
 *    streams that snapshot; an IXFR copies its diffs: a zone that
 *    changes during a long transfer stays consistent. Transfers stream
 *    as the socket accepts; idle TCP connections are closed after
 *    idle_ms, at most max_conns are open at once; more wait in the
 *    listen backlog (never reset) until one closes.
 *  - NOTIFY (opcode NOTIFY, AA, question ZONE/SOA, the SOA in the
 *    answer, signed) to every notify target after each commit or serial
 *    change, retried after notify_retry_ms, doubling, notify_tries
 *    times in all; answers are matched by id and peer; a newer change
 *    supersedes a pending NOTIFY of the same zone and target.
 *
 * Ownership: struct nc_feed is the caller's (embedded or allocated);
 * everything it points to is the feed's and nc_feed_free() releases it.
 * Strings and records passed in are copied. Callbacks must not call
 * nc_feed_free().
 */
#ifndef KZ_NSDCONF_FEED_H
#define KZ_NSDCONF_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_FEED_KEY_NAME "kubezone-feed"
#define NC_FEED_KEY_ALG "hmac-sha256"
#define NC_FEED_MSG_MAX 60000		/* bytes per transfer message */

/* A probe status for a response with RCODE (REFUSED, NOTAUTH, ...). */
#define NC_FEED_ERCODE(rcode) (-2000 - (int)(rcode))

/* One record: owner and RDATA in uncompressed wire form, class IN. */
struct nc_rr {
	const uint8_t *owner;	/* lower case */
	size_t ownerlen;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;	/* exactly as it goes on the wire */
	size_t rdlen;
};

/*
 * Emit every record of ZONE but its SOA by calling EMIT(ECTX, rr) for
 * each (the record is copied during the call). Return 0, or nonzero to
 * abort the transfer; a nonzero return of EMIT must be passed back.
 */
typedef int (*nc_feed_foreach_fn)(void *ctx, size_t zone,
    int (*emit)(void *ectx, const struct nc_rr *rr), void *ectx);

/* Called once per probe: STATUS 0 and the SOA SERIAL, or an error. */
typedef void (*nc_feed_probe_fn)(void *ctx, int status, uint32_t serial);

/* The poll loop: watch() adds or changes FD's events, unwatch() drops it. */
struct nc_feed_io {
	int (*watch)(void *ctx, int fd, short events);
	void (*unwatch)(void *ctx, int fd);
	void *ctx;
};

/* A TSIG key as nsd.conf spells it (algorithm without a final dot). */
struct nc_feed_key {
	char name[256];
	char alg[32];
	char secret[128];	/* base64 */
};

/* Options; zero (or NULL) fields take the defaults in brackets. */
struct nc_feed_opts {
	const char *addr;		/* listen address ["127.0.0.1"] */
	uint16_t port;			/* 0: ephemeral */
	const uint16_t *avoid;		/* ports an ephemeral one must not */
	size_t navoid;			/* be: servers that bind them later */
	const char *key_name;		/* [NC_FEED_KEY_NAME] */
	size_t journal_max_diffs;	/* per zone [64] */
	size_t journal_max_bytes;	/* per zone [16 MiB] */
	unsigned max_conns;		/* open TCP connections [16] */
	unsigned idle_ms;		/* idle TCP timeout [30000] */
	unsigned notify_retry_ms;	/* first NOTIFY retry [250] */
	unsigned notify_tries;		/* NOTIFY sends in all [5] */
};

/* The SOA of a zone; names in presentation form, copied. */
struct nc_feed_soa {
	const char *mname;
	const char *rname;
	uint32_t refresh, retry, expire, minimum;
	uint32_t ttl;
};

/* Counters for the metrics endpoint; never reset. */
struct nc_feed_stats {
	unsigned long queries;
	unsigned long axfr;		/* full transfers for AXFR queries */
	unsigned long ixfr;		/* IXFRs served from the journal */
	unsigned long ixfr_fallback;	/* IXFRs answered with the full zone */
	unsigned long notify_sent;	/* NOTIFY messages, retries included */
	unsigned long notify_acked;
	unsigned long notify_failed;	/* gave up, or an error answer */
	unsigned long tsig_failures;	/* queries without a valid TSIG */
};

struct nc_feed_state;

struct nc_feed {
	struct nc_feed_key key;		/* for nsd.conf; read-only */
	uint16_t port;			/* the bound port (UDP and TCP) */
	struct nc_feed_stats stats;	/* read-only */
	struct nc_feed_state *s;	/* private */
};

/*
 * Make the key, bind UDP and TCP on o->addr:o->port (the same port for
 * both; with port 0 an ephemeral one, in f->port) and watch both
 * sockets. O may be NULL. Returns 0, or a negative code with a message
 * in ERR; F is then freed (nc_feed_free may still be called).
 */
int nc_feed_init(struct nc_feed *f, const struct nc_feed_opts *o,
    const struct nc_feed_io *io, char *err, size_t errsz);

/* Close every socket (unwatching it), drop pending NOTIFYs and probes
 * (without callbacks) and free everything. Accepts a zeroed struct. */
void nc_feed_free(struct nc_feed *f);

/*
 * Add the zone ORIGIN (e.g. "cluster.local.") served from FN/CTX, not
 * published until its first serial is set. Stores its index in
 * *ZONE_OUT. 0, KZ_ENAME, KZ_EINVAL (already there), KZ_ENOMEM.
 */
int nc_feed_add_zone(struct nc_feed *f, const char *origin,
    const struct nc_feed_soa *soa, nc_feed_foreach_fn fn, void *ctx,
    size_t *zone_out);

/* The current serial of ZONE; *PUBLISHED (may be NULL) false before
 * the first serial was set. */
uint32_t nc_feed_serial(const struct nc_feed *f, size_t zone,
    bool *published);

/*
 * Make SERIAL current without a diff, clear the zone's journal (IXFR
 * clients then get the whole zone) and NOTIFY the targets. 0 or
 * KZ_EINVAL.
 */
int nc_feed_set_serial(struct nc_feed *f, size_t zone, uint32_t serial);

/*
 * Append the diff current serial -> NEW_SERIAL (records copied; none
 * at all is a serial bump), make NEW_SERIAL current and NOTIFY the
 * targets. The oldest diffs go when the journal is over its bounds.
 * On a zone not yet published this is nc_feed_set_serial(). 0,
 * KZ_EINVAL (bad zone or record), KZ_ENOMEM (the zone then keeps its
 * old serial and journal).
 */
int nc_feed_commit(struct nc_feed *f, size_t zone, uint32_t new_serial,
    const struct nc_rr *del, size_t ndel, const struct nc_rr *add,
    size_t nadd);

/* NOTIFY every target of ZONE's current serial again (a target that
 * lags behind, one that restarted). 0, KZ_EINVAL (unpublished zone). */
int nc_feed_notify(struct nc_feed *f, size_t zone);

/* Add a NOTIFY target (IPv4 or IPv6 literal). 0, KZ_EINVAL, KZ_ENOMEM. */
int nc_feed_add_notify(struct nc_feed *f, const char *ip, uint16_t port);

/*
 * Ask IP@PORT for the SOA of ZONE_ORIGIN over UDP, signed with KEY if
 * not NULL (the answer must then verify), retrying until TIMEOUT_MS.
 * CB(CTX, status, serial) is called once, from nc_feed_ready() or
 * nc_feed_tick(): 0 with the serial of an authoritative SOA answer,
 * NC_FEED_ERCODE(rcode) for an error rcode, -ETIMEDOUT, or KZ_EPROTO
 * for an answer that is not a usable SOA (or fails TSIG). Returns 0
 * when the probe is under way, or a negative code (CB not called).
 */
int nc_feed_probe(struct nc_feed *f, const char *ip, uint16_t port,
    const char *zone_origin, const struct nc_feed_key *key,
    unsigned timeout_ms, nc_feed_probe_fn cb, void *ctx);

/* Handle REVENTS on FD (one the feed watches; others are ignored). */
void nc_feed_ready(struct nc_feed *f, int fd, short revents);

/* The next CLOCK_MONOTONIC ms at which nc_feed_tick is due; 0: none. */
uint64_t nc_feed_deadline(const struct nc_feed *f);

/* Run the timers due at NOW_MS (retries, timeouts, idle connections). */
void nc_feed_tick(struct nc_feed *f, uint64_t now_ms);

/* Times given here are kz_now_ms() (common/clock.h). */

/* A static description of a probe STATUS. */
const char *nc_feed_strerror(int status);

#endif
