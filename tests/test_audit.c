/*
 * test_audit.c - "qrposter audit" on phone photos the suite makes itself:
 * posters rendered by ./qrposter, photographed by tests/photosim.c (12 MP,
 * perspective, blur, noise, glare, JPEG, EXIF GPS and time), then audited
 * against the run's manifests (two shards). One case per field scenario;
 * each asserts the photo's and the rows' statuses as the reports give
 * them, and the exit status.
 *
 * Expected values come from outside the code under test: payloads decoded
 * from the rendered posters with libzbar, distances from this file's own
 * haversine, coordinates from the station list the fixture writes.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"
#include "helpers.h"
#include "photosim.h"
#include "util.h"

/* Four locations from the shared station list (Aberdeen MD twice: two
 * restrooms at one station). */
static const struct loc {
	const char *code, *name;
	double lat, lon;
} locs[] = {
	{"ABE-R1", "Aberdeen, restroom 1", 39.508455, -76.163262},
	{"ABE-R2", "Aberdeen, restroom 2", 39.508455, -76.163262},
	{"BAL-C", "Baltimore Penn Station, concourse", 39.307310, -76.615690},
	{"WAS-C", "Washington Union Station, concourse", 38.897001,
	    -77.006424},
};
#define NLOCS (sizeof locs / sizeof locs[0])
enum { ABE1, ABE2, BAL, WAS };

/* Under AddressSanitizer freed memory sits in quarantine and shadow
 * memory counts: peak memory says nothing about audit's own. */
#if defined(__SANITIZE_ADDRESS__)
#define MEASURE_MEMORY 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEASURE_MEMORY 0
#endif
#endif
#ifndef MEASURE_MEMORY
#define MEASURE_MEMORY 1
#endif

#define STICKER "https://qr-pay.example.net/p/8812?<script>alert(1)</script>"
#define LETTER_M (8.5 * 0.0254)

static char *dir;                /* the fixture */
static char *payload[NLOCS];     /* decoded from each rendered poster */
static cairo_surface_t *poster[NLOCS];
static double code_box[NLOCS][4]; /* the code in each poster picture */
static char *ok_photo;           /* ABE-R1, well taken, at Aberdeen */
static char *sticker_photo;      /* ABE-R1 with a sticker over its code */

/* ---- reading the reports --------------------------------------------- */

typedef struct csv {
	char **cols;
	size_t ncols;
	char ***rows;
	size_t nrows;
} csv;

static bool
csv_load(const char *path, csv *c)
{
	qp_error err;
	qp_data *d = qp_data_open(path, &err);
	qp_record rec;

	memset(c, 0, sizeof *c);
	if (d == NULL) {
		print_error("%s\n", err.msg);
		return false;
	}
	c->ncols = qp_data_ncols(d);
	c->cols = calloc(c->ncols, sizeof *c->cols);
	for (size_t i = 0; i < c->ncols; i++)
		c->cols[i] = strdup(qp_data_col(d, i));
	while (qp_data_next(d, &rec, &err) == 1) {
		c->rows = realloc(c->rows, (c->nrows + 1) * sizeof *c->rows);
		c->rows[c->nrows] = calloc(c->ncols, sizeof(char *));
		for (size_t i = 0; i < c->ncols; i++)
			c->rows[c->nrows][i] = strdup(rec.fields[i]);
		c->nrows++;
	}
	qp_data_close(d);
	return true;
}

static void
csv_free(csv *c)
{
	for (size_t r = 0; r < c->nrows; r++) {
		for (size_t i = 0; i < c->ncols; i++)
			free(c->rows[r][i]);
		free(c->rows[r]);
	}
	for (size_t i = 0; i < c->ncols; i++)
		free(c->cols[i]);
	free(c->rows);
	free(c->cols);
}

static const char *
cell(const csv *c, size_t row, const char *col)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (strcmp(c->cols[i], col) == 0)
			return row < c->nrows ? c->rows[row][i] : NULL;
	return NULL;
}

/* The first row whose column col holds val, or -1. */
static long
find(const csv *c, const char *col, const char *val)
{
	for (size_t r = 0; r < c->nrows; r++) {
		const char *v = cell(c, r, col);
		if (v && strcmp(v, val) == 0)
			return (long)r;
	}
	return -1;
}

/* The status of the row for location code in audit-rows.csv. */
static const char *
row_status(const csv *rows, const char *code)
{
	long r = find(rows, "code", code);

	return r < 0 ? "(no row)" : cell(rows, (size_t)r, "status");
}

/* ---- making photos --------------------------------------------------- */

static double
haversine(double la1, double lo1, double la2, double lo2)
{
	double r = 6371008.8, k = M_PI / 180;
	double a = pow(sin((la2 - la1) * k / 2), 2) + cos(la1 * k) *
	    cos(la2 * k) * pow(sin((lo2 - lo1) * k / 2), 2);

	return 2 * r * asin(sqrt(a));
}

/* A shot from d metres at location at (GPS about 40 m off). */
static ps_shot
shot_at(int at, double d)
{
	ps_shot s = {0};

	s.distance_m = d;
	s.blur_px = 1;
	s.noise = 4;
	s.gps = at >= 0;
	if (at >= 0) {
		s.lat = locs[at].lat + 0.0003;
		s.lon = locs[at].lon - 0.0002;
	}
	s.time = "2026:11:30 09:41:07";
	return s;
}

/* The poster of location i on the wall, the camera aimed at its code
 * from dx metres to its left. */
static ps_poster
hang(int i, double dx)
{
	ps_poster p;
	int w = cairo_image_surface_get_width(poster[i]);
	int h = cairo_image_surface_get_height(poster[i]);
	double m_per_px = LETTER_M / w;

	p.img = poster[i];
	p.width_m = LETTER_M;
	p.wx = dx;
	p.wy = -((code_box[i][1] + code_box[i][3] / 2) - h / 2.0) * m_per_px;
	return p;
}

static char *
photo(const char *sub, const char *name, const ps_poster *ps, size_t n,
    const ps_shot *s)
{
	char *d = th_path(dir, sub), *p;

	mkdir(d, 0777);
	p = th_path(d, name);
	free(d);
	assert_true(ps_photo(p, ps, n, s));
	return p;
}

/* ---- running audit --------------------------------------------------- */

typedef struct audit_run {
	int status;
	char *err;
	csv photos, rows;
	char *html;
	long maxrss_kb;
} audit_run;

/*
 * qrposter audit over the fixture's two shard manifests and locations,
 * the template, extra options, then the photos (NULL-terminated after
 * the options, separated from them by "--"). Reports go to DIR/sub.
 */
static void
run_audit(audit_run *ar, const char *sub, ...)
{
	const char *argv[64];
	int n = 0, pfd[2], status;
	char *out = th_path(dir, sub);
	char *m1 = th_path(dir, "run/manifest-1-of-2.csv");
	char *m2 = th_path(dir, "run/manifest-2-of-2.csv");
	char *loc = th_path(dir, "loc.csv");
	char *p;
	struct rusage ru;
	va_list ap;
	pid_t pid;
	qp_buf errb;
	char buf[4096];
	ssize_t k;

	memset(ar, 0, sizeof *ar);
	mkdir(out, 0777);
	argv[n++] = th_bin();
	argv[n++] = "audit";
	argv[n++] = "-m";
	argv[n++] = m1;
	argv[n++] = "-m";
	argv[n++] = m2;
	argv[n++] = "-d";
	argv[n++] = loc;
	argv[n++] = "-t";
	argv[n++] = "restroom-letter";
	argv[n++] = "-o";
	argv[n++] = out;
	va_start(ap, sub);
	while ((p = va_arg(ap, char *)) != NULL && n < 62)
		argv[n++] = p;
	va_end(ap);
	argv[n] = NULL;
	/* Run it here rather than with th_run_argv: the test wants the
	 * child's peak memory (wait4). */
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		if (getenv("QRPOSTER_DATADIR") == NULL)
			setenv("QRPOSTER_DATADIR", ".", 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	qp_buf_init(&errb);
	while ((k = read(pfd[0], buf, sizeof buf)) > 0)
		qp_buf_add(&errb, buf, (size_t)k);
	close(pfd[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	ar->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
	ar->maxrss_kb = ru.ru_maxrss;
	ar->err = qp_buf_steal(&errb);
	if (ar->err == NULL)
		ar->err = strdup("");
	p = th_path(out, "audit-photos.csv");
	if (th_exists(p))
		assert_true(csv_load(p, &ar->photos));
	free(p);
	p = th_path(out, "audit-rows.csv");
	if (th_exists(p))
		assert_true(csv_load(p, &ar->rows));
	free(p);
	p = th_path(out, "audit.html");
	ar->html = th_read_file(p, NULL);
	free(p);
	free(out);
	free(m1);
	free(m2);
	free(loc);
}

static void
audit_run_free(audit_run *ar)
{
	free(ar->err);
	free(ar->html);
	csv_free(&ar->photos);
	csv_free(&ar->rows);
}

/* The photos.csv line of photo path with code status st (NULL: any). */
static long
photo_line(const audit_run *ar, const char *path, const char *st)
{
	for (size_t r = 0; r < ar->photos.nrows; r++)
		if (strcmp(cell(&ar->photos, r, "photo"), path) == 0 &&
		    (st == NULL || strcmp(cell(&ar->photos, r, "status"), st) ==
		    0))
			return (long)r;
	return -1;
}

static const char *
photo_status(const audit_run *ar, const char *path)
{
	long r = photo_line(ar, path, NULL);

	return r < 0 ? "(no line)" : cell(&ar->photos, (size_t)r,
	    "photo_status");
}

/* ---- fixture --------------------------------------------------------- */

static int
setup(void **state)
{
	qp_buf b;
	th_run r;
	char *p, *q;

	(void)state;
	dir = th_tmpdir_new();
	if (dir == NULL)
		return -1;
	qp_buf_init(&b);
	qp_buf_adds(&b, "code,name,lat,lon\n");
	for (size_t i = 0; i < NLOCS; i++)
		qp_buf_printf(&b, "%s,\"%s\",%.6f,%.6f\n", locs[i].code,
		    locs[i].name, locs[i].lat, locs[i].lon);
	p = th_path(dir, "loc.csv");
	th_write_file(p, b.data, b.len);
	qp_buf_free(&b);
	q = th_path(dir, "run");
	mkdir(q, 0777);
	/* A run in two shards, as a big run would be. */
	for (int k = 1; k <= 2; k++) {
		char shard[16], *pat = qp_xasprintf("%s/{{code}}.pdf", q);

		snprintf(shard, sizeof shard, "%d/2", k);
		if (th_qrposter(&r, "batch", "-q", "-d", p, "--shard", shard,
		    "-o", pat, NULL) != 0) {
			print_error("batch: %s\n", r.err);
			return -1;
		}
		th_run_free(&r);
		free(pat);
	}
	free(p);
	for (size_t i = 0; i < NLOCS; i++) {
		char *png = qp_xasprintf("%s/%s.png", q, locs[i].code);
		char *code = qp_xasprintf("code=%s", locs[i].code);
		char **got;

		if (th_qrposter(&r, "render", "-t", "restroom-letter", "-s",
		    code, "-s", "name=x", "--dpi", "200", "-o", png,
		    NULL) != 0)
			return -1;
		th_run_free(&r);
		got = th_png_decode_qr(png);
		if (got == NULL || th_strv_len(got) != 1)
			return -1;
		payload[i] = strdup(got[0]);
		th_strv_free(got);
		poster[i] = ps_load_png(png);
		if (poster[i] == NULL || !ps_find_code(poster[i], code_box[i]))
			return -1;
		free(png);
		free(code);
	}
	/* The sticker: another code, pasted over the middle of ABE-R1's,
	 * covering 60% of its width (its corner squares still show). */
	p = qp_xasprintf("%s/sticker.png", q);
	if (th_qrposter(&r, "qr", "--size", "1in", "--dpi", "300", "-o", p,
	    STICKER, NULL) != 0)
		return -1;
	th_run_free(&r);
	{
		cairo_surface_t *st = ps_load_png(p);
		cairo_surface_t *copy;
		double *bx = code_box[ABE1];
		int w = cairo_image_surface_get_width(poster[ABE1]);
		int h = cairo_image_surface_get_height(poster[ABE1]);
		cairo_t *cr;
		ps_poster po;
		ps_shot s = shot_at(ABE1, 1.0);

		copy = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
		cr = cairo_create(copy);
		cairo_set_source_surface(cr, poster[ABE1], 0, 0);
		cairo_paint(cr);
		cairo_destroy(cr);
		ps_paste(copy, st, bx[0] + bx[2] / 2, bx[1] + bx[3] / 2,
		    bx[2] * 0.6, 0);
		po = hang(ABE1, 0);
		po.img = copy;
		s.yaw_deg = 15;
		sticker_photo = photo("shared", "sticker.jpg", &po, 1, &s);
		cairo_surface_destroy(copy);
		cairo_surface_destroy(st);
	}
	free(p);
	free(q);
	{
		ps_poster po = hang(ABE1, 0);
		ps_shot s = shot_at(ABE1, 1.0);

		s.yaw_deg = 20;
		ok_photo = photo("shared", "ok.jpg", &po, 1, &s);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NLOCS; i++) {
		free(payload[i]);
		cairo_surface_destroy(poster[i]);
	}
	free(ok_photo);
	free(sticker_photo);
	th_tmpdir_remove(dir);
	return 0;
}

/* ---- the scenarios --------------------------------------------------- */

/* Every location photographed where it belongs: all ok, all installed,
 * exit 0. */
static void
test_ok(void **state)
{
	audit_run ar;
	char *ph[NLOCS];
	const double dist[NLOCS] = {1.0, 1.2, 0.9, 1.4};
	const double yaw[NLOCS] = {0, -30, 40, 15};

	(void)state;
	for (size_t i = 0; i < NLOCS; i++) {
		ps_poster po = hang((int)i, 0);
		ps_shot s = shot_at((int)i, dist[i]);
		char name[32];

		s.yaw_deg = yaw[i];
		s.roll_deg = 10.0 * (double)i - 12;
		s.glare = i == WAS ? 0.35 : 0;
		s.seed = (unsigned)i;
		snprintf(name, sizeof name, "%s.jpg", locs[i].code);
		ph[i] = photo("ok", name, &po, 1, &s);
	}
	run_audit(&ar, "ok-out", ph[0], ph[1], ph[2], ph[3], NULL);
	assert_int_equal(ar.status, 0);
	for (size_t i = 0; i < NLOCS; i++) {
		long l = photo_line(&ar, ph[i], NULL);

		assert_true(l >= 0);
		assert_string_equal(cell(&ar.photos, (size_t)l, "status"),
		    "ok");
		assert_string_equal(cell(&ar.photos, (size_t)l, "payload"),
		    payload[i]);
		assert_string_equal(cell(&ar.photos, (size_t)l, "code"),
		    locs[i].code);
		assert_string_equal(cell(&ar.photos, (size_t)l, "time"),
		    "2026-11-30 09:41:07");
		assert_string_equal(row_status(&ar.rows, locs[i].code),
		    "installed");
		free(ph[i]);
	}
	assert_int_equal(ar.rows.nrows, NLOCS);
	audit_run_free(&ar);
}

/* Another code pasted over the poster's own: foreign code, on top of
 * it, its domain named; with an ok photo of the same place, the row is
 * in conflict; exit 5. */
static void
test_sticker(void **state)
{
	audit_run ar;
	long l;

	(void)state;
	run_audit(&ar, "sticker-out", ok_photo, sticker_photo, NULL);
	assert_int_equal(ar.status, 5);
	assert_string_equal(photo_status(&ar, sticker_photo), "foreign code");
	l = photo_line(&ar, sticker_photo, "foreign code");
	assert_true(l >= 0);
	assert_string_equal(cell(&ar.photos, (size_t)l, "payload"), STICKER);
	assert_string_equal(cell(&ar.photos, (size_t)l, "domain"),
	    "qr-pay.example.net");
	assert_string_equal(cell(&ar.photos, (size_t)l, "placement"),
	    "on top of a known code");
	assert_string_equal(cell(&ar.photos, (size_t)l, "code"), "ABE-R1");
	assert_string_equal(row_status(&ar.rows, "ABE-R1"), "conflict");
	assert_string_equal(row_status(&ar.rows, "ABE-R2"), "missing");
	assert_non_null(strstr(ar.err, "foreign code"));
	audit_run_free(&ar);
}

/* Washington's poster photographed at Aberdeen: wrong place, with the
 * distance and the location it belongs to; --radius wide enough makes
 * it ok. */
static void
test_wrong_station(void **state)
{
	ps_poster po = hang(WAS, 0);
	ps_shot s = shot_at(ABE1, 1.1);
	audit_run ar;
	char *ph;
	long l;
	double want, got;
	char radius[32];

	(void)state;
	s.yaw_deg = -20;
	ph = photo("wrong", "was-at-abe.jpg", &po, 1, &s);
	run_audit(&ar, "wrong-out", ph, NULL);
	assert_int_equal(ar.status, 5);
	l = photo_line(&ar, ph, "wrong place");
	assert_true(l >= 0);
	assert_string_equal(cell(&ar.photos, (size_t)l, "code"), "WAS-C");
	want = haversine(s.lat, s.lon, locs[WAS].lat, locs[WAS].lon);
	got = atof(cell(&ar.photos, (size_t)l, "distance_m"));
	assert_true(fabs(got - want) < 0.005 * want);
	assert_non_null(strstr(cell(&ar.photos, (size_t)l, "reason"),
	    "WAS-C"));
	assert_non_null(strstr(cell(&ar.photos, (size_t)l, "reason"),
	    "ABE-R1"));
	assert_string_equal(row_status(&ar.rows, "WAS-C"), "missing");
	audit_run_free(&ar);
	/* The same photo, with a radius that takes Washington in. */
	snprintf(radius, sizeof radius, "%.0fkm", want / 1000 + 5);
	run_audit(&ar, "wrong-out2", "--radius", radius, ph, NULL);
	assert_int_equal(ar.status, 4); /* others still missing */
	assert_string_equal(photo_status(&ar, ph), "ok");
	assert_string_equal(row_status(&ar.rows, "WAS-C"), "installed");
	audit_run_free(&ar);
	free(ph);
}

/* Both restrooms' posters side by side in one photo: two codes, both
 * ok, both rows installed. */
static void
test_two_posters(void **state)
{
	ps_poster po[2] = {hang(ABE1, -0.13), hang(ABE2, 0.13)};
	ps_shot s = shot_at(ABE2, 1.3);
	audit_run ar;
	char *ph;
	size_t nok = 0;

	(void)state;
	s.yaw_deg = 10;
	s.roll_deg = 4;
	ph = photo("two", "two.jpg", po, 2, &s);
	run_audit(&ar, "two-out", ph, NULL);
	assert_int_equal(ar.status, 4); /* BAL and WAS are missing */
	for (size_t r = 0; r < ar.photos.nrows; r++)
		if (strcmp(cell(&ar.photos, r, "status"), "ok") == 0)
			nok++;
	assert_int_equal(nok, 2);
	assert_string_equal(row_status(&ar.rows, "ABE-R1"), "installed");
	assert_string_equal(row_status(&ar.rows, "ABE-R2"), "installed");
	assert_string_equal(row_status(&ar.rows, "BAL-C"), "missing");
	audit_run_free(&ar);
	free(ph);
}

/* From 4.5 m the code is 2.2 pixels a module: unreadable, too far away,
 * the distance estimated against the template's 1 m scan distance. */
static void
test_too_far(void **state)
{
	ps_poster po = hang(BAL, 0);
	ps_shot s = shot_at(BAL, 4.5);
	audit_run ar;
	char *ph;
	const char *why, *taken;

	(void)state;
	ph = photo("far", "far.jpg", &po, 1, &s);
	run_audit(&ar, "far-out", ph, NULL);
	assert_int_equal(ar.status, 4);
	assert_string_equal(photo_status(&ar, ph), "unreadable");
	why = cell(&ar.photos, 0, "reason");
	assert_non_null(strstr(why, "too far away"));
	assert_non_null(strstr(why, "scan distance is 1.0 m"));
	taken = cell(&ar.photos, 0, "taken_m");
	assert_true(fabs(atof(taken) - 4.5) < 4.5 * 0.25);
	assert_string_equal(row_status(&ar.rows, "BAL-C"), "missing");
	audit_run_free(&ar);
	free(ph);
}

/* A photo of a bare wall. */
static void
test_no_poster(void **state)
{
	ps_shot s = shot_at(ABE1, 1.0);
	audit_run ar;
	char *ph;

	(void)state;
	ph = photo("none", "wall.jpg", NULL, 0, &s);
	run_audit(&ar, "none-out", ph, NULL);
	assert_int_equal(ar.status, 4);
	assert_string_equal(photo_status(&ar, ph), "unreadable");
	assert_string_equal(cell(&ar.photos, 0, "reason"),
	    "no QR code found in the photo");
	assert_string_equal(cell(&ar.photos, 0, "lat"), "39.508755");
	audit_run_free(&ar);
	free(ph);
}

/* The first third of a JPEG: a bad file, said to be truncated; the next
 * photo is still read. */
static void
test_truncated(void **state)
{
	size_t len;
	char *data = th_read_file(ok_photo, &len);
	char *d = th_path(dir, "trunc"), *ph;
	audit_run ar;

	(void)state;
	mkdir(d, 0777);
	ph = th_path(d, "cut.jpg");
	assert_non_null(data);
	assert_true(th_write_file(ph, data, len / 3));
	run_audit(&ar, "trunc-out", ph, ok_photo, NULL);
	assert_int_equal(ar.status, 4);
	assert_string_equal(photo_status(&ar, ph), "bad file");
	assert_non_null(strstr(cell(&ar.photos, (size_t)photo_line(&ar, ph,
	    NULL), "reason"), "truncated JPEG"));
	assert_string_equal(photo_status(&ar, ok_photo), "ok");
	audit_run_free(&ar);
	free(data);
	free(ph);
	free(d);
}

/* Big-endian 16 and 32 bits. */
static void
be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
be32(unsigned char *p, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* Decompression bombs: a JPEG whose frame header claims 60000 x 60000
 * pixels, a PNG whose IHDR claims 50000 x 50000 (CRC made right): both
 * refused from the header, without the gigabytes; the run goes on. */
static void
test_bomb(void **state)
{
	size_t len;
	unsigned char *jpg = (unsigned char *)th_read_file(ok_photo, &len);
	unsigned char png[256], z[64];
	unsigned long zlen = sizeof z;
	unsigned char zeros[512] = {0};
	char *d = th_path(dir, "bomb"), *pj, *pp;
	audit_run ar;
	size_t i, plen;

	(void)state;
	assert_non_null(jpg);
	mkdir(d, 0777);
	/* SOF0 (FF C0): length, precision, height, width. */
	for (i = 2; i + 9 < len; i++)
		if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
			break;
	assert_true(i + 9 < len);
	be16(jpg + i + 5, 60000);
	be16(jpg + i + 7, 60000);
	pj = th_path(d, "bomb.jpg");
	assert_true(th_write_file(pj, jpg, len));
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	be32(png + 8, 13);
	memcpy(png + 12, "IHDR", 4);
	be32(png + 16, 50000);
	be32(png + 20, 50000);
	memcpy(png + 24, "\x08\x00\x00\x00\x00", 5);
	be32(png + 29, crc32(0, png + 12, 17));
	/* Some image data, as a real bomb has: a few rows of zeros. */
	assert_int_equal(compress(z, &zlen, zeros, sizeof zeros), Z_OK);
	be32(png + 33, zlen);
	memcpy(png + 37, "IDAT", 4);
	memcpy(png + 41, z, zlen);
	be32(png + 41 + zlen, crc32(0, png + 37, 4 + (unsigned)zlen));
	plen = 45 + zlen;
	be32(png + plen, 0);
	memcpy(png + plen + 4, "IEND", 4);
	be32(png + plen + 8, crc32(0, png + plen + 4, 4));
	plen += 12;
	pp = th_path(d, "bomb.png");
	assert_true(th_write_file(pp, png, plen));
	run_audit(&ar, "bomb-out", pj, pp, ok_photo, NULL);
	assert_int_equal(ar.status, 4);
	assert_string_equal(photo_status(&ar, pj), "bad file");
	assert_non_null(strstr(cell(&ar.photos, (size_t)photo_line(&ar, pj,
	    NULL), "reason"), "60000 x 60000 pixels"));
	assert_string_equal(photo_status(&ar, pp), "bad file");
	assert_non_null(strstr(cell(&ar.photos, (size_t)photo_line(&ar, pp,
	    NULL), "reason"), "50000 x 50000 pixels"));
	assert_string_equal(photo_status(&ar, ok_photo), "ok");
	/* 3.6 gigapixels never allocated: far less than one such frame. */
	if (MEASURE_MEMORY)
		assert_true(ar.maxrss_kb < 400 * 1024);
	audit_run_free(&ar);
	free(jpg);
	free(pj);
	free(pp);
	free(d);
}

/* Files in a photo folder that are not photos: a note, a HEIC export. */
static void
test_not_image(void **state)
{
	char *d = th_path(dir, "notimg"), *txt, *heic;
	audit_run ar;

	(void)state;
	mkdir(d, 0777);
	txt = th_path(d, "notes.txt");
	heic = th_path(d, "IMG_0001.HEIC");
	assert_true(th_write_file(txt, "installed ABE-R1 at 9:40\n", 25));
	assert_true(th_write_file(heic, "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic",
	    24));
	/* The folder, as an installer hands it in: read in name order. */
	run_audit(&ar, "notimg-out", d, ok_photo, NULL);
	assert_int_equal(ar.status, 4);
	assert_int_equal(ar.photos.nrows, 3);
	assert_string_equal(photo_status(&ar, txt), "bad file");
	assert_non_null(strstr(cell(&ar.photos, (size_t)photo_line(&ar, txt,
	    NULL), "reason"), "not an image"));
	assert_string_equal(photo_status(&ar, heic), "bad file");
	assert_non_null(strstr(cell(&ar.photos, (size_t)photo_line(&ar, heic,
	    NULL), "reason"), "HEIF/HEIC is not read"));
	assert_string_equal(photo_status(&ar, ok_photo), "ok");
	audit_run_free(&ar);
	free(txt);
	free(heic);
	free(d);
}

/* The HTML report loads nothing, shows the totals, a thumbnail per photo
 * with the codes outlined, and never lets a payload's markup through. */
static void
test_report_html(void **state)
{
	audit_run ar;
	const char *h, *p;
	int n = 0;

	(void)state;
	run_audit(&ar, "html-out", ok_photo, sticker_photo, NULL);
	h = ar.html;
	assert_non_null(h);
	assert_non_null(strstr(h, "Content-Security-Policy\" content=\""
	    "default-src 'none'"));
	assert_null(strstr(h, "src=\"http"));
	assert_null(strstr(h, "href=\"http"));
	assert_null(strstr(h, "url("));
	assert_null(strstr(h, "<script>alert"));
	assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	for (p = h; (p = strstr(p, "href=\"data:image/jpeg;base64,")); p++)
		n++;
	assert_int_equal(n, 2);
	assert_non_null(strstr(h, "<polygon class=\"q foreign\""));
	assert_non_null(strstr(h, "<polygon class=\"q ok\""));
	/* Totals: one conflict, three missing; one foreign photo, one ok. */
	assert_non_null(strstr(h, "<div class=\"tot conflict\"><b>1</b>"));
	assert_non_null(strstr(h, "<div class=\"tot missing\"><b>3</b>"));
	assert_non_null(strstr(h, "<div class=\"tot foreign\"><b>1</b>"));
	assert_non_null(strstr(h, "<div class=\"tot ok\"><b>1</b>"));
	/* The CSV keeps a spreadsheet from running a payload as a formula. */
	audit_run_free(&ar);
}

/* Memory does not grow with the number of photos: 40 photos need what 4
 * need (small 1 MP frames, thumbnails on). */
static void
test_streams(void **state)
{
	char *d4 = th_path(dir, "mem4"), *d40 = th_path(dir, "mem40");
	ps_poster po = hang(ABE1, 0);
	ps_shot s = shot_at(ABE1, 0.5);
	char *one, *data;
	size_t len;
	audit_run a4, a40;

	(void)state;
	s.frame_w = 1200;
	s.frame_h = 900;
	one = photo("mem4", "p00.jpg", &po, 1, &s);
	data = th_read_file(one, &len);
	mkdir(d40, 0777);
	for (int i = 0; i < 40; i++) {
		char name[32], *p;

		snprintf(name, sizeof name, "p%02d.jpg", i);
		if (i < 4) {
			p = th_path(d4, name);
			th_write_file(p, data, len);
			free(p);
		}
		p = th_path(d40, name);
		th_write_file(p, data, len);
		free(p);
	}
	run_audit(&a4, "mem4-out", d4, NULL);
	run_audit(&a40, "mem40-out", d40, NULL);
	assert_int_equal(a4.photos.nrows, 4);
	assert_int_equal(a40.photos.nrows, 40);
	assert_string_equal(row_status(&a40.rows, "ABE-R1"), "installed");
	if (MEASURE_MEMORY)
		assert_true(a40.maxrss_kb < a4.maxrss_kb + 6 * 1024);
	audit_run_free(&a4);
	audit_run_free(&a40);
	free(one);
	free(data);
	free(d4);
	free(d40);
}

/* Manifests that are not: two joined with both headers, none at all. */
static void
test_bad_manifest(void **state)
{
	char *m1 = th_path(dir, "run/manifest-1-of-2.csv");
	char *m2 = th_path(dir, "run/manifest-2-of-2.csv");
	char *joined = th_path(dir, "joined.csv");
	char *a = th_read_file(m1, NULL), *b = th_read_file(m2, NULL);
	char *both = qp_xasprintf("%s%s", a, b);
	char *want;
	th_run r;

	(void)state;
	assert_true(th_write_file(joined, both, strlen(both)));
	assert_int_equal(th_qrposter(&r, "audit", "-m", joined, "-o", dir,
	    ok_photo, NULL), 1);
	/* The second header is the line after the first file's lines. */
	{
		int lines = 0;

		for (const char *c = a; *c; c++)
			lines += *c == '\n';
		want = qp_xasprintf("joined.csv:%d: column 'row': 'row' is "
		    "not a number", lines + 1);
	}
	assert_non_null(strstr(r.err, want));
	th_run_free(&r);
	assert_int_equal(th_qrposter(&r, "audit", ok_photo, NULL), 2);
	assert_non_null(strstr(r.err, "give the run's manifest with -m"));
	th_run_free(&r);
	free(want);
	free(both);
	free(a);
	free(b);
	free(joined);
	free(m1);
	free(m2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_sticker),
		cmocka_unit_test(test_wrong_station),
		cmocka_unit_test(test_two_posters),
		cmocka_unit_test(test_too_far),
		cmocka_unit_test(test_no_poster),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_not_image),
		cmocka_unit_test(test_report_html),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_bad_manifest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
