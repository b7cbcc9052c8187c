/*
 * test_golden.c - the display list of every bundled template, laid out
 * with fixed sample values and dumped as text (qp_page_dump), must match
 * tests/golden/NAME.txt line for line. A layout change then shows in
 * review as a readable diff of that file: which block moved, which text
 * shrank or broke differently, which QR version or module size changed.
 *
 * On a mismatch the case fails with a unified diff (golden -> now). After
 * a deliberate change, `make golden` rewrites the files (this program
 * with --regenerate); commit them with the change.
 *
 * One case per template in templates/ and per golden file, so a template
 * without its golden file fails, and so does a golden file whose
 * template has gone missing.
 */
#include <dirent.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "datadir.h"
#include "fonts.h"
#include "helpers.h"
#include "layout.h"
#include "poster.h"
#include "suite.h"
#include "template.h"

#define GOLDEN_DIR "tests/golden"

/* The sample values: the same for every template, plus a language for
 * the multilingual ones (one that shows a different script). */
static const char *const common_sets[] = {"code=NYP-R1",
    "name=New York Penn Station, restroom 1"};

static const struct {
	const char *tmpl, *set;
} lang_sets[] = {
	{"multilingual-tabloid", "lang2=ar"},
	{"notice-ca", "lang3=zh-Hant"},
};

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* The dump of template name (a bundled name) with the sample values, or
 * NULL with err set. */
static char *
dump_template(const char *name, qp_error *err)
{
	const char *sets[NELEM(common_sets) + 1];
	size_t nsets = 0;
	qp_template *t = qp_template_open(name, err);
	qp_layout_ctx *ctx = NULL;
	qp_page *page = NULL;
	qp_binding *bind = NULL;
	qp_values values = {0};
	qp_diag_list dl;
	char *out = NULL;
	qp_buf b;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < NELEM(common_sets); i++)
		sets[nsets++] = common_sets[i];
	for (size_t i = 0; i < NELEM(lang_sets); i++)
		if (strcmp(lang_sets[i].tmpl, name) == 0)
			sets[nsets++] = lang_sets[i].set;
	/* The poster step, as render takes it. */
	qp_diag_list_init(&dl);
	bind = qp_binding_new(t);
	for (size_t i = 0; i < nsets; i++)
		if (!qp_binding_set_err(bind, sets[i], err))
			goto done;
	qp_values_init(&values, t);
	ctx = qp_layout_ctx_new();
	if ((page = qp_poster_make(ctx, bind, NULL, NULL, &values, &dl)) ==
	    NULL) {
		const qp_diag *e = qp_diag_first_error(&dl);
		qp_fail(err, "%s", e ? e->msg : "the poster cannot be made");
		goto done;
	}
	qp_buf_init(&b);
	qp_buf_printf(&b, "# qrposter layout dump of templates/%s.yaml "
	    "(make golden rewrites it)\n# values:", name);
	for (size_t i = 0; i < nsets; i++)
		qp_buf_printf(&b, " -s '%s'", sets[i]);
	qp_buf_addc(&b, '\n');
	qp_page_dump(page, &b);
	out = qp_buf_steal(&b);
done:
	qp_diag_list_clear(&dl);
	qp_page_free(page);
	qp_layout_ctx_free(ctx);
	qp_values_free(&values);
	qp_binding_free(bind);
	qp_template_free(t);
	return out;
}

static char *
golden_path(const char *name)
{
	return qp_xasprintf("%s/%s.txt", GOLDEN_DIR, name);
}

/* Print `diff -u golden now` (diffutils is part of every Debian). */
static void
show_diff(const char *golden, const char *now)
{
	char *dir = th_tmpdir_new();
	char *path = th_path(dir, "now.txt");
	const char *argv[] = {"diff", "-u", "--label", golden, "--label",
	    "layout now", golden, path, NULL};
	th_run r;

	if (th_write_file(path, now, strlen(now))) {
		th_run_argv(&r, argv, NULL);
		print_error("%s differs from the layout now (make golden "
		    "rewrites it):\n%s", golden, r.out);
		th_run_free(&r);
	}
	free(path);
	th_tmpdir_remove(dir);
}

static void
test_golden(void **state)
{
	const char *name = *state;
	char *tpath = qp_xasprintf("templates/%s.yaml", name);
	char *gpath = golden_path(name);
	char *want, *now;
	qp_error err = {0};

	if (!th_exists(tpath))
		fail_msg("%s exists but bundled template %s is missing", gpath,
		    tpath);
	want = th_read_file(gpath, NULL);
	if (want == NULL)
		fail_msg("no %s for %s: run make golden and review it", gpath,
		    tpath);
	now = dump_template(name, &err);
	if (now == NULL)
		fail_msg("%s: %s", tpath, err.msg);
	if (strcmp(want, now) != 0) {
		show_diff(gpath, now);
		fail_msg("%s: the layout changed", gpath);
	}
	free(want);
	free(now);
	free(gpath);
	free(tpath);
}

/* The dump is the same whatever the locale's decimal point. */
static void
test_dump_locale_independent(void **state)
{
	static const char *const locales[] = {"fr_FR.UTF-8", "fr_FR.utf8",
	    "de_DE.UTF-8", "de_DE.utf8"};
	qp_error err = {0};
	char *c = dump_template("restroom-letter", &err), *fr;
	const char *got = NULL;

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < NELEM(locales) && !got; i++)
		got = setlocale(LC_ALL, locales[i]);
	if (got == NULL) {
		free(c);
		if (getenv("CI") != NULL)
			fail_msg("no fr_FR/de_DE locale (CI generates one)");
		skip();
	}
	fr = dump_template("restroom-letter", &err);
	setlocale(LC_ALL, "C");
	assert_non_null(fr);
	assert_string_equal(c, fr);
	free(c);
	free(fr);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names (without the extension) of dir's files ending in ext, added to
 * names[] unless already there. */
static size_t
add_names(char **names, size_t n, size_t max, const char *dir,
    const char *ext)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t el = strlen(ext);

	while (d && (e = readdir(d)) != NULL && n < max) {
		size_t len = strlen(e->d_name);
		char *name;
		bool dup = false;

		if (len <= el || e->d_name[0] == '.' ||
		    strcmp(e->d_name + len - el, ext) != 0)
			continue;
		name = qp_xstrndup(e->d_name, len - el);
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(names[i], name) == 0;
		if (dup)
			free(name);
		else
			names[n++] = name;
	}
	if (d)
		closedir(d);
	return n;
}

/* Rewrite every golden file from the layout now (make golden). */
static int
regenerate(char **names, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		char *tpath = qp_xasprintf("templates/%s.yaml", names[i]);
		char *gpath = golden_path(names[i]);
		qp_error err = {0};
		char *now = th_exists(tpath) ? dump_template(names[i], &err) :
		    NULL;

		if (!th_exists(tpath)) {
			/* The template went: so does its golden file. */
			if (unlink(gpath) == 0)
				printf("removed %s\n", gpath);
		} else if (now == NULL) {
			fprintf(stderr, "%s: %s\n", tpath, err.msg);
			rc = 1;
		} else if (!th_write_file(gpath, now, strlen(now))) {
			fprintf(stderr, "cannot write %s\n", gpath);
			rc = 1;
		} else
			printf("wrote %s\n", gpath);
		free(now);
		free(gpath);
		free(tpath);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	char *names[256];
	size_t n = 0;
	th_suite s = {0};
	qp_error err;
	int rc;

	setlocale(LC_ALL, "C");
	if (getenv("QRPOSTER_DATADIR") == NULL) {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL)
			return 1;
		setenv("QRPOSTER_DATADIR", cwd, 1);
	}
	if (!qp_fonts_init(&err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	n = add_names(names, n, NELEM(names), "templates", ".yaml");
	n = add_names(names, n, NELEM(names), GOLDEN_DIR, ".txt");
	qsort(names, n, sizeof *names, by_name);
	if (argc > 1 && strcmp(argv[1], "--regenerate") == 0) {
		rc = regenerate(names, n);
	} else {
		for (size_t i = 0; i < n; i++)
			th_suite_add(&s, test_golden, NULL, NULL, names[i],
			    "golden %s", names[i]);
		th_suite_add(&s, test_dump_locale_independent, NULL, NULL, NULL,
		    "%s", "test_dump_locale_independent");
		rc = th_suite_run(&s, "golden", NULL, NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
