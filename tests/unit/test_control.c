/*
 * tests/unit/test_control.c -- nsd-conf/control against a fake NSD socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "nsd-conf/control.h"

struct fake {
	char dir[64];
	char path[128];
	char seen[128];		/* where the server stores the request */
	int lfd;
};

/*
 * Serve one connection in a child: store what was sent up to the
 * newline in seen, answer REPLY (NULL: answer nothing and hold the
 * connection open for a while).
 */
static pid_t
serve_once(struct fake *f, const char *reply)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[512];
		size_t n = 0;
		int c = accept(f->lfd, NULL, NULL);
		FILE *out;

		if (c < 0)
			_exit(1);
		while (n < sizeof(buf) - 1) {
			ssize_t r = read(c, buf + n, 1);

			if (r <= 0 || buf[n] == '\n') {
				n += r > 0;
				break;
			}
			n++;
		}
		buf[n] = '\0';
		out = fopen(f->seen, "w");
		fputs(buf, out);
		fclose(out);
		if (reply == NULL) {
			sleep(2);
			_exit(0);
		}
		if (write(c, reply, strlen(reply)) < 0)
			_exit(1);
		close(c);
		_exit(0);
	}
	return pid;
}

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/kz-test-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/nsd.ctl", f->dir);
	snprintf(f->seen, sizeof(f->seen), "%s/seen", f->dir);
	assert_true(strlen(f->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	close(f->lfd);
	unlink(f->path);
	unlink(f->seen);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
read_seen(const struct fake *f, char *out, size_t outsz)
{
	FILE *in = fopen(f->seen, "r");

	assert_non_null(in);
	out[0] = '\0';
	assert_non_null(fgets(out, (int)outsz, in));
	fclose(in);
}

/* A command with an argument, no reply wanted: "ok" is a success. */
static void
test_command_ok(void **state)
{
	struct fake *f = *state;
	char seen[128];
	pid_t pid = serve_once(f, "ok\n");
	int status;

	assert_int_equal(nc_control_cmd(f->path, "reload cluster.local", NULL,
	    2000), 0);
	waitpid(pid, &status, 0);
	read_seen(f, seen, sizeof(seen));
	assert_string_equal(seen, "NSDCT1 reload cluster.local\n");
}

static void
test_status_reply(void **state)
{
	struct fake *f = *state;
	struct kz_buf reply;
	char seen[128];
	pid_t pid = serve_once(f, "version: 4.6.1\nverbosity: 1\n");
	int status;

	kz_buf_init(&reply, 4096);
	assert_int_equal(nc_control_cmd(f->path, "status", &reply, 2000), 0);
	waitpid(pid, &status, 0);
	assert_string_equal(reply.data, "version: 4.6.1\nverbosity: 1\n");
	read_seen(f, seen, sizeof(seen));
	assert_string_equal(seen, "NSDCT1 status\n");
	kz_buf_free(&reply);
}

static void
test_error_reply(void **state)
{
	struct fake *f = *state;
	struct kz_buf reply;
	pid_t pid = serve_once(f, "error zone nope.example not configured\n");
	int status;

	kz_buf_init(&reply, 4096);
	assert_int_equal(nc_control_cmd(f->path, "reload nope.example",
	    &reply, 2000), KZ_EPROTO);
	waitpid(pid, &status, 0);
	assert_non_null(strstr(reply.data, "not configured"));
	kz_buf_free(&reply);
	/* An empty answer is not a success either. */
	pid = serve_once(f, "");
	assert_int_equal(nc_control_cmd(f->path, "reload x", NULL, 2000),
	    KZ_EPROTO);
	waitpid(pid, &status, 0);
}

static void
test_timeout_and_missing(void **state)
{
	struct fake *f = *state;
	pid_t pid = serve_once(f, NULL);
	int status;
	char path[160];

	assert_int_equal(nc_control_cmd(f->path, "status", NULL, 200),
	    -ETIMEDOUT);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	snprintf(path, sizeof(path), "%s/absent.ctl", f->dir);
	assert_int_equal(nc_control_cmd(path, "status", NULL, 200), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_error_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_missing, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
