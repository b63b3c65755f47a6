/*
 * nsd-conf/keys.c -- DNSSEC key files: load, generate, DS.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/keys.h"

int
nc_key_alg_parse(const char *s)
{
	if (strcmp(s, "13") == 0 || strcasecmp(s, "ecdsap256sha256") == 0)
		return 13;
	if (strcmp(s, "15") == 0 || strcasecmp(s, "ed25519") == 0)
		return 15;
	return -1;
}

void
nc_key_free(struct nc_dkey *k)
{
	if (k->k)
		ldns_key_deep_free(k->k);
	if (k->dnskey)
		ldns_rr_free(k->dnskey);
	memset(k, 0, sizeof(*k));
}

void
nc_keys_free(struct nc_dkey *keys, size_t nkeys)
{
	for (size_t i = 0; keys && i < nkeys; i++)
		nc_key_free(&keys[i]);
	free(keys);
}

/* PATH opened for reading if it is a regular file; through a symbolic
 * link only with FOLLOW. NULL with errno set. */
static FILE *
open_key_file(const char *path, bool follow)
{
	struct stat st;
	FILE *f;
	int fd;

	if (!follow)
		return nc_fopen_regular(path);
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

/* The DNSKEY record of the .key file PATH (comments and blank lines
 * skipped), or NULL with a message in ERR. */
static ldns_rr *
read_dnskey(const char *path, bool follow, char *err, size_t errsz)
{
	FILE *f = open_key_file(path, follow);
	ldns_rr *rr = NULL;
	int line = 1;

	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (!feof(f)) {
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, NULL, NULL, NULL,
		    &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY)
			continue;
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errsz, "%s line %d: %s", path, line,
			    ldns_get_errorstr_by_id(st));
			rr = NULL;
		} else if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY) {
			snprintf(err, errsz, "%s: not a DNSKEY record", path);
			ldns_rr_free(rr);
			rr = NULL;
		}
		break;
	}
	if (rr == NULL && err[0] == '\0')
		snprintf(err, errsz, "%s: no DNSKEY record", path);
	fclose(f);
	return rr;
}

/* Fill K's name, tag, flags and algorithm from its DNSKEY record and
 * give the private key the same owner, flags and tag. */
static int
key_finish(struct nc_dkey *k, char *err, size_t errsz)
{
	ldns_rdf *owner = ldns_rr_owner(k->dnskey);
	char *name;

	ldns_dname2canonical(owner);
	name = ldns_rdf2str(owner);
	if (name == NULL || strlen(name) >= sizeof(k->zone)) {
		free(name);
		snprintf(err, errsz, "bad key owner");
		return KZ_EINVAL;
	}
	snprintf(k->zone, sizeof(k->zone), "%s", name);
	free(name);
	k->flags = (uint16_t)ldns_rdf2native_int16(ldns_rr_rdf(k->dnskey, 0));
	k->alg = ldns_rdf2native_int8(ldns_rr_rdf(k->dnskey, 2));
	k->tag = ldns_calc_keytag(k->dnskey);
	if (ldns_key_pubkey_owner(k->k))
		ldns_rdf_deep_free(ldns_key_pubkey_owner(k->k));
	ldns_key_set_pubkey_owner(k->k, ldns_rdf_clone(owner));
	ldns_key_set_flags(k->k, k->flags);
	ldns_key_set_keytag(k->k, k->tag);
	ldns_key_set_use(k->k, true);
	if (k->alg != 13 && k->alg != 15) {
		snprintf(err, errsz, "algorithm %u: only 13 (ECDSAP256SHA256) "
		    "and 15 (ED25519) are supported", k->alg);
		return KZ_EINVAL;
	}
	if (!(k->flags & LDNS_KEY_ZONE_KEY)) {
		snprintf(err, errsz, "flags %u: not a zone key", k->flags);
		return KZ_EINVAL;
	}
	return 0;
}

/* Whether the private key K->k has the public key of K->dnskey. */
static bool
key_matches(const struct nc_dkey *k)
{
	ldns_rr *pub = ldns_key2rr(k->k);
	bool same = pub && ldns_rdf_compare(ldns_rr_rdf(pub, 3),
	    ldns_rr_rdf(k->dnskey, 3)) == 0 &&
	    ldns_rdf2native_int8(ldns_rr_rdf(pub, 2)) == k->alg;

	if (pub)
		ldns_rr_free(pub);
	return same;
}

static int
load_key(struct nc_dkey *k, const char *path, bool follow, char *err,
    size_t errsz)
{
	char stem[4000], kpath[4100];
	size_t len = strlen(path);
	ldns_status st;
	FILE *f = NULL;
	int rc = KZ_EINVAL, line = 1;

	memset(k, 0, sizeof(*k));
	err[0] = '\0';
	if (len > 8 && strcmp(path + len - 8, ".private") == 0)
		len -= 8;
	else if (len > 4 && strcmp(path + len - 4, ".key") == 0)
		len -= 4;
	if (len >= sizeof(stem)) {
		snprintf(err, errsz, "path too long");
		goto fail;
	}
	memcpy(stem, path, len);
	stem[len] = '\0';
	snprintf(k->path, sizeof(k->path), "%s.private", stem);
	snprintf(kpath, sizeof(kpath), "%s.key", stem);
	if ((k->dnskey = read_dnskey(kpath, follow, err, errsz)) == NULL)
		goto fail;
	if ((f = open_key_file(k->path, follow)) == NULL) {
		snprintf(err, errsz, "%s: %s", k->path, strerror(errno));
		goto fail;
	}
	st = ldns_key_new_frm_fp_l(&k->k, f, &line);
	if (st != LDNS_STATUS_OK) {
		k->k = NULL;
		snprintf(err, errsz, "%s line %d: %s", k->path, line,
		    ldns_get_errorstr_by_id(st));
		goto fail;
	}
	if ((rc = key_finish(k, err, errsz)) != 0)
		goto fail;
	if (!key_matches(k)) {
		snprintf(err, errsz, "%s: the private key is not the one of "
		    "%s", k->path, kpath);
		rc = KZ_EINVAL;
		goto fail;
	}
	fclose(f);
	return 0;
fail:
	if (f)
		fclose(f);
	nc_key_free(k);
	return rc ? rc : KZ_EINVAL;
}

int
nc_key_load(struct nc_dkey *k, const char *path, char *err, size_t errsz)
{
	return load_key(k, path, true, err, errsz);
}

/* Write TEXT to DIR/NAME, mode 0600, atomically. */
static int
write_key_file(const char *dir, const char *name, const char *text,
    char *err, size_t errsz)
{
	char path[4200];
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errsz, "path too long");
		return KZ_EINVAL;
	}
	rc = kz_file_write_atomic(path, text, strlen(text), 0600);
	if (rc)
		snprintf(err, errsz, "%s: %s", path, kz_strerror(rc));
	return rc;
}

int
nc_key_generate(struct nc_dkey *k, const char *zone, int alg,
    const char *dir, char *err, size_t errsz)
{
	ldns_rdf *owner = NULL;
	char *pub = NULL, *priv = NULL, stem[512], fname[600];
	int rc = KZ_EINVAL;

	memset(k, 0, sizeof(*k));
	err[0] = '\0';
	if (alg != 13 && alg != 15) {
		snprintf(err, errsz, "algorithm %d not supported", alg);
		goto fail;
	}
	owner = ldns_dname_new_frm_str(zone);
	k->k = ldns_key_new_frm_algorithm(alg == 13 ?
	    LDNS_SIGN_ECDSAP256SHA256 : LDNS_SIGN_ED25519, 256);
	if (owner == NULL || k->k == NULL) {
		snprintf(err, errsz, "cannot make a key of algorithm %d", alg);
		goto fail;
	}
	ldns_dname2canonical(owner);
	ldns_key_set_pubkey_owner(k->k, owner);
	owner = NULL;
	ldns_key_set_flags(k->k, NC_KEY_FLAGS_CSK);
	if ((k->dnskey = ldns_key2rr(k->k)) == NULL) {
		snprintf(err, errsz, "cannot make the DNSKEY record");
		goto fail;
	}
	ldns_rr_set_ttl(k->dnskey, 3600);
	if ((rc = key_finish(k, err, errsz)) != 0)
		goto fail;
	rc = KZ_ENOMEM;
	pub = ldns_rr2str(k->dnskey);
	priv = ldns_key2str(k->k);
	if (pub == NULL || priv == NULL)
		goto fail;
	snprintf(stem, sizeof(stem), "K%s+%03u+%05u", k->zone, k->alg,
	    k->tag);
	snprintf(fname, sizeof(fname), "%s.private", stem);
	if ((rc = write_key_file(dir, fname, priv, err, errsz)) != 0)
		goto fail;
	snprintf(fname, sizeof(fname), "%s.key", stem);
	if ((rc = write_key_file(dir, fname, pub, err, errsz)) != 0)
		goto fail;
	snprintf(k->path, sizeof(k->path), "%s/%s.private", dir, stem);
	kz_info("dnssec key generated", "zone=%s algorithm=%u tag=%u file=%s",
	    k->zone, k->alg, k->tag, k->path);
	free(pub);
	free(priv);
	return 0;
fail:
	if (rc == KZ_ENOMEM && err[0] == '\0')
		snprintf(err, errsz, "out of memory");
	if (owner)
		ldns_rdf_deep_free(owner);
	free(pub);
	free(priv);
	nc_key_free(k);
	return rc;
}

int
nc_keys_find(const char *dir, const char *zone, struct nc_dkey **keys,
    size_t *nkeys, char *err, size_t errsz)
{
	char pattern[4200], name[256];
	size_t len;
	glob_t g;
	int rc = 0, grc;

	*keys = NULL;
	*nkeys = 0;
	snprintf(name, sizeof(name), "%s", zone);
	len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if ((size_t)snprintf(pattern, sizeof(pattern), "%s/K%s.+*.private",
	    dir, name) >= sizeof(pattern)) {
		snprintf(err, errsz, "path too long");
		return KZ_EINVAL;
	}
	grc = glob(pattern, 0, NULL, &g);
	if (grc == GLOB_NOMATCH)
		return 0;
	if (grc != 0) {
		snprintf(err, errsz, "cannot list %s", dir);
		return KZ_EINVAL;
	}
	*keys = calloc(g.gl_pathc, sizeof(**keys));
	if (*keys == NULL) {
		rc = KZ_ENOMEM;
		snprintf(err, errsz, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		rc = load_key(&(*keys)[i], g.gl_pathv[i], false, err, errsz);
		if (rc == 0)
			(*nkeys)++;
	}
	globfree(&g);
	if (rc) {
		nc_keys_free(*keys, *nkeys);
		*keys = NULL;
		*nkeys = 0;
	}
	return rc;
}

/* Append RR as text (ldns ends it with a newline). */
static int
put_rr(const ldns_rr *rr, struct kz_buf *out)
{
	char *s = ldns_rr2str(rr);
	int rc;

	if (s == NULL)
		return KZ_ENOMEM;
	rc = kz_buf_puts(out, s);
	free(s);
	return rc;
}

int
nc_key_ds(const struct nc_dkey *k, struct kz_buf *out)
{
	ldns_rr *ds;
	int rc;

	if (k->dnskey == NULL)
		return KZ_EINVAL;
	ds = ldns_key_rr2ds(k->dnskey, LDNS_SHA256);
	if (ds == NULL)
		return KZ_ENOMEM;
	rc = put_rr(ds, out);
	ldns_rr_free(ds);
	return rc;
}

int
nc_key_dnskey_text(const struct nc_dkey *k, struct kz_buf *out)
{
	return k->dnskey ? put_rr(k->dnskey, out) : KZ_EINVAL;
}
