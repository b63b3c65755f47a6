/*
 * nsd-conf/keys.h -- DNSSEC signing keys: key files in, key files out.
 *
 * A key is a pair of files as ldns-keygen and BIND's dnssec-keygen
 * write them: K<zone>+<alg>+<tag>.key (the DNSKEY record, one line of
 * zone-file text; comment lines are skipped) and K<zone>+<alg>+<tag>.private
 * (the "Private-key-format: v1.x" text). Either file name, or the common
 * stem, loads both; the public key of the .private file must be the
 * one in the .key file.
 *
 * Generated keys are combined signing keys (CSK: flags 257, the SEP bit
 * set) of algorithm 13 (ECDSA P-256 SHA-256) or 15 (Ed25519); both
 * files are written mode 0600 under a temporary name and renamed into
 * place, so a crash never leaves half a key.
 *
 * Ownership: struct nc_dkey is the caller's; nc_key_free() releases what
 * it points to (the ldns key, the DNSKEY record) and accepts a zeroed
 * or half-loaded key.
 */
#ifndef KZ_NSDCONF_KEYS_H
#define KZ_NSDCONF_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/buf.h"

#define NC_KEY_ALG_DEFAULT 13	/* ECDSAP256SHA256 */
#define NC_KEY_FLAGS_CSK 257	/* zone key + SEP */

struct nc_dkey {
	ldns_key *k;		/* private key; owner, flags and tag set */
	ldns_rr *dnskey;	/* the DNSKEY record as published */
	char zone[256];		/* owner, absolute, lower case */
	uint16_t tag;
	uint16_t flags;
	uint8_t alg;
	char path[4096];	/* the .private file */
};

/* The algorithm number for "13", "15", "ecdsap256sha256", "ed25519"
 * (any case), or -1. */
int nc_key_alg_parse(const char *s);

/*
 * Load the key pair named by PATH (.key, .private or the stem; symbolic
 * links are followed: a Kubernetes Secret's files are links). 0, or a
 * negative code with a message in ERR (the key is then freed).
 */
int nc_key_load(struct nc_dkey *k, const char *path, char *err,
    size_t errsz);

/*
 * Make a new CSK of algorithm ALG (13 or 15) for ZONE (absolute) and
 * write its two files into DIR (mode 0600). 0, or a negative code with
 * a message in ERR.
 */
int nc_key_generate(struct nc_dkey *k, const char *zone, int alg,
    const char *dir, char *err, size_t errsz);

/*
 * Load every key of ZONE found in DIR (K<zone>.+*.private: the zone's
 * name in lower case, with its final dot) into *KEYS (an array the caller
 * frees with nc_keys_free), *NKEYS their number (0: none there). Files
 * there must be regular files, not symbolic links. 0, or a negative
 * code with a message in ERR.
 */
int nc_keys_find(const char *dir, const char *zone, struct nc_dkey **keys,
    size_t *nkeys, char *err, size_t errsz);

void nc_keys_free(struct nc_dkey *keys, size_t nkeys);
void nc_key_free(struct nc_dkey *k);

/*
 * Append K's DS record for the parent (digest SHA-256) to OUT as one
 * line of zone-file text. 0, KZ_ENOMEM or KZ_EINVAL.
 */
int nc_key_ds(const struct nc_dkey *k, struct kz_buf *out);

/* Append K's DNSKEY record to OUT as one line of zone-file text. */
int nc_key_dnskey_text(const struct nc_dkey *k, struct kz_buf *out);

#endif
