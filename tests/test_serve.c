/*
 * test_serve.c - "qrposter serve" from the outside: the server runs as a
 * child process on a free loopback port and is spoken to over plain
 * sockets, one connection per request. Every wait is bounded.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define IO_TIMEOUT_MS 30000

typedef struct child {
	pid_t pid;
	int out; /* its stdout */
	char host[64]; /* the address it listens on */
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

static child srv;
/* Other servers a test starts; stopped by its teardown (stop_extra),
 * whatever the test's outcome. */
static child extra[3];

/* The source address of this thread's connections (NULL: the kernel's
 * choice, 127.0.0.1). Any address in 127.0.0.0/8 is this machine, so a
 * test can be several clients at once without leaving it. */
static __thread const char *client_src;
/* The server's address for this thread's connections (NULL: 127.0.0.1). */
static __thread const char *client_dst;

/* The binary under test; a bare name means the one in this directory
 * (make passes QRPOSTER=qrposter), never one found on $PATH. */
static const char *
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
static bool
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
static bool
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
static int
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

static void
resp_free(resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* Send raw bytes to the server and read the whole answer. */
static bool
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

static bool
get(unsigned port, const char *path, resp *r)
{
	char req[2048];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: "
	    "127.0.0.1:%u\r\nConnection: close\r\n\r\n", path, port);

	return raw(port, req, (size_t)n, r);
}

static bool
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
static const char *
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

static void
assert_header_has(const resp *r, const char *name, const char *part)
{
	const char *v = header(r, name);

	if (v == NULL || strstr(v, part) == NULL)
		fail_msg("header %s: expected '%s', got '%s'", name, part,
		    v ? v : "(none)");
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* Tests run from the top of the tree, which holds the data. */
	setenv("QRPOSTER_DATADIR", ".", 0);
	if (!start_server(&srv, NULL, NULL)) {
		fprintf(stderr, "cannot start %s serve\n", qrposter());
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (srv.pid > 0)
		stop_server(&srv);
	return 0;
}

/* ---------------------------------------------------------------- */

static void
test_banner_says_loopback(void **state)
{
	char line[1024];

	(void)state;
	assert_non_null(strstr(srv.banner, "http://127.0.0.1:"));
	assert_true(read_line(srv.out, line, sizeof line));
	assert_non_null(strstr(line, "loopback only"));
}

static void
test_page_and_headers(void **state)
{
	resp r;

	(void)state;
	assert_true(get(srv.port, "/", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "text/html");
	assert_header_has(&r, "X-Content-Type-Options", "nosniff");
	assert_header_has(&r, "Content-Security-Policy", "script-src 'self'");
	assert_header_has(&r, "Content-Security-Policy", "default-src 'none'");
	assert_null(strstr(header(&r, "Content-Security-Policy"),
	    "unsafe-inline"));
	assert_non_null(strstr(r.body, "<script src=\"/app.js\""));
	/* No inline script anywhere: every <script has a src. */
	for (const char *p = r.body; (p = strstr(p, "<script")) != NULL; p++)
		assert_true(strncmp(p, "<script src=", 12) == 0);
	/* Every input the page builds is labelled; the static ones too. */
	assert_non_null(strstr(r.body, "<label for=\"template\">"));
	assert_non_null(strstr(r.body, "lang=\"en\""));
	resp_free(&r);

	assert_true(get(srv.port, "/app.js", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "text/javascript");
	assert_non_null(strstr(r.body, "/api/preview"));
	assert_null(strstr(r.body, "http://"));  /* no CDN, no network */
	assert_null(strstr(r.body, "https://cdn"));
	resp_free(&r);

	assert_true(get(srv.port, "/app.css", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "text/css");
	assert_null(strstr(r.body, "@import"));
	resp_free(&r);
}

static void
test_templates(void **state)
{
	resp r;

	(void)state;
	assert_true(get(srv.port, "/api/templates", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "application/json");
	assert_header_has(&r, "Cache-Control", "no-store");
	assert_non_null(strstr(r.body, "\"name\":\"restroom-letter\""));
	assert_non_null(strstr(r.body, "\"name\":\"station-tabloid\""));
	assert_non_null(strstr(r.body, "\"name\":\"car-card\""));
	resp_free(&r);

	assert_true(get(srv.port, "/api/templates/station-tabloid", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"name\":\"hotline\",\"default\":"
	    "\"1-888-373-7888\""));
	assert_non_null(strstr(r.body, "\"name\":\"code\",\"default\":null"));
	assert_non_null(strstr(r.body, "\"required\":true"));
	assert_non_null(strstr(r.body, "\"height_in\":17.00"));
	resp_free(&r);

	assert_true(get(srv.port, "/api/templates/no-such-poster", &r));
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "no template named"));
	resp_free(&r);
}

static void
test_template_names_are_never_paths(void **state)
{
	static const char *const paths[] = {
		"/api/templates/../../etc/passwd",
		"/api/templates/..%2F..%2Fetc%2Fpasswd",
		"/api/templates/%2e%2e%2frestroom-letter",
		"/api/templates/..",
		"/api/templates/.hidden",
		"/api/templates/a/b",
		"/api/templates/restroom-letter.yaml",
		"/api/templates/%2Fetc%2Fpasswd",
	};
	static const char *const forms[] = {
		"template=../templates/restroom-letter&var.code=A&var.name=B",
		"template=..%2F..%2Fetc%2Fpasswd&var.code=A&var.name=B",
		"template=%2Fetc%2Fpasswd&var.code=A&var.name=B",
		"template=restroom-letter%00&var.code=A&var.name=B",
	};
	resp r;

	(void)state;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		assert_true(get(srv.port, paths[i], &r));
		if (r.status != 400)
			fail_msg("%s: status %d, body %s", paths[i], r.status,
			    r.body);
		assert_non_null(strstr(r.body, "not a template name"));
		assert_null(strstr(r.body, "root:"));
		resp_free(&r);
	}
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		assert_true(post(srv.port, "/api/poster", forms[i], &r));
		if (r.status != 400)
			fail_msg("%s: status %d", forms[i], r.status);
		resp_free(&r);
	}
	assert_true(qp_serve_name_ok("restroom-letter"));
	assert_true(qp_serve_name_ok("a_b-9"));
	assert_false(qp_serve_name_ok("../x"));
	assert_false(qp_serve_name_ok("-x"));
	assert_false(qp_serve_name_ok(""));
	assert_false(qp_serve_name_ok("a.yaml"));
}

static void
test_preview(void **state)
{
	resp r;

	(void)state;
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=NYP-R1&var.name=New+York+Penn+Station", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "application/json");
	assert_header_has(&r, "Cache-Control", "no-store");
	assert_non_null(strstr(r.body, "\"ok\":true"));
	assert_non_null(strstr(r.body, "\"image\":\"data:image/png;base64,"
	    "iVBORw0KGgo"));
	assert_non_null(strstr(r.body, "\"problems\":[]"));
	resp_free(&r);
}

static void
test_bad_values_name_their_field(void **state)
{
	resp r;

	(void)state;
	/* Too long for its box: the message lands on the hotline field. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.hotline=1-888-373-7888+or+"
	    "1-888-373-7888+or+1-888-373-7888", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline\"]"));
	assert_non_null(strstr(r.body, "too long"));
	assert_non_null(strstr(r.body, "\"block\":\"hotline\""));
	resp_free(&r);

	/* Preflight reports every bad block at once, each on its field. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.hotline=1-888-373-7888+or+"
	    "1-888-373-7888+or+1-888-373-7888&var.text_number="
	    "233733+233733+233733+233733+233733+233733+233733+233733", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline\"]"));
	assert_non_null(strstr(r.body, "\"fields\":[\"text_number\"]"));
	resp_free(&r);

	/* A required field left empty. */
	assert_true(post(srv.port, "/api/poster", "template=restroom-letter&"
	    "var.code=&var.name=B", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"code\"]"));
	resp_free(&r);

	/* Not UTF-8, and a control character. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=%FF%FE", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"name\"]"));
	assert_non_null(strstr(r.body, "UTF-8"));
	resp_free(&r);
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A%07&var.name=B", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "control character"));
	resp_free(&r);

	/* A character no font has (U+E000, private use). */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B%EE%80%80", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "U+E000"));
	assert_non_null(strstr(r.body, "\"name\""));
	resp_free(&r);
}

static void
test_bad_requests(void **state)
{
	static const char *const forms[] = {
		"var.code=A&var.name=B",                     /* no template */
		"template=restroom-letter&var.nope=1",       /* unknown field */
		"template=restroom-letter&var.code=%G1",     /* bad escape */
		"template=restroom-letter&var.code=%4",      /* cut escape */
		"template=restroom-letter&novalue",          /* no '=' */
		"template=restroom-letter&var.code=A&var.name=B&format=gif",
		"template=restroom-letter&var.code=A&var.name=B&format=png&"
		    "dpi=5000",
		"template=car-card&var.code=A&var.name=B&format=png&dpi=600",
	};
	resp r;

	(void)state;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		assert_true(post(srv.port, "/api/poster", forms[i], &r));
		if (r.status != 400)
			fail_msg("%s: status %d", forms[i], r.status);
		assert_non_null(strstr(r.body, "\"error\":"));
		resp_free(&r);
	}
	assert_true(get(srv.port, "/api/preview", &r));
	assert_int_equal(r.status, 405);
	assert_non_null(header(&r, "Allow"));
	resp_free(&r);
	assert_true(post(srv.port, "/", "x=1", &r));
	assert_int_equal(r.status, 405);
	resp_free(&r);
	assert_true(get(srv.port, "/api/nothing", &r));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_true(get(srv.port, "/nothing.js", &r));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	{
		static const char *const bad[] = {
			"GET / HTTP/1.1\r\n\r\n",          /* no Host */
			"BREW /api/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
			    "-3\r\n\r\n",
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			assert_true(raw(srv.port, bad[i], strlen(bad[i]), &r));
			if (r.status < 400 || r.status >= 500)
				fail_msg("%s: status %d", bad[i], r.status);
			resp_free(&r);
		}
		/* Not HTTP at all: a 400, whether the line ends or not, and
		 * the server is still there. */
		static const struct {
			const char *req;
			size_t len;
		} garbage[] = {
			{"GARBAGE\r\n\r\n", 11},
			{"GET\r\n\r\n", 7},
			{"hello world\r\n\r\n", 15},
			{"\x00\x01\x02\x03 \x04\r\n\r\n", 11},
			/* a TLS ClientHello, no line end anywhere */
			{"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11},
			{"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 35},
		};

		for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
			assert_true(raw(srv.port, garbage[i].req, garbage[i].len,
			    &r));
			if (r.status != 400)
				fail_msg("garbage %zu: status %d", i, r.status);
			assert_non_null(header(&r, "Connection"));
			assert_string_equal(header(&r, "Connection"), "close");
			resp_free(&r);
		}
		assert_true(get(srv.port, "/api/templates", &r));
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	{
		/* Two Host headers, the first a good one: refused. */
		static const char two[] = "GET /api/templates HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\nHost: evil.example\r\n"
		    "Connection: close\r\n\r\n";

		assert_true(raw(srv.port, two, strlen(two), &r));
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(r.body, "Host"));
		resp_free(&r);
	}
	{
		/* DNS rebinding: a foreign Host name is refused. */
		char q[256];
		int n = snprintf(q, sizeof q, "GET /api/templates HTTP/1.1\r\n"
		    "Host: attacker.example:%u\r\nConnection: close\r\n\r\n",
		    srv.port);

		assert_true(raw(srv.port, q, (size_t)n, &r));
		assert_int_equal(r.status, 421);
		resp_free(&r);
	}
	{
		/* Another site's page posting a form here is refused; the
		 * editor's own page is not. */
		static const char body[] = "template=restroom-letter&"
		    "var.code=A&var.name=B";
		char q[512];
		int n = snprintf(q, sizeof q, "POST /api/preview HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%u\r\nOrigin: http://attacker.example\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    srv.port, strlen(body), body);

		assert_true(raw(srv.port, q, (size_t)n, &r));
		assert_int_equal(r.status, 403);
		resp_free(&r);
		n = snprintf(q, sizeof q, "POST /api/preview HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%u\r\nOrigin: http://127.0.0.1:%u\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    srv.port, srv.port, strlen(body), body);
		assert_true(raw(srv.port, q, (size_t)n, &r));
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
}

static void
test_oversized_requests(void **state)
{
	char q[512];
	size_t big = 70 * 1024;
	char *body, *req;
	resp r;
	int n;

	(void)state;
	/* Announced too big: refused before the body is read. */
	n = snprintf(q, sizeof q, "POST /api/preview HTTP/1.1\r\nHost: "
	    "127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: 20000000\r\nConnection: close\r\n\r\n");
	assert_true(raw(srv.port, q, (size_t)n, &r));
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "limit"));
	resp_free(&r);

	/* Sent chunked, with no length: refused once it passes the limit. */
	body = malloc(big + 1);
	memset(body, 'a', big);
	body[big] = '\0';
	memcpy(body, "template=restroom-letter&var.name=", 34);
	n = asprintf(&req, "POST /api/preview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    "%zx\r\n%s\r\n0\r\n\r\n", big, body);
	assert_true(n > 0);
	assert_true(raw(srv.port, req, (size_t)n, &r));
	assert_int_equal(r.status, 413);
	resp_free(&r);
	free(req);
	free(body);

	/* One value over the per-field limit, in a small enough form. */
	body = malloc(3000 + 64);
	n = snprintf(body, 64, "template=restroom-letter&var.code=A&var.name=");
	memset(body + n, 'x', 3000);
	body[n + 3000] = '\0';
	assert_true(post(srv.port, "/api/preview", body, &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "too long"));
	assert_non_null(strstr(r.body, "\"fields\":[\"name\"]"));
	resp_free(&r);
	free(body);

	/* A request head over 16 KB: refused at the door. */
	body = malloc(20 * 1024 + 256);
	n = sprintf(body, "GET /api/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "X-Big: ");
	memset(body + n, 'b', 20 * 1024);
	n += 20 * 1024;
	n += sprintf(body + n, "\r\nConnection: close\r\n\r\n");
	assert_true(raw(srv.port, body, (size_t)n, &r));
	assert_int_equal(r.status, 431);
	resp_free(&r);
	free(body);

	/* A body where none belongs. */
	n = snprintf(q, sizeof q, "GET /api/templates HTTP/1.1\r\nHost: "
	    "127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
	assert_true(raw(srv.port, q, (size_t)n, &r));
	assert_int_equal(r.status, 413);
	resp_free(&r);
}

static bool
run(const char *cmd)
{
	return system(cmd) == 0;
}

static void
test_poster_pdf_and_png(void **state)
{
	char dir[] = "/tmp/qp-serve-XXXXXX", path[256], cmd[1024], got[512];
	FILE *fp;
	resp r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(post(srv.port, "/api/poster", "template=restroom-letter&"
	    "var.code=NYP+R1%2F%C3%A9&var.name=New+York+Penn&"
	    "var.hotline=1-555-010-0199&format=pdf", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "application/pdf");
	assert_header_has(&r, "Cache-Control", "no-store");
	assert_header_has(&r, "X-Content-Type-Options", "nosniff");
	assert_header_has(&r, "Content-Disposition", "attachment; filename=\""
	    "poster-NYP_R1___.pdf\"");
	assert_true(r.len > 1000 && memcmp(r.body, "%PDF-", 5) == 0);
	snprintf(path, sizeof path, "%s/p.pdf", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(r.body, 1, r.len, fp), r.len);
	fclose(fp);
	resp_free(&r);
	/* Structurally valid: qpdf --check exits 0 only without warnings. */
	snprintf(cmd, sizeof cmd, "qpdf --check %s/p.pdf >/dev/null 2>&1",
	    dir);
	assert_true(run(cmd));
	snprintf(cmd, sizeof cmd, "pdftotext %s/p.pdf - | grep -q "
	    "'1-555-010-0199'", dir);
	assert_true(run(cmd));
	snprintf(cmd, sizeof cmd, "pdftoppm -r 72 -png %s/p.pdf %s/p && "
	    "zbarimg -q --raw %s/p-1.png > %s/qr.txt 2>/dev/null", dir, dir,
	    dir, dir);
	assert_true(run(cmd));
	snprintf(path, sizeof path, "%s/qr.txt", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(got, sizeof got, fp));
	fclose(fp);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, "https://humantraffickinghotline.org/"
	    "?loc=NYP%20R1%2F%C3%A9");

	assert_true(post(srv.port, "/api/poster", "template=restroom-letter&"
	    "var.code=A&var.name=B&format=png&dpi=100", &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "image/png");
	assert_header_has(&r, "Content-Disposition", "poster-A.png");
	assert_true(r.len > 8 && memcmp(r.body, "\x89PNG\r\n\x1a\n", 8) == 0);
	resp_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	run(cmd);
}

/* 50 clients at once, mixed previews and downloads of six templates:
 * all answered. */
typedef struct client {
	int i;
	int status;
	bool ok;
	char src[32];
} client;

static void *
one_client(void *arg)
{
	/* Different templates at once: pictures, a logo in the code and
	 * Chinese text among them. */
	static const char *const names[] = {"restroom-letter",
		"station-tabloid", "agency-letter", "logo-qr-letter",
		"multilingual-tabloid", "car-card"};
	client *c = arg;
	char body[256];
	resp r;

	/* Five clients' worth of addresses: one address may have 16
	 * requests in hand at once. */
	snprintf(c->src, sizeof c->src, "127.0.0.%d", 20 + c->i % 5);
	client_src = c->src;
	snprintf(body, sizeof body, "template=%s&var.code=LOC-%d&var.name="
	    "Station+%d%s", names[c->i % 6], c->i, c->i,
	    c->i % 5 == 0 ? "&format=pdf" : "");
	c->ok = post(srv.port, c->i % 5 == 0 ? "/api/poster" : "/api/preview",
	    body, &r);
	c->status = r.status;
	if (c->ok && c->status == 200 && c->i % 5 != 0 &&
	    strstr(r.body, "\"ok\":true") == NULL)
		c->status = -1;
	resp_free(&r);
	return NULL;
}

static void
test_fifty_concurrent(void **state)
{
	enum { N = 50 };
	pthread_t th[N];
	client cl[N];
	resp r;

	(void)state;
	for (int i = 0; i < N; i++) {
		cl[i] = (client){.i = i};
		assert_int_equal(pthread_create(&th[i], NULL, one_client,
		    &cl[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		if (!cl[i].ok || cl[i].status != 200)
			fail_msg("client %d: ok %d status %d", i, cl[i].ok,
			    cl[i].status);
	}
	/* And the server is still there. */
	assert_true(get(srv.port, "/api/templates", &r));
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

/* ---------------------------------------------------------------- */
/* Templates that bring their own fonts (--templates DIR). */

static int
stop_extra(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
		if (extra[i].pid > 0)
			stop_server(&extra[i]);
	return 0;
}

/* Read a whole file; NULL if it cannot be read. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

static bool
spit(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	bool ok;

	if (fp == NULL)
		return false;
	ok = fwrite(data, 1, len, fp) == len;
	return fclose(fp) == 0 && ok;
}

/* Replace every from (UTF-16BE) with to, of the same length. */
static size_t
replace_utf16(char *buf, size_t len, const char *from, const char *to)
{
	size_t n = strlen(from), hits = 0;

	for (size_t i = 0; i + 2 * n <= len; i++) {
		size_t k = 0;

		while (k < n && buf[i + 2 * k] == 0 && buf[i + 2 * k + 1] == from[k])
			k++;
		if (k < n)
			continue;
		for (k = 0; k < n; k++)
			buf[i + 2 * k + 1] = to[k];
		hits++;
	}
	return hits;
}

/*
 * A bundled font renamed "Qrpt Sans": the family and PostScript names in
 * its name table rewritten (same lengths, so nothing else moves). No
 * system font and nothing in fonts/ has that family, so a poster set in
 * it shows that the template's own font file was used.
 */
static bool
write_renamed_font(const char *from, const char *to)
{
	size_t len;
	char *buf = slurp(from, &len);
	bool ok;

	if (buf == NULL)
		return false;
	ok = replace_utf16(buf, len, "Noto Sans", "Qrpt Sans") > 0 &&
	    replace_utf16(buf, len, "NotoSans", "QrptSans") > 0 &&
	    spit(to, buf, len);
	free(buf);
	return ok;
}

/* A template in the agency's font, with a bold headline. */
static const char brand_yaml[] =
    "qrposter: 1\n"
    "name: Agency font\n"
    "fonts: [QrptSans-Regular.ttf, QrptSans-Bold.ttf]\n"
    "page: {size: letter, orientation: portrait, margin: 0.25in}\n"
    "variables:\n"
    "  code: {description: Location code}\n"
    "  name: {description: Location name}\n"
    "  report_url: {default: \"https://humantraffickinghotline.org/\"}\n"
    "blocks:\n"
    "  - type: text\n"
    "    id: headline\n"
    "    box: {x: 0.5in, y: 0.5in, w: 7.5in, h: 1.5in}\n"
    "    text: \"<b>Call 1-888-373-7888</b>\"\n"
    "    font: Qrpt Sans\n"
    "    size: {max: 40pt, min: 20pt}\n"
    "    color: \"#000000\"\n"
    "    align: center\n"
    "  - type: qr\n"
    "    id: qr\n"
    "    box: {x: center, y: 2.5in, w: 5in, h: 5.6in}\n"
    "    data: \"{{report_url}}?loc={{code|url}}\"\n"
    "    scan_distance: 1m\n"
    "    caption: \"{{report_url}}\"\n"
    "    caption_font: Qrpt Sans\n"
    "    caption_size: {max: 15pt, min: 9pt}\n"
    "  - type: text\n"
    "    id: footer\n"
    "    box: {x: 0.5in, y: 9.5in, w: 7.5in, h: 0.5in}\n"
    "    text: \"Location: {{name}} · {{code}}\"\n"
    "    font: Qrpt Sans\n"
    "    size: {max: 14pt, min: 8pt}\n"
    "    color: \"#000000\"\n"
    "    align: center\n";

/*
 * A folder of templates that bring fonts: brand.yaml (above) and three
 * copies of restroom-letter declaring the bundled Noto Sans files copied
 * into DIR/fonts/, as an agency's folder would; and plain.yaml, a copy
 * that brings none.
 */
static bool
make_font_templates(char *dir)
{
	char path[512], from[512];
	size_t len;
	char *rl;
	bool ok = true;

	if (mkdtemp(dir) == NULL)
		return false;
	snprintf(path, sizeof path, "%s/fonts", dir);
	if (mkdir(path, 0700) != 0)
		return false;
	for (int b = 0; b < 2 && ok; b++) {
		const char *style = b ? "Bold" : "Regular";
		char *data;

		snprintf(from, sizeof from, "fonts/NotoSans-%s.ttf", style);
		snprintf(path, sizeof path, "%s/QrptSans-%s.ttf", dir, style);
		ok = write_renamed_font(from, path);
		snprintf(path, sizeof path, "%s/fonts/NotoSans-%s.ttf", dir,
		    style);
		data = slurp(from, &len);
		ok = ok && data && spit(path, data, len);
		free(data);
	}
	snprintf(path, sizeof path, "%s/brand.yaml", dir);
	ok = ok && spit(path, brand_yaml, strlen(brand_yaml));
	rl = slurp("templates/restroom-letter.yaml", &len);
	for (int i = 0; i < 3 && ok && rl; i++) {
		FILE *fp;

		snprintf(path, sizeof path, "%s/rl-%c.yaml", dir, 'a' + i);
		fp = fopen(path, "wb");
		ok = fp && fprintf(fp, "fonts: [fonts/NotoSans-Regular.ttf, "
		    "fonts/NotoSans-Bold.ttf]\n%s", rl) > 0;
		if (fp && fclose(fp) != 0)
			ok = false;
	}
	/* And one that brings none. */
	snprintf(path, sizeof path, "%s/plain.yaml", dir);
	ok = ok && rl && spit(path, rl, len);
	free(rl);
	return ok;
}

static void
rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* The fonts pdffonts lists in pdf, subset tags dropped, sorted, comma-
 * separated, in out. */
static bool
pdf_fonts(const char *pdf, char *out, size_t n)
{
	char cmd[600], line[512];
	FILE *fp;
	int lineno = 0;

	snprintf(cmd, sizeof cmd, "pdffonts '%s' | awk 'NR > 2 {print $1}' | "
	    "sed 's/^[A-Z]\\{6\\}+//' | sort -u", pdf);
	if ((fp = popen(cmd, "r")) == NULL)
		return false;
	out[0] = '\0';
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
		    lineno++ ? "," : "", line);
	}
	return pclose(fp) == 0 && lineno > 0;
}

static void
test_template_font_web_matches_cli(void **state)
{
	char dir[] = "/tmp/qp-serve-fonts-XXXXXX", path[512], cmd[1200];
	char cli[512], web[512];
	child *s = &extra[0];
	resp r;

	(void)state;
	assert_true(make_font_templates(dir));
	snprintf(path, sizeof path, "--templates=%s", dir);
	assert_true(start_server(s, path, "--workers=1"));
	/* The one worker lays a poster out before the template's fonts are
	 * registered, so its fonts are set up without them. */
	assert_true(post(s->port, "/api/preview", "template=plain&"
	    "var.code=A&var.name=B", &r));
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* The preview first: it must not pass with a substitute font. */
	assert_true(post(s->port, "/api/preview", "template=brand&"
	    "var.code=DEN-R3&var.name=Denver+Union+Station", &r));
	if (r.status != 200)
		fail_msg("preview: %d %s", r.status, r.body);
	assert_non_null(strstr(r.body, "\"problems\":[]"));
	resp_free(&r);
	assert_true(post(s->port, "/api/poster", "template=brand&"
	    "var.code=DEN-R3&var.name=Denver+Union+Station&format=pdf", &r));
	assert_int_equal(r.status, 200);
	snprintf(path, sizeof path, "%s/web.pdf", dir);
	assert_true(spit(path, r.body, r.len));
	resp_free(&r);
	assert_int_equal(stop_server(s), 0);
	snprintf(cmd, sizeof cmd, "%s render -t %s/brand.yaml -s code=DEN-R3 "
	    "-s 'name=Denver Union Station' -o %s/cli.pdf", qrposter(), dir,
	    dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/cli.pdf", dir);
	assert_true(pdf_fonts(path, cli, sizeof cli));
	snprintf(path, sizeof path, "%s/web.pdf", dir);
	assert_true(pdf_fonts(path, web, sizeof web));
	/* The template's font, bold and regular, and nothing else. */
	assert_string_equal(cli, "QrptSans-Bold,QrptSans-Regular");
	assert_string_equal(web, cli);
	rm_rf(dir);
}

/* One client of the font-template server: previews of several templates
 * and template lists, each on a fresh connection. */
typedef struct font_client {
	unsigned port;
	int i;
	int failures;
	char src[32];
	char last[256];
} font_client;

static void *
font_client_main(void *arg)
{
	static const char *const names[] = {"rl-a", "rl-b", "rl-c", "brand"};
	font_client *fc = arg;
	char body[256];
	resp r;

	snprintf(fc->src, sizeof fc->src, "127.0.0.%d", 10 + fc->i);
	client_src = fc->src;
	for (int k = 0; k < 8; k++) {
		bool ok;

		if (k % 2 == 0)
			ok = get(fc->port, "/api/templates", &r) && r.status == 200 &&
			    strstr(r.body, "\"name\":\"rl-b\"") != NULL;
		else {
			snprintf(body, sizeof body, "template=%s&var.code=T%d-%d&"
			    "var.name=Station+%d", names[(fc->i + k) % 4],
			    fc->i, k, k);
			ok = post(fc->port, "/api/preview", body, &r) &&
			    r.status == 200 &&
			    strstr(r.body, "\"problems\":[]") != NULL;
		}
		if (!ok) {
			fc->failures++;
			snprintf(fc->last, sizeof fc->last, "%d %.200s", r.status,
			    r.body ? r.body : "(no answer)");
		}
		resp_free(&r);
	}
	return NULL;
}

/*
 * Many concurrent previews of different templates, four of them with
 * fonts of their own that the server registers while others render:
 * every answer is right and the server stops cleanly (under `make tsan`,
 * without a race report).
 */
static void
test_concurrent_font_templates(void **state)
{
	enum { N = 24 };
	char dir[] = "/tmp/qp-serve-fonts-XXXXXX";
	pthread_t th[N];
	font_client fc[N];
	child *s = &extra[0];

	(void)state;
	assert_true(make_font_templates(dir));
	assert_true(start_server(s, "--templates", dir));
	for (int i = 0; i < N; i++) {
		fc[i] = (font_client){.port = s->port, .i = i};
		assert_int_equal(pthread_create(&th[i], NULL, font_client_main,
		    &fc[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		if (fc[i].failures)
			fail_msg("client %d: %d failures, last %s", i,
			    fc[i].failures, fc[i].last);
	assert_int_equal(stop_server(s), 0);
	rm_rf(dir);
}

/* The server folders under dir (qrposter-serve-*), counted. */
static int
count_server_dirs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "qrposter-serve-", 15) == 0)
			n++;
	closedir(d);
	return n;
}

/* Start a server whose temporary folder goes under tmpdir. */
static bool
start_server_in(child *ch, const char *tmpdir)
{
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	bool ok;

	setenv("TMPDIR", tmpdir, 1);
	ok = start_server(ch, NULL, NULL);
	if (old) {
		setenv("TMPDIR", old, 1);
		free(old);
	} else
		unsetenv("TMPDIR");
	return ok;
}

/*
 * A server that dies leaves its folder, locked while it lived; the next
 * one to start removes it, and leaves a live server's alone. A server
 * that is stopped leaves nothing.
 */
static void
test_dead_server_folder_is_removed(void **state)
{
	char dir[] = "/tmp/qp-serve-tmp-XXXXXX";
	child *a = &extra[0], *b = &extra[1], *c = &extra[2];
	resp r;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(start_server_in(a, dir));
	assert_true(start_server_in(b, dir));
	assert_int_equal(count_server_dirs(dir), 2);
	/* A's folder holds a poster on its way out when A is killed. */
	assert_true(post(a->port, "/api/poster", "template=restroom-letter&"
	    "var.code=A&var.name=B", &r));
	assert_int_equal(r.status, 200);
	resp_free(&r);
	kill(a->pid, SIGKILL);
	waitpid(a->pid, &st, 0);
	a->pid = 0;
	close(a->out);
	assert_int_equal(count_server_dirs(dir), 2);
	assert_true(start_server_in(c, dir));
	/* A's is gone; B's (alive) and C's are there. */
	assert_int_equal(count_server_dirs(dir), 2);
	assert_int_equal(stop_server(b), 0);
	assert_int_equal(stop_server(c), 0);
	assert_int_equal(count_server_dirs(dir), 0);
	rm_rf(dir);
}

/* ---------------------------------------------------------------- */
/* Clients that hold connections, and the access token. All on this
 * machine: every address used is in 127.0.0.0/8. */

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A connection from src (a 127.x address) to the server, or -1. */
static int
connect_from(const char *src, unsigned port)
{
	struct sockaddr_in a = {0}, b = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_family = b.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || inet_pton(AF_INET, src, &b.sin_addr) != 1 ||
	    (ntohl(b.sin_addr.s_addr) >> 24) != 127 ||
	    bind(fd, (struct sockaddr *)&b, sizeof b) != 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* True if the server has closed fd (end of file within ms). */
static bool
closed_within(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	return poll(&p, 1, ms) > 0 && recv(fd, &c, 1, MSG_PEEK) == 0;
}

/* A client that sends a request line, then one header line every 5 s,
 * for at most 30 s: what the server did, and when. */
typedef struct trickler {
	unsigned port;
	int lines;       /* header lines sent */
	bool stopped;    /* the server answered or closed before the last */
	double secs;     /* from connecting to that */
	char status[64]; /* its status line, if it answered */
} trickler;

static void *
trickle_main(void *arg)
{
	static const char start[] = "GET /api/templates HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n";
	trickler *t = arg;
	double t0 = now_s();
	int fd = connect_from("127.0.0.4", t->port);

	if (fd < 0 || send(fd, start, strlen(start), MSG_NOSIGNAL) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (int i = 0; i < 6 && !t->stopped; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		char line[64];
		int n;

		if (poll(&p, 1, 5000) > 0) {
			char buf[256];
			ssize_t got = recv(fd, buf, sizeof buf - 1, 0);

			buf[got > 0 ? got : 0] = '\0';
			sscanf(buf, "%63[^\r\n]", t->status);
			t->stopped = true;
			break;
		}
		n = snprintf(line, sizeof line, "X-Slow-%d: 1\r\n", i);
		if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
			t->stopped = true;
		else
			t->lines++;
	}
	t->secs = now_s() - t0;
	close(fd);
	return NULL;
}

/*
 * 150 idle connections from one address and a client trickling its
 * headers from another leave the editor usable, at once, from a third
 * address and from the flooding one; the door keeps at most
 * QP_SERVE_PER_ADDRESS of the idle ones, answers the trickler 408, and
 * closes the rest by the end of the head timeout.
 */
static void
test_slow_clients_do_not_lock_out(void **state)
{
	enum { IDLE = 150 };
	static const char *const editors[] = {"127.0.0.2", "127.0.0.3", NULL};
	child *s = &extra[0];
	int idle[IDLE], still_open = 0, closed = 0;
	trickler t = {0};
	pthread_t th;
	resp r;

	(void)state;
	assert_true(start_server(s, NULL, NULL));
	for (int i = 0; i < IDLE; i++)
		assert_true((idle[i] = connect_from("127.0.0.3", s->port)) >= 0);
	t.port = s->port;
	assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
	for (size_t i = 0; i < sizeof editors / sizeof editors[0]; i++) {
		double t0 = now_s();

		client_src = editors[i];
		assert_true(get(s->port, "/", &r));
		assert_int_equal(r.status, 200);
		resp_free(&r);
		assert_true(post(s->port, "/api/preview", "template="
		    "restroom-letter&var.code=A&var.name=B", &r));
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "\"ok\":true"));
		resp_free(&r);
		print_message("editor from %s: page and preview in %.2f s\n",
		    editors[i] ? editors[i] : "127.0.0.1", now_s() - t0);
	}
	client_src = NULL;
	for (int i = 0; i < IDLE; i++)
		if (!closed_within(idle[i], 0))
			still_open++;
	print_message("idle connections the server still holds: %d of %d\n",
	    still_open, IDLE);
	assert_true(still_open <= QP_SERVE_PER_ADDRESS);
	pthread_join(th, NULL);
	print_message("trickler: %d header lines, then '%s' after %.1f s\n",
	    t.lines, t.status, t.secs);
	assert_true(t.stopped);
	assert_int_equal(strncmp(t.status, "HTTP/1.1 408", 12), 0);
	for (int i = 0; i < IDLE; i++) {
		if (closed_within(idle[i], IO_TIMEOUT_MS))
			closed++;
		close(idle[i]);
	}
	assert_int_equal(closed, IDLE);
	assert_int_equal(stop_server(s), 0);
}

/* A request with one extra header line; the status, body in r. */
static bool
get_with(unsigned port, const char *path, const char *hdr, resp *r)
{
	char req[2048];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: "
	    "127.0.0.2:%u\r\n%s%sConnection: close\r\n\r\n", path, port,
	    hdr ? hdr : "", hdr ? "\r\n" : "");

	return raw(port, req, (size_t)n, r);
}

/*
 * --token (and any non-loopback address): every request needs the
 * token printed at start-up; the printed address sets it as a cookie
 * and goes to the page; scripts send it as a Bearer token.
 */
static void
test_token_required(void **state)
{
	child *s = &extra[0];
	char hdr[256], cookie[128], *p;
	resp r;

	(void)state;
	assert_true(start_server(s, "--bind=127.0.0.2", "--token"));
	assert_string_equal(s->host, "127.0.0.2");
	assert_int_equal(strlen(s->token), 32);
	assert_int_equal(strspn(s->token, "0123456789abcdef"), 32);
	client_dst = "127.0.0.2";
	assert_true(get_with(s->port, "/api/templates", NULL, &r));
	assert_int_equal(r.status, 401);
	assert_header_has(&r, "WWW-Authenticate", "Bearer");
	assert_non_null(strstr(r.body, "token"));
	resp_free(&r);
	assert_true(get_with(s->port, "/?token=0123456789abcdef0123456789"
	    "abcdef", NULL, &r));
	assert_int_equal(r.status, 401);
	resp_free(&r);
	snprintf(hdr, sizeof hdr, "Authorization: Bearer %.31s", s->token);
	assert_true(get_with(s->port, "/api/templates", hdr, &r));
	assert_int_equal(r.status, 401);
	resp_free(&r);
	/* A form posted without it is refused before it is read. */
	assert_true(post(s->port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B", &r));
	assert_int_equal(r.status, 401);
	resp_free(&r);

	/* The printed address: a cookie, and the page without the token. */
	snprintf(hdr, sizeof hdr, "/?token=%s", s->token);
	assert_true(get_with(s->port, hdr, NULL, &r));
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/");
	snprintf(cookie, sizeof cookie, "qrposter_token_%u=%s", s->port,
	    s->token);
	assert_header_has(&r, "Set-Cookie", cookie);
	assert_header_has(&r, "Set-Cookie", "HttpOnly");
	assert_header_has(&r, "Set-Cookie", "SameSite=Strict");
	resp_free(&r);
	snprintf(hdr, sizeof hdr, "Cookie: %s", cookie);
	assert_true(get_with(s->port, "/", hdr, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<script src=\"/app.js\""));
	resp_free(&r);
	if ((p = strchr(hdr + 8, '=')) != NULL)
		p[1] = p[1] == '0' ? '1' : '0'; /* one wrong digit */
	assert_true(get_with(s->port, "/", hdr, &r));
	assert_int_equal(r.status, 401);
	resp_free(&r);
	snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", s->token);
	assert_true(get_with(s->port, "/api/templates", hdr, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "restroom-letter"));
	resp_free(&r);
	assert_int_equal(stop_server(s), 0);

	/* 127.0.0.2 is loopback: without --token, none is needed. */
	assert_true(start_server(s, "--bind=127.0.0.2", NULL));
	assert_string_equal(s->token, "");
	assert_true(get_with(s->port, "/api/templates", NULL, &r));
	assert_int_equal(r.status, 200);
	resp_free(&r);
	client_dst = NULL;
	assert_int_equal(stop_server(s), 0);
}

static void
test_slow_render_is_cut_off(void **state)
{
	child slow;
	resp r;

	(void)state;
	assert_true(start_server(&slow, "--timeout", "0.001"));
	assert_true(post(slow.port, "/api/preview", "template=car-card&"
	    "var.code=A&var.name=B", &r));
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "cut off"));
	assert_non_null(header(&r, "Retry-After"));
	resp_free(&r);
	/* The server goes on answering. */
	assert_true(get(slow.port, "/api/templates", &r));
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(stop_server(&slow), 0);
}

static void
test_bad_options(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof cmd, "%s serve --bind not-an-address --port 0 "
	    ">/dev/null 2>&1", qrposter());
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s serve --port 70000 >/dev/null 2>&1",
	    qrposter());
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s serve --templates /nonexistent "
	    "--port 0 >/dev/null 2>&1", qrposter());
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s serve --help | grep -q -- --bind",
	    qrposter());
	assert_int_equal(system(cmd), 0);
}

static void
test_urldecode(void **state)
{
	qp_buf b;

	(void)state;
	qp_buf_init(&b);
	assert_true(qp_serve_urldecode("a+b%20c%2F%c3%A9", 16, &b));
	assert_string_equal(b.data, "a b c/\xc3\xa9");
	assert_true(qp_serve_urldecode("", 0, &b));
	assert_string_equal(b.data, "");
	assert_false(qp_serve_urldecode("%", 1, &b));
	assert_false(qp_serve_urldecode("%4", 2, &b));
	assert_false(qp_serve_urldecode("%zz", 3, &b));
	qp_buf_free(&b);
}

static bool
post_csv(unsigned port, const char *query, const char *csv, size_t len,
    resp *r)
{
	char *req = NULL;
	int n;
	bool ok;

	n = asprintf(&req, "POST /api/batch?%s HTTP/1.1\r\nHost: 127.0.0.1:%u"
	    "\r\nContent-Type: text/csv\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", query, port, len);
	if (n < 0)
		return false;
	req = realloc(req, (size_t)n + len + 1);
	memcpy(req + n, csv, len);
	ok = raw(port, req, (size_t)n + len, r);
	free(req);
	return ok;
}

/* The id in {"id":"...",...}; static buffer. */
static const char *
json_id(const char *body)
{
	static char id[64];
	const char *p = strstr(body, "\"id\":\"");

	if (p == NULL || sscanf(p + 6, "%63[0-9a-f]", id) != 1)
		return NULL;
	return id;
}

/* Poll a print run until it is no longer running (bounded). */
static bool
wait_batch(const char *id, resp *r)
{
	char path[128];

	snprintf(path, sizeof path, "/api/batch/%s", id);
	for (int i = 0; i < 600; i++) {
		if (!get(srv.port, path, r))
			return false;
		if (strstr(r->body, "\"state\":\"running\"") == NULL)
			return true;
		resp_free(r);
		usleep(100 * 1000);
	}
	return false;
}

static void
test_batch_print_run(void **state)
{
	static const char csv[] =
	    "code,name\r\n"
	    "NYP-R1,\"New York Penn Station, restroom 1\"\r\n"
	    "WAS C2,Washington Union Station\r\n"
	    "CHI/3,\"Chicago \"\"Union\"\" Station\"\r\n";
	char dir[] = "/tmp/qp-serve-XXXXXX", cmd[1024], path[256];
	const char *id;
	char idbuf[64];
	FILE *fp;
	resp r;

	(void)state;
	assert_true(post_csv(srv.port, "template=restroom-letter&"
	    "var.hotline=1-555-010-0142", csv, strlen(csv), &r));
	if (r.status != 202)
		fail_msg("status %d: %s", r.status, r.body);
	assert_non_null(strstr(r.body, "\"rows\":3"));
	assert_non_null(id = json_id(r.body));
	snprintf(idbuf, sizeof idbuf, "%s", id);
	resp_free(&r);
	assert_true(wait_batch(idbuf, &r));
	if (strstr(r.body, "\"state\":\"done\"") == NULL)
		fail_msg("%s", r.body);
	assert_non_null(strstr(r.body, "\"done\":3,\"total\":3"));
	resp_free(&r);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "/api/batch/%s/print-run.pdf", idbuf);
	assert_true(get(srv.port, path, &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "application/pdf");
	assert_header_has(&r, "Cache-Control", "no-store");
	assert_header_has(&r, "Content-Disposition", "restroom-letter-"
	    "print-run.pdf");
	snprintf(path, sizeof path, "%s/run.pdf", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(r.body, 1, r.len, fp), r.len);
	fclose(fp);
	resp_free(&r);
	snprintf(cmd, sizeof cmd, "qpdf --check %s/run.pdf >/dev/null 2>&1",
	    dir);
	assert_true(run(cmd));
	snprintf(cmd, sizeof cmd, "pdfinfo %s/run.pdf | grep -q '^Pages: *3$' "
	    "&& test $(pdftotext %s/run.pdf - | grep -c 1-555-010-0142) = 3 && "
	    "pdftotext %s/run.pdf - | grep -q 'Chicago \"Union\" Station'",
	    dir, dir, dir);
	assert_true(run(cmd));

	snprintf(path, sizeof path, "/api/batch/%s/manifest.csv", idbuf);
	assert_true(get(srv.port, path, &r));
	assert_int_equal(r.status, 200);
	assert_header_has(&r, "Content-Type", "text/csv");
	assert_non_null(strstr(r.body, "NYP-R1"));
	assert_non_null(strstr(r.body, "WAS C2"));
	assert_non_null(strstr(r.body, "CHI/3"));
	resp_free(&r);

	snprintf(path, sizeof path, "/api/batch/%s/other", idbuf);
	assert_true(get(srv.port, path, &r));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_true(get(srv.port, "/api/batch/0123456789abcdef", &r));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	run(cmd);
}

static void
test_batch_bad_uploads(void **state)
{
	static const struct {
		const char *query, *csv;
		int status;
		const char *says;
	} cases[] = {
		{"template=restroom-letter", "code,name\nA,\"B\nC,D\n", 400,
		    "locations.csv:"},
		{"template=restroom-letter", "code,name\nA,B,C\n", 400,
		    "locations.csv:2"},
		{"template=restroom-letter", "code\nA\n", 400, "column 'name'"},
		{"template=restroom-letter", "code,name\n", 400, "no locations"},
		{"template=restroom-letter", "code,name\nA,\xff\n", 400,
		    "UTF-8"},
		{"template=..%2F..%2Fetc%2Fpasswd", "code,name\nA,B\n", 400,
		    "not a template name"},
		{"template=restroom-letter&var.nope=1", "code,name\nA,B\n", 400,
		    "no field"},
		{"", "code,name\nA,B\n", 400, "template"},
	};
	char q[512], *big;
	size_t n, len;
	resp r;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_true(post_csv(srv.port, cases[i].query, cases[i].csv,
		    strlen(cases[i].csv), &r));
		if (r.status != cases[i].status ||
		    strstr(r.body, cases[i].says) == NULL)
			fail_msg("case %zu: %d %s", i, r.status, r.body);
		assert_null(strstr(r.body, "/tmp/"));
		resp_free(&r);
	}
	/* Over 10 MB, announced. */
	n = (size_t)snprintf(q, sizeof q, "POST /api/batch?template="
	    "restroom-letter HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
	    "%d\r\nConnection: close\r\n\r\n", QP_SERVE_MAX_CSV + 1);
	assert_true(raw(srv.port, q, n, &r));
	assert_int_equal(r.status, 413);
	resp_free(&r);
	/* More than 100,000 rows (about 1 MB). */
	len = 10 + (size_t)(QP_SERVE_MAX_ROWS + 1) * 6;
	big = malloc(len + 1);
	n = (size_t)sprintf(big, "code,name\n");
	for (int i = 0; i <= QP_SERVE_MAX_ROWS; i++)
		n += (size_t)sprintf(big + n, "A,B\r\n");
	assert_true(post_csv(srv.port, "template=restroom-letter", big, n,
	    &r));
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "100000 rows"));
	resp_free(&r);
	free(big);
}

/* Last: SIGINT stops the server cleanly, exit status 0. */
static void
test_sigint_stops_cleanly(void **state)
{
	char line[1024];
	bool said = false;

	(void)state;
	assert_int_equal(kill(srv.pid, SIGINT), 0);
	/* It says so, closes its output, and exits with status 0. */
	while (read_line(srv.out, line, sizeof line))
		if (strstr(line, "stopping"))
			said = true;
	assert_true(said);
	assert_int_equal(stop_server(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urldecode),
		cmocka_unit_test(test_banner_says_loopback),
		cmocka_unit_test(test_page_and_headers),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_template_names_are_never_paths),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_bad_values_name_their_field),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_oversized_requests),
		cmocka_unit_test(test_poster_pdf_and_png),
		cmocka_unit_test(test_fifty_concurrent),
		cmocka_unit_test(test_batch_print_run),
		cmocka_unit_test(test_batch_bad_uploads),
		cmocka_unit_test_teardown(test_template_font_web_matches_cli,
		    stop_extra),
		cmocka_unit_test_teardown(test_concurrent_font_templates,
		    stop_extra),
		cmocka_unit_test_teardown(test_dead_server_folder_is_removed,
		    stop_extra),
		cmocka_unit_test_teardown(test_slow_clients_do_not_lock_out,
		    stop_extra),
		cmocka_unit_test_teardown(test_token_required, stop_extra),
		cmocka_unit_test(test_slow_render_is_cut_off),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_sigint_stops_cleanly),
	};

	return cmocka_run_group_tests_name("serve", tests, setup, teardown);
}
