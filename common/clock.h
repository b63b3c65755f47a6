/*
 * common/clock.h -- kubezone's one monotonic clock.
 *
 * Every timer, deadline, back-off and duration in kubezone reads this
 * clock (CLOCK_MONOTONIC: it never jumps with the wall clock). Only the
 * serials and the log's timestamps use the wall clock.
 */
#ifndef KZ_COMMON_CLOCK_H
#define KZ_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start (boot). */
uint64_t kz_now_ms(void);

/* The same in seconds, to the nanosecond (durations for histograms). */
double kz_now_s(void);

/* CPU time the calling thread has used, in nanoseconds. */
uint64_t kz_cpu_ns(void);

#endif
