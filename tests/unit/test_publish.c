/*
 * tests/unit/test_publish.c -- nsd-conf/publish: serials, state, pipeline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "nsd-conf/publish.h"
#include "zonegen/render.h"

/* --- serial arithmetic ------------------------------------------------ */

static void
test_serial_cmp(void **state)
{
	(void)state;
	assert_int_equal(nc_serial_cmp(1, 1), 0);
	assert_int_equal(nc_serial_cmp(1, 2), -1);
	assert_int_equal(nc_serial_cmp(2, 1), 1);
	/* Wrap: 0xffffffff comes before 0 and 5. */
	assert_int_equal(nc_serial_cmp(0xffffffffu, 0), -1);
	assert_int_equal(nc_serial_cmp(0, 0xffffffffu), 1);
	assert_int_equal(nc_serial_cmp(0xfffffff0u, 5), -1);
	/* Just under half the space apart is still ordered. */
	assert_int_equal(nc_serial_cmp(0, 0x7fffffffu), -1);
	assert_int_equal(nc_serial_cmp(0, 0x80000001u), 1);
	/* Exactly 2^31 apart is undefined. */
	assert_int_equal(nc_serial_cmp(0, 0x80000000u), 0);
}

static void
test_serial_next(void **state)
{
	(void)state;
	/* First publication: the clock. */
	assert_int_equal(nc_serial_next(0, false, 1700000000u), 1700000000u);
	/* The clock is ahead: take it. */
	assert_int_equal(nc_serial_next(1700000000u, true, 1700000100u),
	    1700000100u);
	/* Two changes in one second: +1, never the same serial. */
	assert_int_equal(nc_serial_next(1700000100u, true, 1700000100u),
	    1700000101u);
	/* The clock went back: still forward. */
	assert_int_equal(nc_serial_next(1700000100u, true, 1600000000u),
	    1700000101u);
	/* Wrap: after 0xffffffff, 0 and then small numbers are "later". */
	assert_int_equal(nc_serial_next(0xffffffffu, true, 0xfffffff0u), 0u);
	assert_int_equal(nc_serial_next(0xffffffffu, true, 1700000000u),
	    1700000000u);
	assert_int_equal(nc_serial_next(0u, true, 1700000000u), 1700000000u);
	/* Clock more than 2^31 ahead is "behind" in RFC 1982: +1. */
	assert_int_equal(nc_serial_next(10u, true, 0x90000000u), 11u);
	for (uint32_t s = 0xfffffff0u, i = 0; i < 40; i++) {
		uint32_t n = nc_serial_next(s, true, 1700000000u);

		assert_int_equal(nc_serial_cmp(n, s), 1);
		s = n;
	}
}

/* --- a hand-made zone set --------------------------------------------- */

struct fixture {
	char dir[64];
	char zonedir[128];
	char statefile[128];
	struct zg_zone zones[2];
	struct zg_zoneset zs;
};

static void
set_zone(struct zg_zone *z, const char *origin, const char *file,
    const char *body, uint64_t hash)
{
	kz_buf_free(&z->body);
	free(z->origin);
	free(z->file);
	free(z->mname);
	free(z->rname);
	memset(z, 0, sizeof(*z));
	z->origin = strdup(origin);
	z->file = strdup(file);
	z->mname = strdup("ns.dns.cluster.local.");
	z->rname = strdup("hostmaster.cluster.local.");
	z->soa_ttl = 30;
	z->ttl = 30;
	kz_buf_init(&z->body, 1 << 20);
	kz_buf_puts(&z->body, body);
	z->nrecords = 2;
	z->hash = hash;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/kz-test-pub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->zonedir, sizeof(f->zonedir), "%s/zones", f->dir);
	snprintf(f->statefile, sizeof(f->statefile), "%s/publish.state",
	    f->dir);
	assert_int_equal(mkdir(f->zonedir, 0755), 0);
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "@\t30\tIN\tNS\tns.dns.cluster.local.\n"
	    "web.shop.svc\t30\tIN\tA\t10.96.0.20\n", 111);
	set_zone(&f->zones[1], "in-addr.arpa.", "in-addr.arpa.zone",
	    "@\t30\tIN\tNS\tns.dns.cluster.local.\n"
	    "20.0.96.10\t30\tIN\tPTR\tweb.shop.svc.cluster.local.\n", 222);
	f->zs.zones = f->zones;
	f->zs.nzones = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	for (int i = 0; i < 2; i++) {
		kz_buf_free(&f->zones[i].body);
		free(f->zones[i].origin);
		free(f->zones[i].file);
		free(f->zones[i].mname);
		free(f->zones[i].rname);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *
read_zone(const struct fixture *f, const char *file)
{
	char path[256];
	struct kz_buf b;
	FILE *fp;
	int c;

	snprintf(path, sizeof(path), "%s/%s", f->zonedir, file);
	fp = fopen(path, "r");
	if (fp == NULL)
		return NULL;
	kz_buf_init(&b, 1 << 20);
	while ((c = fgetc(fp)) != EOF)
		kz_buf_putc(&b, (char)c);
	fclose(fp);
	return kz_buf_steal(&b, NULL);
}

static ino_t
inode_of(const struct fixture *f, const char *file)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->zonedir, file);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

struct reloads {
	int n;
	char last[256];
};

static int
count_reload(void *ctx, const char *origin)
{
	struct reloads *r = ctx;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", origin);
	return 0;
}

static void
test_publish_and_unchanged(void **state)
{
	struct fixture *f = *state;
	struct nc_publisher p;
	struct nc_pub_result res;
	struct reloads r = { 0 };
	const struct nc_pub_zone *z;
	ino_t ino;
	char *text;

	assert_int_equal(nc_pub_init(&p, f->zonedir, f->statefile), 0);
	p.reload = count_reload;
	p.reload_ctx = &r;
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000000u, &res), 0);
	assert_int_equal(res.changed, 2);
	assert_int_equal(res.reloaded, 2);
	assert_int_equal(r.n, 2);
	text = read_zone(f, "cluster.local.zone");
	assert_non_null(text);
	assert_non_null(strstr(text, "$ORIGIN cluster.local.\n"));
	assert_non_null(strstr(text, " 1700000000 "));
	assert_non_null(strstr(text, "web.shop.svc\t30\tIN\tA\t10.96.0.20\n"));
	free(text);
	ino = inode_of(f, "cluster.local.zone");

	/* Same hashes: nothing written, nothing reloaded. */
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000500u, &res), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(r.n, 2);
	assert_int_equal(inode_of(f, "cluster.local.zone"), ino);
	z = nc_pub_find(&p, "cluster.local");
	assert_non_null(z);
	assert_int_equal(z->serial, 1700000000u);

	/* One zone changes in the same second as its last serial: +1,
	 * and only that zone is reloaded. */
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "@\t30\tIN\tNS\tns.dns.cluster.local.\n"
	    "web.shop.svc\t30\tIN\tA\t10.96.0.21\n", 112);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000000u, &res), 0);
	assert_int_equal(res.changed, 1);
	assert_int_equal(res.unchanged, 1);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.last, "cluster.local.");
	assert_int_equal(nc_pub_find(&p, "cluster.local.")->serial,
	    1700000001u);
	assert_int_equal(nc_pub_find(&p, "in-addr.arpa")->serial, 1700000000u);
	assert_int_not_equal(inode_of(f, "cluster.local.zone"), ino);
	nc_pub_free(&p);
}

static void
test_state_round_trip(void **state)
{
	struct fixture *f = *state;
	struct nc_publisher p, q;
	struct nc_pub_result res;
	FILE *fp;

	assert_int_equal(nc_pub_init(&p, f->zonedir, f->statefile), 0);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 0xfffffffeu, &res), 0);
	nc_pub_free(&p);

	/* A restart reads serials and hashes back. */
	assert_int_equal(nc_pub_init(&q, f->zonedir, f->statefile), 0);
	assert_int_equal(q.nzones, 2);
	assert_int_equal(nc_pub_find(&q, "cluster.local")->serial,
	    0xfffffffeu);
	assert_int_equal(nc_pub_find(&q, "cluster.local")->hash, 111);
	assert_true(nc_pub_find(&q, "in-addr.arpa.")->installed);
	/* Unchanged after the restart: nothing to do. */
	assert_int_equal(nc_pub_publish(&q, &f->zs, 5u, &res), 0);
	assert_int_equal(res.unchanged, 2);
	/* Changed with a clock behind in serial order: +1, then wraps. */
	f->zones[0].hash = 999;
	assert_int_equal(nc_pub_publish(&q, &f->zs, 0xfffffff0u, &res), 0);
	assert_int_equal(nc_pub_find(&q, "cluster.local")->serial,
	    0xffffffffu);
	f->zones[0].hash = 1000;
	assert_int_equal(nc_pub_publish(&q, &f->zs, 0xfffffff0u, &res), 0);
	assert_int_equal(nc_pub_find(&q, "cluster.local")->serial, 0u);
	/* 5 is after 0: the clock wins again. */
	f->zones[0].hash = 1001;
	assert_int_equal(nc_pub_publish(&q, &f->zs, 5u, &res), 0);
	assert_int_equal(nc_pub_find(&q, "cluster.local")->serial, 5u);
	nc_pub_free(&q);

	/* A damaged line is skipped, the rest is kept. */
	fp = fopen(f->statefile, "a");
	fprintf(fp, "garbage line\n");
	fclose(fp);
	assert_int_equal(nc_pub_init(&q, f->zonedir, f->statefile), 0);
	assert_int_equal(q.nzones, 2);
	nc_pub_free(&q);
}

static void
test_validation_failure_keeps_old(void **state)
{
	struct fixture *f = *state;
	struct nc_publisher p;
	struct nc_pub_result res;
	struct reloads r = { 0 };
	char *before, *after, path[256];

	assert_int_equal(nc_pub_init(&p, f->zonedir, f->statefile), 0);
	p.reload = count_reload;
	p.reload_ctx = &r;
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000000u, &res), 0);
	before = read_zone(f, "cluster.local.zone");

	/* An address NSD would reject: not installed, not reloaded. */
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "@\t30\tIN\tNS\tns.dns.cluster.local.\n"
	    "web.shop.svc\t30\tIN\tA\t10.300.0.20\n", 113);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000100u, &res),
	    KZ_EPARSE);
	assert_int_equal(res.failed, 1);
	assert_int_equal(res.changed, 0);
	assert_int_equal(p.stats.failed, 1);
	assert_int_equal(r.n, 2);
	after = read_zone(f, "cluster.local.zone");
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(nc_pub_find(&p, "cluster.local")->serial, 1700000000u);
	assert_int_equal(nc_pub_find(&p, "cluster.local")->hash, 111);
	snprintf(path, sizeof(path), "%s/cluster.local.zone.rejected",
	    f->zonedir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/.cluster.local.zone.tmp",
	    f->zonedir);
	assert_int_not_equal(access(path, F_OK), 0);

	/* An owner outside the zone, a CNAME beside an A: rejected too. */
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "web.example.org.\t30\tIN\tA\t10.0.0.1\n", 114);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000100u, &res),
	    KZ_EPARSE);
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "x\t30\tIN\tA\t10.0.0.1\nx\t30\tIN\tCNAME\ty\n", 115);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000100u, &res),
	    KZ_EPARSE);
	after = read_zone(f, "cluster.local.zone");
	assert_string_equal(before, after);
	free(after);

	/* A good version afterwards: installed with a higher serial. */
	set_zone(&f->zones[0], "cluster.local.", "cluster.local.zone",
	    "web.shop.svc\t30\tIN\tA\t10.96.0.22\n", 116);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1700000100u, &res), 0);
	assert_int_equal(nc_pub_find(&p, "cluster.local")->serial, 1700000100u);
	assert_int_equal(r.n, 3);
	free(before);
	nc_pub_free(&p);
}

static void
test_validate_file(void **state)
{
	struct fixture *f = *state;
	char path[256], err[256];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/v.zone", f->zonedir);
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\n$TTL 30\n@ SOA ns hm 42 1 1 1 1\n"
	    "@ NS ns\nns A 10.0.0.1\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", true, 42, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(nc_zone_validate(path, "t", true, 43, &n, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "serial"));
	assert_int_equal(nc_zone_validate(path, "other.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);

	/* No SOA first; an empty file. */
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\nns 30 IN A 10.0.0.1\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);
	fp = fopen(path, "w");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);
	/* A label over 63 octets. */
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\n@ 30 IN SOA ns hm 1 1 1 1 1\n"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " 30 IN A 10.0.0.1\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);
	/* Parentheses over lines, a nested $ORIGIN, comments, @. */
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\n$TTL 30\n@ IN SOA ns hm ( 7 ; serial\n"
	    "  1 1 1 1 )\n@ NS ns.t.\n$ORIGIN svc.t.\nweb A 10.0.0.2 ; c\n"
	    "\tA 10.0.0.3\nx.T. TXT \"a ( b\"\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", true, 7, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 5);
	/* $ORIGIN outside the zone makes relative owners outside too. */
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\n@ 30 IN SOA ns hm 1 1 1 1 1\n"
	    "$ORIGIN u.\nweb 30 IN A 10.0.0.1\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "outside"));
	fp = fopen(path, "w");
	fprintf(fp, "$ORIGIN t.\n@ 30 IN SOA ns hm 1 1 1 1 1\n"
	    "$INCLUDE /etc/passwd\n");
	fclose(fp);
	assert_int_equal(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)), KZ_EPARSE);
	snprintf(path, sizeof(path), "%s/missing.zone", f->zonedir);
	assert_true(nc_zone_validate(path, "t.", false, 0, &n, err,
	    sizeof(err)) < 0);
}

/* A zone big enough to be validated in pieces by several processes. */
static void
test_validate_big_file(void **state)
{
	struct fixture *f = *state;
	char path[256], err[256];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/big.zone", f->zonedir);
	for (int bad = 0; bad < 3; bad++) {
		fp = fopen(path, "w");
		fprintf(fp, "$ORIGIN big.\n$TTL 30\n@\t30\tIN\tSOA\tns hm 9 1 "
		    "1 1 1\n");
		for (int i = 0; i < 40000; i++) {
			if (bad == 1 && i == 30000)
				fprintf(fp, "h%06d\t30\tIN\tA\t10.0.300.1\n", i);
			else if (bad == 2 && i == 35000)
				fprintf(fp, "h%06d.other.\t30\tIN\tA\t10.0.0.1\n",
				    i);
			else
				fprintf(fp, "h%06d\t30\tIN\tA\t10.0.%d.%d\n", i,
				    i / 256 % 256, i % 256);
			fprintf(fp, "h%06d\t30\tIN\tTXT\t\"some text to make "
			    "the file bigger\"\n", i);
		}
		fclose(fp);
		n = 0;
		if (bad == 0) {
			assert_int_equal(nc_zone_validate(path, "big.", true, 9,
			    &n, err, sizeof(err)), 0);
			assert_int_equal(n, 80001);
		} else {
			assert_int_equal(nc_zone_validate(path, "big.", true, 9,
			    &n, err, sizeof(err)), KZ_EPARSE);
			/* Line numbers count from the top of the file. */
			assert_non_null(strstr(err, bad == 1 ? "line 60004:" :
			    "line 70004:"));
		}
	}
}

static void
test_unwritable_dir_keeps_old(void **state)
{
	struct fixture *f = *state;
	struct nc_publisher p;
	struct nc_pub_result res;
	char *before, *after;

	if (geteuid() == 0) {
		/* Root ignores directory permissions; a missing directory
		 * fails the same code path. */
		assert_int_equal(nc_pub_init(&p, "/nonexistent/zones",
		    f->statefile), 0);
		assert_true(nc_pub_publish(&p, &f->zs, 1u, &res) < 0);
		assert_int_equal(res.failed, 2);
		nc_pub_free(&p);
		return;
	}
	assert_int_equal(nc_pub_init(&p, f->zonedir, f->statefile), 0);
	assert_int_equal(nc_pub_publish(&p, &f->zs, 1u, &res), 0);
	before = read_zone(f, "cluster.local.zone");
	chmod(f->zonedir, 0555);
	f->zones[0].hash = 5;
	assert_true(nc_pub_publish(&p, &f->zs, 2u, &res) < 0);
	chmod(f->zonedir, 0755);
	after = read_zone(f, "cluster.local.zone");
	assert_string_equal(before, after);
	free(before);
	free(after);
	nc_pub_free(&p);
}

/* Write a zone of N A records with serial SERIAL; record K (when
 * K < N) gets address 10.9.9.9 instead of its own; EXTRA is appended. */
static void
write_numbered_zone(const char *path, const char *ttl, uint32_t serial,
    int n, int k, const char *extra)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "$ORIGIN k.\n$TTL %s\n@\t30\tIN\tSOA\tns.k. hm.k. %u "
	    "7200 1800 86400 30\n@\t30\tIN\tNS\tns.k.\n", ttl, serial);
	for (int i = 0; i < n; i++)
		fprintf(fp, "h%d\t30\tIN\tA\t%s\n", i, i == k ? "10.9.9.9" :
		    "10.0.0.1");
	fputs(extra, fp);
	fclose(fp);
}

static struct nc_known
known_of(const char *path)
{
	struct nc_known k = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = fopen(path, "r"), *mem = open_memstream(&text, &len);
	int ch;

	while ((ch = fgetc(fp)) != EOF)
		fputc(ch, mem);
	fclose(fp);
	fclose(mem);
	assert_int_equal(nc_known_build(&k, text, len, "k."), 0);
	free(text);
	return k;
}

static void
test_validate_only_new_lines(void **state)
{
	struct fixture *f = *state;
	struct nc_known k;
	char path[256], err[256];
	size_t n, parsed;

	snprintf(path, sizeof(path), "%s/k.zone", f->zonedir);
	write_numbered_zone(path, "30", 1, 1000, -1, "");
	assert_int_equal(nc_zone_validate_known(path, "k.", true, 1, NULL, &n,
	    &parsed, err, sizeof(err)), 0);
	assert_int_equal(n, 1002);
	assert_int_equal(parsed, 1002);
	k = known_of(path);
	assert_int_equal(k.n, 1002);	/* every record line, SOA included */

	/* One record changed: only it and the SOA go through ldns. */
	write_numbered_zone(path, "30", 2, 1000, 500, "");
	if (nc_zone_validate_known(path, "k.", true, 2, &k, &n, &parsed, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(n, 1002);
	assert_int_equal(parsed, 2);

	/* A broken new line is still caught. */
	write_numbered_zone(path, "30", 3, 1000, -1, "bad\t30\tIN\tA\t10.0.0.300\n");
	assert_int_equal(nc_zone_validate_known(path, "k.", true, 3, &k, &n,
	    &parsed, err, sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "line 1005"));

	/* Structural checks cover known lines: a CNAME beside them. */
	write_numbered_zone(path, "30", 4, 1000, -1, "h999\t30\tIN\tCNAME\tx.k.\n");
	assert_int_equal(nc_zone_validate_known(path, "k.", true, 4, &k, &n,
	    &parsed, err, sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "CNAME"));

	/* Another $TTL changes the meaning of every line: all parsed. */
	write_numbered_zone(path, "60", 5, 1000, -1, "");
	assert_int_equal(nc_zone_validate_known(path, "k.", true, 5, &k, &n,
	    &parsed, err, sizeof(err)), 0);
	assert_int_equal(parsed, 1002);
	nc_known_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_cmp),
		cmocka_unit_test(test_serial_next),
		cmocka_unit_test_setup_teardown(test_publish_and_unchanged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_validation_failure_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_validate_only_new_lines,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_big_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_dir_keeps_old,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
