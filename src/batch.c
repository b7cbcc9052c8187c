/*
 * batch.c - rows -> posters, with a manifest, resume, shards and workers.
 *
 * Per-row files are made by N forked worker processes. Row p of the shard
 * belongs to worker p % N; each worker streams the CSV itself, skips the
 * rows that are not its own, and sends one result per row down its
 * socket (batch_crew.c). The parent reads them round-robin, so results
 * arrive in CSV order without a reordering buffer, and writes the
 * manifest as they come.
 * Every file depends on its row alone, so the output is the same bytes
 * whatever N is.
 *
 * Nothing touches Pango before the fork: the parent only parses the
 * template, counts rows and merges results (Pango starts a font-loading
 * thread, and forking a process that has threads is asking for trouble).
 *
 * The combined PDF is drawn in parts that break at fixed rows (pdfrun.h),
 * so the workers can each draw parts of their own without the bytes
 * depending on the number of workers; imposed sheets and print files are
 * drawn by the parent from what the workers laid out (batch_combined.c
 * says why and how).
 *
 * Stopping: see batch_crew.c (who hears a signal, how it is passed on)
 * and stop.h (the request itself).
 */
#define _GNU_SOURCE
#include "batch_int.h"
#include "fonts.h"

#include <poll.h>
#include <signal.h>

bool
bt_stopping(const batch *b)
{
	return qp_stop_why(b->h->stop) != 0;
}

bool
bt_row_in_run(const batch *b, const qp_record *rec)
{
	const qp_batch_opts *o = b->o;
	const char *cell;

	if ((long)(rec->index % (size_t)o->shard_n) != o->shard_k - 1)
		return false;
	if (b->select_col < 0)
		return true;
	cell = rec->fields[b->select_col];
	if (*cell == '\0')
		return o->select_empty;
	return strcmp(cell, o->select_value) == 0;
}

/*
 * The test suite's way to stop a run at a known point, so that what it
 * checks does not depend on timing (tests/test_stop.c). Inert unless both
 * QRPOSTER_TEST_FIFO (a FIFO the test reads) and QRPOSTER_TEST_PAUSE
 * ("PHASE:ROW[,PHASE:ROW...]", ROW a 1-based row of the run or '*' for
 * any) are set: a process reaching a listed point writes "ROLE PHASE ROW
 * PID" to the FIFO and stops itself (SIGSTOP) until the test continues it.
 * Phases: check and render (per-row files: the main process before it
 * waits for the row, the worker before it makes it), combine (before the
 * row is drawn), close (before the combined PDF is finished), stopping
 * (the main process, when it first acts on a stop request).
 */
void
bt_test_pause(const batch *b, const char *role, const char *phase,
    size_t n)
{
	size_t pl = strlen(phase);
	const char *p = b->pause_at;
	char line[128];
	int fd, len;

	if (p == NULL || b->pause_fifo == NULL)
		return;
	for (;;) {
		if (strncmp(p, phase, pl) == 0 && p[pl] == ':') {
			const char *v = p + pl + 1;
			char *end;
			unsigned long want = strtoul(v, &end, 10);
			if (*v == '*' || (end != v && want == n))
				break;
		}
		if ((p = strchr(p, ',')) == NULL)
			return;
		p++;
	}
	len = snprintf(line, sizeof line, "%s %s %zu %ld\n", role, phase, n,
	    (long)getpid());
	if ((fd = open(b->pause_fifo, O_WRONLY | O_CLOEXEC)) < 0)
		return;
	(void)!write(fd, line, (size_t)len);
	close(fd);
	raise(SIGSTOP);
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
		/* Stop-aware: standard input may never end. */
		struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0},
		    {qp_stop_fd(b->h->stop), POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			n = -1;
		else if (bt_stopping(b)) {
			close(fd);
			return true; /* the caller sees the stop */
		} else if (p[0].revents == 0)
			continue;
		else
			n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
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
	int r = 0;

	if ((b->t = t = qp_template_load(o->template_path, err)) == NULL ||
	    !qp_fonts_add_template(t, err))
		return false;
	qp_outfile_protect(o->template_path, "the template");
	b->bind = qp_binding_new(t);
	if (o->profile) {
		qp_diag_list dl;
		bool ok;

		qp_diag_list_init(&dl);
		ok = qp_profile_logo(o->profile, t, err) &&
		    qp_binding_profile(b->bind, o->profile, &dl, err);
		for (size_t i = 0; ok && i < dl.n; i++)
			bt_note(b, "%s: warning: %s", o->profile->path,
			    dl.v[i].msg);
		qp_diag_list_clear(&dl);
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < o->nsets; i++)
		if (!qp_binding_set_err(b->bind, o->sets[i], err))
			return false;
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
		/* A value a file name needs is needed like any other. */
		qp_binding_use(b->bind, b->pattern);
	}
	if (o->combine) {
		b->combine_path = o->shard_n > 1 ? shard_suffix(o->combine,
		    ".pdf", o->shard_k, o->shard_n) : qp_xstrdup(o->combine);
		if (!qp_check_output_dir(b->combine_path, err))
			return false;
	}
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
		if (bt_stopping(b))
			return true;
	} else {
		b->data_path = qp_xstrdup(o->data);
		b->data_name = qp_xstrdup(o->data);
		qp_outfile_protect(o->data, "the CSV data");
	}
	if (!bt_make_run_id(b, err))
		return false;
	if ((d = bt_open_data(b, err)) == NULL)
		return false;
	if (o->select_column &&
	    (b->select_col = qp_data_col_index(d, o->select_column)) < 0) {
		qp_fail(err, "%s:1: no column '%s' to pick the rows of '%s' by",
		    b->data_name, o->select_column, o->select_value);
		bt_close_data(d);
		return false;
	}
	{
		qp_diag_list dl;
		const qp_diag *e;

		qp_diag_list_init(&dl);
		qp_binding_columns(b->bind, d, &dl);
		if ((e = qp_diag_first_error(&dl)) != NULL) {
			qp_fail(err, "%s:1: %s", b->data_name, e->msg);
			if (e->code == QP_D_COLUMN_MISSING)
				qp_error_hint(err, QP_HINT_UNSET, 0,
				    e->vars[0]);
			qp_diag_list_clear(&dl);
			bt_close_data(d);
			return false;
		}
		for (size_t i = 0; i < dl.n; i++)
			/* The column that picks the rows is no variable. */
			if (!(dl.v[i].code == QP_D_COLUMN_UNUSED &&
			    o->select_column && dl.v[i].column &&
			    strcmp(dl.v[i].column, o->select_column) == 0))
				bt_note(b, "%s:1: warning: %s", b->data_name,
				    dl.v[i].msg);
		qp_diag_list_clear(&dl);
	}
	/* Count the shard's rows; this also finds any CSV syntax error
	 * before a single file is written. */
	while (!bt_stopping(b) && (r = qp_data_next(d, &rec, err)) == 1)
		if (bt_row_in_run(b, &rec))
			b->total++;
	bt_close_data(d);
	if (r < 0)
		return false;
	b->st->rows = b->total;
	return true;
}

/* ---- one row ----------------------------------------------------------- */

void
bt_row_fail(const batch *b, size_t line, const qp_diag_list *dl,
    qp_error *err)
{
	qp_buf m;

	qp_buf_init(&m);
	qp_diag_summary(dl, &m);
	qp_fail(err, "%s:%zu: %s", b->data_name, line, m.data);
	qp_buf_free(&m);
}

void
bt_row_free(row *r, size_t nqr)
{
	qp_values_free(&r->vals);
	free(r->file);
	if (r->payloads)
		for (size_t i = 0; i < nqr; i++)
			free(r->payloads[i]);
	free(r->payloads);
	qp_diag_list_clear(&r->warn);
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
	qp_values_init(&r->vals, t);
	r->values = r->vals.v;
	{
		qp_diag_list dl;
		bool ok;

		qp_diag_list_init(&dl);
		if (!(ok = qp_binding_bind(b->bind, rec, &r->vals, &dl)))
			bt_row_fail(b, rec->line, &dl, err);
		else /* warnings only: noted with the poster's (batch_worker.c) */
			qp_diag_list_move(&r->warn, &dl);
		qp_diag_list_clear(&dl);
		if (!ok)
			return false;
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
	b.select_col = -1;
	if ((o->pattern == NULL) == (o->combine == NULL))
		return qp_fail(err, "a batch writes either a file per row (an "
		    "output pattern) or one combined PDF, not both or neither");
	if (o->impose.cols && o->combine == NULL)
		return qp_fail(err, "imposing needs a combined PDF");
	b.pause_at = getenv("QRPOSTER_TEST_PAUSE");
	b.pause_fifo = getenv("QRPOSTER_TEST_FIFO");
	/* The test suite's too: parts of a combined run this many rows
	 * long, so that a run of a few rows has parts drawn by every worker
	 * (tests/test_stop.c). */
	{
		const char *pr = getenv("QRPOSTER_TEST_PART_ROWS");
		long v;
		if (pr && qp_parse_int(pr, 1, 1000000, &v))
			b.test_part_rows = (size_t)v;
	}
	if (!setup(&b, err))
		goto done;
	if (bt_stopping(&b)) {
		/* Stopped before any row: nothing was written. */
		st->interrupted = true;
		ok = true;
		goto done;
	}
	b.jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
	if ((size_t)b.jobs > b.total)
		b.jobs = b.total ? (int)b.total : 1;
	if (b.total == 0 && o->select_column) {
		/* One template of several has no rows (in this shard):
		 * nothing to make, and nothing wrong. */
		ok = true;
		goto done;
	}
	if (b.total == 0) {
		qp_fail(err, "%s: no rows%s", b.data_name, o->shard_n > 1 ?
		    " in this shard" : "");
		goto done;
	}
	ok = o->combine ? bt_run_combined(&b, err) : bt_run_files(&b, err);
done:
	qp_binding_free(b.bind);
	qp_template_free(b.t);
	qp_tstr_free(b.pattern);
	free(b.qrdata);
	free(b.data_path);
	free(b.data_name);
	free(b.manifest_path);
	free(b.combine_path);
	if (b.spool_fd >= 0)
		close(b.spool_fd);
	return ok;
}
