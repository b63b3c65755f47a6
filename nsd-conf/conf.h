/*
 * nsd-conf/conf.h -- the options of the embedded NSD and its nsd.conf.
 *
 * kubezone owns NSD's whole configuration: one nsd.conf in the state
 * directory, generated from these options and the zones being served,
 * with every path inside the state directory and nothing read from
 * /etc/nsd. nc_conf_render() is pure (text in a buffer); writing the
 * file and starting NSD are nsd-conf/nsd.h's job.
 *
 * State directory layout (all paths absolute, see struct nc_paths):
 *   nsd.conf  nsd.pid  nsd.ctl (control socket)  serial.state
 *   publish.state (read once, from before the IXFR feed)
 *   zones/<zone>.zone (and NSD's <zone>.zone.ixfr*)  xfr/xfrd.state
 *   zone.list
 * The directory is kubezone's (0700, never group- or world-writable).
 * When kubezone runs as root, NSD chroots to it and runs as
 * NC_NSD_USER: zones/ and xfr/ are that user's, the directory is
 * 0710 with that user's group so NSD can reach them.
 *
 * NSD holds every zone as a secondary of kubezone's feed (a DNS primary
 * on loopback, nsd-conf/feed.h): it loads zones/<zone>.zone when it
 * starts, asks the feed for IXFR on each NOTIFY, and writes the zone
 * file back every --zonefiles-write seconds. The zone files belong to
 * NSD; kubezone only reads their SOA serial (nsd-conf/serial.h).
 */
#ifndef KZ_NSDCONF_CONF_H
#define KZ_NSDCONF_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/opt.h"

#define NC_MAX_LIST 32		/* entries in each repeatable option */
#define NC_KEY_NAME_MAX 256
#define NC_ZONE_NAME_MAX 256	/* a zone name, no final dot, with NUL */
#define NC_NOTIFY_ZONES 32	/* zone=... of one --notify */
#define NC_SECRET_MAX 256
#define NC_DEFAULT_PORT 5353
#define NC_DEFAULT_STATE_DIR "/var/lib/kubezone"
#define NC_DEFAULT_ZONEFILES_WRITE 5	/* seconds */
#define NC_CONF_FEED_KEY "kubezone-feed"
#define NC_CONF_FEED_ALG "hmac-sha256"
#define NC_CONF_FEED_SECRET_BYTES 32
#define NC_NSD_USER "nsd"		/* NSD's user when kubezone is root */

/* An address with a port: --listen and --notify. */
struct nc_addr {
	char ip[64];		/* textual, without brackets */
	uint16_t port;
	uint8_t family;		/* 4 or 6 */
	char key[NC_KEY_NAME_MAX];	/* --notify ...,key=NAME; "" = none */
};

/*
 * --notify ADDR[:PORT][,key=NAME][,zone=ZONE]...: a secondary, the key
 * NSD signs its NOTIFYs with, and the zones it serves. Only those zones
 * get a notify: line for it in nsd.conf, and kubezone asks it about no
 * other zone. No zone= means every zone kubezone serves.
 */
struct nc_notify {
	struct nc_addr addr;	/* ip, port, family, key */
	size_t nzones;		/* 0: every zone */
	char zones[NC_NOTIFY_ZONES][NC_ZONE_NAME_MAX];	/* lower case,
				   without the final dot */
};

/* --allow-transfer CIDR[,key=NAME] */
struct nc_acl {
	char cidr[64];		/* "10.0.0.0/8" or a single address */
	char key[NC_KEY_NAME_MAX];	/* "" = NOKEY */
};

/* --tsig-key NAME:ALGORITHM:SECRET */
struct nc_key {
	char name[NC_KEY_NAME_MAX];	/* without a final dot */
	char alg[32];		/* "hmac-sha256", ... */
	char secret[NC_SECRET_MAX];	/* base64 */
};

struct nc_opts {
	size_t nlisten;
	struct nc_addr listen[NC_MAX_LIST];	/* empty: 127.0.0.1:5353 */
	char state_dir[PATH_MAX];
	char nsd[PATH_MAX];		/* "" = search PATH and /usr/sbin */
	size_t nallow;
	struct nc_acl allow[NC_MAX_LIST];
	size_t nnotify;
	struct nc_notify notify[NC_MAX_LIST];
	size_t nkeys;
	struct nc_key keys[NC_MAX_LIST];
	unsigned verbosity;		/* NSD's verbosity, default 1 */
	unsigned ixfr_number;		/* IXFR diffs kept, default 5 */
	unsigned edns_size;		/* ipv4/ipv6-edns-size, default 1232 */
	unsigned zonefiles_write;	/* seconds; 0 = never (NSD 4.6.1 does
				   not write at shutdown either) */
	unsigned journal_diffs;		/* diffs the feed keeps per zone */
};

/* Set the defaults. */
void nc_opts_init(struct nc_opts *o);

/*
 * Check what single rows cannot: every key named by --allow-transfer or
 * --notify exists. Fills in the default --listen. 0 or KZ_EUSAGE with a
 * message in ERR.
 */
int nc_opts_finish(struct nc_opts *o, char *err, size_t errsz);

/* The option rows (ctx: struct nc_opts). */
extern const struct kz_opt nc_opt_table[];

/* Row parsers, exposed for tests: 0 or KZ_EINVAL with ERR filled. */
int nc_parse_addr(const char *s, uint16_t defport, bool allow_key,
    struct nc_addr *out, char *err, size_t errsz);
int nc_parse_notify(const char *s, struct nc_notify *out, char *err,
    size_t errsz);
int nc_parse_acl(const char *s, struct nc_acl *out, char *err, size_t errsz);
int nc_parse_key(const char *s, struct nc_key *out, char *err, size_t errsz);

/*
 * Whether --notify target N is told about (and asked about) zone ZONE,
 * with or without its final dot, in any case: every zone when N lists
 * none.
 */
bool nc_notify_serves(const struct nc_notify *n, const char *zone);

/*
 * Whether --allow-transfer lets a host other than this one transfer:
 * an entry reaching beyond 127.0.0.0/8 and ::1.
 */
bool nc_opts_remote_transfers(const struct nc_opts *o);

/* Absolute paths derived from the state directory. */
struct nc_paths {
	char dir[PATH_MAX];
	char conf[PATH_MAX];
	char zonedir[PATH_MAX];
	char pidfile[PATH_MAX];
	char ctl[108];			/* sun_path limit */
	char xfrdir[PATH_MAX];
	char zonelist[PATH_MAX];
	char xfrdfile[PATH_MAX];
	char state[PATH_MAX];		/* publish.state (legacy, read only) */
	char serials[PATH_MAX];		/* serial.state */
	char nsd_user[64];		/* NSD's username:, "" = kubezone's */
	unsigned nsd_uid, nsd_gid;	/* when nsd_user is set */
};

/* Fill P from the absolute directory DIR; KZ_ETOOBIG when too long. */
int nc_paths_init(struct nc_paths *p, const char *dir);

/*
 * When kubezone runs as root, NSD is to drop to NC_NSD_USER (username:
 * and chroot: in nsd.conf): fill P's nsd_user, nsd_uid, nsd_gid; else
 * leave nsd_user empty. 0, or KZ_ENOTFOUND (no such user) with ERR.
 */
int nc_paths_nsd_user(struct nc_paths *p, char *err, size_t errsz);

/*
 * Create the state directory (0700) and its subdirectories zones/ and
 * xfr/ (0700), check they are writable, store the absolute paths in P.
 * Refuses (-EPERM) a directory that is group- or world-writable, owned
 * by another user, or a symbolic link (zones/, xfr/). As root, NSD is to
 * run as NC_NSD_USER (P->nsd_user): zones/ and xfr/ are given to it and
 * the state directory becomes 0710 with its group; KZ_ENOTFOUND when
 * that user does not exist. 0 or an error, with a message in ERR.
 */
int nc_state_dir_prepare(const char *dir, struct nc_paths *p, char *err,
    size_t errsz);

/* A zone NSD serves: NAME without the final dot, FILE relative to zonedir. */
struct nc_zone_ref {
	const char *name;
	const char *file;
};

/*
 * Check what needs the zones kubezone serves (ZONES, from --zone and
 * --reverse-zone): every zone a --notify lists is one of them. 0, or
 * KZ_EUSAGE with a message naming the target and the zone in ERR.
 */
int nc_opts_check_zones(const struct nc_opts *o,
    const struct nc_zone_ref *zones, size_t nzones, char *err, size_t errsz);

/*
 * Where NSD fetches every zone from: kubezone's feed (the primary on
 * loopback) and the TSIG key both sides use. Plain values, no pointers.
 */
struct nc_feed_ref {
	char ip[64];		/* "127.0.0.1" */
	uint16_t port;		/* 1..65535 */
	struct nc_key key;	/* name, algorithm, base64 secret */
};

/*
 * Fill F for a feed on 127.0.0.1@PORT with a fresh random key named
 * NC_CONF_FEED_KEY (NC_CONF_FEED_ALG, NC_CONF_FEED_SECRET_BYTES from
 * getrandom). 0, KZ_EINVAL (port 0) or -errno.
 */
int nc_feed_ref_init(struct nc_feed_ref *f, uint16_t port);

/*
 * Append the whole nsd.conf for O, P, FEED and ZONES to OUT. Every zone
 * is a secondary of FEED (request-xfr and allow-notify with FEED's key,
 * from 127.0.0.1 and ::1) with its zone file at "<zonedir>/<file>", and
 * keeps serving downstream secondaries (provide-xfr, notify, store-ixfr)
 * through the "kubezone" pattern. Transfers from 127.0.0.1 and ::1 are
 * allowed unsigned and signed with any --tsig-key. A --notify that lists
 * zones gets its notify: line in those zones' clauses only (a listed
 * zone not in ZONES is left out: nc_opts_check_zones() refuses it
 * first). FEED is required.
 * 0, KZ_EINVAL (FEED NULL or invalid, or its key name also given as a
 * --tsig-key), KZ_ENOMEM or KZ_ETOOBIG.
 */
int nc_conf_render(const struct nc_opts *o, const struct nc_paths *p,
    const struct nc_feed_ref *feed, const struct nc_zone_ref *zones,
    size_t nzones, struct kz_buf *out);

/*
 * Open PATH for reading only if it is a regular file and not a symbolic
 * link (NSD's files: a FIFO or a link planted there must not block or
 * redirect kubezone). NULL with errno set (EINVAL: not a regular file).
 */
FILE *nc_fopen_regular(const char *path);


#endif
