/*
 * tests/unit/test_serial.c -- nsd-conf/serial: RFC 1982, reservations,
 * crashes, learning, the old state file, zone file serials.
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

#include "common/err.h"
#include "nsd-conf/serial.h"

#define CLOCK 1700000000u

struct dir {
	char path[128];
	char state[256];	/* serial.state */
	char crash[256];	/* a copy of it, as a crash would leave it */
	char legacy[256];	/* publish.state */
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/kz-test-serial-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	snprintf(d->state, sizeof(d->state), "%s/serial.state", d->path);
	snprintf(d->crash, sizeof(d->crash), "%s/crash.state", d->path);
	snprintf(d->legacy, sizeof(d->legacy), "%s/publish.state", d->path);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Copy FROM to TO; a missing FROM removes TO. */
static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "r"), *out;

	unlink(to);
	if (in == NULL)
		return;
	out = fopen(to, "w");
	assert_non_null(out);
	n = fread(buf, 1, sizeof(buf), in);
	assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void
test_sn_cmp(void **state)
{
	(void)state;
	assert_int_equal(nc_sn_cmp(1, 1), 0);
	assert_int_equal(nc_sn_cmp(1, 2), -1);
	assert_int_equal(nc_sn_cmp(2, 1), 1);
	assert_int_equal(nc_sn_cmp(0xFFFFFFFFu, 0), -1);
	assert_int_equal(nc_sn_cmp(0, 0xFFFFFFFFu), 1);
	assert_int_equal(nc_sn_cmp(0x7FFFFFFFu, 0), 1);
	assert_int_equal(nc_sn_cmp(0x80000001u, 0), -1);
	/* Exactly 2^31 apart: undefined, both ways. */
	assert_int_equal(nc_sn_cmp(0x80000000u, 0), 0);
	assert_int_equal(nc_sn_cmp(0, 0x80000000u), 0);
	assert_int_equal(nc_sn_cmp(5, 0x80000005u), 0);
	assert_int_equal(nc_sn_max(1, 2), 2);
	assert_int_equal(nc_sn_max(0xFFFFFFF0u, 3), 3);
	assert_int_equal(nc_sn_max(3, 0xFFFFFFF0u), 3);
	assert_int_equal(nc_sn_max(7, 0x80000007u), 7);
}

/* A fresh start begins at the clock, then counts up by one. */
static void
test_fresh_start_at_clock(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256];
	uint32_t v, last;

	assert_int_equal(nc_serial_open(&s, d->state, d->legacy, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(s.block, NC_SERIAL_BLOCK);
	assert_false(nc_serial_wants_save(&s));
	assert_int_equal(nc_serial_last(&s, "cluster.local", &last),
	    KZ_ENOTFOUND);
	assert_int_equal(nc_serial_issue(&s, "cluster.local.", CLOCK, &v), 0);
	assert_int_equal(v, CLOCK);
	/* The first serial had to be reserved on disk at once. */
	assert_int_equal(s.sync_saves, 1);
	assert_int_equal(access(d->state, F_OK), 0);
	/* Names are compared without the final dot and case. */
	assert_int_equal(nc_serial_issue(&s, "Cluster.Local", CLOCK + 100, &v),
	    0);
	assert_int_equal(v, CLOCK + 1);
	assert_int_equal(nc_serial_last(&s, "cluster.local", &last), 0);
	assert_int_equal(last, CLOCK + 1);
	assert_int_equal(s.nzones, 1);
	assert_int_equal(s.sync_saves, 1);
	assert_false(nc_serial_wants_save(&s));
	assert_int_equal(nc_serial_issue(&s, "bad zone", CLOCK, &v), KZ_ENAME);
	assert_int_equal(nc_serial_issue(&s, "", CLOCK, &v), KZ_ENAME);
	nc_serial_free(&s);
}

/* Reserved, the block used by more than a half: a save is wanted. */
static void
test_wants_save_threshold(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256];
	uint32_t v;

	assert_int_equal(nc_serial_open(&s, d->state, NULL, 8, err,
	    sizeof(err)), 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(nc_serial_issue(&s, "z", 100, &v), 0);
		assert_int_equal(v, 100 + i);
		/* After 4 of 8 half the block is left; after 5, less. */
		assert_int_equal(nc_serial_wants_save(&s), i == 4);
	}
	assert_int_equal(nc_serial_save(&s), 0);
	assert_false(nc_serial_wants_save(&s));
	assert_int_equal(s.zones[0].reserved, 105 + 7);
	assert_int_equal(s.sync_saves, 1);
	/* Learning past the reservation: a save is wanted at once. */
	assert_int_equal(nc_serial_learn(&s, "z", 500), 0);
	assert_true(nc_serial_wants_save(&s));
	nc_serial_free(&s);
	assert_int_equal(nc_serial_open(&s, d->state, NULL, 1, err,
	    sizeof(err)), KZ_EINVAL);
	nc_serial_free(&s);
}

/* Open a store from what a crash left on disk (a copy of the file). */
static void
after_crash(const struct dir *d, const char *const *zones, size_t nzones,
    const uint32_t *max, const bool *any)
{
	struct nc_serials c;
	char err[256];
	uint32_t v;

	copy_file(d->state, d->crash);
	assert_int_equal(nc_serial_open(&c, d->crash, NULL, 8, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < nzones; i++) {
		/* A clock far behind must not matter. */
		assert_int_equal(nc_serial_issue(&c, zones[i], 1, &v), 0);
		if (any[i])
			assert_int_equal(nc_sn_cmp(v, max[i]), 1);
	}
	nc_serial_free(&c);
}

/*
 * Hand out serials for two zones and "crash" after every step: each
 * next, each voluntary save. The store reopened from the file must go
 * above every serial handed out. SAVE_EVERY: the caller saves when the
 * store wants it every SAVE_EVERY serials (0: never).
 */
static void
crash_run(const struct dir *d, unsigned save_every, uint32_t start)
{
	static const char *const zones[] = { "cluster.local",
		"10.in-addr.arpa" };
	uint32_t max[2] = { 0, 0 }, v;
	bool any[2] = { false, false };
	struct nc_serials s;
	char err[256];

	unlink(d->state);
	assert_int_equal(nc_serial_open(&s, d->state, NULL, 8, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_learn(&s, zones[0], start), 0);
	after_crash(d, zones, 2, max, any);
	for (unsigned i = 0; i < 200; i++) {
		size_t z = (i % 3 == 0) ? 1 : 0;

		assert_int_equal(nc_serial_issue(&s, zones[z], CLOCK, &v), 0);
		if (any[z])
			assert_int_equal(nc_sn_cmp(v, max[z]), 1);
		max[z] = v;
		any[z] = true;
		after_crash(d, zones, 2, max, any);
		if (save_every && i % save_every == 0 &&
		    nc_serial_wants_save(&s)) {
			assert_int_equal(nc_serial_save(&s), 0);
			after_crash(d, zones, 2, max, any);
		}
	}
	/* Voluntary saves in time keep the writes off the latency path. */
	if (save_every == 1)
		assert_int_equal(s.sync_saves, 1);
	else if (save_every == 0)
		assert_true(s.sync_saves >= 200 / 8 / 2);
	nc_serial_free(&s);
}

static void
test_crash_at_every_point(void **state)
{
	struct dir *d = *state;
	char tmp[300];

	crash_run(d, 0, CLOCK);
	crash_run(d, 1, CLOCK);
	crash_run(d, 3, CLOCK);
	/* Across the wrap. */
	crash_run(d, 0, 0xFFFFFF80u);
	crash_run(d, 1, 0xFFFFFFF0u);
	/* A crash inside kz_file_write_atomic leaves a temp file: ignored. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state);
	write_file(tmp, "cluster.local. 1\ngarbage");
	crash_run(d, 3, CLOCK);
	unlink(tmp);
}

static void
test_wraparound(void **state)
{
	struct dir *d = *state;
	const uint32_t want[] = { 0xFFFFFFFEu, 0xFFFFFFFFu, 0, 1, 2 };
	struct nc_serials s;
	char err[256];
	uint32_t v;

	assert_int_equal(nc_serial_open(&s, d->state, NULL, 4, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_learn(&s, "z", 0xFFFFFFFDu), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(nc_serial_issue(&s, "z", CLOCK, &v), 0);
		assert_int_equal(v, want[i]);
	}
	nc_serial_free(&s);
	/* Reopened: above 2, though numerically below the learned one. */
	assert_int_equal(nc_serial_open(&s, d->state, NULL, 4, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_issue(&s, "z", CLOCK, &v), 0);
	assert_int_equal(nc_sn_cmp(v, 2), 1);
	assert_true(v < 16);
	nc_serial_free(&s);
}

/* Serials that ran ahead of the clock continue, also after a restart. */
static void
test_learn_ahead_of_clock(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256];
	uint32_t v;

	assert_int_equal(nc_serial_open(&s, d->state, NULL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_learn(&s, "cluster.local", CLOCK + 500),
	    0);
	/* A lower one (a lagging secondary) changes nothing. */
	assert_int_equal(nc_serial_learn(&s, "cluster.local", CLOCK + 3), 0);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK, &v), 0);
	assert_int_equal(v, CLOCK + 501);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK, &v), 0);
	assert_int_equal(v, CLOCK + 502);
	/* Learned in the middle of a run (a secondary ahead): jumps. */
	assert_int_equal(nc_serial_learn(&s, "cluster.local", CLOCK + 900),
	    0);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK, &v), 0);
	assert_int_equal(v, CLOCK + 901);
	assert_int_equal(nc_serial_learn(&s, "cluster.local", CLOCK + 901),
	    0);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK, &v), 0);
	assert_int_equal(v, CLOCK + 902);
	nc_serial_free(&s);
}

/* The state directory is lost; a secondary still has a later serial. */
static void
test_lost_state_secondary_ahead(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256];
	uint32_t v, seen = 0;

	assert_int_equal(nc_serial_open(&s, d->state, NULL, 0, err,
	    sizeof(err)), 0);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK,
		    &seen), 0);
	nc_serial_free(&s);
	unlink(d->state);

	/* The clock alone would go back; the secondary's serial does not. */
	assert_int_equal(nc_serial_open(&s, d->state, NULL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_learn(&s, "cluster.local", seen), 0);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", CLOCK + 10, &v),
	    0);
	assert_int_equal(v, seen + 1);
	nc_serial_free(&s);
}

/* publish.state from before the feed: its serials are continued. */
static void
test_legacy_publish_state(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256];
	uint32_t v;

	write_file(d->legacy, "# kubezone publish state v1\n"
	    "# origin serial hash file\n"
	    "cluster.local. 1700000123 00000000deadbeef cluster.local.zone\n"
	    "damaged line\n"
	    "10.in-addr.arpa. 99999999999 0 10.in-addr.arpa.zone\n"
	    "96.10.in-addr.arpa. 42 0000000000000001 96.10.in-addr.arpa.zone"
	    "\n");
	assert_int_equal(nc_serial_open(&s, d->state, d->legacy, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(s.nzones, 2);
	assert_true(nc_serial_wants_save(&s));
	assert_int_equal(nc_serial_save(&s), 0);
	assert_false(nc_serial_wants_save(&s));
	assert_int_equal(nc_serial_issue(&s, "cluster.local", 5, &v), 0);
	assert_int_equal(v, 1700000124);
	assert_int_equal(nc_serial_issue(&s, "96.10.in-addr.arpa", CLOCK, &v),
	    0);
	assert_int_equal(v, 43);
	assert_int_equal(s.sync_saves, 0);
	nc_serial_free(&s);

	/* serial.state and publish.state together: the higher wins. */
	write_file(d->state, NC_SERIAL_MAGIC "\ncluster.local. 1700000100\n"
	    "96.10.in-addr.arpa. 5000\nx\n");
	assert_int_equal(nc_serial_open(&s, d->state, d->legacy, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_serial_issue(&s, "cluster.local", 5, &v), 0);
	assert_int_equal(v, 1700000124);
	assert_int_equal(nc_serial_issue(&s, "96.10.in-addr.arpa", 5, &v), 0);
	assert_int_equal(v, 5001);
	nc_serial_free(&s);
}

/* A state file that exists but cannot be read is an error. */
static void
test_unreadable_state(void **state)
{
	struct dir *d = *state;
	struct nc_serials s;
	char err[256], path[300];
	uint32_t v;

	assert_int_equal(mkdir(d->state, 0700), 0);
	assert_int_not_equal(nc_serial_open(&s, d->state, NULL, 0, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "serial.state"));
	nc_serial_free(&s);
	rmdir(d->state);
	/* A reservation that cannot be written hands nothing out. */
	snprintf(path, sizeof(path), "%s/missing/serial.state", d->path);
	assert_int_equal(nc_serial_open(&s, path, NULL, 0, err, sizeof(err)),
	    0);
	v = 7;
	assert_int_equal(nc_serial_issue(&s, "z", CLOCK, &v), -ENOENT);
	assert_int_equal(v, 7);
	assert_int_equal(nc_serial_last(&s, "z", &v), KZ_ENOTFOUND);
	nc_serial_free(&s);
}

/* --- zone files --------------------------------------------------------- */

static void
test_zonefile_serial(void **state)
{
	struct dir *d = *state;
	char path[300], err[256];
	uint32_t v = 0;

	snprintf(path, sizeof(path), "%s/cluster.local.zone", d->path);
	/* As NSD writes it, and more: comments, $TTL, $ORIGIN, a multi-line
	 * SOA. The line after the SOA is garbage: it must not be read. */
	write_file(path, "; zone cluster.local written by NSD 4.6.1 on "
	    "Thu Dec  3 09:00:00 2026\n"
	    "\n"
	    "$TTL 30   ; default\n"
	    "$ORIGIN cluster.local.\n"
	    "@ IN SOA ns.dns ( hostmaster.cluster.local. ; the admin\n"
	    "    1700000777 ; serial\n"
	    "    7200 1800 86400 30 )\n"
	    "this is not a record at all (\n"
	    "ns.dns 30 IN A 10.96.0.10\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 1700000777);
	assert_int_equal(nc_zonefile_serial(path, "CLUSTER.LOCAL.", &v, err,
	    sizeof(err)), 0);

	/* Exactly as NSD 4.6.1 wrote it back after a transfer. */
	write_file(path, "; zone cluster.local written by NSD 4.6.1 on Thu "
	    "Dec  3 09:04:46 2026\n"
	    "; received update to serial 200 at 2026-12-03T09:04:42 from "
	    "127.0.0.1@57467 TSIG verified with key kubezone-feed\n"
	    "$ORIGIN local.\n"
	    "cluster\t30\tIN\tSOA\tns.dns.cluster.local. "
	    "hostmaster.cluster.local. (\n"
	    "\t\t200 7200 1800 86400 30 )\n"
	    "\t30\tIN\tNS\tns.dns.cluster.local.\n"
	    "$ORIGIN dns.cluster.local.\n"
	    "ns\t30\tIN\tA\t10.96.0.10\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 200);

	/* Absolute owner, no directives. */
	write_file(path, "cluster.local.\t30\tIN\tSOA\tns.dns.cluster.local. "
	    "hostmaster.cluster.local. 4294967295 7200 1800 86400 30\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 4294967295u);

	/* The SOA of another zone. */
	assert_int_equal(nc_zonefile_serial(path, "example.org", &v, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "apex"));

	/* Not an SOA first. */
	write_file(path, "$ORIGIN cluster.local.\n"
	    "ns.dns 30 IN A 10.96.0.10\n"
	    "@ 30 IN SOA ns hm 1 2 3 4 5\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "not an SOA"));

	/* Garbage. */
	write_file(path, "; comment\n\x01\x02 garbage ((( \"\n\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "line"));

	/* Empty: only comments. */
	write_file(path, "; nothing\n\n");
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "no record"));

	/* Missing. */
	unlink(path);
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cluster.local.zone"));
	assert_int_equal(nc_zonefile_serial(path, "bad zone", &v, err,
	    sizeof(err)), KZ_ENAME);
}

/* Only the SOA is read: a big file costs nothing more. */
static void
test_zonefile_serial_big(void **state)
{
	struct dir *d = *state;
	char path[300], err[256];
	uint32_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.zone", d->path);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "$ORIGIN cluster.local.\n$TTL 30\n"
	    "@ SOA ns.dns hostmaster 123456 7200 1800 86400 30\n");
	for (unsigned i = 0; i < 200000; i++)
		fprintf(f, "svc%u.ns%u.svc A 10.%u.%u.%u\n", i, i % 1000,
		    i >> 16 & 255, i >> 8 & 255, i & 255);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(nc_zonefile_serial(path, "cluster.local", &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 123456);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sn_cmp),
		cmocka_unit_test_setup_teardown(test_fresh_start_at_clock,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wants_save_threshold,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_every_point,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_learn_ahead_of_clock,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lost_state_secondary_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_publish_state,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_zonefile_serial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_zonefile_serial_big,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
