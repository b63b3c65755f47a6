/*
 * tests/unit/test_opt.c -- common/opt: table-driven options, their
 * messages, help and Markdown, and the number and duration helpers.
 *
 * The tables below are made up for the tests; each kind of option a
 * module uses is represented: a flag, a bounded integer, a size in
 * bytes, a duration, a repeatable list, and a value holding a secret.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/opt.h"

struct cfg {
	bool verbose;
	unsigned long count;
	unsigned long size;
	unsigned long long wait_ms;
	const char *names[8];
	size_t nnames;
	const char *key;
	int calls;		/* setter calls */
};

static int
set_verbose(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	(void)err;
	(void)errsz;
	assert_null(arg);	/* a flag gets no argument */
	c->verbose = true;
	c->calls++;
	return KZ_OK;
}

static int
set_count(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	c->calls++;
	if (kz_opt_ulong(arg, 0, 100, &c->count)) {
		snprintf(err, errsz, "expected a number from 0 to 100");
		return KZ_EINVAL;
	}
	return KZ_OK;
}

static int
set_size(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	c->calls++;
	if (kz_opt_ulong(arg, 512, 65535, &c->size)) {
		snprintf(err, errsz, "expected bytes from 512 to 65535");
		return KZ_EINVAL;
	}
	return KZ_OK;
}

static int
set_wait(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	c->calls++;
	if (kz_opt_duration_ms(arg, &c->wait_ms)) {
		snprintf(err, errsz, "expected a duration such as 100ms or 2s");
		return KZ_EINVAL;
	}
	return KZ_OK;
}

/* Repeatable; an empty name is refused without a message of its own. */
static int
set_name(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	(void)err;
	(void)errsz;
	c->calls++;
	if (arg[0] == '\0' || c->nnames == 8)
		return KZ_EINVAL;
	c->names[c->nnames++] = arg;
	return KZ_OK;
}

static int
set_key(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct cfg *c = ctx;

	c->calls++;
	if (strchr(arg, ':') == NULL) {
		snprintf(err, errsz, "expected NAME:SECRET");
		return KZ_EINVAL;
	}
	c->key = arg;
	return KZ_OK;
}

static const struct kz_opt main_opts[] = {
	{ "verbose", NULL, NULL, NULL, false, set_verbose,
	  "Say more." },
	{ "count", "N", "10", NULL, false, set_count,
	  "Objects per batch." },
	{ "size", "BYTES", "4096", NULL, false, set_size,
	  "Largest message." },
	{ "wait", "DURATION", "1s", "KZ_TEST_WAIT", false, set_wait,
	  "Pause between batches." },
	{ "name", "NAME", NULL, NULL, true, set_name,
	  "Add a name." },
	{ "key", "NAME:SECRET", NULL, NULL, false, set_key,
	  "A shared key." },
	{ "a-rather-long-option-name", "VALUE", NULL, NULL, false, set_name,
	  "Help on a line of its own." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static const struct kz_opt other_opts[] = {
	{ "other-count", "N", NULL, NULL, false, set_count,
	  "A count kept elsewhere." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

/* Writable copies of the arguments (argv is char **). */
static char arg_store[16][128];
static char *argv_store[17];

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct result {
	int rc;
	int help;
	char *pos[17];
	size_t npos;
	char err[256];
};

/* Parse "kubezone ARGS..." against the two tables (C and OTHER). */
static int
parse(struct cfg *c, struct cfg *other, const char *const *args,
    struct result *r)
{
	struct kz_opt_table t[2] = {
		{ "Test options", main_opts, c },
		{ "Other options", other_opts, other },
	};
	int argc = 1;

	snprintf(arg_store[0], sizeof(arg_store[0]), "kubezone");
	argv_store[0] = arg_store[0];
	for (; args[argc - 1]; argc++) {
		assert_true(argc < 16);
		snprintf(arg_store[argc], sizeof(arg_store[argc]), "%s",
		    args[argc - 1]);
		argv_store[argc] = arg_store[argc];
	}
	argv_store[argc] = NULL;
	memset(r, 0, sizeof(*r));
	r->help = -1;
	r->npos = 99;
	r->rc = kz_opt_parse(argc, argv_store, t, 2, r->pos, &r->npos,
	    &r->help, r->err, sizeof(r->err));
	return r->rc;
}

/* --- kz_opt_parse -------------------------------------------------------- */

static void
test_accepted_forms(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--count", "7", "--size=1024",
	    "--verbose", "--wait", "1m30s"), &r), 0);
	assert_int_equal(r.help, 0);
	assert_int_equal(r.npos, 0);
	assert_true(c.verbose);
	assert_int_equal(c.count, 7);
	assert_int_equal(c.size, 1024);
	assert_int_equal(c.wait_ms, 90000);
	assert_int_equal(c.calls, 4);

	/* No arguments at all. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(parse(&c, &o, ARGS(NULL), &r), 0);
	assert_int_equal(r.npos, 0);
	assert_int_equal(r.help, 0);
	assert_int_equal(c.calls, 0);
}

/* Positional arguments are kept in order around the options. */
static void
test_positionals(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("a.json", "--count", "3", "-",
	    "b.json", "--verbose", "c.json"), &r), 0);
	assert_int_equal(r.npos, 4);
	assert_string_equal(r.pos[0], "a.json");
	assert_string_equal(r.pos[1], "-");	/* stdin */
	assert_string_equal(r.pos[2], "b.json");
	assert_string_equal(r.pos[3], "c.json");
	assert_ptr_equal(r.pos[0], argv_store[1]);	/* into ARGV */
	assert_int_equal(c.count, 3);
	assert_true(c.verbose);

	/* "--" ends options: what follows is positional, even "--x". */
	memset(&c, 0, sizeof(c));
	assert_int_equal(parse(&c, &o, ARGS("--count", "1", "--", "--verbose",
	    "--nope", "-", "--"), &r), 0);
	assert_int_equal(r.npos, 4);
	assert_string_equal(r.pos[0], "--verbose");
	assert_string_equal(r.pos[1], "--nope");
	assert_string_equal(r.pos[2], "-");
	assert_string_equal(r.pos[3], "--");
	assert_false(c.verbose);
	assert_int_equal(c.count, 1);
}

/* Values are taken as they are: empty, with '=', starting with '-'. */
static void
test_value_forms(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--key=a=b:c", "--name", "-x",
	    "--name", "--verbose"), &r), 0);
	assert_string_equal(c.key, "a=b:c");	/* split at the first '=' */
	assert_int_equal(c.nnames, 2);
	assert_string_equal(c.names[0], "-x");
	assert_string_equal(c.names[1], "--verbose");	/* a value here */
	assert_false(c.verbose);

	/* "--name=" gives the setter an empty value (refused here). */
	memset(&c, 0, sizeof(c));
	assert_int_equal(parse(&c, &o, ARGS("--name="), &r), KZ_EUSAGE);
	assert_int_equal(c.calls, 1);
	assert_non_null(strstr(r.err, "--name"));
}

static void
test_help(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--help"), &r), 0);
	assert_int_equal(r.help, 1);
	assert_int_equal(parse(&c, &o, ARGS("--help-markdown"), &r), 0);
	assert_int_equal(r.help, 2);

	/* Parsing stops at --help: later options are neither applied nor
	 * reported, earlier ones were. */
	assert_int_equal(parse(&c, &o, ARGS("--count", "5", "--help",
	    "--verbose", "--nope", "--size", "1"), &r), 0);
	assert_int_equal(r.help, 1);
	assert_int_equal(c.count, 5);
	assert_false(c.verbose);
	assert_int_equal(c.calls, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(parse(&c, &o, ARGS("x", "--help-markdown",
	    "--count=1000"), &r), 0);
	assert_int_equal(r.help, 2);
	assert_int_equal(c.calls, 0);
}

static void
test_unknown_options(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--nope"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "unknown option"));
	assert_non_null(strstr(r.err, "--nope"));

	/* Only the name is echoed, never a value given with it. */
	assert_int_equal(parse(&c, &o, ARGS("--token=hunter2"), &r),
	    KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--token"));
	assert_null(strstr(r.err, "hunter2"));

	/* Names match exactly: no prefixes, no case folding. */
	assert_int_equal(parse(&c, &o, ARGS("--cou", "1"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--cou"));
	assert_int_equal(parse(&c, &o, ARGS("--counts", "1"), &r), KZ_EUSAGE);
	assert_int_equal(parse(&c, &o, ARGS("--COUNT", "1"), &r), KZ_EUSAGE);
	assert_int_equal(parse(&c, &o, ARGS("--other"), &r), KZ_EUSAGE);

	/* Short options do not exist (but for -h). */
	assert_int_equal(parse(&c, &o, ARGS("-v"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "-v"));
	assert_int_equal(parse(&c, &o, ARGS("-count", "1"), &r), KZ_EUSAGE);

	/* An error stops parsing: later options are not applied. */
	assert_int_equal(parse(&c, &o, ARGS("--nope", "--verbose"), &r),
	    KZ_EUSAGE);
	assert_int_equal(c.calls, 0);
	assert_false(c.verbose);
}

static void
test_missing_and_unwanted_values(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	/* An option that takes a value, last on the line. */
	assert_int_equal(parse(&c, &o, ARGS("--verbose", "--count"), &r),
	    KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--count"));
	assert_non_null(strstr(r.err, "N"));		/* what it needs */
	assert_int_equal(parse(&c, &o, ARGS("--wait"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--wait"));
	assert_non_null(strstr(r.err, "DURATION"));

	/* A flag given a value. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(parse(&c, &o, ARGS("--verbose=yes"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--verbose"));
	assert_non_null(strstr(r.err, "no value"));
	assert_false(c.verbose);
	assert_int_equal(c.calls, 0);
	/* A flag followed by a word: the word is positional. */
	assert_int_equal(parse(&c, &o, ARGS("--verbose", "yes"), &r), 0);
	assert_true(c.verbose);
	assert_int_equal(r.npos, 1);
	assert_string_equal(r.pos[0], "yes");
}

/* A refused value: "--NAME VALUE: reason". */
static void
test_bad_values(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--count", "101"), &r), KZ_EUSAGE);
	assert_string_equal(r.err,
	    "--count 101: expected a number from 0 to 100");
	assert_int_equal(parse(&c, &o, ARGS("--size=4k"), &r), KZ_EUSAGE);
	assert_string_equal(r.err,
	    "--size 4k: expected bytes from 512 to 65535");
	assert_int_equal(parse(&c, &o, ARGS("--wait", "soon"), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--wait soon: "));
	assert_non_null(strstr(r.err, "duration"));
	/* A setter without a message of its own still gets a reason. */
	assert_int_equal(parse(&c, &o, ARGS("--name", ""), &r), KZ_EUSAGE);
	assert_non_null(strstr(r.err, "--name"));
	assert_non_null(strstr(r.err, "invalid value"));
	/* The other table's options report the same way. */
	assert_int_equal(parse(&c, &o, ARGS("--other-count=-1"), &r),
	    KZ_EUSAGE);
	assert_string_equal(r.err,
	    "--other-count -1: expected a number from 0 to 100");
}

/* A value whose metavar says SECRET is never echoed in a message. */
static void
test_secret_value_withheld(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--key", "hunter2"), &r),
	    KZ_EUSAGE);
	assert_null(strstr(r.err, "hunter2"));
	assert_non_null(strstr(r.err, "--key"));
	assert_non_null(strstr(r.err, "expected NAME:SECRET"));
	assert_int_equal(parse(&c, &o, ARGS("--key=hunter2"), &r), KZ_EUSAGE);
	assert_null(strstr(r.err, "hunter2"));
	assert_int_equal(parse(&c, &o, ARGS("--key", "k:hunter2"), &r), 0);
	assert_string_equal(c.key, "k:hunter2");
}

/* A repeatable option adds a value each time, in order. */
static void
test_repeatable(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--name", "a", "--name=b",
	    "--count", "1", "--name", "c"), &r), 0);
	assert_int_equal(c.nnames, 3);
	assert_string_equal(c.names[0], "a");
	assert_string_equal(c.names[1], "b");
	assert_string_equal(c.names[2], "c");
	assert_int_equal(c.calls, 4);
}

/* Each option's setter gets the context of its own table. */
static void
test_tables_keep_their_context(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct result r;

	(void)state;
	assert_int_equal(parse(&c, &o, ARGS("--other-count", "9", "--count",
	    "4"), &r), 0);
	assert_int_equal(c.count, 4);
	assert_int_equal(o.count, 9);
	assert_int_equal(c.calls, 1);
	assert_int_equal(o.calls, 1);
}

/* --- help and Markdown ---------------------------------------------------- */

/* The line of OUT that contains NEEDLE (a static copy), or NULL. */
static const char *
line_with(const char *out, const char *needle)
{
	static char line[512];
	const char *p = strstr(out, needle), *s, *e;

	if (p == NULL)
		return NULL;
	for (s = p; s > out && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	if (e == NULL)
		e = p + strlen(p);
	snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
	return line;
}

static void
test_help_text(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct kz_opt_table t[2] = {
		{ "Test options", main_opts, &c },
		{ "Other options", other_opts, &o },
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *l;

	(void)state;
	assert_non_null(f);
	kz_opt_help(f, t, 2);
	fclose(f);
	/* Titles, in table order. */
	assert_non_null(strstr(out, "Test options"));
	assert_non_null(strstr(out, "Other options"));
	assert_true(strstr(out, "Test options") < strstr(out, "Other options"));
	/* One line per option: name, metavar, help, default, environment. */
	l = line_with(out, "--count N");
	assert_non_null(l);
	assert_non_null(strstr(l, "Objects per batch."));
	assert_non_null(strstr(l, "Default: 10."));
	assert_null(strstr(l, "Repeatable"));
	l = line_with(out, "--verbose");
	assert_non_null(strstr(l, "Say more."));
	assert_null(strstr(l, "Default"));
	l = line_with(out, "--name NAME");
	assert_non_null(strstr(l, "Repeatable."));
	l = line_with(out, "--wait DURATION");
	assert_non_null(strstr(l, "Default: 1s."));
	assert_non_null(strstr(l, "KZ_TEST_WAIT"));
	/* Options come in table order. */
	assert_true(strstr(out, "--verbose") < strstr(out, "--count"));
	assert_true(strstr(out, "--count") < strstr(out, "--other-count"));
	/* A long name still has its help, on the next line. */
	assert_non_null(strstr(out, "--a-rather-long-option-name VALUE"));
	assert_non_null(strstr(out, "Help on a line of its own."));
	free(out);
}

static void
test_markdown(void **state)
{
	struct cfg c = { 0 }, o = { 0 };
	struct kz_opt_table t[2] = {
		{ "Test options", main_opts, &c },
		{ "Other options", other_opts, &o },
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	kz_opt_markdown(f, t, 2);
	fclose(f);
	assert_non_null(strstr(out, "\n### Test options\n"));
	assert_non_null(strstr(out, "\n### Other options\n"));
	assert_non_null(strstr(out, "\n| option | default | description |\n"
	    "|---|---|---|\n"));
	/* Each row: the option in code, the default in code (or empty),
	 * the help, "Repeatable.", the environment variable in code. */
	assert_non_null(strstr(out,
	    "\n| `--count N` | `10` | Objects per batch. |\n"));
	assert_non_null(strstr(out, "\n| `--verbose` |  | Say more. |\n"));
	assert_non_null(strstr(out,
	    "\n| `--name NAME` |  | Add a name. Repeatable. |\n"));
	assert_non_null(strstr(out, "\n| `--wait DURATION` | `1s` | Pause "
	    "between batches. Environment: `KZ_TEST_WAIT`. |\n"));
	assert_non_null(strstr(out,
	    "\n| `--other-count N` |  | A count kept elsewhere. |\n"));
	free(out);
}

/* --- number and duration helpers ------------------------------------------ */

static void
test_ulong(void **state)
{
	unsigned long v = 12345;
	char big[32];

	(void)state;
	assert_int_equal(kz_opt_ulong("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	/* Both limits are inclusive; leading zeros are still decimal. */
	assert_int_equal(kz_opt_ulong("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(kz_opt_ulong("512", 512, 65535, &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(kz_opt_ulong("65535", 512, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(kz_opt_ulong("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	snprintf(big, sizeof(big), "%lu", ULONG_MAX);
	assert_int_equal(kz_opt_ulong(big, 0, ULONG_MAX, &v), 0);
	assert_true(v == ULONG_MAX);

	/* Out of range, on either side. */
	assert_int_equal(kz_opt_ulong("11", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("511", 512, 65535, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("65536", 512, 65535, &v), KZ_EINVAL);
	/* Larger than any unsigned long. */
	assert_int_equal(kz_opt_ulong("99999999999999999999999", 0, ULONG_MAX,
	    &v), KZ_EINVAL);
	/* Not a plain decimal number. */
	assert_int_equal(kz_opt_ulong(NULL, 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("-1", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("+1", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong(" 1", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("1 ", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("1k", 0, 10000, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("0x10", 0, 100, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("1.5", 0, 10, &v), KZ_EINVAL);
	assert_int_equal(kz_opt_ulong("ten", 0, 10, &v), KZ_EINVAL);
}

static void
test_durations(void **state)
{
	static const struct { const char *s; unsigned long long ms; } ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "0ms", 0 }, { "1ms", 1 },
		{ "100ms", 100 }, { "2s", 2000 }, { "30s", 30000 },
		{ "5m", 300000 }, { "1m30s", 90000 }, { "2h", 7200000 },
		{ "1h2m3s4ms", 3723004 }, { "90s", 90000 }, { "1m0s", 60000 },
		{ "1500ms", 1500 }, { "24h", 86400000 },
	};
	static const char *const bad[] = {
		"", "10", "s", "ms", "-1s", "1 s", " 1s", "1s ", "1d", "1S",
		"1MS", "1sec", "1min", "1x", "1h-1m", "1m30", "00",
	};
	unsigned long long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (kz_opt_duration_ms(ok[i].s, &v) != 0 || v != ok[i].ms)
			fail_msg("'%s': got %llu, want %llu", ok[i].s, v,
			    ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kz_opt_duration_ms(bad[i], &v) != KZ_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(kz_opt_duration_ms(NULL, &v), KZ_EINVAL);
}

/* --- ranges kept in the table ------------------------------------------- */

struct ranged {
	unsigned long level;
	unsigned long long period_ms, every_ms;
	int calls;
};

/* The setters store what kz_opt_parse() let through; they never refuse. */
static int
set_level(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct ranged *r = ctx;

	(void)err, (void)errsz;
	r->calls++;
	r->level = strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_period(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct ranged *r = ctx;

	(void)err, (void)errsz;
	r->calls++;
	assert_int_equal(kz_opt_duration_ms(arg, &r->period_ms), 0);
	return KZ_OK;
}

static int
set_every(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct ranged *r = ctx;

	(void)err, (void)errsz;
	r->calls++;
	assert_int_equal(kz_opt_duration_ms(arg, &r->every_ms), 0);
	return KZ_OK;
}

static const struct kz_opt ranged_opts[] = {
	{ "level", "N", "1", NULL, false, set_level, "How loud.",
	  KZ_OPT_NUMBER, 0, 5 },
	{ "period", "DURATION", "1s", NULL, false, set_period, "How often.",
	  KZ_OPT_DURATION, 100, 3600000 },
	{ "every", "DURATION", "30m", NULL, false, set_every, "Sweeps.",
	  KZ_OPT_DURATION, 1000, 604800000, true },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static int
parse_ranged(struct ranged *rg, const char *opt, const char *val,
    char *err, size_t errsz)
{
	struct kz_opt_table t = { "Ranged", ranged_opts, rg };
	char a0[] = "kubezone", a1[64], a2[64];
	char *argv[] = { a0, a1, a2, NULL }, *pos[4];
	size_t npos;
	int help;

	snprintf(a1, sizeof(a1), "%s", opt);
	snprintf(a2, sizeof(a2), "%s", val);
	err[0] = '\0';
	return kz_opt_parse(3, argv, &t, 1, pos, &npos, &help, err, errsz);
}

/*
 * A row's range is checked before its setter runs, with one message
 * form; help and Markdown show the same range.
 */
static void
test_ranges_from_the_table(void **state)
{
	struct ranged rg = { 0 };
	struct kz_opt_table t = { "Ranged", ranged_opts, &rg };
	char err[256], range[96], *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse_ranged(&rg, "--level", "5", err, sizeof(err)),
	    0);
	assert_int_equal(rg.level, 5);
	assert_int_equal(parse_ranged(&rg, "--level", "6", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_string_equal(err, "--level 6: expected a number from 0 to 5");
	assert_int_equal(parse_ranged(&rg, "--level", "-1", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_int_equal(rg.calls, 1);		/* refused values never set */
	assert_int_equal(rg.level, 5);

	assert_int_equal(parse_ranged(&rg, "--period", "99ms", err,
	    sizeof(err)), KZ_EUSAGE);
	assert_string_equal(err, "--period 99ms: expected a duration (like "
	    "500ms, 2s, 1m30s) from 100ms to 1h");
	assert_int_equal(parse_ranged(&rg, "--period", "0", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_int_equal(parse_ranged(&rg, "--period", "1h", err, sizeof(err)),
	    0);
	assert_int_equal(rg.period_ms, 3600000);

	/* 0 turns a ZERO_OFF duration off; below MIN otherwise refused. */
	assert_int_equal(parse_ranged(&rg, "--every", "0", err, sizeof(err)),
	    0);
	assert_int_equal(rg.every_ms, 0);
	assert_int_equal(parse_ranged(&rg, "--every", "999ms", err,
	    sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "from 1s to 168h, or 0 (off)"));
	assert_int_equal(parse_ranged(&rg, "--every", "90s", err, sizeof(err)),
	    0);
	assert_int_equal(rg.every_ms, 90000);

	assert_string_equal(kz_opt_range(&ranged_opts[0], range,
	    sizeof(range)), "0 to 5");
	assert_string_equal(kz_opt_range(&main_opts[0], range, sizeof(range)),
	    "");

	f = open_memstream(&out, &len);
	assert_non_null(f);
	kz_opt_help(f, &t, 1);
	kz_opt_markdown(f, &t, 1);
	fclose(f);
	assert_non_null(strstr(out, "How loud. Range: 0 to 5. Default: 1."));
	assert_non_null(strstr(out, "| How often. Range: 100ms to 1h. |"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_missing_and_unwanted_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_secret_value_withheld),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_tables_keep_their_context),
		cmocka_unit_test(test_help_text),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_ulong),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_ranges_from_the_table),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
