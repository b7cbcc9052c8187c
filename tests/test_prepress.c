/*
 * test_prepress.c - `check --print cmyk`, the print shop's preflight, and
 * `check --pdf`: posters made to break each rule, and the findings'
 * codes (never their wording) and exit statuses.
 *
 * Each row's expectation is worked out here from what the row chose --
 * the sum of a cmyk() colour's inks against the limit, a picture's pixels
 * over its box in inches against 300 ppi, a stroke's width against
 * 0.25pt, a type size against 6pt -- not taken from the code under test.
 * The inks the check reads off the plates are cross-checked with another
 * of Ghostscript's devices (tiffsep, read with libtiff) on the same file.
 * The bundled templates pass `check --print cmyk`.
 *
 * Runs from the top of the source tree; $QRPOSTER names the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairo.h>
#include <math.h>
#include <tiffio.h>

#include "diag.h"
#include "helpers.h"
#include "util.h"

typedef th_fixture fixture;

/* Whether out holds a finding with code c ("... [name]"). */
static bool
has_code(const char *out, qp_code c)
{
	char want[80];

	snprintf(want, sizeof want, "[%s]", qp_code_name(c));
	return strstr(out, want) != NULL;
}

static void
assert_code(const th_run *r, qp_code c, bool want)
{
	if (has_code(r->out, c) != want)
		fail_msg("%s [%s] expected, got:\n%s%s", want ? "a" : "no",
		    qp_code_name(c), r->out, r->err);
}

/* A template of one page holding blocks (YAML lines, indented by 2). */
static char *
write_template(const char *dir, const char *blocks, const char *extra)
{
	char *path = th_path(dir, "t.yaml");
	char *text;

	text = qp_xasprintf("qrposter: 1\nname: Prepress test\n"
	    "page: {size: letter, orientation: portrait, margin: 0.25in}\n"
	    "%s"
	    "blocks:\n"
	    "  - {type: qr, id: code, box: {x: 5.5in, y: 7.5in, w: 2.5in}, "
	    "data: \"https://example.org/r\"}\n"
	    "%s", extra ? extra : "", blocks);
	assert_true(th_write_file(path, text, strlen(text)));
	free(text);
	return path;
}

/* A w x h RGB PNG with detail in it (not one flat colour). */
static char *
write_png(const char *dir, int w, int h)
{
	char *path = th_path(dir, "pic.png");
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w,
	    h);
	unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);

	cairo_surface_flush(s);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t *p = (uint32_t *)(void *)(d + y * stride) + x;
			*p = (uint32_t)((x * 7 % 200) << 16 | (y * 5 % 200) << 8 |
			    120);
		}
	cairo_surface_mark_dirty(s);
	assert_int_equal(cairo_surface_write_to_png(s, path),
	    CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return path;
}

/* ---- one rule broken, or kept, per row ---------------------------------- */

typedef enum { R_INK, R_STROKE, R_RULE, R_TEXT, R_TEXT_MIN, R_PPI,
    R_QR_INKS } rule;

typedef struct press_case {
	const char *name;
	rule rule;
	double v[4];   /* inks in %; a width or size in pt; pixels w, h and a
	                * box w, h in inches */
	double limit;  /* --ink-limit; 0: the default, 300 */
} press_case;

static const press_case press_cases[] = {
	{"rich black 100/100/100/100 is 400%, over 300%", R_INK,
	    {100, 100, 100, 100}, 0},
	{"cmyk(80,75,75,75) is 305%, over 300%", R_INK, {80, 75, 75, 75}, 0},
	{"cmyk(75,75,75,75) is 300%, at the limit", R_INK, {75, 75, 75, 75}, 0},
	{"rich black 60/40/40/100 is 240%, within 300%", R_INK,
	    {60, 40, 40, 100}, 0},
	{"240% over --ink-limit 230", R_INK, {60, 40, 40, 100}, 230},
	{"240% within --ink-limit 240", R_INK, {60, 40, 40, 100}, 240},
	{"a navy of 100/80/0/30 is 210%, over --ink-limit 200", R_INK,
	    {100, 80, 0, 30}, 200},
	{"a 0.1pt stroke is a hairline", R_STROKE, {0.1}, 0},
	{"a 0.2pt stroke is a hairline", R_STROKE, {0.2}, 0},
	{"a 0.25pt stroke is not", R_STROKE, {0.25}, 0},
	{"a 1pt stroke is not", R_STROKE, {1}, 0},
	{"a 0.1pt filled rule is a hairline", R_RULE, {0.1}, 0},
	{"a 0.5pt filled rule is not", R_RULE, {0.5}, 0},
	{"text at 4pt is too small to print", R_TEXT, {4}, 0},
	{"text at 5.5pt is too small to print", R_TEXT, {5.5}, 0},
	{"text at 6pt prints", R_TEXT, {6}, 0},
	{"text at 10pt under min_text_size 16pt", R_TEXT_MIN, {10}, 0},
	{"a 200x100 picture over 1x0.5in is 200 ppi", R_PPI,
	    {200, 100, 1, 0.5}, 0},
	{"a 500x250 picture over 2x1in is 250 ppi", R_PPI,
	    {500, 250, 2, 1}, 0},
	{"a 600x300 picture over 1x0.5in is 600 ppi", R_PPI,
	    {600, 300, 1, 0.5}, 0},
	{"a code in cmyk(100,60,0,20) prints in three inks", R_QR_INKS,
	    {100, 60, 0, 20}, 0},
	{"a code in cmyk(0,0,0,100) prints in one", R_QR_INKS, {0, 0, 0, 100},
	    0},
};

static void
test_press(void **state)
{
	fixture *fx = *state;
	const press_case *c = fx->row;
	char block[512], extra[64] = "", limit[32];
	char *tpath, *png = NULL;
	qp_code code = QP_D_NONE;
	bool want = false, error;
	int want_status;
	th_run r;

	switch (c->rule) {
	case R_INK:
		snprintf(block, sizeof block, "  - {type: rect, id: ink, box: {x: "
		    "1in, y: 1in, w: 3in, h: 2in}, fill: \"cmyk(%g, %g, %g, "
		    "%g)\"}\n", c->v[0], c->v[1], c->v[2], c->v[3]);
		code = QP_D_PRINT_INK_LIMIT;
		want = c->v[0] + c->v[1] + c->v[2] + c->v[3] >
		    (c->limit > 0 ? c->limit : 300);
		break;
	case R_STROKE:
		snprintf(block, sizeof block, "  - {type: rect, id: frame, box: "
		    "{x: 1in, y: 1in, w: 3in, h: 2in}, fill: \"#FFFFFF\", "
		    "stroke: \"#000000\", stroke_width: %gpt}\n", c->v[0]);
		code = QP_D_PRINT_HAIRLINE;
		want = c->v[0] < 0.25;
		break;
	case R_RULE:
		snprintf(block, sizeof block, "  - {type: rect, id: rule, box: "
		    "{x: 1in, y: 3in, w: 6in, h: %gpt}, fill: \"#000000\"}\n",
		    c->v[0]);
		code = QP_D_PRINT_HAIRLINE;
		want = c->v[0] < 0.25;
		break;
	case R_TEXT:
	case R_TEXT_MIN:
		snprintf(block, sizeof block, "  - {type: text, id: small, box: "
		    "{x: 1in, y: 4in, w: 6in, h: 1in}, text: \"Fine print "
		    "here\", size: %gpt}\n", c->v[0]);
		if (c->rule == R_TEXT_MIN) {
			snprintf(extra, sizeof extra, "min_text_size: 16pt\n");
			code = QP_D_TEXT_TOO_SMALL;
			want = c->v[0] < 16;
		} else {
			code = QP_D_PRINT_TEXT_SMALL;
			want = c->v[0] < 6;
		}
		break;
	case R_PPI:
		png = write_png(fx->dir, (int)c->v[0], (int)c->v[1]);
		snprintf(block, sizeof block, "  - {type: image, id: photo, box: "
		    "{x: 1in, y: 5in, w: %gin, h: %gin}, file: pic.png}\n",
		    c->v[2], c->v[3]);
		code = QP_D_PRINT_IMAGE_PPI;
		want = fmin(c->v[0] / c->v[2], c->v[1] / c->v[3]) < 300;
		break;
	case R_QR_INKS:
		snprintf(block, sizeof block, "  - {type: qr, id: inked, box: {x: "
		    "1in, y: 1in, w: 3in}, data: \"https://example.org/q\", "
		    "color: \"cmyk(%g, %g, %g, %g)\"}\n", c->v[0], c->v[1],
		    c->v[2], c->v[3]);
		code = QP_D_PRINT_QR_INKS;
		want = (c->v[0] > 0) + (c->v[1] > 0) + (c->v[2] > 0) +
		    (c->v[3] > 0) > 1;
		break;
	}
	tpath = write_template(fx->dir, block, extra);
	snprintf(limit, sizeof limit, "%g", c->limit);
	if (c->limit > 0)
		th_qrposter(&r, "check", "-t", tpath, "--print", "cmyk",
		    "--ink-limit", limit, (char *)NULL);
	else
		th_qrposter(&r, "check", "-t", tpath, "--print", "cmyk",
		    (char *)NULL);
	assert_code(&r, code, want);
	/* An error stops the run; print-qr-inks is a warning. */
	error = want && qp_code_severity(code) == QP_DIAG_ERROR;
	want_status = error ? 1 : 0;
	if (r.status != want_status)
		fail_msg("exit %d, expected %d:\n%s%s", r.status, want_status,
		    r.out, r.err);
	/* The one rule broken is the only prepress finding. */
	for (qp_code k = QP_D_PRINT_INK_LIMIT; k <= QP_D_PRINT_QR_INKS; k++)
		if (k != code)
			assert_code(&r, k, false);
	th_run_free(&r);
	free(tpath);
	free(png);
}

/* ---- the inks the check reads are the file's ----------------------------- */

/*
 * The most ink (sum of the four plates, percent) inside a box of page 1
 * of pdf, separated by tiffsep at 72 dpi: another device than the
 * check's, read by another reader.
 */
static double
tiffsep_most(const fixture *fx, const char *pdf, double x0, double y0,
    double x1, double y1)
{
	static const char *const plates[] = {"Cyan", "Magenta", "Yellow",
	    "Black"};
	char *base = th_path(fx->dir, "sep"), of[4200];
	int *sum = NULL;
	uint32_t w = 0, h = 0;
	double most = 0;
	th_run r;

	snprintf(of, sizeof of, "-sOutputFile=%s.tif", base);
	{
		const char *argv[] = {"gs", "-q", "-dSAFER", "-dBATCH",
		    "-dNOPAUSE", "-sDEVICE=tiffsep", "-r72", of, pdf, NULL};
		th_run_argv(&r, argv, NULL);
		if (r.status != 0)
			fail_msg("tiffsep: %s%s", r.out, r.err);
		th_run_free(&r);
	}
	for (int p = 0; p < 4; p++) {
		char fn[4300];
		TIFF *t;
		unsigned char *row;

		snprintf(fn, sizeof fn, "%s(%s).tif", base, plates[p]);
		t = TIFFOpen(fn, "r");
		assert_non_null(t);
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		if (sum == NULL)
			sum = calloc((size_t)w * h, sizeof *sum);
		assert_non_null(sum);
		row = malloc((size_t)TIFFScanlineSize(t));
		assert_non_null(row);
		for (uint32_t y = 0; y < h; y++) {
			assert_true(TIFFReadScanline(t, row, y, 0) >= 0);
			for (uint32_t x = 0; x < w; x++)
				sum[(size_t)y * w + x] += 255 - row[x];
		}
		free(row);
		TIFFClose(t);
	}
	for (uint32_t y = (uint32_t)y0; y < (uint32_t)y1 && y < h; y++)
		for (uint32_t x = (uint32_t)x0; x < (uint32_t)x1 && x < w; x++)
			if (sum[(size_t)y * w + x] / 2.55 > most)
				most = sum[(size_t)y * w + x] / 2.55;
	free(sum);
	free(base);
	return most;
}

/* A rectangle of cmyk(90, 80, 70, 90), 330%, over 300%: the check says
 * so, and the plates of the print file carry 330% in its box. */
static void
test_ink_on_plates(void **state)
{
	fixture *fx = *state;
	char *tpath = write_template(fx->dir, "  - {type: rect, id: ink, box: "
	    "{x: 1in, y: 1in, w: 3in, h: 2in}, fill: \"cmyk(90, 80, 70, 90)\"}"
	    "\n", NULL);
	char *pdf = th_path(fx->dir, "p.pdf");
	const double want = 90 + 80 + 70 + 90;
	double got;
	th_run r;

	th_qrposter(&r, "check", "-t", tpath, "--print", "cmyk", (char *)NULL);
	assert_int_equal(r.status, 1);
	assert_code(&r, QP_D_PRINT_INK_LIMIT, true);
	th_run_free(&r);
	th_qrposter(&r, "render", "-t", tpath, "--print", "cmyk", "-o", pdf,
	    (char *)NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* The box at 72 dpi is (72, 72)-(288, 216); inside it by a pixel. */
	got = tiffsep_most(fx, pdf, 73, 73, 287, 215);
	if (fabs(got - want) > 1)
		fail_msg("tiffsep: %.1f%% in the box, the colour is %.0f%%", got,
		    want);
	/* The same file through check --pdf. */
	th_qrposter(&r, "check", "--pdf", pdf, (char *)NULL);
	assert_int_equal(r.status, 1);
	assert_code(&r, QP_D_PRINT_INK_LIMIT, true);
	assert_code(&r, QP_D_PRINT_RGB, false);
	th_run_free(&r);
	th_qrposter(&r, "check", "--pdf", pdf, "--ink-limit", "340",
	    (char *)NULL);
	assert_int_equal(r.status, 0);
	assert_code(&r, QP_D_PRINT_INK_LIMIT, false);
	th_run_free(&r);
	free(pdf);
	free(tpath);
}

/* ---- check --pdf: RGB left in a file ------------------------------------- */

typedef struct pdf_case {
	const char *name;
	bool print;   /* made with --print cmyk */
	bool rgb;     /* print-rgb expected */
} pdf_case;

static const pdf_case pdf_cases[] = {
	{"an RGB render is RGB throughout", false, true},
	{"a --print cmyk file has no RGB left", true, false},
};

static void
test_pdf_rgb(void **state)
{
	fixture *fx = *state;
	const pdf_case *c = fx->row;
	char *pdf = th_path(fx->dir, "p.pdf");
	th_run r;

	if (c->print)
		th_qrposter(&r, "render", "-t", "restroom-letter", "-s",
		    "code=NYP-R1", "-s", "name=Penn", "--print", "cmyk", "-o",
		    pdf, (char *)NULL);
	else
		th_qrposter(&r, "render", "-t", "restroom-letter", "-s",
		    "code=NYP-R1", "-s", "name=Penn", "-o", pdf, (char *)NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_qrposter(&r, "check", "--pdf", pdf, (char *)NULL);
	assert_code(&r, QP_D_PRINT_RGB, c->rgb);
	assert_int_equal(r.status, c->rgb ? 1 : 0);
	th_run_free(&r);
	free(pdf);
}

/* ---- the bundled templates pass ------------------------------------------ */

static const char *const bundled[] = {
	"agency-letter", "bilingual-letter", "car-card", "logo-qr-letter",
	"multilingual-tabloid", "notice-ca", "notice-fl", "notice-ga",
	"notice-md", "notice-mi", "notice-ny", "notice-tx", "restroom-letter",
	"stall-sticker", "station-tabloid", "wallet-card",
};

#define NBUNDLED (sizeof bundled / sizeof bundled[0])

static void
test_bundled(void **state)
{
	fixture *fx = *state;
	const char *name = fx->row;
	th_run r;

	th_qrposter(&r, "check", "-t", name, "-s", "code=NYP-R1", "-s",
	    "name=New York Penn Station, restroom 1", "--print", "cmyk",
	    (char *)NULL);
	if (r.status != 0 || strstr(r.out, ": error: ") ||
	    strstr(r.out, ": warning: "))
		fail_msg("check --print cmyk -t %s: exit %d\n%s%s", name,
		    r.status, r.out, r.err);
	th_run_free(&r);
}

/* The list above is every bundled template. */
static void
test_bundled_all(void **state)
{
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < NBUNDLED; i++) {
		char *p = qp_xasprintf("templates/%s.yaml", bundled[i]);
		assert_true(th_exists(p));
		free(p);
	}
	{
		th_run r;
		const char *argv[] = {"sh", "-c", "ls templates/*.yaml | wc -l",
		    NULL};
		th_run_argv(&r, argv, NULL);
		n = strtoul(r.out, NULL, 10);
		th_run_free(&r);
	}
	assert_int_equal(n, NBUNDLED);
}

/* ---- mistakes on the command line ---------------------------------------- */

typedef struct usage_case {
	const char *name;
	const char *argv[12];
	int status;
} usage_case;

static const usage_case usage_cases[] = {
	{"--ink-limit without --print", {"check", "-t", "restroom-letter",
	    "--ink-limit", "300"}, 2},
	{"--ink-limit not a number", {"check", "-t", "restroom-letter",
	    "--print", "cmyk", "--ink-limit", "lots"}, 2},
	{"--ink-limit over 400", {"check", "-t", "restroom-letter", "--print",
	    "cmyk", "--ink-limit", "401"}, 2},
	{"--pdf with a template", {"check", "--pdf", "x.pdf", "-t",
	    "restroom-letter"}, 2},
	{"--pdf of no file", {"check", "--pdf", "/nonexistent/x.pdf"}, 1},
	{"--print of another mode", {"check", "-t", "restroom-letter",
	    "--print", "rgb"}, 2},
	/* The band's navy is 200% in the generic profile (C 100 M 88 Y 10
	 * K 1): within 250%, over 150%. */
	{"--ink-limit 250% with its percent sign", {"check", "-t",
	    "restroom-letter", "-s", "code=A1", "-s", "name=B", "--print",
	    "cmyk", "--ink-limit", "250%"}, 0},
	{"--ink-limit 150 under the band's navy", {"check", "-t",
	    "restroom-letter", "-s", "code=A1", "-s", "name=B", "--print",
	    "cmyk", "--ink-limit", "150"}, 1},
};

static void
test_usage(void **state)
{
	fixture *fx = *state;
	const usage_case *c = fx->row;
	const char *argv[14] = {th_bin()};
	th_run r;

	for (size_t i = 0; i < 12 && c->argv[i]; i++)
		argv[i + 1] = c->argv[i];
	th_run_argv(&r, argv, NULL);
	if (r.status != c->status)
		fail_msg("exit %d, expected %d:\n%s%s", r.status, c->status,
		    r.out, r.err);
	if (c->status == 2 || strstr(c->name, "no file"))
		assert_true(strlen(r.err) > 0); /* said why */
	else
		assert_code(&r, QP_D_PRINT_INK_LIMIT, c->status != 0);
	th_run_free(&r);
}

#define ROW(fn, c) {(c).name, fn, th_fixture_setup, th_fixture_teardown, (void *)&(c)}
#define NPRESS (sizeof press_cases / sizeof press_cases[0])
#define NPDF (sizeof pdf_cases / sizeof pdf_cases[0])
#define NUSAGE (sizeof usage_cases / sizeof usage_cases[0])

int
main(void)
{
	struct CMUnitTest tests[NPRESS + NPDF + NBUNDLED + NUSAGE + 4];
	size_t n = 0;

	for (size_t i = 0; i < NPRESS; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_press, press_cases[i]);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_ink_on_plates, th_fixture_setup, th_fixture_teardown);
	for (size_t i = 0; i < NPDF; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_pdf_rgb, pdf_cases[i]);
	for (size_t i = 0; i < NBUNDLED; i++)
		tests[n++] = (struct CMUnitTest){bundled[i], test_bundled, th_fixture_setup,
		    th_fixture_teardown, (void *)bundled[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bundled_all);
	for (size_t i = 0; i < NUSAGE; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_usage, usage_cases[i]);
	return _cmocka_run_group_tests("prepress", tests, n, NULL, NULL);
}
