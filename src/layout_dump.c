/*
 * layout_dump.c - a display list as readable text, one fact a line, for
 * golden files (tests/golden/) whose diffs show what a layout change
 * moved: boxes in points to 0.01, fitted font sizes to 1/8 pt, the text
 * as Pango broke it into lines, QR version, ECC level, modules, module
 * size and quiet zone, and colours.
 *
 * Deterministic and locale-independent: numbers are rounded to integers
 * and printed with integer arithmetic (never %f, whose decimal point is
 * the locale's), items in display-list order, nothing from the clock or
 * the environment.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* v rounded to 1/den (den a power of ten, or 8), printed with digits
 * decimals: "-12.50", "23.625". */
static void
put_fixed(qp_buf *b, double v, long den, int digits)
{
	long long q = llround(v * (double)den);
	long long whole, frac, scale = 1;

	for (int i = 0; i < digits; i++)
		scale *= 10;
	if (q < 0) {
		qp_buf_addc(b, '-');
		q = -q;
	}
	whole = q / den;
	/* The fraction q % den of den, in units of 1/scale (exact for
	 * den = 8 with 3 digits and den = 10^digits). */
	frac = (q % den) * scale / den;
	qp_buf_printf(b, "%lld.%0*lld", whole, digits, frac);
}

static void
put_pt(qp_buf *b, double v)
{
	put_fixed(b, v, 100, 2);
}

static void
put_color(qp_buf *b, qp_color c)
{
	long r = lround(c.r * 255), g = lround(c.g * 255);
	long bl = lround(c.b * 255), a = lround(c.a * 255);

	qp_buf_printf(b, "#%02lX%02lX%02lX", r, g, bl);
	if (a != 255)
		qp_buf_printf(b, "%02lX", a);
	if (c.cmyk)
		qp_buf_printf(b, " cmyk(%ld,%ld,%ld,%ld)", lround(c.c * 100),
		    lround(c.m * 100), lround(c.y * 100), lround(c.k * 100));
}

static void
put_box(qp_buf *b, const qp_item *it)
{
	qp_buf_adds(b, "  box ");
	put_pt(b, it->x);
	qp_buf_addc(b, ' ');
	put_pt(b, it->y);
	qp_buf_addc(b, ' ');
	put_pt(b, it->w);
	qp_buf_addc(b, ' ');
	put_pt(b, it->h);
	qp_buf_addc(b, '\n');
}

/* A string in double quotes, controls and direction marks made visible
 * and quotes and backslashes escaped, so each value stays on its line. */
static void
put_quoted(qp_buf *b, const char *s, size_t n)
{
	char *copy = qp_xstrndup(s, n);
	qp_buf v;

	qp_buf_init(&v);
	qp_visible(copy, &v);
	qp_buf_addc(b, '"');
	for (size_t i = 0; i < v.len; i++) {
		char c = v.data[i];
		if (c == '"' || c == '\\')
			qp_buf_addc(b, '\\');
		if (c == '\n')
			qp_buf_adds(b, "\\n");
		else if (c == '\t')
			qp_buf_adds(b, "\\t");
		else
			qp_buf_addc(b, c);
	}
	qp_buf_addc(b, '"');
	qp_buf_free(&v);
	free(copy);
}

/*
 * The families the text's runs are really drawn with, in order of first
 * use: the block's font, and any fallback layout chose for a script it
 * lacks (an Arabic name in a Latin block).
 */
static void
dump_fonts(qp_buf *b, PangoLayout *layout)
{
	PangoLayoutIter *iter = pango_layout_get_iter(layout);
	char *seen[16];
	size_t n = 0;

	qp_buf_adds(b, "  font");
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		PangoFontDescription *fd;
		const char *fam;
		size_t i;

		if (run == NULL || run->item->analysis.font == NULL)
			continue;
		fd = pango_font_describe(run->item->analysis.font);
		fam = pango_font_description_get_family(fd);
		for (i = 0; i < n && fam; i++)
			if (strcmp(seen[i], fam) == 0)
				break;
		if (fam && i == n && n < 16) {
			seen[n++] = qp_xstrdup(fam);
			qp_buf_addc(b, ' ');
			put_quoted(b, fam, strlen(fam));
		}
		pango_font_description_free(fd);
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
	qp_buf_addc(b, '\n');
}

static void
dump_text(qp_buf *b, const qp_item *it)
{
	const char *text = pango_layout_get_text(it->layout);
	const PangoFontDescription *fd =
	    pango_layout_get_font_description(it->layout);
	PangoRectangle ink, logical;
	GSList *l;

	qp_buf_adds(b, "  size ");
	put_fixed(b, it->font_size, 8, 3);
	qp_buf_adds(b, "pt color ");
	put_color(b, it->color);
	qp_buf_addc(b, '\n');
	(void)fd;
	dump_fonts(b, it->layout);
	pango_layout_get_extents(it->layout, &ink, &logical);
	qp_buf_adds(b, "  extent ");
	put_pt(b, logical.width / (double)PANGO_SCALE);
	qp_buf_addc(b, ' ');
	put_pt(b, logical.height / (double)PANGO_SCALE);
	qp_buf_printf(b, " lines %d\n", pango_layout_get_line_count(
	    it->layout));
	for (l = pango_layout_get_lines_readonly(it->layout); l; l = l->next) {
		const PangoLayoutLine *line = l->data;
		size_t start = (size_t)line->start_index;
		size_t n = (size_t)line->length;

		qp_buf_adds(b, "  | ");
		put_quoted(b, text + start, n);
		qp_buf_addc(b, '\n');
	}
}

static void
dump_qr(qp_buf *b, const qp_item *it)
{
	const qp_qr *q = it->qr;
	int side = q->width + 2 * it->quiet;

	qp_buf_printf(b, "  qr version %d ecc %c modules %d quiet %d "
	    "module ", q->version, qp_qr_ecc_name(q->ecc), q->width,
	    it->quiet);
	put_pt(b, side > 0 ? it->w / side : 0);
	qp_buf_printf(b, "pt eci %s\n", q->eci ? "yes" : "no");
	qp_buf_adds(b, "  dark ");
	put_color(b, it->color);
	qp_buf_adds(b, " light ");
	put_color(b, it->background);
	qp_buf_addc(b, '\n');
	if (it->link) {
		qp_buf_adds(b, "  link ");
		put_quoted(b, it->link, strlen(it->link));
		qp_buf_addc(b, '\n');
	}
	if (it->image && it->block) {
		const char *f = it->block->u.qr.logo_file;
		qp_buf_adds(b, "  logo ");
		put_quoted(b, f, strlen(f));
		qp_buf_adds(b, " in ");
		put_pt(b, it->ix);
		qp_buf_addc(b, ' ');
		put_pt(b, it->iy);
		qp_buf_addc(b, ' ');
		put_pt(b, it->iw);
		qp_buf_printf(b, " ppi %ld\n", lround(it->ppi));
	}
}

/* A picture: its file as the template names it, where it is drawn (its
 * fit inside the box above), and its resolution there. */
static void
dump_image(qp_buf *b, const qp_item *it)
{
	const char *f = it->block ? it->block->u.image.file : "";

	qp_buf_adds(b, "  file ");
	put_quoted(b, f, strlen(f));
	qp_buf_adds(b, " at ");
	put_pt(b, it->ix);
	qp_buf_addc(b, ' ');
	put_pt(b, it->iy);
	qp_buf_addc(b, ' ');
	put_pt(b, it->iw);
	qp_buf_addc(b, ' ');
	put_pt(b, it->ih);
	qp_buf_printf(b, " opacity %ld%% ppi %ld\n", lround(it->opacity * 100),
	    lround(it->ppi));
}

void
qp_page_dump(const qp_page *page, qp_buf *out)
{
	static const char *const kinds[] = {"rect", "text", "qr", "image"};

	qp_buf_adds(out, "page ");
	put_pt(out, page->w);
	qp_buf_adds(out, " x ");
	put_pt(out, page->h);
	qp_buf_adds(out, " background ");
	put_color(out, page->background);
	qp_buf_addc(out, '\n');
	if (page->title) {
		qp_buf_adds(out, "title ");
		put_quoted(out, page->title, strlen(page->title));
		qp_buf_addc(out, '\n');
	}
	if (page->subject) {
		qp_buf_adds(out, "subject ");
		put_quoted(out, page->subject, strlen(page->subject));
		qp_buf_addc(out, '\n');
	}
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];

		qp_buf_printf(out, "%zu %s", i + 1,
		    (unsigned)it->kind < 4 ? kinds[it->kind] : "?");
		if (it->block) {
			qp_buf_addc(out, ' ');
			put_quoted(out, it->block->id, strlen(it->block->id));
			qp_buf_printf(out, " line %d", it->block->line);
		}
		qp_buf_addc(out, '\n');
		put_box(out, it);
		switch (it->kind) {
		case QP_ITEM_RECT:
			qp_buf_adds(out, "  fill ");
			put_color(out, it->color);
			if (it->has_stroke) {
				qp_buf_adds(out, " stroke ");
				put_color(out, it->stroke);
				qp_buf_addc(out, ' ');
				put_pt(out, it->stroke_width);
			}
			qp_buf_addc(out, '\n');
			break;
		case QP_ITEM_TEXT:
			if (it->layout)
				dump_text(out, it);
			break;
		case QP_ITEM_QR:
			if (it->qr)
				dump_qr(out, it);
			break;
		case QP_ITEM_IMAGE:
			dump_image(out, it);
			break;
		}
	}
}
