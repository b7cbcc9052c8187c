/*
 * render.h - draw a display list with Cairo onto PDF, PNG or SVG.
 *
 * Every writer goes through a temporary file renamed on success, so a
 * failed render leaves nothing under the output name.
 */
#ifndef QP_RENDER_H
#define QP_RENDER_H

#include <cairo.h>

#include "layout.h"
#include "pdfbox.h"
#include "print.h"

typedef enum qp_format {
	QP_FMT_PDF,
	QP_FMT_PNG,
	QP_FMT_SVG,
} qp_format;

typedef struct qp_render_opts {
	double dpi;   /* PNG resolution */
	double bleed; /* points added on every side (background extends) */
	bool marks;   /* crop marks outside the bleed */
	/* Not NULL: PDF output is a CMYK PDF/X-3 print file (print.h), with
	 * no links; a colour that is not opaque is an error. */
	const qp_print_opts *print;
} qp_render_opts;

#define QP_RENDER_OPTS_DEFAULT {.dpi = 300, .bleed = 0, .marks = false, \
	.print = NULL}

/* Format from a path's extension; false with err naming the extension. */
bool qp_format_from_path(const char *path, qp_format *fmt, qp_error *err);

/* Size of the whole sheet (trim + bleed + mark area), points. */
void qp_sheet_size(const qp_page *page, const qp_render_opts *o,
    double *w, double *h);

/*
 * Draw page onto cr, whose user space is points with the trim's top-left
 * corner at the origin. px_per_pt > 0 asks for QR modules snapped to
 * whole device pixels (raster output); 0 draws exact vector geometry.
 */
void qp_draw_page(cairo_t *cr, const qp_page *page, const qp_render_opts *o,
    double px_per_pt, bool qr_as_mask);

/* Render one page to a file, the format chosen by fmt. */
bool qp_render_file(const qp_page *page, const char *path, qp_format fmt,
    const qp_render_opts *o, qp_error *err);

/*
 * Memory for raster pages kept from one render to the next (one per
 * thread): a 300-DPI Letter page is 34 MB, and fresh memory for every
 * page costs the kernel a fault and a cleared page each 4 KB.
 */
typedef struct qp_raster qp_raster;

qp_raster *qp_raster_new(void);
void qp_raster_free(qp_raster *r);

/* qp_render_file, drawing PNG pages in r's memory (r may be NULL). */
bool qp_render_file_r(const qp_page *page, const char *path, qp_format fmt,
    const qp_render_opts *o, qp_raster *r, qp_error *err);

/*
 * A multi-page PDF written page by page (fonts embedded once), committed
 * atomically on close.
 */
typedef struct qp_pdf_doc qp_pdf_doc;

qp_pdf_doc *qp_pdf_doc_open(const char *path, const qp_render_opts *o,
    qp_error *err);
/* Add a page; the first page's title becomes the document's. */
bool qp_pdf_doc_add(qp_pdf_doc *doc, const qp_page *page, qp_error *err);
/* Finish and rename into place; on failure nothing is left behind. */
bool qp_pdf_doc_close(qp_pdf_doc *doc, qp_error *err);
/*
 * Finish without pdfbox's libqpdf pass, for a part of a combined run
 * that pdfjoin finishes while it joins the parts (pdfjoin.h): the file
 * is renamed into place as Cairo wrote it, and *f says what it lacks,
 * the print boxes and the links pdf_commit would have added (f->links
 * the caller's: qp_pdf_links_free). Not for print files. On failure
 * nothing is left behind and f is empty.
 */
bool qp_pdf_doc_close_bare(qp_pdf_doc *doc, qp_pdf_finish *f,
    qp_error *err);
/* Give up: the temporary file is removed. */
void qp_pdf_doc_abort(qp_pdf_doc *doc);

/*
 * Imposition: several posters per sheet, in order, left to right then
 * top to bottom, with cut marks at each poster's corners.
 */
typedef struct qp_impose {
	int cols, rows;
	double sheet_w, sheet_h; /* points */
} qp_impose;

/* The scale (at most 1) at which a w x h poster fits its cell. */
bool qp_impose_scale(const qp_impose *im, const qp_render_opts *o,
    double w, double h, double *scale, qp_error *err);
/* Add one sheet holding pages[0..n) (n <= cols * rows). */
bool qp_pdf_doc_add_sheet(qp_pdf_doc *doc, const qp_impose *im,
    const qp_page *const *pages, size_t n, qp_error *err);

/* Largest raster qrposter will make, in pixels (width x height): 100
 * megapixels is 400 MB in memory, a 24x36in poster at 300 DPI fits; a
 * 46x60in one-sheet needs 190 DPI or less. At most 32767 pixels a side
 * (Cairo's limit). */
#define QP_MAX_PNG_PIXELS (100.0 * 1000 * 1000)

/* The highest whole DPI (at least 1) at which a w x h point sheet stays
 * within max_pixels and 32767 pixels a side. */
int qp_png_max_dpi(double w, double h, double max_pixels);

/* True if a w x h point sheet at dpi stays within QP_MAX_PNG_PIXELS;
 * else false with err saying its size in pixels and memory (the
 * resolution that fits is qp_png_max_dpi's). */
bool qp_png_size_ok(double w, double h, double dpi, qp_error *err);

#endif
