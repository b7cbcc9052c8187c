/*
 * audit_rate.c - how often audit reads a poster's code, by distance and
 * angle, and how long a photo takes: the measuring program behind the
 * table in the audit notes (not part of the timed suite; `make
 * audit-rate` builds and runs it).
 *
 * It renders the restroom poster with ./qrposter, photographs it with
 * tests/photosim.c (12 MP, 26 mm equivalent, blur, noise, JPEG) from each
 * distance at each angle, a few times with different noise and camera
 * roll, and decodes each photo with libzbar alone, ZXing alone and both,
 * through the audit library (the same calls qrposter audit makes).
 *
 *   audit-rate [REPEATS]           the table
 *   audit-rate one DIST YAW [BLUR] one photo, kept as /tmp/audit-one.jpg
 *   audit-rate field N             a field run: N photos of a run over
 *                                  the shared station list (STATIONS=
 *                                  path), audited with qrposter audit,
 *                                  every photo's and row's status
 *                                  compared with what was photographed
 *   audit-rate fixture DIR         a few photos, manifests and locations
 *                                  in DIR for the browser test of the
 *                                  HTML report
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "data.h"
#include "qr.h"
#include "photosim.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "audit-rate: '%s' failed\n", cmd);
	return rc;
}

/* A poster and its manifest, in dir. */
static bool
setup(const char *dir, const char *bin)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd, "printf 'code,name\\nABE-R1,Aberdeen\\n' > "
	    "%s/loc.csv && %s batch -q -d %s/loc.csv -o '%s/{{code}}.pdf' && "
	    "%s render -t restroom-letter -s code=ABE-R1 -s name=Aberdeen "
	    "--dpi 200 -o %s/poster.png", dir, bin, dir, dir, bin, dir);
	return sh(cmd) == 0;
}

typedef struct cell {
	int read[3];
	int n;
	double secs[3];
} cell;

static int
count_ok(qp_audit *a, const char *path, double *secs)
{
	double t0 = now();
	qp_audit_photo *p = qp_audit_photo_run(a, path);
	int ok = p->status == QP_AUDIT_OK;

	*secs += now() - t0;
	qp_audit_photo_free(p);
	return ok;
}

/* ---- field run ------------------------------------------------------- */

#define MAXST 64

typedef struct station {
	char code[16], name[96];
	double lat, lon;
	cairo_surface_t *img;
	double box[4];
	int ok, sticker; /* photos taken of each kind */
} station;

typedef struct expect {
	char path[4096];
	const char *status;
} expect;

static int
load_stations(const char *path, station *st, int max)
{
	qp_error err;
	qp_data *d = qp_data_open(path, &err);
	qp_record r;
	long cc, cn, la, lo;
	int n = 0;

	if (d == NULL) {
		fprintf(stderr, "audit-rate: %s\n", err.msg);
		return 0;
	}
	cc = qp_data_col_index(d, "code");
	cn = qp_data_col_index(d, "name");
	la = qp_data_col_index(d, "lat");
	lo = qp_data_col_index(d, "lon");
	while (n < max && cc >= 0 && la >= 0 && lo >= 0 &&
	    qp_data_next(d, &r, &err) == 1) {
		snprintf(st[n].code, sizeof st[n].code, "%s", r.fields[cc]);
		snprintf(st[n].name, sizeof st[n].name, "%s", cn >= 0 ?
		    r.fields[cn] : "");
		st[n].lat = atof(r.fields[la]);
		st[n].lon = atof(r.fields[lo]);
		n++;
	}
	qp_data_close(d);
	return n;
}

/* The poster of station s on the wall, aimed at its code. */
static ps_poster
hang_st(const station *s, cairo_surface_t *img)
{
	ps_poster p;
	int w = cairo_image_surface_get_width(s->img);
	int h = cairo_image_surface_get_height(s->img);
	double mpp = 8.5 * 0.0254 / w;

	p.img = img ? img : s->img;
	p.width_m = 8.5 * 0.0254;
	p.wx = 0;
	p.wy = -((s->box[1] + s->box[3] / 2) - h / 2.0) * mpp;
	return p;
}

static const char *
csv_cell(qp_data *d, const qp_record *r, const char *col)
{
	long c = qp_data_col_index(d, col);

	return c >= 0 ? r->fields[c] : "";
}

static int
field(int n, const char *bin)
{
	const char *stpath = getenv("STATIONS") ? getenv("STATIONS") :
	    "../shared/data/stations.csv";
	static station st[MAXST];
	enum { K = 40 };
	char dir[] = "/tmp/audit-field-XXXXXX", cmd[8192], path[16384];
	expect *ex = calloc((size_t)n, sizeof *ex);
	cairo_surface_t *sticker;
	int k = load_stations(stpath, st, K), good = 0, rgood = 0;
	double t0, secs;
	qp_error err;
	qp_data *d;
	qp_record r;
	struct rusage ru;
	FILE *fp;

	if (k < 2 || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/loc.csv", dir);
	fp = fopen(path, "w");
	fprintf(fp, "code,name,lat,lon\n");
	for (int i = 0; i < k; i++)
		fprintf(fp, "%s,\"%s\",%.6f,%.6f\n", st[i].code, st[i].name,
		    st[i].lat, st[i].lon);
	fclose(fp);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/run %s/png %s/photos %s/out && "
	    "%s batch -q -d %s/loc.csv -o '%s/run/{{code}}.pdf' && "
	    "%s batch -q -d %s/loc.csv --dpi 150 -o '%s/png/{{code}}.png' && "
	    "%s qr --size 1in --dpi 300 -o %s/sticker.png "
	    "'https://qr-pay.example.net/p/8812'", dir, dir, dir, dir, bin,
	    dir, dir, bin, dir, dir, bin, dir);
	if (sh(cmd) != 0)
		return 1;
	for (int i = 0; i < k; i++) {
		snprintf(path, sizeof path, "%s/png/%s.png", dir, st[i].code);
		st[i].img = ps_load_png(path);
		if (st[i].img == NULL || !ps_find_code(st[i].img, st[i].box))
			return 1;
	}
	snprintf(path, sizeof path, "%s/sticker.png", dir);
	sticker = ps_load_png(path);
	for (int i = 0; i < n; i++) {
		int s = (i * 17) % k, kind = (i * 37) % 100;
		station *at = &st[s];
		ps_shot sh0 = {0};
		ps_poster po = hang_st(at, NULL);
		cairo_surface_t *copy = NULL;
		size_t np = 1;

		sh0.distance_m = 0.7 + 0.1 * (i % 12);
		sh0.yaw_deg = -45 + (i * 13) % 91;
		sh0.roll_deg = -15 + (i * 7) % 31;
		sh0.pitch_deg = -8 + (i * 5) % 17;
		sh0.blur_px = 1 + (i % 3 == 0);
		sh0.noise = 3 + i % 4;
		sh0.glare = i % 5 == 0 ? 0.3 : 0;
		sh0.seed = (unsigned)i;
		sh0.gps = true;
		sh0.lat = at->lat + 0.0002 * ((i % 5) - 2);
		sh0.lon = at->lon - 0.0002 * ((i % 3) - 1);
		sh0.time = "2026:11:30 10:00:00";
		snprintf(ex[i].path, sizeof ex[i].path, "%s/photos/%04d.jpg",
		    dir, i);
		if (kind < 60) {
			ex[i].status = "ok";
			at->ok++;
		} else if (kind < 70) {
			/* Station s's poster photographed at another. */
			const station *o = &st[(s + 7) % k];
			ex[i].status = "wrong place";
			sh0.lat = o->lat;
			sh0.lon = o->lon;
		} else if (kind < 80) {
			int w = cairo_image_surface_get_width(at->img);
			int h = cairo_image_surface_get_height(at->img);
			cairo_t *cr;

			copy = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
			cr = cairo_create(copy);
			cairo_set_source_surface(cr, at->img, 0, 0);
			cairo_paint(cr);
			cairo_destroy(cr);
			ps_paste(copy, sticker, at->box[0] + at->box[2] / 2,
			    at->box[1] + at->box[3] / 2, at->box[2] * 0.6, 0);
			po.img = copy;
			sh0.distance_m = 0.8 + 0.1 * (i % 4);
			sh0.yaw_deg /= 2;
			ex[i].status = "foreign code";
			at->sticker++;
		} else if (kind < 88) {
			sh0.distance_m = 4.5 + 0.25 * (i % 6);
			ex[i].status = "unreadable";
		} else if (kind < 94) {
			np = 0;
			ex[i].status = "unreadable";
		} else {
			ex[i].status = "bad file";
		}
		if (!ps_photo(ex[i].path, &po, np, &sh0))
			return 1;
		if (strcmp(ex[i].status, "bad file") == 0) {
			/* The first 40% of the file: a transfer cut short. */
			struct stat sb;
			if (stat(ex[i].path, &sb) == 0 &&
			    truncate(ex[i].path, sb.st_size * 2 / 5) != 0)
				return 1;
		}
		cairo_surface_destroy(copy);
	}
	snprintf(cmd, sizeof cmd, "%s audit -q -m %s/run/manifest.csv -d "
	    "%s/loc.csv -t restroom-letter -o %s/out %s/photos", bin, dir, dir,
	    dir, dir);
	t0 = now();
	(void)system(cmd);
	secs = now() - t0;
	getrusage(RUSAGE_CHILDREN, &ru);
	snprintf(path, sizeof path, "%s/out/audit-photos.csv", dir);
	d = qp_data_open(path, &err);
	if (d == NULL)
		return 1;
	{
		char last[4096] = "";
		while (qp_data_next(d, &r, &err) == 1) {
			const char *ph = csv_cell(d, &r, "photo");
			const char *got = csv_cell(d, &r, "photo_status");

			if (strcmp(ph, last) == 0)
				continue;
			snprintf(last, sizeof last, "%s", ph);
			for (int i = 0; i < n; i++)
				if (strcmp(ex[i].path, ph) == 0) {
					if (strcmp(ex[i].status, got) == 0)
						good++;
					else
						printf("photo %s: expected %s, "
						    "got %s: %s\n", ph,
						    ex[i].status, got,
						    csv_cell(d, &r, "reason"));
				}
		}
	}
	qp_data_close(d);
	snprintf(path, sizeof path, "%s/out/audit-rows.csv", dir);
	d = qp_data_open(path, &err);
	if (d == NULL)
		return 1;
	while (qp_data_next(d, &r, &err) == 1) {
		const char *code = csv_cell(d, &r, "code");
		const char *got = csv_cell(d, &r, "status");

		for (int i = 0; i < k; i++)
			if (strcmp(st[i].code, code) == 0) {
				const char *want = st[i].ok == 0 ? "missing" :
				    st[i].sticker ? "conflict" : "installed";
				if (strcmp(want, got) == 0)
					rgood++;
				else
					printf("row %s: expected %s, got %s\n",
					    code, want, got);
			}
	}
	qp_data_close(d);
	printf("field run: %d photos of %d stations: %d photo statuses "
	    "right, %d of %d row statuses right; audit %.1f s, %.0f ms a "
	    "photo, peak memory %ld MB\n", n, k, good, rgood, k, secs,
	    secs * 1000 / n, ru.ru_maxrss / 1024);
	for (int i = 0; i < k; i++)
		cairo_surface_destroy(st[i].img);
	cairo_surface_destroy(sticker);
	free(ex);
	if (getenv("KEEP"))
		printf("kept %s\n", dir);
	else {
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		sh(cmd);
	}
	return good == n && rgood == k ? 0 : 1;
}

/* The browser test's report: three stations, four photos (ok, a
 * sticker over the same poster, a poster at the wrong station, one from
 * too far), audited into DIR/out. */
static int
fixture(const char *dir, const char *bin)
{
	static station st[3] = {
		{"ABE", "Aberdeen", 39.508455, -76.163262, NULL, {0}, 0, 0},
		{"BAL", "Baltimore", 39.307310, -76.615690, NULL, {0}, 0, 0},
		{"WAS", "Washington", 38.897001, -77.006424, NULL, {0}, 0, 0},
	};
	char cmd[8192], path[8192];
	cairo_surface_t *sticker, *copy;
	FILE *fp;
	cairo_t *cr;
	int w, h;
	struct {
		int poster, at;
		double dist;
		bool stick;
		const char *name;
	} shots[] = {
		{0, 0, 1.0, false, "01-abe.jpg"},
		{0, 0, 1.0, true, "02-abe-sticker.jpg"},
		{2, 1, 1.2, false, "03-was-at-bal.jpg"},
		{1, 1, 4.5, false, "04-bal-far.jpg"},
	};

	snprintf(path, sizeof path, "%s/loc.csv", dir);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/run %s/png %s/photos %s/out",
	    dir, dir, dir, dir);
	if (sh(cmd) != 0 || (fp = fopen(path, "w")) == NULL)
		return 1;
	fprintf(fp, "code,name,lat,lon\n");
	for (int i = 0; i < 3; i++)
		fprintf(fp, "%s,%s,%.6f,%.6f\n", st[i].code, st[i].name,
		    st[i].lat, st[i].lon);
	fclose(fp);
	snprintf(cmd, sizeof cmd, "%s batch -q -d %s/loc.csv -o "
	    "'%s/run/{{code}}.pdf' && %s batch -q -d %s/loc.csv --dpi 150 -o "
	    "'%s/png/{{code}}.png' && %s qr --size 1in --dpi 300 -o "
	    "%s/sticker.png 'https://qr-pay.example.net/p/8812'", bin, dir,
	    dir, bin, dir, dir, bin, dir);
	if (sh(cmd) != 0)
		return 1;
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/png/%s.png", dir, st[i].code);
		st[i].img = ps_load_png(path);
		if (st[i].img == NULL || !ps_find_code(st[i].img, st[i].box))
			return 1;
	}
	snprintf(path, sizeof path, "%s/sticker.png", dir);
	sticker = ps_load_png(path);
	w = cairo_image_surface_get_width(st[0].img);
	h = cairo_image_surface_get_height(st[0].img);
	copy = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cr = cairo_create(copy);
	cairo_set_source_surface(cr, st[0].img, 0, 0);
	cairo_paint(cr);
	cairo_destroy(cr);
	ps_paste(copy, sticker, st[0].box[0] + st[0].box[2] / 2, st[0].box[1] +
	    st[0].box[3] / 2, st[0].box[2] * 0.6, 0);
	for (size_t i = 0; i < sizeof shots / sizeof shots[0]; i++) {
		ps_shot s = {0};
		ps_poster po = hang_st(&st[shots[i].poster], shots[i].stick ?
		    copy : NULL);

		s.distance_m = shots[i].dist;
		s.yaw_deg = 15;
		s.blur_px = 1;
		s.noise = 4;
		s.gps = true;
		s.lat = st[shots[i].at].lat + 0.0002;
		s.lon = st[shots[i].at].lon;
		s.time = "2026:11:30 10:00:00";
		snprintf(path, sizeof path, "%s/photos/%s", dir, shots[i].name);
		if (!ps_photo(path, &po, 1, &s))
			return 1;
	}
	cairo_surface_destroy(copy);
	cairo_surface_destroy(sticker);
	for (int i = 0; i < 3; i++)
		cairo_surface_destroy(st[i].img);
	snprintf(cmd, sizeof cmd, "%s audit -q -m %s/run/manifest.csv -d "
	    "%s/loc.csv -t restroom-letter -o %s/out %s/photos", bin, dir, dir,
	    dir, dir);
	return WEXITSTATUS(system(cmd)) == 5 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *bin = getenv("QRPOSTER") ? getenv("QRPOSTER") :
	    "./qrposter";
	static const double dists[] = {0.5, 1, 1.5, 2, 2.5, 3, 4, 5};
	static const double yaws[] = {0, 30, 45, 60, 70};
	enum { ND = sizeof dists / sizeof dists[0],
	    NY = sizeof yaws / sizeof yaws[0] };
	static const unsigned readers[3] = {QP_READ_ZBAR, QP_READ_ZXING,
	    QP_READ_ZBAR | QP_READ_ZXING};
	char dir[] = "/tmp/audit-rate-XXXXXX", path[4096], manifest[4096];
	cell cells[ND][NY];
	qp_audit *a[3];
	qp_error err;
	cairo_surface_t *poster;
	ps_poster po;
	double box[4], px_per_m, code_m;
	int repeats = argc > 1 && strcmp(argv[1], "one") ? atoi(argv[1]) : 3;
	bool one = argc > 3 && strcmp(argv[1], "one") == 0;
	struct rusage ru;
	qp_qr *q = qp_qr_encode("https://humantraffickinghotline.org/?loc=ABE-R1",
	    1, &err);
	int modules = q ? q->width : 33;

	qp_qr_free(q);

	if (argc > 2 && strcmp(argv[1], "field") == 0)
		return field(atoi(argv[2]), bin);
	if (argc > 2 && strcmp(argv[1], "fixture") == 0)
		return fixture(argv[2], bin);
	if (mkdtemp(dir) == NULL || !setup(dir, bin))
		return 1;
	snprintf(path, sizeof path, "%s/poster.png", dir);
	snprintf(manifest, sizeof manifest, "%s/manifest.csv", dir);
	poster = ps_load_png(path);
	if (poster == NULL || !ps_find_code(poster, box)) {
		fprintf(stderr, "audit-rate: no code in the poster\n");
		return 1;
	}
	/* Letter: 8.5 in wide. */
	px_per_m = cairo_image_surface_get_width(poster) / (8.5 * 0.0254);
	code_m = box[2] / px_per_m;
	po.img = poster;
	po.width_m = 8.5 * 0.0254;
	po.wx = 0;
	/* Aim at the code, which is below the poster's centre. */
	po.wy = -((box[1] + box[3] / 2) - cairo_image_surface_get_height(
	    poster) / 2.0) / px_per_m;
	for (int r = 0; r < 3; r++) {
		qp_audit_opts o = QP_AUDIT_OPTS_DEFAULT;

		o.readers = readers[r];
		o.thumb_side = 0;
		a[r] = qp_audit_new(&o);
		if (!qp_audit_add_manifest(a[r], manifest, &err)) {
			fprintf(stderr, "audit-rate: %s\n", err.msg);
			return 1;
		}
	}
	if (one) {
		ps_shot s = {0};
		double t = 0;

		s.distance_m = atof(argv[2]);
		s.yaw_deg = atof(argv[3]);
		s.blur_px = argc > 4 ? atof(argv[4]) : 1;
		s.noise = 4;
		s.gps = true;
		s.lat = 39.508455;
		s.lon = -76.163262;
		s.time = "2026:11:30 10:15:00";
		ps_photo("/tmp/audit-one.jpg", &po, 1, &s);
		for (int r = 0; r < 3; r++) {
			int ok = count_ok(a[r], "/tmp/audit-one.jpg", &t);
			printf("%s: %s (%.0f ms)\n", r == 0 ? "zbar" : r == 1 ?
			    "zxing" : "both", ok ? "read" : "not read",
			    t * 1000);
			t = 0;
		}
		return 0;
	}
	memset(cells, 0, sizeof cells);
	printf("code %.1f cm wide (%.0f px at 200 dpi); 12 MP, 26 mm "
	    "equivalent; blur 1 px, noise 4, JPEG q88; %d photos a cell\n",
	    code_m * 100, box[2], repeats);
	for (int d = 0; d < ND; d++)
		for (int y = 0; y < NY; y++)
			for (int k = 0; k < repeats; k++) {
				ps_shot s = {0};
				cell *c = &cells[d][y];

				s.distance_m = dists[d];
				s.yaw_deg = yaws[y];
				s.roll_deg = -12 + 11 * k;
				s.pitch_deg = 5 * (k % 2);
				s.blur_px = 1;
				s.noise = 4;
				s.seed = (unsigned)(d * 100 + y * 10 + k);
				snprintf(path, sizeof path, "%s/p.jpg", dir);
				if (!ps_photo(path, &po, 1, &s))
					return 1;
				for (int r = 0; r < 3; r++)
					c->read[r] += count_ok(a[r], path,
					    &c->secs[r]);
				c->n++;
			}
	printf("\n| distance | module px |");
	for (int y = 0; y < NY; y++)
		printf(" %2.0f° zbar/zxing/both |", yaws[y]);
	printf("\n|---|---|");
	for (int y = 0; y < NY; y++)
		printf("---|");
	printf("\n");
	for (int d = 0; d < ND; d++) {
		/* Module size at 0°: the code's pixels over its modules. */
		ps_shot s = {0};
		double f = ps_focal_px(&s);
		printf("| %.1f m | %.1f |", dists[d], code_m * f / dists[d] /
		    modules);
		for (int y = 0; y < NY; y++) {
			cell *c = &cells[d][y];
			printf(" %d/%d/%d of %d |", c->read[0], c->read[1],
			    c->read[2], c->n);
		}
		printf("\n");
	}
	{
		double t[3] = {0};
		int n = 0;
		for (int d = 0; d < ND; d++)
			for (int y = 0; y < NY; y++) {
				for (int r = 0; r < 3; r++)
					t[r] += cells[d][y].secs[r];
				n += cells[d][y].n;
			}
		printf("\ntime a photo (JPEG decode + readers): zbar %.0f ms, "
		    "zxing %.0f ms, both %.0f ms\n", t[0] * 1000 / n,
		    t[1] * 1000 / n, t[2] * 1000 / n);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("peak memory %ld MB\n", ru.ru_maxrss / 1024);
	for (int r = 0; r < 3; r++)
		qp_audit_free(a[r]);
	cairo_surface_destroy(poster);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	return sh(path);
}
