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
		cmocka_unit_test(test_gauge_escape_clear),
		cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
