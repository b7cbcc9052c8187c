/*
 * test_serve_safety.c - what makes "qrposter serve" safe to leave
 * running: templates that bring their own fonts (drawn with them, as
 * the command line does, however many previews run at once), the folders
 * of servers that died, clients that hold connections open, and the
 * access token. Each test starts servers of its own (serve_client.h).
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
#include "serve_client.h"

/* The servers a test starts; stopped by its teardown (stop_extra),
 * whatever the test's outcome. */
static child extra[3];

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

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* Tests run from the top of the tree, which holds the data. */
	setenv("QRPOSTER_DATADIR", ".", 0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_template_font_web_matches_cli,
		    stop_extra),
		cmocka_unit_test_teardown(test_concurrent_font_templates,
		    stop_extra),
		cmocka_unit_test_teardown(test_dead_server_folder_is_removed,
		    stop_extra),
		cmocka_unit_test_teardown(test_slow_clients_do_not_lock_out,
		    stop_extra),
		cmocka_unit_test_teardown(test_token_required, stop_extra),
	};

	return cmocka_run_group_tests_name("serve_safety", tests, setup, NULL);
}
