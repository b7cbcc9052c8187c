/*
 * helpers.c - see helpers.h.
 */
#include "helpers.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <qpdf/qpdf-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zbar.h>

#define MAX_ARGS 64

const char *
th_bin(void)
{
	const char *b = getenv("QRPOSTER");

	return b && *b ? b : "./qrposter";
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *
th_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

bool
th_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

char *
th_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (fp == NULL)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);
			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

bool
th_write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	bool ok;

	if (fp == NULL)
		return false;
	ok = fwrite(data, 1, len, fp) == len;
	return fclose(fp) == 0 && ok;
}

bool
th_files_equal(const char *a, const char *b)
{
	size_t la, lb;
	char *da = th_read_file(a, &la), *db = th_read_file(b, &lb);
	bool eq = da && db && la == lb && memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return eq;
}

bool
th_memmem(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

/* Open a fresh capture file for a child's output. */
static int
capture_file(char *tmpl)
{
	int fd = mkstemp(tmpl);

	if (fd >= 0)
		unlink(tmpl); /* the descriptor keeps it alive */
	return fd;
}

static char *
read_fd(int fd)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return xstrdup("");
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);
			if (nb == NULL)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	if (buf == NULL)
		return xstrdup("");
	buf[n] = '\0';
	return buf;
}

static int run_argv(th_run *r, const char *const *argv,
    const char *const *env);
static void check_run_outputs(const char *const *argv,
    const struct timespec *since);

int
th_run_argv(th_run *r, const char *const *argv, const char *const *env)
{
	struct timespec start;
	int rc;

	clock_gettime(CLOCK_REALTIME, &start);
	rc = run_argv(r, argv, env);
	if (strcmp(argv[0], th_bin()) == 0)
		check_run_outputs(argv, &start);
	return rc;
}

static int
run_argv(th_run *r, const char *const *argv, const char *const *env)
{
	char otmpl[] = "/tmp/qp-test-out.XXXXXX";
	char etmpl[] = "/tmp/qp-test-err.XXXXXX";
	int ofd, efd, st;
	pid_t pid;

	r->status = -1;
	/* Never NULL, so a caller can search them without a check. */
	r->out = xstrdup("");
	r->err = xstrdup("");
	if ((ofd = capture_file(otmpl)) < 0)
		return -1;
	if ((efd = capture_file(etmpl)) < 0) {
		close(ofd);
		return -1;
	}
	free(r->out);
	free(r->err);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		char cwd[4096];

		if (in < 0 || dup2(in, 0) < 0 || dup2(ofd, 1) < 0 ||
		    dup2(efd, 2) < 0)
			_exit(126);
		if (getenv("QRPOSTER_DATADIR") == NULL &&
		    getcwd(cwd, sizeof cwd) != NULL)
			setenv("QRPOSTER_DATADIR", cwd, 1);
		for (size_t i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			if (eq) {
				char key[256];
				size_t kl = (size_t)(eq - env[i]);
				if (kl >= sizeof key)
					_exit(126);
				memcpy(key, env[i], kl);
				key[kl] = '\0';
				setenv(key, eq + 1, 1);
			} else
				unsetenv(env[i]);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(st))
			r->status = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			r->status = 128 + WTERMSIG(st);
	}
	r->out = read_fd(ofd);
	r->err = read_fd(efd);
	close(ofd);
	close(efd);
	return r->status;
}

static int
run_bin(th_run *r, const char *const *env, va_list ap)
{
	const char *argv[MAX_ARGS + 2];
	const char *a;
	size_t n = 0;

	argv[n++] = th_bin();
	while ((a = va_arg(ap, const char *)) != NULL && n < MAX_ARGS)
		argv[n++] = a;
	argv[n] = NULL;
	return th_run_argv(r, argv, env);
}

int
th_qrposter(th_run *r, ...)
{
	va_list ap;
	int rc;

	va_start(ap, r);
	rc = run_bin(r, NULL, ap);
	va_end(ap);
	return rc;
}

int
th_qrposter_env(th_run *r, const char *const *env, ...)
{
	va_list ap;
	int rc;

	va_start(ap, env);
	rc = run_bin(r, env, ap);
	va_end(ap);
	return rc;
}

void
th_run_free(th_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *
th_tmpdir_new(void)
{
	char tmpl[] = "/tmp/qrposter-test.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return NULL;
	return xstrdup(tmpl);
}

static void
remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *sub;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if ((sub = th_path(path, e->d_name)) != NULL) {
				remove_tree(sub);
				free(sub);
			}
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

void
th_tmpdir_remove(char *dir)
{
	/* Only ever remove what th_tmpdir_new() made. */
	if (dir && strncmp(dir, "/tmp/qrposter-test.", 19) == 0)
		remove_tree(dir);
	free(dir);
}

bool
th_dir_only(const char *dir, const char *const *allowed, char *stray,
    size_t straysz)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = true;

	if (stray && straysz)
		stray[0] = '\0';
	if (d == NULL) {
		if (stray && straysz)
			snprintf(stray, straysz, "(cannot open %s)", dir);
		return false;
	}
	while (ok && (e = readdir(d)) != NULL) {
		bool allowed_name = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (size_t i = 0; allowed && allowed[i]; i++)
			if (strcmp(allowed[i], e->d_name) == 0)
				allowed_name = true;
		if (!allowed_name) {
			ok = false;
			if (stray && straysz)
				snprintf(stray, straysz, "%s", e->d_name);
		}
	}
	closedir(d);
	return ok;
}

size_t
th_strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void
th_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **
th_png_decode_qr(const char *png)
{
	png_image img;
	unsigned char *pix;
	zbar_image_scanner_t *sc;
	zbar_image_t *zi;
	const zbar_symbol_t *sym;
	char **out;
	size_t n = 0, cap = 4;

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, png))
		return NULL;
	img.format = PNG_FORMAT_GRAY;
	pix = malloc(PNG_IMAGE_SIZE(img));
	if (pix == NULL || !png_image_finish_read(&img, NULL, pix, 0, NULL)) {
		png_image_free(&img);
		free(pix);
		return NULL;
	}
	out = calloc(cap + 1, sizeof *out);
	sc = zbar_image_scanner_create();
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/* The payload's bytes as encoded: no guessing of a character set. */
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zi = zbar_image_create();
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, img.width, img.height);
	zbar_image_set_data(zi, pix, (unsigned long)img.width * img.height,
	    NULL);
	if (out && zbar_scan_image(sc, zi) >= 0) {
		for (sym = zbar_image_first_symbol(zi); sym;
		    sym = zbar_symbol_next(sym)) {
			const char *data = zbar_symbol_get_data(sym);
			unsigned len = zbar_symbol_get_data_length(sym);
			char *s;

			if (n == cap) {
				char **nv = realloc(out, (cap * 2 + 1) *
				    sizeof *out);
				if (nv == NULL)
					break;
				out = nv;
				cap *= 2;
			}
			if ((s = malloc(len + 1)) == NULL)
				break;
			memcpy(s, data, len);
			s[len] = '\0';
			out[n++] = s;
			out[n] = NULL;
		}
	}
	zbar_image_destroy(zi);
	zbar_image_scanner_destroy(sc);
	free(pix);
	return out;
}

int
th_fixture_setup(void **state)
{
	th_fixture *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->row = *state;
	if ((fx->dir = th_tmpdir_new()) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

int
th_fixture_teardown(void **state)
{
	th_fixture *fx = *state;

	th_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

char **
th_pdf_page_decode_qr(const char *pdf, int page, int dpi)
{
	char *dir = th_tmpdir_new(), *prefix, *png;
	char num[16], res[16];
	char **codes = NULL;
	th_run r;

	if (dir == NULL)
		return NULL;
	prefix = th_path(dir, "page");
	png = th_path(dir, "page.png");
	snprintf(num, sizeof num, "%d", page);
	snprintf(res, sizeof res, "%d", dpi);
	{
		const char *argv[] = {"pdftoppm", "-r", res, "-png", "-f", num,
		    "-l", num, "-singlefile", pdf, prefix, NULL};
		if (th_run_argv(&r, argv, NULL) == 0)
			codes = th_png_decode_qr(png);
		th_run_free(&r);
	}
	free(prefix);
	free(png);
	th_tmpdir_remove(dir);
	return codes;
}

char **
th_pdf_decode_qr(const char *pdf, int dpi)
{
	return th_pdf_page_decode_qr(pdf, 1, dpi);
}

int
th_pdf_pages(const char *pdf)
{
	char *v = th_pdfinfo_field(pdf, "Pages");
	int n = v ? atoi(v) : -1;

	free(v);
	return n;
}

char *
th_pdftotext(const char *pdf)
{
	const char *argv[] = {"pdftotext", "-enc", "UTF-8", pdf, "-", NULL};
	th_run r;
	char *text = NULL;

	if (th_run_argv(&r, argv, NULL) == 0) {
		text = r.out;
		r.out = NULL;
	}
	th_run_free(&r);
	return text;
}

char *
th_pdfinfo_field(const char *pdf, const char *key)
{
	const char *argv[] = {"pdfinfo", "-isodates", "-enc", "UTF-8", pdf,
	    NULL};
	size_t kl = strlen(key);
	char *val = NULL;
	th_run r;

	if (th_run_argv(&r, argv, NULL) == 0) {
		for (char *line = r.out; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
				char *v = line + kl + 1, *e;
				while (*v == ' ')
					v++;
				e = v + strlen(v);
				while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
					e--;
				*e = '\0';
				val = xstrdup(v);
				break;
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	th_run_free(&r);
	return val;
}

bool
th_pdf_page_size(const char *pdf, double *w, double *h)
{
	char *v = th_pdfinfo_field(pdf, "Page size");
	bool ok = v && sscanf(v, "%lf x %lf", w, h) == 2;

	free(v);
	return ok;
}

int
th_pdf_fonts(const char *pdf, int *embedded)
{
	const char *argv[] = {"pdffonts", pdf, NULL};
	th_run r;
	int n = -1, emb = 0, emb_col = -1, line_no = 0;

	if (th_run_argv(&r, argv, NULL) == 0) {
		/* Column positions come from the header line ("emb"), so a
		 * font name with spaces cannot shift them. */
		n = 0;
		for (char *line = r.out; line && *line; line_no++) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (line_no == 0) {
				char *p = strstr(line, " emb ");
				emb_col = p ? (int)(p - line) + 1 : -1;
			} else if (line_no >= 2 && emb_col >= 0) {
				n++;
				if ((int)strlen(line) >= emb_col + 3 &&
				    strncmp(line + emb_col, "yes", 3) == 0)
					emb++;
			}
			line = nl ? nl + 1 : NULL;
		}
		if (emb_col < 0)
			n = -1;
	}
	th_run_free(&r);
	if (embedded)
		*embedded = emb;
	return n;
}

bool
th_png_read_info(const char *png, th_png_info *info)
{
	FILE *fp = fopen(png, "rb");
	png_structp p;
	png_infop pi;
	png_uint_32 rx = 0, ry = 0;
	int unit = 0;
	volatile bool ok = false; /* read after a possible longjmp */

	memset(info, 0, sizeof *info);
	if (fp == NULL)
		return false;
	p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	pi = p ? png_create_info_struct(p) : NULL;
	if (p == NULL || pi == NULL) {
		png_destroy_read_struct(&p, &pi, NULL);
		fclose(fp);
		return false;
	}
	if (setjmp(png_jmpbuf(p)) == 0) {
		png_init_io(p, fp);
		png_read_info(p, pi);
		info->width = png_get_image_width(p, pi);
		info->height = png_get_image_height(p, pi);
		if (png_get_pHYs(p, pi, &rx, &ry, &unit) &&
		    unit == PNG_RESOLUTION_METER) {
			info->ppm_x = rx;
			info->ppm_y = ry;
		}
		ok = true;
	}
	png_destroy_read_struct(&p, &pi, NULL);
	fclose(fp);
	return ok;
}

int
th_pdf_links(const char *pdf, th_pdf_link *links, int max)
{
	qpdf_data q = qpdf_init();
	qpdf_oh page, annots;
	int n = -1;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read(q, pdf, NULL) & QPDF_ERRORS)
		goto done;
	if (qpdf_get_num_pages(q) < 1)
		goto done;
	page = qpdf_get_page_n(q, 0);
	annots = qpdf_oh_get_key(q, page, "/Annots");
	n = 0;
	if (!qpdf_oh_is_array(q, annots))
		goto done;
	for (int i = 0; i < qpdf_oh_get_array_n_items(q, annots); i++) {
		qpdf_oh a = qpdf_oh_get_array_item(q, annots, i);
		qpdf_oh sub = qpdf_oh_get_key(q, a, "/Subtype");
		qpdf_oh act = qpdf_oh_get_key(q, a, "/A");
		qpdf_oh uri = qpdf_oh_get_key(q, act, "/URI");
		qpdf_oh rect = qpdf_oh_get_key(q, a, "/Rect");
		th_pdf_link l;

		if (!qpdf_oh_is_name(q, sub) ||
		    strcmp(qpdf_oh_get_name(q, sub), "/Link") != 0 ||
		    !qpdf_oh_is_string(q, uri) || !qpdf_oh_is_array(q, rect) ||
		    qpdf_oh_get_array_n_items(q, rect) != 4)
			continue;
		memset(&l, 0, sizeof l);
		snprintf(l.uri, sizeof l.uri, "%s",
		    qpdf_oh_get_utf8_value(q, uri));
		l.x0 = qpdf_oh_get_numeric_value(q,
		    qpdf_oh_get_array_item(q, rect, 0));
		l.y0 = qpdf_oh_get_numeric_value(q,
		    qpdf_oh_get_array_item(q, rect, 1));
		l.x1 = qpdf_oh_get_numeric_value(q,
		    qpdf_oh_get_array_item(q, rect, 2));
		l.y1 = qpdf_oh_get_numeric_value(q,
		    qpdf_oh_get_array_item(q, rect, 3));
		if (n < max)
			links[n] = l;
		n++;
	}
done:
	if (qpdf_has_error(q))
		(void)qpdf_get_error(q); /* handled: we return -1 */
	qpdf_cleanup(&q);
	return n;
}

/* ---- structural checks of outputs -------------------------------------- */

static bool
has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && strcmp(path + n - e, ext) == 0;
}

static bool
pdf_valid(const char *path, char *why, size_t whysz)
{
	qpdf_data q = qpdf_init();
	bool ok = true;

	/* Warnings are collected, not printed: any one fails the file. */
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read(q, path, NULL) & QPDF_ERRORS ||
	    qpdf_check_pdf(q) & QPDF_ERRORS) {
		snprintf(why, whysz, "qpdf: %s", qpdf_has_error(q) ?
		    qpdf_get_error_full_text(q, qpdf_get_error(q)) :
		    "error");
		ok = false;
	}
	if (ok && qpdf_more_warnings(q)) {
		snprintf(why, whysz, "qpdf warning: %s",
		    qpdf_get_error_full_text(q, qpdf_next_warning(q)));
		ok = false;
	}
	while (qpdf_more_warnings(q))
		(void)qpdf_next_warning(q);
	qpdf_cleanup(&q);
	return ok;
}

/* Run a checker (internal: no output check of its own) and require exit
 * status 0 and, if quiet, nothing on stderr. */
static bool
tool_valid(const char *const *argv, bool quiet, char *why, size_t whysz)
{
	th_run r;
	bool ok;

	run_argv(&r, argv, NULL);
	ok = r.status == 0 && (!quiet || r.err[0] == '\0');
	if (!ok)
		snprintf(why, whysz, "%s (status %d): %.300s%.300s", argv[0],
		    r.status, r.err, r.out);
	th_run_free(&r);
	return ok;
}

bool
th_output_valid(const char *path, char *why, size_t whysz)
{
	if (has_ext(path, ".pdf"))
		return pdf_valid(path, why, whysz);
	if (has_ext(path, ".svg")) {
		const char *argv[] = {"xmllint", "--noout", "--nonet", path,
		    NULL};
		return tool_valid(argv, true, why, whysz);
	}
	if (has_ext(path, ".png")) {
		const char *argv[] = {"pngcheck", "-q", path, NULL};
		return tool_valid(argv, false, why, whysz);
	}
	return true;
}

void
th_assert_output_valid(const char *path)
{
	char why[1024];

	if (!th_output_valid(path, why, sizeof why))
		fail_msg("%s is not a valid file: %s", path, why);
}

static bool
newer(const struct stat *st, const struct timespec *since)
{
	if (since == NULL)
		return true;
	return st->st_mtim.tv_sec > since->tv_sec ||
	    (st->st_mtim.tv_sec == since->tv_sec &&
	    st->st_mtim.tv_nsec >= since->tv_nsec);
}

static int
outputs_valid(const char *dir, const struct timespec *since, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		if ((p = th_path(dir, e->d_name)) == NULL)
			continue;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 8)
			n += outputs_valid(p, since, depth + 1);
		else if (S_ISREG(st.st_mode) && newer(&st, since) &&
		    (has_ext(p, ".pdf") || has_ext(p, ".svg") ||
		    has_ext(p, ".png"))) {
			char why[1024];
			if (!th_output_valid(p, why, sizeof why)) {
				closedir(d);
				fail_msg("%s is not a valid file: %s", p, why);
				free(p);
				return n;
			}
			n++;
		}
		free(p);
	}
	closedir(d);
	return n;
}

int
th_assert_outputs_valid(const char *dir, const struct timespec *since)
{
	return outputs_valid(dir, since, 0);
}

/* The folder an output argument writes into: the part before a
 * {{placeholder}}, up to its last slash ("." if none). */
static char *
output_dir(const char *arg)
{
	const char *brace = strstr(arg, "{{");
	size_t n = brace ? (size_t)(brace - arg) : strlen(arg);
	char *d;

	while (n > 0 && arg[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, arg, n);
	d[n] = '\0';
	return d;
}

static void
check_one(const char *path, const struct timespec *since)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && newer(&st, since))
		th_assert_output_valid(path);
}

static void
check_run_outputs(const char *const *argv, const struct timespec *since)
{
	static const char *const opts[] = {"-o", "--output", "--combine"};
	bool any = false;

	for (size_t i = 1; argv[i]; i++) {
		const char *val = NULL;

		for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
			size_t l = strlen(opts[k]);
			if (strcmp(argv[i], opts[k]) == 0 && argv[i + 1])
				val = argv[i + 1];
			else if (strncmp(argv[i], opts[k], l) == 0 &&
			    argv[i][l] == '=')
				val = argv[i] + l + 1;
		}
		if (val == NULL)
			continue;
		any = true;
		if (strstr(val, "{{")) {
			/* A file per row: every new file in its folder. */
			char *d = output_dir(val);
			if (d)
				th_assert_outputs_valid(d, since);
			free(d);
		} else
			check_one(val, since);
	}
	/* render, qr and batch write under output/ by default. */
	if (!any && argv[1] && (strcmp(argv[1], "render") == 0 ||
	    strcmp(argv[1], "qr") == 0 || strcmp(argv[1], "batch") == 0))
		th_assert_outputs_valid("output", since);
}
