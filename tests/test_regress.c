/*
 * test_regress.c - every input a fuzzer once crashed on, replayed through
 * the same entry point on every `make test` (and under the sanitizers in
 * `make sanitize`), so a fixed crash stays fixed.
 *
 * tests/fuzz/regress/fuzz_template/ holds template texts: each must load
 * or be refused with a message naming its file.
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

static void
test_template_inputs(void **state)
{
	const char *dir = "tests/fuzz/regress/fuzz_template";
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char *path, *text;
		size_t len;
		qp_template *t;
		qp_error err = {{0}};

		if (e->d_name[0] == '.')
			continue;
		path = qp_xasprintf("%s/%s", dir, e->d_name);
		text = slurp(path, &len);
		t = qp_template_parse(path, text, len, &err);
		if (t == NULL)
			assert_non_null(strstr(err.msg, path));
		qp_template_free(t);
		free(text);
		free(path);
		count++;
	}
	closedir(d);
	assert_true(count > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
