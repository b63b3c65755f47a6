/*
 * common/err.h -- kubezone's one error convention.
 *
 * Functions return 0 (KZ_OK) on success and a negative code on failure:
 * -errno for system errors, KZ_E* (below -1000) for kubezone's own.
 * kz_strerror() turns any of them into a static string.
 */
#ifndef KZ_COMMON_ERR_H
#define KZ_COMMON_ERR_H

#include <errno.h>

enum {
	KZ_OK = 0,
	KZ_ENOMEM = -ENOMEM,
	KZ_EINVAL = -EINVAL,
	KZ_EBASE = -1000,
	KZ_EPARSE = -1001,	/* malformed input (JSON, zone text, option) */
	KZ_ETOOBIG = -1002,	/* a bounded buffer or limit was exceeded */
	KZ_ENAME = -1003,	/* an invalid DNS name or label */
	KZ_ENOTFOUND = -1004,	/* a lookup found nothing */
	KZ_EUSAGE = -1005,	/* a command-line usage error */
	KZ_EPROTO = -1006,	/* a peer broke its protocol */
	KZ_ECHILD = -1007	/* a child process failed */
};

/* Return a static description of CODE (0, -errno or KZ_E*). */
const char *kz_strerror(int code);

#endif
