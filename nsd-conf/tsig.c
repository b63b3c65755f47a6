/*
 * nsd-conf/tsig.c -- TSIG (HMAC-SHA256) on the messages kubezone sends,
 * in wire form.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "nsd-conf/tsig.h"

#define HMAC_BLOCK LDNS_SHA256_BLOCK_LENGTH
#define TYPE_TSIG 250
#define CLASS_ANY 255

/* "hmac-sha256." in wire form. */
static const uint8_t alg_wire[] = "\013hmac-sha256";
#define ALG_WIRE_LEN sizeof(alg_wire)	/* the root label is the NUL */

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* The HMAC key block of SECRET (RFC 2104: hashed when longer). */
static void
key_block(uint8_t block[HMAC_BLOCK], const uint8_t *secret, size_t len)
{
	memset(block, 0, HMAC_BLOCK);
	if (len > HMAC_BLOCK) {
		ldns_sha256_CTX c;

		ldns_sha256_init(&c);
		ldns_sha256_update(&c, secret, len);
		ldns_sha256_final(block, &c);
	} else {
		memcpy(block, secret, len);
	}
}

/* The inner and outer states after the key block XOR PAD. */
static void
pad_state(ldns_sha256_CTX *c, const uint8_t block[HMAC_BLOCK], uint8_t pad)
{
	uint8_t x[HMAC_BLOCK];

	for (size_t i = 0; i < HMAC_BLOCK; i++)
		x[i] = block[i] ^ pad;
	ldns_sha256_init(c);
	ldns_sha256_update(c, x, sizeof(x));
	memset(x, 0, sizeof(x));
}

static bool
alg_ok(const char *alg)
{
	size_t n = strlen(NC_TSIG_ALG);

	return alg && strncasecmp(alg, NC_TSIG_ALG, n) == 0 &&
	    (alg[n] == '\0' || (alg[n] == '.' && alg[n + 1] == '\0'));
}

int
nc_tsig_init(struct nc_tsig *t, const char *name, const char *alg,
    const char *secret)
{
	uint8_t block[HMAC_BLOCK];
	ldns_rdf *n = NULL, *key = NULL;
	int rc = KZ_EINVAL;

	memset(t, 0, sizeof(*t));
	if (!alg_ok(alg) || !secret)
		return KZ_EINVAL;
	if (!name || !(n = ldns_dname_new_frm_str(name)) ||
	    ldns_rdf_size(n) > sizeof(t->name)) {
		rc = KZ_ENAME;
		goto out;
	}
	if (ldns_str2rdf_b64(&key, secret) != LDNS_STATUS_OK ||
	    ldns_rdf_size(key) == 0)
		goto out;
	ldns_dname2canonical(n);
	memcpy(t->name, ldns_rdf_data(n), ldns_rdf_size(n));
	t->namelen = ldns_rdf_size(n);
	key_block(block, ldns_rdf_data(key), ldns_rdf_size(key));
	pad_state(&t->inner, block, 0x36);
	pad_state(&t->outer, block, 0x5c);
	memset(block, 0, sizeof(block));
	rc = KZ_OK;
out:
	if (key)
		memset(ldns_rdf_data(key), 0, ldns_rdf_size(key));
	ldns_rdf_deep_free(key);
	ldns_rdf_deep_free(n);
	return rc;
}

/*
 * Append to MSG (LEN bytes, room for CAP) its TSIG record over PRIOR
 * (NULL, or a MAC of PRIORLEN bytes digested with its length first),
 * the message, the key name and the variables, or only the timers.
 */
static size_t
sign(const struct nc_tsig *t, uint8_t *msg, size_t len, size_t cap,
    uint64_t now, uint16_t fudge, const uint8_t *prior, size_t priorlen,
    bool timers_only, uint8_t mac[NC_TSIG_MAC_LEN])
{
	/* The TSIG variables after the key name (RFC 8945 4.3.3). */
	uint8_t vars[2 + 4 + ALG_WIRE_LEN + 6 + 2 + 2 + 2], *p;
	uint8_t digest[NC_TSIG_MAC_LEN], sum[NC_TSIG_MAC_LEN], plen[2];
	size_t rr = t->namelen + 10 + ALG_WIRE_LEN + 6 + 2 + 2 +
	    NC_TSIG_MAC_LEN + 6;
	ldns_sha256_CTX c;
	uint16_t ar;

	if (t->namelen == 0 || len < LDNS_HEADER_SIZE || cap < len ||
	    cap - len < rr || priorlen > 0xffff)
		return 0;
	ar = (uint16_t)(msg[10] << 8 | msg[11]);
	if (ar == 0xffff)
		return 0;
	p = put16(vars, CLASS_ANY);
	memset(p, 0, 4);			/* TTL */
	p += 4;
	memcpy(p, alg_wire, ALG_WIRE_LEN);
	p += ALG_WIRE_LEN;
	p = put48(p, now);
	p = put16(p, fudge);
	p = put16(p, 0);			/* error */
	put16(p, 0);				/* other len */

	c = t->inner;
	if (prior) {
		put16(plen, (uint16_t)priorlen);
		ldns_sha256_update(&c, plen, 2);
		ldns_sha256_update(&c, prior, priorlen);
	}
	ldns_sha256_update(&c, msg, len);
	if (timers_only) {
		/* time signed and fudge (RFC 8945 5.3.1) */
		ldns_sha256_update(&c, vars + 2 + 4 + ALG_WIRE_LEN, 6 + 2);
	} else {
		ldns_sha256_update(&c, t->name, t->namelen);
		ldns_sha256_update(&c, vars, sizeof(vars));
	}
	ldns_sha256_final(digest, &c);
	c = t->outer;
	ldns_sha256_update(&c, digest, sizeof(digest));
	ldns_sha256_final(sum, &c);

	p = msg + len;
	memcpy(p, t->name, t->namelen);
	p += t->namelen;
	p = put16(p, TYPE_TSIG);
	p = put16(p, CLASS_ANY);
	memset(p, 0, 4);			/* TTL */
	p += 4;
	p = put16(p, (uint16_t)(rr - t->namelen - 10));
	memcpy(p, alg_wire, ALG_WIRE_LEN);
	p += ALG_WIRE_LEN;
	p = put48(p, now);
	p = put16(p, fudge);
	p = put16(p, NC_TSIG_MAC_LEN);
	memcpy(p, sum, sizeof(sum));
	p += sizeof(sum);
	memcpy(p, msg, 2);			/* original id */
	p += 2;
	p = put16(p, 0);			/* error */
	put16(p, 0);				/* other len */
	put16(msg + 10, (uint16_t)(ar + 1));
	if (mac)
		memcpy(mac, sum, sizeof(sum));
	return len + rr;
}

size_t
nc_tsig_sign(const struct nc_tsig *t, uint8_t *msg, size_t len,
    size_t cap, uint64_t now, uint16_t fudge, uint8_t mac[NC_TSIG_MAC_LEN])
{
	return sign(t, msg, len, cap, now, fudge, NULL, 0, false, mac);
}

size_t
nc_tsig_sign_reply(const struct nc_tsig *t, uint8_t *msg, size_t len,
    size_t cap, uint64_t now, uint16_t fudge, const uint8_t *prior,
    size_t priorlen, bool subsequent, uint8_t mac[NC_TSIG_MAC_LEN])
{
	if (!prior)
		return 0;
	return sign(t, msg, len, cap, now, fudge, prior, priorlen, subsequent,
	    mac);
}
