/*
 * test_print.c - what a print shop's tools see in qrposter's files.
 *
 * Structurally valid files: every kind of output any command writes
 * (single posters, bare codes, print runs, imposed sheets, bleed and
 * marks, PNG, SVG) is run through the real checkers a print shop or a
 * browser would use: `qpdf --check` with no warning, `xmllint`, and
 * `pngcheck`. (helpers.c also checks every file every test makes, with
 * libqpdf in-process; these rows run the command-line tools themselves.)
 *
 * CMYK print files (--print cmyk): the inks on the plates, measured with
 * Ghostscript's separation device (tiffsep) at 300 dpi and read with
 * libtiff: no cyan, magenta or yellow in the QR code's quiet-zone box or
 * under black and grey text, cmyk() colours as given; fonts embedded and
 * text extractable (pdffonts, pdftotext), the code decoded at 150 dpi,
 * TrimBox/BleedBox (pdfinfo -box), page count and order across
 * Ghostscript's runs of pages, the output intent and PDF/X marks and no
 * transparency (libqpdf), and the errors: a bad profile, transparency,
 * no Ghostscript.
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

#include <glob.h>
#include <math.h>
#include <qpdf/qpdf-c.h>
#include <tiffio.h>

#include "helpers.h"
#include "util.h"

#define STATIONS "templates/samples/stations.csv"
#define MAX_ARGV 24

typedef th_fixture fixture;

/* argv with every "@" prefix replaced by the test's directory. */
static void
expand(const fixture *fx, const char *const *in, const char **out,
    char **owned)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_ARGV; i++)
		owned[i] = NULL;
	for (; in[n] && n < MAX_ARGV - 1; n++) {
		owned[n] = NULL;
		if (in[n][0] == '@') {
			owned[n] = th_path(fx->dir, in[n] + 2);
			out[n] = owned[n];
		} else
			out[n] = in[n];
	}
	out[n] = NULL;
	owned[n] = NULL;
}

static void
free_owned(char **owned)
{
	for (size_t i = 0; i < MAX_ARGV; i++)
		free(owned[i]);
}

/* ---- structurally valid files ------------------------------------------ */

typedef struct valid_case {
	const char *name;
	const char *argv[MAX_ARGV];  /* after the binary; "@/x" = test dir */
	const char *files[4];        /* what must exist and be valid */
} valid_case;

static const valid_case valid_cases[] = {
	{"render: default PDF, links on",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "-o", "@/p.pdf"},
	    {"p.pdf"}},
	{"render: bleed and crop marks",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "--bleed",
	    "0.125in", "--marks", "-o", "@/p.pdf"}, {"p.pdf"}},
	{"render: tabloid template",
	    {"render", "-t", "station-tabloid", "-s", "code=WAS-C2", "-s",
	    "name=Union Station", "-o", "@/p.pdf"}, {"p.pdf"}},
	{"render: SVG",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn & <Co>", "-o",
	    "@/p.svg"}, {"p.svg"}},
	{"render: PNG",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "--dpi", "40",
	    "-o", "@/p.png"}, {"p.png"}},
	{"qr: https payload, linked PDF",
	    {"qr", "https://x.example/a", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: URL with parentheses and a backslash",
	    {"qr", "https://x.example/a(b)\\c", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: tel payload, no link",
	    {"qr", "tel:+18883737888", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: SVG", {"qr", "https://x.example/a", "-o", "@/q.svg"}, {"q.svg"}},
	{"qr: PNG", {"qr", "https://x.example/a", "-o", "@/q.png"}, {"q.png"}},
	{"batch: combined print run",
	    {"batch", "-q", "-d", STATIONS, "--combine", "@/run.pdf"},
	    {"run.pdf"}},
	{"batch: combined with bleed and marks",
	    {"batch", "-q", "-d", STATIONS, "--bleed", "0.125in", "--marks",
	    "--combine", "@/run.pdf"}, {"run.pdf"}},
	{"batch: imposed 2x2 on tabloid sheets",
	    {"batch", "-q", "-d", STATIONS, "--impose", "2x2", "--sheet",
	    "tabloid", "--bleed", "0.125in", "--combine", "@/imp.pdf"},
	    {"imp.pdf"}},
	{"batch: a file per row",
	    {"batch", "-q", "-d", STATIONS, "-o", "@/{{code}}.pdf"},
	    {"NYP-R1.pdf", "WAS-R2.pdf"}},
	{"batch: --no-links",
	    {"batch", "-q", "-d", STATIONS, "--no-links", "--combine",
	    "@/run.pdf"}, {"run.pdf"}},
};

/* `qpdf --check` itself: exit 0 and not one warning. */
static void
assert_qpdf_check(const char *pdf)
{
	const char *argv[] = {"qpdf", "--check", pdf, NULL};
	th_run r;

	th_run_argv(&r, argv, NULL);
	if (r.status != 0 || strstr(r.out, "WARNING") ||
	    strstr(r.err, "WARNING"))
		fail_msg("qpdf --check %s: status %d\n%s%s", pdf, r.status,
		    r.out, r.err);
	th_run_free(&r);
}

static void
test_valid(void **state)
{
	fixture *fx = *state;
	const valid_case *c = fx->row;
	const char *argv[MAX_ARGV + 1];
	char *owned[MAX_ARGV];
	th_run r;

	argv[0] = th_bin();
	expand(fx, c->argv, argv + 1, owned);
	if (th_run_argv(&r, argv, NULL) != 0)
		fail_msg("%s: status %d: %s", c->name, r.status, r.err);
	th_run_free(&r);
	for (size_t i = 0; i < 4 && c->files[i]; i++) {
		char *p = th_path(fx->dir, c->files[i]);
		size_t n = strlen(p);

		assert_true(th_exists(p));
		if (n > 4 && strcmp(p + n - 4, ".pdf") == 0)
			assert_qpdf_check(p);
		else
			th_assert_output_valid(p);
		free(p);
	}
	free_owned(owned);
}

/* The bare code's PDF links to its payload over the whole page (2in,
 * the default size), and the link is the payload exactly. */
static void
test_qr_link(void **state)
{
	fixture *fx = *state;
	char *out = th_path(fx->dir, "q.pdf");
	th_pdf_link l[2];
	th_run r;

	th_qrposter(&r, "qr", "https://x.example/a(b)\\c", "-o", out, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(th_pdf_links(out, l, 2), 1);
	assert_string_equal(l[0].uri, "https://x.example/a(b)\\c");
	assert_float_equal(l[0].x0, 0, 0.01);
	assert_float_equal(l[0].y0, 0, 0.01);
	assert_float_equal(l[0].x1, 144, 0.01);
	assert_float_equal(l[0].y1, 144, 0.01);
	free(out);
}

/* ---- ecc: auto ------------------------------------------------------- */

/*
 * The level ZXing (an independent decoder) reads from the printed code.
 * Expected levels come from ISO/IEC 18004 Table 7, 8-bit byte capacity:
 *   version 1: L 17, M 14, Q 11, H 7;  version 2: L 32, M 26, Q 20, H 14;
 *   version 3: L 53, M 42, Q 32, H 24.
 * Lower-case letters are byte mode throughout, so a payload of n letters
 * takes the version whose M capacity first holds n, and auto must give
 * the highest level that holds n in that same version.
 */
typedef struct ecc_case {
	const char *name;
	const char *payload;
	char level;
} ecc_case;

static const ecc_case ecc_cases[] = {
	{"ecc auto: 7 bytes, version 1 holds H", "abcdefg", 'H'},
	{"ecc auto: 8 bytes, version 1 holds Q", "abcdefgh", 'Q'},
	{"ecc auto: 12 bytes, version 1 holds only M", "abcdefghijkl", 'M'},
	{"ecc auto: 15 bytes, version 2 holds Q", "abcdefghijklmno", 'Q'},
	{"ecc auto: 24 bytes, version 2 holds only M",
	    "abcdefghijklmnopqrstuvwx", 'M'},
	{"ecc auto: 27 bytes, version 3 holds Q",
	    "abcdefghijklmnopqrstuvwxyza", 'Q'},
};

/* "EC Level: X" from ZXingReader on png, or 0. */
static char
zxing_level(const char *png, char *text, size_t textsz)
{
	const char *argv[] = {"ZXingReader", png, NULL};
	char lv = 0, *p;
	th_run r;

	th_run_argv(&r, argv, NULL);
	if (r.status == 0 && (p = strstr(r.out, "EC Level:")) != NULL) {
		p += strlen("EC Level:");
		while (*p == ' ')
			p++;
		lv = *p;
	}
	if (text && (p = strstr(r.out, "Text:")) != NULL) {
		char *q = strchr(p, '"'), *e = q ? strchr(q + 1, '"') : NULL;
		if (q && e)
			snprintf(text, textsz, "%.*s", (int)(e - q - 1), q + 1);
	}
	th_run_free(&r);
	return lv;
}

static void
test_ecc_auto(void **state)
{
	fixture *fx = *state;
	const ecc_case *c = fx->row;
	char *png = th_path(fx->dir, "q.png"), text[256] = "";
	th_run r;

	th_qrposter(&r, "qr", "--ecc", "auto", c->payload, "-o", png, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(zxing_level(png, text, sizeof text), c->level);
	assert_string_equal(text, c->payload);
	free(png);
}

/* A template's qr block says ecc: auto; the code on the page has the
 * level the table gives for its payload (a short payload: H). */
static void
test_ecc_auto_template(void **state)
{
	static const char tpl[] =
	    "page: {size: letter}\n"
	    "blocks:\n"
	    "  - type: qr\n"
	    "    box: {x: 1in, y: 1in, w: 3in}\n"
	    "    data: \"abcdefg\"\n"
	    "    ecc: auto\n";
	fixture *fx = *state;
	char *t = th_path(fx->dir, "t.yaml"), *png = th_path(fx->dir, "p.png");
	th_run r;

	assert_true(th_write_file(t, tpl, strlen(tpl)));
	th_qrposter(&r, "render", "-t", t, "--dpi", "100", "-o", png, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	assert_int_equal(zxing_level(png, NULL, 0), 'H');
	/* A wrong value names the choices, auto among them. */
	{
		static const char bad[] = "page: {size: letter}\nblocks:\n"
		    "  - {type: qr, box: {x: 1in, y: 1in, w: 3in}, data: x, "
		    "ecc: best}\n";
		assert_true(th_write_file(t, bad, strlen(bad)));
		th_qrposter(&r, "check", "-t", t, NULL);
		assert_int_not_equal(r.status, 0);
		assert_non_null(strstr(r.err, "'best' is not one of L, M, Q, H, "
		    "auto"));
		th_run_free(&r);
	}
	free(t);
	free(png);
}

/* ---- CMYK print files ------------------------------------------------- */

/* A template whose every colour has a known answer on the plates. */
static const char print_tpl[] =
    "page: {size: letter}\n"
    "title: \"Print test {{code}}\"\n"
    "subject: \"{{name}}\"\n"
    "variables:\n"
    "  code: {description: code}\n"
    "  name: {description: name}\n"
    "blocks:\n"
    "  - {type: rect, id: band, box: {x: 0, y: 0, w: 100%, h: 2in}, "
    "fill: \"cmyk(100, 60, 5, 10)\"}\n"
    "  - {type: text, id: white, box: {x: 0.5in, y: 0.5in, w: 7.5in, "
    "h: 1in}, text: \"WHITE ON BAND\", color: \"#FFFFFF\", size: 40pt}\n"
    "  - {type: text, id: black, box: {x: 0.5in, y: 2.5in, w: 7.5in, "
    "h: 1in}, text: \"BLACK TEXT\", color: \"#000000\", size: 40pt}\n"
    "  - {type: text, id: grey, box: {x: 0.5in, y: 3.5in, w: 7.5in, "
    "h: 1in}, text: \"GREY WORDS\", color: \"#333333\", size: 40pt}\n"
    "  - {type: rect, id: swatch, box: {x: 0.5in, y: 9in, w: 2in, h: 1in}, "
    "fill: \"cmyk(0, 100, 100, 0)\"}\n"
    "  - {type: qr, id: code, box: {x: 3.5in, y: 5in, w: 3in}, data: "
    "\"https://example.org/r?loc={{code}}\"}\n";

static char *
write_print_tpl(const fixture *fx)
{
	char *t = th_path(fx->dir, "pt.yaml");

	assert_true(th_write_file(t, print_tpl, strlen(print_tpl)));
	return t;
}

/* Ink per plate inside a box (points from the page's top-left). */
typedef struct ink {
	double max[4], mean[4]; /* percent: C, M, Y, K */
} ink;

static const char *const plate_names[] = {"Cyan", "Magenta", "Yellow",
    "Black"};

/* Separate page 1 of pdf with tiffsep at dpi into dir/sep*.tif. */
static char *
separate(const fixture *fx, const char *pdf, int dpi)
{
	char *base = th_path(fx->dir, "sep"), res[16], *of;
	th_run r;

	snprintf(res, sizeof res, "-r%d", dpi);
	of = malloc(strlen(base) + 32);
	assert_non_null(of);
	sprintf(of, "-sOutputFile=%s.tif", base);
	{
		const char *argv[] = {"gs", "-q", "-dSAFER", "-dBATCH",
		    "-dNOPAUSE", "-sDEVICE=tiffsep", res, "-dFirstPage=1",
		    "-dLastPage=1", of, pdf, NULL};
		th_run_argv(&r, argv, NULL);
		if (r.status != 0)
			fail_msg("tiffsep %s: %s%s", pdf, r.out, r.err);
		th_run_free(&r);
	}
	free(of);
	return base;
}

static void
ink_in(const char *base, int dpi, double x0, double y0, double x1,
    double y1, ink *out)
{
	memset(out, 0, sizeof *out);
	for (int p = 0; p < 4; p++) {
		char fn[4200];
		TIFF *t;
		uint32_t w = 0, h = 0;
		unsigned char *row;
		double sum = 0;
		long n = 0;
		int mx = 0;
		uint32_t px0 = (uint32_t)ceil(x0 * dpi / 72);
		uint32_t px1 = (uint32_t)floor(x1 * dpi / 72);
		uint32_t py0 = (uint32_t)ceil(y0 * dpi / 72);
		uint32_t py1 = (uint32_t)floor(y1 * dpi / 72);

		snprintf(fn, sizeof fn, "%s(%s).tif", base, plate_names[p]);
		t = TIFFOpen(fn, "r");
		if (t == NULL)
			fail_msg("no plate %s", fn);
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		row = malloc((size_t)TIFFScanlineSize(t));
		assert_non_null(row);
		for (uint32_t y = 0; y < h && y < py1; y++) {
			if (TIFFReadScanline(t, row, y, 0) < 0)
				fail_msg("cannot read %s", fn);
			if (y < py0)
				continue;
			/* A separation is 8-bit grey: 255 no ink, 0 full. */
			for (uint32_t x = px0; x < px1 && x < w; x++) {
				int v = 255 - row[x];
				sum += v;
				n++;
				if (v > mx)
					mx = v;
			}
		}
		free(row);
		TIFFClose(t);
		assert_true(n > 0);
		out->max[p] = mx / 2.55;
		out->mean[p] = sum / n / 2.55;
	}
}

/* Fail unless the box has no cyan, magenta or yellow at all. */
static void
assert_k_only(const char *what, const ink *k)
{
	if (k->max[0] > 0 || k->max[1] > 0 || k->max[2] > 0)
		fail_msg("%s: C %.1f%% M %.1f%% Y %.1f%% (max) under K %.1f%%",
		    what, k->max[0], k->max[1], k->max[2], k->max[3]);
}

/* The box of the n-th occurrence of word in pdftotext -bbox (points from
 * the top-left), so the test finds text where poppler sees it. */
static bool
word_box(const char *pdf, const char *word, double b[4])
{
	const char *argv[] = {"pdftotext", "-bbox", pdf, "-", NULL};
	char want[128];
	th_run r;
	bool ok = false;

	snprintf(want, sizeof want, ">%s</word>", word);
	th_run_argv(&r, argv, NULL);
	for (char *p = r.out; (p = strstr(p, "<word ")) != NULL; p++) {
		char *e = strstr(p, "</word>");
		if (e && strncmp(e - strlen(word) - 1, want, strlen(want)) ==
		    0 && sscanf(p, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" "
		    "yMax=\"%lf\"", &b[0], &b[1], &b[2], &b[3]) == 4) {
			ok = true;
			break;
		}
	}
	th_run_free(&r);
	return ok;
}

/* The QR code's whole box (quiet zone included) in points from the
 * top-left: the RGB file's link covers exactly that box. */
static void
qr_box(const char *rgb_pdf, double page_h, double b[4])
{
	th_pdf_link l[2];

	assert_int_equal(th_pdf_links(rgb_pdf, l, 2), 1);
	b[0] = l[0].x0;
	b[2] = l[0].x1;
	b[1] = page_h - l[0].y1;
	b[3] = page_h - l[0].y0;
}

static char *
render_pair(const fixture *fx, const char *tmpl, const char *rgb_name,
    const char *cmyk_name, const char *const *extra)
{
	char *rgb = th_path(fx->dir, rgb_name), *cmyk = th_path(fx->dir,
	    cmyk_name);
	const char *argv[32] = {th_bin(), "render", "-t", tmpl, "-s",
	    "code=T1", "-s", "name=Test Station", "-o", NULL};
	size_t n = 9;
	th_run r;

	argv[n++] = rgb;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (th_run_argv(&r, argv, NULL) != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	argv[9] = cmyk; /* after -o */
	argv[n++] = "--print";
	argv[n++] = "cmyk";
	argv[n] = NULL;
	if (th_run_argv(&r, argv, NULL) != 0)
		fail_msg("render --print cmyk: %s", r.err);
	th_run_free(&r);
	free(rgb);
	return cmyk;
}

/*
 * The test template's plates: the QR box and the black and grey words
 * carry K only (grey #333333 as 80% K), the cmyk() band and swatch carry
 * exactly their inks (8-bit plates: within 0.8%).
 */
static void
test_print_inks(void **state)
{
	fixture *fx = *state;
	char *t = write_print_tpl(fx);
	char *cmyk = render_pair(fx, t, "rgb.pdf", "cmyk.pdf", NULL);
	char *rgb = th_path(fx->dir, "rgb.pdf"), *base;
	double b[4];
	ink k;
	static const struct {
		const char *word;
		double kmax;
	} words[] = {{"BLACK", 100}, {"TEXT", 100}, {"GREY", 80},
	    {"WORDS", 80}};
	static const struct {
		const char *what;
		double box[4], cmyk[4];
	} swatches[] = {
		{"band", {10, 10, 30, 130}, {100, 60, 5, 10}},
		{"swatch", {40, 656, 170, 716}, {0, 100, 100, 0}},
	};

	base = separate(fx, cmyk, 300);
	qr_box(rgb, 792, b);
	ink_in(base, 300, b[0], b[1], b[2], b[3], &k);
	assert_k_only("QR quiet-zone box", &k);
	assert_true(k.max[3] > 99); /* the modules are there, in K */
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (!word_box(cmyk, words[i].word, b))
			fail_msg("pdftotext finds no '%s'", words[i].word);
		ink_in(base, 300, b[0], b[1], b[2], b[3], &k);
		assert_k_only(words[i].word, &k);
		assert_float_equal(k.max[3], words[i].kmax, 0.8);
	}
	for (size_t i = 0; i < sizeof swatches / sizeof swatches[0]; i++) {
		const double *x = swatches[i].box;
		ink_in(base, 300, x[0], x[1], x[2], x[3], &k);
		for (int p = 0; p < 4; p++)
			if (fabs(k.mean[p] - swatches[i].cmyk[p]) > 0.8 ||
			    fabs(k.max[p] - swatches[i].cmyk[p]) > 0.8)
				fail_msg("%s: %s %.1f%% (max %.1f%%), want %.0f%%",
				    swatches[i].what, plate_names[p],
				    k.mean[p], k.max[p], swatches[i].cmyk[p]);
	}
	free(base);
	free(rgb);
	free(cmyk);
	free(t);
}

/* A bundled template: the QR box in K only at print resolution. */
static void
test_print_bundled_qr(void **state)
{
	fixture *fx = *state;
	const char *tmpl = fx->row;
	char *cmyk = render_pair(fx, tmpl, "rgb.pdf", "cmyk.pdf", NULL);
	char *rgb = th_path(fx->dir, "rgb.pdf"), *base;
	double b[4], w, h;
	ink k;

	assert_true(th_pdf_page_size(rgb, &w, &h));
	base = separate(fx, cmyk, 300);
	qr_box(rgb, h, b);
	ink_in(base, 300, b[0], b[1], b[2], b[3], &k);
	assert_k_only(tmpl, &k);
	assert_true(k.max[3] > 99);
	free(base);
	free(rgb);
	free(cmyk);
}

/* Fonts embedded, text extractable, the code decodes at 150 dpi. */
static void
test_print_text_fonts_qr(void **state)
{
	fixture *fx = *state;
	char *cmyk = render_pair(fx, "restroom-letter", "rgb.pdf", "cmyk.pdf",
	    NULL);
	char *text = th_pdftotext(cmyk), **codes;
	int emb = 0, n = th_pdf_fonts(cmyk, &emb);

	assert_true(n > 0);
	assert_int_equal(emb, n);
	assert_non_null(text);
	assert_non_null(strstr(text, "Test Station"));
	assert_non_null(strstr(text, "1-888-373-7888"));
	codes = th_pdf_decode_qr(cmyk, 150);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0],
	    "https://humantraffickinghotline.org/?loc=T1");
	th_strv_free(codes);
	free(text);
	free(cmyk);
}

/* pdfinfo -box: the page's boxes, one line each, as a string. */
static char *
boxes(const char *pdf)
{
	const char *argv[] = {"pdfinfo", "-box", pdf, NULL};
	th_run r;
	char *out = calloc(1, 1024);

	assert_non_null(out);
	th_run_argv(&r, argv, NULL);
	for (char *l = r.out; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(l, "Box:"))
			strncat(out, l, 1023 - strlen(out));
		l = nl ? nl + 1 : NULL;
	}
	th_run_free(&r);
	return out;
}

/* TrimBox and BleedBox survive: the same as the RGB file's. */
static void
test_print_boxes(void **state)
{
	fixture *fx = *state;
	const char *const extra[] = {"--bleed", "0.125in", "--marks", NULL};
	char *cmyk = render_pair(fx, "restroom-letter", "rgb.pdf", "cmyk.pdf",
	    extra);
	char *rgb = th_path(fx->dir, "rgb.pdf");
	char *a = boxes(rgb), *b = boxes(cmyk);

	assert_non_null(strstr(a, "TrimBox:            36.00    36.00   648.00"
	    "   828.00"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(rgb);
	free(cmyk);
}

/* A default profile for the checks: Ghostscript's, found by glob. */
static char *
gs_default_cmyk(void)
{
	glob_t g;
	char *p = NULL;

	if (glob("/usr/share/ghostscript/*/iccprofiles/default_cmyk.icc", 0,
	    NULL, &g) == 0 && g.gl_pathc > 0)
		p = strdup(g.gl_pathv[0]);
	globfree(&g);
	return p;
}

/* Every object: no transparency, no annotation; count fonts with no
 * embedded file. */
static void
assert_no_transparency(qpdf_data q)
{
	qpdf_oh tr = qpdf_get_trailer(q);
	int size = (int)qpdf_oh_get_int_value(q, qpdf_oh_get_key(q, tr,
	    "/Size"));

	for (int id = 1; id < size; id++) {
		qpdf_oh o = qpdf_get_object_by_id(q, id, 0);
		qpdf_oh d = qpdf_oh_is_stream(q, o) ? qpdf_oh_get_dict(q, o) : o;
		qpdf_oh g, v;

		if (!qpdf_oh_is_dictionary(q, d))
			continue;
		g = qpdf_oh_get_key(q, d, "/Group");
		if (qpdf_oh_is_dictionary(q, g) && qpdf_oh_is_name_and_equals(q,
		    qpdf_oh_get_key(q, g, "/S"), "/Transparency"))
			fail_msg("object %d has a transparency group", id);
		v = qpdf_oh_get_key(q, d, "/SMask");
		if (!qpdf_oh_is_null(q, v) && !qpdf_oh_is_name_and_equals(q, v,
		    "/None"))
			fail_msg("object %d has a soft mask", id);
		for (int k = 0; k < 2; k++) {
			v = qpdf_oh_get_key(q, d, k ? "/CA" : "/ca");
			if (qpdf_oh_is_number(q, v) &&
			    qpdf_oh_get_numeric_value(q, v) < 1)
				fail_msg("object %d has an opacity below 1", id);
		}
		v = qpdf_oh_get_key(q, d, "/BM");
		if (qpdf_oh_is_name(q, v) && !qpdf_oh_is_name_and_equals(q, v,
		    "/Normal") && !qpdf_oh_is_name_and_equals(q, v,
		    "/Compatible"))
			fail_msg("object %d has a blend mode", id);
		if (qpdf_oh_has_key(q, d, "/Annots"))
			fail_msg("object %d has annotations", id);
		if (qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, d, "/CS"),
		    "/DeviceRGB") || qpdf_oh_is_name_and_equals(q,
		    qpdf_oh_get_key(q, d, "/ColorSpace"), "/DeviceRGB"))
			fail_msg("object %d is DeviceRGB", id);
		qpdf_oh_release_all(q);
	}
}

/*
 * The output intent and PDF/X identification: PDF 1.3, Info
 * GTS_PDFXVersion PDF/X-3:2002 and Trapped /False, one /GTS_PDFX output
 * intent whose DestOutputProfile is the profile's own bytes (N 4), a
 * TrimBox on the page; poppler names the subtype; nothing transparent.
 */
static void
test_print_pdfx_marks(void **state)
{
	fixture *fx = *state;
	char *cmyk = render_pair(fx, "restroom-letter", "rgb.pdf", "cmyk.pdf",
	    NULL);
	char *icc = gs_default_cmyk(), *sub = th_pdfinfo_field(cmyk,
	    "PDF subtype"), *ver = th_pdfinfo_field(cmyk, "PDF version");
	qpdf_data q = qpdf_init();
	qpdf_oh oi, prof;
	unsigned char *data = NULL;
	size_t len = 0, iccn = 0;
	char *iccd;

	assert_non_null(icc);
	assert_string_equal(sub, "PDF/X-3:2002");
	assert_string_equal(ver, "1.3");
	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, cmyk, NULL) & QPDF_ERRORS, 0);
	assert_string_equal(qpdf_get_info_key(q, "/GTS_PDFXVersion"),
	    "PDF/X-3:2002");
	assert_true(qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q,
	    qpdf_get_trailer(q), "/Info") ? qpdf_oh_get_key(q,
	    qpdf_oh_get_key(q, qpdf_get_trailer(q), "/Info"), "/Trapped") :
	    qpdf_oh_new_null(q), "/False"));
	oi = qpdf_oh_get_key(q, qpdf_get_root(q), "/OutputIntents");
	assert_int_equal(qpdf_oh_get_array_n_items(q, oi), 1);
	oi = qpdf_oh_get_array_item(q, oi, 0);
	assert_true(qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, oi, "/S"),
	    "/GTS_PDFX"));
	assert_true(qpdf_oh_is_string(q, qpdf_oh_get_key(q, oi,
	    "/OutputConditionIdentifier")));
	prof = qpdf_oh_get_key(q, oi, "/DestOutputProfile");
	assert_true(qpdf_oh_is_stream(q, prof));
	assert_int_equal(qpdf_oh_get_int_value(q, qpdf_oh_get_key(q,
	    qpdf_oh_get_dict(q, prof), "/N")), 4);
	assert_int_equal(qpdf_oh_get_stream_data(q, prof, qpdf_dl_generalized,
	    NULL, &data, &len) & QPDF_ERRORS, 0);
	iccd = th_read_file(icc, &iccn);
	assert_int_equal(len, iccn);
	assert_memory_equal(data, iccd, len);
	assert_true(qpdf_oh_has_key(q, qpdf_get_page_n(q, 0), "/TrimBox"));
	assert_no_transparency(q);
	free(data);
	free(iccd);
	qpdf_cleanup(&q);
	free(sub);
	free(ver);
	free(icc);
	free(cmyk);
}

/* The same input twice: the same bytes. */
static void
test_print_deterministic(void **state)
{
	fixture *fx = *state;
	char *a = render_pair(fx, "restroom-letter", "r1.pdf", "c1.pdf", NULL);
	char *b = render_pair(fx, "restroom-letter", "r2.pdf", "c2.pdf", NULL);

	assert_true(th_files_equal(a, b));
	free(a);
	free(b);
}

/*
 * A print run longer than one Ghostscript run of pages (50): the page
 * count and order survive the join; each page's text and code are its
 * row's; the combined file has the PDF/X marks.
 */
static void
test_print_run_order(void **state)
{
	fixture *fx = *state;
	char *csv = th_path(fx->dir, "rows.csv"), *out = th_path(fx->dir,
	    "run.pdf"), *pages, *sub;
	FILE *fp = fopen(csv, "w");
	static const int check[] = {1, 50, 51, 73};
	th_run r;

	assert_non_null(fp);
	fputs("code,name\n", fp);
	for (int i = 1; i <= 73; i++)
		fprintf(fp, "R%03d,Station number %d\n", i, i);
	fclose(fp);
	th_qrposter(&r, "batch", "-q", "-d", csv, "--print", "cmyk",
	    "--combine", out, NULL);
	if (r.status != 0)
		fail_msg("batch --print cmyk: %s", r.err);
	th_run_free(&r);
	pages = th_pdfinfo_field(out, "Pages");
	sub = th_pdfinfo_field(out, "PDF subtype");
	assert_string_equal(pages, "73");
	assert_string_equal(sub, "PDF/X-3:2002");
	for (size_t i = 0; i < sizeof check / sizeof check[0]; i++) {
		char pg[16], want[64];
		const char *argv[] = {"pdftotext", "-f", pg, "-l", pg, out, "-",
		    NULL};

		snprintf(pg, sizeof pg, "%d", check[i]);
		snprintf(want, sizeof want, "Station number %d \xC2\xB7 R%03d",
		    check[i], check[i]);
		th_run_argv(&r, argv, NULL);
		if (strstr(r.out, want) == NULL)
			fail_msg("page %d lacks '%s'", check[i], want);
		th_run_free(&r);
	}
	free(pages);
	free(sub);
	free(csv);
	free(out);
}

/* Errors: status, message, and no file left. */
typedef struct print_err {
	const char *name;
	const char *argv[16]; /* "@/x" = test dir */
	const char *env[3];
	int status;
	const char *msg;
} print_err;

static const print_err print_errs[] = {
	{"print: not a profile",
	    {"render", "-s", "code=A", "-s", "name=B", "--print", "cmyk",
	    "--icc", "@/pt.yaml", "-o", "@/p.pdf"}, {NULL}, 2,
	    "pt.yaml' is not an ICC profile"},
	{"print: an RGB profile",
	    {"render", "-s", "code=A", "-s", "name=B", "--print", "cmyk",
	    "--icc", "@/srgb.icc", "-o", "@/p.pdf"}, {NULL}, 2,
	    "is for 'RGB ' data, not CMYK"},
	{"print: a PNG",
	    {"render", "-s", "code=A", "-s", "name=B", "--print", "cmyk",
	    "-o", "@/p.png"}, {NULL}, 2, "the print file is a PDF"},
	{"print: unknown mode",
	    {"render", "-s", "code=A", "-s", "name=B", "--print", "rgb",
	    "-o", "@/p.pdf"}, {NULL}, 2, "the one print mode is 'cmyk'"},
	{"print: --icc alone",
	    {"render", "-s", "code=A", "-s", "name=B", "--icc", "@/srgb.icc",
	    "-o", "@/p.pdf"}, {NULL}, 2, "--icc: goes with --print cmyk"},
	{"print: transparency",
	    {"render", "-t", "@/alpha.yaml", "--print", "cmyk", "-o",
	    "@/p.pdf"}, {NULL}, 1, "block 'veil': a colour with an opacity of "
	    "50% cannot go in a CMYK print file"},
	{"print: no Ghostscript",
	    {"render", "-s", "code=A", "-s", "name=B", "--print", "cmyk",
	    "-o", "@/p.pdf"}, {"PATH=/nonexistent", NULL}, 2,
	    "Ghostscript ('gs') is not installed"},
	{"print: batch PNG pattern",
	    {"batch", "-q", "-d", STATIONS, "--print", "cmyk", "-o",
	    "@/{{code}}.png"}, {NULL}, 2, "print files are PDFs"},
};

static void
test_print_error(void **state)
{
	fixture *fx = *state;
	const print_err *c = fx->row;
	const char *argv[MAX_ARGV + 1];
	char *owned[MAX_ARGV];
	static const char alpha[] = "page: {size: letter}\nblocks:\n"
	    "  - {type: rect, id: veil, box: {x: 0, y: 0, w: 50%, h: 50%}, "
	    "fill: \"#FF000080\"}\n";
	char *p = th_path(fx->dir, "alpha.yaml"), *icc = gs_default_cmyk();
	const char *allowed[] = {"alpha.yaml", "pt.yaml", "srgb.icc", NULL};
	th_run r;

	assert_true(th_write_file(p, alpha, strlen(alpha)));
	free(p);
	p = th_path(fx->dir, "pt.yaml");
	assert_true(th_write_file(p, print_tpl, strlen(print_tpl)));
	free(p);
	/* Ghostscript's sRGB profile, beside its CMYK one. */
	{
		char *srgb = strdup(icc), *slash = strrchr(srgb, '/');
		size_t n;
		char *d;

		strcpy(slash + 1, "srgb.icc");
		d = th_read_file(srgb, &n);
		assert_non_null(d);
		p = th_path(fx->dir, "srgb.icc");
		assert_true(th_write_file(p, d, n));
		free(p);
		free(d);
		free(srgb);
	}
	argv[0] = th_bin();
	expand(fx, c->argv, argv + 1, owned);
	th_run_argv(&r, argv, c->env[0] ? c->env : NULL);
	if (r.status != c->status || strstr(r.err, c->msg) == NULL)
		fail_msg("%s: status %d (want %d): %s", c->name, r.status,
		    c->status, r.err);
	th_run_free(&r);
	/* Nothing written, no temporary left. */
	assert_true(th_dir_only(fx->dir, allowed, NULL, 0));
	free_owned(owned);
	free(icc);
}

/* ---- cmyk() colours, in-process ------------------------------------------ */

typedef struct cmyk_case {
	const char *name;
	const char *in;
	bool ok;
	double c, m, y, k;
	const char *msg; /* for a bad one */
} cmyk_case;

static const cmyk_case cmyk_cases[] = {
	{"cmyk: plain", "cmyk(100, 60, 5, 10)", true, 1, .6, .05, .1, NULL},
	{"cmyk: percent signs", "cmyk(0%,0%,0%,100%)", true, 0, 0, 0, 1, NULL},
	{"cmyk: decimals", "cmyk(12.5, 0, 0, 0)", true, .125, 0, 0, 0, NULL},
	{"cmyk: over 100", "cmyk(101, 0, 0, 0)", false, 0, 0, 0, 0,
	    "is a number from 0 to 100"},
	{"cmyk: three inks", "cmyk(1, 2, 3)", false, 0, 0, 0, 0,
	    "four inks in percent"},
	{"cmyk: five inks", "cmyk(1, 2, 3, 4, 5)", false, 0, 0, 0, 0,
	    "four inks in percent"},
	{"cmyk: not a number", "cmyk(a, 0, 0, 0)", false, 0, 0, 0, 0,
	    "is a number from 0 to 100"},
	{"cmyk: comma decimal", "cmyk(1,5, 0, 0, 0)", false, 0, 0, 0, 0,
	    "four inks in percent"},
	{"cmyk: trailing junk", "cmyk(1, 2, 3, 4) x", false, 0, 0, 0, 0,
	    "nothing may follow"},
};

static void
test_cmyk_parse(void **state)
{
	const cmyk_case *c = *state;
	qp_color col;
	qp_error err = {0};
	bool ok = qp_parse_color(c->in, &col, &err);

	if (ok != c->ok)
		fail_msg("'%s': %s", c->in, ok ? "accepted" : err.msg);
	if (!ok) {
		assert_non_null(strstr(err.msg, c->msg));
		return;
	}
	assert_true(col.cmyk);
	assert_float_equal(col.c, c->c, 1e-9);
	assert_float_equal(col.m, c->m, 1e-9);
	assert_float_equal(col.y, c->y, 1e-9);
	assert_float_equal(col.k, c->k, 1e-9);
	/* The screen colour: the complement of each ink and the black. */
	assert_float_equal(col.r, (1 - c->c) * (1 - c->k), 1e-9);
	assert_float_equal(col.g, (1 - c->m) * (1 - c->k), 1e-9);
	assert_float_equal(col.b, (1 - c->y) * (1 - c->k), 1e-9);
	assert_float_equal(col.a, 1, 1e-9);
}

#define ROW(fn, c) {(c).name, fn, th_fixture_setup, th_fixture_teardown, (void *)&(c)}
#define PLAIN(fn) cmocka_unit_test_setup_teardown(fn, th_fixture_setup, th_fixture_teardown)
#define NVALID (sizeof valid_cases / sizeof valid_cases[0])
#define NECC (sizeof ecc_cases / sizeof ecc_cases[0])
#define NPERR (sizeof print_errs / sizeof print_errs[0])
#define NCMYK (sizeof cmyk_cases / sizeof cmyk_cases[0])

static const char *const bundled[][2] = {
	{"print: QR box in K only (restroom-letter)", "restroom-letter"},
	{"print: QR box in K only (station-tabloid)", "station-tabloid"},
};

int
main(void)
{
	struct CMUnitTest tests[NVALID + NECC + NPERR + NCMYK + 16];
	size_t n = 0;

	for (size_t i = 0; i < NVALID; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_valid, valid_cases[i]);
	tests[n++] = (struct CMUnitTest)PLAIN(test_qr_link);
	for (size_t i = 0; i < NECC; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_ecc_auto, ecc_cases[i]);
	tests[n++] = (struct CMUnitTest)PLAIN(test_ecc_auto_template);
	for (size_t i = 0; i < NCMYK; i++)
		tests[n++] = (struct CMUnitTest){cmyk_cases[i].name,
		    test_cmyk_parse, NULL, NULL, (void *)&cmyk_cases[i]};
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_inks);
	for (size_t i = 0; i < 2; i++)
		tests[n++] = (struct CMUnitTest){bundled[i][0],
		    test_print_bundled_qr, th_fixture_setup, th_fixture_teardown,
		    (void *)bundled[i][1]};
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_text_fonts_qr);
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_boxes);
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_pdfx_marks);
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_deterministic);
	tests[n++] = (struct CMUnitTest)PLAIN(test_print_run_order);
	for (size_t i = 0; i < NPERR; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_print_error,
		    print_errs[i]);
	return _cmocka_run_group_tests("print", tests, n, NULL, NULL);
}
