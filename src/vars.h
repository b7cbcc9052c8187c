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
 * upper, lower, and with:NAME=VARIABLE, which adds the query parameter
 * NAME with VARIABLE's value (percent-encoded) to a URL whatever it
 * already holds: "?NAME=" or "&NAME=", before any "#fragment" (see
 * qp_url_add_query). The value it filters must be an absolute http(s)
 * URL: {{report_url|with:loc=code}}; and host, the host a URL opens
 * (qp_url_host).
 */
qp_tstr *qp_tstr_compile(const char *src, const char *const *names,
    size_t nnames, qp_error *err, size_t *err_off);
void qp_tstr_free(qp_tstr *t);

/* The source text the string was compiled from. */
const char *qp_tstr_source(const qp_tstr *t);

/* Mark in used[] (nnames long) every variable t refers to. */
void qp_tstr_mark_used(const qp_tstr *t, bool *used);

/* Mark in links[] every variable t uses as a URL for with: (its value
 * must be an absolute http(s) URL). */
void qp_tstr_mark_links(const qp_tstr *t, bool *links);

/* True if t refers to no variable. */
bool qp_tstr_is_constant(const qp_tstr *t);

/*
 * Append t to out with values[i] the value of variable i. Literal text is
 * copied as is (it is the template author's markup); values are filtered
 * then escaped for esc. A NULL value is an error naming the variable.
 */
bool qp_tstr_expand(const qp_tstr *t, const char *const *values,
    const char *const *names, qp_escape esc, qp_buf *out, qp_error *err);

/* Why an expansion failed: variable var has no value, or is the URL of
 * a with: filter and not an absolute http(s) URL. */
typedef enum qp_expand_kind {
	QP_EXPAND_NO_VALUE = 1,
	QP_EXPAND_NOT_HTTP,
} qp_expand_kind;

typedef struct qp_expand_fault {
	qp_expand_kind kind;
	size_t var;
} qp_expand_fault;

/* qp_tstr_expand, saying why it failed in *why (may be NULL). */
bool qp_tstr_expand_why(const qp_tstr *t, const char *const *values,
    const char *const *names, qp_escape esc, qp_buf *out, qp_error *err,
    qp_expand_fault *why);

/* Percent-encode s (RFC 3986: unreserved A-Z a-z 0-9 - . _ ~ kept). */
void qp_url_encode(const char *s, qp_buf *out);

/* True if s is an absolute http(s) URL: "http://" or "https://" (any
 * case), a host, and no space or control character. */
bool qp_url_is_http(const char *s);

/*
 * Append url with the query parameter name (name_len bytes, used as
 * is) = value (percent-encoded) added: after "?" when url has no query,
 * after "&" when it has one ("?" or "&" already last: nothing between),
 * and before any "#fragment", which stays last.
 *   https://a.example/r            -> https://a.example/r?loc=X
 *   https://a.example/r?lang=en    -> https://a.example/r?lang=en&loc=X
 *   https://a.example/r#form       -> https://a.example/r?loc=X#form
 */
void qp_url_add_query(const char *url, const char *name, size_t name_len,
    const char *value, qp_buf *out);

/*
 * The link rule for a QR payload: a payload that starts with a URI
 * scheme ("xyz:" followed by something other than a space) is a link
 * and must be an absolute http(s) URL, or tel:, sms:, smsto: or mailto:;
 * a payload without one is text, unless it is a web address missing its
 * scheme ("www.x.org", "x.org/report"). True if p passes.
 */
bool qp_payload_link_ok(const char *p);
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
