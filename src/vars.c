/*
 * vars.c - compile and expand "{{name|filter}}" strings.
 *
 * Compiling once at template load means a reference to an undeclared
 * variable or an unknown filter is an error before any page is drawn,
 * and per-poster expansion is a walk over a few segments.
 */
#include "vars.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum filter {
	F_URL,
	F_UPPER,
	F_LOWER,
	F_WITH,
	F_HOST,
} filter;

static const char *const filter_names[] = {"url", "upper", "lower", "with",
    "host"};
#define NFILTERS (sizeof filter_names / sizeof filter_names[0])
#define MAX_FILTERS 4

/* One filter; with:NAME=VAR adds the query parameter NAME, VAR's value. */
typedef struct filt {
	filter f;
	const char *param; /* with: the parameter's name, in src */
	size_t param_len;
	size_t var;        /* with: the variable giving its value */
} filt;

typedef struct seg {
	const char *lit; /* points into src; NULL for a variable */
	size_t lit_len;
	size_t var;
	filt filters[MAX_FILTERS];
	size_t nfilters;
} seg;

struct qp_tstr {
	char *src;
	seg *segs;
	size_t nsegs;
};

static void
add_seg(qp_tstr *t, seg s)
{
	t->segs = qp_xrealloc(t->segs, (t->nsegs + 1) * sizeof *t->segs);
	t->segs[t->nsegs++] = s;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* True if s starts with prefix, ASCII case ignored. */
static bool
has_prefix_ci(const char *s, const char *prefix)
{
	return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Trim [*b, *e) of blanks. */
static void
trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

static bool
fail_at(qp_error *err, size_t *err_off, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
fail_at(qp_error *err, size_t *err_off, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (err_off)
		*err_off = off;
	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* A URI query name: RFC 3986 unreserved characters only, so it needs
 * no encoding. */
static bool
param_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* The argument of with: in [fb, fe): "with:NAME=VARIABLE". */
static bool
parse_with(const char *fb, const char *fe, const char *const *names,
    size_t nnames, const char *src, filt *fl, qp_error *err,
    size_t *err_off)
{
	const char *a = memchr(fb, ':', (size_t)(fe - fb));
	const char *eq, *vb, *ve, *nb, *ne;
	char *var;
	size_t i;

	if (a == NULL)
		return fail_at(err, err_off, (size_t)(fb - src), "'with' needs "
		    "the query parameter to add and the variable that gives "
		    "it, e.g. {{report_url|with:loc=code}}");
	nb = a + 1;
	eq = memchr(nb, '=', (size_t)(fe - nb));
	if (eq == NULL)
		return fail_at(err, err_off, (size_t)(nb - src), "'with:' takes "
		    "NAME=VARIABLE, e.g. with:loc=code");
	ne = eq;
	trim(&nb, &ne);
	if (nb == ne)
		return fail_at(err, err_off, (size_t)(nb - src), "'with:' needs "
		    "a parameter name before '='");
	for (const char *c = nb; c < ne; c++)
		if (!param_char(*c))
			return fail_at(err, err_off, (size_t)(c - src), "a query "
			    "parameter name may use only letters, digits and "
			    "- . _ ~");
	vb = eq + 1;
	ve = fe;
	trim(&vb, &ve);
	var = qp_xstrndup(vb, (size_t)(ve - vb));
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], var) == 0)
			break;
	if (i == nnames) {
		const char *near = qp_nearest(var, names, nnames);
		if (*var == '\0')
			fail_at(err, err_off, (size_t)(vb - src), "'with:%.*s=' "
			    "needs the variable that gives the value",
			    (int)(ne - nb), nb);
		else
			fail_at(err, err_off, (size_t)(vb - src), "variable "
			    "'%s' is used but not defined%s%s%s", var,
			    near ? " (did you mean '" : " in 'variables'",
			    near ? near : "", near ? "'?)" : "");
		free(var);
		return false;
	}
	free(var);
	fl->param = nb;
	fl->param_len = (size_t)(ne - nb);
	fl->var = i;
	return true;
}

qp_tstr *
qp_tstr_compile(const char *src, const char *const *names, size_t nnames,
    qp_error *err, size_t *err_off)
{
	qp_tstr *t = qp_xcalloc(1, sizeof *t);
	const char *p, *open;

	t->src = qp_xstrdup(src);
	p = t->src;
	while ((open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		const char *b, *e, *bar;
		seg s = {0};
		char *name;
		size_t i;

		if (open > p)
			add_seg(t, (seg){.lit = p, .lit_len = (size_t)(open - p)});
		if (close == NULL) {
			fail_at(err, err_off, (size_t)(open - t->src),
			    "'{{' is not closed by '}}'");
			goto fail;
		}
		b = open + 2;
		bar = memchr(b, '|', (size_t)(close - b));
		e = bar ? bar : close;
		trim(&b, &e);
		name = qp_xstrndup(b, (size_t)(e - b));
		for (i = 0; i < nnames; i++)
			if (strcmp(names[i], name) == 0)
				break;
		if (i == nnames) {
			const char *near = qp_nearest(name, names, nnames);
			if (*name == '\0')
				fail_at(err, err_off, (size_t)(open - t->src),
				    "empty variable reference '{{}}'");
			else if (near)
				fail_at(err, err_off, (size_t)(b - t->src),
				    "variable '%s' is used but not defined "
				    "(did you mean '%s'?)", name, near);
			else
				fail_at(err, err_off, (size_t)(b - t->src),
				    "variable '%s' is used but not defined in "
				    "'variables'", name);
			free(name);
			goto fail;
		}
		free(name);
		s.var = i;
		while (bar) {
			const char *fb = bar + 1, *fe;
			const char *next = memchr(fb, '|', (size_t)(close - fb));
			char *fname;
			size_t k;

			fe = next ? next : close;
			trim(&fb, &fe);
			{
				/* "with:loc=code": the name before the colon. */
				const char *colon = memchr(fb, ':',
				    (size_t)(fe - fb));
				const char *ne = colon ? colon : fe;
				while (ne > fb && is_space(ne[-1]))
					ne--;
				fname = qp_xstrndup(fb, (size_t)(ne - fb));
			}
			for (k = 0; k < NFILTERS; k++)
				if (strcmp(fname, filter_names[k]) == 0)
					break;
			if (k == NFILTERS || s.nfilters == MAX_FILTERS) {
				const char *near = qp_nearest(fname,
				    filter_names, NFILTERS);
				if (s.nfilters == MAX_FILTERS)
					fail_at(err, err_off,
					    (size_t)(fb - t->src),
					    "too many filters on one "
					    "reference");
				else if (near)
					fail_at(err, err_off,
					    (size_t)(fb - t->src),
					    "unknown filter '%s' (did you mean "
					    "'%s'?)", fname, near);
				else
					fail_at(err, err_off,
					    (size_t)(fb - t->src),
					    "unknown filter '%s' (known: url, "
					    "upper, lower, with:NAME=VARIABLE)",
					    fname);
				free(fname);
				goto fail;
			}
			free(fname);
			{
				filt fl = {.f = (filter)k};
				if (fl.f == F_WITH && !parse_with(fb, fe, names,
				    nnames, t->src, &fl, err, err_off))
					goto fail;
				if (fl.f != F_WITH && memchr(fb, ':',
				    (size_t)(fe - fb))) {
					fail_at(err, err_off,
					    (size_t)(fb - t->src), "the filter "
					    "'%s' takes no argument",
					    filter_names[k]);
					goto fail;
				}
				s.filters[s.nfilters++] = fl;
			}
			bar = next;
		}
		add_seg(t, s);
		p = close + 2;
	}
	if (*p)
		add_seg(t, (seg){.lit = p, .lit_len = strlen(p)});
	return t;
fail:
	qp_tstr_free(t);
	return NULL;
}

void
qp_tstr_free(qp_tstr *t)
{
	if (t == NULL)
		return;
	free(t->segs);
	free(t->src);
	free(t);
}

const char *
qp_tstr_source(const qp_tstr *t)
{
	return t->src;
}

void
qp_tstr_mark_used(const qp_tstr *t, bool *used)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const seg *s = &t->segs[i];
		if (s->lit)
			continue;
		used[s->var] = true;
		for (size_t k = 0; k < s->nfilters; k++)
			if (s->filters[k].f == F_WITH)
				used[s->filters[k].var] = true;
	}
}

void
qp_tstr_mark_links(const qp_tstr *t, bool *links)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const seg *s = &t->segs[i];
		for (size_t k = 0; s->lit == NULL && k < s->nfilters; k++)
			if (s->filters[k].f == F_WITH)
				links[s->var] = true;
	}
}

bool
qp_tstr_is_constant(const qp_tstr *t)
{
	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i].lit == NULL)
			return false;
	return true;
}

bool
qp_url_host(const char *s, char *host, size_t hostsz)
{
	const char *sep = strstr(s, "://"), *h, *e;
	size_t n;

	host[0] = '\0';
	if (sep == NULL || sep == s)
		return false;
	for (const char *c = s; c < sep; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '+' || *c == '-' ||
		    *c == '.'))
			return false;
	h = sep + 3;
	e = h + strcspn(h, "/?#");
	for (const char *a = h; a < e; a++)
		if (*a == '@')
			h = a + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));
		n = rb ? (size_t)(rb + 1 - h) : (size_t)(e - h);
	} else {
		n = strcspn(h, ":/?#");
		if (h + n > e)
			n = (size_t)(e - h);
	}
	if (n >= hostsz)
		n = hostsz - 1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	host[n] = '\0';
	return true;
}

void
qp_url_encode(const char *s, qp_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			qp_buf_addc(out, (char)c);
		else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			qp_buf_add(out, esc, 3);
		}
	}
}

bool
qp_url_is_http(const char *s)
{
	size_t n = has_prefix_ci(s, "https://") ? 8 :
	    has_prefix_ci(s, "http://") ? 7 : 0;

	if (n == 0)
		return false;
	/* A host (authority) before any path, query or fragment. */
	if (strcspn(s + n, "/?#") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

void
qp_url_add_query(const char *url, const char *name, size_t name_len,
    const char *value, qp_buf *out)
{
	const char *hash = strchr(url, '#');
	size_t base = hash ? (size_t)(hash - url) : strlen(url);

	qp_buf_add(out, url, base);
	if (memchr(url, '?', base) == NULL)
		qp_buf_addc(out, '?');
	else if (url[base - 1] != '?' && url[base - 1] != '&')
		qp_buf_addc(out, '&');
	qp_buf_add(out, name, name_len);
	qp_buf_addc(out, '=');
	qp_url_encode(value, out);
	if (hash)
		qp_buf_adds(out, hash);
}

bool
qp_payload_link_ok(const char *p)
{
	static const char *const other[] = {"tel", "sms", "smsto", "mailto"};
	size_t n = 0;

	/* A URI scheme: a letter, then letters, digits, + - . up to ':',
	 * and the rest without a space ("Call: 911" is text). */
	if ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))
		while (p[n] && (g_ascii_isalnum(p[n]) || p[n] == '+' ||
		    p[n] == '-' || p[n] == '.'))
			n++;
	if (n > 0 && p[n] == ':' && p[n + 1] != ' ' && p[n + 1] != '\0') {
		if ((n == 4 || n == 5) && g_ascii_strncasecmp(p, "https", n) == 0)
			return qp_url_is_http(p);
		for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
			if (strlen(other[i]) == n &&
			    g_ascii_strncasecmp(p, other[i], n) == 0)
				return true;
		return false;
	}
	/* No scheme: text, unless it is a web address without one
	 * ("www.example.org/report", "example.org/report?loc=A1"). */
	if (g_ascii_strncasecmp(p, "www.", 4) == 0)
		return false;
	{
		size_t host = strcspn(p, "/?# ");
		const char *dot = memchr(p, '.', host);
		const char *last = dot;

		if (dot == NULL || (p[host] != '/' && p[host] != '?'))
			return true;
		for (const char *c = p; c < p + host; c++) {
			if (!g_ascii_isalnum(*c) && *c != '-' && *c != '.')
				return true;
			if (*c == '.')
				last = c;
		}
		for (const char *c = last + 1; c < p + host; c++)
			if (!g_ascii_isalpha(*c))
				return true;
		return p + host - last - 1 < 2;
	}
}

void
qp_markup_escape(const char *s, qp_buf *out)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': qp_buf_adds(out, "&amp;"); break;
		case '<': qp_buf_adds(out, "&lt;"); break;
		case '>': qp_buf_adds(out, "&gt;"); break;
		case '\'': qp_buf_adds(out, "&apos;"); break;
		case '"': qp_buf_adds(out, "&quot;"); break;
		default: qp_buf_addc(out, *s); break;
		}
	}
}

bool
qp_tstr_expand(const qp_tstr *t, const char *const *values,
    const char *const *names, qp_escape esc, qp_buf *out, qp_error *err)
{
	return qp_tstr_expand_why(t, values, names, esc, out, err, NULL);
}

static bool
fault(qp_expand_fault *why, qp_expand_kind kind, size_t var)
{
	if (why) {
		why->kind = kind;
		why->var = var;
	}
	return false;
}

bool
qp_tstr_expand_why(const qp_tstr *t, const char *const *values,
    const char *const *names, qp_escape esc, qp_buf *out, qp_error *err,
    qp_expand_fault *why)
{
	qp_buf tmp;

	qp_buf_init(&tmp);
	for (size_t i = 0; i < t->nsegs; i++) {
		const seg *s = &t->segs[i];
		const char *v;

		if (s->lit) {
			qp_buf_add(out, s->lit, s->lit_len);
			continue;
		}
		v = values[s->var];
		if (v == NULL) {
			qp_buf_free(&tmp);
			qp_fail(err, "variable '%s' has no value", names[s->var]);
			qp_error_hint(err, QP_HINT_UNSET, 0, names[s->var]);
			return fault(why, QP_EXPAND_NO_VALUE, s->var);
		}
		qp_buf_reset(&tmp);
		qp_buf_adds(&tmp, v);
		for (size_t k = 0; k < s->nfilters; k++) {
			const filt *fl = &s->filters[k];
			char *conv = NULL;
			qp_buf enc;

			switch (fl->f) {
			case F_URL:
				qp_buf_init(&enc);
				qp_url_encode(tmp.data, &enc);
				qp_buf_reset(&tmp);
				qp_buf_add(&tmp, enc.data, enc.len);
				qp_buf_free(&enc);
				break;
			case F_UPPER:
				conv = g_utf8_strup(tmp.data, -1);
				break;
			case F_LOWER:
				conv = g_utf8_strdown(tmp.data, -1);
				break;
			case F_WITH:
				if (values[fl->var] == NULL) {
					qp_buf_free(&tmp);
					qp_fail(err, "variable '%s' has no value",
					    names[fl->var]);
					qp_error_hint(err, QP_HINT_UNSET, 0,
					    names[fl->var]);
					return fault(why, QP_EXPAND_NO_VALUE,
					    fl->var);
				}
				if (!qp_url_is_http(tmp.data)) {
					qp_fail(err, "variable '%s': '%.200s' is "
					    "not an absolute http(s) URL",
					    names[s->var], tmp.data);
					qp_buf_free(&tmp);
					return fault(why, QP_EXPAND_NOT_HTTP,
					    s->var);
				}
				qp_buf_init(&enc);
				qp_url_add_query(tmp.data, fl->param,
				    fl->param_len, values[fl->var], &enc);
				qp_buf_reset(&tmp);
				qp_buf_add(&tmp, enc.data, enc.len);
				qp_buf_free(&enc);
				break;
			case F_HOST: {
				/* A URL's host, as the policy checks it; any
				 * other value as it is. */
				char host[256];

				if (qp_url_host(tmp.data, host, sizeof host) &&
				    host[0])
					conv = g_strdup(host);
				break;
			}
			}
			if (conv) {
				qp_buf_reset(&tmp);
				qp_buf_adds(&tmp, conv);
				g_free(conv);
			}
		}
		if (esc == QP_ESC_MARKUP)
			qp_markup_escape(tmp.data, out);
		else
			qp_buf_add(out, tmp.data, tmp.len);
	}
	qp_buf_free(&tmp);
	if (out->data == NULL)
		qp_buf_add(out, "", 0);
	return true;
}
