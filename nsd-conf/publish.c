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
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/publish.h"

#define NC_STATE_MAGIC "# kubezone publish state v1"

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

static void
strip_dot(char *out, size_t outsz, const char *origin)
{
	size_t n = strlen(origin);

	if (n > 1 && origin[n - 1] == '.')
		n--;
	snprintf(out, outsz, "%.*s", (int)n, origin);
}

static struct nc_pub_zone *
find_zone(const struct nc_publisher *p, const char *origin)
{
	char a[256], b[256];

	strip_dot(a, sizeof(a), origin);
	for (size_t i = 0; i < p->nzones; i++) {
		strip_dot(b, sizeof(b), p->zones[i].origin);
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
	if (p->nzones == p->cap) {
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

int
nc_zone_validate(const char *path, const char *origin, bool check_serial,
    uint32_t serial, size_t *nrecords, char *err, size_t errsz)
{
	struct vstate *v = NULL;
	ldns_rdf *cur_origin = NULL, *prev = NULL;
	struct kz_buf text, rec;
	uint32_t ttl = 3600;
	bool group_cname = false, group_other = false;
	size_t n = 0, nsoa = 0;
	int line = 0, rc = KZ_OK, fd;
	char *p, *end;

	*nrecords = 0;
	kz_buf_init(&text, NC_PUB_MAX_ZONE_BYTES);
	kz_buf_init(&rec, 1024 * 1024);
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
	v = calloc(1, sizeof(*v));
	cur_origin = ldns_dname_new_frm_str(origin);
	if (v == NULL || cur_origin == NULL) {
		snprintf(err, errsz, "invalid zone name '%s'", origin);
		rc = KZ_EPARSE;
		goto out;
	}
	lower_abs(v->apex, sizeof(v->apex), origin, strlen(origin));
	snprintf(v->origin, sizeof(v->origin), "%s", v->apex);
	v->origin_inside = true;
	p = text.data ? text.data : (char *)"";
	end = p + text.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *ln = p, *q;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), olen;
		ldns_rr *rr = NULL;
		ldns_status st;
		ldns_rr_type t;
		int depth = 0;
		bool quoted = false;

		p = nl ? nl + 1 : end;
		line++;
		if (len > 0 && ln[len - 1] == '\r')
			len--;
		kz_buf_reset(&rec);
		if (kz_buf_append(&rec, ln, len)) {
			snprintf(err, errsz, "line %d: record too long", line);
			rc = KZ_EPARSE;
			goto out;
		}
		/* A record in parentheses may go on over several lines. */
		for (;;) {
			for (size_t i = 0; i < rec.len; i++) {
				char c = rec.data[i];

				if (c == '\\' && i + 1 < rec.len)
					i++;
				else if (c == '"')
					quoted = !quoted;
				else if (!quoted && c == ';') {
					/* Drop the comment, or joining the
					 * next line would comment it out. */
					rec.len = i;
					rec.data[i] = '\0';
					break;
				}
				else if (!quoted && c == '(')
					depth++;
				else if (!quoted && c == ')')
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
				continue;
			}
			snprintf(err, errsz, "line %d: %.20s is not allowed",
			    line, rec.data);
			rc = KZ_EPARSE;
			goto out;
		}
		st = ldns_rr_new_frm_str(&rr, rec.data, ttl, cur_origin,
		    &prev);
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errsz, "line %d: %s", line,
			    ldns_get_errorstr_by_id(st));
			rc = KZ_EPARSE;
			goto out;
		}
		t = ldns_rr_get_type(rr);
		olen = owner_len(rec.data);
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
				snprintf(v->owner, sizeof(v->owner), "%.*s",
				    (int)olen, rec.data);
				group_cname = group_other = false;
			}
		}
		if (n == 0) {
			if (t != LDNS_RR_TYPE_SOA ||
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
		if (t == LDNS_RR_TYPE_SOA && ++nsoa > 1) {
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
	if (n == 0) {
		snprintf(err, errsz, "no records (an SOA is required)");
		rc = KZ_EPARSE;
	}
out:
	*nrecords = n;
	ldns_rdf_deep_free(cur_origin);
	ldns_rdf_deep_free(prev);
	kz_buf_free(&text);
	kz_buf_free(&rec);
	free(v);
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
static int
install_zone(struct nc_publisher *p, const struct zg_zone *z,
    uint32_t serial, struct kz_buf *text)
{
	char tmp[PATH_MAX], path[PATH_MAX], bad[PATH_MAX], why[512];
	size_t nrec;
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
	rc = nc_zone_validate(tmp, z->origin, true, serial, &nrec, why,
	    sizeof(why));
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
		zrc = install_zone(p, z, serial, &text);
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
