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
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
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
