/*
 * layout.c - place blocks, fit text, size QR codes.
 *
 * Text shrinks from its maximum size towards its minimum until it fits
 * its box; if it cannot fit at the minimum that is an error naming the
 * block. Text is never clipped and never runs off the page.
 */
#include "layout_int.h"

#include "image.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fonts.h"

struct qp_layout_ctx {
	PangoFontMap *fontmap;
	PangoContext *pango;
	PangoContext *pango_rtl; /* the same, base direction right-to-left */
	/* Families already checked against fontconfig. */
	char **known;
	size_t nknown;
	qp_fit_memo *memo; /* fitted texts (layout_fit.c) */
};

qp_layout_ctx *
qp_layout_ctx_new(void)
{
	qp_layout_ctx *ctx = qp_xcalloc(1, sizeof *ctx);
	cairo_font_options_t *fo = cairo_font_options_create();

	ctx->memo = qp_fit_memo_new();
	/*
	 * A private font map per context (so worker threads never share
	 * one), 72 units per inch so a Pango point is a PDF point, and no
	 * hinting so text measures the same at every resolution.
	 */
	ctx->fontmap = pango_cairo_font_map_new();
	pango_cairo_font_map_set_resolution(
	    PANGO_CAIRO_FONT_MAP(ctx->fontmap), 72.0);
	ctx->pango = pango_font_map_create_context(ctx->fontmap);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	pango_cairo_context_set_font_options(ctx->pango, fo);
	pango_cairo_context_set_resolution(ctx->pango, 72.0);
	pango_context_set_round_glyph_positions(ctx->pango, FALSE);
	/*
	 * Right-to-left blocks get a context of their own whose base
	 * direction is RTL: every paragraph is then laid out right to left
	 * even when it starts with a number or a Latin word ("911 ..."),
	 * which Pango's first-strong-character guess would get wrong.
	 */
	ctx->pango_rtl = pango_font_map_create_context(ctx->fontmap);
	pango_cairo_context_set_font_options(ctx->pango_rtl, fo);
	pango_cairo_context_set_resolution(ctx->pango_rtl, 72.0);
	pango_context_set_round_glyph_positions(ctx->pango_rtl, FALSE);
	pango_context_set_base_dir(ctx->pango_rtl, PANGO_DIRECTION_RTL);
	cairo_font_options_destroy(fo);
	return ctx;
}

void
qp_layout_ctx_free(qp_layout_ctx *ctx)
{
	if (ctx == NULL)
		return;
	for (size_t i = 0; i < ctx->nknown; i++)
		free(ctx->known[i]);
	free(ctx->known);
	qp_fit_memo_free(ctx->memo);
	g_object_unref(ctx->pango);
	g_object_unref(ctx->pango_rtl);
	g_object_unref(ctx->fontmap);
	free(ctx);
}

bool
qp_bind_sets(const qp_template *t, const char *const *sets, size_t nsets,
    const char **values, qp_error *err)
{
	for (size_t i = 0; i < t->nvars; i++)
		values[i] = t->vars[i].def;
	for (size_t i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		char *key;
		long idx;

		if (eq == NULL || eq == sets[i]) {
			qp_fail(err, "'%s': expected KEY=VALUE", sets[i]);
			return qp_error_hint(err, QP_HINT_SET, 0, NULL);
		}
		key = qp_xstrndup(sets[i], (size_t)(eq - sets[i]));
		idx = qp_template_var(t, key);
		if (idx < 0) {
			const char *near = qp_nearest(key, t->var_names,
			    t->nvars);
			qp_fail(err, "%s: the template %s has no variable "
			    "'%s'%s%s%s", sets[i], t->path, key,
			    near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
			qp_error_hint(err, QP_HINT_SET, 0, key);
			free(key);
			return false;
		}
		free(key);
		if (!qp_utf8_valid(eq + 1, strlen(eq + 1), NULL)) {
			qp_fail(err, "%s: the value is not valid UTF-8",
			    t->var_names[idx]);
			return qp_error_hint(err, QP_HINT_SET, 0,
			    t->var_names[idx]);
		}
		size_t at;
		unsigned long cc = qp_text_control(eq + 1, strlen(eq + 1), &at);
		if (cc) {
			qp_fail(err, "%s: a control character (%s%0*lX) at byte "
			    "%zu of the value; only tab and line breaks are "
			    "allowed", t->var_names[idx],
			    cc < 0x80 ? "\\x" : "U+", cc < 0x80 ? 2 : 4, cc,
			    at + 1);
			return qp_error_hint(err, QP_HINT_SET, 0,
			    t->var_names[idx]);
		}
		values[idx] = eq + 1;
	}
	return true;
}

/* fontconfig knows family (cached: a batch asks thousands of times). */
static bool
family_known(qp_layout_ctx *ctx, const char *family)
{
	for (size_t i = 0; i < ctx->nknown; i++)
		if (strcmp(ctx->known[i], family) == 0)
			return true;
	if (!qp_font_family_exists(family))
		return false;
	ctx->known = qp_xrealloc(ctx->known,
	    (ctx->nknown + 1) * sizeof *ctx->known);
	ctx->known[ctx->nknown++] = qp_xstrdup(family);
	return true;
}

static bool
check_family(qp_layout_ctx *ctx, const char *block, const char *font,
    qp_error *err)
{
	PangoFontDescription *d = pango_font_description_from_string(font);
	const char *fam = pango_font_description_get_family(d);
	bool ok = true;

	if (fam == NULL || *fam == '\0') {
		pango_font_description_free(d);
		return qp_fail(err, "block '%s': font '%s' names no family",
		    block, font);
	}
	for (size_t i = 0; i < ctx->nknown; i++)
		if (strcmp(ctx->known[i], fam) == 0)
			goto out;
	/* A family list "A,B" is Pango's fallback syntax: check the first. */
	{
		char *first = qp_xstrdup(fam);
		char *comma = strchr(first, ',');
		if (comma)
			*comma = '\0';
		ok = qp_font_family_exists(first);
		if (!ok)
			qp_fail(err, "block '%s': font family '%s' is not "
			    "installed (bundled: Noto Sans; see fc-list for "
			    "others)", block, first);
		free(first);
	}
	if (ok) {
		ctx->known = qp_xrealloc(ctx->known,
		    (ctx->nknown + 1) * sizeof *ctx->known);
		ctx->known[ctx->nknown++] = qp_xstrdup(fam);
	}
out:
	pango_font_description_free(d);
	return ok;
}

/*
 * The bundled (or, for CJK, Debian-packaged) family for a language whose
 * script Noto Sans lacks. Naming it after the template's font makes the
 * fallback the same on every machine instead of whatever fontconfig
 * finds first (Kufi, Naskh, a serif CJK...).
 */
static const char *
lang_family(const char *tag)
{
	static const struct {
		const char *tag, *family;
	} tab[] = {
		{"zh-hant", "Noto Sans CJK TC"}, {"zh-tw", "Noto Sans CJK TC"},
		{"zh-hk", "Noto Sans CJK HK"}, {"zh-mo", "Noto Sans CJK TC"},
		{"zh", "Noto Sans CJK SC"}, {"ja", "Noto Sans CJK JP"},
		{"ko", "Noto Sans CJK KR"}, {"ar", "Noto Sans Arabic"},
		{"fa", "Noto Sans Arabic"}, {"ur", "Noto Sans Arabic"},
		{"ps", "Noto Sans Arabic"}, {"sd", "Noto Sans Arabic"},
		{"ug", "Noto Sans Arabic"}, {"ckb", "Noto Sans Arabic"},
		{"he", "Noto Sans Hebrew"}, {"iw", "Noto Sans Hebrew"},
		{"yi", "Noto Sans Hebrew"}, {"hi", "Noto Sans Devanagari"},
		{"mr", "Noto Sans Devanagari"}, {"ne", "Noto Sans Devanagari"},
	};

	if (tag == NULL)
		return NULL;
	/* Longest prefix first: zh-Hant before zh. */
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		size_t n = strlen(tab[i].tag);
		if (g_ascii_strncasecmp(tag, tab[i].tag, n) == 0 &&
		    (tag[n] == '\0' || tag[n] == '-' || tag[n] == '_'))
			return tab[i].family;
	}
	return NULL;
}

/*
 * A family qrposter may fall back on: one the block names (its font list
 * plus the language's family), or a Noto family (the bundled fonts and
 * the Debian packages `make deps` installs). Any other font that happens
 * to be on this machine (DejaVu has a smiley, for one) would make the
 * poster depend on where it was made.
 */
static bool
family_allowed(const PangoFontDescription *want, const char *family)
{
	const char *list = pango_font_description_get_family(want);

	if (family == NULL)
		return false;
	if (strncmp(family, "Noto ", 5) == 0)
		return true;
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		const char *b = p, *e = p + n;
		while (b < e && *b == ' ')
			b++;
		while (e > b && e[-1] == ' ')
			e--;
		if ((size_t)(e - b) == strlen(family) &&
		    g_ascii_strncasecmp(b, family, (size_t)(e - b)) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/*
 * The first character drawn from a font outside qrposter's set, or 0;
 * *family gets that font's family (g_free it).
 */
static gunichar
first_foreign_glyph(PangoLayout *layout, const PangoFontDescription *want,
    char **family)
{
	PangoLayoutIter *it = pango_layout_get_iter(layout);
	const char *text = pango_layout_get_text(layout);
	gunichar found = 0;

	*family = NULL;
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		PangoFontDescription *fd;
		const char *fam;

		if (run == NULL || run->item->analysis.font == NULL)
			continue;
		fd = pango_font_describe(run->item->analysis.font);
		fam = pango_font_description_get_family(fd);
		if (!family_allowed(want, fam)) {
			const char *p = text + run->item->offset;
			const char *end = p + run->item->length;
			for (; p < end; p = g_utf8_next_char(p)) {
				gunichar c = g_utf8_get_char(p);
				if (!g_unichar_isspace(c)) {
					found = c;
					break;
				}
			}
			if (found)
				*family = g_strdup(fam);
		}
		pango_font_description_free(fd);
	} while (!found && pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	return found;
}

/* The first character no font could draw, or 0. */
static gunichar
first_missing_glyph(PangoLayout *layout)
{
	PangoLayoutIter *it;
	gunichar missing = 0;

	if (pango_layout_get_unknown_glyphs_count(layout) == 0)
		return 0;
	it = pango_layout_get_iter(layout);
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		if (run == NULL)
			continue;
		for (int i = 0; i < run->glyphs->num_glyphs; i++) {
			PangoGlyph g = run->glyphs->glyphs[i].glyph;
			if (g & PANGO_GLYPH_UNKNOWN_FLAG) {
				gunichar c = g & ~PANGO_GLYPH_UNKNOWN_FLAG;
				/* Line and paragraph separators draw nothing. */
				if (c == '\n' || c == '\r' || c == 0x2028 ||
				    c == 0x2029 || c == '\t')
					continue;
				missing = c;
				goto done;
			}
		}
	} while (pango_layout_iter_next_run(it));
done:
	pango_layout_iter_free(it);
	return missing;
}

static PangoAlignment
pango_align(qp_halign a)
{
	return a == QP_ALIGN_CENTER ? PANGO_ALIGN_CENTER :
	    a == QP_ALIGN_RIGHT ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT;
}

/*
 * Make a fitted text item. text is Pango markup if markup, else plain.
 * The box is (x, y, w, h).
 */
static bool
fit_text(qp_layout_ctx *ctx, const char *block, const char *text,
    bool markup, const char *font, const char *lang, bool rtl, double max,
    double min, qp_halign align, qp_valign valign, double spacing, bool wrap,
    double x, double y, double w, double h, double guess, qp_item *it,
    qp_error *err)
{
	PangoLayout *layout;
	PangoFontDescription *d;
	PangoRectangle ext;
	qp_fit_box f = {w, h, wrap};
	double size;
	gunichar miss;
	const char *fallback;

	if (!check_family(ctx, block, font, err))
		return false;
	/* Start and end are the reading direction's sides. */
	if (align == QP_ALIGN_START)
		align = rtl ? QP_ALIGN_RIGHT : QP_ALIGN_LEFT;
	else if (align == QP_ALIGN_END)
		align = rtl ? QP_ALIGN_LEFT : QP_ALIGN_RIGHT;
	layout = pango_layout_new(rtl ? ctx->pango_rtl : ctx->pango);
	if (rtl)
		pango_layout_set_auto_dir(layout, FALSE);
	if (markup) {
		GError *gerr = NULL;
		if (!pango_parse_markup(text, -1, 0, NULL, NULL, NULL, &gerr)) {
			qp_fail(err, "block '%s': the text is not valid Pango "
			    "markup: %s", block, gerr->message);
			g_error_free(gerr);
			g_object_unref(layout);
			return false;
		}
		pango_layout_set_markup(layout, text, -1);
	} else
		pango_layout_set_text(layout, text, -1);
	if (lang) {
		PangoAttrList *attrs = pango_layout_get_attributes(layout);
		PangoAttrList *own = attrs ? pango_attr_list_copy(attrs) :
		    pango_attr_list_new();
		pango_attr_list_insert_before(own, pango_attr_language_new(
		    pango_language_from_string(lang)));
		pango_layout_set_attributes(layout, own);
		pango_attr_list_unref(own);
	}
	pango_layout_set_alignment(layout, pango_align(align));
	if (spacing > 0)
		pango_layout_set_line_spacing(layout, (float)spacing);
	if (wrap) {
		pango_layout_set_width(layout, (int)(w * PANGO_SCALE));
		pango_layout_set_wrap(layout, PANGO_WRAP_WORD);
	} else
		pango_layout_set_width(layout, -1);
	d = pango_font_description_from_string(font);
	if ((fallback = lang_family(lang)) != NULL &&
	    family_known(ctx, fallback)) {
		char *fams = qp_xasprintf("%s,%s",
		    pango_font_description_get_family(d), fallback);
		pango_font_description_set_family(d, fams);
		free(fams);
	}
	size = qp_fit_shrink(layout, d, max, min, &f, guess);
	if (size == 0) {
		qp_fit_at(layout, d, min, &f, &ext);
		qp_fail(err, "block '%s': the text does not fit its %.1fx%.1fpt "
		    "box even at the minimum size %.1fpt (it needs %.1fx%.1fpt); "
		    "shorten the text, enlarge the box or lower size.min",
		    block, w, h, min, (ext.x + ext.width) / (double)PANGO_SCALE,
		    ext.height / (double)PANGO_SCALE);
		goto fail;
	}
	if ((miss = first_missing_glyph(layout)) != 0) {
		qp_fail(err, "block '%s': no font covers U+%04X; install a font "
		    "that has it or remove the character", block,
		    (unsigned)miss);
		goto fail;
	}
	{
		char *fam;
		if ((miss = first_foreign_glyph(layout, d, &fam)) != 0) {
			qp_fail(err, "block '%s': no font covers U+%04X (only "
			    "the system font '%s' has it, which another machine "
			    "may lack; name it in the block's font to use it, or "
			    "remove the character)", block, (unsigned)miss, fam);
			g_free(fam);
			goto fail;
		}
	}
	pango_font_description_free(d);
	pango_layout_get_extents(layout, NULL, &ext);
	it->kind = QP_ITEM_TEXT;
	it->layout = layout;
	it->font_size = size;
	it->w = w;
	it->h = ext.height / (double)PANGO_SCALE;
	it->x = x;
	if (!wrap) {
		/* No width set: align the single block of lines by hand. */
		double lw = ext.width / (double)PANGO_SCALE;
		double dx = align == QP_ALIGN_CENTER ? (w - lw) / 2 :
		    align == QP_ALIGN_RIGHT ? w - lw : 0;
		it->x = x + dx - ext.x / (double)PANGO_SCALE;
	}
	it->y = y - ext.y / (double)PANGO_SCALE;
	if (valign == QP_VALIGN_MIDDLE)
		it->y += (h - it->h) / 2;
	else if (valign == QP_VALIGN_BOTTOM)
		it->y += h - it->h;
	return true;
fail:
	pango_font_description_free(d);
	g_object_unref(layout);
	return false;
}

/*
 * A fitted text item: from the memo when this block was fitted with the
 * very same inputs lately, else fitted, starting from the size the block
 * was last fitted at (layout_fit.c says why).
 */
static bool
text_item(qp_layout_ctx *ctx, const char *block, const char *text,
    bool markup, const char *font, const char *lang, bool rtl, double max,
    double min, qp_halign align, qp_valign valign, double spacing, bool wrap,
    double x, double y, double w, double h, qp_item *it, qp_error *err)
{
	qp_fit_key k = {text, font, lang, markup, rtl, wrap, (int)align,
	    (int)valign, max, min, spacing, x, y, w, h};

	if (qp_fit_memo_get(ctx->memo, block, &k, it))
		return true;
	if (!fit_text(ctx, block, text, markup, font, lang, rtl, max, min,
	    align, valign, spacing, wrap, x, y, w, h,
	    qp_fit_memo_last(ctx->memo, block), it, err))
		return false;
	qp_fit_memo_put(ctx->memo, block, &k, it);
	return true;
}

/*
 * True if the first letter of s (outside markup tags when markup) is of
 * a right-to-left script: Hebrew, Arabic, Syriac, Thaana, N'Ko... and
 * their presentation forms. (Pango's own pango_find_base_dir is
 * deprecated.)
 */
static bool
starts_rtl(const char *s, bool markup)
{
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (markup && c == '<') {
			const char *e = strchr(p, '>');
			if (e == NULL)
				return false;
			p = e;
			continue;
		}
		if ((c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
		    (c >= 0xFE70 && c <= 0xFEFF) ||
		    (c >= 0x10800 && c <= 0x10FFF) ||
		    (c >= 0x1E800 && c <= 0x1EFFF))
			return true;
		if (g_unichar_isalpha(c))
			return false;
	}
	return false;
}

static bool
is_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static void
add_item(qp_page *page, const qp_item *it)
{
	page->items = qp_xrealloc(page->items,
	    (page->nitems + 1) * sizeof *page->items);
	page->items[page->nitems++] = *it;
}

/*
 * A picture in its box: contain scales it to fit inside, cover to fill
 * the box (the box clips what is left over), stretch to the box's sides;
 * align and valign place it. Its effective resolution is what the print
 * will show: the pixels over the inches they cover (the lower of the two
 * directions).
 */
static void
image_item(const qp_block *b, qp_page *page)
{
	const qp_image_spec *im = &b->u.image;
	double iw, ih, s, dw, dh, bw = b->box.w, bh = b->box.h;
	qp_item it = {0};

	qp_image_size(im->img, &iw, &ih);
	switch (im->fit) {
	case QP_FIT_COVER:
		s = fmax(bw / iw, bh / ih);
		dw = iw * s;
		dh = ih * s;
		break;
	case QP_FIT_STRETCH:
		dw = bw;
		dh = bh;
		break;
	case QP_FIT_CONTAIN:
	default:
		s = fmin(bw / iw, bh / ih);
		dw = iw * s;
		dh = ih * s;
		break;
	}
	it.kind = QP_ITEM_IMAGE;
	it.block = b;
	it.x = b->box.x;
	it.y = b->box.y;
	it.w = bw;
	it.h = bh;
	it.image = im->img;
	it.iw = dw;
	it.ih = dh;
	it.ix = b->box.x + (im->align == QP_ALIGN_LEFT ? 0 :
	    im->align == QP_ALIGN_RIGHT ? bw - dw : (bw - dw) / 2);
	it.iy = b->box.y + (im->valign == QP_VALIGN_TOP ? 0 :
	    im->valign == QP_VALIGN_BOTTOM ? bh - dh : (bh - dh) / 2);
	it.opacity = im->opacity;
	if (qp_image_get_kind(im->img) != QP_IMAGE_SVG)
		it.ppi = fmin(iw / (dw / QP_PT_PER_IN), ih / (dh / QP_PT_PER_IN));
	add_item(page, &it);
}

/*
 * Data modules (not finder, timing, alignment, format or version) whose
 * cell meets the centred square side modules wide; cleared with clear.
 */
static int
logo_cells(qp_qr *qr, double side, bool clear, int *data, int *fixed)
{
	int n = qr->width, hit = 0;
	double a = (n - side) / 2, z = a + side;

	*data = 0;
	*fixed = 0;
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++) {
			bool in = x + 1 > a && x < z && y + 1 > a && y < z;
			size_t k = (size_t)y * n + x;

			if (!qr->func[k])
				(*data)++;
			if (!in)
				continue;
			if (qr->func[k])
				(*fixed)++;
			else
				hit++;
			if (clear)
				qr->dark[k] = 0;
		}
	return hit;
}

/*
 * A logo in the middle of the code: the modules it meets are cleared
 * (light), not painted over. A code survives losing some modules
 * because of its error correction, so the logo may take at most half of
 * what the level can restore (the other half is for dirt, glare and
 * wear): more is an error giving the numbers and what would fit.
 */
static bool
qr_logo(const qp_block *b, qp_qr *qr, qp_item *it, qp_error *err)
{
	const qp_qr_spec *q = &b->u.qr;
	double limit = qp_qr_ecc_recovery(qr->ecc) / 2, m, iw, ih;
	int data, fixed, hit = logo_cells(qr, q->logo_size * qr->width, false,
	    &data, &fixed);
	double frac = (double)hit / data;

	/*
	 * Scanners find a code by its fixed patterns; from version 7 on one
	 * alignment pattern sits in the middle, and small codes have their
	 * timing rows near it. A logo may hide data, never those.
	 */
	if (fixed > 0) {
		int d, f, k = (int)(q->logo_size * 100);

		while (k > 0 && (logo_cells(qr, k / 100.0 * qr->width, false, &d,
		    &f), f > 0))
			k--;
		if (k >= 10)
			return qp_fail(err, "block '%s': a logo %.0f%% of the "
			    "code's width would hide part of its alignment or "
			    "timing pattern (version %d), which scanners need: "
			    "make logo_size %.2f or less", b->id,
			    q->logo_size * 100, qr->version, k / 100.0);
		return qp_fail(err, "block '%s': this payload makes a version "
		    "%d code at error correction %c, which has an alignment "
		    "pattern in the middle where the logo would go: shorten the "
		    "payload (a logo fits codes up to version 6) or drop the "
		    "logo", b->id, qr->version, qp_qr_ecc_name(qr->ecc));
	}

	if (frac > limit) {
		double best = 0, best_h = 0;
		char also[64] = "";

		for (int k = 99; k > 0 && (best == 0 || best_h == 0); k--) {
			int d, f, h2 = logo_cells(qr, k / 100.0 * qr->width,
			    false, &d, &f);
			if (best == 0 && (double)h2 / d <= limit)
				best = k / 100.0;
			if (best_h == 0 && (double)h2 / d <=
			    qp_qr_ecc_recovery(3) / 2)
				best_h = k / 100.0;
		}
		if (qr->ecc < 3 && best_h > best)
			snprintf(also, sizeof also, ", or use ecc: H (up to "
			    "%.2f)", best_h);
		return qp_fail(err, "block '%s': a logo %.0f%% of the code's "
		    "width clears %d of its %d data modules (%.1f%%); error "
		    "correction %c restores %.0f%% of a code and a logo may use "
		    "at most half of that (%.1f%%): make logo_size %.2f or "
		    "less%s", b->id, q->logo_size * 100, hit, data, frac * 100,
		    qp_qr_ecc_name(qr->ecc), qp_qr_ecc_recovery(qr->ecc) * 100,
		    limit * 100, best, also);
	}
	logo_cells(qr, q->logo_size * qr->width, true, &data, &fixed);
	m = it->w / (qr->width + 2 * it->quiet);
	it->image = q->logo;
	it->iw = it->ih = q->logo_size * qr->width * m;
	it->ix = it->x + (it->w - it->iw) / 2;
	it->iy = it->y + (it->w - it->ih) / 2;
	it->opacity = 1;
	qp_image_size(q->logo, &iw, &ih);
	if (qp_image_get_kind(q->logo) != QP_IMAGE_SVG)
		/* contained in its square: the longer side fills it */
		it->ppi = fmax(iw, ih) / (it->iw / QP_PT_PER_IN);
	return true;
}

static bool
qr_items(qp_layout_ctx *ctx, const qp_template *t, const qp_block *b,
    const char *const *values, size_t li, qp_page *page, qp_error *err)
{
	const qp_qr_spec *q = &b->u.qr;
	qp_item it = {0};
	qp_buf payload;
	qp_qr *qr;
	int n;
	double module, code_w;

	qp_buf_init(&payload);
	if (!qp_tstr_expand(q->data, values, t->var_names, QP_ESC_NONE,
	    &payload, err)) {
		qp_error_prefix(err, "block '%s'", b->id);
		qp_buf_free(&payload);
		return false;
	}
	/* A URL goes in percent-encoded (phones open it as is); other
	 * non-ASCII text gets the UTF-8 ECI designator (qr.c). */
	if (is_url(payload.data)) {
		char *norm = qp_qr_url_normalize(payload.data, err);
		if (norm == NULL) {
			qp_error_prefix(err, "block '%s'", b->id);
			qp_buf_free(&payload);
			return false;
		}
		qp_buf_reset(&payload);
		qp_buf_adds(&payload, norm);
		free(norm);
	}
	qr = qp_qr_encode(payload.data, q->ecc, err);
	if (qr == NULL) {
		qp_error_prefix(err, "block '%s'", b->id);
		qp_buf_free(&payload);
		return false;
	}
	n = qr->width + 2 * q->quiet_zone;
	module = b->box.w / n;
	code_w = module * qr->width;
	if (module < q->min_module - 1e-9) {
		qp_fail(err, "block '%s': the code needs %d modules across "
		    "(version %d, %zu-byte payload, ECC %c, with its quiet zone) "
		    "and its %.1fmm box gives %.2fmm per module, below the "
		    "printable minimum %.2fmm; widen the box to at least %.1fmm, "
		    "shorten the payload or lower the ECC level", b->id, n,
		    qr->version, payload.len, qp_qr_ecc_name(qr->ecc),
		    b->box.w / QP_PT_PER_MM, module / QP_PT_PER_MM,
		    q->min_module / QP_PT_PER_MM,
		    q->min_module * n / QP_PT_PER_MM);
		goto fail;
	}
	if (q->scan_distance > 0 &&
	    code_w / QP_PT_PER_MM < q->scan_distance * 100 - 1e-6) {
		qp_fail(err, "block '%s': the code is %.1fcm wide but is meant "
		    "to be scanned from %.2gm; it should be at least %.1fcm (a "
		    "tenth of the distance): widen the box or shorten "
		    "scan_distance", b->id, code_w / QP_PT_PER_MM / 10,
		    q->scan_distance, q->scan_distance * 10);
		goto fail;
	}
	it.kind = QP_ITEM_QR;
	it.block = b;
	it.x = b->box.x;
	it.y = b->box.y;
	it.w = it.h = b->box.w;
	it.qr = qr;
	it.quiet = q->quiet_zone;
	it.color = q->color;
	it.background = q->background;
	if (q->link && is_url(payload.data))
		it.link = qp_xstrdup(payload.data);
	if (q->logo) {
		if (!qr_logo(b, qr, &it, err)) {
			free(it.link);
			goto fail;
		}
		it.payload = qp_xstrdup(payload.data);
	}
	add_item(page, &it);
	qr = NULL;
	if (q->caption) {
		qp_item cap = {0};
		double cy = b->box.y + b->box.w;
		double ch = b->box.has_h ? b->box.h - b->box.w :
		    q->caption_size_max * 1.5;
		char *capname = qp_xasprintf("%s caption", b->id);
		bool ok;

		qp_tstr *ct = t->nlangs && q->caption_l10n[li] ?
		    q->caption_l10n[li] : q->caption;

		qp_buf_reset(&payload);
		if (!qp_tstr_expand(ct, values, t->var_names,
		    QP_ESC_NONE, &payload, err)) {
			qp_error_prefix(err, "block '%s' caption", b->id);
			free(capname);
			goto fail;
		}
		if (cy + ch > t->page_h + 0.01) {
			qp_fail(err, "block '%s': no room for the caption below "
			    "the code (it needs %.1fpt; give the box a height "
			    "'h' that fits the page)", b->id, ch);
			free(capname);
			goto fail;
		}
		ok = text_item(ctx, capname, payload.data, false,
		    q->caption_font, t->nlangs ? t->langs[li] : NULL,
		    starts_rtl(payload.data, false), q->caption_size_max,
		    q->caption_size_min, QP_ALIGN_CENTER, QP_VALIGN_TOP, 0,
		    false, b->box.x, cy, b->box.w, ch, &cap, err);
		free(capname);
		if (!ok)
			goto fail;
		cap.block = b;
		cap.color = q->caption_color;
		add_item(page, &cap);
	}
	qp_buf_free(&payload);
	return true;
fail:
	qp_qr_free(qr);
	qp_buf_free(&payload);
	return false;
}

/* Expand an l10n text in language li; NULL entry is an error. */
static bool
expand_l10n(const qp_template *t, qp_tstr *const *v, size_t li,
    const char *const *values, qp_escape esc, qp_buf *out, qp_error *err)
{
	if (v[li] == NULL)
		return qp_fail(err, "there is no '%s' version of this text (a "
		    "string it uses, or its per-language text, lacks '%s')",
		    t->langs[li], t->langs[li]);
	return qp_tstr_expand(v[li], values, t->var_names, esc, out, err);
}

/*
 * Values for a right-to-left block: each wrapped in FIRST STRONG
 * ISOLATE ... POP DIRECTIONAL ISOLATE, so a phone number or a URL inside
 * an Arabic sentence keeps its own order and does not pull neighbouring
 * punctuation to the wrong side (Unicode bidi, rule X5c).
 */
static const char **
isolate_values(const qp_template *t, const char *const *values)
{
	const char **iso = qp_xcalloc(t->nvars + 1, sizeof *iso);

	for (size_t i = 0; i < t->nvars; i++)
		iso[i] = values[i] ? qp_xasprintf("\u2068%s\u2069",
		    values[i]) : NULL;
	return iso;
}

static void
free_values(const qp_template *t, const char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < t->nvars; i++)
		free((char *)v[i]);
	free(v);
}

static bool
text_block(qp_layout_ctx *ctx, const qp_template *t, const qp_block *b,
    const char *const *values, size_t page_li, qp_page *page, qp_error *err)
{
	const qp_text_spec *x = &b->u.text;
	qp_item it = {0};
	qp_buf buf, tag;
	const char **iso = NULL;
	size_t li = page_li;
	bool rtl, ok = false;

	qp_buf_init(&buf);
	qp_buf_init(&tag);
	if (x->lang_tstr) {
		if (!qp_tstr_expand(x->lang_tstr, values, t->var_names,
		    QP_ESC_NONE, &tag, err))
			goto done;
		if (t->nlangs) {
			long l = qp_template_lang(t, tag.data);
			if (l < 0) {
				qp_fail(err, "lang '%s' is not one of the "
				    "template's languages", tag.data);
				goto done;
			}
			li = (size_t)l;
		}
	} else if (t->nlangs)
		qp_buf_adds(&tag, t->langs[page_li]);
	if (t->nlangs)
		rtl = qp_lang_is_rtl(t->langs[li]);
	else if (tag.data)
		rtl = qp_lang_is_rtl(tag.data);
	else {
		/* No language given: the text's first strong character. */
		rtl = x->l10n[0] && starts_rtl(qp_tstr_source(x->l10n[0]),
		    true);
	}
	if (rtl)
		values = iso = isolate_values(t, values);
	if (!expand_l10n(t, x->l10n, t->nlangs ? li : 0, values,
	    QP_ESC_MARKUP, &buf, err))
		goto done;
	if (!text_item(ctx, b->id, buf.data, true, x->font, tag.data, rtl,
	    x->size_max, x->size_min, x->align, x->valign, x->line_spacing,
	    x->wrap, b->box.x, b->box.y, b->box.w, b->box.h, &it, err))
		goto done;
	it.block = b;
	it.color = x->color;
	add_item(page, &it);
	ok = true;
done:
	if (!ok && strncmp(err->msg, "block '", 7) != 0)
		qp_error_prefix(err, "block '%s'", b->id);
	free_values(t, iso);
	qp_buf_free(&tag);
	qp_buf_free(&buf);
	return ok;
}

/*
 * Append where a failed block stands in its template. Callers already
 * name the template (render, check) or the CSV row (batch), so the line
 * and column are what is missing.
 */
static void
block_where(qp_error *err, const qp_block *b)
{
	size_t n = strlen(err->msg);

	snprintf(err->msg + n, sizeof err->msg - n,
	    " (the block is at line %d, column %d of the template)", b->line,
	    b->col);
}

qp_page *
qp_layout_page_diag(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, struct qp_diag_list *diags, qp_error *err)
{
	qp_page *page = qp_xcalloc(1, sizeof *page);
	qp_buf buf;
	size_t li = 0;
	qp_error own;

	if (err == NULL)
		err = &own;
	qp_buf_init(&buf);
	page->w = t->page_w;
	page->h = t->page_h;
	page->background = t->background;
	for (size_t i = 0; i < t->nvars; i++)
		if (!qp_var_value_ok(t, i, values[i], err))
			goto fail;
	if (t->lang_var >= 0) {
		const char *lang = values[t->lang_var];
		long l;

		if (lang == NULL) {
			qp_fail(err, "variable 'lang' has no value (the "
			    "template's first language is %s)", t->langs[0]);
			qp_error_hint(err, QP_HINT_UNSET, 0, "lang");
			goto fail;
		}
		if ((l = qp_template_lang(t, lang)) < 0) {
			qp_fail(err, "lang '%s' is not one of the template's "
			    "languages", lang);
			goto fail;
		}
		li = (size_t)l;
	}
	/* Metadata in the page's language, else the first there is. */
	if (t->title) {
		qp_tstr *tt = t->title_l10n[li] ? t->title_l10n[li] : t->title;
		if (!qp_tstr_expand(tt, values, t->var_names, QP_ESC_NONE, &buf,
		    err)) {
			qp_error_prefix(err, "title");
			goto fail;
		}
		page->title = qp_buf_steal(&buf);
	} else
		page->title = qp_xstrdup(t->name);
	if (t->subject) {
		qp_tstr *ts = t->subject_l10n[li] ? t->subject_l10n[li] :
		    t->subject;
		if (!qp_tstr_expand(ts, values, t->var_names, QP_ESC_NONE,
		    &buf, err)) {
			qp_error_prefix(err, "subject");
			goto fail;
		}
		page->subject = qp_buf_steal(&buf);
	}
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];
		qp_item it = {0};
		bool ok = true;

		it.block = b;
		switch (b->kind) {
		case QP_BLOCK_RECT:
			it.kind = QP_ITEM_RECT;
			it.x = b->box.x;
			it.y = b->box.y;
			it.w = b->box.w;
			it.h = b->box.h;
			it.color = b->u.rect.fill;
			it.has_stroke = b->u.rect.has_stroke;
			it.stroke = b->u.rect.stroke;
			it.stroke_width = b->u.rect.stroke_width;
			add_item(page, &it);
			break;
		case QP_BLOCK_TEXT:
			ok = text_block(ctx, t, b, values, li, page, err);
			break;
		case QP_BLOCK_QR:
			ok = qr_items(ctx, t, b, values, li, page, err);
			break;
		case QP_BLOCK_IMAGE:
			image_item(b, page);
			break;
		}
		if (ok)
			continue;
		/* Say where the block is, so the template can be fixed. */
		block_where(err, b);
		if (diags == NULL)
			goto fail;
		qp_diag_add(diags, QP_DIAG_ERROR, b->id, "%s", err->msg);
	}
	qp_buf_free(&buf);
	return page;
fail:
	qp_buf_free(&buf);
	qp_page_free(page);
	return NULL;
}

qp_page *
qp_layout_page(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_error *err)
{
	return qp_layout_page_diag(ctx, t, values, NULL, err);
}

qp_page *
qp_layout_qr_only(const char *payload, int ecc, double size, int quiet,
    qp_error *err)
{
	qp_page *page;
	qp_item it = {0};
	qp_qr *qr = qp_qr_encode(payload, ecc, err);

	if (qr == NULL)
		return NULL;
	page = qp_xcalloc(1, sizeof *page);
	page->w = page->h = size;
	page->background = (qp_color){.r = 1, .g = 1, .b = 1, .a = 1};
	page->title = qp_xstrdup("QR code");
	it.kind = QP_ITEM_QR;
	it.w = it.h = size;
	it.qr = qr;
	it.quiet = quiet;
	it.color = (qp_color){.r = 0, .g = 0, .b = 0, .a = 1};
	it.background = (qp_color){.r = 1, .g = 1, .b = 1, .a = 1};
	if (is_url(payload))
		it.link = qp_xstrdup(payload);
	add_item(page, &it);
	return page;
}

void
qp_page_free(qp_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->nitems; i++) {
		qp_item *it = &page->items[i];
		if (it->layout)
			g_object_unref(it->layout);
		qp_qr_free(it->qr);
		free(it->link);
		free(it->payload);
	}
	free(page->items);
	free(page->title);
	free(page->subject);
	free(page);
}
