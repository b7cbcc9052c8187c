/*
 * law.c - posting-law packs: parse a pack (templates/laws/<code>.yaml)
 * into a qp_law, and find one by its code. The check of a laid-out
 * poster against a pack is in law_check.c.
 *
 * The YAML access is the template parser's (template_int.h): the same
 * typed getters, the same file:line:column messages, the same limits.
 */
#include "law.h"
#include "datadir.h"
#include "template_int.h"

#include <ctype.h>
#include <dirent.h>

static const char *const kind_names[] = {
	[QP_LAW_PAGE_SIZE] = "page-size",
	[QP_LAW_TYPE_SIZE] = "type-size",
	[QP_LAW_LANGUAGES] = "languages",
	[QP_LAW_PHRASE] = "phrase",
	[QP_LAW_STATUTE_TEXT] = "statute-text",
	[QP_LAW_BY_HAND] = "by-hand",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

const char *
qp_law_kind_name(qp_law_kind k)
{
	return (size_t)k < NKINDS ? kind_names[k] : "";
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
qp_law_free(qp_law *law)
{
	if (law == NULL)
		return;
	for (size_t i = 0; i < law->nrules; i++) {
		qp_law_rule *r = &law->rules[i];
		free(r->cite);
		free_strv(r->langs, r->nlangs);
		free_strv(r->texts, r->ntexts);
		free(r->lang);
	}
	free(law->rules);
	for (size_t i = 0; i < law->nsources; i++) {
		free(law->sources[i].url);
		free(law->sources[i].note);
	}
	free(law->sources);
	free_strv(law->applies_to, law->napplies);
	free_strv(law->missing, law->nmissing);
	free(law->path);
	free(law->code);
	free(law->jurisdiction);
	free(law->law);
	free(law->citation);
	free(law->template_name);
	free(law);
}

/* A required, non-empty string; *out is a copy. */
static bool
get_text(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, char **out)
{
	const char *s;
	yaml_node_t *v;

	if (!tp_get_str(p, map, key, what, &s, &v, required))
		return false;
	if (s == NULL)
		return true;
	if (*s == '\0')
		return tp_perr(p, v, 0, "'%s' of %s is empty", key, what);
	*out = qp_xstrdup(s);
	return true;
}

/* A list of non-empty strings (a single string counts as a list of one
 * when one is true). */
static bool
get_strv(parser *p, yaml_node_t *n, const char *key, bool one, char ***out,
    size_t *nout)
{
	yaml_node_item_t *it;
	size_t cap = 0;

	*out = NULL;
	*nout = 0;
	if (one && n->type == YAML_SCALAR_NODE) {
		if (*tp_scalar(n) == '\0')
			return tp_perr(p, n, 0, "'%s' is empty", key);
		*out = qp_xmalloc(sizeof **out);
		(*out)[(*nout)++] = qp_xstrdup(tp_scalar(n));
		return true;
	}
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top)
		return tp_perr(p, n, 0, "'%s' must be a non-empty list", key);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *e = tp_node(p, *it);
		const char *s = tp_scalar(e);

		if (s == NULL || *s == '\0')
			return tp_perr(p, e, 0, "each entry of '%s' must be a "
			    "non-empty string", key);
		*out = qp_grow(*out, &cap, *nout + 1, sizeof **out);
		(*out)[(*nout)++] = qp_xstrdup(s);
	}
	return true;
}

static bool
days_ok(int y, int m, int d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return m != 2 || d <= 28 || leap;
}

/* checked: an ISO 8601 calendar date, YYYY-MM-DD. */
static bool
parse_checked(parser *p, yaml_node_t *root, qp_law *law)
{
	const char *s;
	yaml_node_t *v;
	char ys[5], ms[3], ds[3];
	long y, m, d;

	if (!tp_get_str(p, root, "checked", "the law pack", &s, &v, true))
		return false;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		goto bad;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			goto bad;
	memcpy(ys, s, 4);
	ys[4] = '\0';
	memcpy(ms, s + 5, 2);
	ms[2] = '\0';
	memcpy(ds, s + 8, 2);
	ds[2] = '\0';
	if (!qp_parse_int(ys, 1900, 9999, &y) || !qp_parse_int(ms, 1, 12, &m) ||
	    !qp_parse_int(ds, 1, 31, &d) || !days_ok((int)y, (int)m, (int)d))
		goto bad;
	memcpy(law->checked, s, 11);
	law->checked_y = (int)y;
	law->checked_m = (int)m;
	law->checked_d = (int)d;
	return true;
bad:
	return tp_perr(p, v, 0, "checked: '%s' is not a date (write "
	    "YYYY-MM-DD, the day the text was compared with its source)", s);
}

static bool
parse_sources(parser *p, yaml_node_t *n, qp_law *law)
{
	static const char *const keys[] = {"url", "note"};
	yaml_node_item_t *it;
	size_t cap = 0;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top)
		return tp_perr(p, n, 0, "'sources' must be a non-empty list of "
		    "{url, note}");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *e = tp_node(p, *it);
		qp_law_source *src;

		if (!tp_check_map(p, e, "a source", keys, NKEYS(keys)))
			return false;
		law->sources = qp_grow(law->sources, &cap, law->nsources + 1,
		    sizeof *law->sources);
		src = &law->sources[law->nsources++];
		memset(src, 0, sizeof *src);
		if (!get_text(p, e, "url", "a source", true, &src->url) ||
		    !get_text(p, e, "note", "a source", false, &src->note))
			return false;
		if (strncmp(src->url, "http://", 7) != 0 &&
		    strncmp(src->url, "https://", 8) != 0)
			return tp_perr(p, tp_get(p, e, "url"), 0, "url: '%s' is "
			    "not an http(s) address", src->url);
	}
	return true;
}

/* The keys each kind of rule takes, besides rule, cite and advisory. */
static const char *const *
rule_keys(qp_law_kind k, size_t *n)
{
	static const char *const page[] = {"rule", "cite", "advisory", "min"};
	static const char *const langs[] = {"rule", "cite", "advisory",
	    "languages"};
	static const char *const phrase[] = {"rule", "cite", "advisory",
	    "text", "any", "lang", "bold", "prominent", "min_size"};
	static const char *const statute[] = {"rule", "cite", "advisory",
	    "text", "lang", "match", "bold", "min_size"};
	static const char *const hand[] = {"rule", "cite", "text"};

	switch (k) {
	case QP_LAW_PAGE_SIZE:
	case QP_LAW_TYPE_SIZE:
		*n = NKEYS(page);
		return page;
	case QP_LAW_LANGUAGES:
		*n = NKEYS(langs);
		return langs;
	case QP_LAW_PHRASE:
		*n = NKEYS(phrase);
		return phrase;
	case QP_LAW_STATUTE_TEXT:
		*n = NKEYS(statute);
		return statute;
	case QP_LAW_BY_HAND:
		break;
	}
	*n = NKEYS(hand);
	return hand;
}

static bool
parse_lang(parser *p, yaml_node_t *e, char **out)
{
	const char *s;
	yaml_node_t *v;

	if (!tp_get_str(p, e, "lang", "a rule", &s, &v, false))
		return false;
	if (s == NULL)
		return true;
	if (!tp_valid_tag(s))
		return tp_perr(p, v, 0, "lang: '%s' is not a BCP 47 language "
		    "tag (e.g. en, es, zh-Hant)", s);
	*out = qp_xstrdup(s);
	return true;
}

static bool
parse_rule_body(parser *p, yaml_node_t *e, qp_law_rule *r)
{
	yaml_node_t *v;
	const char *s;

	switch (r->kind) {
	case QP_LAW_PAGE_SIZE: {
		qp_error pe;
		if (!tp_get_str(p, e, "min", "a page-size rule", &s, &v, true))
			return false;
		if (!qp_page_size_parse(s, &r->min_w, &r->min_h, &pe))
			return tp_perr(p, v, 0, "min: %s", pe.msg);
		if (r->min_w > r->min_h) {
			double t = r->min_w;
			r->min_w = r->min_h;
			r->min_h = t;
		}
		return true;
	}
	case QP_LAW_TYPE_SIZE:
		if (!tp_get_len(p, e, "min", "a type-size rule", true, 0,
		    &r->min_size, NULL))
			return false;
		if (r->min_size <= 0 || r->min_size > 1000)
			return tp_perr(p, tp_get(p, e, "min"), 0, "min: a type "
			    "size must be above 0 and at most 1000pt");
		return true;
	case QP_LAW_LANGUAGES:
		if ((v = tp_get(p, e, "languages")) == NULL)
			return tp_perr(p, e, 0, "a languages rule needs "
			    "'languages' (e.g. [en, es])");
		if (!get_strv(p, v, "languages", false, &r->langs, &r->nlangs))
			return false;
		for (size_t i = 0; i < r->nlangs; i++)
			if (!tp_valid_tag(r->langs[i]))
				return tp_perr(p, v, 0, "languages: '%s' is not "
				    "a BCP 47 language tag", r->langs[i]);
		return true;
	case QP_LAW_PHRASE: {
		yaml_node_t *t = tp_get(p, e, "text"), *a = tp_get(p, e, "any");
		if ((t == NULL) == (a == NULL))
			return tp_perr(p, e, 0, "a phrase rule needs either "
			    "'text' (one phrase) or 'any' (a list, one of which "
			    "must be there)");
		if (!get_strv(p, t ? t : a, t ? "text" : "any", t != NULL,
		    &r->texts, &r->ntexts))
			return false;
		if (t && t->type != YAML_SCALAR_NODE)
			return tp_perr(p, t, 0, "'text' must be one phrase; "
			    "use 'any' for a list");
		break;
	}
	case QP_LAW_STATUTE_TEXT:
	case QP_LAW_BY_HAND: {
		static const char *const match[] = {"verbatim", "substantially"};
		int m = -1;
		char *txt = NULL;
		if (!get_text(p, e, "text", r->kind == QP_LAW_BY_HAND ?
		    "a by-hand rule" : "a statute-text rule", true, &txt))
			return false;
		r->texts = qp_xmalloc(sizeof *r->texts);
		r->texts[0] = txt;
		r->ntexts = 1;
		if (r->kind == QP_LAW_BY_HAND)
			return true;
		if (!tp_get_enum(p, e, "match", match, 2, &m))
			return false;
		if (m < 0)
			return tp_perr(p, e, 0, "a statute-text rule needs "
			    "'match': verbatim (word for word) or "
			    "substantially (the law allows similar wording)");
		r->verbatim = m == 0;
		break;
	}
	}
	/* phrase and statute-text */
	if (!parse_lang(p, e, &r->lang) ||
	    !tp_get_bool(p, e, "bold", &r->bold) ||
	    !tp_get_len(p, e, "min_size", "a rule", false, 0, &r->min_size,
	    NULL))
		return false;
	if (r->kind == QP_LAW_PHRASE &&
	    !tp_get_bool(p, e, "prominent", &r->prominent))
		return false;
	return true;
}

static bool
parse_rules(parser *p, yaml_node_t *n, qp_law *law)
{
	yaml_node_item_t *it;
	size_t cap = 0;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top)
		return tp_perr(p, n, 0, "'rules' must be a non-empty list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *e = tp_node(p, *it), *kv;
		const char *const *keys;
		size_t nkeys;
		int kind = -1;
		qp_law_rule *r;
		char what[40];

		if (e->type != YAML_MAPPING_NODE)
			return tp_perr(p, e, 0, "a rule must be a mapping "
			    "(rule: page-size, ...), not %s", tp_type_name(e));
		if ((kv = tp_get(p, e, "rule")) == NULL)
			return tp_perr(p, e, 0, "a rule needs 'rule' (one of "
			    "page-size, type-size, languages, phrase, "
			    "statute-text, by-hand)");
		if (!tp_get_enum(p, e, "rule", kind_names, NKINDS, &kind))
			return false;
		keys = rule_keys((qp_law_kind)kind, &nkeys);
		snprintf(what, sizeof what, "a %s rule", kind_names[kind]);
		if (!tp_check_map(p, e, what, keys, nkeys))
			return false;
		law->rules = qp_grow(law->rules, &cap, law->nrules + 1,
		    sizeof *law->rules);
		r = &law->rules[law->nrules++];
		memset(r, 0, sizeof *r);
		r->kind = (qp_law_kind)kind;
		r->line = (int)e->start_mark.line + 1;
		r->col = (int)e->start_mark.column + 1;
		if (!get_text(p, e, "cite", "a rule", false, &r->cite) ||
		    !tp_get_bool(p, e, "advisory", &r->advisory) ||
		    !parse_rule_body(p, e, r))
			return false;
		if (r->cite == NULL)
			r->cite = qp_xstrdup(law->citation);
	}
	return true;
}

static bool
valid_code(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '-')
			return false;
	return true;
}

static bool
parse_root(parser *p, yaml_node_t *root, qp_law *law)
{
	static const char *const keys[] = {"qrposter-law", "code",
	    "jurisdiction", "law", "citation", "checked", "template",
	    "sources", "applies_to", "rules", "missing"};
	const char *s;
	yaml_node_t *v;

	if (!tp_check_map(p, root, "the law pack", keys, NKEYS(keys)))
		return false;
	if (!tp_get_str(p, root, "qrposter-law", "the law pack", &s, &v,
	    true))
		return false;
	if (strcmp(s, "1") != 0)
		return tp_perr(p, v, 0, "qrposter-law: version '%s' is not "
		    "known (this qrposter reads version 1)", s);
	if (!get_text(p, root, "code", "the law pack", true, &law->code))
		return false;
	if (!valid_code(law->code))
		return tp_perr(p, tp_get(p, root, "code"), 0, "code: '%s' must "
		    "be lower-case letters, digits and '-' (e.g. fl, ny-mta)",
		    law->code);
	if (!get_text(p, root, "jurisdiction", "the law pack", true,
	    &law->jurisdiction) ||
	    !get_text(p, root, "law", "the law pack", false, &law->law) ||
	    !get_text(p, root, "citation", "the law pack", true,
	    &law->citation) ||
	    !parse_checked(p, root, law) ||
	    !get_text(p, root, "template", "the law pack", false,
	    &law->template_name))
		return false;
	if ((v = tp_get(p, root, "sources")) == NULL)
		return tp_perr(p, root, 0, "the law pack needs 'sources': where "
		    "its text and rules come from");
	if (!parse_sources(p, v, law))
		return false;
	if ((v = tp_get(p, root, "applies_to")) != NULL &&
	    !get_strv(p, v, "applies_to", false, &law->applies_to,
	    &law->napplies))
		return false;
	if ((v = tp_get(p, root, "missing")) != NULL &&
	    !get_strv(p, v, "missing", false, &law->missing, &law->nmissing))
		return false;
	if ((v = tp_get(p, root, "rules")) == NULL)
		return tp_perr(p, root, 0, "the law pack needs 'rules'");
	return parse_rules(p, v, law);
}

qp_law *
qp_law_parse(const char *path, const char *text, size_t len, qp_error *err)
{
	parser p = {.path = path, .err = err};
	qp_law *law;
	bool ok;

	if (!tp_doc_load(path, text, len, QP_LAW_MAX_BYTES, "law pack", &p.doc,
	    err))
		return NULL;
	law = qp_xcalloc(1, sizeof *law);
	law->path = qp_xstrdup(path);
	ok = parse_root(&p, yaml_document_get_root_node(&p.doc), law);
	yaml_document_delete(&p.doc);
	if (!ok) {
		qp_law_free(law);
		return NULL;
	}
	return law;
}

qp_law *
qp_law_load(const char *path, qp_error *err)
{
	qp_buf b;
	qp_law *law;

	if (!tp_read_file(path, "law pack", QP_LAW_MAX_BYTES, &b, err))
		return NULL;
	law = qp_law_parse(path, b.data, b.len, err);
	qp_buf_free(&b);
	if (law)
		qp_outfile_protect(path, "the law pack");
	return law;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
qp_law_codes(void)
{
	char *dir = qp_xasprintf("%s/templates/laws", qp_datadir());
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;
	qp_buf b;

	qp_buf_init(&b);
	while (d && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 5 && e->d_name[0] != '.' &&
		    strcmp(e->d_name + len - 5, ".yaml") == 0) {
			v = qp_grow(v, &cap, n + 1, sizeof *v);
			v[n++] = qp_xstrndup(e->d_name, len - 5);
		}
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_str);
	for (size_t i = 0; i < n; i++)
		qp_buf_printf(&b, "%s%s", i ? ", " : "", v[i]);
	free_strv(v, n);
	free(dir);
	if (b.data == NULL)
		qp_buf_adds(&b, "");
	return qp_buf_steal(&b);
}

char *
qp_law_find(const char *arg, qp_error *err)
{
	struct stat st;
	char *codes;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
		return qp_xstrdup(arg);
	if (*arg && strchr(arg, '/') == NULL && strlen(arg) <= 32) {
		char code[40];
		size_t i;
		char *path;

		for (i = 0; arg[i]; i++)
			code[i] = (char)tolower((unsigned char)arg[i]);
		code[i] = '\0';
		if (i > 5 && strcmp(code + i - 5, ".yaml") == 0)
			code[i - 5] = '\0';
		if (valid_code(code)) {
			path = qp_xasprintf("%s/templates/laws/%s.yaml",
			    qp_datadir(), code);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				return path;
			free(path);
		}
	}
	codes = qp_law_codes();
	qp_fail(err, "%s: no such law pack (give a file, or the code of a "
	    "bundled one: %s)", arg, *codes ? codes : "none installed");
	free(codes);
	return NULL;
}

qp_law *
qp_law_open(const char *arg, qp_error *err)
{
	char *path = qp_law_find(arg, err);
	qp_law *law;

	if (path == NULL)
		return NULL;
	law = qp_law_load(path, err);
	free(path);
	return law;
}

void
qp_law_rule_describe(const qp_law_rule *r, qp_buf *out)
{
	switch (r->kind) {
	case QP_LAW_PAGE_SIZE:
		qp_buf_printf(out, "page at least %.4gx%.4gin",
		    r->min_w / QP_PT_PER_IN, r->min_h / QP_PT_PER_IN);
		break;
	case QP_LAW_TYPE_SIZE:
		qp_buf_printf(out, "all text at least %.4gpt", r->min_size);
		break;
	case QP_LAW_LANGUAGES:
		qp_buf_adds(out, "text in ");
		for (size_t i = 0; i < r->nlangs; i++)
			qp_buf_printf(out, "%s%s", i == 0 ? "" :
			    i + 1 == r->nlangs ? " and " : ", ",
			    qp_lang_name(r->langs[i]));
		break;
	case QP_LAW_PHRASE:
		qp_buf_adds(out, r->ntexts > 1 ? "one of " : "");
		for (size_t i = 0; i < r->ntexts; i++)
			qp_buf_printf(out, "%s'%s'", i ? ", " : "", r->texts[i]);
		if (r->lang)
			qp_buf_printf(out, " in %s", qp_lang_name(r->lang));
		if (r->bold)
			qp_buf_adds(out, " in bold");
		if (r->prominent)
			qp_buf_adds(out, ", prominently");
		if (r->min_size > 0)
			qp_buf_printf(out, " at least %.4gpt", r->min_size);
		break;
	case QP_LAW_STATUTE_TEXT: {
		size_t len = strlen(r->texts[0]), n = len > 40 ? 40 : len;
		/* Cut at a character boundary. */
		while (n < len && ((unsigned char)r->texts[0][n] & 0xC0) == 0x80)
			n--;
		qp_buf_printf(out, "the law's text %s (\"%.*s%s\")",
		    r->verbatim ? "word for word" : "or substantially the same",
		    (int)n, r->texts[0], n < len ? "..." : "");
		if (r->lang)
			qp_buf_printf(out, " in %s", qp_lang_name(r->lang));
		if (r->bold)
			qp_buf_adds(out, ", in bold");
		if (r->min_size > 0)
			qp_buf_printf(out, ", at least %.4gpt", r->min_size);
		break;
	}
	case QP_LAW_BY_HAND:
		qp_buf_adds(out, r->texts[0]);
		break;
	}
}
