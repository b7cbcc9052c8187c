/*
 * pdfbox.h - finish a PDF that Cairo wrote, through libqpdf: print boxes
 * and link annotations.
 *
 * Cairo writes a MediaBox only. A print shop wants to know where the
 * page is cut (TrimBox) and how far the artwork runs past the cut
 * (BleedBox); qrposter's sheets are the trim plus a bleed plus, with crop
 * marks, a margin for them, on every side.
 *
 * Links are added here too, not with Cairo's link tags: Cairo 1.16 gives
 * a link-only document /StructParent(s) entries and a parent-tree array
 * that point at structure elements it never writes (qpdf --check: "file
 * is damaged ... object 3 0 not found"), and its recording surface drops
 * an open tag when an opaque fill covers the whole page, so a bare code
 * fails with "invalid tag name, attributes, or nesting". Both are Cairo
 * bugs (cairo-pdf-interchange.c, cairo-recording-surface.c); writing the
 * annotations ourselves avoids them and escapes the URI properly.
 *
 * This libqpdf pass finishes single files and print files; the parts of
 * a combined run get the same annotations and boxes from pdfjoin while
 * it joins them (qp_pdfjoin_finish, from the same qp_pdf_finish).
 */
#ifndef QP_PDFBOX_H
#define QP_PDFBOX_H

#include "util.h"

/* A clickable area: page index (0-based) and a rectangle in points from
 * the page's top-left corner (Cairo's device space), x0 < x1, y0 < y1. */
typedef struct qp_pdf_link {
	size_t page;
	double x0, y0, x1, y1;
	char *uri; /* 7-bit ASCII (render.c percent-encodes the rest) */
} qp_pdf_link;

typedef struct qp_pdf_finish {
	bool boxes;         /* set TrimBox and BleedBox */
	double trim_inset;  /* points from each MediaBox edge */
	double bleed_inset; /* <= trim_inset */
	qp_pdf_link *links; /* only read here */
	size_t nlinks;
} qp_pdf_finish;

/* Free links[0..n) and their URIs (the array too); NULL is fine. */
void qp_pdf_links_free(qp_pdf_link *links, size_t n);

/*
 * Copy the PDF at in_path to out_path with what f asks for: on every
 * page a TrimBox inset trim_inset points from each edge of its MediaBox
 * and a BleedBox inset bleed_inset points, and each link as a /Link
 * annotation with a /URI action. The copy is deterministic: same input,
 * same bytes (a fixed /ID derived from the content). out_path is
 * overwritten; the caller makes it atomic.
 */
bool qp_pdfbox_write(const char *in_path, const char *out_path,
    const qp_pdf_finish *f, qp_error *err);

#endif
