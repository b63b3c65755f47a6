/*
 * tests/fuzz/fuzz_execcred.c -- what exec credential plugins print.
 *
 * The first byte picks the apiVersion the kubeconfig asks for (even:
 * v1, odd: v1beta1); the rest is the plugin's stdout, parsed by
 * sy_ec_parse(). A credential that parses has a token without line
 * breaks or a PEM certificate with its PEM key (lengths as stored), and
 * a refresh time not after its expiry; a refused one says why and
 * holds nothing. Every JSON string of the input that looks like a time
 * also goes through sy_ec_parse_time().
 */
#include <stdint.h>
#include <string.h>

#include "syncer/execcred.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_cred(const struct sy_ec_cred *c)
{
	FUZZ_CHECK(c->token || (c->cert && c->key), "no credential");
	FUZZ_CHECK((c->cert == NULL) == (c->key == NULL), "cert/key pair");
	if (c->token)
		FUZZ_CHECK(*c->token && strpbrk(c->token, "\r\n") == NULL,
		    "token '%s'", c->token);
	if (c->cert) {
		FUZZ_CHECK(c->cert_len == strlen(c->cert), "cert length");
		FUZZ_CHECK(c->key_len == strlen(c->key), "key length");
		FUZZ_CHECK(strstr(c->cert, "-----BEGIN ") &&
		    strstr(c->key, "-----BEGIN "), "not PEM");
	}
	if (c->expiry)
		FUZZ_CHECK(sy_ec_refresh_at(c, (c->expiry - 100) * 1000) <=
		    c->expiry * 1000, "refresh after expiry");
	else
		FUZZ_CHECK(sy_ec_refresh_at(c, 0) == INT64_MAX, "refresh");
}

/* Try every 20-40 byte stretch after a '"' as a time. */
static void
times(const char *s, size_t n)
{
	char buf[48];
	int64_t t;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (s[i] != '"')
			continue;
		while (i + 1 + k < n && k < sizeof(buf) - 1 &&
		    s[i + 1 + k] != '"')
			k++;
		if (k < 20 || k > 40)
			continue;
		memcpy(buf, s + i + 1, k);
		buf[k] = '\0';
		if (sy_ec_parse_time(buf, &t) == 0)
			FUZZ_CHECK(t > -100000000000LL && t < 300000000000LL,
			    "time %s", buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sy_ec_cred c;
	char err[512];
	int rc;

	fuzz_quiet();
	if (size < 1 || size > 256 * 1024)
		return 0;
	err[0] = '\0';
	rc = sy_ec_parse((const char *)data + 1, size - 1, data[0] & 1 ?
	    SY_EC_API_V1BETA1 : SY_EC_API_V1, &c, err, sizeof(err));
	if (rc == 0) {
		check_cred(&c);
		sy_ec_cred_free(&c);
	} else {
		FUZZ_CHECK(rc == KZ_EPARSE || rc == KZ_ENOMEM, "rc %d", rc);
		FUZZ_CHECK(*err, "no message");
		FUZZ_CHECK(c.token == NULL && c.cert == NULL && c.key == NULL,
		    "left a credential");
	}
	times((const char *)data + 1, size - 1);
	return 0;
}
