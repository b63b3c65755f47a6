/*
 * tests/unit/test_names.c -- zonegen/names: label and name rules, the
 * endpoint and pod labels, reverse names, canonical-order keys, wire
 * forms and reverse zones of CIDRs.
 *
 * Expected values come from the DNS limits (63-octet labels, 255-octet
 * names, RFC 1035), the Kubernetes label rules of the spec (sections
 * 1.2-1.4, E12-E17, R8, R13, R20) and the canonical order of RFC 4034
 * section 6.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

/* --- helpers ------------------------------------------------------------- */

/* A dotted name of N labels of the given lengths ('a'.. as filler). */
static const char *
name_of(const size_t *lens, size_t n)
{
	static char buf[280];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[o++] = '.';
		assert_true(o + lens[i] + 2 < sizeof(buf));
		memset(buf + o, 'a' + (int)(i % 26), lens[i]);
		o += lens[i];
	}
	buf[o] = '\0';
	return buf;
}

static struct zg_ip
ip_of(const char *s)
{
	struct zg_ip ip;

	if (zg_ip_parse(&ip, s) != 0)
		fail_msg("bad address in test: %s", s);
	return ip;
}

/* Is the key of A before the key of B (RFC 4034 6.1 under memcmp)? */
static int
key_cmp(const char *a, const char *b)
{
	uint8_t ka[300], kb[300];
	size_t la = zg_name_key(a, ka, sizeof(ka));
	size_t lb = zg_name_key(b, kb, sizeof(kb));
	int r = memcmp(ka, kb, la < lb ? la : lb);

	return r ? r : (la > lb) - (la < lb);
}

static void
test_name_helpers(void **state)
{
	struct zg_epaddr a = { 0 };
	struct zg_ip ip;
	char buf[ZG_NAME_TEXT];
	uint8_t k1[300], k2[300];
	size_t l1, l2;

	(void)state;
	assert_true(zg_label_ok("a-b", 3, false));
	assert_false(zg_label_ok("_a", 2, false));
	assert_true(zg_label_ok("_a", 2, true));
	assert_false(zg_label_ok("_", 1, true));
	assert_false(zg_label_ok("A", 1, false));
	assert_int_equal(zg_name_check("a.b", NULL), 0);
	assert_int_not_equal(zg_name_check("a..b", NULL), 0);
	assert_int_equal(zg_name_wire_len("a.b"), 5);

	zg_ip_parse(&a.ip, "10.244.3.4");
	assert_string_equal(zg_endpoint_label(&a, false, buf, sizeof(buf)), "10-244-3-4");
	zg_ip_parse(&a.ip, "fd00:10:244:1::");
	assert_string_equal(zg_endpoint_label(&a, false, buf, sizeof(buf)), "fd00-10-244-1--0");
	assert_string_equal(zg_pod_label(&a.ip, buf, sizeof(buf)), "fd00-10-244-1--");
	a.target = "web-0";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)), "web-0");
	a.hostname = "db-0";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)), "db-0");

	zg_ip_parse(&ip, "2001:db8::1");
	assert_string_equal(zg_reverse_name(&ip, buf, sizeof(buf)),
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	zg_ip_parse(&ip, "10.96.0.1");
	assert_string_equal(zg_reverse_name(&ip, buf, sizeof(buf)), "1.0.96.10.in-addr.arpa");

	/* Canonical keys: a.example < z.a.example < yljkjljk.a.example <
	 * Z.a.example (case folded earlier) < zABC.a.EXAMPLE < z.example. */
	l1 = zg_name_key("z.a.example", k1, sizeof(k1));
	l2 = zg_name_key("a.example", k2, sizeof(k2));
	assert_true(memcmp(k2, k1, l2 < l1 ? l2 : l1) <= 0 && l2 < l1);
	l1 = zg_name_key("z.example", k1, sizeof(k1));
	l2 = zg_name_key("zabc.a.example", k2, sizeof(k2));
	assert_true(memcmp(k2, k1, l2 < l1 ? l2 : l1) < 0);
}

/* zg_name_key orders names exactly as ldns_dname_compare does. */
static const char *const order_names[] = {
	"cluster.local", "a.cluster.local", "a-b.cluster.local",
	"ab.cluster.local", "z.a.cluster.local", "_tcp.a.cluster.local",
	"_http._tcp.a.cluster.local", "0.a.cluster.local", "9.a.cluster.local",
	"-.a.cluster.local", "--1.db.shop.svc.cluster.local",
	"10-244-1-5.db.shop.svc.cluster.local", "db.shop.svc.cluster.local",
	"ns.dns.cluster.local", "dns-version.cluster.local", "local",
	"b.local", "1.0.96.10.in-addr.arpa", "100.0.96.10.in-addr.arpa",
	"20.0.96.10.in-addr.arpa", "in-addr.arpa", "10.in-addr.arpa",
};

static int
cmp_by_key(const void *a, const void *b)
{
	uint8_t ka[300], kb[300];
	size_t la = zg_name_key(*(const char *const *)a, ka, sizeof(ka));
	size_t lb = zg_name_key(*(const char *const *)b, kb, sizeof(kb));
	int r = memcmp(ka, kb, la < lb ? la : lb);

	return r ? r : (la > lb) - (la < lb);
}

static int
cmp_by_ldns(const void *a, const void *b)
{
	ldns_rdf *x = ldns_dname_new_frm_str(*(const char *const *)a);
	ldns_rdf *y = ldns_dname_new_frm_str(*(const char *const *)b);
	int r;

	assert_non_null(x);
	assert_non_null(y);
	r = ldns_dname_compare(x, y);
	ldns_rdf_deep_free(x);
	ldns_rdf_deep_free(y);
	return r;
}

static void
test_canonical_key_matches_ldns(void **state)
{
	size_t n = sizeof(order_names) / sizeof(order_names[0]);
	const char *a[sizeof(order_names) / sizeof(order_names[0])];
	const char *b[sizeof(order_names) / sizeof(order_names[0])];

	(void)state;
	memcpy(a, order_names, sizeof(a));
	memcpy(b, order_names, sizeof(b));
	qsort(a, n, sizeof(a[0]), cmp_by_key);
	qsort(b, n, sizeof(b[0]), cmp_by_ldns);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a[i], b[i]);
}

static void
test_name_parse(void **state)
{
	char out[ZG_NAME_TEXT];
	const char *why;

	(void)state;
	assert_int_equal(zg_name_parse("SMTP.Example.COM.", out, sizeof(out), &why), 0);
	assert_string_equal(out, "smtp.example.com");
	assert_int_not_equal(zg_name_parse("a..b", out, sizeof(out), &why), 0);
	assert_int_not_equal(zg_name_parse("", out, sizeof(out), &why), 0);
	assert_int_not_equal(zg_name_parse("a b.com", out, sizeof(out), &why), 0);
	assert_int_not_equal(zg_name_parse("x\\.y.com", out, sizeof(out), &why), 0);
}


static void
test_cidr_parse(void **state)
{
	struct zg_cidr c;

	(void)state;
	assert_int_equal(zg_cidr_parse(&c, "10.0.0.0/8"), 0);
	assert_int_equal(c.prefix, 8);
	assert_int_not_equal(zg_cidr_parse(&c, "10.0.0.1/8"), 0);
	assert_int_not_equal(zg_cidr_parse(&c, "10.0.0.0/33"), 0);
	assert_int_not_equal(zg_cidr_parse(&c, "10.0.0.0"), 0);
	assert_int_not_equal(zg_cidr_parse(&c, "x/8"), 0);
	assert_int_equal(zg_cidr_parse(&c, "::/0"), 0);
}

/* --- labels and names ----------------------------------------------------- */

static void
test_label_rules(void **state)
{
	char l[80];

	(void)state;
	memset(l, 'a', sizeof(l));
	/* 1 to 63 octets. */
	assert_true(zg_label_ok(l, 1, false));
	assert_true(zg_label_ok(l, 63, false));
	assert_false(zg_label_ok(l, 64, false));
	assert_false(zg_label_ok(l, 0, false));
	assert_false(zg_label_ok("", 0, true));
	/* Digits and hyphens anywhere: dashed IPv6 labels start and end
	 * with '-' (E14), and Service names may start with a digit. */
	assert_true(zg_label_ok("0", 1, false));
	assert_true(zg_label_ok("10-244-3-4", 10, false));
	assert_true(zg_label_ok("--1", 3, false));
	assert_true(zg_label_ok("-", 1, false));
	assert_true(zg_label_ok("fd00-10-244-1--", 15, false));
	/* Lower case only. */
	assert_false(zg_label_ok("Web", 3, false));
	assert_false(zg_label_ok("wEb", 3, true));
	assert_false(zg_label_ok("Z", 1, true));
	/* Nothing outside [a-z0-9-]: nothing is escaped. */
	assert_false(zg_label_ok("a.b", 3, false));
	assert_false(zg_label_ok("a_b", 3, false));
	assert_false(zg_label_ok("a b", 3, false));
	assert_false(zg_label_ok("*", 1, false));
	assert_false(zg_label_ok("a/b", 3, false));
	assert_false(zg_label_ok("a\\b", 3, false));
	assert_false(zg_label_ok("a@b", 3, false));
	assert_false(zg_label_ok("b\xc3\xa4r", 4, false));
	assert_false(zg_label_ok("a\0b", 3, false));
	/* Only LEN octets are looked at. */
	assert_true(zg_label_ok("web.shop", 3, false));
	assert_false(zg_label_ok("web.shop", 4, false));
	/* '_' only in front, only when allowed, never alone. */
	assert_true(zg_label_ok("_tcp", 4, true));
	assert_true(zg_label_ok("_0", 2, true));
	assert_false(zg_label_ok("_tcp", 4, false));
	assert_false(zg_label_ok("a_", 2, true));
	assert_false(zg_label_ok("__a", 3, true));
	assert_false(zg_label_ok("_A", 2, true));
	assert_false(zg_label_ok("_", 1, true));
	/* The '_' counts: a 63-character port name makes a 64-octet SRV
	 * label, which no name may hold (E13). */
	l[0] = '_';
	assert_true(zg_label_ok(l, 63, true));
	assert_false(zg_label_ok(l, 64, true));
}

static void
test_name_check_limits(void **state)
{
	/* 253 octets of text, 255 on the wire; then 256. */
	static const size_t max[] = { 63, 63, 63, 61 };
	static const size_t over[] = { 63, 63, 63, 62 };
	static const size_t long_label[] = { 64, 5 };
	static const size_t top_label[] = { 63, 5 };
	char many[300];
	const char *why;

	(void)state;
	/* 255 wire octets exactly: accepted. */
	assert_int_equal(strlen(name_of(max, 4)), 253);
	assert_int_equal(zg_name_wire_len(name_of(max, 4)), 255);
	assert_int_equal(zg_name_check(name_of(max, 4), &why), 0);
	/* One more: refused, saying why. */
	why = NULL;
	assert_int_equal(zg_name_check(name_of(over, 4), &why), KZ_ENAME);
	assert_non_null(why);
	assert_non_null(strstr(why, "255"));
	/* Many short labels: each one costs its length octet. */
	for (size_t i = 0; i < 127; i++) {
		many[2 * i] = 'x';
		many[2 * i + 1] = '.';
	}
	many[253] = '\0';			/* 127 labels, 255 octets */
	assert_int_equal(zg_name_check(many, NULL), 0);
	many[253] = '.';
	many[254] = 'x';
	many[255] = '\0';			/* 128 labels, 257 octets */
	assert_int_equal(zg_name_check(many, NULL), KZ_ENAME);

	/* Labels of 63 octets pass; 64 do not. */
	assert_int_equal(zg_name_check(name_of(top_label, 2), NULL), 0);
	why = NULL;
	assert_int_equal(zg_name_check(name_of(long_label, 2), &why),
	    KZ_ENAME);
	assert_non_null(why);
	assert_non_null(strstr(why, "63"));

	/* Empty names and labels. */
	why = NULL;
	assert_int_equal(zg_name_check("", &why), KZ_ENAME);
	assert_non_null(why);
	assert_int_equal(zg_name_check(".", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("a.", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check(".a", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("a..b", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("cluster.local.", NULL), KZ_ENAME);

	/* Label contents: lower-case [a-z0-9-], '_' in front of a label. */
	assert_int_equal(zg_name_check("a", NULL), 0);
	assert_int_equal(zg_name_check("web.shop.svc.cluster.local", NULL), 0);
	assert_int_equal(zg_name_check("_http._tcp.web.shop.svc.cluster.local",
	    NULL), 0);
	assert_int_equal(zg_name_check("--1.db.shop.svc.cluster.local", NULL),
	    0);
	assert_int_equal(zg_name_check("1.0.96.10.in-addr.arpa", NULL), 0);
	why = NULL;
	assert_int_equal(zg_name_check("Web.shop", &why), KZ_ENAME);
	assert_non_null(why);
	assert_int_equal(zg_name_check("web.Shop", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("a_b.shop", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("*.shop", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("a b.shop", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("x\\.y.shop", NULL), KZ_ENAME);
	assert_int_equal(zg_name_check("_.shop", NULL), KZ_ENAME);
}

static void
test_name_parse_forms(void **state)
{
	static const size_t max[] = { 63, 63, 63, 61 };
	static const size_t over[] = { 63, 63, 63, 62 };
	static const size_t long_label[] = { 64, 3 };
	static const size_t top_label[] = { 63, 3 };
	char out[ZG_NAME_TEXT], text[300];
	const char *why;

	(void)state;
	/* The final dot is optional; case is folded. */
	assert_int_equal(zg_name_parse("cluster.local", out, sizeof(out), &why),
	    0);
	assert_string_equal(out, "cluster.local");
	assert_int_equal(zg_name_parse("cluster.local.", out, sizeof(out),
	    &why), 0);
	assert_string_equal(out, "cluster.local");
	assert_int_equal(zg_name_parse("Cluster.EXAMPLE", out, sizeof(out),
	    &why), 0);
	assert_string_equal(out, "cluster.example");
	/* RFC 1035 \DDD escapes are decoded (\065 is 'A'). */
	assert_int_equal(zg_name_parse("\\065bc.example", out, sizeof(out),
	    &why), 0);
	assert_string_equal(out, "abc.example");
	/* Service labels pass as zg_name_check() allows them. */
	assert_int_equal(zg_name_parse("_sip._tcp.example.com", out,
	    sizeof(out), &why), 0);
	assert_string_equal(out, "_sip._tcp.example.com");

	/* At the limits: 255 wire octets with or without the final dot. */
	snprintf(text, sizeof(text), "%s", name_of(max, 4));
	assert_int_equal(zg_name_parse(text, out, sizeof(out), &why), 0);
	assert_string_equal(out, text);
	snprintf(text, sizeof(text), "%s.", name_of(max, 4));
	assert_int_equal(zg_name_parse(text, out, sizeof(out), &why), 0);
	assert_int_equal(strlen(out), 253);
	why = NULL;
	assert_int_equal(zg_name_parse(name_of(over, 4), out, sizeof(out),
	    &why), KZ_ENAME);
	assert_non_null(why);
	assert_int_equal(zg_name_parse(name_of(top_label, 2), out, sizeof(out),
	    &why), 0);
	why = NULL;
	assert_int_equal(zg_name_parse(name_of(long_label, 2), out,
	    sizeof(out), &why), KZ_ENAME);
	assert_non_null(why);

	/* Not names kubezone can write. */
	why = NULL;
	assert_int_equal(zg_name_parse(".", out, sizeof(out), &why), KZ_ENAME);
	assert_non_null(why);
	assert_int_equal(zg_name_parse(NULL, out, sizeof(out), &why),
	    KZ_ENAME);
	assert_int_equal(zg_name_parse("*.example.com", out, sizeof(out),
	    &why), KZ_ENAME);
	assert_int_equal(zg_name_parse("under_score.example", out,
	    sizeof(out), &why), KZ_ENAME);
	assert_int_equal(zg_name_parse("b\xc3\xa4r.example", out, sizeof(out),
	    &why), KZ_ENAME);
	assert_int_equal(zg_name_parse(".example", out, sizeof(out), &why),
	    KZ_ENAME);
	assert_int_equal(zg_name_parse("example..", out, sizeof(out), &why),
	    KZ_ENAME);
}

static void
test_bare_and_wire_len(void **state)
{
	static const size_t max[] = { 63, 63, 63, 61 };
	char out[ZG_NAME_TEXT], small[8];

	(void)state;
	assert_int_equal(zg_name_bare_len("cluster.local."), 13);
	assert_int_equal(zg_name_bare_len("cluster.local"), 13);
	assert_int_equal(zg_name_bare_len("a."), 1);
	assert_int_equal(zg_name_bare_len("."), 1);	/* the root stays */
	assert_int_equal(zg_name_bare_len(""), 0);
	zg_name_bare(out, sizeof(out), "cluster.local.");
	assert_string_equal(out, "cluster.local");
	zg_name_bare(out, sizeof(out), "cluster.local");
	assert_string_equal(out, "cluster.local");
	zg_name_bare(out, sizeof(out), ".");
	assert_string_equal(out, ".");
	/* Never past OUTSZ. */
	memset(small, 'x', sizeof(small));
	zg_name_bare(small, sizeof(small), "cluster.local.");
	assert_true(memchr(small, '\0', sizeof(small)) != NULL);
	assert_int_equal(strncmp(small, "cluster.local", strlen(small)), 0);

	/* Every label gets a length octet, and the root one more. */
	assert_int_equal(zg_name_wire_len(""), 1);
	assert_int_equal(zg_name_wire_len("a"), 3);
	assert_int_equal(zg_name_wire_len("a.b"), 5);
	assert_int_equal(zg_name_wire_len("cluster.local"), 15);
	assert_int_equal(zg_name_wire_len(
	    "_http._tcp.web.shop.svc.cluster.local"), 39);
	assert_int_equal(zg_name_wire_len(name_of(max, 4)), 255);
}

static void
test_name_wire(void **state)
{
	static const uint8_t cluster[] = {
		7, 'c', 'l', 'u', 's', 't', 'e', 'r',
		5, 'l', 'o', 'c', 'a', 'l', 0
	};
	static const uint8_t srv[] = {
		5, '_', 'h', 't', 't', 'p', 4, '_', 't', 'c', 'p', 3, 'w', 'e',
		'b', 0
	};
	static const char *const names[] = {
		"a", "cluster.local", "1.0.96.10.in-addr.arpa",
		"--1.db.shop.svc.cluster.local",
	};
	uint8_t out[300];
	size_t n;

	(void)state;
	n = zg_name_wire("cluster.local", out, sizeof(out));
	assert_int_equal(n, sizeof(cluster));
	assert_memory_equal(out, cluster, sizeof(cluster));
	n = zg_name_wire("_http._tcp.web", out, sizeof(out));
	assert_int_equal(n, sizeof(srv));
	assert_memory_equal(out, srv, sizeof(srv));
	n = zg_name_wire("", out, sizeof(out));	/* the root */
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(zg_name_wire(names[i], out, sizeof(out)),
		    zg_name_wire_len(names[i]));
	/* A short buffer is not overrun. */
	memset(out, 0xee, sizeof(out));
	n = zg_name_wire("cluster.local", out, 6);
	assert_true(n <= 6);
	for (size_t i = 6; i < 20; i++)
		assert_int_equal(out[i], 0xee);
}

/* --- canonical order ------------------------------------------------------ */

static void
test_name_key(void **state)
{
	/* RFC 4034 6.1's example, in lower case and without the labels
	 * kubezone never writes, then label characters in octet order:
	 * '-' < digits < '_' < letters. */
	static const char *const rfc[] = {
		"example", "a.example", "yljkjljk.a.example", "z.a.example",
		"zabc.a.example", "z.example",
	};
	static const char *const chars[] = {
		"-.example", "0.example", "9.example", "_tcp.example",
		"a.example", "a-.example", "a0.example", "z.example",
	};
	/* "local", 0, "cluster", and the string's own final 0. */
	static const uint8_t cluster[] = "local\0cluster";
	uint8_t out[300];
	size_t n;

	(void)state;
	for (size_t i = 0; i + 1 < sizeof(rfc) / sizeof(rfc[0]); i++)
		if (key_cmp(rfc[i], rfc[i + 1]) >= 0)
			fail_msg("%s should sort before %s", rfc[i],
			    rfc[i + 1]);
	for (size_t i = 0; i + 1 < sizeof(chars) / sizeof(chars[0]); i++)
		if (key_cmp(chars[i], chars[i + 1]) >= 0)
			fail_msg("%s should sort before %s", chars[i],
			    chars[i + 1]);
	assert_int_equal(key_cmp("web.shop", "web.shop"), 0);

	/* The key: labels from the right, each ended by a 0 octet. */
	n = zg_name_key("cluster.local", out, sizeof(out));
	assert_int_equal(n, sizeof(cluster));
	assert_memory_equal(out, cluster, sizeof(cluster));
	assert_int_equal(zg_name_key("", out, sizeof(out)), 0);
	/* A parent's key is a prefix of its children's keys. */
	{
		uint8_t child[300];
		size_t pn = zg_name_key("shop.svc.cluster.local", out,
		    sizeof(out));
		size_t cn = zg_name_key("web.shop.svc.cluster.local", child,
		    sizeof(child));
		assert_true(pn < cn);
		assert_memory_equal(out, child, pn);
	}
	/* At most OUTSZ octets are written. */
	memset(out, 0xee, sizeof(out));
	n = zg_name_key("cluster.local", out, 7);
	assert_true(n <= 7);
	for (size_t i = 7; i < 20; i++)
		assert_int_equal(out[i], 0xee);
}

/* --- endpoint and pod labels, reverse names ------------------------------- */

static void
test_endpoint_labels(void **state)
{
	static const struct { const char *ip, *label; } dashed[] = {
		/* Section 1.2, rules 3 and 4, and E16. */
		{ "10.244.3.4", "10-244-3-4" },
		{ "fd00:244::3:4", "fd00-244--3-4" },
		{ "fd00:10:244:1::", "fd00-10-244-1--0" },
		{ "::1", "--1" },
		{ "::", "--0" },
		/* The address is canonicalised first (RFC 5952): lower case,
		 * no leading zeros, the longest zero run compressed (the
		 * first of equal ones), never a single zero field. */
		{ "FD00:0244:0:0:0:0:3:4", "fd00-244--3-4" },
		{ "2001:db8:0:0:1:0:0:1", "2001-db8--1-0-0-1" },
		{ "2001:db8:0:1:1:1:1:1", "2001-db8-0-1-1-1-1-1" },
	};
	char target63[64], target64[65];
	struct zg_epaddr a;
	char buf[ZG_NAME_TEXT];

	(void)state;
	for (size_t i = 0; i < sizeof(dashed) / sizeof(dashed[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.ip = ip_of(dashed[i].ip);
		assert_ptr_equal(zg_endpoint_label(&a, false, buf, sizeof(buf)),
		    buf);
		assert_string_equal(buf, dashed[i].label);
		assert_string_equal(zg_endpoint_label(&a, true, buf,
		    sizeof(buf)), dashed[i].label);	/* no target */
	}

	memset(&a, 0, sizeof(a));
	a.ip = ip_of("10.244.3.4");
	/* An empty hostname is no hostname. */
	a.hostname = "";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "10-244-3-4");
	/* The pod name only with POD_NAMES. */
	a.target = "web-0";
	assert_string_equal(zg_endpoint_label(&a, false, buf, sizeof(buf)),
	    "10-244-3-4");
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "web-0");
	/* Shorter than 64 characters: 63 is used, 64 falls back (E17). */
	memset(target63, 'p', 63);
	target63[63] = '\0';
	memset(target64, 'p', 64);
	target64[64] = '\0';
	a.target = target63;
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    target63);
	a.target = target64;
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "10-244-3-4");
	/* A dotted pod name is not one label: fall back (E17). */
	a.target = "web-0.db";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "10-244-3-4");
	a.target = "";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "10-244-3-4");
	/* The hostname wins over everything. */
	a.target = "web-0";
	a.hostname = "db-0";
	assert_string_equal(zg_endpoint_label(&a, true, buf, sizeof(buf)),
	    "db-0");
	assert_string_equal(zg_endpoint_label(&a, false, buf, sizeof(buf)),
	    "db-0");
}

static void
test_pod_and_dashed_labels(void **state)
{
	char buf[ZG_NAME_TEXT];
	struct zg_ip ip;

	(void)state;
	/* Section 1.3 and E16: no "0" after a final '-'. */
	ip = ip_of("10.244.1.5");
	assert_ptr_equal(zg_pod_label(&ip, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "10-244-1-5");
	ip = ip_of("fd00:10:244:1::");
	assert_string_equal(zg_pod_label(&ip, buf, sizeof(buf)),
	    "fd00-10-244-1--");
	ip = ip_of("::");
	assert_string_equal(zg_pod_label(&ip, buf, sizeof(buf)), "--");
	ip = ip_of("FD00::0001");
	assert_string_equal(zg_pod_label(&ip, buf, sizeof(buf)), "fd00--1");
	ip = ip_of("0.0.0.0");
	assert_string_equal(zg_pod_label(&ip, buf, sizeof(buf)), "0-0-0-0");

	/* The dashed form: '.' and ':' become '-'. */
	ip = ip_of("10.96.0.10");
	assert_ptr_equal(zg_dashed_ip(&ip, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "10-96-0-10");
	ip = ip_of("255.255.255.255");
	assert_string_equal(zg_dashed_ip(&ip, buf, sizeof(buf)),
	    "255-255-255-255");
	ip = ip_of("fd00:244::3:4");
	assert_string_equal(zg_dashed_ip(&ip, buf, sizeof(buf)),
	    "fd00-244--3-4");
}

static void
test_reverse_names(void **state)
{
	static const struct { const char *ip, *name; } cases[] = {
		/* R8, R13, E12: octets or 32 nibbles, reversed. */
		{ "10.244.1.5", "5.1.244.10.in-addr.arpa" },
		{ "0.0.0.0", "0.0.0.0.in-addr.arpa" },
		{ "255.255.255.255", "255.255.255.255.in-addr.arpa" },
		{ "fd00:244::3:4", "4.0.0.0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa" },
		{ "::", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.0.0.0.ip6.arpa" },
		/* Lower-case nibbles whatever the input's case. */
		{ "2001:DB8::ABCD", "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" },
	};
	char buf[ZG_NAME_TEXT];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zg_ip ip = ip_of(cases[i].ip);
		assert_ptr_equal(zg_reverse_name(&ip, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].name);
		assert_int_equal(zg_name_check(buf, NULL), 0);
	}
}

/* --- CIDRs and their reverse zones ---------------------------------------- */

static void
test_cidr_parse_limits(void **state)
{
	static const char *const bad[] = {
		"10.96.0.1/12", "10.97.0.0/12", "fd00::1/108", "fd00::/7",
		"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8",
		"10.0.0.0/+8", "10.0.0.0/-8", "10.0.0.0/ 8", "10.0.0.0/8 ",
		"10.0.0.0/8x", "10.0.0.0/4294967304", "300.0.0.0/8", "",
		"10.0.0/8", "fd00::/", "fd00/8",
	};
	struct zg_cidr c;

	(void)state;
	assert_int_equal(zg_cidr_parse(&c, "10.96.0.0/12"), 0);
	assert_int_equal(c.prefix, 12);
	assert_int_equal(c.ip.family, ZG_IPV4);
	assert_int_equal(zg_cidr_parse(&c, "fd00::/108"), 0);
	assert_int_equal(c.prefix, 108);
	assert_int_equal(c.ip.family, ZG_IPV6);
	assert_int_equal(zg_cidr_parse(&c, "0.0.0.0/0"), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(zg_cidr_parse(&c, "10.1.2.3/32"), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(zg_cidr_parse(&c, "fd00::1/128"), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(zg_cidr_parse(&c, "fc00::/7"), 0);
	assert_int_equal(c.prefix, 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (zg_cidr_parse(&c, bad[i]) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

struct zones {
	char name[300][80];
	size_t n;
	size_t stop_after;	/* return 7 after this many; 0: never */
};

static int
collect_zone(void *ctx, const char *zone)
{
	struct zones *z = ctx;

	assert_true(z->n < 300);
	snprintf(z->name[z->n], sizeof(z->name[z->n]), "%s", zone);
	z->n++;
	return z->stop_after && z->n == z->stop_after ? 7 : 0;
}

/* The zones of CIDR, collected into Z. */
static void
zones_of(const char *cidr, struct zones *z)
{
	struct zg_cidr c;

	memset(z, 0, sizeof(*z));
	if (zg_cidr_parse(&c, cidr) != 0)
		fail_msg("bad CIDR in test: %s", cidr);
	assert_int_equal(zg_cidr_zones(&c, collect_zone, z), 0);
}

static void
test_cidr_zones(void **state)
{
	struct zones *z = malloc(sizeof(*z));
	struct zg_cidr c;
	struct zg_ip ip;
	char want[80];

	(void)state;
	assert_non_null(z);
	/* On an octet boundary: one zone. */
	zones_of("10.0.0.0/8", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "10.in-addr.arpa");
	zones_of("192.168.1.0/24", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "1.168.192.in-addr.arpa");
	zones_of("10.1.2.3/32", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "3.2.1.10.in-addr.arpa");
	zones_of("0.0.0.0/0", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "in-addr.arpa");

	/* Between boundaries: split down to the next one (R20). */
	zones_of("10.96.0.0/12", z);
	assert_int_equal(z->n, 16);
	for (size_t i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), "%zu.10.in-addr.arpa", 96 + i);
		assert_string_equal(z->name[i], want);
	}
	zones_of("10.0.0.0/17", z);
	assert_int_equal(z->n, 128);
	for (size_t i = 0; i < 128; i++) {
		snprintf(want, sizeof(want), "%zu.0.10.in-addr.arpa", i);
		assert_string_equal(z->name[i], want);
	}
	zones_of("10.0.0.0/9", z);
	assert_int_equal(z->n, 128);
	assert_string_equal(z->name[0], "0.10.in-addr.arpa");
	assert_string_equal(z->name[127], "127.10.in-addr.arpa");

	/* IPv6: on nibble boundaries. */
	zones_of("fd00::/8", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "d.f.ip6.arpa");
	zones_of("::/0", z);
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "ip6.arpa");
	zones_of("fd00::/108", z);		/* 27 nibbles */
	assert_int_equal(z->n, 1);
	assert_string_equal(z->name[0], "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.d.f.ip6.arpa");
	zones_of("fc00::/7", z);
	assert_int_equal(z->n, 2);
	assert_string_equal(z->name[0], "c.f.ip6.arpa");
	assert_string_equal(z->name[1], "d.f.ip6.arpa");
	zones_of("fd00:94::/30", z);
	assert_int_equal(z->n, 4);
	assert_string_equal(z->name[0], "4.9.0.0.0.0.d.f.ip6.arpa");
	assert_string_equal(z->name[1], "5.9.0.0.0.0.d.f.ip6.arpa");
	assert_string_equal(z->name[2], "6.9.0.0.0.0.d.f.ip6.arpa");
	assert_string_equal(z->name[3], "7.9.0.0.0.0.d.f.ip6.arpa");
	zones_of("c000::/2", z);		/* the first nibble varies */
	assert_int_equal(z->n, 4);
	assert_string_equal(z->name[0], "c.ip6.arpa");
	assert_string_equal(z->name[3], "f.ip6.arpa");
	/* A whole address: its reverse name. */
	zones_of("fd00::1/128", z);
	assert_int_equal(z->n, 1);
	ip = ip_of("fd00::1");
	assert_string_equal(z->name[0], zg_reverse_name(&ip, want,
	    sizeof(want)));
	zones_of("10.96.0.1/32", z);
	ip = ip_of("10.96.0.1");
	assert_string_equal(z->name[0], zg_reverse_name(&ip, want,
	    sizeof(want)));

	/* The callback's non-zero result stops the walk and is returned. */
	memset(z, 0, sizeof(*z));
	z->stop_after = 3;
	assert_int_equal(zg_cidr_parse(&c, "10.96.0.0/12"), 0);
	assert_int_equal(zg_cidr_zones(&c, collect_zone, z), 7);
	assert_int_equal(z->n, 3);
	assert_string_equal(z->name[2], "98.10.in-addr.arpa");
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_helpers),
		cmocka_unit_test(test_canonical_key_matches_ldns),
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_label_rules),
		cmocka_unit_test(test_name_check_limits),
		cmocka_unit_test(test_name_parse_forms),
		cmocka_unit_test(test_bare_and_wire_len),
		cmocka_unit_test(test_name_wire),
		cmocka_unit_test(test_name_key),
		cmocka_unit_test(test_endpoint_labels),
		cmocka_unit_test(test_pod_and_dashed_labels),
		cmocka_unit_test(test_reverse_names),
		cmocka_unit_test(test_cidr_parse_limits),
		cmocka_unit_test(test_cidr_zones),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
