/*
 * zonegen/decode.h -- Kubernetes JSON into the cluster model.
 *
 * Accepts what `kubectl get ... -o json` and the API server print: a
 * `List` of mixed kinds, typed lists (`ServiceList`, ...), single
 * objects, and several such documents one after another (a top-level
 * array of objects that carry "kind" is accepted too). Lists are
 * decoded one item at a time from a stream: the whole document tree is
 * never built, so memory stays proportional to the largest item.
 *
 * Kinds other than Service, EndpointSlice, Pod, Namespace and
 * ServiceImport are skipped (named in a debug line). An EndpointSlice
 * that carries both ZG_MC_SERVICE_LABEL and ZG_MC_CLUSTER_LABEL is a
 * multicluster slice (of a headless ServiceImport). An object of a known kind that lacks
 * what DNS needs (no metadata.name, a clusterIP that is not an address,
 * a Service other than headless or ExternalName without a clusterIP,
 * ...) is skipped with one warning naming it ("Service shop/web: ...");
 * malformed JSON stops the decode with an error naming the source and
 * byte offset, and so does input that is not JSON at all (YAML, UTF-16:
 * the message says so) or an API error (a Status object) in place of
 * objects. A UTF-8 byte-order mark at the start is skipped.
 */
#ifndef KZ_ZONEGEN_DECODE_H
#define KZ_ZONEGEN_DECODE_H

#include <jansson.h>
#include <stddef.h>

#include "zonegen/model.h"

/* The MCS API's labels of the EndpointSlices of a headless import. */
#define ZG_MC_SERVICE_LABEL "multicluster.kubernetes.io/service-name"
#define ZG_MC_CLUSTER_LABEL "multicluster.kubernetes.io/source-cluster"

/* Largest single item accepted (bytes of JSON text). */
#define ZG_DECODE_MAX_ITEM (64u * 1024 * 1024)

struct zg_decode_stats {
	size_t bytes;			/* input bytes consumed */
	size_t objects;			/* items seen, any kind */
	size_t decoded[ZG_KIND_COUNT];	/* put into the model, by kind */
	size_t skipped_kind;		/* items of kinds we do not use */
	size_t invalid;			/* items of our kinds skipped (but
					   those counted in no_cluster_ip) */
	size_t bad_addresses;		/* endpoint addresses skipped: not
					   an address of the slice's type */
	size_t documents;		/* top-level JSON values read */
	size_t endpoints;		/* of skipped_kind: v1 Endpoints */
	size_t slices_fqdn;		/* of decoded[SLICE]: addressType
					   FQDN (no records come of them) */
	size_t slices_unlabelled;	/* of decoded[SLICE], not FQDN: no
					   kubernetes.io/service-name label
					   and not multicluster */
	size_t no_cluster_ip;		/* Services skipped: not headless,
					   not ExternalName, no clusterIP */
	size_t duplicates;		/* objects given again: the later
					   one replaced the earlier */
	size_t unselected[ZG_KIND_COUNT];	/* left out by the model's
					   label selectors (--labels,
					   --namespace-labels), by kind */
};

/*
 * OFFSET follows jansson: the number of input bytes up to and including
 * the one where the problem was found (for a truncated input, its
 * length), i.e. the 1-based position of that byte.
 */
struct zg_decode_error {
	char source[256];	/* file name, "-" for stdin */
	size_t offset;		/* byte offset in the source */
	char text[256];		/* what was wrong */
};

/*
 * Progress callback: called about every 4 MiB of input with the bytes
 * read so far and the objects seen so far, and once more after a
 * successful end of input. May be NULL.
 */
typedef void (*zg_progress_fn)(void *ctx, size_t bytes, size_t objects);

/*
 * A sink takes the objects in place of the model: the API source's
 * list pages, which need to know what each page held. OBJECT is called
 * for every object (a list item, or a top-level object that is not a
 * list) with the kind it carries or takes from its list (NULL when
 * neither says), both borrowed; it returns 0, or an error that stops
 * the decode and is returned. DOCUMENT, when not NULL, is called at
 * the end of every top-level object with its members other than a
 * streamed "items" (a list's "kind" and "metadata"), borrowed. With a
 * sink the model is not used (M may be NULL), no duplicates are looked
 * for, and STATS count documents and objects only.
 */
struct zg_decode_sink {
	int (*object)(void *ctx, json_t *obj, const char *kind);
	int (*document)(void *ctx, json_t *doc);
	void *ctx;
};

/* Zero-initialised options give the defaults. */
struct zg_decode_opts {
	zg_progress_fn progress;
	void *progress_ctx;
	size_t chunk_size;	/* read size; 0: 1 MiB */
	size_t max_item;	/* largest item; 0: ZG_DECODE_MAX_ITEM */
	const struct zg_decode_sink *sink;	/* NULL: into the model */
};

/*
 * Decode one object of kind KIND (when KIND is NULL, from the object's
 * own "kind" field) into M. Borrowed reference to OBJ.
 * Returns 0 when stored, or when the model's label selector for its
 * kind (zg_model_select) leaves it out: then it is not stored and an
 * earlier copy in M is deleted. 1 when its kind is not one we use,
 * KZ_EPARSE when the object is unusable (ERR->text says why; the
 * caller logs it), KZ_ENOMEM. An object with the key of one already in
 * M replaces it, silently (a watch update).
 */
int zg_decode_object(struct zg_model *m, json_t *obj, const char *kind,
    struct zg_decode_error *err);

/*
 * Members of an object of KIND that zg_decode_object() never reads, as
 * dotted paths from the object ("spec", "status.conditions"),
 * NULL-terminated: a caller may leave them out of the text it parses
 * (syncer/prune.h). Never NULL.
 */
const char *const *zg_decode_unread(enum zg_kind kind);

/*
 * Read the object's metadata: *NS (NULL when absent) and *NAME,
 * borrowed from OBJ (empty strings count as absent). Returns 0, or
 * KZ_EPARSE when there is no name.
 */
int zg_decode_meta(json_t *obj, const char **ns, const char **name);

/*
 * Decode all documents readable from FD until EOF. SOURCE names the
 * input in messages. STATS accumulate (callers zero them first).
 * Returns 0, KZ_EPARSE (ERR filled), KZ_EPROTO (ERR filled), KZ_ENOMEM,
 * or -errno on a read error (ERR filled).
 *
 * KZ_EPARSE covers malformed JSON, input that ends inside a value, and
 * an item (or the members of a top-level object outside its "items")
 * larger than the item limit: ERR->text says "... larger than N bytes".
 * Input that starts like YAML or UTF-16 is KZ_EPARSE at its first byte
 * (after a UTF-8 BOM), with a text that says so. KZ_EPROTO: a Status
 * object whose status is not "Success" (an API error captured in place
 * of a list); ERR->text has its reason, code and message.
 *
 * The input may be empty (no documents: STATS->documents tells; callers
 * that need objects check it). Objects decoded before an error stay in
 * M. An object with the key of one decoded before (in this input or an
 * earlier one into M) replaces it with a warning naming it; when the
 * later copy is unusable, the earlier one is removed too. Items without
 * "kind" take the list's kind minus "List" ("PodList": Pod); when
 * "kind" comes after "items", such items are kept as text and decoded
 * at the end of the list. Ignored objects (kinds we do not use, FQDN
 * slices, slices without a kubernetes.io/service-name label) are named
 * in debug lines.
 */
int zg_decode_fd(struct zg_model *m, int fd, const char *source,
    const struct zg_decode_opts *opts, struct zg_decode_stats *stats,
    struct zg_decode_error *err);

/*
 * The same for the file PATH ("-" is standard input). A file that
 * cannot be opened gives -errno with ERR filled (source PATH).
 */
int zg_decode_path(struct zg_model *m, const char *path,
    const struct zg_decode_opts *opts, struct zg_decode_stats *stats,
    struct zg_decode_error *err);

/*
 * A one-line message for a failed decode RC: "SOURCE: byte N: TEXT" for
 * malformed input, "SOURCE: TEXT" otherwise (an API error, a read error).
 * Written into OUT; returns OUT.
 */
const char *zg_decode_strerror(int rc, const struct zg_decode_error *err,
    char *out, size_t outsz);

/* The same over a memory buffer (OPTS: its max_item and sink). */
int zg_decode_mem(struct zg_model *m, const char *data, size_t len,
    const char *source, const struct zg_decode_opts *opts,
    struct zg_decode_stats *stats, struct zg_decode_error *err);

/* zg_decode_mem() with the default options (tests, fuzzing). */
int zg_decode_buffer(struct zg_model *m, const char *data, size_t len,
    const char *source, struct zg_decode_stats *stats,
    struct zg_decode_error *err);

#endif
