/*
 * tests/fuzz/fuzz_prune.c -- a watch event pruned parses as the event
 * itself with the same members deleted.
 *
 * Input: byte 0 picks the kind whose zg_decode_unread() paths are left
 * out (modulo ZG_KIND_COUNT); the rest is the event's text. Whenever
 * sy_prune_event() prunes it:
 *   - the text is no longer than the event's;
 *   - if jansson accepts the event, it accepts the pruned text, and the
 *     two trees are equal once the members the paths name are deleted
 *     from the event's tree through jansson's API (the pruner may
 *     accept what jansson would reject only inside what it leaves out).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "syncer/prune.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Delete the member PATH ("a.b", under "object") from EV's tree. */
static void
delete_path(json_t *ev, const char *path)
{
	json_t *parent = json_object_get(ev, "object");
	char buf[128], *key = buf, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(key, '.')) != NULL && json_is_object(parent)) {
		*dot = '\0';
		parent = json_object_get(parent, key);
		key = dot + 1;
	}
	if (json_is_object(parent))
		json_object_del(parent, key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *paths;
	struct sy_prune pr;
	json_t *a, *b;
	const char *in;
	size_t len, n;
	char *out;

	fuzz_quiet();
	if (size < 1 || size > 1024 * 1024)
		return 0;
	paths = zg_decode_unread((enum zg_kind)(data[0] % ZG_KIND_COUNT));
	in = (const char *)data + 1;
	len = size - 1;
	sy_prune_init(&pr, paths);
	out = malloc(len ? len : 1);
	FUZZ_CHECK(out != NULL, "no memory");
	n = sy_prune_event(&pr, in, len, out);
	FUZZ_CHECK(n <= len, "pruned %zu bytes to %zu", len, n);
	a = n ? json_loadb(in, len, 0, NULL) : NULL;
	if (a != NULL) {
		b = json_loadb(out, n, 0, NULL);
		FUZZ_CHECK(b != NULL, "the event parses, the pruned text not: "
		    "%.*s", (int)n, out);
		for (size_t i = 0; paths[i]; i++)
			delete_path(a, paths[i]);
		FUZZ_CHECK(json_equal(a, b), "trees differ: %.*s", (int)n, out);
		json_decref(b);
	}
	json_decref(a);
	free(out);
	return 0;
}
