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
 *
 * The server's files are listed in serve_int.h.
 */
#define _GNU_SOURCE
#include "serve_int.h"

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

void
srv_json_str(qp_buf *b, const char *s)
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

void
srv_base64(qp_buf *b, const unsigned char *p, size_t n)
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

/* 16 random bytes as 32 hex digits in out (n >= 33), from the kernel. */
bool
srv_random_hex(char *out, size_t n)
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0 || n < 2 * sizeof raw + 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	ok = read(fd, raw, sizeof raw) == (ssize_t)sizeof raw;
	close(fd);
	for (size_t i = 0; ok && i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return ok;
}

/* A file-name-safe version of s for Content-Disposition. */
void
srv_safe_filename(qp_buf *b, const char *s)
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

/*
 * The headers of every answer: the security ones, and "Connection:
 * close", so each request arrives on a connection of its own through
 * the front door, which times and checks its head (serve_door.c); a
 * kept-alive connection would skip it. A new connection costs well
 * under a millisecond here, a preview a hundred.
 */
void
srv_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Connection", "close");
}

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
	srv_common_headers(r);
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate",
		    "Bearer realm=\"qrposter\"");
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

enum MHD_Result
srv_send_json(struct MHD_Connection *c, unsigned status, qp_buf *b)
{
	size_t len = b->len;

	return send_buf(c, status, "application/json; charset=utf-8",
	    "no-store", qp_buf_steal(b), len, NULL);
}

/* {"error": msg} with the given status. */
enum MHD_Result
srv_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	qp_buf b;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"error\":");
	srv_json_str(&b, msg);
	qp_buf_adds(&b, "}\n");
	return srv_send_json(c, status, &b);
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
	return srv_send_error(c, 404, "no such page: /%s", name);
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

static enum MHD_Result
count_host(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, "Host") == 0)
		(*(int *)cls)++;
	return MHD_YES;
}

/* More than one Host header: which one a proxy or a check believes is
 * anyone's guess, so the request is refused (RFC 9112 3.2). */
static bool
one_host(struct MHD_Connection *c)
{
	int n = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_host, &n);
	return n <= 1;
}

/* a equals the token, in time that does not depend on where they differ. */
static bool
token_equal(const char *a, const char *token)
{
	size_t n = strlen(token);
	unsigned char d = 0;

	if (a == NULL || strlen(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ token[i]);
	return d == 0;
}

/*
 * The access token, when the server needs one (always when it listens
 * on an address other machines can reach): in the address as ?token=
 * (the link the server printed), in the cookie that link sets, or as
 * "Authorization: Bearer TOKEN" (scripts). *from_query says which.
 */
static bool
token_ok(qp_server *s, struct MHD_Connection *c, bool *from_query)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "token");
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Authorization");

	*from_query = false;
	if (token_equal(q, s->token)) {
		*from_query = true;
		return true;
	}
	if (token_equal(MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    s->cookie), s->token))
		return true;
	return a && strncmp(a, "Bearer ", 7) == 0 &&
	    token_equal(a + 7, s->token);
}

/* The page's address with the token: set the cookie, go to "/", so the
 * token leaves the address bar and the history. */
static enum MHD_Result
send_token_cookie(qp_server *s, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char cookie[160];

	r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; "
	    "SameSite=Strict", s->cookie, s->token);
	MHD_add_response_header(r, "Set-Cookie", cookie);
	MHD_add_response_header(r, "Location", "/");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	srv_common_headers(r);
	ret = MHD_queue_response(c, 303, r);
	MHD_destroy_response(r);
	return ret;
}

static size_t
body_limit(const char *url)
{
	if (strcmp(url, "/api/preview") == 0 || strcmp(url, "/api/poster") == 0)
		return QP_SERVE_MAX_FORM;
	if (strcmp(url, "/api/batch") == 0)
		return QP_SERVE_MAX_CSV;
	if (strcmp(url, "/api/profile") == 0)
		return QP_PROFILE_MAX_BYTES;
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
			return srv_send_error(c, 405, "use GET for %s", url);
		return send_asset(c, "index.html");
	}
	if (strncmp(url, "/api/", 5) != 0) {
		if (!get)
			return srv_send_error(c, 405, "use GET for %s", url);
		return send_asset(c, url + 1);
	}
	if (strcmp(url, "/api/templates") == 0) {
		if (!get)
			return srv_send_error(c, 405, "use GET for %s", url);
		return srv_api_templates(s, c);
	}
	if (strncmp(url, "/api/templates/", 15) == 0) {
		if (!get)
			return srv_send_error(c, 405, "use GET for %s", url);
		return srv_api_template(s, c, url + 15);
	}
	if (strcmp(url, "/api/preview") == 0 || strcmp(url, "/api/poster") == 0) {
		if (!post)
			return srv_send_error(c, 405, "use POST for %s", url);
		if (strcmp(url, "/api/preview") == 0)
			return srv_api_preview(s, c, r);
		return srv_api_poster(s, c, r);
	}
	if (strcmp(url, "/api/batch") == 0) {
		if (!post)
			return srv_send_error(c, 405, "use POST for %s", url);
		return srv_api_batch_start(s, c, r);
	}
	if (strcmp(url, "/api/profile") == 0) {
		if (!post)
			return srv_send_error(c, 405, "use POST for %s", url);
		return srv_api_profile(s, c, r);
	}
	if (strncmp(url, "/api/batch/", 11) == 0)
		return srv_api_batch(s, c, url + 11, get, post);
	return srv_send_error(c, 404, "no such API: %.100s", url);
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
		if (!one_host(c))
			return srv_send_error(c, 400, "the request has more than "
			    "one Host header");
		if (s->token[0]) {
			bool from_query;

			if (!token_ok(s, c, &from_query))
				return srv_send_error(c, 401, "this editor needs "
				    "its access token: open the address qrposter "
				    "serve printed when it started (it ends in "
				    "?token=...)");
			if (from_query && strcmp(method, "GET") == 0 &&
			    (strcmp(url, "/") == 0 ||
			    strcmp(url, "/index.html") == 0))
				return send_token_cookie(s, c);
		}
		if (!host_ok(s, c))
			return srv_send_error(c, 421, "this server answers only "
			    "requests for localhost or 127.0.0.1");
		if (!origin_ok(c))
			return srv_send_error(c, 403, "this server answers only its "
			    "own page");
		if (strlen(url) > 512)
			return srv_send_error(c, 414, "the address is too long");
		r->limit = body_limit(url);
		if (r->limit == 0 && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0 &&
		    strncmp(url, "/api/batch/", 11) != 0)
			return srv_send_error(c, 405, "use GET for %.100s", url);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Content-Length");
		if (cl) {
			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno || *end || end == cl)
				return srv_send_error(c, 400, "bad Content-Length");
			if (n > r->limit) {
				if (r->limit == 0)
					return srv_send_error(c, 413, "%s takes no "
					    "request body", url);
				return srv_send_error(c, 413, "the request is %llu "
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
		return srv_send_error(c, 413, "the request body is over the limit "
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

/*
 * The server's temporary folder, $TMPDIR/qrposter-serve-XXXXXX, holds
 * the posters on their way to the browser and the print runs. A server
 * that is stopped removes it. One that dies (a crash, SIGKILL, the OOM
 * killer) cannot, so the folder holds a lock file that its server keeps
 * locked with flock() while it runs: the kernel drops the lock when the
 * process ends, however it ends, and a server starting up removes every
 * folder of this user whose lock it can take. (Keeping the files
 * unlinked instead would not do: a print run's PDF and manifest are
 * fetched by name, minutes later.) The lock file is made and locked
 * under another name, then renamed into place, so a live server's
 * folder never shows an unlocked lock file.
 */
#define TMP_PREFIX "qrposter-serve-"
#define TMP_LOCK "serve.lock"

/* Remove name (a file, or a folder and what it holds, at most depth
 * levels down) relative to the folder dfd. Symbolic links are removed,
 * never followed. */
static void
remove_at(int dfd, const char *name, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dfd, name, 0);
		return;
	}
	if (depth <= 0)
		return;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, TMP_LOCK) != 0)
			remove_at(fd, e->d_name, depth - 1);
	unlinkat(fd, TMP_LOCK, 0); /* last: the folder is free from here */
	closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

/* The folder that holds the servers' folders: $TMPDIR or /tmp. */
static const char *
tmp_base(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp && *tmp ? tmp : "/tmp";
}

/* Remove the folders servers of this user left when they died. */
static void
reap_stale_tmpdirs(void)
{
	DIR *d = opendir(tmp_base());
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int dfd, lfd;

		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		dfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		lfd = openat(dfd, TMP_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (lfd < 0)
			continue; /* not made by a server of this kind */
		/* Taken: its server is gone. Held while removing, so two
		 * servers starting at once do not both remove it. */
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
			remove_at(dirfd(d), e->d_name, 3);
		close(lfd);
	}
	closedir(d);
}

/* Make the server's folder and take its lock (s->lock_fd). */
static bool
make_tmpdir(qp_server *s, qp_error *err)
{
	char *tmp_lock, *lock;
	char pid[32];
	int fd, n;

	s->tmpdir = qp_xasprintf("%s/" TMP_PREFIX "XXXXXX", tmp_base());
	if (mkdtemp(s->tmpdir) == NULL) {
		qp_fail(err, "cannot make a temporary folder '%s': %s",
		    s->tmpdir, strerror(errno));
		free(s->tmpdir);
		s->tmpdir = NULL;
		return false;
	}
	tmp_lock = qp_xasprintf("%s/.%s.new", s->tmpdir, TMP_LOCK);
	lock = qp_xasprintf("%s/%s", s->tmpdir, TMP_LOCK);
	fd = open(tmp_lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    write(fd, pid, (size_t)n) != n || rename(tmp_lock, lock) != 0) {
		qp_fail(err, "cannot lock the temporary folder '%s': %s",
		    s->tmpdir, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp_lock);
		free(tmp_lock);
		free(lock);
		return false;
	}
	s->lock_fd = fd;
	free(tmp_lock);
	free(lock);
	return true;
}

qp_server *
qp_server_start(const qp_serve_opts *o, qp_error *err)
{
	qp_server *s = qp_xcalloc(1, sizeof *s);
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	struct stat st;
	long ncpu;

	s->lock_fd = -1;
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
	} else {
		qp_fail(err, "bind address '%s': not an IPv4 or IPv6 address "
		    "(e.g. 127.0.0.1 or ::1)", s->bind);
		goto fail;
	}
	if (o->port > 65535) {
		qp_fail(err, "port %u: ports go up to 65535", o->port);
		goto fail;
	}
	s->tdir = o->templates ? qp_xstrdup(o->templates) :
	    qp_xasprintf("%s/templates", qp_datadir());
	if (stat(s->tdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		qp_fail(err, "templates folder '%s' not found", s->tdir);
		goto fail;
	}
	reap_stale_tmpdirs();
	if (!make_tmpdir(s, err))
		goto fail;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->nthreads = o->workers ? o->workers :
	    (unsigned)(ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu);
	s->threads = qp_xcalloc(s->nthreads, sizeof *s->threads);
	/*
	 * A layout context made and dropped before any worker starts: GLib
	 * creates Pango's font map classes on first use, safely but with
	 * atomics ThreadSanitizer cannot see. Made here, once, the workers
	 * only read them.
	 */
	qp_layout_ctx_free(qp_layout_ctx_new());
	for (unsigned i = 0; i < s->nthreads; i++)
		if (pthread_create(&s->threads[i], NULL, srv_worker, s) != 0) {
			s->nthreads = i;
			qp_fail(err, "cannot start a render thread");
			goto fail;
		}
	/* The door listens and holds connections until their request head
	 * is in (serve_door.c); libmicrohttpd answers them. */
	if ((s->door = srv_door_open((struct sockaddr *)&ss, ss.ss_family ==
	    AF_INET6 ? sizeof *v6 : sizeof *v4, &s->port, err)) == NULL) {
		qp_error_prefix(err, "cannot listen on %s port %u (is the port "
		    "in use? try another port)", s->bind, o->port);
		goto fail;
	}
	/* Anyone who can reach a non-loopback address could use the
	 * editor, print runs included: it needs a token then. The
	 * cookie is named after the port: cookies ignore ports, and two
	 * servers on one machine must not overwrite each other's. */
	if (o->token || !s->loopback) {
		if (!srv_random_hex(s->token, sizeof s->token)) {
			qp_fail(err, "cannot make an access token: %s",
			    strerror(errno));
			goto fail;
		}
		snprintf(s->cookie, sizeof s->cookie, "qrposter_token_%u",
		    s->port);
	}
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL, NULL,
	    handle, s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)QP_SERVE_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)QP_SERVE_PER_ADDRESS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)QP_SERVE_IDLE_TIMEOUT,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		qp_fail(err, "cannot start the HTTP server");
		goto fail;
	}
	if (!srv_door_start(s->door, s->mhd, err))
		goto fail;
	return s;
fail:
	qp_server_stop(s);
	return NULL;
}

const char *
qp_server_token(const qp_server *s)
{
	return s->token[0] ? s->token : NULL;
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
	/* No new connections; those waiting on a render see `stopping`
	 * and answer 503. */
	srv_door_close(s->door);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	/* A print run in hand stops at its next row. */
	for (size_t i = 0; i < s->nbatches; i++)
		qp_stop_request(&s->batches[i]->stop, 1);
	for (size_t i = 0; i < s->nbatches; i++) {
		pthread_join(s->batches[i]->thread, NULL);
		srv_batch_free(s->batches[i]);
	}
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	while (s->qlen) {
		srv_job_unref(s->queue[s->qhead]);
		s->qhead = (s->qhead + 1) % QP_SERVE_QUEUE;
		s->qlen--;
	}
	if (s->tmpdir)
		remove_at(AT_FDCWD, s->tmpdir, 3);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
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
