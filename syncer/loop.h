/*
 * syncer/loop.h -- the daemon's one event loop, built on curl multi.
 *
 * Everything kubezone waits for goes through one curl_multi_poll() call:
 * the curl easy handles of the Kubernetes client (added to
 * sy_loop_multi()), plus registered file descriptors (signalfd, inotify,
 * NSD's log pipe, the HTTP server) and timers. One iteration:
 *
 *   1. before-poll hooks run (they may arm timers);
 *   2. wait in curl_multi_poll() until an fd is ready, curl has work, or
 *      the earliest timer is due;
 *   3. callbacks of ready fds run, then curl_multi_perform(), and each
 *      finished transfer goes to the done callback;
 *   4. due timers fire (one-shot: a callback re-arms its timer itself).
 *
 * Ownership: the loop owns its multi handle (freed by sy_loop_free, so
 * easy handles must be removed first); it borrows every fd, timer and
 * context registered. Timers live in the caller's structs (embedded),
 * so arming one never allocates.
 */
#ifndef KZ_SYNCER_LOOP_H
#define KZ_SYNCER_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define SY_LOOP_MAX_FDS 64
#define SY_LOOP_MAX_HOOKS 8

struct sy_loop;

typedef void (*sy_fd_fn)(struct sy_loop *l, int fd, short revents,
    void *ctx);
typedef void (*sy_timer_fn)(struct sy_loop *l, void *ctx);
/* A transfer of the multi handle finished with RESULT. */
typedef void (*sy_done_fn)(struct sy_loop *l, CURL *easy, CURLcode result,
    void *ctx);

/* A one-shot timer; embed it and sy_timer_init() it once. */
struct sy_timer {
	uint64_t deadline_ms;	/* monotonic */
	bool armed;
	sy_timer_fn fn;
	void *ctx;
	struct sy_timer *next;	/* in the loop's armed list */
};

struct sy_loop_fd {
	int fd;
	short events;		/* POLLIN, POLLOUT */
	sy_fd_fn fn;
	void *ctx;
};

struct sy_loop {
	CURLM *multi;
	struct sy_loop_fd fds[SY_LOOP_MAX_FDS];
	size_t nfds;
	struct sy_timer *timers;	/* armed, unordered (there are few) */
	sy_timer_fn hooks[SY_LOOP_MAX_HOOKS];	/* before-poll */
	void *hook_ctx[SY_LOOP_MAX_HOOKS];
	size_t nhooks;
	sy_done_fn done;
	void *done_ctx;
	int running;		/* transfers still running in the multi */
	bool stop;
	unsigned long iterations;
};

/* Times given here are kz_now_ms() (common/clock.h). */

/* 0, KZ_ENOMEM (curl could not make a multi handle). */
int sy_loop_init(struct sy_loop *l);
/* Accepts a zeroed loop. */
void sy_loop_free(struct sy_loop *l);

/* The multi handle to add the Kubernetes client's easy handles to. */
CURLM *sy_loop_multi(struct sy_loop *l);
/* Where finished transfers are reported (one callback). */
void sy_loop_on_done(struct sy_loop *l, sy_done_fn fn, void *ctx);

/* Watch FD for EVENTS (POLLIN/POLLOUT). 0, KZ_ETOOBIG, KZ_EINVAL. */
int sy_loop_add_fd(struct sy_loop *l, int fd, short events, sy_fd_fn fn,
    void *ctx);
/* Stop watching FD (safe from inside a callback). */
void sy_loop_del_fd(struct sy_loop *l, int fd);

/* A hook run before every wait. 0 or KZ_ETOOBIG. */
int sy_loop_add_hook(struct sy_loop *l, sy_timer_fn fn, void *ctx);

void sy_timer_init(struct sy_timer *t, sy_timer_fn fn, void *ctx);
/* Arm T to fire at DEADLINE_MS (re-arming moves it). */
void sy_timer_at(struct sy_loop *l, struct sy_timer *t,
    uint64_t deadline_ms);
/* Arm T to fire in MS milliseconds. */
void sy_timer_in(struct sy_loop *l, struct sy_timer *t, uint64_t ms);
void sy_timer_cancel(struct sy_loop *l, struct sy_timer *t);

/*
 * One iteration, waiting at most MAX_WAIT_MS (-1: until something
 * happens). 0, or KZ_EPROTO when curl fails.
 */
int sy_loop_once(struct sy_loop *l, int max_wait_ms);

/* Iterate until sy_loop_stop(). 0 or the first error. */
int sy_loop_run(struct sy_loop *l);
void sy_loop_stop(struct sy_loop *l);

#endif
