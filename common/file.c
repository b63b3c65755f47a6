/*
 * common/file.c -- atomic file replacement.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/file.h"

/*
 * Create a temporary file beside PATH, exclusively and with a random
 * name. TMP gets its name; returns the fd or -errno.
 */
static int
open_temp(const char *path, unsigned mode, char *tmp, size_t tmpsz)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t r;
		int fd;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -EIO;
		if ((size_t)snprintf(tmp, tmpsz, "%s.tmp.%016llx", path,
		    (unsigned long long)r) >= tmpsz)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, (mode_t)(mode & 0777));
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Write all of DATA to FD, set MODE (not the umask's), fsync. */
static int
write_all(int fd, const char *data, size_t len, unsigned mode)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, (mode_t)(mode & 0777)) || fsync(fd))
		return -errno;
	return KZ_OK;
}

/* fsync the directory holding PATH. */
static int
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int dfd, rc = KZ_OK;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			rc = -errno;
		close(dfd);
	}
	return rc;
}

int
kz_file_write_atomic(const char *path, const void *data, size_t len,
    unsigned mode)
{
	char tmp[PATH_MAX];
	int fd, rc;

	fd = open_temp(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	rc = write_all(fd, data, len, mode);
	if (close(fd) && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return sync_parent(path);
}
