/*
 * check.c - preflight checks over a laid-out page.
 *
 * Everything is measured on what will be drawn: the ink of each text
 * run as Pango shaped it (its real size, weight and colour, markup spans
 * included), the QR symbol with its quiet zone, and the rectangles
 * behind. Boxes in the template are intentions; ink is what a scanner
 * and a reader meet.
 */
#include "check.h"
#include "policy.h"

#include "image.h"
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
qp_diag_list_init(qp_diag_list *l)
{
	memset(l, 0, sizeof *l);
}

void
qp_diag_list_clear(qp_diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].block);
		free(l->v[i].msg);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

void
qp_diag_add(qp_diag_list *l, qp_severity sev, const char *block,
    const char *fmt, ...)
{
	qp_diag *d;
	qp_buf b;
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	qp_buf_init(&b);
	qp_buf_adds(&b, tmp);
	l->v = qp_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	d = &l->v[l->n++];
	d->sev = sev;
	d->block = block ? qp_xstrdup(block) : NULL;
	d->msg = qp_buf_steal(&b);
	if (sev == QP_DIAG_ERROR)
		l->nerrors++;
	else
		l->nwarnings++;
}

const char *
qp_severity_name(qp_severity sev)
{
	return sev == QP_DIAG_ERROR ? "error" : "warning";
}

typedef struct rect {
	double x0, y0, x1, y1;
} rect;

static bool
rect_empty(rect r)
{
	return r.x1 <= r.x0 || r.y1 <= r.y0;
}

static bool
overlaps(rect a, rect b)
{
	/* A hundredth of a point: abutting is not overlapping. */
	return a.x0 < b.x1 - 0.01 && b.x0 < a.x1 - 0.01 &&
	    a.y0 < b.y1 - 0.01 && b.y0 < a.y1 - 0.01;
}

static bool
covers(rect outer, rect inner)
{
	return outer.x0 <= inner.x0 + 0.01 && outer.y0 <= inner.y0 + 0.01 &&
	    outer.x1 >= inner.x1 - 0.01 && outer.y1 >= inner.y1 - 0.01;
}

static rect
pango_rect(const qp_item *it, const PangoRectangle *r)
{
	rect o;

	o.x0 = it->x + r->x / (double)PANGO_SCALE;
	o.y0 = it->y + r->y / (double)PANGO_SCALE;
	o.x1 = o.x0 + r->width / (double)PANGO_SCALE;
	o.y1 = o.y0 + r->height / (double)PANGO_SCALE;
	return o;
}

/* The ink of a whole text item on the page. */
static rect
text_ink(const qp_item *it)
{
	PangoRectangle ink;

	pango_layout_get_extents(it->layout, &ink, NULL);
	return pango_rect(it, &ink);
}

static rect
item_rect(const qp_item *it)
{
	return (rect){it->x, it->y, it->x + it->w, it->y + it->h};
}

static void
hex(qp_color c, char *buf, size_t n)
{
	snprintf(buf, n, "#%02X%02X%02X", (int)lround(c.r * 255),
	    (int)lround(c.g * 255), (int)lround(c.b * 255));
}

/* c drawn with its alpha over bg. */
static qp_color
over(qp_color c, qp_color bg)
{
	double a = c.a;

	if (a >= 1)
		return c;
	return (qp_color){.r = c.r * a + bg.r * (1 - a),
	    .g = c.g * a + bg.g * (1 - a), .b = c.b * a + bg.b * (1 - a),
	    .a = 1};
}

/* A display name for the block an item came from. */
static const char *
item_name(const qp_item *it)
{
	return it->block ? it->block->id : "page";
}

static bool
is_caption(const qp_item *it)
{
	return it->kind == QP_ITEM_TEXT && it->block &&
	    it->block->kind == QP_BLOCK_QR;
}

/*
 * The colours behind r for item number upto: the opaque rectangles and
 * code backgrounds drawn before it that meet r, topmost first, down to
 * one that covers r entirely (or the page). Returns how many (<= max).
 */
static size_t
backgrounds(const qp_page *page, size_t upto, rect r, qp_color *bg,
    size_t max)
{
	size_t n = 0;

	for (size_t j = upto; j-- > 0 && n < max;) {
		const qp_item *o = &page->items[j];
		qp_color c;
		rect orr;

		if (o->kind == QP_ITEM_RECT && o->color.a > 0)
			c = over(o->color, page->background);
		else if (o->kind == QP_ITEM_QR)
			c = o->background;
		else
			continue;
		orr = item_rect(o);
		if (!overlaps(orr, r))
			continue;
		bg[n++] = c;
		if (covers(orr, r) && c.a >= 1)
			return n;
	}
	if (n < max)
		bg[n++] = page->background;
	return n;
}

typedef struct run_info {
	double size;   /* points */
	bool bold;
	qp_color color;
	rect ink;
} run_info;

static void
run_info_get(const qp_item *it, PangoLayoutIter *iter, PangoLayoutRun *run,
    run_info *ri)
{
	PangoFontDescription *fd;
	PangoRectangle ink;

	fd = pango_font_describe_with_absolute_size(run->item->analysis.font);
	ri->size = pango_font_description_get_size(fd) / (double)PANGO_SCALE;
	ri->bold = pango_font_description_get_weight(fd) >= PANGO_WEIGHT_BOLD;
	pango_font_description_free(fd);
	ri->color = it->color;
	for (GSList *a = run->item->analysis.extra_attrs; a; a = a->next) {
		PangoAttribute *attr = a->data;
		if (attr->klass->type == PANGO_ATTR_FOREGROUND) {
			PangoColor *pc = &((PangoAttrColor *)attr)->color;
			ri->color = (qp_color){.r = pc->red / 65535.0,
			    .g = pc->green / 65535.0, .b = pc->blue / 65535.0,
			    .a = 1};
		}
	}
	pango_layout_iter_get_run_extents(iter, &ink, NULL);
	ri->ink = pango_rect(it, &ink);
}

static void
check_text(const qp_template *t, const qp_page *page, size_t idx,
    qp_diag_list *out)
{
	const qp_item *it = &page->items[idx];
	const char *name = item_name(it);
	PangoLayoutIter *iter = pango_layout_get_iter(it->layout);
	double min_size = INFINITY, worst = INFINITY, worst_need = 0;
	qp_color worst_fg = {0}, worst_bg = {0};
	double worst_size = 0;

	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		qp_color bg[16];
		run_info ri;
		size_t nbg;
		double need;

		if (run == NULL)
			continue;
		run_info_get(it, iter, run, &ri);
		if (rect_empty(ri.ink))
			continue; /* spaces: nothing to read */
		if (ri.size < min_size)
			min_size = ri.size;
		need = ri.size >= 18 - 0.01 || (ri.bold && ri.size >= 14 - 0.01) ?
		    QP_WCAG_AA_LARGE : QP_WCAG_AA_NORMAL;
		nbg = backgrounds(page, idx, ri.ink, bg, 16);
		for (size_t k = 0; k < nbg; k++) {
			qp_color fg = over(ri.color, bg[k]);
			double c = qp_color_contrast(fg, bg[k]);
			if (c / need < worst / (worst_need > 0 ? worst_need : 1)) {
				worst = c;
				worst_need = need;
				worst_fg = fg;
				worst_bg = bg[k];
				worst_size = ri.size;
			}
		}
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	if (isinf(min_size))
		return;
	if (t->min_text_size > 0 && min_size < t->min_text_size - 0.01)
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s'%s: text set "
		    "at %.1fpt, below the template's min_text_size %.1fpt "
		    "(raise the box or size.min, or shorten the text)", name,
		    is_caption(it) ? " caption" : "", min_size,
		    t->min_text_size);
	else if (t->min_text_size > 0 && !is_caption(it) &&
	    it->block->u.text.size_min < t->min_text_size - 0.01)
		qp_diag_add(out, QP_DIAG_WARNING, name, "block '%s': size.min "
		    "%.1fpt is below min_text_size %.1fpt; longer text could "
		    "shrink below it", name, it->block->u.text.size_min,
		    t->min_text_size);
	if (worst_need > 0 && worst < worst_need - 0.005) {
		char f[8], b[8];

		hex(worst_fg, f, sizeof f);
		hex(worst_bg, b, sizeof b);
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s'%s: text "
		    "contrast %.2f:1 (%s on %s, %.1fpt) is below WCAG 2.1 AA "
		    "%.1f:1 for %s text", name, is_caption(it) ? " caption" :
		    "", worst, f, b, worst_size, worst_need,
		    worst_need == QP_WCAG_AA_LARGE ? "large" : "normal-size");
	}
}

static void
check_safe_area(const qp_template *t, const qp_page *page,
    const qp_check_opts *o, const char *name, const char *what, rect r,
    qp_diag_list *out)
{
	/* Without a bleed nothing is trimmed: only the page edge counts. */
	double inset = o && o->bleed > 0 ? t->margin : 0;
	rect safe = {inset, inset, page->w - inset, page->h - inset};
	double worst = 0;
	const char *side = NULL;

	if (rect_empty(r) || covers(safe, r))
		return;
	if (safe.x0 - r.x0 > worst)
		worst = safe.x0 - r.x0, side = "left";
	if (safe.y0 - r.y0 > worst)
		worst = safe.y0 - r.y0, side = "top";
	if (r.x1 - safe.x1 > worst)
		worst = r.x1 - safe.x1, side = "right";
	if (r.y1 - safe.y1 > worst)
		worst = r.y1 - safe.y1, side = "bottom";
	if (side == NULL || worst < 0.01)
		return;
	if (inset > 0)
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': its %s "
		    "reaches %.2fin into the %.2fin margin at the %s edge "
		    "(outside the safe area; with a bleed the trim may cut it)",
		    name, what, worst / QP_PT_PER_IN, inset / QP_PT_PER_IN,
		    side);
	else
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': its %s runs "
		    "%.2fin off the %s edge of the page", name, what,
		    worst / QP_PT_PER_IN, side);
}

static void
check_qr(const qp_template *t, const qp_page *page, size_t idx,
    const qp_check_opts *o, qp_diag_list *out)
{
	const qp_item *it = &page->items[idx];
	const char *name = item_name(it);
	int n = it->qr->width + 2 * it->quiet;
	double m = it->w / n;
	rect sym = item_rect(it);
	rect dark = {it->x + it->quiet * m, it->y + it->quiet * m,
	    it->x + (it->quiet + it->qr->width) * m,
	    it->y + (it->quiet + it->qr->width) * m};
	double lc = qp_color_luminance(it->color);
	double lb = qp_color_luminance(it->background);
	double c = qp_color_contrast(it->color, it->background);
	char f[8], b[8];

	hex(it->color, f, sizeof f);
	hex(it->background, b, sizeof b);
	if (lc > lb)
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': the code is "
		    "inverted (light %s modules on a dark %s background); many "
		    "phone scanners cannot read it: make the modules dark and "
		    "the background light", name, f, b);
	else if (c < QP_QR_MIN_CONTRAST)
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': contrast "
		    "between the code (%s) and its background (%s) is %.2f:1, "
		    "below %.1f:1; scanners will miss it (black on white is "
		    "21:1)", name, f, b, c, QP_QR_MIN_CONTRAST);
	else if (c < QP_QR_GOOD_CONTRAST)
		qp_diag_add(out, QP_DIAG_WARNING, name, "block '%s': contrast "
		    "between the code (%s) and its background (%s) is only "
		    "%.2f:1; %.1f:1 or more scans reliably in poor light", name,
		    f, b, c, QP_QR_GOOD_CONTRAST);
	if (it->block && it->block->kind == QP_BLOCK_QR) {
		const qp_qr_spec *q = &it->block->u.qr;
		double code_cm = m * it->qr->width / QP_PT_PER_MM / 10;

		if (m < q->min_module - 1e-9)
			qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': "
			    "modules are %.2fmm, below the printable minimum "
			    "%.2fmm", name, m / QP_PT_PER_MM,
			    q->min_module / QP_PT_PER_MM);
		if (q->scan_distance > 0 &&
		    code_cm < q->scan_distance * 10 - 1e-6)
			qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': the "
			    "code is %.1fcm wide but is meant to be scanned "
			    "from %.2gm; it should be at least %.1fcm (a tenth "
			    "of the distance)", name, code_cm, q->scan_distance,
			    q->scan_distance * 10);
	}
	/* The quiet zone may be trimmed to the page edge, never the code. */
	check_safe_area(t, page, o, name, "code", dark, out);
	/* Anything drawn over the symbol, or any text or code it meets. */
	for (size_t j = 0; j < page->nitems; j++) {
		const qp_item *oi = &page->items[j];
		rect orr;

		if (j == idx || oi->block == it->block)
			continue;
		if (oi->kind == QP_ITEM_TEXT)
			orr = text_ink(oi);
		else if (oi->kind == QP_ITEM_QR || ((oi->kind == QP_ITEM_RECT ||
		    oi->kind == QP_ITEM_IMAGE) && j > idx))
			orr = item_rect(oi);
		else
			continue; /* a rectangle underneath: covered */
		if (oi->kind == QP_ITEM_QR && j < idx)
			continue; /* reported once, from the first */
		if (!rect_empty(orr) && overlaps(orr, sym))
			qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': "
			    "block '%s' reaches into the code or its %d-module "
			    "quiet zone (%.1fmm of clear space a scanner "
			    "needs)", name, item_name(oi), it->quiet,
			    it->quiet * m / QP_PT_PER_MM);
	}
}

/*
 * A PNG or JPEG at print size: under QP_IMAGE_MIN_PPI it prints blurred
 * or blocky (an error), under QP_IMAGE_GOOD_PPI it is soft (a warning).
 */
static void
check_image(const qp_item *it, qp_diag_list *out)
{
	const char *name = item_name(it);
	const char *file = it->block == NULL ? "" : it->block->kind ==
	    QP_BLOCK_QR ? it->block->u.qr.logo_file : it->block->u.image.file;
	double w, h;

	if (it->ppi <= 0 || it->image == NULL)
		return;
	qp_image_size(it->image, &w, &h);
	if (it->ppi < QP_IMAGE_MIN_PPI)
		qp_diag_add(out, QP_DIAG_ERROR, name, "block '%s': '%s' prints "
		    "at %.0f ppi (%.0fx%.0f pixels over %.2fx%.2fin), below "
		    "the %d ppi a print needs; give a larger image or a "
		    "smaller box (%d ppi for sharp print)", name,
		    file, it->ppi, w, h, it->iw / 72,
		    it->ih / 72, QP_IMAGE_MIN_PPI, QP_IMAGE_GOOD_PPI);
	else if (it->ppi < QP_IMAGE_GOOD_PPI)
		qp_diag_add(out, QP_DIAG_WARNING, name, "block '%s': '%s' "
		    "prints at %.0f ppi (%.0fx%.0f pixels over %.2fx%.2fin); "
		    "%d ppi prints sharp", name, file,
		    it->ppi, w, h, it->iw / 72, it->ih / 72,
		    QP_IMAGE_GOOD_PPI);
}

bool
qp_check_page(const qp_template *t, const qp_page *page,
    const qp_check_opts *o, qp_diag_list *out)
{
	size_t before = out->nerrors;

	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];

		switch (it->kind) {
		case QP_ITEM_TEXT: {
			rect ink = text_ink(it);
			check_text(t, page, i, out);
			check_safe_area(t, page, o, item_name(it),
			    is_caption(it) ? "caption" : "text", ink, out);
			for (size_t j = i + 1; j < page->nitems; j++) {
				const qp_item *oi = &page->items[j];
				if (oi->kind != QP_ITEM_TEXT ||
				    oi->block == it->block)
					continue;
				if (overlaps(ink, text_ink(oi)))
					qp_diag_add(out, QP_DIAG_ERROR,
					    item_name(it), "block '%s': its "
					    "text overlaps block '%s'",
					    item_name(it), item_name(oi));
			}
			break;
		}
		case QP_ITEM_QR:
			check_qr(t, page, i, o, out);
			check_image(it, out); /* its logo, if any */
			break;
		case QP_ITEM_IMAGE:
			check_image(it, out);
			break;
		case QP_ITEM_RECT:
			break;
		}
	}
	/* A code with a logo must scan as drawn (render refuses it too). */
	if (out->nerrors == before) {
		qp_error err;
		if (!qp_verify_logos(page, &err))
			qp_diag_add(out, QP_DIAG_ERROR, NULL, "%s", err.msg);
	}
	qp_policy_check_page(t, page, out);
	return out->nerrors == before;
}

bool
qp_check_poster(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, const qp_check_opts *o, qp_diag_list *out,
    qp_page **pagep)
{
	size_t before = out->nerrors;
	qp_page *page;
	qp_error err;

	if (pagep)
		*pagep = NULL;
	page = qp_layout_page_diag(ctx, t, values, out, &err);
	if (page == NULL) {
		qp_diag_add(out, QP_DIAG_ERROR, NULL, "%s", err.msg);
		return false;
	}
	qp_check_page(t, page, o, out);
	if (pagep && out->nerrors == before)
		*pagep = page;
	else
		qp_page_free(page);
	return out->nerrors == before;
}
