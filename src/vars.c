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
	F_HOST,
} filter;

static const char *const filter_names[] = {"url", "upper", "lower", "host"};
#define NFILTERS (sizeof filter_names / sizeof filter_names[0])
#define MAX_FILTERS 4

typedef struct seg {
	const char *lit; /* points into src; NULL for a variable */
	size_t lit_len;
	size_t var;
	filter filters[MAX_FILTERS];
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
			fname = qp_xstrndup(fb, (size_t)(fe - fb));
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
					    "upper, lower)", fname);
				free(fname);
				goto fail;
			}
			free(fname);
			s.filters[s.nfilters++] = (filter)k;
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
	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i].lit == NULL)
			used[t->segs[i].var] = true;
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
			qp_fail(err, "variable '%s' has no value",
			    names[s->var]);
			return qp_error_hint(err, QP_HINT_UNSET, 0,
			    names[s->var]);
		}
		qp_buf_reset(&tmp);
		qp_buf_adds(&tmp, v);
		for (size_t k = 0; k < s->nfilters; k++) {
			char *conv = NULL;
			qp_buf enc;

			switch (s->filters[k]) {
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
