/*
 * nsd-conf/publish.c -- the publish pipeline: write, validate, rename, reload.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "common/opt.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/publish.h"
#include "zonegen/names.h"

#define NC_STATE_MAGIC "# kubezone publish state v1"
#define NC_VALIDATE_MAX_PROCS 4	/* processes validating one zone */

/* --- serials ---------------------------------------------------------- */

int
nc_serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	if ((a < b && b - a < 0x80000000u) || (a > b && a - b > 0x80000000u))
		return -1;
	if ((a < b && b - a > 0x80000000u) || (a > b && a - b < 0x80000000u))
		return 1;
	return 0;	/* exactly 2^31 apart: undefined */
}

uint32_t
nc_serial_next(uint32_t last, bool have_last, uint32_t now)
{
	if (!have_last)
		return now;
	if (nc_serial_cmp(now, last) > 0)
		return now;
	return last + 1;
}

/* --- state ------------------------------------------------------------ */

static struct nc_pub_zone *
find_zone(const struct nc_publisher *p, const char *origin)
{
	char a[256], b[256];

	zg_name_bare(a, sizeof(a), origin);
	for (size_t i = 0; i < p->nzones; i++) {
		zg_name_bare(b, sizeof(b), p->zones[i].origin);
		if (strcasecmp(a, b) == 0)
			return &p->zones[i];
	}
	return NULL;
}

const struct nc_pub_zone *
nc_pub_find(const struct nc_publisher *p, const char *origin)
{
	return find_zone(p, origin);
}

static struct nc_pub_zone *
add_zone(struct nc_publisher *p, const char *origin, const char *file)
{
	struct nc_pub_zone *z;

	if (strlen(origin) >= sizeof(z->origin) ||
	    strlen(file) >= sizeof(z->file) || strchr(file, '/'))
		return NULL;
	if (p->zones == NULL || p->nzones == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		void *n = reallocarray(p->zones, cap, sizeof(*p->zones));

		if (n == NULL)
			return NULL;
		p->zones = n;
		p->cap = cap;
	}
	z = &p->zones[p->nzones++];
	memset(z, 0, sizeof(*z));
	snprintf(z->origin, sizeof(z->origin), "%s", origin);
	snprintf(z->file, sizeof(z->file), "%s", file);
	return z;
}

static int
file_exists(const struct nc_publisher *p, const char *file)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->zonedir, file) >=
	    sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void
load_state(struct nc_publisher *p)
{
	char line[1024];
	unsigned lineno = 0;
	FILE *f = fopen(p->statefile, "re");

	if (f == NULL) {
		if (errno != ENOENT)
			kz_warn("cannot read publish state", "file=%s "
			    "error=\"%s\"", p->statefile, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char origin[256], file[256];
		unsigned long serial;
		uint64_t hash;
		struct nc_pub_zone *z;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %lu %" SCNx64 " %255s", origin,
		    &serial, &hash, file) != 4 || serial > UINT32_MAX ||
		    find_zone(p, origin)) {
			kz_warn("skipping a damaged publish state line",
			    "file=%s line=%u", p->statefile, lineno);
			continue;
		}
		z = add_zone(p, origin, file);
		if (z == NULL)
			continue;
		z->serial = (uint32_t)serial;
		z->hash = hash;
		z->installed = file_exists(p, file);
	}
	fclose(f);
}

int
nc_pub_save(const struct nc_publisher *p)
{
	struct kz_buf b;
	int rc;

	kz_buf_init(&b, 16u * 1024 * 1024);
	rc = kz_buf_printf(&b, "%s\n# origin serial hash file\n",
	    NC_STATE_MAGIC);
	for (size_t i = 0; i < p->nzones && rc == 0; i++)
		if (p->zones[i].installed)
			rc = kz_buf_printf(&b, "%s %" PRIu32 " %016" PRIx64
			    " %s\n", p->zones[i].origin, p->zones[i].serial,
			    p->zones[i].hash, p->zones[i].file);
	if (rc == 0)
		rc = nc_write_atomic(p->statefile, b.data, b.len, 0640);
	kz_buf_free(&b);
	return rc;
}

int
nc_pub_init(struct nc_publisher *p, const char *zonedir,
    const char *statefile)
{
	memset(p, 0, sizeof(*p));
	if (strlen(zonedir) >= sizeof(p->zonedir) - 300 ||
	    strlen(statefile) >= sizeof(p->statefile))
		return KZ_ETOOBIG;
	snprintf(p->zonedir, sizeof(p->zonedir), "%s", zonedir);
	snprintf(p->statefile, sizeof(p->statefile), "%s", statefile);
	load_state(p);
	return KZ_OK;
}

void
nc_pub_free(struct nc_publisher *p)
{
	for (size_t i = 0; i < p->nzones; i++)
		nc_known_free(&p->zones[i].known);
	free(p->zones);
	p->zones = NULL;
	p->nzones = p->cap = 0;
}

/* --- validation ------------------------------------------------------- */

/*
 * The zone text is read whole and handed to ldns one record at a time
 * (ldns_rr_new_frm_str): this parses every record exactly as strictly
 * as reading the file with ldns_zone_new_frm_fp_l, without ldns' byte-
 * by-byte file reader. The zone-level checks (owner inside the zone,
 * CNAME alone at its name) compare owner text, which needs no name
 * conversions: a relative owner is inside the zone by construction.
 */

struct vstate {
	char origin[512];	/* current $ORIGIN, absolute, lower case */
	char apex[512];		/* the zone, absolute, lower case */
	char owner[512];	/* previous owner as written */
	bool origin_inside;	/* $ORIGIN is at or below the apex */
};

static void
lower_abs(char *out, size_t outsz, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < outsz; i++)
		out[o++] = (char)tolower((unsigned char)s[i]);
	if (o == 0 || out[o - 1] != '.')
		out[o++] = '.';
	out[o] = '\0';
}

/* Whether absolute lower-case NAME is APEX or below it. */
static bool
name_inside(const char *name, const char *apex)
{
	size_t n = strlen(name), a = strlen(apex);

	if (strcmp(apex, ".") == 0)
		return true;
	if (n < a || strcmp(name + n - a, apex) != 0)
		return false;
	return n == a || name[n - a - 1] == '.';
}

/* --- lines known to be valid ------------------------------------------ */

/* The hash context of a line: the $ORIGIN (absolute, lower case) and
 * $TTL in force. */
static uint64_t
known_seed(const char *origin_abs, uint32_t ttl)
{
	uint64_t h = KZ_FNV64_INIT;
	const uint8_t b[4] = { (uint8_t)ttl, (uint8_t)(ttl >> 8),
		(uint8_t)(ttl >> 16), (uint8_t)(ttl >> 24) };

	/* The origin with its NUL, then the TTL, byte by byte (the same
	 * bytes as hashing strlen + 1 and the uint32_t on x86, in a form
	 * clang --analyze can follow). */
	for (const char *s = origin_abs;; s++) {
		h = kz_fnv64(h, s, 1);
		if (*s == '\0')
			break;
	}
	return kz_fnv64(h, b, sizeof(b));
}

/* A record line that the known set may hold: one line with its owner,
 * no parentheses, no comment. */
static bool
plain_line(const char *ln, size_t len)
{
	return len > 0 && ln[0] != ' ' && ln[0] != '\t' && ln[0] != '$' &&
	    ln[0] != ';' && memchr(ln, '(', len) == NULL &&
	    memchr(ln, ')', len) == NULL && memchr(ln, ';', len) == NULL;
}

/* The set is open-addressed, 0 marks a free slot (a zero hash is
 * stored as 1: a false match only means a line is not parsed again). */
static uint64_t
known_key(uint64_t h)
{
	return h ? h : 1;
}

static bool
known_has(const struct nc_known *k, uint64_t h)
{
	size_t mask, i;

	if (k == NULL || k->cap == 0)
		return false;
	h = known_key(h);
	mask = k->cap - 1;
	for (i = (size_t)h & mask; k->hash[i]; i = (i + 1) & mask)
		if (k->hash[i] == h)
			return true;
	return false;
}

static void
known_add(struct nc_known *k, uint64_t h)
{
	size_t mask = k->cap - 1, i;

	h = known_key(h);
	for (i = (size_t)h & mask; k->hash[i]; i = (i + 1) & mask)
		if (k->hash[i] == h)
			return;
	k->hash[i] = h;
	k->n++;
}

/* The types zonegen writes, without ldns' search of its whole table. */
static ldns_rr_type
common_type(const char *tok)
{
	static const struct { const char *name; ldns_rr_type type; } t[] = {
		{ "A", LDNS_RR_TYPE_A }, { "AAAA", LDNS_RR_TYPE_AAAA },
		{ "SRV", LDNS_RR_TYPE_SRV }, { "PTR", LDNS_RR_TYPE_PTR },
		{ "CNAME", LDNS_RR_TYPE_CNAME }, { "NS", LDNS_RR_TYPE_NS },
		{ "TXT", LDNS_RR_TYPE_TXT }, { "SOA", LDNS_RR_TYPE_SOA },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(tok, t[i].name) == 0)
			return t[i].type;
	return 0;
}

/* The record type of a plain line from its text (owner, then optional
 * TTL and class, then the type), or 0. */
static ldns_rr_type
text_type(const char *ln, size_t len)
{
	const char *p = ln, *end = ln + len;
	char tok[32];
	int field = 0;

	while (p < end) {
		size_t n;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (n = 0; p + n < end && p[n] != ' ' && p[n] != '\t'; n++)
			;
		if (n == 0)
			break;
		if (field++ > 0) {
			if (n >= sizeof(tok))
				return 0;
			memcpy(tok, p, n);
			tok[n] = '\0';
			ldns_rr_type fast = common_type(tok);

			if (fast)
				return fast;
			if (!isdigit((unsigned char)tok[0]) &&
			    strcasecmp(tok, "IN") != 0 &&
			    strcasecmp(tok, "CH") != 0 &&
			    strcasecmp(tok, "HS") != 0 &&
			    strncasecmp(tok, "CLASS", 5) != 0)
				return ldns_get_rr_type_by_name(tok);
			if (field > 3)
				return 0;
		}
		p += n;
	}
	return 0;
}

void
nc_known_free(struct nc_known *k)
{
	free(k->hash);
	k->hash = NULL;
	k->n = 0;
	k->cap = 0;
}

int
nc_known_build(struct nc_known *k, const char *text, size_t len,
    const char *origin)
{
	const char *p = text, *end = text + len;
	char cur[512];
	uint32_t ttl = 3600;
	uint64_t seed;
	size_t lines = 1, cap = 16;

	nc_known_free(k);
	for (const char *q = text; q < end; q++)
		lines += *q == '\n';
	while (cap < lines * 2)
		cap *= 2;
	k->hash = calloc(cap, sizeof(*k->hash));
	if (k->hash == NULL)
		return KZ_ENOMEM;
	k->cap = cap;
	lower_abs(cur, sizeof(cur), origin, strlen(origin));
	seed = known_seed(cur, ttl);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (strncasecmp(p, "$ORIGIN ", 8) == 0 && l > 8) {
			const char *a = p + 8;
			lower_abs(cur, sizeof(cur), a, strcspn(a, " \t;\r\n"));
			seed = known_seed(cur, ttl);
		} else if (strncasecmp(p, "$TTL ", 5) == 0 && l > 5) {
			ttl = (uint32_t)strtoul(p + 5, NULL, 10);
			seed = known_seed(cur, ttl);
		} else if (plain_line(p, l)) {
			known_add(k, kz_fnv64(seed, p, l));
		}
		p = nl ? nl + 1 : end;
	}
	return KZ_OK;
}

/* Length of the first token of LINE (an owner), or 0 when it starts
 * with blank space (the previous owner). */
static size_t
owner_len(const char *line)
{
	size_t n = 0;

	while (line[n] && line[n] != ' ' && line[n] != '\t')
		n++;
	return n;
}

/* One piece of a zone's text and what validating it found. */
struct vchunk {
	const char *p;		/* text, from a line start */
	const char *end;
	int line0;		/* lines before P */
	bool first;		/* holds the start of the file: the SOA */
	uint32_t ttl;		/* $TTL in force at P */
	char origin_text[512];	/* $ORIGIN in force at P */
	const struct nc_known *known;	/* lines taken as parsed, or NULL */
	/* results */
	int rc;
	size_t n;
	size_t parsed;		/* records that went through ldns */
	size_t nsoa;
	char err[256];
};

static void
validate_chunk(struct vchunk *c, const char *origin, bool check_serial,
    uint32_t serial)
{
	struct vstate *v;
	ldns_rdf *cur_origin, *prev = NULL;
	struct kz_buf rec;
	uint32_t ttl = c->ttl;
	bool group_cname = false, group_other = false;
	size_t n = 0, nsoa = 0, parsed = 0;
	uint64_t seed = 0;
	const char *skipped_owner = NULL;	/* last record not parsed */
	size_t skipped_olen = 0;
	int line = c->line0, rc = KZ_OK;
	char *err = c->err;
	size_t errsz = sizeof(c->err);
	const char *p = c->p, *end = c->end;

	kz_buf_init(&rec, 1024 * 1024);
	v = calloc(1, sizeof(*v));
	cur_origin = ldns_dname_new_frm_str(c->origin_text);
	if (v == NULL || cur_origin == NULL) {
		snprintf(err, errsz, "invalid zone name '%s'", origin);
		rc = KZ_EPARSE;
		goto out;
	}
	lower_abs(v->apex, sizeof(v->apex), origin, strlen(origin));
	lower_abs(v->origin, sizeof(v->origin), c->origin_text,
	    strlen(c->origin_text));
	v->origin_inside = name_inside(v->origin, v->apex);
	seed = known_seed(v->origin, ttl);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ln = p;
		char *q;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), olen;
		ldns_rr *rr = NULL;
		ldns_status st;
		ldns_rr_type t = 0;
		int depth = 0;
		bool quoted = false, known = false;

		p = nl ? nl + 1 : end;
		line++;
		if (len > 0 && ln[len - 1] == '\r')
			len--;
		/* A line of the last validated version needs no parse. */
		if (c->known && plain_line(ln, len) &&
		    known_has(c->known, kz_fnv64(seed, ln, len))) {
			t = text_type(ln, len);
			known = t != 0 && t != LDNS_RR_TYPE_SOA;
		}
		kz_buf_reset(&rec);
		if (kz_buf_append(&rec, ln, len)) {
			snprintf(err, errsz, "line %d: record too long", line);
			rc = KZ_EPARSE;
			goto out;
		}
		/* A record in parentheses may go on over several lines (a
		 * known line is plain: one line, nothing to scan). */
		for (; !known;) {
			for (size_t i = 0; i < rec.len; i++) {
				char ch = rec.data[i];

				if (ch == '\\' && i + 1 < rec.len)
					i++;
				else if (ch == '"')
					quoted = !quoted;
				else if (!quoted && ch == ';') {
					/* Drop the comment, or joining the
					 * next line would comment it out. */
					rec.len = i;
					rec.data[i] = '\0';
					break;
				}
				else if (!quoted && ch == '(')
					depth++;
				else if (!quoted && ch == ')')
					depth--;
			}
			if (depth <= 0 || p >= end)
				break;
			nl = memchr(p, '\n', (size_t)(end - p));
			len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (kz_buf_putc(&rec, ' ') ||
			    kz_buf_append(&rec, p, len)) {
				snprintf(err, errsz, "line %d: record too long",
				    line);
				rc = KZ_EPARSE;
				goto out;
			}
			p = nl ? nl + 1 : end;
			line++;
			depth = 0;
			quoted = false;
		}
		q = rec.data ? rec.data : (char *)"";
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '\0' || *q == ';')
			continue;
		if (rec.data[0] == '$') {
			char *arg = rec.data + strcspn(rec.data, " \t");

			arg += strspn(arg, " \t");
			if (strncasecmp(rec.data, "$ORIGIN", 7) == 0) {
				size_t an = strcspn(arg, " \t;");
				ldns_rdf *o;

				arg[an] = '\0';
				o = ldns_dname_new_frm_str(arg);
				if (o == NULL || an == 0 || arg[an - 1] != '.') {
					ldns_rdf_deep_free(o);
					snprintf(err, errsz, "line %d: bad "
					    "$ORIGIN", line);
					rc = KZ_EPARSE;
					goto out;
				}
				ldns_rdf_deep_free(cur_origin);
				cur_origin = o;
				lower_abs(v->origin, sizeof(v->origin), arg, an);
				v->origin_inside = name_inside(v->origin,
				    v->apex);
				seed = known_seed(v->origin, ttl);
				continue;
			}
			if (strncasecmp(rec.data, "$TTL", 4) == 0) {
				unsigned long tv;
				char num[16];
				size_t an = strcspn(arg, " \t;");

				if (an == 0 || an >= sizeof(num)) {
					snprintf(err, errsz, "line %d: bad $TTL",
					    line);
					rc = KZ_EPARSE;
					goto out;
				}
				memcpy(num, arg, an);
				num[an] = '\0';
				if (kz_opt_ulong(num, 0, 0x7fffffffUL, &tv)) {
					snprintf(err, errsz, "line %d: bad $TTL",
					    line);
					rc = KZ_EPARSE;
					goto out;
				}
				ttl = (uint32_t)tv;
				seed = known_seed(v->origin, ttl);
				continue;
			}
			snprintf(err, errsz, "line %d: %.20s is not allowed",
			    line, rec.data);
			rc = KZ_EPARSE;
			goto out;
		}
		olen = owner_len(rec.data);
		if (known) {
			skipped_owner = ln;
			skipped_olen = olen;
		} else {
			/* A line without owner continues the last one: when
			 * that was not parsed, make it the previous owner. */
			if (olen == 0 && skipped_owner != NULL) {
				char own[512];

				snprintf(own, sizeof(own), "%.*s",
				    (int)skipped_olen, skipped_owner);
				ldns_rdf_deep_free(prev);
				prev = NULL;
				if (ldns_str2rdf_dname(&prev, own) ==
				    LDNS_STATUS_OK && !ldns_dname_str_absolute(own)
				    && ldns_dname_cat(prev, cur_origin) !=
				    LDNS_STATUS_OK) {
					ldns_rdf_deep_free(prev);
					prev = NULL;
				}
			}
			skipped_owner = NULL;
			st = ldns_rr_new_frm_str(&rr, rec.data, ttl,
			    cur_origin, &prev);
			if (st != LDNS_STATUS_OK) {
				snprintf(err, errsz, "line %d: %s", line,
				    ldns_get_errorstr_by_id(st));
				rc = KZ_EPARSE;
				goto out;
			}
			t = ldns_rr_get_type(rr);
			parsed++;
		}
		if (olen > 0) {
			bool inside;

			if (olen == 1 && rec.data[0] == '@') {
				inside = v->origin_inside;
			} else if (rec.data[olen - 1] == '.' && (olen < 2 ||
			    rec.data[olen - 2] != '\\')) {
				char abs[512];

				lower_abs(abs, sizeof(abs), rec.data, olen);
				inside = name_inside(abs, v->apex);
			} else {
				inside = v->origin_inside;
			}
			if (!inside) {
				snprintf(err, errsz, "line %d: owner outside "
				    "the zone %s", line, origin);
				ldns_rr_free(rr);
				rc = KZ_EPARSE;
				goto out;
			}
			/* Canonical order keeps one owner's records
			 * together: a new owner text starts a new group. */
			if (olen >= sizeof(v->owner) ||
			    strncasecmp(v->owner, rec.data, olen) != 0 ||
			    v->owner[olen] != '\0') {
				size_t cl = olen < sizeof(v->owner) ? olen :
				    sizeof(v->owner) - 1;

				memcpy(v->owner, rec.data, cl);
				v->owner[cl] = '\0';
				group_cname = group_other = false;
			}
		}
		if (n == 0 && c->first) {
			if (rr == NULL || t != LDNS_RR_TYPE_SOA ||
			    ldns_dname_compare(ldns_rr_owner(rr),
			    cur_origin) != 0 || !v->origin_inside ||
			    strcmp(v->origin, v->apex) != 0) {
				snprintf(err, errsz, "line %d: the first "
				    "record is not the SOA of %s", line,
				    origin);
				ldns_rr_free(rr);
				rc = KZ_EPARSE;
				goto out;
			}
			if (check_serial && (ldns_rr_rd_count(rr) < 3 ||
			    ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)) !=
			    serial)) {
				snprintf(err, errsz, "line %d: SOA serial is "
				    "not %" PRIu32, line, serial);
				ldns_rr_free(rr);
				rc = KZ_EPARSE;
				goto out;
			}
		}
		ldns_rr_free(rr);
		if (t == LDNS_RR_TYPE_SOA && (++nsoa > 1 || !c->first)) {
			snprintf(err, errsz, "line %d: a second SOA", line);
			rc = KZ_EPARSE;
			goto out;
		}
		if (t == LDNS_RR_TYPE_CNAME)
			group_cname = true;
		else if (t != LDNS_RR_TYPE_RRSIG && t != LDNS_RR_TYPE_NSEC)
			group_other = true;
		if (group_cname && group_other) {
			snprintf(err, errsz, "line %d: CNAME and other data "
			    "at the same name", line);
			rc = KZ_EPARSE;
			goto out;
		}
		n++;
	}
out:
	c->rc = rc;
	c->n = n;
	c->parsed = parsed;
	c->nsoa = nsoa;
	ldns_rdf_deep_free(cur_origin);
	ldns_rdf_deep_free(prev);
	kz_buf_free(&rec);
	free(v);
}

/* Owner token of the line at P (up to a blank), its length in *LEN. */
static const char *
line_owner(const char *p, const char *end, size_t *len)
{
	size_t n = 0;

	while (p + n < end && p[n] != ' ' && p[n] != '\t' && p[n] != '\n')
		n++;
	*len = n;
	return p;
}

/*
 * Split TEXT into up to MAX pieces that can be validated apart: only for
 * the shape kubezone writes ($ORIGIN and $TTL on the first two lines, no
 * other directive, no parentheses), cut where a new owner name begins so
 * no CNAME group is split. Returns the number of pieces (1: no split).
 */
static size_t
split_text(const char *text, size_t len, const char *origin,
    struct vchunk *c, size_t max)
{
	const char *end = text + len, *p, *l2, *l3;
	unsigned long ttl;
	char num[16];
	size_t n = 1, k;

	memset(&c[0], 0, sizeof(c[0]));
	c[0].p = text;
	c[0].end = end;
	c[0].first = true;
	c[0].ttl = 3600;
	snprintf(c[0].origin_text, sizeof(c[0].origin_text), "%s", origin);
	if (max < 2 || len < (1u << 20) || strncmp(text, "$ORIGIN ", 8) != 0)
		return 1;
	l2 = memchr(text, '\n', len);
	if (l2 == NULL || strncmp(l2 + 1, "$TTL ", 5) != 0)
		return 1;
	l3 = memchr(l2 + 1, '\n', (size_t)(end - l2 - 1));
	if (l3 == NULL || (size_t)(l3 - l2 - 6) >= sizeof(num) ||
	    (size_t)(l2 - text - 8) >= sizeof(c[0].origin_text))
		return 1;
	memcpy(num, l2 + 6, (size_t)(l3 - l2 - 6));
	num[l3 - l2 - 6] = '\0';
	if (kz_opt_ulong(num, 0, 0x7fffffffUL, &ttl) ||
	    memchr(text, '(', len) != NULL ||
	    memmem(l3, (size_t)(end - l3), "\n$", 2) != NULL)
		return 1;
	for (k = 1; k < max; k++) {
		const char *prev_owner, *own;
		size_t plen, olen;

		p = text + len * k / max;
		if (p <= c[n - 1].p)
			continue;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			break;
		prev_owner = NULL;
		plen = 0;
		/* Move on to the first line whose owner differs from the
		 * line before it (bounded: give up after 10,000 lines). */
		for (int tries = 0; p && p + 1 < end && tries < 10000;
		    tries++) {
			const char *ls = p + 1;
			const char *back = p;

			while (back > text && back[-1] != '\n')
				back--;
			prev_owner = line_owner(back, end, &plen);
			own = line_owner(ls, end, &olen);
			if (olen > 0 && (olen != plen ||
			    strncasecmp(own, prev_owner, olen) != 0))
				break;
			p = memchr(ls, '\n', (size_t)(end - ls));
		}
		if (p == NULL || p + 1 >= end)
			break;
		c[n - 1].end = p + 1;
		memset(&c[n], 0, sizeof(c[n]));
		c[n].p = p + 1;
		c[n].end = end;
		c[n].ttl = (uint32_t)ttl;
		memcpy(c[n].origin_text, text + 8, (size_t)(l2 - text - 8));
		c[n].origin_text[l2 - text - 8] = '\0';
		n++;
	}
	return n;
}

int
nc_zone_validate(const char *path, const char *origin, bool check_serial,
    uint32_t serial, size_t *nrecords, char *err, size_t errsz)
{
	return nc_zone_validate_known(path, origin, check_serial, serial, NULL,
	    nrecords, NULL, err, errsz);
}

int
nc_zone_validate_known(const char *path, const char *origin,
    bool check_serial, uint32_t serial, const struct nc_known *known,
    size_t *nrecords, size_t *parsed, char *err, size_t errsz)
{
	struct vchunk *c = NULL;
	struct kz_buf text;
	pid_t pids[NC_VALIDATE_MAX_PROCS];
	int fds[NC_VALIDATE_MAX_PROCS];
	size_t nchunks, nsoa = 0;	/* SOA records over all pieces */
	long ncpu;
	int rc = KZ_OK, fd;

	*nrecords = 0;
	kz_buf_init(&text, NC_PUB_MAX_ZONE_BYTES);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t r;

		if ((rc = kz_buf_reserve(&text, 1 << 20)))
			break;
		r = read(fd, text.data + text.len, text.cap - text.len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		text.len += (size_t)r;
		text.data[text.len] = '\0';
	}
	close(fd);
	if (rc) {
		snprintf(err, errsz, "cannot read %s: %s", path,
		    kz_strerror(rc));
		goto out;
	}
	c = calloc(NC_VALIDATE_MAX_PROCS, sizeof(*c));
	if (c == NULL) {
		rc = KZ_ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	/* With a known set few lines need ldns: no processes to fork. */
	nchunks = split_text(text.data ? text.data : "", text.len, origin, c,
	    known && known->n ? 1 : ncpu < NC_VALIDATE_MAX_PROCS ?
	    (size_t)ncpu : NC_VALIDATE_MAX_PROCS);
	for (size_t i = 0; i < nchunks; i++)
		c[i].known = known;
	/* Pieces after the first go to forked children (the text is
	 * shared copy-on-write); each sends its struct vchunk back. */
	for (size_t i = 1; i < nchunks; i++) {
		int pfd[2];

		pids[i] = -1;
		fds[i] = -1;
		for (const char *q = text.data; q && q < c[i].p; q++)
			if (*q == '\n')
				c[i].line0++;
		if (pipe2(pfd, O_CLOEXEC))
			continue;
		pids[i] = fork();
		if (pids[i] == 0) {
			ssize_t w;

			close(pfd[0]);
			validate_chunk(&c[i], origin, check_serial, serial);
			w = write(pfd[1], &c[i], sizeof(c[i]));
			_exit(w == (ssize_t)sizeof(c[i]) ? 0 : 1);
		}
		close(pfd[1]);
		if (pids[i] < 0)
			close(pfd[0]);
		else
			fds[i] = pfd[0];
	}
	validate_chunk(&c[0], origin, check_serial, serial);
	for (size_t i = 1; i < nchunks; i++) {
		struct vchunk res;
		size_t got = 0;
		int status;

		if (pids[i] > 0) {
			while (got < sizeof(res)) {
				ssize_t r = read(fds[i], (char *)&res + got,
				    sizeof(res) - got);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			close(fds[i]);
			while (waitpid(pids[i], &status, 0) < 0 &&
			    errno == EINTR)
				;
		}
		if (got == sizeof(res)) {
			c[i].rc = res.rc;
			c[i].n = res.n;
			c[i].parsed = res.parsed;
			c[i].nsoa = res.nsoa;
			memcpy(c[i].err, res.err, sizeof(c[i].err));
		} else {
			/* No child (fork failed) or it died: do it here. */
			validate_chunk(&c[i], origin, check_serial, serial);
		}
	}
	if (parsed)
		*parsed = 0;
	for (size_t i = 0; i < nchunks; i++) {
		*nrecords += c[i].n;
		if (parsed)
			*parsed += c[i].parsed;
		nsoa += c[i].nsoa;
		if (c[i].rc && rc == KZ_OK) {
			rc = c[i].rc;
			snprintf(err, errsz, "%s", c[i].err);
		}
	}
	if (rc == KZ_OK && (*nrecords == 0 || nsoa != 1)) {
		snprintf(err, errsz, "no SOA record (exactly one is required)");
		rc = KZ_EPARSE;
	}
out:
	kz_buf_free(&text);
	free(c);
	return rc;
}

/* --- publishing ------------------------------------------------------- */

static int
write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return KZ_OK;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = KZ_OK;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Write, validate and install one zone. 0 when installed; on failure
 * the old file is untouched and the temporary file removed.
 */
static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
install_zone(struct nc_publisher *p, const struct zg_zone *z,
    uint32_t serial, struct kz_buf *text, struct nc_known *known)
{
	double t0 = mono_ms(), t1, t2, t3;
	char tmp[PATH_MAX], path[PATH_MAX], bad[PATH_MAX], why[512];
	size_t nrec = 0, parsed = 0;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", p->zonedir,
	    z->file) >= sizeof(tmp) || (size_t)snprintf(path, sizeof(path),
	    "%s/%s", p->zonedir, z->file) >= sizeof(path) ||
	    (size_t)snprintf(bad, sizeof(bad), "%s/%s.rejected", p->zonedir,
	    z->file) >= sizeof(bad))
		return -ENAMETOOLONG;
	kz_buf_reset(text);
	rc = zg_zone_write(z, serial, text);
	if (rc) {
		kz_error("cannot render zone text", "zone=%s error=\"%s\"",
		    z->origin, kz_strerror(rc));
		return rc;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		kz_error("cannot create zone file", "file=%s error=\"%s\"",
		    tmp, strerror(errno));
		return rc;
	}
	rc = write_all(fd, text->data, text->len);
	if (rc == 0 && fsync(fd))
		rc = -errno;
	if (close(fd) && rc == 0)
		rc = -errno;
	if (rc) {
		kz_error("cannot write zone file, keeping the old one",
		    "zone=%s file=%s error=\"%s\"", z->origin, tmp,
		    strerror(-rc));
		unlink(tmp);
		return rc;
	}
	t1 = mono_ms();
	rc = nc_zone_validate_known(tmp, z->origin, true, serial, known, &nrec,
	    &parsed, why, sizeof(why));
	t2 = mono_ms();
	if (rc) {
		/* Keep the rejected text beside the zone for inspection. */
		if (rename(tmp, bad))
			unlink(tmp);
		kz_error("zone failed validation, keeping the last good one",
		    "zone=%s serial=%" PRIu32 " reason=\"%s\" rejected=%s",
		    z->origin, serial, why, bad);
		return rc < 0 && rc > KZ_EBASE ? rc : KZ_EPARSE;
	}
	if (rename(tmp, path)) {
		rc = -errno;
		kz_error("cannot install zone file", "file=%s error=\"%s\"",
		    path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	/* The installed lines are the known set of the next version. On
	 * failure the next publish just parses everything again. */
	t3 = mono_ms();
	if (nc_known_build(known, text->data, text->len, z->origin))
		nc_known_free(known);
	kz_debug("zone installed", "zone=%s records=%zu parsed=%zu "
	    "write_ms=%.1f validate_ms=%.1f rename_ms=%.1f known_ms=%.1f",
	    z->origin, nrec, parsed, t1 - t0, t2 - t1, t3 - t2,
	    mono_ms() - t3);
	return KZ_OK;
}

int
nc_pub_publish(struct nc_publisher *p, const struct zg_zoneset *zs,
    uint32_t now, struct nc_pub_result *res)
{
	struct nc_pub_result local;
	struct kz_buf text;
	size_t *changed = NULL, nchanged = 0;
	int rc = KZ_OK;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (zs->nzones > 0) {
		changed = calloc(zs->nzones, sizeof(*changed));
		if (changed == NULL)
			return KZ_ENOMEM;
	}
	kz_buf_init(&text, NC_PUB_MAX_ZONE_BYTES);
	for (size_t i = 0; i < zs->nzones; i++) {
		const struct zg_zone *z = &zs->zones[i];
		struct nc_pub_zone *pz = find_zone(p, z->origin);
		bool have_last;
		uint32_t serial;
		int zrc;

		if (pz == NULL) {
			pz = add_zone(p, z->origin, z->file);
			if (pz == NULL) {
				rc = KZ_ENOMEM;
				break;
			}
			have_last = false;
		} else {
			have_last = pz->serial != 0 || pz->installed;
		}
		if (pz->installed && pz->hash == z->hash &&
		    strcmp(pz->file, z->file) == 0 &&
		    file_exists(p, z->file)) {
			res->unchanged++;
			p->stats.unchanged++;
			continue;
		}
		serial = nc_serial_next(pz->serial, have_last, now);
		zrc = install_zone(p, z, serial, &text, &pz->known);
		if (zrc) {
			res->failed++;
			p->stats.failed++;
			if (rc == KZ_OK || zrc == KZ_ENOMEM)
				rc = zrc;
			continue;
		}
		snprintf(pz->file, sizeof(pz->file), "%s", z->file);
		pz->serial = serial;
		pz->hash = z->hash;
		pz->installed = true;
		changed[nchanged++] = (size_t)(pz - p->zones);
		res->changed++;
		p->stats.published++;
		kz_info("zone published", "zone=%s serial=%" PRIu32
		    " records=%zu bytes=%zu", z->origin, serial, z->nrecords,
		    text.len);
	}
	kz_buf_free(&text);
	if (nchanged > 0) {
		int src;

		if ((src = fsync_dir(p->zonedir)))
			kz_warn("cannot fsync the zone directory", "dir=%s "
			    "error=\"%s\"", p->zonedir, strerror(-src));
		if ((src = nc_pub_save(p))) {
			kz_error("cannot save publish state", "file=%s "
			    "error=\"%s\"", p->statefile, kz_strerror(src));
			if (rc == KZ_OK)
				rc = src;
		}
	}
	for (size_t i = 0; i < nchanged && p->reload; i++) {
		const char *origin = p->zones[changed[i]].origin;

		if (p->reload(p->reload_ctx, origin) == 0)
			res->reloaded++;
		else
			p->stats.reload_failed++;
	}
	free(changed);
	return rc;
}
