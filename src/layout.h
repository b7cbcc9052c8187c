/*
 * layout.h - a template plus one set of values -> a display list in
 * points: filled rectangles, fitted Pango layouts, QR module matrices.
 *
 * Layout measures text with Pango but knows nothing of Cairo surfaces;
 * the render backends know nothing of YAML.
 */
#ifndef QP_LAYOUT_H
#define QP_LAYOUT_H

#include <pango/pango.h>

#include "diag.h"
#include "qr.h"
#include "template.h"

typedef enum qp_item_kind {
	QP_ITEM_RECT,
	QP_ITEM_TEXT,
	QP_ITEM_QR,
	QP_ITEM_IMAGE,
} qp_item_kind;

typedef struct qp_item {
	qp_item_kind kind;
	const qp_block *block; /* the template block it came from */
	double x, y, w, h;     /* points, on the trimmed page */
	qp_color color;        /* fill, text colour, or dark modules */
	/* rect */
	bool has_stroke;
	qp_color stroke;
	double stroke_width;
	/* text: the layout is drawn with its top-left corner at (x, y) */
	PangoLayout *layout;
	double font_size; /* the size it was fitted at */
	/* qr: (x, y, w, w) is the whole symbol including the quiet zone */
	qp_qr *qr;
	int quiet;
	qp_color background;
	char *link; /* URI for a PDF link annotation, or NULL */
	/* image: (x, y, w, h) is the block's box, which clips; the picture
	 * is drawn at (ix, iy) iw x ih (its fit and alignment). qr with a
	 * logo: the logo, contained in its square (ix, iy, iw, ih), the
	 * modules under the square cleared */
	const struct qp_image *image;
	double ix, iy, iw, ih;
	double opacity;
	double ppi; /* PNG/JPEG: pixels per inch at this size; 0 for SVG */
	char *payload; /* qr with a logo: what it must decode to (verify.h) */
	char *data; /* qr: the code's content, as encoded (policy.c) */
} qp_item;

typedef struct qp_page {
	double w, h; /* trim size, points */
	qp_color background;
	char *title;   /* PDF metadata */
	char *subject; /* PDF metadata (the location) */
	qp_item *items;
	size_t nitems;
} qp_page;

/* Per-thread layout state: a Pango font map and context set up for
 * unhinted, 72-units-per-inch layout (identical on PDF, PNG and SVG). */
typedef struct qp_layout_ctx qp_layout_ctx;

qp_layout_ctx *qp_layout_ctx_new(void);
void qp_layout_ctx_free(qp_layout_ctx *ctx);

/* True if fonts were added (qp_fonts_add_files) since ctx was made: it
 * does not see them; make a new one. */
bool qp_layout_ctx_stale(const qp_layout_ctx *ctx);

/*
 * What laying out the same page found elsewhere (a batch's worker
 * process): each text item's fitted size and each QR item's symbol, in
 * the page's item order. With qp_layout_ctx_known(ctx, k), the next page
 * ctx lays out uses them instead of fitting and encoding again: the page
 * is the same, for a fraction of the time. The symbols are taken over
 * (set to NULL in k) as they are used. Call it again (NULL forgets)
 * before each page.
 */
typedef struct qp_layout_known {
	const double *sizes;
	size_t nsizes;
	qp_qr **qrs;
	size_t nqrs;
} qp_layout_known;

void qp_layout_ctx_known(qp_layout_ctx *ctx, qp_layout_known *k);

/*
 * Lay out one poster. values[] holds t->nvars strings (NULL = unset).
 * A block that cannot be laid out is a finding in diags (diag.h), which
 * names it, and layout goes on with the next block: text that cannot
 * fit at its minimum size (text-overflow), a missing glyph, a font that
 * is not installed, a link that is not http(s), a payload too long, a
 * code too small for its box or scan distance... Returns the page of
 * the blocks that could be laid out; NULL (with a finding) only when the
 * page as a whole fails: a value not among its variable's choices, a
 * language the template does not carry, a title that cannot be made.
 * diags may be NULL.
 *
 * The preflight (check.h) runs over the page; poster.h does both, and
 * binds the values first: that is what commands call.
 *
 * Languages: the page's language is the variable 'lang'; a text block
 * with its own 'lang' uses that one. Each text item carries its
 * language as a Pango attribute; a right-to-left language (ar, he, fa,
 * ur...) is laid out with a right-to-left base direction, 'start'
 * alignment on the right and each inserted value bidi-isolated.
 */
qp_page *qp_layout_page_diag(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_diag_list *diags);

/* The same, all or nothing: NULL with err the first error's message
 * when any block fails (for tests and tools that want one answer). */
qp_page *qp_layout_page(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_error *err);

/* A page holding only a QR code: size is the whole symbol with its quiet
 * zone. Used by "qrposter qr". */
qp_page *qp_layout_qr_only(const char *payload, int ecc, double size,
    int quiet, qp_error *err);

void qp_page_free(qp_page *page);

/*
 * Append a readable text dump of page to out (layout_dump.c): the page,
 * then each item with its block's id and line, its box in points to
 * 0.01, and for text the fitted size to 1/8 pt, font, extent and lines
 * as broken; for QR codes version, ECC, modules, quiet zone, module size
 * and colours. Deterministic and locale-independent: the golden files
 * in tests/golden/ are these dumps.
 */
void qp_page_dump(const qp_page *page, qp_buf *out);

#endif
