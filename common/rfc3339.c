/*
 * common/rfc3339.c -- RFC 3339 timestamps to Unix time.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/rfc3339.h"

/* N decimal digits at *P (advanced), at most MAX in value. */
static bool
digits(const char **p, int n, int max, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return v <= max;
}

static bool
expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to Y-M-D of the proleptic Gregorian calendar. */
static int64_t
days_since_epoch(int y, int m, int d)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212,
	    243, 273, 304, 334 };
	int64_t days = 365LL * (y - 1970);

	/* leap days in the years 1970 .. y-1 (y >= 1 only) */
	days += (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
	days -= 1969 / 4 - 1969 / 100 + 1969 / 400;
	days += before[m - 1] + (m > 2 && leap(y)) + d - 1;
	return days;
}

int
kz_rfc3339_parse(const char *s, double *unix_s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double frac = 0, scale = 0.1;

	if (s == NULL || !digits(&p, 4, 9999, &y) || !expect(&p, '-') ||
	    !digits(&p, 2, 12, &mo) || !expect(&p, '-') ||
	    !digits(&p, 2, 31, &d))
		return KZ_EPARSE;
	if (y < 1 || mo < 1 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap(y)))
		return KZ_EPARSE;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return KZ_EPARSE;
	p++;
	if (!digits(&p, 2, 23, &h) || !expect(&p, ':') ||
	    !digits(&p, 2, 59, &mi) || !expect(&p, ':') ||
	    !digits(&p, 2, 60, &sec))
		return KZ_EPARSE;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return KZ_EPARSE;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, 23, &oh) || !expect(&p, ':') ||
		    !digits(&p, 2, 59, &om))
			return KZ_EPARSE;
	} else {
		return KZ_EPARSE;
	}
	if (*p != '\0')
		return KZ_EPARSE;
	*unix_s = (double)(days_since_epoch(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec - sign * (oh * 3600 + om * 60)) + frac;
	return KZ_OK;
}
