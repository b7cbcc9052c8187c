/*
 * check.h - preflight: everything that would make a poster fail on the
 * wall, found before anything is printed.
 *
 * qp_check_poster lays a poster out (each block on its own, so one bad
 * block does not hide the next) and runs qp_check_page over the result.
 * "qrposter check" calls it for every row; render and batch call it
 * before drawing: errors stop the poster, warnings are printed.
 */
#ifndef QP_CHECK_H
#define QP_CHECK_H

#include "layout.h"

typedef enum qp_severity {
	QP_DIAG_WARNING,
	QP_DIAG_ERROR,
} qp_severity;

/* One finding: msg names the block ("block 'qr': ...") when it has one. */
typedef struct qp_diag {
	qp_severity sev;
	char *block; /* the block's id, or NULL for the page */
	char *msg;
} qp_diag;

typedef struct qp_diag_list {
	qp_diag *v;
	size_t n;
	size_t nerrors, nwarnings;
} qp_diag_list;

void qp_diag_list_init(qp_diag_list *l);
/* Free every entry; the list is left empty and reusable. */
void qp_diag_list_clear(qp_diag_list *l);
void qp_diag_add(qp_diag_list *l, qp_severity sev, const char *block,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *qp_severity_name(qp_severity sev);

/* Thresholds (documented in templates/LANGUAGES.md). */
#define QP_WCAG_AA_NORMAL 4.5  /* WCAG 2.1 1.4.3, text */
#define QP_WCAG_AA_LARGE 3.0   /* >= 18pt, or >= 14pt bold */
#define QP_QR_MIN_CONTRAST 3.0 /* WCAG 2.1 1.4.11, graphics: error below */
#define QP_QR_GOOD_CONTRAST 4.5 /* warning below */
#define QP_IMAGE_MIN_PPI 150    /* a PNG/JPEG at print size: error below */
#define QP_IMAGE_GOOD_PPI 300   /* warning below */

/* How the poster will be printed. */
typedef struct qp_check_opts {
	double bleed; /* points; > 0: the page will be trimmed, so the
	               * template's margin is a safe area nothing may cross */
} qp_check_opts;

/*
 * Check a laid-out page against its template (o may be NULL: no bleed).
 * Adds to out:
 * errors - text below the template's min_text_size; text contrast below
 *   WCAG 2.1 AA against the page or the rectangle behind it; a QR code
 *   with too little contrast or inverted (light modules on dark); a QR
 *   smaller than its scan distance asks or with modules below its
 *   min_module; another block inside a QR code's quiet zone; two text
 *   blocks whose ink overlaps; text or a code outside the page, or, when
 *   a bleed is set, outside the safe area (the page inset by its margin);
 *   a PNG or JPEG below QP_IMAGE_MIN_PPI at its printed size; a code with
 *   a logo that does not decode (verify.h);
 * warnings - a code with only fair contrast; a picture below
 *   QP_IMAGE_GOOD_PPI; text whose size.min is below
 *   min_text_size although this poster's text did not shrink that far.
 * Returns true when it added no error.
 */
bool qp_check_page(const qp_template *t, const qp_page *page,
    const qp_check_opts *o, qp_diag_list *out);

/*
 * Lay out one poster and check it. Layout failures are errors in out,
 * one per block. When page is non-NULL and no error was found, *page
 * receives the laid-out poster (the caller frees it); else *page is
 * NULL. Returns true when no error was found.
 */
bool qp_check_poster(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, const qp_check_opts *o, qp_diag_list *out,
    qp_page **page);

#endif
