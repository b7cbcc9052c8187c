/*
 * test_render.c - render real posters with the binary under test and
 * check what a person holding the print would check: the QR code scans
 * (libzbar) to exactly the location's link, the text is there and
 * searchable (pdftotext), the page is the frame's size (pdfinfo), fonts
 * are embedded (pdffonts), PNGs have the asked-for pixels and DPI, the
 * QR area is a link (libqpdf), and the same input gives the same bytes.
 *
 * Template-specific tests run once per bundled template; a bundled
 * template missing from the tree fails them. A test over a table runs
 * once per row (and template), named after it, so one failure does not
 * hide the rest.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "suite.h"

#define HOTLINE_DEFAULT "1-888-373-7888"
#define TEXT_DEFAULT "233733"
#define URL_DEFAULT "https://humantraffickinghotline.org/"

typedef struct tmpl {
	const char *name;   /* bundled name */
	double w, h;        /* expected page size, points */
} tmpl;

static const tmpl letter = {"restroom-letter", 612, 792};
static const tmpl tabloid = {"station-tabloid", 792, 1224};
static const tmpl carcard = {"car-card", 2016, 792};

/* What main() gives a test: a template and/or a row of a table. */
typedef struct tcase {
	const tmpl *t;   /* NULL for tests that use no template */
	const void *row; /* the table row, or NULL */
	size_t i;        /* its index (names the test's files) */
} tcase;

typedef struct fixture {
	const tmpl *t; /* NULL for tests that use no template */
	const void *row;
	size_t i;
	char *dir;     /* fresh, removed at teardown */
} fixture;

static int
setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);
	const tcase *c = *state;

	if (fx == NULL)
		return -1;
	if (c) {
		fx->t = c->t;
		fx->row = c->row;
		fx->i = c->i;
	}
	if ((fx->dir = th_tmpdir_new()) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;

	th_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* A bundled template missing from the tree is a failure, not a skip. */
static void
need_template(const fixture *fx)
{
	char path[256];

	snprintf(path, sizeof path, "templates/%s.yaml", fx->t->name);
	if (!th_exists(path))
		fail_msg("bundled template %s is missing", path);
}

/*
 * The expected QR payload, computed here rather than by qrposter's code:
 * report_url + "?loc=" + code with every byte but RFC 3986's unreserved
 * characters percent-encoded (upper-case hex).
 */
static char *
expected_payload(const char *url, const char *code)
{
	static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~";
	size_t n = strlen(url) + 5 + 3 * strlen(code) + 1;
	char *s = malloc(n), *p;

	assert_non_null(s);
	p = s + sprintf(s, "%s?loc=", url);
	for (const unsigned char *c = (const unsigned char *)code; *c; c++) {
		if (strchr(unreserved, *c))
			*p++ = (char)*c;
		else
			p += sprintf(p, "%%%02X", *c);
	}
	*p = '\0';
	return s;
}

/*
 * Run "qrposter render -t T -s code=C -s name=N -o OUT extra...". extra
 * is a NULL-terminated list (or NULL). Returns the exit status; r is
 * filled (free with th_run_free).
 */
static int
render(th_run *r, const char *tmpl_name, const char *code, const char *name,
    const char *out, const char *const *extra, const char *const *env)
{
	const char *argv[40];
	char codeset[4096], nameset[4096];
	size_t n = 0;

	snprintf(codeset, sizeof codeset, "code=%s", code);
	snprintf(nameset, sizeof nameset, "name=%s", name);
	argv[n++] = th_bin();
	argv[n++] = "render";
	argv[n++] = "-t";
	argv[n++] = tmpl_name;
	argv[n++] = "-s";
	argv[n++] = codeset;
	argv[n++] = "-s";
	argv[n++] = nameset;
	argv[n++] = "-o";
	argv[n++] = out;
	for (size_t i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return th_run_argv(r, argv, env);
}

/* Render and insist it worked, leaving exactly the output behind. */
static char *
render_ok(const fixture *fx, const char *file, const char *code,
    const char *name, const char *const *extra, const char *const *env)
{
	char *out = th_path(fx->dir, file);
	char stray[256];
	th_run r;
	int rc;

	assert_non_null(out);
	rc = render(&r, fx->t->name, code, name, out, extra, env);
	if (rc != 0)
		print_error("render %s exited %d: %s\n", file, rc, r.err);
	assert_int_equal(rc, 0);
	assert_string_equal(r.err, "");
	th_run_free(&r);
	assert_true(th_exists(out));
	{
		const char *const only[] = {file, NULL};
		if (!th_dir_only(fx->dir, only, stray, sizeof stray))
			print_error("left behind: %s\n", stray);
		assert_true(th_dir_only(fx->dir, only, NULL, 0));
	}
	return out;
}

/* Awkward location codes and names. */
typedef struct awk {
	const char *code, *name;
} awk;

static const awk awkward[] = {
	{"NYP-R1", "New York Penn Station"},
	{"A B", "A & B <C>"},
	{"A&B=1+2", "O'Hare \"North\""},
	{"x/y?z#w", "Track 5/6 ? #7"},
	{"A\xc3\xb1" "asco/\xc3\x9c" "n\xc3\xaf" "code",
	    "A\xc3\xb1" "asco/\xc3\x9c" "n\xc3\xaf" "code"},
	{"50%_off~.dot", "50% <b>bold</b>"},
};

#define NAWKWARD (sizeof awkward / sizeof awkward[0])

/* The QR code on a PDF scans to exactly report_url?loc=<code, encoded>,
 * and the name is printed literally: one awkward code and name. */
static void
test_pdf_qr_and_name(void **state)
{
	fixture *fx = *state;
	const awk *a = fx->row;
	char *out, *want, *text, **codes;

	need_template(fx);
	out = render_ok(fx, "p.pdf", a->code, a->name, NULL, NULL);
	want = expected_payload(URL_DEFAULT, a->code);
	codes = th_pdf_decode_qr(out, 100);
	if (th_strv_len(codes) != 1 || strcmp(codes[0], want) != 0)
		print_error("code '%s': want one QR '%s', decoded %zu: '%s'\n",
		    a->code, want, th_strv_len(codes),
		    codes && codes[0] ? codes[0] : "(none)");
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], want);
	text = th_pdftotext(out);
	if (text == NULL || strstr(text, a->name) == NULL)
		print_error("name '%s' not found in the PDF's text:\n%s\n",
		    a->name, text ? text : "(none)");
	assert_non_null(text);
	assert_non_null(strstr(text, a->name));
	free(text);
	th_strv_free(codes);
	free(want);
	free(out);
}

static void
test_pdf_page_size(void **state)
{
	fixture *fx = *state;
	double w = 0, h = 0;
	char *out;

	need_template(fx);
	out = render_ok(fx, "p.pdf", "NYP-R1", "Penn", NULL, NULL);
	assert_true(th_pdf_page_size(out, &w, &h));
	assert_float_equal(w, fx->t->w, 0.01);
	assert_float_equal(h, fx->t->h, 0.01);
	free(out);
}

/* Every font in the PDF is embedded: the poster prints the same
 * anywhere. */
static void
test_pdf_fonts_embedded(void **state)
{
	fixture *fx = *state;
	int n, emb = 0;
	char *out;

	need_template(fx);
	out = render_ok(fx, "p.pdf", "A\xc3\xb1" "asco",
	    "A\xc3\xb1" "asco \xc3\x9c" "n\xc3\xaf" "code", NULL, NULL);
	n = th_pdf_fonts(out, &emb);
	assert_true(n > 0);
	assert_int_equal(emb, n);
	free(out);
}

/* The printed text: defaults, and -s hotline=... replacing the number
 * (and with it the national hotline's name: another is given). */
static void
test_pdf_text_defaults_and_set(void **state)
{
	fixture *fx = *state;
	const char *const set[] = {"-s", "hotline=1-800-555-0199", "-s",
	    "text_number=99999", "-s", "hotline_name=Example Transit Line",
	    NULL};
	char *a, *b, *ta, *tb;

	need_template(fx);
	a = render_ok(fx, "a.pdf", "NYP-R1", "Penn", NULL, NULL);
	ta = th_pdftotext(a);
	assert_non_null(ta);
	assert_non_null(strstr(ta, HOTLINE_DEFAULT));
	assert_non_null(strstr(ta, TEXT_DEFAULT));
	unlink(a);

	b = render_ok(fx, "b.pdf", "NYP-R1", "Penn", set, NULL);
	tb = th_pdftotext(b);
	assert_non_null(tb);
	assert_non_null(strstr(tb, "1-800-555-0199"));
	assert_null(strstr(tb, HOTLINE_DEFAULT));
	assert_non_null(strstr(tb, "99999"));
	assert_null(strstr(tb, TEXT_DEFAULT));
	assert_non_null(strstr(ta, "National Human Trafficking Hotline"));
	assert_null(strstr(tb, "National Human Trafficking Hotline"));
	free(ta);
	free(tb);
	free(a);
	free(b);
}

/* -s report_url changes where the QR code points. */
static void
test_pdf_report_url_set(void **state)
{
	fixture *fx = *state;
	const char *const set[] = {"-s", "report_url=https://example.org/r",
	    NULL};
	char *out, *want, **codes;

	need_template(fx);
	out = render_ok(fx, "p.pdf", "WAS C2", "Union", set, NULL);
	want = expected_payload("https://example.org/r", "WAS C2");
	codes = th_pdf_decode_qr(out, 100);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], want);
	th_strv_free(codes);
	free(want);
	free(out);
}

/* Title and Subject carry the location, for the print shop's index. */
static void
test_pdf_metadata(void **state)
{
	fixture *fx = *state;
	char *out, *title, *subject;

	need_template(fx);
	out = render_ok(fx, "p.pdf", "NYP-R1", "A & B <C>", NULL, NULL);
	title = th_pdfinfo_field(out, "Title");
	subject = th_pdfinfo_field(out, "Subject");
	assert_non_null(title);
	assert_non_null(subject);
	assert_non_null(strstr(title, "A & B <C>"));
	assert_non_null(strstr(subject, "A & B <C>"));
	assert_non_null(strstr(subject, "NYP-R1"));
	free(title);
	free(subject);
	free(out);
}

/*
 * The QR area is a clickable link to the payload: page 1 has a /Link
 * annotation (read with libqpdf, independent of how the PDF is
 * compressed) whose URI is the payload and whose rectangle is square
 * (the code's box) and at least an inch wide.
 */
static void
test_pdf_qr_link(void **state)
{
	fixture *fx = *state;
	th_pdf_link links[8];
	char *out, *want;
	int n, found = 0;

	need_template(fx);
	out = render_ok(fx, "p.pdf", "x/y?z#w", "Penn", NULL, NULL);
	want = expected_payload(URL_DEFAULT, "x/y?z#w");
	n = th_pdf_links(out, links, 8);
	assert_true(n >= 1);
	for (int i = 0; i < n && i < 8; i++) {
		double w = links[i].x1 - links[i].x0;
		double h = links[i].y1 - links[i].y0;
		if (strcmp(links[i].uri, want) != 0)
			continue;
		found++;
		/* Exactly the code's box (pdfbox.c writes it). */
		assert_float_equal(fabs(w), fabs(h), 0.01);
		assert_true(fabs(w) >= 72);
		assert_true(links[i].x0 >= 0 && links[i].x1 <= fx->t->w);
		assert_true(links[i].y0 >= 0 && links[i].y1 <= fx->t->h);
	}
	if (found != 1)
		print_error("want one link to %s; %d links, first '%s'\n",
		    want, n, n > 0 ? links[0].uri : "");
	assert_int_equal(found, 1);
	free(want);
	free(out);
}

/*
 * Render with an agency's own reporting URL; count what is wrong: the
 * render fails, the QR code does not carry the URL exactly, or the PDF
 * link does not.
 */
static int
check_report_url(const fixture *fx, const char *url, const char *code,
    size_t i)
{
	char set[128], file[16], *out, *want, **codes = NULL;
	const char *extra[] = {"-s", set, NULL};
	th_pdf_link links[4];
	th_run r;
	int n, rc, bad = 0;

	snprintf(set, sizeof set, "report_url=%s", url);
	snprintf(file, sizeof file, "u%zu.pdf", i);
	out = th_path(fx->dir, file);
	want = expected_payload(url, code);
	rc = render(&r, fx->t->name, code, "Penn", out, extra, NULL);
	if (rc != 0) {
		print_error("report_url %s: exit %d: %s", url, rc, r.err);
		bad++;
	} else {
		codes = th_pdf_decode_qr(out, 100);
		if (th_strv_len(codes) != 1 || strcmp(codes[0], want) != 0) {
			print_error("report_url %s: QR '%s'\n", url,
			    codes && codes[0] ? codes[0] : "(none)");
			bad++;
		}
		n = th_pdf_links(out, links, 4);
		if (n != 1 || strcmp(links[0].uri, want) != 0) {
			print_error("report_url %s: %d links, first '%s', want "
			    "'%s'\n", url, n, n > 0 ? links[0].uri : "", want);
			bad++;
		}
	}
	th_run_free(&r);
	th_strv_free(codes);
	free(want);
	free(out);
	return bad;
}

/* A short URL makes a smaller QR version (here version 2); the poster
 * must still render, at the size its scan distance needs. */
static void
test_short_report_url(void **state)
{
	fixture *fx = *state;

	need_template(fx);
	assert_int_equal(check_report_url(fx, "https://ht.example/", "A1", 0),
	    0);
}

/* URL characters that a PDF string must escape ('(' ')' '\\') still give
 * a link to exactly the QR payload: one URL. */
static const char *const paren_urls[] = {
	"https://example.org/en/(report)/",
	"https://example.org/report:-)/",
	"https://example.org/(report/",
};

static void
test_report_url_parens(void **state)
{
	fixture *fx = *state;

	need_template(fx);
	assert_int_equal(check_report_url(fx, *(const char *const *)fx->row,
	    "NYP R1", fx->i), 0);
}

/* Re-rendering gives the same bytes; SOURCE_DATE_EPOCH sets the date. */
static void
test_pdf_deterministic(void **state)
{
	fixture *fx = *state;
	const char *const unset[] = {"SOURCE_DATE_EPOCH", NULL};
	const char *const epoch[] = {"SOURCE_DATE_EPOCH=1700000000", NULL};
	const char *const epoch2[] = {"SOURCE_DATE_EPOCH=1600000000", NULL};
	char *a, *b, *c, *d, *e, *date;

	need_template(fx);
	a = render_ok(fx, "a.pdf", "A B", "A & B <C>", NULL, unset);
	b = th_path(fx->dir, "b.pdf");
	{
		th_run r;
		assert_int_equal(render(&r, fx->t->name, "A B", "A & B <C>",
		    b, NULL, unset), 0);
		th_run_free(&r);
	}
	assert_true(th_files_equal(a, b));

	c = th_path(fx->dir, "c.pdf");
	d = th_path(fx->dir, "d.pdf");
	e = th_path(fx->dir, "e.pdf");
	{
		th_run r;
		assert_int_equal(render(&r, fx->t->name, "A B", "A & B <C>",
		    c, NULL, epoch), 0);
		th_run_free(&r);
		assert_int_equal(render(&r, fx->t->name, "A B", "A & B <C>",
		    d, NULL, epoch), 0);
		th_run_free(&r);
		assert_int_equal(render(&r, fx->t->name, "A B", "A & B <C>",
		    e, NULL, epoch2), 0);
		th_run_free(&r);
	}
	assert_true(th_files_equal(c, d));
	/* The date is in the file: a different epoch, different bytes. */
	assert_false(th_files_equal(c, e));
	date = th_pdfinfo_field(c, "CreationDate");
	assert_non_null(date);
	assert_string_equal(date, "2023-11-14T22:13:20Z");
	free(date);
	date = th_pdfinfo_field(c, "ModDate");
	assert_non_null(date);
	assert_string_equal(date, "2023-11-14T22:13:20Z");
	free(date);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

static long
round_px(double pt, int dpi)
{
	return lround(pt / 72.0 * dpi);
}

/* PNG: the page at the asked-for DPI, pHYs saying so, and the QR scans. */
static void
check_png(const fixture *fx, int dpi, long want_w, long want_h)
{
	char dpis[16], file[32], *out, *want, **codes;
	const char *extra[] = {"--dpi", dpis, NULL};
	th_png_info info;

	snprintf(dpis, sizeof dpis, "%d", dpi);
	snprintf(file, sizeof file, "p%d.png", dpi);
	out = render_ok(fx, file, "A&B=1+2", "Penn", extra, NULL);
	assert_true(th_png_read_info(out, &info));
	assert_int_equal(info.width, want_w);
	assert_int_equal(info.height, want_h);
	/* pHYs is pixels per metre: dpi / 0.0254, rounded. */
	assert_int_equal(info.ppm_x, lround(dpi / 0.0254));
	assert_int_equal(info.ppm_y, lround(dpi / 0.0254));
	if (dpi <= 150) {
		want = expected_payload(URL_DEFAULT, "A&B=1+2");
		codes = th_png_decode_qr(out);
		assert_int_equal(th_strv_len(codes), 1);
		assert_string_equal(codes[0], want);
		th_strv_free(codes);
		free(want);
	}
	unlink(out);
	free(out);
}

static void
test_png_150(void **state)
{
	fixture *fx = *state;

	need_template(fx);
	check_png(fx, 150, round_px(fx->t->w, 150), round_px(fx->t->h, 150));
	if (fx->t == &letter)
		check_png(fx, 150, 1275, 1650);
}

static void
test_png_300(void **state)
{
	fixture *fx = *state;

	need_template(fx);
	check_png(fx, 300, round_px(fx->t->w, 300), round_px(fx->t->h, 300));
	if (fx->t == &letter)
		check_png(fx, 300, 2550, 3300);
}

/* SVG: written, well-formed enough to open, the page size in points. */
static void
test_svg(void **state)
{
	fixture *fx = *state;
	char *out, *svg, size[64];
	size_t len;

	need_template(fx);
	out = render_ok(fx, "p.svg", "A B", "A & B <C>", NULL, NULL);
	svg = th_read_file(out, &len);
	assert_non_null(svg);
	assert_true(len > 100);
	assert_memory_equal(svg, "<?xml", 5);
	assert_non_null(strstr(svg, "<svg"));
	assert_non_null(strstr(svg, "</svg>"));
	snprintf(size, sizeof size, "width=\"%gpt\"", fx->t->w);
	assert_non_null(strstr(svg, size));
	/* Well-formed XML, when xmllint is at hand to say so. */
	if (th_exists("/usr/bin/xmllint")) {
		const char *argv[] = {"xmllint", "--noout", out, NULL};
		th_run r;
		int rc = th_run_argv(&r, argv, NULL);
		if (rc != 0)
			print_error("xmllint: %s\n", r.err);
		assert_int_equal(rc, 0);
		th_run_free(&r);
	}
	free(svg);
	free(out);
}

/* -t takes a bundled name with or without .yaml, or a path; no -t is
 * the restroom poster. All give the same PDF. */
static void
test_template_lookup(void **state)
{
	fixture *fx = *state;
	const char *const unset[] = {"SOURCE_DATE_EPOCH", NULL};
	char *a = th_path(fx->dir, "a.pdf"), *b = th_path(fx->dir, "b.pdf");
	char *c = th_path(fx->dir, "c.pdf"), *d = th_path(fx->dir, "d.pdf");
	th_run r;

	assert_int_equal(th_qrposter_env(&r, unset, "render", "-s", "code=X1",
	    "-s", "name=Penn", "-o", a, NULL), 0);
	th_run_free(&r);
	assert_int_equal(th_qrposter_env(&r, unset, "render", "-t",
	    "restroom-letter", "-s", "code=X1", "-s", "name=Penn", "-o", b,
	    NULL), 0);
	th_run_free(&r);
	assert_int_equal(th_qrposter_env(&r, unset, "render", "--template",
	    "restroom-letter.yaml", "--set", "code=X1", "--set", "name=Penn",
	    "--output", c, NULL), 0);
	th_run_free(&r);
	assert_int_equal(th_qrposter_env(&r, unset, "render", "-t",
	    "templates/restroom-letter.yaml", "-s", "code=X1", "-s",
	    "name=Penn", "-o", d, NULL), 0);
	th_run_free(&r);
	assert_true(th_files_equal(a, b));
	assert_true(th_files_equal(a, c));
	assert_true(th_files_equal(a, d));
	free(a);
	free(b);
	free(c);
	free(d);
}

/* An existing output file is replaced whole, and no temporary remains. */
static void
test_overwrite(void **state)
{
	fixture *fx = *state;
	const char *const only[] = {"p.pdf", NULL};
	char *out = th_path(fx->dir, "p.pdf"), stray[256];
	double w, h;
	th_run r;

	assert_true(th_write_file(out, "old junk", 8));
	assert_int_equal(render(&r, "restroom-letter", "X1", "Penn", out, NULL,
	    NULL), 0);
	th_run_free(&r);
	assert_true(th_pdf_page_size(out, &w, &h));
	if (!th_dir_only(fx->dir, only, stray, sizeof stray))
		print_error("left behind: %s\n", stray);
	assert_true(th_dir_only(fx->dir, only, NULL, 0));
	free(out);
}

static void
test_help_version(void **state)
{
	th_run r;

	(void)state;
	assert_int_equal(th_qrposter(&r, "--help", NULL), 0);
	assert_non_null(strstr(r.out, "usage: qrposter"));
	assert_non_null(strstr(r.out, "render"));
	assert_non_null(strstr(r.out, "qr"));
	assert_string_equal(r.err, "");
	th_run_free(&r);

	assert_int_equal(th_qrposter(&r, "--version", NULL), 0);
	assert_true(strncmp(r.out, "qrposter ", 9) == 0);
	assert_true(r.out[9] >= '0' && r.out[9] <= '9');
	th_run_free(&r);

	assert_int_equal(th_qrposter(&r, "render", "--help", NULL), 0);
	assert_non_null(strstr(r.out, "-t"));
	assert_non_null(strstr(r.out, "--dpi"));
	assert_string_equal(r.err, "");
	th_run_free(&r);

	assert_int_equal(th_qrposter(&r, "qr", "--help", NULL), 0);
	assert_non_null(strstr(r.out, "--ecc"));
	th_run_free(&r);

	/* No command: usage on stderr and a failure status. */
	assert_int_not_equal(th_qrposter(&r, NULL), 0);
	assert_non_null(strstr(r.err, "usage: qrposter"));
	th_run_free(&r);
}

/* ---- qrposter qr ---- */

#define QR_TEXT "https://humantraffickinghotline.org/?loc=NYP-R1"

static char *
qr_ok(const fixture *fx, const char *file, const char *text,
    const char *const *opts)
{
	const char *argv[24];
	char *out = th_path(fx->dir, file);
	size_t n = 0;
	th_run r;
	int rc;

	argv[n++] = th_bin();
	argv[n++] = "qr";
	argv[n++] = text;
	argv[n++] = "-o";
	argv[n++] = out;
	for (size_t i = 0; opts && opts[i] && n < 22; i++)
		argv[n++] = opts[i];
	argv[n] = NULL;
	rc = th_run_argv(&r, argv, NULL);
	if (rc != 0)
		print_error("qr exited %d: %s\n", rc, r.err);
	assert_int_equal(rc, 0);
	th_run_free(&r);
	assert_true(th_exists(out));
	return out;
}

/* Every ECC level scans back to the text (one level a case); the level
 * changes the code. */
static const char *const levels[] = {"L", "M", "Q", "H"};

static char *
qr_at_level(const fixture *fx, const char *level)
{
	const char *opts[] = {"--ecc", level, "--size", "2in", "--dpi", "300",
	    NULL};
	char file[16];

	snprintf(file, sizeof file, "%s.png", level);
	return qr_ok(fx, file, QR_TEXT, opts);
}

static void
test_qr_ecc_level(void **state)
{
	fixture *fx = *state;
	const char *level = *(const char *const *)fx->row;
	char *out = qr_at_level(fx, level), **codes;

	codes = th_png_decode_qr(out);
	if (th_strv_len(codes) != 1)
		print_error("ECC %s: %zu codes decoded\n", level,
		    th_strv_len(codes));
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], QR_TEXT);
	th_strv_free(codes);
	free(out);
}

static void
test_qr_ecc_changes_code(void **state)
{
	fixture *fx = *state;
	char *l = qr_at_level(fx, "L"), *h = qr_at_level(fx, "H");

	assert_false(th_files_equal(l, h));
	free(l);
	free(h);
}

/* Text with spaces and non-ASCII comes back byte for byte. */
static void
test_qr_utf8_text(void **state)
{
	fixture *fx = *state;
	const char *text = "A\xc3\xb1" "asco & \xc3\x9c" "n\xc3\xaf" "code #1";
	const char *opts[] = {"--dpi", "300", NULL};
	char *out = qr_ok(fx, "u.png", text, opts), **codes;

	codes = th_png_decode_qr(out);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], text);
	th_strv_free(codes);
	free(out);
}

/* --size sets the PDF page: 50mm square. */
static void
test_qr_size_pdf(void **state)
{
	fixture *fx = *state;
	const char *opts[] = {"--size", "50mm", NULL};
	char *out = qr_ok(fx, "q.pdf", QR_TEXT, opts), **codes;
	double w = 0, h = 0;

	assert_true(th_pdf_page_size(out, &w, &h));
	assert_float_equal(w, 50 / 25.4 * 72, 0.01);
	assert_float_equal(h, 50 / 25.4 * 72, 0.01);
	codes = th_pdf_decode_qr(out, 300);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], QR_TEXT);
	th_strv_free(codes);
	free(out);
}

/* PNG side = round(size in inches * dpi), with pHYs = dpi. */
typedef struct pngsize {
	const char *size, *dpi;
	unsigned px;
} pngsize;

static const pngsize png_sizes[] = {
	{"2in", "150", 300},
	{"2in", "300", 600},
	{"50mm", "300", 591}, /* 590.55 */
	{"1.5in", "200", 300},
	{"144pt", "96", 192},
	{"3cm", "600", 709}, /* 708.66 */
};

static void
test_qr_png_size(void **state)
{
	fixture *fx = *state;
	const pngsize *c = fx->row;
	const char *opts[] = {"--size", c->size, "--dpi", c->dpi, NULL};
	char *out = qr_ok(fx, "s.png", QR_TEXT, opts);
	th_png_info info;

	assert_true(th_png_read_info(out, &info));
	if (info.width != c->px || info.height != c->px)
		print_error("--size %s --dpi %s: %ux%u, want %u\n", c->size,
		    c->dpi, info.width, info.height, c->px);
	assert_int_equal(info.width, c->px);
	assert_int_equal(info.height, c->px);
	assert_int_equal(info.ppm_x, lround(atof(c->dpi) / 0.0254));
	free(out);
}

/* Bad qr options: refused, one "qrposter: " message naming the option,
 * nothing written. */
typedef struct badopt {
	const char *opt, *val, *want;
} badopt;

static const badopt bad_options[] = {
	{"--ecc", "X", "--ecc"},
	{"--ecc", "LM", "--ecc"},
	{"--ecc", "", "--ecc"},
	{"--size", "12px", "--size"},
	{"--size", "0", "--size"},
	{"--size", "-1in", "--size"},
	{"--size", "2", "--size"},
	{"--size", "1e1in", "--size"},
	{"--quiet-zone", "3", "--quiet-zone"},
	{"--quiet-zone", "4.5", "--quiet-zone"},
	{"--quiet-zone", "abc", "--quiet-zone"},
	{"--dpi", "0", "--dpi"},
	{"--dpi", "300dpi", "--dpi"},
};

static void
test_qr_bad_option(void **state)
{
	fixture *fx = *state;
	const badopt *c = fx->row;
	char *out = th_path(fx->dir, "q.png");
	char stray[256] = "";
	th_run r;
	int rc = th_qrposter(&r, "qr", QR_TEXT, "-o", out, c->opt, c->val,
	    NULL);
	bool clean = th_dir_only(fx->dir, NULL, stray, sizeof stray);

	print_message("[   INFO   ] %s '%s': exit %d, stderr: %s", c->opt,
	    c->val, rc, r.err);
	assert_int_equal(rc, 2);
	assert_true(strncmp(r.err, "qrposter: ", 10) == 0);
	assert_non_null(strstr(r.err, c->want));
	if (!clean)
		print_error("left behind: %s\n", stray);
	assert_true(clean);
	th_run_free(&r);
	free(out);
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

static const tmpl *const templates[] = {&letter, &tabloid, &carcard};

/* The tcases the tests get: enough for every row of every table. */
static tcase pool[128];
static size_t npool;

static const tcase *
tc(const tmpl *t, const void *row, size_t i)
{
	if (npool == NELEM(pool))
		abort();
	pool[npool] = (tcase){t, row, i};
	return &pool[npool++];
}

#define PER_TEMPLATE(fn) \
	for (size_t k = 0; k < NELEM(templates); k++) \
		th_suite_add(&s, fn, setup, teardown, \
		    tc(templates[k], NULL, 0), "%s (%s)", #fn, \
		    templates[k]->name)
#define PLAIN(fn) th_suite_add(&s, fn, setup, teardown, NULL, "%s", #fn)
/* One test per row of a table, named "test: row". */
#define PER_ROW(fn, table, fmt, ...) \
	for (size_t i = 0; i < NELEM(table); i++) \
		th_suite_add(&s, fn, setup, teardown, \
		    tc(NULL, &table[i], i), "%s: " fmt, #fn, \
		    __VA_ARGS__)

int
main(void)
{
	th_suite s = {0};

	for (size_t k = 0; k < NELEM(templates); k++) {
		for (size_t i = 0; i < NAWKWARD; i++)
			th_suite_add(&s, test_pdf_qr_and_name, setup, teardown,
			    tc(templates[k], &awkward[i], i),
			    "test_pdf_qr_and_name (%s): '%s'",
			    templates[k]->name, awkward[i].code);
		for (size_t i = 0; i < NELEM(paren_urls); i++)
			th_suite_add(&s, test_report_url_parens, setup,
			    teardown, tc(templates[k], &paren_urls[i], i),
			    "test_report_url_parens (%s): %s",
			    templates[k]->name, paren_urls[i]);
	}
	PER_TEMPLATE(test_pdf_page_size);
	PER_TEMPLATE(test_pdf_fonts_embedded);
	PER_TEMPLATE(test_pdf_text_defaults_and_set);
	PER_TEMPLATE(test_pdf_report_url_set);
	PER_TEMPLATE(test_pdf_metadata);
	PER_TEMPLATE(test_pdf_qr_link);
	PER_TEMPLATE(test_short_report_url);
	PER_TEMPLATE(test_pdf_deterministic);
	PER_TEMPLATE(test_png_150);
	PER_TEMPLATE(test_png_300);
	PER_TEMPLATE(test_svg);
	PLAIN(test_template_lookup);
	PLAIN(test_overwrite);
	PLAIN(test_help_version);
	PER_ROW(test_qr_ecc_level, levels, "ECC %s", levels[i]);
	PLAIN(test_qr_ecc_changes_code);
	PLAIN(test_qr_utf8_text);
	PLAIN(test_qr_size_pdf);
	PER_ROW(test_qr_png_size, png_sizes, "--size %s --dpi %s",
	    png_sizes[i].size, png_sizes[i].dpi);
	PER_ROW(test_qr_bad_option, bad_options, "%s '%s'",
	    bad_options[i].opt, bad_options[i].val);
	return th_suite_run(&s, "render", NULL, NULL);
}
