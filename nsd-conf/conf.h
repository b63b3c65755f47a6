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
 *   nsd.conf  nsd.pid  nsd.ctl (control socket)  publish.state
 *   zones/<zone>.zone (and NSD's <zone>.zone.ixfr*)  xfr/  zone.list
 *   xfrd.state
 */
#ifndef KZ_NSDCONF_CONF_H
#define KZ_NSDCONF_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/opt.h"

#define NC_MAX_LIST 32		/* entries in each repeatable option */
#define NC_KEY_NAME_MAX 256
#define NC_SECRET_MAX 256
#define NC_DEFAULT_PORT 5353
#define NC_DEFAULT_STATE_DIR "/var/lib/kubezone"

/* An address with a port: --listen and --notify. */
struct nc_addr {
	char ip[64];		/* textual, without brackets */
	uint16_t port;
	uint8_t family;		/* 4 or 6 */
	char key[NC_KEY_NAME_MAX];	/* --notify ...,key=NAME; "" = none */
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
	struct nc_addr notify[NC_MAX_LIST];
	size_t nkeys;
	struct nc_key keys[NC_MAX_LIST];
	unsigned verbosity;		/* NSD's verbosity, default 1 */
	unsigned ixfr_number;		/* IXFR diffs kept, default 5 */
	unsigned edns_size;		/* ipv4/ipv6-edns-size, default 1232 */
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
int nc_parse_acl(const char *s, struct nc_acl *out, char *err, size_t errsz);
int nc_parse_key(const char *s, struct nc_key *out, char *err, size_t errsz);

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
	char state[PATH_MAX];		/* publish.state */
};

/* Fill P from the absolute directory DIR; KZ_ETOOBIG when too long. */
int nc_paths_init(struct nc_paths *p, const char *dir);

/*
 * Create the state directory and its subdirectories (mode 0750) and
 * check they are writable; store the absolute paths in P. 0 or -errno,
 * with a message in ERR.
 */
int nc_state_dir_prepare(const char *dir, struct nc_paths *p, char *err,
    size_t errsz);

/* A zone NSD serves: NAME without the final dot, FILE relative to zonedir. */
struct nc_zone_ref {
	const char *name;
	const char *file;
};

/*
 * Append the whole nsd.conf for O, P and ZONES to OUT.
 * 0, KZ_ENOMEM or KZ_ETOOBIG.
 */
int nc_conf_render(const struct nc_opts *o, const struct nc_paths *p,
    const struct nc_zone_ref *zones, size_t nzones, struct kz_buf *out);

/*
 * Write TEXT to PATH atomically (temp file in the same directory,
 * fsync, rename, fsync of the directory) with MODE. 0 or -errno.
 * Shared by the config and the publisher's state file.
 */
int nc_write_atomic(const char *path, const char *text, size_t len,
    unsigned mode);

#endif
