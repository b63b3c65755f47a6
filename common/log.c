/*
 * common/log.c -- logfmt lines on stderr.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/log.h"

static enum kz_log_level log_level = KZ_LOG_INFO;
static FILE *log_stream;
static unsigned long log_counts[KZ_LOG_OFF];
static char log_context[128];	/* kz_log_set_context */
static struct {
	bool on;
	size_t len;
	char text[16384];
} log_held;			/* kz_log_hold */

static const char *const level_names[] = { "debug", "info", "warn", "error",
	"off" };

void
kz_log_set_level(enum kz_log_level level)
{
	log_level = level;
}

enum kz_log_level
kz_log_get_level(void)
{
	return log_level;
}

int
kz_log_parse_level(const char *s)
{
	for (int i = 0; i <= KZ_LOG_OFF; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return KZ_LOG_WARN;
	return -1;
}

int
kz_log_opt_level(void *ctx, const char *arg, char *err, size_t errsz)
{
	int l = kz_log_parse_level(arg);

	(void)ctx;
	if (l < 0) {
		snprintf(err, errsz, "expected debug, info, warn, error or off");
		return -1;
	}
	kz_log_set_level((enum kz_log_level)l);
	return 0;
}

void
kz_log_set_stream(FILE *f)
{
	log_stream = f;
}

unsigned long
kz_log_count(enum kz_log_level level)
{
	return level < KZ_LOG_OFF ? log_counts[level] : 0;
}

int
kz_log_enabled(enum kz_log_level level)
{
	return level >= log_level && level < KZ_LOG_OFF;
}

static int
is_plain(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
			return 0;
	}
	return 1;
}

const char *
kz_log_quote(char *out, size_t outsz, const char *s)
{
	size_t o = 0;

	if (outsz == 0)
		return out;
	if (s == NULL)
		s = "";
	if (is_plain(s)) {
		snprintf(out, outsz, "%s", s);
		return out;
	}
	/* Reserve room for the closing quote and the terminator. */
	if (outsz < 3) {
		out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (; *s && o + 5 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < ' ' || c == 0x7f) {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void
kz_log_set_context(const char *ctx)
{
	snprintf(log_context, sizeof(log_context), "%s", ctx ? ctx : "");
}

/* "2006-01-02T15:04:05" for SEC, formatted once per second. */
static const char *
log_second(time_t sec)
{
	static char text[40];
	static time_t at = -1;
	struct tm tm;

	if (sec != at) {
		gmtime_r(&sec, &tm);
		strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		at = sec;
	}
	return text;
}

/* Write the lines held (whole lines, in one write). */
static void
held_write(FILE *f)
{
	if (log_held.len == 0)
		return;
	fwrite(log_held.text, 1, log_held.len, f);
	fflush(f);
	log_held.len = 0;
}

void
kz_log(enum kz_log_level level, const char *msg, const char *fmt, ...)
{
	FILE *f = log_stream ? log_stream : stderr;
	char line[4096], qmsg[1024];
	struct timeval tv;
	size_t n;
	va_list ap;

	if (!kz_log_enabled(level))
		return;
	log_counts[level]++;
	gettimeofday(&tv, NULL);
	n = (size_t)snprintf(line, sizeof(line), "ts=%s.%03dZ level=%s msg=%s",
	    log_second(tv.tv_sec), (int)(tv.tv_usec / 1000),
	    level_names[level], kz_log_quote(qmsg, sizeof(qmsg), msg));
	if (log_context[0] && n + 1 < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s",
		    log_context);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (fmt != NULL && *fmt != '\0' && n + 1 < sizeof(line)) {
		int k;

		line[n++] = ' ';
		va_start(ap, fmt);
		k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		n += k > 0 ? (size_t)k : 0;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (log_held.on && level < KZ_LOG_WARN &&
	    n <= sizeof(log_held.text) - log_held.len) {
		memcpy(log_held.text + log_held.len, line, n);
		log_held.len += n;
		return;
	}
	held_write(f);
	/* One write per line so concurrent writers do not interleave. */
	fwrite(line, 1, n, f);
	fflush(f);
}

void
kz_log_hold(void)
{
	log_held.on = true;
}

void
kz_log_release(void)
{
	log_held.on = false;
	held_write(log_stream ? log_stream : stderr);
}
