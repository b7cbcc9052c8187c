/*
 * serve_client.c - the serve tests' HTTP client and server launcher
 * (serve_client.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve_client.h"

__thread const char *client_src;
__thread const char *client_dst;

/* The binary under test; a bare name means the one in this directory
 * (make passes QRPOSTER=qrposter), never one found on $PATH. */
const char *
qrposter(void)
{
	static char path[4096];
	const char *q = getenv("QRPOSTER");

	if (q == NULL || *q == '\0')
		q = "qrposter";
	snprintf(path, sizeof path, "%s%s", strchr(q, '/') ? "" : "./", q);
	return path;
}

/* Read one line from fd within the timeout; false on EOF or timeout. */
bool
read_line(int fd, char *buf, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		struct pollfd p = {fd, POLLIN, 0};
		char c;

		if (poll(&p, 1, IO_TIMEOUT_MS) <= 0 || read(fd, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		buf[len++] = c;
	}
	buf[len] = '\0';
	return true;
}

/* Start `qrposter serve --port 0 ARGS...` and learn its port. */
bool
start_server(child *ch, const char *extra1, const char *extra2)
{
	int fds[2];
	char *p;

	memset(ch, 0, sizeof *ch);
	if (pipe(fds) != 0)
		return false;
	ch->pid = fork();
	if (ch->pid < 0)
		return false;
	if (ch->pid == 0) {
		const char *argv[12] = {qrposter(), "serve", "--port", "0",
		    "--bind", "127.0.0.1", "--workers", "2", NULL, NULL};
		size_t n = 8;

		if (extra1)
			argv[n++] = extra1;
		if (extra2)
			argv[n++] = extra2;
		argv[n] = NULL;
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	ch->out = fds[0];
	if (!read_line(ch->out, ch->banner, sizeof ch->banner))
		return false;
	/* "... at http://HOST:PORT/" or ".../?token=TOKEN" */
	p = strstr(ch->banner, "http://");
	if (p == NULL || sscanf(p + 7, "%63[0-9.]:%u", ch->host,
	    &ch->port) != 2)
		return false;
	if ((p = strstr(ch->banner, "?token=")) != NULL)
		snprintf(ch->token, sizeof ch->token, "%s", p + 7);
	return ch->port > 0;
}

/* SIGINT, then wait (bounded) for a clean exit; the exit status. */
int
stop_server(child *ch)
{
	int st = -1;

	if (ch->pid <= 0)
		return -1;
	kill(ch->pid, SIGINT);
	for (int i = 0; i < 400; i++) {
		pid_t r = waitpid(ch->pid, &st, WNOHANG);

		if (r == ch->pid) {
			ch->pid = 0;
			close(ch->out);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
		}
		usleep(25 * 1000);
	}
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, &st, 0);
	ch->pid = 0;
	close(ch->out);
	return -1;
}

void
resp_free(resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* Send raw bytes to the server and read the whole answer. */
bool
raw(unsigned port, const char *req, size_t reqlen, resp *r)
{
	struct sockaddr_in a = {0};
	char *buf = NULL, *sep;
	size_t len = 0, cap = 0, off = 0;
	int fd;

	memset(r, 0, sizeof *r);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (client_dst && (inet_pton(AF_INET, client_dst, &a.sin_addr) != 1 ||
	    (ntohl(a.sin_addr.s_addr) >> 24) != 127))
		return false; /* never anything but this machine */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (client_src) {
		struct sockaddr_in b = {0};

		b.sin_family = AF_INET;
		if (inet_pton(AF_INET, client_src, &b.sin_addr) != 1 ||
		    (ntohl(b.sin_addr.s_addr) >> 24) != 127 ||
		    bind(fd, (struct sockaddr *)&b, sizeof b) != 0) {
			close(fd);
			return false;
		}
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return false;
	}
	while (off < reqlen) {
		struct pollfd p = {fd, POLLOUT, 0};
		ssize_t n;

		if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
			break;
		n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may answer before reading it all */
		off += (size_t)n;
	}
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
			break;
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap + 1);
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return false;
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (sep == NULL || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		free(buf);
		return false;
	}
	r->head = strndup(buf, (size_t)(sep - buf) + 2);
	r->len = len - (size_t)(sep + 4 - buf);
	r->body = malloc(r->len + 1);
	memcpy(r->body, sep + 4, r->len);
	r->body[r->len] = '\0';
	free(buf);
	return true;
}

bool
get(unsigned port, const char *path, resp *r)
{
	char req[2048];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: "
	    "127.0.0.1:%u\r\nConnection: close\r\n\r\n", path, port);

	return raw(port, req, (size_t)n, r);
}

bool
post(unsigned port, const char *path, const char *body, resp *r)
{
	size_t blen = strlen(body);
	char *req = NULL;
	int n;
	bool ok;

	n = asprintf(&req, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", path, port,
	    blen, body);
	if (n < 0)
		return false;
	ok = raw(port, req, (size_t)n, r);
	free(req);
	return ok;
}

/* The value of header name (case-insensitive), or NULL; static buffer. */
const char *
header(const resp *r, const char *name)
{
	static __thread char val[1024];
	size_t n = strlen(name);
	const char *p = r->head;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(val, sizeof val, "%.*s", (int)(e ? e - v :
			    (long)strlen(v)), v);
			return val;
		}
	}
	return NULL;
}

void
assert_header_has(const resp *r, const char *name, const char *part)
{
	const char *v = header(r, name);

	if (v == NULL || strstr(v, part) == NULL)
		fail_msg("header %s: expected '%s', got '%s'", name, part,
		    v ? v : "(none)");
}
