#ifndef QP_LAYOUT_INT_H
#define QP_LAYOUT_INT_H

/*
 * layout_int.h - what the files of the layout module share (not part of
 * the library's interface; that is layout.h):
 *
 *   layout.c      binding, blocks, text items, QR codes -> a page
 *   layout_fit.c  shrink-to-fit and the memo of fitted texts
 */
#include "layout.h"

/* The box a text must fit: w x h points; wrap: lines break at w. */
typedef struct qp_fit_box {
	double w, h;
	bool wrap;
} qp_fit_box;

/*
 * Lay out at size (points); true if the text's logical extents lie
 * inside the box (a hundredth of a point of slack). ext gets them.
 */
bool qp_fit_at(PangoLayout *layout, PangoFontDescription *d, double size,
    const qp_fit_box *f, PangoRectangle *ext);

/*
 * Shrink to fit: the largest size in [min, max], to the 1/8 pt of the
 * bisection in layout_fit.c, at which the layout fits f, with the layout
 * left laid out at that size. Returns 0 if it does not fit at min.
 * guess: a size likely to be the answer (the block's last, or 0): the
 * result does not depend on it, only the number of layouts made.
 */
double qp_fit_shrink(PangoLayout *layout, PangoFontDescription *d,
    double max, double min, const qp_fit_box *f, double guess);

/* Every input of a fitted text item but its block (strings borrowed). */
typedef struct qp_fit_key {
	const char *text; /* markup if markup, else plain text */
	const char *font;
	const char *lang; /* or NULL */
	bool markup, rtl, wrap;
	int align, valign;
	double max, min, spacing;
	double x, y, w, h;
} qp_fit_key;

/* Fitted text items remembered per block, a few texts each. */
typedef struct qp_fit_memo qp_fit_memo;

qp_fit_memo *qp_fit_memo_new(void);
void qp_fit_memo_free(qp_fit_memo *m);

/* The item fitted for block with key k: true and *it filled (holding its
 * own reference to the shared layout), or false. */
bool qp_fit_memo_get(qp_fit_memo *m, const char *block, const qp_fit_key *k,
    qp_item *it);
/* Remember it (the memo takes its own layout reference). */
void qp_fit_memo_put(qp_fit_memo *m, const char *block, const qp_fit_key *k,
    const qp_item *it);
/* The size block was last fitted at, or 0. */
double qp_fit_memo_last(const qp_fit_memo *m, const char *block);

#endif
