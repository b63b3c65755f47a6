/*
 * tests/unit/test_metrics.c -- syncer/metrics: registry, labels,
 * histograms and the Prometheus text format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "syncer/metrics.h"

static void
test_counter_labels(void **state)
{
	struct sy_metrics *r = sy_metrics_new();
	struct sy_metric *ev, *ev2;
	struct kz_buf out;

	(void)state;
	kz_buf_init(&out, 1 << 20);
	ev = sy_metrics_counter(r, "kubezone_watch_events_total",
	    "Watch events received.", "resource,type");
	assert_non_null(ev);
	ev2 = sy_metrics_counter(r, "kubezone_watch_events_total", "x", NULL);
	assert_ptr_equal(ev, ev2);	/* same name, same type */
	assert_null(sy_metrics_gauge(r, "kubezone_watch_events_total", "", NULL));
	assert_null(sy_metrics_gauge(r, "bad name", "", NULL));
	assert_null(sy_metrics_gauge(r, "ok", "", "a,b,c,d"));

	sy_metric_add(ev, 1, (const char *[]){ "services", "ADDED" });
	sy_metric_add(ev, 2, (const char *[]){ "services", "ADDED" });
	sy_metric_add(ev, 1, (const char *[]){ "pods", "DELETED" });
	sy_metric_add(NULL, 1, NULL);	/* ignored */
	assert_true(sy_metric_value(ev, (const char *[]){ "services",
	    "ADDED" }) == 3);
	assert_true(sy_metric_value(ev, (const char *[]){ "x", "y" }) == 0);

	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_string_equal(out.data,
	    "# HELP kubezone_watch_events_total Watch events received.\n"
	    "# TYPE kubezone_watch_events_total counter\n"
	    "kubezone_watch_events_total{resource=\"services\",type=\"ADDED\"} 3\n"
	    "kubezone_watch_events_total{resource=\"pods\",type=\"DELETED\"} 1\n");
	kz_buf_free(&out);
	sy_metrics_free(r);
}

/* Two scopes share a family, each with its own cluster= series; a
 * scope's clear drops its own series only. */
static void
test_scopes(void **state)
{
	struct sy_metrics *r = sy_metrics_new();
	struct sy_metrics *eu = sy_metrics_scope(r, "cluster", "prod-eu");
	struct sy_metrics *us = sy_metrics_scope(r, "cluster", "prod-us");
	struct sy_metric *a, *b, *ga, *gb, *h;
	struct kz_buf out;

	(void)state;
	assert_null(sy_metrics_scope(eu, "cluster", "x"));
	assert_null(sy_metrics_scope(r, "bad label", "x"));
	kz_buf_init(&out, 1 << 20);
	a = sy_metrics_counter(eu, "kubezone_relists_total", "Relists.",
	    "resource,reason");
	b = sy_metrics_counter(us, "kubezone_relists_total", "Relists.",
	    "resource,reason");
	assert_ptr_equal(sy_metrics_counter(eu, "kubezone_relists_total", "",
	    "resource,reason"), a);
	ga = sy_metrics_gauge(eu, "kubezone_api_down_seconds", "Down.", NULL);
	gb = sy_metrics_gauge(us, "kubezone_api_down_seconds", "Down.", NULL);
	h = sy_metrics_histogram(us, "kubezone_x_seconds", "X.", NULL, NULL, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(h);
	sy_metric_add(a, 1, (const char *[]){ "services", "gone" });
	sy_metric_add(b, 2, (const char *[]){ "services", "gone" });
	sy_metric_add(a, 1, (const char *[]){ "services", "gone" });
	sy_metric_set(ga, 0, NULL);
	sy_metric_set(gb, 12.5, NULL);
	sy_metric_observe(h, 0.002, NULL);
	assert_true(sy_metric_value(a, (const char *[]){ "services",
	    "gone" }) == 2);
	assert_true(sy_metric_value(gb, NULL) == 12.5);
	assert_int_equal(sy_metric_count(h, NULL), 1);
	sy_metric_clear(ga);
	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_non_null(strstr(out.data, "# TYPE kubezone_relists_total counter\n"
	    "kubezone_relists_total{cluster=\"prod-eu\",resource=\"services\","
	    "reason=\"gone\"} 2\n"
	    "kubezone_relists_total{cluster=\"prod-us\",resource=\"services\","
	    "reason=\"gone\"} 2\n"));
	assert_non_null(strstr(out.data, "# TYPE kubezone_api_down_seconds gauge\n"
	    "kubezone_api_down_seconds{cluster=\"prod-us\"} 12.5\n"));
	assert_null(strstr(out.data, "kubezone_api_down_seconds{cluster=\"prod-eu\"}"));
	assert_non_null(strstr(out.data,
	    "kubezone_x_seconds_count{cluster=\"prod-us\"} 1\n"));
	kz_buf_free(&out);
	sy_metrics_free(eu);
	sy_metrics_free(us);
	sy_metrics_free(r);
}

static void
test_gauge_escape_clear(void **state)
{
	struct sy_metrics *r = sy_metrics_new();
	struct sy_metric *g, *u;
	struct kz_buf out;

	(void)state;
	kz_buf_init(&out, 1 << 20);
	u = sy_metrics_gauge(r, "up_ts", "Line one\nand \\ two.", NULL);
	g = sy_metrics_gauge(r, "serial", "Serial.", "zone");
	sy_metric_set(g, 5, (const char *[]){ "a\"b\\c\nd" });
	sy_metric_set(g, 2026112201, (const char *[]){ "cluster.local" });
	sy_metric_set(u, 1.5, NULL);
	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_string_equal(out.data,
	    "# HELP up_ts Line one\\nand \\\\ two.\n"
	    "# TYPE up_ts gauge\n"
	    "up_ts 1.5\n"
	    "# HELP serial Serial.\n"
	    "# TYPE serial gauge\n"
	    "serial{zone=\"a\\\"b\\\\c\\nd\"} 5\n"
	    "serial{zone=\"cluster.local\"} 2026112201\n");
	sy_metric_clear(g);
	kz_buf_reset(&out);
	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_null(strstr(out.data, "serial{"));
	kz_buf_free(&out);
	sy_metrics_free(r);
}

static void
test_histogram(void **state)
{
	static const double b[] = { 0.1, 1, 10 };
	struct sy_metrics *r = sy_metrics_new();
	struct sy_metric *h, *d;
	struct kz_buf out;

	(void)state;
	kz_buf_init(&out, 1 << 20);
	h = sy_metrics_histogram(r, "render_seconds", "Render time.", NULL, b, 3);
	assert_non_null(h);
	assert_null(sy_metrics_histogram(r, "bad", "", NULL,
	    (const double[]){ 2, 1 }, 2));	/* not ascending */
	sy_metric_observe(h, 0.05, NULL);
	sy_metric_observe(h, 0.5, NULL);
	sy_metric_observe(h, 0.7, NULL);
	sy_metric_observe(h, 100, NULL);
	sy_metric_add(h, 1, NULL);	/* wrong type: ignored */
	assert_int_equal(sy_metric_count(h, NULL), 4);
	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_string_equal(out.data,
	    "# HELP render_seconds Render time.\n"
	    "# TYPE render_seconds histogram\n"
	    "render_seconds_bucket{le=\"0.1\"} 1\n"
	    "render_seconds_bucket{le=\"1\"} 3\n"
	    "render_seconds_bucket{le=\"10\"} 3\n"
	    "render_seconds_bucket{le=\"+Inf\"} 4\n"
	    "render_seconds_sum 101.25\n"
	    "render_seconds_count 4\n");
	/* labelled, default buckets */
	d = sy_metrics_histogram(r, "pub_seconds", "P.", "zone", NULL, 0);
	sy_metric_observe(d, 0.003, (const char *[]){ "z" });
	kz_buf_reset(&out);
	assert_int_equal(sy_metrics_write(r, &out), 0);
	assert_non_null(strstr(out.data,
	    "pub_seconds_bucket{zone=\"z\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(out.data, "pub_seconds_count{zone=\"z\"} 1\n"));
	kz_buf_free(&out);
	sy_metrics_free(r);
	sy_metrics_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_labels),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_gauge_escape_clear),
		cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
