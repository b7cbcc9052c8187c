/*
 * serve_client.h - the serve tests' side of the wire: start and stop
 * `qrposter serve` as a child process on a free loopback port, and speak
 * plain HTTP/1.1 to it over sockets, one connection per request. Every
 * wait is bounded; every address used is this machine's (127.0.0.0/8).
 */
#ifndef QP_SERVE_CLIENT_H
#define QP_SERVE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IO_TIMEOUT_MS 30000

typedef struct child {
	pid_t pid;
	int out;        /* its stdout */
	char host[64];  /* the address it listens on */
	unsigned port;
	char token[64]; /* the access token in its address, or "" */
	char banner[1024];
} child;

typedef struct resp {
	int status;
	char *head; /* status line and headers */
	char *body;
	size_t len;
} resp;

/* The source address of this thread's connections (NULL: the kernel's
 * choice, 127.0.0.1). Any address in 127.0.0.0/8 is this machine, so a
 * test can be several clients at once without leaving it. */
extern __thread const char *client_src;
/* The server's address for this thread's connections (NULL: 127.0.0.1);
 * refused unless in 127.0.0.0/8. */
extern __thread const char *client_dst;

/* The binary under test: $QRPOSTER; a bare name means the one in this
 * directory, never one found on $PATH. */
const char *qrposter(void);

/* One line from fd within IO_TIMEOUT_MS; false on end of file or
 * timeout. */
bool read_line(int fd, char *buf, size_t n);

/* Start `qrposter serve --port 0 --bind 127.0.0.1 --workers 2` plus up
 * to two more arguments (which may override those), and read its
 * address, port and token from its first line. */
bool start_server(child *ch, const char *extra1, const char *extra2);

/* SIGINT, then wait (bounded) for it to exit: its exit status (128+N
 * for signal N), or -1 if it had to be killed. */
int stop_server(child *ch);

/* Send raw bytes, read the whole answer (the server closes). */
bool raw(unsigned port, const char *req, size_t reqlen, resp *r);
bool get(unsigned port, const char *path, resp *r);
bool post(unsigned port, const char *path, const char *body, resp *r);
void resp_free(resp *r);

/* The value of header name (case-insensitive), or NULL; a buffer of the
 * calling thread's. */
const char *header(const resp *r, const char *name);

/* Fail the test unless header name holds part. */
void assert_header_has(const resp *r, const char *name, const char *part);

#endif
