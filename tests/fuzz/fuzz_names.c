/*
 * tests/fuzz/fuzz_names.c -- DNS names, labels, addresses and CIDRs.
 *
 * The input is text; up to its first newline it is tried as every kind
 * of name kubezone reads, and the results are checked against each
 * other and against ldns:
 *   - zg_name_parse() output passes zg_name_check() and parses to itself;
 *   - a name passing zg_name_check() has the wire length it claims, and
 *     its canonical key orders it against the text after the newline
 *     exactly as ldns_dname_compare() does;
 *   - a parsed address prints and parses back to itself, and its
 *     reverse name and labels are valid names and labels;
 *   - a parsed CIDR yields at most 256 reverse zones, each a valid name
 *     that ends in in-addr.arpa or ip6.arpa.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "tests/fuzz/fuzz.h"
#include "zonegen/model.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
cmp_keys(const char *a, const char *b)
{
	uint8_t ka[ZG_NAME_TEXT + 8], kb[ZG_NAME_TEXT + 8];
	size_t la = zg_name_key(a, ka, sizeof(ka));
	size_t lb = zg_name_key(b, kb, sizeof(kb));
	int c = memcmp(ka, kb, la < lb ? la : lb);

	if (c)
		return c < 0 ? -1 : 1;
	return la == lb ? 0 : la < lb ? -1 : 1;
}

static void
check_order(const char *a, const char *b)
{
	ldns_rdf *ra = NULL, *rb = NULL;
	int want, got;

	if (ldns_str2rdf_dname(&ra, a) != LDNS_STATUS_OK ||
	    ldns_str2rdf_dname(&rb, b) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ra);
		ldns_rdf_deep_free(rb);
		return;
	}
	want = ldns_dname_compare(ra, rb);
	want = want < 0 ? -1 : want > 0;
	got = cmp_keys(a, b);
	FUZZ_CHECK(got == want, "order of %s and %s: keys %d, ldns %d", a, b,
	    got, want);
	ldns_rdf_deep_free(ra);
	ldns_rdf_deep_free(rb);
}

static void
check_name(const char *s, const char *other)
{
	char out[ZG_NAME_TEXT], again[ZG_NAME_TEXT];
	uint8_t wire[ZG_NAME_MAX + 8];
	const char *why = NULL;

	if (zg_name_check(s, &why) == 0) {
		size_t n = zg_name_wire(s, wire, sizeof(wire));

		FUZZ_CHECK(why == NULL, "valid with a reason: %s", why);
		FUZZ_CHECK(n == zg_name_wire_len(s), "%s: wire %zu, claimed %zu",
		    s, n, zg_name_wire_len(s));
		FUZZ_CHECK(n <= ZG_NAME_MAX, "%s: %zu wire octets", s, n);
		FUZZ_CHECK(zg_name_parse(s, out, sizeof(out), &why) == 0,
		    "%s passes the check but not the parser: %s", s, why);
		FUZZ_CHECK(strcmp(out, s) == 0, "%s parses to %s", s, out);
		if (other && zg_name_check(other, NULL) == 0)
			check_order(s, other);
	} else {
		FUZZ_CHECK(why != NULL, "%s: rejected without a reason", s);
	}
	if (zg_name_parse(s, out, sizeof(out), &why) == 0) {
		FUZZ_CHECK(zg_name_check(out, &why) == 0,
		    "parsed %s into invalid %s: %s", s, out, why);
		FUZZ_CHECK(zg_name_parse(out, again, sizeof(again), &why) == 0 &&
		    strcmp(out, again) == 0, "%s: parse is not idempotent", s);
	}
}

static void
check_ip(const char *s)
{
	char txt[64], buf[ZG_NAME_TEXT];
	struct zg_ip ip, back;
	struct zg_epaddr ep;

	if (zg_ip_parse(&ip, s) != 0)
		return;
	zg_ip_str(&ip, txt, sizeof(txt));
	FUZZ_CHECK(zg_ip_parse(&back, txt) == 0 && zg_ip_cmp(&ip, &back) == 0,
	    "%s prints as %s, which does not parse back", s, txt);
	zg_reverse_name(&ip, buf, sizeof(buf));
	FUZZ_CHECK(zg_name_check(buf, NULL) == 0, "reverse name %s", buf);
	zg_pod_label(&ip, buf, sizeof(buf));
	FUZZ_CHECK(strlen(buf) > 0 && strlen(buf) <= ZG_LABEL_MAX,
	    "pod label %s", buf);
	memset(&ep, 0, sizeof(ep));
	ep.ip = ip;
	zg_endpoint_label(&ep, false, buf, sizeof(buf));
	FUZZ_CHECK(zg_label_ok(buf, strlen(buf), false),
	    "endpoint label %s of %s", buf, txt);
}

struct zones {
	unsigned n;
	int family;
};

static int
one_zone(void *ctx, const char *zone)
{
	struct zones *z = ctx;
	const char *suffix = z->family == ZG_IPV4 ? "in-addr.arpa" :
	    "ip6.arpa";
	size_t n = strlen(zone), sn = strlen(suffix);

	z->n++;
	FUZZ_CHECK(zg_name_check(zone, NULL) == 0, "reverse zone %s", zone);
	FUZZ_CHECK(n >= sn && strcmp(zone + n - sn, suffix) == 0,
	    "reverse zone %s not under %s", zone, suffix);
	return 0;
}

static void
check_cidr(const char *s)
{
	struct zg_cidr c;
	struct zones z = { 0, 0 };

	if (zg_cidr_parse(&c, s) != 0)
		return;
	FUZZ_CHECK(c.prefix <= (c.ip.family == ZG_IPV4 ? 32 : 128),
	    "%s: prefix %u", s, c.prefix);
	z.family = c.ip.family;
	FUZZ_CHECK(zg_cidr_zones(&c, one_zone, &z) == 0, "%s: zones", s);
	FUZZ_CHECK(z.n >= 1 && z.n <= 256, "%s: %u zones", s, z.n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *other = NULL, *nl;

	fuzz_quiet();
	if (size > 2048)
		return 0;
	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		other = nl + 1;
	}
	(void)zg_label_ok(s, strlen(s), false);
	(void)zg_label_ok(s, strlen(s), true);
	check_name(s, other);
	check_ip(s);
	check_cidr(s);
	free(s);
	return 0;
}
