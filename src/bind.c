/*
 * bind.c - the value rule and the binding of defaults, a CSV row and
 * the set values into one poster's values.
 */
#include "bind.h"

#include <stdlib.h>
#include <string.h>

struct qp_binding {
	const qp_template *t;
	size_t nvars; /* t->nvars (freeing needs no template) */
	bool *used;   /* the poster (or an extra string) uses it */
	bool *links;  /* it is the URL of a with: filter */
	char **set;   /* -s / form values, owned; NULL: not set */
	bool *set_given;
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
	b->links = qp_xcalloc(t->nvars + 1, sizeof *b->links);
	b->set = qp_xcalloc(t->nvars + 1, sizeof *b->set);
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
	for (size_t i = 0; i < b->nvars; i++)
		free(b->set[i]);
	for (size_t i = 0; i < b->ncols; i++)
		free(b->cols[i]);
	free(b->cols);
	free(b->set);
	free(b->set_given);
	free(b->used);
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
	if (s)
		qp_tstr_mark_used(s, b->used);
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
	if (!value_ok(b, (size_t)idx, value, len, &in, out))
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

bool
qp_binding_columns(qp_binding *b, const qp_data *d, qp_diag_list *out)
{
	const qp_template *t = b->t;
	size_t nerr = out->nerrors;
	qp_buf cols;

	qp_buf_init(&cols);
	for (size_t i = 0; i < b->ncols; i++)
		free(b->cols[i]);
	free(b->cols);
	b->ncols = qp_data_ncols(d);
	b->cols = qp_xcalloc(b->ncols + 1, sizeof *b->cols);
	for (size_t k = 0; k < b->ncols; k++) {
		const char *name = qp_data_col(d, k);
		qp_diag_in in = {.csv_line = 1, .column = name};

		b->cols[k] = qp_xstrdup(name);
		qp_buf_printf(&cols, "%s%s", k ? ", " : "", name);
		if (qp_template_var(t, name) >= 0)
			continue;
		in.s[0] = t->path;
		in.s[1] = qp_nearest(name, t->var_names, t->nvars);
		qp_diag_push(out, QP_D_COLUMN_UNUSED, &in);
	}
	for (size_t i = 0; i < t->nvars; i++) {
		b->col[i] = qp_data_col_index(d, t->var_names[i]);
		if (b->col[i] < 0 && b->used[i] && t->vars[i].def == NULL &&
		    !b->set_given[i]) {
			qp_diag_in in = {.csv_line = 1, .var = t->var_names[i]};
			in.s[0] = cols.data ? cols.data : "";
			in.s[1] = t->path;
			qp_diag_push(out, QP_D_COLUMN_MISSING, &in);
		}
	}
	qp_buf_free(&cols);
	return out->nerrors == nerr;
}

bool
qp_binding_bind(const qp_binding *b, const qp_record *rec, qp_values *v,
    qp_diag_list *out)
{
	const qp_template *t = b->t;
	size_t nerr = out->nerrors;

	for (size_t i = 0; i < t->nvars; i++) {
		long c = rec ? b->col[i] : -1;

		v->v[i] = t->vars[i].def;
		v->given[i] = false;
		if (b->set_given[i]) {
			v->v[i] = b->set[i];
			v->given[i] = true;
			continue;
		}
		if (c >= 0 && (size_t)c < b->ncols && rec->lens[c] > 0) {
			qp_diag_in in = {.csv_line = rec->line,
			    .column = b->cols[c]};

			if (!value_ok(b, i, rec->fields[c], rec->lens[c], &in,
			    out))
				continue;
			v->v[i] = rec->fields[c];
			v->given[i] = true;
		}
	}
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
	for (size_t i = 0; i < t->nvars; i++) {
		long c = rec ? b->col[i] : -1;
		qp_diag_in in = {.var = t->var_names[i]};

		if (v->v[i] != NULL || !b->used[i])
			continue;
		/* An empty cell that was refused has its own finding. */
		if (c >= 0 && rec->lens[c] > 0)
			continue;
		if (c >= 0) {
			in.csv_line = rec->line;
			in.column = b->cols[c];
		}
		qp_diag_push(out, QP_D_VALUE_MISSING, &in);
	}
	return out->nerrors == nerr;
}
