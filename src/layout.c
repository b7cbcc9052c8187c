/*
 * layout.c - place blocks, fit text, size QR codes.
 *
 * Text shrinks from its maximum size towards its minimum until it fits
 * its box; if it cannot fit at the minimum that is an error naming the
 * block. Text is never clipped and never runs off the page.
 */
#include "layout.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>

#include "fonts.h"

/*
 * The last fitted text of each block. Batches lay out the same headline,
 * hotline and labels on every row; shaping them again (shrink-to-fit lays
 * a text out up to ten times) was three quarters of a batch's time. A
 * text is reused only if every input of text_item() is the same, and the
 * layout is shared by reference (pages never modify their layouts).
 */
typedef struct fit_memo {
	char *block;
	char *key;
	qp_item item;
} fit_memo;

struct qp_layout_ctx {
	PangoFontMap *fontmap;
	PangoContext *pango;
	/* Families already checked against fontconfig. */
	char **known;
	size_t nknown;
	fit_memo *memo;
	size_t nmemo;
};

qp_layout_ctx *
qp_layout_ctx_new(void)
{
	qp_layout_ctx *ctx = qp_xcalloc(1, sizeof *ctx);
	cairo_font_options_t *fo = cairo_font_options_create();

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
	for (size_t i = 0; i < ctx->nmemo; i++) {
		free(ctx->memo[i].block);
		free(ctx->memo[i].key);
		if (ctx->memo[i].item.layout)
			g_object_unref(ctx->memo[i].item.layout);
	}
	free(ctx->memo);
	g_object_unref(ctx->pango);
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

		if (eq == NULL || eq == sets[i])
			return qp_fail(err, "--set '%s': expected KEY=VALUE",
			    sets[i]);
		key = qp_xstrndup(sets[i], (size_t)(eq - sets[i]));
		idx = qp_template_var(t, key);
		if (idx < 0) {
			const char *near = qp_nearest(key, t->var_names,
			    t->nvars);
			qp_fail(err, "--set %s: the template %s has no variable "
			    "'%s'%s%s%s", sets[i], t->path, key,
			    near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
			free(key);
			return false;
		}
		free(key);
		if (!qp_utf8_valid(eq + 1, strlen(eq + 1), NULL))
			return qp_fail(err, "--set %s: the value is not valid "
			    "UTF-8", t->var_names[idx]);
		values[idx] = eq + 1;
	}
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

typedef struct fit {
	double w, h;
	bool wrap;
} fit;

/* Lay out at size; true if the text's extents lie inside w x h. */
static bool
fits_at(PangoLayout *layout, PangoFontDescription *d, double size,
    const fit *f, PangoRectangle *ext)
{
	pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
	pango_layout_set_font_description(layout, d);
	pango_layout_get_extents(layout, NULL, ext);
	/* A hundredth of a point of slack for rounding in Pango units. */
	return ext->x >= -PANGO_SCALE / 100 &&
	    ext->x + ext->width <= (f->w + 0.01) * PANGO_SCALE &&
	    ext->height <= (f->h + 0.01) * PANGO_SCALE;
}

/*
 * Shrink to fit: the largest size in [min, max] (to 1/8 pt) at which the
 * layout fits. Returns the size, or 0 if it does not fit at min.
 */
static double
shrink_to_fit(PangoLayout *layout, PangoFontDescription *d, double max,
    double min, const fit *f)
{
	PangoRectangle ext;
	double lo = min, hi = max;

	if (fits_at(layout, d, max, f, &ext))
		return max;
	if (!fits_at(layout, d, min, f, &ext))
		return 0;
	while (hi - lo > 0.125) {
		double mid = (lo + hi) / 2;
		if (fits_at(layout, d, mid, f, &ext))
			lo = mid;
		else
			hi = mid;
	}
	fits_at(layout, d, lo, f, &ext);
	return lo;
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
text_item(qp_layout_ctx *ctx, const char *block, const char *text,
    bool markup, const char *font, const char *lang, double max, double min,
    qp_halign align, qp_valign valign, double spacing, bool wrap,
    double x, double y, double w, double h, qp_item *it, qp_error *err)
{
	PangoLayout *layout;
	PangoFontDescription *d;
	PangoRectangle ext;
	fit f = {w, h, wrap};
	double size;
	gunichar miss;
	fit_memo *memo = NULL;
	char *key;

	key = qp_xasprintf("%d|%s|%s|%a|%a|%d|%d|%a|%d|%a|%a|%a|%a|%s",
	    markup, font, lang ? lang : "", max, min, (int)align, (int)valign,
	    spacing, wrap, x, y, w, h, text);
	for (size_t i = 0; i < ctx->nmemo; i++)
		if (strcmp(ctx->memo[i].block, block) == 0) {
			memo = &ctx->memo[i];
			break;
		}
	if (memo && strcmp(memo->key, key) == 0) {
		free(key);
		*it = memo->item;
		g_object_ref(it->layout);
		return true;
	}
	if (memo == NULL) {
		ctx->memo = qp_xrealloc(ctx->memo, (ctx->nmemo + 1) *
		    sizeof *ctx->memo);
		memo = &ctx->memo[ctx->nmemo++];
		memset(memo, 0, sizeof *memo);
		memo->block = qp_xstrdup(block);
	}
	free(memo->key);
	memo->key = NULL;
	if (memo->item.layout)
		g_object_unref(memo->item.layout);
	memo->item.layout = NULL;
	if (!check_family(ctx, block, font, err)) {
		free(key);
		return false;
	}
	layout = pango_layout_new(ctx->pango);
	if (markup) {
		GError *gerr = NULL;
		if (!pango_parse_markup(text, -1, 0, NULL, NULL, NULL, &gerr)) {
			qp_fail(err, "block '%s': the text is not valid Pango "
			    "markup: %s", block, gerr->message);
			g_error_free(gerr);
			g_object_unref(layout);
			free(key);
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
	size = shrink_to_fit(layout, d, max, min, &f);
	if (size == 0) {
		fits_at(layout, d, min, &f, &ext);
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
	memo->key = key;
	memo->item = *it;
	g_object_ref(layout);
	return true;
fail:
	free(key);
	pango_font_description_free(d);
	g_object_unref(layout);
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

static bool
qr_items(qp_layout_ctx *ctx, const qp_template *t, const qp_block *b,
    const char *const *values, qp_page *page, qp_error *err)
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
		    qr->version, payload.len, qp_qr_ecc_name(q->ecc),
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
	add_item(page, &it);
	qr = NULL;
	if (q->caption) {
		qp_item cap = {0};
		double cy = b->box.y + b->box.w;
		double ch = b->box.has_h ? b->box.h - b->box.w :
		    q->caption_size_max * 1.5;
		char *capname = qp_xasprintf("%s caption", b->id);
		bool ok;

		qp_buf_reset(&payload);
		if (!qp_tstr_expand(q->caption, values, t->var_names,
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
		    q->caption_font, NULL, q->caption_size_max,
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

qp_page *
qp_layout_page(qp_layout_ctx *ctx, const qp_template *t,
    const char *const *values, qp_error *err)
{
	qp_page *page = qp_xcalloc(1, sizeof *page);
	qp_buf buf;

	qp_buf_init(&buf);
	page->w = t->page_w;
	page->h = t->page_h;
	page->background = t->background;
	if (t->title) {
		if (!qp_tstr_expand(t->title, values, t->var_names, QP_ESC_NONE,
		    &buf, err)) {
			qp_error_prefix(err, "title");
			goto fail;
		}
		page->title = qp_buf_steal(&buf);
	} else
		page->title = qp_xstrdup(t->name);
	if (t->subject) {
		if (!qp_tstr_expand(t->subject, values, t->var_names,
		    QP_ESC_NONE, &buf, err)) {
			qp_error_prefix(err, "subject");
			goto fail;
		}
		page->subject = qp_buf_steal(&buf);
	}
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];
		qp_item it = {0};

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
		case QP_BLOCK_TEXT: {
			const qp_text_spec *x = &b->u.text;

			qp_buf_reset(&buf);
			if (!qp_tstr_expand(x->markup, values, t->var_names,
			    QP_ESC_MARKUP, &buf, err)) {
				qp_error_prefix(err, "block '%s'", b->id);
				goto fail;
			}
			if (!text_item(ctx, b->id, buf.data, true, x->font,
			    x->lang, x->size_max, x->size_min, x->align,
			    x->valign, x->line_spacing, x->wrap, b->box.x,
			    b->box.y, b->box.w, b->box.h, &it, err))
				goto fail;
			it.block = b;
			it.color = x->color;
			add_item(page, &it);
			break;
		}
		case QP_BLOCK_QR:
			if (!qr_items(ctx, t, b, values, page, err))
				goto fail;
			break;
		}
	}
	qp_buf_free(&buf);
	return page;
fail:
	qp_buf_free(&buf);
	qp_page_free(page);
	return NULL;
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
	page->background = (qp_color){1, 1, 1, 1};
	page->title = qp_xstrdup("QR code");
	it.kind = QP_ITEM_QR;
	it.w = it.h = size;
	it.qr = qr;
	it.quiet = quiet;
	it.color = (qp_color){0, 0, 0, 1};
	it.background = (qp_color){1, 1, 1, 1};
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
	}
	free(page->items);
	free(page->title);
	free(page->subject);
	free(page);
}
