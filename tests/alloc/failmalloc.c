/*
 * tests/alloc/failmalloc.c -- counting allocation wrappers (see the header).
 */
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tests/alloc/failmalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t nmemb, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t nmemb, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned long counted;	/* allocations so far */
static unsigned long fail_at;	/* 0: never */
static bool tripped;
static bool json_too;		/* count jansson's allocations */
static void *where;		/* caller of the failed allocation */
static void *stack[16];		/* its stack */
static int depth;

static bool
fail_now(void *caller)
{
	counted++;
	if (fail_at != 0 && counted == fail_at) {
		tripped = true;
		where = caller;
		depth = backtrace(stack, 16);
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t n)
{
	return fail_now(__builtin_return_address(0)) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t nmemb, size_t n)
{
	return fail_now(__builtin_return_address(0)) ? NULL :
	    __real_calloc(nmemb, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fail_now(__builtin_return_address(0)) ? NULL :
	    __real_realloc(p, n);
}

static char *
dup(const char *s, size_t n, void *caller)
{
	size_t len = strnlen(s, n);
	char *p;

	if (fail_now(caller))
		return NULL;
	p = __real_malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *
__wrap_strdup(const char *s)
{
	return dup(s, strlen(s), __builtin_return_address(0));
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return dup(s, n, __builtin_return_address(0));
}

static void *
json_malloc(size_t n)
{
	if (!json_too)
		return __real_malloc(n);
	return fail_now(__builtin_return_address(0)) ? NULL : __real_malloc(n);
}

void
fm_scope(bool json)
{
	json_too = json;
}

void
fm_dump(void)
{
	if (tripped)
		backtrace_symbols_fd(stack, depth, 2);
}

void
fm_init(void)
{
	/* backtrace() allocates on its first call: make that call now */
	depth = backtrace(stack, 16);
	depth = 0;
	json_set_alloc_funcs(json_malloc, free);
}

void
fm_arm(unsigned long n)
{
	fail_at = counted + n;
	tripped = false;
}

void
fm_disarm(void)
{
	fail_at = 0;
}

bool
fm_tripped(void)
{
	return tripped;
}

void *
fm_where(void)
{
	return where;
}

unsigned long
fm_count(void)
{
	return counted;
}
