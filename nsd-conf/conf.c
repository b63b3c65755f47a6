/*
 * nsd-conf/conf.c -- NSD options, state directory paths and nsd.conf.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "nsd-conf/conf.h"

void
nc_opts_init(struct nc_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->state_dir, sizeof(o->state_dir), "%s",
	    NC_DEFAULT_STATE_DIR);
	o->verbosity = 1;
	o->ixfr_number = 5;
	o->edns_size = 1232;
	o->zonefiles_write = NC_DEFAULT_ZONEFILES_WRITE;
	o->journal_diffs = 64;
}

/* --- row parsers ------------------------------------------------------ */

static int
valid_key_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NC_KEY_NAME_MAX - 1)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return 0;
	return 1;
}

/* Parse ",key=NAME" (or "") at S into KEY. */
static int
parse_key_suffix(const char *s, char *key, char *err, size_t errsz)
{
	key[0] = '\0';
	if (*s == '\0')
		return KZ_OK;
	if (strncmp(s, ",key=", 5) != 0) {
		snprintf(err, errsz, "expected ',key=NAME' after the address");
		return KZ_EINVAL;
	}
	s += 5;
	if (!valid_key_name(s)) {
		snprintf(err, errsz, "invalid key name '%s'", s);
		return KZ_EINVAL;
	}
	snprintf(key, NC_KEY_NAME_MAX, "%s", s);
	return KZ_OK;
}

int
nc_parse_addr(const char *s, uint16_t defport, bool allow_key,
    struct nc_addr *out, char *err, size_t errsz)
{
	char ip[64], bin[16];
	const char *rest, *end;
	unsigned long port = defport;
	size_t iplen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			snprintf(err, errsz, "missing ']'");
			return KZ_EINVAL;
		}
		iplen = (size_t)(end - s - 1);
		s++;
		rest = end + 1;
	} else {
		/* A bare IPv6 address has several colons and no port. */
		const char *colon = strchr(s, ':');
		const char *comma = strchr(s, ',');

		end = comma ? comma : s + strlen(s);
		if (colon && colon < end && memchr(colon + 1, ':',
		    (size_t)(end - colon - 1)) == NULL)
			end = colon;
		iplen = (size_t)(end - s);
		rest = end;
	}
	if (iplen == 0 || iplen >= sizeof(ip)) {
		snprintf(err, errsz, "missing or overlong address");
		return KZ_EINVAL;
	}
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (inet_pton(AF_INET, ip, bin) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, ip, bin) == 1)
		out->family = 6;
	else {
		snprintf(err, errsz, "'%s' is not an IP address", ip);
		return KZ_EINVAL;
	}
	if (*rest == ':') {
		char num[8];
		const char *pend = strchr(rest + 1, ',');
		size_t n = pend ? (size_t)(pend - rest - 1) : strlen(rest + 1);

		if (n == 0 || n >= sizeof(num)) {
			snprintf(err, errsz, "invalid port");
			return KZ_EINVAL;
		}
		memcpy(num, rest + 1, n);
		num[n] = '\0';
		if (kz_opt_ulong(num, 1, 65535, &port)) {
			snprintf(err, errsz, "invalid port '%s'", num);
			return KZ_EINVAL;
		}
		rest += 1 + n;
	}
	if (*rest != '\0' && !allow_key) {
		snprintf(err, errsz, "unexpected '%s'", rest);
		return KZ_EINVAL;
	}
	if (parse_key_suffix(rest, out->key, err, errsz))
		return KZ_EINVAL;
	snprintf(out->ip, sizeof(out->ip), "%s", ip);
	out->port = (uint16_t)port;
	return KZ_OK;
}

/*
 * A zone name of N bytes at S ("cluster.local." or "cluster.local") into
 * OUT, lower case and without the final dot: labels of 1 to 63 letters,
 * digits, '-' or '_'.
 */
static int
parse_zone_name(const char *s, size_t n, char *out, char *err, size_t errsz)
{
	size_t label = 0;

	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= NC_ZONE_NAME_MAX - 1)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				goto bad;
			label = 0;
			out[i] = '.';
		} else if ((isalnum(c) || c == '-' || c == '_') &&
		    ++label <= 63) {
			out[i] = (char)tolower(c);
		} else {
			goto bad;
		}
	}
	if (label == 0)
		goto bad;
	out[n] = '\0';
	return KZ_OK;
bad:
	snprintf(err, errsz, "invalid zone name '%.*s'", n > 64 ? 64 : (int)n,
	    s);
	return KZ_EINVAL;
}

/* One ",NAME=VALUE" field of --notify, N bytes at S, into OUT. */
static int
notify_field(const char *s, size_t n, struct nc_notify *out, char *err,
    size_t errsz)
{
	char key[NC_KEY_NAME_MAX];

	if (n == 0) {
		snprintf(err, errsz, "an empty field between commas");
		return KZ_EINVAL;
	}
	if (n >= 4 && strncmp(s, "key=", 4) == 0) {
		if (out->addr.key[0]) {
			snprintf(err, errsz, "key= given twice");
			return KZ_EINVAL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(n - 4), s + 4);
		if (n - 4 >= sizeof(key) || !valid_key_name(key)) {
			snprintf(err, errsz, "invalid key name '%.64s'", key);
			return KZ_EINVAL;
		}
		memcpy(out->addr.key, key, strlen(key) + 1);
		return KZ_OK;
	}
	if (n >= 5 && strncmp(s, "zone=", 5) == 0) {
		if (out->nzones == NC_NOTIFY_ZONES) {
			snprintf(err, errsz, "at most %d zones", NC_NOTIFY_ZONES);
			return KZ_EINVAL;
		}
		if (parse_zone_name(s + 5, n - 5, out->zones[out->nzones], err,
		    errsz))
			return KZ_EINVAL;
		out->nzones++;
		return KZ_OK;
	}
	snprintf(err, errsz, "unexpected '%.*s' after the address (expected "
	    "key=NAME or zone=ZONE)", n > 64 ? 64 : (int)n, s);
	return KZ_EINVAL;
}

int
nc_parse_notify(const char *s, struct nc_notify *out, char *err,
    size_t errsz)
{
	const char *comma = strchr(s, ',');
	size_t n = comma ? (size_t)(comma - s) : strlen(s);
	char head[128];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(head)) {
		snprintf(err, errsz, "missing or overlong address");
		return KZ_EINVAL;
	}
	memcpy(head, s, n);
	head[n] = '\0';
	if (nc_parse_addr(head, 53, false, &out->addr, err, errsz))
		return KZ_EINVAL;
	while (comma) {
		const char *field = comma + 1;

		comma = strchr(field, ',');
		n = comma ? (size_t)(comma - field) : strlen(field);
		if (notify_field(field, n, out, err, errsz))
			return KZ_EINVAL;
	}
	return KZ_OK;
}

/* ZONE without its final dot: its length. */
static size_t
bare_len(const char *zone)
{
	size_t n = strlen(zone);

	return n > 1 && zone[n - 1] == '.' ? n - 1 : n;
}

bool
nc_notify_serves(const struct nc_notify *n, const char *zone)
{
	size_t len = bare_len(zone);

	if (n->nzones == 0)
		return true;
	for (size_t i = 0; i < n->nzones; i++)
		if (strlen(n->zones[i]) == len &&
		    strncasecmp(n->zones[i], zone, len) == 0)
			return true;
	return false;
}

int
nc_parse_acl(const char *s, struct nc_acl *out, char *err, size_t errsz)
{
	char cidr[64], bin[16];
	const char *comma = strchr(s, ',');
	size_t n = comma ? (size_t)(comma - s) : strlen(s);
	char *slash;
	int family;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(cidr)) {
		snprintf(err, errsz, "missing or overlong address");
		return KZ_EINVAL;
	}
	memcpy(cidr, s, n);
	cidr[n] = '\0';
	slash = strchr(cidr, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, cidr, bin) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, cidr, bin) == 1)
		family = 6;
	else {
		snprintf(err, errsz, "'%s' is not an IP address", cidr);
		return KZ_EINVAL;
	}
	if (slash) {
		unsigned long len;

		*slash = '/';
		if (kz_opt_ulong(slash + 1, 0, family == 4 ? 32 : 128, &len)) {
			snprintf(err, errsz, "invalid prefix length '%s'",
			    slash + 1);
			return KZ_EINVAL;
		}
	}
	if (parse_key_suffix(s + n, out->key, err, errsz))
		return KZ_EINVAL;
	snprintf(out->cidr, sizeof(out->cidr), "%s", cidr);
	return KZ_OK;
}

static const char *const tsig_algs[] = {
	"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
	"hmac-sha512", NULL
};

static int
valid_base64(const char *s)
{
	size_t n = 0, pad = 0;

	for (; *s; s++, n++) {
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || !(isalnum((unsigned char)*s) || *s == '+' ||
		    *s == '/'))
			return 0;
	}
	return n >= 4 && n % 4 == 0 && pad <= 2;
}

int
nc_parse_key(const char *s, struct nc_key *out, char *err, size_t errsz)
{
	const char *c1 = strchr(s, ':'), *c2;
	size_t n;
	int i;

	/* Messages name the key, never the secret. */
	memset(out, 0, sizeof(*out));
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c1 == NULL || c2 == NULL) {
		snprintf(err, errsz, "expected NAME:ALGORITHM:SECRET");
		return KZ_EINVAL;
	}
	n = (size_t)(c1 - s);
	if (n == 0 || n >= sizeof(out->name)) {
		snprintf(err, errsz, "invalid key name");
		return KZ_EINVAL;
	}
	memcpy(out->name, s, n);
	if (n > 1 && out->name[n - 1] == '.')
		out->name[n - 1] = '\0';
	if (!valid_key_name(out->name)) {
		snprintf(err, errsz, "invalid key name '%s'", out->name);
		return KZ_EINVAL;
	}
	n = (size_t)(c2 - c1 - 1);
	for (i = 0; tsig_algs[i]; i++)
		if (strlen(tsig_algs[i]) == n &&
		    strncasecmp(tsig_algs[i], c1 + 1, n) == 0)
			break;
	if (tsig_algs[i] == NULL) {
		snprintf(err, errsz, "key '%s': unknown TSIG algorithm '%.*s' "
		    "(use hmac-sha256, hmac-sha512, ...)", out->name,
		    n > 32 ? 32 : (int)n, c1 + 1);
		return KZ_EINVAL;
	}
	snprintf(out->alg, sizeof(out->alg), "%s", tsig_algs[i]);
	if (strlen(c2 + 1) >= sizeof(out->secret) || !valid_base64(c2 + 1)) {
		snprintf(err, errsz, "key '%s': the secret is not base64 (or "
		    "longer than %d characters)", out->name, NC_SECRET_MAX - 1);
		return KZ_EINVAL;
	}
	snprintf(out->secret, sizeof(out->secret), "%s", c2 + 1);
	return KZ_OK;
}

/* --- setters ---------------------------------------------------------- */

static int
set_listen(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_opts *o = ctx;

	if (o->nlisten == NC_MAX_LIST) {
		snprintf(err, errsz, "at most %d addresses", NC_MAX_LIST);
		return KZ_EINVAL;
	}
	if (nc_parse_addr(arg, NC_DEFAULT_PORT, false, &o->listen[o->nlisten],
	    err, errsz))
		return KZ_EINVAL;
	o->nlisten++;
	return KZ_OK;
}

static int
set_state_dir(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_opts *o = ctx;

	if (*arg == '\0' || strlen(arg) >= sizeof(o->state_dir) - 64) {
		snprintf(err, errsz, "empty or overlong path");
		return KZ_EINVAL;
	}
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", arg);
	return KZ_OK;
}

static int
set_nsd(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_opts *o = ctx;

	if (*arg == '\0' || strlen(arg) >= sizeof(o->nsd)) {
		snprintf(err, errsz, "empty or overlong path");
		return KZ_EINVAL;
	}
	snprintf(o->nsd, sizeof(o->nsd), "%s", arg);
	return KZ_OK;
}

static int
set_allow(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_opts *o = ctx;

	if (o->nallow == NC_MAX_LIST) {
		snprintf(err, errsz, "at most %d entries", NC_MAX_LIST);
		return KZ_EINVAL;
	}
	if (nc_parse_acl(arg, &o->allow[o->nallow], err, errsz))
		return KZ_EINVAL;
	o->nallow++;
	return KZ_OK;
}

static int
set_notify(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_opts *o = ctx;

	if (o->nnotify == NC_MAX_LIST) {
		snprintf(err, errsz, "at most %d entries", NC_MAX_LIST);
		return KZ_EINVAL;
	}
	if (nc_parse_notify(arg, &o->notify[o->nnotify], err, errsz))
		return KZ_EINVAL;
	o->nnotify++;
	return KZ_OK;
}

static int
add_key(struct nc_opts *o, const char *s, char *err, size_t errsz)
{
	struct nc_key k;

	if (nc_parse_key(s, &k, err, errsz))
		return KZ_EINVAL;
	for (size_t i = 0; i < o->nkeys; i++)
		if (strcasecmp(o->keys[i].name, k.name) == 0) {
			snprintf(err, errsz, "key '%s' given twice", k.name);
			return KZ_EINVAL;
		}
	if (o->nkeys == NC_MAX_LIST) {
		snprintf(err, errsz, "at most %d keys", NC_MAX_LIST);
		return KZ_EINVAL;
	}
	o->keys[o->nkeys++] = k;
	return KZ_OK;
}

static int
set_key(void *ctx, const char *arg, char *err, size_t errsz)
{
	return add_key(ctx, arg, err, errsz);
}

/* Secrets: a key file others may read deserves a warning. */
static void
warn_if_readable(FILE *f, const char *path)
{
	struct stat st;

	if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		kz_warn("TSIG key file is readable by group or others; chmod "
		    "600 it", "file=%s mode=%04o", path,
		    (unsigned)(st.st_mode & 07777));
}

static int
set_key_file(void *ctx, const char *arg, char *err, size_t errsz)
{
	char line[1024], msg[256];
	unsigned lineno = 0;
	FILE *f = fopen(arg, "re");
	int rc = KZ_OK;

	if (f == NULL) {
		snprintf(err, errsz, "cannot open: %s", strerror(errno));
		return KZ_EINVAL;
	}
	warn_if_readable(f, arg);
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		lineno++;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (add_key(ctx, s, msg, sizeof(msg))) {
			snprintf(err, errsz, "line %u: %s", lineno, msg);
			rc = KZ_EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int
set_verbosity(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct nc_opts *)ctx)->verbosity = (unsigned)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_ixfr_number(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct nc_opts *)ctx)->ixfr_number = (unsigned)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_edns_size(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct nc_opts *)ctx)->edns_size = (unsigned)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_zonefiles_write(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct nc_opts *)ctx)->zonefiles_write = (unsigned)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_journal(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct nc_opts *)ctx)->journal_diffs = (unsigned)strtoul(arg, NULL, 10);
	return KZ_OK;
}

const struct kz_opt nc_opt_table[] = {
	{ "listen", "ADDR[:PORT]", "127.0.0.1:5353", NULL, true, set_listen,
	  "Address NSD answers on; write IPv6 as [::1]:5353." },
	{ "state-dir", "DIR", NC_DEFAULT_STATE_DIR, NULL, false,
	  set_state_dir,
	  "Directory for nsd.conf, zone files, serials and NSD's sockets." },
	{ "nsd", "PATH", "nsd on PATH or in /usr/sbin", NULL, false, set_nsd,
	  "The NSD binary (4.5 or newer)." },
	{ "allow-transfer", "CIDR[,key=NAME]", NULL, NULL, true, set_allow,
	  "Also allow AXFR/IXFR from CIDR (127.0.0.1 and ::1 always may, "
	  "unsigned or signed with any --tsig-key); with a key, only "
	  "TSIG-signed requests." },
	{ "notify", "ADDR[:PORT][,key=NAME][,zone=ZONE]...", NULL, NULL, true,
	  set_notify,
	  "Send NOTIFY to this secondary on every new serial (signed with "
	  "key NAME); with zone= (repeatable, a zone kubezone serves) only "
	  "for the zones listed, and kubezone asks it about no other zone." },
	{ "tsig-key", "NAME:ALG:SECRET", NULL, NULL, true, set_key,
	  "A TSIG key (ALG hmac-sha256, ...; SECRET base64)." },
	{ "tsig-key-file", "FILE", NULL, NULL, true, set_key_file,
	  "Read TSIG keys from FILE, one NAME:ALG:SECRET per line." },
	{ "nsd-verbosity", "N", "1", NULL, false, set_verbosity,
	  "NSD's log verbosity.", KZ_OPT_NUMBER, 0, 5 },
	{ "ixfr-number", "N", "5", NULL, false, set_ixfr_number,
	  "Zone versions NSD keeps for IXFR (0 disables IXFR-out).",
	  KZ_OPT_NUMBER, 0, 1000 },
	{ "edns-size", "BYTES", "1232", NULL, false, set_edns_size,
	  "Largest UDP answer NSD sends (ipv4/ipv6-edns-size).",
	  KZ_OPT_NUMBER, 512, 65535 },
	{ "zonefiles-write", "SECONDS", "5", NULL, false, set_zonefiles_write,
	  "Have NSD write changed zones to the zone files in the state "
	  "directory after this many seconds without a change, and at the "
	  "latest 12 times that after the first change not written, however "
	  "busy the cluster (a write holds NSD's next update back while it "
	  "lasts); also at a clean stop. 0: only at a clean stop.",
	  KZ_OPT_NUMBER, 0, 86400 },
	{ "journal", "DIFFS", "64", NULL, false, set_journal,
	  "Diffs kubezone keeps per zone to serve NSD by IXFR; NSD asking "
	  "from an older serial gets the whole zone.", KZ_OPT_NUMBER, 1,
	  100000 },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static const struct nc_key *
find_key(const struct nc_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nkeys; i++)
		if (strcasecmp(o->keys[i].name, name) == 0)
			return &o->keys[i];
	return NULL;
}

int
nc_opts_finish(struct nc_opts *o, char *err, size_t errsz)
{
	for (size_t i = 0; i < o->nkeys; i++)
		if (strcasecmp(o->keys[i].name, NC_CONF_FEED_KEY) == 0) {
			snprintf(err, errsz, "--tsig-key %s: the name is "
			    "kubezone's own (the key NSD fetches the zones "
			    "with); choose another", o->keys[i].name);
			return KZ_EUSAGE;
		}
	for (size_t i = 0; i < o->nallow; i++)
		if (o->allow[i].key[0] && !find_key(o, o->allow[i].key)) {
			snprintf(err, errsz, "--allow-transfer %s: no "
			    "--tsig-key named '%s'", o->allow[i].cidr,
			    o->allow[i].key);
			return KZ_EUSAGE;
		}
	for (size_t i = 0; i < o->nnotify; i++) {
		const struct nc_addr *a = &o->notify[i].addr;

		if (a->key[0] && !find_key(o, a->key)) {
			snprintf(err, errsz, "--notify %s: no --tsig-key "
			    "named '%s'", a->ip, a->key);
			return KZ_EUSAGE;
		}
	}
	if (o->nlisten == 0) {
		snprintf(o->listen[0].ip, sizeof(o->listen[0].ip),
		    "127.0.0.1");
		o->listen[0].port = NC_DEFAULT_PORT;
		o->listen[0].family = 4;
		o->nlisten = 1;
	}
	return KZ_OK;
}

/* Whether ZONES holds NAME (lower case, no final dot). */
static bool
zone_listed(const struct nc_zone_ref *zones, size_t nzones, const char *name)
{
	for (size_t i = 0; i < nzones; i++)
		if (strlen(zones[i].name) == bare_len(name) &&
		    strncasecmp(zones[i].name, name, bare_len(name)) == 0)
			return true;
	return false;
}

/* "cluster.local., in-addr.arpa., ..." into OUT, cut short to fit. */
static void
zone_names_text(char *out, size_t outsz, const struct nc_zone_ref *zones,
    size_t nzones)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < nzones; i++) {
		size_t need = strlen(zones[i].name) + 3;

		if (len + need + 6 >= outsz) {
			snprintf(out + len, outsz - len, "%s...", i ? ", " : "");
			return;
		}
		len += (size_t)snprintf(out + len, outsz - len, "%s%s.",
		    i ? ", " : "", zones[i].name);
	}
}

int
nc_opts_check_zones(const struct nc_opts *o,
    const struct nc_zone_ref *zones, size_t nzones, char *err, size_t errsz)
{
	char served[256];

	for (size_t i = 0; i < o->nnotify; i++) {
		const struct nc_notify *n = &o->notify[i];

		for (size_t z = 0; z < n->nzones; z++) {
			if (zone_listed(zones, nzones, n->zones[z]))
				continue;
			zone_names_text(served, sizeof(served), zones, nzones);
			snprintf(err, errsz, "--notify %s: zone '%s.' is not one "
			    "kubezone serves (%s; see --zone and "
			    "--reverse-zone)", n->addr.ip, n->zones[z], served);
			return KZ_EUSAGE;
		}
	}
	return KZ_OK;
}

/* Whether an --allow-transfer CIDR stays inside 127.0.0.0/8 or is ::1. */
static bool
acl_loopback(const struct nc_acl *a)
{
	unsigned char bin[16];
	char ip[64];
	const char *slash = strchr(a->cidr, '/');
	size_t n = slash ? (size_t)(slash - a->cidr) : strlen(a->cidr);
	unsigned long len;

	if (n >= sizeof(ip))
		return false;
	memcpy(ip, a->cidr, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, bin) == 1)
		return bin[0] == 127 && (slash == NULL ||
		    (kz_opt_ulong(slash + 1, 8, 32, &len) == 0));
	return inet_pton(AF_INET6, ip, bin) == 1 &&
	    memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0 &&
	    (slash == NULL || kz_opt_ulong(slash + 1, 128, 128, &len) == 0);
}

bool
nc_opts_remote_transfers(const struct nc_opts *o)
{
	for (size_t i = 0; i < o->nallow; i++)
		if (!acl_loopback(&o->allow[i]))
			return true;
	return false;
}

/* --- paths ------------------------------------------------------------ */

static int
join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outsz ? KZ_ETOOBIG : KZ_OK;
}

int
nc_paths_init(struct nc_paths *p, const char *dir)
{
	size_t n = strlen(dir);

	memset(p, 0, sizeof(*p));
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n >= sizeof(p->dir))
		return KZ_ETOOBIG;
	memcpy(p->dir, dir, n);
	p->dir[n] = '\0';
	if (join(p->conf, sizeof(p->conf), p->dir, "nsd.conf") ||
	    join(p->zonedir, sizeof(p->zonedir), p->dir, "zones") ||
	    join(p->pidfile, sizeof(p->pidfile), p->dir, "nsd.pid") ||
	    join(p->ctl, sizeof(p->ctl), p->dir, "nsd.ctl") ||
	    join(p->xfrdir, sizeof(p->xfrdir), p->dir, "xfr") ||
	    join(p->zonelist, sizeof(p->zonelist), p->dir, "zone.list") ||
	    join(p->xfrdfile, sizeof(p->xfrdfile), p->xfrdir, "xfrd.state") ||
	    join(p->state, sizeof(p->state), p->dir, "publish.state") ||
	    join(p->serials, sizeof(p->serials), p->dir, "serial.state"))
		return KZ_ETOOBIG;
	return KZ_OK;
}

/* Create PATH's missing parents (0755) and PATH itself (MODE). */
static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return KZ_OK;
}

/*
 * Open directory PATH (no symlink) and check it is safe to write in: a
 * directory owned by us (or by OTHER_UID, when not -1) that neither
 * group nor others may write. FD gets it; 0 or -errno with ERR filled.
 */
static int
open_safe_dir(const char *path, uid_t other_uid, int *fd, char *err,
    size_t errsz)
{
	struct stat st;
	int rc;

	*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s%s", path, strerror(errno),
		    errno == ELOOP || errno == ENOTDIR ? " (not a directory, "
		    "or a symbolic link)" : "");
		return rc;
	}
	if (fstat(*fd, &st)) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid() && st.st_uid != other_uid) {
		snprintf(err, errsz, "%s is owned by uid %u, not by kubezone's "
		    "user (uid %u): refusing to use it", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		rc = -EPERM;
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "%s is group- or world-writable (mode "
		    "%04o): refusing to use it (chmod go-w)", path,
		    (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
		goto fail;
	}
	return KZ_OK;
fail:
	close(*fd);
	*fd = -1;
	return rc;
}

int
nc_paths_nsd_user(struct nc_paths *p, char *err, size_t errsz)
{
	struct passwd *pw;

	p->nsd_user[0] = '\0';
	if (geteuid() != 0)
		return KZ_OK;
	pw = getpwnam(NC_NSD_USER);
	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(err, errsz, "kubezone runs as root and NSD must not: "
		    "there is no user '%s' for NSD to run as (Debian's nsd "
		    "package creates it; or run kubezone as another user)",
		    NC_NSD_USER);
		return KZ_ENOTFOUND;
	}
	snprintf(p->nsd_user, sizeof(p->nsd_user), "%s", NC_NSD_USER);
	p->nsd_uid = pw->pw_uid;
	p->nsd_gid = pw->pw_gid;
	return KZ_OK;
}

/* The state directory itself: ours, 0700; 0710 group NSD for NSD. */
static int
state_dir_check(const struct nc_paths *p, char *err, size_t errsz)
{
	int fd, rc;

	rc = open_safe_dir(p->dir, (uid_t)-1, &fd, err, errsz);
	if (rc) {
		if (rc == -EPERM)
			return rc;
		snprintf(err, errsz, "state directory %s: %s", p->dir,
		    strerror(-rc));
		return rc;
	}
	/* NSD, chrooted here, must be able to reach zones/ and xfr/. */
	if (p->nsd_user[0] && (fchown(fd, (uid_t)-1, p->nsd_gid) ||
	    fchmod(fd, 0710))) {
		rc = -errno;
		snprintf(err, errsz, "state directory %s: cannot give NSD's "
		    "group access: %s", p->dir, strerror(errno));
	}
	close(fd);
	return rc;
}

/* zones/ or xfr/: created 0700, owned by NSD's user when NSD drops root. */
static int
nsd_dir_prepare(const struct nc_paths *p, const char *path, char *err,
    size_t errsz)
{
	uid_t nsd_uid = p->nsd_user[0] ? p->nsd_uid : (uid_t)-1;
	int fd, rc;

	if (mkdir(path, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errsz, "cannot create %s: %s", path,
		    strerror(errno));
		return rc;
	}
	if ((rc = open_safe_dir(path, nsd_uid, &fd, err, errsz)))
		return rc;
	if (p->nsd_user[0] && (fchown(fd, p->nsd_uid, p->nsd_gid) ||
	    fchmod(fd, 0700))) {
		rc = -errno;
		snprintf(err, errsz, "cannot give %s to user %s: %s", path,
		    p->nsd_user, strerror(errno));
	}
	close(fd);
	return rc;
}

/* Whether we may create files in P->dir (a probe file, exclusive). */
static int
state_dir_writable(const struct nc_paths *p, char *err, size_t errsz)
{
	char probe[PATH_MAX];
	int fd, rc;

	if (join(probe, sizeof(probe), p->dir, ".write-test"))
		return -ENAMETOOLONG;
	unlink(probe);
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "state directory %s is not writable: %s",
		    p->dir, strerror(errno));
		return rc;
	}
	close(fd);
	unlink(probe);
	return KZ_OK;
}

int
nc_state_dir_prepare(const char *dir, struct nc_paths *p, char *err,
    size_t errsz)
{
	char abs[PATH_MAX], legacy[PATH_MAX];
	int rc;

	rc = mkdir_p(dir, 0700);
	if (rc) {
		snprintf(err, errsz, "cannot create state directory %s: %s",
		    dir, strerror(-rc));
		return rc;
	}
	if (realpath(dir, abs) == NULL) {
		rc = -errno;
		snprintf(err, errsz, "state directory %s: %s", dir,
		    strerror(errno));
		return rc;
	}
	if (nc_paths_init(p, abs)) {
		snprintf(err, errsz, "state directory path %s is too long "
		    "(the control socket path must fit in 107 bytes)", abs);
		return -ENAMETOOLONG;
	}
	err[0] = '\0';
	if ((rc = nc_paths_nsd_user(p, err, errsz)) ||
	    (rc = state_dir_check(p, err, errsz)) ||
	    (rc = state_dir_writable(p, err, errsz)) ||
	    (rc = nsd_dir_prepare(p, p->zonedir, err, errsz)) ||
	    (rc = nsd_dir_prepare(p, p->xfrdir, err, errsz)))
		return rc;
	/* Earlier versions kept xfrd.state here, where NSD (no longer
	 * root) cannot write; it now lives in xfr/. */
	if (join(legacy, sizeof(legacy), p->dir, "xfrd.state") == 0)
		unlink(legacy);
	return KZ_OK;
}

/* --- nsd.conf --------------------------------------------------------- */

static int
conf_line(struct kz_buf *out, int *rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
conf_line(struct kz_buf *out, int *rc, const char *fmt, ...)
{
	va_list ap;

	if (*rc)
		return *rc;
	va_start(ap, fmt);
	*rc = kz_buf_vprintf(out, fmt, ap);
	va_end(ap);
	return *rc;
}

/* The feed key as a key: clause, or a --tsig-key. */
static void
render_key(struct kz_buf *out, int *rc, const struct nc_key *k)
{
	conf_line(out, rc, "key:\n");
	conf_line(out, rc, "\tname: \"%s\"\n", k->name);
	conf_line(out, rc, "\talgorithm: %s\n", k->alg);
	conf_line(out, rc, "\tsecret: \"%s\"\n", k->secret);
}

static void
render_server(struct kz_buf *out, int *rc, const struct nc_opts *o,
    const struct nc_paths *p)
{
	bool v4 = false, v6 = false;

	for (size_t i = 0; i < o->nlisten; i++) {
		if (o->listen[i].family == 4)
			v4 = true;
		else
			v6 = true;
	}
	conf_line(out, rc, "server:\n");
	conf_line(out, rc, "\tdebug-mode: yes\n");
	for (size_t i = 0; i < o->nlisten; i++)
		conf_line(out, rc, "\tip-address: %s@%u\n", o->listen[i].ip,
		    o->listen[i].port);
	conf_line(out, rc, "\tdo-ip4: %s\n", v4 ? "yes" : "no");
	conf_line(out, rc, "\tdo-ip6: %s\n", v6 ? "yes" : "no");
	/* As root, NSD binds its ports, then chroots to the state
	 * directory and becomes p->nsd_user (nc_state_dir_prepare). */
	conf_line(out, rc, "\tusername: \"%s\"\n", p->nsd_user);
	conf_line(out, rc, "\tchroot: \"%s\"\n", p->nsd_user[0] ? p->dir :
	    "");
	conf_line(out, rc, "\tdatabase: \"\"\n");
	conf_line(out, rc, "\tzonesdir: \"%s\"\n", p->zonedir);
	conf_line(out, rc, "\tpidfile: \"%s\"\n", p->pidfile);
	conf_line(out, rc, "\tzonelistfile: \"%s\"\n", p->zonelist);
	conf_line(out, rc, "\txfrdfile: \"%s\"\n", p->xfrdfile);
	conf_line(out, rc, "\txfrdir: \"%s\"\n", p->xfrdir);
	conf_line(out, rc, "\tverbosity: %u\n", o->verbosity);
	conf_line(out, rc, "\tserver-count: 1\n");
	conf_line(out, rc, "\treuseport: no\n");
	conf_line(out, rc, "\trrl-size: 1000\n");
	conf_line(out, rc, "\trrl-ratelimit: 0\n");
	conf_line(out, rc, "\trrl-whitelist-ratelimit: 0\n");
	conf_line(out, rc, "\tround-robin: yes\n");
	conf_line(out, rc, "\tipv4-edns-size: %u\n", o->edns_size);
	conf_line(out, rc, "\tipv6-edns-size: %u\n", o->edns_size);
	conf_line(out, rc, "\tzonefiles-check: no\n");
	/* After database: "", which would reset it to 3600 (nsd.conf(5)).
	 * kubezone asks NSD to write its zone files itself, in a quiet
	 * moment: a write holds NSD's next update back while it lasts. */
	conf_line(out, rc, "\tzonefiles-write: 0\n");
	/* Apply each transfer from the feed at once, not up to 1 s later. */
	conf_line(out, rc, "\txfrd-reload-timeout: 0\n");
}

/* A notify: line for the secondary A. */
static void
render_notify(struct kz_buf *out, int *rc, const struct nc_addr *a)
{
	conf_line(out, rc, "\tnotify: %s@%u %s\n", a->ip, a->port,
	    a->key[0] ? a->key : "NOKEY");
}

/*
 * The pattern every zone includes: secondary of the feed, primary for
 * the outside. create-ixfr is left out: it only makes diffs when NSD
 * reads a zone file, and NSD now gets its diffs by IXFR (store-ixfr
 * keeps them for downstream secondaries).
 */
static void
render_pattern(struct kz_buf *out, int *rc, const struct nc_opts *o,
    const struct nc_feed_ref *feed)
{
	conf_line(out, rc, "pattern:\n");
	conf_line(out, rc, "\tname: \"kubezone\"\n");
	conf_line(out, rc, "\trequest-xfr: %s@%u %s\n", feed->ip, feed->port,
	    feed->key.name);
	conf_line(out, rc, "\tallow-notify: 127.0.0.1 %s\n", feed->key.name);
	conf_line(out, rc, "\tallow-notify: ::1 %s\n", feed->key.name);
	/* This host may transfer unsigned, and signed with any key (a
	 * signed request matches no NOKEY entry): kubectl port-forward
	 * connections arrive from loopback. */
	conf_line(out, rc, "\tprovide-xfr: 127.0.0.1 NOKEY\n");
	conf_line(out, rc, "\tprovide-xfr: ::1 NOKEY\n");
	for (size_t i = 0; i < o->nkeys; i++) {
		conf_line(out, rc, "\tprovide-xfr: 127.0.0.1 %s\n",
		    o->keys[i].name);
		conf_line(out, rc, "\tprovide-xfr: ::1 %s\n", o->keys[i].name);
	}
	for (size_t i = 0; i < o->nallow; i++)
		conf_line(out, rc, "\tprovide-xfr: %s %s\n", o->allow[i].cidr,
		    o->allow[i].key[0] ? o->allow[i].key : "NOKEY");
	/* Targets that list their zones are in those zones' clauses. */
	for (size_t i = 0; i < o->nnotify; i++)
		if (o->notify[i].nzones == 0)
			render_notify(out, rc, &o->notify[i].addr);
	if (o->ixfr_number > 0) {
		conf_line(out, rc, "\tstore-ixfr: yes\n");
		conf_line(out, rc, "\tixfr-number: %u\n", o->ixfr_number);
	} else {
		conf_line(out, rc, "\tstore-ixfr: no\n");
	}
}

/* Each zone: its file, the pattern, and the --notify targets that list
 * it (NSD adds them to the pattern's). */
static void
render_zones(struct kz_buf *out, int *rc, const struct nc_opts *o,
    const struct nc_paths *p, const struct nc_zone_ref *zones, size_t nzones)
{
	for (size_t i = 0; i < nzones; i++) {
		conf_line(out, rc, "zone:\n");
		conf_line(out, rc, "\tname: \"%s\"\n", zones[i].name);
		conf_line(out, rc, "\tzonefile: \"%s/%s\"\n", p->zonedir,
		    zones[i].file);
		conf_line(out, rc, "\tinclude-pattern: \"kubezone\"\n");
		for (size_t t = 0; t < o->nnotify; t++)
			if (o->notify[t].nzones > 0 &&
			    nc_notify_serves(&o->notify[t], zones[i].name))
				render_notify(out, rc, &o->notify[t].addr);
	}
}

static int
feed_valid(const struct nc_opts *o, const struct nc_feed_ref *feed)
{
	unsigned char bin[16];
	size_t i;

	if (feed == NULL || feed->port == 0 ||
	    (inet_pton(AF_INET, feed->ip, bin) != 1 &&
	    inet_pton(AF_INET6, feed->ip, bin) != 1) ||
	    !valid_key_name(feed->key.name) || !valid_base64(feed->key.secret))
		return 0;
	for (i = 0; tsig_algs[i]; i++)
		if (strcmp(tsig_algs[i], feed->key.alg) == 0)
			break;
	return tsig_algs[i] != NULL && find_key(o, feed->key.name) == NULL;
}

int
nc_conf_render(const struct nc_opts *o, const struct nc_paths *p,
    const struct nc_feed_ref *feed, const struct nc_zone_ref *zones,
    size_t nzones, struct kz_buf *out)
{
	int rc = 0;

	if (!feed_valid(o, feed))
		return KZ_EINVAL;
	conf_line(out, &rc, "# nsd.conf generated by kubezone: do not edit, "
	    "it is rewritten at every start.\n");
	render_server(out, &rc, o, p);
	conf_line(out, &rc, "remote-control:\n");
	conf_line(out, &rc, "\tcontrol-enable: yes\n");
	conf_line(out, &rc, "\tcontrol-interface: \"%s\"\n", p->ctl);
	render_key(out, &rc, &feed->key);
	for (size_t i = 0; i < o->nkeys; i++)
		render_key(out, &rc, &o->keys[i]);
	render_pattern(out, &rc, o, feed);
	render_zones(out, &rc, o, p, zones, nzones);
	return rc;
}

/* --- the feed's key ---------------------------------------------------- */

static void
base64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 |
		    (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

int
nc_feed_ref_init(struct nc_feed_ref *f, uint16_t port)
{
	unsigned char raw[NC_CONF_FEED_SECRET_BYTES];
	size_t got = 0;

	memset(f, 0, sizeof(*f));
	if (port == 0)
		return KZ_EINVAL;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	snprintf(f->ip, sizeof(f->ip), "127.0.0.1");
	f->port = port;
	snprintf(f->key.name, sizeof(f->key.name), "%s", NC_CONF_FEED_KEY);
	snprintf(f->key.alg, sizeof(f->key.alg), "%s", NC_CONF_FEED_ALG);
	base64_encode(raw, sizeof(raw), f->key.secret);
	explicit_bzero(raw, sizeof(raw));
	return KZ_OK;
}

/* --- atomic files ----------------------------------------------------- */

FILE *
nc_fopen_regular(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (f == NULL)
		close(fd);
	return f;
}

