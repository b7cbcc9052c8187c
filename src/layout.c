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
#include <pango/pangofc-fontmap.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fonts.h"

/*
 * Why a block could not be laid out: a finding's code and numbers, made
 * into a finding (with the block's name and place) by the caller.
 */
typedef struct fault {
	qp_code code;
	double n[QP_DIAG_NUMS];
	char s[2][512];
	const char *var; /* the variable concerned, or NULL */
	bool caption;
} fault;

static bool
fault_set(fault *f, qp_code code, const char *s0, const char *s1)
{
	memset(f, 0, sizeof *f);
	f->code = code;
	if (s0)
		snprintf(f->s[0], sizeof f->s[0], "%s", s0);
	if (s1)
		snprintf(f->s[1], sizeof f->s[1], "%s", s1);
	return false;
}

/* Why qp_tstr_expand_why failed. */
static bool
fault_expand(fault *f, const qp_template *t, const qp_expand_fault *why,
    const char *const *values)
{
	if (why->kind == QP_EXPAND_NOT_HTTP) {
		fault_set(f, QP_D_LINK_NOT_HTTP, values[why->var], NULL);
		f->var = t->var_names[why->var];
		return false;
	}
	fault_set(f, QP_D_VALUE_MISSING, NULL, NULL);
	f->var = t->var_names[why->var];
	return false;
}

/* Make f a finding of block b (NULL: the page). */
static void
fault_push(qp_diag_list *out, const fault *f, const qp_block *b)
{
	qp_diag_in in = {0};

	if (out == NULL)
		return;
	if (b) {
		in.block = b->id;
		in.line = b->line;
		in.col = b->col;
	}
	in.caption = f->caption;
	in.var = f->var;
	memcpy(in.n, f->n, sizeof in.n);
	in.s[0] = f->s[0][0] ? f->s[0] : NULL;
	in.s[1] = f->s[1][0] ? f->s[1] : NULL;
	qp_diag_push(out, f->code, &in);
}

struct qp_layout_ctx {
	unsigned long fonts_gen; /* qp_fonts_generation() it was made at */
	PangoFontMap *fontmap;
	PangoContext *pango;
	PangoContext *pango_rtl; /* the same, base direction right-to-left */
	/* Families already checked against fontconfig. */
	char **known;
	size_t nknown;
	qp_fit_memo *memo; /* fitted texts (layout_fit.c) */
	/* Sizes and symbols found elsewhere for the next page, and how
	 * many of each it has taken (qp_layout_ctx_known). */
	qp_layout_known *given;
	size_t given_sizes, given_qrs;
};

qp_layout_ctx *
qp_layout_ctx_new(void)
{
	qp_layout_ctx *ctx = qp_xcalloc(1, sizeof *ctx);
	cairo_font_options_t *fo = cairo_font_options_create();
	FcConfig *fc;

	ctx->memo = qp_fit_memo_new();
	/*
	 * A private font map per context (so worker threads never share
	 * one), 72 units per inch so a Pango point is a PDF point, and no
	 * hinting so text measures the same at every resolution. It uses
	 * the fontconfig configuration current now, which nobody changes
	 * (fonts.h): fonts added later make a new one, and the context
	 * stale (qp_layout_ctx_stale).
	 */
	ctx->fontmap = pango_cairo_font_map_new();
	fc = qp_fonts_config(&ctx->fonts_gen);
	if (PANGO_IS_FC_FONT_MAP(ctx->fontmap))
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(ctx->fontmap),
		    fc);
	if (fc)
		FcConfigDestroy(fc); /* the font map holds its own reference */
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

bool
qp_layout_ctx_stale(const qp_layout_ctx *ctx)
{
	return ctx->fonts_gen != qp_fonts_generation();
}

void
qp_layout_ctx_known(qp_layout_ctx *ctx, qp_layout_known *k)
{
	ctx->given = k;
	ctx->given_sizes = ctx->given_qrs = 0;
}

/* The next known text size, or 0 (fit it here). */
static double
known_size(qp_layout_ctx *ctx)
{
	qp_layout_known *k = ctx->given;

	return k && ctx->given_sizes < k->nsizes ?
	    k->sizes[ctx->given_sizes++] : 0;
}

/* The next known QR symbol (the caller's now), or NULL (encode it). */
static qp_qr *
known_qr(qp_layout_ctx *ctx)
{
	qp_layout_known *k = ctx->given;
	qp_qr *q;

	if (k == NULL || ctx->given_qrs >= k->nqrs)
		return NULL;
	q = k->qrs[ctx->given_qrs];
	k->qrs[ctx->given_qrs++] = NULL;
	return q;
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
check_family(qp_layout_ctx *ctx, const char *font, fault *err)
{
	PangoFontDescription *d = pango_font_description_from_string(font);
	const char *fam = pango_font_description_get_family(d);
	bool ok = true;

	if (fam == NULL || *fam == '\0') {
		pango_font_description_free(d);
		return fault_set(err, QP_D_FONT_NO_FAMILY, font, NULL);
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
			fault_set(err, QP_D_FONT_MISSING, first, NULL);
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
 * A family qrposter may fall back on: one the block names (its font list,
 * which layout extends with the bundled script families), or one of
 * qrposter's own (fonts.h: registered by qrposter, or Noto from the
 * Debian packages `make deps` installs). Any other font that happens to
 * be on this machine (DejaVu has a smiley, for one) would make the
 * poster depend on where it was made.
 */
static bool
family_in_list(const char *list, const char *family)
{
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

static bool
family_allowed(const PangoFontDescription *want, const char *family)
{
	if (family == NULL)
		return false;
	return family_in_list(pango_font_description_get_family(want),
	    family) || qp_font_family_ours(family);
}

/*
 * The Noto CJK family for Han characters in text of language lang: the
 * language's own forms for Chinese, Japanese and Korean, else Simplified
 * Chinese (any Noto CJK family also covers kana and Hangul).
 */
static const char *
cjk_family(const char *lang)
{
	const char *f = lang_family(lang);

	return f && strncmp(f, "Noto Sans CJK", 13) == 0 ? f :
	    "Noto Sans CJK SC";
}

/*
 * The families text of language lang is set in when its block names
 * families: those, then the language's own (lang_family), then Noto Sans
 * and every bundled script family, so a name in any script qrposter
 * carries prints in any block (an Arabic station name in a Spanish
 * footer) with the same font on every machine. Families that are not
 * installed (Noto CJK without fonts-noto-cjk) are left out. Malloc'd.
 */
static char *
family_list(qp_layout_ctx *ctx, const char *families, const char *lang)
{
	const char *extra[] = {lang_family(lang), "Noto Sans",
	    "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari",
	    cjk_family(lang)};
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, families);
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
		if (extra[i] && !family_in_list(b.data, extra[i]) &&
		    family_known(ctx, extra[i]))
			qp_buf_printf(&b, ",%s", extra[i]);
	return qp_buf_steal(&b);
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
    double x, double y, double w, double h, double known, double guess,
    qp_item *it, fault *err)
{
	PangoLayout *layout;
	PangoFontDescription *d;
	PangoRectangle ext;
	qp_fit_box f = {w, h, wrap};
	double size;
	gunichar miss;
	char *fams = NULL;

	(void)block;
	if (!check_family(ctx, font, err))
		return false;
	/* Start and end are the reading direction's sides. */
	if (align == QP_ALIGN_START)
		align = rtl ? QP_ALIGN_RIGHT : QP_ALIGN_LEFT;
	else if (align == QP_ALIGN_END)
		align = rtl ? QP_ALIGN_LEFT : QP_ALIGN_RIGHT;
	layout = pango_layout_new(rtl ? ctx->pango_rtl : ctx->pango);
	/* The block's direction, not its first letter's: a left-to-right
	 * footer that starts with an Arabic name stays left-to-right. */
	pango_layout_set_auto_dir(layout, FALSE);
	if (markup) {
		GError *gerr = NULL;
		if (!pango_parse_markup(text, -1, 0, NULL, NULL, NULL, &gerr)) {
			fault_set(err, QP_D_MARKUP_INVALID, gerr->message,
			    NULL);
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
	fams = family_list(ctx, pango_font_description_get_family(d), lang);
	for (int tries = 0;; tries++) {
		char *fam, *more;

		pango_font_description_set_family(d, fams);
		/* A size found by the same fit elsewhere (a worker of a
		 * combined batch) needs one layout, not a dozen; it is the
		 * size the fit would find here. */
		if (tries == 0 && known > 0 &&
		    qp_fit_at(layout, d, known, &f, &ext))
			size = known;
		else
			size = qp_fit_shrink(layout, d, max, min, &f, guess);
		if (size == 0) {
			qp_fit_at(layout, d, min, &f, &ext);
			fault_set(err, QP_D_TEXT_OVERFLOW, NULL, NULL);
			err->n[0] = w;
			err->n[1] = h;
			err->n[2] = min;
			err->n[3] = (ext.x + ext.width) / (double)PANGO_SCALE;
			err->n[4] = ext.height / (double)PANGO_SCALE;
			goto fail;
		}
		if ((miss = first_missing_glyph(layout)) != 0) {
			fault_set(err, QP_D_GLYPH_MISSING, NULL, NULL);
			err->n[0] = miss;
			goto fail;
		}
		if ((miss = first_foreign_glyph(layout, d, &fam)) == 0)
			break;
		/*
		 * Fontconfig drew a character from a font outside qrposter's
		 * set. Name one of ours that has it, after the others, and lay
		 * the text out again; a few rounds cover a name in several
		 * scripts the list above does not (Thai, Armenian...).
		 */
		more = tries < 8 ? qp_font_family_for(miss) : NULL;
		if (more == NULL || family_in_list(fams, more)) {
			fault_set(err, QP_D_GLYPH_MISSING, fam, NULL);
			err->n[0] = miss;
			g_free(fam);
			free(more);
			goto fail;
		}
		g_free(fam);
		{
			char *longer = qp_xasprintf("%s,%s", fams, more);
			free(fams);
			fams = longer;
		}
		free(more);
	}
	free(fams);
	fams = NULL;
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
	free(fams);
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
    double x, double y, double w, double h, qp_item *it, fault *err)
{
	/* Taken first, memo or not: the known sizes follow the page's
	 * text items one by one. */
	double known = known_size(ctx);
	qp_fit_key k = {text, font, lang, markup, rtl, wrap, (int)align,
	    (int)valign, max, min, spacing, x, y, w, h};

	if (qp_fit_memo_get(ctx->memo, block, &k, it))
		return true;
	if (!fit_text(ctx, block, text, markup, font, lang, rtl, max, min,
	    align, valign, spacing, wrap, x, y, w, h, known,
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

/* True if s holds a letter of a right-to-left script. */
static bool
has_rtl(const char *s)
{
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if ((c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
		    (c >= 0xFE70 && c <= 0xFEFF) ||
		    (c >= 0x10800 && c <= 0x10FFF) ||
		    (c >= 0x1E800 && c <= 0x1EFFF))
			return true;
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
qr_logo(const qp_block *b, qp_qr *qr, qp_item *it, fault *err)
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
		fault_set(err, QP_D_QR_LOGO_PATTERN, NULL, NULL);
		err->n[0] = q->logo_size * 100;
		err->n[1] = qr->version;
		err->n[2] = k >= 10 ? k / 100.0 : 0;
		err->n[3] = qr->ecc;
		return false;
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
		fault_set(err, QP_D_QR_LOGO_TOO_BIG, also[0] ? also : NULL,
		    NULL);
		err->n[0] = q->logo_size * 100;
		err->n[1] = hit;
		err->n[2] = data;
		err->n[3] = frac * 100;
		err->n[4] = qr->ecc;
		err->n[5] = qp_qr_ecc_recovery(qr->ecc) * 100;
		err->n[6] = limit * 100;
		err->n[7] = best;
		return false;
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
    const char *const *values, size_t li, qp_page *page, fault *err)
{
	const qp_qr_spec *q = &b->u.qr;
	qp_item it = {0};
	qp_buf payload;
	qp_qr *qr = NULL;
	qp_expand_fault why;
	qp_error e;
	int n;
	double module, code_w;

	qp_buf_init(&payload);
	if (!qp_tstr_expand_why(q->data, values, t->var_names, QP_ESC_NONE,
	    &payload, &e, &why)) {
		fault_expand(err, t, &why, values);
		goto fail;
	}
	/* A link is an absolute http(s) URL (or tel:, sms:...). */
	if (!qp_payload_link_ok(payload.data)) {
		fault_set(err, QP_D_LINK_NOT_HTTP, payload.data, NULL);
		goto fail;
	}
	/* A URL goes in percent-encoded (phones open it as is); other
	 * non-ASCII text gets the UTF-8 ECI designator (qr.c). */
	if (is_url(payload.data)) {
		char *norm = qp_qr_url_normalize(payload.data, &e);
		if (norm == NULL) {
			const char *host = strstr(payload.data, "://") + 3;
			char h[256];

			snprintf(h, sizeof h, "%.*s", (int)strcspn(host, "/?#"),
			    host);
			fault_set(err, QP_D_LINK_HOST, h, NULL);
			goto fail;
		}
		qp_buf_reset(&payload);
		qp_buf_adds(&payload, norm);
		free(norm);
	}
	if (payload.len == 0) {
		fault_set(err, QP_D_QR_PAYLOAD_EMPTY, NULL, NULL);
		goto fail;
	}
	if ((qr = known_qr(ctx)) == NULL &&
	    (qr = qp_qr_encode(payload.data, q->ecc, &e)) == NULL) {
		fault_set(err, QP_D_QR_TOO_LONG, NULL, NULL);
		err->n[0] = (double)payload.len;
		err->n[1] = q->ecc == QP_QR_ECC_AUTO ? QP_QR_ECC_AUTO_FLOOR :
		    q->ecc;
		err->n[2] = qp_qr_capacity((int)err->n[1]);
		goto fail;
	}
	n = qr->width + 2 * q->quiet_zone;
	module = b->box.w / n;
	code_w = module * qr->width;
	if (module < q->min_module - 1e-9) {
		fault_set(err, QP_D_QR_MODULE_TOO_SMALL, NULL, NULL);
		err->n[0] = n;
		err->n[1] = qr->version;
		err->n[2] = (double)payload.len;
		err->n[3] = qr->ecc;
		err->n[4] = b->box.w / QP_PT_PER_MM;
		err->n[5] = module / QP_PT_PER_MM;
		err->n[6] = q->min_module / QP_PT_PER_MM;
		goto fail;
	}
	if (q->scan_distance > 0 &&
	    code_w / QP_PT_PER_MM < q->scan_distance * 100 - 1e-6) {
		fault_set(err, QP_D_QR_SCAN_DISTANCE, NULL, NULL);
		err->n[0] = code_w / QP_PT_PER_MM / 10;
		err->n[1] = q->scan_distance;
		err->n[2] = q->scan_distance * 10;
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
	it.data = qp_xstrdup(payload.data);
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
		if (!qp_tstr_expand_why(ct, values, t->var_names,
		    QP_ESC_NONE, &payload, &e, &why)) {
			fault_expand(err, t, &why, values);
			err->caption = true;
			free(capname);
			goto fail;
		}
		if (cy + ch > t->page_h + 0.01) {
			fault_set(err, QP_D_CAPTION_NO_ROOM, NULL, NULL);
			err->n[0] = ch;
			err->caption = true;
			free(capname);
			goto fail;
		}
		ok = text_item(ctx, capname, payload.data, false,
		    q->caption_font, t->nlangs ? t->langs[li] : NULL,
		    starts_rtl(payload.data, false), q->caption_size_max,
		    q->caption_size_min, QP_ALIGN_CENTER, QP_VALIGN_TOP, 0,
		    false, b->box.x, cy, b->box.w, ch, &cap, err);
		free(capname);
		if (!ok) {
			err->caption = true;
			goto fail;
		}
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

/* Expand an l10n text in language li; a NULL entry has no version. */
static bool
expand_l10n(const qp_template *t, qp_tstr *const *v, size_t li,
    const char *const *values, qp_escape esc, qp_buf *out, fault *err)
{
	qp_expand_fault why;
	qp_error e;

	if (v[li] == NULL)
		return fault_set(err, QP_D_TEXT_NO_TRANSLATION, t->langs[li],
		    NULL);
	if (!qp_tstr_expand_why(v[li], values, t->var_names, esc, out, &e,
	    &why))
		return fault_expand(err, t, &why, values);
	return true;
}

/*
 * Values for a right-to-left block: each wrapped in FIRST STRONG
 * ISOLATE ... POP DIRECTIONAL ISOLATE, so a phone number or a URL inside
 * an Arabic sentence keeps its own order and does not pull neighbouring
 * punctuation to the wrong side (Unicode bidi, rule X5c).
 */
static bool has_rtl(const char *s);

static const char **
isolate_values(const qp_template *t, const char *const *values, bool all)
{
	const char **iso = qp_xcalloc(t->nvars + 1, sizeof *iso);

	for (size_t i = 0; i < t->nvars; i++) {
		if (values[i] == NULL)
			continue;
		iso[i] = all || has_rtl(values[i]) ?
		    qp_xasprintf("\u2068%s\u2069", values[i]) :
		    qp_xstrdup(values[i]);
	}
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

/* A language value that matches none of t's: say which there are. */
static void
lang_error(const qp_template *t, const char *lang, fault *err)
{
	qp_buf list;

	qp_buf_init(&list);
	for (size_t i = 0; i < t->nlangs; i++)
		qp_buf_printf(&list, "%s%s", i ? ", " : "", t->langs[i]);
	fault_set(err, QP_D_LANG_UNKNOWN, lang, list.data);
	qp_buf_free(&list);
}

static bool
text_block(qp_layout_ctx *ctx, const qp_template *t, const qp_block *b,
    const char *const *values, size_t page_li, qp_page *page, fault *err)
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
		qp_expand_fault why;
		qp_error e;

		if (!qp_tstr_expand_why(x->lang_tstr, values, t->var_names,
		    QP_ESC_NONE, &tag, &e, &why)) {
			fault_expand(err, t, &why, values);
			goto done;
		}
		if (t->nlangs) {
			long l = qp_template_lang(t, tag.data);
			if (l < 0 && (l = qp_template_lang_match(t,
			    tag.data)) < 0) {
				lang_error(t, tag.data, err);
				goto done;
			}
			li = (size_t)l;
			/* Tagged as the template writes it (zh-TW: zh-Hant). */
			qp_buf_reset(&tag);
			qp_buf_adds(&tag, t->langs[li]);
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
	/*
	 * In a right-to-left text every value is isolated; in a
	 * left-to-right one, each value holding right-to-left letters (an
	 * Arabic or Hebrew station name in an English footer), so it reads
	 * right to left inside and the sentence around it keeps its order.
	 */
	values = iso = isolate_values(t, values, rtl);
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
	free_values(t, iso);
	qp_buf_free(&tag);
	qp_buf_free(&buf);
	return ok;
}

/* A page-level text (title, subject) in language li. */
static bool
page_text(const qp_template *t, qp_tstr *const *l10n, const qp_tstr *first,
    size_t li, const char *const *values, char **out, qp_diag_list *diags)
{
	const qp_tstr *ts = l10n && l10n[li] ? l10n[li] : first;
	qp_expand_fault why;
	qp_error e;
	qp_buf buf;
	fault f;

	qp_buf_init(&buf);
	if (!qp_tstr_expand_why(ts, values, t->var_names, QP_ESC_NONE, &buf,
	    &e, &why)) {
		qp_buf_free(&buf);
		fault_expand(&f, t, &why, values);
		fault_push(diags, &f, NULL);
		return false;
	}
	*out = qp_buf_steal(&buf);
	return true;
}

qp_page *
qp_layout_page_diag(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_diag_list *diags)
{
	qp_page *page = qp_xcalloc(1, sizeof *page);
	const char **canon = NULL;
	size_t li = 0;
	qp_error e;
	fault f;

	page->w = t->page_w;
	page->h = t->page_h;
	page->background = t->background;
	for (size_t i = 0; i < t->nvars; i++)
		if (!qp_var_value_ok(t, i, values[i], &e)) {
			qp_buf list;
			qp_diag_in in = {.var = t->var_names[i]};

			qp_buf_init(&list);
			for (size_t k = 0; k < t->vars[i].nchoices; k++)
				qp_buf_printf(&list, "%s%s", k ? ", " : "",
				    t->vars[i].choices[k]);
			in.s[0] = values[i];
			in.s[1] = list.data;
			if (diags)
				qp_diag_push(diags, QP_D_VALUE_CHOICE, &in);
			qp_buf_free(&list);
			goto fail;
		}
	/* A language value as the template writes it: zh-TW is zh-Hant. */
	canon = qp_xcalloc(t->nvars + 1, sizeof *canon);
	for (size_t i = 0; i < t->nvars; i++)
		canon[i] = qp_var_value_canon(t, i, values[i]);
	values = canon;
	if (t->lang_var >= 0) {
		const char *lang = values[t->lang_var];
		long l;

		if (lang == NULL) {
			fault_set(&f, QP_D_VALUE_MISSING, NULL, NULL);
			f.var = t->var_names[t->lang_var];
			fault_push(diags, &f, NULL);
			goto fail;
		}
		if ((l = qp_template_lang(t, lang)) < 0 &&
		    (l = qp_template_lang_match(t, lang)) < 0) {
			lang_error(t, lang, &f);
			fault_push(diags, &f, NULL);
			goto fail;
		}
		li = (size_t)l;
	}
	/* Metadata in the page's language, else the first there is. */
	if (t->title) {
		if (!page_text(t, t->title_l10n, t->title, li, values,
		    &page->title, diags))
			goto fail;
	} else
		page->title = qp_xstrdup(t->name);
	if (t->subject && !page_text(t, t->subject_l10n, t->subject, li,
	    values, &page->subject, diags))
		goto fail;
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];
		qp_item it = {0};
		bool ok = true;

		/* A block whose when: does not hold is not on this poster. */
		if (!qp_block_active(t, b, values))
			continue;
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
			ok = text_block(ctx, t, b, values, li, page, &f);
			break;
		case QP_BLOCK_QR:
			ok = qr_items(ctx, t, b, values, li, page, &f);
			break;
		case QP_BLOCK_IMAGE:
			image_item(b, page);
			break;
		}
		/* One bad block does not hide the next. */
		if (!ok)
			fault_push(diags, &f, b);
	}
	free(canon);
	return page;
fail:
	free(canon);
	qp_page_free(page);
	return NULL;
}

qp_page *
qp_layout_page(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_error *err)
{
	qp_diag_list dl;
	const qp_diag *first;
	qp_page *page;

	qp_diag_list_init(&dl);
	page = qp_layout_page_diag(ctx, t, values, &dl);
	if ((first = qp_diag_first_error(&dl)) != NULL) {
		qp_fail(err, "%s", first->msg);
		qp_page_free(page);
		page = NULL;
	}
	qp_diag_list_clear(&dl);
	return page;
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
	it.data = qp_xstrdup(payload);
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
		free(it->data);
	}
	free(page->items);
	free(page->title);
	free(page->subject);
	free(page);
}
