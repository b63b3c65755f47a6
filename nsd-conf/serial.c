/*
 * nsd-conf/serial.c -- serials with reservations on disk (serial.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/serial.h"

#define NC_SERIAL_BLOCK_MAX (1u << 30)

/* --- RFC 1982 ---------------------------------------------------------- */

int
nc_sn_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = b - a;	/* distance from A up to B, mod 2^32 */

	if (d == 0 || d == 0x80000000u)
		return 0;
	return d < 0x80000000u ? -1 : 1;
}

uint32_t
nc_sn_max(uint32_t a, uint32_t b)
{
	return nc_sn_cmp(b, a) > 0 ? b : a;
}

/* --- zones -------------------------------------------------------------- */

/* ZONE as an absolute lower-case name into OUT (256 bytes). */
static int
norm_origin(char out[256], const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n > 254)
		return KZ_ENAME;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)zone[i];

		if (c <= ' ' || c >= 0x7f)
			return KZ_ENAME;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	if (out[n - 1] != '.') {
		out[n] = '.';
		out[n + 1] = '\0';
	}
	return KZ_OK;
}

static struct nc_sn_zone *
find_norm(const struct nc_serials *s, const char *origin)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (strcmp(s->zones[i].origin, origin) == 0)
			return &s->zones[i];
	return NULL;
}

/* The zone ZONE, added when new. 0, KZ_ENAME or KZ_ENOMEM. */
static int
get_zone(struct nc_serials *s, const char *zone, struct nc_sn_zone **out)
{
	char origin[256];
	struct nc_sn_zone *z;
	int rc;

	if ((rc = norm_origin(origin, zone)) != 0)
		return rc;
	z = find_norm(s, origin);
	if (z == NULL) {
		if (s->nzones == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 8;
			void *n = reallocarray(s->zones, cap, sizeof(*z));

			if (n == NULL)
				return KZ_ENOMEM;
			s->zones = n;
			s->cap = cap;
		}
		z = &s->zones[s->nzones++];
		memset(z, 0, sizeof(*z));
		memcpy(z->origin, origin, sizeof(origin));
	}
	*out = z;
	return KZ_OK;
}

/* Raise Z's floor to SERIAL when that is above the floor and the last. */
static void
raise_floor(struct nc_sn_zone *z, uint32_t serial)
{
	if (z->have_floor && nc_sn_cmp(serial, z->floor) <= 0)
		return;
	if (z->have_last && nc_sn_cmp(serial, z->last) <= 0)
		return;
	z->floor = serial;
	z->have_floor = true;
}

/*
 * The serial Z hands out next. Every zone in the store has a last or a
 * floor (nc_serial_issue() learns the clock before the first one).
 */
static uint32_t
candidate(const struct nc_sn_zone *z)
{
	uint32_t c;

	if (!z->have_last)
		return z->floor + 1;
	c = z->last + 1;
	if (z->have_floor && nc_sn_cmp(c, z->floor) <= 0)
		c = z->floor + 1;
	return c;
}

/* C is within Z's reservation on disk. */
static bool
covered(const struct nc_sn_zone *z, uint32_t c)
{
	/* Strictly: 2^31 apart is undefined, not covered. */
	return z->have_reserved && (c == z->reserved ||
	    nc_sn_cmp(c, z->reserved) < 0);
}

/* --- the state file ---------------------------------------------------- */

/* One "origin number ..." line: the origin and its first number. */
static int
parse_line(const char *line, char origin[256], uint32_t *num)
{
	char name[256], numtext[16];
	unsigned long v;
	char *end;

	if (sscanf(line, "%255s %15s", name, numtext) != 2)
		return KZ_EPARSE;
	errno = 0;
	v = strtoul(numtext, &end, 10);
	if (errno || *end || end == numtext || numtext[0] == '-' ||
	    v > UINT32_MAX)
		return KZ_EPARSE;
	if (norm_origin(origin, name))
		return KZ_EPARSE;
	*num = (uint32_t)v;
	return KZ_OK;
}

/*
 * Read PATH: serial.state (LEGACY false: "origin reserved") or the old
 * publish.state (LEGACY true: "origin serial hash file"). A missing file
 * is empty. 0, KZ_ENOMEM or -errno.
 */
static int
load_file(struct nc_serials *s, const char *path, bool legacy, char *err,
    size_t errsz)
{
	char line[1024], origin[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = KZ_OK;

	if (f == NULL) {
		if (errno == ENOENT)
			return KZ_OK;
		rc = -errno;
		snprintf(err, errsz, "cannot read %s: %s", path,
		    strerror(errno));
		return rc;
	}
	while (rc == KZ_OK && fgets(line, sizeof(line), f)) {
		struct nc_sn_zone *z;
		uint32_t v;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_line(line, origin, &v)) {
			kz_warn("skipping a damaged serial state line",
			    "file=%s line=%u", path, lineno);
			continue;
		}
		rc = get_zone(s, origin, &z);
		if (rc)
			break;
		if (!legacy) {
			z->reserved = z->have_reserved ?
			    nc_sn_max(z->reserved, v) : v;
			z->have_reserved = true;
			v = z->reserved;
		}
		raise_floor(z, v);
	}
	if (rc == KZ_OK && ferror(f)) {
		rc = -EIO;
		snprintf(err, errsz, "cannot read %s", path);
	} else if (rc) {
		snprintf(err, errsz, "%s", kz_strerror(rc));
	}
	fclose(f);
	return rc;
}

int
nc_serial_open(struct nc_serials *s, const char *path, const char *legacy,
    uint32_t block, char *err, size_t errsz)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (block == 0)
		block = NC_SERIAL_BLOCK;
	if (block < 2 || block > NC_SERIAL_BLOCK_MAX) {
		snprintf(err, errsz, "serial block must be 2 to 2^30");
		return KZ_EINVAL;
	}
	s->block = block;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s", path) >=
	    sizeof(s->path) - 8) {
		snprintf(err, errsz, "state file path too long");
		return KZ_ETOOBIG;
	}
	rc = load_file(s, s->path, false, err, errsz);
	if (rc == KZ_OK && legacy && legacy[0])
		rc = load_file(s, legacy, true, err, errsz);
	return rc;
}

void
nc_serial_free(struct nc_serials *s)
{
	free(s->zones);
	s->zones = NULL;
	s->nzones = s->cap = 0;
}

/* The reservation a save gives Z: a block from its next serial on. */
static uint32_t
new_reservation(const struct nc_serials *s, const struct nc_sn_zone *z)
{
	uint32_t r = candidate(z) + s->block - 1;

	return z->have_reserved ? nc_sn_max(r, z->reserved) : r;
}

int
nc_serial_save(struct nc_serials *s)
{
	struct kz_buf b;
	int rc;

	kz_buf_init(&b, 64u * 1024 * 1024);
	rc = kz_buf_printf(&b, "%s\n# origin reserved\n", NC_SERIAL_MAGIC);
	for (size_t i = 0; i < s->nzones && rc == 0; i++)
		rc = kz_buf_printf(&b, "%s %" PRIu32 "\n", s->zones[i].origin,
		    new_reservation(s, &s->zones[i]));
	if (rc == 0)
		rc = kz_file_write_atomic(s->path, b.data, b.len, 0640);
	kz_buf_free(&b);
	if (rc)
		return rc;
	/* On disk now: only then may serials up to there be handed out. */
	for (size_t i = 0; i < s->nzones; i++) {
		s->zones[i].reserved = new_reservation(s, &s->zones[i]);
		s->zones[i].have_reserved = true;
	}
	s->saves++;
	return KZ_OK;
}

bool
nc_serial_wants_save(const struct nc_serials *s)
{
	for (size_t i = 0; i < s->nzones; i++) {
		const struct nc_sn_zone *z = &s->zones[i];
		uint32_t c = candidate(z);

		/* Serials left in the block, C included. */
		if (!covered(z, c) || z->reserved - c + 1 < s->block / 2)
			return true;
	}
	return false;
}

int
nc_serial_learn(struct nc_serials *s, const char *zone, uint32_t serial)
{
	struct nc_sn_zone *z;
	int rc = get_zone(s, zone, &z);

	if (rc)
		return rc;
	raise_floor(z, serial);
	return KZ_OK;
}

int
nc_serial_issue(struct nc_serials *s, const char *zone, uint32_t now,
    uint32_t *out)
{
	struct nc_sn_zone *z;
	uint32_t c;
	int rc = get_zone(s, zone, &z);

	if (rc)
		return rc;
	if (!z->have_last && !z->have_floor) {
		/* Nothing known: start at the clock. */
		z->floor = now - 1;
		z->have_floor = true;
	}
	c = candidate(z);
	if (!covered(z, c)) {
		rc = nc_serial_save(s);
		if (rc) {
			kz_error("cannot reserve serials", "file=%s zone=%s "
			    "error=\"%s\"", s->path, z->origin,
			    kz_strerror(rc));
			return rc;
		}
		s->sync_saves++;
	}
	z->last = c;
	z->have_last = true;
	*out = c;
	return KZ_OK;
}

int
nc_serial_last(const struct nc_serials *s, const char *zone, uint32_t *out)
{
	char origin[256];
	const struct nc_sn_zone *z;

	if (norm_origin(origin, zone))
		return KZ_ENOTFOUND;
	z = find_norm(s, origin);
	if (z == NULL || !z->have_last)
		return KZ_ENOTFOUND;
	*out = z->last;
	return KZ_OK;
}

/* --- the serial of a zone file ----------------------------------------- */

/* The first record of F: skips $ORIGIN, $TTL, comments, empty lines. */
static int
first_record(FILE *f, ldns_rdf **origin, ldns_rr **rr, int *line,
    char *err, size_t errsz)
{
	uint32_t ttl = 3600;
	ldns_rdf *prev = NULL;
	ldns_status st = LDNS_STATUS_SYNTAX_EMPTY;

	while (!feof(f)) {
		st = ldns_rr_new_frm_fp_l(rr, f, &ttl, origin, &prev, line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		break;
	}
	if (prev)
		ldns_rdf_deep_free(prev);
	if (st == LDNS_STATUS_OK)
		return KZ_OK;
	if (st == LDNS_STATUS_SYNTAX_EMPTY)
		snprintf(err, errsz, "no record in the file");
	else if (st == LDNS_STATUS_SYNTAX_INCLUDE)
		snprintf(err, errsz, "line %d: $INCLUDE is not supported",
		    *line);
	else
		snprintf(err, errsz, "line %d: %s", *line,
		    ldns_get_errorstr_by_id(st));
	return st == LDNS_STATUS_MEM_ERR ? KZ_ENOMEM : KZ_EPARSE;
}

/* RR is the SOA of APEX: its serial into *SERIAL. */
static int
soa_serial(const ldns_rr *rr, const ldns_rdf *apex, int line,
    uint32_t *serial, char *err, size_t errsz)
{
	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) {
		snprintf(err, errsz, "line %d: the first record is not an "
		    "SOA", line);
		return KZ_EPARSE;
	}
	if (ldns_dname_compare(ldns_rr_owner(rr), apex) != 0) {
		snprintf(err, errsz, "line %d: the SOA is not at the zone "
		    "apex", line);
		return KZ_EPARSE;
	}
	if (ldns_rr_rd_count(rr) < 3 ||
	    ldns_rdf_get_type(ldns_rr_rdf(rr, 2)) != LDNS_RDF_TYPE_INT32) {
		snprintf(err, errsz, "line %d: SOA without a serial", line);
		return KZ_EPARSE;
	}
	*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	return KZ_OK;
}

int
nc_zonefile_serial(const char *path, const char *origin, uint32_t *serial,
    char *err, size_t errsz)
{
	char name[256];
	ldns_rdf *apex = NULL, *cur = NULL;
	ldns_rr *rr = NULL;
	FILE *f = NULL;
	int line = 1, rc;

	if ((rc = norm_origin(name, origin)) != 0) {
		snprintf(err, errsz, "invalid zone name '%s'", origin);
		return rc;
	}
	apex = ldns_dname_new_frm_str(name);
	cur = ldns_dname_new_frm_str(name);
	if (apex == NULL || cur == NULL) {
		snprintf(err, errsz, "invalid zone name '%s'", origin);
		rc = KZ_ENAME;
		goto cleanup;
	}
	f = nc_fopen_regular(path);
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errsz, "cannot open %s: %s", path,
		    strerror(errno));
		goto cleanup;
	}
	rc = first_record(f, &cur, &rr, &line, err, errsz);
	if (rc == KZ_OK)
		rc = soa_serial(rr, apex, line, serial, err, errsz);
cleanup:
	if (rr)
		ldns_rr_free(rr);
	if (f)
		fclose(f);
	if (cur)
		ldns_rdf_deep_free(cur);
	if (apex)
		ldns_rdf_deep_free(apex);
	return rc;
}
