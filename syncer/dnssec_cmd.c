/*
 * syncer/dnssec_cmd.c -- `kubezone dnssec ds|dnskey ZONE`.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/opt.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/dnssec.h"
#include "nsd-conf/keys.h"
#include "syncer/dnssec_cmd.h"

struct dnssec_cmd {
	char state_dir[PATH_MAX];
	struct nc_dnssec_opts keys;	/* only key_files used */
};

static int
set_state_dir(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct dnssec_cmd *c = ctx;

	if (*arg == '\0' || strlen(arg) >= sizeof(c->state_dir)) {
		snprintf(err, errsz, "empty or overlong path");
		return KZ_EINVAL;
	}
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", arg);
	return KZ_OK;
}

static int
set_key(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct dnssec_cmd *c = ctx;

	if (c->keys.nkey_files == NC_DNSSEC_KEYS_MAX) {
		snprintf(err, errsz, "at most %d keys", NC_DNSSEC_KEYS_MAX);
		return KZ_EINVAL;
	}
	if (*arg == '\0' || (c->keys.key_files[c->keys.nkey_files] =
	    strdup(arg)) == NULL) {
		snprintf(err, errsz, "empty path or out of memory");
		return KZ_EINVAL;
	}
	c->keys.nkey_files++;
	return KZ_OK;
}

static const struct kz_opt dnssec_cmd_table[] = {
	{ "state-dir", "DIR", NC_DEFAULT_STATE_DIR, NULL, false,
	  set_state_dir,
	  "The state directory of kubezone sync, where --dnssec keeps the "
	  "keys it uses (K<zone>+<alg>+<tag>.key and .private)." },
	{ "dnssec-key", "FILE", NULL, NULL, true, set_key,
	  "A key pair given to kubezone sync with --dnssec-key; the keys "
	  "of ZONE among them are used instead of the state directory's." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

/* ZONE's keys: its --dnssec-key files, else the state directory's. */
static int
find_keys(const struct dnssec_cmd *c, const char *zone,
    struct nc_dkey **keys, size_t *n, char *err, size_t errsz)
{
	int rc = 0;

	*n = 0;
	*keys = calloc(NC_DNSSEC_KEYS_MAX, sizeof(**keys));
	if (*keys == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; rc == 0 && i < c->keys.nkey_files; i++) {
		struct nc_dkey k;

		if ((rc = nc_key_load(&k, c->keys.key_files[i], err,
		    errsz)) != 0)
			break;
		if (strcasecmp(k.zone, zone) == 0)
			(*keys)[(*n)++] = k;
		else
			nc_key_free(&k);
	}
	if (rc == 0 && *n == 0) {
		free(*keys);
		rc = nc_keys_find(c->state_dir, zone, keys, n, err, errsz);
	}
	return rc;
}

static void
usage(FILE *f)
{
	static const struct kz_opt_table t = { "key options",
	    dnssec_cmd_table, NULL };

	fprintf(f, "usage: kubezone dnssec ds|dnskey ZONE [OPTIONS]\n"
	    "  ds      print the DS records of ZONE's keys for the parent "
	    "zone\n"
	    "          (of its SEP keys, flags 257, when it has any)\n"
	    "  dnskey  print ZONE's DNSKEY records (a trust anchor)\n");
	kz_opt_help(f, &t, 1);
}

int
sy_dnssec_main(int argc, char **argv)
{
	struct dnssec_cmd c;
	struct kz_opt_table t = { "key options", dnssec_cmd_table, &c };
	struct nc_dkey *keys = NULL;
	struct kz_buf out;
	char err[512], zone[260], **pos = calloc((size_t)argc + 1, sizeof(*pos));
	size_t npos = 0, nkeys = 0, sep = 0;
	int help = 0, status = 2, rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", NC_DEFAULT_STATE_DIR);
	kz_buf_init(&out, 1 << 20);
	if (pos == NULL)
		return 1;
	if (kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone dnssec: %s\n", err);
		goto out;
	}
	if (help) {
		if (help == 2)
			kz_opt_markdown(stdout, &t, 1);
		else
			usage(stdout);
		status = 0;
		goto out;
	}
	if (npos != 2 || (strcmp(pos[0], "ds") && strcmp(pos[0], "dnskey")) ||
	    strlen(pos[1]) + 2 > sizeof(zone)) {
		usage(stderr);
		goto out;
	}
	snprintf(zone, sizeof(zone), "%s%s", pos[1],
	    pos[1][strlen(pos[1]) - 1] == '.' ? "" : ".");
	for (char *p = zone; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	status = 1;
	if ((rc = find_keys(&c, zone, &keys, &nkeys, err, sizeof(err))) != 0) {
		fprintf(stderr, "kubezone dnssec: %s\n", err);
		goto out;
	}
	if (nkeys == 0) {
		fprintf(stderr, "kubezone dnssec: no keys for %s in %s (kubezone "
		    "sync --dnssec makes them)\n", zone, c.state_dir);
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++)
		sep += (keys[i].flags & LDNS_KEY_SEP_KEY) != 0;
	for (size_t i = 0; i < nkeys; i++) {
		/* the DS of the SEP keys, or of every key when none has it */
		if (pos[0][1] == 's')
			rc = !sep || (keys[i].flags & LDNS_KEY_SEP_KEY) ?
			    nc_key_ds(&keys[i], &out) : 0;
		else
			rc = nc_key_dnskey_text(&keys[i], &out);
		if (rc) {
			fprintf(stderr, "kubezone dnssec: %s\n", kz_strerror(rc));
			goto out;
		}
	}
	fwrite(out.data, 1, out.len, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	nc_keys_free(keys, nkeys);
	nc_dnssec_opts_free(&c.keys);
	kz_buf_free(&out);
	free(pos);
	return status;
}
