/*
 * prepress.h - what a print shop's preflight would say of a poster's
 * CMYK print file (check --print), each finding with a code (diag.h,
 * 901-906, templates/CHECKS.md).
 *
 * Measured where it is true:
 *   - on the laid-out page (the display list): strokes and rules thinner
 *     than QP_PRINT_HAIRLINE (print-hairline), text whose shaped runs are
 *     below QP_PRINT_MIN_TEXT (print-text-small);
 *   - in the CMYK PDF/X file print.h makes of the page (libqpdf): RGB
 *     colour left in it -- colour operators, colour spaces of images,
 *     shadings, forms, groups, inline images (print-rgb) -- and each
 *     picture's effective resolution as placed, pixels over its size on
 *     the page after every transformation (print-image-ppi; 1-bit images
 *     and image masks, the QR code, are line art and not counted);
 *   - on the file's plates: Ghostscript renders it to 8-bit CMYK
 *     (pamcmyk32, contone, no anti-aliasing, so each pixel holds a
 *     colour's own inks) and every pixel's total ink is compared with the
 *     limit (print-ink-limit), and a code's dark modules are looked at
 *     for more than one ink (print-qr-inks).
 * Findings on the file are put on the block under them (the topmost
 * block whose box holds the spot), so they carry the template's
 * line:column.
 */
#ifndef QP_PREPRESS_H
#define QP_PREPRESS_H

#include "diag.h"
#include "layout.h"
#include "print.h"

#define QP_PRINT_INK_LIMIT 300 /* percent: total area coverage, the usual
                                * limit for coated stock (sheetfed) */
#define QP_PRINT_HAIRLINE 0.25 /* points: thinner lines may not print */
#define QP_PRINT_MIN_TEXT 6.0  /* points: the least type a press holds */
#define QP_PRINT_MIN_PPI 300   /* pictures, as print shops ask */
#define QP_PRINT_DPI 150       /* the plates are looked at at this
                                * resolution (less for a large page) */
/* Most pixels a plate raster may have (large pages get a lower dpi). */
#define QP_PRINT_MAX_PIXELS (40.0 * 1000 * 1000)

typedef struct qp_prepress_opts {
	const qp_print_opts *print; /* the conversion (press profile) */
	double ink_limit;           /* percent; 0: QP_PRINT_INK_LIMIT */
	int dpi;                    /* 0: QP_PRINT_DPI */
} qp_prepress_opts;

/* The checks on the laid-out page alone: print-hairline,
 * print-text-small. */
void qp_prepress_layout(const qp_page *page, qp_diag_list *out);

/*
 * The checks on a PDF file (print-rgb, print-image-ppi, print-ink-limit,
 * print-qr-inks). page, when not NULL, is what the file's single page
 * was drawn from (no bleed, no marks), for putting findings on blocks;
 * with NULL every page of the file is looked at and findings name the
 * page. False (err says why) only when the file cannot be read or
 * Ghostscript fails.
 */
bool qp_prepress_file(const char *pdf, const qp_page *page,
    const qp_prepress_opts *o, qp_diag_list *out, qp_error *err);

/*
 * Everything: the layout checks, then page drawn as a CMYK print file
 * (a private temporary directory, removed after) and the file checked.
 * False with err when the print file cannot be made (Ghostscript's
 * words, transparency) or read.
 */
bool qp_prepress_page(const qp_page *page, const qp_prepress_opts *o,
    qp_diag_list *out, qp_error *err);

#endif
