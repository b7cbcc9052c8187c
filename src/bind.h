/*
 * bind.h - the values of one poster: what a value may hold, and
 * defaults + CSV row + -s (or a web form) -> one value per variable.
 *
 * The value rule, the same for -s, CSV cells and web form fields:
 *   - valid UTF-8 (value-utf8);
 *   - no NUL and no other control character: C0 but tab, line feed and
 *     carriage return, DEL, C1 (U+0080..U+009F) (value-control); tab and
 *     line breaks are text, direction controls are text;
 *   - at most QP_VALUE_MAX bytes (value-too-long);
 *   - a variable that is the base of a link ({{report_url|with:loc=code}},
 *     vars.h) holds an absolute http(s) URL (link-not-http);
 *   - a variable with choices holds one of them (value-choice);
 *   - a variable the template marks required: holds something: an
 *     empty -s, form field, CSV cell or profile value is refused
 *     (value-empty) rather than read as "the default".
 *
 * The "given" rule, the same for render, check, batch and serve: a value
 * is given when -s (or a web form field), the row's cell or the profile
 * (profile.h) holds a non-empty text. An empty one is not given: the
 * variable keeps its default, or, with none, has no value. -s overrides
 * the row; the row overrides the profile; the profile overrides the
 * default. A default with a when: (template_when.c) applies only when
 * its condition holds over the other values. A variable the poster
 * draws (a block whose when: holds, the title, the subject; template.h
 * qp_template_uses_now) that ends with no value is value-missing.
 *
 * Strings are borrowed: qp_values point into the template (defaults),
 * the binding (-s, form fields) and the record (CSV cells), so a row's
 * values are valid until the next record is read.
 */
#ifndef QP_BIND_H
#define QP_BIND_H

#include "data.h"
#include "diag.h"
#include "profile.h"
#include "template.h"

/* Bytes a value may hold: far more than a poster can print. */
#define QP_VALUE_MAX 4096

/*
 * The value rule on s[0..len) (which may hold NUL bytes): QP_D_NONE, or
 * value-utf8 (n[0] the 1-based byte offset, n[1] the byte),
 * value-control (n[0] the code point, n[1] the byte offset) or
 * value-too-long (n[0] the length, n[1] the limit). n may be NULL.
 */
qp_code qp_value_check(const char *s, size_t len, double n[2]);

/* One poster's values. */
typedef struct qp_values {
	size_t n;         /* t->nvars */
	const char **v;   /* NULL: no value */
	bool *given;      /* a non-empty -s, form field or cell gave it */
} qp_values;

void qp_values_init(qp_values *v, const qp_template *t);
void qp_values_free(qp_values *v);

/* A template, the values set for every poster, and the CSV columns. */
typedef struct qp_binding qp_binding;

/* t must outlive the binding's use; freeing it needs no template. */
qp_binding *qp_binding_new(const qp_template *t);
void qp_binding_free(qp_binding *b);
const qp_template *qp_binding_template(const qp_binding *b);

/* Also count the variables s uses as used (a batch's output names). */
void qp_binding_use(qp_binding *b, const qp_tstr *s);
/* True if the poster (or an extra string) uses variable i. */
bool qp_binding_used(const qp_binding *b, size_t i);

/*
 * A value for every poster: "NAME=VALUE" as -s gives it (set-syntax,
 * unknown-variable, or the value rule). False with the finding in out.
 */
bool qp_binding_set(qp_binding *b, const char *kv, qp_diag_list *out);
/* The same with the name and value apart (a web form field); the value
 * is len bytes and may hold NUL. */
bool qp_binding_set_value(qp_binding *b, const char *name, const char *value,
    size_t len, qp_diag_list *out);
/*
 * qp_binding_set for a caller that reports one error: false with err
 * "NAME: ... [code]" (or "'TEXT': expected KEY=VALUE [set-syntax]",
 * "KEY=VALUE: the template ... [unknown-variable]"), the words that
 * follow "--set " on the command line, and the hint QP_HINT_SET.
 */
bool qp_binding_set_err(qp_binding *b, const char *kv, qp_error *err);

/* True if -s (or a form field) gave variable i a non-empty value. */
bool qp_binding_is_set(const qp_binding *b, size_t i);

/*
 * The values a profile gives every poster (profile.h), under the CSV
 * row and -s. A key the template does not use is a profile-unused
 * warning in out; a value the value rule refuses is its finding in out
 * and an error in err ("FILE:LINE:COL: ..."), and false is returned.
 * p may be NULL.
 */
bool qp_binding_profile(qp_binding *b, const qp_profile *p,
    qp_diag_list *out, qp_error *err);

/*
 * The CSV's header: each column that names a variable gives its value,
 * row by row. A column names a variable by its name, by its name with
 * case, '_', '-' and spaces ignored ("Code", "Text Number"), by its
 * label (the description's first phrase: "Location Name"), or by words
 * of its description that no other variable's has ("Phone"), in that
 * order of preference. A variable every poster draws with no default,
 * -s, profile value or column is column-missing (an error that lists
 * the columns found); two columns naming one variable alike are
 * column-twice (an error); a column that is no variable is
 * column-unused (a warning). Returns false if an error was added.
 */
bool qp_binding_columns(qp_binding *b, const qp_data *d, qp_diag_list *out);
/* The CSV column giving variable i (qp_binding_columns), or -1. */
long qp_binding_column(const qp_binding *b, size_t i);

/*
 * The values of one poster: defaults, then rec's cells (rec may be NULL:
 * no row), then the set values; every cell that gives a value is held
 * to the value rule (its findings carry rec->line and the column). Every
 * finding goes to out; returns false if one was an error. v must have
 * been qp_values_init()ed for the binding's template.
 */
bool qp_binding_bind(const qp_binding *b, const qp_record *rec, qp_values *v,
    qp_diag_list *out);

#endif
