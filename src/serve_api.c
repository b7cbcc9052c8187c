/*
 * serve_api.c - the web editor's templates and poster API: the template
 * list and details, the form's values, preview and download.
 */
#define _GNU_SOURCE
#include "serve_int.h"

/* ---------------------------------------------------------------- */
/* Templates. */

qp_template *
srv_load_template(qp_server *s, const char *name, unsigned *status,
    qp_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	qp_template *t;

	*status = 400;
	if (!qp_serve_name_ok(name)) {
		qp_fail(err, "'%.80s' is not a template name: names are "
		    "letters, digits, '-' and '_' (a path is never accepted)",
		    name);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s.yaml", s->tdir, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		*status = 404;
		qp_fail(err, "there is no template named '%s'", name);
		return NULL;
	}
	if ((t = qp_template_load(path, err)) == NULL) {
		/* The file is there but broken: the operator's problem. */
		*status = 500;
		return NULL;
	}
	return t;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the templates in the directory, sorted. */
static char **
list_templates(qp_server *s, size_t *n)
{
	DIR *d = opendir(s->tdir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		name = qp_xstrndup(e->d_name, len - 5);
		if (!qp_serve_name_ok(name)) {
			free(name);
			continue;
		}
		v = qp_xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = name;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static void
template_json(qp_buf *b, const char *name, const qp_template *t,
    bool with_vars)
{
	qp_buf_adds(b, "{\"name\":");
	srv_json_str(b, name);
	qp_buf_adds(b, ",\"title\":");
	srv_json_str(b, t->name);
	qp_buf_adds(b, ",\"description\":");
	srv_json_str(b, t->description);
	qp_buf_printf(b, ",\"width_in\":%.2f,\"height_in\":%.2f",
	    t->page_w / QP_PT_PER_IN, t->page_h / QP_PT_PER_IN);
	if (with_vars) {
		qp_buf_adds(b, ",\"variables\":[");
		for (size_t i = 0; i < t->nvars; i++) {
			const qp_var *v = &t->vars[i];

			qp_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
			srv_json_str(b, v->name);
			qp_buf_adds(b, ",\"default\":");
			srv_json_str(b, v->def);
			qp_buf_adds(b, ",\"description\":");
			srv_json_str(b, v->desc);
			if (v->nchoices) {
				qp_buf_adds(b, ",\"choices\":[");
				for (size_t k = 0; k < v->nchoices; k++) {
					if (k)
						qp_buf_addc(b, ',');
					srv_json_str(b, v->choices[k]);
				}
				qp_buf_addc(b, ']');
			}
			qp_buf_printf(b, ",\"required\":%s}",
			    v->def ? "false" : "true");
		}
		qp_buf_adds(b, "]");
	}
	qp_buf_adds(b, "}");
}

enum MHD_Result
srv_api_templates(qp_server *s, struct MHD_Connection *c)
{
	size_t n, shown = 0;
	char **names = list_templates(s, &n);
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"templates\":[");
	for (size_t i = 0; i < n; i++) {
		qp_template *t;
		unsigned status;
		qp_error err;

		/* A broken file is left out of the menu, not fatal. */
		if ((t = srv_load_template(s, names[i], &status, &err)) != NULL) {
			if (shown++)
				qp_buf_addc(&b, ',');
			template_json(&b, names[i], t, false);
			qp_template_free(t);
		}
		free(names[i]);
	}
	free(names);
	qp_buf_printf(&b, "],\"batch\":true,\"max_csv_bytes\":%d,"
	    "\"max_rows\":%d}\n", QP_SERVE_MAX_CSV, QP_SERVE_MAX_ROWS);
	return srv_send_json(c, 200, &b);
}

enum MHD_Result
srv_api_template(qp_server *s, struct MHD_Connection *c, const char *name)
{
	qp_template *t;
	unsigned status;
	qp_error err;
	qp_buf b;

	if ((t = srv_load_template(s, name, &status, &err)) == NULL)
		return srv_send_error(c, status, "%s", err.msg);
	qp_buf_init(&b);
	template_json(&b, name, t, true);
	qp_buf_adds(&b, "\n");
	qp_template_free(t);
	return srv_send_json(c, 200, &b);
}

/* ---------------------------------------------------------------- */
/* Poster forms. */

/* A form: key=value pairs, decoded. */
typedef struct form {
	char **k, **v;
	size_t n;
} form;

static void
form_free(form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->k[i]);
		free(f->v[i]);
	}
	free(f->k);
	free(f->v);
}

static bool
form_parse(const char *s, size_t len, form *f, qp_error *err)
{
	const char *end = s + len;
	qp_buf kb, vb;

	memset(f, 0, sizeof *f);
	qp_buf_init(&kb);
	qp_buf_init(&vb);
	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(pe - s));

		if (pe == s) {
			s++;
			continue;
		}
		if (eq == NULL ||
		    !qp_serve_urldecode(s, (size_t)(eq - s), &kb) ||
		    !qp_serve_urldecode(eq + 1, (size_t)(pe - eq - 1), &vb)) {
			qp_buf_free(&kb);
			qp_buf_free(&vb);
			form_free(f);
			return qp_fail(err, "the form is malformed: expected "
			    "key=value pairs, URL-encoded");
		}
		f->k = qp_xrealloc(f->k, (f->n + 1) * sizeof *f->k);
		f->v = qp_xrealloc(f->v, (f->n + 1) * sizeof *f->v);
		/* Keep any NUL inside a value: it is refused later. */
		f->k[f->n] = qp_xstrndup(kb.data, kb.len);
		f->v[f->n] = qp_xmalloc(vb.len + 1);
		memcpy(f->v[f->n], vb.data, vb.len + 1);
		if (strlen(f->v[f->n]) != vb.len)
			f->v[f->n][0] = '\x01'; /* a control character */
		f->n++;
		s = pe + 1;
	}
	qp_buf_free(&kb);
	qp_buf_free(&vb);
	return true;
}

static const char *
form_get(const form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->k[i], key) == 0)
			return f->v[i];
	return NULL;
}

/* Why a value cannot go on a poster, or NULL. */
const char *
srv_value_problem(const char *v)
{
	size_t n = strlen(v);

	if (n > QP_SERVE_MAX_VALUE)
		return "This is too long (the limit is 2000 characters).";
	if (!qp_utf8_valid(v, n, NULL))
		return "This is not valid text (UTF-8).";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return "This contains a control character; type "
			    "ordinary text only.";
	}
	return NULL;
}

/*
 * Build a job from a poster form: template=NAME, var.NAME=value for each
 * variable given (the rest take their defaults). Field problems go in the
 * job's problem list; a request that is wrong as a whole is *status
 * with err.
 */
static job *
job_from_form(qp_server *s, const char *body, size_t len, unsigned *status,
    qp_error *err)
{
	form f;
	job *j;
	const char *tname;

	if (!form_parse(body, len, &f, err)) {
		*status = 400;
		return NULL;
	}
	if ((tname = form_get(&f, "template")) == NULL) {
		form_free(&f);
		*status = 400;
		qp_fail(err, "the form has no 'template' field");
		return NULL;
	}
	j = qp_xcalloc(1, sizeof *j);
	j->refs = 1;
	qp_buf_init(&j->png);
	if ((j->t = srv_load_template(s, tname, status, err)) == NULL) {
		form_free(&f);
		free(j);
		return NULL;
	}
	j->values = qp_xcalloc(j->t->nvars + 1, sizeof *j->values);
	for (size_t i = 0; i < j->t->nvars; i++)
		if (j->t->vars[i].def)
			j->values[i] = qp_xstrdup(j->t->vars[i].def);
	for (size_t i = 0; i < f.n; i++) {
		const char *why;
		long idx;

		if (strncmp(f.k[i], "var.", 4) != 0)
			continue;
		idx = qp_template_var(j->t, f.k[i] + 4);
		if (idx < 0) {
			*status = 400;
			qp_fail(err, "the template '%s' has no field '%.80s'",
			    tname, f.k[i] + 4);
			form_free(&f);
			srv_job_free(j);
			return NULL;
		}
		if ((why = srv_value_problem(f.v[i])) != NULL) {
			problem *p = srv_problem_add(&j->problems, &j->nproblems,
			    "error", why, NULL);
			srv_problem_field(p, f.k[i] + 4);
			continue;
		}
		free(j->values[idx]);
		j->values[idx] = qp_xstrdup(f.v[i]);
	}
	for (size_t i = 0; i < j->t->nvars; i++) {
		if (j->values[i] == NULL || j->values[i][0] == '\0') {
			bool listed = false;

			for (size_t k = 0; k < j->nproblems; k++)
				if (j->problems[k].nfields &&
				    strcmp(j->problems[k].fields[0],
				    j->t->var_names[i]) == 0)
					listed = true;
			if (j->t->vars[i].def == NULL && !listed) {
				problem *p = srv_problem_add(&j->problems,
				    &j->nproblems, "error", "Fill this in: "
				    "every poster needs it.", NULL);
				srv_problem_field(p, j->t->var_names[i]);
			}
		}
	}
	/* Output settings. */
	j->fmt = QP_FMT_PDF;
	j->dpi = 300;
	{
		const char *fmt = form_get(&f, "format");
		const char *dpi = form_get(&f, "dpi");
		long v;

		if (fmt && strcmp(fmt, "png") == 0)
			j->fmt = QP_FMT_PNG;
		else if (fmt && strcmp(fmt, "pdf") != 0) {
			*status = 400;
			qp_fail(err, "format must be pdf or png");
			goto bad;
		}
		if (dpi) {
			if (!qp_parse_int(dpi, 72, 600, &v)) {
				*status = 400;
				qp_fail(err, "dpi must be a whole number from "
				    "72 to 600");
				goto bad;
			}
			j->dpi = (double)v;
		}
		if (j->fmt == QP_FMT_PNG) {
			double px = j->t->page_w / 72.0 * j->dpi *
			    j->t->page_h / 72.0 * j->dpi;

			if (px > QP_SERVE_MAX_PIXELS) {
				*status = 400;
				qp_fail(err, "a %.1fx%.1fin poster at %.0f DPI "
				    "is %.0f megapixels; the limit here is %.0f: "
				    "choose %d DPI or lower, or download the "
				    "PDF", j->t->page_w / 72.0,
				    j->t->page_h / 72.0, j->dpi, px / 1e6,
				    QP_SERVE_MAX_PIXELS / 1e6, qp_png_max_dpi(
				    j->t->page_w, j->t->page_h,
				    QP_SERVE_MAX_PIXELS));
				goto bad;
			}
		}
	}
	form_free(&f);
	return j;
bad:
	form_free(&f);
	srv_job_free(j);
	return NULL;
}

static void
problems_json(qp_buf *b, const job *j)
{
	qp_buf_adds(b, "\"problems\":[");
	for (size_t i = 0; i < j->nproblems; i++) {
		const problem *p = &j->problems[i];

		qp_buf_adds(b, i ? ",{\"severity\":" : "{\"severity\":");
		srv_json_str(b, p->severity);
		qp_buf_adds(b, ",\"block\":");
		srv_json_str(b, p->block);
		qp_buf_adds(b, ",\"fields\":[");
		for (size_t k = 0; k < p->nfields; k++) {
			if (k)
				qp_buf_addc(b, ',');
			srv_json_str(b, p->fields[k]);
		}
		qp_buf_adds(b, "],\"message\":");
		srv_json_str(b, p->message);
		qp_buf_adds(b, ",\"detail\":");
		srv_json_str(b, p->detail);
		qp_buf_adds(b, "}");
	}
	qp_buf_adds(b, "]");
}

static bool
has_errors(const job *j)
{
	for (size_t i = 0; i < j->nproblems; i++)
		if (strcmp(j->problems[i].severity, "error") == 0)
			return true;
	return false;
}

/* The 422 answer listing what is wrong with the poster's values. */
static enum MHD_Result
send_problems(struct MHD_Connection *c, const job *j)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"ok\":false,\"error\":");
	srv_json_str(&b, j->nproblems ? j->problems[0].message :
	    "the poster cannot be made");
	qp_buf_adds(&b, ",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	return srv_send_json(c, 422, &b);
}

static enum MHD_Result
send_wait_failure(qp_server *s, struct MHD_Connection *c, wait_result w)
{
	switch (w) {
	case WAIT_BUSY:
		return srv_send_error(c, 503, "the server is busy with %d renders; "
		    "try again in a moment", QP_SERVE_QUEUE);
	case WAIT_TIMEOUT:
		return srv_send_error(c, 503, "the poster took longer than %g "
		    "seconds to render and was cut off; shorten the texts or "
		    "try again", s->timeout);
	default:
		return srv_send_error(c, 503, "the server is shutting down");
	}
}

/*
 * The common part of the preview and download endpoints: parse the form
 * into a job, refuse it with its problems if preflight found errors, run
 * it on a worker and wait. Returns the finished job (release it), or NULL
 * with *ret the response already sent.
 */
static job *
run_form_job(qp_server *s, struct MHD_Connection *c, const req *r,
    job_kind kind,
    enum MHD_Result *ret)
{
	unsigned status;
	qp_error err;
	wait_result w;
	job *j;

	if ((j = job_from_form(s, r->body.data, r->body.len, &status,
	    &err)) == NULL) {
		*ret = srv_send_error(c, status, "%s", err.msg);
		return NULL;
	}
	j->kind = kind;
	if (has_errors(j)) {
		*ret = send_problems(c, j);
		srv_job_free(j);
		return NULL;
	}
	if ((w = srv_submit_wait(s, j)) != WAIT_DONE) {
		srv_release(s, j);
		*ret = send_wait_failure(s, c, w);
		return NULL;
	}
	if (!j->ok) {
		*ret = j->nproblems ? send_problems(c, j) :
		    srv_send_error(c, 500, "%s", j->err.msg);
		srv_release(s, j);
		return NULL;
	}
	return j;
}

enum MHD_Result
srv_api_preview(qp_server *s, struct MHD_Connection *c, const req *r)
{
	enum MHD_Result ret;
	job *j;
	qp_buf b;

	if ((j = run_form_job(s, c, r, JOB_PREVIEW, &ret)) == NULL)
		return ret;
	qp_buf_init(&b);
	qp_buf_printf(&b, "{\"ok\":true,\"width\":%d,\"height\":%d,"
	    "\"image\":\"data:image/png;base64,", j->png_w, j->png_h);
	srv_base64(&b, (const unsigned char *)j->png.data, j->png.len);
	qp_buf_adds(&b, "\",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	srv_release(s, j);
	return srv_send_json(c, 200, &b);
}

enum MHD_Result
srv_api_poster(qp_server *s, struct MHD_Connection *c, const req *r)
{
	enum MHD_Result ret;
	struct MHD_Response *resp;
	struct stat st;
	qp_buf name;
	long code;
	job *j;
	int fd;

	if ((j = run_form_job(s, c, r, JOB_FILE, &ret)) == NULL)
		return ret;
	/* The connection owns the file now: open it, then unlink it. */
	fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ret = srv_send_error(c, 500, "cannot read the rendered poster: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		srv_release(s, j);
		return ret;
	}
	qp_buf_init(&name);
	qp_buf_adds(&name, "attachment; filename=\"poster");
	code = qp_template_var(j->t, "code");
	if (code >= 0 && j->values[code] && j->values[code][0]) {
		qp_buf_addc(&name, '-');
		srv_safe_filename(&name, j->values[code]);
	}
	qp_buf_adds(&name, j->fmt == QP_FMT_PDF ? ".pdf\"" : ".png\"");
	resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		qp_buf_free(&name);
		srv_release(s, j);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", j->fmt == QP_FMT_PDF ?
	    "application/pdf" : "image/png");
	MHD_add_response_header(resp, "Content-Disposition", name.data);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	srv_common_headers(resp);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	qp_buf_free(&name);
	srv_release(s, j);
	return ret;
}
