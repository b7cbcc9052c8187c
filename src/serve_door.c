/*
 * serve_door.c - the web editor's front door: the listening socket, and
 * one thread that holds each new connection until its request head (the
 * request line and the headers, up to the blank line) has arrived, then
 * hands it to libmicrohttpd (MHD_add_connection).
 *
 * Why not let libmicrohttpd accept: 0.9.75 closes a connection whose
 * request line has no space without a word, holds one that sends bytes
 * but no line end until its idle timeout, and counts that timeout from
 * the last byte received, so a client sending a header line every few
 * seconds holds a connection, and a thread, for ever; and 150 idle
 * connections fill its 128 places. Here:
 *
 * - a client has QP_SERVE_HEAD_TIMEOUT seconds from connecting to send
 *   its whole head; then a 408 (or, if it sent nothing, a plain close);
 * - a request line that is not `METHOD SP TARGET SP HTTP/1.x` gets a
 *   400 as soon as its first wrong byte arrives (a TLS hello, a binary
 *   probe, "GARBAGE"), a head over QP_SERVE_MAX_HEAD bytes a 431;
 * - at most QP_SERVE_PER_ADDRESS connections from one address wait
 *   here, QP_SERVE_MAX_WAITING in all; a new one makes room by closing
 *   the oldest (from its own address first), so a flood of idle
 *   connections cannot keep out a request that arrives whole, even from
 *   the flooding address.
 *
 * The head is only looked at (MSG_PEEK): libmicrohttpd reads it again.
 * Every answer of the server says "Connection: close" (serve.c), so
 * each request comes through here on a connection of its own.
 */
#define _GNU_SOURCE
#include "serve_int.h"

#include <poll.h>

typedef struct waiting {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct timespec since; /* accepted, CLOCK_MONOTONIC */
	bool sent;             /* some bytes arrived */
} waiting;

struct srv_door {
	int lfd;
	int wake[2]; /* a byte on wake[1] stops the thread */
	bool running;
	pthread_t thread;
	struct MHD_Daemon *mhd;
	struct timespec accept_pause; /* out of descriptors until then */
	waiting w[QP_SERVE_MAX_WAITING];
	size_t n;
};

static double
since_ms(const struct timespec *t, const struct timespec *now)
{
	return (double)(now->tv_sec - t->tv_sec) * 1e3 +
	    (double)(now->tv_nsec - t->tv_nsec) / 1e6;
}

static bool
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return false;
}

/* ---------------------------------------------------------------- */
/* The request head. */

typedef enum head_state {
	HEAD_PARTIAL,
	HEAD_DONE,
	HEAD_BAD,      /* not an HTTP/1 request line: 400 */
	HEAD_TOO_BIG,  /* 431 */
} head_state;

/* RFC 9110 5.6.2: the characters of a token (a method). */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/*
 * Check the request line in b[0..n) as far as it has arrived, so a
 * wrong byte is refused without waiting for the rest: method, one
 * space, target (visible ASCII), one space, "HTTP/1." and a digit, then
 * CR LF or LF. *end is set past the line when it is whole.
 */
static head_state
request_line(const unsigned char *b, size_t n, size_t *end)
{
	static const char version[] = "HTTP/1.";
	size_t i = 0, k;

	while (i < n && is_tchar(b[i]))
		i++;
	if (i == n)
		return HEAD_PARTIAL;
	if (i == 0 || b[i++] != ' ')
		return HEAD_BAD;
	k = i;
	while (i < n && b[i] > 0x20 && b[i] < 0x7f)
		i++;
	if (i == n)
		return HEAD_PARTIAL;
	if (i == k || b[i++] != ' ')
		return HEAD_BAD;
	for (k = 0; version[k] && i < n; k++, i++)
		if (b[i] != (unsigned char)version[k])
			return HEAD_BAD;
	if (i == n)
		return HEAD_PARTIAL;
	if (b[i] < '0' || b[i] > '9')
		return HEAD_BAD;
	if (++i < n && b[i] == '\r')
		i++;
	if (i == n)
		return HEAD_PARTIAL;
	if (b[i] != '\n')
		return HEAD_BAD;
	*end = i + 1;
	return HEAD_DONE;
}

static head_state
parse_head(const unsigned char *b, size_t n)
{
	size_t i = 0, end = 0;
	head_state st;

	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	while (i < n && (b[i] == '\r' || b[i] == '\n'))
		i++;
	if ((st = request_line(b + i, n - i, &end)) != HEAD_DONE)
		return st == HEAD_PARTIAL && n >= QP_SERVE_MAX_HEAD ?
		    HEAD_TOO_BIG : st;
	/* The headers end at an empty line: "\n\r\n" or "\n\n". */
	for (i += end - 1; i < n; i++)
		if (b[i] == '\n' && ((i + 1 < n && b[i + 1] == '\n') ||
		    (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')))
			return HEAD_DONE;
	return n >= QP_SERVE_MAX_HEAD ? HEAD_TOO_BIG : HEAD_PARTIAL;
}

/* ---------------------------------------------------------------- */
/* Answers given at the door, and letting connections go. */

/* Read what the client sent, so closing sends FIN, not RST (which
 * could make the client drop the answer before reading it). */
static void
drain(int fd)
{
	char buf[4096];

	for (int i = 0; i < 32; i++)
		if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			break;
}

static void
answer(int fd, unsigned status, const char *reason, const char *msg)
{
	char body[512], head[1024];
	int bn, hn;

	bn = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
	hn = snprintf(head, sizeof head, "HTTP/1.1 %u %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: " CSP "\r\n"
	    "Connection: close\r\n\r\n", status, reason, bn);
	drain(fd);
	/* A few hundred bytes into an empty socket buffer: one send. */
	if (send(fd, head, (size_t)hn, MSG_NOSIGNAL | MSG_DONTWAIT) == hn)
		(void)send(fd, body, (size_t)bn, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
}

/* Forget waiting connection i (its descriptor is closed or handed on). */
static void
forget(srv_door *d, size_t i)
{
	d->w[i] = d->w[--d->n];
}

static void
drop(srv_door *d, size_t i)
{
	close(d->w[i].fd);
	forget(d, i);
}

static void
hand_over(srv_door *d, size_t i)
{
	waiting *w = &d->w[i];
	int one = 1;

	(void)setsockopt(w->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
	/* It closes the socket if it cannot take it (its limits). */
	(void)MHD_add_connection(d->mhd, w->fd, (struct sockaddr *)&w->addr,
	    w->addrlen);
	forget(d, i);
}

/* Look at what connection i has sent so far. */
static void
examine(srv_door *d, size_t i)
{
	unsigned char buf[QP_SERVE_MAX_HEAD];
	waiting *w = &d->w[i];
	ssize_t n = recv(w->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	int lowat;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop(d, i);
		return;
	}
	if (n < 0)
		return;
	w->sent = true;
	switch (parse_head(buf, (size_t)n)) {
	case HEAD_DONE:
		hand_over(d, i);
		return;
	case HEAD_BAD:
		answer(w->fd, 400, "Bad Request", "this server speaks HTTP/1.1 "
		    "and the request line is not an HTTP request");
		drop(d, i);
		return;
	case HEAD_TOO_BIG:
		answer(w->fd, 431, "Request Header Fields Too Large",
		    "the request's headers are too long");
		drop(d, i);
		return;
	case HEAD_PARTIAL:
		/* Wake again when more has arrived than is there now. */
		lowat = (int)n + 1;
		(void)setsockopt(w->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
		    sizeof lowat);
		return;
	}
}

/* Take the connections waiting to be accepted (at most a round's). */
static void
accept_new(srv_door *d, const struct timespec *now)
{
	if (since_ms(&d->accept_pause, now) < 0)
		return;
	for (int k = 0; k < 64; k++) {
		waiting w = {.addrlen = sizeof w.addr, .since = *now};
		size_t same = 0, oldest = SIZE_MAX, oldest_same = SIZE_MAX;

		w.fd = accept4(d->lfd, (struct sockaddr *)&w.addr, &w.addrlen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (w.fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The backlog keeps them; try again soon
				 * rather than spin on a readable socket. */
				d->accept_pause = *now;
				d->accept_pause.tv_nsec += 100 * 1000 * 1000;
				if (d->accept_pause.tv_nsec >= 1000000000L) {
					d->accept_pause.tv_sec++;
					d->accept_pause.tv_nsec -= 1000000000L;
				}
			}
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			return;
		}
		for (size_t i = 0; i < d->n; i++) {
			if (oldest == SIZE_MAX ||
			    since_ms(&d->w[i].since, &d->w[oldest].since) < 0)
				oldest = i;
			if (!same_address(&d->w[i].addr, &w.addr))
				continue;
			same++;
			if (oldest_same == SIZE_MAX ||
			    since_ms(&d->w[i].since, &d->w[oldest_same].since) < 0)
				oldest_same = i;
		}
		if (same >= QP_SERVE_PER_ADDRESS)
			drop(d, oldest_same);
		else if (d->n == QP_SERVE_MAX_WAITING)
			drop(d, oldest);
		d->w[d->n++] = w;
	}
}

static void *
door_main(void *arg)
{
	srv_door *d = arg;
	struct pollfd *p = qp_xcalloc(QP_SERVE_MAX_WAITING + 2, sizeof *p);

	for (;;) {
		struct timespec now;
		int timeout = -1;
		size_t np;

		clock_gettime(CLOCK_MONOTONIC, &now);
		p[0] = (struct pollfd){d->wake[0], POLLIN, 0};
		p[1] = (struct pollfd){d->lfd, POLLIN, 0};
		if (since_ms(&d->accept_pause, &now) < 0) {
			p[1].fd = -1;
			timeout = 100;
		}
		for (size_t i = 0; i < d->n; i++) {
			double left = QP_SERVE_HEAD_TIMEOUT * 1e3 -
			    since_ms(&d->w[i].since, &now);
			int ms = left <= 0 ? 0 : (int)left + 1;

			p[2 + i] = (struct pollfd){d->w[i].fd, POLLIN, 0};
			if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		np = 2 + d->n;
		if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* From the end: forget() moves the last entry into i. */
		for (size_t i = np - 2; i-- > 0;)
			if (p[2 + i].revents)
				examine(d, i);
		for (size_t i = d->n; i-- > 0;)
			if (since_ms(&d->w[i].since, &now) >=
			    QP_SERVE_HEAD_TIMEOUT * 1e3) {
				if (d->w[i].sent)
					answer(d->w[i].fd, 408, "Request Timeout",
					    "the request took too long to arrive");
				drop(d, i);
			}
		if (p[1].revents)
			accept_new(d, &now);
	}
	free(p);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Open and close. */

srv_door *
srv_door_open(const struct sockaddr *sa, socklen_t len, unsigned *port,
    qp_error *err)
{
	srv_door *d = qp_xcalloc(1, sizeof *d);
	struct sockaddr_storage got;
	socklen_t glen = sizeof got;
	int one = 1;

	d->wake[0] = d->wake[1] = -1;
	d->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (d->lfd < 0 ||
	    setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    (sa->sa_family == AF_INET6 && setsockopt(d->lfd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof one) != 0) ||
	    bind(d->lfd, sa, len) != 0 || listen(d->lfd, SOMAXCONN) != 0 ||
	    getsockname(d->lfd, (struct sockaddr *)&got, &glen) != 0 ||
	    pipe2(d->wake, O_CLOEXEC) != 0) {
		qp_fail(err, "%s", strerror(errno));
		srv_door_close(d);
		return NULL;
	}
	*port = ntohs(got.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&got)->sin6_port :
	    ((struct sockaddr_in *)&got)->sin_port);
	return d;
}

bool
srv_door_start(srv_door *d, struct MHD_Daemon *mhd, qp_error *err)
{
	d->mhd = mhd;
	if (pthread_create(&d->thread, NULL, door_main, d) != 0)
		return qp_fail(err, "cannot start the connection thread");
	d->running = true;
	return true;
}

void
srv_door_close(srv_door *d)
{
	if (d == NULL)
		return;
	if (d->running) {
		ssize_t r = write(d->wake[1], "", 1);

		(void)r;
		pthread_join(d->thread, NULL);
	}
	while (d->n)
		drop(d, d->n - 1);
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	free(d);
}
