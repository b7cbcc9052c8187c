/*
 * batch_combined.c - the whole run in one PDF (optionally imposed
 * several posters to a sheet), drawn by one process.
 */
#define _GNU_SOURCE
#include "batch_int.h"
#include "pdfrun.h"

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
	if (!bt_sha256_file(b->combine_path, sha, err))
		return false;
	if ((d = bt_open_data(b, err)) == NULL)
		return false;
	bt_old_open(&om, b->manifest_path);
	while (same && (r = qp_data_next(d, &rec, err)) == 1) {
		row rw;
		const qp_record *old;

		if ((long)(rec.index % (size_t)b->o->shard_n) !=
		    b->o->shard_k - 1)
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
	worker w = {b, NULL, NULL, NULL, -1};
	qp_pdf_run *doc = NULL;
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
	w.ctx = qp_layout_ctx_new();
	if (o->verify)
		w.ver = qp_verifier_new();
	if ((d = bt_open_data(b, err)) == NULL)
		goto done;
	if ((doc = qp_pdf_run_open(b->combine_path, &o->render, err)) ==
	    NULL)
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
			b->st->interrupted = true;
			break;
		}
		if ((long)(rec.index % (size_t)o->shard_n) != o->shard_k - 1)
			continue;
		pos++;
		if (!bt_row_prepare(b, &rec, pos - 1, &rw, err) ||
		    (page = bt_row_layout(&w, &rw, o->verify, err)) == NULL) {
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
	{
		qp_pdf_run *dd = doc;
		doc = NULL;
		if (!qp_pdf_run_close(dd, err))
			goto done;
	}
	if (!bt_sha256_file(b->combine_path, sha, err) ||
	    !bt_manifest_close(&m, sha, err))
		goto done;
	b->st->pages = sheets;
	snprintf(b->st->manifest, sizeof b->st->manifest, "%s",
	    b->manifest_path);
	ok = true;
done:
	for (size_t i = 0; i < nheld; i++)
		qp_page_free(held[i]);
	free(held);
	bt_manifest_abort(&m);
	qp_pdf_run_abort(doc);
	bt_close_data(d);
	qp_verifier_free(w.ver);
	qp_layout_ctx_free(w.ctx);
	return ok;
}
