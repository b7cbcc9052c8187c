/*
 * template_lang.c - languages and per-language strings: `languages:`,
 * `strings:`, text given per language, and which variables are used.
 */
#include "template_int.h"

#include <ctype.h>

size_t
qp_template_nlocales(const qp_template *t)
{
	return t->nlangs ? t->nlangs : 1;
}

long
qp_template_lang(const qp_template *t, const char *tag)
{
	for (size_t i = 0; i < t->nlangs; i++)
		if (strcasecmp(t->langs[i], tag) == 0)
			return (long)i;
	return -1;
}

/* A language tag's language, script and region, lower-case. */
typedef struct lang_parts {
	char lang[9], script[5], region[4];
} lang_parts;

static void
lang_split(const char *tag, lang_parts *lp)
{
	static const char *const alias[][2] = {{"iw", "he"}, {"in", "id"},
	    {"ji", "yi"}, {"mo", "ro"}, {"tl", "fil"}, {"jw", "jv"}};
	const char *p = tag;
	int part = 0;

	memset(lp, 0, sizeof *lp);
	while (*p) {
		size_t n = strcspn(p, "-_");
		char sub[9];

		if (n >= sizeof sub)
			n = 0; /* a variant or extension: ignored */
		for (size_t i = 0; i < n; i++)
			sub[i] = (char)tolower((unsigned char)p[i]);
		sub[n] = '\0';
		if (part == 0) {
			snprintf(lp->lang, sizeof lp->lang, "%s", sub);
			part = 1;
		} else if (part == 1 && n == 4 && isalpha((unsigned char)*sub)) {
			memcpy(lp->script, sub, 5);
			part = 2;
		} else if (part <= 2 && (n == 2 || (n == 3 &&
		    isdigit((unsigned char)*sub)))) {
			memcpy(lp->region, sub, n + 1);
			part = 3;
		} else
			part = 3;
		p += n;
		if (*p)
			p++;
	}
	for (size_t i = 0; i < NKEYS(alias); i++)
		if (strcmp(lp->lang, alias[i][0]) == 0)
			snprintf(lp->lang, sizeof lp->lang, "%s", alias[i][1]);
	if (strcmp(lp->lang, "zh") == 0 && lp->script[0] == '\0') {
		if (!strcmp(lp->region, "tw") || !strcmp(lp->region, "hk") ||
		    !strcmp(lp->region, "mo"))
			memcpy(lp->script, "hant", 5);
		else if (!strcmp(lp->region, "cn") || !strcmp(lp->region, "sg")
		    || !strcmp(lp->region, "my"))
			memcpy(lp->script, "hans", 5);
	}
}

/* How well have serves want: -1 not at all, else higher is closer. */
static int
lang_score(const lang_parts *w, const lang_parts *h)
{
	int score = 0;

	if (w->lang[0] == '\0' || strcmp(w->lang, h->lang) != 0)
		return -1;
	if (w->script[0] && h->script[0]) {
		if (strcmp(w->script, h->script) != 0)
			return -1;
		score += 8;
	} else if (w->script[0] == '\0' && h->script[0] == '\0')
		score += 8;
	else if (w->script[0] == '\0' && strcmp(w->lang, "zh") == 0 &&
	    strcmp(h->script, "hans") == 0)
		score += 5; /* plain zh: Simplified before Traditional */
	else
		score += 4;
	if (strcmp(w->region, h->region) == 0)
		score += 2;
	else if (w->region[0] == '\0' || h->region[0] == '\0')
		score += 1;
	return score;
}

long
qp_lang_match(const char *want, const char *const *have, size_t n)
{
	lang_parts w, h;
	long best = -1;
	int best_score = -1;

	if (want == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(want, have[i]) == 0)
			return (long)i;
	lang_split(want, &w);
	for (size_t i = 0; i < n; i++) {
		int sc;

		lang_split(have[i], &h);
		sc = lang_score(&w, &h);
		if (sc > best_score) {
			best_score = sc;
			best = (long)i;
		}
	}
	return best;
}

long
qp_template_lang_match(const qp_template *t, const char *value)
{
	return qp_lang_match(value, (const char *const *)t->langs, t->nlangs);
}

/* True if variable var picks a language: the page's, or a block's
 * lang: "{{var}}". */
static bool
is_lang_var(const qp_template *t, size_t var)
{
	bool *used;
	bool r = false;

	if ((long)var == t->lang_var)
		return true;
	used = qp_xcalloc(t->nvars + 1, sizeof *used);
	for (size_t i = 0; i < t->nblocks; i++)
		if (t->blocks[i].kind == QP_BLOCK_TEXT &&
		    t->blocks[i].u.text.lang_tstr)
			qp_tstr_mark_used(t->blocks[i].u.text.lang_tstr, used);
	r = used[var];
	free(used);
	return r;
}

const char *
qp_var_value_canon(const qp_template *t, size_t var, const char *value)
{
	const qp_var *v = &t->vars[var];
	long i;

	if (value == NULL || v->nchoices == 0)
		return value;
	for (size_t k = 0; k < v->nchoices; k++)
		if (strcmp(v->choices[k], value) == 0)
			return value;
	if (!is_lang_var(t, var))
		return value;
	i = qp_lang_match(value, (const char *const *)v->choices, v->nchoices);
	return i >= 0 ? v->choices[i] : value;
}

bool
qp_lang_is_rtl(const char *tag)
{
	static const char *const rtl[] = {"ar", "he", "iw", "fa", "ur", "yi",
	    "ps", "sd", "ug", "dv", "ckb", "syr", "arc"};
	size_t n;

	if (tag == NULL)
		return false;
	/* Script subtags win: az-Arab is right-to-left, pa-Guru is not. */
	for (const char *c = tag; (c = strpbrk(c, "-_")) != NULL; c++)
		if (strncasecmp(c + 1, "arab", 4) == 0 ||
		    strncasecmp(c + 1, "hebr", 4) == 0)
			return true;
	n = strcspn(tag, "-_");
	for (size_t i = 0; i < NKEYS(rtl); i++)
		if (strlen(rtl[i]) == n && strncasecmp(tag, rtl[i], n) == 0)
			return true;
	return false;
}

/* Mark what every language's version of a text uses; *differs is set
 * when the versions differ (the text follows the page's language). */
static void
mark_l10n(const qp_template *t, qp_tstr *const *v, bool *used,
    bool *differs, bool *links)
{
	for (size_t i = 0; v && i < qp_template_nlocales(t); i++) {
		if (v[i] == NULL)
			continue;
		qp_tstr_mark_used(v[i], used);
		if (links)
			qp_tstr_mark_links(v[i], links);
		if (i > 0 && v[0] && strcmp(qp_tstr_source(v[0]),
		    qp_tstr_source(v[i])) != 0)
			*differs = true;
	}
}

static void
mark_tstr(const qp_tstr *s, bool *used, bool *links)
{
	if (s == NULL)
		return;
	qp_tstr_mark_used(s, used);
	if (links)
		qp_tstr_mark_links(s, links);
}

/* A block's variables: *page_lang set when it follows the page's
 * language. */
static void
block_uses(const qp_template *t, const qp_block *b, int part, bool *used,
    bool *links, bool *page_lang)
{
	bool differs = false;

	if (b->kind == QP_BLOCK_TEXT) {
		mark_l10n(t, b->u.text.l10n, used, &differs, links);
		/* A text that reads the same in every language (a number,
		 * a name) does not depend on 'lang'. */
		if (b->u.text.lang_tstr)
			mark_tstr(b->u.text.lang_tstr, used, links);
		else if (differs)
			*page_lang = true;
	} else if (b->kind == QP_BLOCK_QR) {
		if (part != 1)
			mark_tstr(b->u.qr.data, used, links);
		if (part != 0)
			mark_l10n(t, b->u.qr.caption_l10n, used, page_lang,
			    links);
	}
}

static void
mark_cond(const qp_cond *c, bool *used)
{
	for (size_t i = 0; i < c->n; i++)
		used[c->terms[i].var] = true;
}

void
qp_template_uses(const qp_template *t, bool *used, bool *links)
{
	bool page_lang = false;

	memset(used, 0, t->nvars * sizeof *used);
	if (links)
		memset(links, 0, t->nvars * sizeof *links);
	mark_l10n(t, t->title_l10n, used, &page_lang, links);
	mark_l10n(t, t->subject_l10n, used, &page_lang, links);
	for (size_t i = 0; i < t->nblocks; i++) {
		block_uses(t, &t->blocks[i], -1, used, links, &page_lang);
		/* What a block is drawn on changes the poster too. */
		mark_cond(&t->blocks[i].when, used);
	}
	for (size_t i = 0; i < t->nvars; i++)
		if (used[i])
			mark_cond(&t->vars[i].when, used);
	if (t->lang_var >= 0 && page_lang)
		used[t->lang_var] = true;
}

void
qp_template_uses_now(const qp_template *t, const char *const *values,
    bool *used)
{
	bool page_lang = false;

	memset(used, 0, t->nvars * sizeof *used);
	mark_l10n(t, t->title_l10n, used, &page_lang, NULL);
	mark_l10n(t, t->subject_l10n, used, &page_lang, NULL);
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];

		if (values ? !qp_block_active(t, b, values) : b->when.n > 0)
			continue;
		block_uses(t, b, -1, used, NULL, &page_lang);
	}
	if (t->lang_var >= 0 && page_lang)
		used[t->lang_var] = true;
}

void
qp_block_uses(const qp_template *t, const qp_block *b, bool caption,
    bool *used)
{
	bool page_lang = false;

	block_uses(t, b, b->kind == QP_BLOCK_QR ? caption : -1, used, NULL,
	    &page_lang);
	if (t->lang_var >= 0 && page_lang)
		used[t->lang_var] = true;
}

bool
qp_template_var_used(const qp_template *t, size_t var)
{
	bool *used = qp_xcalloc(t->nvars + 1, sizeof *used);
	bool r;

	qp_template_uses(t, used, NULL);
	r = used[var];
	free(used);
	return r;
}

bool
qp_var_value_ok(const qp_template *t, size_t var, const char *value,
    qp_error *err)
{
	const qp_var *v = &t->vars[var];
	qp_buf list;

	if (v->nchoices == 0 || value == NULL)
		return true;
	for (size_t i = 0; i < v->nchoices; i++)
		if (strcmp(v->choices[i], value) == 0)
			return true;
	/* A language is matched as a BCP 47 tag: zh-TW is zh-Hant. */
	if (is_lang_var(t, var) && qp_lang_match(value,
	    (const char *const *)v->choices, v->nchoices) >= 0)
		return true;
	qp_buf_init(&list);
	for (size_t i = 0; i < v->nchoices; i++)
		qp_buf_printf(&list, "%s%s", i ? ", " : "", v->choices[i]);
	qp_fail(err, "variable '%s' is '%s'; it must be one of %s", v->name,
	    value, list.data);
	qp_buf_free(&list);
	return false;
}

static bool
is_string_key(parser *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nskeys; i++)
		if (strlen(p->skeys[i]) == len &&
		    strncmp(p->skeys[i], name, len) == 0)
			return true;
	return false;
}

/*
 * Replace every {{key}} naming a string by language li's version of it;
 * variable references are left for vars.c. *out is NULL when a string
 * the text uses has no version in that language; *changed says whether
 * anything was replaced (so error columns still match the source).
 */
static bool
subst_strings(parser *p, yaml_node_t *v, const char *src, size_t li,
    char **out, bool *changed)
{
	qp_buf b;
	const char *s = src, *open;

	*out = NULL;
	*changed = false;
	qp_buf_init(&b);
	while ((open = strstr(s, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		const char *nb = open + 2, *ne, *bar;
		yaml_node_t *sv;

		if (close == NULL)
			break;
		bar = memchr(nb, '|', (size_t)(close - nb));
		ne = bar ? bar : close;
		while (nb < ne && (*nb == ' ' || *nb == '\t'))
			nb++;
		while (ne > nb && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		qp_buf_add(&b, s, (size_t)(open - s));
		if (!is_string_key(p, nb, (size_t)(ne - nb))) {
			qp_buf_add(&b, open, (size_t)(close + 2 - open));
			s = close + 2;
			continue;
		}
		if (bar) {
			qp_buf_free(&b);
			return tp_perr(p, v, 0, "'{{%.*s}}' names a string of "
			    "'strings'; strings take no filters",
			    (int)(close - open - 2), open + 2);
		}
		{
			char *key = qp_xstrndup(nb, (size_t)(ne - nb));
			sv = p->smaps[li] ? tp_get(p, p->smaps[li], key) : NULL;
			free(key);
		}
		if (sv == NULL) {
			qp_buf_free(&b);
			return true;
		}
		qp_buf_adds(&b, tp_scalar(sv));
		*changed = true;
		s = close + 2;
	}
	qp_buf_adds(&b, s);
	if (b.data == NULL)
		qp_buf_add(&b, "", 0);
	*out = qp_buf_steal(&b);
	return true;
}

/* Compile src in language li (strings replaced); *out NULL when a
 * string is missing in that language. */
static bool
compile_in(parser *p, yaml_node_t *v, const char *src, size_t li,
    qp_tstr **out)
{
	char *text;
	bool changed;
	qp_error e;

	*out = NULL;
	if (!subst_strings(p, v, src, li, &text, &changed))
		return false;
	if (text == NULL)
		return true;
	if (!changed) {
		free(text);
		return tp_compile(p, v, src, out);
	}
	*out = qp_tstr_compile(text, p->t->var_names, p->t->nvars, &e, NULL);
	free(text);
	return *out ? true : tp_perr(p, v, 0, "%s (in a string it uses)", e.msg);
}

void
tp_free_l10n(const qp_template *t, qp_tstr **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < qp_template_nlocales(t); i++)
		qp_tstr_free(v[i]);
	free(v);
}

/* The first entry that exists (the one kept for single-language use). */
static qp_tstr *
first_l10n(const qp_template *t, qp_tstr **v)
{
	for (size_t i = 0; v && i < qp_template_nlocales(t); i++)
		if (v[i])
			return v[i];
	return NULL;
}

/*
 * A text in every language: a tp_scalar (compiled once per language, its
 * {{string}} references replaced) or, when per_lang, a mapping of
 * language tag to text.
 */
static bool
compile_l10n(parser *p, yaml_node_t *v, bool per_lang, qp_tstr ***out)
{
	qp_template *t = p->t;
	size_t n = qp_template_nlocales(t);
	qp_tstr **arr = qp_xcalloc(n, sizeof *arr);

	*out = arr;
	if (v->type == YAML_MAPPING_NODE && per_lang) {
		if (t->nlangs == 0)
			return tp_perr(p, v, 0, "a text per language needs the "
			    "template's 'languages' (or 'strings')");
		if (!tp_check_map(p, v, "a text per language",
		    (const char *const *)t->langs, t->nlangs))
			return false;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *lv = tp_get(p, v, t->langs[i]);
			if (lv == NULL)
				continue;
			if (lv->type != YAML_SCALAR_NODE)
				return tp_perr(p, lv, 0, "the '%s' text must be a "
				    "single value, not %s", t->langs[i],
				    tp_type_name(lv));
			if (!compile_in(p, lv, tp_scalar(lv), i, &arr[i]))
				return false;
		}
	} else if (v->type != YAML_SCALAR_NODE)
		return tp_perr(p, v, 0, "a text must be a single value%s, not %s",
		    per_lang ? " or a mapping of language to text" : "",
		    tp_type_name(v));
	else
		for (size_t i = 0; i < n; i++)
			if (!compile_in(p, v, tp_scalar(v), i, &arr[i]))
				return false;
	if (first_l10n(t, arr) == NULL)
		return tp_perr(p, v, 0, "this text has no version in any of the "
		    "template's languages");
	return true;
}

bool
tp_get_l10n(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, bool per_lang, qp_tstr ***out, qp_tstr **first)
{
	yaml_node_t *v = tp_get(p, map, key);

	*out = NULL;
	*first = NULL;
	if (v == NULL) {
		if (required)
			return tp_perr(p, map, 0, "%s needs '%s'", what, key);
		return true;
	}
	if (!compile_l10n(p, v, per_lang, out))
		return false;
	*first = first_l10n(p->t, *out);
	return true;
}
/* A BCP 47-shaped tag: 2-3 letters, then subtags of 1-8 letters/digits. */
bool
tp_valid_tag(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))
		n++;
	if (n < 2 || n > 3)
		return false;
	s += n;
	while (*s == '-') {
		s++;
		for (n = 0; (s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9');
		    n++)
			;
		if (n < 1 || n > 8)
			return false;
		s += n;
	}
	return *s == '\0';
}

static bool
add_lang(parser *p, yaml_node_t *where, const char *tag)
{
	qp_template *t = p->t;

	if (!tp_valid_tag(tag))
		return tp_perr(p, where, 0, "'%s' is not a language tag (use BCP "
		    "47 tags such as en, es, ar, zh-Hant, vi, fil, ko)", tag);
	if (qp_template_lang(t, tag) >= 0)
		return tp_perr(p, where, 0, "language '%s' is listed twice", tag);
	t->langs = qp_xrealloc(t->langs, (t->nlangs + 1) * sizeof *t->langs);
	t->langs[t->nlangs++] = qp_xstrdup(tag);
	return true;
}

static void
add_var(qp_template *t, const char *name, const char *def, const char *desc)
{
	qp_var *v;

	t->vars = qp_xrealloc(t->vars, (t->nvars + 1) * sizeof *t->vars);
	t->var_names = qp_xrealloc(t->var_names,
	    (t->nvars + 1) * sizeof *t->var_names);
	v = &t->vars[t->nvars];
	memset(v, 0, sizeof *v);
	v->name = qp_xstrdup(name);
	v->def = def ? qp_xstrdup(def) : NULL;
	v->desc = desc ? qp_xstrdup(desc) : NULL;
	/* vars may have moved: refresh every name pointer */
	for (size_t i = 0; i <= t->nvars; i++)
		t->var_names[i] = t->vars[i].name;
	t->nvars++;
}

/*
 * languages: [en, es, ar]  -- the languages the template carries; the
 *   first is the default.
 * strings: {en: {headline: "..."}, es: {headline: "..."}}  -- named texts
 *   per language, used as {{headline}} in any text.
 * With languages, the variable 'lang' (declared here if the template does
 * not) picks the page's language; its choices are the languages.
 */
bool
tp_parse_languages(parser *p, yaml_node_t *root)
{
	qp_template *t = p->t;
	yaml_node_t *ln = tp_get(p, root, "languages");
	yaml_node_t *sn = tp_get(p, root, "strings");
	bool listed = false;
	long lv;

	if (ln && !tp_is_null(ln)) {
		yaml_node_item_t *it;

		if (ln->type != YAML_SEQUENCE_NODE ||
		    ln->data.sequence.items.top == ln->data.sequence.items.start)
			return tp_perr(p, ln, 0, "languages must be a list of "
			    "language tags, e.g. [en, es]");
		for (it = ln->data.sequence.items.start;
		    it < ln->data.sequence.items.top; it++) {
			yaml_node_t *v = tp_node(p, *it);
			if (tp_scalar(v) == NULL)
				return tp_perr(p, v, 0, "each language must be "
				    "a tag such as en or zh-Hant");
			if (!add_lang(p, v, tp_scalar(v)))
				return false;
		}
		listed = true;
	}
	if (sn && !tp_is_null(sn)) {
		yaml_node_pair_t *a, *b;

		if (sn->type != YAML_MAPPING_NODE)
			return tp_perr(p, sn, 0, "strings must be a mapping of "
			    "language to {name: text}");
		for (a = sn->data.mapping.pairs.start;
		    a < sn->data.mapping.pairs.top; a++) {
			yaml_node_t *k = tp_node(p, a->key);
			const char *tag = tp_scalar(k);

			if (tag == NULL)
				return tp_perr(p, k, 0, "keys of strings must be "
				    "language tags");
			if (!listed) {
				if (!add_lang(p, k, tag))
					return false;
			} else if (qp_template_lang(t, tag) < 0) {
				const char *near = qp_nearest(tag,
				    (const char *const *)t->langs, t->nlangs);
				return tp_perr(p, k, 0, "strings for '%s', which is "
				    "not in languages%s%s%s", tag,
				    near ? " (did you mean '" : "",
				    near ? near : "", near ? "'?)" : "");
			}
		}
		p->smaps = qp_xcalloc(t->nlangs, sizeof *p->smaps);
		for (a = sn->data.mapping.pairs.start;
		    a < sn->data.mapping.pairs.top; a++) {
			yaml_node_t *m = tp_node(p, a->value);
			size_t li = (size_t)qp_template_lang(t,
			    tp_scalar(tp_node(p, a->key)));

			if (tp_is_null(m))
				continue;
			if (m->type != YAML_MAPPING_NODE)
				return tp_perr(p, m, 0, "strings of '%s' must be a "
				    "mapping of name: text", t->langs[li]);
			p->smaps[li] = m;
			for (b = m->data.mapping.pairs.start;
			    b < m->data.mapping.pairs.top; b++) {
				yaml_node_t *k = tp_node(p, b->key);
				yaml_node_t *v = tp_node(p, b->value);
				const char *name = tp_scalar(k);

				if (name == NULL || *name == '\0' ||
				    strspn(name, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
				    strlen(name))
					return tp_perr(p, k, 0, "string names may "
					    "use only letters, digits and '_'");
				if (v->type != YAML_SCALAR_NODE)
					return tp_perr(p, v, 0, "string '%s' must "
					    "be a single text, not %s", name,
					    tp_type_name(v));
				if (qp_template_var(t, name) >= 0)
					return tp_perr(p, k, 0, "'%s' is both a "
					    "variable and a string; rename one",
					    name);
				for (const yaml_node_pair_t *c =
				    m->data.mapping.pairs.start; c < b; c++)
					if (!strcmp(tp_scalar(tp_node(p, c->key)),
					    name))
						return tp_perr(p, k, 0, "string "
						    "'%s' appears twice", name);
				if (is_string_key(p, name, strlen(name)))
					continue;
				p->skeys = qp_xrealloc(p->skeys,
				    (p->nskeys + 1) * sizeof *p->skeys);
				p->skeys[p->nskeys++] = name;
			}
		}
	}
	if (t->nlangs == 0)
		return true;
	if (p->smaps == NULL)
		p->smaps = qp_xcalloc(t->nlangs, sizeof *p->smaps);
	if ((lv = qp_template_var(t, "lang")) < 0) {
		add_var(t, "lang", t->langs[0], "Language of the poster");
		lv = (long)t->nvars - 1;
	}
	t->lang_var = lv;
	{
		qp_var *v = &t->vars[lv];
		if (v->nchoices == 0) {
			v->choices = qp_xcalloc(t->nlangs, sizeof *v->choices);
			for (size_t i = 0; i < t->nlangs; i++)
				v->choices[i] = qp_xstrdup(t->langs[i]);
			v->nchoices = t->nlangs;
		}
		for (size_t i = 0; i < v->nchoices; i++)
			if (qp_template_lang(t, v->choices[i]) < 0)
				return tp_perr(p, root, 0, "variable 'lang' may be "
				    "'%s', which is not one of the template's "
				    "languages", v->choices[i]);
		if (v->def && qp_template_lang(t, v->def) < 0)
			return tp_perr(p, root, 0, "variable 'lang' defaults to "
			    "'%s', which is not one of the template's "
			    "languages", v->def);
	}
	/* Each string on its own, so a bad {{reference}} in one points at
	 * its own line and column. */
	for (size_t li = 0; li < t->nlangs; li++) {
		yaml_node_pair_t *b;
		if (p->smaps[li] == NULL)
			continue;
		for (b = p->smaps[li]->data.mapping.pairs.start;
		    b < p->smaps[li]->data.mapping.pairs.top; b++) {
			yaml_node_t *v = tp_node(p, b->value);
			qp_tstr *tmp;
			if (!tp_compile(p, v, tp_scalar(v), &tmp))
				return false;
			qp_tstr_free(tmp);
		}
	}
	return true;
}
