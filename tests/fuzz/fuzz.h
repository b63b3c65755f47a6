/*
 * tests/fuzz/fuzz.h -- helpers shared by the fuzz targets.
 *
 * FUZZ_CHECK() states a property every input must keep; a violation
 * prints why and aborts, which libFuzzer and the replay main both
 * report as a crash with the input that caused it.
 */
#ifndef KZ_TESTS_FUZZ_H
#define KZ_TESTS_FUZZ_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,	\
		    __LINE__, #cond);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* Logs would drown the fuzzer's own output: switch them off once. */
static inline void
fuzz_quiet(void)
{
	static int done;

	if (!done) {
		kz_log_set_level(getenv("FUZZ_LOG") ? KZ_LOG_DEBUG :
		    KZ_LOG_OFF);
		done = 1;
	}
}

static inline int
fuzz_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
