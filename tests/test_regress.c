/*
 * test_regress.c - every input a fuzzer once crashed on, replayed through
 * the same entry point on every `make test` (and under the sanitizers in
 * `make sanitize`), so a fixed crash stays fixed.
 *
 * tests/fuzz/regress/fuzz_template/ holds template texts: each must load
 * or be refused with a message naming its file. fuzz_csv/ holds CSV
 * files: each must stream records of clean fields or stop with a
 * "FILE:LINE: " error, lines never going backwards. fuzz_names/ holds
 * values: each must give a clean file-name part. Each input is its own
 * test case, named after its file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "data.h"
#include "suite.h"
#include "template.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	qp_buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(fp);
	qp_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		qp_buf_add(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	return b.data ? qp_buf_steal(&b) : qp_xstrdup("");
}

/* One input: its path, and the check it must pass. */
typedef struct input {
	char *path;
	void (*check)(const char *, const char *, size_t);
} input;

static void
test_input(void **state)
{
	const input *in = *state;
	size_t len;
	char *text = slurp(in->path, &len);

	in->check(in->path, text, len);
	free(text);
}

static void
check_template(const char *path, const char *text, size_t len)
{
	qp_template *t;
	qp_error err = {0};

	t = qp_template_parse(path, text, len, &err);
	if (t == NULL)
		assert_non_null(strstr(err.msg, path));
	qp_template_free(t);
}

/* The message starts "path:LINE: " (or "path: empty file"). */
static void
assert_located(const char *msg, const char *path)
{
	const char *p = msg + strlen(path);

	assert_memory_equal(msg, path, strlen(path));
	assert_int_equal(*p++, ':');
	if (strncmp(p, " empty file", 11) == 0)
		return;
	assert_true(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	assert_memory_equal(p, ": ", 2);
}

/* A header name: text that can appear in a message. */
static void
check_header_name(const char *s, size_t n)
{
	assert_int_equal(strlen(s), n);
	assert_true(qp_utf8_valid(s, n, NULL));
	assert_true(n <= QP_DATA_MAX_FIELD);
	assert_int_equal(qp_text_control(s, n, NULL), 0);
}

/* A record's field is a value, given as it is (bind.h holds the ones a
 * poster uses to the value rule): only its length is bounded, and it
 * is NUL-terminated after lens[i] bytes. */
static void
check_field(const char *s, size_t n)
{
	assert_true(n <= QP_DATA_MAX_FIELD);
	assert_int_equal(s[n], '\0');
}

static void
check_csv(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "rb");
	qp_data *d;
	qp_error err = {0};
	qp_record rec;
	size_t last = 0, rows = 0;
	int r;

	(void)text;
	(void)len;
	assert_non_null(fp);
	if ((d = qp_data_open_stream(fp, path, &err)) == NULL) {
		assert_located(err.msg, path);
		fclose(fp);
		return;
	}
	qp_data_set_limits(d, QP_DATA_MAX_FIELD, 50); /* as the harness */
	for (size_t i = 0; i < qp_data_ncols(d); i++)
		check_header_name(qp_data_col(d, i), strlen(qp_data_col(d, i)));
	while ((r = qp_data_next(d, &rec, &err)) == 1) {
		assert_int_equal(rec.index, rows++);
		assert_true(rec.line > last);
		last = rec.line;
		for (size_t i = 0; i < qp_data_ncols(d); i++)
			check_field(rec.fields[i], rec.lens[i]);
	}
	if (r < 0)
		assert_located(err.msg, path);
	qp_data_close(d);
	fclose(fp);
}

static void
check_name(const char *path, const char *text, size_t len)
{
	qp_buf b;
	unsigned char c0, cn;

	(void)path;
	(void)len;
	qp_buf_init(&b);
	qp_batch_safe_name(text, &b); /* up to the first NUL, as batch */
	assert_true(b.len > 0 && b.len <= QP_NAME_PART_MAX);
	assert_true(qp_utf8_valid(b.data, b.len, NULL));
	assert_int_equal(qp_text_control(b.data, b.len, NULL), 0);
	assert_null(strpbrk(b.data, "/\\:*?\"<>|\t\n\r"));
	c0 = (unsigned char)b.data[0];
	cn = (unsigned char)b.data[b.len - 1];
	assert_true(c0 != '.' && c0 != ' ' && cn != '.' && cn != ' ');
	qp_buf_free(&b);
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const input *)a)->path, ((const input *)b)->path);
}

/* Add every file of dir (sorted) to inputs; returns how many. */
static size_t
add_inputs(input *inputs, size_t max, const char *dir,
    void (*check)(const char *, const char *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		inputs[n].path = qp_xasprintf("%s/%s", dir, e->d_name);
		inputs[n++].check = check;
	}
	if (d)
		closedir(d);
	qsort(inputs, n, sizeof *inputs, by_path);
	return n;
}

/* An empty folder would make its check vanish: it fails instead. */
static void
test_folder_has_inputs(void **state)
{
	const size_t *n = *state;

	assert_true(*n > 0);
}

int
main(void)
{
	static const struct {
		const char *dir;
		void (*check)(const char *, const char *, size_t);
	} dirs[] = {
		{"tests/fuzz/regress/fuzz_template", check_template},
		{"tests/fuzz/regress/fuzz_csv", check_csv},
		{"tests/fuzz/regress/fuzz_names", check_name},
	};
	static input inputs[512];
	static size_t count[3];
	size_t n = 0;
	th_suite s = {0};
	int rc;

	for (size_t k = 0; k < 3; k++) {
		count[k] = add_inputs(inputs + n, 512 - n, dirs[k].dir,
		    dirs[k].check);
		th_suite_add(&s, test_folder_has_inputs, NULL, NULL, &count[k],
		    "%s holds inputs", dirs[k].dir);
		for (size_t i = n; i < n + count[k]; i++)
			th_suite_add(&s, test_input, NULL, NULL, &inputs[i], "%s",
			    inputs[i].path);
		n += count[k];
	}
	rc = th_suite_run(&s, "regress", NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(inputs[i].path);
	return rc;
}
