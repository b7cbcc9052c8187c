/*
 * vars.h - "{{name|filter}}" template strings, compiled once per template
 * and expanded per poster with escaping chosen by the context the text
 * lands in (Pango markup or raw payload).
 */
#ifndef QP_VARS_H
#define QP_VARS_H

#include "util.h"

typedef enum qp_escape {
	QP_ESC_NONE,   /* QR payloads, plain text: values go in as written */
	QP_ESC_MARKUP, /* Pango markup: & < > ' " escaped */
} qp_escape;

typedef struct qp_tstr qp_tstr;

/*
 * Compile src against the declared variable names. On error returns NULL
 * and fills err with the reason; *err_off (if non-NULL) is the byte offset
 * in src where the problem starts, so a caller can point at a column.
 * Filters: url (percent-encode all but RFC 3986 unreserved characters),
 * upper, lower, host.
 */
qp_tstr *qp_tstr_compile(const char *src, const char *const *names,
    size_t nnames, qp_error *err, size_t *err_off);
void qp_tstr_free(qp_tstr *t);

/* The source text the string was compiled from. */
const char *qp_tstr_source(const qp_tstr *t);

/* Mark in used[] (nnames long) every variable t refers to. */
void qp_tstr_mark_used(const qp_tstr *t, bool *used);

/* True if t refers to no variable. */
bool qp_tstr_is_constant(const qp_tstr *t);

/*
 * Append t to out with values[i] the value of variable i. Literal text is
 * copied as is (it is the template author's markup); values are filtered
 * then escaped for esc. A NULL value is an error naming the variable.
 */
bool qp_tstr_expand(const qp_tstr *t, const char *const *values,
    const char *const *names, qp_escape esc, qp_buf *out, qp_error *err);

/* Percent-encode s (RFC 3986: unreserved A-Z a-z 0-9 - . _ ~ kept). */
void qp_url_encode(const char *s, qp_buf *out);
/*
 * The host a URL opens, lower-cased, into host (hostsz bytes): after
 * "scheme://", past any "user@" (https://good.org@evil.net/ opens
 * evil.net), without the port. False, host "", if s is not a
 * scheme://... URL. The {{name|host}} filter.
 */
bool qp_url_host(const char *s, char *host, size_t hostsz);
/* Escape s for Pango markup. */
void qp_markup_escape(const char *s, qp_buf *out);

#endif
