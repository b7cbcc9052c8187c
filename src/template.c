/*
 * template.c - YAML template -> qp_template, with file:line:column errors.
 *
 * libyaml's document API gives every node its start mark, so each message
 * can point at the exact key or value that is wrong. Unknown keys are
 * errors (with the nearest valid key suggested): a misspelt "colr" that
 * were silently ignored would print a poster nobody asked for.
 */
#include "template.h"
#include "fonts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

typedef struct parser {
	const char *path;
	yaml_document_t doc;
	qp_error *err;
	qp_template *t;
	/* strings: one mapping node per language (NULL: none), and the
	 * union of their keys */
	yaml_node_t **smaps;
	const char **skeys;
	size_t nskeys;
} parser;

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static bool valid_tag(const char *);

static bool
perr(parser *p, const yaml_node_t *n, size_t col_off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
perr(parser *p, const yaml_node_t *n, size_t col_off, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		return qp_fail(p->err, "%s:%zu:%zu: %s", p->path,
		    n->start_mark.line + 1,
		    n->start_mark.column + 1 + col_off, msg);
	return qp_fail(p->err, "%s: %s", p->path, msg);
}

static yaml_node_t *
node(parser *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

static const char *
type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/*
 * Check that n is a mapping whose keys are scalars from keys[], each at
 * most once. what names the mapping in messages ("page", "text block").
 */
static bool
check_map(parser *p, yaml_node_t *n, const char *what,
    const char *const *keys, size_t nkeys)
{
	yaml_node_pair_t *a, *b;

	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, 0, "%s must be a mapping, not %s", what,
		    type_name(n));
	for (a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
	    a++) {
		yaml_node_t *k = node(p, a->key);
		const char *ks = scalar(k);
		size_t i;

		if (ks == NULL)
			return perr(p, k, 0, "keys in %s must be plain names",
			    what);
		for (i = 0; i < nkeys; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (i == nkeys) {
			const char *near = qp_nearest(ks, keys, nkeys);
			if (near)
				return perr(p, k, 0, "unknown key '%s' in %s "
				    "(did you mean '%s'?)", ks, what, near);
			return perr(p, k, 0, "unknown key '%s' in %s",
			    ks, what);
		}
		for (b = n->data.mapping.pairs.start; b < a; b++)
			if (strcmp(scalar(node(p, b->key)), ks) == 0)
				return perr(p, k, 0, "key '%s' appears twice "
				    "in %s", ks, what);
	}
	return true;
}

static yaml_node_t *
get(parser *p, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *a;

	for (a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	    a++) {
		/* A complex key ({a: b}: c) is no name; check_map reports it. */
		const char *k = scalar(node(p, a->key));
		if (k && strcmp(k, key) == 0)
			return node(p, a->value);
	}
	return NULL;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

/* A string value; err if missing (when required) or not a scalar. */
static bool
get_str(parser *p, yaml_node_t *map, const char *key, const char *what,
    const char **out, yaml_node_t **where, bool required)
{
	yaml_node_t *v = get(p, map, key);

	*out = NULL;
	if (where)
		*where = v;
	if (v == NULL) {
		if (required)
			return perr(p, map, 0, "%s needs '%s'", what, key);
		return true;
	}
	if (v->type != YAML_SCALAR_NODE)
		return perr(p, v, 0, "'%s' must be a single value, not %s",
		    key, type_name(v));
	*out = scalar(v);
	return true;
}

static bool
get_len(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, double ref, double *out, bool *present)
{
	const char *s;
	yaml_node_t *v;
	qp_len l;
	qp_error e;

	if (!get_str(p, map, key, what, &s, &v, required))
		return false;
	if (present)
		*present = s != NULL;
	if (s == NULL)
		return true;
	if (!qp_parse_len(s, ref > 0, &l, &e))
		return perr(p, v, 0, "%s: %s", key, e.msg);
	*out = l.kind == QP_LEN_PCT ? l.v * ref / 100 : l.v;
	return true;
}

static bool
get_color(parser *p, yaml_node_t *map, const char *key, qp_color *out)
{
	const char *s;
	yaml_node_t *v;
	qp_error e;

	if (!get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s && !qp_parse_color(s, out, &e))
		return perr(p, v, 0, "%s: %s", key, e.msg);
	return true;
}

static bool
get_bool(parser *p, yaml_node_t *map, const char *key, bool *out)
{
	const char *s;
	yaml_node_t *v;

	if (!get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s == NULL)
		return true;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return perr(p, v, 0, "%s: '%s' is not true or false", key, s);
	return true;
}

static bool
get_enum(parser *p, yaml_node_t *map, const char *key,
    const char *const *names, size_t n, int *out)
{
	const char *s;
	yaml_node_t *v;
	size_t i;
	qp_buf list;

	if (!get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s == NULL)
		return true;
	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	qp_buf_init(&list);
	for (i = 0; i < n; i++)
		qp_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	perr(p, v, 0, "%s: '%s' is not one of %s", key, s, list.data);
	qp_buf_free(&list);
	return false;
}

/* Compile a template string found at node v. */
static bool
compile(parser *p, yaml_node_t *v, const char *src, qp_tstr **out)
{
	qp_error e;
	size_t off = 0, col = 0;

	*out = qp_tstr_compile(src, p->t->var_names, p->t->nvars, &e, &off);
	if (*out)
		return true;
	/* Point at the column when the scalar sits on one line. */
	if (strchr(src, '\n') == NULL && v->start_mark.line == v->end_mark.line) {
		yaml_scalar_style_t st = v->data.scalar.style;
		if (st == YAML_PLAIN_SCALAR_STYLE)
			col = off;
		else if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			col = off + 1;
	}
	return perr(p, v, col, "%s", e.msg);
}

static bool
get_tstr(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, qp_tstr **out)
{
	const char *s;
	yaml_node_t *v;

	*out = NULL;
	if (!get_str(p, map, key, what, &s, &v, required))
		return false;
	if (s == NULL)
		return true;
	return compile(p, v, s, out);
}

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

static void
mark_l10n(const qp_template *t, qp_tstr *const *v, bool *used,
    bool *differs)
{
	for (size_t i = 0; v && i < qp_template_nlocales(t); i++) {
		if (v[i] == NULL)
			continue;
		qp_tstr_mark_used(v[i], used);
		if (i > 0 && v[0] && strcmp(qp_tstr_source(v[0]),
		    qp_tstr_source(v[i])) != 0)
			*differs = true;
	}
}

bool
qp_template_var_used(const qp_template *t, size_t var)
{
	bool *used = qp_xcalloc(t->nvars + 1, sizeof *used);
	bool page_lang = false, r;

	mark_l10n(t, t->title_l10n, used, &page_lang);
	mark_l10n(t, t->subject_l10n, used, &page_lang);
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];
		bool differs = false;

		if (b->kind == QP_BLOCK_TEXT) {
			mark_l10n(t, b->u.text.l10n, used, &differs);
			/* A text that reads the same in every language
			 * (a number, a name) does not depend on 'lang'. */
			if (b->u.text.lang_tstr)
				qp_tstr_mark_used(b->u.text.lang_tstr, used);
			else if (differs)
				page_lang = true;
		} else if (b->kind == QP_BLOCK_QR) {
			qp_tstr_mark_used(b->u.qr.data, used);
			mark_l10n(t, b->u.qr.caption_l10n, used, &page_lang);
		}
	}
	r = used[var] || ((long)var == t->lang_var && page_lang);
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
			return perr(p, v, 0, "'{{%.*s}}' names a string of "
			    "'strings'; strings take no filters",
			    (int)(close - open - 2), open + 2);
		}
		{
			char *key = qp_xstrndup(nb, (size_t)(ne - nb));
			sv = p->smaps[li] ? get(p, p->smaps[li], key) : NULL;
			free(key);
		}
		if (sv == NULL) {
			qp_buf_free(&b);
			return true;
		}
		qp_buf_adds(&b, scalar(sv));
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
		return compile(p, v, src, out);
	}
	*out = qp_tstr_compile(text, p->t->var_names, p->t->nvars, &e, NULL);
	free(text);
	return *out ? true : perr(p, v, 0, "%s (in a string it uses)", e.msg);
}

static void
free_l10n(const qp_template *t, qp_tstr **v)
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
 * A text in every language: a scalar (compiled once per language, its
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
			return perr(p, v, 0, "a text per language needs the "
			    "template's 'languages' (or 'strings')");
		if (!check_map(p, v, "a text per language",
		    (const char *const *)t->langs, t->nlangs))
			return false;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *lv = get(p, v, t->langs[i]);
			if (lv == NULL)
				continue;
			if (lv->type != YAML_SCALAR_NODE)
				return perr(p, lv, 0, "the '%s' text must be a "
				    "single value, not %s", t->langs[i],
				    type_name(lv));
			if (!compile_in(p, lv, scalar(lv), i, &arr[i]))
				return false;
		}
	} else if (v->type != YAML_SCALAR_NODE)
		return perr(p, v, 0, "a text must be a single value%s, not %s",
		    per_lang ? " or a mapping of language to text" : "",
		    type_name(v));
	else
		for (size_t i = 0; i < n; i++)
			if (!compile_in(p, v, scalar(v), i, &arr[i]))
				return false;
	if (first_l10n(t, arr) == NULL)
		return perr(p, v, 0, "this text has no version in any of the "
		    "template's languages");
	return true;
}

static bool
get_l10n(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, bool per_lang, qp_tstr ***out, qp_tstr **first)
{
	yaml_node_t *v = get(p, map, key);

	*out = NULL;
	*first = NULL;
	if (v == NULL) {
		if (required)
			return perr(p, map, 0, "%s needs '%s'", what, key);
		return true;
	}
	if (!compile_l10n(p, v, per_lang, out))
		return false;
	*first = first_l10n(p->t, *out);
	return true;
}

static const struct preset {
	const char *name;
	double w, h; /* points */
} presets[] = {
	{"letter", 8.5 * 72, 11 * 72},
	{"legal", 8.5 * 72, 14 * 72},
	{"tabloid", 11 * 72, 17 * 72},
	{"11x17", 11 * 72, 17 * 72},
	{"ledger", 17 * 72, 11 * 72},
	{"car-card", 28 * 72, 11 * 72},
	{"22x28", 22 * 72, 28 * 72},
	{"24x36", 24 * 72, 36 * 72},
	{"one-sheet", 46 * 72, 60 * 72},
	{"a0", 841 * QP_PT_PER_MM, 1189 * QP_PT_PER_MM},
	{"a1", 594 * QP_PT_PER_MM, 841 * QP_PT_PER_MM},
	{"a2", 420 * QP_PT_PER_MM, 594 * QP_PT_PER_MM},
	{"a3", 297 * QP_PT_PER_MM, 420 * QP_PT_PER_MM},
	{"a4", 210 * QP_PT_PER_MM, 297 * QP_PT_PER_MM},
	{"a5", 148 * QP_PT_PER_MM, 210 * QP_PT_PER_MM},
	{"a6", 105 * QP_PT_PER_MM, 148 * QP_PT_PER_MM},
};

bool
qp_page_size_parse(const char *s, double *w, double *h, qp_error *err)
{
	const char *names[NKEYS(presets)];
	const char *x;
	size_t i;

	for (i = 0; i < NKEYS(presets); i++) {
		names[i] = presets[i].name;
		if (strcasecmp(s, presets[i].name) == 0) {
			*w = presets[i].w;
			*h = presets[i].h;
			return true;
		}
	}
	/* "WxHunit", e.g. 11x17in or 300x200mm: one unit for both. */
	x = strchr(s, 'x');
	if (x && x > s) {
		const char *u = x + 1;
		double a, b;
		qp_error e;
		char *first;
		bool ok;

		while (*u && ((*u >= '0' && *u <= '9') || *u == '.'))
			u++;
		first = qp_xasprintf("%.*s%s", (int)(x - s), s, u);
		ok = *u && qp_parse_points(first, &a, &e) &&
		    qp_parse_points(x + 1, &b, &e);
		free(first);
		if (ok && a > 0 && b > 0) {
			*w = a;
			*h = b;
			return true;
		}
	}
	{
		const char *near = qp_nearest(s, names, NKEYS(presets));
		if (near)
			return qp_fail(err, "unknown page size '%s' (did you "
			    "mean '%s'?)", s, near);
	}
	return qp_fail(err, "unknown page size '%s' (use letter, legal, "
	    "tabloid, car-card, 22x28, 24x36, one-sheet, a0-a6, or WxH with "
	    "a unit, e.g. 300x200mm)", s);
}

#define MAX_PAGE_PT (200 * 72.0) /* 200 in: larger than any poster frame */

static bool
parse_page(parser *p, yaml_node_t *n)
{
	static const char *const keys[] = {"size", "orientation", "width",
	    "height", "margin", "background"};
	static const char *const orients[] = {"portrait", "landscape"};
	qp_template *t = p->t;
	const char *size;
	yaml_node_t *sv;
	int orient = -1;
	bool has_w = false, has_h = false;
	qp_error e;

	if (!check_map(p, n, "page", keys, NKEYS(keys)))
		return false;
	if (!get_str(p, n, "size", "page", &size, &sv, false))
		return false;
	if (size && !qp_page_size_parse(size, &t->page_w, &t->page_h, &e))
		return perr(p, sv, 0, "size: %s", e.msg);
	if (!get_len(p, n, "width", "page", false, 0, &t->page_w, &has_w) ||
	    !get_len(p, n, "height", "page", false, 0, &t->page_h, &has_h))
		return false;
	if (size && (has_w || has_h))
		return perr(p, n, 0, "page has both 'size' and "
		    "'width'/'height'; give one or the other");
	if (!size && !(has_w && has_h))
		return perr(p, n, 0, "page needs 'size' (e.g. letter) or both "
		    "'width' and 'height'");
	if (t->page_w <= 0 || t->page_h <= 0 || t->page_w > MAX_PAGE_PT ||
	    t->page_h > MAX_PAGE_PT)
		return perr(p, n, 0, "page size must be between 0 and 200in "
		    "on each side");
	if (!get_enum(p, n, "orientation", orients, 2, &orient))
		return false;
	if ((orient == 0 && t->page_w > t->page_h) ||
	    (orient == 1 && t->page_w < t->page_h)) {
		double tmp = t->page_w;
		t->page_w = t->page_h;
		t->page_h = tmp;
	}
	if (!get_len(p, n, "margin", "page", false, 0, &t->margin, NULL))
		return false;
	if (t->margin < 0 || 2 * t->margin >= t->page_w ||
	    2 * t->margin >= t->page_h)
		return perr(p, get(p, n, "margin"), 0, "margin must leave "
		    "room on the page");
	return get_color(p, n, "background", &t->background);
}

/* choices: [a, b, c] -- the values a variable may take. */
static bool
parse_choices(parser *p, yaml_node_t *v, qp_var *var)
{
	yaml_node_t *c = get(p, v, "choices");
	yaml_node_item_t *it;
	qp_error e;

	if (c == NULL)
		return true;
	if (c->type != YAML_SEQUENCE_NODE ||
	    c->data.sequence.items.top == c->data.sequence.items.start)
		return perr(p, c, 0, "choices of '%s' must be a non-empty list",
		    var->name);
	for (it = c->data.sequence.items.start; it < c->data.sequence.items.top;
	    it++) {
		const char *s = scalar(node(p, *it));
		if (s == NULL || *s == '\0')
			return perr(p, node(p, *it), 0, "each choice of '%s' "
			    "must be a single value", var->name);
		var->choices = qp_xrealloc(var->choices,
		    (var->nchoices + 1) * sizeof *var->choices);
		var->choices[var->nchoices++] = qp_xstrdup(s);
	}
	if (var->def && !qp_var_value_ok(p->t, (size_t)(var - p->t->vars),
	    var->def, &e))
		return perr(p, get(p, v, "default"), 0, "default: %s", e.msg);
	return true;
}

static bool
parse_variables(parser *p, yaml_node_t *n)
{
	static const char *const keys[] = {"default", "description",
	    "choices"};
	qp_template *t = p->t;
	yaml_node_pair_t *a;
	size_t i = 0, count;

	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, 0, "variables must be a mapping of name: "
		    "default value");
	count = (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start);
	t->vars = qp_xcalloc(count, sizeof *t->vars);
	t->var_names = qp_xcalloc(count, sizeof *t->var_names);
	for (a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
	    a++) {
		yaml_node_t *k = node(p, a->key), *v = node(p, a->value);
		const char *name = scalar(k);
		qp_var *var = &t->vars[i];

		if (name == NULL || *name == '\0')
			return perr(p, k, 0, "variable names must be plain "
			    "names");
		for (const char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || *c == '_'))
				return perr(p, k, 0, "variable name '%s' may "
				    "use only letters, digits and '_'", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->vars[j].name, name) == 0)
				return perr(p, k, 0, "variable '%s' is "
				    "defined twice", name);
		var->name = qp_xstrdup(name);
		t->var_names[i] = var->name;
		t->nvars = ++i;
		if (is_null(v))
			continue;
		if (v->type == YAML_SCALAR_NODE) {
			var->def = qp_xstrdup(scalar(v));
			continue;
		}
		{
			const char *d, *desc;
			if (!check_map(p, v, "a variable", keys, NKEYS(keys)) ||
			    !get_str(p, v, "default", "variable", &d, NULL,
			    false) ||
			    !get_str(p, v, "description", "variable", &desc,
			    NULL, false))
				return false;
			if (d && !is_null(get(p, v, "default")))
				var->def = qp_xstrdup(d);
			if (desc)
				var->desc = qp_xstrdup(desc);
			if (!parse_choices(p, v, var))
				return false;
		}
	}
	return true;
}

/* Box: x, y, w, h. x and y may be "center". */
static bool
parse_box(parser *p, yaml_node_t *blk, qp_block *b, bool need_h)
{
	static const char *const keys[] = {"x", "y", "w", "h"};
	qp_template *t = p->t;
	yaml_node_t *n = get(p, blk, "box"), *xv, *yv;
	const char *xs, *ys;
	bool x_center = false, y_center = false;

	if (n == NULL)
		return perr(p, blk, 0, "block '%s' needs a 'box' "
		    "{x, y, w, h}", b->id);
	if (!check_map(p, n, "box", keys, NKEYS(keys)))
		return false;
	if (!get_len(p, n, "w", "box", true, t->page_w, &b->box.w, NULL) ||
	    !get_len(p, n, "h", "box", need_h, t->page_h, &b->box.h,
	    &b->box.has_h))
		return false;
	if (!get_str(p, n, "x", "box", &xs, &xv, true) ||
	    !get_str(p, n, "y", "box", &ys, &yv, true))
		return false;
	if (strcmp(xs, "center") == 0)
		x_center = true;
	else if (!get_len(p, n, "x", "box", true, t->page_w, &b->box.x, NULL))
		return false;
	if (strcmp(ys, "center") == 0) {
		if (!b->box.has_h)
			return perr(p, yv, 0, "y: 'center' needs the box's "
			    "height 'h'");
		y_center = true;
	} else if (!get_len(p, n, "y", "box", true, t->page_h, &b->box.y,
	    NULL))
		return false;
	if (b->box.w <= 0 || (b->box.has_h && b->box.h <= 0))
		return perr(p, n, 0, "box of block '%s' must have a positive "
		    "width and height", b->id);
	if (x_center)
		b->box.x = (t->page_w - b->box.w) / 2;
	if (y_center)
		b->box.y = (t->page_h - b->box.h) / 2;
	/* A hair of tolerance for percentages that add up to 100%. */
	if (b->box.x < -0.01 || b->box.y < -0.01 ||
	    b->box.x + b->box.w > t->page_w + 0.01 ||
	    (b->box.has_h && b->box.y + b->box.h > t->page_h + 0.01))
		return perr(p, n, 0, "box of block '%s' (%.1fx%.1fpt at "
		    "%.1f,%.1f) extends outside the %.1fx%.1fpt page", b->id,
		    b->box.w, b->box.has_h ? b->box.h : b->box.w, b->box.x,
		    b->box.y, t->page_w, t->page_h);
	return true;
}

/* size: 24pt, or {max: 72pt, min: 28pt}. */
static bool
parse_size(parser *p, yaml_node_t *blk, const char *key, double def_max,
    double def_min, double *max, double *min)
{
	static const char *const keys[] = {"max", "min"};
	yaml_node_t *n = get(p, blk, key);
	qp_error e;

	*max = def_max;
	*min = def_min;
	if (n == NULL)
		return true;
	if (n->type == YAML_SCALAR_NODE) {
		if (!qp_parse_points(scalar(n), max, &e))
			return perr(p, n, 0, "%s: %s", key, e.msg);
		*min = *max;
	} else {
		bool has_min;
		if (!check_map(p, n, key, keys, NKEYS(keys)) ||
		    !get_len(p, n, "max", key, true, 0, max, NULL) ||
		    !get_len(p, n, "min", key, false, 0, min, &has_min))
			return false;
		if (!has_min)
			*min = *max;
	}
	if (*min <= 0 || *max < *min || *max > 2000)
		return perr(p, n, 0, "%s: need 0 < min <= max <= 2000pt", key);
	return true;
}

static bool
parse_rect(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "box", "fill",
	    "stroke", "stroke_width"};
	qp_rect_spec *r = &b->u.rect;

	r->fill = (qp_color){0, 0, 0, 0};
	r->stroke_width = 1;
	if (!check_map(p, n, "rect block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, true) || !get_color(p, n, "fill", &r->fill))
		return false;
	r->has_stroke = get(p, n, "stroke") != NULL;
	return get_color(p, n, "stroke", &r->stroke) &&
	    get_len(p, n, "stroke_width", "rect", false, 0, &r->stroke_width,
	    NULL);
}

static const char *const align_names[] = {"left", "center", "right",
    "start", "end"};
static const char *const valign_names[] = {"top", "middle", "bottom"};

static bool
parse_text(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "box", "text",
	    "font", "size", "color", "align", "valign", "line_spacing",
	    "wrap", "lang"};
	qp_text_spec *x = &b->u.text;
	const char *font, *ls, *lang;
	yaml_node_t *lsv;
	yaml_node_t *langv;
	int align = QP_ALIGN_START, valign = QP_VALIGN_TOP;

	x->color = (qp_color){0, 0, 0, 1};
	x->wrap = true;
	if (!check_map(p, n, "text block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, true) ||
	    !get_l10n(p, n, "text", "text block", true, true, &x->l10n,
	    &x->markup) ||
	    !get_str(p, n, "font", "text block", &font, NULL, false) ||
	    !parse_size(p, n, "size", 24, 24, &x->size_max, &x->size_min) ||
	    !get_color(p, n, "color", &x->color) ||
	    !get_enum(p, n, "align", align_names, 5, &align) ||
	    !get_enum(p, n, "valign", valign_names, 3, &valign) ||
	    !get_str(p, n, "line_spacing", "text block", &ls, &lsv, false) ||
	    !get_bool(p, n, "wrap", &x->wrap) ||
	    !get_str(p, n, "lang", "text block", &lang, &langv, false))
		return false;
	x->font = qp_xstrdup(font ? font : "Noto Sans");
	x->align = (qp_halign)align;
	x->valign = (qp_valign)valign;
	if (lang) {
		x->lang = qp_xstrdup(lang);
		if (!compile(p, langv, lang, &x->lang_tstr))
			return false;
		if (qp_tstr_is_constant(x->lang_tstr) && (p->t->nlangs ?
		    qp_template_lang(p->t, lang) < 0 : !valid_tag(lang)))
			return perr(p, langv, 0, p->t->nlangs ? "lang: '%s' is "
			    "not one of the template's languages" : "lang: "
			    "'%s' is not a language tag (e.g. en, es, zh-Hant)",
			    lang);
	}
	if (ls && (!qp_parse_number(ls, strlen(ls), &x->line_spacing) ||
	    x->line_spacing < 0.5 || x->line_spacing > 3))
		return perr(p, lsv, 0, "line_spacing: '%s' is not a factor "
		    "between 0.5 and 3", ls);
	return true;
}

static bool
parse_qr(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "box", "data", "ecc",
	    "scan_distance", "min_module", "quiet_zone", "color",
	    "background", "link", "caption", "caption_font", "caption_size",
	    "caption_color"};
	static const char *const eccs[] = {"L", "M", "Q", "H"};
	qp_qr_spec *q = &b->u.qr;
	const char *sd, *qz, *cf;
	yaml_node_t *sdv, *qzv;
	qp_error e;

	q->ecc = 1;
	q->quiet_zone = 4;
	q->min_module = 0.4 * QP_PT_PER_MM;
	q->color = (qp_color){0, 0, 0, 1};
	q->background = (qp_color){1, 1, 1, 1};
	q->caption_color = (qp_color){0, 0, 0, 1};
	q->link = true;
	if (!check_map(p, n, "qr block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, false) ||
	    !get_tstr(p, n, "data", "qr block", true, &q->data) ||
	    !get_enum(p, n, "ecc", eccs, 4, &q->ecc) ||
	    !get_str(p, n, "scan_distance", "qr block", &sd, &sdv, false) ||
	    !get_len(p, n, "min_module", "qr block", false, 0, &q->min_module,
	    NULL) ||
	    !get_str(p, n, "quiet_zone", "qr block", &qz, &qzv, false) ||
	    !get_color(p, n, "color", &q->color) ||
	    !get_color(p, n, "background", &q->background) ||
	    !get_bool(p, n, "link", &q->link) ||
	    !get_l10n(p, n, "caption", "qr block", false, true,
	    &q->caption_l10n, &q->caption) ||
	    !get_str(p, n, "caption_font", "qr block", &cf, NULL, false) ||
	    !parse_size(p, n, "caption_size", 14, 8, &q->caption_size_max,
	    &q->caption_size_min) ||
	    !get_color(p, n, "caption_color", &q->caption_color))
		return false;
	if (sd && (!qp_parse_metres(sd, &q->scan_distance, &e) ||
	    q->scan_distance <= 0))
		return perr(p, sdv, 0, "scan_distance: %s", sd &&
		    q->scan_distance <= 0 && e.msg[0] == '\0' ?
		    "must be positive" : e.msg);
	if (qz) {
		long v;
		if (!qp_parse_int(qz, 4, 100, &v))
			return perr(p, qzv, 0, "quiet_zone: '%s' must be a "
			    "whole number of modules, at least 4 (scanners "
			    "need 4)", qz);
		q->quiet_zone = (int)v;
	}
	if (q->min_module <= 0)
		return perr(p, get(p, n, "min_module"), 0, "min_module must "
		    "be positive");
	if (b->box.has_h && b->box.h < b->box.w)
		return perr(p, get(p, n, "box"), 0, "box of qr block '%s' must "
		    "be at least as tall as it is wide (the code is square)",
		    b->id);
	q->caption_font = qp_xstrdup(cf ? cf : "Noto Sans");
	return true;
}

static bool
parse_blocks(parser *p, yaml_node_t *n)
{
	static const char *const types[] = {"rect", "text", "qr"};
	qp_template *t = p->t;
	yaml_node_item_t *it;
	size_t count, i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return perr(p, n, 0, "blocks must be a list");
	count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (count == 0)
		return perr(p, n, 0, "blocks is empty: a poster needs at least "
		    "one block");
	t->blocks = qp_xcalloc(count, sizeof *t->blocks);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++, i++) {
		yaml_node_t *bn = node(p, *it), *tv;
		qp_block *b = &t->blocks[i];
		const char *type, *id;
		size_t k;
		bool ok;

		t->nblocks = i + 1;
		b->line = (int)bn->start_mark.line + 1;
		b->col = (int)bn->start_mark.column + 1;
		if (bn->type != YAML_MAPPING_NODE)
			return perr(p, bn, 0, "each block must be a mapping "
			    "with a 'type'");
		if (!get_str(p, bn, "type", "block", &type, &tv, true) ||
		    !get_str(p, bn, "id", "block", &id, NULL, false))
			return false;
		b->id = id ? qp_xstrdup(id) : qp_xasprintf("blocks[%zu]", i);
		for (k = 0; k < NKEYS(types); k++)
			if (strcmp(type, types[k]) == 0)
				break;
		if (k == NKEYS(types)) {
			const char *near = qp_nearest(type, types,
			    NKEYS(types));
			if (near)
				return perr(p, tv, 0, "unknown block type '%s' "
				    "(did you mean '%s'?)", type, near);
			return perr(p, tv, 0, "unknown block type '%s' (use "
			    "rect, text or qr)", type);
		}
		b->kind = (qp_block_kind)k;
		switch (b->kind) {
		case QP_BLOCK_RECT: ok = parse_rect(p, bn, b); break;
		case QP_BLOCK_TEXT: ok = parse_text(p, bn, b); break;
		case QP_BLOCK_QR: ok = parse_qr(p, bn, b); break;
		default: ok = false; break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* A BCP 47-shaped tag: 2-3 letters, then subtags of 1-8 letters/digits. */
static bool
valid_tag(const char *s)
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

	if (!valid_tag(tag))
		return perr(p, where, 0, "'%s' is not a language tag (use BCP "
		    "47 tags such as en, es, ar, zh-Hant, vi, fil, ko)", tag);
	if (qp_template_lang(t, tag) >= 0)
		return perr(p, where, 0, "language '%s' is listed twice", tag);
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
static bool
parse_languages(parser *p, yaml_node_t *root)
{
	qp_template *t = p->t;
	yaml_node_t *ln = get(p, root, "languages");
	yaml_node_t *sn = get(p, root, "strings");
	bool listed = false;
	long lv;

	if (ln && !is_null(ln)) {
		yaml_node_item_t *it;

		if (ln->type != YAML_SEQUENCE_NODE ||
		    ln->data.sequence.items.top == ln->data.sequence.items.start)
			return perr(p, ln, 0, "languages must be a list of "
			    "language tags, e.g. [en, es]");
		for (it = ln->data.sequence.items.start;
		    it < ln->data.sequence.items.top; it++) {
			yaml_node_t *v = node(p, *it);
			if (scalar(v) == NULL)
				return perr(p, v, 0, "each language must be "
				    "a tag such as en or zh-Hant");
			if (!add_lang(p, v, scalar(v)))
				return false;
		}
		listed = true;
	}
	if (sn && !is_null(sn)) {
		yaml_node_pair_t *a, *b;

		if (sn->type != YAML_MAPPING_NODE)
			return perr(p, sn, 0, "strings must be a mapping of "
			    "language to {name: text}");
		for (a = sn->data.mapping.pairs.start;
		    a < sn->data.mapping.pairs.top; a++) {
			yaml_node_t *k = node(p, a->key);
			const char *tag = scalar(k);

			if (tag == NULL)
				return perr(p, k, 0, "keys of strings must be "
				    "language tags");
			if (!listed) {
				if (!add_lang(p, k, tag))
					return false;
			} else if (qp_template_lang(t, tag) < 0) {
				const char *near = qp_nearest(tag,
				    (const char *const *)t->langs, t->nlangs);
				return perr(p, k, 0, "strings for '%s', which is "
				    "not in languages%s%s%s", tag,
				    near ? " (did you mean '" : "",
				    near ? near : "", near ? "'?)" : "");
			}
		}
		p->smaps = qp_xcalloc(t->nlangs, sizeof *p->smaps);
		for (a = sn->data.mapping.pairs.start;
		    a < sn->data.mapping.pairs.top; a++) {
			yaml_node_t *m = node(p, a->value);
			size_t li = (size_t)qp_template_lang(t,
			    scalar(node(p, a->key)));

			if (is_null(m))
				continue;
			if (m->type != YAML_MAPPING_NODE)
				return perr(p, m, 0, "strings of '%s' must be a "
				    "mapping of name: text", t->langs[li]);
			p->smaps[li] = m;
			for (b = m->data.mapping.pairs.start;
			    b < m->data.mapping.pairs.top; b++) {
				yaml_node_t *k = node(p, b->key);
				yaml_node_t *v = node(p, b->value);
				const char *name = scalar(k);

				if (name == NULL || *name == '\0' ||
				    strspn(name, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
				    strlen(name))
					return perr(p, k, 0, "string names may "
					    "use only letters, digits and '_'");
				if (v->type != YAML_SCALAR_NODE)
					return perr(p, v, 0, "string '%s' must "
					    "be a single text, not %s", name,
					    type_name(v));
				if (qp_template_var(t, name) >= 0)
					return perr(p, k, 0, "'%s' is both a "
					    "variable and a string; rename one",
					    name);
				for (const yaml_node_pair_t *c =
				    m->data.mapping.pairs.start; c < b; c++)
					if (!strcmp(scalar(node(p, c->key)),
					    name))
						return perr(p, k, 0, "string "
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
				return perr(p, root, 0, "variable 'lang' may be "
				    "'%s', which is not one of the template's "
				    "languages", v->choices[i]);
		if (v->def && qp_template_lang(t, v->def) < 0)
			return perr(p, root, 0, "variable 'lang' defaults to "
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
			yaml_node_t *v = node(p, b->value);
			qp_tstr *tmp;
			if (!compile(p, v, scalar(v), &tmp))
				return false;
			qp_tstr_free(tmp);
		}
	}
	return true;
}

/*
 * fonts: [file, ...] - font files the template brings, relative to the
 * template's folder; qp_template_load() registers them with fontconfig.
 * A file that is not there is an error at its line and column.
 */
static bool
parse_fonts(parser *p, yaml_node_t *n)
{
	qp_template *t = p->t;
	yaml_node_item_t *it;
	const char *slash = strrchr(p->path, '/');

	if (n->type != YAML_SEQUENCE_NODE)
		return perr(p, n, 0, "fonts must be a list of font files");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *v = node(p, *it);
		const char *f = scalar(v);
		struct stat st;
		char *path;

		if (f == NULL || *f == '\0')
			return perr(p, v, 0, "each entry of fonts is a font "
			    "file's path");
		if (f[0] == '/' || slash == NULL)
			path = qp_xstrdup(f);
		else
			path = qp_xasprintf("%.*s/%s", (int)(slash - p->path),
			    p->path, f);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			perr(p, v, 0, "font file '%s' does not exist (paths "
			    "are relative to the template's folder)", f);
			free(path);
			return false;
		}
		t->font_files = qp_xrealloc(t->font_files,
		    (t->nfont_files + 1) * sizeof *t->font_files);
		t->font_files[t->nfont_files++] = path;
	}
	return true;
}

static bool
parse_root(parser *p, yaml_node_t *root)
{
	static const char *const keys[] = {"qrposter", "name", "description",
	    "title", "subject", "page", "variables", "blocks",
	    "min_text_size", "languages", "strings", "fonts"};
	qp_template *t = p->t;
	yaml_node_t *n;
	const char *s;

	if (root == NULL)
		return perr(p, NULL, 0, "the template is empty");
	if (!check_map(p, root, "the template", keys, NKEYS(keys)))
		return false;
	if (!get_str(p, root, "qrposter", "template", &s, &n, false))
		return false;
	if (s && strcmp(s, "1") != 0)
		return perr(p, n, 0, "this is a version %s template; this "
		    "qrposter reads version 1", s);
	if (!get_str(p, root, "name", "template", &s, NULL, false))
		return false;
	t->name = qp_xstrdup(s ? s : "poster");
	if (!get_str(p, root, "description", "template", &s, NULL, false))
		return false;
	if (s)
		t->description = qp_xstrdup(s);
	if ((n = get(p, root, "page")) == NULL)
		return perr(p, root, 0, "the template needs a 'page' "
		    "(e.g. page: {size: letter})");
	t->background = (qp_color){1, 1, 1, 1};
	if (!parse_page(p, n))
		return false;
	if (!get_len(p, root, "min_text_size", "template", false, 0,
	    &t->min_text_size, NULL))
		return false;
	if ((n = get(p, root, "fonts")) != NULL && !is_null(n) &&
	    !parse_fonts(p, n))
		return false;
	if ((n = get(p, root, "variables")) != NULL && !is_null(n) &&
	    !parse_variables(p, n))
		return false;
	if (!parse_languages(p, root))
		return false;
	if (!get_l10n(p, root, "title", "template", false, true,
	    &t->title_l10n, &t->title) ||
	    !get_l10n(p, root, "subject", "template", false, true,
	    &t->subject_l10n, &t->subject))
		return false;
	if ((n = get(p, root, "blocks")) == NULL)
		return perr(p, root, 0, "the template needs 'blocks'");
	return parse_blocks(p, n);
}

/*
 * libyaml's loader recurses once per level of nesting: a template of a
 * few thousand "[" would exhaust the stack. Walk the events first (flat,
 * no recursion) and refuse anything deeper than a template can use. A
 * syntax error stops the walk; the loader then reports it.
 */
#define MAX_DEPTH 64

static bool
check_depth(const char *path, const char *text, size_t len, qp_error *err)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	int depth = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&yp))
		return qp_fail(err, "%s: cannot start the YAML parser", path);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (!done && yaml_parser_parse(&yp, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH) {
				ok = qp_fail(err, "%s:%zu:%zu: nested more than "
				    "%d levels deep; a template needs a few",
				    path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, MAX_DEPTH);
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ok;
}

qp_template *
qp_template_parse(const char *path, const char *text, size_t len,
    qp_error *err)
{
	yaml_parser_t yp;
	parser p = {.path = path, .err = err};
	bool ok = false;
	size_t bad;

	if (len > QP_TEMPLATE_MAX_BYTES) {
		qp_fail(err, "%s: template is %zu bytes; the limit is %d",
		    path, len, QP_TEMPLATE_MAX_BYTES);
		return NULL;
	}
	if (!qp_utf8_valid(text, len, &bad)) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80)
				col++;
		}
		qp_fail(err, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02X); save the "
		    "template as UTF-8", path, line, col,
		    (unsigned char)text[bad]);
		return NULL;
	}
	if (!check_depth(path, text, len, err))
		return NULL;
	p.t = qp_xcalloc(1, sizeof *p.t);
	p.t->path = qp_xstrdup(path);
	p.t->lang_var = -1;
	if (!yaml_parser_initialize(&yp)) {
		qp_fail(err, "%s: cannot start the YAML parser", path);
		qp_template_free(p.t);
		return NULL;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &p.doc)) {
		qp_fail(err, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
		    yp.problem_mark.line + 1, yp.problem_mark.column + 1,
		    yp.problem ? yp.problem : "unknown problem",
		    yp.context ? " " : "", yp.context ? yp.context : "");
		yaml_parser_delete(&yp);
		qp_template_free(p.t);
		return NULL;
	}
	ok = parse_root(&p, yaml_document_get_root_node(&p.doc));
	free(p.smaps);
	free(p.skeys);
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&yp);
	if (!ok) {
		qp_template_free(p.t);
		return NULL;
	}
	return p.t;
}

qp_template *
qp_template_load(const char *path, qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	qp_buf b;
	char chunk[8192];
	size_t n;
	qp_template *t;

	if (fp == NULL) {
		qp_fail(err, "%s: cannot open template: %s", path,
		    strerror(errno));
		return NULL;
	}
	qp_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		qp_buf_add(&b, chunk, n);
		if (b.len > QP_TEMPLATE_MAX_BYTES)
			break;
	}
	if (ferror(fp)) {
		qp_fail(err, "%s: cannot read template: %s", path,
		    strerror(errno));
		fclose(fp);
		qp_buf_free(&b);
		return NULL;
	}
	fclose(fp);
	if (b.data == NULL)
		qp_buf_add(&b, "", 0);
	t = qp_template_parse(path, b.data, b.len, err);
	qp_buf_free(&b);
	if (t && !qp_fonts_add_files((const char *const *)t->font_files,
	    t->nfont_files, err)) {
		qp_error_prefix(err, "%s", path);
		qp_template_free(t);
		return NULL;
	}
	if (t)
		qp_outfile_protect(path, "the template");
	return t;
}

void
qp_template_free(qp_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nblocks; i++) {
		qp_block *b = &t->blocks[i];
		free(b->id);
		switch (b->kind) {
		case QP_BLOCK_TEXT:
			free_l10n(t, b->u.text.l10n);
			free(b->u.text.font);
			free(b->u.text.lang);
			qp_tstr_free(b->u.text.lang_tstr);
			break;
		case QP_BLOCK_QR:
			qp_tstr_free(b->u.qr.data);
			free_l10n(t, b->u.qr.caption_l10n);
			free(b->u.qr.caption_font);
			break;
		default:
			break;
		}
	}
	free(t->blocks);
	for (size_t i = 0; i < t->nvars; i++) {
		free(t->vars[i].name);
		free(t->vars[i].def);
		free(t->vars[i].desc);
		for (size_t j = 0; j < t->vars[i].nchoices; j++)
			free(t->vars[i].choices[j]);
		free(t->vars[i].choices);
	}
	free(t->vars);
	free(t->var_names);
	free_l10n(t, t->title_l10n);
	free_l10n(t, t->subject_l10n);
	for (size_t i = 0; i < t->nlangs; i++)
		free(t->langs[i]);
	free(t->langs);
	free(t->name);
	free(t->description);
	for (size_t i = 0; i < t->nfont_files; i++)
		free(t->font_files[i]);
	free(t->font_files);
	free(t->path);
	free(t);
}

long
qp_template_var(const qp_template *t, const char *name)
{
	for (size_t i = 0; i < t->nvars; i++)
		if (strcmp(t->vars[i].name, name) == 0)
			return (long)i;
	return -1;
}
