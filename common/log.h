/*
 * common/log.h -- one line per event on stderr, in logfmt.
 *
 *   ts=2026-11-21T23:59:01.123Z level=info msg="zone published" zone=cluster.local serial=7
 *
 * kz_log(LEVEL, MSG, FMT, ...) writes MSG quoted and FMT (printf-style,
 * "key=value ..." pairs, may be NULL) after it. Values that may hold
 * spaces or quotes go through kz_log_quote(). The level threshold and
 * the output stream are process-wide: set once at start-up.
 */
#ifndef KZ_COMMON_LOG_H
#define KZ_COMMON_LOG_H

#include <stddef.h>
#include <stdio.h>

enum kz_log_level {
	KZ_LOG_DEBUG = 0,
	KZ_LOG_INFO = 1,
	KZ_LOG_WARN = 2,
	KZ_LOG_ERROR = 3,
	KZ_LOG_OFF = 4
};

/* Set the lowest level written (default KZ_LOG_INFO). */
void kz_log_set_level(enum kz_log_level level);
enum kz_log_level kz_log_get_level(void);

/* Parse "debug", "info", "warn", "error" or "off"; return -1 if unknown. */
int kz_log_parse_level(const char *s);

/*
 * Option setter for "--log-level LEVEL" rows of common/opt.h tables
 * (CTX unused): sets the process-wide level, or fills ERR.
 */
int kz_log_opt_level(void *ctx, const char *arg, char *err, size_t errsz);

/* Redirect output (default stderr); NULL restores stderr. Not owned. */
void kz_log_set_stream(FILE *f);

/*
 * Context for the lines written from now on: CTX ("key=value ...",
 * copied, at most 127 bytes) goes after msg= in every line until it is
 * set again; NULL or "" clears it. The daemon names the cluster whose
 * work a line comes from this way (cluster=prod-eu).
 */
void kz_log_set_context(const char *ctx);

/*
 * Hold the debug and info lines written from now on in memory until
 * kz_log_release() writes them with one write: a burst of lines (the
 * daemon's publish, whose NOTIFY then goes out before them) costs one
 * system call. A warning or an error writes what is held and itself at
 * once; so does a held line that would not fit (16 KiB are held at
 * most). Holding twice is holding once.
 */
void kz_log_hold(void);
void kz_log_release(void);

/* Count of lines written at LEVEL since start (for tests and metrics). */
unsigned long kz_log_count(enum kz_log_level level);

/* True when a line at LEVEL would be written. */
int kz_log_enabled(enum kz_log_level level);

void kz_log(enum kz_log_level level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Quote S for a logfmt value into OUT (size OUTSZ, always terminated):
 * bare when it is a plain token, else in double quotes with \" and \\
 * escaped and control characters as \n, \t or \xNN. Returns OUT.
 */
const char *kz_log_quote(char *out, size_t outsz, const char *s);

#define kz_debug(msg, ...) kz_log(KZ_LOG_DEBUG, msg, __VA_ARGS__)
#define kz_info(msg, ...)  kz_log(KZ_LOG_INFO, msg, __VA_ARGS__)
#define kz_warn(msg, ...)  kz_log(KZ_LOG_WARN, msg, __VA_ARGS__)
#define kz_error(msg, ...) kz_log(KZ_LOG_ERROR, msg, __VA_ARGS__)

#endif
