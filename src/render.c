/*
 * render.c - Cairo backends: the drawing of a page every backend shares,
 * PDF (vector, QR as a 1-bit image mask) and SVG (QR as one path); PNG
 * (an image surface written through libpng) is render_png.c.
 */
#include "render.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdfbox.h"
#include "render_int.h"
#include "print.h"
#include "image.h"
#include "verify.h"

/* Crop marks: a gap of 3pt beyond the bleed, then 18pt of line. */
#define MARK_GAP 3.0
#define MARK_LEN 18.0
#define MARK_AREA (MARK_GAP + MARK_LEN + 6.0)

bool
qp_format_from_path(const char *path, qp_format *fmt, qp_error *err)
{
	char ext[16];

	qp_path_ext(path, ext, sizeof ext);
	if (strcmp(ext, "pdf") == 0)
		*fmt = QP_FMT_PDF;
	else if (strcmp(ext, "png") == 0)
		*fmt = QP_FMT_PNG;
	else if (strcmp(ext, "svg") == 0)
		*fmt = QP_FMT_SVG;
	else if (ext[0] == '\0')
		return qp_fail(err, "output '%s' has no extension; use .pdf, "
		    ".png or .svg", path);
	else
		return qp_fail(err, "output '%s': unknown format '.%s' (use "
		    ".pdf, .png or .svg)", path, ext);
	return true;
}

/* cairo_write_func_t over a qp_outfile. */
static cairo_status_t
outfile_write(void *closure, const unsigned char *data, unsigned int len)
{
	return qp_outfile_write(closure, data, len) ? CAIRO_STATUS_SUCCESS :
	    CAIRO_STATUS_WRITE_ERROR;
}

static double
sheet_offset(const qp_render_opts *o)
{
	return o->bleed + (o->marks ? MARK_AREA : 0);
}

void
qp_sheet_size(const qp_page *page, const qp_render_opts *o, double *w,
    double *h)
{
	double off = sheet_offset(o);

	*w = page->w + 2 * off;
	*h = page->h + 2 * off;
}

/*
 * Link annotations, collected while drawing and written by pdfbox.c
 * (Cairo 1.16's link tags write damaged files: see pdfbox.h).
 */
typedef struct link_list {
	qp_pdf_link *v;
	size_t n, cap;
} link_list;

/*
 * Pictures of one document: each file's Cairo surface (a recording of
 * the vectors for SVG) made once, so a combined PDF embeds it once.
 */
typedef struct img_cache {
	const qp_image *img;
	cairo_surface_t *s;
} img_cache;

typedef struct img_caches {
	img_cache *v;
	size_t n;
} img_caches;

/* What drawing a page keeps besides the drawing. */
typedef struct draw_ctx {
	struct text_caches *tc; /* repeated text as Form XObjects, or NULL */
	link_list *links;       /* NULL: no links (PNG, SVG, previews) */
	size_t page;            /* the page index links are for */
	qp_inks *inks;          /* print: cmyk() colours drawn as codes */
	img_caches *ic;         /* NULL: pictures made afresh each time */
	qp_error *err;          /* where a failed picture says why */
	bool failed;
} draw_ctx;

static void draw_qr_logo(cairo_t *cr, const qp_item *it, draw_ctx *dc);

static void
set_color(cairo_t *cr, qp_color c, const draw_ctx *dc)
{
	if (dc && dc->inks && c.cmyk) {
		/* A print file: a code print.c turns back into the inks. */
		double rgb[3];

		qp_inks_code(dc->inks, &c, rgb);
		c.r = rgb[0];
		c.g = rgb[1];
		c.b = rgb[2];
	}
	if (c.a >= 1)
		cairo_set_source_rgb(cr, c.r, c.g, c.b);
	else
		cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a);
}

/* A URI as PDF wants it in a /URI action: 7-bit ASCII, other bytes
 * percent-encoded (RFC 3987's IRI-to-URI mapping); the PDF string
 * escapes are qpdf's job. */
static char *
uri_ascii(const char *uri)
{
	qp_buf b;

	qp_buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			qp_buf_printf(&b, "%%%02X", *p);
		else
			qp_buf_addc(&b, (char)*p);
	}
	return qp_buf_steal(&b);
}

/* Record a link over the user-space box (x, y, w, h) on the current page. */
static void
add_link(cairo_t *cr, draw_ctx *dc, const char *uri, double x, double y,
    double w, double h)
{
	double x0 = x, y0 = y, x1 = x + w, y1 = y + h;
	qp_pdf_link *l;

	cairo_user_to_device(cr, &x0, &y0);
	cairo_user_to_device(cr, &x1, &y1);
	dc->links->v = qp_grow(dc->links->v, &dc->links->cap, dc->links->n + 1,
	    sizeof *dc->links->v);
	l = &dc->links->v[dc->links->n++];
	l->page = dc->page;
	l->x0 = fmin(x0, x1);
	l->x1 = fmax(x0, x1);
	l->y0 = fmin(y0, y1);
	l->y1 = fmax(y0, y1);
	l->uri = uri_ascii(uri);
}

static void
link_list_free(link_list *ll)
{
	qp_pdf_links_free(ll->v, ll->n);
	ll->v = NULL;
	ll->n = ll->cap = 0;
}

/* The dark modules as a 1-bit Cairo mask, one pixel per module. */
static cairo_surface_t *
qr_mask_surface(const qp_qr *qr)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A1,
	    qr->width, qr->width);
	unsigned char *data;
	int stride;

	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	memset(data, 0, (size_t)stride * (size_t)qr->width);
	for (int y = 0; y < qr->width; y++) {
		uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * stride);
		for (int x = 0; x < qr->width; x++) {
			if (!qr->dark[y * qr->width + x])
				continue;
			/* A1 pixels are bits of native-endian 32-bit words. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			row[x >> 5] |= 0x80000000u >> (x & 31);
#else
			row[x >> 5] |= 1u << (x & 31);
#endif
		}
	}
	cairo_surface_mark_dirty(s);
	return s;
}

/* All dark modules as one path of row runs (no seams between modules:
 * one fill, so coverage of abutting rectangles adds up exactly). */
static void
qr_path(cairo_t *cr, const qp_qr *qr, double x0, double y0, double m)
{
	for (int y = 0; y < qr->width; y++) {
		int x = 0;
		while (x < qr->width) {
			int start;
			if (!qr->dark[y * qr->width + x]) {
				x++;
				continue;
			}
			start = x;
			while (x < qr->width && qr->dark[y * qr->width + x])
				x++;
			cairo_rectangle(cr, x0 + start * m, y0 + y * m,
			    (x - start) * m, m);
		}
	}
}

static void
draw_qr(cairo_t *cr, const qp_item *it, double px_per_pt, bool as_mask,
    draw_ctx *dc)
{
	int n = it->qr->width + 2 * it->quiet;

	cairo_save(cr);
	if (px_per_pt > 0) {
		/*
		 * Raster: work in device pixels so every module is a whole
		 * number of pixels, centred in the box. Crisp edges, no
		 * anti-aliased grey seams for a scanner to trip on.
		 */
		double ux = it->x, uy = it->y;
		double bx, by, side;
		long m, x0, y0;

		cairo_user_to_device(cr, &ux, &uy);
		side = floor(it->w * px_per_pt + 0.5);
		bx = floor(ux + 0.5);
		by = floor(uy + 0.5);
		m = (long)floor(side / n);
		if (m < 1)
			m = 1;
		cairo_identity_matrix(cr);
		cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
		set_color(cr, it->background, dc);
		cairo_rectangle(cr, bx, by, side, side);
		cairo_fill(cr);
		x0 = (long)bx + (long)(side - (double)m * n) / 2 + m * it->quiet;
		y0 = (long)by + (long)(side - (double)m * n) / 2 + m * it->quiet;
		set_color(cr, it->color, dc);
		qr_path(cr, it->qr, (double)x0, (double)y0, (double)m);
		cairo_fill(cr);
		cairo_restore(cr);
		if (it->image)
			draw_qr_logo(cr, it, dc);
		return;
	}
	{
		double m = it->w / n;
		double ox = it->x + it->quiet * m, oy = it->y + it->quiet * m;

		if (it->link && dc && dc->links)
			add_link(cr, dc, it->link, it->x, it->y, it->w, it->w);
		set_color(cr, it->background, dc);
		cairo_rectangle(cr, it->x, it->y, it->w, it->w);
		cairo_fill(cr);
		set_color(cr, it->color, dc);
		if (as_mask) {
			/*
			 * One 1-bit image, scaled with nearest-neighbour
			 * filtering: PDF writes it as an /ImageMask with
			 * /Interpolate false, exact edges at any zoom and a
			 * fraction of the bytes of a path.
			 */
			cairo_surface_t *s = qr_mask_surface(it->qr);
			cairo_pattern_t *pat;
			cairo_matrix_t mx;

			pat = cairo_pattern_create_for_surface(s);
			cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
			cairo_matrix_init_scale(&mx, 1 / m, 1 / m);
			cairo_matrix_translate(&mx, -ox, -oy);
			cairo_pattern_set_matrix(pat, &mx);
			cairo_mask(cr, pat);
			cairo_pattern_destroy(pat);
			cairo_surface_destroy(s);
		} else {
			qr_path(cr, it->qr, ox, oy, m);
			cairo_fill(cr);
		}
	}
	cairo_restore(cr);
	if (it->image)
		draw_qr_logo(cr, it, dc);
}

static void
draw_marks(cairo_t *cr, const qp_page *page, double bleed)
{
	double w = page->w, h = page->h;
	double a = bleed + MARK_GAP, b = bleed + MARK_GAP + MARK_LEN;

	cairo_save(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 0.25);
	/* Two marks at each corner, on the trim lines, outside the bleed. */
	double xs[2] = {0, w}, ys[2] = {0, h};
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			double x = xs[i], y = ys[j];
			double sx = i ? 1 : -1, sy = j ? 1 : -1;
			cairo_move_to(cr, x + sx * a, y);
			cairo_line_to(cr, x + sx * b, y);
			cairo_move_to(cr, x, y + sy * a);
			cairo_line_to(cr, x, y + sy * b);
		}
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}

/*
 * Text that repeats page after page in a combined PDF (the headline, the
 * hotline, the labels) is drawn once into a recording surface, which
 * Cairo writes as one Form XObject that every page refers to: the
 * glyphs are positioned and written once, not once per page. It stays
 * real, selectable text. A text item is reused only when everything that
 * decides its drawing is the same: its block, position, colour, font,
 * width, alignment, spacing, attributes (the markup) and text.
 */
typedef struct text_cache {
	const qp_block *block;
	char *key;
	cairo_surface_t *rec; /* made the second time the key is seen */
	/*
	 * The item the key was made from, its layout referenced: layout
	 * keeps a block's fitted text and hands out the very same layout
	 * while the text stays the same (layout_fit.c), so the same layout
	 * at the same place in the same colour is the same key without
	 * writing the key out (a tenth of the drawing time per page).
	 */
	PangoLayout *layout;
	double x, y, size;
	qp_color color;
} text_cache;

typedef struct text_caches {
	text_cache *v;
	size_t n;
} text_caches;

static bool
color_same(const qp_color *a, const qp_color *b)
{
	return a->r == b->r && a->g == b->g && a->b == b->b && a->a == b->a &&
	    a->cmyk == b->cmyk && a->c == b->c && a->m == b->m &&
	    a->y == b->y && a->k == b->k;
}

static char *
text_key(const qp_item *it)
{
	PangoLayout *l = it->layout;
	PangoAttrList *al = pango_layout_get_attributes(l);
	const PangoFontDescription *fd = pango_layout_get_font_description(l);
	char *attrs = al ? pango_attr_list_to_string(al) : NULL;
	char *font = fd ? pango_font_description_to_string(fd) : NULL;
	char *key;

	key = qp_xasprintf("%a %a %a %a %a %a %a %d %d %d %a %d|%s|%s|%s",
	    it->x, it->y, it->color.r, it->color.g, it->color.b, it->color.a,
	    it->font_size, pango_layout_get_width(l),
	    (int)pango_layout_get_alignment(l), (int)pango_layout_get_wrap(l),
	    (double)pango_layout_get_line_spacing(l),
	    pango_layout_get_spacing(l), font ? font : "",
	    attrs ? attrs : "", pango_layout_get_text(l));
	g_free(attrs);
	g_free(font);
	return key;
}

static void
draw_text(cairo_t *cr, const qp_item *it, const draw_ctx *dc)
{
	set_color(cr, it->color, dc);
	cairo_move_to(cr, it->x, it->y);
	pango_cairo_show_layout(cr, it->layout);
}

static void
draw_text_cached(cairo_t *cr, const qp_page *page, const qp_item *it,
    text_caches *tc, const draw_ctx *dc)
{
	text_cache *c = NULL;
	char *key;

	for (size_t i = 0; i < tc->n; i++)
		if (tc->v[i].block == it->block) {
			c = &tc->v[i];
			break;
		}
	if (c == NULL) {
		tc->v = qp_xrealloc(tc->v, (tc->n + 1) * sizeof *tc->v);
		c = &tc->v[tc->n++];
		memset(c, 0, sizeof *c);
		c->block = it->block;
	}
	if (c->layout != it->layout || c->x != it->x || c->y != it->y ||
	    c->size != it->font_size || !color_same(&c->color, &it->color)) {
		key = text_key(it);
		if (c->layout)
			g_object_unref(c->layout);
		c->layout = g_object_ref(it->layout);
		c->x = it->x;
		c->y = it->y;
		c->size = it->font_size;
		c->color = it->color;
		if (c->key == NULL || strcmp(c->key, key) != 0) {
			/* New text for this block: draw it, remember it. */
			free(c->key);
			c->key = key;
			if (c->rec)
				cairo_surface_destroy(c->rec);
			c->rec = NULL;
			draw_text(cr, it, dc);
			return;
		}
		free(key);
	}
	if (c->rec == NULL) {
		/* Bounded by the page (text never leaves it). */
		cairo_rectangle_t ext = {0, 0, page->w, page->h};
		cairo_t *rc;

		c->rec = cairo_recording_surface_create(
		    CAIRO_CONTENT_COLOR_ALPHA, &ext);
		rc = cairo_create(c->rec);
		draw_text(rc, it, dc);
		cairo_destroy(rc);
	}
	cairo_save(cr);
	cairo_set_source_surface(cr, c->rec, 0, 0);
	cairo_paint(cr);
	cairo_restore(cr);
}

static void
text_caches_free(text_caches *tc)
{
	for (size_t i = 0; i < tc->n; i++) {
		free(tc->v[i].key);
		if (tc->v[i].rec)
			cairo_surface_destroy(tc->v[i].rec);
		if (tc->v[i].layout)
			g_object_unref(tc->v[i].layout);
	}
	free(tc->v);
	tc->v = NULL;
	tc->n = 0;
}

/* The surface for a picture: from the document's cache, or new (the
 * caller destroys what it gets either way). */
static cairo_surface_t *
image_source(const qp_image *img, draw_ctx *dc)
{
	static const qp_color white = {.r = 1, .g = 1, .b = 1, .a = 1};
	img_caches *ic = dc ? dc->ic : NULL;
	cairo_surface_t *s;

	for (size_t i = 0; ic && i < ic->n; i++)
		if (ic->v[i].img == img)
			return cairo_surface_reference(ic->v[i].s);
	if (qp_image_get_kind(img) == QP_IMAGE_SVG) {
		double w, h;
		cairo_rectangle_t ext;
		cairo_t *rc;
		qp_error e, *err = dc && dc->err ? dc->err : &e;

		qp_image_size(img, &w, &h);
		ext = (cairo_rectangle_t){0, 0, w, h};
		s = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA,
		    &ext);
		rc = cairo_create(s);
		if (!qp_image_draw_svg(img, rc, w, h, err) && dc)
			dc->failed = true;
		cairo_destroy(rc);
	} else
		/* A print file cannot hold transparency: print_opaque made
		 * sure the picture sits on white, so it is flattened on
		 * white (exactly what the paper shows). */
		s = qp_image_surface(img, dc && dc->inks ? &white : NULL);
	if (ic) {
		ic->v = qp_xrealloc(ic->v, (ic->n + 1) * sizeof *ic->v);
		ic->v[ic->n].img = img;
		ic->v[ic->n++].s = cairo_surface_reference(s);
	}
	return s;
}

static void
img_caches_free(img_caches *ic)
{
	for (size_t i = 0; i < ic->n; i++)
		cairo_surface_destroy(ic->v[i].s);
	free(ic->v);
	ic->v = NULL;
	ic->n = 0;
}

/* A picture drawn at (x, y) w x h, clipped to the box (bx, by, bw, bh). */
static void
draw_picture(cairo_t *cr, const qp_image *img, double x, double y, double w,
    double h, const double box[4], double opacity, draw_ctx *dc)
{
	cairo_surface_t *s = image_source(img, dc);
	double pw, ph;

	qp_image_size(img, &pw, &ph);
	cairo_save(cr);
	cairo_rectangle(cr, box[0], box[1], box[2], box[3]);
	cairo_clip(cr);
	cairo_translate(cr, x, y);
	cairo_scale(cr, w / pw, h / ph);
	cairo_set_source_surface(cr, s, 0, 0);
	if (opacity < 1)
		cairo_paint_with_alpha(cr, opacity);
	else
		cairo_paint(cr);
	cairo_restore(cr);
	cairo_surface_destroy(s);
}

static void
draw_image(cairo_t *cr, const qp_item *it, draw_ctx *dc)
{
	double box[4] = {it->x, it->y, it->w, it->h};

	draw_picture(cr, it->image, it->ix, it->iy, it->iw, it->ih, box,
	    it->opacity, dc);
}

/* A code's logo, contained in its square (the modules there are clear). */
static void
draw_qr_logo(cairo_t *cr, const qp_item *it, draw_ctx *dc)
{
	double pw, ph, s, w, h;
	double box[4] = {it->ix, it->iy, it->iw, it->ih};

	qp_image_size(it->image, &pw, &ph);
	s = fmin(it->iw / pw, it->ih / ph);
	w = pw * s;
	h = ph * s;
	draw_picture(cr, it->image, it->ix + (it->iw - w) / 2,
	    it->iy + (it->ih - h) / 2, w, h, box, 1, dc);
}

static void
draw_page(cairo_t *cr, const qp_page *page, const qp_render_opts *o,
    double px_per_pt, bool qr_as_mask, draw_ctx *dc);

void
qp_draw_page(cairo_t *cr, const qp_page *page, const qp_render_opts *o,
    double px_per_pt, bool qr_as_mask)
{
	draw_page(cr, page, o, px_per_pt, qr_as_mask, NULL);
}

static void
draw_page(cairo_t *cr, const qp_page *page, const qp_render_opts *o,
    double px_per_pt, bool qr_as_mask, draw_ctx *dc)
{
	text_caches *tc = dc ? dc->tc : NULL;

	double off = sheet_offset(o), bl = o->bleed;

	cairo_save(cr);
	cairo_translate(cr, off, off);
	set_color(cr, page->background, dc);
	cairo_rectangle(cr, -bl, -bl, page->w + 2 * bl, page->h + 2 * bl);
	cairo_fill(cr);
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];

		switch (it->kind) {
		case QP_ITEM_RECT: {
			/* A rectangle that touches the trim edge runs on into
			 * the bleed, so a trim a hair off shows no white. */
			double x0 = it->x, y0 = it->y;
			double x1 = it->x + it->w, y1 = it->y + it->h;
			if (x0 <= 0.01)
				x0 = -bl;
			if (y0 <= 0.01)
				y0 = -bl;
			if (x1 >= page->w - 0.01)
				x1 = page->w + bl;
			if (y1 >= page->h - 0.01)
				y1 = page->h + bl;
			if (it->color.a > 0) {
				set_color(cr, it->color, dc);
				cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
				cairo_fill(cr);
			}
			if (it->has_stroke) {
				set_color(cr, it->stroke, dc);
				cairo_set_line_width(cr, it->stroke_width);
				cairo_rectangle(cr, it->x, it->y, it->w, it->h);
				cairo_stroke(cr);
			}
			break;
		}
		case QP_ITEM_TEXT:
			if (tc && it->block)
				draw_text_cached(cr, page, it, tc, dc);
			else
				draw_text(cr, it, dc);
			break;
		case QP_ITEM_QR:
			draw_qr(cr, it, px_per_pt, qr_as_mask, dc);
			break;
		case QP_ITEM_IMAGE:
			draw_image(cr, it, dc);
			break;
		}
	}
	if (o->marks)
		draw_marks(cr, page, bl);
	cairo_restore(cr);
}

static void
pdf_date(char *buf, size_t n)
{
	time_t t = (time_t)qp_source_date_epoch();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
pdf_metadata(cairo_surface_t *s, const qp_page *page)
{
	char date[32];

	pdf_date(date, sizeof date);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
	    page->title ? page->title : "");
	if (page->subject)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT,
		    page->subject);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR,
	    "qrposter " QP_VERSION);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE,
	    date);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, date);
}

static bool
cairo_ok(cairo_status_t st, const qp_outfile *of, qp_error *err)
{
	if (st == CAIRO_STATUS_SUCCESS)
		return true;
	/* Cairo says only "error while writing to output stream": the
	 * system's reason is the one a user can act on (a full disk). */
	if (st == CAIRO_STATUS_WRITE_ERROR && of->write_failed)
		return qp_fail(err, "cannot write '%s': %s%s", of->path,
		    strerror(of->saved_errno ? of->saved_errno : EIO),
		    qp_write_error_hint(of->saved_errno));
	return qp_fail(err, "cannot write '%s': %s", of->path,
	    cairo_status_to_string(st));
}

/*
 * Commit a finished PDF. With a bleed or crop marks the sheet is larger
 * than the trim, and a print shop's tools read where to cut from the
 * TrimBox and BleedBox, which Cairo cannot write; links are annotations
 * we write ourselves (pdfbox.h says why). Either way the file goes
 * through libqpdf into a second temporary file. A print file then goes
 * through print.c into a third. The last is renamed into place.
 *
 * libqpdf stays the tool here: a single poster (or a print file, drawn
 * whole for Ghostscript) is one pass over a small file, and libqpdf
 * writes it whatever Cairo put in it. A combined run's parts are not
 * finished here (qp_pdf_doc_close_bare): pdfjoin adds the same links and
 * boxes while it joins them (pdfrun.h), where this pass held each part
 * in memory and took a fifth of the run's time.
 */
static bool
pdf_commit(qp_outfile *of, const qp_render_opts *o, bool boxes,
    const link_list *links, const qp_inks *inks, qp_error *err)
{
	qp_outfile fin, prn, *cur = of;
	double trim = sheet_offset(o);
	qp_pdf_finish f = {
		.boxes = boxes && (o->bleed > 0 || o->marks),
		.trim_inset = trim,
		.bleed_inset = trim - o->bleed,
		.links = links ? links->v : NULL,
		.nlinks = links ? links->n : 0,
	};

	if (!f.boxes && f.nlinks == 0 && o->print == NULL)
		return qp_outfile_commit(of, err);
	if (!of->write_failed && fflush(of->fp) != 0) {
		of->write_failed = true;
		of->saved_errno = errno;
	}
	if (of->write_failed) {
		/* The commit reports it (a full disk says so) and removes
		 * the temporary. */
		qp_outfile_commit(of, err);
		return false;
	}
	if (f.boxes || f.nlinks > 0) {
		if (!qp_outfile_open(&fin, of->path, err)) {
			qp_outfile_abort(of);
			return false;
		}
		if (!qp_pdfbox_write(of->tmp_path, fin.tmp_path, &f, err)) {
			qp_outfile_abort(&fin);
			qp_outfile_abort(of);
			return false;
		}
		qp_outfile_abort(of);
		cur = &fin;
	}
	if (o->print) {
		if (!qp_outfile_open(&prn, cur->path, err)) {
			qp_outfile_abort(cur);
			return false;
		}
		if (!qp_print_convert(cur->tmp_path, prn.tmp_path, inks,
		    o->print, err)) {
			qp_outfile_abort(&prn);
			qp_outfile_abort(cur);
			return false;
		}
		qp_outfile_abort(cur);
		cur = &prn;
	}
	return qp_outfile_commit(cur, err);
}

static bool
is_white(qp_color c)
{
	return c.a >= 1 && c.r >= 1 && c.g >= 1 && c.b >= 1 && (!c.cmyk ||
	    (c.c == 0 && c.m == 0 && c.y == 0 && c.k == 0));
}

/*
 * A picture in a print file: opaque, or with its transparent pixels over
 * plain white paper (the page, or a white rectangle covering it), where
 * flattening onto white changes nothing. Over anything else its edges
 * would need transparency, which PDF/X-3 does not have.
 */
static bool
print_image_ok(const qp_page *page, size_t idx, qp_error *err)
{
	const qp_item *it = &page->items[idx];
	const char *name = it->block ? it->block->id : "?";
	double x0 = fmax(it->x, it->ix), y0 = fmax(it->y, it->iy);
	double x1 = fmin(it->x + it->w, it->ix + it->iw);
	double y1 = fmin(it->y + it->h, it->iy + it->ih);
	qp_color under = page->background;

	if (it->opacity < 1)
		return qp_fail(err, "block '%s': an opacity of %.0f%% cannot go "
		    "in a CMYK print file (PDF/X-3 has no transparency)", name,
		    it->opacity * 100);
	if (qp_image_get_kind(it->image) == QP_IMAGE_SVG ||
	    !qp_image_has_alpha(it->image))
		return true;
	for (size_t j = idx; j-- > 0;) {
		const qp_item *o = &page->items[j];
		double ox1 = o->x + o->w, oy1 = o->y + o->h;

		if (o->x >= x1 || ox1 <= x0 || o->y >= y1 || oy1 <= y0)
			continue;
		if (o->kind == QP_ITEM_RECT && o->color.a >= 1 && o->x <= x0 &&
		    o->y <= y0 && ox1 >= x1 && oy1 >= y1) {
			under = o->color;
			break;
		}
		if (o->kind != QP_ITEM_RECT || o->color.a > 0) {
			under.a = 0; /* something else shows through */
			break;
		}
	}
	if (is_white(under))
		return true;
	return qp_fail(err, "block '%s': '%s' has transparent pixels over "
	    "something that is not white paper; a CMYK print file (PDF/X-3) "
	    "has no transparency: give the picture its background, or use "
	    "an SVG", name, it->block ? it->block->u.image.file : "?");
}

/*
 * A print file cannot hold transparency (PDF/X-3 is PDF 1.3): a colour
 * that is neither opaque nor invisible is an error naming its block.
 */
static bool
print_opaque(const qp_page *page, qp_error *err)
{
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		qp_color c[3] = {it->color, it->stroke, it->background};

		if (it->kind == QP_ITEM_IMAGE && !print_image_ok(page, i, err))
			return false;
		if (it->kind == QP_ITEM_QR && it->image &&
		    qp_image_get_kind(it->image) != QP_IMAGE_SVG &&
		    qp_image_has_alpha(it->image) && !is_white(it->background))
			return qp_fail(err, "block '%s': the logo has transparent "
			    "pixels and the code's light colour is not white; a "
			    "CMYK print file (PDF/X-3) has no transparency: give "
			    "the logo its background", it->block ?
			    it->block->id : "?");
		size_t n = it->kind == QP_ITEM_QR ? 3 :
		    it->kind == QP_ITEM_RECT && it->has_stroke ? 2 : 1;

		for (size_t k = 0; k < n; k++)
			if (c[k].a > 0 && c[k].a < 1)
				return qp_fail(err, "block '%s': a colour with "
				    "an opacity of %.0f%% cannot go in a CMYK "
				    "print file (PDF/X-3 has no transparency); "
				    "make it opaque", it->block ? it->block->id :
				    "?", c[k].a * 100);
	}
	if (page->background.a > 0 && page->background.a < 1)
		return qp_fail(err, "the page background is not opaque, which "
		    "a CMYK print file (PDF/X-3) cannot hold");
	return true;
}

static bool
render_vector(const qp_page *page, qp_outfile *of, qp_format fmt,
    const qp_render_opts *o, link_list *links, qp_inks *inks,
    qp_error *err)
{
	double sw, sh;
	cairo_surface_t *s;
	cairo_t *cr;
	cairo_status_t st;
	img_caches ic = {0};
	draw_ctx dc = {.links = fmt == QP_FMT_PDF && !inks ? links : NULL,
	    .inks = inks, .ic = &ic, .err = err};

	qp_sheet_size(page, o, &sw, &sh);
	if (fmt == QP_FMT_PDF) {
		s = cairo_pdf_surface_create_for_stream(outfile_write, of,
		    sw, sh);
		pdf_metadata(s, page);
	} else {
		s = cairo_svg_surface_create_for_stream(outfile_write, of,
		    sw, sh);
		cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PT);
	}
	cr = cairo_create(s);
	draw_page(cr, page, o, 0, fmt == QP_FMT_PDF, &dc);
	cairo_show_page(cr);
	st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	img_caches_free(&ic);
	if (dc.failed)
		return false;
	return cairo_ok(st, of, err);
}


bool
qp_render_file(const qp_page *page, const char *path, qp_format fmt,
    const qp_render_opts *o, qp_error *err)
{
	return qp_render_file_r(page, path, fmt, o, NULL, err);
}

bool
qp_render_file_r(const qp_page *page, const char *path, qp_format fmt,
    const qp_render_opts *o, qp_raster *raster, qp_error *err)
{
	qp_outfile of;
	link_list links = {0};
	qp_inks *inks = NULL;
	bool ok;

	if (o->print && fmt != QP_FMT_PDF)
		return qp_fail(err, "'%s': a CMYK print file is a PDF", path);
	if (!qp_verify_logos(page, err))
		return false;
	if (o->print && !print_opaque(page, err))
		return false;
	if (!qp_outfile_open(&of, path, err))
		return false;
	if (o->print)
		inks = qp_inks_new();
	if (fmt == QP_FMT_PNG)
		ok = qp_render_png(page, &of, o, raster, err);
	else
		ok = render_vector(page, &of, fmt, o, &links, inks, err);
	if (!ok) {
		link_list_free(&links);
		qp_inks_free(inks);
		qp_outfile_abort(&of);
		return false;
	}
	if (fmt == QP_FMT_PDF) {
		ok = pdf_commit(&of, o, true, &links, inks, err);
		link_list_free(&links);
		qp_inks_free(inks);
		return ok;
	}
	return qp_outfile_commit(&of, err);
}

struct qp_pdf_doc {
	qp_outfile of;
	qp_render_opts o;
	cairo_surface_t *s;
	cairo_t *cr;
	size_t pages;
	text_caches tc; /* repeated text as shared Form XObjects */
	link_list links;
	qp_inks *inks; /* a print file's cmyk() colours */
	img_caches ic; /* each picture embedded once */
	bool boxes; /* TrimBox/BleedBox on close (not on imposed sheets) */
};

qp_pdf_doc *
qp_pdf_doc_open(const char *path, const qp_render_opts *o, qp_error *err)
{
	qp_pdf_doc *doc = qp_xcalloc(1, sizeof *doc);

	if (!qp_outfile_open(&doc->of, path, err)) {
		free(doc);
		return NULL;
	}
	doc->o = *o;
	doc->boxes = true;
	if (o->print)
		doc->inks = qp_inks_new();
	doc->s = cairo_pdf_surface_create_for_stream(outfile_write,
	    &doc->of, 612, 792);
	doc->cr = cairo_create(doc->s);
	return doc;
}

bool
qp_pdf_doc_add(qp_pdf_doc *doc, const qp_page *page, qp_error *err)
{
	double sw, sh;

	qp_sheet_size(page, &doc->o, &sw, &sh);
	if (doc->pages == 0)
		pdf_metadata(doc->s, page);
	cairo_pdf_surface_set_size(doc->s, sw, sh);
	if ((doc->o.print && !print_opaque(page, err)) ||
	    !qp_verify_logos(page, err))
		return false;
	{
		draw_ctx dc = {&doc->tc, doc->inks ? NULL : &doc->links,
		    doc->pages, doc->inks, &doc->ic, err, false};
		draw_page(doc->cr, page, &doc->o, 0, true, &dc);
		if (dc.failed)
			return false;
	}
	cairo_show_page(doc->cr);
	doc->pages++;
	return cairo_ok(cairo_status(doc->cr), &doc->of, err);
}

bool
qp_pdf_doc_close(qp_pdf_doc *doc, qp_error *err)
{
	cairo_status_t st = cairo_status(doc->cr);
	bool ok;

	cairo_destroy(doc->cr);
	text_caches_free(&doc->tc);
	cairo_surface_finish(doc->s);
	img_caches_free(&doc->ic);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(doc->s);
	cairo_surface_destroy(doc->s);
	ok = cairo_ok(st, &doc->of, err);
	if (ok)
		ok = pdf_commit(&doc->of, &doc->o, doc->boxes, &doc->links,
		    doc->inks, err);
	else
		qp_outfile_abort(&doc->of);
	link_list_free(&doc->links);
	qp_inks_free(doc->inks);
	free(doc);
	return ok;
}

bool
qp_pdf_doc_close_bare(qp_pdf_doc *doc, qp_pdf_finish *f, qp_error *err)
{
	cairo_status_t st = cairo_status(doc->cr);
	double trim = sheet_offset(&doc->o);
	bool ok;

	memset(f, 0, sizeof *f);
	if (doc->o.print) {
		qp_pdf_doc_abort(doc);
		return qp_fail(err, "a print file is finished whole");
	}
	cairo_destroy(doc->cr);
	text_caches_free(&doc->tc);
	cairo_surface_finish(doc->s);
	img_caches_free(&doc->ic);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(doc->s);
	cairo_surface_destroy(doc->s);
	ok = cairo_ok(st, &doc->of, err);
	/* A bare document is a part of a combined PDF (pdfrun.h): a
	 * temporary, joined and removed before the run ends. */
	doc->of.no_sync = true;
	if (ok)
		ok = qp_outfile_commit(&doc->of, err);
	else
		qp_outfile_abort(&doc->of);
	if (ok) {
		/* What pdf_commit would have asked of pdfbox. */
		f->boxes = doc->boxes && (doc->o.bleed > 0 || doc->o.marks);
		f->trim_inset = trim;
		f->bleed_inset = trim - doc->o.bleed;
		f->links = doc->links.v;
		f->nlinks = doc->links.n;
		memset(&doc->links, 0, sizeof doc->links);
	}
	link_list_free(&doc->links);
	qp_inks_free(doc->inks);
	free(doc);
	return ok;
}

void
qp_pdf_doc_abort(qp_pdf_doc *doc)
{
	if (doc == NULL)
		return;
	cairo_destroy(doc->cr);
	text_caches_free(&doc->tc);
	link_list_free(&doc->links);
	qp_inks_free(doc->inks);
	cairo_surface_finish(doc->s);
	img_caches_free(&doc->ic);
	cairo_surface_destroy(doc->s);
	qp_outfile_abort(&doc->of);
	free(doc);
}

/*
 * Imposition: cols x rows cells on the sheet inside a margin. Each poster
 * keeps its own size when it fits its cell and is scaled down when it
 * does not; its bleed stays the physical bleed, and cut marks sit in the
 * gutter just outside it.
 */
#define IMP_MARGIN 18.0  /* sheet edge to the cells: most printers' limit */
#define IMP_MARK_GAP 2.0 /* bleed to cut mark */
#define IMP_MARK_LEN 7.0
#define IMP_PAD (IMP_MARK_GAP + IMP_MARK_LEN + 1.0)

static void
impose_cell(const qp_impose *im, const qp_render_opts *o, double *cw,
    double *ch, double *aw, double *ah)
{
	*cw = (im->sheet_w - 2 * IMP_MARGIN) / im->cols;
	*ch = (im->sheet_h - 2 * IMP_MARGIN) / im->rows;
	*aw = *cw - 2 * (o->bleed + IMP_PAD);
	*ah = *ch - 2 * (o->bleed + IMP_PAD);
}

bool
qp_impose_scale(const qp_impose *im, const qp_render_opts *o, double w,
    double h, double *scale, qp_error *err)
{
	double cw, ch, aw, ah, s;

	impose_cell(im, o, &cw, &ch, &aw, &ah);
	if (aw <= 1 || ah <= 1)
		return qp_fail(err, "imposing %dx%d: the %.1fx%.1fin sheet has "
		    "no room for %d cells with the bleed and cut marks",
		    im->cols, im->rows, im->sheet_w / 72, im->sheet_h / 72,
		    im->cols * im->rows);
	s = fmin(aw / w, ah / h);
	*scale = s < 1 ? s : 1;
	return true;
}

bool
qp_pdf_doc_add_sheet(qp_pdf_doc *doc, const qp_impose *im,
    const qp_page *const *pages, size_t n, qp_error *err)
{
	cairo_t *cr = doc->cr;
	double cw, ch, aw, ah;
	double bl = doc->o.bleed;

	doc->boxes = false;
	impose_cell(im, &doc->o, &cw, &ch, &aw, &ah);
	cairo_pdf_surface_set_size(doc->s, im->sheet_w, im->sheet_h);
	if (doc->pages == 0 && n > 0)
		pdf_metadata(doc->s, pages[0]);
	for (size_t i = 0; i < n && i < (size_t)(im->cols * im->rows); i++) {
		const qp_page *pg = pages[i];
		qp_render_opts po = doc->o;
		double s, w, h, x, y;
		int c = (int)(i % (size_t)im->cols), r = (int)(i /
		    (size_t)im->cols);

		if (!qp_impose_scale(im, &doc->o, pg->w, pg->h, &s, err))
			return false;
		w = pg->w * s;
		h = pg->h * s;
		x = IMP_MARGIN + c * cw + (cw - w) / 2;
		y = IMP_MARGIN + r * ch + (ch - h) / 2;
		/* qp_draw_page puts the trim at (bleed, bleed) of its origin,
		 * in its own (scaled) units: a physical bleed is bl / s. */
		po.bleed = bl / s;
		po.marks = false;
		cairo_save(cr);
		cairo_translate(cr, x - bl, y - bl);
		cairo_scale(cr, s, s);
		if ((doc->o.print && !print_opaque(pg, err)) ||
		    !qp_verify_logos(pg, err))
			return false;
		{
			draw_ctx dc = {&doc->tc, doc->inks ? NULL :
			    &doc->links, doc->pages, doc->inks, &doc->ic, err,
			    false};
			draw_page(cr, pg, &po, 0, true, &dc);
			if (dc.failed)
				return false;
		}
		cairo_restore(cr);
		/* Cut marks on the trim lines, outside the bleed. */
		cairo_save(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 0.25);
		for (int k = 0; k < 4; k++) {
			double cx = k & 1 ? x + w : x, cy = k & 2 ? y + h : y;
			double sx = k & 1 ? 1 : -1, sy = k & 2 ? 1 : -1;
			double a = bl + IMP_MARK_GAP, b = a + IMP_MARK_LEN;
			cairo_move_to(cr, cx + sx * a, cy);
			cairo_line_to(cr, cx + sx * b, cy);
			cairo_move_to(cr, cx, cy + sy * a);
			cairo_line_to(cr, cx, cy + sy * b);
		}
		cairo_stroke(cr);
		cairo_restore(cr);
	}
	cairo_show_page(cr);
	doc->pages++;
	return cairo_ok(cairo_status(cr), &doc->of, err);
}
