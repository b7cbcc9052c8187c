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
#include <stdlib.h>
#include <string.h>

/* Where a finding about item it stands. */
static qp_diag_in
where(const qp_item *it)
{
	qp_diag_in in = {0};

	if (it->block) {
		in.block = it->block->id;
		in.line = it->block->line;
		in.col = it->block->col;
	}
	in.caption = it->kind == QP_ITEM_TEXT && it->block &&
	    it->block->kind == QP_BLOCK_QR;
	return in;
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
	if (t->min_text_size > 0 && min_size < t->min_text_size - 0.01) {
		qp_diag_in in = where(it);
		in.n[0] = min_size;
		in.n[1] = t->min_text_size;
		qp_diag_push(out, QP_D_TEXT_TOO_SMALL, &in);
	} else if (t->min_text_size > 0 && !is_caption(it) &&
	    it->block->u.text.size_min < t->min_text_size - 0.01) {
		qp_diag_in in = where(it);
		in.n[0] = it->block->u.text.size_min;
		in.n[1] = t->min_text_size;
		qp_diag_push(out, QP_D_TEXT_MAY_SHRINK, &in);
	}
	if (worst_need > 0 && worst < worst_need - 0.005) {
		qp_diag_in in = where(it);
		char f[8], b[8];

		hex(worst_fg, f, sizeof f);
		hex(worst_bg, b, sizeof b);
		in.n[0] = worst;
		in.n[1] = worst_size;
		in.n[2] = worst_need;
		in.s[0] = f;
		in.s[1] = b;
		qp_diag_push(out, QP_D_TEXT_CONTRAST, &in);
	}
}

static void
check_safe_area(const qp_template *t, const qp_page *page,
    const qp_check_opts *o, const qp_item *it, const char *what, rect r,
    qp_diag_list *out)
{
	qp_diag_in in = where(it);
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
	in.s[0] = what;
	in.s[1] = side;
	in.n[0] = worst / QP_PT_PER_IN;
	in.n[1] = inset / QP_PT_PER_IN;
	qp_diag_push(out, inset > 0 ? QP_D_OUTSIDE_SAFE_AREA : QP_D_OFF_PAGE,
	    &in);
}

static void
check_qr(const qp_template *t, const qp_page *page, size_t idx,
    const qp_check_opts *o, qp_diag_list *out)
{
	const qp_item *it = &page->items[idx];
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
	qp_diag_in in = where(it);

	hex(it->color, f, sizeof f);
	hex(it->background, b, sizeof b);
	in.s[0] = f;
	in.s[1] = b;
	in.n[0] = c;
	if (lc > lb)
		qp_diag_push(out, QP_D_QR_INVERTED, &in);
	else if (c < QP_QR_MIN_CONTRAST) {
		in.n[1] = QP_QR_MIN_CONTRAST;
		qp_diag_push(out, QP_D_QR_CONTRAST, &in);
	} else if (c < QP_QR_GOOD_CONTRAST) {
		in.n[1] = QP_QR_GOOD_CONTRAST;
		qp_diag_push(out, QP_D_QR_CONTRAST_FAIR, &in);
	}
	/* Layout refuses these before there is a page; a page made some
	 * other way is held to them too. */
	if (it->block && it->block->kind == QP_BLOCK_QR) {
		const qp_qr_spec *q = &it->block->u.qr;
		double code_cm = m * it->qr->width / QP_PT_PER_MM / 10;

		if (m < q->min_module - 1e-9) {
			in = where(it);
			in.n[0] = n;
			in.n[1] = it->qr->version;
			in.n[3] = it->qr->ecc;
			in.n[4] = it->w / QP_PT_PER_MM;
			in.n[5] = m / QP_PT_PER_MM;
			in.n[6] = q->min_module / QP_PT_PER_MM;
			qp_diag_push(out, QP_D_QR_MODULE_TOO_SMALL, &in);
		}
		if (q->scan_distance > 0 &&
		    code_cm < q->scan_distance * 10 - 1e-6) {
			in = where(it);
			in.n[0] = code_cm;
			in.n[1] = q->scan_distance;
			in.n[2] = q->scan_distance * 10;
			qp_diag_push(out, QP_D_QR_SCAN_DISTANCE, &in);
		}
	}
	/* The quiet zone may be trimmed to the page edge, never the code. */
	check_safe_area(t, page, o, it, "code", dark, out);
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
		if (!rect_empty(orr) && overlaps(orr, sym)) {
			in = where(it);
			in.s[0] = item_name(oi);
			in.n[0] = it->quiet;
			in.n[1] = it->quiet * m / QP_PT_PER_MM;
			qp_diag_push(out, QP_D_QR_QUIET_ZONE, &in);
		}
	}
}

/*
 * A PNG or JPEG at print size: under QP_IMAGE_MIN_PPI it prints blurred
 * or blocky (an error), under QP_IMAGE_GOOD_PPI it is soft (a warning).
 */
static void
check_image(const qp_item *it, qp_diag_list *out)
{
	const char *file = it->block == NULL ? "" : it->block->kind ==
	    QP_BLOCK_QR ? it->block->u.qr.logo_file : it->block->u.image.file;
	double w, h;

	if (it->ppi <= 0 || it->image == NULL)
		return;
	qp_image_size(it->image, &w, &h);
	if (it->ppi < QP_IMAGE_GOOD_PPI) {
		qp_diag_in in = where(it);

		in.caption = false;
		in.s[0] = file;
		in.n[0] = it->ppi;
		in.n[1] = w;
		in.n[2] = h;
		in.n[3] = it->iw / 72;
		in.n[4] = it->ih / 72;
		in.n[5] = QP_IMAGE_MIN_PPI;
		in.n[6] = QP_IMAGE_GOOD_PPI;
		qp_diag_push(out, it->ppi < QP_IMAGE_MIN_PPI ?
		    QP_D_IMAGE_LOW_PPI : QP_D_IMAGE_FAIR_PPI, &in);
	}
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
			check_safe_area(t, page, o, it,
			    is_caption(it) ? "caption" : "text", ink, out);
			for (size_t j = i + 1; j < page->nitems; j++) {
				const qp_item *oi = &page->items[j];
				if (oi->kind != QP_ITEM_TEXT ||
				    oi->block == it->block)
					continue;
				if (overlaps(ink, text_ink(oi))) {
					qp_diag_in in = where(it);
					in.s[0] = item_name(oi);
					qp_diag_push(out, QP_D_TEXT_OVERLAP,
					    &in);
				}
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

		if (!qp_verify_logos(page, &err)) {
			/* Named by the first code with a logo. */
			qp_diag_in in = {0};

			for (size_t i = 0; i < page->nitems; i++)
				if (page->items[i].kind == QP_ITEM_QR &&
				    page->items[i].payload) {
					in = where(&page->items[i]);
					break;
				}
			in.s[0] = err.msg;
			qp_diag_push(out, QP_D_QR_LOGO_UNREADABLE, &in);
		}
	}
	qp_policy_check_page(t, page, out);
	return out->nerrors == before;
}

/* ---- wording that names the national hotline -------------------------- */

/*
 * Words that belong to the National Human Trafficking Hotline: its name
 * (English, and the translations the bundled templates carry), its
 * number and text number, and what it alone promises. Its reporting
 * page is not among them: a state's poster may send reports there.
 * Matched without regard to ASCII case.
 */
static const char *const national_words[] = {
	"National Human Trafficking", "NHTRC", "Línea Nacional Contra la Trata",
	"الخط الساخن الوطني", "全國人口走私舉報熱線", "Đường dây nóng Quốc gia",
	"Pambansang Hotline", "전국 인신매매", "888-373-7888", "8883737888",
	"233733", "233-733", "200 languages",
	"160 languages", "funded by the Federal government",
};

/* s contains w, ASCII case ignored. */
static const char *
find_ci(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s; s++) {
		size_t i = 0;

		while (i < n && s[i] && ((unsigned char)s[i] < 0x80 ?
		    (s[i] | 0x20) == (w[i] | 0x20) || s[i] == w[i] :
		    s[i] == w[i]))
			i++;
		if (i == n)
			return s;
	}
	return NULL;
}

void
qp_check_wording(const qp_template *t, const qp_page *page,
    const char *const *values, const bool *given, qp_diag_list *out)
{
	long hv = qp_template_var(t, "hotline");
	bool *used;

	if (hv < 0 || values[hv] == NULL ||
	    qp_same_value(values[hv], QP_NATIONAL_HOTLINE))
		return;
	used = qp_xcalloc(t->nvars + 1, sizeof *used);
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		const char *text;

		if (it->kind != QP_ITEM_TEXT || it->layout == NULL ||
		    it->block == NULL)
			continue;
		/* Only one finding per block (a caption is its QR block's). */
		if (i > 0 && page->items[i - 1].block == it->block &&
		    page->items[i - 1].kind == QP_ITEM_TEXT)
			continue;
		text = pango_layout_get_text(it->layout);
		memset(used, 0, t->nvars * sizeof *used);
		qp_block_uses(t, it->block, is_caption(it), used);
		for (size_t w = 0; w < sizeof national_words /
		    sizeof national_words[0]; w++) {
			bool from_value = false;
			qp_diag_in in;

			if (find_ci(text, national_words[w]) == NULL)
				continue;
			/* The words must be the template's own (its text or
			 * a default), not a value someone gave. */
			for (size_t k = 0; k < t->nvars && !from_value; k++)
				from_value = used[k] && given[k] && values[k] &&
				    find_ci(values[k], national_words[w]);
			if (from_value)
				continue;
			in = where(it);
			in.s[0] = national_words[w];
			in.s[1] = values[hv];
			qp_diag_push(out, QP_D_NATIONAL_WORDING, &in);
			break;
		}
	}
	free(used);
}
