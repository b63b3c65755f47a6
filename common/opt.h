/*
 * common/opt.h -- table-driven command-line options.
 *
 * Each module describes its options as a table of rows (name, argument,
 * default, help, setter); a command parses argv against the tables of
 * the modules it uses. The same rows produce --help and the option
 * reference in docs/configuration.md (`kubezone COMMAND --help-markdown`),
 * so the documentation cannot drift from the program.
 *
 * Accepted forms: --name VALUE, --name=VALUE, --flag. "--" ends options;
 * "-" alone is a positional argument (stdin).
 */
#ifndef KZ_COMMON_OPT_H
#define KZ_COMMON_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * A setter applies ARG (NULL for flags) to the module's option struct
 * CTX. On a bad value it writes a message (without the option name)
 * into ERR and returns non-zero.
 */
typedef int (*kz_opt_set_fn)(void *ctx, const char *arg, char *err,
    size_t errsz);

/*
 * What kz_opt_parse() checks of a value before the setter sees it, with
 * the row's MIN and MAX; help, --help-markdown and the error message
 * show the same range, so the limits live in one place: the table.
 */
enum kz_opt_check {
	KZ_OPT_ANY = 0,		/* the setter checks the value itself */
	KZ_OPT_NUMBER,		/* a decimal number from MIN to MAX */
	KZ_OPT_DURATION		/* a duration (kz_opt_duration_ms) from MIN
				   to MAX milliseconds; with ZERO_OFF, "0"
				   too (off) */
};

struct kz_opt {
	const char *name;	/* long name without "--" */
	const char *metavar;	/* NULL for a flag */
	const char *defval;	/* the default as shown to users, or NULL */
	const char *env;	/* environment variable read, or NULL */
	bool repeatable;
	kz_opt_set_fn set;
	const char *help;	/* one sentence */
	enum kz_opt_check check;
	unsigned long long min, max;
	bool zero_off;
};

struct kz_opt_table {
	const char *title;	/* section heading in help */
	const struct kz_opt *opts;	/* ends with a row whose name is NULL */
	void *ctx;
};

/*
 * Parse ARGV[1..ARGC-1]. Positional arguments are stored in order in
 * POS (array of at least ARGC pointers into ARGV) and counted in *NPOS.
 * Returns 0, or KZ_EUSAGE with a message in ERR. "--help" sets *HELP
 * to 1 and "--help-markdown" to 2 (parsing stops there).
 */
int kz_opt_parse(int argc, char **argv, const struct kz_opt_table *tables,
    size_t ntables, char **pos, size_t *npos, int *help, char *err,
    size_t errsz);

/* Print the options of TABLES as help text / as a Markdown table. */
void kz_opt_help(FILE *f, const struct kz_opt_table *tables, size_t ntables);
void kz_opt_markdown(FILE *f, const struct kz_opt_table *tables,
    size_t ntables);

/*
 * "MIN to MAX" of row O ("100ms to 1h" for a duration) into OUT; "" for
 * a row without a range. Returns OUT.
 */
const char *kz_opt_range(const struct kz_opt *o, char *out, size_t outsz);

/* Bounded number parsing helpers for setters: 0 or KZ_EINVAL. */
int kz_opt_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out);
/* Durations as Kubernetes tools write them: "100ms", "2s", "1m30s". */
int kz_opt_duration_ms(const char *s, unsigned long long *ms);

#endif
