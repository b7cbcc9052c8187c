/*
 * batch_combined.c - the whole run in one PDF (optionally imposed
 * several posters to a sheet).
 *
 * Why the work is split as it is. A combined PDF is drawn as a series of
 * documents, its parts (pdfrun.h), which pdfjoin joins into the one file.
 * A run of posters breaks its parts at fixed rows. So with -j N (N > 1)
 * each of N worker processes lays out, checks and draws whole parts of
 * its own (part k is worker k % N's, see parts_worker below), and the
 * parent reads the rows' results in CSV order, writes the manifest and
 * joins the parts. Layout and drawing are deterministic and a part is a
 * document of its own, so the file has the same bytes for any N; -j 1
 * draws the same parts in one process.
 *
 * Measured on the 540 shared stations (2 cores, tests/bench): the parts
 * design gives -j 2 2.2x the bare-library reference, where the one
 * before it gave 1.9x. That one (still used for imposed sheets and
 * print files, below) had the workers lay out and check, and send each
 * text's fitted size and each QR symbol to the parent, which laid each
 * row out again at those sizes and drew every page: drawing, the second
 * layout and the join were all in one process, two thirds of a run's
 * instructions, so the second core had too little to do. A part costs
 * its fonts and forms once more (about 17 KB), which is why parts are
 * few (4 for a run of 400 to 4,000 rows, one a 1,000 rows beyond; see
 * qp_pdf_run_part_rows).
 *
 * Imposed sheets fill across rows (a sheet's posters are whatever rows
 * made pages before it), and a print file is one document that
 * Ghostscript converts (pdfrun.h): for those the parent draws every page,
 * from what its workers found (row_page): laid out again at the sizes
 * they sent with the QR symbols they sent (one Pango layout per text, no
 * encoding; see qp_layout_known). Sending the finished display list
 * instead would need PangoLayouts (font maps, shaped glyph runs) to cross
 * a process boundary; sizes and modules are a few hundred bytes.
 */
#define _GNU_SOURCE
#include "batch_int.h"
#include "pdfrun.h"

/* ---- workers that lay out and check ------------------------------------ */

/*
 * A worker's result for one row: "ok" or "error", the row's CSV index and
 * the error message as NUL-terminated text, then (for "ok") the text
 * sizes and QR symbols of qp_layout_known, in binary (the same program on
 * the same machine reads it): each symbol's version, width, ECC level
 * and ECI flag, then its dark and function-pattern modules (qp_qr).
 */
enum { C_STATUS, C_INDEX, C_MSG, NCF };

/* An object's bytes into a message. */
static void
put(qp_buf *m, const void *p, size_t n)
{
	qp_buf_add(m, p, n);
}

static void
send_layout(int fd, const row *rw, const qp_page *page, const char *msg)
{
	qp_buf m;
	char index[32];
	uint32_t ns = 0, nq = 0;

	qp_buf_init(&m);
	snprintf(index, sizeof index, "%zu", rw->index);
	qp_buf_adds(&m, page ? "ok" : "error");
	qp_buf_addc(&m, '\0');
	qp_buf_adds(&m, index);
	qp_buf_addc(&m, '\0');
	qp_buf_adds(&m, msg ? msg : "");
	qp_buf_addc(&m, '\0');
	for (size_t i = 0; page && i < page->nitems; i++) {
		ns += page->items[i].kind == QP_ITEM_TEXT;
		nq += page->items[i].kind == QP_ITEM_QR;
	}
	put(&m, &ns, sizeof ns);
	for (size_t i = 0; page && i < page->nitems; i++)
		if (page->items[i].kind == QP_ITEM_TEXT)
			put(&m, &page->items[i].font_size, sizeof(double));
	put(&m, &nq, sizeof nq);
	for (size_t i = 0; page && i < page->nitems; i++) {
		const qp_qr *q = page->items[i].qr;
		int32_t h[4];

		if (page->items[i].kind != QP_ITEM_QR)
			continue;
		h[0] = q->version;
		h[1] = q->width;
		h[2] = q->ecc;
		h[3] = q->eci;
		put(&m, h, sizeof h);
		put(&m, q->dark, (size_t)q->width * (size_t)q->width);
		put(&m, q->func, (size_t)q->width * (size_t)q->width);
	}
	bt_crew_send(fd, &m);
	qp_buf_free(&m);
}

/* A worker process's start, whichever its work: its layout context, the
 * warnings it keeps for the parent to note (bt_crew_note), its verifier,
 * its own reader of the CSV (it leaves at once without one). */
static qp_data *
worker_begin(batch *b, int fd, worker *w, qp_buf *notes)
{
	qp_data *d;
	qp_error err;

	memset(w, 0, sizeof *w);
	w->b = b;
	w->ctx = qp_layout_ctx_new();
	w->out = fd;
	qp_buf_init(notes);
	w->notes = notes;
	if (b->o->verify)
		w->ver = qp_verifier_new();
	if ((d = bt_open_data(b, &err)) == NULL)
		_exit(1);
	return d;
}

static void
worker_end(worker *w, qp_data *d, qp_buf *notes)
{
	bt_close_data(d);
	qp_verifier_free(w->ver);
	qp_layout_ctx_free(w->ctx);
	qp_buf_free(notes);
}

/* A worker's life: lay out and check its rows, send what drawing needs. */
static void
combined_worker(batch *b, int id, int fd)
{
	worker w;
	qp_buf notes;
	qp_data *d = worker_begin(b, fd, &w, &notes);
	qp_record rec;
	qp_error err;
	size_t pos = 0;

	while (qp_data_next(d, &rec, &err) == 1) {
		row rw;
		qp_page *page = NULL;

		if (!bt_row_in_run(b, &rec))
			continue;
		if (bt_crew_owner(pos++, 1, b->jobs) != id)
			continue;
		if (bt_crew_heard(fd, false) == 's')
			break;
		bt_test_pause(b, "worker", "combine", pos);
		if (bt_row_prepare(b, &rec, pos - 1, &rw, &err))
			page = bt_row_layout(&w, &rw, b->o->verify, false,
			    &err);
		send_layout(fd, &rw, page, page ? notes.data : err.msg);
		qp_buf_reset(&notes);
		qp_page_free(page);
		bt_row_free(&rw, b->nqr);
	}
	worker_end(&w, d, &notes);
	_exit(0);
}

/* What a worker's "ok" says, into k (whose QR symbols are then ours);
 * false if the message is malformed. */
static bool
read_known(const qp_buf *m, qp_layout_known *k, double **sizes)
{
	const char *p = m->data, *end = m->data + m->len;
	uint32_t n;

	memset(k, 0, sizeof *k);
	*sizes = NULL;
	for (int i = 0; i < NCF; i++)
		p += strnlen(p, (size_t)(end - p)) + 1;
	if (p + sizeof n > end)
		return false;
	memcpy(&n, p, sizeof n);
	p += sizeof n;
	if ((size_t)(end - p) / sizeof(double) < n)
		return false;
	*sizes = qp_xcalloc(n + 1, sizeof **sizes);
	memcpy(*sizes, p, n * sizeof(double));
	p += n * sizeof(double);
	k->sizes = *sizes;
	k->nsizes = n;
	if (p + sizeof n > end)
		return false;
	memcpy(&n, p, sizeof n);
	p += sizeof n;
	k->qrs = qp_xcalloc(n + 1, sizeof *k->qrs);
	for (uint32_t i = 0; i < n; i++) {
		int32_t h[4];
		qp_qr *q;
		size_t cells;

		if (p + sizeof h > end)
			return false;
		memcpy(h, p, sizeof h);
		p += sizeof h;
		cells = (size_t)h[1] * (size_t)h[1];
		if (h[1] < 21 || h[1] > 177 || (size_t)(end - p) / 2 < cells)
			return false;
		q = qp_xcalloc(1, sizeof *q);
		q->version = h[0];
		q->width = h[1];
		q->ecc = h[2];
		q->eci = h[3] != 0;
		q->dark = qp_xmalloc(cells);
		memcpy(q->dark, p, cells);
		p += cells;
		q->func = qp_xmalloc(cells);
		memcpy(q->func, p, cells);
		p += cells;
		k->qrs[k->nqrs++] = q;
	}
	return p == end;
}

static void
free_known(qp_layout_known *k, double *sizes)
{
	for (size_t i = 0; i < k->nqrs; i++)
		qp_qr_free(k->qrs[i]);
	free(k->qrs);
	free(sizes);
	memset(k, 0, sizeof *k);
}

/* ---- workers that draw parts of their own ------------------------------ */

/*
 * With -j N (N > 1) for a combined run of posters (not imposed, not a
 * print file), each worker lays out, checks and draws whole parts: the
 * run breaks into parts at fixed rows (pdfrun.h: qp_pdf_run_part_rows,
 * from the row count alone), part k is worker k % N's, and each part is
 * a document of its own, committed under the name the run gives it. Per
 * row, in CSV order, the worker sends the row's result; with the last
 * row of a part, what the part lacks (its links and print boxes, for
 * pdfjoin to add). The parent writes the manifest and joins the parts.
 * A part is the same bytes whoever draws it, so the file is the same for
 * any N, -j 1 included (which breaks its parts at the same rows).
 *
 * A finished part is a temporary until the parent joins it, and someone
 * must remove it if the run stops: the worker lists it among its own
 * temporaries (removed if it is told to abandon or its parent dies) and
 * removes its parts when it leaves on a stop; the parent lists each part
 * it takes among its own (removed if a stop ends it at once). Only when
 * the parent has read every row does it tell the workers ('k') that it
 * has all their parts: so a worker that has sent its last row waits for
 * the parent's word, and leaves its parts only on that one.
 */
static const qp_pdf_run *parts_run; /* what the workers draw parts of */
static size_t part_rows;            /* rows per part */
static size_t part_workers;         /* no more than there are parts */

/* The part a row's result carries: its number, then the qp_pdf_finish. */
static void
put_part(qp_buf *m, size_t k, const qp_pdf_finish *f)
{
	uint64_t n = k, nl = f->nlinks;
	uint8_t boxes = f->boxes;

	put(m, &n, sizeof n);
	put(m, &boxes, 1);
	put(m, &f->trim_inset, sizeof(double));
	put(m, &f->bleed_inset, sizeof(double));
	put(m, &nl, sizeof nl);
	for (size_t i = 0; i < f->nlinks; i++) {
		const qp_pdf_link *l = &f->links[i];
		uint64_t page = l->page, len = strlen(l->uri);
		double r[4] = {l->x0, l->y0, l->x1, l->y1};

		put(m, &page, sizeof page);
		put(m, r, sizeof r);
		put(m, &len, sizeof len);
		put(m, l->uri, (size_t)len);
	}
}

/* The result of a row for parts: "ok", "error" (the row's) or "fatal"
 * (the worker's: it could not write), the index, the message, and 1 and
 * the part it finished, or 0. */
static bool
send_part_row(int fd, size_t index, const char *status, const char *msg,
    const size_t *k, const qp_pdf_finish *f)
{
	qp_buf m;
	char num[32];
	uint8_t has = k != NULL;
	bool ok;

	qp_buf_init(&m);
	snprintf(num, sizeof num, "%zu", index);
	qp_buf_adds(&m, status);
	qp_buf_addc(&m, '\0');
	qp_buf_adds(&m, num);
	qp_buf_addc(&m, '\0');
	qp_buf_adds(&m, msg ? msg : "");
	qp_buf_addc(&m, '\0');
	put(&m, &has, 1);
	if (k)
		put_part(&m, *k, f);
	ok = bt_crew_send(fd, &m);
	qp_buf_free(&m);
	return ok;
}

static void
parts_worker(batch *b, int id, int fd)
{
	worker w;
	qp_buf notes;
	qp_data *d = worker_begin(b, fd, &w, &notes);
	qp_record rec;
	qp_error err;
	qp_pdf_doc *doc = NULL;
	size_t pos = 0;
	bool heard = false, gone = false;

	while (!gone && qp_data_next(d, &rec, &err) == 1) {
		row rw;
		qp_page *page = NULL;
		qp_pdf_finish f = {0};
		qp_error derr;
		const char *status = "ok", *msg;
		size_t p, k;
		bool done_part = false;

		if (!bt_row_in_run(b, &rec))
			continue;
		p = pos++;
		k = p / part_rows;
		if (bt_crew_owner(p, part_rows, (int)part_workers) != id)
			continue;
		if (bt_crew_heard(fd, false) == 's') {
			heard = true;
			break;
		}
		bt_test_pause(b, "worker", "combine", pos);
		if (bt_row_prepare(b, &rec, p, &rw, &err))
			page = bt_row_layout(&w, &rw, b->o->verify, false,
			    &err);
		msg = page ? notes.data : err.msg;
		if (page == NULL)
			status = "error";
		else {
			if (doc == NULL) {
				char *name = qp_pdf_run_part_name(parts_run, k);
				doc = qp_pdf_doc_open(name, &b->o->render, &derr);
				free(name);
			}
			if (doc == NULL || !qp_pdf_doc_add(doc, page, &derr)) {
				qp_error_prefix(&derr, "%s", b->combine_path);
				status = "fatal";
				msg = derr.msg;
			}
		}
		if (strcmp(status, "fatal") != 0 && doc &&
		    ((p + 1) % part_rows == 0 || p + 1 == b->total)) {
			qp_pdf_doc *dd = doc;
			doc = NULL;
			if (qp_pdf_doc_close_bare(dd, &f, &derr)) {
				char *name = qp_pdf_run_part_name(parts_run, k);
				(void)qp_outfile_list(name);
				free(name);
				done_part = true;
			} else {
				qp_error_prefix(&derr, "%s", b->combine_path);
				status = "fatal";
				msg = derr.msg;
			}
		}
		gone = !send_part_row(fd, rec.index, status, msg,
		    done_part ? &k : NULL, &f);
		if (done_part)
			qp_pdf_links_free(f.links, f.nlinks);
		qp_buf_reset(&notes);
		qp_page_free(page);
		bt_row_free(&rw, b->nqr);
		if (strcmp(status, "fatal") == 0)
			break;
	}
	qp_pdf_doc_abort(doc);
	worker_end(&w, d, &notes);
	/* The parts are ours to remove until the parent says it has taken
	 * them ('k', once it has read every row): on a stop ('s', now or
	 * before a row) the run writes nothing, and if the parent has gone
	 * nobody else would. */
	if (heard || bt_crew_word(fd) != 'k')
		qp_outfile_unlink_all();
	_exit(0);
}

/* Read the part a worker's message carries (after its three texts), if
 * any, and take it into doc. False with err set if the message is
 * malformed or the part cannot be taken. */
static bool
take_part(const qp_buf *m, qp_pdf_run *doc, const char *where,
    qp_error *err)
{
	const char *p = m->data, *end = m->data + m->len;
	qp_pdf_finish f = {0};
	uint64_t k, nl;
	uint8_t has, boxes;
	bool ok = false;

	for (int i = 0; i < NCF; i++)
		p += strnlen(p, (size_t)(end - p)) + 1;
#define TAKE(dst, n) do { if ((size_t)(end - p) < (n)) goto bad; \
	memcpy((dst), p, (n)); p += (n); } while (0)
	if (p > end)
		goto bad;
	TAKE(&has, 1);
	if (!has)
		return p == end || qp_fail(err, "%s: a worker's message is "
		    "malformed", where);
	TAKE(&k, sizeof k);
	TAKE(&boxes, 1);
	TAKE(&f.trim_inset, sizeof(double));
	TAKE(&f.bleed_inset, sizeof(double));
	TAKE(&nl, sizeof nl);
	f.boxes = boxes != 0;
	if (nl > (size_t)(end - p))
		goto bad;
	f.links = qp_xcalloc((size_t)nl + 1, sizeof *f.links);
	for (; f.nlinks < nl; f.nlinks++) {
		qp_pdf_link *l = &f.links[f.nlinks];
		uint64_t page, len;
		double r[4];

		TAKE(&page, sizeof page);
		TAKE(r, sizeof r);
		TAKE(&len, sizeof len);
		if (len > (size_t)(end - p))
			goto bad;
		l->uri = qp_xstrndup(p, (size_t)len);
		p += len;
		l->page = (size_t)page;
		l->x0 = r[0];
		l->y0 = r[1];
		l->x1 = r[2];
		l->y1 = r[3];
	}
#undef TAKE
	if (p != end)
		goto bad;
	ok = qp_pdf_run_add_part(doc, (size_t)k, &f, err);
	qp_pdf_links_free(f.links, f.nlinks);
	return ok;
bad:
	qp_pdf_links_free(f.links, f.nlinks);
	return qp_fail(err, "%s: a worker's message is malformed", where);
}

/* The drawing process's side of a combined run. */
typedef struct comb {
	batch *b;
	worker w;      /* this process's layout context */
	crew c;
	bool workers;  /* rows are laid out by worker processes */
	bool parts;    /* rows are drawn by worker processes, in parts */
	bool lost;     /* a worker left before its row */
	qp_buf msg;
} comb;

/*
 * With parts: the result of the row at pos (record rec) from the worker
 * whose part it is, and the part it finished if it did: 1 a page (drawn
 * there), 0 the row's error in err, -1 the worker left (c->lost), -2 the
 * run cannot go on (err says why).
 */
static int
part_result(comb *c, qp_pdf_run *doc, const qp_record *rec, size_t pos,
    qp_error *err)
{
	int w = bt_crew_whose(&c->c, pos);
	const char *status, *index, *msg;
	char where[PATH_MAX + 32];
	long idx;

	if (!bt_crew_recv(&c->c, w, &c->msg)) {
		c->lost = true;
		return -1;
	}
	status = c->msg.data;
	index = status + strlen(status) + 1;
	msg = index + strlen(index) + 1;
	snprintf(where, sizeof where, "%s:%zu", c->b->data_name, rec->line);
	if ((size_t)(msg - c->msg.data) > c->msg.len ||
	    !qp_parse_int(index, 0, LONG_MAX, &idx) ||
	    (size_t)idx != rec->index) {
		qp_fail(err, "%s: a worker's result is for another row", where);
		return -2;
	}
	if (!take_part(&c->msg, doc, where, err))
		return -2;
	if (strcmp(status, "fatal") == 0) {
		qp_fail(err, "%s", msg);
		return -2;
	}
	if (strcmp(status, "ok") != 0) {
		qp_fail(err, "%s", msg);
		return 0;
	}
	bt_crew_note(&c->c, msg);
	return 1;
}

/*
 * The page of the row at pos (rw NULL: the row could not be prepared
 * here, err says why): laid out here, or, with workers, rebuilt from
 * what its worker found (whose message is read in any case, to stay in
 * step). NULL with err set for a bad row; c->lost when its worker left.
 */
static qp_page *
row_page(comb *c, const row *rw, size_t pos, qp_error *err)
{
	qp_layout_known k;
	double *sizes;
	const char *status, *index, *msg;
	qp_page *page = NULL;
	long idx;

	if (!c->workers)
		return rw ? bt_row_layout(&c->w, rw, c->b->o->verify, false,
		    err) :
		    NULL;
	if (!bt_crew_recv(&c->c, bt_crew_whose(&c->c, pos), &c->msg)) {
		c->lost = true;
		return NULL;
	}
	if (rw == NULL)
		return NULL;
	status = c->msg.data;
	index = status + strlen(status) + 1;
	msg = index + strlen(index) + 1;
	if (!qp_parse_int(index, 0, LONG_MAX, &idx) ||
	    (size_t)idx != rw->index) {
		qp_fail(err, "%s:%zu: a worker's result is for another row",
		    c->b->data_name, rw->line);
		return NULL;
	}
	if (strcmp(status, "ok") != 0) {
		qp_fail(err, "%s", msg);
		return NULL;
	}
	bt_crew_note(&c->c, msg);
	if (!read_known(&c->msg, &k, &sizes))
		qp_fail(err, "%s:%zu: a worker's message is malformed",
		    c->b->data_name, rw->line);
	else {
		qp_layout_ctx_known(c->w.ctx, &k);
		page = bt_row_layout(&c->w, rw, false, true, err);
		qp_layout_ctx_known(c->w.ctx, NULL);
	}
	free_known(&k, sizes);
	return page;
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
	if (!qp_file_sha256(b->combine_path, sha, err))
		return false;
	if ((d = bt_open_data(b, err)) == NULL)
		return false;
	bt_old_open(&om, b->manifest_path);
	while (same && !bt_stopping(b) &&
	    (r = qp_data_next(d, &rec, err)) == 1) {
		row rw;
		const qp_record *old;

		if (!bt_row_in_run(b, &rec))
			continue;
		if (!bt_row_prepare(b, &rec, n++, &rw, err)) {
			bt_row_free(&rw, b->nqr);
			same = false;
			break;
		}
		old = bt_old_find(&om, rec.index);
		same = old && strcmp(bt_old_field(&om, old, 7), "ok") == 0 &&
		    strcmp(bt_old_field(&om, old, 8), rw.key) == 0 &&
		    strcmp(bt_old_field(&om, old, 6), sha) == 0;
		bt_row_free(&rw, b->nqr);
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
	bt_old_close(&om);
	bt_close_data(d);
	return same && n == b->total;
}

bool
bt_run_combined(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	const qp_impose *im = o->impose.cols ? &o->impose : NULL;
	size_t per = im ? (size_t)(im->cols * im->rows) : 1;
	comb c = {.b = b, .w = {.b = b, .out = -1}};
	qp_pdf_run *doc = NULL;
	qp_page **held = qp_xcalloc(per, sizeof *held);
	size_t nheld = 0, pos = 0, nerr = 0, sheets = 0, rows = 0;
	qp_data *d = NULL;
	manifest m = {0};
	qp_record rec;
	char sha[65] = "";
	bool ok = false, scaled_noted = false;
	int r;

	/* Only this process's temporaries are at stake until the end (the
	 * combined file and its manifest are all or nothing): a second stop
	 * request may end the process at once (stop.h). */
	qp_stop_allow_abandon(b->h->stop, 2);
	if (combined_done(b, err)) {
		/* Rewrite the same manifest: every row is still done. */
		old_manifest om;
		if (!bt_manifest_open(&m, b, err))
			goto done;
		qp_record old;
		qp_error e2;
		bt_old_open(&om, b->manifest_path);
		while (!om.end && qp_data_next(om.d, &old, &e2) == 1) {
			const char *mf[NMCOLS];
			for (size_t k = 0; k < NMCOLS; k++)
				mf[k] = bt_old_field(&om, &old, (int)k);
			bt_manifest_add(&m, mf);
			b->st->skipped++;
		}
		bt_old_close(&om);
		if (!bt_manifest_close(&m, NULL, err))
			goto done;
		snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
		    b->manifest_path);
		ok = true;
		goto done;
	}
	qp_buf_init(&c.msg);
	if ((doc = qp_pdf_run_open(b->combine_path, &o->render, err)) ==
	    NULL)
		goto done;
	/* Posters (not sheets, not a print file) break into parts at fixed
	 * rows; with -j N each worker draws its own parts. Otherwise the
	 * workers lay out and this process draws. */
	rows = im || o->render.print ? 0 : b->test_part_rows ?
	    b->test_part_rows : qp_pdf_run_part_rows(b->total);
	c.parts = b->jobs > 1 && rows > 0;
	c.workers = b->jobs > 1 && !c.parts;
	/* Workers first: nothing may touch Pango before a fork. */
	if (c.parts) {
		size_t nparts = (b->total + rows - 1) / rows;
		parts_run = doc;
		part_rows = rows;
		part_workers = nparts < (size_t)b->jobs ? nparts : (size_t)b->jobs;
		if (part_workers == 0)
			part_workers = 1;
		qp_pdf_run_parts_elsewhere(doc, nparts);
		if (!bt_crew_start(&c.c, b, (int)part_workers, parts_worker, err))
			goto done;
		bt_crew_span(&c.c, rows);
	} else if (c.workers && !bt_crew_start(&c.c, b, b->jobs,
	    combined_worker, err))
		goto done;
	if (!c.parts)
		c.w.ctx = qp_layout_ctx_new();
	if (o->verify && !c.workers && !c.parts)
		c.w.ver = qp_verifier_new();
	if ((d = bt_open_data(b, err)) == NULL)
		goto done;
	if (!bt_manifest_open(&m, b, err))
		goto done;
	while ((r = qp_data_next(d, &rec, err)) == 1) {
		row rw;
		qp_page *page = NULL;
		const char *mf[NMCOLS];
		char rownum[32], line[32], pagenum[32];
		char *status = NULL;

		if (bt_stopping(b)) {
			bt_test_pause(b, "main", "stopping", pos);
			b->st->interrupted = true;
			break;
		}
		if (!bt_row_in_run(b, &rec))
			continue;
		pos++;
		bt_test_pause(b, "main", "combine", pos);
		if (c.parts) {
			/* The row's page is drawn by its worker. */
			bool prepared = bt_row_prepare(b, &rec, pos - 1, &rw,
			    err);
			qp_error rerr;
			int got = part_result(&c, doc, &rec, pos - 1, &rerr);

			if (got == -2) {
				*err = rerr;
				bt_row_free(&rw, b->nqr);
				goto done;
			}
			if (c.lost) {
				bt_row_free(&rw, b->nqr);
				break;
			}
			if (got == 0 || !prepared) {
				if (got == 0)
					*err = rerr;
				nerr++;
				bt_row_error(b, err->msg);
				status = qp_xasprintf("error: %s", err->msg);
			} else if (nerr == 0 || o->keep_going)
				b->st->written++;
			goto manifest_row;
		}
		/* Parts break at fixed rows: those a worker would draw. */
		if (rows && pos > 1 && (pos - 1) % rows == 0 &&
		    !qp_pdf_run_break(doc, err)) {
			bt_row_free(&rw, b->nqr);
			goto done;
		}
		page = row_page(&c, bt_row_prepare(b, &rec, pos - 1, &rw, err) ?
		    &rw : NULL, pos - 1, err);
		if (c.lost) {
			bt_row_free(&rw, b->nqr);
			break;
		}
		if (page == NULL) {
			nerr++;
			bt_row_error(b, err->msg);
			status = qp_xasprintf("error: %s", err->msg);
		} else if (nerr == 0 || o->keep_going) {
			if (im) {
				double s;
				if (!qp_impose_scale(im, &o->render, page->w,
				    page->h, &s, err)) {
					qp_page_free(page);
					bt_row_free(&rw, b->nqr);
					goto done;
				}
				if (s < 1 && !scaled_noted) {
					bt_note(b, "posters scaled to %.0f%% to fit "
					    "%dx%d on the sheet", s * 100,
					    im->cols, im->rows);
					scaled_noted = true;
				}
				held[nheld++] = page;
				page = NULL;
				if (nheld == per) {
					if (!qp_pdf_run_add_sheet(doc, im,
					    (const qp_page *const *)held, nheld,
					    err)) {
						bt_row_free(&rw, b->nqr);
						goto done;
					}
					for (size_t i = 0; i < nheld; i++)
						qp_page_free(held[i]);
					nheld = 0;
				}
			} else if (!qp_pdf_run_add(doc, page, err)) {
				qp_page_free(page);
				bt_row_free(&rw, b->nqr);
				goto done;
			}
			b->st->written++;
		}
		qp_page_free(page);
manifest_row:
		/* The page (or sheet) this row lands on. */
		snprintf(pagenum, sizeof pagenum, "%zu", im ?
		    (b->st->written + per - 1) / per : b->st->written);
		snprintf(rownum, sizeof rownum, "%zu", rec.index + 1);
		snprintf(line, sizeof line, "%zu", rec.line);
		mf[0] = rownum;
		mf[1] = line;
		mf[2] = rw.values ? bt_row_code(b, &rw) : "";
		mf[3] = status ? "" : b->combine_path;
		mf[4] = status ? "" : pagenum;
		mf[5] = rw.payloads && b->nqr ? rw.payloads[0] : "";
		mf[6] = status ? "" : NULL;
		mf[7] = status ? status : "ok";
		mf[8] = rw.key;
		bt_manifest_add(&m, mf);
		free(status);
		bt_row_free(&rw, b->nqr);
		bt_progress(b, "rendering", pos);
	}
	if (c.workers || c.parts) {
		/* Every row read: the parts are all taken, and this process's
		 * to remove (it lists them as its temporaries). Otherwise each
		 * worker removes its own as it leaves. */
		if (c.parts && r == 0 && !c.lost && !b->st->interrupted)
			bt_crew_tell(&c.c, 'k');
		bt_crew_finish(&c.c, NULL, NULL, &c.msg);
		if (bt_crew_casualty(&c.c, NULL, 0) >= 0 ||
		    (c.lost && !bt_stopping(b))) {
			size_t at = pos ? pos - 1 : 0;
			bt_crew_lost(&c.c, bt_crew_whose(&c.c, at),
			    c.parts ? "drawing" : "laying out",
			    "nothing was written", NULL, err);
			goto done;
		}
		if (c.lost)
			b->st->interrupted = true;
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
		qp_fail(err, "%zu of %zu row%s %s errors; nothing was written",
		    nerr, b->total, b->total == 1 ? "" : "s",
		    nerr == 1 ? "has" : "have");
		qp_error_hint(err, QP_HINT_KEEP_GOING, (long)nerr, NULL);
		goto done;
	}
	b->st->failed = nerr;
	if (nheld) {
		if (!qp_pdf_run_add_sheet(doc, im,
		    (const qp_page *const *)held, nheld, err))
			goto done;
	}
	sheets = im ? (b->st->written + per - 1) / per : b->st->written;
	if (b->st->written == 0) {
		qp_fail(err, "no row made a page; nothing was written");
		goto done;
	}
	/*
	 * Finishing the document (fonts, cross-references, and with bleed a
	 * rewrite by libqpdf) is no row, and may take seconds on a long
	 * run: from here a first stop request ends the process at once (the
	 * previous file and manifest stay) rather than wait for it. Not for
	 * a print file: the Ghostscript runs converting it would outlive
	 * this process (so a stop waits for them).
	 */
	qp_stop_allow_abandon(b->h->stop, o->render.print ? 0 : 1);
	bt_test_pause(b, "main", "close", pos);
	if (bt_stopping(b)) {
		b->st->interrupted = true;
		ok = true;
		goto done;
	}
	{
		qp_pdf_run *dd = doc;
		doc = NULL;
		if (!qp_pdf_run_close(dd, sha, err))
			goto done;
	}
	/* The joiner hashes what it writes; a print file is hashed here. */
	if ((sha[0] == '\0' && !qp_file_sha256(b->combine_path, sha, err)) ||
	    !bt_manifest_close(&m, sha, err))
		goto done;
	b->st->pages = sheets;
	snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
	    b->manifest_path);
	ok = true;
done:
	qp_stop_allow_abandon(b->h->stop, 0);
	for (size_t i = 0; i < nheld; i++)
		qp_page_free(held[i]);
	free(held);
	bt_manifest_abort(&m);
	/* The workers leave before their parts are removed. */
	if (c.workers || c.parts)
		bt_crew_finish(&c.c, NULL, NULL, &c.msg);
	qp_pdf_run_abort(doc);
	bt_close_data(d);
	qp_buf_free(&c.msg);
	qp_verifier_free(c.w.ver);
	qp_layout_ctx_free(c.w.ctx);
	bt_worker_clear(&c.w);
	return ok;
}
