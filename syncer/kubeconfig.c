/*
 * syncer/kubeconfig.c -- kubeconfig files (libyaml), in-cluster
 * configuration and bearer tokens that rotate.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "common/err.h"
#include "common/log.h"
#include "syncer/kubeconfig.h"

#define MAX_FILES 16
#define MAX_TOKEN (64u * 1024)

static int fmt_str(char **dst, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One parsed kubeconfig file. */
struct kc_doc {
	yaml_document_t doc;
	char *path;
	char *dir;		/* for relative paths */
	bool loaded;
};

struct kc_docs {
	struct kc_doc d[MAX_FILES];
	size_t n;
};

void
sy_kubeconfig_init(struct sy_kubeconfig *kc)
{
	memset(kc, 0, sizeof(*kc));
}

void
sy_kubeconfig_free(struct sy_kubeconfig *kc)
{
	char **s[] = { &kc->server, &kc->ca_file, &kc->ca_data, &kc->token,
		&kc->token_file, &kc->cert_file, &kc->key_file, &kc->cert_data,
		&kc->key_data, &kc->username, &kc->password, &kc->cur_token,
		&kc->tls_server_name, &kc->request_base, &kc->host_header };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	curl_slist_free_all(kc->connect_to);
	kc->connect_to = NULL;
	kc->ca_len = kc->cert_len = kc->key_len = 0;
	if (kc->exec) {
		sy_ec_free(kc->exec);
		free(kc->exec);
		kc->exec = NULL;
	}
}

/* --- base64 ------------------------------------------------------ */

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
sy_base64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	char *buf = malloc(n / 4 * 3 + 4);

	if (buf == NULL)
		return KZ_ENOMEM;
	for (const char *p = in; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val((unsigned char)*p)) < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2)
		goto bad;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return KZ_OK;
bad:
	free(buf);
	return KZ_EPARSE;
}

char *
sy_base64_encode(const char *in, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)in;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = abc[(v >> 18) & 63];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* --- small file helpers -------------------------------------------- */

/* Read a whole small file (at most MAX bytes) into *OUT. 0 or -errno. */
static int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (buf == NULL) {
		close(fd);
		return KZ_ENOMEM;
	}
	while (n < max && (r = read(fd, buf + n, max - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (rc == 0 && n == max)
		rc = KZ_ETOOBIG;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* Trim whitespace at both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' ||
	    e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* PATH made absolute against DIR (a copy); NULL on failure. */
static char *
resolve_path(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/' || dir == NULL)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

/* --- YAML access --------------------------------------------------- */

static yaml_node_t *
node_at(yaml_document_t *d, int id)
{
	return id ? yaml_document_get_node(d, id) : NULL;
}

static const char *
scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The value under KEY in mapping N, or NULL. */
static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		const char *k = scalar(node_at(d, p->key));
		if (k && strcmp(k, key) == 0)
			return node_at(d, p->value);
	}
	return NULL;
}

/* A scalar under KEY, or NULL; empty strings count as absent. */
static const char *
map_str(yaml_document_t *d, yaml_node_t *n, const char *key)
{
	const char *s = scalar(map_get(d, n, key));

	return s && *s ? s : NULL;
}

/*
 * In the list under LIST_KEY ("clusters"), the entry named NAME: its
 * ITEM_KEY ("cluster") mapping, or NULL.
 */
static yaml_node_t *
named_entry(yaml_document_t *d, const char *list_key, const char *item_key,
    const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	yaml_node_t *list = map_get(d, root, list_key);
	yaml_node_item_t *it;

	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = node_at(d, *it);
		const char *n = map_str(d, e, "name");
		if (n && strcmp(n, name) == 0) {
			yaml_node_t *v = map_get(d, e, item_key);
			return v ? v : e;
		}
	}
	return NULL;
}

static int
load_doc(struct kc_doc *kd, const char *path, char *err, size_t errsz)
{
	yaml_parser_t parser;
	FILE *f;
	char *slash;
	int ok;

	kd->path = strdup(path);
	if (kd->path == NULL)
		return KZ_ENOMEM;
	kd->dir = strdup(path);
	if (kd->dir == NULL)
		return KZ_ENOMEM;
	slash = strrchr(kd->dir, '/');
	if (slash == NULL) {
		free(kd->dir);
		kd->dir = getcwd(NULL, 0);
	} else if (slash == kd->dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		snprintf(err, errsz, "kubeconfig %s: %s", path, strerror(e));
		return -e;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return KZ_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	ok = yaml_parser_load(&parser, &kd->doc);
	if (!ok)
		snprintf(err, errsz, "kubeconfig %s: line %zu: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
	yaml_parser_delete(&parser);
	fclose(f);
	if (!ok)
		return KZ_EPARSE;
	kd->loaded = true;
	if (yaml_document_get_root_node(&kd->doc) == NULL) {
		snprintf(err, errsz, "kubeconfig %s: empty", path);
		return KZ_EPARSE;
	}
	return 0;
}

static void
docs_free(struct kc_docs *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		if (ds->d[i].loaded)
			yaml_document_delete(&ds->d[i].doc);
		free(ds->d[i].path);
		free(ds->d[i].dir);
	}
	ds->n = 0;
}

/* Load every file of the ":"-list PATHS (empty entries skipped). */
static int
docs_load(struct kc_docs *ds, const char *paths, char *err, size_t errsz)
{
	const char *p = paths, *colon;
	char path[PATH_MAX];
	int rc;

	while (*p) {
		size_t n;

		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (n >= sizeof(path)) {
			snprintf(err, errsz, "kubeconfig path too long");
			return KZ_ETOOBIG;
		}
		if (n > 0) {
			if (ds->n == MAX_FILES) {
				snprintf(err, errsz, "more than %d kubeconfig "
				    "files", MAX_FILES);
				return KZ_ETOOBIG;
			}
			memcpy(path, p, n);
			path[n] = '\0';
			rc = load_doc(&ds->d[ds->n++], path, err, errsz);
			if (rc)
				return rc;
		}
		p += n + (colon ? 1 : 0);
	}
	if (ds->n == 0) {
		snprintf(err, errsz, "no kubeconfig file given");
		return KZ_ENOTFOUND;
	}
	return 0;
}

/* The first file defining entry NAME in LIST_KEY; its mapping in *OUT. */
static struct kc_doc *
docs_find(struct kc_docs *ds, const char *list_key, const char *item_key,
    const char *name, yaml_node_t **out)
{
	for (size_t i = 0; i < ds->n; i++) {
		*out = named_entry(&ds->d[i].doc, list_key, item_key, name);
		if (*out)
			return &ds->d[i];
	}
	return NULL;
}

/* --- filling the struct -------------------------------------------- */

static int
set_str(char **dst, const char *v)
{
	if (v == NULL)
		return 0;
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : KZ_ENOMEM;
}

static int
set_path(char **dst, const struct kc_doc *kd, const char *v)
{
	if (v == NULL)
		return 0;
	free(*dst);
	*dst = resolve_path(kd->dir, v);
	return *dst ? 0 : KZ_ENOMEM;
}

static int
set_b64(char **dst, size_t *len, const char *v, const char *what,
    const struct kc_doc *kd, char *err, size_t errsz)
{
	int rc;

	if (v == NULL)
		return 0;
	free(*dst);
	*dst = NULL;
	rc = sy_base64_decode(v, dst, len);
	if (rc == KZ_EPARSE)
		snprintf(err, errsz, "kubeconfig %s: %s is not valid base64",
		    kd->path, what);
	return rc;
}

static int
fill_cluster(struct sy_kubeconfig *kc, struct kc_doc *kd, yaml_node_t *c,
    const char *name, char *err, size_t errsz)
{
	yaml_document_t *d = &kd->doc;
	const char *server = map_str(d, c, "server");
	const char *insecure = map_str(d, c, "insecure-skip-tls-verify");
	size_t n;
	int rc;

	if (server == NULL) {
		snprintf(err, errsz, "kubeconfig %s: cluster %s has no server",
		    kd->path, name);
		return KZ_EPARSE;
	}
	if (strncmp(server, "https://", 8) != 0 &&
	    strncmp(server, "http://", 7) != 0) {
		snprintf(err, errsz, "kubeconfig %s: cluster %s: server %s is "
		    "not an http(s) URL", kd->path, name, server);
		return KZ_EPARSE;
	}
	if ((rc = set_str(&kc->server, server)) != 0)
		return rc;
	n = strlen(kc->server);
	while (n > 0 && kc->server[n - 1] == '/')
		kc->server[--n] = '\0';
	if (strstr(kc->server, "://") == NULL ||
	    strstr(kc->server, "://")[3] == '\0') {
		snprintf(err, errsz, "kubeconfig %s: cluster %s: server %s has "
		    "no host", kd->path, name, server);
		return KZ_EPARSE;
	}
	kc->insecure = insecure && strcmp(insecure, "true") == 0;
	if ((rc = set_str(&kc->tls_server_name,
	    map_str(d, c, "tls-server-name"))) != 0)
		return rc;
	if ((rc = set_path(&kc->ca_file, kd,
	    map_str(d, c, "certificate-authority"))) != 0)
		return rc;
	return set_b64(&kc->ca_data, &kc->ca_len,
	    map_str(d, c, "certificate-authority-data"),
	    "certificate-authority-data", kd, err, errsz);
}

/* --- exec credential plugins ------------------------------------- */

/* A NULL-terminated array of N + 1 slots, or NULL. */
static char **
strv_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

/* The items of sequence N (NULL: none), or KZ_EPARSE naming WHAT. */
static int
seq_items(yaml_document_t *d, yaml_node_t *n, yaml_node_item_t **start,
    size_t *count)
{
	*start = NULL;
	*count = 0;
	if (n == NULL || (n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.length == 0))
		return KZ_OK;
	(void)d;
	if (n->type != YAML_SEQUENCE_NODE)
		return KZ_EPARSE;
	*start = n->data.sequence.items.start;
	*count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	return KZ_OK;
}

static int
exec_args(struct sy_ec_cfg *cfg, yaml_document_t *d, yaml_node_t *exec,
    const char *where, char *err, size_t errsz)
{
	yaml_node_item_t *it;
	size_t n;

	if (seq_items(d, map_get(d, exec, "args"), &it, &n)) {
		snprintf(err, errsz, "%s: exec.args is not a list", where);
		return KZ_EPARSE;
	}
	if ((cfg->argv = strv_new(n + 1)) == NULL ||
	    (cfg->argv[0] = strdup(cfg->command)) == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *a = scalar(node_at(d, it[i]));

		if (a == NULL) {
			snprintf(err, errsz, "%s: exec.args[%zu] is not a "
			    "string", where, i);
			return KZ_EPARSE;
		}
		if ((cfg->argv[i + 1] = strdup(a)) == NULL)
			return KZ_ENOMEM;
	}
	cfg->argc = n + 1;
	return KZ_OK;
}

static int
exec_env(struct sy_ec_cfg *cfg, yaml_document_t *d, yaml_node_t *exec,
    const char *where, char *err, size_t errsz)
{
	yaml_node_item_t *it;
	size_t n;

	if (seq_items(d, map_get(d, exec, "env"), &it, &n)) {
		snprintf(err, errsz, "%s: exec.env is not a list", where);
		return KZ_EPARSE;
	}
	if ((cfg->env = strv_new(n)) == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node_at(d, it[i]);
		const char *k = map_str(d, e, "name");
		const char *v = scalar(map_get(d, e, "value"));

		if (k == NULL || v == NULL || strchr(k, '=') != NULL) {
			snprintf(err, errsz, "%s: exec.env[%zu] needs a name "
			    "(without '=') and a value", where, i);
			return KZ_EPARSE;
		}
		if (fmt_str(&cfg->env[i], "%s=%s", k, v))
			return KZ_ENOMEM;
		cfg->nenv = i + 1;
	}
	return KZ_OK;
}

/* Set KEY of OBJ to V (stolen); false when V is NULL or out of memory. */
static bool
put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0;
}

/*
 * spec.cluster for provideClusterInfo: the cluster as the plugin sees it.
 * NULL when out of memory (nothing is left out silently).
 */
static json_t *
exec_cluster(const struct sy_kubeconfig *kc)
{
	json_t *c = json_object();
	char *ca = NULL, *b64 = NULL;
	size_t calen = 0;
	bool ok;

	if (c == NULL)
		return NULL;
	ok = put(c, "server", json_string(kc->server)) &&
	    (kc->tls_server_name == NULL || put(c, "tls-server-name",
	    json_string(kc->tls_server_name))) &&
	    (!kc->insecure || put(c, "insecure-skip-tls-verify",
	    json_true()));
	if (ok && kc->ca_data) {
		b64 = sy_base64_encode(kc->ca_data, kc->ca_len);
		ok = b64 != NULL;
	} else if (ok && kc->ca_file) {
		/* unreadable now: the plugin gets no CA, as curl gets none */
		if (read_file(kc->ca_file, 1024 * 1024, &ca, &calen) == 0)
			ok = (b64 = sy_base64_encode(ca, calen)) != NULL;
	}
	if (ok && b64)
		ok = put(c, "certificate-authority-data", json_string(b64));
	free(ca);
	free(b64);
	if (!ok) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* KUBERNETES_EXEC_INFO=<the ExecCredential request>. */
static int
exec_info(struct sy_ec_cfg *cfg, const struct sy_kubeconfig *kc,
    bool cluster)
{
	json_t *spec = json_pack("{s:b}", "interactive", 0);
	json_t *root = spec ? json_pack("{s:s, s:s, s:O}", "apiVersion",
	    cfg->api_version, "kind", "ExecCredential", "spec", spec) : NULL;
	char *text = NULL;
	int rc = KZ_ENOMEM;

	if (root == NULL)
		goto out;
	if (cluster && !put(spec, "cluster", exec_cluster(kc)))
		goto out;
	text = json_dumps(root, JSON_COMPACT);
	if (text && fmt_str(&cfg->exec_info, "KUBERNETES_EXEC_INFO=%s",
	    text) == 0)
		rc = KZ_OK;
out:
	free(text);
	json_decref(spec);
	json_decref(root);
	return rc;
}

static int
exec_check(yaml_document_t *d, yaml_node_t *exec, const char *where,
    const char **api, bool *cluster, char *err, size_t errsz)
{
	const char *mode = map_str(d, exec, "interactiveMode");
	const char *pci = map_str(d, exec, "provideClusterInfo");

	*api = map_str(d, exec, "apiVersion");
	if (map_str(d, exec, "command") == NULL) {
		snprintf(err, errsz, "%s: exec has no command", where);
		return KZ_EPARSE;
	}
	if (*api == NULL || (strcmp(*api, SY_EC_API_V1) != 0 &&
	    strcmp(*api, SY_EC_API_V1BETA1) != 0)) {
		snprintf(err, errsz, "%s: exec.apiVersion %s is not supported "
		    "(use %s or %s)", where, *api ? *api : "is missing",
		    SY_EC_API_V1, SY_EC_API_V1BETA1);
		return KZ_EPARSE;
	}
	if (mode && strcmp(mode, "Never") != 0 &&
	    strcmp(mode, "IfAvailable") != 0) {
		snprintf(err, errsz, "%s: exec.interactiveMode %s: kubezone "
		    "runs the plugin without a terminal (stdin is /dev/null); "
		    "use a plugin that needs no input (interactiveMode Never "
		    "or IfAvailable)", where, mode);
		return KZ_EPARSE;
	}
	*cluster = pci && strcmp(pci, "true") == 0;
	return KZ_OK;
}

static int
fill_exec(struct sy_kubeconfig *kc, struct kc_doc *kd, yaml_node_t *exec,
    const char *name, char *err, size_t errsz)
{
	yaml_document_t *d = &kd->doc;
	const char *cmd, *api = NULL;
	char where[640];
	bool cluster = false;
	struct sy_ec_cfg *cfg;
	int rc;

	snprintf(where, sizeof(where), "kubeconfig %s: user %s", kd->path,
	    name);
	if ((rc = exec_check(d, exec, where, &api, &cluster, err, errsz)))
		return rc;
	cmd = map_str(d, exec, "command");
	if (kc->exec) {
		sy_ec_free(kc->exec);
		free(kc->exec);
	}
	if ((kc->exec = malloc(sizeof(*kc->exec))) == NULL)
		return KZ_ENOMEM;
	sy_ec_init(kc->exec);
	cfg = &kc->exec->cfg;
	cfg->command = strchr(cmd, '/') ? resolve_path(kd->dir, cmd) :
	    strdup(cmd);
	if (cfg->command == NULL ||
	    (cfg->api_version = strdup(api)) == NULL ||
	    set_str(&cfg->install_hint, map_str(d, exec, "installHint")))
		return KZ_ENOMEM;
	if ((rc = exec_args(cfg, d, exec, where, err, errsz)) ||
	    (rc = exec_env(cfg, d, exec, where, err, errsz)))
		return rc;
	return exec_info(cfg, kc, cluster);
}

static int
fill_user(struct sy_kubeconfig *kc, struct kc_doc *kd, yaml_node_t *u,
    const char *name, char *err, size_t errsz)
{
	yaml_document_t *d = &kd->doc;
	yaml_node_t *exec = map_get(d, u, "exec");
	int rc;

	if (exec && (rc = fill_exec(kc, kd, exec, name, err, errsz)) != 0)
		return rc;
	if (map_get(d, u, "auth-provider")) {
		snprintf(err, errsz, "kubeconfig %s: user %s uses an "
		    "auth-provider; auth providers are not supported: use a "
		    "token, tokenFile or a client certificate", kd->path, name);
		return KZ_EPARSE;
	}
	if ((rc = set_str(&kc->token, map_str(d, u, "token"))) ||
	    (rc = set_path(&kc->token_file, kd, map_str(d, u, "tokenFile"))) ||
	    (rc = set_path(&kc->cert_file, kd,
	    map_str(d, u, "client-certificate"))) ||
	    (rc = set_path(&kc->key_file, kd, map_str(d, u, "client-key"))) ||
	    (rc = set_str(&kc->username, map_str(d, u, "username"))) ||
	    (rc = set_str(&kc->password, map_str(d, u, "password"))))
		return rc;
	if ((rc = set_b64(&kc->cert_data, &kc->cert_len,
	    map_str(d, u, "client-certificate-data"),
	    "client-certificate-data", kd, err, errsz)) != 0)
		return rc;
	return set_b64(&kc->key_data, &kc->key_len,
	    map_str(d, u, "client-key-data"), "client-key-data", kd, err,
	    errsz);
}

static const char *
current_context(struct kc_docs *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		yaml_document_t *d = &ds->d[i].doc;
		const char *c = map_str(d, yaml_document_get_root_node(d),
		    "current-context");
		if (c)
			return c;
	}
	return NULL;
}

static int
select_context(struct sy_kubeconfig *kc, struct kc_docs *ds,
    const char *context, char *err, size_t errsz)
{
	yaml_node_t *ctx, *cl, *us = NULL;
	struct kc_doc *kd, *kcl, *kus = NULL;
	const char *cname, *uname;
	int rc;

	if (context == NULL && (context = current_context(ds)) == NULL) {
		snprintf(err, errsz, "kubeconfig %s: no current-context (give "
		    "--context)", ds->d[0].path);
		return KZ_ENOTFOUND;
	}
	if ((kd = docs_find(ds, "contexts", "context", context, &ctx)) == NULL) {
		snprintf(err, errsz, "kubeconfig %s: no context named %s",
		    ds->d[0].path, context);
		return KZ_ENOTFOUND;
	}
	cname = map_str(&kd->doc, ctx, "cluster");
	uname = map_str(&kd->doc, ctx, "user");
	if (cname == NULL ||
	    (kcl = docs_find(ds, "clusters", "cluster", cname, &cl)) == NULL) {
		snprintf(err, errsz, "kubeconfig %s: context %s: cluster %s "
		    "not found", kd->path, context, cname ? cname : "(none)");
		return KZ_ENOTFOUND;
	}
	if (uname && (kus = docs_find(ds, "users", "user", uname, &us)) == NULL) {
		snprintf(err, errsz, "kubeconfig %s: context %s: user %s not "
		    "found", kd->path, context, uname);
		return KZ_ENOTFOUND;
	}
	if ((rc = fill_cluster(kc, kcl, cl, cname, err, errsz)) != 0)
		return rc;
	if (kus && (rc = fill_user(kc, kus, us, uname, err, errsz)) != 0)
		return rc;
	snprintf(kc->source, sizeof(kc->source), "kubeconfig %s context %s",
	    ds->d[0].path, context);
	return 0;
}

/* Split an http(s) URL's authority into HOST (IPv6 keeps brackets), PORT. */
static int
split_authority(const char *url, char *host, size_t hostsz, char *port,
    size_t portsz, const char **rest)
{
	const char *a = strstr(url, "://") + 3, *end, *colon;
	bool tls = strncmp(url, "https://", 8) == 0;

	end = a + strcspn(a, "/?#");
	colon = a[0] == '[' ? memchr(a, ']', (size_t)(end - a)) : a;
	if (colon == NULL)
		return KZ_EPARSE;
	colon = memchr(colon, ':', (size_t)(end - colon));
	if (colon == NULL)
		colon = end;
	if ((size_t)(colon - a) >= hostsz || colon == a)
		return KZ_EPARSE;
	memcpy(host, a, (size_t)(colon - a));
	host[colon - a] = '\0';
	if (colon < end)
		snprintf(port, portsz, "%.*s", (int)(end - colon - 1),
		    colon + 1);
	else
		snprintf(port, portsz, "%s", tls ? "443" : "80");
	*rest = end;
	return KZ_OK;
}

/* *DST = a new formatted string (NULL on failure). 0 or KZ_ENOMEM. */
static int
fmt_str(char **dst, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(dst, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*dst = NULL;
		return KZ_ENOMEM;
	}
	return KZ_OK;
}

/*
 * tls-server-name: requests go to https://NAME:PORT/... (so curl sends
 * NAME as SNI and checks the certificate against it), CONNECT_TO sends
 * them to the server's real host, and the Host header keeps that host.
 */
static int
setup_server_name(struct sy_kubeconfig *kc, char *err, size_t errsz)
{
	char host[256], port[16], *entry = NULL;
	const char *rest, *auth, *name = kc->tls_server_name;
	struct curl_slist *l;

	if (name == NULL || *name == '\0')
		return KZ_OK;
	if (strncmp(kc->server, "https://", 8) != 0) {
		kz_warn("kubeconfig: tls-server-name ignored: the server is "
		    "not https", "server=%s", kc->server);
		return KZ_OK;
	}
	if (strpbrk(name, ":/[]@ ") != NULL ||
	    split_authority(kc->server, host, sizeof(host), port,
	    sizeof(port), &rest)) {
		snprintf(err, errsz, "%s: invalid tls-server-name '%s' or "
		    "server %s", kc->source, name, kc->server);
		return KZ_EPARSE;
	}
	auth = kc->server + 8;
	if (fmt_str(&kc->request_base, "https://%s:%s%s", name, port, rest) ||
	    fmt_str(&kc->host_header, "Host: %.*s", (int)(rest - auth),
	    auth) ||
	    fmt_str(&entry, "%s:%s:%s:%s", name, port, host, port))
		return KZ_ENOMEM;
	l = curl_slist_append(NULL, entry);
	free(entry);
	if (l == NULL)
		return KZ_ENOMEM;
	kc->connect_to = l;
	return KZ_OK;
}

/* No credentials over plain http (as kubectl); warn about skipped TLS. */
static int
check_transport(struct sy_kubeconfig *kc, char *err, size_t errsz)
{
	if (strncmp(kc->server, "http://", 7) == 0 && (kc->token ||
	    kc->token_file || kc->username || kc->password || kc->exec)) {
		snprintf(err, errsz, "%s: server %s is plain http: kubezone "
		    "will not send a bearer token or a password over it (use "
		    "https, or a user without credentials)", kc->source,
		    kc->server);
		return KZ_EPARSE;
	}
	if (kc->insecure && strncmp(kc->server, "https://", 8) == 0)
		kz_warn("kubeconfig: insecure-skip-tls-verify is set: the API "
		    "server's certificate is not checked", "server=%s",
		    kc->server);
	return setup_server_name(kc, err, errsz);
}

const char *
sy_kubeconfig_base(const struct sy_kubeconfig *kc)
{
	return kc->request_base ? kc->request_base : kc->server;
}

int
sy_kubeconfig_load(struct sy_kubeconfig *kc, const char *paths,
    const char *context, char *err, size_t errsz)
{
	struct kc_docs ds;
	int rc;

	memset(&ds, 0, sizeof(ds));
	rc = docs_load(&ds, paths, err, errsz);
	if (rc == KZ_ENOMEM)
		snprintf(err, errsz, "out of memory");
	if (rc == 0)
		rc = select_context(kc, &ds, context, err, errsz);
	if (rc == 0)
		rc = check_transport(kc, err, errsz);
	if (rc == KZ_ENOMEM)
		snprintf(err, errsz, "out of memory");
	docs_free(&ds);
	return rc;
}

int
sy_kubeconfig_in_cluster(struct sy_kubeconfig *kc, const char *host,
    const char *port, const char *sa_dir, char *err, size_t errsz)
{
	char *ca = NULL;
	int rc;

	if (host == NULL || *host == '\0' || port == NULL || *port == '\0') {
		snprintf(err, errsz, "not in a cluster: KUBERNETES_SERVICE_HOST "
		    "and KUBERNETES_SERVICE_PORT are not both set");
		return KZ_ENOTFOUND;
	}
	free(kc->server);
	if (asprintf(&kc->server, strchr(host, ':') ? "https://[%s]:%s" :
	    "https://%s:%s", host, port) < 0) {
		kc->server = NULL;
		return KZ_ENOMEM;
	}
	free(kc->token_file);
	if (asprintf(&kc->token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&ca, "%s/ca.crt", sa_dir) < 0) {
		kc->token_file = NULL;
		return KZ_ENOMEM;
	}
	if (access(kc->token_file, R_OK) != 0) {
		rc = -errno;
		snprintf(err, errsz, "in-cluster: %s: %s", kc->token_file,
		    strerror(errno));
		free(ca);
		return rc;
	}
	if (access(ca, R_OK) != 0) {
		kz_warn("in-cluster CA not readable; using the system roots",
		    "file=%s", ca);
		free(ca);
	} else {
		free(kc->ca_file);
		kc->ca_file = ca;
	}
	snprintf(kc->source, sizeof(kc->source), "in-cluster");
	return 0;
}

int
sy_kubeconfig_resolve(struct sy_kubeconfig *kc, const char *kubeconfig_path,
    const char *context, char *err, size_t errsz)
{
	const char *env = getenv("KUBECONFIG");
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	if (kubeconfig_path && *kubeconfig_path)
		return sy_kubeconfig_load(kc, kubeconfig_path, context, err,
		    errsz);
	if (env && *env)
		return sy_kubeconfig_load(kc, env, context, err, errsz);
	if (host && *host && port && *port)
		return sy_kubeconfig_in_cluster(kc, host, port, SY_SA_DIR, err,
		    errsz);
	snprintf(err, errsz, "no Kubernetes API configured: give --snapshot "
	    "FILE or --kubeconfig FILE, set KUBECONFIG, or run in a pod "
	    "(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)");
	return KZ_ENOTFOUND;
}

/* --- tokens -------------------------------------------------------- */

static void
reread_token(struct sy_kubeconfig *kc, uint64_t now_ms)
{
	char *buf = NULL, *t;
	int rc;

	kc->token_read_ms = now_ms;
	kc->token_stale = false;
	rc = read_file(kc->token_file, MAX_TOKEN, &buf, NULL);
	if (rc || buf == NULL) {
		kz_warn("cannot read token file; keeping the last token",
		    "file=%s error=\"%s\"", kc->token_file, kz_strerror(rc));
		return;
	}
	t = trim(buf);
	if (*t == '\0') {
		kz_warn("token file is empty; keeping the last token",
		    "file=%s", kc->token_file);
		free(buf);
		return;
	}
	if (kc->cur_token == NULL || strcmp(kc->cur_token, t) != 0) {
		char *copy = strdup(t);
		if (copy) {
			if (kc->cur_token)
				kz_info("token file changed; using the new "
				    "token", "file=%s", kc->token_file);
			free(kc->cur_token);
			kc->cur_token = copy;
		}
	}
	kc->token_reads++;
	free(buf);
}

const char *
sy_kubeconfig_token(struct sy_kubeconfig *kc, uint64_t now_ms)
{
	if (kc->exec)
		return sy_ec_token(kc->exec);
	if (kc->token_file) {
		uint64_t period = kc->refresh_ms ? kc->refresh_ms :
		    SY_TOKEN_REFRESH_MS;

		if (kc->cur_token == NULL || kc->token_stale ||
		    now_ms - kc->token_read_ms >= period ||
		    now_ms < kc->token_read_ms)
			reread_token(kc, now_ms);
		if (kc->cur_token)
			return kc->cur_token;
	}
	return kc->token;
}

void
sy_kubeconfig_token_expire(struct sy_kubeconfig *kc)
{
	kc->token_stale = true;
}

void
sy_kubeconfig_attach(struct sy_kubeconfig *kc, struct sy_loop *l)
{
	if (kc->exec)
		sy_ec_attach(kc->exec, l);
}

bool
sy_kubeconfig_ready(struct sy_kubeconfig *kc, uint64_t now_ms)
{
	return kc->exec == NULL || sy_ec_ready(kc->exec, now_ms);
}

const char *
sy_kubeconfig_exec_error(const struct sy_kubeconfig *kc)
{
	return kc->exec && kc->exec->failing ? kc->exec->last_error : NULL;
}

bool
sy_kubeconfig_unauthorized(struct sy_kubeconfig *kc, uint64_t started_ms)
{
	if (kc->exec)
		return sy_ec_unauthorized(kc->exec, started_ms);
	sy_kubeconfig_token_expire(kc);
	return false;
}

/* --- curl ---------------------------------------------------------- */

static int
blob(CURL *h, CURLoption opt, char *data, size_t len)
{
	struct curl_blob b = { .data = data, .len = len,
		.flags = CURL_BLOB_COPY };

	return curl_easy_setopt(h, opt, &b) == CURLE_OK ? 0 : KZ_EINVAL;
}

/* The exec plugin's client certificate and key (PEM blobs). */
static int
apply_exec_cert(struct sy_ec *ec, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	if (blob(h, CURLOPT_SSLCERT_BLOB, ec->cred.cert, ec->cred.cert_len) ||
	    blob(h, CURLOPT_SSLKEY_BLOB, ec->cred.key, ec->cred.key_len))
		return KZ_EINVAL;
	return 0;
}

int
sy_kubeconfig_apply(const struct sy_kubeconfig *kc, CURL *h)
{
	int rc = 0;

	if (kc->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (kc->connect_to &&
	    curl_easy_setopt(h, CURLOPT_CONNECT_TO, kc->connect_to) != CURLE_OK)
		return KZ_EINVAL;
	if (kc->ca_data)
		rc = blob(h, CURLOPT_CAINFO_BLOB, kc->ca_data, kc->ca_len);
	else if (kc->ca_file &&
	    curl_easy_setopt(h, CURLOPT_CAINFO, kc->ca_file) != CURLE_OK)
		rc = KZ_EINVAL;
	if (rc == 0 && kc->exec && kc->exec->cred.cert)
		return apply_exec_cert(kc->exec, h);
	if (rc == 0 && (kc->cert_data || kc->cert_file))
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	if (rc == 0 && kc->cert_data)
		rc = blob(h, CURLOPT_SSLCERT_BLOB, kc->cert_data, kc->cert_len);
	else if (rc == 0 && kc->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, kc->cert_file);
	if (rc == 0 && kc->key_data) {
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		rc = blob(h, CURLOPT_SSLKEY_BLOB, kc->key_data, kc->key_len);
	} else if (rc == 0 && kc->key_file) {
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY, kc->key_file);
	}
	if (rc == 0 && kc->username && kc->token == NULL &&
	    kc->token_file == NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, kc->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD,
		    kc->password ? kc->password : "");
	}
	return rc;
}
