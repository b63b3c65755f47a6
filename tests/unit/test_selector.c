/*
 * tests/unit/test_selector.c -- zonegen/selector: label selectors.
 *
 * Expected matches come from the Kubernetes documentation, "Labels and
 * Selectors": equality-based requirements (=, ==, !=; "!= matches
 * resources without the key too"), set-based ones (in, notin, the key
 * alone, !key; "notin matches resources without the key"), a comma is
 * a logical AND; and from its syntax rules for keys (optional prefix: a
 * DNS subdomain of at most 253 characters, then '/'; name: at most 63
 * characters, alphanumeric at both ends, with '-', '_', '.' between)
 * and values (empty or at most 63 characters of the same kind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "zonegen/selector.h"

/* --- helpers ------------------------------------------------------------- */

/* Labels as "k=v" strings, NULL-terminated. */
static const char *
lookup(void *ctx, const char *key)
{
	const char *const *l = ctx;
	size_t n = strlen(key);

	for (; *l; l++)
		if (strncmp(*l, key, n) == 0 && (*l)[n] == '=')
			return *l + n + 1;
	return NULL;
}

/* Parse TEXT (must succeed) and match it against LABELS. */
static bool
matches(const char *text, const char *const *labels)
{
	struct zg_sel *s;
	char err[256];
	bool m;

	if (zg_sel_parse(text, &s, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", text, err);
	m = zg_sel_match(s, lookup, (void *)labels);
	zg_sel_free(s);
	return m;
}

/* Parse TEXT, expect a refusal whose message contains WANT. */
static void
refused(const char *text, const char *want)
{
	struct zg_sel *s = (struct zg_sel *)1;
	char err[512] = "";

	if (zg_sel_parse(text, &s, err, sizeof(err)) != KZ_EINVAL)
		fail_msg("'%s' accepted", text);
	assert_null(s);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, err, want);
}

static const char *const prod_front[] = { "environment=production",
	"tier=frontend", NULL };
static const char *const qa[] = { "environment=qa", NULL };
static const char *const dev_partition[] = { "environment=dev",
	"partition=customerA", NULL };
static const char *const nolabels[] = { NULL };
static const char *const empty_value[] = { "release=", NULL };

/* --- equality-based -------------------------------------------------------- */

static void
test_equality(void **state)
{
	(void)state;
	assert_true(matches("environment = production", prod_front));
	assert_true(matches("environment=production", prod_front));
	assert_true(matches("environment==production", prod_front));
	assert_false(matches("environment=production", qa));
	assert_false(matches("environment=production", nolabels));
	/* != : another value, or no such label at all. */
	assert_true(matches("tier != frontend", qa));
	assert_true(matches("tier!=frontend", nolabels));
	assert_false(matches("tier!=frontend", prod_front));
	/* A comma is AND. */
	assert_true(matches("environment=production,tier!=backend",
	    prod_front));
	assert_false(matches("environment=production,tier=backend",
	    prod_front));
	assert_false(matches("environment=production,tier!=frontend",
	    prod_front));
	/* The empty value is a value. */
	assert_true(matches("release=", empty_value));
	assert_false(matches("release=", nolabels));
	assert_true(matches("release!=", nolabels));
	assert_false(matches("release!=", empty_value));
	assert_true(matches("release==,environment!=qa", empty_value));
}

/* --- set-based --------------------------------------------------------------- */

static void
test_sets(void **state)
{
	(void)state;
	assert_true(matches("environment in (production, qa)", prod_front));
	assert_true(matches("environment in (production, qa)", qa));
	assert_false(matches("environment in (production, qa)",
	    dev_partition));
	assert_false(matches("environment in (production, qa)", nolabels));
	/* notin: none of the values, or no such label. */
	assert_true(matches("tier notin (frontend, backend)", qa));
	assert_true(matches("tier notin (frontend,backend)", nolabels));
	assert_false(matches("tier notin (frontend, backend)", prod_front));
	/* The key alone, and !key. */
	assert_true(matches("partition", dev_partition));
	assert_false(matches("partition", prod_front));
	assert_true(matches("!partition", prod_front));
	assert_false(matches("!partition", dev_partition));
	assert_true(matches("release", empty_value));
	/* The documentation's combined examples. */
	assert_true(matches("partition,environment notin (qa)",
	    dev_partition));
	assert_false(matches("partition,environment notin (dev)",
	    dev_partition));
	assert_true(matches("partition in (customerA, customerB),"
	    "environment!=qa", dev_partition));
	assert_false(matches("partition in (customerA, customerB),"
	    "environment!=qa", qa));
	/* "in" and "notin" are words like any other as values and keys. */
	assert_true(matches("environment in (in, notin, qa)", qa));
	assert_true(matches("in", (const char *const[]){ "in=x", NULL }));
	assert_true(matches("notin notin (in)",
	    (const char *const[]){ "notin=x", NULL }));
	/* An empty entry in a set is the empty value. */
	assert_true(matches("release in (a,)", empty_value));
	assert_true(matches("release in ()", empty_value));
	assert_false(matches("release in (a)", empty_value));
}

static void
test_empty_and_spaces(void **state)
{
	struct zg_sel *s;
	char err[128];

	(void)state;
	/* The empty selector selects everything. */
	assert_true(matches("", nolabels));
	assert_true(matches("  ", prod_front));
	assert_int_equal(zg_sel_parse("", &s, err, sizeof(err)), 0);
	assert_int_equal(s->nreqs, 0);
	zg_sel_free(s);
	assert_true(zg_sel_match(NULL, lookup, (void *)nolabels));
	/* Whitespace around every token. */
	assert_true(matches("  environment  in(  qa ,production )  ,  "
	    "! partition ", qa));
	assert_int_equal(zg_sel_parse(" a in (x,y) , !b,c!=d,e==f,g",
	    &s, err, sizeof(err)), 0);
	assert_int_equal(s->nreqs, 5);
	assert_int_equal(s->reqs[0].op, ZG_SEL_IN);
	assert_int_equal(s->reqs[0].nvalues, 2);
	assert_string_equal(s->reqs[0].values[1], "y");
	assert_int_equal(s->reqs[1].op, ZG_SEL_ABSENT);
	assert_string_equal(s->reqs[1].key, "b");
	assert_int_equal(s->reqs[2].op, ZG_SEL_NE);
	assert_int_equal(s->reqs[3].op, ZG_SEL_EQ);
	assert_string_equal(s->reqs[3].values[0], "f");
	assert_int_equal(s->reqs[4].op, ZG_SEL_EXISTS);
	assert_string_equal(zg_sel_text(s), " a in (x,y) , !b,c!=d,e==f,g");
	zg_sel_free(s);
}

/* --- key and value syntax ---------------------------------------------------- */

static void
test_keys(void **state)
{
	char name63[64], name64[65], prefix253[300], prefix254[300];

	(void)state;
	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'a', 64);
	name64[64] = '\0';
	/* 253 characters: three labels of 63 and one of 61, with dots. */
	snprintf(prefix253, sizeof(prefix253), "%s.%s.%s.%.61s", name63,
	    name63, name63, name63);
	snprintf(prefix254, sizeof(prefix254), "%s.%s.%s.%.62s", name63,
	    name63, name63, name63);
	assert_int_equal(strlen(prefix253), 253);
	assert_true(zg_sel_key_ok("app", 3));
	assert_true(zg_sel_key_ok("App.Name_x-1", 12));
	assert_true(zg_sel_key_ok("kubernetes.io/service-name", 26));
	assert_true(zg_sel_key_ok("a/b", 3));
	assert_true(zg_sel_key_ok(name63, 63));
	assert_false(zg_sel_key_ok(name64, 64));
	assert_false(zg_sel_key_ok("", 0));
	assert_false(zg_sel_key_ok("-app", 4));
	assert_false(zg_sel_key_ok("app_", 4));
	assert_false(zg_sel_key_ok("a b", 3));
	assert_false(zg_sel_key_ok("a/b/c", 5));
	assert_false(zg_sel_key_ok("/b", 2));
	assert_false(zg_sel_key_ok("a/", 2));
	assert_false(zg_sel_key_ok("Example.com/b", 13));	/* upper case */
	assert_false(zg_sel_key_ok("ex_ample.com/b", 14));	/* '_' */
	assert_false(zg_sel_key_ok("example..com/b", 14));
	assert_false(zg_sel_key_ok("-example.com/b", 14));
	{
		char k[400];
		snprintf(k, sizeof(k), "%s/x", prefix253);
		assert_true(zg_sel_key_ok(k, strlen(k)));
		snprintf(k, sizeof(k), "%s/x", prefix254);
		assert_false(zg_sel_key_ok(k, strlen(k)));
	}
	assert_true(zg_sel_value_ok("", 0));
	assert_true(zg_sel_value_ok("v1.2_3-X", 8));
	assert_true(zg_sel_value_ok(name63, 63));
	assert_false(zg_sel_value_ok(name64, 64));
	assert_false(zg_sel_value_ok("-v", 2));
	assert_false(zg_sel_value_ok("v.", 2));
	assert_false(zg_sel_value_ok("a/b", 3));
}

/* --- bad selectors --------------------------------------------------------- */

static void
test_refused(void **state)
{
	char big[ZG_SEL_MAX_TEXT + 8];

	(void)state;
	refused("-app=x", "at character 1: '-app' is not a label key");
	refused("app=x,,b", "at character 7: expected a label key, found ','");
	refused("app=x,", "at character 7: expected a label key, found the end");
	refused(",", "at character 1: expected a label key");
	refused("app=-x", "at character 5: '-x' is not a label value");
	refused("app in x", "at character 8: expected '(' after 'in'");
	refused("app notin (a b)", "at character 14: expected ',' or ')'");
	refused("app in (a", "at character 10: expected ',' or ')' in the "
	    "values, found the end");
	refused("app in (a)b", "at character 11: expected ',' or the end");
	refused("app x", "at character 5: expected '=', '==', '!=', 'in', "
	    "'notin', ',' or the end after the key, found 'x'");
	refused("!app=x", "at character 5: expected ',' or the end, found '='");
	refused("!", "at character 2: expected a label key, found the end");
	refused("app=x y", "at character 7: expected ',' or the end");
	refused("a>1", "'a>1' is not a label key");
	refused("app===x", "at character 6: expected ',' or the end");
	refused("app in (-a)", "at character 9: '-a' is not a label value");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than 4096 characters");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_empty_and_spaces),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("selector", tests, NULL, NULL);
}
