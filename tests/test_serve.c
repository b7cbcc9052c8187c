/*
 * test_serve.c - "qrposter serve" from the outside: the server runs as a
 * child process on a free loopback port and is spoken to over plain
 * sockets, one connection per request (serve_client.h). Every wait is
 * bounded. Fonts, dead servers, slow clients and the token are in
 * test_serve_safety.c.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "serve.h"
#include "serve_client.h"

static child srv;

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
	    "1-888-373-7888+or+1-888-373-7888&var.hotline_name=Example", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline\"]"));
	assert_non_null(strstr(r.body, "\"code\":\"text-overflow\""));
	assert_non_null(strstr(r.body, "\"block\":\"hotline\""));
	resp_free(&r);

	/* Preflight reports every bad block at once, each on its field. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.hotline=1-888-373-7888+or+"
	    "1-888-373-7888+or+1-888-373-7888&var.hotline_name=Example&"
	    "var.text_number="
	    "233733+233733+233733+233733+233733+233733+233733+233733", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline\"]"));
	assert_non_null(strstr(r.body, "\"fields\":[\"text_number\"]"));
	resp_free(&r);

	/* A required field left empty. */
	assert_true(post(srv.port, "/api/poster", "template=restroom-letter&"
	    "var.code=&var.name=B", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-missing\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"code\"]"));
	resp_free(&r);

	/* Not UTF-8, and a control character. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=%FF%FE", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"fields\":[\"name\"]"));
	assert_non_null(strstr(r.body, "\"code\":\"value-utf8\""));
	resp_free(&r);
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A%07&var.name=B", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-control\""));
	resp_free(&r);

	/* A character no font has (U+E000, private use). */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B%EE%80%80", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"glyph-missing\""));
	assert_non_null(strstr(r.body, "U+E000"));
	/* Only the field whose value holds it, not every field printed in
	 * the same block (the footer prints the code too). */
	assert_non_null(strstr(r.body, "\"fields\":[\"name\"]"));
	assert_null(strstr(r.body, "\"fields\":[\"name\",\"code\"]"));
	assert_null(strstr(r.body, "\"fields\":[\"code\""));
	resp_free(&r);

	/* An empty hotline is refused at its field, not replaced by the
	 * default; so is an empty reporting URL. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.hotline=", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-empty\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline\"]"));
	resp_free(&r);
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.report_url=", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-empty\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"report_url\"]"));
	resp_free(&r);

	/* A URL that is not absolute http(s): at the URL field. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.report_url=javascript%3Aalert(1)", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"link-not-http\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"report_url\"]"));
	resp_free(&r);

	/* Another number without its hotline's name: at the name's field. */
	assert_true(post(srv.port, "/api/preview", "template=restroom-letter&"
	    "var.code=A&var.name=B&var.hotline=1-855-352-7233", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-missing\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"hotline_name\"]"));
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
	size_t big = QP_SERVE_MAX_FORM + 6 * 1024; /* over the form limit */
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

	/* One value over the value limit (bind.h), in a small enough form. */
	body = malloc(QP_VALUE_MAX + 1 + 64);
	n = snprintf(body, 64, "template=restroom-letter&var.code=A&var.name=");
	memset(body + n, 'x', QP_VALUE_MAX + 1);
	body[n + QP_VALUE_MAX + 1] = '\0';
	assert_true(post(srv.port, "/api/preview", body, &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"code\":\"value-too-long\""));
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
	    "var.hotline=1-555-010-0199&var.hotline_name=Example+Line&"
	    "format=pdf", &r));
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

/* The editor's "Open settings": a profile's values for a template's
 * boxes, and its mistakes at their line and column. */
static void
test_open_profile(void **state)
{
	resp r;

	(void)state;
	assert_true(post(srv.port, "/api/profile?template=restroom-letter&"
	    "name=agency.yaml", "agency: Example DOT\n"
	    "hotline: 1-202-555-0147\nlogo: logo.svg\n", &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"values\":{\"agency\":\"Example "
	    "DOT\",\"hotline\":\"1-202-555-0147\"}"));
	/* Kept for saving back, and said to be of no use here. */
	assert_non_null(strstr(r.body, "\"logo\":\"logo.svg\""));
	assert_non_null(strstr(r.body, "\"code\":\"profile-unused\""));
	resp_free(&r);
	/* An unknown key: where it is, in the file's own name. */
	assert_true(post(srv.port, "/api/profile?template=restroom-letter&"
	    "name=agency.yaml", "agency: X\nhotlin: 1\n", &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "agency.yaml:2:1: unknown key 'hotlin'"));
	resp_free(&r);
	/* A value the value rule refuses: at its box and its line. */
	assert_true(post(srv.port, "/api/profile?template=restroom-letter&"
	    "name=../../etc/a.yaml", "report_url: javascript:alert(1)\n",
	    &r));
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "a.yaml:1:13:"));
	assert_null(strstr(r.body, "etc/"));
	assert_non_null(strstr(r.body, "\"code\":\"link-not-http\""));
	assert_non_null(strstr(r.body, "\"fields\":[\"report_url\"]"));
	resp_free(&r);
	/* No template, or a GET. */
	assert_true(post(srv.port, "/api/profile", "agency: X\n", &r));
	assert_int_equal(r.status, 400);
	resp_free(&r);
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
	    "var.hotline=1-555-010-0142&var.hotline_name=Example+Line", csv,
	    strlen(csv), &r));
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
	/* The file column names the PDF as it is downloaded beside it, not
	 * by the server's temporary path. */
	assert_non_null(strstr(r.body, ",restroom-letter-print-run.pdf,"));
	assert_null(strstr(r.body, "/print-run.pdf"));
	assert_null(strstr(r.body, "/tmp"));
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
		cmocka_unit_test(test_open_profile),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_oversized_requests),
		cmocka_unit_test(test_poster_pdf_and_png),
		cmocka_unit_test(test_fifty_concurrent),
		cmocka_unit_test(test_batch_print_run),
		cmocka_unit_test(test_batch_bad_uploads),
		cmocka_unit_test(test_slow_render_is_cut_off),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_sigint_stops_cleanly),
	};

	return cmocka_run_group_tests_name("serve", tests, setup, teardown);
}
