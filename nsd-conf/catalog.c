/*
 * nsd-conf/catalog.c -- the member zones of a catalog zone file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "nsd-conf/catalog.h"
#include "nsd-conf/conf.h"

/* OWNER is <one label>.zones.<catalog>: a member's PTR. */
static bool
member_owner(const ldns_rdf *owner, const ldns_rdf *zones)
{
	ldns_rdf *parent;
	bool ok;

	if (ldns_dname_label_count(owner) != ldns_dname_label_count(zones) + 1)
		return false;
	parent = ldns_dname_left_chop(owner);
	if (parent == NULL)
		return false;
	ok = ldns_dname_compare(parent, zones) == 0;
	ldns_rdf_deep_free(parent);
	return ok;
}

/* The member NAME of PTR RR to FN, as lower-case text without final dot. */
static int
member(const ldns_rr *rr, nc_catalog_member_fn fn, void *ctx)
{
	char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	size_t n;
	int rc;

	if (text == NULL)
		return KZ_ENOMEM;
	n = strlen(text);
	if (n > 1 && text[n - 1] == '.')
		text[n - 1] = '\0';
	for (char *p = text; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	rc = fn(ctx, text);
	free(text);
	return rc;
}

static int
walk(FILE *f, const ldns_rdf *zones, ldns_rdf **origin,
    nc_catalog_member_fn fn, void *ctx, char *err, size_t errsz)
{
	uint32_t ttl = 3600;
	ldns_rdf *prev = NULL;
	ldns_rr *rr = NULL;
	int line = 1, rc = 0;

	while (rc == 0 && !feof(f)) {
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, origin,
		    &prev, &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY ||
		    st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			/* ldns has counted the record's last newline. */
			snprintf(err, errsz, "line %d: %s", line > 1 ? line - 1 : 1,
			    ldns_get_errorstr_by_id(st));
			rc = st == LDNS_STATUS_MEM_ERR ? KZ_ENOMEM : KZ_EPARSE;
			break;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_PTR &&
		    ldns_rr_rd_count(rr) == 1 &&
		    member_owner(ldns_rr_owner(rr), zones))
			rc = member(rr, fn, ctx);
		ldns_rr_free(rr);
		rr = NULL;
	}
	if (prev)
		ldns_rdf_deep_free(prev);
	return rc;
}

int
nc_catalog_members(const char *path, const char *origin,
    nc_catalog_member_fn fn, void *ctx, char *err, size_t errsz)
{
	char name[300];
	ldns_rdf *apex = NULL, *zones = NULL;
	FILE *f = NULL;
	size_t n = strlen(origin);
	int rc;

	snprintf(name, sizeof(name), "zones.%s%s", origin,
	    n && origin[n - 1] == '.' ? "" : ".");
	zones = ldns_dname_new_frm_str(name);
	apex = ldns_dname_new_frm_str(origin);
	if (zones == NULL || apex == NULL) {
		snprintf(err, errsz, "invalid zone name '%s'", origin);
		rc = KZ_ENAME;
		goto out;
	}
	ldns_dname2canonical(zones);
	f = nc_fopen_regular(path);
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errsz, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = walk(f, zones, &apex, fn, ctx, err, errsz);
out:
	if (f)
		fclose(f);
	if (zones)
		ldns_rdf_deep_free(zones);
	if (apex)
		ldns_rdf_deep_free(apex);
	return rc;
}
