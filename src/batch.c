/*
 * batch.c - rows -> posters, with a manifest, resume, shards and workers.
 *
 * Per-row files are made by N forked worker processes. Row p of the shard
 * belongs to worker p % N; each worker streams the CSV itself, skips the
 * rows that are not its own, and sends one result per row down its pipe.
 * The parent reads the pipes round-robin, so results arrive in CSV order
 * without a reordering buffer, and writes the manifest as they come.
 * Every file depends on its row alone, so the output is the same bytes
 * whatever N is.
 *
 * Nothing touches Pango before the fork: the parent only parses the
 * template, counts rows and merges results (Pango starts a font-loading
 * thread, and forking a process that has threads is asking for trouble).
 *
 * The combined PDF is drawn by one process: Cairo embeds each font once
 * per document, and a document cannot be split across processes and
 * merged back without embedding the fonts once per part and making the
 * bytes depend on the number of parts.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data.h"
#include "verify.h"

#define MAX_JOBS 64

typedef struct batch {
	const qp_batch_opts *o;
	const qp_batch_hooks *h;
	qp_batch_stats *st;
	qp_template *t;
	char *data_path;       /* what workers open */
	char *data_name;       /* what messages say */
	int spool_fd;          /* standard input copied to an unlinked file */
	long *col;             /* per variable: CSV column, or -1 */
	bool *from_set, *used;
	const char **base;     /* defaults, then --set */
	qp_tstr *pattern;
	size_t fixed_dir; /* bytes of the pattern's directory before any {{ */
	qp_format fmt;
	const qp_tstr **qrdata; /* each QR block's payload, in item order */
	size_t nqr;
	long code_var;
	char sig[65];          /* hash of all that is not the row */
	char *manifest_path;
	char *combine_path;
	size_t total;          /* rows in the shard */
	int jobs;
} batch;

/* One row, ready to lay out. */
typedef struct row {
	size_t pos;   /* position in the shard */
	size_t index; /* record index in the CSV */
	size_t line;
	const char **values;
	char *file;
	char **payloads;
	char key[65];
} row;

static bool
stopping(const batch *b)
{
	return b->h->stop && *b->h->stop;
}

static void
note(const batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(const batch *b, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (b->h->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	b->h->note(b->h->arg, msg);
}

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
		return qp_fail(err, "--impose '%s': expected COLSxROWS, e.g. "
		    "2x2", s);
	a = qp_xstrndup(s, (size_t)(x - s));
	if (!qp_parse_int(a, 1, 20, &c) || !qp_parse_int(x + 1, 1, 20, &r)) {
		free(a);
		return qp_fail(err, "--impose '%s': expected COLSxROWS with "
		    "1 to 20 of each, e.g. 2x2", s);
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
		return qp_fail(err, "--shard '%s': expected K/N, e.g. 3/8", s);
	a = qp_xstrndup(s, (size_t)(sl - s));
	ok = qp_parse_int(sl + 1, 1, 1000000, n) &&
	    qp_parse_int(a, 1, *n, k);
	free(a);
	if (!ok)
		return qp_fail(err, "--shard '%s': expected K/N with 1 <= K "
		    "<= N, e.g. 3/8", s);
	return true;
}

/* ---- hashing --------------------------------------------------------- */

static void
hex_digest(GChecksum *c, char out[65])
{
	snprintf(out, 65, "%s", g_checksum_get_string(c));
}

static bool
sha256_file(const char *path, char out[65], qp_error *err)
{
	GChecksum *c;
	FILE *fp = fopen(path, "rb");
	unsigned char buf[65536];
	size_t n;
	bool ok;

	if (fp == NULL)
		return qp_fail(err, "cannot read '%s': %s", path,
		    strerror(errno));
	c = g_checksum_new(G_CHECKSUM_SHA256);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		g_checksum_update(c, buf, n);
	ok = !ferror(fp);
	fclose(fp);
	if (ok)
		hex_digest(c, out);
	else
		qp_fail(err, "cannot read '%s'", path);
	g_checksum_free(c);
	return ok;
}

/* Everything but the row that decides the bytes of an output. */
static bool
make_signature(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	char tsum[65], buf[512];

	if (!sha256_file(b->t->path, tsum, err)) {
		g_checksum_free(c);
		return false;
	}
	snprintf(buf, sizeof buf, "qrposter %s\ntemplate %s\ndpi %.6f\n"
	    "bleed %.6f\nmarks %d\nimpose %dx%d %.6fx%.6f\nsde %lld\n"
	    "links %d\n", QP_VERSION, tsum, o->render.dpi, o->render.bleed,
	    o->render.marks, o->impose.cols, o->impose.rows, o->impose.sheet_w,
	    o->impose.sheet_h, qp_source_date_epoch(), !o->no_links);
	g_checksum_update(c, (const guchar *)buf, strlen(buf));
	hex_digest(c, b->sig);
	g_checksum_free(c);
	return true;
}

static void
row_key(const batch *b, row *r)
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(c, (const guchar *)b->sig, 64);
	g_checksum_update(c, (const guchar *)r->file, strlen(r->file) + 1);
	for (size_t i = 0; i < b->t->nvars; i++) {
		const char *v = r->values[i] ? r->values[i] : "";
		g_checksum_update(c, (const guchar *)b->t->var_names[i],
		    strlen(b->t->var_names[i]) + 1);
		g_checksum_update(c, (const guchar *)(r->values[i] ? "=" : "!"),
		    1);
		g_checksum_update(c, (const guchar *)v, strlen(v) + 1);
	}
	hex_digest(c, r->key);
	g_checksum_free(c);
}

/* ---- setting up ------------------------------------------------------ */

static void
mark_used(batch *b)
{
	const qp_template *t = b->t;

	b->used = qp_xcalloc(t->nvars + 1, sizeof *b->used);
	if (t->title)
		qp_tstr_mark_used(t->title, b->used);
	if (t->subject)
		qp_tstr_mark_used(t->subject, b->used);
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *bl = &t->blocks[i];
		if (bl->kind == QP_BLOCK_TEXT)
			qp_tstr_mark_used(bl->u.text.markup, b->used);
		else if (bl->kind == QP_BLOCK_QR) {
			qp_tstr_mark_used(bl->u.qr.data, b->used);
			if (bl->u.qr.caption)
				qp_tstr_mark_used(bl->u.qr.caption, b->used);
		}
	}
	if (b->pattern)
		qp_tstr_mark_used(b->pattern, b->used);
}

/* Copy standard input to an unlinked temporary file, so that every
 * worker (and the checking pass) can read it from the start. */
static bool
spool_stdin(batch *b, qp_error *err)
{
	const char *dir = getenv("TMPDIR");
	char *path = qp_xasprintf("%s/qrposter-stdin.XXXXXX",
	    dir && *dir ? dir : "/tmp");
	char buf[65536];
	ssize_t n;
	int fd = mkstemp(path);

	if (fd < 0) {
		qp_fail(err, "cannot make a temporary copy of standard input: "
		    "%s", strerror(errno));
		free(path);
		return false;
	}
	unlink(path);
	free(path);
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && errno == EINTR && !stopping(b))
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				close(fd);
				return qp_fail(err, "cannot copy standard "
				    "input: %s", strerror(errno));
			}
			off += w;
		}
	}
	if (n < 0) {
		close(fd);
		return qp_fail(err, "cannot read standard input: %s",
		    strerror(errno));
	}
	b->spool_fd = fd;
	b->data_path = qp_xasprintf("/proc/self/fd/%d", fd);
	b->data_name = qp_xstrdup("<stdin>");
	return true;
}

static qp_data *
open_data(const batch *b, qp_error *err)
{
	return qp_data_open_named(b->data_path, b->data_name, err);
}

static void
close_data(qp_data *d)
{
	qp_data_close(d);
}

/* Insert "-K-of-N" before path's extension. */
static char *
shard_suffix(const char *path, const char *ext, long k, long n)
{
	size_t len = strlen(path), el = strlen(ext);

	if (len > el && strcmp(path + len - el, ext) == 0)
		return qp_xasprintf("%.*s-%ld-of-%ld%s", (int)(len - el), path,
		    k, n, ext);
	return qp_xasprintf("%s-%ld-of-%ld", path, k, n);
}

static void
default_manifest(batch *b)
{
	const qp_batch_opts *o = b->o;
	bool sharded = o->shard_n > 1;

	if (o->manifest) {
		b->manifest_path = qp_xstrdup(o->manifest);
		return;
	}
	if (b->combine_path) {
		size_t len = strlen(b->combine_path);
		if (len > 4 && strcmp(b->combine_path + len - 4, ".pdf") == 0)
			len -= 4;
		b->manifest_path = qp_xasprintf("%.*s.manifest.csv", (int)len,
		    b->combine_path);
		return;
	}
	{
		/* The directory of the pattern's fixed part. */
		const char *brace = strstr(o->pattern, "{{");
		size_t fixed = brace ? (size_t)(brace - o->pattern) :
		    strlen(o->pattern);
		size_t dir = fixed;
		while (dir > 0 && o->pattern[dir - 1] != '/')
			dir--;
		if (sharded)
			b->manifest_path = qp_xasprintf("%.*smanifest-%ld-of-"
			    "%ld.csv", (int)dir, o->pattern, o->shard_k,
			    o->shard_n);
		else
			b->manifest_path = qp_xasprintf("%.*smanifest.csv",
			    (int)dir, o->pattern);
	}
}

/* Load the template, check the CSV's header against it, count rows. */
static bool
setup(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	qp_template *t;
	qp_data *d = NULL;
	qp_record rec;
	int r;

	if ((b->t = t = qp_template_load(o->template_path, err)) == NULL)
		return false;
	b->base = qp_xcalloc(t->nvars + 1, sizeof *b->base);
	if (!qp_bind_sets(t, o->sets, o->nsets, b->base, err))
		return false;
	b->from_set = qp_xcalloc(t->nvars + 1, sizeof *b->from_set);
	for (size_t i = 0; i < o->nsets; i++) {
		const char *eq = strchr(o->sets[i], '=');
		char *k = qp_xstrndup(o->sets[i], (size_t)(eq - o->sets[i]));
		b->from_set[qp_template_var(t, k)] = true;
		free(k);
	}
	if (o->pattern) {
		size_t off = 0;
		if (!qp_format_from_path(o->pattern, &b->fmt, err))
			return false;
		if (b->fmt == QP_FMT_PNG) {
			/* Every row has the template's page size: refuse an
			 * impossible raster once, before any row. */
			qp_page pg = {.w = t->page_w, .h = t->page_h};
			double sw, sh;
			qp_sheet_size(&pg, &o->render, &sw, &sh);
			if (!qp_png_size_ok(sw, sh, o->render.dpi, err))
				return false;
		}
		b->pattern = qp_tstr_compile(o->pattern, t->var_names,
		    t->nvars, err, &off);
		{
			const char *brace = strstr(o->pattern, "{{");
			size_t end = brace ? (size_t)(brace - o->pattern) :
			    strlen(o->pattern);
			while (end > 0 && o->pattern[end - 1] != '/')
				end--;
			b->fixed_dir = end > 0 ? end - 1 : 0;
		}
		if (b->pattern == NULL) {
			qp_error_prefix(err, "--output '%s' at byte %zu",
			    o->pattern, off + 1);
			return false;
		}
		if (qp_tstr_is_constant(b->pattern))
			return qp_fail(err, "--output '%s' names no variable, "
			    "so every row would write the same file; use e.g. "
			    "'output/{{code}}.pdf', or --combine FILE.pdf",
			    o->pattern);
	}
	if (o->combine) {
		b->combine_path = o->shard_n > 1 ? shard_suffix(o->combine,
		    ".pdf", o->shard_k, o->shard_n) : qp_xstrdup(o->combine);
		if (!qp_check_output_dir(b->combine_path, err))
			return false;
	}
	mark_used(b);
	for (size_t i = 0; i < t->nblocks; i++)
		if (t->blocks[i].kind == QP_BLOCK_QR) {
			b->qrdata = qp_xrealloc(b->qrdata, (b->nqr + 1) *
			    sizeof *b->qrdata);
			b->qrdata[b->nqr++] = t->blocks[i].u.qr.data;
		}
	b->code_var = qp_template_var(t, "code");
	if (!make_signature(b, err))
		return false;
	default_manifest(b);
	if (!qp_check_output_dir(b->manifest_path, err)) {
		qp_error_prefix(err, "manifest");
		return false;
	}

	if (strcmp(o->data, "-") == 0) {
		if (!spool_stdin(b, err))
			return false;
	} else {
		b->data_path = qp_xstrdup(o->data);
		b->data_name = qp_xstrdup(o->data);
		qp_outfile_protect(o->data, "the CSV data");
	}
	if ((d = open_data(b, err)) == NULL)
		return false;
	b->col = qp_xcalloc(t->nvars + 1, sizeof *b->col);
	for (size_t i = 0; i < t->nvars; i++) {
		b->col[i] = qp_data_col_index(d, t->var_names[i]);
		if (b->col[i] < 0 && b->used[i] && b->base[i] == NULL) {
			qp_buf cols;
			qp_buf_init(&cols);
			for (size_t k = 0; k < qp_data_ncols(d); k++) {
				qp_buf_adds(&cols, k ? ", " : "");
				qp_buf_adds(&cols, qp_data_col(d, k));
			}
			qp_fail(err, "%s:1: no column '%s', which the template "
			    "%s needs and has no default for (columns: %s); add "
			    "the column or give -s %s=VALUE", b->data_name,
			    t->var_names[i], t->path, cols.data,
			    t->var_names[i]);
			qp_buf_free(&cols);
			close_data(d);
			return false;
		}
	}
	/* Count the shard's rows; this also finds any CSV syntax error
	 * before a single file is written. */
	while ((r = qp_data_next(d, &rec, err)) == 1)
		if ((long)(rec.index % (size_t)o->shard_n) == o->shard_k - 1)
			b->total++;
	close_data(d);
	if (r < 0)
		return false;
	b->st->rows = b->total;
	return true;
}

/* ---- one row ----------------------------------------------------------- */

static void
row_free(row *r, size_t nqr)
{
	free(r->values);
	free(r->file);
	if (r->payloads)
		for (size_t i = 0; i < nqr; i++)
			free(r->payloads[i]);
	free(r->payloads);
	memset(r, 0, sizeof *r);
}

/* Values, payloads, output name and key of a record; false with a
 * FILE:LINE message for a bad row. */
static bool
row_prepare(const batch *b, const qp_record *rec, size_t pos, row *r,
    qp_error *err)
{
	const qp_template *t = b->t;
	qp_buf buf;

	memset(r, 0, sizeof *r);
	r->pos = pos;
	r->index = rec->index;
	r->line = rec->line;
	r->values = qp_xcalloc(t->nvars + 1, sizeof *r->values);
	for (size_t i = 0; i < t->nvars; i++) {
		long c = b->col[i];
		r->values[i] = b->base[i];
		if (!b->from_set[i] && c >= 0 && rec->lens[c] > 0)
			r->values[i] = rec->fields[c];
		if (r->values[i] == NULL && b->used[i])
			return qp_fail(err, "%s:%zu: column '%s' is empty and "
			    "the template has no default for it", b->data_name,
			    rec->line, t->var_names[i]);
	}
	qp_buf_init(&buf);
	r->payloads = qp_xcalloc(b->nqr + 1, sizeof *r->payloads);
	for (size_t i = 0; i < b->nqr; i++) {
		qp_buf_reset(&buf);
		if (!qp_tstr_expand(b->qrdata[i], r->values, t->var_names,
		    QP_ESC_NONE, &buf, err)) {
			qp_error_prefix(err, "%s:%zu", b->data_name, rec->line);
			qp_buf_free(&buf);
			return false;
		}
		r->payloads[i] = qp_xstrdup(buf.data);
	}
	qp_buf_reset(&buf);
	if (b->pattern) {
		const char **safe = qp_xcalloc(t->nvars + 1, sizeof *safe);
		qp_buf names;
		size_t *offs = qp_xcalloc(t->nvars + 1, sizeof *offs);
		const char *base;
		bool ok;

		/* Values made safe for a file name, back to back. */
		qp_buf_init(&names);
		for (size_t i = 0; i < t->nvars; i++) {
			offs[i] = names.len;
			if (r->values[i])
				qp_batch_safe_name(r->values[i], &names);
			qp_buf_addc(&names, '\0');
		}
		for (size_t i = 0; i < t->nvars; i++)
			safe[i] = r->values[i] ? names.data + offs[i] : NULL;
		ok = qp_tstr_expand(b->pattern, safe, t->var_names,
		    QP_ESC_NONE, &buf, err);
		free(safe);
		free(offs);
		qp_buf_free(&names);
		if (!ok) {
			qp_error_prefix(err, "%s:%zu: --output", b->data_name,
			    rec->line);
			qp_buf_free(&buf);
			return false;
		}
		base = strrchr(buf.data, '/');
		base = base ? base + 1 : buf.data;
		if (strlen(base) > 250) {
			qp_fail(err, "%s:%zu: the output name '%.60s...' is %zu "
			    "bytes long; file systems allow 255", b->data_name,
			    rec->line, base, strlen(base));
			qp_buf_free(&buf);
			return false;
		}
		r->file = qp_buf_steal(&buf);
	} else
		r->file = qp_xstrdup(b->combine_path);
	qp_buf_free(&buf);
	row_key(b, r);
	return true;
}

/* ---- the manifest ---------------------------------------------------- */

static const char *manifest_cols[] = {"row", "line", "code", "file",
    "page", "payload", "sha256", "status", "inputs_sha256"};
#define NMCOLS (sizeof manifest_cols / sizeof manifest_cols[0])

static void
csv_field(qp_buf *out, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL || (*s && (s[0] == ' ' ||
	    s[strlen(s) - 1] == ' '));

	if (q) {
		qp_buf_addc(out, '"');
		for (; *s; s++) {
			if (*s == '"')
				qp_buf_addc(out, '"');
			qp_buf_addc(out, *s);
		}
		qp_buf_addc(out, '"');
	} else
		qp_buf_adds(out, s);
	qp_buf_adds(out, last ? "\n" : ",");
}

typedef struct manifest {
	qp_outfile of;
	qp_buf line;
	bool open;
	/* Combined: offsets of the sha256 fields, filled in at the end. */
	long *sha_off;
	size_t nsha;
	long pos;
} manifest;

static bool
manifest_open(manifest *m, const char *path, qp_error *err)
{
	memset(m, 0, sizeof *m);
	if (!qp_outfile_open(&m->of, path, err))
		return false;
	m->open = true;
	qp_buf_init(&m->line);
	for (size_t i = 0; i < NMCOLS; i++)
		csv_field(&m->line, manifest_cols[i], i + 1 == NMCOLS);
	qp_outfile_write(&m->of, m->line.data, m->line.len);
	m->pos = (long)m->line.len;
	return true;
}

/* fields: NMCOLS strings. A NULL sha256 is filled in by manifest_close. */
static void
manifest_add(manifest *m, const char *const *f)
{
	qp_buf_reset(&m->line);
	for (size_t i = 0; i < NMCOLS; i++) {
		if (i == 6 && f[i] == NULL) {
			m->sha_off = qp_xrealloc(m->sha_off, (m->nsha + 1) *
			    sizeof *m->sha_off);
			m->sha_off[m->nsha++] = m->pos + (long)m->line.len;
			csv_field(&m->line, "0000000000000000000000000000000"
			    "000000000000000000000000000000000", false);
			continue;
		}
		csv_field(&m->line, f[i] ? f[i] : "", i + 1 == NMCOLS);
	}
	qp_outfile_write(&m->of, m->line.data, m->line.len);
	m->pos += (long)m->line.len;
}

static bool
manifest_close(manifest *m, const char *sha, qp_error *err)
{
	bool ok = true;

	if (!m->open)
		return true;
	if (m->nsha && sha) {
		for (size_t i = 0; i < m->nsha && ok; i++)
			if (fflush(m->of.fp) != 0 ||
			    fseek(m->of.fp, m->sha_off[i], SEEK_SET) != 0 ||
			    fwrite(sha, 1, 64, m->of.fp) != 64)
				ok = false;
		if (!ok) {
			qp_outfile_abort(&m->of);
			qp_fail(err, "cannot write the manifest");
		}
	}
	if (ok)
		ok = qp_outfile_commit(&m->of, err);
	qp_buf_free(&m->line);
	free(m->sha_off);
	m->open = false;
	return ok;
}

static void
manifest_abort(manifest *m)
{
	if (!m->open)
		return;
	qp_outfile_abort(&m->of);
	qp_buf_free(&m->line);
	free(m->sha_off);
	m->open = false;
}

/* The previous run's manifest, read alongside the rows (both are in CSV
 * order) to decide what can be skipped. */
typedef struct old_manifest {
	qp_data *d;
	long c[NMCOLS];
	qp_record rec;
	bool have, end;
} old_manifest;

static void
old_open(old_manifest *om, const char *path)
{
	qp_error err;

	memset(om, 0, sizeof *om);
	if (access(path, R_OK) != 0 ||
	    (om->d = qp_data_open(path, &err)) == NULL) {
		om->end = true;
		return;
	}
	for (size_t i = 0; i < NMCOLS; i++)
		if ((om->c[i] = qp_data_col_index(om->d,
		    manifest_cols[i])) < 0) {
			om->end = true;
			return;
		}
}

/* The old entry for CSV record index, or NULL. */
static const qp_record *
old_find(old_manifest *om, size_t index)
{
	qp_error err;

	while (!om->end) {
		long rn;

		if (!om->have) {
			if (qp_data_next(om->d, &om->rec, &err) != 1) {
				om->end = true;
				break;
			}
			om->have = true;
		}
		if (!qp_parse_int(om->rec.fields[om->c[0]], 1, LONG_MAX,
		    &rn)) {
			om->end = true;
			break;
		}
		if ((size_t)rn - 1 < index) {
			om->have = false;
			continue;
		}
		if ((size_t)rn - 1 == index)
			return &om->rec;
		break;
	}
	return NULL;
}

static void
old_close(old_manifest *om)
{
	qp_data_close(om->d);
}

static const char *
old_field(const old_manifest *om, const qp_record *r, int i)
{
	return r->fields[om->c[i]];
}

/* ---- worker protocol ------------------------------------------------- */

enum { F_STATUS, F_FILE, F_PAGE, F_PAYLOAD, F_CODE, F_SHA, F_KEY, F_MSG,
    F_LINE, F_INDEX, NF };

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
read_all(int fd, void *p, size_t n, const batch *b, pid_t *pids)
{
	char *c = p;
	static bool forwarded;

	while (n > 0) {
		ssize_t r;

		/* Pass a stop on to the workers (a kill reaches only us);
		 * they finish the row in hand and leave. Checked before
		 * every read, as the signal may land between two. */
		if (stopping(b) && !forwarded && pids) {
			forwarded = true;
			for (int i = 0; i < b->jobs; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
		}
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= (size_t)r;
	}
	return true;
}

static bool
send_result(int fd, const char *const *f)
{
	qp_buf m;
	uint32_t len;
	bool ok;

	qp_buf_init(&m);
	for (int i = 0; i < NF; i++) {
		qp_buf_adds(&m, f[i] ? f[i] : "");
		qp_buf_addc(&m, '\0');
	}
	len = (uint32_t)m.len;
	ok = write_all(fd, &len, sizeof len) && write_all(fd, m.data, m.len);
	qp_buf_free(&m);
	return ok;
}

static bool
recv_result(int fd, qp_buf *buf, const char **f, const batch *b,
    pid_t *pids)
{
	uint32_t len;
	size_t off = 0;

	if (!read_all(fd, &len, sizeof len, b, pids))
		return false;
	qp_buf_reset(buf);
	if (buf->cap < (size_t)len + 1) {
		buf->data = qp_xrealloc(buf->data, (size_t)len + 1);
		buf->cap = (size_t)len + 1;
	}
	if (!read_all(fd, buf->data, len, b, pids))
		return false;
	buf->len = len;
	buf->data[len] = '\0';
	for (int i = 0; i < NF; i++) {
		f[i] = off < len ? buf->data + off : "";
		off += strlen(f[i]) + 1;
	}
	return true;
}

/* ---- rendering ------------------------------------------------------- */

/*
 * mkdir -p for the directories of path below what already exists. The
 * first fixed bytes are the pattern's own folder (the user's choice);
 * a directory below it is named from the data and must be a real
 * directory, not a symbolic link leading out of the output folder.
 */
static bool
make_parent_dirs(const char *path, size_t fixed, qp_error *err)
{
	char *p = qp_xstrdup(path);
	char *s = strrchr(p, '/');
	bool ok = true;

	if (s == NULL || s == p) {
		free(p);
		return true;
	}
	*s = '\0';
	for (char *q = p + 1; ok; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char save = *q;
		*q = '\0';
		struct stat st;
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			ok = qp_fail(err, "cannot make directory '%s': %s", p,
			    strerror(errno));
		else if ((size_t)(q - p) > fixed && lstat(p, &st) == 0 &&
		    !S_ISDIR(st.st_mode))
			ok = qp_fail(err, "'%s' is %s, not a directory: a folder "
			    "named from the data must be a real folder inside "
			    "the output folder", p, S_ISLNK(st.st_mode) ?
			    "a symbolic link" : "a file");
		*q = save;
		if (save == '\0')
			break;
	}
	free(p);
	return ok;
}

typedef struct worker {
	const batch *b;
	qp_layout_ctx *ctx;
	qp_verifier *ver;
	qp_raster *raster;
	int out; /* result pipe */
} worker;

static const char *
row_code(const batch *b, const row *r)
{
	return b->code_var >= 0 && r->values[b->code_var] ?
	    r->values[b->code_var] : "";
}

static void
send_row(worker *w, const row *r, const char *status, const char *page,
    const char *sha, const char *msg)
{
	char line[32], index[32];
	const char *f[NF];

	snprintf(line, sizeof line, "%zu", r->line);
	snprintf(index, sizeof index, "%zu", r->index);
	f[F_STATUS] = status;
	f[F_FILE] = r->file;
	f[F_PAGE] = page;
	f[F_PAYLOAD] = r->payloads && w->b->nqr ? r->payloads[0] : "";
	f[F_CODE] = r->values ? row_code(w->b, r) : "";
	f[F_SHA] = sha;
	f[F_KEY] = r->key;
	f[F_MSG] = msg;
	f[F_LINE] = line;
	f[F_INDEX] = index;
	send_result(w->out, f);
}

static qp_page *
row_layout(worker *w, const row *r, bool verify, qp_error *err)
{
	const batch *b = w->b;
	qp_page *page = qp_layout_page(w->ctx, b->t, r->values, err);

	if (page == NULL) {
		qp_error_prefix(err, "%s:%zu", b->data_name, r->line);
		return NULL;
	}
	if (b->o->no_links)
		for (size_t i = 0; i < page->nitems; i++) {
			free(page->items[i].link);
			page->items[i].link = NULL;
		}
	if (verify && !qp_verify_page(w->ver, page,
	    (const char *const *)r->payloads, b->nqr, err)) {
		qp_error_prefix(err, "%s:%zu: --verify", b->data_name,
		    r->line);
		qp_page_free(page);
		return NULL;
	}
	return page;
}

/* Resume: the old manifest says this row is done with these very inputs,
 * and the file on disk is still the one it describes. */
static bool
already_done(const batch *b, old_manifest *om, const row *r, char sha[65])
{
	const qp_record *old;
	qp_error err;

	if (b->o->force || (old = old_find(om, r->index)) == NULL)
		return false;
	if (strcmp(old_field(om, old, 7), "ok") != 0 ||
	    strcmp(old_field(om, old, 8), r->key) != 0 ||
	    strcmp(old_field(om, old, 3), r->file) != 0)
		return false;
	if (!sha256_file(r->file, sha, &err))
		return false;
	return strcmp(sha, old_field(om, old, 6)) == 0;
}

/*
 * A worker's life: check its rows (phase A), wait for the go-ahead, make
 * them (phase B). Never returns.
 */
static void
worker_main(batch *b, int id, int out, int ctl)
{
	worker w = {b, NULL, NULL, NULL, out};
	qp_data *d = NULL;
	qp_record rec;
	qp_error err;
	old_manifest om;
	bool layout = b->o->check && !b->o->keep_going;
	char go = 'q';
	size_t pos = 0;
	int r;

	signal(SIGPIPE, SIG_IGN);
	w.ctx = qp_layout_ctx_new();
	if (b->o->verify)
		w.ver = qp_verifier_new();
	if (b->fmt == QP_FMT_PNG)
		w.raster = qp_raster_new();
	for (int phase = 0; phase < 2; phase++) {
		if ((d = open_data(b, &err)) == NULL)
			_exit(1);
		if (phase == 1)
			old_open(&om, b->manifest_path);
		pos = 0;
		while (!stopping(b) && (r = qp_data_next(d, &rec, &err)) == 1) {
			row rw;
			char sha[65] = "";
			qp_page *page;

			if ((long)(rec.index % (size_t)b->o->shard_n) !=
			    b->o->shard_k - 1)
				continue;
			if (pos++ % (size_t)b->jobs != (size_t)id)
				continue;
			if (!row_prepare(b, &rec, pos - 1, &rw, &err)) {
				send_row(&w, &rw, "error", "", "", err.msg);
				row_free(&rw, b->nqr);
				continue;
			}
			if (phase == 0) {
				if (layout && (page = row_layout(&w, &rw,
				    b->o->verify, &err)) == NULL)
					send_row(&w, &rw, "error", "", "",
					    err.msg);
				else {
					if (layout)
						qp_page_free(page);
					send_row(&w, &rw, "ok", "", "", "");
				}
			} else if (already_done(b, &om, &rw, sha)) {
				send_row(&w, &rw, "skip", "1", sha, "");
			} else if ((page = row_layout(&w, &rw,
			    b->o->verify && !layout, &err)) == NULL) {
				send_row(&w, &rw, "error", "", "", err.msg);
			} else {
				bool ok = make_parent_dirs(rw.file, b->fixed_dir, &err) &&
				    qp_render_file_r(page, rw.file, b->fmt,
				    &b->o->render, w.raster, &err) &&
				    sha256_file(rw.file, sha, &err);
				if (!ok)
					qp_error_prefix(&err, "%s:%zu",
					    b->data_name, rw.line);
				send_row(&w, &rw, ok ? "ok" : "error", "1", sha,
				    ok ? "" : err.msg);
				qp_page_free(page);
			}
			row_free(&rw, b->nqr);
		}
		close_data(d);
		if (phase == 1)
			old_close(&om);
		if (phase == 0) {
			/* Wait for the parent's verdict on the whole run. */
			ssize_t n;
			do {
				n = read(ctl, &go, 1);
			} while (n < 0 && errno == EINTR && !stopping(b));
			if (n != 1 || go != 'g' || stopping(b))
				break;
		}
	}
	qp_raster_free(w.raster);
	qp_verifier_free(w.ver);
	qp_layout_ctx_free(w.ctx);
	_exit(0);
}

/* ---- the parent -------------------------------------------------------- */

typedef struct clash {
	uint64_t h;
	size_t line;
} clash;

static int
clash_cmp(const void *a, const void *c)
{
	const clash *x = a, *y = c;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * A file name's identity on the most forgiving file systems (ASCII case
 * folded, as on macOS and Windows), as 64 bits of its SHA-256: two rows
 * share a hash only if their names clash (or with odds of 1 in 2^64, a
 * false alarm that refuses rather than overwrites).
 */
static uint64_t
name_hash(const char *name)
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 dig[32];
	gsize n = sizeof dig;
	uint64_t h = 0;

	for (const char *p = name; *p; p++) {
		guchar ch = (guchar)*p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (guchar)(ch - 'A' + 'a');
		g_checksum_update(c, &ch, 1);
	}
	g_checksum_get_digest(c, dig, &n);
	g_checksum_free(c);
	for (int i = 0; i < 8; i++)
		h = h << 8 | dig[i];
	return h;
}

static void
row_error(const batch *b, const char *msg)
{
	if (b->h->row_error)
		b->h->row_error(b->h->arg, msg);
}

static void
progress(const batch *b, const char *phase, size_t done)
{
	if (b->h->progress)
		b->h->progress(b->h->arg, phase, done, b->total);
}

static void
manifest_row(manifest *m, const char *const *f, const char *sha)
{
	char rownum[32];
	const char *mf[NMCOLS];
	long idx;
	bool bad = strcmp(f[F_STATUS], "error") == 0;
	char *status = bad ? qp_xasprintf("error: %s", f[F_MSG]) : NULL;

	qp_parse_int(f[F_INDEX], 0, LONG_MAX, &idx);
	snprintf(rownum, sizeof rownum, "%ld", idx + 1);
	mf[0] = rownum;
	mf[1] = f[F_LINE];
	mf[2] = f[F_CODE];
	mf[3] = bad ? "" : f[F_FILE];
	mf[4] = bad ? "" : f[F_PAGE];
	mf[5] = f[F_PAYLOAD];
	mf[6] = bad ? "" : sha;
	mf[7] = bad ? status : "ok";
	mf[8] = f[F_KEY];
	manifest_add(m, mf);
	free(status);
}

/* Count a worker's result and add its manifest line. */
static void
record_result(batch *b, manifest *m, const char *const *f)
{
	if (strcmp(f[F_STATUS], "error") == 0) {
		b->st->failed++;
		row_error(b, f[F_MSG]);
	} else if (strcmp(f[F_STATUS], "skip") == 0)
		b->st->skipped++;
	else
		b->st->written++;
	manifest_row(m, f, f[F_SHA]);
}

typedef struct pending {
	size_t index;
	char *data; /* the result's NUL-separated fields */
	size_t len;
} pending;

static int
pending_cmp(const void *a, const void *c)
{
	const pending *x = a, *y = c;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * After a stop the parent has recorded rows in order up to the first a
 * worker did not finish; other workers may have finished later rows
 * (their files are in place) before they left. Read every result still
 * in the pipes, until each worker has closed its end, and record them in
 * CSV order, so the manifest lists exactly the files there are.
 */
static void
drain_results(batch *b, manifest *m, const int *out, pid_t *pids,
    qp_buf *buf)
{
	pending *pv = NULL;
	size_t np = 0;
	const char *f[NF];

	for (int i = 0; i < b->jobs; i++) {
		while (out[i] >= 0 && recv_result(out[i], buf, f, b, pids)) {
			long idx;

			if (!qp_parse_int(f[F_INDEX], 0, LONG_MAX, &idx))
				continue;
			pv = qp_xrealloc(pv, (np + 1) * sizeof *pv);
			pv[np].index = (size_t)idx;
			pv[np].data = qp_xmalloc(buf->len + 1);
			memcpy(pv[np].data, buf->data, buf->len + 1);
			pv[np].len = buf->len;
			np++;
		}
	}
	if (np > 1)
		qsort(pv, np, sizeof *pv, pending_cmp);
	for (size_t k = 0; k < np; k++) {
		size_t off = 0;

		for (int i = 0; i < NF; i++) {
			f[i] = off < pv[k].len ? pv[k].data + off : "";
			off += strlen(f[i]) + 1;
		}
		record_result(b, m, f);
		free(pv[k].data);
	}
	free(pv);
}

static bool
run_files(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	pid_t pids[MAX_JOBS] = {0};
	int out[MAX_JOBS], ctl[MAX_JOBS];
	clash *names = NULL;
	size_t nerr = 0, nclash = 0, pos;
	qp_buf buf;
	manifest m = {0};
	bool ok = false, started = false;
	const char *f[NF];

	qp_buf_init(&buf);
	for (int i = 0; i < MAX_JOBS; i++)
		out[i] = ctl[i] = -1;
	fflush(NULL);
	for (int i = 0; i < b->jobs; i++) {
		int po[2], pc[2];

		if (pipe(po) != 0 || pipe(pc) != 0) {
			qp_fail(err, "cannot start workers: %s",
			    strerror(errno));
			goto done;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			qp_fail(err, "cannot start workers: %s",
			    strerror(errno));
			goto done;
		}
		if (pids[i] == 0) {
			close(po[0]);
			close(pc[1]);
			for (int k = 0; k < i; k++) {
				close(out[k]);
				close(ctl[k]);
			}
			worker_main(b, i, po[1], pc[0]);
		}
		close(po[1]);
		close(pc[0]);
		out[i] = po[0];
		ctl[i] = pc[1];
		fcntl(ctl[i], F_SETFD, FD_CLOEXEC);
		fcntl(out[i], F_SETFD, FD_CLOEXEC);
	}
	/* Phase A: every row checked and named; nothing written yet. */
	names = qp_xcalloc(b->total + 1, sizeof *names);
	for (pos = 0; pos < b->total; pos++) {
		long line;

		if (!recv_result(out[pos % (size_t)b->jobs], &buf, f, b, pids))
			break;
		if (strcmp(f[F_STATUS], "error") == 0) {
			nerr++;
			/* With keep_going the row is reported once, when the
			 * manifest records it. */
			if (!o->keep_going)
				row_error(b, f[F_MSG]);
			progress(b, "checking", pos + 1);
			continue;
		}
		qp_parse_int(f[F_LINE], 0, LONG_MAX, &line);
		names[nclash].h = name_hash(f[F_FILE]);
		names[nclash++].line = (size_t)line;
		progress(b, "checking", pos + 1);
	}
	if (pos < b->total) {
		if (stopping(b)) {
			b->st->interrupted = true;
			ok = true;
		} else
			qp_fail(err, "a worker stopped unexpectedly");
		goto done;
	}
	qsort(names, nclash, sizeof *names, clash_cmp);
	{
		size_t clashes = 0;
		for (size_t i = 1; i < nclash; i++)
			if (names[i].h == names[i - 1].h) {
				char msg[512];
				snprintf(msg, sizeof msg, "%s:%zu: writes the same "
				    "file as line %zu (after making the values "
				    "safe for file names, ignoring case)",
				    b->data_name, names[i].line,
				    names[i - 1].line);
				row_error(b, msg);
				clashes++;
			}
		if (clashes) {
			qp_fail(err, "%zu row%s would overwrite another's "
			    "output; make --output '%s' distinct (e.g. add "
			    "another column); nothing was written", clashes,
			    clashes == 1 ? "" : "s", o->pattern);
			goto done;
		}
	}
	if (nerr && !o->keep_going) {
		qp_fail(err, "%zu of %zu row%s %s errors; nothing was written "
		    "(--keep-going makes the good rows)", nerr, b->total,
		    b->total == 1 ? "" : "s", nerr == 1 ? "has" : "have");
		goto done;
	}
	if (stopping(b)) {
		b->st->interrupted = true;
		ok = true;
		goto done;
	}
	/* Phase B. */
	if (!manifest_open(&m, b->manifest_path, err))
		goto done;
	for (int i = 0; i < b->jobs; i++)
		if (!write_all(ctl[i], "g", 1)) {
			qp_fail(err, "a worker stopped unexpectedly");
			goto done;
		}
	started = true;
	for (pos = 0; pos < b->total; pos++) {
		if (!recv_result(out[pos % (size_t)b->jobs], &buf, f, b, pids))
			break;
		record_result(b, &m, f);
		progress(b, "rendering", pos + 1);
	}
	if (pos < b->total) {
		if (!stopping(b)) {
			qp_fail(err, "a worker stopped unexpectedly");
			manifest_abort(&m);
			goto done;
		}
		b->st->interrupted = true;
		drain_results(b, &m, out, pids, &buf);
	}
	if (!manifest_close(&m, NULL, err))
		goto done;
	snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
	    b->manifest_path);
	if (b->st->failed && !o->keep_going) {
		/* Rows that passed the check but failed to write (a full
		 * disk, say): an error, with the manifest saying which. */
		qp_fail(err, "%zu row%s could not be written", b->st->failed,
		    b->st->failed == 1 ? "" : "s");
		goto done;
	}
	ok = true;
done:
	manifest_abort(&m);
	for (int i = 0; i < b->jobs; i++) {
		if (ctl[i] >= 0) {
			if (!started)
				(void)write_all(ctl[i], "q", 1);
			close(ctl[i]);
		}
		if (out[i] >= 0)
			close(out[i]);
	}
	for (int i = 0; i < b->jobs; i++)
		if (pids[i] > 0) {
			int status;
			while (waitpid(pids[i], &status, 0) < 0 &&
			    errno == EINTR)
				;
		}
	free(names);
	qp_buf_free(&buf);
	return ok;
}

/* ---- the combined PDF -------------------------------------------------- */

/* Resume: the combined file and the old manifest match every row. */
static bool
combined_done(batch *b, qp_error *err)
{
	old_manifest om;
	qp_data *d;
	qp_record rec;
	char sha[65];
	size_t n = 0;
	bool same = true;
	int r;

	if (b->o->force || access(b->combine_path, R_OK) != 0)
		return false;
	if (!sha256_file(b->combine_path, sha, err))
		return false;
	if ((d = open_data(b, err)) == NULL)
		return false;
	old_open(&om, b->manifest_path);
	while (same && (r = qp_data_next(d, &rec, err)) == 1) {
		row rw;
		const qp_record *old;

		if ((long)(rec.index % (size_t)b->o->shard_n) !=
		    b->o->shard_k - 1)
			continue;
		if (!row_prepare(b, &rec, n++, &rw, err)) {
			row_free(&rw, b->nqr);
			same = false;
			break;
		}
		old = old_find(&om, rec.index);
		same = old && strcmp(old_field(&om, old, 7), "ok") == 0 &&
		    strcmp(old_field(&om, old, 8), rw.key) == 0 &&
		    strcmp(old_field(&om, old, 6), sha) == 0;
		row_free(&rw, b->nqr);
	}
	/* No rows beyond ours in the old manifest either. */
	if (same && !om.end) {
		qp_record extra;
		qp_error e2;
		/* The record in hand is the last row's, matched above. */
		om.have = false;
		if (qp_data_next(om.d, &extra, &e2) != 0)
			same = false;
	}
	old_close(&om);
	close_data(d);
	return same && n == b->total;
}

static bool
run_combined(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	const qp_impose *im = o->impose.cols ? &o->impose : NULL;
	size_t per = im ? (size_t)(im->cols * im->rows) : 1;
	worker w = {b, NULL, NULL, NULL, -1};
	qp_pdf_doc *doc = NULL;
	qp_page **held = qp_xcalloc(per, sizeof *held);
	size_t nheld = 0, pos = 0, nerr = 0, sheets = 0;
	qp_data *d = NULL;
	manifest m = {0};
	qp_record rec;
	char sha[65] = "";
	bool ok = false, scaled_noted = false;
	int r;

	if (combined_done(b, err)) {
		/* Rewrite the same manifest: every row is still done. */
		old_manifest om;
		if (!manifest_open(&m, b->manifest_path, err))
			goto done;
		qp_record old;
		qp_error e2;
		old_open(&om, b->manifest_path);
		while (!om.end && qp_data_next(om.d, &old, &e2) == 1) {
			const char *mf[NMCOLS];
			for (size_t k = 0; k < NMCOLS; k++)
				mf[k] = old_field(&om, &old, (int)k);
			manifest_add(&m, mf);
			b->st->skipped++;
		}
		old_close(&om);
		if (!manifest_close(&m, NULL, err))
			goto done;
		snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
		    b->manifest_path);
		ok = true;
		goto done;
	}
	w.ctx = qp_layout_ctx_new();
	if (o->verify)
		w.ver = qp_verifier_new();
	if ((d = open_data(b, err)) == NULL)
		goto done;
	if ((doc = qp_pdf_doc_open(b->combine_path, &o->render, err)) ==
	    NULL)
		goto done;
	if (!manifest_open(&m, b->manifest_path, err))
		goto done;
	while ((r = qp_data_next(d, &rec, err)) == 1) {
		row rw;
		qp_page *page = NULL;
		const char *mf[NMCOLS];
		char rownum[32], line[32], pagenum[32];
		char *status = NULL;

		if (stopping(b)) {
			b->st->interrupted = true;
			break;
		}
		if ((long)(rec.index % (size_t)o->shard_n) != o->shard_k - 1)
			continue;
		pos++;
		if (!row_prepare(b, &rec, pos - 1, &rw, err) ||
		    (page = row_layout(&w, &rw, o->verify, err)) == NULL) {
			nerr++;
			row_error(b, err->msg);
			status = qp_xasprintf("error: %s", err->msg);
		} else if (nerr == 0 || o->keep_going) {
			if (im) {
				double s;
				if (!qp_impose_scale(im, &o->render, page->w,
				    page->h, &s, err)) {
					qp_page_free(page);
					row_free(&rw, b->nqr);
					goto done;
				}
				if (s < 1 && !scaled_noted) {
					note(b, "posters scaled to %.0f%% to fit "
					    "%dx%d on the sheet", s * 100,
					    im->cols, im->rows);
					scaled_noted = true;
				}
				held[nheld++] = page;
				page = NULL;
				if (nheld == per) {
					if (!qp_pdf_doc_add_sheet(doc, im,
					    (const qp_page *const *)held, nheld,
					    err)) {
						row_free(&rw, b->nqr);
						goto done;
					}
					for (size_t i = 0; i < nheld; i++)
						qp_page_free(held[i]);
					nheld = 0;
				}
			} else if (!qp_pdf_doc_add(doc, page, err)) {
				qp_page_free(page);
				row_free(&rw, b->nqr);
				goto done;
			}
			b->st->written++;
		}
		qp_page_free(page);
		/* The page (or sheet) this row lands on. */
		snprintf(pagenum, sizeof pagenum, "%zu", im ?
		    (b->st->written + per - 1) / per : b->st->written);
		snprintf(rownum, sizeof rownum, "%zu", rec.index + 1);
		snprintf(line, sizeof line, "%zu", rec.line);
		mf[0] = rownum;
		mf[1] = line;
		mf[2] = rw.values ? row_code(b, &rw) : "";
		mf[3] = status ? "" : b->combine_path;
		mf[4] = status ? "" : pagenum;
		mf[5] = rw.payloads && b->nqr ? rw.payloads[0] : "";
		mf[6] = status ? "" : NULL;
		mf[7] = status ? status : "ok";
		mf[8] = rw.key;
		manifest_add(&m, mf);
		free(status);
		row_free(&rw, b->nqr);
		progress(b, "rendering", pos);
	}
	if (r < 0 && !b->st->interrupted)
		goto done;
	if (b->st->interrupted) {
		/* The combined file is all or nothing: leave the previous
		 * one and its manifest as they were. */
		ok = true;
		goto done;
	}
	if (nerr && !o->keep_going) {
		qp_fail(err, "%zu of %zu row%s %s errors; nothing was written "
		    "(--keep-going makes the good rows)", nerr, b->total,
		    b->total == 1 ? "" : "s", nerr == 1 ? "has" : "have");
		goto done;
	}
	b->st->failed = nerr;
	if (nheld) {
		if (!qp_pdf_doc_add_sheet(doc, im,
		    (const qp_page *const *)held, nheld, err))
			goto done;
	}
	sheets = im ? (b->st->written + per - 1) / per : b->st->written;
	if (b->st->written == 0) {
		qp_fail(err, "no row made a page; nothing was written");
		goto done;
	}
	{
		qp_pdf_doc *dd = doc;
		doc = NULL;
		if (!qp_pdf_doc_close(dd, err))
			goto done;
	}
	if (!sha256_file(b->combine_path, sha, err) ||
	    !manifest_close(&m, sha, err))
		goto done;
	b->st->pages = sheets;
	snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
	    b->manifest_path);
	ok = true;
done:
	for (size_t i = 0; i < nheld; i++)
		qp_page_free(held[i]);
	free(held);
	manifest_abort(&m);
	qp_pdf_doc_abort(doc);
	close_data(d);
	qp_verifier_free(w.ver);
	qp_layout_ctx_free(w.ctx);
	return ok;
}

bool
qp_batch_run(const qp_batch_opts *o, const qp_batch_hooks *h,
    qp_batch_stats *st, qp_error *err)
{
	batch b = {0};
	bool ok = false;

	memset(st, 0, sizeof *st);
	b.o = o;
	b.h = h;
	b.st = st;
	b.spool_fd = -1;
	if ((o->pattern == NULL) == (o->combine == NULL))
		return qp_fail(err, "give either --output PATTERN (a file per "
		    "row) or --combine FILE.pdf (one document)");
	if (o->impose.cols && o->combine == NULL)
		return qp_fail(err, "--impose needs --combine FILE.pdf");
	if (!setup(&b, err))
		goto done;
	b.jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
	if ((size_t)b.jobs > b.total)
		b.jobs = b.total ? (int)b.total : 1;
	if (b.total == 0) {
		qp_fail(err, "%s: no rows%s", b.data_name, o->shard_n > 1 ?
		    " in this shard" : "");
		goto done;
	}
	ok = o->combine ? run_combined(&b, err) : run_files(&b, err);
done:
	qp_template_free(b.t);
	qp_tstr_free(b.pattern);
	free(b.qrdata);
	free(b.col);
	free(b.from_set);
	free(b.used);
	free(b.base);
	free(b.data_path);
	free(b.data_name);
	free(b.manifest_path);
	free(b.combine_path);
	if (b.spool_fd >= 0)
		close(b.spool_fd);
	return ok;
}
