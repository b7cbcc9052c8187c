#ifndef QP_SERVE_INT_H
#define QP_SERVE_INT_H

/*
 * serve_int.h - what the files of the web editor's server share: the
 * job, problem and print-run types, the server itself, and the helpers
 * one file defines for the others. Not part of the library's interface
 * (that is serve.h).
 *
 *   serve.c        HTTP: security headers, responses, dispatch, start/stop
 *   serve_door.c   the listening socket: request heads in whole, or refused
 *   serve_pool.c   the render workers and their bounded queue
 *   serve_api.c    templates and the poster JSON API (preview, download,
 *                  opening a profile)
 *   serve_batch.c  print runs: CSV upload -> combined PDF + manifest
 */
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
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "bind.h"
#include "data.h"
#include "datadir.h"
#include "fonts.h"
#include "layout.h"
#include "poster.h"
#include "profile.h"
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
	qp_code code;         /* the finding's code (diag.h) */
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
	qp_binding *bind; /* the form's values over the defaults */
	qp_values vals;   /* bound by the worker (poster.h) */
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
	qp_profile *profile; /* the opened settings' values (profile.NAME
	                      * fields), under the CSV's; or NULL */
	size_t rows;
	pthread_t thread;
	qp_stop stop; /* cancel: qp_stop_request from any thread */
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

typedef struct srv_door srv_door;

struct qp_server {
	srv_door *door;
	struct MHD_Daemon *mhd;
	char *bind;
	char *tdir;
	char *tmpdir;
	int lock_fd;      /* flock()ed while the server runs */
	unsigned port;
	bool loopback;
	char token[33];   /* the access token, or "" when none is needed */
	char cookie[32];  /* the cookie that carries it */
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


typedef enum wait_result {
	WAIT_DONE,
	WAIT_BUSY,
	WAIT_TIMEOUT,
	WAIT_STOPPING,
} wait_result;

/* serve.c */
void srv_common_headers(struct MHD_Response *r);
bool srv_random_hex(char *out, size_t n);
void srv_json_str(qp_buf *b, const char *s);
void srv_base64(qp_buf *b, const unsigned char *p, size_t n);
void srv_safe_filename(qp_buf *b, const char *s);
enum MHD_Result srv_send_json(struct MHD_Connection *c, unsigned status, qp_buf *b);
enum MHD_Result srv_send_error(struct MHD_Connection *c, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* serve_door.c */
srv_door * srv_door_open(const struct sockaddr *sa, socklen_t len, unsigned *port, qp_error *err);
bool srv_door_start(srv_door *d, struct MHD_Daemon *mhd, qp_error *err);
void srv_door_close(srv_door *d);
/* serve_pool.c */
problem * srv_problem_add(problem **list, size_t *n, const char *severity, const char *message, const char *detail);
void srv_problem_field(problem *p, const char *field);
void srv_job_free(job *j);
void srv_job_unref(job *j);
void * srv_worker(void *arg);
wait_result srv_submit_wait(qp_server *s, job *j);
void srv_release(qp_server *s, job *j);
/* serve_api.c */
qp_template * srv_load_template(qp_server *s, const char *name, unsigned *status, qp_error *err);
enum MHD_Result srv_api_templates(qp_server *s, struct MHD_Connection *c);
enum MHD_Result srv_api_template(qp_server *s, struct MHD_Connection *c, const char *name);
const char * srv_value_problem(const char *v);
qp_page * srv_preflight(qp_layout_ctx *ctx, job *j);
enum MHD_Result srv_api_preview(qp_server *s, struct MHD_Connection *c, const req *r);
enum MHD_Result srv_api_poster(qp_server *s, struct MHD_Connection *c, const req *r);
enum MHD_Result srv_api_profile(qp_server *s, struct MHD_Connection *c, const req *r);
/* serve_batch.c */
void srv_batch_free(bjob *b);
enum MHD_Result srv_api_batch_start(qp_server *s, struct MHD_Connection *c, const req *r);
enum MHD_Result srv_api_batch(qp_server *s, struct MHD_Connection *c, const char *rest, bool get, bool post);

#endif
