/*
 * nsd-conf/tsig.h -- TSIG signatures (RFC 8945, HMAC-SHA256) on the
 * messages kubezone sends (requests, transfers), in wire form.
 *
 * The feed NOTIFYs NSD after every change. Building that message as an
 * ldns packet and signing it with ldns_pkt_tsig_sign() decodes the key
 * and sets up the HMAC every time, and turns the packet into wire form
 * twice; here the key is decoded once, the HMAC's inner and outer
 * states after the key's pads are kept, and a message already in wire
 * form gets its TSIG record appended: one SHA-256 over the message and
 * one over the inner digest, no allocation.
 *
 * The messages of a zone transfer are signed the same way
 * (nc_tsig_sign_reply: over the request's MAC, then each over the
 * prior one's). Only hmac-sha256; the other answers are still signed,
 * and every TSIG received is still verified, with ldns
 * (nsd-conf/feed.c).
 *
 * Ownership: struct nc_tsig is the caller's and holds no pointers:
 * nothing to free.
 */
#ifndef KZ_NSDCONF_TSIG_H
#define KZ_NSDCONF_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/sha2.h>

#define NC_TSIG_ALG "hmac-sha256"
#define NC_TSIG_MAC_LEN LDNS_SHA256_DIGEST_LENGTH
/* Bytes nc_tsig_sign() adds at most: owner, fixed fields, algorithm
 * name (13 bytes), time, fudge, MAC size and MAC, id, error, other. */
#define NC_TSIG_MAX (255 + 10 + 13 + 6 + 2 + 2 + NC_TSIG_MAC_LEN + 6)

struct nc_tsig {
	uint8_t name[256];	/* key name, canonical wire form */
	size_t namelen;		/* 0: not set up */
	ldns_sha256_CTX inner;	/* after the key XOR ipad */
	ldns_sha256_CTX outer;	/* after the key XOR opad */
};

/*
 * Set T up for the key NAME (presentation form) with algorithm ALG
 * ("hmac-sha256", with or without the final dot) and the base64 SECRET.
 * 0, KZ_ENAME (NAME), KZ_EINVAL (another algorithm, a secret that is
 * not base64 or empty).
 */
int nc_tsig_init(struct nc_tsig *t, const char *name, const char *alg,
    const char *secret);

/*
 * Sign the request MSG (LEN bytes from its header on, no TSIG yet, in a
 * buffer of CAP bytes): append the TSIG record with time signed NOW,
 * FUDGE seconds, the message's id as the original id, and raise
 * ARCOUNT. The MAC is also copied to MAC (may be NULL). Returns the new
 * length, or 0 when T is not set up, LEN is shorter than a header or
 * CAP too small (MSG is then unchanged).
 */
size_t nc_tsig_sign(const struct nc_tsig *t, uint8_t *msg, size_t len,
    size_t cap, uint64_t now, uint16_t fudge,
    uint8_t mac[NC_TSIG_MAC_LEN]);

/*
 * Sign the reply MSG as nc_tsig_sign() does, over PRIOR first (PRIORLEN
 * bytes: the request's MAC for the first message of an answer, the MAC
 * of the message before for the next ones of a transfer, RFC 8945 5.3).
 * SUBSEQUENT: a transfer message after the first, whose digest covers
 * only the timers of its TSIG, not the key name and other variables.
 * The original id is MSG's id. Returns the new length, or 0 as
 * nc_tsig_sign() does and when PRIOR is NULL.
 */
size_t nc_tsig_sign_reply(const struct nc_tsig *t, uint8_t *msg,
    size_t len, size_t cap, uint64_t now, uint16_t fudge,
    const uint8_t *prior, size_t priorlen, bool subsequent,
    uint8_t mac[NC_TSIG_MAC_LEN]);

#endif
