/*
 * nsd-conf/catalog.h -- what a catalog zone NSD served lists.
 *
 * kubezone serves a catalog zone (RFC 9432, version 2) of the zones it
 * serves (zonegen builds its records). When it starts with another set
 * of zones, the catalog NSD serves from its zone file still lists the
 * old ones: those are the zones that must leave the catalog before NSD
 * stops serving them. nc_catalog_members() reads them back.
 *
 * Ownership: the caller owns the file; the callback gets names valid
 * only during the call.
 */
#ifndef KZ_NSDCONF_CATALOG_H
#define KZ_NSDCONF_CATALOG_H

#include <stddef.h>

/* Called once per member zone: NAME lower case, without final dot.
 * A non-zero return stops the walk and is returned. */
typedef int (*nc_catalog_member_fn)(void *ctx, const char *name);

/*
 * Walk the member zones of catalog ORIGIN (with or without final dot)
 * in the zone file PATH: the PTR records at <label>.zones.<ORIGIN>.
 * 0, -errno (no file), KZ_EPARSE (with the line in ERR) or KZ_ENOMEM,
 * or what FN returned.
 */
int nc_catalog_members(const char *path, const char *origin,
    nc_catalog_member_fn fn, void *ctx, char *err, size_t errsz);

#endif
