/*
 * serve_pool.c - the web editor's render workers: jobs, a bounded queue,
 * a fixed pool of threads each with its own layout context.
 */
#define _GNU_SOURCE
#include "serve_int.h"

/* ---------------------------------------------------------------- */
/* Jobs and the worker pool. */

static void
problems_free(problem *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].block);
		for (size_t j = 0; j < p[i].nfields; j++)
			free(p[i].fields[j]);
		free(p[i].fields);
		free(p[i].message);
		free(p[i].detail);
	}
	free(p);
}

problem *
srv_problem_add(problem **list, size_t *n, const char *severity,
    const char *message, const char *detail)
{
	problem *p;

	*list = qp_xrealloc(*list, (*n + 1) * sizeof **list);
	p = &(*list)[(*n)++];
	memset(p, 0, sizeof *p);
	p->severity = severity;
	p->message = qp_xstrdup(message);
	p->detail = detail ? qp_xstrdup(detail) : NULL;
	return p;
}

void
srv_problem_field(problem *p, const char *field)
{
	p->fields = qp_xrealloc(p->fields, (p->nfields + 1) *
	    sizeof *p->fields);
	p->fields[p->nfields++] = qp_xstrdup(field);
}

void
srv_job_free(job *j)
{
	if (j == NULL)
		return;
	if (j->t && j->values)
		for (size_t i = 0; i < j->t->nvars; i++)
			free(j->values[i]);
	free(j->values);
	qp_template_free(j->t);
	problems_free(j->problems, j->nproblems);
	qp_buf_free(&j->png);
	if (j->path) {
		unlink(j->path);
		free(j->path);
	}
	free(j);
}

/* Drop one reference; the server lock is held. */
void
srv_job_unref(job *j)
{
	if (--j->refs == 0)
		srv_job_free(j);
}

/*
 * Plain words for an engine message, for the person at the keyboard.
 * The engine's own text (block names, sizes in points) goes beside it
 * as the detail.
 */
static const char *
plain_words(const char *msg, char *buf, size_t bufsz)
{
	const char *u;

	if (strstr(msg, "below the template's min_text_size"))
		return "This text had to shrink below the smallest size the "
		    "poster allows. Shorten it.";
	if (strstr(msg, "longer text could shrink"))
		return "A longer text here could shrink below the smallest size "
		    "the poster allows (a limit of the template).";
	if (strstr(msg, "contrast") && strstr(msg, "for ") &&
	    strstr(msg, "text"))
		return "This text is too faint against its background to read "
		    "easily (the template's colours).";
	if (strstr(msg, "is inverted") || strstr(msg, "is inverted ("))
		return "The QR code is light on dark; many phones cannot scan "
		    "that (the template's colours).";
	if (strstr(msg, "contrast between the code"))
		return strstr(msg, "is only") ?
		    "The QR code's colours are not far apart; it may not scan "
		    "in poor light (the template's colours)." :
		    "The QR code's colours are too close together for phones "
		    "to scan it (the template's colours).";
	if (strstr(msg, "quiet zone"))
		return "Something is printed too close to the QR code; phones "
		    "need clear space around it (the template's layout).";
	if (strstr(msg, "overlaps block"))
		return "Two texts on the poster overlap. Shorten one of them.";
	if (strstr(msg, "off the") && strstr(msg, "edge of the page"))
		return "Part of the poster runs off the edge of the page.";
	if (strstr(msg, "outside the safe area"))
		return "Part of the poster sits in the margin the printer may "
		    "cut off.";
	if (strstr(msg, "printable minimum"))
		return "The QR code's squares would be too small to print "
		    "clearly. Shorten the web address or the location code.";
	if (strstr(msg, "does not fit"))
		return "This text is too long for its space on the poster, "
		    "even at the smallest type size allowed. Shorten it.";
	if ((u = strstr(msg, "no font covers U+")) != NULL) {
		unsigned cp = (unsigned)strtoul(u + 17, NULL, 16);

		snprintf(buf, bufsz, "The poster's fonts have no letter for "
		    "the character U+%04X, so it would print as an empty box. "
		    "Remove it, or use a template with a font for that "
		    "language.", cp);
		return buf;
	}
	if (strstr(msg, "modules across") || strstr(msg, "too long for a QR") ||
	    strstr(msg, "too long for any"))
		return "The QR code would hold too much to print clearly at "
		    "this size. Shorten the web address or the location code.";
	if (strstr(msg, "meant to be scanned from"))
		return "The QR code is too small to be scanned from the "
		    "distance this poster is read from.";
	if (strstr(msg, "caption"))
		return "The web address under the QR code does not fit. "
		    "Shorten it.";
	return NULL;
}

/*
 * A finding of the engine, in plain words, attributed to the template
 * variables its block uses so the page can show it beside those fields.
 * block is the block's id, or NULL to take it from "block 'ID'" at the
 * start of msg.
 */
static void
add_finding(job *j, const char *severity, const char *block,
    const char *msg)
{
	const qp_template *t = j->t;
	const qp_block *b = NULL;
	const char *id = block;
	size_t idlen = block ? strlen(block) : 0;
	char buf[400];
	const char *plain;
	problem *p;

	if (id == NULL && strncmp(msg, "block '", 7) == 0) {
		const char *end = strchr(msg + 7, '\'');

		if (end) {
			id = msg + 7;
			idlen = (size_t)(end - id);
		}
	}
	for (size_t i = 0; id && i < t->nblocks; i++)
		if (strlen(t->blocks[i].id) == idlen &&
		    strncmp(t->blocks[i].id, id, idlen) == 0)
			b = &t->blocks[i];
	plain = plain_words(msg, buf, sizeof buf);
	p = srv_problem_add(&j->problems, &j->nproblems, severity,
	    plain ? plain : msg, plain ? msg : NULL);
	if (b) {
		bool *used = qp_xcalloc(t->nvars + 1, sizeof *used);

		p->block = qp_xstrdup(b->id);
		if (b->kind == QP_BLOCK_TEXT)
			qp_tstr_mark_used(b->u.text.markup, used);
		else if (b->kind == QP_BLOCK_QR) {
			/* A caption problem is the caption's variables. */
			if (strstr(msg, "caption") && b->u.qr.caption)
				qp_tstr_mark_used(b->u.qr.caption, used);
			else
				qp_tstr_mark_used(b->u.qr.data, used);
		}
		for (size_t i = 0; i < t->nvars; i++)
			if (used[i])
				srv_problem_field(p, t->var_names[i]);
		free(used);
	}
}

/*
 * Preflight, as `qrposter check` does it: lay the poster out block by
 * block (so one bad block does not hide the next) and check the result.
 * Every error and warning goes to the page beside the preview. The page
 * is returned only when there is no error: a poster that would fail on
 * the wall is neither previewed as good nor downloaded.
 */
qp_page *
srv_preflight(qp_layout_ctx *ctx, job *j)
{
	qp_diag_list dl;
	qp_page *page = NULL;

	qp_diag_list_init(&dl);
	qp_check_poster(ctx, j->t, (const char *const *)j->values, NULL, &dl,
	    &page);
	for (size_t i = 0; i < dl.n; i++)
		add_finding(j, dl.v[i].sev == QP_DIAG_ERROR ? "error" :
		    "warning", dl.v[i].block, dl.v[i].msg);
	qp_diag_list_clear(&dl);
	return page;
}

static cairo_status_t
png_to_buf(void *closure, const unsigned char *data, unsigned int len)
{
	qp_buf_add(closure, (const char *)data, len);
	return CAIRO_STATUS_SUCCESS;
}

static bool
render_preview(job *j, const qp_page *page)
{
	qp_render_opts o = QP_RENDER_OPTS_DEFAULT;
	double longer = page->w > page->h ? page->w : page->h;
	double dpi = PREVIEW_PX * 72.0 / longer, s;
	cairo_surface_t *img;
	cairo_t *cr;
	cairo_status_t st;

	if (dpi > PREVIEW_MAX_DPI)
		dpi = PREVIEW_MAX_DPI;
	s = dpi / 72.0;
	j->png_w = (int)(page->w * s + 0.5);
	j->png_h = (int)(page->h * s + 0.5);
	img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, j->png_w,
	    j->png_h);
	cr = cairo_create(img);
	cairo_scale(cr, s, s);
	qp_draw_page(cr, page, &o, s, false);
	cairo_destroy(cr);
	cairo_surface_flush(img);
	st = cairo_surface_write_to_png_stream(img, png_to_buf, &j->png);
	cairo_surface_destroy(img);
	if (st != CAIRO_STATUS_SUCCESS)
		return qp_fail(&j->err, "cannot make the preview: %s",
		    cairo_status_to_string(st));
	return true;
}

static void
run_job(qp_server *s, qp_layout_ctx **ctxp, job *j, unsigned long seq)
{
	qp_page *page;

	/*
	 * The fonts the template brings, registered once per file for the
	 * whole server (fonts.c). A context made before fonts were added
	 * does not see them: this worker makes a new one, so the web draws
	 * with the template's font, as the command line does.
	 */
	if (!qp_fonts_add_template(j->t, &j->err))
		return;
	if (qp_layout_ctx_stale(*ctxp)) {
		qp_layout_ctx_free(*ctxp);
		*ctxp = qp_layout_ctx_new();
	}
	if ((page = srv_preflight(*ctxp, j)) == NULL)
		return;
	if (j->kind == JOB_PREVIEW)
		j->ok = render_preview(j, page);
	else {
		qp_render_opts o = QP_RENDER_OPTS_DEFAULT;
		bool big = j->fmt == QP_FMT_PNG && page->w * page->h *
		    (j->dpi / 72.0) * (j->dpi / 72.0) > BIG_PIXELS;

		o.dpi = j->dpi;
		j->path = qp_xasprintf("%s/poster-%lu.%s", s->tmpdir, seq,
		    j->fmt == QP_FMT_PDF ? "pdf" : "png");
		if (big)
			pthread_mutex_lock(&s->big_mu);
		j->ok = qp_render_file(page, j->path, j->fmt, &o, &j->err);
		if (big)
			pthread_mutex_unlock(&s->big_mu);
		if (!j->ok) {
			free(j->path);
			j->path = NULL;
		}
	}
	qp_page_free(page);
}

void *
srv_worker(void *arg)
{
	qp_server *s = arg;
	qp_layout_ctx *ctx = qp_layout_ctx_new();

	pthread_mutex_lock(&s->mu);
	for (;;) {
		job *j;
		unsigned long seq;

		while (!s->stopping && s->qlen == 0)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->stopping)
			break;
		j = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % QP_SERVE_QUEUE;
		s->qlen--;
		if (j->cancelled) {
			srv_job_unref(j);
			continue;
		}
		seq = ++s->seq;
		pthread_mutex_unlock(&s->mu);
		run_job(s, &ctx, j, seq);
		pthread_mutex_lock(&s->mu);
		j->done = true;
		pthread_cond_broadcast(&s->done_cv);
		srv_job_unref(j);
	}
	pthread_mutex_unlock(&s->mu);
	qp_layout_ctx_free(ctx);
	return NULL;
}

/* Queue j and wait for it until the deadline. j has one reference, the
 * caller's, which it keeps. */
wait_result
srv_submit_wait(qp_server *s, job *j)
{
	struct timespec dl;
	double whole;
	wait_result r = WAIT_DONE;

	clock_gettime(CLOCK_REALTIME, &dl);
	whole = (double)(long)s->timeout;
	dl.tv_sec += (time_t)whole;
	dl.tv_nsec += (long)((s->timeout - whole) * 1e9);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return WAIT_STOPPING;
	}
	if (s->qlen == QP_SERVE_QUEUE) {
		pthread_mutex_unlock(&s->mu);
		return WAIT_BUSY;
	}
	j->refs++;
	s->queue[(s->qhead + s->qlen) % QP_SERVE_QUEUE] = j;
	s->qlen++;
	pthread_cond_signal(&s->work_cv);
	while (!j->done && !s->stopping) {
		if (pthread_cond_timedwait(&s->done_cv, &s->mu, &dl) ==
		    ETIMEDOUT && !j->done) {
			r = WAIT_TIMEOUT;
			break;
		}
	}
	if (!j->done) {
		j->cancelled = true;
		if (r == WAIT_DONE)
			r = WAIT_STOPPING;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
srv_release(qp_server *s, job *j)
{
	pthread_mutex_lock(&s->mu);
	srv_job_unref(j);
	pthread_mutex_unlock(&s->mu);
}
