/*
 * nsd-conf/dnssec_opts.h -- the DNSSEC options of kubezone sync.
 *
 * The option table (--dnssec, --dnssec-key, --dnssec-nsec3,
 * --dnssec-algorithm, --dnssec-validity, --dnssec-refresh) fills struct
 * nc_dnssec_opts; nc_dnssec_opts_finish() checks the options together.
 * Ownership: the struct is the caller's; nc_dnssec_opts_free() frees
 * the key file names it holds.
 */
#ifndef KZ_NSDCONF_DNSSEC_OPTS_H
#define KZ_NSDCONF_DNSSEC_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/opt.h"

#define NC_DNSSEC_VALIDITY (14 * 86400)
#define NC_DNSSEC_REFRESH (7 * 86400)
#define NC_DNSSEC_KEYS_MAX 16		/* --dnssec-key files */

/* Options (the DNSSEC option table fills them). */
struct nc_dnssec_opts {
	bool on;			/* --dnssec or a --dnssec-key */
	bool nsec3;			/* NSEC3 instead of NSEC */
	int alg;			/* of generated keys */
	uint32_t validity;		/* signature lifetime (s) */
	uint32_t refresh;		/* signed again this long before
					 * expiry (s) */
	char *key_files[NC_DNSSEC_KEYS_MAX];
	size_t nkey_files;
};

extern const struct kz_opt nc_dnssec_opt_table[];

void nc_dnssec_opts_init(struct nc_dnssec_opts *o);
void nc_dnssec_opts_free(struct nc_dnssec_opts *o);

/* Check the options together (refresh below validity). 0 or KZ_EUSAGE
 * with a message in ERR. */
int nc_dnssec_opts_finish(const struct nc_dnssec_opts *o, char *err,
    size_t errsz);

/*
 * The refresh gap: signatures are due GAP seconds before they come
 * within the refresh period, and refreshes run at most every GAP
 * seconds (refresh / 16, from 1 s to 15 min): at most one batch per
 * gap, and no signature ever comes within the refresh period while
 * refreshes work.
 */
uint32_t nc_dnssec_gap(const struct nc_dnssec_opts *o);

#endif
