/*
 * util_text.c - UTF-8, control characters, text made safe to show, and
 * "did you mean" suggestions.
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
qp_utf8_valid(const char *s, size_t len, size_t *bad_off)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			goto bad;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_off)
		*bad_off = i;
	return false;
}

/* Decode one UTF-8 sequence of s[0..n) into *cp; returns its length, or
 * 0 (with *cp the byte) when s does not start a valid sequence. */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 :
	    s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ?
	    4 : 0;

	*cp = s[0];
	if (len == 0 || len > n || !qp_utf8_valid((const char *)s, len, NULL))
		return 0;
	if (len > 1)
		*cp = s[0] & (0x7f >> len);
	for (size_t k = 1; k < len; k++)
		*cp = *cp << 6 | (s[k] & 0x3f);
	return len;
}

unsigned long
qp_text_control(const char *s, size_t len, size_t *off)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f || (c == 0xc2 && i + 1 < len && p[i + 1] < 0xa0)) {
			if (off)
				*off = i;
			return c == 0xc2 ? p[i + 1] : c;
		}
	}
	return 0;
}

bool
qp_is_bidi_control(unsigned long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
qp_visible(const char *s, qp_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		unsigned long cp;
		size_t k = utf8_decode(p + i, n - i, &cp);

		if (k == 0) {
			qp_buf_printf(out, "\\x%02X", p[i]);
			i++;
		} else if (cp == '\r') {
			qp_buf_adds(out, "\\r");
			i++;
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') ||
		    cp == 0x7f) {
			qp_buf_printf(out, "\\x%02lX", cp);
			i++;
		} else if ((cp >= 0x80 && cp < 0xa0) || qp_is_bidi_control(cp)) {
			qp_buf_printf(out, "<U+%04lX>", cp);
			i += k;
		} else {
			qp_buf_add(out, s + i, k);
			i += k;
		}
	}
}

size_t
qp_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row;
	size_t r;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	row = qp_xcalloc(lb + 1, sizeof *row);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

const char *
qp_nearest(const char *s, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, i;
	size_t limit = strlen(s) / 2 + 1;

	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		size_t d = qp_edit_distance(s, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}
