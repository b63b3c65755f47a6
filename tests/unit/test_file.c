/*
 * tests/unit/test_file.c -- common/file: atomic replacement.
 */
#include <dirent.h>
#include <errno.h>
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

#include "common/file.h"

/* Files in DIR (not . and ..). */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void **state)
{
	char dir[] = "/tmp/kz-test-atomic-XXXXXX", path[4200], buf[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(kz_file_write_atomic(path, "one\n", 4, 0600), 0);
	assert_int_equal(kz_file_write_atomic(path, "two\n", 4, 0600), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "two\n");
	assert_int_equal(entries(dir), 1);	/* no temporary file left */
	unlink(path);
	rmdir(dir);
}

/*
 * A symlink planted at the temporary name or at the file itself never
 * receives the text: the file it points to keeps its content and mode,
 * and the new file has the mode asked for, whatever the umask.
 */
static void
test_write_atomic_symlinks(void **state)
{
	char dir[] = "/tmp/kz-test-atomic-XXXXXX", path[4200], link[4300],
	    victim[4200], buf[64];
	struct stat st;
	mode_t old;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	chmod(victim, 0644);
	snprintf(path, sizeof(path), "%s/nsd.conf", dir);
	snprintf(link, sizeof(link), "%s.tmp", path);	/* a guess */
	assert_int_equal(symlink(victim, link), 0);
	old = umask(0);
	assert_int_equal(kz_file_write_atomic(path, "secret: x\n", 10, 0600), 0);
	umask(old);
	f = fopen(victim, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "precious\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A symlink at the target itself is replaced, not followed. */
	unlink(path);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(kz_file_write_atomic(path, "two\n", 4, 0640), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 9);
	assert_int_equal(st.st_mode & 07777, 0644);
	unlink(path);
	unlink(link);
	unlink(victim);
	rmdir(dir);
}

/*
 * A write that cannot complete leaves the old file (or none) and no
 * temporary file behind.
 */
static void
test_write_atomic_failure(void **state)
{
	char dir[] = "/tmp/kz-test-atomic-XXXXXX", path[4200], sub[4300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(kz_file_write_atomic(path, "x\n", 2, 0600), -ENOENT);
	/* A directory where the file should be: the rename fails. */
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/keep", path);
	assert_int_equal(kz_file_write_atomic(sub, "k\n", 2, 0600), 0);
	assert_true(kz_file_write_atomic(path, "x\n", 2, 0600) < 0);
	assert_int_equal(entries(dir), 1);	/* d, and no temp file */
	assert_int_equal(entries(path), 1);	/* d/keep untouched */
	unlink(sub);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_write_atomic_symlinks),
		cmocka_unit_test(test_write_atomic_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
