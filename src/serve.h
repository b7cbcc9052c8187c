/*
 * serve.h - the local web editor: an HTTP server (libmicrohttpd) that
 * serves a page for picking a template, filling in its variables, seeing
 * a live preview and downloading the poster, all rendered by the same
 * layout and render code as the command line.
 *
 * Like every lower layer it never prints or exits: qp_server_start
 * returns NULL with a message, and the caller (cmd_serve.c) tells the
 * user where to point the browser.
 */
#ifndef QP_SERVE_H
#define QP_SERVE_H

#include <stddef.h>

#include "util.h"

/* Limits. A request over one of them gets a 4xx naming it. */
/* A poster form, bytes: room for every field at bind.h's value limit,
 * so a value too long is refused by the value rule (with its field), as
 * on the command line, not by the size of the request. */
#define QP_SERVE_MAX_FORM (256 * 1024)
#define QP_SERVE_MAX_CSV (10 * 1024 * 1024)    /* an uploaded CSV, bytes */
#define QP_SERVE_MAX_ROWS 100000               /* rows in an uploaded CSV */
#define QP_SERVE_MAX_PIXELS (50.0 * 1000 * 1000) /* a PNG download */
#define QP_SERVE_MAX_BATCHES 4  /* print runs kept for download */
#define QP_SERVE_QUEUE 64          /* renders waiting for a worker */
#define QP_SERVE_MAX_CONNECTIONS 128 /* requests being answered at once */
#define QP_SERVE_PER_ADDRESS 16    /* the same, from one address; and
                                      connections from one address
                                      waiting for their request head */
#define QP_SERVE_MAX_WAITING 256   /* connections waiting for their head */
#define QP_SERVE_HEAD_TIMEOUT 10   /* seconds to send a request's head */
#define QP_SERVE_MAX_HEAD (16 * 1024) /* bytes of a request's head */
#define QP_SERVE_IDLE_TIMEOUT 10   /* seconds a request may stall */
#define QP_SERVE_DEFAULT_TIMEOUT 30.0 /* seconds a render may take */

typedef struct qp_serve_opts {
	const char *bind;      /* IPv4 or IPv6 address; NULL = 127.0.0.1 */
	unsigned port;         /* 0 = any free port */
	const char *templates; /* directory; NULL = <datadir>/templates */
	unsigned workers;      /* render threads; 0 = one per CPU, at most 4 */
	double timeout;        /* seconds; 0 = QP_SERVE_DEFAULT_TIMEOUT */
	bool token;            /* require the access token even on loopback
	                          (always required on any other address) */
} qp_serve_opts;

typedef struct qp_server qp_server;

/*
 * Start serving in background threads. The caller keeps the process
 * alive (and handles signals) until it calls qp_server_stop. NULL with
 * err set if the address is bad, the port is taken, or the templates
 * directory is missing.
 */
qp_server *qp_server_start(const qp_serve_opts *o, qp_error *err);

/* The port actually bound (useful with port 0). */
unsigned qp_server_port(const qp_server *s);

/* The address bound, as given or defaulted ("127.0.0.1"). */
const char *qp_server_bind(const qp_server *s);

/*
 * The access token every request must carry (as ?token=, its cookie, or
 * "Authorization: Bearer"), or NULL when none is needed: a server on a
 * loopback address without o->token. Requests without it get a 401.
 */
const char *qp_server_token(const qp_server *s);

/* True if the address only accepts connections from this machine. */
bool qp_server_loopback(const qp_server *s);

/* The templates directory in use. */
const char *qp_server_templates(const qp_server *s);

/* Stop accepting, finish or abandon in-flight renders, free everything.
 * NULL is allowed. */
void qp_server_stop(qp_server *s);

/*
 * True if name may name a template: 1 to 64 letters, digits, '-' or
 * '_', starting with a letter or digit. Never a path: "../x", "a/b" and
 * ".hidden" are refused.
 */
bool qp_serve_name_ok(const char *name);

/*
 * Decode application/x-www-form-urlencoded text ('+' is a space, %XX a
 * byte) into a NUL-terminated string. False on a malformed escape.
 */
bool qp_serve_urldecode(const char *s, size_t len, qp_buf *out);

/* One page asset embedded in the binary (generated from src/web/). */
typedef struct qp_web_asset {
	const char *name;
	const unsigned char *data;
	unsigned long len;
} qp_web_asset;

extern const qp_web_asset qp_web_assets[];
extern const unsigned long qp_web_nassets;

#endif
