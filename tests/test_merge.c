/*
 * test_merge.c - a print run spread over shards by a real job runner and
 * put back together with `qrposter merge`.
 *
 * GNU parallel runs the README's recipe (the exact text below) on 4
 * shards of a 2,000-row batch: the stations of ../shared/data/stations.csv,
 * repeated, with their codes made unique. The merged print run must be
 * the single run's in everything a reader sees: the page count, every
 * page's text (pdftotext), the QR payloads of a sample of pages (decoded
 * by libzbar from pdftoppm rasters, and compared with the CSV's codes), a
 * sound file (qpdf --check), and a manifest equal to the single run's
 * but for the file's name and hash (each the hash of its own file), so
 * the single run's command, run afterwards, finds every row done. A
 * shard that resumes (run again, as a restarted pod does) is accepted.
 *
 * Then what merge must refuse, one case each, with the files named, exit
 * status 1 and nothing written: shards of different inputs, a missing
 * shard, a shard given twice, a PDF changed after its manifest, a PDF
 * whose page count is not its manifest's, and imposed shards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "helpers.h"
#include "util.h"

#define NROWS 2000
#define NSHARDS 4

/* The README's GNU parallel recipe, run as it is in a directory holding
 * locations.csv, with qrposter on the PATH. Keep the two the same. */
static const char recipe[] =
    "mkdir -p out\n"
    "parallel qrposter batch -q --shard {}/4 -d locations.csv "
    "--combine out/print-run.pdf ::: 1 2 3 4\n"
    "qrposter merge out/print-run-*-of-4.pdf\n";

typedef struct fixture {
	char *dir;
	char *csv;
	char *codes[NROWS];
	char *shard[NSHARDS], *shard_man[NSHARDS];
	char *merged, *merged_man;
	char *single, *single_man;
	char *recipe_err;
} fixture;

/* ---- helpers ------------------------------------------------------- */

static char *
sha256_of(const char *path)
{
	size_t len;
	char *data = th_read_file(path, &len);
	char *hex;

	if (data == NULL)
		return NULL;
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)data, len);
	free(data);
	return hex;
}

static void
copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = th_read_file(from, &len);

	assert_non_null(data);
	assert_true(th_write_file(to, data, len));
	free(data);
}

static void
csv_quoted(FILE *fp, const char *s, bool last)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputs(last ? "\"\n" : "\",", fp);
}

/* NROWS rows from the shared station list, codes made unique. */
static bool
write_locations(fixture *f)
{
	qp_error err;
	qp_data *d = qp_data_open("../shared/data/stations.csv", &err);
	char *code[600], *name[600];
	size_t n = 0;
	qp_record rec;
	long ci, ni;
	FILE *fp;

	if (d == NULL) {
		print_error("%s\n", err.msg);
		return false;
	}
	ci = qp_data_col_index(d, "code");
	ni = qp_data_col_index(d, "name");
	while (n < 600 && qp_data_next(d, &rec, &err) == 1) {
		code[n] = qp_xstrdup(rec.fields[ci]);
		name[n] = qp_xstrdup(rec.fields[ni]);
		n++;
	}
	qp_data_close(d);
	if (n < 100 || (fp = fopen(f->csv, "w")) == NULL)
		return false;
	fputs("code,name\n", fp);
	for (size_t i = 0; i < NROWS; i++) {
		f->codes[i] = qp_xasprintf("%s-%04zu", code[i % n], i + 1);
		csv_quoted(fp, f->codes[i], false);
		csv_quoted(fp, name[i % n], true);
	}
	for (size_t i = 0; i < n; i++) {
		free(code[i]);
		free(name[i]);
	}
	return fclose(fp) == 0;
}

/* `sh -e -c SCRIPT` in dir, with qrposter's directory first on PATH. */
static int
run_script(const char *dir, const char *script, th_run *r)
{
	char cwd[PATH_MAX], *bin, *slash, *path;
	int st;

	if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	bin = th_bin()[0] == '/' ? qp_xstrdup(th_bin()) :
	    qp_xasprintf("%s/%s", cwd, th_bin());
	slash = strrchr(bin, '/');
	*slash = '\0';
	path = qp_xasprintf("PATH=%s:%s", bin, getenv("PATH") ?
	    getenv("PATH") : "/usr/bin:/bin");
	free(bin);
	{
		const char *argv[] = {"sh", "-c", "cd \"$1\" && exec sh -e -c "
		    "\"$2\"", "sh", dir, script, NULL};
		const char *env[] = {path, NULL};
		st = th_run_argv(r, argv, env);
	}
	free(path);
	return st;
}

/* Page texts, split at pdftotext's form feeds. */
static char **
page_texts(const char *pdf, size_t *n)
{
	char *text = th_pdftotext(pdf), *p, *ff;
	char **pages = NULL;

	*n = 0;
	if (text == NULL)
		return NULL;
	for (p = text; (ff = strchr(p, '\f')) != NULL; p = ff + 1) {
		pages = qp_xrealloc(pages, (*n + 2) * sizeof *pages);
		pages[(*n)++] = qp_xstrndup(p, (size_t)(ff - p));
		pages[*n] = NULL;
	}
	free(text);
	return pages;
}


/* A manifest: rows of QP_MANIFEST_NCOLS fields, header checked. */
typedef struct mrow {
	char *f[11];
} mrow;

static size_t
read_manifest(const char *path, mrow **rows)
{
	static const char *const cols[] = {"row", "line", "code", "file",
	    "page", "payload", "sha256", "status", "inputs_sha256", "shard",
	    "run_sha256"};
	qp_error err;
	qp_data *d = qp_data_open(path, &err);
	qp_record rec;
	size_t n = 0;

	if (d == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(qp_data_ncols(d), 11);
	for (size_t i = 0; i < 11; i++)
		assert_string_equal(qp_data_col(d, i), cols[i]);
	*rows = NULL;
	while (qp_data_next(d, &rec, &err) == 1) {
		*rows = qp_xrealloc(*rows, (n + 1) * sizeof **rows);
		for (int i = 0; i < 11; i++)
			(*rows)[n].f[i] = qp_xstrdup(rec.fields[i]);
		n++;
	}
	qp_data_close(d);
	return n;
}

static void
free_manifest(mrow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 11; k++)
			free(rows[i].f[k]);
	free(rows);
}

/* ---- the run ------------------------------------------------------- */

static int
setup(void **state)
{
	fixture *f = qp_xcalloc(1, sizeof *f);
	char *one;
	th_run r;

	*state = f;
	if ((f->dir = th_tmpdir_new()) == NULL)
		return -1;
	f->csv = th_path(f->dir, "locations.csv");
	if (!write_locations(f))
		return -1;
	for (int k = 0; k < NSHARDS; k++) {
		f->shard[k] = qp_xasprintf("%s/out/print-run-%d-of-%d.pdf",
		    f->dir, k + 1, NSHARDS);
		f->shard_man[k] = qp_xasprintf("%s/out/print-run-%d-of-%d."
		    "manifest.csv", f->dir, k + 1, NSHARDS);
	}
	f->merged = th_path(f->dir, "out/print-run.pdf");
	f->merged_man = th_path(f->dir, "out/print-run.manifest.csv");
	if (run_script(f->dir, recipe, &r) != 0) {
		print_error("the recipe failed (%d): %s\n", r.status, r.err);
		th_run_free(&r);
		return -1;
	}
	f->recipe_err = qp_xstrdup(r.err);
	th_run_free(&r);

	one = th_path(f->dir, "one");
	mkdir(one, 0777);
	f->single = th_path(one, "print-run.pdf");
	f->single_man = th_path(one, "print-run.manifest.csv");
	free(one);
	if (th_qrposter(&r, "batch", "-q", "-d", f->csv, "--combine",
	    f->single, NULL) != 0) {
		print_error("the single run failed: %s\n", r.err);
		th_run_free(&r);
		return -1;
	}
	th_run_free(&r);
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	if (f == NULL)
		return 0;
	th_tmpdir_remove(f->dir);
	free(f->csv);
	for (int i = 0; i < NROWS; i++)
		free(f->codes[i]);
	for (int k = 0; k < NSHARDS; k++) {
		free(f->shard[k]);
		free(f->shard_man[k]);
	}
	free(f->merged);
	free(f->merged_man);
	free(f->single);
	free(f->single_man);
	free(f->recipe_err);
	free(f);
	return 0;
}

/* The recipe made 4 shards of 500 pages and merged them. */
static void
test_recipe(void **state)
{
	fixture *f = *state;

	for (int k = 0; k < NSHARDS; k++) {
		assert_true(th_exists(f->shard_man[k]));
		assert_int_equal(th_pdf_pages(f->shard[k]), NROWS / NSHARDS);
	}
	assert_non_null(strstr(f->recipe_err, "merged 4 shards: 2000 rows, "
	    "2000 pages in out/print-run.pdf"));
}

static void
test_page_count(void **state)
{
	fixture *f = *state;

	assert_int_equal(th_pdf_pages(f->single), NROWS);
	assert_int_equal(th_pdf_pages(f->merged), NROWS);
}

/* Every page reads as the single run's page of the same number. */
static void
test_text_per_page(void **state)
{
	fixture *f = *state;
	size_t nm, ns;
	char **m = page_texts(f->merged, &nm), **s = page_texts(f->single, &ns);

	assert_non_null(m);
	assert_non_null(s);
	assert_int_equal(nm, NROWS);
	assert_int_equal(ns, NROWS);
	/* Pages differ from each other, so the comparison means something. */
	assert_string_not_equal(s[0], s[1]);
	for (size_t i = 0; i < nm; i++)
		if (strcmp(m[i], s[i]) != 0)
			fail_msg("page %zu: merged '%.80s' single '%.80s'", i + 1,
			    m[i], s[i]);
	th_strv_free(m);
	th_strv_free(s);
}

/* The QR code of page p carries row p's code, in both files. */
static void
test_qr_payloads(void **state)
{
	static const int sample[] = {1, 2, 3, 4, 5, 499, 500, 501, 1000,
	    1001, 1502, 1999, 2000};
	fixture *f = *state;

	for (size_t i = 0; i < sizeof sample / sizeof sample[0]; i++) {
		int p = sample[i];
		char **m = th_pdf_page_decode_qr(f->merged, p, 100);
		char **s = th_pdf_page_decode_qr(f->single, p, 100);
		char *want = qp_xasprintf("loc=%s", f->codes[p - 1]);

		assert_non_null(m);
		assert_non_null(s);
		assert_int_equal(th_strv_len(m), 1);
		assert_int_equal(th_strv_len(s), 1);
		assert_string_equal(m[0], s[0]);
		if (strlen(m[0]) < strlen(want) || strcmp(m[0] + strlen(m[0]) -
		    strlen(want), want) != 0)
			fail_msg("page %d: payload '%s', expected one ending in "
			    "'%s'", p, m[0], want);
		free(want);
		th_strv_free(m);
		th_strv_free(s);
	}
}

/* Both files pass qpdf --check without a warning: the merged one, and
 * the single run's, drawn in parts of 1,000 pages and joined. */
static void
test_sound_file(void **state)
{
	fixture *f = *state;
	const char *files[] = {f->merged, f->single};

	for (int i = 0; i < 2; i++) {
		const char *argv[] = {"qpdf", "--check", files[i], NULL};
		th_run r;

		assert_int_equal(th_run_argv(&r, argv, NULL), 0);
		assert_null(strstr(r.out, "WARNING"));
		assert_null(strstr(r.err, "WARNING"));
		th_run_free(&r);
	}
}

/* The single run's parts are gone once it is joined. */
static void
test_no_parts_left(void **state)
{
	fixture *f = *state;
	char *one = th_path(f->dir, "one"), stray[256];
	const char *const allowed[] = {"print-run.pdf",
	    "print-run.manifest.csv", NULL};

	if (!th_dir_only(one, allowed, stray, sizeof stray))
		fail_msg("'%s' left beside the print run", stray);
	free(one);
}

/* The merged manifest is the single run's, but for the file's name and
 * hash, each the hash of its own file. */
static void
test_manifest(void **state)
{
	fixture *f = *state;
	mrow *m, *s;
	size_t nm = read_manifest(f->merged_man, &m);
	size_t ns = read_manifest(f->single_man, &s);
	char *hm = sha256_of(f->merged), *hs = sha256_of(f->single);

	assert_int_equal(nm, NROWS);
	assert_int_equal(ns, NROWS);
	for (size_t i = 0; i < nm; i++) {
		char rn[32];

		snprintf(rn, sizeof rn, "%zu", i + 1);
		assert_string_equal(m[i].f[0], rn);
		assert_string_equal(m[i].f[2], f->codes[i]);
		assert_string_equal(m[i].f[3], "out/print-run.pdf");
		assert_string_equal(s[i].f[3], f->single);
		assert_string_equal(m[i].f[6], hm);
		assert_string_equal(s[i].f[6], hs);
		assert_string_equal(m[i].f[9], "1/1");
		for (int k = 0; k < 11; k++)
			if (k != 3 && k != 6 && strcmp(m[i].f[k],
			    s[i].f[k]) != 0)
				fail_msg("row %zu, column %d: merged '%s', "
				    "single '%s'", i + 1, k, m[i].f[k], s[i].f[k]);
	}
	free_manifest(m, nm);
	free_manifest(s, ns);
	g_free(hm);
	g_free(hs);
}

/* The single run's own command, run after the merge, finds every row
 * of the merged print run done and leaves the file as it is. */
static void
test_single_run_takes_merged(void **state)
{
	fixture *f = *state;
	char *before = sha256_of(f->merged), *after;
	const char *script = "qrposter batch -d locations.csv "
	    "--combine out/print-run.pdf\n";
	th_run r;

	assert_int_equal(run_script(f->dir, script, &r), 0);
	assert_non_null(strstr(r.err, "0 made, 2000 unchanged"));
	th_run_free(&r);
	after = sha256_of(f->merged);
	assert_string_equal(before, after);
	g_free(before);
	g_free(after);
}

/* Bytes a page within the targets: 1.5 KB with links (the
 * merged run, the single run), 1.2 KB without (measured: 1.0 and 0.9). */
static void
test_bytes_per_page(void **state)
{
	fixture *f = *state;
	const char *script = "qrposter batch -q --no-links -d locations.csv "
	    "--combine nolinks.pdf\n";
	char *nl = th_path(f->dir, "nolinks.pdf");
	size_t merged, single, nolinks;
	th_run r;

	assert_int_equal(run_script(f->dir, script, &r), 0);
	th_run_free(&r);
	assert_int_equal(th_pdf_pages(nl), NROWS);
	free(th_read_file(f->merged, &merged));
	free(th_read_file(f->single, &single));
	free(th_read_file(nl, &nolinks));
	if (merged > NROWS * 1536 || single > NROWS * 1536 ||
	    nolinks > NROWS * 1229)
		fail_msg("bytes a page: merged %zu, single %zu, without links "
		    "%zu", merged / NROWS, single / NROWS, nolinks / NROWS);
	free(nl);
}

/* A print file (PDF/X-3 through Ghostscript) is written whole, as
 * Ghostscript makes it: PDF 1.3, no object streams (which PDF/X-3 does
 * not allow), not parts joined. */
static void
test_print_file_whole(void **state)
{
	fixture *f = *state;
	const char *script = "head -n 4 locations.csv > few.csv\n"
	    "qrposter batch -q --print cmyk -d few.csv --combine print.pdf\n";
	char *pdf = th_path(f->dir, "print.pdf"), *ver, *data;
	size_t len;
	th_run r;

	if (run_script(f->dir, script, &r) != 0)
		fail_msg("%s", r.err);
	th_run_free(&r);
	assert_int_equal(th_pdf_pages(pdf), 3);
	ver = th_pdfinfo_field(pdf, "PDF version");
	assert_non_null(ver);
	assert_string_equal(ver, "1.3");
	data = th_read_file(pdf, &len);
	assert_non_null(data);
	assert_false(th_memmem(data, len, "/ObjStm"));
	free(data);
	free(ver);
	free(pdf);
}

/* ---- resumed shards -------------------------------------------------- */

/* A shard run again finds its work done, rewrites the same manifest
 * (as a restarted pod does), and merge takes it. */
static void
test_resumed_shard(void **state)
{
	fixture *f = *state;
	char *dir = th_path(f->dir, "resumed"), *comb, *out, *man;
	mrow *a, *b;
	size_t na, nb;
	th_run r;

	mkdir(dir, 0777);
	for (int k = 0; k < NSHARDS; k++) {
		char *to = qp_xasprintf("%s/print-run-%d-of-4.pdf", dir, k + 1);
		char *tm = qp_xasprintf("%s/print-run-%d-of-4.manifest.csv",
		    dir, k + 1);
		copy_file(f->shard[k], to);
		copy_file(f->shard_man[k], tm);
		free(to);
		free(tm);
	}
	comb = th_path(dir, "print-run.pdf");
	if (th_qrposter(&r, "batch", "--shard", "3/4", "-d", f->csv,
	    "--combine", comb, NULL) != 0)
		fail_msg("%s", r.err);
	assert_non_null(strstr(r.err, "0 made, 500 unchanged"));
	th_run_free(&r);
	out = th_path(dir, "print-run.pdf");
	{
		char *p[NSHARDS];
		for (int k = 0; k < NSHARDS; k++)
			p[k] = qp_xasprintf("%s/print-run-%d-of-4.pdf", dir,
			    k + 1);
		if (th_qrposter(&r, "merge", "-q", p[2], p[0], p[3], p[1],
		    NULL) != 0)
			fail_msg("%s", r.err);
		for (int k = 0; k < NSHARDS; k++)
			free(p[k]);
	}
	assert_true(th_exists(out));
	th_run_free(&r);
	man = th_path(dir, "print-run.manifest.csv");
	na = read_manifest(man, &a);
	nb = read_manifest(f->merged_man, &b);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		for (int k = 0; k < 11; k++)
			if (k != 3)
				assert_string_equal(a[i].f[k], b[i].f[k]);
	free_manifest(a, na);
	free_manifest(b, nb);
	free(comb);
	free(out);
	free(man);
	free(dir);
}

/* ---- refusals ------------------------------------------------------- */

/*
 * A directory of its own with shard K's files copied in as
 * NAME-K-of-4.pdf and its manifest, for each K in ks (0 ends).
 */
static char *
refusal_dir(const fixture *f, const char *name, const char *base,
    const int *ks)
{
	char *dir = th_path(f->dir, name);

	mkdir(dir, 0777);
	for (; *ks; ks++) {
		char *to = qp_xasprintf("%s/%s-%d-of-4.pdf", dir, base, *ks);
		char *tm = qp_xasprintf("%s/%s-%d-of-4.manifest.csv", dir, base,
		    *ks);
		copy_file(f->shard[*ks - 1], to);
		copy_file(f->shard_man[*ks - 1], tm);
		free(to);
		free(tm);
	}
	return dir;
}

/* merge -o dir/merged.pdf on the given files must fail with status 1,
 * say every one of says, and leave the directory as it was. */
static void
assert_refused(const char *dir, const char *const *files,
    const char *const *says)
{
	const char *argv[32];
	char *out = th_path(dir, "merged.pdf"), *man = th_path(dir,
	    "merged.manifest.csv");
	char stray[256];
	size_t n = 0;
	th_run r;

	argv[n++] = th_bin();
	argv[n++] = "merge";
	argv[n++] = "-o";
	argv[n++] = out;
	for (; *files; files++)
		argv[n++] = *files;
	argv[n] = NULL;
	assert_int_equal(th_run_argv(&r, argv, NULL), 1);
	for (; *says; says++)
		if (strstr(r.err, *says) == NULL)
			fail_msg("'%s' not in: %s", *says, r.err);
	assert_false(th_exists(out));
	assert_false(th_exists(man));
	/* No temporary left: only the inputs are there. */
	{
		char *names[32];
		size_t k = 0;
		for (size_t i = 4; argv[i]; i++) {
			const char *base = strrchr(argv[i], '/') + 1;
			char *m;
			names[k++] = qp_xstrdup(base);
			m = qp_xstrdup(base);
			m[strlen(m) - 4] = '\0';
			names[k++] = qp_xasprintf("%s.manifest.csv", m);
			free(m);
		}
		names[k] = NULL;
		if (!th_dir_only(dir, (const char *const *)names, stray,
		    sizeof stray))
			fail_msg("'%s' left in %s", stray, dir);
		for (size_t i = 0; i < k; i++)
			free(names[i]);
	}
	th_run_free(&r);
	free(out);
	free(man);
}

static char *
in_dir(const char *dir, const char *name)
{
	return th_path(dir, name);
}

/* Shard 2 made from a CSV that differs in one row. */
static void
test_refuse_mixed_inputs(void **state)
{
	fixture *f = *state;
	static const int ks[] = {1, 3, 4, 0};
	char *dir = refusal_dir(f, "mixed", "run", ks);
	char *csv = th_path(dir, "other.csv"), *text, *comb, *p[4], *m1, *m2;
	size_t len;
	th_run r;

	text = th_read_file(f->csv, &len);
	assert_non_null(text);
	/* Row 2 named otherwise. */
	{
		char *l2 = strchr(strchr(text, '\n') + 1, '\n') + 1;
		char *comma = strchr(l2, ',');
		comma[2] = 'X'; /* inside the quotes */
	}
	assert_true(th_write_file(csv, text, len));
	free(text);
	comb = th_path(dir, "run.pdf");
	if (th_qrposter(&r, "batch", "-q", "--shard", "2/4", "-d", csv,
	    "--combine", comb, NULL) != 0)
		fail_msg("%s", r.err);
	th_run_free(&r);
	unlink(csv);
	for (int k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof name, "run-%d-of-4.pdf", k + 1);
		p[k] = in_dir(dir, name);
	}
	m1 = in_dir(dir, "run-1-of-4.manifest.csv");
	m2 = in_dir(dir, "run-2-of-4.manifest.csv");
	{
		const char *files[] = {p[0], p[1], p[2], p[3], NULL};
		const char *says[] = {m1, m2, "different runs", NULL};
		assert_refused(dir, files, says);
	}
	for (int k = 0; k < 4; k++)
		free(p[k]);
	free(m1);
	free(m2);
	free(comb);
	free(csv);
	free(dir);
}

static void
test_refuse_missing_shard(void **state)
{
	fixture *f = *state;
	static const int ks[] = {1, 2, 4, 0};
	char *dir = refusal_dir(f, "missing", "run", ks);
	char *p1 = in_dir(dir, "run-1-of-4.pdf"), *p2 = in_dir(dir,
	    "run-2-of-4.pdf"), *p4 = in_dir(dir, "run-4-of-4.pdf");
	const char *files[] = {p1, p2, p4, NULL};
	const char *says[] = {"shard 3 of 4 is missing", NULL};

	assert_refused(dir, files, says);
	free(p1);
	free(p2);
	free(p4);
	free(dir);
}

static void
test_refuse_duplicated_shard(void **state)
{
	fixture *f = *state;
	static const int ks[] = {1, 2, 3, 4, 0};
	char *dir = refusal_dir(f, "dup", "run", ks);
	char *p[4], *again = in_dir(dir, "again-2-of-4.pdf"),
	    *again_m = in_dir(dir, "again-2-of-4.manifest.csv");

	copy_file(f->shard[1], again);
	copy_file(f->shard_man[1], again_m);
	for (int k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof name, "run-%d-of-4.pdf", k + 1);
		p[k] = in_dir(dir, name);
	}
	{
		const char *files[] = {p[0], p[1], again, p[2], p[3], NULL};
		const char *says[] = {p[1], again, "both shard 2 of 4", NULL};
		assert_refused(dir, files, says);
	}
	for (int k = 0; k < 4; k++)
		free(p[k]);
	free(again);
	free(again_m);
	free(dir);
}

/* Shard 3's PDF changed after its manifest was written. */
static void
test_refuse_tampered_pdf(void **state)
{
	fixture *f = *state;
	static const int ks[] = {1, 2, 3, 4, 0};
	char *dir = refusal_dir(f, "tampered", "run", ks);
	char *p[4], *m3 = in_dir(dir, "run-3-of-4.manifest.csv");
	FILE *fp;

	for (int k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof name, "run-%d-of-4.pdf", k + 1);
		p[k] = in_dir(dir, name);
	}
	assert_non_null(fp = fopen(p[2], "ab"));
	fputs("% changed\n", fp);
	fclose(fp);
	{
		const char *files[] = {p[0], p[1], p[2], p[3], NULL};
		const char *says[] = {p[2], m3, "does not match its manifest",
		    NULL};
		assert_refused(dir, files, says);
	}
	for (int k = 0; k < 4; k++)
		free(p[k]);
	free(m3);
	free(dir);
}

/* Shard 3's PDF replaced by a one-page poster, its manifest's hash made
 * to match: the page counts differ. */
static void
test_refuse_page_count(void **state)
{
	fixture *f = *state;
	static const int ks[] = {1, 2, 3, 4, 0};
	char *dir = refusal_dir(f, "pages", "run", ks);
	char *p[4], *m3 = in_dir(dir, "run-3-of-4.manifest.csv"), *poster,
	    *old, *new, *text, *pos;
	size_t len;
	th_run r;

	for (int k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof name, "run-%d-of-4.pdf", k + 1);
		p[k] = in_dir(dir, name);
	}
	poster = th_path(f->dir, "poster.pdf");
	assert_int_equal(th_qrposter(&r, "render", "-s", "code=X1", "-s",
	    "name=One poster", "-o", poster, NULL), 0);
	th_run_free(&r);
	old = sha256_of(p[2]);
	copy_file(poster, p[2]);
	new = sha256_of(p[2]);
	text = th_read_file(m3, &len);
	for (pos = text; (pos = strstr(pos, old)) != NULL; pos += 64)
		memcpy(pos, new, 64);
	assert_true(th_write_file(m3, text, len));
	{
		const char *files[] = {p[0], p[1], p[2], p[3], NULL};
		const char *says[] = {p[2], m3, "has 1 pages, its manifest",
		    NULL};
		assert_refused(dir, files, says);
	}
	for (int k = 0; k < 4; k++)
		free(p[k]);
	free(text);
	g_free(old);
	g_free(new);
	free(poster);
	free(m3);
	free(dir);
}

/* Sheets of one shard's posters cannot go back in the run's order. */
static void
test_refuse_imposed(void **state)
{
	fixture *f = *state;
	char *dir = th_path(f->dir, "imposed"), *csv, *comb, *p[4];
	th_run r;
	FILE *fp;

	mkdir(dir, 0777);
	csv = th_path(dir, "small.csv");
	assert_non_null(fp = fopen(csv, "w"));
	fputs("code,name\n", fp);
	for (int i = 0; i < 16; i++)
		fprintf(fp, "%s,Station %d\n", f->codes[i], i + 1);
	fclose(fp);
	comb = th_path(dir, "run.pdf");
	for (int k = 0; k < 4; k++) {
		char sh[16], name[32];
		snprintf(sh, sizeof sh, "%d/4", k + 1);
		assert_int_equal(th_qrposter(&r, "batch", "-q", "--shard", sh,
		    "--impose", "2x1", "--sheet", "tabloid", "-d", csv,
		    "--combine", comb, NULL), 0);
		th_run_free(&r);
		snprintf(name, sizeof name, "run-%d-of-4.pdf", k + 1);
		p[k] = in_dir(dir, name);
	}
	unlink(csv);
	{
		const char *files[] = {p[0], p[1], p[2], p[3], NULL};
		const char *says[] = {"run-1-of-4.manifest.csv", "imposed",
		    NULL};
		assert_refused(dir, files, says);
	}
	for (int k = 0; k < 4; k++)
		free(p[k]);
	free(comb);
	free(csv);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipe),
		cmocka_unit_test(test_page_count),
		cmocka_unit_test(test_text_per_page),
		cmocka_unit_test(test_qr_payloads),
		cmocka_unit_test(test_sound_file),
		cmocka_unit_test(test_no_parts_left),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_single_run_takes_merged),
		cmocka_unit_test(test_bytes_per_page),
		cmocka_unit_test(test_print_file_whole),
		cmocka_unit_test(test_resumed_shard),
		cmocka_unit_test(test_refuse_mixed_inputs),
		cmocka_unit_test(test_refuse_missing_shard),
		cmocka_unit_test(test_refuse_duplicated_shard),
		cmocka_unit_test(test_refuse_tampered_pdf),
		cmocka_unit_test(test_refuse_page_count),
		cmocka_unit_test(test_refuse_imposed),
	};

	return cmocka_run_group_tests_name("merge", tests, setup, teardown);
}
