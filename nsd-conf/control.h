/*
 * nsd-conf/control.h -- NSD's control protocol over its unix socket.
 *
 * With an absolute control-interface, NSD listens on a unix socket and
 * speaks plain text (no TLS): the client sends "NSDCT1 <command>\n" and
 * reads the reply until NSD closes the connection. A reply whose first
 * line starts with "error" is a failure. kubezone uses it to see NSD
 * start ("status") and to have NSD write its zone files ("write") at
 * a clean stop; zones reach NSD through the feed, never by reloads.
 */
#ifndef KZ_NSDCONF_CONTROL_H
#define KZ_NSDCONF_CONTROL_H

#include "common/buf.h"

#define NC_CONTROL_TIMEOUT_MS 5000

/*
 * Send CMD (e.g. "reload cluster.local", "status") to the socket at
 * PATH and store the reply in REPLY (may be NULL; the caller frees it).
 * Gives up after TIMEOUT_MS. Returns 0 when NSD answered without error,
 * KZ_EPROTO when the reply starts with "error" (REPLY holds it),
 * -errno when the socket cannot be used (-ENOENT, -ECONNREFUSED while
 * NSD is starting), -ETIMEDOUT.
 */
int nc_control_cmd(const char *path, const char *cmd, struct kz_buf *reply,
    int timeout_ms);

#endif
