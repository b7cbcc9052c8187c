/*
 * layout_fit.c - shrink-to-fit, and the memo of fitted texts.
 *
 * The rule is the bisection in qp_fit_shrink(): ask whether the text fits
 * at max, then at min, then halve [min, max] until it is 1/8 pt wide or
 * less; the answer is the last size found to fit. Each question's true
 * answer is what a Pango layout at that size measures (qp_fit_at). That
 * rule, and so every size it gives, is as it always was
 * (tests/test_fit.c holds the sizes of every bundled template over the
 * 540 shared stations to it).
 *
 * What is new is how the questions are answered. Laying text out (Pango
 * itemising and HarfBuzz shaping) was two thirds of a batch's time when
 * every question was a layout: 8 to 10 per varying block per row. Most
 * questions need none:
 *
 * - Text is laid out unhinted (qp_layout_ctx_new: no hinting, unhinted
 *   metrics, unrounded glyph positions). Then every advance, kerning
 *   value, ascent, descent and line height is a font value times
 *   size / units-per-em, rounded once to a Pango unit (1/1024 pt). A
 *   layout that does not wrap therefore scales with the size: its
 *   extents at s are s/s0 times its extents at s0, to within a rounding
 *   bound of about a unit per glyph for widths and a few units per line
 *   for heights (err_w, err_h below; measured on the bundled texts, the
 *   error is under a fifth of that bound). One layout thus answers every
 *   question whose size is further from the limit than the bound; only a
 *   question that close is laid out, and each layout made is one more
 *   exact answer and a better base for the prediction.
 * - The first layout is made at the size the block was last fitted at
 *   (the memo's 'last'): a batch's rows mostly fit at the same size, so a
 *   row usually costs exactly the one layout its item needs anyway.
 * - The answer is confirmed by the layout the item keeps (at the size
 *   found; a refusal by one at min): if a predicted answer is wrong after
 *   all, the whole bisection is redone with a layout per question.
 *
 * Where the model does not hold, every question is a layout, as before:
 * a layout at a size where it wraps (its line breaks move with the
 * size; one that wraps at no size asked about is predicted), tabs (their
 * stops jump), markup that sets an absolute size, a scale (<small>,
 * <sup>: the derived size is rounded), letter spacing, a rise or a shape,
 * and fonts whose metrics are not plain outlines scaled (bitmap strikes,
 * variable fonts, whose optical size follows the size; AAT tracking).
 *
 * Keeping the size found while checking a row for the rendering of that
 * row was the other option; it needs memory per row (or a second channel
 * between the processes that check and the one that draws), where this
 * needs none and makes the second fit cost its one layout.
 */
#include "layout_int.h"

#include <hb.h>
#include <stdlib.h>
#include <string.h>

bool
qp_fit_at(PangoLayout *layout, PangoFontDescription *d, double size,
    const qp_fit_box *f, PangoRectangle *ext)
{
	pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
	pango_layout_set_font_description(layout, d);
	pango_layout_get_extents(layout, NULL, ext);
	/* A hundredth of a point of slack for rounding in Pango units. */
	return ext->x >= -PANGO_SCALE / 100 &&
	    ext->x + ext->width <= (f->w + 0.01) * PANGO_SCALE &&
	    ext->height <= (f->h + 0.01) * PANGO_SCALE;
}

/* ---- answering the bisection's questions --------------------------------- */

/* One layout made: its size as Pango stores it, what it measured. */
typedef struct probe {
	int scale;          /* font size, Pango units (truncated, as Pango does) */
	bool fits;
	bool base;          /* usable as a base for predictions */
	PangoRectangle ext; /* logical extents */
	int widest;         /* widest line, Pango units */
	int glyphs, lines;
} probe;

/*
 * A block's first fit (no size to start from) starts from a layout at
 * this size, whatever the block's range: any size is a base for the
 * predictions, and the same one for every block shares its fonts. Pango
 * makes a font set, and fontconfig sorts every installed font for it, for
 * each size and weight laid out: 8 M instructions each, where a layout
 * is one. Starting each block at its maximum made the restroom poster
 * 17 font sets where 11 are needed (callgrind: 56 M instructions, 3 % of
 * a 540-page run).
 */
#define FIRST_PROBE 12.0

/* The bisection asks at most 2 + log2((max - min) / 0.125) questions. */
#define MAX_PROBES 40

typedef struct fitter {
	PangoLayout *layout;
	PangoFontDescription *d;
	const qp_fit_box *f;
	bool model;   /* the layout's text and attributes scale (see above) */
	bool fonts_checked, fonts_ok;
	int width;    /* the layout's wrap width, Pango units, or -1 */
	double spacing;
	double lim_w, lim_h; /* qp_fit_at's limits, Pango units */
	probe p[MAX_PROBES];
	int np;
	int current; /* the scale the layout is laid out at, or -1 */
} fitter;

static int
scale_of(double size)
{
	/* pango_font_description_set_absolute_size() stores an int. */
	return (int)(size * PANGO_SCALE);
}

/* Attributes whose effect does not depend on the size (a whitelist: a
 * type Pango adds later gets a layout per question). */
static bool
attr_scales(const PangoAttribute *a)
{
	switch (a->klass->type) {
	case PANGO_ATTR_LANGUAGE:
	case PANGO_ATTR_FAMILY:
	case PANGO_ATTR_STYLE:
	case PANGO_ATTR_WEIGHT:
	case PANGO_ATTR_VARIANT:
	case PANGO_ATTR_STRETCH:
	case PANGO_ATTR_FOREGROUND:
	case PANGO_ATTR_BACKGROUND:
	case PANGO_ATTR_UNDERLINE:
	case PANGO_ATTR_STRIKETHROUGH:
	case PANGO_ATTR_UNDERLINE_COLOR:
	case PANGO_ATTR_STRIKETHROUGH_COLOR:
	case PANGO_ATTR_FALLBACK:
	case PANGO_ATTR_FOREGROUND_ALPHA:
	case PANGO_ATTR_BACKGROUND_ALPHA:
	case PANGO_ATTR_ALLOW_BREAKS:
	case PANGO_ATTR_INSERT_HYPHENS:
	case PANGO_ATTR_OVERLINE:
	case PANGO_ATTR_OVERLINE_COLOR:
		return true;
	case PANGO_ATTR_FONT_DESC:
		/* <span font="Noto Sans Bold"> scales; "... 12" does not. */
		return !(pango_font_description_get_set_fields(
		    ((const PangoAttrFontDesc *)a)->desc) &
		    PANGO_FONT_MASK_SIZE);
	default:
		return false;
	}
}

static bool
layout_scales(PangoLayout *layout)
{
	PangoAttrList *al = pango_layout_get_attributes(layout);
	GSList *list, *l;
	bool ok = true;

	if (strchr(pango_layout_get_text(layout), '\t') != NULL)
		return false;
	if (al == NULL)
		return true;
	list = pango_attr_list_get_attributes(al);
	for (l = list; l; l = l->next)
		ok = ok && attr_scales(l->data);
	g_slist_free_full(list, (GDestroyNotify)pango_attribute_destroy);
	return ok;
}

/* A font drawn from outlines scaled linearly: no bitmap strikes, no
 * variation axes (fontconfig sets the optical size from the size), no
 * AAT tracking (which follows the point size). */
static bool
face_scales(hb_face_t *face)
{
	hb_tag_t tags[64];
	unsigned n = sizeof tags / sizeof tags[0], start = 0, total;
	bool outlines = false;

	total = hb_face_get_table_tags(face, 0, NULL, NULL);
	while (start < total) {
		n = sizeof tags / sizeof tags[0];
		hb_face_get_table_tags(face, start, &n, tags);
		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			hb_tag_t t = tags[i];
			if (t == HB_TAG('g', 'l', 'y', 'f') ||
			    t == HB_TAG('C', 'F', 'F', ' ') ||
			    t == HB_TAG('C', 'F', 'F', '2'))
				outlines = true;
			if (t == HB_TAG('f', 'v', 'a', 'r') ||
			    t == HB_TAG('t', 'r', 'a', 'k') ||
			    t == HB_TAG('s', 'b', 'i', 'x') ||
			    t == HB_TAG('C', 'B', 'D', 'T') ||
			    t == HB_TAG('E', 'B', 'D', 'T'))
				return false;
		}
		start += n;
	}
	return outlines;
}

/* Every font the layout's runs use scales, and no glyph is missing (the
 * hex boxes Pango draws for those are not plain glyphs). */
static bool
fonts_scale(PangoLayout *layout)
{
	PangoLayoutIter *it;
	bool ok = true;

	if (pango_layout_get_unknown_glyphs_count(layout) > 0)
		return false;
	it = pango_layout_get_iter(layout);
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		hb_font_t *hb;

		if (run == NULL || run->item->analysis.font == NULL)
			continue;
		hb = pango_font_get_hb_font(run->item->analysis.font);
		ok = hb != NULL && face_scales(hb_font_get_face(hb));
	} while (ok && pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	return ok;
}

/* A real layout at size: an exact answer, and a base for predictions. */
static bool
measure(fitter *z, double size)
{
	probe p = {0};
	GSList *l;

	p.scale = scale_of(size);
	p.fits = qp_fit_at(z->layout, z->d, size, z->f, &p.ext);
	z->current = p.scale;
	if (z->np == MAX_PROBES)
		return p.fits;
	if (z->model && !z->fonts_checked) {
		z->fonts_ok = fonts_scale(z->layout);
		z->fonts_checked = true;
	}
	p.base = z->model && z->fonts_ok &&
	    !(z->width >= 0 && pango_layout_is_wrapped(z->layout));
	if (p.base) {
		PangoLayoutIter *it = pango_layout_get_iter(z->layout);
		do {
			PangoLayoutRun *run = pango_layout_iter_get_run_readonly(
			    it);
			if (run)
				p.glyphs += run->glyphs->num_glyphs;
		} while (pango_layout_iter_next_run(it));
		pango_layout_iter_free(it);
		for (l = pango_layout_get_lines_readonly(z->layout); l;
		    l = l->next) {
			PangoRectangle lr;
			pango_layout_line_get_extents(l->data, NULL, &lr);
			if (lr.width > p.widest)
				p.widest = lr.width;
			p.lines++;
		}
	}
	z->p[z->np++] = p;
	return p.fits;
}

/*
 * Does the text fit at size? From a layout at that very size if one was
 * made; else predicted from the nearest base layout when the prediction
 * is clear of the limits by more than the rounding bound; else laid out.
 */
static bool
answer(fitter *z, double size)
{
	int s = scale_of(size);
	const probe *b = NULL;
	double near = 0, r, err_w, err_h, right, h;

	for (int i = 0; i < z->np; i++) {
		const probe *p = &z->p[i];
		double d;

		if (p->scale == s)
			return p->fits;
		/* The base nearest in ratio: the smallest rounding bound. */
		d = s > p->scale ? (double)s / p->scale : (double)p->scale / s;
		if (p->base && (b == NULL || d < near)) {
			b = p;
			near = d;
		}
	}
	if (b == NULL)
		return measure(z, size);
	r = (double)s / b->scale;
	/*
	 * Rounding, at the base size and at this one: each glyph's advance
	 * and kerning are rounded to a unit, each line's ascent, descent and
	 * spaced height (and the centring offset) to a unit or two.
	 */
	err_w = (1 + r) * (b->glyphs + 8);
	err_h = (1 + r) * (4 + 2 * b->lines * (1 + z->spacing));
	h = r * b->ext.height;
	/* Too tall as it is; wrapping would only add lines. */
	if (h - err_h > z->lim_h)
		return false;
	if (z->width >= 0) {
		/*
		 * A wrapping layout that did not wrap: at this size it still
		 * does not if its widest line stays inside the width; its
		 * lines then lie inside the box, and only the height counts.
		 */
		if (r * b->widest + err_w > z->width)
			return measure(z, size);
		if (h + err_h <= z->lim_h)
			return true;
		return measure(z, size);
	}
	/*
	 * Without a width, Pango aligns each line within the widest one:
	 * every line starts at x >= 0 whatever the size, and the right edge
	 * is the widest line's width.
	 */
	right = r * (b->ext.x + b->ext.width);
	if (right - err_w > z->lim_w)
		return false;
	if (b->ext.x >= 0 && right + err_w <= z->lim_w && h + err_h <= z->lim_h)
		return true;
	return measure(z, size);
}

/* The bisection. Every answer comes from ask; it never changes. */
static double
bisect(fitter *z, double max, double min, bool (*ask)(fitter *, double))
{
	double lo = min, hi = max;

	if (ask(z, max))
		return max;
	if (!ask(z, min))
		return 0;
	while (hi - lo > 0.125) {
		double mid = (lo + hi) / 2;
		if (ask(z, mid))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

double
qp_fit_shrink(PangoLayout *layout, PangoFontDescription *d, double max,
    double min, const qp_fit_box *f, double guess)
{
	fitter z = {0};
	double size, at;

	z.layout = layout;
	z.d = d;
	z.f = f;
	z.current = -1;
	z.model = layout_scales(layout);
	z.width = pango_layout_get_width(layout);
	z.spacing = pango_layout_get_line_spacing(layout);
	z.lim_w = (f->w + 0.01) * PANGO_SCALE;
	z.lim_h = (f->h + 0.01) * PANGO_SCALE;
	if (guess >= min && guess <= max)
		measure(&z, guess);
	else if (z.model)
		measure(&z, FIRST_PROBE);
	size = bisect(&z, max, min, answer);
	/*
	 * The item keeps the layout at the size found: lay it out there if
	 * the last layout was at another size, and so confirm the answer (a
	 * refusal is confirmed at min).
	 */
	at = size > 0 ? size : min;
	if (z.current != scale_of(at) && measure(&z, at) != (size > 0)) {
		/* A prediction was wrong: ask the layouts themselves. */
		z.np = 0;
		z.model = false;
		size = bisect(&z, max, min, measure);
		if (size > 0 && z.current != scale_of(size))
			measure(&z, size);
	}
	return size;
}

/* ---- the memo -------------------------------------------------------------- */

/*
 * A batch lays out the same headline, hotline and labels on every row,
 * and a value that repeats (a language column, a station's name on each
 * of its platforms) gives a block the same text again: each block keeps
 * its last few fitted items, reused when every input is the same (the
 * layout is shared by reference; pages never modify their layouts). A
 * few per block, not one per text seen: memory stays flat however many
 * rows a batch has.
 */
#define MEMO_WAYS 8

typedef struct memo_entry {
	qp_fit_key key; /* strings owned */
	qp_item item;   /* holds a layout reference */
	unsigned long used;
} memo_entry;

typedef struct memo_block {
	char *block;
	double last; /* the size last fitted: the next fit's first guess */
	memo_entry e[MEMO_WAYS];
	int n;
} memo_block;

struct qp_fit_memo {
	memo_block *b;
	size_t nb;
	unsigned long clock;
};

qp_fit_memo *
qp_fit_memo_new(void)
{
	return qp_xcalloc(1, sizeof(qp_fit_memo));
}

static void
entry_clear(memo_entry *e)
{
	free((char *)e->key.text);
	free((char *)e->key.font);
	free((char *)e->key.lang);
	if (e->item.layout)
		g_object_unref(e->item.layout);
	memset(e, 0, sizeof *e);
}

void
qp_fit_memo_free(qp_fit_memo *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		for (int k = 0; k < m->b[i].n; k++)
			entry_clear(&m->b[i].e[k]);
		free(m->b[i].block);
	}
	free(m->b);
	free(m);
}

static bool
str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
key_same(const qp_fit_key *a, const qp_fit_key *b)
{
	return a->markup == b->markup && a->rtl == b->rtl &&
	    a->wrap == b->wrap && a->align == b->align &&
	    a->valign == b->valign && a->max == b->max && a->min == b->min &&
	    a->spacing == b->spacing && a->x == b->x && a->y == b->y &&
	    a->w == b->w && a->h == b->h && str_same(a->lang, b->lang) &&
	    str_same(a->font, b->font) && strcmp(a->text, b->text) == 0;
}

static memo_block *
find_block(const qp_fit_memo *m, const char *block)
{
	for (size_t i = 0; i < m->nb; i++)
		if (strcmp(m->b[i].block, block) == 0)
			return &m->b[i];
	return NULL;
}

bool
qp_fit_memo_get(qp_fit_memo *m, const char *block, const qp_fit_key *k,
    qp_item *it)
{
	memo_block *b = find_block(m, block);

	if (b == NULL)
		return false;
	for (int i = 0; i < b->n; i++)
		if (key_same(&b->e[i].key, k)) {
			b->e[i].used = ++m->clock;
			*it = b->e[i].item;
			g_object_ref(it->layout);
			return true;
		}
	return false;
}

void
qp_fit_memo_put(qp_fit_memo *m, const char *block, const qp_fit_key *k,
    const qp_item *it)
{
	memo_block *b = find_block(m, block);
	memo_entry *e;

	if (b == NULL) {
		m->b = qp_xrealloc(m->b, (m->nb + 1) * sizeof *m->b);
		b = &m->b[m->nb++];
		memset(b, 0, sizeof *b);
		b->block = qp_xstrdup(block);
	}
	b->last = it->font_size;
	if (b->n < MEMO_WAYS)
		e = &b->e[b->n++];
	else {
		/* The least recently used one makes room. */
		e = &b->e[0];
		for (int i = 1; i < b->n; i++)
			if (b->e[i].used < e->used)
				e = &b->e[i];
		entry_clear(e);
	}
	e->key = *k;
	e->key.text = qp_xstrdup(k->text);
	e->key.font = k->font ? qp_xstrdup(k->font) : NULL;
	e->key.lang = k->lang ? qp_xstrdup(k->lang) : NULL;
	e->item = *it;
	g_object_ref(e->item.layout);
	e->used = ++m->clock;
}

double
qp_fit_memo_last(const qp_fit_memo *m, const char *block)
{
	const memo_block *b = find_block(m, block);

	return b ? b->last : 0;
}
