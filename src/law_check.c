/*
 * law_check.c - a laid-out poster against a law pack (law.h).
 *
 * Everything is read from the display list as it will be drawn: each
 * text run's real size after shrink-to-fit and its real weight (the
 * font Pango chose for it, markup included), the language each byte is
 * tagged with (the block's lang, the page's, or a <span lang>), and the
 * text itself as Pango holds it (markup parsed away). The poster's text
 * is the text of every block and caption in drawing order, joined by
 * line breaks; phrases and statute texts are looked for in it after a
 * normalisation both sides share (see norm_char).
 */
#include "law.h"
#include "check.h"
#include "template.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What is known of one byte of the poster's text. */
typedef struct tbyte {
	int item;         /* index of its text item, -1 between items */
	float size;       /* points */
	bool bold;
	const char *lang; /* Pango's interned tag, or NULL: none */
} tbyte;

typedef struct ptext {
	qp_buf raw;   /* the items' texts, "\n" between them */
	tbyte *meta;  /* raw.len entries */
	size_t cap;
	qp_buf norm;  /* normalised raw */
	size_t *map;  /* norm.len entries: the raw byte each came from */
	size_t mcap;
	double max_size; /* the largest text on the page */
} ptext;

static void
meta_grow(ptext *p, size_t n)
{
	p->meta = qp_grow(p->meta, &p->cap, n, sizeof *p->meta);
}

/* The sizes and weights of one item's runs, and its language tags. */
static void
add_item(ptext *p, const qp_page *page, size_t idx)
{
	const qp_item *it = &page->items[idx];
	const char *text = pango_layout_get_text(it->layout);
	size_t len = strlen(text), base = p->raw.len;
	PangoLayoutIter *iter;
	PangoAttrList *al;

	if (base > 0) {
		qp_buf_addc(&p->raw, '\n');
		meta_grow(p, base + 1);
		p->meta[base] = (tbyte){-1, 0, false, NULL};
		base++;
	}
	qp_buf_add(&p->raw, text, len);
	meta_grow(p, base + len);
	for (size_t i = 0; i < len; i++)
		p->meta[base + i] = (tbyte){(int)idx, 0, false, NULL};
	iter = pango_layout_get_iter(it->layout);
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		PangoFontDescription *fd;
		double size;
		bool bold;

		if (run == NULL || run->item->analysis.font == NULL)
			continue;
		fd = pango_font_describe_with_absolute_size(
		    run->item->analysis.font);
		size = pango_font_description_get_size(fd) / (double)PANGO_SCALE;
		bold = pango_font_description_get_weight(fd) >=
		    PANGO_WEIGHT_BOLD;
		pango_font_description_free(fd);
		for (int k = 0; k < run->item->length; k++) {
			size_t at = (size_t)(run->item->offset + k);
			if (at < len) {
				p->meta[base + at].size = (float)size;
				p->meta[base + at].bold = bold;
			}
		}
		if (size > p->max_size)
			p->max_size = size;
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	/* The language attribute that covers each byte (innermost wins). */
	if ((al = pango_layout_get_attributes(it->layout)) != NULL) {
		PangoAttrIterator *ai = pango_attr_list_get_iterator(al);
		do {
			PangoAttribute *a = pango_attr_iterator_get(ai,
			    PANGO_ATTR_LANGUAGE);
			gint s, e;
			const char *tag;

			if (a == NULL)
				continue;
			pango_attr_iterator_range(ai, &s, &e);
			tag = pango_language_to_string(
			    ((PangoAttrLanguage *)a)->value);
			for (size_t k = (size_t)(s < 0 ? 0 : s);
			    k < len && (e == G_MAXINT || k < (size_t)e); k++)
				p->meta[base + k].lang = tag;
		} while (pango_attr_iterator_next(ai));
		pango_attr_iterator_destroy(ai);
	}
}

/*
 * Normalise one character for matching, appending its form to out:
 * compatibility decomposition (NFKD) and case folding, every dash read
 * as '-', curly quotes as straight ones, invisible format characters
 * (bidi isolates and marks, soft hyphens, joiners) dropped. White space
 * is the caller's: a run of it is one space.
 */
static void
norm_char(gunichar c, qp_buf *out)
{
	char u[8], *nf, *cf;
	int n;

	if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == 0x2043 ||
	    c == 0xFE58 || c == 0xFE63 || c == 0xFF0D) {
		qp_buf_addc(out, '-');
		return;
	}
	if (c == 0x2018 || c == 0x2019 || c == 0x201A || c == 0x201B ||
	    c == 0x2032) {
		qp_buf_addc(out, '\'');
		return;
	}
	if (c == 0x201C || c == 0x201D || c == 0x201E || c == 0x201F ||
	    c == 0x2033) {
		qp_buf_addc(out, '"');
		return;
	}
	if (g_unichar_type(c) == G_UNICODE_FORMAT)
		return;
	n = g_unichar_to_utf8(c, u);
	nf = g_utf8_normalize(u, n, G_NORMALIZE_ALL);
	cf = g_utf8_casefold(nf ? nf : u, -1);
	qp_buf_adds(out, cf);
	g_free(cf);
	g_free(nf);
}

/* Normalise s into out; map (may be NULL) gets, for each byte of out,
 * base plus the offset in s of the character it came from. */
static void
normalize(const char *s, size_t len, qp_buf *out, size_t **map,
    size_t *mcap, size_t base)
{
	bool space = true; /* leading white space is dropped */

	for (const char *p = s; p < s + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		size_t before = out->len;

		if (g_unichar_isspace(c) || c == 0x2028 || c == 0x2029) {
			if (space)
				continue;
			qp_buf_addc(out, ' ');
			space = true;
		} else {
			norm_char(c, out);
			if (out->len > before)
				space = false;
		}
		if (map) {
			*map = qp_grow(*map, mcap, out->len, sizeof **map);
			for (size_t k = before; k < out->len; k++)
				(*map)[k] = base + (size_t)(p - s);
		}
	}
	/* Trailing white space too. */
	while (out->len > 0 && out->data[out->len - 1] == ' ') {
		out->len--;
		out->data[out->len] = '\0';
	}
}

static void
ptext_build(ptext *p, const qp_page *page)
{
	memset(p, 0, sizeof *p);
	qp_buf_init(&p->raw);
	qp_buf_init(&p->norm);
	for (size_t i = 0; i < page->nitems; i++)
		if (page->items[i].kind == QP_ITEM_TEXT &&
		    page->items[i].layout)
			add_item(p, page, i);
	qp_buf_add(&p->raw, "", 0);
	normalize(p->raw.data, p->raw.len, &p->norm, &p->map, &p->mcap, 0);
	qp_buf_add(&p->norm, "", 0);
}

static void
ptext_free(ptext *p)
{
	qp_buf_free(&p->raw);
	qp_buf_free(&p->norm);
	free(p->meta);
	free(p->map);
}

/* What one occurrence of a phrase on the poster looks like. */
typedef struct occ {
	bool bold;       /* every character with ink is bold */
	double min_size; /* its smallest character */
	bool in_lang;    /* every letter is in the wanted language */
} occ;

static bool
lang_ok(const char *want, const char *have)
{
	return have && qp_lang_match(want, &have, 1) >= 0;
}

/* The raw bytes [from, to] of an occurrence at norm[a, a+n). */
static occ
occ_get(const ptext *p, size_t a, size_t n, const char *lang)
{
	size_t from = p->map[a], to = p->map[a + n - 1];
	const char *s = p->raw.data;
	occ o = {true, INFINITY, true};

	for (const char *c = s + from; c <= s + to && *c;
	    c = g_utf8_next_char(c)) {
		const tbyte *m = &p->meta[c - s];
		gunichar u = g_utf8_get_char(c);

		if (m->item < 0 || g_unichar_isspace(u) ||
		    g_unichar_type(u) == G_UNICODE_FORMAT)
			continue;
		if (!m->bold)
			o.bold = false;
		if (m->size < o.min_size)
			o.min_size = m->size;
		if (lang && g_unichar_isalpha(u) && !lang_ok(lang, m->lang))
			o.in_lang = false;
	}
	if (isinf(o.min_size))
		o.min_size = 0;
	return o;
}

/*
 * Every occurrence of needle (already normalised) in the poster's text;
 * calls f for each until it returns true. Returns whether one did.
 */
typedef bool (*occ_fn)(const occ *o, void *arg);

static bool
find_each(const ptext *p, const char *needle, const char *lang, occ_fn f,
    void *arg)
{
	size_t n = strlen(needle);
	const char *hay = p->norm.data, *at = hay;

	if (n == 0)
		return false;
	while ((at = strstr(at, needle)) != NULL) {
		occ o = occ_get(p, (size_t)(at - hay), n, lang);
		/* Whole words: "7888" is not found inside "78889". */
		bool left = at == hay || !g_unichar_isalnum(g_utf8_get_char(
		    g_utf8_prev_char(at))) || !g_unichar_isalnum(
		    g_utf8_get_char(needle));
		bool right = at[n] == '\0' || !g_unichar_isalnum(
		    g_utf8_get_char(at + n)) || !g_unichar_isalnum(
		    g_utf8_get_char(g_utf8_prev_char(needle + n)));

		if (left && right && o.in_lang && f(&o, arg))
			return true;
		at++;
	}
	return false;
}

static bool
any_occ(const occ *o, void *arg)
{
	occ *best = arg;

	/* Keep the best-looking one for the messages. */
	if (o->bold && !best->bold)
		*best = *o;
	else if (o->bold == best->bold && o->min_size > best->min_size)
		*best = *o;
	best->in_lang = true;
	return false; /* look at them all */
}

/* Common fields of a law finding. */
static qp_diag_in
law_in(const qp_law *law, const qp_law_rule *r)
{
	qp_diag_in in = {0};

	in.s[0] = r->cite;
	in.s[3] = law->code;
	in.n[6] = (double)(r - law->rules) + 1; /* which rule (1-based) */
	return in;
}

/* Push code, or law-advisory for an advisory rule (the same message,
 * as a warning). */
static void
law_push(qp_diag_list *out, const qp_law_rule *r, qp_code code,
    qp_diag_in *in)
{
	if (r->advisory) {
		in->n[7] = code;
		code = QP_D_LAW_ADVISORY;
	}
	qp_diag_push(out, code, in);
}

const char *
qp_lang_name(const char *tag)
{
	static const char *const names[][2] = {
	    {"en", "English"}, {"es", "Spanish"}, {"fr", "French"},
	    {"zh-Hant", "Traditional Chinese"},
	    {"zh-Hans", "Simplified Chinese"}, {"zh", "Chinese"},
	    {"vi", "Vietnamese"}, {"ko", "Korean"}, {"fil", "Tagalog"},
	    {"ar", "Arabic"}, {"he", "Hebrew"}, {"hi", "Hindi"},
	    {"ru", "Russian"}, {"ht", "Haitian Creole"},
	    {"pt", "Portuguese"}, {"ja", "Japanese"}, {"pl", "Polish"},
	    {"it", "Italian"}, {"de", "German"}, {"el", "Greek"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (g_ascii_strcasecmp(names[i][0], tag) == 0)
			return names[i][1];
	return tag;
}

static bool
check_page_size(const qp_law *law, const qp_law_rule *r,
    const qp_page *page, qp_diag_list *out)
{
	double w = fmin(page->w, page->h), h = fmax(page->w, page->h);
	qp_diag_in in;

	if (w >= r->min_w - 0.01 && h >= r->min_h - 0.01)
		return true;
	in = law_in(law, r);
	in.n[0] = w / QP_PT_PER_IN;
	in.n[1] = h / QP_PT_PER_IN;
	in.n[2] = r->min_w / QP_PT_PER_IN;
	in.n[3] = r->min_h / QP_PT_PER_IN;
	law_push(out, r, QP_D_LAW_PAGE_SIZE, &in);
	return false;
}

/* Every text item's smallest inked run, against the rule's minimum. */
static bool
check_type_size(const qp_law *law, const qp_law_rule *r,
    const qp_page *page, const ptext *p, qp_diag_list *out)
{
	bool ok = true;

	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		double min = INFINITY;
		const char *s = p->raw.data;

		if (it->kind != QP_ITEM_TEXT || it->layout == NULL)
			continue;
		for (const char *c = s; *c; c = g_utf8_next_char(c)) {
			const tbyte *m = &p->meta[c - s];
			gunichar u = g_utf8_get_char(c);
			if (m->item == (int)i && !g_unichar_isspace(u) &&
			    g_unichar_type(u) != G_UNICODE_FORMAT &&
			    m->size > 0 && m->size < min)
				min = m->size;
		}
		if (isinf(min) || min >= r->min_size - 0.01)
			continue;
		{
			qp_diag_in in = law_in(law, r);
			if (it->block) {
				in.block = it->block->id;
				in.line = it->block->line;
				in.col = it->block->col;
				in.caption = it->block->kind == QP_BLOCK_QR;
			}
			in.n[0] = min;
			in.n[1] = r->min_size;
			law_push(out, r, QP_D_LAW_TYPE_SIZE, &in);
		}
		ok = false;
	}
	return ok;
}

static bool
check_languages(const qp_law *law, const qp_law_rule *r,
    const qp_page *page, const ptext *p, qp_diag_list *out)
{
	const char *s = p->raw.data;
	size_t untagged = 0;
	bool ok = true;
	qp_buf all;

	/* Untagged text, for the hint (a caption is a URL: no language). */
	for (const char *c = s; *c; c = g_utf8_next_char(c)) {
		const tbyte *m = &p->meta[c - s];
		if (m->item >= 0 && m->lang == NULL &&
		    page->items[m->item].block &&
		    page->items[m->item].block->kind == QP_BLOCK_TEXT &&
		    g_unichar_isalpha(g_utf8_get_char(c)))
			untagged++;
	}
	qp_buf_init(&all);
	for (size_t i = 0; i < r->nlangs; i++)
		qp_buf_printf(&all, "%s%s", i == 0 ? "" : i + 1 == r->nlangs ?
		    " and " : ", ", qp_lang_name(r->langs[i]));
	for (size_t i = 0; i < r->nlangs; i++) {
		size_t letters = 0;
		qp_diag_in in;

		for (const char *c = s; *c; c = g_utf8_next_char(c)) {
			const tbyte *m = &p->meta[c - s];
			if (m->item >= 0 && lang_ok(r->langs[i], m->lang) &&
			    g_unichar_isalpha(g_utf8_get_char(c)))
				letters++;
		}
		if (letters > 0)
			continue;
		in = law_in(law, r);
		in.s[1] = qp_lang_name(r->langs[i]);
		in.s[2] = all.data;
		in.n[0] = (double)untagged;
		law_push(out, r, QP_D_LAW_LANGUAGE, &in);
		ok = false;
	}
	qp_buf_free(&all);
	return ok;
}

static bool
check_phrase(const qp_law *law, const qp_law_rule *r, const ptext *p,
    qp_diag_list *out)
{
	occ best = {false, 0, false};
	bool found = false;
	qp_buf list, needle;
	qp_diag_in in;

	qp_buf_init(&needle);
	for (size_t i = 0; i < r->ntexts; i++) {
		qp_buf_reset(&needle);
		normalize(r->texts[i], strlen(r->texts[i]), &needle, NULL, NULL,
		    0);
		qp_buf_add(&needle, "", 0);
		find_each(p, needle.data, r->lang, any_occ, &best);
		if (best.in_lang)
			found = true;
	}
	qp_buf_free(&needle);
	in = law_in(law, r);
	in.s[2] = r->lang ? qp_lang_name(r->lang) : NULL;
	if (!found) {
		qp_buf_init(&list);
		for (size_t i = 0; i < r->ntexts; i++)
			qp_buf_printf(&list, "%s'%s'", i ? ", " : "",
			    r->texts[i]);
		in.s[1] = list.data;
		in.n[0] = (double)r->ntexts;
		law_push(out, r, QP_D_LAW_PHRASE, &in);
		qp_buf_free(&list);
		return false;
	}
	in.s[1] = r->texts[0];
	if (r->bold && !best.bold) {
		in.n[0] = 1;
		law_push(out, r, QP_D_LAW_PHRASE_STYLE, &in);
		return false;
	}
	if (r->prominent && !best.bold &&
	    best.min_size < p->max_size - 0.01) {
		in.n[0] = 2;
		in.n[1] = best.min_size;
		in.n[2] = p->max_size;
		law_push(out, r, QP_D_LAW_PHRASE_STYLE, &in);
		return false;
	}
	if (r->min_size > 0 && best.min_size < r->min_size - 0.01) {
		in.n[0] = 3;
		in.n[1] = best.min_size;
		in.n[2] = r->min_size;
		law_push(out, r, QP_D_LAW_PHRASE_STYLE, &in);
		return false;
	}
	return true;
}

/*
 * Where the poster parts from a text it should hold word for word: the
 * longest prefix of needle found anywhere, and what follows it on both
 * sides (a few characters each, for the message).
 */
static void
closest(const ptext *p, const char *needle, size_t *got, char *law_next,
    char *poster_next, size_t n)
{
	const char *hay = p->norm.data;
	size_t best = 0, best_at = 0, nl = strlen(needle);

	for (size_t a = 0; hay[a]; a++) {
		size_t k = 0;
		if (hay[a] != needle[0])
			continue;
		while (k < nl && hay[a + k] && hay[a + k] == needle[k])
			k++;
		if (k > best) {
			best = k;
			best_at = a;
		}
	}
	/* Back to a character boundary. */
	while (best > 0 && ((unsigned char)needle[best] & 0xC0) == 0x80)
		best--;
	*got = best;
	snprintf(law_next, n, "%.*s", (int)(n - 1), needle + best);
	snprintf(poster_next, n, "%.*s", (int)(n - 1), hay + best_at + best);
	/* Cut both at a character boundary. */
	for (char *s = law_next; s; s = s == law_next ? poster_next : NULL) {
		size_t len = strlen(s);
		while (len > 0 && ((unsigned char)s[len - 1] & 0x80) &&
		    !g_utf8_validate(s, (gssize)len, NULL))
			s[--len] = '\0';
	}
}

static bool
check_statute(const qp_law *law, const qp_law_rule *r, const ptext *p,
    qp_diag_list *out)
{
	occ best = {false, 0, false};
	qp_buf needle;
	qp_diag_in in = law_in(law, r);
	char lnext[32], pnext[32];
	char *start = NULL;
	bool ok = true;

	qp_buf_init(&needle);
	normalize(r->texts[0], strlen(r->texts[0]), &needle, NULL, NULL, 0);
	qp_buf_add(&needle, "", 0);
	find_each(p, needle.data, r->lang, any_occ, &best);
	in.s[2] = r->lang ? qp_lang_name(r->lang) : NULL;
	if (!best.in_lang) {
		size_t got;

		closest(p, needle.data, &got, lnext, pnext, sizeof lnext);
		in.n[0] = (double)got;
		in.n[1] = (double)needle.len;
		/* Say where the poster parts from the law's words, when it
		 * follows them for a while. */
		if (got >= 12) {
			const char *tail;
			start = qp_xstrndup(needle.data, got);
			tail = start + (got > 40 ? got - 40 : 0);
			while (((unsigned char)*tail & 0xC0) == 0x80)
				tail++;
			in.s[1] = tail;
			in.s[4] = lnext;
			in.s[5] = pnext;
		}
		law_push(out, r, r->verbatim ? QP_D_LAW_TEXT :
		    QP_D_LAW_TEXT_SIMILAR, &in);
		free(start);
		qp_buf_free(&needle);
		return false;
	}
	qp_buf_free(&needle);
	if (r->bold && !best.bold) {
		in.n[0] = 1;
		law_push(out, r, QP_D_LAW_TEXT_STYLE, &in);
		ok = false;
	}
	if (r->min_size > 0 && best.min_size < r->min_size - 0.01) {
		in.n[0] = 3;
		in.n[1] = best.min_size;
		in.n[2] = r->min_size;
		law_push(out, r, QP_D_LAW_TEXT_STYLE, &in);
		ok = false;
	}
	return ok;
}

bool
qp_law_check(const qp_law *law, const qp_page *page, qp_diag_list *out,
    bool *failed)
{
	size_t before = out->nerrors;
	ptext p;

	ptext_build(&p, page);
	for (size_t i = 0; i < law->nrules; i++) {
		const qp_law_rule *r = &law->rules[i];
		bool ok = true;

		switch (r->kind) {
		case QP_LAW_PAGE_SIZE:
			ok = check_page_size(law, r, page, out);
			break;
		case QP_LAW_TYPE_SIZE:
			ok = check_type_size(law, r, page, &p, out);
			break;
		case QP_LAW_LANGUAGES:
			ok = check_languages(law, r, page, &p, out);
			break;
		case QP_LAW_PHRASE:
			ok = check_phrase(law, r, &p, out);
			break;
		case QP_LAW_STATUTE_TEXT:
			ok = check_statute(law, r, &p, out);
			break;
		case QP_LAW_BY_HAND:
			break;
		}
		if (failed && !ok)
			failed[i] = true;
	}
	ptext_free(&p);
	return out->nerrors == before;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

long
qp_law_today(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	long long t;
	long v;

	/* The reproducible-builds date when one is set, so the same
	 * inputs give the same findings (tests set it); else now. */
	if (sde && *sde && qp_parse_int(sde, 0, 253402300799L, &v))
		t = v;
	else
		t = (long long)time(NULL);
	return (long)(t / 86400);
}

bool
qp_law_stale(const qp_law *law, long today, qp_diag_list *out)
{
	long age = today - days_from_civil(law->checked_y, law->checked_m,
	    law->checked_d);
	qp_diag_in in = {0};

	if (age <= 365)
		return false;
	in.s[0] = law->citation;
	in.s[1] = law->checked;
	in.s[3] = law->code;
	in.n[0] = (double)age;
	qp_diag_push(out, QP_D_LAW_STALE, &in);
	return true;
}
