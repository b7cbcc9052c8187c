/*
 * serve_batch.c - print runs from the web editor: an uploaded CSV made
 * into one combined PDF and its manifest by qp_batch_run.
 */
#define _GNU_SOURCE
#include "serve_int.h"

/* ---------------------------------------------------------------- */
/* Print runs. */

static const char *const bstate_names[] = {"running", "done", "failed",
	"cancelled"};

/* Messages name the uploaded file, not the server's temporary path. */
static char *
batch_msg(const bjob *b, const char *msg)
{
	size_t n = strlen(b->dir);
	qp_buf out;

	qp_buf_init(&out);
	while (*msg) {
		if (strncmp(msg, b->dir, n) == 0 && msg[n] == '/') {
			msg += n + 1;
			continue;
		}
		qp_buf_addc(&out, *msg++);
	}
	qp_buf_add(&out, "", 0);
	return qp_buf_steal(&out);
}

void
srv_batch_free(bjob *b)
{
	if (b == NULL)
		return;
	qp_stop_destroy(&b->stop);
	if (b->dir) {
		unlink(b->csv);
		unlink(b->pdf);
		unlink(b->manifest);
		rmdir(b->dir);
	}
	free(b->dir);
	free(b->csv);
	free(b->pdf);
	free(b->manifest);
	free(b->tpath);
	free(b->tname);
	for (size_t i = 0; i < b->nsets; i++)
		free(b->sets[i]);
	free(b->sets);
	qp_profile_free(b->profile);
	free(b->error);
	for (size_t i = 0; i < b->nrow_errors; i++)
		free(b->row_errors[i]);
	free(b->row_errors);
	free(b);
}

static void
batch_row_error(void *arg, const char *msg)
{
	bjob *b = arg;

	pthread_mutex_lock(&b->s->mu);
	if (b->nrow_errors < ROW_ERRORS_SHOWN) {
		b->row_errors = qp_xrealloc(b->row_errors,
		    (b->nrow_errors + 1) * sizeof *b->row_errors);
		b->row_errors[b->nrow_errors++] = batch_msg(b, msg);
	} else
		b->more_row_errors++;
	pthread_mutex_unlock(&b->s->mu);
}

static void
batch_note(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
batch_progress(void *arg, const char *phase, size_t done, size_t total)
{
	bjob *b = arg;

	pthread_mutex_lock(&b->s->mu);
	b->phase = strcmp(phase, "checking") == 0 ? "checking" : "rendering";
	b->done = done;
	b->total = total;
	b->last_progress = time(NULL);
	pthread_mutex_unlock(&b->s->mu);
}

/* One CSV field, quoted when it must be (RFC 4180). */
static void
csv_field(qp_buf *out, const char *s, size_t len, bool last)
{
	bool q = len > 0 && (memchr(s, ',', len) || memchr(s, '"', len) ||
	    memchr(s, '\r', len) || memchr(s, '\n', len) || s[0] == ' ' ||
	    s[len - 1] == ' ');

	if (q)
		qp_buf_addc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (q && s[i] == '"')
			qp_buf_addc(out, '"');
		qp_buf_addc(out, s[i]);
	}
	if (q)
		qp_buf_addc(out, '"');
	qp_buf_adds(out, last ? "\n" : ",");
}

/*
 * Rewrite the manifest's file column, which names the combined PDF by
 * the path batch wrote it to (this server's temporary folder), with the
 * name the PDF is downloaded under: the two files are read side by side
 * on the user's computer. Everything else is kept as written.
 */
static bool
manifest_relative(bjob *b, qp_error *err)
{
	char *name = qp_xasprintf("%s-print-run.pdf", b->tname);
	qp_outfile of;
	qp_data *d;
	qp_record rec;
	qp_buf line;
	long fc;
	int r;
	bool ok;

	if ((d = qp_data_open(b->manifest, err)) == NULL) {
		free(name);
		return false;
	}
	fc = qp_data_col_index(d, "file");
	if (!qp_outfile_open(&of, b->manifest, err)) {
		qp_data_close(d);
		free(name);
		return false;
	}
	qp_buf_init(&line);
	for (size_t k = 0; k < qp_data_ncols(d); k++)
		csv_field(&line, qp_data_col(d, k), strlen(qp_data_col(d, k)),
		    k + 1 == qp_data_ncols(d));
	while ((r = qp_data_next(d, &rec, err)) == 1)
		for (size_t k = 0; k < qp_data_ncols(d); k++) {
			bool ours = (long)k == fc && strcmp(rec.fields[k],
			    b->pdf) == 0;

			csv_field(&line, ours ? name : rec.fields[k], ours ?
			    strlen(name) : rec.lens[k], k + 1 ==
			    qp_data_ncols(d));
		}
	qp_data_close(d);
	ok = r == 0 && qp_outfile_write(&of, line.data, line.len) &&
	    qp_outfile_commit(&of, err);
	if (!ok)
		qp_outfile_abort(&of);
	qp_buf_free(&line);
	free(name);
	return ok;
}

static void *
batch_thread(void *arg)
{
	bjob *b = arg;
	qp_batch_opts o;
	qp_batch_hooks h = {0};
	qp_batch_stats st;
	qp_error err;
	bool ok;

	memset(&o, 0, sizeof o);
	memset(&st, 0, sizeof st);
	o.template_path = b->tpath;
	o.data = b->csv;
	o.sets = (const char *const *)b->sets;
	o.nsets = b->nsets;
	o.profile = b->profile;
	o.combine = b->pdf;
	o.manifest = b->manifest;
	o.render = (qp_render_opts)QP_RENDER_OPTS_DEFAULT;
	o.shard_k = o.shard_n = 1;
	o.jobs = 1;
	o.check = true;
	h.arg = b;
	h.row_error = batch_row_error;
	h.note = batch_note;
	h.progress = batch_progress;
	h.stop = &b->stop;
	ok = qp_batch_run(&o, &h, &st, &err);
	/* The manifest travels with the PDF it lists: name it as it is
	 * downloaded, not by the server's temporary path. */
	if (ok && !st.interrupted && !manifest_relative(b, &err))
		ok = false;
	pthread_mutex_lock(&b->s->mu);
	if (!ok) {
		b->state = B_FAILED;
		b->error = batch_msg(b, err.msg);
	} else if (st.interrupted) {
		b->state = B_CANCELLED;
		b->error = qp_xstrdup(b->cut_off ? "the print run stopped "
		    "making progress and was cut off" : "the print run was "
		    "cancelled");
	} else {
		b->state = B_DONE;
		b->pages = st.pages;
		b->done = b->total;
	}
	pthread_mutex_unlock(&b->s->mu);
	return NULL;
}

/* The batch with this id, or NULL; the server lock is held. */
static bjob *
batch_find(qp_server *s, const char *id, size_t idlen)
{
	for (size_t i = 0; i < s->nbatches; i++)
		if (strlen(s->batches[i]->id) == idlen &&
		    strncmp(s->batches[i]->id, id, idlen) == 0)
			return s->batches[i];
	return NULL;
}

typedef struct sets_ctx {
	bjob *b;
	const qp_template *t;
	char *bad;
} sets_ctx;

static enum MHD_Result
collect_set(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	sets_ctx *x = cls;
	const char *why;

	(void)kind;
	if (x->bad)
		return MHD_YES;
	/* A value from the opened settings: under the CSV's, as batch
	 * --profile puts it (an empty one is simply not given). */
	if (strncmp(key, "profile.", 8) == 0) {
		if (qp_template_var(x->t, key + 8) < 0) {
			x->bad = qp_xasprintf("the template has no field "
			    "'%.80s'", key + 8);
			return MHD_NO;
		}
		if (value && (why = srv_value_problem(value)) != NULL) {
			x->bad = qp_xasprintf("%s: %s", key + 8, why);
			return MHD_NO;
		}
		if (value == NULL || *value == '\0')
			return MHD_YES;
		if (x->b->profile == NULL)
			x->b->profile = qp_profile_new("the opened settings");
		qp_profile_add(x->b->profile, key + 8, value);
		return MHD_YES;
	}
	if (strncmp(key, "var.", 4) != 0)
		return MHD_YES;
	if (qp_template_var(x->t, key + 4) < 0) {
		x->bad = qp_xasprintf("the template has no field '%.80s'",
		    key + 4);
		return MHD_NO;
	}
	if (value == NULL)
		value = "";
	if ((why = srv_value_problem(value)) != NULL) {
		x->bad = qp_xasprintf("%s: %s", key + 4, why);
		return MHD_NO;
	}
	/* An empty box means "the template's value", so the CSV decides. */
	if (*value == '\0')
		return MHD_YES;
	x->b->sets = qp_xrealloc(x->b->sets, (x->b->nsets + 1) *
	    sizeof *x->b->sets);
	x->b->sets[x->b->nsets++] = qp_xasprintf("%s=%s", key + 4, value);
	return MHD_YES;
}

/* Count the rows of the uploaded CSV, checking its syntax as batch will. */
static bool
count_rows(bjob *b, const qp_template *t, unsigned *status, qp_error *err)
{
	qp_data *d;
	qp_record rec;
	int r;

	*status = 400;
	if ((d = qp_data_open(b->csv, err)) == NULL)
		return false;
	/* The columns the posters need, as batch binds them (bind.h). */
	{
		qp_binding *bind = qp_binding_new(t);
		const qp_diag *e = NULL;
		qp_diag_list dl;
		bool bad;

		qp_diag_list_init(&dl);
		if (b->profile)
			qp_binding_profile(bind, b->profile, &dl, err);
		for (size_t k = 0; k < b->nsets; k++)
			qp_binding_set(bind, b->sets[k], &dl);
		if (dl.nerrors == 0)
			qp_binding_columns(bind, d, &dl);
		for (size_t k = 0; k < dl.n && e == NULL; k++)
			if (dl.v[k].sev == QP_DIAG_ERROR)
				e = &dl.v[k];
		/* Which columns it has: a header with a typo is seen at
		 * once. */
		if (e && e->code == QP_D_COLUMN_MISSING)
			qp_fail(err, "the CSV has no column '%s' (its columns: "
			    "%s): its first row must name the columns, e.g. "
			    "code,name [%s]", e->vars[0], e->s[0],
			    qp_code_name(e->code));
		else if (e)
			qp_fail(err, "%s", e->msg);
		bad = e != NULL;
		qp_diag_list_clear(&dl);
		qp_binding_free(bind);
		if (bad) {
			qp_data_close(d);
			return false;
		}
	}
	while ((r = qp_data_next(d, &rec, err)) == 1)
		if (++b->rows > QP_SERVE_MAX_ROWS) {
			qp_data_close(d);
			*status = 413;
			return qp_fail(err, "the CSV has more than %d rows; split "
			    "it into smaller print runs", QP_SERVE_MAX_ROWS);
		}
	qp_data_close(d);
	if (r < 0)
		return false;
	if (b->rows == 0)
		return qp_fail(err, "the CSV has a header row but no "
		    "locations");
	return true;
}

enum MHD_Result
srv_api_batch_start(qp_server *s, struct MHD_Connection *c, const req *r)
{
	const char *tname = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "template");
	qp_template *t = NULL;
	bjob *b = NULL;
	unsigned status = 400;
	qp_error err;
	sets_ctx x;
	qp_outfile of;
	enum MHD_Result ret;
	qp_buf out;
	char *msg;

	if (tname == NULL)
		return srv_send_error(c, 400, "add ?template=NAME to the address");
	if ((t = srv_load_template(s, tname, &status, &err)) == NULL)
		return srv_send_error(c, status, "%s", err.msg);
	b = qp_xcalloc(1, sizeof *b);
	b->s = s;
	if (!qp_stop_init(&b->stop, &err)) {
		ret = srv_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	b->tpath = qp_xstrdup(t->path);
	b->tname = qp_xstrdup(tname);
	x = (sets_ctx){b, t, NULL};
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_set, &x);
	if (x.bad) {
		ret = srv_send_error(c, 400, "%s", x.bad);
		free(x.bad);
		goto out;
	}
	if (!qp_utf8_valid(r->body.data, r->body.len, NULL)) {
		ret = srv_send_error(c, 400, "the CSV is not UTF-8 text: save it "
		    "as \"CSV UTF-8\"");
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nbatches; i++)
		if (s->batches[i]->state == B_RUNNING) {
			pthread_mutex_unlock(&s->mu);
			ret = srv_send_error(c, 503, "a print run is already being "
			    "made; wait for it to finish or cancel it");
			goto out;
		}
	pthread_mutex_unlock(&s->mu);
	if (!srv_random_hex(b->id, sizeof b->id)) {
		ret = srv_send_error(c, 500, "cannot make a print-run id");
		goto out;
	}
	b->dir = qp_xasprintf("%s/batch-%s", s->tmpdir, b->id);
	b->csv = qp_xasprintf("%s/locations.csv", b->dir);
	b->pdf = qp_xasprintf("%s/print-run.pdf", b->dir);
	b->manifest = qp_xasprintf("%s/manifest.csv", b->dir);
	if (mkdir(b->dir, 0700) != 0) {
		free(b->dir);
		b->dir = NULL;
		ret = srv_send_error(c, 500, "cannot make a folder for the print "
		    "run: %s", strerror(errno));
		goto out;
	}
	if (!qp_outfile_open(&of, b->csv, &err) ||
	    !qp_outfile_write(&of, r->body.data, r->body.len) ||
	    !qp_outfile_commit(&of, &err)) {
		ret = srv_send_error(c, 500, "cannot store the CSV");
		goto out;
	}
	if (!count_rows(b, t, &status, &err)) {
		msg = batch_msg(b, err.msg);
		ret = srv_send_error(c, status, "%s", msg);
		free(msg);
		goto out;
	}
	b->state = B_RUNNING;
	b->phase = "checking";
	b->total = b->rows;
	b->last_progress = time(NULL);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nbatches; i++)
		if (s->batches[i]->state == B_RUNNING) {
			/* Another upload started one meanwhile. */
			pthread_mutex_unlock(&s->mu);
			ret = srv_send_error(c, 503, "a print run is already being "
			    "made; wait for it to finish or cancel it");
			goto out;
		}
	if (s->nbatches == QP_SERVE_MAX_BATCHES) {
		/* The oldest finished run makes room (none is running). */
		pthread_join(s->batches[0]->thread, NULL);
		srv_batch_free(s->batches[0]);
		memmove(s->batches, s->batches + 1, (s->nbatches - 1) *
		    sizeof *s->batches);
		s->nbatches--;
	}
	if (pthread_create(&b->thread, NULL, batch_thread, b) != 0) {
		pthread_mutex_unlock(&s->mu);
		ret = srv_send_error(c, 500, "cannot start the print run");
		goto out;
	}
	s->batches[s->nbatches++] = b;
	pthread_mutex_unlock(&s->mu);
	qp_buf_init(&out);
	qp_buf_printf(&out, "{\"id\":\"%s\",\"rows\":%zu,\"status\":"
	    "\"/api/batch/%s\"}\n", b->id, b->rows, b->id);
	b = NULL;
	ret = srv_send_json(c, 202, &out);
out:
	srv_batch_free(b);
	qp_template_free(t);
	return ret;
}

static enum MHD_Result
batch_status(qp_server *s, struct MHD_Connection *c, bjob *b)
{
	qp_buf out;

	/* A row that takes longer than the render timeout is cut off. */
	if (b->state == B_RUNNING && !qp_stop_why(&b->stop) &&
	    difftime(time(NULL), b->last_progress) > s->timeout) {
		b->cut_off = true;
		qp_stop_request(&b->stop, 1);
	}
	qp_buf_init(&out);
	qp_buf_printf(&out, "{\"id\":\"%s\",\"template\":", b->id);
	srv_json_str(&out, b->tname);
	qp_buf_printf(&out, ",\"state\":\"%s\",\"phase\":\"%s\","
	    "\"done\":%zu,\"total\":%zu,\"rows\":%zu,\"pages\":%zu,"
	    "\"error\":", bstate_names[b->state], b->phase, b->done,
	    b->total, b->rows, b->pages);
	srv_json_str(&out, b->error);
	qp_buf_adds(&out, ",\"row_errors\":[");
	for (size_t i = 0; i < b->nrow_errors; i++) {
		if (i)
			qp_buf_addc(&out, ',');
		srv_json_str(&out, b->row_errors[i]);
	}
	qp_buf_printf(&out, "],\"more_row_errors\":%zu", b->more_row_errors);
	if (b->state == B_DONE)
		qp_buf_printf(&out, ",\"pdf\":\"/api/batch/%s/print-run.pdf\","
		    "\"manifest\":\"/api/batch/%s/manifest.csv\"", b->id,
		    b->id);
	qp_buf_adds(&out, "}\n");
	return srv_send_json(c, 200, &out);
}

static enum MHD_Result
send_file(struct MHD_Connection *c, const char *path, const char *type,
    const char *filename)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct stat st;
	char disp[256];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return srv_send_error(c, 404, "the file is gone (the server keeps "
		    "the last %d print runs)", QP_SERVE_MAX_BATCHES);
	}
	if ((resp = MHD_create_response_from_fd((size_t)st.st_size, fd)) ==
	    NULL) {
		close(fd);
		return MHD_NO;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	srv_common_headers(resp);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* /api/batch/ID, /api/batch/ID/print-run.pdf, .../manifest.csv,
 * .../cancel */
enum MHD_Result
srv_api_batch(qp_server *s, struct MHD_Connection *c, const char *rest,
    bool get, bool post)
{
	const char *slash = strchr(rest, '/');
	size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *what = slash ? slash + 1 : "";
	enum MHD_Result ret;
	char *path = NULL, name[64];
	bool pdf;
	bjob *b;

	pthread_mutex_lock(&s->mu);
	if ((b = batch_find(s, rest, idlen)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return srv_send_error(c, 404, "no such print run (the server keeps "
		    "the last %d)", QP_SERVE_MAX_BATCHES);
	}
	if (strcmp(what, "cancel") == 0) {
		if (!post)
			ret = srv_send_error(c, 405, "use POST to cancel");
		else {
			qp_stop_request(&b->stop, 1);
			ret = batch_status(s, c, b);
		}
		pthread_mutex_unlock(&s->mu);
		return ret;
	}
	if (!get) {
		pthread_mutex_unlock(&s->mu);
		return srv_send_error(c, 405, "use GET here");
	}
	if (*what == '\0') {
		ret = batch_status(s, c, b);
		pthread_mutex_unlock(&s->mu);
		return ret;
	}
	pdf = strcmp(what, "print-run.pdf") == 0;
	if (!pdf && strcmp(what, "manifest.csv") != 0) {
		pthread_mutex_unlock(&s->mu);
		return srv_send_error(c, 404, "a print run has print-run.pdf and "
		    "manifest.csv");
	}
	if (b->state != B_DONE) {
		pthread_mutex_unlock(&s->mu);
		return srv_send_error(c, 409, "the print run is not finished");
	}
	path = qp_xstrdup(pdf ? b->pdf : b->manifest);
	snprintf(name, sizeof name, "%s-%s", b->tname, pdf ? "print-run.pdf" :
	    "manifest.csv");
	pthread_mutex_unlock(&s->mu);
	ret = send_file(c, path, pdf ? "application/pdf" :
	    "text/csv; charset=utf-8", name);
	free(path);
	return ret;
}
