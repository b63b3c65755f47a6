/*
 * tests/unit/test_http.c -- syncer/http: the endpoint served from a
 * curl_multi_poll loop on one thread, and address parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/http.h"

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	kz_buf_append(ctx, p, size * n);
	return size * n;
}

/* GET PATH from the server, driving both sides from one poll loop. */
static long
get(struct sy_http *h, const char *port, const char *path, struct kz_buf *b)
{
	CURLM *m = curl_multi_init();
	CURL *e = curl_easy_init();
	char url[128];
	long code = 0;
	int running = 1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%s%s", port, path);
	kz_buf_reset(b);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
	curl_multi_add_handle(m, e);
	while (running) {
		struct curl_waitfd w = { .fd = sy_http_fd(h),
			.events = CURL_WAIT_POLLIN };
		curl_multi_perform(m, &running);
		if (!running)
			break;
		curl_multi_poll(m, &w, 1, 100, NULL);
		sy_http_run(h);
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(m, e);
	curl_easy_cleanup(e);
	curl_multi_cleanup(m);
	return code;
}

static int scrapes;

static void
scrape(void *ctx)
{
	sy_metric_set(ctx, ++scrapes, NULL);
}

static void
test_endpoint(void **state)
{
	struct sy_metrics *r = sy_metrics_new();
	struct sy_metric *g = sy_metrics_gauge(r, "kubezone_test", "T.", NULL);
	struct sy_http_opts o;
	struct sy_http *h = NULL;
	struct kz_buf b;
	char err[256], port[16];
	int rc = -1;

	(void)state;
	kz_log_set_level(KZ_LOG_OFF);
	kz_buf_init(&b, 1 << 20);
	/* a free port: try a few */
	for (int p = 39154; p < 39200 && rc != 0; p++) {
		snprintf(port, sizeof(port), "%d", p);
		snprintf(o.listen, sizeof(o.listen), "127.0.0.1:%d", p);
		rc = sy_http_start(&h, &o, r, scrape, g, err, sizeof(err));
	}
	assert_int_equal(rc, 0);
	assert_true(sy_http_fd(h) >= 0);
	assert_int_equal(get(h, port, "/healthz", &b), 200);
	assert_string_equal(b.data, "ok\n");
	assert_int_equal(get(h, port, "/readyz", &b), 503);
	sy_http_set_ready(h, true);
	assert_int_equal(get(h, port, "/readyz", &b), 200);
	assert_int_equal(get(h, port, "/metrics", &b), 200);
	assert_non_null(strstr(b.data, "# TYPE kubezone_test gauge\n"
	    "kubezone_test 1\n"));
	assert_int_equal(get(h, port, "/nope", &b), 404);
	sy_http_free(h);
	sy_http_free(NULL);

	/* off */
	o.listen[0] = '\0';
	assert_int_equal(sy_http_start(&h, &o, r, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_null(h);
	assert_int_equal(sy_http_fd(h), -1);
	kz_buf_free(&b);
	sy_metrics_free(r);
}

static void
test_addr(void **state)
{
	struct sockaddr_in6 sa;
	unsigned len;

	(void)state;
	assert_int_equal(sy_http_parse_addr("127.0.0.1:9154", &sa, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(sy_http_parse_addr("[::1]:80", &sa, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(sy_http_parse_addr("::1:80", &sa, &len), KZ_EINVAL);
	assert_int_equal(sy_http_parse_addr("localhost:80", &sa, &len),
	    KZ_EINVAL);
	assert_int_equal(sy_http_parse_addr("1.2.3.4:0", &sa, &len), KZ_EINVAL);
	assert_int_equal(sy_http_parse_addr("1.2.3.4", &sa, &len), KZ_EINVAL);
	assert_int_equal(sy_http_parse_addr("[::1]80", &sa, &len), KZ_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
