/*
 * tests/unit/test_prune.c -- syncer/prune: watch event text without the
 * members DNS never reads.
 *
 * Each case gives an event, the paths, and the text expected (or NULL:
 * not pruned, the caller parses the event as it came). Every pruned
 * text is also parsed by jansson and compared with the event's tree
 * with the same members deleted through jansson's API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "syncer/prune.h"
#include "zonegen/decode.h"

static const char *const pod_paths[] = { "spec", "status.conditions",
	"metadata.managedFields", NULL };

/* EV with every member PATHS names (under "object") deleted. */
static void
delete_paths(json_t *ev, const char *const *paths)
{
	for (size_t i = 0; paths[i]; i++) {
		char buf[256], *key, *save = NULL;
		json_t *o = json_object_get(ev, "object"), *parent = NULL;
		const char *last = NULL;

		snprintf(buf, sizeof(buf), "%s", paths[i]);
		for (key = strtok_r(buf, ".", &save); key && o;
		    key = strtok_r(NULL, ".", &save)) {
			parent = o;
			last = key;
			o = json_object_get(o, key);
		}
		if (o && parent && last)
			json_object_del(parent, last);
	}
}

static void
check(const char *in, const char *const *paths, const char *want)
{
	struct sy_prune pr;
	size_t len = strlen(in), n;
	char *out = malloc(len + 1);
	json_t *a, *b;

	assert_non_null(out);
	sy_prune_init(&pr, paths);
	n = sy_prune_event(&pr, in, len, out);
	if (want == NULL) {
		assert_int_equal(n, 0);
		free(out);
		return;
	}
	assert_true(n > 0 && n <= len);
	out[n] = '\0';
	assert_string_equal(out, want);
	a = json_loads(in, 0, NULL);
	b = json_loadb(out, n, 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	delete_paths(a, paths);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(out);
}

static void
test_members_left_out(void **state)
{
	(void)state;
	/* first, middle and last members; nested; arrays and strings
	 * with brackets, quotes and escapes inside what is left out */
	check("{\"type\":\"MODIFIED\",\"object\":{\"spec\":{\"c\":[{\"x\":"
	    "\"a}]\\\"[\"}]},\"metadata\":{\"name\":\"p\",\"managedFields\":"
	    "[{\"f\":{\"{\":1}}]},\"status\":{\"phase\":\"Running\","
	    "\"conditions\":[1,2],\"podIP\":\"10.0.0.1\"}}}", pod_paths,
	    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\"}"
	    ",\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}}}");
	/* white space; every member of an object left out */
	check(" { \"object\" : { \"spec\" : true , \"status\" : { "
	    "\"conditions\" : null } } , \"type\" : \"ADDED\" }\n", pod_paths,
	    " { \"object\" : {  \"status\" : {  } } , \"type\" : \"ADDED\" }\n");
	/* the last of several, after a kept one; duplicates all go */
	check("{\"object\":{\"a\":1,\"spec\":2,\"spec\":3},\"spec\":4}",
	    pod_paths, "{\"object\":{\"a\":1},\"spec\":4}");
	/* escaped backslashes before a closing quote */
	check("{\"object\":{\"spec\":[\"x\\\\\",\"\\\\\\\"]\"],\"a\":\"\\\\\"}}",
	    pod_paths, "{\"object\":{\"a\":\"\\\\\"}}");
	/* a path through a member that is not an object: kept */
	check("{\"object\":{\"status\":[{\"conditions\":1}],\"spec\":0}}",
	    pod_paths, "{\"object\":{\"status\":[{\"conditions\":1}]}}");
}

static void
test_not_pruned(void **state)
{
	(void)state;
	/* nothing to leave out */
	check("{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}", pod_paths,
	    NULL);
	/* not framed as expected: the caller parses it as it came */
	check("[1,2]", pod_paths, NULL);
	check("{\"object\":{\"spec\":[}]}}", pod_paths, NULL);
	check("{\"object\":{\"spec\":\"open}}", pod_paths, NULL);
	check("{\"object\":{\"spec\":1 2}}", pod_paths, NULL);
	check("{\"object\":{\"spec\":}}", pod_paths, NULL);
	check("{\"object\":{\"spec\" 1}}", pod_paths, NULL);
	check("{\"object\":{spec:1}}", pod_paths, NULL);
	check("{\"object\":{\"spec\":1}} x", pod_paths, NULL);
	check("{\"object\":{\"spec\":1}", pod_paths, NULL);
	check("{\"object\":{\"spec\":1},}", pod_paths, NULL);
	/* a key spelled with escapes where the paths run: not pruned */
	check("{\"object\":{\"sp\\u0065c\":1,\"spec\":2}}", pod_paths,
	    NULL);
	/* ... but one inside a member kept or left out is fine */
	check("{\"object\":{\"a\":{\"\\u0041\":1},\"spec\":{\"\\n\":2}}}",
	    pod_paths, "{\"object\":{\"a\":{\"\\u0041\":1}}}");
	/* no paths */
	check("{\"object\":{\"spec\":1}}", NULL, NULL);
}

static void
test_depth(void **state)
{
	char deep[400], *p = deep;
	struct sy_prune pr;
	char out[400];

	(void)state;
	sy_prune_init(&pr, pod_paths);
	/* nesting deeper than SY_PRUNE_DEPTH inside what is left out */
	p += snprintf(p, 40, "{\"object\":{\"spec\":");
	for (int i = 0; i <= SY_PRUNE_DEPTH; i++)
		*p++ = '[';
	for (int i = 0; i <= SY_PRUNE_DEPTH; i++)
		*p++ = ']';
	p += snprintf(p, 4, "}}");
	assert_int_equal(sy_prune_event(&pr, deep, (size_t)(p - deep), out),
	    0);
	/* one level less is fine */
	p = deep;
	p += snprintf(p, 40, "{\"object\":{\"spec\":");
	for (int i = 0; i < SY_PRUNE_DEPTH; i++)
		*p++ = '[';
	for (int i = 0; i < SY_PRUNE_DEPTH; i++)
		*p++ = ']';
	p += snprintf(p, 4, "}}");
	assert_int_equal(sy_prune_event(&pr, deep, (size_t)(p - deep), out),
	    strlen("{\"object\":{}}"));
}

/* The decoder's own lists: a Pod keeps what DNS reads. */
static void
test_decoder_paths(void **state)
{
	(void)state;
	check("{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
	    "{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"a\":\"b\"},"
	    "\"managedFields\":[{}]},\"spec\":{\"containers\":[]},\"status\":"
	    "{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":"
	    "\"10.0.0.1\"}],\"conditions\":[],\"containerStatuses\":[]}}}",
	    zg_decode_unread(ZG_KIND_POD),
	    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
	    "{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"a\":\"b\"}},"
	    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
	    "\"podIPs\":[{\"ip\":\"10.0.0.1\"}]}}}");
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_non_null(zg_decode_unread((enum zg_kind)k));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_left_out),
		cmocka_unit_test(test_not_pruned),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_decoder_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
