/*
 * tests/unit/test_decode.c -- zonegen/decode: Kubernetes JSON into the model.
 *
 * JSON is written with single quotes (J() turns them into double quotes,
 * byte for byte, so offsets in the text are offsets in the input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "zonegen/decode.h"
#include "zonegen/model.h"
#include "zonegen/selector.h"

/* ---- helpers ------------------------------------------------------- */

/* A copy of S with every ' made ", owned by the caller. */
static char *
J(const char *s)
{
	char *out = strdup(s);

	assert_non_null(out);
	for (char *p = out; *p; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

struct run {
	struct zg_model m;
	struct zg_decode_stats st;
	struct zg_decode_error err;
	int rc;
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	zg_model_init(&r->m);
}

static void
run_free(struct run *r)
{
	zg_model_free(&r->m);
}

/* Decode the J() form of TEXT from memory into R. */
static int
dec_buf(struct run *r, const char *text)
{
	char *s = J(text);

	r->rc = zg_decode_buffer(&r->m, s, strlen(s), "test.json", &r->st,
	    &r->err);
	free(s);
	return r->rc;
}

/* Decode LEN bytes of DATA through a file read CHUNK bytes at a time. */
static int
dec_fd_raw(struct run *r, const char *data, size_t len,
    const struct zg_decode_opts *opts)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = fileno(f);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	r->rc = zg_decode_fd(&r->m, fd, "test.json", opts, &r->st, &r->err);
	fclose(f);
	return r->rc;
}

static int
dec_fd(struct run *r, const char *text, size_t chunk, size_t max_item)
{
	struct zg_decode_opts o = { 0 };
	char *s = J(text);

	o.chunk_size = chunk;
	o.max_item = max_item;
	dec_fd_raw(r, s, strlen(s), &o);
	free(s);
	return r->rc;
}

static const char *
ipstr(const struct zg_ip *ip)
{
	static char bufs[8][64];
	static int next;
	char *b = bufs[next++ % 8];

	return zg_ip_str(ip, b, 64);
}

static const struct zg_service *
svc(const struct run *r, const char *key)
{
	return zg_model_service(&r->m, key);
}

static const struct zg_slice *
slice(const struct run *r, const char *key)
{
	return kz_map_get(&r->m.objects[ZG_KIND_SLICE], key);
}

static const struct zg_pod *
pod(const struct run *r, const char *key)
{
	return kz_map_get(&r->m.objects[ZG_KIND_POD], key);
}

/* Text of every object in the model, in table order. */
static char *
model_dump(const struct zg_model *m)
{
	struct kz_buf b;
	size_t it;
	const char *k;
	void *v;

	kz_buf_init(&b, 1 << 24);
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SERVICE], &it, &k, &v);) {
		const struct zg_service *s = v;
		kz_buf_printf(&b, "svc %s t%d h%d", k, s->type, s->headless);
		for (int i = 0; i < s->nips; i++)
			kz_buf_printf(&b, " %s", ipstr(&s->ips[i]));
		for (int i = 0; i < s->nports; i++)
			kz_buf_printf(&b, " %s/%d/%u", s->ports[i].name ?
			    s->ports[i].name : "-", s->ports[i].proto,
			    s->ports[i].port);
		kz_buf_printf(&b, " %s\n", s->external_name ?
		    s->external_name : "-");
	}
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SLICE], &it, &k, &v);) {
		const struct zg_slice *s = v;
		kz_buf_printf(&b, "eps %s %s a%d", k, s->service ? s->service :
		    "-", s->addr_type);
		for (uint32_t i = 0; i < s->naddrs; i++)
			kz_buf_printf(&b, " %s/%d/%s/%s",
			    ipstr(&s->addrs[i].ip), s->addrs[i].ready,
			    s->addrs[i].hostname ? s->addrs[i].hostname : "-",
			    s->addrs[i].target ? s->addrs[i].target : "-");
		kz_buf_puts(&b, "\n");
	}
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_POD], &it, &k, &v);) {
		const struct zg_pod *p = v;
		kz_buf_printf(&b, "pod %s %d", k, p->active);
		for (int i = 0; i < p->nips; i++)
			kz_buf_printf(&b, " %s", ipstr(&p->ips[i]));
		kz_buf_puts(&b, "\n");
	}
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_NAMESPACE], &it, &k, &v);)
		kz_buf_printf(&b, "ns %s\n", k);
	return kz_buf_steal(&b, NULL);
}

#define NS(name) "{'kind':'Namespace','metadata':{'name':'" name "'}}"
#define POD(ns, name, ip) "{'kind':'Pod','metadata':{'namespace':'" ns \
	"','name':'" name "'},'status':{'phase':'Running','podIP':'" ip "'}}"

/* ---- input forms --------------------------------------------------- */

static void
test_list_mixed(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r,
	    "{'apiVersion':'v1','kind':'List','items':["
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web',"
	    "'namespace':'shop'},'spec':{'clusterIP':'10.0.0.10',"
	    "'ports':[{'name':'http','port':80}]}},"
	    "{'kind':'EndpointSlice','metadata':{'name':'web-x','namespace':"
	    "'shop','labels':{'kubernetes.io/service-name':'web'}},"
	    "'addressType':'IPv4','endpoints':[{'addresses':['10.1.0.5']}]},"
	    POD("shop", "web-1", "10.1.0.5") ","
	    NS("shop") ","
	    "{'kind':'ConfigMap','metadata':{'name':'cm','namespace':'shop'}}"
	    "],'metadata':{'resourceVersion':''}}"), 0);
	assert_int_equal(r.st.objects, 5);
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 1);
	assert_int_equal(r.st.decoded[ZG_KIND_SLICE], 1);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 1);
	assert_int_equal(r.st.decoded[ZG_KIND_NAMESPACE], 1);
	assert_int_equal(r.st.skipped_kind, 1);
	assert_int_equal(r.st.invalid, 0);
	assert_non_null(svc(&r, "shop/web"));
	assert_string_equal(svc(&r, "shop/web")->name, "web");
	assert_string_equal(svc(&r, "shop/web")->ns, "shop");
	assert_string_equal(ipstr(&svc(&r, "shop/web")->ips[0]), "10.0.0.10");
	assert_string_equal(slice(&r, "shop/web-x")->service, "web");
	assert_string_equal(ipstr(&pod(&r, "shop/web-1")->ips[0]), "10.1.0.5");
	assert_true(zg_model_has_namespace(&r.m, "shop"));
	run_free(&r);
}

static void
test_typed_list_kind_first(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	/* API server order: kind, apiVersion, metadata, items. */
	assert_int_equal(dec_buf(&r,
	    "{'kind':'ServiceList','apiVersion':'v1','metadata':"
	    "{'resourceVersion':'42'},'items':["
	    "{'metadata':{'name':'a','namespace':'x'},'spec':"
	    "{'clusterIP':'10.0.0.1'}},"
	    "{'metadata':{'name':'b'},'spec':{'clusterIP':'10.0.0.2'}},"
	    "{'kind':'Namespace','metadata':{'name':'own-kind-wins'}}]}"), 0);
	assert_int_equal(r.st.objects, 3);
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 2);
	assert_int_equal(r.st.decoded[ZG_KIND_NAMESPACE], 1);
	assert_string_equal(ipstr(&svc(&r, "x/a")->ips[0]), "10.0.0.1");
	/* metadata.namespace defaults to "default". */
	assert_string_equal(ipstr(&svc(&r, "default/b")->ips[0]), "10.0.0.2");
	assert_true(zg_model_has_namespace(&r.m, "own-kind-wins"));
	run_free(&r);

	/* EndpointSliceList and NamespaceList drop the "List" too. */
	run_init(&r);
	assert_int_equal(dec_buf(&r,
	    "{'kind':'EndpointSliceList','items':[{'metadata':{'name':'s',"
	    "'namespace':'n'},'addressType':'IPv6','endpoints':"
	    "[{'addresses':['fd00::1']}]}]}"
	    "{'kind':'NamespaceList','items':[{'metadata':{'name':'n'}}]}"), 0);
	assert_int_equal(r.st.decoded[ZG_KIND_SLICE], 1);
	assert_int_equal(r.st.decoded[ZG_KIND_NAMESPACE], 1);
	assert_string_equal(ipstr(&slice(&r, "n/s")->addrs[0].ip), "fd00::1");
	run_free(&r);
}

static void
test_typed_list_kind_after(void **state)
{
	static const char kubectl_order[] = "{'apiVersion':'v1','items':["
	    "{'metadata':{'name':'p1','namespace':'a'},'status':"
	    "{'podIP':'10.2.0.1'}},"
	    "{'kind':'Namespace','metadata':{'name':'a'}},"
	    "{'metadata':{'name':'p2','namespace':'a'},'status':"
	    "{'podIP':'10.2.0.2'}}"
	    "],'kind':'PodList','metadata':{}}";
	char *want, *got;
	struct run r;

	(void)state;
	run_init(&r);
	/* kubectl order: apiVersion, items, kind, metadata. */
	assert_int_equal(dec_buf(&r, kubectl_order), 0);
	assert_int_equal(r.st.objects, 3);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 2);
	assert_int_equal(r.st.decoded[ZG_KIND_NAMESPACE], 1);
	assert_int_equal(r.st.skipped_kind, 0);
	assert_string_equal(ipstr(&pod(&r, "a/p1")->ips[0]), "10.2.0.1");
	assert_string_equal(ipstr(&pod(&r, "a/p2")->ips[0]), "10.2.0.2");
	want = model_dump(&r.m);
	run_free(&r);
	/* The same read a few bytes at a time. */
	for (size_t chunk = 1; chunk < 12; chunk += 5) {
		run_init(&r);
		assert_int_equal(dec_fd(&r, kubectl_order, chunk, 0), 0);
		assert_int_equal(r.st.decoded[ZG_KIND_POD], 2);
		got = model_dump(&r.m);
		assert_string_equal(got, want);
		free(got);
		run_free(&r);
	}
	free(want);

	/* A plain List names no item kind: kind-less items are skipped. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'items':[{'metadata':{'name':'p'}}],"
	    "'kind':'List'}"), 0);
	assert_int_equal(r.st.objects, 1);
	assert_int_equal(r.st.skipped_kind, 1);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_POD), 0);
	run_free(&r);

	/* No kind at all: the same. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'items':[{'metadata':{'name':'p'}},"
	    "{'metadata':{'name':'q'}}]}"), 0);
	assert_int_equal(r.st.objects, 2);
	assert_int_equal(r.st.skipped_kind, 2);
	run_free(&r);

	/* Kind first but a plain List: skipped at once. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'List','items':"
	    "[{'metadata':{'name':'p'}}]}"), 0);
	assert_int_equal(r.st.skipped_kind, 1);
	run_free(&r);
}

static void
test_single_and_concatenated(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, POD("a", "one", "10.0.0.1")), 0);
	assert_int_equal(r.st.objects, 1);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 1);
	assert_non_null(pod(&r, "a/one"));
	run_free(&r);

	/* Objects, lists and arrays one after another, with or without
	 * whitespace between them. */
	run_init(&r);
	assert_int_equal(dec_buf(&r,
	    "\n" POD("a", "one", "10.0.0.1") "\n\n"
	    "{'kind':'PodList','items':[" POD("b", "two", "10.0.0.2") "]}"
	    NS("c") " \t\r\n"
	    "[" NS("d") ", {'kind':'Secret','metadata':{'name':'s'}}, 7]\n"
	    "{'kind':'ServiceList','items':[]}\n"), 0);
	assert_int_equal(r.st.objects, 6);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 2);
	assert_int_equal(r.st.decoded[ZG_KIND_NAMESPACE], 2);
	assert_int_equal(r.st.skipped_kind, 2);	/* Secret and 7 */
	assert_non_null(pod(&r, "b/two"));
	assert_true(zg_model_has_namespace(&r.m, "c"));
	assert_true(zg_model_has_namespace(&r.m, "d"));
	run_free(&r);

	/* Only a top-level "items" array makes a list. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'Pod','metadata':{'name':'p',"
	    "'items':[1]},'items':null}{'kind':'PodList','items':null}"), 0);
	assert_int_equal(r.st.objects, 1);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 1);
	assert_non_null(pod(&r, "default/p"));
	run_free(&r);

	/* A single object of a kind we do not use, and an empty object. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'Node','metadata':"
	    "{'name':'n1'}} {}"), 0);
	assert_int_equal(r.st.objects, 2);
	assert_int_equal(r.st.skipped_kind, 2);
	run_free(&r);
}

static void
test_empty_input(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(zg_decode_buffer(&r.m, NULL, 0, "e", &r.st, &r.err),
	    0);
	assert_int_equal(dec_buf(&r, " \n\t\r\n"), 0);
	assert_int_equal(dec_fd(&r, "", 0, 0), 0);
	assert_int_equal(dec_fd(&r, "\n\n", 1, 0), 0);
	assert_int_equal(r.st.objects, 0);
	assert_int_equal(r.st.bytes, 7);
	run_free(&r);
}

/* A document that exercises the scanner; see test_chunk_boundaries. */
static char *
tricky_doc(void)
{
	struct kz_buf b;

	kz_buf_init(&b, 1 << 20);
	kz_buf_puts(&b,
	    "{'kind':'List','metadata':{'note':'items: [ ] { } \\' \\\\'},"
	    "'items':[\n"
	    "  {'kind':'Service','metadata':{'name':'web','namespace':'shop',"
	    "'annotations':{'x':'{\\'a\\':[1,2,{\\'b\\':\\']}\\'}]}',"
	    "'y':'ends with a backslash \\\\','z':'\\\\\\'',"
	    "'u':'caf\\u00e9 \u00e9 \\ud83d\\ude00 \\/\\b\\f\\n\\r\\t'}},"
	    "'spec':{'clusterIPs':['10.0.0.10','fd00::10'],"
	    "'ports':[{'name':'http','port':80},{'port':53,'protocol':'UDP'}]}"
	    "},\n  {'kind':'ConfigMap','metadata':{'name':'big'},'data':"
	    "{'script':'");
	for (int i = 0; i < 400; i++)
		kz_buf_puts(&b, "echo \\'}]\\' \\\\\\\\ {[ ;\\n");
	kz_buf_puts(&b, "'}},\n  {'kind':'EndpointSlice','metadata':"
	    "{'name':'web-1','namespace':'shop','labels':"
	    "{'kubernetes.io/service-name':'web'}},'addressType':'IPv4',"
	    "'ports':[{'name':'http','port':8080}],'endpoints':["
	    "{'addresses':['10.1.0.1'],'hostname':'h-\\u0031',"
	    "'targetRef':{'kind':'Pod','name':'web-abc'}},"
	    "{'addresses':['10.1.0.2','10.1.0.3'],'conditions':"
	    "{'ready':false},'targetRef':{'kind':'Node','name':'n'}}]},\n"
	    "  " POD("shop", "web-abc", "10.1.0.1") "\n]}\n"
	    "[" NS("shop") "," NS("[x]") "]\n" NS("{y}"));
	return kz_buf_steal(&b, NULL);
}

static void
test_chunk_boundaries(void **state)
{
	static const size_t chunks[] = { 1, 2, 3, 4, 5, 7, 8, 13, 64, 100,
		1000, 4096, 0 };
	char *doc = tricky_doc(), *s = J(doc), *want, *got;
	struct zg_decode_opts o = { 0 };
	struct run ref, r;

	(void)state;
	run_init(&ref);
	assert_int_equal(zg_decode_buffer(&ref.m, s, strlen(s), "t", &ref.st,
	    &ref.err), 0);
	assert_int_equal(ref.st.objects, 7);
	assert_int_equal(ref.st.skipped_kind, 1);
	assert_int_equal(ref.st.decoded[ZG_KIND_NAMESPACE], 3);
	want = model_dump(&ref.m);
	assert_non_null(strstr(want, "ns [x]\n"));
	assert_non_null(strstr(want, "ns {y}\n"));
	assert_non_null(strstr(want, "ns shop\n"));
	assert_non_null(strstr(want, "svc shop/web t0 h0 10.0.0.10 fd00::10 "
	    "http/0/80 -/1/53 -\n"));
	assert_non_null(strstr(want, "eps shop/web-1 web a0 "
	    "10.1.0.1/1/h-1/web-abc 10.1.0.2/0/-/- 10.1.0.3/0/-/-\n"));
	assert_non_null(strstr(want, "pod shop/web-abc 1 10.1.0.1\n"));
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run_init(&r);
		o.chunk_size = chunks[i];
		assert_int_equal(dec_fd_raw(&r, s, strlen(s), &o), 0);
		got = model_dump(&r.m);
		assert_string_equal(got, want);
		assert_memory_equal(&r.st, &ref.st, sizeof(r.st));
		free(got);
		run_free(&r);
	}
	free(want);
	free(s);
	free(doc);
	run_free(&ref);
}

/* ---- per kind ------------------------------------------------------ */

static void
test_service_fields(void **state)
{
	const struct zg_service *s;
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'ServiceList','items':["
	    /* dual stack */
	    "{'metadata':{'name':'dual','namespace':'n'},'spec':{'type':"
	    "'ClusterIP','clusterIP':'10.0.0.1','clusterIPs':['10.0.0.1',"
	    "'fd00::1'],'ports':[{'name':'dns','port':53,'protocol':'UDP'},"
	    "{'name':'dns-tcp','port':53,'protocol':'TCP'},{'name':'s',"
	    "'port':9,'protocol':'SCTP'},{'port':65535}]}},"
	    /* headless by clusterIP, by clusterIPs */
	    "{'metadata':{'name':'hl','namespace':'n'},'spec':"
	    "{'clusterIP':'None','ports':[{'name':'','port':1}]}},"
	    "{'metadata':{'name':'hl2','namespace':'n'},'spec':"
	    "{'clusterIPs':['None']}},"
	    /* ExternalName, copied as given */
	    "{'metadata':{'name':'ext','namespace':'n'},'spec':{'type':"
	    "'ExternalName','externalName':'Example.COM.'}},"
	    /* NodePort, LoadBalancer; empty clusterIPs falls back */
	    "{'metadata':{'name':'np','namespace':'n'},'spec':{'type':"
	    "'NodePort','clusterIP':'10.0.0.3','clusterIPs':[],'ports':"
	    "[{'name':'http','port':80,'nodePort':30080}]}},"
	    "{'metadata':{'name':'lb','namespace':'n'},'spec':{'type':"
	    "'LoadBalancer','clusterIP':'10.0.0.4','externalName':'ignored'}},"
	    /* unparsable clusterIPs entries skipped; at most two kept */
	    "{'metadata':{'name':'many','namespace':'n'},'spec':{'clusterIPs'"
	    ":['bogus','10.0.0.5',7,'fd00::5','10.0.0.6']}},"
	    /* no spec at all: no clusterIP, skipped and counted apart */
	    "{'metadata':{'name':'bare','namespace':'n'}}"
	    "]}"), 0);
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 7);
	assert_int_equal(r.st.invalid, 0);
	assert_int_equal(r.st.no_cluster_ip, 1);

	s = svc(&r, "n/dual");
	assert_int_equal(s->type, ZG_SVC_CLUSTERIP);
	assert_false(s->headless);
	assert_int_equal(s->nips, 2);
	assert_int_equal(s->ips[0].family, ZG_IPV4);
	assert_string_equal(ipstr(&s->ips[0]), "10.0.0.1");
	assert_int_equal(s->ips[1].family, ZG_IPV6);
	assert_string_equal(ipstr(&s->ips[1]), "fd00::1");
	assert_int_equal(s->nports, 4);
	assert_string_equal(s->ports[0].name, "dns");
	assert_int_equal(s->ports[0].proto, ZG_UDP);
	assert_int_equal(s->ports[0].port, 53);
	assert_int_equal(s->ports[1].proto, ZG_TCP);
	assert_int_equal(s->ports[2].proto, ZG_SCTP);
	assert_int_equal(s->ports[2].port, 9);
	assert_null(s->ports[3].name);		/* unnamed */
	assert_int_equal(s->ports[3].proto, ZG_TCP);	/* default */
	assert_int_equal(s->ports[3].port, 65535);
	assert_null(s->external_name);

	s = svc(&r, "n/hl");
	assert_true(s->headless);
	assert_int_equal(s->nips, 0);
	assert_int_equal(s->nports, 1);
	assert_null(s->ports[0].name);		/* "" is unnamed */
	assert_true(svc(&r, "n/hl2")->headless);
	assert_int_equal(svc(&r, "n/hl2")->nips, 0);

	s = svc(&r, "n/ext");
	assert_int_equal(s->type, ZG_SVC_EXTERNALNAME);
	assert_string_equal(s->external_name, "Example.COM.");
	assert_int_equal(s->nips, 0);
	assert_false(s->headless);

	s = svc(&r, "n/np");
	assert_int_equal(s->type, ZG_SVC_NODEPORT);
	assert_int_equal(s->nips, 1);
	assert_string_equal(ipstr(&s->ips[0]), "10.0.0.3");
	assert_int_equal(s->ports[0].port, 80);
	s = svc(&r, "n/lb");
	assert_int_equal(s->type, ZG_SVC_LOADBALANCER);
	assert_null(s->external_name);

	s = svc(&r, "n/many");
	assert_int_equal(s->nips, 2);
	assert_string_equal(ipstr(&s->ips[0]), "10.0.0.5");
	assert_string_equal(ipstr(&s->ips[1]), "fd00::5");

	assert_null(svc(&r, "n/bare"));
	run_free(&r);
}

static void
test_slice_fields(void **state)
{
	const struct zg_slice *s;
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'EndpointSliceList','items':["
	    "{'metadata':{'name':'hl-abc','namespace':'n','labels':"
	    "{'kubernetes.io/service-name':'hl'}},'addressType':'IPv4',"
	    "'ports':[{'name':'http','port':8080,'protocol':'TCP'},"
	    "{'port':null},{'name':null,'port':53,'protocol':'UDP'},"
	    "{'name':''}],"
	    "'endpoints':["
	    "{'addresses':['10.1.0.1'],'conditions':{'ready':true},"
	    "'hostname':'web-0','targetRef':{'kind':'Pod','name':'web-0'}},"
	    "{'addresses':['10.1.0.2'],'conditions':{'ready':false},"
	    "'targetRef':{'kind':'Pod','name':'web-1'}},"
	    "{'addresses':['10.1.0.3']},"
	    "{'addresses':['10.1.0.4'],'conditions':{'ready':null,"
	    "'serving':true}},"
	    "{'addresses':['10.1.0.5','not-an-ip','fd00::9','10.1.0.6'],"
	    "'conditions':{},'hostname':'multi',"
	    "'targetRef':{'kind':'Node','name':'node-1'}},"
	    "{'addresses':['bogus'],'hostname':'lost'},"
	    "{'addresses':[]}"
	    "]},"
	    "{'metadata':{'name':'v6','namespace':'n'},'addressType':'IPv6',"
	    "'endpoints':[{'addresses':['FD00:0:0::1:2']}]},"
	    "{'metadata':{'name':'fq','namespace':'n','labels':"
	    "{'kubernetes.io/service-name':'ext'}},'addressType':'FQDN',"
	    "'endpoints':[{'addresses':['example.com']}],'ports':"
	    "[{'port':443}]},"
	    "{'metadata':{'name':'none','namespace':'n'},'addressType':'IPv4',"
	    "'endpoints':null}"
	    "]}"), 0);
	assert_int_equal(r.st.decoded[ZG_KIND_SLICE], 4);
	assert_int_equal(r.st.invalid, 0);
	/* not-an-ip, fd00::9 in an IPv4 slice, bogus. */
	assert_int_equal(r.st.bad_addresses, 3);

	s = slice(&r, "n/hl-abc");
	assert_string_equal(s->service, "hl");
	assert_int_equal(s->addr_type, ZG_ADDR_IPV4);
	assert_int_equal(s->nports, 4);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].port, 8080);
	assert_int_equal(s->ports[0].proto, ZG_TCP);
	assert_null(s->ports[1].name);
	assert_int_equal(s->ports[1].port, 0);		/* null port */
	assert_int_equal(s->ports[1].proto, ZG_TCP);
	assert_null(s->ports[2].name);
	assert_int_equal(s->ports[2].proto, ZG_UDP);
	assert_null(s->ports[3].name);
	assert_int_equal(s->ports[3].port, 0);		/* absent port */

	assert_int_equal(s->naddrs, 6);
	assert_string_equal(ipstr(&s->addrs[0].ip), "10.1.0.1");
	assert_true(s->addrs[0].ready);
	assert_string_equal(s->addrs[0].hostname, "web-0");
	assert_string_equal(s->addrs[0].target, "web-0");
	assert_string_equal(ipstr(&s->addrs[1].ip), "10.1.0.2");
	assert_false(s->addrs[1].ready);
	assert_null(s->addrs[1].hostname);
	assert_string_equal(s->addrs[1].target, "web-1");
	assert_true(s->addrs[2].ready);			/* absent */
	assert_null(s->addrs[2].target);
	assert_true(s->addrs[3].ready);			/* null */
	/* Several addresses of one endpoint share hostname and target;
	 * a Node targetRef is not a target. */
	assert_string_equal(ipstr(&s->addrs[4].ip), "10.1.0.5");
	assert_string_equal(ipstr(&s->addrs[5].ip), "10.1.0.6");
	assert_true(s->addrs[4].ready);
	assert_string_equal(s->addrs[4].hostname, "multi");
	assert_ptr_equal(s->addrs[4].hostname, s->addrs[5].hostname);
	assert_null(s->addrs[4].target);
	assert_null(s->addrs[5].target);
	/* All strings live in the one blob. */
	assert_ptr_equal(s->addrs[0].hostname, s->strings);
	for (int i = 0; i < 6; i++) {
		if (s->addrs[i].hostname)
			assert_true(s->addrs[i].hostname >= s->strings &&
			    s->addrs[i].hostname < s->strings + 64);
	}

	s = slice(&r, "n/v6");
	assert_null(s->service);
	assert_int_equal(s->addr_type, ZG_ADDR_IPV6);
	assert_int_equal(s->naddrs, 1);
	assert_string_equal(ipstr(&s->addrs[0].ip), "fd00::1:2");
	assert_null(s->strings);

	s = slice(&r, "n/fq");
	assert_int_equal(s->addr_type, ZG_ADDR_FQDN);
	assert_int_equal(s->naddrs, 0);
	assert_null(s->addrs);
	assert_int_equal(s->nports, 1);
	assert_int_equal(s->ports[0].port, 443);

	assert_int_equal(slice(&r, "n/none")->naddrs, 0);
	run_free(&r);
}

static void
test_pod_fields(void **state)
{
	const struct zg_pod *p;
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'PodList','items':["
	    "{'metadata':{'name':'run','namespace':'a'},'status':{'phase':"
	    "'Running','podIP':'10.0.0.1','podIPs':[{'ip':'10.0.0.1'},"
	    "{'ip':'fd00::1'}]}},"
	    "{'metadata':{'name':'pend','namespace':'a'},'status':{'phase':"
	    "'Pending'}},"
	    "{'metadata':{'name':'done','namespace':'a'},'status':{'phase':"
	    "'Succeeded','podIP':'10.0.0.3'}},"
	    "{'metadata':{'name':'fail','namespace':'a'},'status':{'phase':"
	    "'Failed'}},"
	    "{'metadata':{'name':'unk','namespace':'a'},'status':{'phase':"
	    "'Unknown'}},"
	    "{'metadata':{'name':'term','namespace':'a','deletionTimestamp':"
	    "'2026-01-01T00:00:00Z'},'status':{'phase':'Running','podIP':"
	    "'10.0.0.6'}},"
	    "{'metadata':{'name':'nulldel','namespace':'a',"
	    "'deletionTimestamp':null},'status':{'phase':'Running'}},"
	    "{'metadata':{'name':'old','namespace':'a'},'status':{'podIP':"
	    "'10.0.0.8'}},"
	    "{'metadata':{'name':'fam','namespace':'a'},'status':{'podIP':"
	    "'10.9.9.9','podIPs':[{'ip':'10.0.0.9'},{'ip':'10.0.0.99'},"
	    "{'ip':'junk'},{'ip':'fd00::9'},{'ip':'fd00::99'}]}},"
	    "{'metadata':{'name':'nostatus'}}"
	    "]}"), 0);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 10);

	p = pod(&r, "a/run");
	assert_true(p->active);
	assert_int_equal(p->nips, 2);
	assert_string_equal(ipstr(&p->ips[0]), "10.0.0.1");
	assert_string_equal(ipstr(&p->ips[1]), "fd00::1");
	assert_true(pod(&r, "a/pend")->active);
	assert_int_equal(pod(&r, "a/pend")->nips, 0);
	assert_false(pod(&r, "a/done")->active);
	assert_string_equal(ipstr(&pod(&r, "a/done")->ips[0]), "10.0.0.3");
	assert_false(pod(&r, "a/fail")->active);
	assert_false(pod(&r, "a/unk")->active);
	assert_false(pod(&r, "a/term")->active);
	assert_true(pod(&r, "a/nulldel")->active);
	p = pod(&r, "a/old");			/* podIP without podIPs */
	assert_int_equal(p->nips, 1);
	assert_string_equal(ipstr(&p->ips[0]), "10.0.0.8");
	p = pod(&r, "a/fam");			/* first of each family */
	assert_int_equal(p->nips, 2);
	assert_string_equal(ipstr(&p->ips[0]), "10.0.0.9");
	assert_string_equal(ipstr(&p->ips[1]), "fd00::9");
	p = pod(&r, "default/nostatus");
	assert_true(p->active);
	assert_int_equal(p->nips, 0);
	run_free(&r);
}

static void
test_namespace_and_object_api(void **state)
{
	struct zg_decode_error err = { 0 };
	const char *ns, *name;
	json_error_t je;
	struct run r;
	json_t *o;

	(void)state;
	run_init(&r);
	/* A namespace's own metadata.namespace is ignored. */
	assert_int_equal(dec_buf(&r, "{'kind':'Namespace','metadata':"
	    "{'name':'kube-system','namespace':'x'}}"), 0);
	assert_true(zg_model_has_namespace(&r.m, "kube-system"));
	assert_false(zg_model_has_namespace(&r.m, "x"));

	/* zg_decode_object: KIND overrides, NULL reads the object's. */
	o = json_loads("{\"metadata\":{\"name\":\"p\",\"namespace\":\"w\"},"
	    "\"status\":{\"podIP\":\"10.3.0.1\"}}", 0, &je);
	assert_non_null(o);
	assert_int_equal(zg_decode_object(&r.m, o, NULL, &err), 1);
	assert_int_equal(zg_decode_object(&r.m, o, "Deployment", &err), 1);
	assert_int_equal(zg_decode_object(&r.m, o, "Pod", &err), 0);
	assert_string_equal(ipstr(&pod(&r, "w/p")->ips[0]), "10.3.0.1");
	assert_int_equal(zg_decode_meta(o, &ns, &name), 0);
	assert_string_equal(ns, "w");
	assert_string_equal(name, "p");
	json_decref(o);

	o = json_loads("{\"kind\":\"Service\",\"metadata\":{\"name\":\"\"}}",
	    0, &je);
	assert_int_equal(zg_decode_meta(o, &ns, &name), KZ_EPARSE);
	assert_int_equal(zg_decode_object(&r.m, o, NULL, &err), KZ_EPARSE);
	assert_string_equal(err.text, "no metadata.name");
	json_decref(o);

	o = json_loads("[1]", 0, &je);
	assert_int_equal(zg_decode_object(&r.m, o, "Pod", &err), 1);
	json_decref(o);
	run_free(&r);
}

/* OBJ without the members zg_decode_unread(KIND) names. */
static void
del_unread(json_t *obj, enum zg_kind kind)
{
	const char *const *paths = zg_decode_unread(kind);

	for (size_t i = 0; paths[i]; i++) {
		char buf[128], *dot;
		json_t *parent = obj;
		const char *key = buf;

		snprintf(buf, sizeof(buf), "%s", paths[i]);
		while ((dot = strchr(key, '.')) != NULL && parent) {
			*dot = '\0';
			parent = json_object_get(parent, key);
			key = dot + 1;
		}
		if (json_is_object(parent))
			json_object_del(parent, key);
	}
}

/*
 * What zg_decode_unread() lists is never read: each kind decodes to the
 * same object with those members (holding values of the wrong type,
 * which a reader would trip on) and without them.
 */
static void
test_unread_members(void **state)
{
	static const struct {
		enum zg_kind kind;
		const char *json;
	} cases[] = {
		{ ZG_KIND_POD, "{'kind':'Pod','metadata':{'name':'p',"
		    "'namespace':'a','managedFields':7},'spec':{'hostname':"
		    "'h','subdomain':'s','hostNetwork':true},'status':{'phase':"
		    "'Running','podIP':'10.0.0.1','conditions':7,"
		    "'containerStatuses':7,'initContainerStatuses':7,"
		    "'ephemeralContainerStatuses':7}}" },
		{ ZG_KIND_SERVICE, "{'kind':'Service','metadata':{'name':'s',"
		    "'namespace':'a','managedFields':7},'spec':{'clusterIP':"
		    "'10.1.0.1','ports':[{'name':'h','port':80}]}}" },
		{ ZG_KIND_SLICE, "{'kind':'EndpointSlice','metadata':{'name':"
		    "'e','namespace':'a','managedFields':7,'labels':"
		    "{'kubernetes.io/service-name':'s'}},'addressType':'IPv4',"
		    "'endpoints':[{'addresses':['10.0.0.1']}]}" },
		{ ZG_KIND_NAMESPACE, "{'kind':'Namespace','metadata':{'name':"
		    "'a','managedFields':7},'spec':7,'status':7}" },
		{ ZG_KIND_IMPORT, "{'kind':'ServiceImport','metadata':{'name':"
		    "'s','namespace':'a','managedFields':7},'spec':{'type':"
		    "'ClusterSetIP','ips':['10.2.0.1']}}" },
	};
	struct zg_decode_error err;
	struct zg_model m;

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zg_change **v;
		char text[1024];
		json_t *o;
		size_t n;
		int lost;

		snprintf(text, sizeof(text), "%s", cases[i].json);
		for (char *c = text; *c; c++)
			if (*c == '\'')
				*c = '"';
		o = json_loads(text, 0, NULL);
		assert_non_null(o);
		memset(&err, 0, sizeof(err));
		assert_int_equal(zg_decode_object(&m, o, NULL, &err), 0);
		v = zg_model_take_changes(&m, &n, &lost);
		zg_changes_free(v, n);
		assert_int_equal(n, 1);
		/* the same object without them: no change */
		del_unread(o, cases[i].kind);
		assert_int_equal(zg_decode_object(&m, o, NULL, &err), 0);
		v = zg_model_take_changes(&m, &n, &lost);
		zg_changes_free(v, n);
		assert_int_equal(n, 0);
		json_decref(o);
	}
	zg_model_free(&m);
}

/* ---- invalid objects and replacement -------------------------------- */

static void
test_invalid_objects_skipped(void **state)
{
	unsigned long warns = kz_log_count(KZ_LOG_WARN);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct run r;

	(void)state;
	kz_log_set_stream(f);
	kz_log_set_level(KZ_LOG_WARN);
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'List','items':["
	    "{'kind':'Service','metadata':{'namespace':'shop'}},"
	    "{'kind':'Service','metadata':{'name':'bad','namespace':'shop'},"
	    "'spec':{'clusterIP':'10.0.0.300'}},"
	    "{'kind':'Service','metadata':{'name':'ok','namespace':'shop'},"
	    "'spec':{'clusterIP':'10.0.0.7'}},"
	    "{'kind':'Service','metadata':{'name':'proto','namespace':'shop'},"
	    "'spec':{'clusterIP':'10.0.0.8','ports':[{'port':80},{'port':81,"
	    "'protocol':'HTTP'}]}},"
	    "{'kind':'Service','metadata':{'name':'port0'},'spec':{'ports':"
	    "[{'port':0}]}},"
	    "{'kind':'Service','metadata':{'name':'portbig'},'spec':{'ports':"
	    "[{'port':65536}]}},"
	    "{'kind':'Service','metadata':{'name':'noport'},'spec':{'ports':"
	    "[{'name':'x'}]}},"
	    "{'kind':'Service','metadata':{'name':'type'},'spec':{'type':"
	    "'Magic'}},"
	    "{'kind':'EndpointSlice','metadata':{'name':'sl','namespace':'x'},"
	    "'addressType':'IPv4','ports':[{'port':1,'protocol':'tcp'}]},"
	    "{'kind':'EndpointSlice','metadata':{'name':'at'},"
	    "'addressType':'Other'},"
	    "{'kind':'EndpointSlice','metadata':{'name':'noat'}},"
	    "{'kind':'Pod','metadata':{}},"
	    "{'kind':'Namespace'},"
	    POD("shop", "fine", "10.1.1.1")
	    "]}"), 0);
	kz_log_set_stream(NULL);
	fclose(f);
	kz_log_set_level(KZ_LOG_ERROR);
	assert_int_equal(r.st.objects, 14);
	assert_int_equal(r.st.invalid, 12);
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 1);
	assert_int_equal(r.st.decoded[ZG_KIND_POD], 1);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_SERVICE), 1);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_SLICE), 0);
	assert_string_equal(ipstr(&svc(&r, "shop/ok")->ips[0]), "10.0.0.7");
	assert_non_null(pod(&r, "shop/fine"));
	assert_int_equal(kz_log_count(KZ_LOG_WARN) - warns, 12);
	assert_non_null(strstr(out, "msg=\"object skipped\" kind=Service "
	    "object=shop/? reason=\"no metadata.name\""));
	assert_non_null(strstr(out, "kind=Service object=shop/bad "
	    "reason=\"clusterIP '10.0.0.300' is not an address\" "
	    "source=test.json byte=76\n"));
	assert_non_null(strstr(out, "object=shop/proto reason=\"spec.ports[1]"
	    ".protocol 'HTTP' is not TCP, UDP or SCTP\""));
	assert_non_null(strstr(out, "object=default/port0 "
	    "reason=\"spec.ports[0].port 0 is out of range\""));
	assert_non_null(strstr(out, "reason=\"spec.ports[0].port 65536 is "
	    "out of range\""));
	assert_non_null(strstr(out, "reason=\"spec.ports[0].port is "
	    "missing\""));
	assert_non_null(strstr(out, "reason=\"spec.type 'Magic' is "
	    "unknown\""));
	assert_non_null(strstr(out, "kind=EndpointSlice object=x/sl "
	    "reason=\"ports[0].protocol 'tcp' is not TCP, UDP or SCTP\""));
	assert_non_null(strstr(out, "reason=\"addressType 'Other' is not "
	    "IPv4, IPv6 or FQDN\""));
	assert_non_null(strstr(out, "reason=\"no addressType\""));
	assert_non_null(strstr(out, "kind=Namespace object=? "));
	free(out);
	run_free(&r);
}

static void
test_replacement_last_wins(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'ServiceList','items':["
	    "{'metadata':{'name':'a','namespace':'n'},'spec':{'clusterIP':"
	    "'10.0.0.1'}},"
	    "{'metadata':{'name':'a','namespace':'n'},'spec':{'clusterIP':"
	    "'10.0.0.2','ports':[{'port':80}]}}]}"
	    POD("n", "p", "10.1.0.1") POD("n", "p", "10.1.0.2")
	    NS("n") NS("n")), 0);
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 2);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_SERVICE), 1);
	assert_string_equal(ipstr(&svc(&r, "n/a")->ips[0]), "10.0.0.2");
	assert_int_equal(svc(&r, "n/a")->nports, 1);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_POD), 1);
	assert_string_equal(ipstr(&pod(&r, "n/p")->ips[0]), "10.1.0.2");
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_NAMESPACE), 1);
	run_free(&r);
}

/* ---- malformed input ----------------------------------------------- */

struct bad_case {
	const char *text;	/* J() form */
	size_t offset;
	const char *msg;	/* a substring of err.text */
};

static const struct bad_case bad_cases[] = {
	/* Inside an item: jansson's position, made absolute. */
	{ "{'kind':'List','items':[{'a':1,}]}", 32, "'}' expected" },
	{ "[{'kind':'Pod','x':[1}, {'kind':'Pod'}]", 22, "']' expected" },
	{ "{'kind':'PodList','items':[{'metadata':{'name':tru}}]}", 50,
	  "invalid token near 'tru'" },
	{ "{'kind':'PodList','items':[{'metadata':{'name':'\\x'}}]}", 50,
	  "invalid escape" },
	/* Top-level structure: the scanner's own findings. */
	{ "{'kind' 'List'}", 9, "':' expected" },
	{ "{'kind':'List' 'items':[]}", 16, "',' or '}' expected" },
	{ "{'kind':'List',}", 16, "string expected" },
	{ "{,}", 2, "string or '}' expected" },
	{ "{'kind':Lis}", 11, "invalid token near 'Lis'" },
	{ "{'kind':}", 9, "value expected" },
	{ "{'items':[" NS("a") " " NS("b") "]}", 56,
	  "',' or ']' expected" },
	{ "[" NS("a") ",]", 47, "value expected" },
	{ "  x", 3, "JSON object or array expected" },
	{ "{}]", 3, "JSON object or array expected" },
	/* A later document: offsets count from the start of the input. */
	{ NS("a") "\n" NS("b") "\n{'kind':'List','items':[{'a':[}]}", 121,
	  "unexpected token near '}'" },
	/* Truncated: offset is the input length. */
	{ "{'kind':'List','items':[{'kind':'Pod'", 37, "expected" },
	{ "{'kind':'List','items':[]", 25, "unexpected end of input" },
	{ "{'kind':'List','items':[{'metadata':{'name':'p", 46,
	  "premature end of input" },
	{ "{'ki", 4, "premature end of input" },
	{ "{'kind':12", 10, "unexpected end of input" },
	{ "[", 1, "unexpected end of input" },
	{ NS("a") " {", 46, "unexpected end of input" },
};

static void
check_bad(const struct bad_case *c, struct run *r)
{
	if (r->rc != KZ_EPARSE || r->err.offset != c->offset ||
	    strstr(r->err.text, c->msg) == NULL)
		fail_msg("case %s: rc %d offset %zu text '%s'", c->text, r->rc,
		    r->err.offset, r->err.text);
	assert_string_equal(r->err.source, "test.json");
}

static void
test_malformed_offsets(void **state)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 8, 0 };
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		run_init(&r);
		dec_buf(&r, bad_cases[i].text);
		check_bad(&bad_cases[i], &r);
		run_free(&r);
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]);
		    k++) {
			run_init(&r);
			dec_fd(&r, bad_cases[i].text, chunks[k], 0);
			check_bad(&bad_cases[i], &r);
			run_free(&r);
		}
	}
	/* What came before the error stays decoded. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "[" NS("a") ",]"), KZ_EPARSE);
	assert_true(zg_model_has_namespace(&r.m, "a"));
	run_free(&r);
}

static void
test_item_too_big(void **state)
{
	static const size_t chunks[] = { 16, 100, 4096 };
	const char *text = "{'kind':'List','items':[" NS("small") ","
	    "{'kind':'ConfigMap','metadata':{'name':'big'},'data':{'k':"
	    "'0123456789012345678901234567890123456789012345678901234567890"
	    "12345678901234567890'}}]}";
	struct run r;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		run_init(&r);
		assert_int_equal(dec_fd(&r, text, chunks[i], 100), KZ_EPARSE);
		/* The second item starts at byte 74 (offset 73). */
		assert_int_equal(r.err.offset, 73 + 100 + 1);
		assert_string_equal(r.err.text,
		    "list item at byte 74 is larger than 100 bytes");
		assert_true(zg_model_has_namespace(&r.m, "small"));
		run_free(&r);
	}
	/* Exactly at the limit is fine. */
	run_init(&r);
	assert_int_equal(dec_fd(&r, "[" NS("x") "]", 3, strlen(NS("x"))), 0);
	assert_true(zg_model_has_namespace(&r.m, "x"));
	run_free(&r);
	/* The members of a single object count as one item. */
	run_init(&r);
	assert_int_equal(dec_fd(&r, POD("a", "b", "10.0.0.1"), 7, 40),
	    KZ_EPARSE);
	assert_non_null(strstr(r.err.text, "larger than 40 bytes"));
	run_free(&r);
}

/* ---- what is not a list of objects ---------------------------------- */

/* Decode LEN raw bytes from memory and through files read 1, 2, 3 and
 * the default bytes at a time; every way must give RC (and, for an
 * error, OFFSET and a text holding MSG). Returns the documents seen. */
static size_t
dec_all_ways(const char *data, size_t len, int rc, size_t offset,
    const char *msg)
{
	static const size_t chunks[] = { 1, 2, 3, 0 };
	struct zg_decode_opts o = { 0 };
	struct run r;
	size_t docs;

	run_init(&r);
	r.rc = zg_decode_buffer(&r.m, data, len, "test.json", &r.st, &r.err);
	if (r.rc != rc || (rc && (r.err.offset != offset ||
	    strstr(r.err.text, msg) == NULL)))
		fail_msg("'%.*s': rc %d offset %zu text '%s'", (int)len, data,
		    r.rc, r.err.offset, r.err.text);
	docs = r.st.documents;
	run_free(&r);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run_init(&r);
		o.chunk_size = chunks[i];
		dec_fd_raw(&r, data, len, &o);
		if (r.rc != rc || (rc && (r.err.offset != offset ||
		    strstr(r.err.text, msg) == NULL)))
			fail_msg("'%.*s' by %zu: rc %d offset %zu text '%s'",
			    (int)len, data, chunks[i], r.rc, r.err.offset,
			    r.err.text);
		assert_int_equal(r.st.documents, docs);
		run_free(&r);
	}
	return docs;
}

#define ALL_WAYS(lit, rc, off, msg) \
	dec_all_ways(lit, sizeof(lit) - 1, rc, off, msg)

static void
test_documents_counted(void **state)
{
	(void)state;
	/* Empty and blank input decode, with no document: the caller
	 * (render) rejects them; an empty List is a document. */
	assert_int_equal(ALL_WAYS("", 0, 0, NULL), 0);
	assert_int_equal(ALL_WAYS(" \n\t\r\n", 0, 0, NULL), 0);
	assert_int_equal(ALL_WAYS("{\"kind\":\"List\",\"items\":[]}", 0, 0,
	    NULL), 1);
	assert_int_equal(ALL_WAYS("[] {}\n[]", 0, 0, NULL), 3);
}

static void
test_byte_order_mark(void **state)
{
	struct run r;

	(void)state;
	/* A UTF-8 BOM is skipped; offsets still count it. */
	assert_int_equal(ALL_WAYS("\xEF\xBB\xBF{\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"a\"}}", 0, 0, NULL), 1);
	assert_int_equal(ALL_WAYS("\xEF\xBB\xBF", 0, 0, NULL), 0);
	assert_int_equal(ALL_WAYS("\xEF\xBB\xBF \n", 0, 0, NULL), 0);
	ALL_WAYS("\xEF\xBB\xBF{\"kind\":}", KZ_EPARSE, 12, "value expected");
	/* Only at the start; and a broken BOM is not JSON. */
	ALL_WAYS("{}\xEF\xBB\xBF{}", KZ_EPARSE, 3, "JSON object or array");
	ALL_WAYS("\xEF\xBB{}", KZ_EPARSE, 1, "JSON object or array");
	ALL_WAYS("\xEF", KZ_EPARSE, 1, "JSON object or array");
	run_init(&r);
	assert_int_equal(dec_buf(&r, "\xEF\xBB\xBF[" NS("a") "]"), 0);
	assert_true(zg_model_has_namespace(&r.m, "a"));
	run_free(&r);
}

static void
test_yaml_and_utf16_named(void **state)
{
	static const char *const yaml[] = {
		"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n",
		"---\napiVersion: v1\nkind: List\n",
		"items: []\n",
		"kind: List",
		"kind:",
		"# a comment\nkind: List\n",
		"- kind: Pod\n",
	};
	const char *yaml_msg = "looks like YAML, but kubezone reads JSON "
	    "(kubectl get ... -o json)";

	(void)state;
	for (size_t i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++)
		dec_all_ways(yaml[i], strlen(yaml[i]), KZ_EPARSE, 1, yaml_msg);
	ALL_WAYS("\n  apiVersion: v1\n", KZ_EPARSE, 4, yaml_msg);
	ALL_WAYS("\xEF\xBB\xBF" "apiVersion: v1\n", KZ_EPARSE, 4, yaml_msg);
	ALL_WAYS("\xFF\xFE{\0}\0", KZ_EPARSE, 1, "UTF-16 text, but kubezone "
	    "reads UTF-8 JSON");
	ALL_WAYS("\xFE\xFF\0{\0}", KZ_EPARSE, 1, "UTF-16");
	/* Not YAML-like: the plain message, as before. */
	ALL_WAYS("  x", KZ_EPARSE, 3, "JSON object or array expected");
	ALL_WAYS("kind", KZ_EPARSE, 1, "JSON object or array expected");
	ALL_WAYS("<html>", KZ_EPARSE, 1, "JSON object or array expected");
	ALL_WAYS("\"kind\": 1", KZ_EPARSE, 1, "JSON object or array "
	    "expected");
	/* After a JSON document, YAML is just malformed. */
	ALL_WAYS("{}\nkind: List\n", KZ_EPARSE, 4, "JSON object or array "
	    "expected");
}

#define STATUS_403 "{'kind':'Status','apiVersion':'v1','metadata':{}," \
	"'status':'Failure','message':'services is forbidden: User \\'bob\\' " \
	"cannot list resource \\'services\\'','reason':'Forbidden'," \
	"'details':{'kind':'services'},'code':403}"

static void
test_api_status_is_an_error(void **state)
{
	char msg[768];
	struct run r;

	(void)state;
	run_init(&r);
	assert_int_equal(dec_buf(&r, STATUS_403), KZ_EPROTO);
	assert_string_equal(r.err.text, "an API error instead of objects: "
	    "Forbidden (code 403): services is forbidden: User \"bob\" "
	    "cannot list resource \"services\"");
	assert_string_equal(zg_decode_strerror(r.rc, &r.err, msg,
	    sizeof(msg)), "test.json: an API error instead of objects: "
	    "Forbidden (code 403): services is forbidden: User \"bob\" "
	    "cannot list resource \"services\"");
	run_free(&r);
	/* Through a file, in pieces; and after objects, in a list. */
	run_init(&r);
	assert_int_equal(dec_fd(&r, NS("a") STATUS_403, 5, 0), KZ_EPROTO);
	assert_non_null(strstr(r.err.text, "Forbidden (code 403)"));
	run_free(&r);
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'List','items':[" NS("a") ","
	    "{'kind':'Status','status':'Failure'}]}"), KZ_EPROTO);
	assert_string_equal(r.err.text, "an API error instead of objects: "
	    "no reason (code 0): no message");
	run_free(&r);
	/* A Status of success is just a kind we do not use. */
	run_init(&r);
	assert_int_equal(dec_buf(&r, "{'kind':'Status','status':'Success',"
	    "'code':200}"), 0);
	assert_int_equal(r.st.skipped_kind, 1);
	run_free(&r);
}

/* Run TEXT through the decoder into R with the log at LEVEL captured;
 * returns the log text (the caller frees it). */
static char *
dec_logged(struct run *r, const char *text, enum kz_log_level level)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	kz_log_set_stream(f);
	kz_log_set_level(level);
	dec_buf(r, text);
	kz_log_set_stream(NULL);
	kz_log_set_level(KZ_LOG_ERROR);
	fclose(f);
	return out;
}

static void
test_ignored_by_kind(void **state)
{
	struct run r;
	char *log;

	(void)state;
	run_init(&r);
	log = dec_logged(&r, "{'kind':'List','items':["
	    "{'kind':'Endpoints','apiVersion':'v1','metadata':{'name':'web',"
	    "'namespace':'shop'}},"
	    "{'kind':'EndpointSlice','metadata':{'name':'ext-1','namespace':"
	    "'shop','labels':{'kubernetes.io/service-name':'ext'}},"
	    "'addressType':'FQDN','endpoints':[{'addresses':['a.example']}]},"
	    "{'kind':'EndpointSlice','metadata':{'name':'hand','namespace':"
	    "'shop'},'addressType':'IPv4','endpoints':[{'addresses':"
	    "['10.0.0.1']}]},"
	    "{'kind':'EndpointSlice','metadata':{'name':'web-1','namespace':"
	    "'shop','labels':{'kubernetes.io/service-name':'web'}},"
	    "'addressType':'IPv4'},"
	    "{'kind':'ConfigMap','metadata':{'name':'cm','namespace':'shop'}},"
	    "{'metadata':{'name':'kindless'}}"
	    "]}", KZ_LOG_DEBUG);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.objects, 6);
	assert_int_equal(r.st.skipped_kind, 3);
	assert_int_equal(r.st.endpoints, 1);
	assert_int_equal(r.st.decoded[ZG_KIND_SLICE], 3);
	assert_int_equal(r.st.slices_fqdn, 1);
	assert_int_equal(r.st.slices_unlabelled, 1);
	assert_non_null(strstr(log, "level=debug msg=\"object ignored\" "
	    "kind=Endpoints object=shop/web reason=\"v1 Endpoints (kubezone "
	    "reads EndpointSlices)\" source=test.json byte=25\n"));
	assert_non_null(strstr(log, "kind=EndpointSlice object=shop/ext-1 "
	    "reason=\"addressType FQDN\""));
	assert_non_null(strstr(log, "kind=EndpointSlice object=shop/hand "
	    "reason=\"no kubernetes.io/service-name label\""));
	assert_null(strstr(log, "object=shop/web-1"));
	assert_non_null(strstr(log, "kind=ConfigMap object=shop/cm "
	    "reason=\"kind not used\""));
	assert_non_null(strstr(log, "kind=? object=default/kindless "));
	free(log);
	run_free(&r);
}

static void
test_duplicates_warned(void **state)
{
	struct run r;
	char *log;

	(void)state;
	run_init(&r);
	/* Within one input, and across two into the same model. */
	log = dec_logged(&r, "[" POD("n", "p", "10.1.0.1") ","
	    POD("n", "p", "10.1.0.2") "," NS("n") "]", KZ_LOG_WARN);
	assert_int_equal(r.st.duplicates, 1);
	assert_non_null(strstr(log, "msg=\"object given more than once\" "
	    "kind=Pod object=n/p source=test.json byte=105 note=\"this copy "
	    "replaces the earlier one\"\n"));
	free(log);
	log = dec_logged(&r, NS("n") "{'kind':'Service','metadata':{'name':"
	    "'s','namespace':'n'},'spec':{'clusterIP':'10.0.0.1'}}",
	    KZ_LOG_WARN);
	assert_int_equal(r.st.duplicates, 2);
	assert_non_null(strstr(log, "kind=Namespace object=n "));
	free(log);
	assert_string_equal(ipstr(&pod(&r, "n/p")->ips[0]), "10.1.0.2");
	/* The later copy wins even when it is unusable: both are gone. */
	log = dec_logged(&r, "{'kind':'Service','metadata':{'name':'s',"
	    "'namespace':'n'},'spec':{'type':'ClusterIP'}}", KZ_LOG_WARN);
	assert_int_equal(r.st.duplicates, 3);
	assert_int_equal(r.st.no_cluster_ip, 1);
	assert_null(svc(&r, "n/s"));
	assert_non_null(strstr(log, "reason=\"no clusterIP (and not "
	    "headless)\""));
	assert_non_null(strstr(log, "note=\"this copy is unusable: the "
	    "earlier one is dropped too\""));
	free(log);
	/* zg_decode_object() (a watch update) replaces silently. */
	run_free(&r);
}

/* ---- label selectors ------------------------------------------------ */

/* Parse TEXT (must succeed). */
static struct zg_sel *
sel(const char *text)
{
	struct zg_sel *s;
	char err[256];

	if (zg_sel_parse(text, &s, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	return s;
}

/*
 * With selectors on the model, an object they do not select is left out
 * (counted by kind), and an update that moves one out of the selection
 * removes the copy in the model, as a delete would.
 */
static void
test_label_selectors(void **state)
{
	struct zg_sel *objs = sel("app in (web, db),!canary");
	struct zg_sel *nss = sel("team");
	struct zg_decode_error err;
	struct run r;
	json_t *o;

	(void)state;
	run_init(&r);
	zg_model_select(&r.m, objs, nss);
	assert_int_equal(dec_buf(&r, "{'kind':'List','items':["
	    "{'kind':'Namespace','metadata':{'name':'a','labels':{'team':''}}},"
	    "{'kind':'Namespace','metadata':{'name':'b'}},"
	    "{'kind':'Service','metadata':{'name':'web','namespace':'a',"
	    "'labels':{'app':'web'}},'spec':{'clusterIP':'10.0.0.1'}},"
	    "{'kind':'Service','metadata':{'name':'new','namespace':'a',"
	    "'labels':{'app':'web','canary':'1'}},'spec':{'clusterIP':"
	    "'10.0.0.2'}},"
	    "{'kind':'Service','metadata':{'name':'x','namespace':'a'},"
	    "'spec':{'clusterIP':'10.0.0.3'}},"
	    "{'kind':'EndpointSlice','metadata':{'name':'web-1','namespace':"
	    "'a','labels':{'kubernetes.io/service-name':'web','app':'web'}},"
	    "'addressType':'IPv4','endpoints':[]},"
	    "{'kind':'EndpointSlice','metadata':{'name':'web-2','namespace':"
	    "'a','labels':{'kubernetes.io/service-name':'web'}},"
	    "'addressType':'IPv4','endpoints':[]},"
	    "{'kind':'Pod','metadata':{'name':'p','namespace':'a','labels':"
	    "{'app':'db'}},'status':{'phase':'Running','podIP':'10.1.0.1'}},"
	    "{'kind':'Pod','metadata':{'name':'q','namespace':'a','labels':"
	    "'not an object'},'status':{'phase':'Running','podIP':"
	    "'10.1.0.2'}}]}"), 0);
	assert_non_null(svc(&r, "a/web"));
	assert_null(svc(&r, "a/new"));
	assert_null(svc(&r, "a/x"));
	assert_non_null(slice(&r, "a/web-1"));
	assert_null(slice(&r, "a/web-2"));
	assert_non_null(pod(&r, "a/p"));
	assert_null(pod(&r, "a/q"));
	assert_true(zg_model_has_namespace(&r.m, "a"));
	assert_false(zg_model_has_namespace(&r.m, "b"));
	assert_int_equal(r.st.decoded[ZG_KIND_SERVICE], 1);
	assert_int_equal(r.st.unselected[ZG_KIND_SERVICE], 2);
	assert_int_equal(r.st.unselected[ZG_KIND_SLICE], 1);
	assert_int_equal(r.st.unselected[ZG_KIND_POD], 1);
	assert_int_equal(r.st.unselected[ZG_KIND_NAMESPACE], 1);
	assert_int_equal(r.st.invalid, 0);

	/* A watch update that relabels web out of the selection. */
	o = json_pack("{s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "metadata", "name",
	    "web", "namespace", "a", "labels", "app", "api", "spec",
	    "clusterIP", "10.0.0.1");
	assert_int_equal(zg_decode_object(&r.m, o, "Service", &err), 0);
	assert_null(svc(&r, "a/web"));
	json_decref(o);
	/* ... and back in. */
	o = json_pack("{s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "metadata", "name",
	    "web", "namespace", "a", "labels", "app", "db", "spec",
	    "clusterIP", "10.0.0.1");
	assert_int_equal(zg_decode_object(&r.m, o, "Service", &err), 0);
	assert_non_null(svc(&r, "a/web"));
	json_decref(o);
	/* A Namespace that loses its label leaves the model. */
	o = json_pack("{s:{s:s, s:{s:s}}}", "metadata", "name", "a",
	    "labels", "other", "x");
	assert_int_equal(zg_decode_object(&r.m, o, "Namespace", &err), 0);
	assert_false(zg_model_has_namespace(&r.m, "a"));
	json_decref(o);
	run_free(&r);
	zg_sel_free(objs);
	zg_sel_free(nss);
}

/* ---- fd specifics -------------------------------------------------- */

struct prog {
	int calls;
	size_t bytes, objects;
};

static void
on_progress(void *ctx, size_t bytes, size_t objects)
{
	struct prog *p = ctx;

	assert_true(bytes >= p->bytes);
	p->calls++;
	p->bytes = bytes;
	p->objects = objects;
}

static void
test_progress_and_big_input(void **state)
{
	struct zg_decode_opts o = { 0 };
	struct prog pr = { 0 };
	struct kz_buf b;
	struct run r;
	char *s;
	int n = 40000;

	(void)state;
	kz_buf_init(&b, 64u << 20);
	kz_buf_puts(&b, "{\"apiVersion\":\"v1\",\"items\":[\n");
	for (int i = 0; i < n; i++)
		kz_buf_printf(&b, "%s    {\n        \"apiVersion\": \"v1\",\n"
		    "        \"kind\": \"Pod\",\n        \"metadata\": {\n"
		    "            \"name\": \"pod-%d\",\n"
		    "            \"namespace\": \"ns-%d\"\n        },\n"
		    "        \"status\": {\n"
		    "            \"phase\": \"Running\",\n"
		    "            \"podIPs\": [{\"ip\": \"10.%d.%d.%d\"}]\n"
		    "        }\n    }", i ? ",\n" : "", i, i % 50,
		    i >> 16, (i >> 8) & 255, i & 255);
	kz_buf_puts(&b, "\n],\"kind\":\"List\",\"metadata\":{}}\n");
	assert_true(b.len > 9u * 1024 * 1024);
	o.progress = on_progress;
	o.progress_ctx = &pr;
	run_init(&r);
	assert_int_equal(dec_fd_raw(&r, b.data, b.len, &o), 0);
	assert_int_equal(r.st.objects, (size_t)n);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_POD), (size_t)n);
	assert_string_equal(ipstr(&pod(&r, "ns-49/pod-39999")->ips[0]),
	    "10.0.156.63");
	assert_int_equal(r.st.bytes, b.len);
	/* Two or more calls on the way (every 4 MiB), one at the end. */
	assert_true(pr.calls >= 3 && pr.calls <= 4);
	assert_int_equal(pr.bytes, b.len);
	assert_int_equal(pr.objects, (size_t)n);
	run_free(&r);

	/* The same through the memory path. */
	run_init(&r);
	assert_int_equal(zg_decode_buffer(&r.m, b.data, b.len, "m", &r.st,
	    &r.err), 0);
	assert_int_equal(zg_model_count(&r.m, ZG_KIND_POD), (size_t)n);
	run_free(&r);
	s = kz_buf_steal(&b, NULL);
	free(s);
}

static void
test_read_error(void **state)
{
	struct run r;
	int fd = open("/", O_RDONLY);

	(void)state;
	assert_true(fd >= 0);
	run_init(&r);
	assert_int_equal(zg_decode_fd(&r.m, fd, "/", NULL, &r.st, &r.err),
	    -EISDIR);
	assert_string_equal(r.err.source, "/");
	assert_non_null(strstr(r.err.text, strerror(EISDIR)));
	close(fd);
	run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_mixed),
		cmocka_unit_test(test_typed_list_kind_first),
		cmocka_unit_test(test_typed_list_kind_after),
		cmocka_unit_test(test_single_and_concatenated),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_service_fields),
		cmocka_unit_test(test_slice_fields),
		cmocka_unit_test(test_pod_fields),
		cmocka_unit_test(test_namespace_and_object_api),
		cmocka_unit_test(test_unread_members),
		cmocka_unit_test(test_invalid_objects_skipped),
		cmocka_unit_test(test_replacement_last_wins),
		cmocka_unit_test(test_malformed_offsets),
		cmocka_unit_test(test_item_too_big),
		cmocka_unit_test(test_documents_counted),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_yaml_and_utf16_named),
		cmocka_unit_test(test_api_status_is_an_error),
		cmocka_unit_test(test_ignored_by_kind),
		cmocka_unit_test(test_duplicates_warned),
		cmocka_unit_test(test_label_selectors),
		cmocka_unit_test(test_progress_and_big_input),
		cmocka_unit_test(test_read_error),
	};

	kz_log_set_level(KZ_LOG_ERROR);
	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
