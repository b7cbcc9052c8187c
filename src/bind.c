/*
 * bind.c - the value rule and the binding of defaults, a CSV row and
 * the set values into one poster's values.
 */
#include "bind.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct qp_binding {
	const qp_template *t;
	size_t nvars; /* t->nvars (freeing needs no template) */
	bool *used;   /* the poster (or an extra string) uses it */
	bool *extra;  /* an extra string (qp_binding_use) uses it */
	bool *links;  /* it is the URL of a with: filter */
	char **set;   /* -s / form values, owned; NULL: not set */
	bool *set_given;
	char **prof;  /* the profile's values, owned; NULL: none */
	long *col;    /* the CSV column giving it, or -1 */
	char **cols;  /* the header's names, owned (for messages) */
	size_t ncols;
};

qp_code
qp_value_check(const char *s, size_t len, double n[2])
{
	double dummy[2];
	const char *nul = memchr(s, '\0', len);
	size_t bad, at;
	unsigned long cc;

	if (n == NULL)
		n = dummy;
	n[0] = n[1] = 0;
	/* The first fault in the value, whichever it is. */
	if (!qp_utf8_valid(s, nul ? (size_t)(nul - s) : len, &bad)) {
		n[0] = (double)bad + 1;
		n[1] = (unsigned char)s[bad];
		return QP_D_VALUE_UTF8;
	}
	if (nul) {
		n[0] = 0;
		n[1] = (double)(nul - s) + 1;
		return QP_D_VALUE_CONTROL;
	}
	if ((cc = qp_text_control(s, len, &at)) != 0) {
		n[0] = (double)cc;
		n[1] = (double)at + 1;
		return QP_D_VALUE_CONTROL;
	}
	if (len > QP_VALUE_MAX) {
		n[0] = (double)len;
		n[1] = QP_VALUE_MAX;
		return QP_D_VALUE_TOO_LONG;
	}
	return QP_D_NONE;
}

void
qp_values_init(qp_values *v, const qp_template *t)
{
	v->n = t->nvars;
	v->v = qp_xcalloc(t->nvars + 1, sizeof *v->v);
	v->given = qp_xcalloc(t->nvars + 1, sizeof *v->given);
}

void
qp_values_free(qp_values *v)
{
	if (v == NULL)
		return;
	free(v->v);
	free(v->given);
	memset(v, 0, sizeof *v);
}

qp_binding *
qp_binding_new(const qp_template *t)
{
	qp_binding *b = qp_xcalloc(1, sizeof *b);

	b->t = t;
	b->nvars = t->nvars;
	b->used = qp_xcalloc(t->nvars + 1, sizeof *b->used);
	b->extra = qp_xcalloc(t->nvars + 1, sizeof *b->extra);
	b->links = qp_xcalloc(t->nvars + 1, sizeof *b->links);
	b->set = qp_xcalloc(t->nvars + 1, sizeof *b->set);
	b->prof = qp_xcalloc(t->nvars + 1, sizeof *b->prof);
	b->set_given = qp_xcalloc(t->nvars + 1, sizeof *b->set_given);
	b->col = qp_xcalloc(t->nvars + 1, sizeof *b->col);
	for (size_t i = 0; i < t->nvars; i++)
		b->col[i] = -1;
	qp_template_uses(t, b->used, b->links);
	return b;
}

void
qp_binding_free(qp_binding *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nvars; i++) {
		free(b->set[i]);
		free(b->prof[i]);
	}
	for (size_t i = 0; i < b->ncols; i++)
		free(b->cols[i]);
	free(b->cols);
	free(b->set);
	free(b->set_given);
	free(b->prof);
	free(b->used);
	free(b->extra);
	free(b->links);
	free(b->col);
	free(b);
}

const qp_template *
qp_binding_template(const qp_binding *b)
{
	return b->t;
}

void
qp_binding_use(qp_binding *b, const qp_tstr *s)
{
	if (s) {
		qp_tstr_mark_used(s, b->used);
		qp_tstr_mark_used(s, b->extra);
	}
}

bool
qp_binding_used(const qp_binding *b, size_t i)
{
	return i < b->t->nvars && b->used[i];
}

bool
qp_binding_is_set(const qp_binding *b, size_t i)
{
	return i < b->t->nvars && b->set_given[i];
}

/*
 * The rule for one value of variable i (rule, link, choices); findings
 * carry where (CSV line and column, or none) in in.
 */
static bool
value_ok(const qp_binding *b, size_t i, const char *s, size_t len,
    qp_diag_in *in, qp_diag_list *out)
{
	const qp_var *v = &b->t->vars[i];
	qp_code code;

	in->var = v->name;
	if ((code = qp_value_check(s, len, in->n)) != QP_D_NONE) {
		qp_diag_push(out, code, in);
		return false;
	}
	if (len == 0)
		return true; /* not given: nothing more to hold it to */
	if (b->links[i] && !qp_url_is_http(s)) {
		in->s[0] = s;
		qp_diag_push(out, QP_D_LINK_NOT_HTTP, in);
		return false;
	}
	if (v->nchoices) {
		qp_buf list;
		qp_error e;
		size_t k;

		/* One of them, or (a language) a BCP 47 match of one. */
		if (qp_var_value_ok(b->t, i, s, &e))
			return true;
		qp_buf_init(&list);
		for (k = 0; k < v->nchoices; k++)
			qp_buf_printf(&list, "%s%s", k ? ", " : "",
			    v->choices[k]);
		in->s[0] = s;
		in->s[1] = list.data;
		qp_diag_push(out, QP_D_VALUE_CHOICE, in);
		qp_buf_free(&list);
		return false;
	}
	return true;
}

/* A required variable may not be given an empty value (value-empty). */
static bool
not_emptied(const qp_binding *b, size_t i, size_t len, qp_diag_in *in,
    qp_diag_list *out)
{
	if (len > 0 || !b->t->vars[i].required)
		return true;
	in->var = b->t->var_names[i];
	in->s[0] = b->t->vars[i].when.n ? NULL : b->t->vars[i].def;
	qp_diag_push(out, QP_D_VALUE_EMPTY, in);
	return false;
}

bool
qp_binding_set_value(qp_binding *b, const char *name, const char *value,
    size_t len, qp_diag_list *out)
{
	const qp_template *t = b->t;
	long idx = qp_template_var(t, name);
	qp_diag_in in = {0};

	if (idx < 0) {
		in.s[0] = name;
		in.s[1] = t->path;
		in.s[2] = qp_nearest(name, t->var_names, t->nvars);
		qp_diag_push(out, QP_D_UNKNOWN_VARIABLE, &in);
		return false;
	}
	if (!value_ok(b, (size_t)idx, value, len, &in, out) ||
	    !not_emptied(b, (size_t)idx, len, &in, out))
		return false;
	free(b->set[idx]);
	b->set[idx] = NULL;
	b->set_given[idx] = false;
	/* An empty value is not given: the default (or the row) decides. */
	if (len > 0) {
		b->set[idx] = qp_xstrndup(value, len);
		b->set_given[idx] = true;
	}
	return true;
}

bool
qp_binding_set(qp_binding *b, const char *kv, qp_diag_list *out)
{
	const char *eq = strchr(kv, '=');
	char *key;
	bool ok;

	if (eq == NULL || eq == kv) {
		qp_diag_in in = {0};
		in.s[0] = kv;
		qp_diag_push(out, QP_D_SET_SYNTAX, &in);
		return false;
	}
	key = qp_xstrndup(kv, (size_t)(eq - kv));
	ok = qp_binding_set_value(b, key, eq + 1, strlen(eq + 1), out);
	free(key);
	return ok;
}

bool
qp_binding_set_err(qp_binding *b, const char *kv, qp_error *err)
{
	qp_diag_list dl;
	const qp_diag *d;
	size_t klen = strcspn(kv, "=");
	char name[64];

	qp_diag_list_init(&dl);
	if (qp_binding_set(b, kv, &dl)) {
		qp_diag_list_clear(&dl);
		return true;
	}
	d = &dl.v[0];
	snprintf(name, sizeof name, "%.*s", (int)klen, kv);
	if (d->code == QP_D_SET_SYNTAX)
		qp_fail(err, "%s", d->msg);
	else if (d->code == QP_D_UNKNOWN_VARIABLE)
		qp_fail(err, "%s: %s", kv, d->msg);
	else
		qp_fail(err, "%s: %s", name, d->msg + d->body);
	qp_error_hint(err, QP_HINT_SET, 0, name);
	qp_diag_list_clear(&dl);
	return false;
}

/* ---- the CSV's header ------------------------------------------------ */

/*
 * A header names a variable, best first: by its name (3); by its name
 * with case, '_', '-' and spaces ignored, "Text Number" for text_number
 * (2); by its label, the description's first phrase as the web editor
 * shows it, "Location name" (1); or every word of the header is a word
 * of that variable's description and of no other's, "Phone" (0). Each
 * level is tried over the variables and columns still free, so an exact
 * name always wins. Written by hand: no library matches spreadsheet
 * headers to descriptions.
 */
#define MATCH_LEVELS 4

/* s lower-cased, every run of other than letters and digits (bytes
 * above 0x7F count as letters) one space, trimmed. */
static void
normal_words(const char *s, size_t len, qp_buf *out)
{
	bool space = false;

	qp_buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || isalnum(c)) {
			if (space && out->len)
				qp_buf_addc(out, ' ');
			space = false;
			qp_buf_addc(out, (char)tolower(c));
		} else
			space = true;
	}
	if (out->data == NULL)
		qp_buf_add(out, "", 0);
}

/* The label: the description up to its first ';', ',' or '('. */
static void
label_of(const qp_var *v, qp_buf *out)
{
	const char *d = v->desc ? v->desc : "";

	normal_words(d, strcspn(d, ";,("), out);
}

static bool
stop_word(const char *w, size_t n)
{
	static const char *const stop[] = {"a", "an", "the", "of", "to", "for",
	    "in", "on", "it", "its", "is", "and", "or", "s", "by"};

	for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
		if (strlen(stop[i]) == n && strncmp(stop[i], w, n) == 0)
			return true;
	return false;
}

/* True if the word w[0..n) is one of the words in the normalized text. */
static bool
has_word(const char *text, const char *w, size_t n)
{
	for (const char *p = text; *p; ) {
		size_t m = strcspn(p, " ");

		if (m == n && strncmp(p, w, n) == 0)
			return true;
		p += m;
		p += *p == ' ';
	}
	return false;
}

/* Every word of header (normalized, stop words aside; at least one) is
 * a word of desc (normalized). */
static bool
words_in(const char *header, const char *desc)
{
	size_t words = 0;

	for (const char *p = header; *p; ) {
		size_t m = strcspn(p, " ");

		if (!stop_word(p, m)) {
			if (!has_word(desc, p, m))
				return false;
			words++;
		}
		p += m;
		p += *p == ' ';
	}
	return words > 0;
}

/* Does column name h (normalized in hn) name variable i at level? */
static bool
names_var(const qp_template *t, size_t i, const char *h, const char *hn,
    int level, qp_buf *tmp)
{
	const qp_var *v = &t->vars[i];

	switch (level) {
	case 3:
		return strcmp(h, v->name) == 0;
	case 2:
		normal_words(v->name, strlen(v->name), tmp);
		return strcmp(hn, tmp->data) == 0;
	case 1:
		label_of(v, tmp);
		return tmp->len > 0 && strcmp(hn, tmp->data) == 0;
	default:
		if (v->desc == NULL)
			return false;
		normal_words(v->desc, strlen(v->desc), tmp);
		if (!words_in(hn, tmp->data))
			return false;
		/* Unambiguous: no other variable's description has them. */
		for (size_t j = 0; j < t->nvars; j++) {
			if (j == i || t->vars[j].desc == NULL)
				continue;
			normal_words(t->vars[j].desc, strlen(t->vars[j].desc),
			    tmp);
			if (words_in(hn, tmp->data))
				return false;
		}
		return true;
	}
}

bool
qp_binding_columns(qp_binding *b, const qp_data *d, qp_diag_list *out)
{
	const qp_template *t = b->t;
	size_t nerr = out->nerrors;
	bool *always = qp_xcalloc(t->nvars + 1, sizeof *always);
	bool *taken;
	qp_buf cols, hn, tmp;

	qp_buf_init(&cols);
	qp_buf_init(&hn);
	qp_buf_init(&tmp);
	for (size_t i = 0; i < b->ncols; i++)
		free(b->cols[i]);
	free(b->cols);
	b->ncols = qp_data_ncols(d);
	b->cols = qp_xcalloc(b->ncols + 1, sizeof *b->cols);
	taken = qp_xcalloc(b->ncols + 1, sizeof *taken);
	for (size_t k = 0; k < b->ncols; k++) {
		b->cols[k] = qp_xstrdup(qp_data_col(d, k));
		qp_buf_printf(&cols, "%s%s", k ? ", " : "", b->cols[k]);
	}
	for (size_t i = 0; i < t->nvars; i++)
		b->col[i] = -1;
	for (int level = MATCH_LEVELS - 1; level >= 0; level--) {
		for (size_t i = 0; i < t->nvars; i++) {
			long found = -1;

			if (b->col[i] >= 0)
				continue;
			for (size_t k = 0; k < b->ncols; k++) {
				if (taken[k])
					continue;
				normal_words(b->cols[k], strlen(b->cols[k]),
				    &hn);
				if (!names_var(t, i, b->cols[k], hn.data, level,
				    &tmp))
					continue;
				if (found >= 0) {
					/* Two columns say the same variable:
					 * which one holds it is a guess. */
					qp_diag_in in = {.csv_line = 1,
					    .var = t->var_names[i]};
					in.s[0] = b->cols[found];
					in.s[1] = b->cols[k];
					qp_diag_push(out, QP_D_COLUMN_TWICE,
					    &in);
					continue;
				}
				found = (long)k;
			}
			if (found >= 0) {
				b->col[i] = found;
				taken[found] = true;
			}
		}
	}
	for (size_t k = 0; k < b->ncols; k++) {
		qp_diag_in in = {.csv_line = 1, .column = b->cols[k]};

		if (taken[k])
			continue;
		in.s[0] = t->path;
		in.s[1] = qp_nearest(b->cols[k], t->var_names, t->nvars);
		qp_diag_push(out, QP_D_COLUMN_UNUSED, &in);
	}
	/* A column is needed for what every poster uses and nothing else
	 * gives (a variable only some posters use is value-missing on the
	 * rows whose posters do). */
	qp_template_uses_now(t, NULL, always);
	for (size_t i = 0; i < t->nvars; i++) {
		if (b->col[i] < 0 && (always[i] || b->extra[i]) &&
		    t->vars[i].def == NULL && !b->set_given[i] &&
		    !(b->prof[i] && b->prof[i][0])) {
			qp_diag_in in = {.csv_line = 1, .var = t->var_names[i]};
			in.s[0] = cols.data ? cols.data : "";
			in.s[1] = t->path;
			qp_diag_push(out, QP_D_COLUMN_MISSING, &in);
		}
	}
	free(taken);
	free(always);
	qp_buf_free(&cols);
	qp_buf_free(&hn);
	qp_buf_free(&tmp);
	return out->nerrors == nerr;
}

long
qp_binding_column(const qp_binding *b, size_t i)
{
	return i < b->t->nvars ? b->col[i] : -1;
}

/* ---- the profile ----------------------------------------------------- */

bool
qp_binding_profile(qp_binding *b, const qp_profile *p, qp_diag_list *out,
    qp_error *err)
{
	const qp_template *t = b->t;
	bool ok = true;

	if (p == NULL)
		return true;
	for (size_t k = 0; k < p->n; k++) {
		const qp_profile_entry *e = &p->v[k];
		long idx = qp_template_var(t, e->name);
		qp_diag_in in = {.var = e->name};
		size_t from = out->n;

		if (idx < 0 || !b->used[idx]) {
			in.s[0] = e->name;
			in.s[1] = t->path;
			qp_diag_push(out, QP_D_PROFILE_UNUSED, &in);
			continue;
		}
		if (!value_ok(b, (size_t)idx, e->value, strlen(e->value), &in,
		    out) || !not_emptied(b, (size_t)idx, strlen(e->value), &in,
		    out)) {
			if (ok && e->line)
				qp_fail(err, "%s:%d:%d: %s", p->path, e->line,
				    e->col, out->v[from].msg);
			else if (ok)
				qp_fail(err, "%s: %s", p->path,
				    out->v[from].msg);
			ok = false;
			continue;
		}
		free(b->prof[idx]);
		b->prof[idx] = qp_xstrdup(e->value);
	}
	if (p->logo && !qp_template_has_logo(t)) {
		qp_diag_in in = {.var = "logo"};
		in.s[0] = "logo";
		in.s[1] = t->path;
		qp_diag_push(out, QP_D_PROFILE_UNUSED, &in);
	}
	return ok;
}

/* ---- one poster's values ---------------------------------------------- */

/* "hotline is 1-888-373-7888" for a default's condition. */
static void
cond_text(const qp_template *t, const qp_cond *c, qp_buf *out)
{
	for (size_t i = 0; i < c->n; i++)
		qp_buf_printf(out, "%s%s is %s%s", i ? " and " : "",
		    t->var_names[c->terms[i].var], c->terms[i].negate ? "not " :
		    "", *c->terms[i].value ? c->terms[i].value : "empty");
}

bool
qp_binding_bind(const qp_binding *b, const qp_record *rec, qp_values *v,
    qp_diag_list *out)
{
	const qp_template *t = b->t;
	size_t nerr = out->nerrors;
	bool *now;

	/* Defaults < profile < the row's cell < -s (or the form). */
	for (size_t i = 0; i < t->nvars; i++) {
		long c = rec ? b->col[i] : -1;

		v->v[i] = t->vars[i].when.n ? NULL : t->vars[i].def;
		v->given[i] = false;
		if (b->set_given[i]) {
			v->v[i] = b->set[i];
			v->given[i] = true;
			continue;
		}
		if (c >= 0 && (size_t)c < b->ncols) {
			qp_diag_in in = {.csv_line = rec->line,
			    .column = b->cols[c]};

			if (!not_emptied(b, i, rec->lens[c], &in, out))
				continue;
			if (rec->lens[c] > 0) {
				if (!value_ok(b, i, rec->fields[c],
				    rec->lens[c], &in, out))
					continue;
				v->v[i] = rec->fields[c];
				v->given[i] = true;
				continue;
			}
		}
		if (b->prof[i] && b->prof[i][0]) {
			v->v[i] = b->prof[i];
			v->given[i] = true;
		}
	}
	/* A default that depends on another variable, once that one is
	 * settled (template_when.c). */
	for (size_t i = 0; i < t->nvars; i++)
		if (v->v[i] == NULL && !v->given[i] && t->vars[i].when.n)
			v->v[i] = qp_var_default(t, i, v->v);
	/* Defaults go through the rule too: a template's own default can
	 * be a link that is not http(s). */
	for (size_t i = 0; i < t->nvars; i++) {
		qp_diag_in in = {0};

		if (v->given[i] || v->v[i] == NULL || !b->used[i])
			continue;
		in.var = t->var_names[i];
		if (b->links[i] && !qp_url_is_http(v->v[i])) {
			in.s[0] = v->v[i];
			qp_diag_push(out, QP_D_LINK_NOT_HTTP, &in);
		}
	}
	/* What this poster draws needs a value (value-missing); a block
	 * whose when: does not hold needs none. */
	now = qp_xcalloc(t->nvars + 1, sizeof *now);
	qp_template_uses_now(t, v->v, now);
	for (size_t i = 0; i < t->nvars; i++) {
		long c = rec ? b->col[i] : -1;
		qp_diag_in in = {.var = t->var_names[i]};
		qp_buf why;

		if (v->v[i] != NULL || !(now[i] || b->extra[i]))
			continue;
		/* An empty cell that was refused has its own finding. */
		if (c >= 0 && (rec->lens[c] > 0 || t->vars[i].required))
			continue;
		if (c >= 0) {
			in.csv_line = rec->line;
			in.column = b->cols[c];
		}
		qp_buf_init(&why);
		if (t->vars[i].def && t->vars[i].when.n) {
			cond_text(t, &t->vars[i].when, &why);
			in.s[0] = t->vars[i].def;
			in.s[1] = why.data;
		}
		qp_diag_push(out, QP_D_VALUE_MISSING, &in);
		qp_buf_free(&why);
	}
	/* A value given for what this poster does not draw: the blocks that
	 * would print it are for other values (the hotline's name goes
	 * with any number but the national one). */
	for (size_t i = 0; i < t->nvars; i++) {
		qp_diag_in in = {.var = t->var_names[i]};

		if (v->given[i] && !now[i] && b->used[i] && !b->extra[i])
			qp_diag_push(out, QP_D_VALUE_UNUSED, &in);
	}
	free(now);
	return out->nerrors == nerr;
}
