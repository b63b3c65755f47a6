/*
 * common/err.c -- error strings.
 */
#include <string.h>

#include "common/err.h"

const char *
kz_strerror(int code)
{
	switch (code) {
	case KZ_OK:
		return "success";
	case KZ_EPARSE:
		return "malformed input";
	case KZ_ETOOBIG:
		return "size limit exceeded";
	case KZ_ENAME:
		return "invalid DNS name";
	case KZ_ENOTFOUND:
		return "not found";
	case KZ_EUSAGE:
		return "usage error";
	case KZ_EPROTO:
		return "protocol error";
	case KZ_ECHILD:
		return "child process failed";
	default:
		break;
	}
	if (code < 0 && code > KZ_EBASE)
		return strerror(-code);
	return "unknown error";
}
