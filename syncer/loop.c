/*
 * syncer/loop.c -- one curl_multi_poll() loop with fds, timers and hooks.
 */
#include <poll.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/loop.h"

/* The longest single wait: bounds the damage of a missed wake-up. */
#define SY_LOOP_MAX_WAIT_MS 1000

int
sy_loop_init(struct sy_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->multi = curl_multi_init();
	return l->multi ? KZ_OK : KZ_ENOMEM;
}

void
sy_loop_free(struct sy_loop *l)
{
	if (l->multi)
		curl_multi_cleanup(l->multi);
	memset(l, 0, sizeof(*l));
}

CURLM *
sy_loop_multi(struct sy_loop *l)
{
	return l->multi;
}

void
sy_loop_on_done(struct sy_loop *l, sy_done_fn fn, void *ctx)
{
	l->done = fn;
	l->done_ctx = ctx;
}

int
sy_loop_add_fd(struct sy_loop *l, int fd, short events, sy_fd_fn fn,
    void *ctx)
{
	if (fd < 0 || fn == NULL)
		return KZ_EINVAL;
	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd) {
			l->fds[i].events = events;
			l->fds[i].fn = fn;
			l->fds[i].ctx = ctx;
			return KZ_OK;
		}
	if (l->nfds == SY_LOOP_MAX_FDS)
		return KZ_ETOOBIG;
	l->fds[l->nfds].fd = fd;
	l->fds[l->nfds].events = events;
	l->fds[l->nfds].fn = fn;
	l->fds[l->nfds].ctx = ctx;
	l->nfds++;
	return KZ_OK;
}

void
sy_loop_del_fd(struct sy_loop *l, int fd)
{
	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd) {
			/* Mark it; the slot is compacted between iterations,
			 * so a callback may delete fds safely. */
			l->fds[i].fd = -1;
			l->fds[i].fn = NULL;
		}
}

int
sy_loop_add_hook(struct sy_loop *l, sy_timer_fn fn, void *ctx)
{
	if (l->nhooks == SY_LOOP_MAX_HOOKS)
		return KZ_ETOOBIG;
	l->hooks[l->nhooks] = fn;
	l->hook_ctx[l->nhooks] = ctx;
	l->nhooks++;
	return KZ_OK;
}

void
sy_timer_init(struct sy_timer *t, sy_timer_fn fn, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->ctx = ctx;
}

void
sy_timer_cancel(struct sy_loop *l, struct sy_timer *t)
{
	struct sy_timer **pp;

	if (!t->armed)
		return;
	for (pp = &l->timers; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->armed = false;
	t->next = NULL;
}

void
sy_timer_at(struct sy_loop *l, struct sy_timer *t, uint64_t deadline_ms)
{
	sy_timer_cancel(l, t);
	t->deadline_ms = deadline_ms;
	t->armed = true;
	t->next = l->timers;
	l->timers = t;
}

void
sy_timer_in(struct sy_loop *l, struct sy_timer *t, uint64_t ms)
{
	sy_timer_at(l, t, kz_now_ms() + ms);
}

static void
compact_fds(struct sy_loop *l)
{
	size_t o = 0;

	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].fd >= 0)
			l->fds[o++] = l->fds[i];
	l->nfds = o;
}

static void
fire_timers(struct sy_loop *l)
{
	uint64_t now = kz_now_ms();
	bool again = true;

	/* A callback may arm or cancel timers: rescan after each one. */
	while (again) {
		again = false;
		for (struct sy_timer *t = l->timers; t; t = t->next) {
			if (t->deadline_ms > now)
				continue;
			sy_timer_cancel(l, t);
			if (t->fn)
				t->fn(l, t->ctx);
			again = true;
			break;
		}
	}
}

static void
drain_done(struct sy_loop *l)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (l->done)
			l->done(l, msg->easy_handle, msg->data.result,
			    l->done_ctx);
		else
			curl_multi_remove_handle(l->multi, msg->easy_handle);
	}
}

int
sy_loop_once(struct sy_loop *l, int max_wait_ms)
{
	struct curl_waitfd wfd[SY_LOOP_MAX_FDS];
	struct sy_loop_fd snap[SY_LOOP_MAX_FDS];
	uint64_t now;
	long wait;
	size_t n;
	CURLMcode mc;
	int numfds = 0;

	l->iterations++;
	for (size_t i = 0; i < l->nhooks; i++)
		l->hooks[i](l, l->hook_ctx[i]);
	compact_fds(l);
	n = l->nfds;
	for (size_t i = 0; i < n; i++) {
		snap[i] = l->fds[i];
		wfd[i].fd = l->fds[i].fd;
		wfd[i].events = 0;
		if (l->fds[i].events & POLLIN)
			wfd[i].events |= CURL_WAIT_POLLIN;
		if (l->fds[i].events & POLLOUT)
			wfd[i].events |= CURL_WAIT_POLLOUT;
		wfd[i].revents = 0;
	}
	wait = max_wait_ms < 0 ? SY_LOOP_MAX_WAIT_MS : max_wait_ms;
	now = kz_now_ms();
	for (struct sy_timer *t = l->timers; t; t = t->next) {
		long left = t->deadline_ms <= now ? 0 :
		    (long)(t->deadline_ms - now);

		if (left < wait)
			wait = left;
	}
	if (l->stop)
		wait = 0;
	mc = curl_multi_poll(l->multi, wfd, (unsigned)n, (int)wait, &numfds);
	if (mc != CURLM_OK) {
		kz_error("curl_multi_poll failed", "error=\"%s\"",
		    curl_multi_strerror(mc));
		return KZ_EPROTO;
	}
	for (size_t i = 0; i < n; i++) {
		short rev = 0;

		if (wfd[i].revents == 0)
			continue;
		if (wfd[i].revents & CURL_WAIT_POLLIN)
			rev |= POLLIN;
		if (wfd[i].revents & CURL_WAIT_POLLOUT)
			rev |= POLLOUT;
		if (wfd[i].revents & ~(CURL_WAIT_POLLIN | CURL_WAIT_POLLOUT))
			rev |= POLLERR;
		/* Skip an fd deleted by an earlier callback this round. */
		for (size_t j = 0; j < l->nfds; j++)
			if (l->fds[j].fd == snap[i].fd && l->fds[j].fn) {
				l->fds[j].fn(l, snap[i].fd, rev,
				    l->fds[j].ctx);
				break;
			}
	}
	mc = curl_multi_perform(l->multi, &l->running);
	if (mc != CURLM_OK) {
		kz_error("curl_multi_perform failed", "error=\"%s\"",
		    curl_multi_strerror(mc));
		return KZ_EPROTO;
	}
	drain_done(l);
	fire_timers(l);
	return KZ_OK;
}

int
sy_loop_run(struct sy_loop *l)
{
	int rc = KZ_OK;

	l->stop = false;
	while (!l->stop && rc == KZ_OK)
		rc = sy_loop_once(l, -1);
	return rc;
}

void
sy_loop_stop(struct sy_loop *l)
{
	l->stop = true;
}
