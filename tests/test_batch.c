/*
 * test_batch.c - "qrposter batch" against real output: files and pages
 * counted, QR codes decoded with libzbar, names read back with pdftotext,
 * the manifest checked against the files' real SHA-256, -j 1 and -j 2
 * compared byte for byte, a run killed part-way and resumed, bad rows,
 * bad CSV, name clashes, shards, print boxes; plus the CSV reader and the
 * file-name rules in-process. The awkward rows, the broken CSVs and the
 * file-name rules run one case per row, named after it; the awkward
 * batch itself runs once, in its group's setup.
 *
 * Runs from the top of the source tree; $QRPOSTER names the binary.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <qpdf/qpdf-c.h>
#include <unistd.h>
#include <zbar.h>

#include "batch.h"
#include "data.h"
#include "fonts.h"
#include "layout.h"
#include "suite.h"
#include "verify.h"

static char bin[4096];
static char tmp[4096];

/* ---- helpers ----------------------------------------------------------- */

static char *
path_in(const char *fmt, ...)
{
	char rel[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	return qp_xasprintf("%s/%s", tmp, rel);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	qp_buf b;
	char buf[8192];
	size_t n;

	if (fp == NULL)
		return NULL;
	qp_buf_init(&b);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		qp_buf_add(&b, buf, n);
	fclose(fp);
	if (len)
		*len = b.len;
	if (b.data == NULL)
		qp_buf_adds(&b, "");
	return qp_buf_steal(&b);
}

static void
spit(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, n, fp), n);
	fclose(fp);
}

/*
 * Structural checks of what a run wrote (as tests/helpers.c does for the
 * other programs): a PDF must pass libqpdf's check (what qpdf --check
 * runs) with no warning, a PNG pngcheck, an SVG xmllint. Every run of
 * the binary checks the new files under the folders of its -o and
 * --combine arguments.
 */
static int run_full(char *const argv[], const char *in_path, char **out,
    char **errs, pid_t *pid_out);

static bool
ends_with(const char *s, const char *ext)
{
	size_t n = strlen(s), e = strlen(ext);

	return n > e && strcmp(s + n - e, ext) == 0;
}

static void
assert_valid_file(const char *path)
{
	if (ends_with(path, ".pdf")) {
		qpdf_data q = qpdf_init();
		char why[1024] = "";

		qpdf_silence_errors(q);
		qpdf_set_suppress_warnings(q, QPDF_TRUE);
		if (qpdf_read(q, path, NULL) & QPDF_ERRORS ||
		    qpdf_check_pdf(q) & QPDF_ERRORS)
			snprintf(why, sizeof why, "%s", qpdf_has_error(q) ?
			    qpdf_get_error_full_text(q, qpdf_get_error(q)) :
			    "error");
		else if (qpdf_more_warnings(q))
			snprintf(why, sizeof why, "warning: %s",
			    qpdf_get_error_full_text(q, qpdf_next_warning(q)));
		while (qpdf_more_warnings(q))
			(void)qpdf_next_warning(q);
		qpdf_cleanup(&q);
		if (why[0])
			fail_msg("%s: qpdf: %s", path, why);
	} else if (ends_with(path, ".png") || ends_with(path, ".svg")) {
		bool png = ends_with(path, ".png");
		char *argv[] = {png ? "pngcheck" : "xmllint",
		    png ? "-q" : "--noout", (char *)path, NULL};
		char *errs = NULL;
		int rc = run_full(argv, NULL, NULL, &errs, NULL);

		if (rc != 0 || (!png && errs && errs[0]))
			fail_msg("%s: %s (status %d): %s", path, argv[0], rc,
			    errs ? errs : "");
		free(errs);
	}
}

static void
assert_valid_since(const char *dir, const struct timespec *since)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		p = qp_xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			assert_valid_since(p, since);
		else if (S_ISREG(st.st_mode) &&
		    (st.st_mtim.tv_sec > since->tv_sec ||
		    (st.st_mtim.tv_sec == since->tv_sec &&
		    st.st_mtim.tv_nsec >= since->tv_nsec)))
			assert_valid_file(p);
		free(p);
	}
	closedir(d);
}

static void
assert_run_outputs(char *const argv[], const struct timespec *since)
{
	for (size_t i = 1; argv[i] && argv[i + 1]; i++) {
		const char *v = argv[i + 1], *brace;
		char *dir;
		size_t n;

		if (strcmp(argv[i], "-o") != 0 &&
		    strcmp(argv[i], "--combine") != 0)
			continue;
		brace = strstr(v, "{{");
		n = brace ? (size_t)(brace - v) : strlen(v);
		while (n > 0 && v[n - 1] != '/')
			n--;
		dir = n ? qp_xstrndup(v, n) : qp_xstrdup(".");
		if (brace)
			assert_valid_since(dir, since);
		else {
			struct stat st;
			if (stat(v, &st) == 0 && S_ISREG(st.st_mode) &&
			    (st.st_mtim.tv_sec > since->tv_sec ||
			    (st.st_mtim.tv_sec == since->tv_sec &&
			    st.st_mtim.tv_nsec >= since->tv_nsec)))
				assert_valid_file(v);
		}
		free(dir);
	}
}

/*
 * Run argv (NULL-terminated) in dir with stdin from in_path (or
 * /dev/null); stdout and stderr captured if asked. Returns the exit status
 * (128+N for a signal). pid_out, if given, makes it asynchronous: the
 * child's pid is stored and -1 returned.
 */
static int
run_full(char *const argv[], const char *in_path, char **out, char **errs,
    pid_t *pid_out)
{
	char *op = path_in(".stdout"), *ep = path_in(".stderr");
	struct timespec start;
	pid_t pid;
	int status;

	clock_gettime(CLOCK_REALTIME, &start);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		int o = open(pid_out ? "/dev/null" : op, O_WRONLY | O_CREAT |
		    O_TRUNC, 0644);
		int e = open(pid_out ? "/dev/null" : ep, O_WRONLY | O_CREAT |
		    O_TRUNC, 0644);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid_out) {
		*pid_out = pid;
		free(op);
		free(ep);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = slurp(op, NULL);
	if (errs)
		*errs = slurp(ep, NULL);
	unlink(op);
	unlink(ep);
	free(op);
	free(ep);
	if (strcmp(argv[0], bin) == 0)
		assert_run_outputs(argv, &start);
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

static int
run(char *const argv[], char **errs)
{
	return run_full(argv, NULL, NULL, errs, NULL);
}

static char *
capture(char *const argv[])
{
	char *out = NULL;
	int rc = run_full(argv, NULL, &out, NULL, NULL);

	assert_int_equal(rc, 0);
	return out;
}

static void
rm_rf(const char *p)
{
	char *argv[] = {"rm", "-rf", (char *)p, NULL};
	assert_int_equal(run(argv, NULL), 0);
}

static void
sha256_hex(const char *path, char out[65])
{
	size_t n;
	char *d = slurp(path, &n);
	gchar *s;

	assert_non_null(d);
	s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)d,
	    n);
	snprintf(out, 65, "%s", s);
	g_free(s);
	free(d);
}

/* Names in dir (sorted), hidden ones included. */
static size_t
list_dir(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	*names = NULL;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		*names = qp_xrealloc(*names, (n + 1) * sizeof **names);
		(*names)[n++] = qp_xstrdup(e->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*names)[j - 1],
		    (*names)[j]) > 0; j--) {
			char *t = (*names)[j];
			(*names)[j] = (*names)[j - 1];
			(*names)[j - 1] = t;
		}
	return n;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static size_t
count_ext(const char *dir, const char *ext)
{
	char **names;
	size_t n = list_dir(dir, &names), c = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (l > strlen(ext) && !strcmp(names[i] + l - strlen(ext), ext)
		    && names[i][0] != '.')
			c++;
	}
	free_names(names, n);
	return c;
}

/* Decode the QR code on page `page` of a PDF through pdftoppm and the
 * libzbar C API (zbarimg prints D-Bus noise). */
static char *
decode_pdf_page(const char *pdf, int page)
{
	char *prefix = path_in(".decode"), *pgm = path_in(".decode.pgm");
	char pg[16];
	char *argv[] = {"pdftoppm", "-gray", "-r", "72", "-f", pg, "-l", pg,
	    "-singlefile", (char *)pdf, prefix, NULL};
	size_t n;
	char *d;
	int w, h, maxv, off = 0;
	zbar_image_scanner_t *sc;
	zbar_image_t *img;
	char *res = NULL;

	snprintf(pg, sizeof pg, "%d", page);
	assert_int_equal(run(argv, NULL), 0);
	d = slurp(pgm, &n);
	assert_non_null(d);
	assert_int_equal(sscanf(d, "P5 %d %d %d%n", &w, &h, &maxv, &off), 3);
	off++; /* the single whitespace after maxval */
	sc = zbar_image_scanner_create();
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	img = zbar_image_create();
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)w, (unsigned)h);
	zbar_image_set_data(img, d + off, (unsigned long)w * h, NULL);
	if (zbar_scan_image(sc, img) > 0) {
		const zbar_symbol_t *s = zbar_image_first_symbol(img);
		res = qp_xstrndup(zbar_symbol_get_data(s),
		    zbar_symbol_get_data_length(s));
	}
	zbar_image_destroy(img);
	zbar_image_scanner_destroy(sc);
	free(d);
	unlink(pgm);
	free(pgm);
	free(prefix);
	return res;
}

/* Collapse runs of white space to one space. */
static char *
squash(const char *s)
{
	qp_buf b;
	bool sp = false;

	qp_buf_init(&b);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t' ||
		    *s == '\f') {
			sp = true;
			continue;
		}
		if (sp && b.len)
			qp_buf_addc(&b, ' ');
		sp = false;
		qp_buf_addc(&b, *s);
	}
	qp_buf_adds(&b, "");
	return qp_buf_steal(&b);
}

/* The manifest as records (header checked). */
typedef struct mrow {
	char *f[9];
} mrow;

static size_t
read_manifest(const char *path, mrow **rows)
{
	qp_error err;
	qp_data *d = qp_data_open(path, &err);
	qp_record rec;
	size_t n = 0;

	if (d == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(qp_data_ncols(d), QP_MANIFEST_NCOLS);
	assert_string_equal(qp_data_col(d, 9), "shard");
	assert_string_equal(qp_data_col(d, 10), "run_sha256");
	assert_string_equal(qp_data_col(d, 0), "row");
	assert_string_equal(qp_data_col(d, 6), "sha256");
	*rows = NULL;
	while (qp_data_next(d, &rec, &err) == 1) {
		*rows = qp_xrealloc(*rows, (n + 1) * sizeof **rows);
		for (int i = 0; i < 9; i++)
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
		for (int k = 0; k < 9; k++)
			free(rows[i].f[k]);
	free(rows);
}

/* ---- fixtures ---------------------------------------------------------- */

/* code, name: the awkward rows. */
static const char *awk[][2] = {
	{"NYP-R1", "New York Penn Station, restroom 1"},
	{"NYP-R3", "Moynihan Train Hall, \"West End\" restroom"},
	{"WAS-L1", "Union Station, Gates A, B & C"},
	{"SJC-R1", "San José Diridon, baño"},
	{"LAX-R9", "Union Station <Patsaouras Plaza>"},
	{"CHI-G2", "Chicago Union Station\nGreat Hall"},
	{"../ESC-1", "Code with a directory escape"},
	{"ACELA 2150/C3", "Acela 2150, car 3 (café car)"},
	{".hidden", "Code that starts with a dot"},
	{"MTR-R1", "Montréal Gare Centrale"},
};
#define NAWK (sizeof awk / sizeof awk[0])

static void
csv_quote(qp_buf *b, const char *s)
{
	qp_buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			qp_buf_addc(b, '"');
		qp_buf_addc(b, *s);
	}
	qp_buf_addc(b, '"');
}

/* The awkward CSV: BOM, CRLF, quoting, a blank trailing line. */
static char *
write_awkward(void)
{
	char *p = path_in("awk.csv");
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "\xEF\xBB\xBF" "code,name,city\r\n");
	for (size_t i = 0; i < NAWK; i++) {
		csv_quote(&b, awk[i][0]);
		qp_buf_addc(&b, ',');
		csv_quote(&b, awk[i][1]);
		qp_buf_adds(&b, ",Somewhere\r\n");
	}
	qp_buf_adds(&b, "\r\n\r\n");
	spit(p, b.data, b.len);
	qp_buf_free(&b);
	return p;
}

/*
 * The QR payload a row must carry, derived here and not by qrposter's
 * code: templates/README.md documents the bundled templates' payload as
 * {{report_url}}?loc={{code|url}} with report_url defaulting to
 * https://humantraffickinghotline.org/, and |url as RFC 3986
 * percent-encoding: every byte but the unreserved ALPHA / DIGIT / "-" /
 * "." / "_" / "~" becomes %XX (upper-case hex, RFC 3986 section 2.1).
 */
#define REPORT_URL_DEFAULT "https://humantraffickinghotline.org/"

static char *
payload_for(const char *code)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(REPORT_URL_DEFAULT "?loc=");
	char *s = malloc(n + 3 * strlen(code) + 1), *p;

	assert_non_null(s);
	memcpy(s, REPORT_URL_DEFAULT "?loc=", n);
	p = s + n;
	for (const unsigned char *c = (const unsigned char *)code; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
		    *c == '_' || *c == '~') {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p = '\0';
	return s;
}

/* A plain CSV of n rows. */
static char *
write_plain(const char *name, size_t n)
{
	char *p = path_in("%s", name);
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "code,name\n");
	for (size_t i = 0; i < n; i++)
		qp_buf_printf(&b, "ST%04zu-R%zu,Station %zu restroom %zu\n", i,
		    i % 3, i, i % 3);
	spit(p, b.data, b.len);
	qp_buf_free(&b);
	return p;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/qp-batch-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* A test that set the part length leaves it, even if it failed. */
	unsetenv("QRPOSTER_TEST_PART_ROWS");
	rm_rf(tmp);
	return 0;
}

/* ---- end-to-end tests ----------------------------------------------- */

/*
 * The awkward rows: one batch to a file per row (-j 2) and one to a
 * combined PDF, run once by the group's setup; then a case for each run
 * as a whole and one per row of each. The setup only runs and records;
 * every verdict is an assertion in a case.
 */
static struct {
	char *out;       /* tmp/out: the per-row files */
	char *pdf;       /* tmp/run.pdf: the combined run */
	int rc, crc;     /* their exit statuses */
	char *errs;      /* the per-row run's stderr */
	mrow *m, *cm;    /* their manifests, read by the first case */
	size_t nm, ncm;
	bool read;
} aw;

static int
awk_setup(void **state)
{
	char *csv, *pat;

	if (setup(state) != 0)
		return -1;
	csv = write_awkward();
	aw.out = path_in("out");
	aw.pdf = path_in("run.pdf");
	pat = path_in("out/{{code}}.pdf");
	mkdir(aw.out, 0777);
	{
		char *argv[] = {bin, "batch", "-q", "-j", "2", "-d", csv, "-o",
		    pat, NULL};
		char *cargv[] = {bin, "batch", "-q", "-d", csv, "--combine",
		    aw.pdf, NULL};
		aw.rc = run_full(argv, NULL, NULL, &aw.errs, NULL);
		aw.crc = run_full(cargv, NULL, NULL, NULL, NULL);
	}
	free(pat);
	free(csv);
	return 0;
}

static int
awk_teardown(void **state)
{
	if (aw.read) {
		free_manifest(aw.m, aw.nm);
		free_manifest(aw.cm, aw.ncm);
	}
	free(aw.errs);
	free(aw.out);
	free(aw.pdf);
	memset(&aw, 0, sizeof aw);
	return teardown(state);
}

/* The index in awk[] of the row a case was given (state = awk[i]). */
static size_t
awk_index(void **state)
{
	const char *const *row = *state;

	return (size_t)(row - awk[0]) / 2;
}

/* Both runs worked and wrote a manifest row per CSV row. */
static void
awk_manifests(void)
{
	assert_int_equal(aw.rc, 0);
	assert_int_equal(aw.crc, 0);
	if (!aw.read) {
		char *man = path_in("out/manifest.csv");
		char *cman = path_in("run.manifest.csv");
		aw.nm = read_manifest(man, &aw.m);
		aw.ncm = read_manifest(cman, &aw.cm);
		aw.read = true;
		free(man);
		free(cman);
	}
	assert_int_equal(aw.nm, NAWK);
	assert_int_equal(aw.ncm, NAWK);
}

static void
test_awkward_run(void **state)
{
	char **names;
	size_t n;

	(void)state;
	assert_int_equal(aw.rc, 0);
	assert_string_equal(aw.errs, "");
	/* One file per row, all inside out/, nothing hidden, nothing
	 * escaped into the parent. */
	assert_int_equal(count_ext(aw.out, ".pdf"), NAWK);
	n = list_dir(aw.out, &names);
	assert_int_equal(n, NAWK + 1);
	for (size_t i = 0; i < n; i++)
		assert_true(names[i][0] != '.');
	free_names(names, n);
	n = list_dir(tmp, &names);
	for (size_t i = 0; i < n; i++)
		assert_null(strstr(names[i], "ESC"));
	free_names(names, n);
	awk_manifests();
}

/* One row's file: listed with its row, code and payload, inside out/,
 * hashing as the manifest says, scanning to the payload, showing the
 * name. */
static void
test_awkward_row(void **state)
{
	size_t i = awk_index(state);
	const mrow *r;
	char sha[65], *want = payload_for(awk[i][0]), *got, num[24];
	char *text, *sq, *sqn;

	awk_manifests();
	r = &aw.m[i];
	snprintf(num, sizeof num, "%zu", i + 1);
	assert_string_equal(r->f[0], num);
	assert_string_equal(r->f[2], awk[i][0]);
	assert_string_equal(r->f[5], want);
	assert_string_equal(r->f[7], "ok");
	/* The file is inside out/ and its hash is the manifest's. */
	assert_true(strncmp(r->f[3], aw.out, strlen(aw.out)) == 0);
	assert_null(strchr(r->f[3] + strlen(aw.out) + 1, '/'));
	sha256_hex(r->f[3], sha);
	assert_string_equal(sha, r->f[6]);
	got = decode_pdf_page(r->f[3], 1);
	assert_non_null(got);
	assert_string_equal(got, want);
	{
		char *pa[] = {"pdftotext", r->f[3], "-", NULL};
		text = capture(pa);
	}
	sq = squash(text);
	sqn = squash(awk[i][1]);
	if (strstr(sq, sqn) == NULL)
		fail_msg("name '%s' not found in: %s", sqn, sq);
	free(text);
	free(sq);
	free(sqn);
	free(got);
	free(want);
}

static void
test_jobs_identical(void **state)
{
	char *csv = write_plain("j.csv", 12);
	char *d1 = path_in("j1"), *d2 = path_in("j2");
	char *p1 = path_in("j1/{{code}}.pdf"), *p2 = path_in("j2/{{code}}.png");
	char *p2b = path_in("j2/{{code}}.pdf"), *p1b = path_in("j1/{{code}}.png");
	char *a1[] = {bin, "batch", "-q", "-j", "1", "-d", csv, "-o", p1, NULL};
	char *a2[] = {bin, "batch", "-q", "-j", "2", "-d", csv, "-o", p2b,
	    NULL};
	char *a3[] = {bin, "batch", "-q", "-j", "1", "--dpi", "50", "-d", csv,
	    "-o", p1b, NULL};
	char *a4[] = {bin, "batch", "-q", "-j", "2", "--dpi", "50", "-d", csv,
	    "-o", p2, NULL};
	char **n1, **n2;
	size_t c1, c2;

	(void)state;
	mkdir(d1, 0777);
	mkdir(d2, 0777);
	assert_int_equal(run(a1, NULL), 0);
	assert_int_equal(run(a2, NULL), 0);
	assert_int_equal(run(a3, NULL), 0);
	assert_int_equal(run(a4, NULL), 0);
	c1 = list_dir(d1, &n1);
	c2 = list_dir(d2, &n2);
	assert_int_equal(c1, c2);
	assert_int_equal(count_ext(d1, ".pdf"), 12);
	assert_int_equal(count_ext(d1, ".png"), 12);
	for (size_t i = 0; i < c1; i++) {
		char *f1 = qp_xasprintf("%s/%s", d1, n1[i]);
		char *f2 = qp_xasprintf("%s/%s", d2, n2[i]);
		size_t l1, l2;
		char *b1 = slurp(f1, &l1), *b2 = slurp(f2, &l2);

		assert_string_equal(n1[i], n2[i]);
		if (strcmp(n1[i], "manifest.csv") != 0) {
			assert_int_equal(l1, l2);
			assert_memory_equal(b1, b2, l1);
		}
		free(b1);
		free(b2);
		free(f1);
		free(f2);
	}
	free_names(n1, c1);
	free_names(n2, c2);
	free(csv);
	free(d1);
	free(d2);
	free(p1);
	free(p2);
	free(p1b);
	free(p2b);
}

/* The combined run: a page per row, each font embedded once. */
static void
test_combined(void **state)
{
	char *ia[] = {"pdfinfo", aw.pdf, NULL};
	char *fa[] = {"pdffonts", aw.pdf, NULL};
	char *info, *fonts, *line, *save = NULL, pages[32];
	size_t nfonts = 0;

	(void)state;
	assert_int_equal(aw.crc, 0);
	info = capture(ia);
	snprintf(pages, sizeof pages, "Pages:           %zu\n", NAWK);
	assert_non_null(strstr(info, pages));
	/* Each font embedded once, not once per page. */
	fonts = capture(fa);
	for (line = strtok_r(fonts, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, " yes "))
			nfonts++;
	assert_true(nfonts >= 1 && nfonts <= 4);
	free(info);
	free(fonts);
}

/* One row's page of the combined run: its page number and the file's
 * hash in the manifest, and a QR code scanning to its payload. */
static void
test_combined_row(void **state)
{
	size_t i = awk_index(state);
	char sha[65], num[24], *want = payload_for(awk[i][0]), *got;

	awk_manifests();
	sha256_hex(aw.pdf, sha);
	snprintf(num, sizeof num, "%zu", i + 1);
	assert_string_equal(aw.cm[i].f[4], num);
	assert_string_equal(aw.cm[i].f[6], sha);
	got = decode_pdf_page(aw.pdf, (int)i + 1);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/*
 * A combined run with -j 2 or 3 (workers lay rows out and check them, one
 * process draws) makes the same bytes as one process: the PDF and its
 * manifest, plain and imposed; a bad row fails the run the same way, or
 * is left out the same way with --keep-going.
 */
static void
test_combined_jobs_identical(void **state)
{
	static const char *const modes[][4] = {
		{"--no-links", NULL},
		{"--impose", "2x2", NULL},
		{"--keep-going", "--bleed", "3mm", NULL},
	};
	char *csv = path_in("cj.csv"), *pdf = path_in("cj.pdf");
	char *man = path_in("cj.manifest.csv");
	qp_buf b;

	(void)state;
	/* Parts of two rows (the test suite's length; a run this short is
	 * otherwise one part): each worker draws parts of its own, one of
	 * them holding the bad row. */
	setenv("QRPOSTER_TEST_PART_ROWS", "2", 1);
	qp_buf_init(&b);
	qp_buf_adds(&b, "code,name\n");
	for (int i = 0; i < 9; i++)
		/* U+E000 (private use): no font has it, a layout error. */
		qp_buf_printf(&b, "C%02d,%s %d\n", i, i == 4 ? "Private "
		    "\xEE\x80\x80" : "Station", i);
	spit(csv, b.data, b.len);
	qp_buf_free(&b);
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		char *ref = NULL, *refman = NULL;
		size_t rl = 0, rml = 0;
		int want = m == 2 ? 3 : 0;

		for (int j = 1; j <= 3; j++) {
			char jobs[16];
			char *argv[16];
			int n = 0;
			size_t l, ml;
			char *got, *gotman;

			snprintf(jobs, sizeof jobs, "%d", j);
			argv[n++] = bin;
			argv[n++] = "batch";
			argv[n++] = "-q";
			argv[n++] = "--force";
			argv[n++] = "-j";
			argv[n++] = jobs;
			argv[n++] = "-d";
			argv[n++] = csv;
			argv[n++] = "--combine";
			argv[n++] = pdf;
			for (int k = 0; modes[m][k]; k++)
				argv[n++] = (char *)modes[m][k];
			argv[n] = NULL;
			/* Without --keep-going the long name fails the run. */
			if (m < 2) {
				char *errs = NULL;
				assert_int_equal(run(argv, &errs), 1);
				assert_non_null(strstr(errs, "cj.csv:6: block"));
				free(errs);
				continue;
			}
			assert_int_equal(run(argv, NULL), want);
			got = slurp(pdf, &l);
			gotman = slurp(man, &ml);
			assert_non_null(got);
			if (ref == NULL) {
				ref = got;
				rl = l;
				refman = gotman;
				rml = ml;
				continue;
			}
			assert_int_equal(l, rl);
			assert_memory_equal(got, ref, l);
			assert_int_equal(ml, rml);
			assert_memory_equal(gotman, refman, ml);
			free(got);
			free(gotman);
		}
		free(ref);
		free(refman);
	}
	/* And with every row good, plain and imposed. */
	{
		qp_buf_init(&b);
		qp_buf_adds(&b, "code,name\n");
		for (int i = 0; i < 9; i++)
			qp_buf_printf(&b, "C%02d,Station %d\n", i, i);
		spit(csv, b.data, b.len);
		qp_buf_free(&b);
	}
	for (size_t m = 0; m < 2; m++) {
		char *ref = NULL;
		size_t rl = 0;

		for (int j = 1; j <= 3; j++) {
			char jobs[16];
			char *argv[16];
			int n = 0;
			size_t l;
			char *got;

			snprintf(jobs, sizeof jobs, "%d", j);
			argv[n++] = bin;
			argv[n++] = "batch";
			argv[n++] = "-q";
			argv[n++] = "--force";
			argv[n++] = "-j";
			argv[n++] = jobs;
			argv[n++] = "-d";
			argv[n++] = csv;
			argv[n++] = "--combine";
			argv[n++] = pdf;
			for (int k = 0; modes[m][k]; k++)
				argv[n++] = (char *)modes[m][k];
			argv[n] = NULL;
			assert_int_equal(run(argv, NULL), 0);
			got = slurp(pdf, &l);
			assert_non_null(got);
			if (ref == NULL) {
				ref = got;
				rl = l;
				continue;
			}
			assert_int_equal(l, rl);
			assert_memory_equal(got, ref, l);
			free(got);
		}
		free(ref);
	}
	free(csv);
	free(pdf);
	free(man);
}

/* Every bundled template, as a combined PDF: -j 2 (each worker drawing
 * parts of its own; parts of two rows here) makes the same bytes as
 * -j 1. */
static const char *const bundled[] = {"agency-letter", "bilingual-letter",
    "car-card", "logo-qr-letter", "multilingual-tabloid", "notice-ca",
    "notice-mi", "restroom-letter", "station-tabloid"};

static void
test_combined_jobs_template(void **state)
{
	const char *t = *state;
	char *csv = path_in("tj.csv"), *p1 = path_in("tj1.pdf");
	char *p2 = path_in("tj2.pdf");
	char *a1[] = {bin, "batch", "-q", "-j", "1", "-t", (char *)t, "-d", csv,
	    "--combine", p1, NULL};
	char *a2[] = {bin, "batch", "-q", "-j", "2", "-t", (char *)t, "-d", csv,
	    "--combine", p2, NULL};
	char *errs = NULL, *b1, *b2;
	size_t l1, l2;
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "code,name\n");
	for (int i = 0; i < 5; i++)
		qp_buf_printf(&b, "T%d,Station number %d\n", i, i);
	spit(csv, b.data, b.len);
	qp_buf_free(&b);
	setenv("QRPOSTER_TEST_PART_ROWS", "2", 1);
	assert_int_equal(run(a1, &errs), 0);
	free(errs);
	assert_int_equal(run(a2, &errs), 0);
	free(errs);
	b1 = slurp(p1, &l1);
	b2 = slurp(p2, &l2);
	assert_non_null(b1);
	assert_non_null(b2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
	free(csv);
	free(p1);
	free(p2);
}

/*
 * A run long enough for parts of its own length (450 rows: 4 parts of
 * 113): -j 2 and -j 3 (workers drawing parts of their own, one of them
 * two) make the bytes of -j 1, and every row is a page.
 */
static void
test_combined_parts_jobs(void **state)
{
	char *csv = write_plain("parts.csv", 450), *ref = NULL;
	char *pdf = path_in("parts.pdf");
	char *ia[] = {"pdfinfo", pdf, NULL};
	size_t rl = 0;

	(void)state;
	for (int j = 1; j <= 3; j++) {
		char jobs[16], *got, *info;
		char *argv[] = {bin, "batch", "-q", "--force", "-j", jobs, "-d",
		    csv, "--combine", pdf, NULL};
		size_t l;

		snprintf(jobs, sizeof jobs, "%d", j);
		assert_int_equal(run(argv, NULL), 0);
		info = capture(ia);
		assert_non_null(strstr(info, "Pages:           450\n"));
		free(info);
		got = slurp(pdf, &l);
		assert_non_null(got);
		if (ref == NULL) {
			ref = got;
			rl = l;
			continue;
		}
		if (l != rl || memcmp(got, ref, l) != 0)
			fail_msg("-j %d: not the bytes of -j 1", j);
		free(got);
	}
	free(ref);
	free(csv);
	free(pdf);
}

/* Kill a run once its first file exists; what is left is complete, and
 * running again finishes with the same files as an uninterrupted run. */
static void
test_interrupt_resume(void **state)
{
	char *csv = write_plain("big.csv", 1500);
	char *out = path_in("int"), *pat = path_in("int/{{code}}.pdf");
	char *ref = path_in("ref"), *rpat = path_in("ref/{{code}}.pdf");
	char *man = path_in("int/manifest.csv");
	char *argv[] = {bin, "batch", "-q", "-j", "2", "-d", csv, "-o", pat,
	    NULL};
	char *rargv[] = {bin, "batch", "-q", "-j", "2", "-d", csv, "-o", rpat,
	    NULL};
	char *errs = NULL, **names, **rnames;
	pid_t pid;
	int status, rc;
	size_t n, rn, nm;
	mrow *m;

	(void)state;
	mkdir(out, 0777);
	mkdir(ref, 0777);
	run_full(argv, NULL, NULL, NULL, &pid);
	/* Wait for the first finished file (a condition, not a delay). */
	for (;;) {
		struct timespec ts = {0, 2000000};
		if (count_ext(out, ".pdf") > 0)
			break;
		assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
	/* No temporary or partial file; the manifest lists only files that
	 * exist and hash as it says. */
	n = list_dir(out, &names);
	for (size_t i = 0; i < n; i++)
		assert_true(names[i][0] != '.');
	assert_true(n < 1500);
	free_names(names, n);
	nm = read_manifest(man, &m);
	assert_true(nm < 1500);
	for (size_t i = 0; i < nm; i++) {
		char sha[65];
		sha256_hex(m[i].f[3], sha);
		assert_string_equal(sha, m[i].f[6]);
	}
	free_manifest(m, nm);
	/* Resume, and compare with a run that was never interrupted. */
	assert_int_equal(run(argv, &errs), 0);
	free(errs);
	rc = run(rargv, NULL);
	assert_int_equal(rc, 0);
	n = list_dir(out, &names);
	rn = list_dir(ref, &rnames);
	assert_int_equal(n, 1501);
	assert_int_equal(n, rn);
	for (size_t i = 0; i < n; i++) {
		char *a = qp_xasprintf("%s/%s", out, names[i]);
		char *b = qp_xasprintf("%s/%s", ref, rnames[i]);
		size_t la, lb;
		char *da = slurp(a, &la), *db = slurp(b, &lb);

		assert_string_equal(names[i], rnames[i]);
		if (strcmp(names[i], "manifest.csv") != 0) {
			assert_int_equal(la, lb);
			assert_memory_equal(da, db, la);
		}
		free(da);
		free(db);
		free(a);
		free(b);
	}
	/* The manifests agree row for row, but for the directory (and the
	 * inputs hash, which covers the output path). */
	{
		char *rm_ = qp_xasprintf("%s/manifest.csv", ref);
		mrow *r1, *r2;
		size_t k1 = read_manifest(man, &r1), k2 = read_manifest(rm_,
		    &r2);
		assert_int_equal(k1, 1500);
		assert_int_equal(k1, k2);
		for (size_t i = 0; i < k1; i++)
			for (int k = 0; k < 8; k++)
				assert_string_equal(k == 3 ?
				    strrchr(r1[i].f[k], '/') : r1[i].f[k],
				    k == 3 ? strrchr(r2[i].f[k], '/') :
				    r2[i].f[k]);
		free_manifest(r1, k1);
		free_manifest(r2, k2);
		free(rm_);
	}
	free_names(names, n);
	free_names(rnames, rn);
	free(csv);
	free(out);
	free(pat);
	free(ref);
	free(rpat);
	free(man);
}

static void
test_resume_skips_and_force(void **state)
{
	char *csv = write_plain("r.csv", 6);
	char *out = path_in("res"), *pat = path_in("res/{{code}}.pdf");
	char *argv[] = {bin, "batch", "-j", "1", "-d", csv, "-o", pat, NULL};
	char *fargv[] = {bin, "batch", "-j", "1", "--force", "-d", csv, "-o",
	    pat, NULL};
	char *victim = path_in("res/ST0002-R2.pdf");
	char *errs = NULL;

	(void)state;
	mkdir(out, 0777);
	assert_int_equal(run(argv, &errs), 0);
	assert_non_null(strstr(errs, "6 made, 0 unchanged"));
	free(errs);
	assert_int_equal(run(argv, &errs), 0);
	assert_non_null(strstr(errs, "0 made, 6 unchanged"));
	free(errs);
	/* A file changed behind the manifest's back is made again. */
	spit(victim, "junk", 4);
	assert_int_equal(run(argv, &errs), 0);
	assert_non_null(strstr(errs, "1 made, 5 unchanged"));
	free(errs);
	assert_int_equal(run(fargv, &errs), 0);
	assert_non_null(strstr(errs, "6 made, 0 unchanged"));
	free(errs);
	free(csv);
	free(out);
	free(pat);
	free(victim);
}

/*
 * A row's warnings reach the user whichever worker made the row, once
 * for the run. Rows 2 and 4 (at -j 2 both the second worker's) give a
 * hotline name with the national number, which the bundled poster does
 * not print (value-unused, from the row's values, not its layout); rows
 * 1 and 3 give none. So exactly one value-unused note, at CSV line 3.
 */
typedef struct warn_case {
	const char *name;
	const char *jobs;
	bool combine;
	bool keep_going; /* no checking pass: the making pass notes them */
} warn_case;

static const warn_case warn_cases[] = {
	{"files, -j 1", "1", false, false},
	{"files, -j 2", "2", false, false},
	{"files, -j 2, --keep-going", "2", false, true},
	{"combined, -j 1", "1", true, false},
	{"combined, -j 2", "2", true, false},
};

static void
test_row_warnings(void **state)
{
	const warn_case *c = *state;
	char *csv = path_in("warn.csv"), *dir = path_in("warn");
	char *out = c->combine ? path_in("warn/run.pdf") :
	    path_in("warn/{{code}}.pdf");
	char *argv[12], *errs = NULL, *want, *first, *again;
	const char *rows = "code,name,hotline_name\nW1,Alpha,\n"
	    "W2,Beta,Some Line\nW3,Gamma,\nW4,Delta,Other Line\n";
	int n = 0;

	mkdir(dir, 0777);
	spit(csv, rows, strlen(rows));
	argv[n++] = bin;
	argv[n++] = "batch";
	argv[n++] = "-j";
	argv[n++] = (char *)c->jobs;
	argv[n++] = "-d";
	argv[n++] = csv;
	argv[n++] = c->combine ? "--combine" : "-o";
	argv[n++] = out;
	if (c->keep_going)
		argv[n++] = "--keep-going";
	argv[n] = NULL;
	assert_int_equal(run(argv, &errs), 0);
	want = qp_xasprintf("%s:3: warning: variable 'hotline_name'", csv);
	if ((first = strstr(errs, "[value-unused]")) == NULL ||
	    strstr(errs, want) == NULL)
		fail_msg("no value-unused note at line 3:\n%s", errs);
	if ((again = strstr(first + 1, "[value-unused]")) != NULL)
		fail_msg("noted twice:\n%s", errs);
	free(want);
	free(errs);
	free(out);
	free(dir);
	free(csv);
}

static void
test_keep_going(void **state)
{
	char *csv = path_in("bad-rows.csv");
	char *out = path_in("kg"), *pat = path_in("kg/{{code}}.pdf");
	char *man = path_in("kg/manifest.csv");
	char *argv[] = {bin, "batch", "-q", "-d", csv, "-o", pat, NULL};
	char *kargv[] = {bin, "batch", "-q", "--keep-going", "-d", csv, "-o",
	    pat, NULL};
	char *errs = NULL, *l3, *l4, **names;
	qp_buf b;
	mrow *m;
	size_t nm, n;

	(void)state;
	qp_buf_init(&b);
	qp_buf_adds(&b, "code,name\nOK-1,Fine station\n,No code here\n"
	    "LONG-1,");
	/* 3,900 bytes: within the value limit, far beyond the footer. */
	for (int i = 0; i < 300; i++)
		qp_buf_adds(&b, "Interminable ");
	qp_buf_adds(&b, "\nOK-2,Fine too\n");
	spit(csv, b.data, b.len);
	qp_buf_free(&b);
	mkdir(out, 0777);
	/* By default: every bad row reported, nothing written. */
	assert_int_equal(run(argv, &errs), 1);
	l3 = qp_xasprintf("%s:3: column 'code' is empty", csv);
	l4 = qp_xasprintf("%s:4: block 'location'", csv);
	assert_non_null(strstr(errs, l3));
	assert_non_null(strstr(errs, l4));
	assert_non_null(strstr(errs, "nothing was written"));
	n = list_dir(out, &names);
	assert_int_equal(n, 0);
	free_names(names, n);
	free(errs);
	/* --keep-going: the good rows, the bad ones listed, status 3. */
	assert_int_equal(run(kargv, &errs), 3);
	assert_non_null(strstr(errs, l3));
	assert_non_null(strstr(errs, l4));
	assert_int_equal(count_ext(out, ".pdf"), 2);
	nm = read_manifest(man, &m);
	assert_int_equal(nm, 4);
	assert_string_equal(m[0].f[7], "ok");
	assert_true(strncmp(m[1].f[7], "error: ", 7) == 0);
	assert_non_null(strstr(m[1].f[7], "[value-missing]"));
	assert_string_equal(m[1].f[6], "");
	assert_true(strncmp(m[2].f[7], "error: ", 7) == 0);
	assert_non_null(strstr(m[2].f[7], "[text-overflow]"));
	assert_string_equal(m[3].f[7], "ok");
	free_manifest(m, nm);
	free(errs);
	free(l3);
	free(l4);
	free(csv);
	free(out);
	free(pat);
	free(man);
}

/* A broken CSV: refused by -o and by --combine with its line and
 * column, nothing written. */
typedef struct badcsv {
	const char *name, *content, *want;
} badcsv;

static const badcsv bad_csvs[] = {
	{"quote never closed", "code,name\nA-1,Fine\nB-2,\"Broken\n"
	    "C-3,never closed\n", "3: column 'name': a quoted field is never "
	    "closed"},
	{"stray quote", "code,name\nA-1,Fine\nB-2,Bad\"quote\n",
	    "3: column 'name': a quote inside a field"},
	{"Latin-1 byte", "code,name\nA-1,Fine\r\nB-2,\"Caf\xE9\"\r\n",
	    "3: column 'name': invalid UTF-8 (byte 0xE9"},
	{"extra field", "code,name\nA-1,Fine,extra\n", "2: 3 fields but the "
	    "header has 2 columns"},
};

static void
test_bad_csv(void **state)
{
	const badcsv *c = *state;
	char *csv = path_in("broken.csv");
	char *out = path_in("br"), *pat = path_in("br/{{code}}.pdf");
	char *cmb = path_in("br/all.pdf");
	char *argv[] = {bin, "batch", "-q", "-d", csv, "-o", pat, NULL};
	char *cargv[] = {bin, "batch", "-q", "-d", csv, "--combine", cmb,
	    NULL};
	char *errs = NULL, *w = qp_xasprintf("%s:%s", csv, c->want), **names;
	size_t n;

	spit(csv, c->content, strlen(c->content));
	mkdir(out, 0777);
	assert_int_equal(run(argv, &errs), 1);
	if (strstr(errs, w) == NULL)
		fail_msg("expected '%s' in: %s", w, errs);
	free(errs);
	assert_int_equal(run(cargv, &errs), 1);
	if (strstr(errs, w) == NULL)
		fail_msg("--combine: expected '%s' in: %s", w, errs);
	free(errs);
	n = list_dir(out, &names);
	assert_int_equal(n, 0);
	free_names(names, n);
	free(w);
	free(csv);
	free(out);
	free(pat);
	free(cmb);
}

static void
test_clash_and_missing_column(void **state)
{
	static const char clash[] = "code,name\nA/B,One\nX,Two\na_b,Three\n";
	static const char nocode[] = "id,name\nA,One\n";
	char *csv = path_in("clash.csv");
	char *out = path_in("cl"), *pat = path_in("cl/{{code}}.pdf");
	char *argv[] = {bin, "batch", "-q", "-d", csv, "-o", pat, NULL};
	char *errs = NULL, *w, **names;
	size_t n;

	(void)state;
	mkdir(out, 0777);
	spit(csv, clash, sizeof clash - 1);
	assert_int_equal(run(argv, &errs), 1);
	w = qp_xasprintf("%s:4: writes the same file as line 2", csv);
	assert_non_null(strstr(errs, w));
	free(w);
	free(errs);
	n = list_dir(out, &names);
	assert_int_equal(n, 0);
	free_names(names, n);
	spit(csv, nocode, sizeof nocode - 1);
	assert_int_equal(run(argv, &errs), 1);
	w = qp_xasprintf("%s:1: no column 'code'", csv);
	assert_non_null(strstr(errs, w));
	free(w);
	free(errs);
	free(csv);
	free(out);
	free(pat);
}

/* Two shards in one directory equal one run: the same files, and the
 * manifests' lines, merged by row number, are the single run's. */
static void
test_shards(void **state)
{
	char *csv = write_plain("sh.csv", 9);
	char *s = path_in("sh"), *one = path_in("one");
	char *sp = path_in("sh/{{code}}.pdf"), *op = path_in("one/{{code}}.pdf");
	char *a1[] = {bin, "batch", "-q", "--shard", "1/2", "-d", csv, "-o",
	    sp, NULL};
	char *a2[] = {bin, "batch", "-q", "--shard", "2/2", "-d", csv, "-o",
	    sp, NULL};
	char *a3[] = {bin, "batch", "-q", "-d", csv, "-o", op, NULL};
	char *m1p = path_in("sh/manifest-1-of-2.csv");
	char *m2p = path_in("sh/manifest-2-of-2.csv");
	char *mp = path_in("one/manifest.csv");
	mrow *m1, *m2, *m;
	size_t n1, n2, n;

	(void)state;
	mkdir(s, 0777);
	mkdir(one, 0777);
	assert_int_equal(run(a1, NULL), 0);
	assert_int_equal(run(a2, NULL), 0);
	assert_int_equal(run(a3, NULL), 0);
	n1 = read_manifest(m1p, &m1);
	n2 = read_manifest(m2p, &m2);
	n = read_manifest(mp, &m);
	assert_int_equal(n1, 5);
	assert_int_equal(n2, 4);
	assert_int_equal(n1 + n2, n);
	for (size_t i = 0; i < n; i++) {
		mrow *r = i % 2 == 0 ? &m1[i / 2] : &m2[i / 2];
		for (int k = 0; k < 9; k++) {
			if (k == 3) {
				/* Same file name, other directory. */
				assert_string_equal(strrchr(r->f[k], '/'),
				    strrchr(m[i].f[k], '/'));
				continue;
			}
			if (k == 8)
				continue; /* the key covers the path */
			assert_string_equal(r->f[k], m[i].f[k]);
		}
	}
	free_manifest(m1, n1);
	free_manifest(m2, n2);
	free_manifest(m, n);
	free(csv);
	free(s);
	free(one);
	free(sp);
	free(op);
	free(m1p);
	free(m2p);
	free(mp);
}

static void
test_stdin_verify_bleed(void **state)
{
	char *csv = write_awkward();
	char *pdf = path_in("bleed.pdf");
	char *argv[] = {bin, "batch", "-q", "--verify", "--bleed", "0.125in",
	    "--marks", "-d", "-", "--combine", pdf, NULL};
	char *ia[] = {"pdfinfo", "-box", "-f", "1", "-l", "3", pdf, NULL};
	char *info;

	(void)state;
	assert_int_equal(run_full(argv, csv, NULL, NULL, NULL), 0);
	info = capture(ia);
	/* Letter + 2 x (9pt bleed + 27pt for the marks). */
	assert_non_null(strstr(info, "Page    1 MediaBox:      0.00     0.00   "
	    "684.00   864.00"));
	assert_non_null(strstr(info, "Page    3 TrimBox:      36.00    36.00   "
	    "648.00   828.00"));
	assert_non_null(strstr(info, "Page    2 BleedBox:     27.00    27.00   "
	    "657.00   837.00"));
	free(info);
	free(csv);
	free(pdf);
}

/* A link annotation as libqpdf reads it: /URI and /Rect. */
typedef struct plink {
	char uri[1024];
	double r[4];
} plink;

/* The /Link annotations of page index pg (0-based): how many (-1 if the
 * file cannot be read), up to max into l. */
static int
page_links(const char *pdf, int pg, plink *l, int max)
{
	qpdf_data q = qpdf_init();
	qpdf_oh page, annots;
	int n = -1;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read(q, pdf, NULL) & QPDF_ERRORS ||
	    qpdf_get_num_pages(q) <= pg)
		goto done;
	page = qpdf_get_page_n(q, (size_t)pg);
	annots = qpdf_oh_get_key(q, page, "/Annots");
	n = 0;
	for (int i = 0; qpdf_oh_is_array(q, annots) &&
	    i < qpdf_oh_get_array_n_items(q, annots); i++) {
		qpdf_oh a = qpdf_oh_get_array_item(q, annots, i);
		qpdf_oh sub = qpdf_oh_get_key(q, a, "/Subtype");
		qpdf_oh uri = qpdf_oh_get_key(q, qpdf_oh_get_key(q, a, "/A"),
		    "/URI");
		qpdf_oh rect = qpdf_oh_get_key(q, a, "/Rect");

		if (!qpdf_oh_is_name(q, sub) ||
		    strcmp(qpdf_oh_get_name(q, sub), "/Link") != 0 ||
		    !qpdf_oh_is_string(q, uri) || !qpdf_oh_is_array(q, rect) ||
		    qpdf_oh_get_array_n_items(q, rect) != 4)
			continue;
		if (n < max) {
			snprintf(l[n].uri, sizeof l[n].uri, "%s",
			    qpdf_oh_get_utf8_value(q, uri));
			for (int k = 0; k < 4; k++)
				l[n].r[k] = qpdf_oh_get_numeric_value(q,
				    qpdf_oh_get_array_item(q, rect, k));
		}
		n++;
	}
done:
	if (qpdf_has_error(q))
		(void)qpdf_get_error(q);
	qpdf_cleanup(&q);
	return n;
}

/* pdfinfo -box of one page, each line without its "Page N" prefix. */
static char *
page_boxes(const char *pdf, int page)
{
	char num[16], *out, *line, *save = NULL;
	char *ia[] = {"pdfinfo", "-box", "-f", num, "-l", num, (char *)pdf,
	    NULL};
	qp_buf b;

	snprintf(num, sizeof num, "%d", page);
	out = capture(ia);
	qp_buf_init(&b);
	for (line = strtok_r(out, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Page ", 5) == 0 && strstr(line, "Box:")) {
			char *k = line + 5;
			while (*k == ' ' || (*k >= '0' && *k <= '9'))
				k++;
			qp_buf_printf(&b, "%s\n", k);
		}
	free(out);
	return qp_buf_steal(&b);
}

/*
 * A combined run's links and print boxes are written by pdfjoin while it
 * joins the parts; a file per row still goes through libqpdf (pdfbox.c).
 * Both must give each page the same boxes (pdfinfo -box) and the same
 * link over the code (libqpdf reads the annotations): 1,010 rows, so the
 * second part (1,000 pages a part, pdfrun.h) is compared too, with
 * --bleed and --marks, at -j 1 and -j 2 (the same bytes). A row's page
 * depends on its row alone, so its own file is made from a CSV of the
 * sampled rows.
 */
static void
test_combined_finish(void **state)
{
	static const int pages[] = {1, 2, 1000, 1001, 1010};
	char *csv = write_plain("fin.csv", 1010), *few = path_in("few.csv");
	char *dir = path_in("fin"), *pat = path_in("fin/{{code}}.pdf");
	char *p1 = path_in("fin1.pdf"), *p2 = path_in("fin2.pdf");
	char *a1[] = {bin, "batch", "-q", "--bleed", "0.125in", "--marks",
	    "-d", csv, "--combine", p1, NULL};
	char *a2[] = {bin, "batch", "-q", "-j", "2", "--bleed", "0.125in",
	    "--marks", "-d", csv, "--combine", p2, NULL};
	char *a3[] = {bin, "batch", "-q", "-j", "2", "--bleed", "0.125in",
	    "--marks", "-d", few, "-o", pat, NULL};
	size_t l1, l2;
	char *b1, *b2;
	qp_buf rows;

	(void)state;
	qp_buf_init(&rows);
	qp_buf_adds(&rows, "code,name\n");
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		size_t r = (size_t)pages[i] - 1;
		qp_buf_printf(&rows, "ST%04zu-R%zu,Station %zu restroom %zu\n",
		    r, r % 3, r, r % 3);
	}
	spit(few, rows.data, rows.len);
	qp_buf_free(&rows);
	mkdir(dir, 0777);
	assert_int_equal(run(a1, NULL), 0);
	assert_int_equal(run(a2, NULL), 0);
	assert_int_equal(run(a3, NULL), 0);
	b1 = slurp(p1, &l1);
	b2 = slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		char *one = qp_xasprintf("%s/ST%04d-R%d.pdf", dir, pages[i] - 1,
		    (pages[i] - 1) % 3);
		char *want = qp_xasprintf("ST%04d-R%d", pages[i] - 1,
		    (pages[i] - 1) % 3);
		char *uri = payload_for(want);
		char *bx = page_boxes(p1, pages[i]), *bo = page_boxes(one, 1);
		plink lc[4], lo[4];

		assert_non_null(strstr(bx, "TrimBox:      36.00    36.00   "
		    "648.00   828.00"));
		assert_string_equal(bx, bo);
		assert_int_equal(page_links(p1, pages[i] - 1, lc, 4), 1);
		assert_int_equal(page_links(one, 0, lo, 4), 1);
		assert_string_equal(lc[0].uri, uri);
		assert_string_equal(lo[0].uri, uri);
		for (int k = 0; k < 4; k++)
			assert_true(fabs(lc[0].r[k] - lo[0].r[k]) < 1e-3);
		free(bx);
		free(bo);
		free(uri);
		free(want);
		free(one);
	}
	free(b1);
	free(b2);
	free(csv);
	free(few);
	free(dir);
	free(pat);
	free(p1);
	free(p2);
}

/* Imposed sheets: each poster's link on its sheet, in row order. */
static void
test_impose_links(void **state)
{
	char *csv = write_plain("impl.csv", 6);
	char *pdf = path_in("impl.pdf");
	char *argv[] = {bin, "batch", "-q", "--impose", "2x2", "--sheet",
	    "tabloid", "-d", csv, "--combine", pdf, NULL};
	plink l[8];
	int row = 0;

	(void)state;
	assert_int_equal(run(argv, NULL), 0);
	for (int sheet = 0; sheet < 2; sheet++) {
		int n = page_links(pdf, sheet, l, 8);
		assert_int_equal(n, sheet == 0 ? 4 : 2);
		for (int k = 0; k < n; k++, row++) {
			char *code = qp_xasprintf("ST%04d-R%d", row, row % 3);
			char *uri = payload_for(code);
			assert_string_equal(l[k].uri, uri);
			free(uri);
			free(code);
		}
	}
	free(csv);
	free(pdf);
}

static void
test_impose(void **state)
{
	char *csv = write_plain("imp.csv", 5);
	char *pdf = path_in("imp.pdf");
	char *argv[] = {bin, "batch", "-q", "--impose", "2x2", "--sheet",
	    "tabloid", "-d", csv, "--combine", pdf, NULL};
	char *ia[] = {"pdfinfo", pdf, NULL};
	char *info;

	(void)state;
	assert_int_equal(run(argv, NULL), 0);
	info = capture(ia);
	assert_non_null(strstr(info, "Pages:           2\n"));
	assert_non_null(strstr(info, "792 x 1224 pts"));
	free(info);
	free(csv);
	free(pdf);
}

/* ---- in-process --------------------------------------------------------- */

static const char *const safe_names[][2] = {
	{"NYP-R1", "NYP-R1"},
	{"../../etc/passwd", "_._.._etc_passwd"},
	{"..", "_"},
	{".hidden", "_hidden"},
	{"a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"},
	{"tab\there\nnl", "tab_here_nl"},
	{"  spaced  ", "spaced"},
	{"", "_"},
	{"dots...", "dots"},
	{"San José", "San José"},
};

static void
test_safe_name(void **state)
{
	const char *const *c = *state;
	qp_buf b;

	qp_buf_init(&b);
	qp_batch_safe_name(c[0], &b);
	assert_string_equal(b.data, c[1]);
	qp_buf_free(&b);
}

/* Long values are cut at a character boundary. */
static void
test_safe_name_long(void **state)
{
	char longv[400];
	qp_buf b;

	(void)state;
	for (int i = 0; i < 133; i++)
		memcpy(longv + 3 * i, "\xE2\x82\xAC", 3); /* EUR sign */
	longv[399] = '\0';
	qp_buf_init(&b);
	qp_batch_safe_name(longv, &b);
	assert_true(b.len <= QP_NAME_PART_MAX);
	assert_int_equal(b.len % 3, 0);
	assert_true(qp_utf8_valid(b.data, b.len, NULL));
	qp_buf_free(&b);
}

static void
test_data_reader(void **state)
{
	static const char csv[] = "\xEF\xBB\xBF" "code,name\r\n"
	    "A,\"x, \"\"y\"\"\"\r\n\r\n"
	    " B ,\"two\nlines\"\r\n"
	    "C,last";
	FILE *fp = fmemopen((void *)csv, sizeof csv - 1, "rb");
	qp_error err;
	qp_data *d = qp_data_open_stream(fp, "mem.csv", &err);
	qp_record r;

	(void)state;
	assert_non_null(d);
	assert_int_equal(qp_data_ncols(d), 2);
	assert_string_equal(qp_data_col(d, 0), "code");
	assert_int_equal(qp_data_next(d, &r, &err), 1);
	assert_string_equal(r.fields[1], "x, \"y\"");
	assert_int_equal(r.line, 2);
	assert_int_equal(qp_data_next(d, &r, &err), 1);
	assert_string_equal(r.fields[0], " B ");
	assert_string_equal(r.fields[1], "two\nlines");
	assert_int_equal(r.line, 4);
	assert_int_equal(r.index, 1);
	assert_int_equal(qp_data_next(d, &r, &err), 1);
	assert_string_equal(r.fields[1], "last");
	assert_int_equal(r.line, 6);
	assert_int_equal(qp_data_next(d, &r, &err), 0);
	qp_data_close(d);
	fclose(fp);
	qp_data_close(NULL);
}

static void
test_verify_mismatch(void **state)
{
	qp_error err;
	qp_page *page = qp_layout_qr_only("https://example.org/?loc=A", 1,
	    144, 4, &err);
	qp_verifier *v = qp_verifier_new();
	const char *good[] = {"https://example.org/?loc=A"};
	const char *bad[] = {"https://example.org/?loc=B"};

	(void)state;
	assert_non_null(page);
	assert_true(qp_verify_page(v, page, good, 1, &err));
	assert_false(qp_verify_page(v, page, bad, 1, &err));
	assert_non_null(strstr(err.msg, "decodes to 'https://example.org/"
	    "?loc=A', expected 'https://example.org/?loc=B'"));
	qp_verifier_free(v);
	qp_verifier_free(NULL);
	qp_page_free(page);
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])
#define ADD(fn) th_suite_add(&s, fn, NULL, NULL, NULL, "%s", #fn)
#define TMP(fn) th_suite_add(&s, fn, setup, teardown, NULL, "%s", #fn)

int
main(void)
{
	th_suite s = {0};
	int rc;
	const char *q = getenv("QRPOSTER");
	char cwd[2048];
	qp_error err;

	/* The binary, absolute, and the data directory of this tree (the
	 * binary may be built outside it). */
	if (getcwd(cwd, sizeof cwd) == NULL)
		return 1;
	if (q == NULL)
		q = "qrposter";
	if (q[0] == '/')
		snprintf(bin, sizeof bin, "%s", q);
	else
		snprintf(bin, sizeof bin, "%s/%s", cwd, q);
	setenv("QRPOSTER_DATADIR", cwd, 0);
	if (!qp_fonts_init(&err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < NELEM(safe_names); i++)
		th_suite_add(&s, test_safe_name, NULL, NULL, safe_names[i],
		    "test_safe_name: '%s'", safe_names[i][0]);
	ADD(test_safe_name_long);
	ADD(test_data_reader);
	ADD(test_verify_mismatch);
	TMP(test_jobs_identical);
	TMP(test_combined_jobs_identical);
	TMP(test_combined_finish);
	TMP(test_impose_links);
	for (size_t i = 0; i < NELEM(bundled); i++)
		th_suite_add(&s, test_combined_jobs_template, setup, teardown,
		    (void *)bundled[i], "test_combined_jobs_template: %s",
		    bundled[i]);
	TMP(test_combined_parts_jobs);
	TMP(test_interrupt_resume);
	TMP(test_resume_skips_and_force);
	TMP(test_keep_going);
	for (size_t i = 0; i < NELEM(warn_cases); i++)
		th_suite_add(&s, test_row_warnings, setup, teardown,
		    (void *)&warn_cases[i], "test_row_warnings: %s",
		    warn_cases[i].name);
	for (size_t i = 0; i < NELEM(bad_csvs); i++)
		th_suite_add(&s, test_bad_csv, setup, teardown, &bad_csvs[i],
		    "test_bad_csv: %s", bad_csvs[i].name);
	TMP(test_clash_and_missing_column);
	TMP(test_shards);
	TMP(test_stdin_verify_bleed);
	TMP(test_impose);
	rc = th_suite_run(&s, "batch", NULL, NULL);
	/* The awkward rows: one batch each way, then a case per row. */
	ADD(test_awkward_run);
	for (size_t i = 0; i < NAWK; i++)
		th_suite_add(&s, test_awkward_row, NULL, NULL, awk[i],
		    "test_awkward_row: '%s'", awk[i][0]);
	ADD(test_combined);
	for (size_t i = 0; i < NAWK; i++)
		th_suite_add(&s, test_combined_row, NULL, NULL, awk[i],
		    "test_combined_row: '%s'", awk[i][0]);
	return rc + th_suite_run(&s, "batch awkward rows", awk_setup,
	    awk_teardown);
}
