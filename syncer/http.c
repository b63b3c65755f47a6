/*
 * syncer/http.c -- /healthz, /readyz, /metrics on libmicrohttpd,
 * driven by the daemon's own loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/http.h"

#define HTTP_RUN_MAX_MS 1000L	/* longest wait between two MHD_run() */

/*
 * Connections. libmicrohttpd serves at most HTTP_CONN_MAX at once and
 * stops accepting at that limit, so clients holding that many (silent,
 * or trickling a header) would keep a liveness probe waiting in the
 * backlog for the whole idle timeout. kubezone keeps at most
 * HTTP_CONN_KEEP of them: a connection accepted beyond that closes the
 * oldest one, whatever it is doing. A new client is therefore always
 * accepted and answered; a client that holds a connection only loses it
 * once HTTP_CONN_KEEP newer ones have come. The gap between the two
 * limits leaves room for the connections one MHD_run() accepts in a row
 * before the ones they displace are closed (in the next run), so the
 * listening socket normally never leaves libmicrohttpd's epoll set.
 */
#define HTTP_CONN_MAX 64u
#define HTTP_CONN_KEEP 48u
#define HTTP_IDLE_TIMEOUT_S 10u	/* a connection with no traffic closes */
#define HTTP_RUN_ROUNDS 8	/* MHD_run() calls in one sy_http_run() */

#define METRICS_MAX (64u << 20)

/* An open connection, in accept order (oldest first). */
struct conn {
	struct conn *prev, *next;
	int fd;
	bool evicted;		/* shut down, closing in the next MHD_run() */
};

struct sy_http {
	struct MHD_Daemon *d;
	int fd;
	bool ready;
	struct sy_metrics *metrics;
	sy_http_scrape_fn scrape;
	void *ctx;
	struct kz_buf out;
	struct conn *oldest, *newest;
	unsigned kept;		/* open and not evicted */
	unsigned churn;		/* connections opened or closed this run */
};

void
sy_http_opts_init(struct sy_http_opts *o)
{
	snprintf(o->listen, sizeof(o->listen), "%s", SY_HTTP_DEFAULT);
}

int
sy_http_parse_addr(const char *s, void *sa, unsigned *salen)
{
	char host[64];
	const char *colon, *hs = s;
	unsigned long port;
	size_t n;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return KZ_EINVAL;
		hs = s + 1;
		n = (size_t)(end - hs);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return KZ_EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(host) ||
	    kz_opt_ulong(colon + 1, 1, 65535, &port))
		return KZ_EINVAL;
	memcpy(host, hs, n);
	host[n] = '\0';
	if (s[0] != '[') {
		struct sockaddr_in *a = sa;
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return KZ_EINVAL;
		*salen = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = sa;
		memset(a, 0, sizeof(*a));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return KZ_EINVAL;
		*salen = sizeof(*a);
	}
	return 0;
}

static int
set_http(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct sy_http_opts *o = ctx;
	struct sockaddr_in6 sa;
	unsigned len;

	if (strcmp(arg, "off") == 0 || *arg == '\0') {
		o->listen[0] = '\0';
		return KZ_OK;
	}
	if (strlen(arg) >= sizeof(o->listen) ||
	    sy_http_parse_addr(arg, &sa, &len)) {
		snprintf(err, errsz, "expected ADDR:PORT or [ADDR]:PORT with a "
		    "numeric address, or off");
		return KZ_EINVAL;
	}
	snprintf(o->listen, sizeof(o->listen), "%s", arg);
	return KZ_OK;
}

const struct kz_opt sy_http_opt_table[] = {
	{ "http", "ADDR:PORT", SY_HTTP_DEFAULT, NULL, false, set_http,
	  "Serve /healthz, /readyz and /metrics here; off disables it." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, const char *type,
    const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct sy_http *h = cls;
	static const char text[] = "text/plain; charset=utf-8";

	(void)version, (void)upload, (void)con_cls;
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, text, "method not allowed\n", 19);
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0)
		return reply(c, 200, text, "ok\n", 3);
	if (strcmp(url, "/readyz") == 0)
		return h->ready ? reply(c, 200, text, "ok\n", 3) :
		    reply(c, 503, text, "not ready: zones not published yet\n",
		    35);
	if (strcmp(url, "/metrics") == 0) {
		if (h->scrape)
			h->scrape(h->ctx);
		kz_buf_reset(&h->out);
		if (sy_metrics_write(h->metrics, &h->out))
			return reply(c, 500, text, "metrics too large\n", 18);
		return reply(c, 200, SY_METRICS_CONTENT_TYPE,
		    h->out.data ? h->out.data : "", h->out.len);
	}
	return reply(c, 404, text, "not found\n", 10);
}

static void
conn_unlink(struct sy_http *h, struct conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		h->oldest = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		h->newest = k->prev;
	if (!k->evicted)
		h->kept--;
}

/*
 * Close the oldest connection not yet closing. shutdown() rather than
 * close(): the descriptor stays libmicrohttpd's, which reads the end of
 * the stream (or fails to write) in its next MHD_run() and closes the
 * connection the usual way.
 */
static void
evict_oldest(struct sy_http *h)
{
	for (struct conn *k = h->oldest; k; k = k->next) {
		if (k->evicted)
			continue;
		(void)shutdown(k->fd, SHUT_RDWR);
		k->evicted = true;
		h->kept--;
		return;
	}
}

static void
notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct sy_http *h = cls;
	const union MHD_ConnectionInfo *info;
	struct conn *k;

	h->churn++;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((k = *socket_context) != NULL) {
			conn_unlink(h, k);
			free(k);
			*socket_context = NULL;
		}
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info == NULL || (k = calloc(1, sizeof(*k))) == NULL)
		return;		/* untracked: it closes on its own */
	k->fd = info->connect_fd;
	k->prev = h->newest;
	if (h->newest)
		h->newest->next = k;
	else
		h->oldest = k;
	h->newest = k;
	*socket_context = k;
	if (++h->kept > HTTP_CONN_KEEP)
		evict_oldest(h);
}

int
sy_http_start(struct sy_http **out, const struct sy_http_opts *o,
    struct sy_metrics *metrics, sy_http_scrape_fn scrape, void *ctx,
    char *err, size_t errsz)
{
	struct sockaddr_in6 sa;
	const union MHD_DaemonInfo *info;
	struct sy_http *h;
	unsigned salen;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	*out = NULL;
	if (o->listen[0] == '\0')
		return 0;
	if (sy_http_parse_addr(o->listen, &sa, &salen)) {
		snprintf(err, errsz, "--http %s: not ADDR:PORT", o->listen);
		return KZ_EINVAL;
	}
	if (((struct sockaddr *)&sa)->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return KZ_ENOMEM;
	h->metrics = metrics;
	h->scrape = scrape;
	h->ctx = ctx;
	h->fd = -1;
	kz_buf_init(&h->out, METRICS_MAX);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_MAX,
	    MHD_OPTION_NOTIFY_CONNECTION, notify, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		int e = errno ? errno : EADDRINUSE;
		snprintf(err, errsz, "--http %s: cannot listen: %s", o->listen,
		    strerror(e));
		sy_http_free(h);
		return -e;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->fd = info ? info->epoll_fd : -1;
	if (h->fd < 0) {
		snprintf(err, errsz, "--http: no epoll descriptor");
		sy_http_free(h);
		return KZ_EINVAL;
	}
	kz_info("HTTP endpoint listening", "addr=%s paths=/healthz,/readyz,"
	    "/metrics", o->listen);
	*out = h;
	return 0;
}

void
sy_http_free(struct sy_http *h)
{
	if (h == NULL)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	/* Normally all gone already, with their CLOSED notices. */
	for (struct conn *k = h->oldest, *next; k; k = next) {
		next = k->next;
		free(k);
	}
	kz_buf_free(&h->out);
	free(h);
}

int
sy_http_fd(const struct sy_http *h)
{
	return h ? h->fd : -1;
}

long
sy_http_timeout_ms(struct sy_http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (h == NULL)
		return -1;
	/*
	 * MHD watches its sockets edge-triggered: at the connection limit
	 * or after a burst of connections it can hold pending work (a
	 * backlog to accept, idle clients to time out) with no event on
	 * its epoll descriptor and no timeout to report. Run it at least
	 * once a second so such work is never left waiting.
	 */
	if (MHD_get_timeout(h->d, &t) != MHD_YES || t > HTTP_RUN_MAX_MS)
		return HTTP_RUN_MAX_MS;
	return (long)t;
}

void
sy_http_run(struct sy_http *h)
{
	if (h == NULL)
		return;
	/*
	 * At the connection limit MHD takes its listening socket out of
	 * its epoll set; it puts it back at the start of the MHD_run()
	 * after the one that closed a connection. Nothing would call that
	 * one when the last connections have just gone: the socket stayed
	 * out and the endpoint never accepted again. So run at least twice,
	 * and again while connections come and go (an evicted connection
	 * closes in the run after the one that accepted its successor),
	 * up to HTTP_RUN_ROUNDS times.
	 */
	for (int i = 0; i < HTTP_RUN_ROUNDS; i++) {
		h->churn = 0;
		MHD_run(h->d);
		if (i > 0 && h->churn == 0)
			break;
	}
}

void
sy_http_set_ready(struct sy_http *h, bool ready)
{
	if (h)
		h->ready = ready;
}
