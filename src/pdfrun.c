/*
 * pdfrun.c - a combined PDF in parts of QP_PDF_RUN_PART pages, joined
 * by pdfjoin (see pdfrun.h for why).
 */
#include "pdfrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdfjoin.h"

/* What a finished part lacks (qp_pdf_doc_close_bare): its links are in
 * the run's link file from off, so that memory stays that of one part. */
typedef struct part_fin {
	long long off;
	size_t nlinks;
	bool boxes;
	double trim_inset, bleed_inset;
} part_fin;

/* A link in the link file: this, then the URI's len bytes. */
typedef struct link_rec {
	size_t page, len;
	double x0, y0, x1, y1;
} link_rec;

struct qp_pdf_run {
	char *path;
	long pid;         /* the run's process, in its parts' names */
	qp_render_opts o;
	qp_pdf_doc *doc;  /* the part being drawn */
	size_t in_part;   /* its pages */
	char **parts;     /* the parts' names, in order */
	int *slots;       /* each finished part's in the temporaries' list */
	size_t nparts;    /* finished */
	size_t npaths;    /* named (nparts, or one more being drawn) */
	size_t nelse;     /* parts drawn elsewhere may be named 0..nelse-1 */
	bool whole;       /* one document at path, not parts */
	part_fin *fin;    /* per finished part */
	FILE *lf;         /* the parts' links (an unlinked temporary) */
	long long lf_end;
	qp_pdf_finish cur; /* the part being joined's, read back */
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
	    run->path + dir, k + 1, run->pid);
}

/* A part's error names the file the user asked for first. */
static bool
part_fail(const qp_pdf_run *run, qp_error *err)
{
	if (!run->whole)
		qp_error_prefix(err, "%s", run->path);
	return false;
}

char *
qp_pdf_run_part_name(const qp_pdf_run *run, size_t k)
{
	return part_path(run, k);
}

size_t
qp_pdf_run_part_rows(size_t total)
{
	size_t r = (total + QP_PDF_RUN_SPREAD - 1) / QP_PDF_RUN_SPREAD;

	return r < QP_PDF_RUN_MIN_ROWS ? QP_PDF_RUN_MIN_ROWS :
	    r > QP_PDF_RUN_PART ? QP_PDF_RUN_PART : r;
}

/* A finished part, committed at its name, with what it lacks: listed
 * among this process's temporaries (a stop that ends the process at once
 * removes it), its links in the link file. */
static bool
part_take(qp_pdf_run *run, const qp_pdf_finish *f, qp_error *err)
{
	part_fin *p;
	bool ok = true;

	run->fin = qp_xrealloc(run->fin, (run->nparts + 1) * sizeof *run->fin);
	run->slots = qp_xrealloc(run->slots, (run->nparts + 1) *
	    sizeof *run->slots);
	run->slots[run->nparts] = qp_outfile_list(run->parts[run->nparts]);
	p = &run->fin[run->nparts++];
	p->off = run->lf_end;
	p->nlinks = f->nlinks;
	p->boxes = f->boxes;
	p->trim_inset = f->trim_inset;
	p->bleed_inset = f->bleed_inset;
	if (f->nlinks > 0 && run->lf == NULL && (run->lf = tmpfile()) == NULL)
		ok = false;
	for (size_t i = 0; ok && i < f->nlinks; i++) {
		const qp_pdf_link *l = &f->links[i];
		link_rec r = {l->page, strlen(l->uri), l->x0, l->y0, l->x1,
		    l->y1};
		ok = fwrite(&r, sizeof r, 1, run->lf) == 1 &&
		    fwrite(l->uri, 1, r.len, run->lf) == r.len;
		run->lf_end += (long long)(sizeof r + r.len);
	}
	if (!ok)
		return qp_fail(err, "cannot write a temporary file: %s",
		    strerror(errno));
	return true;
}

/* Finish the part being drawn: committed as Cairo wrote it, its links
 * and print boxes kept for pdfjoin to add while joining. */
static bool
part_close(qp_pdf_run *run, qp_error *err)
{
	qp_pdf_doc *d = run->doc;
	qp_pdf_finish f;
	bool ok;

	run->doc = NULL;
	if (!qp_pdf_doc_close_bare(d, &f, err))
		return false;
	ok = part_take(run, &f, err);
	qp_pdf_links_free(f.links, f.nlinks);
	return ok;
}

bool
qp_pdf_run_break(qp_pdf_run *run, qp_error *err)
{
	return run->whole || run->doc == NULL || part_close(run, err) ||
	    part_fail(run, err);
}

void
qp_pdf_run_parts_elsewhere(qp_pdf_run *run, size_t n)
{
	run->nelse = n;
}

bool
qp_pdf_run_add_part(qp_pdf_run *run, size_t k, const qp_pdf_finish *f,
    qp_error *err)
{
	run->parts = qp_xrealloc(run->parts, (run->npaths + 1) *
	    sizeof *run->parts);
	run->parts[run->npaths++] = part_path(run, k);
	return part_take(run, f, err);
}

/* pdfjoin's question: what part i lacks, read back from the link file. */
static bool
part_finish(void *arg, size_t i, const qp_pdf_finish **f, qp_error *err)
{
	qp_pdf_run *run = arg;
	const part_fin *p = &run->fin[i];
	qp_pdf_finish *c = &run->cur;

	qp_pdf_links_free(c->links, c->nlinks);
	memset(c, 0, sizeof *c);
	c->boxes = p->boxes;
	c->trim_inset = p->trim_inset;
	c->bleed_inset = p->bleed_inset;
	*f = c;
	if (p->nlinks == 0)
		return true;
	if (fflush(run->lf) != 0 || fseeko(run->lf, (off_t)p->off,
	    SEEK_SET) != 0)
		goto fail;
	c->links = qp_xcalloc(p->nlinks, sizeof *c->links);
	for (; c->nlinks < p->nlinks; c->nlinks++) {
		qp_pdf_link *l = &c->links[c->nlinks];
		link_rec r;
		if (fread(&r, sizeof r, 1, run->lf) != 1 || r.len > 1u << 20)
			goto fail;
		l->uri = qp_xmalloc(r.len + 1);
		if (fread(l->uri, 1, r.len, run->lf) != r.len) {
			free(l->uri);
			goto fail;
		}
		l->uri[r.len] = '\0';
		l->page = r.page;
		l->x0 = r.x0;
		l->y0 = r.y0;
		l->x1 = r.x1;
		l->y1 = r.y1;
	}
	return true;
fail:
	return qp_fail(err, "cannot read back a temporary file: %s",
	    strerror(errno ? errno : EIO));
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
	if (run->doc && run->in_part == QP_PDF_RUN_PART &&
	    !part_close(run, err))
		return false;
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
	run->pid = (long)getpid();
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
		return part_fail(run, err);
	run->in_part++;
	return qp_pdf_doc_add(run->doc, page, err) || part_fail(run, err);
}

bool
qp_pdf_run_add_sheet(qp_pdf_run *run, const qp_impose *im,
    const qp_page *const *pages, size_t n, qp_error *err)
{
	if (!part_ready(run, err))
		return part_fail(run, err);
	run->in_part++;
	return qp_pdf_doc_add_sheet(run->doc, im, pages, n, err) ||
	    part_fail(run, err);
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
qp_pdf_run_close(qp_pdf_run *run, char sha[65], qp_error *err)
{
	qp_pdfjoin *j = NULL;
	qp_outfile of;
	bool ok = false, open = false;

	sha[0] = '\0';

	if (run->whole) {
		qp_pdf_doc *d = run->doc;
		run->doc = NULL;
		ok = d ? qp_pdf_doc_close(d, err) : qp_fail(err, "'%s': no pages",
		    run->path);
		goto done;
	}
	if (run->doc && !part_close(run, err)) {
		part_fail(run, err);
		goto done;
	}
	if (run->nparts == 0) {
		qp_fail(err, "'%s': no pages", run->path);
		goto done;
	}
	if ((j = qp_pdfjoin_open((const char *const *)run->parts,
	    run->nparts, err)) == NULL)
		goto done;
	{
		size_t *nl = qp_xcalloc(run->nparts, sizeof *nl);
		for (size_t i = 0; i < run->nparts; i++)
			nl[i] = run->fin[i].nlinks;
		qp_pdfjoin_finish(j, nl, part_finish, run);
		free(nl);
	}
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
	if (ok)
		run->nelse = 0; /* every part was taken */
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
	for (size_t i = 0; i < run->nparts; i++) {
		(void)unlink(run->parts[i]);
		qp_outfile_unlist(run->slots[i]);
	}
	/* Parts drawn by other processes: those not handed over yet (a
	 * worker stopped or killed after finishing one), and what a worker
	 * killed while drawing one left. The processes have left. */
	for (size_t k = 0; k < run->nelse; k++) {
		char *p = part_path(run, k);
		(void)unlink(p);
		qp_outfile_remove_left(p);
		free(p);
	}
	for (size_t i = 0; i < run->npaths; i++)
		free(run->parts[i]);
	qp_pdf_links_free(run->cur.links, run->cur.nlinks);
	if (run->lf)
		fclose(run->lf);
	free(run->fin);
	free(run->slots);
	free(run->path);
	free(run->parts);
	free(run);
}
