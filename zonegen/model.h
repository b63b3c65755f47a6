/*
 * zonegen/model.h -- the compact cluster model that DNS is rendered from.
 *
 * The model holds only what the DNS rules need from Services,
 * EndpointSlices, Pods, Namespaces and the Multi-Cluster Services API's
 * ServiceImports: names, addresses, ports, hostnames and readiness. It never keeps JSON trees. Objects are keyed
 * by "namespace/name" ("name" for Namespaces); putting an object with an
 * existing key replaces it, which is how both a snapshot with duplicates
 * (last one wins) and a watch stream (ADDED/MODIFIED) are applied.
 *
 * Ownership: every zg_model_put_*() takes ownership of the object it is
 * given, on success and on failure alike. Objects are built with the
 * zg_*_new() constructors, which copy their strings. An object's key
 * lives in the object's own allocation (never free it apart). Namespace
 * strings are interned by the model and shared; never free them.
 */
#ifndef KZ_ZONEGEN_MODEL_H
#define KZ_ZONEGEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/map.h"

struct zg_sel;

/* An IPv4 or IPv6 address in network byte order. */
struct zg_ip {
	uint8_t family;		/* ZG_IPV4 or ZG_IPV6 */
	uint8_t addr[16];	/* IPv4 uses the first 4 bytes */
};

enum { ZG_IPV4 = 4, ZG_IPV6 = 6 };

enum zg_proto { ZG_TCP = 0, ZG_UDP = 1, ZG_SCTP = 2 };

/* A Service port or an EndpointSlice port. */
struct zg_port {
	char *name;		/* NULL or "" when unnamed */
	uint16_t port;		/* 0 when absent (hand-made slices) */
	uint8_t proto;		/* enum zg_proto */
};

enum zg_svc_type {
	ZG_SVC_CLUSTERIP = 0,
	ZG_SVC_NODEPORT,
	ZG_SVC_LOADBALANCER,
	ZG_SVC_EXTERNALNAME
};

/*
 * Services, slices and pods start with the same three members (key, ns,
 * name), in this order; model.c relies on it.
 */
struct zg_service {
	char *key;		/* "ns/name"; name = key + strlen(ns) + 1;
				 * in the object's own block */
	const char *ns;		/* interned by the model */
	const char *name;	/* points into key */
	uint8_t type;		/* enum zg_svc_type */
	bool headless;		/* clusterIP "None" */
	uint8_t nips;		/* parsed clusterIPs, at most 2 */
	struct zg_ip ips[2];
	uint16_t nports;
	struct zg_port *ports;
	char *external_name;	/* as given, for ExternalName; else NULL */
};

/*
 * One address of one endpoint. An endpoint with several addresses
 * becomes several entries that share hostname and target.
 */
struct zg_epaddr {
	struct zg_ip ip;
	bool ready;		/* conditions.ready true or absent */
	const char *hostname;	/* NULL or into the slice's strings */
	const char *target;	/* targetRef.name when kind is Pod, or NULL */
};

enum zg_addr_type { ZG_ADDR_IPV4 = 0, ZG_ADDR_IPV6, ZG_ADDR_FQDN };

struct zg_slice {
	char *key;		/* "ns/name" */
	const char *ns;		/* interned */
	const char *name;	/* into key */
	char *service;		/* label kubernetes.io/service-name, or NULL */
	/*
	 * A multicluster slice (the MCS API's, of a headless import): the
	 * labels multicluster.kubernetes.io/service-name and
	 * multicluster.kubernetes.io/source-cluster, both or neither.
	 */
	char *mc_service;
	char *mc_cluster;
	uint8_t addr_type;	/* enum zg_addr_type */
	uint16_t nports;
	struct zg_port *ports;
	uint32_t naddrs;
	struct zg_epaddr *addrs;
	char *strings;		/* hostnames and targets, owned */
	/*
	 * The annotation endpoints.kubernetes.io/last-change-trigger-time
	 * as Unix seconds, 0 when absent or unreadable. Not DNS data: two
	 * slices that differ only here are the same to the change log.
	 */
	double trigger_time;
};

struct zg_pod {
	char *key;		/* "ns/name" */
	const char *ns;		/* interned */
	const char *name;	/* into key */
	bool active;		/* running or pending, not terminating */
	uint8_t nips;
	struct zg_ip ips[2];	/* status.podIPs (podIP when that is absent) */
};

struct zg_namespace {
	const char *name;	/* interned, also the key */
};

enum zg_import_type { ZG_IMPORT_CLUSTERSETIP = 0, ZG_IMPORT_HEADLESS };

/* A ServiceImport (multicluster.x-k8s.io/v1alpha1). */
struct zg_import {
	char *key;		/* "ns/name" */
	const char *ns;		/* interned */
	const char *name;	/* into key */
	uint8_t type;		/* enum zg_import_type */
	uint8_t nips;		/* spec.ips that parse, at most 2 */
	struct zg_ip ips[2];
	uint16_t nports;
	struct zg_port *ports;	/* spec.ports */
};

enum zg_kind {
	ZG_KIND_SERVICE = 0,
	ZG_KIND_SLICE,
	ZG_KIND_POD,
	ZG_KIND_NAMESPACE,
	ZG_KIND_IMPORT,		/* ServiceImport */
	ZG_KIND_COUNT
};

/*
 * One entry of the change log: an object of KIND with KEY was put with
 * different content, or deleted. The log holds keys, not objects: the
 * consumer reads the object's current state (or its absence) from the
 * model.
 */
struct zg_change {
	uint8_t kind;		/* enum zg_kind */
	char key[];		/* "ns/name"; the name for Namespaces */
};

struct zg_model {
	struct kz_map objects[ZG_KIND_COUNT];
	struct kz_map interned;		/* namespace name -> char * */
	unsigned long generation;	/* bumped by every change */
	bool track;			/* keep the change log */
	int track_rc;			/* KZ_ENOMEM when an entry was lost */
	struct zg_change **changes;	/* the log, owned */
	size_t nchanges, capchanges;
	const struct zg_sel *sel_objects;	/* --labels, borrowed */
	const struct zg_sel *sel_namespaces;	/* --namespace-labels */
};

/*
 * The label selectors the decoder applies (zonegen/decode.h): OBJECTS
 * to Services, EndpointSlices and Pods, NAMESPACES to Namespaces; an
 * object they do not select is never in the model. Either may be NULL
 * (everything is selected). Borrowed: they must outlive the model's
 * use by the decoder. Set them before anything is decoded into M.
 */
void zg_model_select(struct zg_model *m, const struct zg_sel *objects,
    const struct zg_sel *namespaces);

/* Kubernetes kind name ("Service", ...) to enum, or -1. */
int zg_kind_from_name(const char *kind);
const char *zg_kind_name(enum zg_kind kind);

void zg_model_init(struct zg_model *m);
/* Free every object, interned string and table. */
void zg_model_free(struct zg_model *m);
/* Drop every object of KIND (before a relist, for instance). */
void zg_model_clear_kind(struct zg_model *m, enum zg_kind kind);

/* Intern NS; returns the shared copy or NULL on allocation failure. */
const char *zg_model_intern(struct zg_model *m, const char *ns);

/*
 * Constructors: allocate an object with its key and interned namespace
 * set, everything else zero. NS is ignored (NULL) for Namespaces.
 * Return NULL on allocation failure.
 */
struct zg_service *zg_service_new(struct zg_model *m, const char *ns,
    const char *name);
struct zg_slice *zg_slice_new(struct zg_model *m, const char *ns,
    const char *name);
struct zg_pod *zg_pod_new(struct zg_model *m, const char *ns,
    const char *name);
struct zg_import *zg_import_new(struct zg_model *m, const char *ns,
    const char *name);

void zg_service_free(struct zg_service *s);
void zg_slice_free(struct zg_slice *s);
void zg_pod_free(struct zg_pod *p);
void zg_import_free(struct zg_import *s);

/* Insert or replace; take ownership (freed on failure). 0 or KZ_ENOMEM. */
int zg_model_put_service(struct zg_model *m, struct zg_service *s);
int zg_model_put_slice(struct zg_model *m, struct zg_slice *s);
int zg_model_put_pod(struct zg_model *m, struct zg_pod *p);
int zg_model_put_namespace(struct zg_model *m, const char *name);
int zg_model_put_import(struct zg_model *m, struct zg_import *s);

/*
 * Put the Pod NS/NAME with the content of P (its key, ns and name are
 * not read; P stays the caller's): zg_pod_new(), the content copied in,
 * zg_model_put_pod(), except that a Pod already in M is updated in
 * place, so a watch event about a known Pod allocates nothing. 0 or
 * KZ_ENOMEM.
 */
int zg_model_set_pod(struct zg_model *m, const char *ns, const char *name,
    const struct zg_pod *p);

/* Delete by key parts; 1 when something was removed, 0 when absent. */
int zg_model_del(struct zg_model *m, enum zg_kind kind, const char *ns,
    const char *name);

/* Lookups by "ns/name" key (name for Namespaces); NULL when absent. */
const struct zg_service *zg_model_service(const struct zg_model *m,
    const char *key);
bool zg_model_has_namespace(const struct zg_model *m, const char *name);

/*
 * The change log. With tracking on, every put whose object differs from
 * the one it replaces in anything DNS can see (the model keeps nothing
 * else), every delete and every clear adds the object's key to the log;
 * a put of identical content changes nothing (the old object stays).
 * zg_model_take_changes() hands the log over (the caller frees each
 * entry and the array) and empties it; *RC gets KZ_ENOMEM when an entry
 * could not be recorded since the last take, KZ_ETOOBIG when the log
 * grew past 4,096 entries and half the model's objects and was dropped
 * (a first list): either way the consumer must then rebuild from the
 * whole model, and the log holds nothing of that time.
 */
void zg_model_track(struct zg_model *m, bool on);
struct zg_change **zg_model_take_changes(struct zg_model *m, size_t *n,
    int *rc);
void zg_changes_free(struct zg_change **v, size_t n);

/*
 * Make DST hold exactly the objects of SRC (a snapshot read again):
 * objects move from SRC, which is left empty; with tracking on, only
 * what differs enters DST's change log. 0 or KZ_ENOMEM (DST then holds
 * a mix, every change logged: the consumer stays consistent with it).
 */
int zg_model_replace(struct zg_model *dst, struct zg_model *src);

/* Number of objects of KIND. */
size_t zg_model_count(const struct zg_model *m, enum zg_kind kind);

/* Approximate heap bytes held by the model (for benchmarks). */
size_t zg_model_bytes(const struct zg_model *m);

/* Parse a textual IPv4/IPv6 address; 0 on success, KZ_EINVAL if not. */
int zg_ip_parse(struct zg_ip *ip, const char *s);
/* Canonical text (RFC 5952 for IPv6) into OUT (at least 46 bytes). */
const char *zg_ip_str(const struct zg_ip *ip, char *out, size_t outsz);
/* Total order on addresses (family first, then bytes). */
int zg_ip_cmp(const struct zg_ip *a, const struct zg_ip *b);

#endif
