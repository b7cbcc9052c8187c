/*
 * batch_worker.c - per-row files, made by forked worker processes; the
 * parent collects their results in CSV order.
 */
#define _GNU_SOURCE
#include "batch_int.h"

/* ---- worker protocol ------------------------------------------------- */

/* A result: NF NUL-terminated fields in one message (batch_crew.c). */
enum { F_STATUS, F_FILE, F_PAGE, F_PAYLOAD, F_CODE, F_SHA, F_KEY, F_MSG,
    F_LINE, F_INDEX, NF };

static bool
send_result(int fd, const char *const *f)
{
	qp_buf m;
	bool ok;

	qp_buf_init(&m);
	for (int i = 0; i < NF; i++) {
		qp_buf_adds(&m, f[i] ? f[i] : "");
		qp_buf_addc(&m, '\0');
	}
	ok = bt_crew_send(fd, &m);
	qp_buf_free(&m);
	return ok;
}

static void
split_result(const char *data, size_t len, const char **f)
{
	size_t off = 0;

	for (int i = 0; i < NF; i++) {
		f[i] = off < len ? data + off : "";
		off += strlen(f[i]) + 1;
	}
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
	/* An "ok" row carries its warnings for the parent to note. */
	f[F_MSG] = strcmp(status, "ok") == 0 && w->notes && w->notes->len ?
	    w->notes->data : msg;
	f[F_LINE] = line;
	f[F_INDEX] = index;
	send_result(w->out, f);
	if (w->notes)
		qp_buf_reset(w->notes);
}

void
bt_worker_clear(worker *w)
{
	for (size_t i = 0; i < w->nwarned; i++)
		free(w->warned[i]);
	free(w->warned);
	w->warned = NULL;
	w->nwarned = 0;
}

/*
 * A row's warnings (its values' and its poster's), each (code, block)
 * noted once: most are the template's (a size.min below min_text_size),
 * the same on every row. In a worker process they go to the parent with
 * the row (w->notes), which notes each once for the whole run; this
 * process's list only saves sending the same one again.
 */
static void
note_warnings(worker *w, const row *r, const qp_diag_list *dl)
{
	const batch *b = w->b;

	for (size_t i = 0; i < dl->n; i++) {
		const qp_diag *d = &dl->v[i];
		char *key;
		size_t k;

		if (d->sev != QP_DIAG_WARNING)
			continue;
		key = qp_xasprintf("%s %s", qp_code_name(d->code),
		    d->block ? d->block : "");
		for (k = 0; k < w->nwarned; k++)
			if (strcmp(w->warned[k], key) == 0)
				break;
		if (k < w->nwarned) {
			free(key);
			continue;
		}
		w->warned = qp_xrealloc(w->warned, (w->nwarned + 1) *
		    sizeof *w->warned);
		w->warned[w->nwarned++] = key;
		if (w->notes) {
			char *msg = qp_xasprintf("%s:%zu: warning: %s (noted "
			    "once)", b->data_name, r->line, d->msg);

			/* One line each: a message's own line breaks are
			 * spaces here. */
			for (char *c = msg; *c; c++)
				if (*c == '\n' || *c == '\x1f')
					*c = ' ';
			qp_buf_adds(w->notes, key);
			qp_buf_addc(w->notes, '\x1f');
			qp_buf_adds(w->notes, msg);
			qp_buf_addc(w->notes, '\n');
			free(msg);
		} else
			bt_note(b, "%s:%zu: warning: %s (noted once)",
			    b->data_name, r->line, d->msg);
	}
}

qp_page *
bt_row_layout(worker *w, const row *r, bool verify, bool checked,
    qp_error *err)
{
	const batch *b = w->b;
	qp_check_opts co = {.bleed = b->o->render.bleed,
	    .laws = b->o->laws, .nlaws = b->o->nlaws};
	qp_diag_list dl;
	qp_page *page;

	/* The poster step: layout and every check (poster.h); a row whose
	 * poster would fail on the wall is a bad row. */
	qp_diag_list_init(&dl);
	if (checked)
		page = qp_poster_relayout(w->ctx, b->t, &r->vals, &dl);
	else
		page = qp_poster_page(w->ctx, b->t, &r->vals, &co, &dl);
	if (page == NULL)
		bt_row_fail(b, r->line, &dl, err);
	else if (!checked) {
		note_warnings(w, r, &r->warn);
		note_warnings(w, r, &dl);
	}
	qp_diag_list_clear(&dl);
	if (page == NULL)
		return NULL;
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
	if (!qp_file_sha256(r->file, sha, &err))
		return false;
	return strcmp(sha, bt_old_field(om, old, 6)) == 0;
}

/*
 * A worker's life: check its rows (phase A), wait for the go-ahead, make
 * them (phase B). Row p of the shard is worker p % N's. Before each row
 * of its own it looks for the parent's word: a stop ends it there.
 */
static void
worker_main(batch *b, int id, int fd)
{
	worker w = {.b = b, .out = fd};
	qp_data *d = NULL;
	qp_record rec;
	qp_error err;
	old_manifest om;
	bool layout = b->o->check && !b->o->keep_going, stop = false;
	size_t pos = 0;
	qp_buf notes;

	qp_buf_init(&notes);
	w.notes = &notes;
	w.ctx = qp_layout_ctx_new();
	if (b->o->verify)
		w.ver = qp_verifier_new();
	if (b->fmt == QP_FMT_PNG)
		w.raster = qp_raster_new();
	for (int phase = 0; phase < 2 && !stop; phase++) {
		if ((d = bt_open_data(b, &err)) == NULL)
			_exit(1);
		if (phase == 1)
			bt_old_open(&om, b->manifest_path);
		pos = 0;
		while (qp_data_next(d, &rec, &err) == 1) {
			row rw;
			char sha[65] = "";
			qp_page *page;

			if (!bt_row_in_run(b, &rec))
				continue;
			if (bt_crew_owner(pos++, 1, b->jobs) != id)
				continue;
			if (bt_crew_heard(fd, false) == 's') {
				stop = true;
				break;
			}
			bt_test_pause(b, "worker", phase ? "render" : "check",
			    pos);
			if (!bt_row_prepare(b, &rec, pos - 1, &rw, &err)) {
				send_row(&w, &rw, "error", "", "", err.msg);
				bt_row_free(&rw, b->nqr);
				continue;
			}
			if (phase == 0) {
				if (layout && (page = bt_row_layout(&w, &rw,
				    b->o->verify, false, &err)) == NULL)
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
			    b->o->verify && !layout, false, &err)) == NULL) {
				send_row(&w, &rw, "error", "", "", err.msg);
			} else {
				bool ok = make_parent_dirs(rw.file, b->fixed_dir, &err) &&
				    qp_render_file_r(page, rw.file, b->fmt,
				    &b->o->render, w.raster, &err) &&
				    qp_file_sha256(rw.file, sha, &err);
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
		/* The parent's verdict on the whole run: 'g' or a stop. */
		if (phase == 0 && !stop && bt_crew_heard(fd, true) != 'g')
			stop = true;
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

/* What the parent knows of the run in hand. */
typedef struct run {
	batch *b;
	crew c;
	manifest m;
	pending *pv;           /* results read out of order, at the end */
	size_t np, cap;
} run;

/* A result read after the parent stopped reading in CSV order. */
static void
keep_result(void *arg, int i, const qp_buf *msg)
{
	run *r = arg;
	const char *f[NF];
	long idx;

	(void)i;
	split_result(msg->data, msg->len, f);
	if (!qp_parse_int(f[F_INDEX], 0, LONG_MAX, &idx))
		return;
	r->pv = qp_grow(r->pv, &r->cap, r->np + 1, sizeof *r->pv);
	r->pv[r->np].index = (size_t)idx;
	r->pv[r->np].data = qp_xmalloc(msg->len + 1);
	memcpy(r->pv[r->np].data, msg->data, msg->len + 1);
	r->pv[r->np].len = msg->len;
	r->np++;
}

/*
 * After a stop the parent has recorded rows in order up to the first a
 * worker did not finish; other workers may have finished later rows
 * (their files are in place) before they left. Every result still in the
 * sockets was read by bt_crew_finish (keep_result); record them in CSV
 * order, so the manifest lists exactly the files there are.
 */
static void
record_kept(run *r)
{
	const char *f[NF];

	if (r->np > 1)
		qsort(r->pv, r->np, sizeof *r->pv, pending_cmp);
	for (size_t k = 0; k < r->np; k++) {
		split_result(r->pv[k].data, r->pv[k].len, f);
		if (r->m.open)
			record_result(r->b, &r->m, f);
		free(r->pv[k].data);
	}
	free(r->pv);
	r->pv = NULL;
	r->np = r->cap = 0;
}

/*
 * A worker left that should not have: say which, how, and what it had in
 * hand; clean up after it. False with err set.
 */
static bool
worker_lost(run *r, int left, bool making, qp_error *err)
{
	char *file = NULL;

	bt_crew_lost(&r->c, left, making ? "making" : "checking", making ?
	    "every file made is complete and in the manifest; run the same "
	    "command again to make the rest" : "nothing was written",
	    making ? &file : NULL, err);
	if (file)
		qp_outfile_remove_left(file);
	free(file);
	return false;
}

bool
bt_run_files(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	run r;
	clash *names = NULL;
	size_t nerr = 0, nclash = 0, pos;
	qp_buf buf;
	bool ok = false;
	const char *f[NF];

	memset(&r, 0, sizeof r);
	r.b = b;
	qp_buf_init(&buf);
	if (!bt_crew_start(&r.c, b, b->jobs, worker_main, err))
		goto done;
	/* Phase A: every row checked and named; nothing written yet. */
	names = qp_xcalloc(b->total + 1, sizeof *names);
	for (pos = 0; pos < b->total && !bt_stopping(b); pos++) {
		long line;

		bt_test_pause(b, "main", "check", pos + 1);
		if (!bt_crew_recv(&r.c, bt_crew_whose(&r.c, pos), &buf))
			break;
		split_result(buf.data, buf.len, f);
		if (strcmp(f[F_STATUS], "error") == 0) {
			nerr++;
			/* With keep_going the row is reported once, when the
			 * manifest records it. */
			if (!o->keep_going)
				bt_row_error(b, f[F_MSG]);
			bt_progress(b, "checking", pos + 1);
			continue;
		}
		bt_crew_note(&r.c, f[F_MSG]);
		qp_parse_int(f[F_LINE], 0, LONG_MAX, &line);
		names[nclash].h = name_hash(f[F_FILE]);
		names[nclash++].line = (size_t)line;
		bt_progress(b, "checking", pos + 1);
	}
	if (pos < b->total) {
		bt_crew_finish(&r.c, NULL, NULL, &buf);
		if (bt_stopping(b) && bt_crew_casualty(&r.c, NULL, 0) < 0) {
			b->st->interrupted = true;
			ok = true;
		} else
			worker_lost(&r, bt_crew_whose(&r.c, pos), false, err);
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
	if (!bt_manifest_open(&r.m, b, err))
		goto done;
	for (int i = 0; i < r.c.n; i++)
		r.c.owed[i] = (size_t)i; /* phase B sends every row again */
	bt_crew_tell(&r.c, 'g');
	for (pos = 0; pos < b->total && !bt_stopping(b); pos++) {
		bt_test_pause(b, "main", "render", pos + 1);
		if (!bt_crew_recv(&r.c, bt_crew_whose(&r.c, pos), &buf))
			break;
		split_result(buf.data, buf.len, f);
		if (strcmp(f[F_STATUS], "ok") == 0)
			bt_crew_note(&r.c, f[F_MSG]);
		record_result(b, &r.m, f);
		bt_progress(b, "rendering", pos + 1);
	}
	/* Whatever the workers finished before they left is recorded. */
	bt_crew_finish(&r.c, keep_result, &r, &buf);
	record_kept(&r);
	if (bt_crew_casualty(&r.c, NULL, 0) >= 0 ||
	    (pos < b->total && !bt_stopping(b))) {
		qp_error e2;
		worker_lost(&r, bt_crew_whose(&r.c, pos), true, err);
		if (bt_manifest_close(&r.m, NULL, &e2))
			snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
			    b->manifest_path);
		goto done;
	}
	if (pos < b->total)
		b->st->interrupted = true;
	if (!bt_manifest_close(&r.m, NULL, err))
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
	bt_crew_finish(&r.c, NULL, NULL, &buf);
	record_kept(&r);
	bt_manifest_abort(&r.m);
	free(names);
	qp_buf_free(&buf);
	return ok;
}
