/*
 * batch_names.c - file names made from data (safe on every file system),
 * and the --impose and --shard arguments.
 */
#define _GNU_SOURCE
#include "batch_int.h"

/* ---- names ---------------------------------------------------------- */

/* Windows device names: "con.pdf" cannot be made there. */
static bool
device_name(const char *s)
{
	static const char *const dev[] = {"con", "prn", "aux", "nul",
	    "com", "lpt"};

	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
		const char *p = s + 3;
		if (strncasecmp(s, dev[i], 3) != 0)
			continue;
		if (i >= 4 && *p >= '1' && *p <= '9')
			p++;
		else if (i >= 4)
			continue;
		if (*p == '\0' || *p == '.')
			return true;
	}
	return false;
}

void
qp_batch_safe_name(const char *v, qp_buf *out)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t start = out->len, n = 0, len = strlen(v);

	while (*p == ' ')
		p++;
	while (*p) {
		size_t left = len - (size_t)(p - (const unsigned char *)v);
		size_t clen = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ?
		    3 : 2;
		unsigned long cp = 0;
		bool bad = clen > left || !qp_utf8_valid((const char *)p,
		    clen, NULL);

		if (bad)
			clen = 1; /* not UTF-8: the byte becomes '_' */
		else if (clen > 1) {
			cp = *p & (0x7f >> clen);
			for (size_t k = 1; k < clen; k++)
				cp = cp << 6 | (p[k] & 0x3f);
		} else
			cp = *p;
		if (n + clen > QP_NAME_PART_MAX)
			break;
		if (bad || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    qp_is_bidi_control(cp) || cp == 0xfeff ||
		    (cp < 0x80 && strchr("/\\:*?\"<>|", (int)cp))) {
			/* One '_' for the whole character. */
			qp_buf_addc(out, '_');
			n++;
		} else {
			qp_buf_add(out, (const char *)p, clen);
			n += clen;
		}
		p += clen;
	}
	/* Windows drops trailing dots and spaces; so do we. */
	while (out->len > start && (out->data[out->len - 1] == ' ' ||
	    out->data[out->len - 1] == '.'))
		out->data[--out->len] = '\0';
	if (out->len == start)
		qp_buf_addc(out, '_');
	else if (out->data[start] == '.')
		out->data[start] = '_';
	else if (device_name(out->data + start)) {
		/* "con" -> "_con", within the limit. */
		if (out->len - start + 1 > QP_NAME_PART_MAX) {
			do
				out->len--;
			while ((out->data[out->len] & 0xc0) == 0x80);
			while (out->data[out->len - 1] == ' ' ||
			    out->data[out->len - 1] == '.')
				out->len--;
		}
		qp_buf_addc(out, '\0');
		memmove(out->data + start + 1, out->data + start,
		    out->len - start - 1);
		out->data[start] = '_';
		out->data[out->len] = '\0';
	}
}

bool
qp_batch_parse_impose(const char *s, int *cols, int *rows, qp_error *err)
{
	const char *x = strchr(s, 'x');
	long c, r;
	char *a;

	if (x == NULL)
		return qp_fail(err, "'%s': expected COLSxROWS, e.g. 2x2", s);
	a = qp_xstrndup(s, (size_t)(x - s));
	if (!qp_parse_int(a, 1, 20, &c) || !qp_parse_int(x + 1, 1, 20, &r)) {
		free(a);
		return qp_fail(err, "'%s': expected COLSxROWS with 1 to 20 of "
		    "each, e.g. 2x2", s);
	}
	free(a);
	*cols = (int)c;
	*rows = (int)r;
	return true;
}

bool
qp_batch_parse_shard(const char *s, long *k, long *n, qp_error *err)
{
	const char *sl = strchr(s, '/');
	char *a;
	bool ok;

	if (sl == NULL)
		return qp_fail(err, "'%s': expected K/N, e.g. 3/8", s);
	a = qp_xstrndup(s, (size_t)(sl - s));
	ok = qp_parse_int(sl + 1, 1, 1000000, n) &&
	    qp_parse_int(a, 1, *n, k);
	free(a);
	if (!ok)
		return qp_fail(err, "'%s': expected K/N with 1 <= K <= N, e.g. "
		    "3/8", s);
	return true;
}
