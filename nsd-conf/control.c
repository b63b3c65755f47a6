/*
 * nsd-conf/control.c -- the NSD control protocol client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "nsd-conf/control.h"

#define NC_CONTROL_MAGIC "NSDCT1 "
#define NC_CONTROL_MAX_REPLY (1024 * 1024)

/* Wait for EVENTS on FD until DEADLINE; 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline - (long long)kz_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return KZ_OK;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int
nc_control_cmd(const char *path, const char *cmd, struct kz_buf *reply,
    int timeout_ms)
{
	struct sockaddr_un sa;
	struct kz_buf req, local;
	struct kz_buf *out = reply ? reply : &local;
	long long deadline = (long long)kz_now_ms() + timeout_ms;
	size_t off = 0;
	int fd = -1, rc;

	kz_buf_init(&req, 4096);
	kz_buf_init(&local, NC_CONTROL_MAX_REPLY);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	if ((rc = kz_buf_printf(&req, "%s%s\n", NC_CONTROL_MAGIC, cmd)))
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			rc = -errno;
			goto out;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline)))
			goto out;
	}
	while (off < req.len) {
		ssize_t w = send(fd, req.data + off, req.len - off,
		    MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if ((rc = wait_fd(fd, POLLOUT, deadline)))
					goto out;
				continue;
			}
			rc = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	for (;;) {
		char chunk[4096];
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if ((rc = wait_fd(fd, POLLIN, deadline)))
					goto out;
				continue;
			}
			rc = -errno;
			goto out;
		}
		if ((rc = kz_buf_append(out, chunk, (size_t)r)))
			goto out;
	}
	rc = out->len >= 5 && strncmp(out->data, "error", 5) == 0 ?
	    KZ_EPROTO : KZ_OK;
	if (rc == KZ_OK && out->len == 0)
		rc = KZ_EPROTO;		/* NSD always answers something */
out:
	if (fd >= 0)
		close(fd);
	kz_buf_free(&req);
	kz_buf_free(&local);
	return rc;
}
