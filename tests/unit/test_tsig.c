/*
 * tests/unit/test_tsig.c -- nsd-conf/tsig: TSIG records ldns verifies.
 *
 * Every signature made here is checked by ldns_pkt_tsig_verify() (the
 * HMAC of libcrypto), the record's fields against RFC 8945.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "common/err.h"
#include "nsd-conf/tsig.h"

#define KEY "kubezone-feed."
#define SECRET "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3Jl"	/* 33 bytes */
/* 100 bytes: longer than the HMAC block, hashed first (RFC 2104). */
#define LONG_SECRET "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp" \
	"KissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltc" \
	"XV5fYGFiYw=="

/* A NOTIFY for cluster.local. with its SOA, in wire form, in BUF. */
static size_t
notify_wire(uint8_t *buf, size_t cap, uint16_t id)
{
	ldns_pkt *p = NULL;
	ldns_rr *q = NULL, *soa = NULL;
	uint8_t *w = NULL;
	size_t len = 0;

	q = ldns_rr_new();
	assert_non_null(q);
	ldns_rr_set_owner(q, ldns_dname_new_frm_str("cluster.local."));
	ldns_rr_set_type(q, LDNS_RR_TYPE_SOA);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	assert_int_equal(ldns_rr_new_frm_str(&soa, "cluster.local. 30 IN SOA "
	    "ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 "
	    "86400 30", 0, NULL, NULL), LDNS_STATUS_OK);
	p = ldns_pkt_new();
	assert_non_null(p);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	ldns_pkt_set_aa(p, true);
	assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q));
	assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa));
	assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	assert_true(len <= cap);
	memcpy(buf, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

/* Whether ldns takes WIRE as signed by NAME/SECRET. */
static bool
verifies(const uint8_t *wire, size_t len, const char *name,
    const char *secret)
{
	ldns_pkt *p = NULL;
	bool ok;

	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return false;
	ok = ldns_pkt_tsig(p) && ldns_pkt_tsig_verify(p, wire, len, name,
	    secret, NULL);
	ldns_pkt_free(p);
	return ok;
}

static void
test_sign_verifies(void **state)
{
	struct nc_tsig t;
	uint8_t buf[1024], mac[NC_TSIG_MAC_LEN];
	uint64_t now = (uint64_t)time(NULL);
	size_t len, n;
	ldns_pkt *p = NULL;
	ldns_rr *rr;
	ldns_rdf *want_alg = ldns_dname_new_frm_str("hmac-sha256.");

	(void)state;
	assert_int_equal(nc_tsig_init(&t, KEY, "hmac-sha256", SECRET), KZ_OK);
	len = notify_wire(buf, sizeof(buf), 0x1234);
	n = nc_tsig_sign(&t, buf, len, sizeof(buf), now, 300, mac);
	assert_true(n > len && n - len <= NC_TSIG_MAX);
	assert_true(verifies(buf, n, KEY, SECRET));
	assert_false(verifies(buf, n, KEY, LONG_SECRET));

	/* The record itself. */
	assert_int_equal(ldns_wire2pkt(&p, buf, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	rr = ldns_pkt_tsig(p);
	assert_non_null(rr);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_ANY);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	assert_int_equal(ldns_rr_rd_count(rr), 7);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(rr, 0), want_alg), 0);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 2)), 300);
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 3)),
	    2 + NC_TSIG_MAC_LEN);
	assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 3)) + 2, mac,
	    NC_TSIG_MAC_LEN);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 4)), 0x1234);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 5)), 0);
	ldns_pkt_free(p);
	ldns_rdf_deep_free(want_alg);

	/* One byte changed after signing: no longer verifies. */
	buf[len - 1] ^= 1;
	assert_false(verifies(buf, n, KEY, SECRET));
}

static void
test_long_secret_and_case(void **state)
{
	struct nc_tsig t, upper;
	uint8_t a[1024], b[1024], mac_a[NC_TSIG_MAC_LEN], mac_b[NC_TSIG_MAC_LEN];
	uint64_t now = (uint64_t)time(NULL);
	size_t len, n;

	(void)state;
	assert_int_equal(nc_tsig_init(&t, KEY, "hmac-sha256.", LONG_SECRET),
	    KZ_OK);
	len = notify_wire(a, sizeof(a), 7);
	memcpy(b, a, len);
	n = nc_tsig_sign(&t, a, len, sizeof(a), now, 300, mac_a);
	assert_true(n > 0);
	assert_true(verifies(a, n, KEY, LONG_SECRET));

	/* The key name goes in canonical (lower case) form. */
	assert_int_equal(nc_tsig_init(&upper, "KubeZone-Feed", "HMAC-SHA256",
	    LONG_SECRET), KZ_OK);
	assert_int_equal(nc_tsig_sign(&upper, b, len, sizeof(b), now, 300,
	    mac_b), n);
	assert_memory_equal(a, b, n);
	assert_memory_equal(mac_a, mac_b, sizeof(mac_a));
}

/* MAC as ldns holds a TSIG's MAC field: its length, then its bytes. */
static ldns_rdf *
mac_rdf(const uint8_t mac[NC_TSIG_MAC_LEN])
{
	uint8_t b[2 + NC_TSIG_MAC_LEN] = { 0, NC_TSIG_MAC_LEN };

	memcpy(b + 2, mac, NC_TSIG_MAC_LEN);
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, sizeof(b), b);
}

/* Whether ldns takes WIRE as the answer after the one signed with PRIOR. */
static bool
verifies_next(const uint8_t *wire, size_t len, const char *secret,
    const uint8_t prior[NC_TSIG_MAC_LEN], int timers_only)
{
	ldns_pkt *p = NULL;
	ldns_rdf *m = mac_rdf(prior);
	bool ok;

	assert_non_null(m);
	assert_int_equal(ldns_wire2pkt(&p, wire, len), LDNS_STATUS_OK);
	ok = ldns_pkt_tsig(p) && ldns_pkt_tsig_verify_next(p, wire, len, KEY,
	    secret, m, timers_only);
	ldns_pkt_free(p);
	ldns_rdf_deep_free(m);
	return ok;
}

/*
 * A signed request, its answer and the next message of a transfer: the
 * answer over the request's MAC with every variable, the next over the
 * answer's MAC with the timers only (RFC 8945 5.3.1), as ldns checks a
 * transfer's messages.
 */
static void
test_reply_chain(void **state)
{
	struct nc_tsig t;
	uint8_t q[1024], a1[1024], a2[1024];
	uint8_t m0[NC_TSIG_MAC_LEN], m1[NC_TSIG_MAC_LEN], m2[NC_TSIG_MAC_LEN];
	uint64_t now = (uint64_t)time(NULL);
	size_t qlen, len, n1, n2;

	(void)state;
	assert_int_equal(nc_tsig_init(&t, KEY, NC_TSIG_ALG, SECRET), KZ_OK);
	qlen = notify_wire(q, sizeof(q), 0x4242);
	qlen = nc_tsig_sign(&t, q, qlen, sizeof(q), now, 300, m0);
	assert_true(qlen > 0);

	len = notify_wire(a1, sizeof(a1), 0x4242);
	a1[2] |= 0x80;			/* QR */
	memcpy(a2, a1, len);
	a2[len - 1] ^= 0x55;		/* another message body */
	assert_int_equal(nc_tsig_sign_reply(&t, a1, len, sizeof(a1), now,
	    300, NULL, 0, false, m1), 0);
	n1 = nc_tsig_sign_reply(&t, a1, len, sizeof(a1), now, 300, m0,
	    sizeof(m0), false, m1);
	assert_true(n1 > len && n1 - len <= NC_TSIG_MAX);
	n2 = nc_tsig_sign_reply(&t, a2, len, sizeof(a2), now + 1, 300, m1,
	    sizeof(m1), true, m2);
	assert_int_equal(n2, n1);

	assert_true(verifies_next(a1, n1, SECRET, m0, 0));
	assert_true(verifies_next(a2, n2, SECRET, m1, 1));
	/* Each only in its place in the chain, and only with the key. */
	assert_false(verifies_next(a1, n1, SECRET, m1, 0));
	assert_false(verifies_next(a1, n1, SECRET, m0, 1));
	assert_false(verifies_next(a2, n2, SECRET, m1, 0));
	assert_false(verifies_next(a2, n2, SECRET, m0, 1));
	assert_false(verifies_next(a2, n2, LONG_SECRET, m1, 1));
	/* The answer is not a request: no MAC of its own stands alone. */
	assert_false(verifies(a1, n1, KEY, SECRET));
	assert_memory_not_equal(m1, m2, sizeof(m1));
}

static void
test_refusals(void **state)
{
	struct nc_tsig t;
	uint8_t buf[1024], copy[1024];
	size_t len;

	(void)state;
	assert_int_equal(nc_tsig_init(&t, KEY, "hmac-md5", SECRET), KZ_EINVAL);
	assert_int_equal(nc_tsig_init(&t, KEY, "hmac-sha256x", SECRET),
	    KZ_EINVAL);
	assert_int_equal(nc_tsig_init(&t, KEY, NULL, SECRET), KZ_EINVAL);
	assert_int_equal(nc_tsig_init(&t, KEY, NC_TSIG_ALG, "!!not base64"),
	    KZ_EINVAL);
	assert_int_equal(nc_tsig_init(&t, KEY, NC_TSIG_ALG, ""), KZ_EINVAL);
	assert_int_equal(nc_tsig_init(&t, "a..b", NC_TSIG_ALG, SECRET),
	    KZ_ENAME);
	/* A failed init leaves T unusable, not half set up. */
	len = notify_wire(buf, sizeof(buf), 1);
	assert_int_equal(nc_tsig_sign(&t, buf, len, sizeof(buf), 1, 300,
	    NULL), 0);

	assert_int_equal(nc_tsig_init(&t, KEY, NC_TSIG_ALG, SECRET), KZ_OK);
	memcpy(copy, buf, len);
	/* No room for the record, or no header: nothing written. */
	assert_int_equal(nc_tsig_sign(&t, buf, len, len + 20, 1, 300, NULL),
	    0);
	assert_int_equal(nc_tsig_sign(&t, buf, 11, sizeof(buf), 1, 300, NULL),
	    0);
	assert_memory_equal(buf, copy, len);
	assert_true(nc_tsig_sign(&t, buf, len, sizeof(buf), 1, 300, NULL) >
	    len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verifies),
		cmocka_unit_test(test_long_secret_and_case),
		cmocka_unit_test(test_reply_chain),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
