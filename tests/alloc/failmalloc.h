/*
 * tests/alloc/failmalloc.h -- make the Nth allocation fail.
 *
 * The allocation-failure test binary is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,
 * --wrap=strndup, so every allocation kubezone's own code makes goes
 * through the counters here; fm_init() routes jansson's allocations
 * through them too (json_set_alloc_funcs), counted only after
 * fm_scope(true). Other libraries' internal allocations (libc, ldns,
 * libcurl) are not counted.
 *
 *   fm_arm(n)      the n-th allocation from now fails (n >= 1), once
 *   fm_disarm()    nothing fails
 *   fm_tripped()   whether the armed failure happened
 *   fm_count()     allocations counted so far
 *   fm_where()     the return address in the caller of the failed one
 */
#ifndef KZ_TESTS_FAILMALLOC_H
#define KZ_TESTS_FAILMALLOC_H

#include <stdbool.h>
#include <stddef.h>

void fm_init(void);
/* Whether jansson's allocations count (and may fail); default not. */
void fm_scope(bool json);
void fm_arm(unsigned long n);
void fm_disarm(void);
bool fm_tripped(void);
unsigned long fm_count(void);
void *fm_where(void);
/* Print the stack of the failed allocation on stderr (addr2line). */
void fm_dump(void);

#endif
