/*
 * syncer/kubeconfig.h -- where the Kubernetes API is and how to log in.
 *
 * Sources, first match wins (sy_kubeconfig_resolve): --kubeconfig FILE,
 * then $KUBECONFIG (a ":"-separated list merged as kubectl does: the
 * first file that sets a name wins), then the in-cluster configuration
 * (KUBERNETES_SERVICE_HOST/PORT, the service account's token and CA).
 * None of them is an error that says what to set.
 *
 * A kubeconfig (parsed with libyaml; JSON is YAML too) gives, for the
 * selected context: the cluster's server, certificate-authority(-data),
 * insecure-skip-tls-verify (logged as a warning), tls-server-name (the
 * name sent as SNI and checked in the certificate), and the user's token,
 * tokenFile, client-certificate(-data), client-key(-data) and
 * username/password, or an exec credential plugin (syncer/execcred.h:
 * command, args, env, apiVersion v1 or v1beta1, installHint,
 * provideClusterInfo, interactiveMode other than Always). Relative paths
 * are resolved against the directory of the file that names them (an
 * exec command only when it holds a "/"; a bare name is looked up in
 * PATH). Legacy auth-providers are refused with a clear "not supported"
 * error, and so are credentials for a plain http:// server.
 *
 * Tokens read from a file are re-read at least every refresh_ms
 * (SY_TOKEN_REFRESH_MS unless set) and on the next use after
 * sy_kubeconfig_token_expire()
 * (called after a 401); when a re-read fails the last good token stays.
 *
 * With an exec plugin, requests wait until sy_kubeconfig_ready() says a
 * credential is there (the plugin runs from the loop given to
 * sy_kubeconfig_attach()); its token and client certificate take the
 * place of the static ones.
 *
 * Ownership: the struct owns every string in it and the exec plugin
 * state; sy_kubeconfig_free() releases them (killing a running plugin)
 * and accepts a zeroed or already freed struct.
 */
#ifndef KZ_SYNCER_KUBECONFIG_H
#define KZ_SYNCER_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "syncer/execcred.h"
#include "syncer/loop.h"

#define SY_TOKEN_REFRESH_MS 60000
#define SY_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct sy_kubeconfig {
	char *server;		/* "https://host:port[/prefix]", no final "/" */
	char *ca_file;		/* absolute path, or NULL */
	char *ca_data;		/* decoded PEM, or NULL */
	size_t ca_len;
	bool insecure;		/* insecure-skip-tls-verify */
	char *token;		/* inline token, or NULL */
	char *token_file;	/* absolute path, or NULL */
	char *cert_file, *key_file;	/* absolute paths, or NULL */
	char *cert_data, *key_data;	/* decoded PEM, or NULL */
	size_t cert_len, key_len;
	char *username, *password;	/* basic auth, or NULL */
	char *tls_server_name;	/* tls-server-name, or NULL */
	/* With tls-server-name: URLs name it (SNI, certificate check) and
	 * CONNECT_TO leads to the server's host; Host: keeps that host. */
	char *request_base;	/* "https://NAME:PORT[/prefix]", or NULL */
	char *host_header;	/* "Host: host[:port]", or NULL */
	struct curl_slist *connect_to;
	char source[512];	/* "kubeconfig FILE context NAME", "in-cluster" */

	/* token cache (token_file only) */
	uint64_t refresh_ms;	/* re-read period; 0: SY_TOKEN_REFRESH_MS */
	char *cur_token;
	uint64_t token_read_ms;	/* monotonic time of the last read */
	bool token_stale;	/* re-read at the next use */
	unsigned long token_reads;	/* successful reads, for tests */

	struct sy_ec *exec;	/* exec credential plugin, or NULL */
};

void sy_kubeconfig_init(struct sy_kubeconfig *kc);
void sy_kubeconfig_free(struct sy_kubeconfig *kc);

/*
 * Load PATHS (one file or a ":"-separated list) and select CONTEXT
 * (NULL: current-context). 0, or KZ_EPARSE / KZ_ENOTFOUND / -errno with
 * a message in ERR naming the file and the entry.
 */
int sy_kubeconfig_load(struct sy_kubeconfig *kc, const char *paths,
    const char *context, char *err, size_t errsz);

/*
 * In-cluster configuration from HOST and PORT (the values of
 * KUBERNETES_SERVICE_HOST/PORT; IPv6 hosts get brackets) and SA_DIR
 * (SY_SA_DIR in a pod) holding "token" and "ca.crt". A missing CA is
 * logged and the system roots are used. 0 or KZ_ENOTFOUND / -errno
 * with a message in ERR.
 */
int sy_kubeconfig_in_cluster(struct sy_kubeconfig *kc, const char *host,
    const char *port, const char *sa_dir, char *err, size_t errsz);

/*
 * Pick the source: KUBECONFIG_PATH (--kubeconfig, may be NULL), then
 * $KUBECONFIG, then in-cluster. CONTEXT as for sy_kubeconfig_load.
 * 0, or an error with a message in ERR.
 */
int sy_kubeconfig_resolve(struct sy_kubeconfig *kc,
    const char *kubeconfig_path, const char *context, char *err,
    size_t errsz);

/*
 * The bearer token to send now (NOW_MS: a monotonic clock), re-reading
 * the token file when due; NULL when there is none.
 */
const char *sy_kubeconfig_token(struct sy_kubeconfig *kc, uint64_t now_ms);

/* Force a re-read of the token file at its next use (after a 401). */
void sy_kubeconfig_token_expire(struct sy_kubeconfig *kc);

/* Run KC's exec plugin (if any) from loop L. */
void sy_kubeconfig_attach(struct sy_kubeconfig *kc, struct sy_loop *l);

/*
 * Whether a request may start now: always without an exec plugin; with
 * one, when its credential is there (else a run is started and the
 * request should wait and ask again).
 */
bool sy_kubeconfig_ready(struct sy_kubeconfig *kc, uint64_t now_ms);

/* The exec plugin's last failure, or NULL when it is not failing. */
const char *sy_kubeconfig_exec_error(const struct sy_kubeconfig *kc);

/*
 * A request started at STARTED_MS got a 401: expire the token file or
 * the exec credential. True when a retry at once may succeed (a new
 * exec credential is there or on its way), false: back off.
 */
bool sy_kubeconfig_unauthorized(struct sy_kubeconfig *kc,
    uint64_t started_ms);

/* The start of every request URL: the server, or its tls-server-name form. */
const char *sy_kubeconfig_base(const struct sy_kubeconfig *kc);

/*
 * Set the TLS (with tls-server-name's CONNECT_TO) and basic-auth options
 * of KC on handle H. The caller adds kc->host_header, when set, to its
 * headers. 0 or KZ_EINVAL.
 */
int sy_kubeconfig_apply(const struct sy_kubeconfig *kc, CURL *h);

/* Decode base64 (standard alphabet, padding and whitespace allowed). */
int sy_base64_decode(const char *in, char **out, size_t *outlen);
/* Encode LEN bytes as padded standard base64; caller frees. */
char *sy_base64_encode(const char *in, size_t len);

#endif
