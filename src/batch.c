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
#include "batch_int.h"

bool
bt_stopping(const batch *b)
{
	return b->h->stop && *b->h->stop;
}

void
bt_note(const batch *b, const char *fmt, ...)
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
		if (n < 0 && errno == EINTR && !bt_stopping(b))
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

qp_data *
bt_open_data(const batch *b, qp_error *err)
{
	return qp_data_open_named(b->data_path, b->data_name, err);
}

void
bt_close_data(qp_data *d)
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
			qp_error_prefix(err, "the output pattern '%s' at byte "
			    "%zu", o->pattern, off + 1);
			return false;
		}
		if (qp_tstr_is_constant(b->pattern)) {
			qp_fail(err, "the output pattern '%s' names no "
			    "variable, so every row would write the same file",
			    o->pattern);
			return qp_error_hint(err, QP_HINT_PATTERN, 0, NULL);
		}
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
	if (!bt_make_signature(b, err))
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
	if (!bt_make_run_id(b, err))
		return false;
	if ((d = bt_open_data(b, err)) == NULL)
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
			    "%s needs and has no default for (columns: %s)",
			    b->data_name, t->var_names[i], t->path, cols.data);
			qp_error_hint(err, QP_HINT_UNSET, 0, t->var_names[i]);
			qp_buf_free(&cols);
			bt_close_data(d);
			return false;
		}
	}
	/* Count the shard's rows; this also finds any CSV syntax error
	 * before a single file is written. */
	while ((r = qp_data_next(d, &rec, err)) == 1)
		if ((long)(rec.index % (size_t)o->shard_n) == o->shard_k - 1)
			b->total++;
	bt_close_data(d);
	if (r < 0)
		return false;
	b->st->rows = b->total;
	return true;
}

/* ---- one row ----------------------------------------------------------- */

void
bt_row_free(row *r, size_t nqr)
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
bool
bt_row_prepare(const batch *b, const qp_record *rec, size_t pos, row *r,
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
			qp_error_prefix(err, "%s:%zu: the output pattern",
			    b->data_name, rec->line);
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
	bt_row_key(b, r);
	return true;
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
		return qp_fail(err, "a batch writes either a file per row (an "
		    "output pattern) or one combined PDF, not both or neither");
	if (o->impose.cols && o->combine == NULL)
		return qp_fail(err, "imposing needs a combined PDF");
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
	ok = o->combine ? bt_run_combined(&b, err) : bt_run_files(&b, err);
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
