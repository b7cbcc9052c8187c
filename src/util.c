/*
 * util.c - errors, strings, strict parsing, colours, atomic files.
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

static void
buf_grow(qp_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = qp_xrealloc(b->data, cap);
	b->cap = cap;
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

	out->a = 1;
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
	    "#RRGGBBAA or black, white, red, green, blue, yellow, navy, grey)",
	    s);
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

bool
qp_check_output_dir(const char *path, qp_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	bool ok;

	if (slash == NULL)
		return true;
	dir = slash == path ? qp_xstrdup("/") :
	    qp_xstrndup(path, (size_t)(slash - path));
	ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	if (!ok)
		qp_fail(err, "output directory '%s' does not exist", dir);
	free(dir);
	return ok;
}

/*
 * Temporary files in flight, for a signal handler to remove. A slot is
 * claimed under the lock, its path written, then marked used; the handler
 * reads only used slots and calls only unlink().
 */
#define NTEMPS 64
static struct {
	volatile sig_atomic_t used;
	char path[PATH_MAX];
} temps[NTEMPS];
static pthread_mutex_t temps_lock = PTHREAD_MUTEX_INITIALIZER;

static int
temp_register(const char *path)
{
	int slot = 0;

	if (strlen(path) >= PATH_MAX)
		return 0;
	pthread_mutex_lock(&temps_lock);
	for (int i = 0; i < NTEMPS; i++)
		if (!temps[i].used) {
			strcpy(temps[i].path, path);
			temps[i].used = 1;
			slot = i + 1;
			break;
		}
	pthread_mutex_unlock(&temps_lock);
	return slot; /* 0: the registry is full; the file is just not listed */
}

static void
temp_unregister(qp_outfile *o)
{
	if (o->slot <= 0 || o->slot > NTEMPS)
		return;
	pthread_mutex_lock(&temps_lock);
	temps[o->slot - 1].used = 0;
	pthread_mutex_unlock(&temps_lock);
	o->slot = 0;
}

/* Hold the signals that stop a run (their handlers remove temporaries)
 * across a step that must not be cut in two; release re-delivers them. */
static void
stop_signals_hold(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void
stop_signals_release(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

void
qp_outfile_unlink_all(void)
{
	for (int i = 0; i < NTEMPS; i++)
		if (temps[i].used)
			(void)unlink(temps[i].path);
}

/* Inputs an output must never replace. */
#define NPROTECT 16
static struct {
	dev_t dev;
	ino_t ino;
	char what[64];
} protect[NPROTECT];
static size_t nprotect;

void
qp_outfile_protect(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return;
	pthread_mutex_lock(&temps_lock);
	for (size_t i = 0; i < nprotect; i++)
		if (protect[i].dev == st.st_dev && protect[i].ino == st.st_ino)
			goto out;
	if (nprotect < NPROTECT) {
		protect[nprotect].dev = st.st_dev;
		protect[nprotect].ino = st.st_ino;
		snprintf(protect[nprotect].what, sizeof protect[0].what, "%s",
		    what);
		nprotect++;
	}
out:
	pthread_mutex_unlock(&temps_lock);
}

/* The description of the input path resolves to, or NULL. */
static bool
is_protected(const char *path, char *what, size_t n)
{
	struct stat st;
	bool found = false;

	if (stat(path, &st) != 0)
		return false;
	pthread_mutex_lock(&temps_lock);
	for (size_t i = 0; i < nprotect && !found; i++)
		if (protect[i].dev == st.st_dev &&
		    protect[i].ino == st.st_ino) {
			snprintf(what, n, "%s", protect[i].what);
			found = true;
		}
	pthread_mutex_unlock(&temps_lock);
	return found;
}

bool
qp_outfile_open(qp_outfile *o, const char *path, qp_error *err)
{
	const char *slash = strrchr(path, '/');
	char what[64];
	sigset_t saved;
	int fd;

	memset(o, 0, sizeof *o);
	if (!qp_check_output_dir(path, err))
		return false;
	if (is_protected(path, what, sizeof what))
		return qp_fail(err, "'%s' is %s: an output must not replace an "
		    "input (choose another output name)", path, what);
	/* The name is cut to 64 bytes so a long output name still leaves
	 * room for the prefix and suffix within NAME_MAX. */
	if (slash == NULL)
		o->tmp_path = qp_xasprintf(".%.64s.XXXXXX", path);
	else
		o->tmp_path = qp_xasprintf("%.*s/.%.64s.XXXXXX",
		    (int)(slash - path), path, slash + 1);
	/* A stop between creating the file and listing it would leave it
	 * behind: hold SIGINT/SIGTERM/SIGHUP for those two steps. */
	stop_signals_hold(&saved);
	fd = mkstemp(o->tmp_path);
	if (fd < 0) {
		int e = errno;
		stop_signals_release(&saved);
		qp_fail(err, "cannot create a file beside '%s': %s", path,
		    strerror(e));
		free(o->tmp_path);
		o->tmp_path = NULL;
		return false;
	}
	o->slot = temp_register(o->tmp_path);
	stop_signals_release(&saved);
	/* mkstemp makes 0600; an output file is an ordinary document. */
	{
		mode_t um = umask(0);
		umask(um);
		(void)fchmod(fd, 0666 & ~um);
	}
	o->fp = fdopen(fd, "wb");
	if (o->fp == NULL) {
		close(fd);
		unlink(o->tmp_path);
		temp_unregister(o);
		free(o->tmp_path);
		o->tmp_path = NULL;
		return qp_fail(err, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	o->path = qp_xstrdup(path);
	return true;
}

bool
qp_outfile_write(qp_outfile *o, const void *data, size_t len)
{
	if (o->write_failed)
		return false;
	if (len && fwrite(data, 1, len, o->fp) != len) {
		o->write_failed = true;
		o->saved_errno = errno;
		return false;
	}
	return true;
}

bool
qp_outfile_commit(qp_outfile *o, qp_error *err)
{
	sigset_t saved;
	bool ok = true;
	int e = 0;

	if (o->fp == NULL)
		return qp_fail(err, "'%s' was not opened", o->path);
	if (o->write_failed) {
		ok = false;
		e = o->saved_errno;
	} else if (fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0) {
		ok = false;
		e = errno;
	}
	if (fclose(o->fp) != 0 && ok) {
		ok = false;
		e = errno;
	}
	o->fp = NULL;
	/* Rename and unlist together: a stop in between would unlink a
	 * name that no longer exists, which is harmless, but a stop just
	 * before the rename must find the temporary still listed. */
	stop_signals_hold(&saved);
	if (ok && rename(o->tmp_path, o->path) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok)
		unlink(o->tmp_path);
	temp_unregister(o);
	stop_signals_release(&saved);
	if (!ok)
		qp_fail(err, "cannot write '%s': %s%s", o->path,
		    strerror(e ? e : EIO), e == ENOSPC || e == EFBIG ||
		    e == EDQUOT ? " (the disk or the file size limit is full; "
		    "nothing was written)" : "");
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = o->path = NULL;
	return ok;
}

void
qp_outfile_abort(qp_outfile *o)
{
	if (o->fp) {
		fclose(o->fp);
		o->fp = NULL;
	}
	if (o->tmp_path)
		unlink(o->tmp_path);
	temp_unregister(o);
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = o->path = NULL;
}

const char *
qp_path_ext(const char *path, char *buf, size_t bufsz)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t i;

	if (bufsz == 0)
		return "";
	buf[0] = '\0';
	if (dot == NULL || (slash && dot < slash) || dot == path ||
	    (slash && dot == slash + 1))
		return buf;
	for (i = 0; dot[1 + i] && i + 1 < bufsz; i++) {
		char c = dot[1 + i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	return buf;
}

long long
qp_source_date_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	long v;

	if (s && qp_parse_int(s, 0, LONG_MAX, &v))
		return v;
	/* 2026-01-01T00:00:00Z: a fixed, honest-looking date. */
	return 1767225600LL;
}
