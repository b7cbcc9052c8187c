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
	qp_values_free(&j->vals);
	qp_binding_free(j->bind);
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
