/*
 * serve.c - the local web editor's HTTP server.
 *
 * libmicrohttpd runs one thread per connection; a connection never
 * renders itself. It checks the request, loads the template by name,
 * and hands a job to a fixed pool of render workers (each with its own
 * qp_layout_ctx, so Pango state is never shared) through a bounded
 * queue, then waits for the result until a deadline. A full queue is a
 * 503 at once; a render past the deadline is cut off with a 503 and its
 * result thrown away when the worker finishes. So a burst of requests
 * costs at most `workers` renders of memory at a time.
 *
 * Templates are chosen by name only (qp_serve_name_ok), looked up in one
 * directory: a request never supplies a path.
 */
#define _GNU_SOURCE
#include "serve.h"

#include <arpa/inet.h>
#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "check.h"
#include "data.h"
#include "fonts.h"
#include "layout.h"
#include "render.h"
#include "template.h"

/*
 * Content-Security-Policy: the page's own script and style files only
 * (no inline script or style), previews as data: URLs, downloads as
 * blob: URLs, requests to this server only, no framing.
 */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; " \
	"base-uri 'none'; frame-ancestors 'none'"

/* A PNG download over this many pixels takes the one big-render slot. */
#define BIG_PIXELS (8.0 * 1000 * 1000)

/* The preview is at most this many pixels on its longer side. */
#define PREVIEW_PX 1000.0
#define PREVIEW_MAX_DPI 96.0

typedef enum job_kind {
	JOB_PREVIEW, /* a small PNG in memory */
	JOB_FILE,    /* a PDF or PNG file in the server's temporary folder */
} job_kind;

/* One problem shown beside the preview. */
typedef struct problem {
	const char *severity; /* "error" or "warning" */
	char *block;          /* the template block, or NULL */
	char **fields;        /* variables it concerns */
	size_t nfields;
	char *message;        /* plain words */
	char *detail;         /* the engine's own message, or NULL */
} problem;

typedef struct job {
	int refs;     /* connection + queue/worker; under the server lock */
	bool done;
	bool cancelled;
	job_kind kind;
	qp_format fmt;
	double dpi;
	qp_template *t;
	char **values; /* t->nvars strings, owned */
	/* results */
	bool ok;
	qp_error err;
	problem *problems;
	size_t nproblems;
	qp_buf png;
	int png_w, png_h;
	char *path;
} job;

/*
 * A print run: an uploaded CSV made into one combined PDF and its
 * manifest by qp_batch_run, in a thread of its own (one at a time), in a
 * folder of its own under the server's temporary folder.
 */
typedef enum bstate {
	B_RUNNING,
	B_DONE,
	B_FAILED,
	B_CANCELLED,
} bstate;

#define ROW_ERRORS_SHOWN 50

typedef struct bjob {
	qp_server *s;
	char id[33];
	char *dir, *csv, *pdf, *manifest, *tpath, *tname;
	char **sets; /* "KEY=VALUE" from the page's fields */
	size_t nsets;
	size_t rows;
	pthread_t thread;
	volatile sig_atomic_t stop;
	/* under the server lock */
	bstate state;
	const char *phase;
	size_t done, total;
	time_t last_progress;
	bool cut_off;
	char *error;
	char **row_errors;
	size_t nrow_errors, more_row_errors;
	size_t pages;
} bjob;

struct qp_server {
	struct MHD_Daemon *mhd;
	char *bind;
	char *tdir;
	char *tmpdir;
	unsigned port;
	bool loopback;
	double timeout;

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a job was queued, or stopping */
	pthread_cond_t done_cv; /* a job finished, or stopping */
	job *queue[QP_SERVE_QUEUE];
	size_t qhead, qlen;
	bool stopping;
	pthread_t *threads;
	unsigned nthreads;
	unsigned long seq;
	/* One large raster at a time: a 50-megapixel PNG is 200 MB of
	 * pixels, and several at once could exhaust a small machine. */
	pthread_mutex_t big_mu;
	bjob *batches[QP_SERVE_MAX_BATCHES];
	size_t nbatches;
};

/* Per-request state: the body read so far. */
typedef struct req {
	qp_buf body;
	size_t limit;
	bool too_big;
} req;

/* ---------------------------------------------------------------- */
/* Small helpers. */

bool
qp_serve_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_')))
			return false;
	}
	return true;
}

bool
qp_serve_urldecode(const char *s, size_t len, qp_buf *out)
{
	qp_buf_reset(out);
	qp_buf_add(out, "", 0);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+')
			qp_buf_addc(out, ' ');
		else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return false;
			hi = qp_hex_digit(s[i + 1]);
			lo = qp_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			qp_buf_addc(out, (char)(hi * 16 + lo));
			i += 2;
		} else
			qp_buf_addc(out, s[i]);
	}
	return true;
}

static void
json_str(qp_buf *b, const char *s)
{
	if (s == NULL) {
		qp_buf_adds(b, "null");
		return;
	}
	qp_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			qp_buf_addc(b, '\\');
			qp_buf_addc(b, (char)c);
		} else if (c == '\n')
			qp_buf_adds(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			qp_buf_printf(b, "\\u%04x", c);
		else if (c == '<')
			qp_buf_adds(b, "\\u003c"); /* never "</script>" */
		else
			qp_buf_addc(b, (char)c);
	}
	qp_buf_addc(b, '"');
}

static void
base64(qp_buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		qp_buf_addc(b, tab[(v >> 18) & 63]);
		qp_buf_addc(b, tab[(v >> 12) & 63]);
		qp_buf_addc(b, k > 1 ? tab[(v >> 6) & 63] : '=');
		qp_buf_addc(b, k > 2 ? tab[v & 63] : '=');
	}
}

/* A file-name-safe version of s for Content-Disposition. */
static void
safe_filename(qp_buf *b, const char *s)
{
	size_t n = 0;

	for (; *s && n < 60; s++, n++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';

		qp_buf_addc(b, ok ? c : '_');
	}
}

/* ---------------------------------------------------------------- */
/* Responses. Every one carries the security headers. */

static enum MHD_Result
send_buf(struct MHD_Connection *c, unsigned status, const char *type,
    const char *cache, char *data, size_t len, const char *disposition)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", cache);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (disposition)
		MHD_add_response_header(r, "Content-Disposition", disposition);
	if (status == 405)
		MHD_add_response_header(r, "Allow", "GET, POST");
	if (status == 503)
		MHD_add_response_header(r, "Retry-After", "2");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, qp_buf *b)
{
	size_t len = b->len;

	return send_buf(c, status, "application/json; charset=utf-8",
	    "no-store", qp_buf_steal(b), len, NULL);
}

/* {"error": msg} with the given status. */
static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	qp_buf b;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"error\":");
	json_str(&b, msg);
	qp_buf_adds(&b, "}\n");
	return send_json(c, status, &b);
}

static const char *
mime_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return "application/octet-stream";
}

static enum MHD_Result
send_asset(struct MHD_Connection *c, const char *name)
{
	for (unsigned long i = 0; i < qp_web_nassets; i++) {
		const qp_web_asset *a = &qp_web_assets[i];
		char *copy;

		if (strcmp(a->name, name) != 0)
			continue;
		copy = qp_xmalloc(a->len ? a->len : 1);
		memcpy(copy, a->data, a->len);
		return send_buf(c, 200, mime_type(name), "no-cache", copy,
		    a->len, NULL);
	}
	return send_error(c, 404, "no such page: /%s", name);
}

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

static problem *
problem_add(problem **list, size_t *n, const char *severity,
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

static void
problem_field(problem *p, const char *field)
{
	p->fields = qp_xrealloc(p->fields, (p->nfields + 1) *
	    sizeof *p->fields);
	p->fields[p->nfields++] = qp_xstrdup(field);
}

static void
job_free(job *j)
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
static void
job_unref(job *j)
{
	if (--j->refs == 0)
		job_free(j);
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
	p = problem_add(&j->problems, &j->nproblems, severity,
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
				problem_field(p, t->var_names[i]);
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
static qp_page *
preflight(qp_layout_ctx *ctx, job *j)
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
run_job(qp_server *s, qp_layout_ctx *ctx, job *j, unsigned long seq)
{
	qp_page *page;

	if ((page = preflight(ctx, j)) == NULL)
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

static void *
worker(void *arg)
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
			job_unref(j);
			continue;
		}
		seq = ++s->seq;
		pthread_mutex_unlock(&s->mu);
		run_job(s, ctx, j, seq);
		pthread_mutex_lock(&s->mu);
		j->done = true;
		pthread_cond_broadcast(&s->done_cv);
		job_unref(j);
	}
	pthread_mutex_unlock(&s->mu);
	qp_layout_ctx_free(ctx);
	return NULL;
}

typedef enum wait_result {
	WAIT_DONE,
	WAIT_BUSY,
	WAIT_TIMEOUT,
	WAIT_STOPPING,
} wait_result;

/* Queue j and wait for it until the deadline. j has one reference, the
 * caller's, which it keeps. */
static wait_result
submit_wait(qp_server *s, job *j)
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

static void
release(qp_server *s, job *j)
{
	pthread_mutex_lock(&s->mu);
	job_unref(j);
	pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------- */
/* Templates. */

static qp_template *
load_template(qp_server *s, const char *name, unsigned *status,
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
	json_str(b, name);
	qp_buf_adds(b, ",\"title\":");
	json_str(b, t->name);
	qp_buf_adds(b, ",\"description\":");
	json_str(b, t->description);
	qp_buf_printf(b, ",\"width_in\":%.2f,\"height_in\":%.2f",
	    t->page_w / QP_PT_PER_IN, t->page_h / QP_PT_PER_IN);
	if (with_vars) {
		qp_buf_adds(b, ",\"variables\":[");
		for (size_t i = 0; i < t->nvars; i++) {
			const qp_var *v = &t->vars[i];

			qp_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
			json_str(b, v->name);
			qp_buf_adds(b, ",\"default\":");
			json_str(b, v->def);
			qp_buf_adds(b, ",\"description\":");
			json_str(b, v->desc);
			qp_buf_printf(b, ",\"required\":%s}",
			    v->def ? "false" : "true");
		}
		qp_buf_adds(b, "]");
	}
	qp_buf_adds(b, "}");
}

static enum MHD_Result
api_templates(qp_server *s, struct MHD_Connection *c)
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
		if ((t = load_template(s, names[i], &status, &err)) != NULL) {
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
	return send_json(c, 200, &b);
}

static enum MHD_Result
api_template(qp_server *s, struct MHD_Connection *c, const char *name)
{
	qp_template *t;
	unsigned status;
	qp_error err;
	qp_buf b;

	if ((t = load_template(s, name, &status, &err)) == NULL)
		return send_error(c, status, "%s", err.msg);
	qp_buf_init(&b);
	template_json(&b, name, t, true);
	qp_buf_adds(&b, "\n");
	qp_template_free(t);
	return send_json(c, 200, &b);
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
static const char *
value_problem(const char *v)
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
	if ((j->t = load_template(s, tname, status, err)) == NULL) {
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
			job_free(j);
			return NULL;
		}
		if ((why = value_problem(f.v[i])) != NULL) {
			problem *p = problem_add(&j->problems, &j->nproblems,
			    "error", why, NULL);
			problem_field(p, f.k[i] + 4);
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
				problem *p = problem_add(&j->problems,
				    &j->nproblems, "error", "Fill this in: "
				    "every poster needs it.", NULL);
				problem_field(p, j->t->var_names[i]);
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
	job_free(j);
	return NULL;
}

static void
problems_json(qp_buf *b, const job *j)
{
	qp_buf_adds(b, "\"problems\":[");
	for (size_t i = 0; i < j->nproblems; i++) {
		const problem *p = &j->problems[i];

		qp_buf_adds(b, i ? ",{\"severity\":" : "{\"severity\":");
		json_str(b, p->severity);
		qp_buf_adds(b, ",\"block\":");
		json_str(b, p->block);
		qp_buf_adds(b, ",\"fields\":[");
		for (size_t k = 0; k < p->nfields; k++) {
			if (k)
				qp_buf_addc(b, ',');
			json_str(b, p->fields[k]);
		}
		qp_buf_adds(b, "],\"message\":");
		json_str(b, p->message);
		qp_buf_adds(b, ",\"detail\":");
		json_str(b, p->detail);
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
	json_str(&b, j->nproblems ? j->problems[0].message :
	    "the poster cannot be made");
	qp_buf_adds(&b, ",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	return send_json(c, 422, &b);
}

static enum MHD_Result
send_wait_failure(qp_server *s, struct MHD_Connection *c, wait_result w)
{
	switch (w) {
	case WAIT_BUSY:
		return send_error(c, 503, "the server is busy with %d renders; "
		    "try again in a moment", QP_SERVE_QUEUE);
	case WAIT_TIMEOUT:
		return send_error(c, 503, "the poster took longer than %g "
		    "seconds to render and was cut off; shorten the texts or "
		    "try again", s->timeout);
	default:
		return send_error(c, 503, "the server is shutting down");
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
		*ret = send_error(c, status, "%s", err.msg);
		return NULL;
	}
	j->kind = kind;
	if (has_errors(j)) {
		*ret = send_problems(c, j);
		job_free(j);
		return NULL;
	}
	if ((w = submit_wait(s, j)) != WAIT_DONE) {
		release(s, j);
		*ret = send_wait_failure(s, c, w);
		return NULL;
	}
	if (!j->ok) {
		*ret = j->nproblems ? send_problems(c, j) :
		    send_error(c, 500, "%s", j->err.msg);
		release(s, j);
		return NULL;
	}
	return j;
}

static enum MHD_Result
api_preview(qp_server *s, struct MHD_Connection *c, const req *r)
{
	enum MHD_Result ret;
	job *j;
	qp_buf b;

	if ((j = run_form_job(s, c, r, JOB_PREVIEW, &ret)) == NULL)
		return ret;
	qp_buf_init(&b);
	qp_buf_printf(&b, "{\"ok\":true,\"width\":%d,\"height\":%d,"
	    "\"image\":\"data:image/png;base64,", j->png_w, j->png_h);
	base64(&b, (const unsigned char *)j->png.data, j->png.len);
	qp_buf_adds(&b, "\",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	release(s, j);
	return send_json(c, 200, &b);
}

static enum MHD_Result
api_poster(qp_server *s, struct MHD_Connection *c, const req *r)
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
		ret = send_error(c, 500, "cannot read the rendered poster: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		release(s, j);
		return ret;
	}
	qp_buf_init(&name);
	qp_buf_adds(&name, "attachment; filename=\"poster");
	code = qp_template_var(j->t, "code");
	if (code >= 0 && j->values[code] && j->values[code][0]) {
		qp_buf_addc(&name, '-');
		safe_filename(&name, j->values[code]);
	}
	qp_buf_adds(&name, j->fmt == QP_FMT_PDF ? ".pdf\"" : ".png\"");
	resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		qp_buf_free(&name);
		release(s, j);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", j->fmt == QP_FMT_PDF ?
	    "application/pdf" : "image/png");
	MHD_add_response_header(resp, "Content-Disposition", name.data);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	qp_buf_free(&name);
	release(s, j);
	return ret;
}

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

static void
batch_free(bjob *b)
{
	if (b == NULL)
		return;
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

static bool
random_id(char *out, size_t n)
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = read(fd, raw, sizeof raw) == (ssize_t)sizeof raw;
	close(fd);
	for (size_t i = 0; ok && i < sizeof raw && 2 * i + 2 < n; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return ok;
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
	if (x->bad || strncmp(key, "var.", 4) != 0)
		return MHD_YES;
	if (qp_template_var(x->t, key + 4) < 0) {
		x->bad = qp_xasprintf("the template has no field '%.80s'",
		    key + 4);
		return MHD_NO;
	}
	if (value == NULL)
		value = "";
	if ((why = value_problem(value)) != NULL) {
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
	for (size_t i = 0; i < t->nvars; i++) {
		bool given = t->vars[i].def != NULL;

		for (size_t k = 0; k < b->nsets && !given; k++)
			given = strncmp(b->sets[k], t->var_names[i],
			    strlen(t->var_names[i])) == 0 &&
			    b->sets[k][strlen(t->var_names[i])] == '=';
		if (!given && qp_data_col_index(d, t->var_names[i]) < 0) {
			qp_data_close(d);
			return qp_fail(err, "the CSV has no column '%s': its "
			    "first row must name the columns, e.g. code,name",
			    t->var_names[i]);
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

static enum MHD_Result
api_batch_start(qp_server *s, struct MHD_Connection *c, const req *r)
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
		return send_error(c, 400, "add ?template=NAME to the address");
	if ((t = load_template(s, tname, &status, &err)) == NULL)
		return send_error(c, status, "%s", err.msg);
	b = qp_xcalloc(1, sizeof *b);
	b->s = s;
	b->tpath = qp_xstrdup(t->path);
	b->tname = qp_xstrdup(tname);
	x = (sets_ctx){b, t, NULL};
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_set, &x);
	if (x.bad) {
		ret = send_error(c, 400, "%s", x.bad);
		free(x.bad);
		goto out;
	}
	if (!qp_utf8_valid(r->body.data, r->body.len, NULL)) {
		ret = send_error(c, 400, "the CSV is not UTF-8 text: save it "
		    "as \"CSV UTF-8\"");
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nbatches; i++)
		if (s->batches[i]->state == B_RUNNING) {
			pthread_mutex_unlock(&s->mu);
			ret = send_error(c, 503, "a print run is already being "
			    "made; wait for it to finish or cancel it");
			goto out;
		}
	pthread_mutex_unlock(&s->mu);
	if (!random_id(b->id, sizeof b->id)) {
		ret = send_error(c, 500, "cannot make a print-run id");
		goto out;
	}
	b->dir = qp_xasprintf("%s/batch-%s", s->tmpdir, b->id);
	b->csv = qp_xasprintf("%s/locations.csv", b->dir);
	b->pdf = qp_xasprintf("%s/print-run.pdf", b->dir);
	b->manifest = qp_xasprintf("%s/manifest.csv", b->dir);
	if (mkdir(b->dir, 0700) != 0) {
		free(b->dir);
		b->dir = NULL;
		ret = send_error(c, 500, "cannot make a folder for the print "
		    "run: %s", strerror(errno));
		goto out;
	}
	if (!qp_outfile_open(&of, b->csv, &err) ||
	    !qp_outfile_write(&of, r->body.data, r->body.len) ||
	    !qp_outfile_commit(&of, &err)) {
		ret = send_error(c, 500, "cannot store the CSV");
		goto out;
	}
	if (!count_rows(b, t, &status, &err)) {
		msg = batch_msg(b, err.msg);
		ret = send_error(c, status, "%s", msg);
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
			ret = send_error(c, 503, "a print run is already being "
			    "made; wait for it to finish or cancel it");
			goto out;
		}
	if (s->nbatches == QP_SERVE_MAX_BATCHES) {
		/* The oldest finished run makes room (none is running). */
		pthread_join(s->batches[0]->thread, NULL);
		batch_free(s->batches[0]);
		memmove(s->batches, s->batches + 1, (s->nbatches - 1) *
		    sizeof *s->batches);
		s->nbatches--;
	}
	if (pthread_create(&b->thread, NULL, batch_thread, b) != 0) {
		pthread_mutex_unlock(&s->mu);
		ret = send_error(c, 500, "cannot start the print run");
		goto out;
	}
	s->batches[s->nbatches++] = b;
	pthread_mutex_unlock(&s->mu);
	qp_buf_init(&out);
	qp_buf_printf(&out, "{\"id\":\"%s\",\"rows\":%zu,\"status\":"
	    "\"/api/batch/%s\"}\n", b->id, b->rows, b->id);
	b = NULL;
	ret = send_json(c, 202, &out);
out:
	batch_free(b);
	qp_template_free(t);
	return ret;
}

static enum MHD_Result
batch_status(qp_server *s, struct MHD_Connection *c, bjob *b)
{
	qp_buf out;

	/* A row that takes longer than the render timeout is cut off. */
	if (b->state == B_RUNNING && !b->stop &&
	    difftime(time(NULL), b->last_progress) > s->timeout) {
		b->cut_off = true;
		b->stop = 1;
	}
	qp_buf_init(&out);
	qp_buf_printf(&out, "{\"id\":\"%s\",\"template\":", b->id);
	json_str(&out, b->tname);
	qp_buf_printf(&out, ",\"state\":\"%s\",\"phase\":\"%s\","
	    "\"done\":%zu,\"total\":%zu,\"rows\":%zu,\"pages\":%zu,"
	    "\"error\":", bstate_names[b->state], b->phase, b->done,
	    b->total, b->rows, b->pages);
	json_str(&out, b->error);
	qp_buf_adds(&out, ",\"row_errors\":[");
	for (size_t i = 0; i < b->nrow_errors; i++) {
		if (i)
			qp_buf_addc(&out, ',');
		json_str(&out, b->row_errors[i]);
	}
	qp_buf_printf(&out, "],\"more_row_errors\":%zu", b->more_row_errors);
	if (b->state == B_DONE)
		qp_buf_printf(&out, ",\"pdf\":\"/api/batch/%s/print-run.pdf\","
		    "\"manifest\":\"/api/batch/%s/manifest.csv\"", b->id,
		    b->id);
	qp_buf_adds(&out, "}\n");
	return send_json(c, 200, &out);
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
		return send_error(c, 404, "the file is gone (the server keeps "
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
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* /api/batch/ID, /api/batch/ID/print-run.pdf, .../manifest.csv,
 * .../cancel */
static enum MHD_Result
api_batch(qp_server *s, struct MHD_Connection *c, const char *rest,
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
		return send_error(c, 404, "no such print run (the server keeps "
		    "the last %d)", QP_SERVE_MAX_BATCHES);
	}
	if (strcmp(what, "cancel") == 0) {
		if (!post)
			ret = send_error(c, 405, "use POST to cancel");
		else {
			b->stop = 1;
			ret = batch_status(s, c, b);
		}
		pthread_mutex_unlock(&s->mu);
		return ret;
	}
	if (!get) {
		pthread_mutex_unlock(&s->mu);
		return send_error(c, 405, "use GET here");
	}
	if (*what == '\0') {
		ret = batch_status(s, c, b);
		pthread_mutex_unlock(&s->mu);
		return ret;
	}
	pdf = strcmp(what, "print-run.pdf") == 0;
	if (!pdf && strcmp(what, "manifest.csv") != 0) {
		pthread_mutex_unlock(&s->mu);
		return send_error(c, 404, "a print run has print-run.pdf and "
		    "manifest.csv");
	}
	if (b->state != B_DONE) {
		pthread_mutex_unlock(&s->mu);
		return send_error(c, 409, "the print run is not finished");
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

/* ---------------------------------------------------------------- */
/* Dispatch. */

/*
 * A server bound to loopback answers only requests addressed to a
 * loopback name: a web page elsewhere cannot reach it by pointing a
 * DNS name at 127.0.0.1 (DNS rebinding).
 */
static bool
host_ok(qp_server *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Host");
	size_t n;

	if (!s->loopback || h == NULL)
		return true;
	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		n = e ? (size_t)(e - h + 1) : strlen(h);
	} else {
		const char *colon = strrchr(h, ':');
		n = colon ? (size_t)(colon - h) : strlen(h);
	}
	return (n == 9 && strncmp(h, "localhost", 9) == 0) ||
	    (n == 5 && strncmp(h, "[::1]", 5) == 0) ||
	    (n >= 4 && strncmp(h, "127.", 4) == 0 &&
	    strspn(h, "0123456789.") == n);
}

/*
 * A page from another site may make the browser send a form here (it
 * cannot read the answer); refuse any request whose Origin is not this
 * server's own page.
 */
static bool
origin_ok(struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Origin");
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Host");

	if (o == NULL)
		return true;
	return h && strncmp(o, "http://", 7) == 0 && strcmp(o + 7, h) == 0;
}

static size_t
body_limit(const char *url)
{
	if (strcmp(url, "/api/preview") == 0 || strcmp(url, "/api/poster") == 0)
		return QP_SERVE_MAX_FORM;
	if (strcmp(url, "/api/batch") == 0)
		return QP_SERVE_MAX_CSV;
	return 0;
}

static enum MHD_Result
route(qp_server *s, struct MHD_Connection *c, const char *url,
    const char *method, const req *r)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;

	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
		if (!get)
			return send_error(c, 405, "use GET for %s", url);
		return send_asset(c, "index.html");
	}
	if (strncmp(url, "/api/", 5) != 0) {
		if (!get)
			return send_error(c, 405, "use GET for %s", url);
		return send_asset(c, url + 1);
	}
	if (strcmp(url, "/api/templates") == 0) {
		if (!get)
			return send_error(c, 405, "use GET for %s", url);
		return api_templates(s, c);
	}
	if (strncmp(url, "/api/templates/", 15) == 0) {
		if (!get)
			return send_error(c, 405, "use GET for %s", url);
		return api_template(s, c, url + 15);
	}
	if (strcmp(url, "/api/preview") == 0 || strcmp(url, "/api/poster") == 0) {
		if (!post)
			return send_error(c, 405, "use POST for %s", url);
		if (strcmp(url, "/api/preview") == 0)
			return api_preview(s, c, r);
		return api_poster(s, c, r);
	}
	if (strcmp(url, "/api/batch") == 0) {
		if (!post)
			return send_error(c, 405, "use POST for %s", url);
		return api_batch_start(s, c, r);
	}
	if (strncmp(url, "/api/batch/", 11) == 0)
		return api_batch(s, c, url + 11, get, post);
	return send_error(c, 404, "no such API: %.100s", url);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	qp_server *s = cls;
	req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		const char *cl;
		unsigned long long n;
		char *end;

		r = qp_xcalloc(1, sizeof *r);
		qp_buf_init(&r->body);
		*con_cls = r;
		if (!host_ok(s, c))
			return send_error(c, 421, "this server answers only "
			    "requests for localhost or 127.0.0.1");
		if (!origin_ok(c))
			return send_error(c, 403, "this server answers only its "
			    "own page");
		if (strlen(url) > 512)
			return send_error(c, 414, "the address is too long");
		r->limit = body_limit(url);
		if (r->limit == 0 && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0 &&
		    strncmp(url, "/api/batch/", 11) != 0)
			return send_error(c, 405, "use GET for %.100s", url);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Content-Length");
		if (cl) {
			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno || *end || end == cl)
				return send_error(c, 400, "bad Content-Length");
			if (n > r->limit) {
				if (r->limit == 0)
					return send_error(c, 413, "%s takes no "
					    "request body", url);
				return send_error(c, 413, "the request is %llu "
				    "bytes; the limit for %s is %zu", n, url,
				    r->limit);
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && r->body.len + *upload_size <= r->limit)
			qp_buf_add(&r->body, upload, *upload_size);
		else
			r->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return send_error(c, 413, "the request body is over the limit "
		    "of %zu bytes for %s", r->limit, url);
	if (r->body.data == NULL)
		qp_buf_add(&r->body, "", 0);
	return route(s, c, url, method, r);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (r) {
		qp_buf_free(&r->body);
		free(r);
		*con_cls = NULL;
	}
}

/* ---------------------------------------------------------------- */
/* Start and stop. */

static void
rm_tmpdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)) != NULL) {
			char *p;

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			p = qp_xasprintf("%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

qp_server *
qp_server_start(const qp_serve_opts *o, qp_error *err)
{
	qp_server *s = qp_xcalloc(1, sizeof *s);
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	const char *tmp;
	struct stat st;
	long ncpu;

	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->big_mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->done_cv, NULL);
	s->bind = qp_xstrdup(o->bind ? o->bind : "127.0.0.1");
	s->timeout = o->timeout > 0 ? o->timeout : QP_SERVE_DEFAULT_TIMEOUT;
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, s->bind, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)o->port);
		s->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, s->bind, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)o->port);
		s->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		qp_fail(err, "--bind '%s': not an IPv4 or IPv6 address (e.g. "
		    "127.0.0.1 or ::1)", s->bind);
		goto fail;
	}
	if (o->port > 65535) {
		qp_fail(err, "--port %u: ports go up to 65535", o->port);
		goto fail;
	}
	s->tdir = o->templates ? qp_xstrdup(o->templates) :
	    qp_xasprintf("%s/templates", qp_datadir());
	if (stat(s->tdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		qp_fail(err, "templates folder '%s' not found", s->tdir);
		goto fail;
	}
	tmp = getenv("TMPDIR");
	s->tmpdir = qp_xasprintf("%s/qrposter-serve-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(s->tmpdir) == NULL) {
		qp_fail(err, "cannot make a temporary folder '%s': %s",
		    s->tmpdir, strerror(errno));
		free(s->tmpdir);
		s->tmpdir = NULL;
		goto fail;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->nthreads = o->workers ? o->workers :
	    (unsigned)(ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu);
	s->threads = qp_xcalloc(s->nthreads, sizeof *s->threads);
	for (unsigned i = 0; i < s->nthreads; i++)
		if (pthread_create(&s->threads[i], NULL, worker, s) != 0) {
			s->nthreads = i;
			qp_fail(err, "cannot start a render thread");
			goto fail;
		}
	s->mhd = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
	    handle, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)QP_SERVE_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)QP_SERVE_IDLE_TIMEOUT,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		qp_fail(err, "cannot listen on %s port %u (is the port in use? "
		    "try --port with another number)", s->bind, o->port);
		goto fail;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	return s;
fail:
	qp_server_stop(s);
	return NULL;
}

unsigned
qp_server_port(const qp_server *s)
{
	return s->port;
}

const char *
qp_server_bind(const qp_server *s)
{
	return s->bind;
}

bool
qp_server_loopback(const qp_server *s)
{
	return s->loopback;
}

const char *
qp_server_templates(const qp_server *s)
{
	return s->tdir;
}

void
qp_server_stop(qp_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->work_cv);
	pthread_cond_broadcast(&s->done_cv);
	pthread_mutex_unlock(&s->mu);
	/* Connections waiting on a render see `stopping` and answer 503. */
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	/* A print run in hand stops at its next row. */
	for (size_t i = 0; i < s->nbatches; i++)
		s->batches[i]->stop = 1;
	for (size_t i = 0; i < s->nbatches; i++) {
		pthread_join(s->batches[i]->thread, NULL);
		batch_free(s->batches[i]);
	}
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	while (s->qlen) {
		job_unref(s->queue[s->qhead]);
		s->qhead = (s->qhead + 1) % QP_SERVE_QUEUE;
		s->qlen--;
	}
	if (s->tmpdir)
		rm_tmpdir(s->tmpdir);
	free(s->threads);
	free(s->tmpdir);
	free(s->tdir);
	free(s->bind);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->done_cv);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->big_mu);
	free(s);
}
