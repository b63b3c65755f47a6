/*
 * common/opt.c -- table-driven option parsing, help and Markdown.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/opt.h"

/* MS as the shortest exact form: "500ms", "2s", "5m", "24h". */
static void
fmt_duration(unsigned long long ms, char *out, size_t outsz)
{
	if (ms && ms % 3600000 == 0)
		snprintf(out, outsz, "%lluh", ms / 3600000);
	else if (ms && ms % 60000 == 0)
		snprintf(out, outsz, "%llum", ms / 60000);
	else if (ms && ms % 1000 == 0)
		snprintf(out, outsz, "%llus", ms / 1000);
	else
		snprintf(out, outsz, "%llums", ms);
}

const char *
kz_opt_range(const struct kz_opt *o, char *out, size_t outsz)
{
	char lo[32], hi[32];

	switch (o->check) {
	case KZ_OPT_NUMBER:
		snprintf(out, outsz, "%llu to %llu", o->min, o->max);
		break;
	case KZ_OPT_DURATION:
		fmt_duration(o->min, lo, sizeof(lo));
		fmt_duration(o->max, hi, sizeof(hi));
		snprintf(out, outsz, "%s to %s%s", lo, hi,
		    o->zero_off ? ", or 0 (off)" : "");
		break;
	default:
		out[0] = '\0';
	}
	return out;
}

/* Check VAL against O's range; 0, or non-zero with MSG filled. */
static int
check_value(const struct kz_opt *o, const char *val, char *msg,
    size_t msgsz)
{
	unsigned long long ms;
	unsigned long v;
	char range[96];

	switch (o->check) {
	case KZ_OPT_NUMBER:
		if (kz_opt_ulong(val, (unsigned long)o->min,
		    (unsigned long)o->max, &v) == 0)
			return 0;
		snprintf(msg, msgsz, "expected a number from %s",
		    kz_opt_range(o, range, sizeof(range)));
		return 1;
	case KZ_OPT_DURATION:
		if (kz_opt_duration_ms(val, &ms) == 0 &&
		    ((ms >= o->min && ms <= o->max) || (ms == 0 && o->zero_off)))
			return 0;
		snprintf(msg, msgsz, "expected a duration (like 500ms, 2s, "
		    "1m30s) from %s", kz_opt_range(o, range, sizeof(range)));
		return 1;
	default:
		return 0;
	}
}

static const struct kz_opt *
find_opt(const struct kz_opt_table *tables, size_t ntables, const char *name,
    size_t namelen, void **ctx)
{
	for (size_t t = 0; t < ntables; t++)
		for (const struct kz_opt *o = tables[t].opts; o->name; o++)
			if (strlen(o->name) == namelen &&
			    strncmp(o->name, name, namelen) == 0) {
				*ctx = tables[t].ctx;
				return o;
			}
	return NULL;
}

int
kz_opt_parse(int argc, char **argv, const struct kz_opt_table *tables,
    size_t ntables, char **pos, size_t *npos, int *help, char *err,
    size_t errsz)
{
	char msg[256];
	int i;

	*npos = 0;
	*help = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val = NULL;
		const struct kz_opt *o;
		void *ctx = NULL;
		size_t namelen;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				pos[(*npos)++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = 1;
			return KZ_OK;
		}
		if (strcmp(a, "--help-markdown") == 0) {
			*help = 2;
			return KZ_OK;
		}
		if (a[1] != '-') {
			snprintf(err, errsz, "unknown option '%s'", a);
			return KZ_EUSAGE;
		}
		name = a + 2;
		eq = strchr(name, '=');
		namelen = eq ? (size_t)(eq - name) : strlen(name);
		o = find_opt(tables, ntables, name, namelen, &ctx);
		if (o == NULL) {
			snprintf(err, errsz, "unknown option '--%.*s'",
			    (int)namelen, name);
			return KZ_EUSAGE;
		}
		if (o->metavar) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, errsz, "option '--%s' needs %s",
				    o->name, o->metavar);
				return KZ_EUSAGE;
			}
		} else if (eq) {
			snprintf(err, errsz, "option '--%s' takes no value",
			    o->name);
			return KZ_EUSAGE;
		}
		msg[0] = '\0';
		if (check_value(o, val, msg, sizeof(msg)) ||
		    o->set(ctx, val, msg, sizeof(msg))) {
			/* A value holding a SECRET is never echoed. */
			bool secret = o->metavar && strstr(o->metavar, "SECRET");

			snprintf(err, errsz, "--%s %s: %s", o->name,
			    val && !secret ? val : "(value withheld)",
			    msg[0] ? msg : "invalid value");
			return KZ_EUSAGE;
		}
	}
	return KZ_OK;
}

void
kz_opt_help(FILE *f, const struct kz_opt_table *tables, size_t ntables)
{
	char left[64], range[96];

	for (size_t t = 0; t < ntables; t++) {
		fprintf(f, "\n%s:\n", tables[t].title);
		for (const struct kz_opt *o = tables[t].opts; o->name; o++) {
			snprintf(left, sizeof(left), "--%s%s%s", o->name,
			    o->metavar ? " " : "", o->metavar ? o->metavar : "");
			/* A long option name gets its help on the next line. */
			if (strlen(left) > 28)
				fprintf(f, "  %s\n  %-28s %s", left, "", o->help);
			else
				fprintf(f, "  %-28s %s", left, o->help);
			if (o->check)
				fprintf(f, " Range: %s.",
				    kz_opt_range(o, range, sizeof(range)));
			if (o->repeatable)
				fprintf(f, " Repeatable.");
			if (o->defval)
				fprintf(f, " Default: %s.", o->defval);
			if (o->env)
				fprintf(f, " Environment: %s.", o->env);
			fputc('\n', f);
		}
	}
}

void
kz_opt_markdown(FILE *f, const struct kz_opt_table *tables, size_t ntables)
{
	char range[96];

	for (size_t t = 0; t < ntables; t++) {
		fprintf(f, "\n### %s\n\n", tables[t].title);
		fprintf(f, "| option | default | description |\n");
		fprintf(f, "|---|---|---|\n");
		for (const struct kz_opt *o = tables[t].opts; o->name; o++) {
			fprintf(f, "| `--%s%s%s` | %s%s%s | %s", o->name,
			    o->metavar ? " " : "", o->metavar ? o->metavar : "",
			    o->defval ? "`" : "", o->defval ? o->defval : "",
			    o->defval ? "`" : "", o->help);
			if (o->check)
				fprintf(f, " Range: %s.",
				    kz_opt_range(o, range, sizeof(range)));
			if (o->repeatable)
				fprintf(f, " Repeatable.");
			if (o->env)
				fprintf(f, " Environment: `%s`.", o->env);
			fprintf(f, " |\n");
		}
	}
}

int
kz_opt_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return KZ_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return KZ_EINVAL;
	*out = v;
	return KZ_OK;
}

int
kz_opt_duration_ms(const char *s, unsigned long long *ms)
{
	static const struct { const char *unit; unsigned long long ms; } u[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	unsigned long long total = 0;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return KZ_EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return KZ_OK;
	}
	while (*s) {
		char *end;
		unsigned long long v;
		size_t i;

		if (!isdigit((unsigned char)*s))
			return KZ_EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > 1000000000ULL)
			return KZ_EINVAL;
		for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
			size_t n = strlen(u[i].unit);
			if (strncmp(end, u[i].unit, n) == 0 &&
			    !(n == 1 && end[1] == 's' && u[i].unit[0] == 'm')) {
				total += v * u[i].ms;
				s = end + n;
				break;
			}
		}
		if (i == sizeof(u) / sizeof(u[0]))
			return KZ_EINVAL;
		parts++;
	}
	*ms = total;
	return parts ? KZ_OK : KZ_EINVAL;
}
