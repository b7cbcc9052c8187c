/*
 * test_image.c - image blocks: a picture's place for each fit and
 * alignment (read back from the rendered PNG's pixels), SVG kept as
 * vectors (pdfimages, the SVG output), one copy of a picture in a
 * combined PDF, the effective resolution at print size (check), files
 * that are missing, mislabelled or too big (errors at the template's
 * line and column), paths relative to the template, opacity, and
 * pictures in CMYK print files. Logos in QR codes: decoded by libzbar and
 * by ZXing after a simulated phone photo (scaled, turned, blurred and
 * grained with Cairo), the level H by default and read back, the modules
 * under a logo cleared, a level too weak for the logo refused with the
 * numbers, and a code that does not scan refused before it is written.
 *
 * Pictures are made here with Cairo (PNG) and gdk-pixbuf (JPEG), so each
 * test knows exactly what the file holds.
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
#include <sys/stat.h>

#include <cmocka.h>

#include <cairo.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <png.h>

#include "helpers.h"
#include "layout.h"
#include "qr.h"
#include "verify.h"

/* A test's table row (or NULL) and its fresh directory. */
typedef th_fixture fixture;

/* A w x h PNG: the left half red, the right half blue; with alpha, a
 * transparent frame of `clear` pixels and soft edges inside it. */
static char *
make_png(const char *dir, const char *name, int w, int h, int clear)
{
	char *p = th_path(dir, name);
	cairo_surface_t *s = cairo_image_surface_create(clear ?
	    CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);

	cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
	cairo_set_source_rgba(cr, 0, 0, 0, 0);
	cairo_paint(cr);
	cairo_rectangle(cr, clear, clear, w / 2.0 - clear, h - 2 * clear);
	cairo_set_source_rgb(cr, 1, 0, 0);
	cairo_fill(cr);
	cairo_rectangle(cr, w / 2.0, clear, w / 2.0 - clear, h - 2 * clear);
	cairo_set_source_rgb(cr, 0, 0, 1);
	cairo_fill(cr);
	cairo_destroy(cr);
	assert_int_equal(cairo_surface_write_to_png(s, p), CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return p;
}

static char *
write_tpl(const char *dir, const char *name, const char *blocks)
{
	char *p = th_path(dir, name);
	char *t = malloc(strlen(blocks) + 256);

	assert_non_null(t);
	sprintf(t, "page: {size: letter, background: \"#FFFFFF\"}\n"
	    "blocks:\n%s", blocks);
	assert_true(th_write_file(p, t, strlen(t)));
	free(t);
	return p;
}

/* The pixel at (x, y) inches of a PNG rendered at dpi, as 0xRRGGBB. */
static unsigned
pixel_at(const char *png, int dpi, double xin, double yin)
{
	png_image img;
	unsigned char *px;
	unsigned v;
	size_t x = (size_t)(xin * dpi), y = (size_t)(yin * dpi);

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, png));
	img.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(px);
	assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
	assert_true(x < img.width && y < img.height);
	v = (unsigned)px[(y * img.width + x) * 3] << 16 |
	    (unsigned)px[(y * img.width + x) * 3 + 1] << 8 |
	    px[(y * img.width + x) * 3 + 2];
	free(px);
	return v;
}

/* ---- where the picture goes ------------------------------------------ */

/*
 * Each row: the picture (w x h pixels), the block's fit and alignment,
 * and points (inches on the page) with the colour expected there. The
 * box is always 4x4in at (1in, 1in); the expected places come from the
 * definitions: contain scales by min(4/w, 4/h), cover by the max and
 * clips to the box, stretch fills it.
 */
typedef struct fit_case {
	const char *name;
	int w, h;
	const char *keys;
	struct {
		double x, y;
		unsigned rgb;
	} at[6];
} fit_case;

#define RED 0xFF0000u
#define BLUE 0x0000FFu
#define WHITE 0xFFFFFFu

static const fit_case fit_cases[] = {
	/* 2:1 picture, contain: 4x2in, centred: y 2..4in */
	{"image: contain, centred", 2000, 1000, "fit: contain",
	    {{1.5, 3, RED}, {4.5, 3, BLUE}, {3, 1.5, WHITE}, {3, 4.5, WHITE},
	    {0.5, 3, WHITE}, {-1, 0, 0}}},
	/* contain, valign top: y 1..3in */
	{"image: contain, top", 2000, 1000, "fit: contain, valign: top",
	    {{1.5, 1.5, RED}, {4.5, 2.5, BLUE}, {3, 3.5, WHITE}, {-1, 0, 0}}},
	/* 1:2 picture, contain, align right: 2x4in at x 3..5in */
	{"image: contain, right", 1000, 2000, "fit: contain, align: right",
	    {{3.4, 3, RED}, {4.6, 3, BLUE}, {2, 3, WHITE}, {-1, 0, 0}}},
	/* cover: 8x4in centred on the box, x -1..7in, clipped to 1..5 */
	{"image: cover", 3000, 1500, "fit: cover",
	    {{1.2, 1.2, RED}, {2.8, 4.8, RED}, {3.2, 1.2, BLUE},
	    {4.8, 4.8, BLUE}, {5.3, 3, WHITE}, {0.7, 3, WHITE}}},
	/* stretch: the whole box, red on the left half */
	{"image: stretch", 2000, 1000, "fit: stretch",
	    {{1.2, 1.2, RED}, {2.8, 4.8, RED}, {3.2, 1.2, BLUE},
	    {4.8, 4.8, BLUE}, {3, 5.3, WHITE}, {-1, 0, 0}}},
};

static void
test_fit(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	const fit_case *c = fx->row;
	char blocks[512], *png, *tpl, *out = th_path(dir, "p.png");
	th_run r;

	png = make_png(dir, "pic.png", c->w, c->h, 0);
	snprintf(blocks, sizeof blocks, "  - {type: image, id: pic, box: {x: "
	    "1in, y: 1in, w: 4in, h: 4in}, file: pic.png, %s}\n", c->keys);
	tpl = write_tpl(dir, "t.yaml", blocks);
	th_qrposter(&r, "render", "-t", tpl, "--dpi", "50", "-o", out, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	for (size_t k = 0; k < 6 && c->at[k].x >= 0; k++) {
		unsigned got = pixel_at(out, 50, c->at[k].x, c->at[k].y);
		if (got != c->at[k].rgb)
			fail_msg("at (%.1fin, %.1fin): #%06X, want #%06X",
			    c->at[k].x, c->at[k].y, got, c->at[k].rgb);
	}
	free(png);
	free(tpl);
	free(out);
}

/* ---- SVG as vectors, one copy of a picture ---------------------------- */

/* Lines of `pdfimages -list` that are images (not stencil masks). */
static int
pdf_images(const char *pdf, char ids[][16], int max)
{
	const char *argv[] = {"pdfimages", "-list", pdf, NULL};
	th_run r;
	int n = 0, line = 0;

	th_run_argv(&r, argv, NULL);
	for (char *l = r.out; l && *l; line++) {
		char *nl = strchr(l, '\n');
		char type[32], id[16];
		int pg, num, w, h;

		if (nl)
			*nl = '\0';
		if (line >= 2 && sscanf(l, "%d %d %31s %d %d %*s %*s %*s %*s "
		    "%*s %15s", &pg, &num, type, &w, &h, id) == 6 &&
		    strcmp(type, "image") == 0) {
			if (n < max)
				snprintf(ids[n], 16, "%s", id);
			n++;
		}
		l = nl ? nl + 1 : NULL;
	}
	th_run_free(&r);
	return n;
}

/* The bundled agency template's logo is SVG: no raster image in the PDF
 * (only the QR code's stencil), none in the SVG output, and the logo's
 * navy is where the box is. */
static void
test_svg_vectors(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *pdf = th_path(dir, "a.pdf"), *svg = th_path(dir, "a.svg");
	char *png = th_path(dir, "a.png"), ids[4][16], *s;
	th_run r;

	th_qrposter(&r, "render", "-t", "agency-letter", "-s", "code=A1", "-s",
	    "name=Penn", "-o", pdf, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(pdf_images(pdf, ids, 4), 0);
	th_qrposter(&r, "render", "-t", "agency-letter", "-s", "code=A1", "-s",
	    "name=Penn", "-o", svg, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	s = th_read_file(svg, NULL);
	assert_non_null(s);
	assert_null(strstr(s, "<image"));
	free(s);
	th_qrposter(&r, "render", "-t", "agency-letter", "-s", "code=A1", "-s",
	    "name=Penn", "--dpi", "100", "-o", png, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* The logo's white tile, inside its frame (0.35in + 20/120 of 1.5in). */
	assert_int_equal(pixel_at(png, 100, 0.6, 0.6), WHITE);
	/* The train in the logo: navy #0B3D91 at the middle of its body. */
	assert_int_equal(pixel_at(png, 100, 0.35 + 1.5 * 60 / 120,
	    0.35 + 1.5 * 64 / 120), 0x0B3D91u);
	free(pdf);
	free(svg);
	free(png);
}

/* A print run of every sample row with a PNG logo: one image object,
 * shown on every page. */
static void
test_embedded_once(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *png = make_png(dir, "logo.png", 600, 600, 0);
	char *tpl, *out = th_path(dir, "run.pdf"), ids[64][16];
	int n;
	th_run r;

	tpl = write_tpl(dir, "t.yaml", "  - {type: image, id: logo, box: {x: "
	    "1in, y: 1in, w: 2in, h: 2in}, file: logo.png}\n"
	    "  - {type: text, id: name, box: {x: 1in, y: 4in, w: 6in, h: 1in}, "
	    "text: \"{{name}}\"}\n");
	{
		/* The template needs its variables declared. */
		char *t = th_read_file(tpl, NULL), *n2;
		n2 = malloc(strlen(t) + 64);
		assert_non_null(n2);
		sprintf(n2, "variables:\n  name: {description: n}\n  code: "
		    "{description: c}\n%s", t);
		assert_true(th_write_file(tpl, n2, strlen(n2)));
		free(t);
		free(n2);
	}
	th_qrposter(&r, "batch", "-q", "-t", tpl, "-d",
	    "templates/samples/stations.csv", "--combine", out, NULL);
	if (r.status != 0)
		fail_msg("batch: %s", r.err);
	th_run_free(&r);
	n = pdf_images(out, ids, 64);
	{
		char *pages = th_pdfinfo_field(out, "Pages");
		assert_non_null(pages);
		assert_int_equal(n, atoi(pages));
		assert_true(n > 40);
		free(pages);
	}
	for (int i = 1; i < n && i < 64; i++)
		assert_string_equal(ids[i], ids[0]);
	free(png);
	free(tpl);
	free(out);
}

/* ---- resolution at print size ----------------------------------------- */

typedef struct ppi_case {
	const char *name;
	int px;           /* a px x px picture */
	const char *side; /* in a square box this wide */
	int status;       /* of qrposter check */
	const char *msg;  /* in its output, or NULL for none */
} ppi_case;

static const ppi_case ppi_cases[] = {
	{"image: 100 ppi is an error", 100, "1in", 1,
	    "prints at 100 ppi (100x100 pixels over 1.00x1.00in), below the "
	    "150 ppi"},
	{"image: 200 ppi is a warning", 100, "0.5in", 0,
	    "prints at 200 ppi (100x100 pixels over 0.50x0.50in); 300 ppi"},
	{"image: 400 ppi is fine", 400, "1in", 0, NULL},
};

static void
test_ppi(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	const ppi_case *c = fx->row;
	char blocks[256], *png, *tpl;
	th_run r;

	png = make_png(dir, "pic.png", c->px, c->px, 0);
	snprintf(blocks, sizeof blocks, "  - {type: image, id: pic, box: {x: "
	    "1in, y: 1in, w: %s, h: %s}, file: pic.png}\n", c->side, c->side);
	tpl = write_tpl(dir, "t.yaml", blocks);
	th_qrposter(&r, "check", "-t", tpl, NULL);
	if (r.status != c->status)
		fail_msg("check: status %d, want %d: %s%s", r.status, c->status,
		    r.out, r.err);
	if (c->msg && strstr(r.out, c->msg) == NULL && strstr(r.err,
	    c->msg) == NULL)
		fail_msg("no '%s' in: %s%s", c->msg, r.out, r.err);
	if (c->msg == NULL && (strstr(r.out, "ppi") || strstr(r.err, "ppi")))
		fail_msg("unexpected: %s%s", r.out, r.err);
	th_run_free(&r);
	free(png);
	free(tpl);
}

/* ---- files that are not what they should be ---------------------------- */

typedef struct file_case {
	const char *name;
	const char *file;    /* what the block names */
	const char *content; /* written there, or NULL: a PNG, or nothing */
	size_t len;
	const char *msg;
} file_case;

/* A PNG signature and an IHDR claiming 10000x10000 pixels. */
static const char big_png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"
    "\0\0\x27\x10\0\0\x27\x10\x08\x06\0\0\0";

/* A PNG cut off after its header: 16x16 pixels, no image data. */
static const char cut_png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"
    "\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\0\0\0\0";

static const file_case file_cases[] = {
	{"image: missing file", "gone.png", NULL, 0,
	    "block 'pic': cannot read the image"},
	{"image: text named .png", "fake.png", "hello\n", 6,
	    "fake.png' is not a PNG image"},
	{"image: a JPEG named .png", "photo.png", "\xFF\xD8\xFF\xE0\0\x10JFIF",
	    10, "is a JPEG image, not PNG"},
	{"image: too many pixels", "huge.png", big_png, sizeof big_png - 1,
	    "is 10000x10000 pixels (100 megapixels); the limit is 50"},
	{"image: not an SVG", "bad.svg", "<svg", 4,
	    "is not an SVG image librsvg can read"},
	{"image: unknown kind", "pic.gif", "GIF89a", 6,
	    "must be .png, .jpg or .svg"},
	{"image: damaged PNG", "cut.png", cut_png, sizeof cut_png - 1,
	    "does not decode as PNG"},
};

static void
test_bad_file(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	const file_case *c = fx->row;
	char blocks[256], *tpl, *f;
	th_run r;

	f = th_path(dir, c->file);
	if (c->content)
		assert_true(th_write_file(f, c->content, c->len));
	snprintf(blocks, sizeof blocks, "  - {type: image, id: pic, box: {x: "
	    "1in, y: 1in, w: 2in, h: 2in}, file: %s}\n", c->file);
	tpl = write_tpl(dir, "t.yaml", blocks);
	th_qrposter(&r, "check", "-t", tpl, NULL);
	if (r.status == 0 || (strstr(r.err, c->msg) == NULL &&
	    strstr(r.out, c->msg) == NULL))
		fail_msg("check: status %d: %s%s", r.status, r.out, r.err);
	/* At the file's own line and column: line 3 of the template, the
	 * column where the block's file name starts. */
	{
		char where[64];
		snprintf(where, sizeof where, "t.yaml:3:%d: block 'pic': ",
		    (int)(strstr(blocks, "file: ") - blocks) + 7);
		if (strstr(r.err, where) == NULL)
			fail_msg("no '%s' in: %s", where, r.err);
	}
	th_run_free(&r);
	free(tpl);
	free(f);
}

/* ---- the rest ----------------------------------------------------------- */

/* A template elsewhere finds its picture beside it, from any folder. */
static void
test_relative_path(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *sub = th_path(dir, "agency"), *img = th_path(sub, "img");
	char *png, *tpl, *out = th_path(dir, "p.png");
	th_run r;

	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(mkdir(img, 0777), 0);
	png = make_png(img, "logo.png", 300, 300, 0);
	tpl = write_tpl(sub, "t.yaml", "  - {type: image, box: {x: 1in, y: "
	    "1in, w: 1in, h: 1in}, file: img/logo.png}\n");
	th_qrposter(&r, "render", "-t", tpl, "--dpi", "50", "-o", out, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	assert_int_equal(pixel_at(out, 50, 1.2, 1.5), RED);
	free(sub);
	free(img);
	free(png);
	free(tpl);
	free(out);
}

/* A JPEG (made with gdk-pixbuf) is read and drawn. */
static void
test_jpeg(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *jpg = th_path(dir, "photo.jpg"), *out = th_path(dir, "p.png");
	char *tpl;
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 64, 64);
	GError *ge = NULL;
	th_run r;

	gdk_pixbuf_fill(pb, 0x00FF00FFu);
	assert_true(gdk_pixbuf_save(pb, jpg, "jpeg", &ge, "quality", "100",
	    NULL));
	g_object_unref(pb);
	tpl = write_tpl(dir, "t.yaml", "  - {type: image, box: {x: 1in, y: "
	    "1in, w: 0.2in, h: 0.2in}, file: photo.jpg}\n");
	th_qrposter(&r, "render", "-t", tpl, "--dpi", "100", "-o", out, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	{
		unsigned v = pixel_at(out, 100, 1.1, 1.1);
		/* JPEG is lossy: nearly pure green. */
		assert_true((v >> 16) < 8 && ((v >> 8) & 0xFF) > 247 &&
		    (v & 0xFF) < 8);
	}
	free(jpg);
	free(out);
	free(tpl);
}

/* Opacity: drawn see-through on screen; refused in a print file. */
static void
test_opacity(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *png = make_png(dir, "pic.png", 400, 400, 0), *tpl;
	char *out = th_path(dir, "p.png"), *pdf = th_path(dir, "p.pdf");
	th_run r;

	tpl = write_tpl(dir, "t.yaml", "  - {type: image, id: faded, box: {x: "
	    "1in, y: 1in, w: 1in, h: 1in}, file: pic.png, opacity: 0.5}\n");
	th_qrposter(&r, "render", "-t", tpl, "--dpi", "50", "-o", out, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* Half red over white: #FF8080 (within rounding). */
	{
		unsigned v = pixel_at(out, 50, 1.2, 1.5);
		assert_int_equal(v >> 16, 0xFF);
		assert_true(((v >> 8) & 0xFF) >= 0x7E &&
		    ((v >> 8) & 0xFF) <= 0x81);
	}
	th_qrposter(&r, "render", "-t", tpl, "--print", "cmyk", "-o", pdf,
	    NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "block 'faded': an opacity of 50% "
	    "cannot go in a CMYK print file"));
	th_run_free(&r);
	assert_false(th_exists(pdf));
	free(png);
	free(tpl);
	free(out);
	free(pdf);
}

/* A PNG with transparent edges: on white paper it prints (flattened, no
 * transparency left: Ghostscript's PDF/X checks pass); over a coloured
 * band it is refused. */
static void
test_print_alpha(void **state)
{
	const fixture *fx = *state;
	const char *dir = fx->dir;
	char *png = make_png(dir, "logo.png", 400, 400, 20), *tpl;
	char *pdf = th_path(dir, "p.pdf"), *sub;
	th_run r;

	tpl = write_tpl(dir, "t.yaml", "  - {type: image, id: logo, box: {x: "
	    "1in, y: 1in, w: 1in, h: 1in}, file: logo.png}\n");
	th_qrposter(&r, "render", "-t", tpl, "--print", "cmyk", "-o", pdf,
	    NULL);
	if (r.status != 0)
		fail_msg("render --print: %s", r.err);
	th_run_free(&r);
	sub = th_pdfinfo_field(pdf, "PDF subtype");
	assert_string_equal(sub, "PDF/X-3:2002");
	free(sub);
	free(tpl);
	tpl = write_tpl(dir, "t.yaml", "  - {type: rect, box: {x: 0, y: 0, w: "
	    "100%, h: 3in}, fill: \"cmyk(100, 60, 5, 10)\"}\n"
	    "  - {type: image, id: logo, box: {x: 1in, y: 1in, w: 1in, h: "
	    "1in}, file: logo.png}\n");
	th_qrposter(&r, "render", "-t", tpl, "--print", "cmyk", "-o", pdf,
	    NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "block 'logo': 'logo.png' has "
	    "transparent pixels over something that is not white paper"));
	th_run_free(&r);
	free(png);
	free(tpl);
	free(pdf);
}

/* ---- logos in QR codes ---------------------------------------------------- */

/*
 * A phone's photo of a PNG: a third of the size, turned 4 degrees, blurred
 * (drawn down and up again with bilinear filtering) and grained (a fixed
 * pseudo-random noise of +-24 levels), on a grey desk.
 */
static char *
phone_photo(const char *dir, const char *png)
{
	cairo_surface_t *src = cairo_image_surface_create_from_png(png), *a, *b;
	int w = cairo_image_surface_get_width(src);
	int h = cairo_image_surface_get_height(src);
	int sw = w / 3, sh = h / 3;
	cairo_t *cr;
	char *out = th_path(dir, "photo.png");
	uint32_t seed = 12345;

	assert_int_equal(cairo_surface_status(src), CAIRO_STATUS_SUCCESS);
	a = cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw, sh);
	cr = cairo_create(a);
	cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
	cairo_paint(cr);
	cairo_translate(cr, sw / 2.0, sh / 2.0);
	cairo_rotate(cr, 4 * 3.14159265 / 180);
	cairo_scale(cr, 0.9 / 3, 0.9 / 3);
	cairo_translate(cr, -w / 2.0, -h / 2.0);
	cairo_set_source_surface(cr, src, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
	cairo_paint(cr);
	cairo_destroy(cr);
	/* Blur: down to 60% and back up. */
	b = cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw * 6 / 10,
	    sh * 6 / 10);
	cr = cairo_create(b);
	cairo_scale(cr, 0.6, 0.6);
	cairo_set_source_surface(cr, a, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
	cairo_paint(cr);
	cairo_destroy(cr);
	cr = cairo_create(a);
	cairo_scale(cr, 1 / 0.6, 1 / 0.6);
	cairo_set_source_surface(cr, b, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_destroy(b);
	cairo_surface_flush(a);
	{
		unsigned char *d = cairo_image_surface_get_data(a);
		int stride = cairo_image_surface_get_stride(a);

		for (int y = 0; y < sh; y++) {
			uint32_t *row = (uint32_t *)(void *)(d + (size_t)y *
			    stride);
			for (int x = 0; x < sw; x++) {
				int n, c[3];
				seed = seed * 1103515245u + 12345u;
				n = (int)((seed >> 16) % 49) - 24;
				for (int k = 0; k < 3; k++) {
					c[k] = (int)((row[x] >> (16 - 8 * k)) &
					    0xff) + n;
					c[k] = c[k] < 0 ? 0 : c[k] > 255 ? 255 :
					    c[k];
				}
				row[x] = (uint32_t)c[0] << 16 |
				    (uint32_t)c[1] << 8 | (uint32_t)c[2];
			}
		}
	}
	cairo_surface_mark_dirty(a);
	assert_int_equal(cairo_surface_write_to_png(a, out),
	    CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(a);
	cairo_surface_destroy(src);
	return out;
}

/* What ZXingReader reads in png ("" if nothing), and its EC level. */
static void
zxing(const char *png, char *text, size_t n, char *level)
{
	const char *argv[] = {"ZXingReader", png, NULL};
	th_run r;
	char *p;

	text[0] = '\0';
	*level = 0;
	th_run_argv(&r, argv, NULL);
	if ((p = strstr(r.out, "Text:")) != NULL) {
		char *q = strchr(p, '"'), *e = q ? strrchr(q + 1, '"') : NULL;
		char *nl = q ? strchr(q, '\n') : NULL;
		if (q && e && (!nl || e < nl))
			snprintf(text, n, "%.*s", (int)(e - q - 1), q + 1);
	}
	if ((p = strstr(r.out, "EC Level:")) != NULL) {
		p += 9;
		while (*p == ' ')
			p++;
		*level = *p;
	}
	th_run_free(&r);
}

typedef struct logo_case {
	const char *name;
	const char *tmpl;
	const char *code;
	char level;
} logo_case;

static const logo_case logo_cases[] = {
	{"logo: restroom code, after a phone photo", "logo-qr-letter",
	    "NYP-R1", 'H'},
	{"logo: a longer location code, after a phone photo",
	    "logo-qr-letter", "WAS-UNION-C2-R12", 'H'},
};

/* The bundled logo template: zbar and ZXing both read the exact link
 * from a phone photo of the rendered poster; the level is H. */
static void
test_logo_photo(void **state)
{
	const fixture *fx = *state;
	const logo_case *c = fx->row;
	char *png = th_path(fx->dir, "p.png"), *photo, code[128], want[256];
	char text[512], level, **codes;
	th_run r;

	snprintf(code, sizeof code, "code=%s", c->code);
	snprintf(want, sizeof want, "https://humantraffickinghotline.org/"
	    "?loc=%s", c->code);
	th_qrposter(&r, "render", "-t", c->tmpl, "-s", code, "-s",
	    "name=Test Station", "--dpi", "200", "-o", png, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	photo = phone_photo(fx->dir, png);
	codes = th_png_decode_qr(photo);
	if (th_strv_len(codes) != 1 || strcmp(codes[0], want) != 0)
		fail_msg("zbar read %zu codes, first '%s'", th_strv_len(codes),
		    codes && codes[0] ? codes[0] : "");
	th_strv_free(codes);
	zxing(photo, text, sizeof text, &level);
	assert_string_equal(text, want);
	assert_int_equal(level, c->level);
	free(png);
	free(photo);
}

/* A logo template whose code blocks says how the logo is set. */
static char *
logo_tpl_data(const char *dir, const char *logo, const char *extra,
    const char *data)
{
	char blocks[768];

	snprintf(blocks, sizeof blocks, "  - {type: qr, id: qr, box: {x: 1in, "
	    "y: 1in, w: 4in}, data: \"%s\", logo: %s%s}\n", data, logo,
	    extra);
	return write_tpl(dir, "t.yaml", blocks);
}

static char *
logo_tpl(const char *dir, const char *logo, const char *extra)
{
	return logo_tpl_data(dir, logo, extra,
	    "https://example.org/r?loc=ABC-123");
}

/* Under a fully transparent logo the modules are light: cleared, not
 * painted over; outside the logo's square there are dark modules. */
static void
test_logo_cleared(void **state)
{
	const fixture *fx = *state;
	char *png = th_path(fx->dir, "p.png"), *clear, *tpl;
	th_run r;
	int dark_in = 0, dark_near = 0;

	/* A fully transparent 300x300 PNG. */
	{
		cairo_surface_t *s = cairo_image_surface_create(
		    CAIRO_FORMAT_ARGB32, 300, 300);
		clear = th_path(fx->dir, "clear.png");
		assert_int_equal(cairo_surface_write_to_png(s, clear),
		    CAIRO_STATUS_SUCCESS);
		cairo_surface_destroy(s);
	}
	tpl = logo_tpl(fx->dir, "clear.png", ", logo_size: 0.25");
	th_qrposter(&r, "render", "-t", tpl, "--dpi", "100", "-o", png, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	/* The code is 4in wide at (1in, 1in): its centre at 3in. The
	 * logo's square, a quarter of the code (quiet zone excluded: less
	 * than a quarter of the box), holds no dark pixel; a ring just
	 * outside it holds many. */
	for (double y = 2.6; y <= 3.4; y += 0.02)
		for (double x = 2.6; x <= 3.4; x += 0.02)
			if (pixel_at(png, 100, x, y) != WHITE)
				dark_in++;
	for (double x = 1.5; x <= 4.5; x += 0.02)
		if (pixel_at(png, 100, x, 2.2) != WHITE)
			dark_near++;
	assert_int_equal(dark_in, 0);
	assert_true(dark_near > 20);
	free(png);
	free(clear);
	free(tpl);
}

typedef struct logo_err {
	const char *name;
	const char *extra; /* keys added to the qr block */
	const char *msg;
	const char *data;  /* the payload, or NULL for a short one */
} logo_err;

static const logo_err logo_errs[] = {
	{"logo: too big for M", ", ecc: M, logo_size: 0.3",
	    "error correction M restores 15% of a code and a logo may use "
	    "at most half of that (7.5%): make logo_size 0.", NULL},
	{"logo: too big even for H", ", logo_size: 0.44",
	    "error correction H restores 30% of a code", NULL},
	{"logo: logo_size is a fraction", ", logo_size: 20%",
	    "logo_size: '20%' is a fraction of the code's width", NULL},
	/* 106 bytes: version 10 at H (ISO/IEC 18004 table 7, 8-bit bytes
	 * at H: version 9 holds 98, version 10 119), which has an alignment
	 * pattern in its middle (as has every version from 7). */
	{"logo: a version 10 code", "", "this payload makes a version 10 code "
	    "at error correction H, which has an alignment pattern in the "
	    "middle", "https://example.org/report?location="
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqr"},
};

static void
test_logo_error(void **state)
{
	const fixture *fx = *state;
	const logo_err *c = fx->row;
	char *logo = make_png(fx->dir, "logo.png", 300, 300, 0);
	char *tpl = c->data ? logo_tpl_data(fx->dir, "logo.png", c->extra,
	    c->data) : logo_tpl(fx->dir, "logo.png", c->extra);
	th_run r;

	if (c->data)
		assert_int_equal(strlen(c->data), 106);
	th_qrposter(&r, "check", "-t", tpl, NULL);
	if (r.status == 0 || (strstr(r.err, c->msg) == NULL &&
	    strstr(r.out, c->msg) == NULL))
		fail_msg("check: status %d: %s%s", r.status, r.out, r.err);
	th_run_free(&r);
	free(logo);
	free(tpl);
}

/* The level stays the template's when it gives one (Q here), and the
 * code still reads. */
static void
test_logo_level_kept(void **state)
{
	const fixture *fx = *state;
	char *logo = make_png(fx->dir, "logo.png", 300, 300, 0);
	char *tpl = logo_tpl(fx->dir, "logo.png", ", ecc: Q, logo_size: 0.2");
	char *png = th_path(fx->dir, "p.png"), text[256], level;
	th_run r;

	th_qrposter(&r, "render", "-t", tpl, "--dpi", "100", "-o", png, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	zxing(png, text, sizeof text, &level);
	assert_string_equal(text, "https://example.org/r?loc=ABC-123");
	assert_int_equal(level, 'Q');
	free(logo);
	free(tpl);
	free(png);
}

/*
 * In-process: a page whose logo code does not carry what it claims (its
 * payload says one thing, its modules another) is refused by the check
 * every renderer runs before writing; the same page with the true
 * payload passes.
 */
static void
test_logo_refused(void **state)
{
	const fixture *fx = *state;
	char *logo = make_png(fx->dir, "logo.png", 300, 300, 0);
	char *tpl = logo_tpl(fx->dir, "logo.png", "");
	qp_error err;
	qp_template *t = qp_template_load(tpl, &err);
	qp_layout_ctx *ctx;
	qp_page *page;
	qp_item *qi = NULL;

	if (t == NULL)
		fail_msg("%s", err.msg);
	ctx = qp_layout_ctx_new();
	page = qp_layout_page(ctx, t, NULL, &err);
	if (page == NULL)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < page->nitems; i++)
		if (page->items[i].kind == QP_ITEM_QR)
			qi = &page->items[i];
	assert_non_null(qi);
	assert_non_null(qi->payload);
	assert_true(qp_verify_logos(page, &err));
	free(qi->payload);
	qi->payload = strdup("https://example.org/r?loc=SOMEWHERE-ELSE");
	assert_false(qp_verify_logos(page, &err));
	assert_non_null(strstr(err.msg, "a code with a logo must scan"));
	assert_non_null(strstr(err.msg, "expected 'https://example.org/r?loc="
	    "SOMEWHERE-ELSE'"));
	qp_page_free(page);
	qp_layout_ctx_free(ctx);
	qp_template_free(t);
	free(logo);
	free(tpl);
}

/* Logo codes in a print run, a CMYK print file and SVG all read back. */
static void
test_logo_everywhere(void **state)
{
	const fixture *fx = *state;
	char *run = th_path(fx->dir, "run.pdf"), *cmyk = th_path(fx->dir,
	    "c.pdf"), **codes;
	th_run r;

	th_qrposter(&r, "batch", "-q", "-t", "logo-qr-letter", "-d",
	    "templates/samples/stations.csv", "--combine", run, NULL);
	if (r.status != 0)
		fail_msg("batch: %s", r.err);
	th_run_free(&r);
	codes = th_pdf_decode_qr(run, 100);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0],
	    "https://humantraffickinghotline.org/?loc=NYP-R1");
	th_strv_free(codes);
	th_qrposter(&r, "render", "-t", "logo-qr-letter", "-s", "code=X-1",
	    "-s", "name=X", "--print", "cmyk", "-o", cmyk, NULL);
	if (r.status != 0)
		fail_msg("render --print: %s", r.err);
	th_run_free(&r);
	codes = th_pdf_decode_qr(cmyk, 150);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0],
	    "https://humantraffickinghotline.org/?loc=X-1");
	th_strv_free(codes);
	free(run);
	free(cmyk);
}

#define N(a) (sizeof a / sizeof a[0])

int
main(void)
{
	struct CMUnitTest tests[N(fit_cases) + N(ppi_cases) + N(file_cases) +
	    N(logo_cases) + N(logo_errs) + 16];
	size_t n = 0;

	for (size_t i = 0; i < N(fit_cases); i++)
		tests[n++] = (struct CMUnitTest){fit_cases[i].name, test_fit,
		    th_fixture_setup, th_fixture_teardown, (void *)&fit_cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_svg_vectors, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_embedded_once, th_fixture_setup, th_fixture_teardown);
	for (size_t i = 0; i < N(ppi_cases); i++)
		tests[n++] = (struct CMUnitTest){ppi_cases[i].name, test_ppi,
		    th_fixture_setup, th_fixture_teardown, (void *)&ppi_cases[i]};
	for (size_t i = 0; i < N(file_cases); i++)
		tests[n++] = (struct CMUnitTest){file_cases[i].name,
		    test_bad_file, th_fixture_setup, th_fixture_teardown, (void *)&file_cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_relative_path, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_jpeg, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_opacity, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_print_alpha, th_fixture_setup, th_fixture_teardown);
	for (size_t i = 0; i < N(logo_cases); i++)
		tests[n++] = (struct CMUnitTest){logo_cases[i].name,
		    test_logo_photo, th_fixture_setup, th_fixture_teardown, (void *)&logo_cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_logo_cleared, th_fixture_setup, th_fixture_teardown);
	for (size_t i = 0; i < N(logo_errs); i++)
		tests[n++] = (struct CMUnitTest){logo_errs[i].name,
		    test_logo_error, th_fixture_setup, th_fixture_teardown, (void *)&logo_errs[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_logo_level_kept, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_logo_refused, th_fixture_setup, th_fixture_teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
	    test_logo_everywhere, th_fixture_setup, th_fixture_teardown);
	return _cmocka_run_group_tests("image", tests, n, NULL, NULL);
}
