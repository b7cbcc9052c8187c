/*
 * util_parse.c - strict, locale-independent numbers, lengths and colours.
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

/*
 * Hand-written rather than strtod(): strtod follows LC_NUMERIC (a French
 * locale reads "12,5") and accepts hex, exponents, "inf" and leading
 * space, none of which belongs in a template.
 */
bool
qp_parse_number(const char *s, size_t len, double *out)
{
	size_t i = 0;
	bool neg = false, digits = false;
	double v = 0, scale = 1;

	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (s[i] - '0');
		digits = true;
		i++;
		if (v > 1e12)
			return false;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			scale /= 10;
			v += (s[i] - '0') * scale;
			digits = true;
			i++;
		}
	}
	if (!digits || i != len)
		return false;
	*out = neg ? -v : v;
	return true;
}

bool
qp_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static size_t
trim_len(const char *s, size_t *start)
{
	size_t len = strlen(s), i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*start = i;
	return len - i;
}

/* Split "12.5 mm" into number and unit; both trimmed. */
static bool
split_unit(const char *s, double *num, const char **unit, size_t *unit_len)
{
	size_t start, len = trim_len(s, &start), i;
	const char *p = s + start;

	for (i = len; i > 0; i--) {
		char c = p[i - 1];
		if ((c >= '0' && c <= '9') || c == '.')
			break;
	}
	*unit = p + i;
	*unit_len = len - i;
	while (i > 0 && p[i - 1] == ' ')
		i--;
	while (*unit_len > 0 && **unit == ' ') {
		(*unit)++;
		(*unit_len)--;
	}
	return qp_parse_number(p, i, num);
}

static bool
unit_is(const char *u, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(u, name, n) == 0;
}

bool
qp_parse_len(const char *s, bool allow_pct, qp_len *out, qp_error *err)
{
	double v;
	const char *u;
	size_t ul;

	if (!split_unit(s, &v, &u, &ul))
		return qp_fail(err, "'%s' is not a length (expected e.g. 2in, "
		    "50mm, 12pt%s)", s, allow_pct ? ", 25%" : "");
	out->kind = QP_LEN_ABS;
	if (ul == 0) {
		if (v != 0)
			return qp_fail(err, "'%s' has no unit (use pt, in, mm, "
			    "cm%s)", s, allow_pct ? " or %" : "");
		out->v = 0;
	} else if (unit_is(u, ul, "pt"))
		out->v = v;
	else if (unit_is(u, ul, "in"))
		out->v = v * QP_PT_PER_IN;
	else if (unit_is(u, ul, "mm"))
		out->v = v * QP_PT_PER_MM;
	else if (unit_is(u, ul, "cm"))
		out->v = v * 10 * QP_PT_PER_MM;
	else if (unit_is(u, ul, "%") && allow_pct) {
		out->kind = QP_LEN_PCT;
		out->v = v;
	} else
		return qp_fail(err, "'%s' has an unknown unit '%.*s' (use pt, "
		    "in, mm, cm%s)", s, (int)ul, u, allow_pct ? " or %" : "");
	return true;
}

bool
qp_parse_points(const char *s, double *pt, qp_error *err)
{
	qp_len l;

	if (!qp_parse_len(s, false, &l, err))
		return false;
	*pt = l.v;
	return true;
}

bool
qp_parse_metres(const char *s, double *m, qp_error *err)
{
	double v;
	const char *u;
	size_t ul;

	if (!split_unit(s, &v, &u, &ul))
		return qp_fail(err, "'%s' is not a distance (expected e.g. 1m, "
		    "150cm, 10ft)", s);
	if (unit_is(u, ul, "m"))
		*m = v;
	else if (unit_is(u, ul, "cm"))
		*m = v / 100;
	else if (unit_is(u, ul, "mm"))
		*m = v / 1000;
	else if (unit_is(u, ul, "ft"))
		*m = v * 0.3048;
	else if (unit_is(u, ul, "in"))
		*m = v * 0.0254;
	else
		return qp_fail(err, "'%s' needs a unit (m, cm, mm, ft or in)",
		    s);
	return true;
}

int
qp_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * cmyk(C, M, Y, K): four ink percentages, kept as given for print output;
 * the screen colour is the plain complement ((1 - C)(1 - K) ...), an
 * approximation (a press profile decides what the inks really look like).
 */
static bool
parse_cmyk(const char *s, qp_color *out, qp_error *err)
{
	const char *p = s + 5;
	double v[4];

	for (int i = 0; i < 4; i++) {
		size_t len;

		while (*p == ' ')
			p++;
		len = strcspn(p, ",)% ");
		if (len == 0 || !qp_parse_number(p, len, &v[i]) || v[i] < 0 ||
		    v[i] > 100)
			return qp_fail(err, "'%s': each ink of cmyk(C, M, Y, K) "
			    "is a number from 0 to 100 (percent)", s);
		p += len;
		if (*p == '%')
			p++;
		while (*p == ' ')
			p++;
		if (*p != (i < 3 ? ',' : ')'))
			return qp_fail(err, "'%s': write cmyk(C, M, Y, K), four "
			    "inks in percent separated by commas", s);
		p++;
	}
	if (*p != '\0')
		return qp_fail(err, "'%s': nothing may follow cmyk(...)", s);
	out->cmyk = true;
	out->c = v[0] / 100;
	out->m = v[1] / 100;
	out->y = v[2] / 100;
	out->k = v[3] / 100;
	out->r = (1 - out->c) * (1 - out->k);
	out->g = (1 - out->m) * (1 - out->k);
	out->b = (1 - out->y) * (1 - out->k);
	return true;
}

bool
qp_parse_color(const char *s, qp_color *out, qp_error *err)
{
	static const struct {
		const char *name;
		unsigned rgb;
	} names[] = {
		{"black", 0x000000}, {"white", 0xffffff}, {"red", 0xff0000},
		{"green", 0x008000}, {"blue", 0x0000ff}, {"yellow", 0xffff00},
		{"navy", 0x000080}, {"gray", 0x808080}, {"grey", 0x808080},
	};
	size_t n = strlen(s), i;
	int d[8];

	memset(out, 0, sizeof *out);
	out->a = 1;
	if (strncmp(s, "cmyk(", 5) == 0)
		return parse_cmyk(s, out, err);
	if (n > 0 && s[0] == '#') {
		if (n != 4 && n != 7 && n != 9)
			goto bad;
		for (i = 1; i < n; i++)
			if ((d[i - 1] = qp_hex_digit(s[i])) < 0)
				goto bad;
		if (n == 4) {
			out->r = (d[0] * 17) / 255.0;
			out->g = (d[1] * 17) / 255.0;
			out->b = (d[2] * 17) / 255.0;
		} else {
			out->r = (d[0] * 16 + d[1]) / 255.0;
			out->g = (d[2] * 16 + d[3]) / 255.0;
			out->b = (d[4] * 16 + d[5]) / 255.0;
			if (n == 9)
				out->a = (d[6] * 16 + d[7]) / 255.0;
		}
		return true;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i].name) == 0) {
			out->r = ((names[i].rgb >> 16) & 0xff) / 255.0;
			out->g = ((names[i].rgb >> 8) & 0xff) / 255.0;
			out->b = (names[i].rgb & 0xff) / 255.0;
			return true;
		}
	}
bad:
	return qp_fail(err, "'%s' is not a colour (use #RRGGBB, #RGB, "
	    "#RRGGBBAA, cmyk(C, M, Y, K) or black, white, red, green, blue, "
	    "yellow, navy, grey)", s);
}

static double
lin(double c)
{
	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

double
qp_color_luminance(qp_color c)
{
	return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

double
qp_color_contrast(qp_color a, qp_color b)
{
	double la = qp_color_luminance(a), lb = qp_color_luminance(b);

	if (la < lb) {
		double t = la;
		la = lb;
		lb = t;
	}
	return (la + 0.05) / (lb + 0.05);
}
