/*
 * common/file.h -- writing a file so that readers see the old or the
 * new content, never a part (nsd.conf, serial.state, render --out).
 */
#ifndef KZ_COMMON_FILE_H
#define KZ_COMMON_FILE_H

#include <stddef.h>

/*
 * Replace PATH with LEN bytes of DATA, atomically and durably: a
 * temporary file beside it ("PATH.tmp.<random>", created exclusively
 * and never through a symlink, so a planted link cannot redirect the
 * write), given MODE whatever the umask, fsynced, renamed over PATH,
 * then the directory fsynced. On failure PATH is untouched and the
 * temporary file removed. Returns 0 or -errno.
 */
int kz_file_write_atomic(const char *path, const void *data, size_t len,
    unsigned mode);

#endif
