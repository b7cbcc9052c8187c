/*
 * audit.c - photos + manifest -> status per photo and per row (audit.h).
 */
#include "audit.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zbar.h>

#include "data.h"
#include "qrfind.h"
#include "vars.h"
#include "zxread.h"

struct qp_audit {
	qp_audit_opts o;
	qp_audit_row *rows;
	size_t nrows, caprows;
	/* Open addressing over payloads: index + 1, 0 = empty. */
	size_t *slots;
	size_t nslots;
	zbar_image_scanner_t *zbar;
	size_t photos;
	size_t by_kind[QP_AUDIT_NKINDS];
	size_t not_printed, duplicates;
};

const char *
qp_audit_kind_name(qp_audit_kind k)
{
	static const char *const names[] = {"ok", "wrong place",
	    "foreign code", "unreadable", "bad file"};

	return (unsigned)k < QP_AUDIT_NKINDS ? names[k] : "?";
}

const char *
qp_row_status_name(qp_row_status s)
{
	static const char *const names[] = {"installed", "missing",
	    "conflict"};

	return (unsigned)s < QP_ROW_NSTATUS ? names[s] : "?";
}

const char *
qp_audit_place_name(qp_audit_place p)
{
	switch (p) {
	case QP_PLACE_ON_TOP: return "on top of a known code";
	case QP_PLACE_NEXT_TO: return "next to a known code";
	case QP_PLACE_ALONE: return "no known code in the photo";
	case QP_PLACE_NONE: break;
	}
	return "";
}

double
qp_haversine_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = 3.14159265358979323846 / 180;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * asin(fmin(1, sqrt(h)));
}

qp_audit *
qp_audit_new(const qp_audit_opts *o)
{
	qp_audit *a = qp_xcalloc(1, sizeof *a);

	a->o = *o;
	if (a->o.readers == 0)
		a->o.readers = QP_READ_ZBAR | QP_READ_ZXING;
	a->zbar = zbar_image_scanner_create();
	zbar_image_scanner_set_config(a->zbar, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(a->zbar, ZBAR_QRCODE, ZBAR_CFG_ENABLE,
	    1);
	/* The payload's bytes as printed, to compare with the manifest. */
	zbar_image_scanner_set_config(a->zbar, ZBAR_QRCODE, ZBAR_CFG_BINARY,
	    1);
	return a;
}

void
qp_audit_free(qp_audit *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nrows; i++) {
		qp_audit_row *r = &a->rows[i];
		free(r->code);
		free(r->payload);
		free(r->file);
		free(r->manifest);
		free(r->name);
		free(r->first_ok);
		free(r->foreign_at);
	}
	free(a->rows);
	free(a->slots);
	zbar_image_scanner_destroy(a->zbar);
	free(a);
}

/* ---- rows ------------------------------------------------------------ */

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void
rehash(qp_audit *a)
{
	size_t n = a->nslots ? a->nslots * 2 : 1024;

	free(a->slots);
	a->slots = qp_xcalloc(n, sizeof *a->slots);
	a->nslots = n;
	for (size_t i = 0; i < a->nrows; i++) {
		const char *p = a->rows[i].payload;
		size_t k = hash_bytes(p, strlen(p)) & (n - 1);

		while (a->slots[k])
			k = (k + 1) & (n - 1);
		a->slots[k] = i + 1;
	}
}

/* The row whose payload is p (len bytes), or -1. */
static long
find_payload(const qp_audit *a, const char *p, size_t len)
{
	size_t k;

	if (a->nslots == 0)
		return -1;
	k = hash_bytes(p, len) & (a->nslots - 1);
	for (; a->slots[k]; k = (k + 1) & (a->nslots - 1)) {
		const char *q = a->rows[a->slots[k] - 1].payload;

		if (strlen(q) == len && memcmp(p, q, len) == 0)
			return (long)a->slots[k] - 1;
	}
	return -1;
}

void
qp_audit_set_code(qp_audit *a, double code_m, int modules,
    double scan_distance_m)
{
	a->o.code_m = code_m;
	a->o.code_modules = modules;
	a->o.scan_distance_m = scan_distance_m;
}

size_t
qp_audit_nrows(const qp_audit *a)
{
	return a->nrows;
}

const qp_audit_row *
qp_audit_row_at(const qp_audit *a, size_t i)
{
	return i < a->nrows ? &a->rows[i] : NULL;
}

qp_row_status
qp_audit_row_status(const qp_audit_row *r)
{
	if (r->ok == 0)
		return QP_ROW_MISSING;
	return r->foreign ? QP_ROW_CONFLICT : QP_ROW_INSTALLED;
}

static const char *const manifest_need[] = {"row", "line", "code",
    "payload", "status"};
#define NNEED (sizeof manifest_need / sizeof manifest_need[0])

bool
qp_audit_add_manifest(qp_audit *a, const char *path, qp_error *err)
{
	qp_data *d = qp_data_open(path, err);
	long c[NNEED], cfile;
	qp_record rec;
	int rc;

	if (d == NULL)
		return false;
	for (size_t i = 0; i < NNEED; i++)
		if ((c[i] = qp_data_col_index(d, manifest_need[i])) < 0) {
			qp_fail(err, "%s: not a qrposter manifest: no column "
			    "'%s' (a manifest's header is row,line,code,file,"
			    "page,payload,sha256,status,inputs_sha256)",
			    qp_data_name(d), manifest_need[i]);
			qp_data_close(d);
			return false;
		}
	cfile = qp_data_col_index(d, "file");
	while ((rc = qp_data_next(d, &rec, err)) == 1) {
		const char *payload = rec.fields[c[3]];
		long rown = 0, line = 0;
		qp_audit_row *r;

		bool rok = qp_parse_int(rec.fields[c[0]], 1, LONG_MAX, &rown);
		bool lok = qp_parse_int(rec.fields[c[1]], 1, LONG_MAX, &line);

		if (!rok || !lok) {
			qp_fail(err, "%s:%zu: column '%s': '%.40s' is not a "
			    "number (two manifests joined with both headers? "
			    "give each file on its own)", qp_data_name(d),
			    rec.line, rok ? "line" : "row",
			    rec.fields[c[rok ? 1 : 0]]);
			qp_data_close(d);
			return false;
		}
		if (strcmp(rec.fields[c[4]], "ok") != 0 || !*payload) {
			a->not_printed++;
			continue;
		}
		if (find_payload(a, payload, rec.lens[c[3]]) >= 0) {
			a->duplicates++;
			continue;
		}
		a->rows = qp_grow(a->rows, &a->caprows, a->nrows + 1,
		    sizeof *a->rows);
		r = &a->rows[a->nrows++];
		memset(r, 0, sizeof *r);
		r->row = rown;
		r->line = line;
		r->code = qp_xstrdup(rec.fields[c[2]]);
		r->payload = qp_xstrdup(payload);
		r->file = qp_xstrdup(cfile >= 0 ? rec.fields[cfile] : "");
		r->manifest = qp_xstrdup(qp_data_name(d));
		if (a->nrows * 2 > a->nslots)
			rehash(a);
		else {
			size_t k = hash_bytes(payload, rec.lens[c[3]]) &
			    (a->nslots - 1);
			while (a->slots[k])
				k = (k + 1) & (a->nslots - 1);
			a->slots[k] = a->nrows;
		}
	}
	qp_data_close(d);
	return rc == 0;
}

/* A coordinate cell: empty (false, no error) or a number in range. */
static bool
coord(const qp_data *d, const qp_record *rec, long col, double lim,
    double *out, bool *have, qp_error *err)
{
	const char *s = rec->fields[col];

	if (!*s) {
		*have = false;
		return true;
	}
	if (!qp_parse_number(s, rec->lens[col], out) || fabs(*out) > lim)
		return qp_fail(err, "%s:%zu: column '%s': '%.40s' is not a "
		    "coordinate in decimal degrees (-%.0f to %.0f)",
		    qp_data_name(d), rec->line, qp_data_col(d, (size_t)col), s,
		    lim, lim);
	return true;
}

bool
qp_audit_add_locations(qp_audit *a, const char *path, qp_error *err)
{
	qp_data *d = qp_data_open(path, err);
	long ccode, cname, clat, clon;
	qp_record rec;
	int rc;

	if (d == NULL)
		return false;
	ccode = qp_data_col_index(d, "code");
	cname = qp_data_col_index(d, "name");
	clat = qp_data_col_index(d, "lat");
	clon = qp_data_col_index(d, "lon");
	if (ccode < 0) {
		qp_fail(err, "%s: no column 'code' (the locations the "
		    "manifest's codes refer to)", qp_data_name(d));
		qp_data_close(d);
		return false;
	}
	if ((clat < 0) != (clon < 0)) {
		qp_fail(err, "%s: a column '%s' without '%s'",
		    qp_data_name(d), clat < 0 ? "lon" : "lat",
		    clat < 0 ? "lat" : "lon");
		qp_data_close(d);
		return false;
	}
	while ((rc = qp_data_next(d, &rec, err)) == 1) {
		double lat = 0, lon = 0;
		bool hlat = clat >= 0, hlon = clon >= 0;

		if (clat >= 0 && (!coord(d, &rec, clat, 90, &lat, &hlat,
		    err) || !coord(d, &rec, clon, 180, &lon, &hlon, err))) {
			qp_data_close(d);
			return false;
		}
		/* Rows are few thousand: a scan per location is fine and
		 * lets several rows share a code. */
		for (size_t i = 0; i < a->nrows; i++) {
			qp_audit_row *r = &a->rows[i];

			if (strcmp(r->code, rec.fields[ccode]) != 0 ||
			    r->name)
				continue;
			r->name = qp_xstrdup(cname >= 0 ? rec.fields[cname] :
			    "");
			if (hlat && hlon) {
				r->has_loc = true;
				r->lat = lat;
				r->lon = lon;
			}
		}
	}
	qp_data_close(d);
	return rc == 0;
}

void
qp_audit_get_totals(const qp_audit *a, qp_audit_totals *t)
{
	memset(t, 0, sizeof *t);
	t->photos = a->photos;
	memcpy(t->by_kind, a->by_kind, sizeof t->by_kind);
	t->rows = a->nrows;
	for (size_t i = 0; i < a->nrows; i++) {
		t->by_row[qp_audit_row_status(&a->rows[i])]++;
		if (!a->rows[i].has_loc)
			t->no_location++;
	}
	t->not_printed = a->not_printed;
	t->duplicates = a->duplicates;
}

/* ---- geometry -------------------------------------------------------- */

static void
quad_bbox(const double *q, double b[4])
{
	b[0] = b[2] = q[0];
	b[1] = b[3] = q[1];
	for (int i = 1; i < 4; i++) {
		b[0] = fmin(b[0], q[2 * i]);
		b[1] = fmin(b[1], q[2 * i + 1]);
		b[2] = fmax(b[2], q[2 * i]);
		b[3] = fmax(b[3], q[2 * i + 1]);
	}
}

/* Area of the bounding boxes' intersection over the smaller box's. */
static double
overlap(const double *qa, const double *qb)
{
	double a[4], b[4], iw, ih, sa, sb;

	quad_bbox(qa, a);
	quad_bbox(qb, b);
	iw = fmin(a[2], b[2]) - fmax(a[0], b[0]);
	ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
	if (iw <= 0 || ih <= 0)
		return 0;
	sa = (a[2] - a[0]) * (a[3] - a[1]);
	sb = (b[2] - b[0]) * (b[3] - b[1]);
	return iw * ih / fmax(1, fmin(sa, sb));
}

/* Two sightings of one code: they overlap and are about the same size
 * (a sticker over a code overlaps it but is smaller). */
static bool
same_place(const double *qa, const double *qb)
{
	double a[4], b[4], sa, sb;

	if (overlap(qa, qb) < 0.3)
		return false;
	quad_bbox(qa, a);
	quad_bbox(qb, b);
	sa = (a[2] - a[0]) * (a[3] - a[1]);
	sb = (b[2] - b[0]) * (b[3] - b[1]);
	return sa < 2 * sb && sb < 2 * sa;
}

/* Mean side of a quadrilateral. */
static double
quad_side(const double *q)
{
	double s = 0;

	for (int i = 0; i < 4; i++) {
		int j = (i + 1) % 4;
		s += hypot(q[2 * j] - q[2 * i], q[2 * j + 1] - q[2 * i + 1]);
	}
	return s / 4;
}

static double
quad_dist(const double *qa, const double *qb)
{
	double ax = 0, ay = 0, bx = 0, by = 0;

	for (int i = 0; i < 4; i++) {
		ax += qa[2 * i] / 4;
		ay += qa[2 * i + 1] / 4;
		bx += qb[2 * i] / 4;
		by += qb[2 * i + 1] / 4;
	}
	return hypot(ax - bx, ay - by);
}

/* ---- reading the codes ----------------------------------------------- */

typedef struct found {
	qp_audit_code *v;
	size_t n, cap;
} found;

static qp_audit_code *
found_add(found *f)
{
	qp_audit_code *c;

	f->v = qp_grow(f->v, &f->cap, f->n + 1, sizeof *f->v);
	c = &f->v[f->n++];
	memset(c, 0, sizeof *c);
	c->row = -1;
	c->near_row = -1;
	c->distance_m = -1;
	return c;
}

/* ZXing first: in the photos tests/audit_rate.c makes it reads every
 * code zbar reads but one in 80, further away and at steeper angles,
 * in a sixth of the time, and it reports codes it located but could not
 * decode. */
static void
read_zxing(const qp_photo_image *im, found *f)
{
	qp_zx_codes zc;
	char why[256];

	if (!qp_zx_read(im->px, im->w, im->h, im->w, &zc, why, sizeof why))
		return;
	for (size_t i = 0; i < zc.n; i++) {
		const qp_zx_code *z = &zc.v[i];
		qp_audit_code *c = found_add(f);

		c->readers = QP_READ_ZXING;
		c->has_quad = true;
		for (int k = 0; k < 8; k++)
			c->quad[k] = z->quad[k] / im->scale;
		if (z->decoded) {
			c->len = z->len;
			c->payload = qp_xstrndup(z->data, z->len);
		}
	}
	qp_zx_codes_free(&zc);
}

/* Add a code zbar read, unless it is one already found: the same
 * payload in the same place only adds zbar's name; over a code located
 * but not decoded, it is that code, now read. */
static void
zbar_found(found *f, const char *data, unsigned len, const double *q,
    bool has_quad)
{
	qp_audit_code *c;

	for (size_t j = 0; j < f->n && has_quad; j++) {
		c = &f->v[j];
		if (!c->has_quad || !same_place(q, c->quad))
			continue;
		if (c->payload && c->len == len && memcmp(c->payload, data,
		    len) == 0) {
			c->readers |= QP_READ_ZBAR;
			return;
		}
		if (c->payload == NULL) {
			c->payload = qp_xstrndup(data, len);
			c->len = len;
			c->readers = QP_READ_ZBAR;
			memcpy(c->quad, q, 8 * sizeof *q);
			return;
		}
	}
	c = found_add(f);
	c->len = len;
	c->payload = qp_xstrndup(data, len);
	c->readers = QP_READ_ZBAR;
	c->has_quad = has_quad;
	if (has_quad)
		memcpy(c->quad, q, 8 * sizeof *q);
}

static void
read_zbar(qp_audit *a, const qp_photo_image *im, found *f)
{
	zbar_image_t *zi = zbar_image_create();
	const zbar_symbol_t *s;

	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)im->w, (unsigned)im->h);
	zbar_image_set_data(zi, im->px, (unsigned long)im->w * im->h, NULL);
	if (zbar_scan_image(a->zbar, zi) > 0)
		for (s = zbar_image_first_symbol(zi); s;
		    s = zbar_symbol_next(s)) {
			unsigned len = zbar_symbol_get_data_length(s);
			bool hq = zbar_symbol_get_loc_size(s) >= 4;
			double q[8] = {0};

			if (len == 0)
				continue;
			for (unsigned i = 0; hq && i < 4; i++) {
				q[2 * i] = zbar_symbol_get_loc_x(s, i) /
				    im->scale;
				q[2 * i + 1] = zbar_symbol_get_loc_y(s, i) /
				    im->scale;
			}
			zbar_found(f, zbar_symbol_get_data(s), len, q, hq);
		}
	zbar_image_destroy(zi);
}

/* Whether zbar should look too: when ZXing read nothing, or located a
 * code it could not read. zbar costs five times ZXing's time per photo
 * and adds nothing when ZXing read every code it saw. */
static bool
want_zbar(const qp_audit *a, const found *f)
{
	if (!(a->o.readers & QP_READ_ZBAR))
		return false;
	if (!(a->o.readers & QP_READ_ZXING) || f->n == 0)
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].payload == NULL)
			return true;
	return false;
}

/* Codes no reader could decode, located by their finder patterns: only
 * looked for when nothing decoded (too far away?) or a foreign code did
 * (is it over one of ours?). */
static void
read_finders(const qp_audit *a, const qp_photo_image *im, found *f)
{
	qp_qrfind q[8];
	size_t n;
	bool look = true;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].payload) {
			look = false;
			if (find_payload(a, f->v[i].payload, f->v[i].len) < 0) {
				look = true;
				break;
			}
		}
	if (!look)
		return;
	n = qp_qrfind_locate(im->px, im->w, im->h, 1.0, q, 8);
	for (size_t i = 0; i < n; i++) {
		qp_audit_code *c = found_add(f);

		c->has_quad = true;
		for (int k = 0; k < 8; k++)
			c->quad[k] = q[i].quad[k] / im->scale;
		c->module_px = q[i].module_px / im->scale;
	}
}

/* A code located twice (ZXing reports some symbols more than once)
 * counts once: drop undecoded codes over decoded ones. */
static void
dedupe(found *f)
{
	size_t k = 0;

	for (size_t i = 0; i < f->n; i++) {
		qp_audit_code *c = &f->v[i];
		bool dup = false;

		for (size_t j = 0; j < f->n && !dup; j++) {
			const qp_audit_code *o = &f->v[j];

			if (j == i || !c->has_quad || !o->has_quad ||
			    !same_place(c->quad, o->quad))
				continue;
			if (c->payload == NULL && o->payload != NULL)
				dup = true;
			else if (j < i && c->payload && o->payload &&
			    c->len == o->len && memcmp(c->payload, o->payload,
			    c->len) == 0)
				dup = true;
		}
		if (dup) {
			free(c->payload);
			continue;
		}
		f->v[k++] = *c;
	}
	f->n = k;
}

/* ---- classification -------------------------------------------------- */

/* The host of a URL payload, lower-cased, or "" (vars.c). */
static void
url_domain(const char *p, char *out, size_t outsz)
{
	(void)qp_url_host(p, out, outsz);
}

/* The row whose location is nearest (lat, lon), or -1. */
static long
nearest_row(const qp_audit *a, double lat, double lon, double *dist)
{
	long best = -1;
	double bd = 0;

	for (size_t i = 0; i < a->nrows; i++) {
		double d;

		if (!a->rows[i].has_loc)
			continue;
		d = qp_haversine_m(lat, lon, a->rows[i].lat, a->rows[i].lon);
		if (best < 0 || d < bd) {
			best = (long)i;
			bd = d;
		}
	}
	*dist = bd;
	return best;
}

static void set_why(qp_audit_code *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_why(qp_audit_code *c, const char *fmt, ...)
{
	va_list ap;
	char tmp[1];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0) {
		free(c->why);
		c->why = qp_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(c->why, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
}

static void
fmt_distance(char *out, size_t n, double m)
{
	if (m < 1000)
		snprintf(out, n, "%.0f m", m);
	else if (m < 100000)
		snprintf(out, n, "%.1f km", m / 1000);
	else
		snprintf(out, n, "%.0f km", m / 1000);
}

static const char *
row_label(const qp_audit_row *r, char *buf, size_t n)
{
	if (r->name && *r->name)
		snprintf(buf, n, "%s (%s)", r->code, r->name);
	else
		snprintf(buf, n, "%s", r->code);
	return buf;
}

/* A campaign domain: the host of the first row's payload. */
static void
campaign_domain(const qp_audit *a, char *out, size_t n)
{
	out[0] = '\0';
	if (a->nrows)
		url_domain(a->rows[0].payload, out, n);
}

static void
classify_known(qp_audit *a, qp_audit_photo *p, qp_audit_code *c, long row)
{
	qp_audit_row *r = &a->rows[row];
	char lab[256], dist[32];

	c->row = row;
	url_domain(c->payload, c->domain, sizeof c->domain);
	if (p->has_gps && r->has_loc) {
		c->distance_m = qp_haversine_m(p->lat, p->lon, r->lat, r->lon);
		fmt_distance(dist, sizeof dist, c->distance_m);
		if (c->distance_m > a->o.radius_m) {
			char nlab[256], ndist[32];

			c->kind = QP_AUDIT_WRONG_PLACE;
			c->near_row = nearest_row(a, p->lat, p->lon,
			    &c->near_m);
			fmt_distance(ndist, sizeof ndist, c->near_m);
			if (c->near_row >= 0 && c->near_row != row)
				set_why(c, "the poster of "
				    "%s, photographed %s from its location; "
				    "the photo was taken %s from %s", row_label(
				    r, lab, sizeof lab), dist, ndist, row_label(
				    &a->rows[c->near_row], nlab, sizeof nlab));
			else
				set_why(c, "the poster of "
				    "%s, photographed %s from its location",
				    row_label(r, lab, sizeof lab), dist);
			return;
		}
		c->kind = QP_AUDIT_OK;
		set_why(c, "%s, %s from its location",
		    row_label(r, lab, sizeof lab), dist);
		return;
	}
	c->kind = QP_AUDIT_OK;
	set_why(c, "%s; place not checked: %s",
	    row_label(r, lab, sizeof lab), !p->has_gps ? "the photo has no "
	    "GPS position" : "the location has no coordinates");
}

/* Foreign codes, once the known ones are classified: where they sit and
 * which row they are found at. */
static void
classify_foreign(qp_audit *a, qp_audit_photo *p, qp_audit_code *c)
{
	char camp[256], lab[256];
	long at = -1;
	double best = 0;
	bool known = false;

	c->kind = QP_AUDIT_FOREIGN;
	url_domain(c->payload, c->domain, sizeof c->domain);
	c->place = QP_PLACE_ALONE;
	for (size_t i = 0; i < p->ncodes; i++) {
		const qp_audit_code *o = &p->codes[i];
		bool is_known = o->row >= 0 && o->kind != QP_AUDIT_FOREIGN;
		bool undecoded = o->payload == NULL && o->has_quad;

		if (o == c || !(is_known || undecoded))
			continue;
		if (c->has_quad && o->has_quad && overlap(c->quad, o->quad) >
		    0.25) {
			c->place = QP_PLACE_ON_TOP;
			if (is_known)
				at = o->row;
			break;
		}
		if (is_known) {
			double d = c->has_quad && o->has_quad ?
			    quad_dist(c->quad, o->quad) : 0;
			known = true;
			if (at < 0 || d < best) {
				at = o->row;
				best = d;
			}
		}
	}
	if (c->place == QP_PLACE_ALONE && known)
		c->place = QP_PLACE_NEXT_TO;
	/* No known code beside it: the location the photo was taken at. */
	if (at < 0 && p->has_gps) {
		double d;
		long n = nearest_row(a, p->lat, p->lon, &d);

		if (n >= 0 && d <= a->o.radius_m)
			at = n;
	}
	c->row = at;
	campaign_domain(a, camp, sizeof camp);
	{
		qp_buf b;

		qp_buf_init(&b);
		if (!c->domain[0])
			qp_buf_adds(&b, "a code no row has, not a web link");
		else if (camp[0] && strcmp(camp, c->domain) != 0)
			qp_buf_printf(&b, "a code no row has, on another "
			    "domain: %s (the run's is %s)", c->domain, camp);
		else
			qp_buf_printf(&b, "a code no row has, on %s (another "
			    "run's poster, or an altered link)", c->domain);
		qp_buf_printf(&b, "; %s", qp_audit_place_name(c->place));
		if (at >= 0)
			qp_buf_printf(&b, " (at %s)", row_label(&a->rows[at],
			    lab, sizeof lab));
		free(c->why);
		c->why = qp_buf_steal(&b);
	}
	if (at >= 0) {
		qp_audit_row *r = &a->rows[at];

		r->foreign++;
		if (r->foreign_at == NULL)
			r->foreign_at = qp_xasprintf("%s in %s", c->domain[0] ?
			    c->domain : "not a link", p->path);
	}
}

/* Why a code was located but not decoded, or why none was found. */
static void
classify_unreadable(const qp_audit *a, const qp_audit_photo *p,
    qp_audit_code *c)
{
	c->kind = QP_AUDIT_UNREADABLE;
	if (!c->has_quad) {
		set_why(c, "no QR code found in the "
		    "photo");
		return;
	}
	/* The module size: measured on the finder patterns, or the code's
	 * side over the modules the run's codes have. */
	if (c->module_px <= 0 && a->o.code_modules > 0)
		c->module_px = quad_side(c->quad) / a->o.code_modules;
	if (c->module_px > 0 && a->o.code_m > 0 && a->o.code_modules > 0 &&
	    p->focal35 > 0 && p->width > 0) {
		/* Pinhole camera: size in pixels = focal length in pixels x
		 * size / distance; the 35 mm equivalent is to 43.27 mm, the
		 * diagonal of a 36 x 24 mm frame. */
		double f = p->focal35 / 43.2666 * hypot(p->width, p->height);

		c->taken_m = a->o.code_m / a->o.code_modules * f /
		    c->module_px;
	}
	/* Both readers need about 2.5 pixels a module; under 3, a little
	 * blur or JPEG loss is enough to lose it (tests/audit_rate.c). */
	if (c->module_px > 0 && c->module_px < 3) {
		char extra[160] = "";

		if (c->taken_m > 0 && a->o.scan_distance_m > 0)
			snprintf(extra, sizeof extra, "; taken from about "
			    "%.1f m, the template's scan distance is %.1f m",
			    c->taken_m, a->o.scan_distance_m);
		else if (c->taken_m > 0)
			snprintf(extra, sizeof extra, "; taken from about "
			    "%.1f m", c->taken_m);
		set_why(c, "too far away: the code's "
		    "modules are %.1f pixels wide in the photo (readers need "
		    "about 3)%s", c->module_px, extra);
		return;
	}
	set_why(c, "a QR code is there but does not "
	    "decode: blur, glare, a steep angle, damage or a sticker over "
	    "part of it");
}

static int
kind_rank(qp_audit_kind k)
{
	switch (k) {
	case QP_AUDIT_FOREIGN: return 4;
	case QP_AUDIT_WRONG_PLACE: return 3;
	case QP_AUDIT_OK: return 2;
	case QP_AUDIT_BAD_FILE: return 1;
	case QP_AUDIT_UNREADABLE: return 0;
	}
	return 0;
}

qp_audit_photo *
qp_audit_photo_run(qp_audit *a, const char *path)
{
	qp_audit_photo *p = qp_xcalloc(1, sizeof *p);
	qp_photo_image im;
	qp_error err;
	found f = {0};
	bool any_decoded = false;

	p->path = qp_xstrdup(path);
	err.msg[0] = '\0';
	p->file = qp_photo_load(path, &a->o.limits, &im, &err);
	p->format = im.format;
	p->width = im.full_w;
	p->height = im.full_h;
	p->has_time = im.has_time;
	memcpy(p->time, im.time, sizeof p->time);
	p->has_gps = im.has_gps;
	p->lat = im.lat;
	p->lon = im.lon;
	p->focal35 = im.focal35;
	if (p->file != QP_PHOTO_OK)
		snprintf(p->file_msg, sizeof p->file_msg, "%s", err.msg);
	if (im.px) {
		if (a->o.readers & QP_READ_ZXING)
			read_zxing(&im, &f);
		if (want_zbar(a, &f))
			read_zbar(a, &im, &f);
		read_finders(a, &im, &f);
		dedupe(&f);
		if (a->o.thumb_side > 0)
			(void)qp_photo_thumbnail(&im, a->o.thumb_side, 70,
			    &p->thumb, &p->thumb_len, &p->thumb_w,
			    &p->thumb_h);
	}
	qp_photo_image_free(&im);
	p->codes = f.v;
	p->ncodes = f.n;
	/* Known codes first: foreign ones are placed relative to them. */
	for (size_t i = 0; i < p->ncodes; i++) {
		qp_audit_code *c = &p->codes[i];
		long row;

		if (c->payload == NULL)
			continue;
		any_decoded = true;
		row = find_payload(a, c->payload, c->len);
		if (row >= 0)
			classify_known(a, p, c, row);
	}
	for (size_t i = 0; i < p->ncodes; i++) {
		qp_audit_code *c = &p->codes[i];

		if (c->payload && c->row < 0 && c->kind == QP_AUDIT_OK)
			classify_foreign(a, p, c);
		else if (c->payload == NULL)
			classify_unreadable(a, p, c);
	}
	/* A code located under a foreign one: say so. */
	for (size_t i = 0; i < p->ncodes; i++) {
		qp_audit_code *c = &p->codes[i];

		if (c->kind != QP_AUDIT_UNREADABLE || !c->has_quad)
			continue;
		for (size_t j = 0; j < p->ncodes; j++)
			if (p->codes[j].kind == QP_AUDIT_FOREIGN &&
			    p->codes[j].has_quad && overlap(c->quad,
			    p->codes[j].quad) > 0.25) {
				set_why(c, "a QR code under code %zu (the "
				    "foreign one): the poster's own, with a "
				    "sticker over it?", j + 1);
				break;
			}
	}
	if (p->ncodes == 0) {
		qp_audit_code *c;

		f.v = p->codes;
		f.n = f.cap = 0;
		c = found_add(&f);
		p->codes = f.v;
		p->ncodes = 1;
		if (p->file != QP_PHOTO_OK) {
			c->kind = QP_AUDIT_BAD_FILE;
			set_why(c, "%s", p->file_msg);
		} else
			classify_unreadable(a, p, c);
	}
	/* The photo's status: the most urgent of its codes; a damaged file
	 * with nothing found in it is a bad file. */
	p->status = p->codes[0].kind;
	for (size_t i = 1; i < p->ncodes; i++)
		if (kind_rank(p->codes[i].kind) > kind_rank(p->status))
			p->status = p->codes[i].kind;
	if (p->status == QP_AUDIT_UNREADABLE && p->file != QP_PHOTO_OK &&
	    !any_decoded)
		p->status = QP_AUDIT_BAD_FILE;
	for (size_t i = 0; i < p->ncodes; i++) {
		qp_audit_code *c = &p->codes[i];

		if (c->kind == QP_AUDIT_OK) {
			qp_audit_row *r = &a->rows[c->row];
			r->ok++;
			if (r->first_ok == NULL)
				r->first_ok = qp_xstrdup(path);
		} else if (c->kind == QP_AUDIT_WRONG_PLACE)
			a->rows[c->row].wrong_place++;
	}
	a->photos++;
	a->by_kind[p->status]++;
	return p;
}

void
qp_audit_photo_free(qp_audit_photo *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ncodes; i++) {
		free(p->codes[i].payload);
		free(p->codes[i].why);
	}
	free(p->codes);
	free(p->thumb);
	free(p->path);
	free(p);
}
