/*
 * batch_worker.c - per-row files, made by forked worker processes; the
 * parent collects their results in CSV order.
 */
#define _GNU_SOURCE
#include "batch_int.h"

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
		if (bt_stopping(b) && !forwarded && pids) {
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


const char *
bt_row_code(const batch *b, const row *r)
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
	f[F_CODE] = r->values ? bt_row_code(w->b, r) : "";
	f[F_SHA] = sha;
	f[F_KEY] = r->key;
	f[F_MSG] = msg;
	f[F_LINE] = line;
	f[F_INDEX] = index;
	send_result(w->out, f);
}

qp_page *
bt_row_layout(worker *w, const row *r, bool verify, qp_error *err)
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
		qp_error_prefix(err, "%s:%zu: verifying the QR code",
		    b->data_name, r->line);
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

	if (b->o->force || (old = bt_old_find(om, r->index)) == NULL)
		return false;
	if (strcmp(bt_old_field(om, old, 7), "ok") != 0 ||
	    strcmp(bt_old_field(om, old, 8), r->key) != 0 ||
	    strcmp(bt_old_field(om, old, 3), r->file) != 0)
		return false;
	if (!bt_sha256_file(r->file, sha, &err))
		return false;
	return strcmp(sha, bt_old_field(om, old, 6)) == 0;
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
		if ((d = bt_open_data(b, &err)) == NULL)
			_exit(1);
		if (phase == 1)
			bt_old_open(&om, b->manifest_path);
		pos = 0;
		while (!bt_stopping(b) && (r = qp_data_next(d, &rec, &err)) == 1) {
			row rw;
			char sha[65] = "";
			qp_page *page;

			if ((long)(rec.index % (size_t)b->o->shard_n) !=
			    b->o->shard_k - 1)
				continue;
			if (pos++ % (size_t)b->jobs != (size_t)id)
				continue;
			if (!bt_row_prepare(b, &rec, pos - 1, &rw, &err)) {
				send_row(&w, &rw, "error", "", "", err.msg);
				bt_row_free(&rw, b->nqr);
				continue;
			}
			if (phase == 0) {
				if (layout && (page = bt_row_layout(&w, &rw,
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
			} else if ((page = bt_row_layout(&w, &rw,
			    b->o->verify && !layout, &err)) == NULL) {
				send_row(&w, &rw, "error", "", "", err.msg);
			} else {
				bool ok = make_parent_dirs(rw.file, b->fixed_dir, &err) &&
				    qp_render_file_r(page, rw.file, b->fmt,
				    &b->o->render, w.raster, &err) &&
				    bt_sha256_file(rw.file, sha, &err);
				if (!ok)
					qp_error_prefix(&err, "%s:%zu",
					    b->data_name, rw.line);
				send_row(&w, &rw, ok ? "ok" : "error", "1", sha,
				    ok ? "" : err.msg);
				qp_page_free(page);
			}
			bt_row_free(&rw, b->nqr);
		}
		bt_close_data(d);
		if (phase == 1)
			bt_old_close(&om);
		if (phase == 0) {
			/* Wait for the parent's verdict on the whole run. */
			ssize_t n;
			do {
				n = read(ctl, &go, 1);
			} while (n < 0 && errno == EINTR && !bt_stopping(b));
			if (n != 1 || go != 'g' || bt_stopping(b))
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

void
bt_row_error(const batch *b, const char *msg)
{
	if (b->h->row_error)
		b->h->row_error(b->h->arg, msg);
}

void
bt_progress(const batch *b, const char *phase, size_t done)
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
	bt_manifest_add(m, mf);
	free(status);
}

/* Count a worker's result and add its manifest line. */
static void
record_result(batch *b, manifest *m, const char *const *f)
{
	if (strcmp(f[F_STATUS], "error") == 0) {
		b->st->failed++;
		bt_row_error(b, f[F_MSG]);
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

bool
bt_run_files(batch *b, qp_error *err)
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
				bt_row_error(b, f[F_MSG]);
			bt_progress(b, "checking", pos + 1);
			continue;
		}
		qp_parse_int(f[F_LINE], 0, LONG_MAX, &line);
		names[nclash].h = name_hash(f[F_FILE]);
		names[nclash++].line = (size_t)line;
		bt_progress(b, "checking", pos + 1);
	}
	if (pos < b->total) {
		if (bt_stopping(b)) {
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
				bt_row_error(b, msg);
				clashes++;
			}
		if (clashes) {
			qp_fail(err, "%zu row%s would overwrite another's "
			    "output; make the output pattern '%s' distinct "
			    "(e.g. add another column); nothing was written",
			    clashes,
			    clashes == 1 ? "" : "s", o->pattern);
			goto done;
		}
	}
	if (nerr && !o->keep_going) {
		qp_fail(err, "%zu of %zu row%s %s errors; nothing was written",
		    nerr, b->total, b->total == 1 ? "" : "s",
		    nerr == 1 ? "has" : "have");
		qp_error_hint(err, QP_HINT_KEEP_GOING, (long)nerr, NULL);
		goto done;
	}
	if (bt_stopping(b)) {
		b->st->interrupted = true;
		ok = true;
		goto done;
	}
	/* Phase B. */
	if (!bt_manifest_open(&m, b, err))
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
		bt_progress(b, "rendering", pos + 1);
	}
	if (pos < b->total) {
		if (!bt_stopping(b)) {
			qp_fail(err, "a worker stopped unexpectedly");
			bt_manifest_abort(&m);
			goto done;
		}
		b->st->interrupted = true;
		drain_results(b, &m, out, pids, &buf);
	}
	if (!bt_manifest_close(&m, NULL, err))
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
	bt_manifest_abort(&m);
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
