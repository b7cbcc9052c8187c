/*
 * util.c - errors, allocation that never returns NULL, growable buffers.
 *
 * The rest of util.h: util_parse.c (numbers, lengths, colours),
 * util_text.c (UTF-8, text shown to people), util_file.c (outputs written
 * atomically, paths).
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
qp_fail(qp_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->hint = QP_HINT_NONE;
	err->num = 0;
	err->name[0] = '\0';
	return false;
}

bool
qp_error_hint(qp_error *err, qp_hint hint, long num, const char *name)
{
	if (err == NULL)
		return false;
	err->hint = hint;
	err->num = num;
	snprintf(err->name, sizeof err->name, "%s", name ? name : "");
	return false;
}

void
qp_error_prefix(qp_error *err, const char *fmt, ...)
{
	qp_buf b;
	va_list ap;
	size_t n;

	if (err == NULL)
		return;
	qp_buf_init(&b);
	va_start(ap, fmt);
	{
		char prefix[512];
		vsnprintf(prefix, sizeof prefix, fmt, ap);
		qp_buf_adds(&b, prefix);
	}
	va_end(ap);
	qp_buf_adds(&b, ": ");
	qp_buf_adds(&b, err->msg);
	n = b.len < sizeof err->msg - 1 ? b.len : sizeof err->msg - 1;
	memcpy(err->msg, b.data, n);
	err->msg[n] = '\0';
	qp_buf_free(&b);
}

static void
oom(void)
{
	fputs("qrposter: out of memory\n", stderr);
	abort();
}

void *
qp_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
qp_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
qp_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *
qp_xstrdup(const char *s)
{
	return qp_xstrndup(s, strlen(s));
}

char *
qp_xstrndup(const char *s, size_t n)
{
	char *p = qp_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
qp_xasprintf(const char *fmt, ...)
{
	va_list ap;
	qp_buf b;

	qp_buf_init(&b);
	va_start(ap, fmt);
	{
		va_list ap2;
		int n;

		va_copy(ap2, ap);
		n = vsnprintf(NULL, 0, fmt, ap2);
		va_end(ap2);
		if (n < 0)
			oom();
		b.data = qp_xmalloc((size_t)n + 1);
		b.cap = (size_t)n + 1;
		vsnprintf(b.data, b.cap, fmt, ap);
		b.len = (size_t)n;
	}
	va_end(ap);
	return b.data;
}

void
qp_buf_init(qp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void *
qp_grow(void *p, size_t *cap, size_t n, size_t elem)
{
	size_t c = *cap ? *cap : 16, bytes;

	if (n <= *cap && p != NULL)
		return p;
	while (c < n)
		if (__builtin_mul_overflow(c, 2, &c))
			oom();
	if (__builtin_mul_overflow(c, elem ? elem : 1, &bytes))
		oom();
	p = qp_xrealloc(p, bytes);
	*cap = c;
	return p;
}

static void
buf_grow(qp_buf *b, size_t extra)
{
	size_t need;

	if (__builtin_add_overflow(b->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need))
		oom();
	if (need <= b->cap)
		return;
	b->data = qp_grow(b->data, &b->cap, need, 1);
}

void
qp_buf_add(qp_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
qp_buf_adds(qp_buf *b, const char *s)
{
	qp_buf_add(b, s, strlen(s));
}

void
qp_buf_addc(qp_buf *b, char c)
{
	qp_buf_add(b, &c, 1);
}

void
qp_buf_printf(qp_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom();
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	va_end(ap);
}

void
qp_buf_reset(qp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
qp_buf_steal(qp_buf *b)
{
	char *s = b->data ? b->data : qp_xstrdup("");

	qp_buf_init(b);
	return s;
}

void
qp_buf_free(qp_buf *b)
{
	free(b->data);
	qp_buf_init(b);
}
