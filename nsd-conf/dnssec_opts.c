/*
 * nsd-conf/dnssec_opts.c -- the DNSSEC options of kubezone sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "nsd-conf/dnssec_opts.h"
#include "nsd-conf/keys.h"

static int
set_dnssec(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct nc_dnssec_opts *)ctx)->on = true;
	return KZ_OK;
}

static int
set_key(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct nc_dnssec_opts *o = ctx;

	if (o->nkey_files == NC_DNSSEC_KEYS_MAX) {
		snprintf(err, errsz, "at most %d keys", NC_DNSSEC_KEYS_MAX);
		return KZ_EINVAL;
	}
	if (*arg == '\0' || (o->key_files[o->nkey_files] = strdup(arg)) ==
	    NULL) {
		snprintf(err, errsz, "empty path or out of memory");
		return KZ_EINVAL;
	}
	o->nkey_files++;
	o->on = true;
	return KZ_OK;
}

static int
set_alg(void *ctx, const char *arg, char *err, size_t errsz)
{
	int alg = nc_key_alg_parse(arg);

	if (alg < 0) {
		snprintf(err, errsz, "13 (ecdsap256sha256) or 15 (ed25519)");
		return KZ_EINVAL;
	}
	((struct nc_dnssec_opts *)ctx)->alg = alg;
	return KZ_OK;
}

static int
set_nsec3(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct nc_dnssec_opts *)ctx)->nsec3 = true;
	return KZ_OK;
}

static int
set_seconds(uint32_t *out, const char *arg)
{
	unsigned long long ms = 0;

	(void)kz_opt_duration_ms(arg, &ms);	/* the table's range */
	*out = (uint32_t)(ms / 1000);
	return KZ_OK;
}

static int
set_validity(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	return set_seconds(&((struct nc_dnssec_opts *)ctx)->validity, arg);
}

static int
set_refresh(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	return set_seconds(&((struct nc_dnssec_opts *)ctx)->refresh, arg);
}

const struct kz_opt nc_dnssec_opt_table[] = {
	{ "dnssec", NULL, NULL, NULL, false, set_dnssec,
	  "Sign every zone (the catalog zone aside), with NSEC; a zone's "
	  "keys are its --dnssec-key pairs, else its key files in the "
	  "state directory, where a combined signing key "
	  "(--dnssec-algorithm) is made for a zone that has none." },
	{ "dnssec-key", "FILE", NULL, NULL, true, set_key,
	  "Sign the zone the key belongs to with this key pair "
	  "(K<zone>+<alg>+<tag>.key and .private, as ldns-keygen and "
	  "dnssec-keygen write them); implies --dnssec." },
	{ "dnssec-nsec3", NULL, NULL, NULL, false, set_nsec3,
	  "Deny existence with NSEC3 (RFC 5155) instead of NSEC, with the "
	  "parameters RFC 9276 recommends: SHA-1, no extra iterations, no "
	  "salt, no opt-out." },
	{ "dnssec-algorithm", "ALG", "13", NULL, false, set_alg,
	  "Algorithm of generated keys: 13 (ECDSAP256SHA256) or 15 "
	  "(ED25519)." },
	{ "dnssec-validity", "DURATION", "336h", NULL, false, set_validity,
	  "How long a new signature is valid (less an offset of up to half "
	  "of validity minus refresh, which spreads the refreshes).",
	  KZ_OPT_DURATION, 10000, 31536000000ULL },
	{ "dnssec-refresh", "DURATION", "168h", NULL, false, set_refresh,
	  "Sign an RRset again when its signature expires within this "
	  "long; must be less than --dnssec-validity.", KZ_OPT_DURATION,
	  5000, 31536000000ULL },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

void
nc_dnssec_opts_init(struct nc_dnssec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->alg = NC_KEY_ALG_DEFAULT;
	o->validity = NC_DNSSEC_VALIDITY;
	o->refresh = NC_DNSSEC_REFRESH;
}

void
nc_dnssec_opts_free(struct nc_dnssec_opts *o)
{
	for (size_t i = 0; i < o->nkey_files; i++)
		free(o->key_files[i]);
	o->nkey_files = 0;
}

int
nc_dnssec_opts_finish(const struct nc_dnssec_opts *o, char *err,
    size_t errsz)
{
	uint32_t gap = nc_dnssec_gap(o);

	if (o->refresh >= o->validity || o->validity - o->refresh <= 2 * gap) {
		snprintf(err, errsz, "--dnssec-refresh (%us) must be less than "
		    "--dnssec-validity (%us) by more than %us", o->refresh,
		    o->validity, 2 * gap);
		return KZ_EUSAGE;
	}
	return 0;
}

uint32_t
nc_dnssec_gap(const struct nc_dnssec_opts *o)
{
	uint32_t g = o->refresh / 16;

	return g < 1 ? 1 : g > 900 ? 900 : g;
}
