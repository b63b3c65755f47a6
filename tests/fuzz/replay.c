/*
 * tests/fuzz/replay.c -- run a fuzz target over files without libFuzzer.
 *
 *   fuzz_TARGET [FILE|DIR]...
 *
 * Every regular file named, or found directly in a directory named, is
 * read whole and passed once to LLVMFuzzerTestOneInput(), in name order
 * so runs are reproducible. A crash, an assertion or a sanitizer report
 * ends the run; otherwise it prints one line with the count and exits 0
 * (1 when nothing could be read). `make check` runs each target over its
 * committed corpus, tests/fuzz/corpus/TARGET/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long inputs;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 65536) {
			uint8_t *p = realloc(data, cap + 65536);

			if (p == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n",
				    path);
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
			cap += 65536;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(data);
			return -1;
		}
		if (len)
			memcpy(exact, data, len);
		free(data);
		if (getenv("REPLAY_VERBOSE"))
			fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	inputs++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap ? cap * 2 : 64) *
			    sizeof(*names));

			if (p == NULL) {
				rc = -1;
				break;
			}
			names = p;
			cap = cap ? cap * 2 : 64;
		}
		if ((names[n] = strdup(path)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && run_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	int rc = 0;

	name = name ? name + 1 : argv[0];
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i]) != 0)
				rc = 1;
		} else if (run_file(argv[i]) != 0) {
			rc = 1;
		}
	}
	if (inputs == 0)
		rc = 1;
	printf("replay: %s: %lu inputs, %s\n", name, inputs,
	    rc ? "errors" : "ok");
	return rc;
}
