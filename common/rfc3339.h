/*
 * common/rfc3339.h -- RFC 3339 timestamps ("2026-12-03T14:43:32Z",
 * "2026-12-03T14:43:32.123456+02:00") to Unix time.
 *
 * Kubernetes writes times this way (metadata.creationTimestamp, the
 * endpoints.kubernetes.io/last-change-trigger-time annotation), with
 * second or sub-second precision. Pure: no allocation, no locale, no
 * time zone database (the offset is part of the text).
 */
#ifndef KZ_COMMON_RFC3339_H
#define KZ_COMMON_RFC3339_H

/*
 * Parse S, a date-time of RFC 3339 section 5.6: YYYY-MM-DD, 'T' (or 't'
 * or one space), hh:mm:ss, an optional fraction of any length, and 'Z'
 * (or 'z') or an offset +hh:mm / -hh:mm; nothing may follow. A leap
 * second (ss = 60) counts as the second after :59. *UNIX gets seconds
 * since 1970-01-01T00:00:00Z (to about a microsecond). 0, or KZ_EPARSE
 * (*UNIX untouched).
 */
int kz_rfc3339_parse(const char *s, double *unix_s);

#endif
