/*
 * check.h - preflight: everything that would make a poster fail on the
 * wall, found before anything is printed.
 *
 * qp_check_page looks at a laid-out page; poster.h binds, lays out and
 * checks, and is what every command and endpoint calls: errors stop the
 * poster, warnings are printed or shown. Each finding has a code
 * (diag.h).
 */
#ifndef QP_CHECK_H
#define QP_CHECK_H

#include "diag.h"
#include "layout.h"

/* Thresholds (documented in templates/LANGUAGES.md). */
#define QP_WCAG_AA_NORMAL 4.5  /* WCAG 2.1 1.4.3, text */
#define QP_WCAG_AA_LARGE 3.0   /* >= 18pt, or >= 14pt bold */
#define QP_QR_MIN_CONTRAST 3.0 /* WCAG 2.1 1.4.11, graphics: error below */
#define QP_QR_GOOD_CONTRAST 4.5 /* warning below */
#define QP_IMAGE_MIN_PPI 150    /* a PNG/JPEG at print size: error below */
#define QP_IMAGE_GOOD_PPI 300   /* warning below */

struct qp_law;

/* The National Human Trafficking Hotline's number (Polaris, for HHS). */
#define QP_NATIONAL_HOTLINE "1-888-373-7888"

/* How the poster will be printed, and the laws it must meet. */
typedef struct qp_check_opts {
	double bleed; /* points; > 0: the page will be trimmed, so the
	               * template's margin is a safe area nothing may cross */
	const struct qp_law *const *laws; /* posting-law packs (law.h) the
	                                   * poster step checks it against */
	size_t nlaws;
} qp_check_opts;

/*
 * Check a laid-out page against its template (o may be NULL: no bleed).
 * Adds to out:
 * errors - text below the template's min_text_size (text-too-small);
 *   text contrast below WCAG 2.1 AA against the page or the rectangle
 *   behind it (text-contrast); a QR code with too little contrast
 *   (qr-contrast) or inverted (qr-inverted); a QR smaller than its scan
 *   distance asks (qr-scan-distance) or with modules below its
 *   min_module (qr-module-too-small); another block inside a QR code's
 *   quiet zone (qr-quiet-zone); two text blocks whose ink overlaps
 *   (text-overlap); text or a code outside the page (off-page), or, when
 *   a bleed is set, outside the safe area, the page inset by its margin
 *   (outside-safe-area); a PNG or JPEG below QP_IMAGE_MIN_PPI at its
 *   printed size (image-low-ppi); a code with a logo that does not
 *   decode (qr-logo-unreadable, verify.h);
 * warnings - a code with only fair contrast (qr-contrast-fair); a
 *   picture below QP_IMAGE_GOOD_PPI (image-fair-ppi); text whose
 *   size.min is below min_text_size although this poster's text did not
 *   shrink that far (text-may-shrink).
 * Returns true when it added no error.
 */
bool qp_check_page(const qp_template *t, const qp_page *page,
    const qp_check_opts *o, qp_diag_list *out);

/*
 * The wording follows the number: when the variable 'hotline' holds
 * another number than QP_NATIONAL_HOTLINE, a text the template draws
 * whose own words (its text or a default; not a value given[] says was
 * given) name the national hotline (its name in the languages the
 * bundled templates carry, its numbers, its site, "200 languages",
 * "funded by the Federal government") is a national-wording warning.
 * values[] and given[] as the page was laid out with.
 */
void qp_check_wording(const qp_template *t, const qp_page *page,
    const char *const *values, const bool *given, qp_diag_list *out);

#endif
