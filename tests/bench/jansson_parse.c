/*
 * tests/bench/jansson_parse.c -- the benchmark's reference: only parse
 * a Kubernetes List with jansson, and count its items by kind.
 *
 *   jansson_parse FILE           the whole file as one document
 *                                (json_load_file), then json_decref
 *   jansson_parse --items FILE   one item of "items" at a time: the
 *                                item's bytes are cut out of the stream
 *                                (1 MiB reads) and given to json_loadb,
 *                                so at most one item's tree exists
 *
 * Prints "items=N Service=N EndpointSlice=N Pod=N Namespace=N other=N"
 * on stdout; exits 1 when the file cannot be read or parsed. Reading
 * the input is the floor `kubezone render` is measured against
 * (docs/benchmarks.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_SERVICE, K_SLICE, K_POD, K_NAMESPACE, K_OTHER, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"Service", "EndpointSlice", "Pod", "Namespace", "other"
};

static void
count_item(size_t counts[K_COUNT], json_t *item)
{
	const char *kind = json_string_value(json_object_get(item, "kind"));
	int k;

	for (k = 0; k < K_OTHER; k++)
		if (kind != NULL && strcmp(kind, kind_names[k]) == 0)
			break;
	counts[k]++;
}

static void
print_counts(const size_t counts[K_COUNT])
{
	size_t total = 0;

	for (int k = 0; k < K_COUNT; k++)
		total += counts[k];
	printf("items=%zu", total);
	for (int k = 0; k < K_COUNT; k++)
		printf(" %s=%zu", kind_names[k], counts[k]);
	printf("\n");
}

static int
parse_whole(const char *path)
{
	size_t counts[K_COUNT] = { 0 };
	json_error_t err;
	json_t *doc, *items, *item;
	size_t i;

	doc = json_load_file(path, 0, &err);
	if (doc == NULL) {
		fprintf(stderr, "jansson_parse: %s: byte %d: %s\n", path,
		    err.position, err.text);
		return 1;
	}
	items = json_object_get(doc, "items");
	json_array_foreach(items, i, item)
		count_item(counts, item);
	json_decref(doc);
	print_counts(counts);
	return 0;
}

/*
 * The item splitter: a byte-at-a-time scanner that knows strings,
 * escapes and nesting, and the name of the current top-level member.
 * An item is the text of one value at depth 2 inside the top-level
 * member "items".
 */
struct splitter {
	int depth;		/* open objects and arrays */
	bool in_string, escape;
	bool key_items;		/* the last top-level key was "items" */
	bool in_items;		/* inside the "items" array */
	char key[16];		/* the top-level string being read */
	size_t keylen;
	char *item;		/* the item being collected */
	size_t len, cap;
	size_t counts[K_COUNT];
};

static int
item_put(struct splitter *s, const char *p, size_t n)
{
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 64 * 1024;
		char *q;

		while (cap < s->len + n)
			cap *= 2;
		q = realloc(s->item, cap);
		if (q == NULL)
			return -1;
		s->item = q;
		s->cap = cap;
	}
	memcpy(s->item + s->len, p, n);
	s->len += n;
	return 0;
}

static int
item_done(struct splitter *s, const char *path, size_t offset)
{
	json_error_t err;
	json_t *item = json_loadb(s->item, s->len, 0, &err);

	if (item == NULL) {
		fprintf(stderr, "jansson_parse: %s: byte %zu: %s\n", path,
		    offset - s->len + (size_t)err.position, err.text);
		return -1;
	}
	count_item(s->counts, item);
	json_decref(item);
	s->len = 0;
	return 0;
}

/* Feed BUF[0..N) (at OFFSET in the file) through the splitter. */
static int
split(struct splitter *s, const char *buf, size_t n, size_t offset,
    const char *path)
{
	size_t start = 0;	/* where this chunk's part of an item starts */
	bool collecting = s->in_items && s->depth >= 3;

	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (s->in_string) {
			if (s->escape)
				s->escape = false;
			else if (c == '\\')
				s->escape = true;
			else if (c == '"')
				s->in_string = false;
			else if (s->depth == 1 && s->keylen < sizeof(s->key) - 1)
				s->key[s->keylen++] = c;
			continue;
		}
		switch (c) {
		case '"':
			s->in_string = true;
			if (s->depth == 1)
				s->keylen = 0;
			break;
		case ':':
			if (s->depth == 1)
				s->key_items = s->keylen == 5 &&
				    memcmp(s->key, "items", 5) == 0;
			break;
		case '{':
		case '[':
			s->depth++;
			if (s->depth == 2 && s->key_items && c == '[')
				s->in_items = true;
			else if (s->depth == 3 && s->in_items) {
				collecting = true;
				start = i;
			}
			break;
		case '}':
		case ']':
			s->depth--;
			if (s->depth == 2 && collecting) {
				collecting = false;
				if (item_put(s, buf + start, i + 1 - start) ||
				    item_done(s, path, offset + i + 1))
					return -1;
			} else if (s->depth == 1 && s->in_items) {
				s->in_items = false;
				s->key_items = false;
			}
			break;
		default:
			break;
		}
	}
	if (collecting && item_put(s, buf + start, n - start))
		return -1;
	return 0;
}

static int
parse_items(const char *path)
{
	struct splitter s = { 0 };
	size_t bufsz = 1024 * 1024, offset = 0;
	char *buf = malloc(bufsz);
	int fd, rc = 1;
	ssize_t n;

	fd = open(path, O_RDONLY);
	if (fd < 0 || buf == NULL) {
		fprintf(stderr, "jansson_parse: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf, bufsz)) > 0) {
		if (split(&s, buf, (size_t)n, offset, path))
			goto out;
		offset += (size_t)n;
	}
	if (n < 0) {
		fprintf(stderr, "jansson_parse: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	if (s.depth != 0 || s.in_string) {
		fprintf(stderr, "jansson_parse: %s: byte %zu: truncated\n",
		    path, offset);
		goto out;
	}
	print_counts(s.counts);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(s.item);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 2)
		return parse_whole(argv[1]);
	if (argc == 3 && strcmp(argv[1], "--items") == 0)
		return parse_items(argv[2]);
	fprintf(stderr, "usage: jansson_parse [--items] FILE\n");
	return 2;
}
