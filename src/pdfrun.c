/*
 * pdfrun.c - a combined PDF in parts of QP_PDF_RUN_PART pages, joined
 * by pdfjoin (see pdfrun.h for why).
 */
#include "pdfrun.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdfjoin.h"

struct qp_pdf_run {
	char *path;
	qp_render_opts o;
	qp_pdf_doc *doc;  /* the part being drawn */
	size_t in_part;   /* its pages */
	char **parts;     /* the parts' names, in order */
	size_t nparts;    /* finished */
	size_t npaths;    /* named (nparts, or one more being drawn) */
	bool whole;       /* one document at path, not parts */
	/* while joining */
	size_t next_part, left;
	const qp_pdfjoin *j;
};

/* ".NAME.part-K.pdf" beside path: hidden, as the temporaries are. */
static char *
part_path(const qp_pdf_run *run, size_t k)
{
	const char *slash = strrchr(run->path, '/');
	size_t dir = slash ? (size_t)(slash - run->path) + 1 : 0;

	/* The process id keeps two runs writing one file (a mistake) from
	 * taking each other's parts. */
	return qp_xasprintf("%.*s.%s.part-%zu-%ld.pdf", (int)dir, run->path,
	    run->path + dir, k + 1, (long)getpid());
}

/* A part to draw the next page on: the current one, or a new one when
 * it is full. */
static bool
part_ready(qp_pdf_run *run, qp_error *err)
{
	if (run->whole) {
		if (run->doc == NULL && (run->doc = qp_pdf_doc_open(run->path,
		    &run->o, err)) == NULL)
			return false;
		return true;
	}
	if (run->doc && run->in_part == QP_PDF_RUN_PART) {
		qp_pdf_doc *d = run->doc;
		run->doc = NULL;
		if (!qp_pdf_doc_close(d, err))
			return false;
		run->nparts++;
	}
	if (run->doc == NULL) {
		char *p = part_path(run, run->nparts);
		run->parts = qp_xrealloc(run->parts, (run->npaths + 1) *
		    sizeof *run->parts);
		run->parts[run->npaths++] = p;
		if ((run->doc = qp_pdf_doc_open(p, &run->o, err)) == NULL)
			return false;
		run->in_part = 0;
	}
	return true;
}

qp_pdf_run *
qp_pdf_run_open(const char *path, const qp_render_opts *o, qp_error *err)
{
	qp_pdf_run *run = qp_xcalloc(1, sizeof *run);

	run->path = qp_xstrdup(path);
	run->o = *o;
	/* A print file (PDF/X through Ghostscript) is one document as
	 * Ghostscript writes it: each part would carry its own output
	 * intent and ICC profile, and PDF/X-3 allows neither object streams
	 * nor a file without an /ID. */
	run->whole = o->print != NULL;
	if (!qp_check_output_dir(path, err)) {
		qp_pdf_run_abort(run);
		return NULL;
	}
	return run;
}

bool
qp_pdf_run_add(qp_pdf_run *run, const qp_page *page, qp_error *err)
{
	if (!part_ready(run, err))
		return false;
	run->in_part++;
	return qp_pdf_doc_add(run->doc, page, err);
}

bool
qp_pdf_run_add_sheet(qp_pdf_run *run, const qp_impose *im,
    const qp_page *const *pages, size_t n, qp_error *err)
{
	if (!part_ready(run, err))
		return false;
	run->in_part++;
	return qp_pdf_doc_add_sheet(run->doc, im, pages, n, err);
}

/* The parts' pages in order. */
static int
next_page(void *arg, size_t *input, qp_error *err)
{
	qp_pdf_run *run = arg;

	(void)err;
	while (run->left == 0) {
		if (run->next_part == run->nparts)
			return 0;
		run->left = qp_pdfjoin_npages(run->j, run->next_part++);
	}
	run->left--;
	*input = run->next_part - 1;
	return 1;
}

bool
qp_pdf_run_close(qp_pdf_run *run, qp_error *err)
{
	qp_pdfjoin *j = NULL;
	qp_outfile of;
	char sha[65];
	bool ok = false, open = false;

	if (run->whole) {
		qp_pdf_doc *d = run->doc;
		run->doc = NULL;
		ok = d ? qp_pdf_doc_close(d, err) : qp_fail(err, "'%s': no pages",
		    run->path);
		goto done;
	}
	if (run->doc) {
		qp_pdf_doc *d = run->doc;
		run->doc = NULL;
		if (!qp_pdf_doc_close(d, err))
			goto done;
		run->nparts++;
	}
	if (run->nparts == 0) {
		qp_fail(err, "'%s': no pages", run->path);
		goto done;
	}
	if ((j = qp_pdfjoin_open((const char *const *)run->parts,
	    run->nparts, err)) == NULL)
		goto done;
	if (!qp_outfile_open(&of, run->path, err))
		goto done;
	open = true;
	run->j = j;
	run->next_part = 0;
	run->left = 0;
	if (!qp_pdfjoin_write(j, &of, true, next_page, run, sha, err))
		goto done;
	open = false;
	ok = qp_outfile_commit(&of, err);
done:
	if (open)
		qp_outfile_abort(&of);
	qp_pdfjoin_free(j);
	qp_pdf_run_abort(run);
	return ok;
}

void
qp_pdf_run_abort(qp_pdf_run *run)
{
	if (run == NULL)
		return;
	/* The part being drawn leaves nothing (its temporary goes); the
	 * finished ones are files. */
	qp_pdf_doc_abort(run->doc);
	for (size_t i = 0; i < run->nparts; i++)
		(void)unlink(run->parts[i]);
	for (size_t i = 0; i < run->npaths; i++)
		free(run->parts[i]);
	free(run->path);
	free(run->parts);
	free(run);
}
