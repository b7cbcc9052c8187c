/*
 * test_products.c - product sets (issue 12): several products for every
 * location in one batch, each its own print-run PDF or files, one
 * manifest with a product column; resume and shards as for one
 * template; a job file with options per product (wallet cards imposed
 * ten to a Letter sheet); a CSV "template" column picking each row's
 * template; and the mistakes a user can make, one case per row.
 *
 * The big run goes over the shared station list (../shared/data, 540
 * stations) when it is beside the repository, else over the bundled
 * sample list: it is made once, in the group's setup, and each case
 * checks one thing about it. QR payloads are derived here from the
 * documented pattern, not by qrposter's code, and read back from the
 * PDFs with libzbar.
 */
#include "suite.h"

#include <math.h>
#include <sys/stat.h>

#include "batch.h"
#include "data.h"
#include "helpers.h"

#define REPORT_URL_DEFAULT "https://humantraffickinghotline.org/"
#define SHARED_LIST "../shared/data/stations.csv"
#define SAMPLE_LIST "templates/samples/stations.csv"

/* The payload of a row (templates/README.md): {{report_url}}?loc=
 * {{code|url}}, |url being RFC 3986 percent-encoding of all but the
 * unreserved characters. */
static char *
payload_for(const char *code)
{
	static const char hex[] = "0123456789ABCDEF";
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, REPORT_URL_DEFAULT "?loc=");
	for (const unsigned char *c = (const unsigned char *)code; *c; c++)
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
		    *c == '_' || *c == '~')
			qp_buf_addc(&b, (char)*c);
		else
			qp_buf_printf(&b, "%%%c%c", hex[*c >> 4], hex[*c & 15]);
	return qp_buf_steal(&b);
}

/* The codes of a station list, in order. */
static char **
read_codes(const char *csv, size_t *n)
{
	qp_error err;
	qp_data *d = qp_data_open(csv, &err);
	qp_record rec;
	char **v = NULL;
	size_t cap = 0;
	long col;

	*n = 0;
	assert_non_null(d);
	col = qp_data_col_index(d, "code");
	assert_true(col >= 0);
	while (qp_data_next(d, &rec, &err) == 1) {
		v = qp_grow(v, &cap, *n + 2, sizeof *v);
		v[(*n)++] = qp_xstrdup(rec.fields[col]);
	}
	qp_data_close(d);
	return v;
}

/* The manifest as rows of fields; the header's columns in cols. */
typedef struct mf {
	char **cols;
	size_t ncols;
	char ***rows;
	size_t nrows;
} mf;

static void
mf_read(const char *path, mf *m)
{
	qp_error err;
	qp_data *d = qp_data_open(path, &err);
	qp_record rec;
	size_t cap = 0;

	memset(m, 0, sizeof *m);
	if (d == NULL)
		fail_msg("%s", err.msg);
	m->ncols = qp_data_ncols(d);
	m->cols = qp_xcalloc(m->ncols, sizeof *m->cols);
	for (size_t i = 0; i < m->ncols; i++)
		m->cols[i] = qp_xstrdup(qp_data_col(d, i));
	while (qp_data_next(d, &rec, &err) == 1) {
		char **r = qp_xcalloc(m->ncols, sizeof *r);
		for (size_t i = 0; i < m->ncols; i++)
			r[i] = qp_xstrdup(rec.fields[i]);
		m->rows = qp_grow(m->rows, &cap, m->nrows + 1, sizeof *m->rows);
		m->rows[m->nrows++] = r;
	}
	qp_data_close(d);
}

static const char *
mf_get(const mf *m, size_t row, const char *col)
{
	for (size_t i = 0; i < m->ncols; i++)
		if (strcmp(m->cols[i], col) == 0)
			return m->rows[row][i];
	fail_msg("no column '%s'", col);
	return NULL;
}

static void
mf_free(mf *m)
{
	for (size_t r = 0; r < m->nrows; r++) {
		for (size_t i = 0; i < m->ncols; i++)
			free(m->rows[r][i]);
		free(m->rows[r]);
	}
	free(m->rows);
	for (size_t i = 0; i < m->ncols; i++)
		free(m->cols[i]);
	free(m->cols);
}


/* ---- the set over the station list, made once ------------------------ */

static const char *const set[] = {"restroom-letter", "stall-sticker",
    "car-card"};
#define NSET (sizeof set / sizeof set[0])
/* Their trim sizes in points (the templates' page: sizes). */
static const double set_w[] = {612, 288, 2016}, set_h[] = {792, 432, 792};

typedef struct big {
	char *dir, *list, *combine;
	char **codes;
	size_t ncodes;
	char *first_out; /* stderr of the first run */
} big;

static big B;

static int
big_setup(void **state)
{
	th_run r;

	(void)state;
	B.dir = th_tmpdir_new();
	B.list = qp_xstrdup(th_exists(SHARED_LIST) ? SHARED_LIST :
	    SAMPLE_LIST);
	B.codes = read_codes(B.list, &B.ncodes);
	B.combine = th_path(B.dir, "run.pdf");
	th_qrposter(&r, "batch", "-d", B.list, "--products",
	    "restroom-letter,stall-sticker,car-card", "--combine", B.combine,
	    "-j", "2", NULL);
	B.first_out = r.err;
	r.err = NULL;
	if (r.status != 0) {
		fprintf(stderr, "the product-set run failed: %s\n",
		    B.first_out);
		th_run_free(&r);
		return -1;
	}
	th_run_free(&r);
	return 0;
}

static int
big_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < B.ncodes; i++)
		free(B.codes[i]);
	free(B.codes);
	free(B.list);
	free(B.combine);
	free(B.first_out);
	th_tmpdir_remove(B.dir);
	return 0;
}

/* Each product: its own PDF, one page per row, every page its size. */
static void
test_product_file(void **state)
{
	size_t k = (size_t)(uintptr_t)*state - 1;
	char *name = qp_xasprintf("run-%s.pdf", set[k]);
	char *pdf = th_path(B.dir, name);
	double w, h;

	assert_int_equal(th_pdf_pages(pdf), (int)B.ncodes);
	assert_true(th_pdf_page_size(pdf, &w, &h));
	assert_true(fabs(w - set_w[k]) < 0.5 && fabs(h - set_h[k]) < 0.5);
	free(pdf);
	free(name);
}

/* Each product's codes read back: the first, the last and pages
 * spread through the file carry their row's payload. */
static void
test_product_decodes(void **state)
{
	size_t k = (size_t)(uintptr_t)*state - 1;
	char *name = qp_xasprintf("run-%s.pdf", set[k]);
	char *pdf = th_path(B.dir, name);
	size_t step = B.ncodes > 5 ? B.ncodes / 5 : 1;

	for (size_t i = 0; i < B.ncodes; i += step) {
		size_t row = i + step >= B.ncodes ? B.ncodes - 1 : i;
		char *want = payload_for(B.codes[row]);
		char **got = th_pdf_page_decode_qr(pdf, (int)row + 1, k == 2 ? 40 : 60);

		if (got == NULL || th_strv_len(got) != 1 ||
		    strcmp(got[0], want) != 0)
			fail_msg("%s page %zu: want %s, got %s", set[k], row + 1,
			    want, got && got[0] ? got[0] : "nothing");
		th_strv_free(got);
		free(want);
		if (row == B.ncodes - 1)
			break;
	}
	free(pdf);
	free(name);
}

/* One manifest: every row once per product, in row order and the set's
 * order, with the product's file, the row's page and payload, status ok,
 * and the product last. */
static void
test_run_manifest(void **state)
{
	char *path = th_path(B.dir, "run.manifest.csv");
	mf m;

	(void)state;
	mf_read(path, &m);
	assert_string_equal(m.cols[m.ncols - 1], "product");
	assert_int_equal(m.nrows, B.ncodes * NSET);
	for (size_t i = 0; i < m.nrows; i++) {
		size_t row = i / NSET, k = i % NSET;
		char *want = payload_for(B.codes[row]);
		char *file = qp_xasprintf("%s/run-%s.pdf", B.dir, set[k]);
		char num[32];

		snprintf(num, sizeof num, "%zu", row + 1);
		assert_string_equal(mf_get(&m, i, "row"), num);
		assert_string_equal(mf_get(&m, i, "page"), num);
		assert_string_equal(mf_get(&m, i, "code"), B.codes[row]);
		assert_string_equal(mf_get(&m, i, "payload"), want);
		assert_string_equal(mf_get(&m, i, "file"), file);
		assert_string_equal(mf_get(&m, i, "status"), "ok");
		assert_string_equal(mf_get(&m, i, "product"), set[k]);
		free(want);
		free(file);
	}
	mf_free(&m);
	free(path);
}

/* Each product's own manifest is a plain batch's (what resume and merge
 * read), and the run's manifest adds only the last column. */
static void
test_manifest_compatible(void **state)
{
	char *plain = th_path(B.dir, "run-stall-sticker.manifest.csv");
	char *run = th_path(B.dir, "run.manifest.csv");
	char *a = th_read_file(plain, NULL), *b = th_read_file(run, NULL);
	size_t ha, hb;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	ha = strcspn(a, "\n");
	hb = strcspn(b, "\n");
	{
		/* batch.h's columns, in their order. */
		qp_buf want;
		char *got = qp_xstrndup(a, ha);
		qp_buf_init(&want);
		for (size_t i = 0; i < QP_MANIFEST_NCOLS; i++)
			qp_buf_printf(&want, "%s%s", i ? "," : "",
			    qp_manifest_cols[i]);
		assert_string_equal(got, want.data);
		qp_buf_free(&want);
		free(got);
	}
	assert_int_equal(hb, ha + strlen(",product"));
	assert_memory_equal(a, b, ha);
	assert_memory_equal(b + ha, ",product", 8);
	free(a);
	free(b);
	free(plain);
	free(run);
}

/* The same command again: nothing is redone, the files and the run's
 * manifest are the same bytes. */
static void
test_resume(void **state)
{
	char *m = th_path(B.dir, "run.manifest.csv");
	char *copy = th_path(B.dir, "before.csv");
	char *pdf = th_path(B.dir, "run-car-card.pdf");
	char *pcopy = th_path(B.dir, "before.pdf");
	char *text = th_read_file(m, NULL), *ptext;
	size_t plen;
	th_run r;

	(void)state;
	assert_true(th_write_file(copy, text, strlen(text)));
	ptext = th_read_file(pdf, &plen);
	assert_true(th_write_file(pcopy, ptext, plen));
	th_qrposter(&r, "batch", "-d", B.list, "--products",
	    "restroom-letter,stall-sticker,car-card", "--combine", B.combine,
	    NULL);
	assert_int_equal(r.status, 0);
	for (size_t k = 0; k < NSET; k++) {
		char *line = qp_xasprintf("qrposter: %s: %zu rows: 0 made, %zu "
		    "unchanged", set[k], B.ncodes, B.ncodes);
		if (strstr(r.err, line) == NULL)
			fail_msg("no '%s' in:\n%s", line, r.err);
		free(line);
	}
	assert_true(th_files_equal(m, copy));
	assert_true(th_files_equal(pdf, pcopy));
	th_run_free(&r);
	free(text);
	free(ptext);
	free(m);
	free(copy);
	free(pdf);
	free(pcopy);
}

/* ---- smaller runs ------------------------------------------------------ */

/* Shards: each shard makes its rows of every product; the shards' run
 * manifests hold every row of every product once. */
static void
test_shards(void **state)
{
	char *dir = th_tmpdir_new(), *run = th_path(dir, "s.pdf");
	size_t n, seen = 0;
	char **codes = read_codes(SAMPLE_LIST, &n);

	(void)state;
	for (int k = 1; k <= 2; k++) {
		char sh[24], *mpath, *name;
		mf m;
		th_run r;

		snprintf(sh, sizeof sh, "%d/2", k);
		th_qrposter(&r, "batch", "-q", "-d", SAMPLE_LIST, "--products",
		    "restroom-letter,wallet-card", "--combine", run, "--shard",
		    sh, NULL);
		if (r.status != 0)
			fail_msg("%s", r.err);
		th_run_free(&r);
		name = qp_xasprintf("s-%d-of-2.manifest.csv", k);
		mpath = th_path(dir, name);
		mf_read(mpath, &m);
		for (size_t i = 0; i < m.nrows; i++) {
			long row = atol(mf_get(&m, i, "row"));
			/* Row i of the CSV belongs to shard i % 2 + 1. */
			assert_int_equal((row - 1) % 2 + 1, k);
			assert_string_equal(mf_get(&m, i, "code"),
			    codes[row - 1]);
			seen++;
		}
		mf_free(&m);
		free(mpath);
		free(name);
		name = qp_xasprintf("s-wallet-card-%d-of-2.pdf", k);
		mpath = th_path(dir, name);
		assert_true(th_exists(mpath));
		free(mpath);
		free(name);
	}
	assert_int_equal(seen, 2 * n);
	/* A product's shards are an ordinary sharded run: merge puts them
	 * back into that product's print run. */
	{
		char *s1 = th_path(dir, "s-restroom-letter-1-of-2.pdf");
		char *s2 = th_path(dir, "s-restroom-letter-2-of-2.pdf");
		char *whole = th_path(dir, "whole.pdf");
		th_run r;

		th_qrposter(&r, "merge", "-o", whole, s1, s2, NULL);
		if (r.status != 0)
			fail_msg("merge: %s", r.err);
		th_run_free(&r);
		assert_int_equal(th_pdf_pages(whole), (int)n);
		free(s1);
		free(s2);
		free(whole);
	}
	for (size_t i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
	free(run);
	th_tmpdir_remove(dir);
}

/* Files per row: the pattern's {{product}} names each product's file. */
static void
test_files_per_row(void **state)
{
	char *dir = th_tmpdir_new(), *pat = th_path(dir, "{{code}}-{{product}}.pdf");
	char *one = th_path(dir, "NYP-R1-stall-sticker.pdf");
	char **got;
	mf m;
	char *mpath = th_path(dir, "manifest.csv");
	size_t n;
	char **codes = read_codes(SAMPLE_LIST, &n);
	th_run r;

	(void)state;
	th_qrposter(&r, "batch", "-q", "-d", SAMPLE_LIST, "--products",
	    "restroom-letter,stall-sticker", "-o", pat, NULL);
	if (r.status != 0)
		fail_msg("%s", r.err);
	th_run_free(&r);
	got = th_pdf_decode_qr(one, 100);
	assert_non_null(got);
	assert_string_equal(got[0], REPORT_URL_DEFAULT "?loc=NYP-R1");
	th_strv_free(got);
	mf_read(mpath, &m);
	assert_int_equal(m.nrows, 2 * n);
	for (size_t i = 0; i < m.nrows; i++)
		assert_true(th_exists(mf_get(&m, i, "file")));
	mf_free(&m);
	for (size_t i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
	free(mpath);
	free(one);
	free(pat);
	th_tmpdir_remove(dir);
}

/* The bundled job file: wallet cards ten to a Letter sheet, the sticker
 * with its bleed, every product in the manifest. */
static void
test_job_file(void **state)
{
	char *dir = th_tmpdir_new(), *run = th_path(dir, "set.pdf");
	char *cards = th_path(dir, "set-wallet-card.pdf");
	char *sticker = th_path(dir, "set-stall-sticker.pdf");
	char *mpath = th_path(dir, "set.manifest.csv");
	size_t n, per[4] = {0};
	char **codes = read_codes(SAMPLE_LIST, &n);
	static const char *const prods[] = {"restroom-letter",
	    "stall-sticker", "car-card", "wallet-card"};
	double w, h;
	mf m;
	th_run r;

	(void)state;
	th_qrposter(&r, "batch", "-q", "-d", SAMPLE_LIST, "--products",
	    "transit-set.yaml", "--combine", run, NULL);
	if (r.status != 0)
		fail_msg("%s", r.err);
	th_run_free(&r);
	assert_int_equal(th_pdf_pages(cards), (int)((n + 9) / 10));
	assert_true(th_pdf_page_size(cards, &w, &h));
	assert_true(fabs(w - 612) < 0.5 && fabs(h - 792) < 0.5);
	/* 4 x 6 in and a 0.125in bleed on each side. */
	assert_true(th_pdf_page_size(sticker, &w, &h));
	assert_true(fabs(w - 306) < 0.5 && fabs(h - 450) < 0.5);
	mf_read(mpath, &m);
	for (size_t i = 0; i < m.nrows; i++)
		for (size_t k = 0; k < 4; k++)
			if (!strcmp(mf_get(&m, i, "product"), prods[k]))
				per[k]++;
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(per[k], n);
	mf_free(&m);
	for (size_t i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
	free(run);
	free(cards);
	free(sticker);
	free(mpath);
	th_tmpdir_remove(dir);
}

/* A CSV "template" column: each row in its own template's file, an
 * empty cell in -t's. */
static void
test_template_column(void **state)
{
	static const char csv[] = "code,name,template\n"
	    "A1,Alpha restroom 1,restroom-letter\n"
	    "A2,Alpha stall 2,stall-sticker\n"
	    "A3,Alpha concourse,\n"
	    "B1,Beta stall 1,stall-sticker\n";
	static const char *const want[][3] = {
	    {"A1", "restroom-letter", "1"}, {"A2", "stall-sticker", "1"},
	    {"A3", "notice-fl", "1"}, {"B1", "stall-sticker", "2"}};
	char *dir = th_tmpdir_new(), *data = th_path(dir, "l.csv");
	char *run = th_path(dir, "c.pdf"), *mpath = th_path(dir,
	    "c.manifest.csv");
	mf m;
	th_run r;

	(void)state;
	assert_true(th_write_file(data, csv, strlen(csv)));
	th_qrposter(&r, "batch", "-d", data, "-t", "notice-fl", "--combine",
	    run, NULL);
	if (r.status != 0)
		fail_msg("%s", r.err);
	/* The column is no variable, and no warning says so. */
	assert_null(strstr(r.err, "column 'template'"));
	th_run_free(&r);
	mf_read(mpath, &m);
	assert_int_equal(m.nrows, 4);
	for (size_t i = 0; i < 4; i++) {
		char *file = qp_xasprintf("%s/c-%s.pdf", dir, want[i][1]);
		char **got;
		assert_string_equal(mf_get(&m, i, "code"), want[i][0]);
		assert_string_equal(mf_get(&m, i, "product"), want[i][1]);
		assert_string_equal(mf_get(&m, i, "file"), file);
		assert_string_equal(mf_get(&m, i, "page"), want[i][2]);
		got = th_pdf_page_decode_qr(file, atoi(want[i][2]), 100);
		assert_non_null(got);
		{
			char *p = payload_for(want[i][0]);
			assert_string_equal(got[0], p);
			free(p);
		}
		th_strv_free(got);
		free(file);
	}
	mf_free(&m);
	free(data);
	free(run);
	free(mpath);
	th_tmpdir_remove(dir);
}

/* Mistakes: what is said, the exit status, and nothing written. */
typedef struct bad_row {
	const char *name;
	const char *products; /* --products, or NULL */
	const char *job;      /* a job file's text, or NULL */
	const char *extra;    /* another option, or NULL */
	const char *extra_val;
	int files;            /* -o PATTERN instead of --combine: 1 without
	                       * {{product}}, 2 with it */
	int status;
	const char *says;
} bad_row;

static const bad_row bads[] = {
	{"a product that is no template", "restroom-letter,nonesuch", NULL,
	    NULL, NULL, 0, 1, "product 'nonesuch': nonesuch: template not "
	    "found"},
	{"a product twice", "car-card,car-card", NULL, NULL, NULL, 0, 1,
	    "product 'car-card' is listed twice"},
	{"an empty list", ",", NULL, NULL, NULL, 0, 1, "names no product"},
	{"a pattern without {{product}}", "car-card,stall-sticker", NULL, NULL,
	    NULL, 1, 1, "must say {{product}}"},
	{"-t with --products", "car-card", NULL, "-t", "restroom-letter",
	    0, 2, "give either -t TEMPLATE or --products"},
	{"a job file's unknown key", NULL, "products:\n  - template: car-card\n"
	    "    impos: 2x2\n", NULL, NULL, 0, 1, "job.yaml:3:5: unknown key "
	    "'impos' in a product (did you mean 'impose'?)"},
	{"a job file's bad imposition", NULL, "products:\n  - {template: "
	    "wallet-card, impose: 2y5}\n", NULL, NULL, 0, 1,
	    "job.yaml:2:37: impose: '2y5': expected COLSxROWS"},
	{"a job file without products", NULL, "qrposter-products: 1\n", NULL,
	    NULL, 0, 1, "job.yaml:1:1: the job file needs 'products'"},
	{"imposing files per row", NULL, "products:\n  - {template: "
	    "wallet-card, impose: 2x5}\n", NULL, NULL, 2, 1,
	    "product 'wallet-card': imposing needs a combined PDF"},
};

static void
test_bad(void **state)
{
	const bad_row *b = *state;
	char *dir = th_tmpdir_new(), *out = th_path(dir, b->files == 1 ?
	    "{{code}}.pdf" : b->files == 2 ? "{{code}}-{{product}}.pdf" :
	    "run.pdf"), *job = NULL;
	const char *argv[16];
	int n = 0;
	th_run r;

	argv[n++] = th_bin();
	argv[n++] = "batch";
	argv[n++] = "-d";
	argv[n++] = SAMPLE_LIST;
	argv[n++] = "--products";
	if (b->job) {
		job = th_path(dir, "job.yaml");
		assert_true(th_write_file(job, b->job, strlen(b->job)));
		argv[n++] = job;
	} else
		argv[n++] = b->products;
	argv[n++] = b->files ? "-o" : "--combine";
	argv[n++] = out;
	if (b->extra) {
		argv[n++] = b->extra;
		argv[n++] = b->extra_val;
	}
	argv[n] = NULL;
	th_run_argv(&r, argv, NULL);
	if (r.status != b->status || strstr(r.err, b->says) == NULL)
		fail_msg("exit %d (want %d): %s\nwant: %s", r.status, b->status,
		    r.err, b->says);
	/* Nothing but the job file is left. */
	{
		const char *allowed[] = {"job.yaml", NULL};
		char stray[256];
		if (!th_dir_only(dir, allowed, stray, sizeof stray))
			fail_msg("left behind: %s", stray);
	}
	th_run_free(&r);
	free(out);
	free(job);
	th_tmpdir_remove(dir);
}

int
main(void)
{
	th_suite s = {0}, t = {0};
	int rc;

	for (size_t k = 0; k < NSET; k++) {
		th_suite_add(&s, test_product_file, NULL, NULL,
		    (void *)(uintptr_t)(k + 1), "%s: one file, one page a row, "
		    "its own size", set[k]);
		th_suite_add(&s, test_product_decodes, NULL, NULL,
		    (void *)(uintptr_t)(k + 1), "%s: codes decode to their rows",
		    set[k]);
	}
	th_suite_add(&s, test_run_manifest, NULL, NULL, NULL,
	    "one manifest, every row of every product");
	th_suite_add(&s, test_manifest_compatible, NULL, NULL, NULL,
	    "the products' manifests are a plain batch's");
	th_suite_add(&s, test_resume, NULL, NULL, NULL,
	    "the same command again redoes nothing");
	rc = th_suite_run(&s, "product set over the station list", big_setup,
	    big_teardown);
	th_suite_add(&t, test_shards, NULL, NULL, NULL,
	    "two shards, and a product merged back");
	th_suite_add(&t, test_files_per_row, NULL, NULL, NULL,
	    "files per row");
	th_suite_add(&t, test_job_file, NULL, NULL, NULL,
	    "the bundled job file");
	th_suite_add(&t, test_template_column, NULL, NULL, NULL,
	    "a template column");
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
		th_suite_add(&t, test_bad, NULL, NULL, &bads[i], "mistake: %s",
		    bads[i].name);
	return rc + th_suite_run(&t, "product sets", NULL, NULL);
}
