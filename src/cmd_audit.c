/*
 * cmd_audit.c - "qrposter audit": installers' photos + the run's
 * manifest -> which posters are up, where, and what is stuck over them.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "datadir.h"
#include "qr.h"
#include "template.h"

static void
audit_usage(FILE *fp)
{
	fputs("usage: qrposter audit -m MANIFEST.csv [-m ...] [-d LOCATIONS.csv] "
	    "[OPTIONS] PHOTO|FOLDER...\n\n"
	    "Check installers' photos against a print run: every QR code in "
	    "each photo\n"
	    "(JPEG or PNG; folders are searched) is ok, in the wrong place "
	    "(its EXIF\n"
	    "GPS farther than --radius from its location), a foreign code "
	    "(a payload\n"
	    "no row has: a sticker?) or unreadable; every location is "
	    "installed,\n"
	    "missing or in conflict (an ok photo and a foreign code). "
	    "Writes\n"
	    "audit.html, audit-photos.csv and audit-rows.csv.\n\n"
	    "  -m, --manifest FILE  a batch manifest; repeat for shards or "
	    "runs\n"
	    "  -d, --data CSV       the locations: code, and lat,lon in "
	    "decimal degrees\n"
	    "  -t, --template T     the posters' template: the code's "
	    "printed size and\n"
	    "                       scan distance, to say when a photo was "
	    "too far away\n"
	    "  -o, --output DIR     where the reports go (default output)\n"
	    "      --radius DIST    ok within this of the location (default "
	    "500m)\n"
	    "      --max-pixels MP  refuse images larger than this (default "
	    "100)\n"
	    "      --no-thumbnails  no pictures in the HTML report\n"
	    "  -q, --quiet          print nothing but errors\n"
	    "  -h, --help           show this help\n\n"
	    "Exit status: 0 every location installed and every photo ok; 4 "
	    "locations\n"
	    "missing or photos unreadable or bad; 5 a foreign code, a "
	    "poster in the\n"
	    "wrong place or a conflict; 1 an error; 2 a bad command line.\n",
	    fp);
}

enum { OPT_RADIUS = 256, OPT_MAXPX, OPT_NOTHUMB };

static const struct option audit_longopts[] = {
	{"manifest", required_argument, NULL, 'm'},
	{"data", required_argument, NULL, 'd'},
	{"template", required_argument, NULL, 't'},
	{"output", required_argument, NULL, 'o'},
	{"radius", required_argument, NULL, OPT_RADIUS},
	{"max-pixels", required_argument, NULL, OPT_MAXPX},
	{"no-thumbnails", no_argument, NULL, OPT_NOTHUMB},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static bool
parse_radius(const char *s, double *m)
{
	size_t n = strlen(s);
	qp_error err;

	if (qp_parse_number(s, n, m) ||
	    (n > 2 && strcmp(s + n - 2, "km") == 0 &&
	    qp_parse_number(s, n - 2, m) && (*m *= 1000, true)) ||
	    qp_parse_metres(s, m, &err)) {
		if (*m > 0 && *m <= 20000e3)
			return true;
	}
	qp_cli_error("--radius '%s': expected a distance such as 500m or "
	    "2km", s);
	return false;
}

/* The printed code's size and scan distance from the template's first
 * QR block; the modules per side from the first row's payload. */
static bool
template_code(const char *arg, qp_audit *a)
{
	qp_error err;
	qp_template *t = qp_template_open(arg, &err);
	const qp_audit_row *r = qp_audit_row_at(a, 0);

	if (t == NULL) {
		qp_cli_error("%s", err.msg);
		return false;
	}
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];
		qp_qr *q;

		if (b->kind != QP_BLOCK_QR)
			continue;
		if (r && (q = qp_qr_encode(r->payload, b->u.qr.ecc, &err))) {
			/* The box holds the code and its quiet zone. */
			qp_audit_set_code(a, b->box.w / QP_PT_PER_IN * 0.0254 *
			    q->width / (q->width + 2.0 * b->u.qr.quiet_zone),
			    q->width, b->u.qr.scan_distance);
			qp_qr_free(q);
		}
		break;
	}
	qp_template_free(t);
	return true;
}

typedef struct run {
	qp_audit *a;
	qp_audit_report *rep;
	bool quiet;
	bool failed;
	double seconds;
} run;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
one_photo(run *r, const char *path)
{
	double t0 = now();
	qp_audit_photo *p = qp_audit_photo_run(r->a, path);
	qp_error err;

	r->seconds += now() - t0;
	if (!qp_audit_report_photo(r->rep, r->a, p, &err)) {
		qp_cli_error("%s", err.msg);
		r->failed = true;
	}
	if (!r->quiet)
		for (size_t i = 0; i < p->ncodes; i++) {
			const qp_audit_code *c = &p->codes[i];
			char *msg;

			if (c->kind == QP_AUDIT_OK)
				continue;
			/* An unreadable pattern beside codes that read is a
			 * note in the report, not news. */
			if (c->kind == QP_AUDIT_UNREADABLE &&
			    p->status != QP_AUDIT_UNREADABLE)
				continue;
			msg = qp_xasprintf("%s: %s: %s", path,
			    qp_audit_kind_name(c->kind), c->why ? c->why : "");
			qp_cli_puts("", msg);
			free(msg);
		}
	qp_audit_photo_free(p);
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every file under dir, in name order; hidden entries and symbolic
 * links to folders are skipped (a link loop must not hang the run). */
static void
walk(run *r, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		qp_cli_error("%s: %s", dir, strerror(errno));
		r->failed = true;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = qp_grow(names, &cap, n + 1, sizeof *names);
		names[n++] = qp_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *p = qp_xasprintf("%s/%s", dir, names[i]);
		struct stat st, lst;

		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (lstat(p, &lst) == 0 && !S_ISLNK(lst.st_mode) &&
			    depth < 32)
				walk(r, p, depth + 1);
		} else
			one_photo(r, p);
		free(p);
		free(names[i]);
	}
	free(names);
}

int
qp_cmd_audit(int argc, char **argv)
{
	qp_audit_opts o = QP_AUDIT_OPTS_DEFAULT;
	const char **manifests = NULL, *data = NULL, *tmpl = NULL;
	const char *outdir = NULL;
	size_t nmanifests = 0, capmanifests = 0;
	bool quiet = false;
	qp_error err;
	qp_audit_totals t;
	run r = {0};
	int c, status;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:d:t:o:qh", audit_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'm':
			manifests = qp_grow(manifests, &capmanifests,
			    nmanifests + 1, sizeof *manifests);
			manifests[nmanifests++] = optarg;
			break;
		case 'd': data = optarg; break;
		case 't': tmpl = optarg; break;
		case 'o': outdir = optarg; break;
		case 'q': quiet = true; break;
		case OPT_NOTHUMB: o.thumb_side = 0; break;
		case OPT_RADIUS:
			if (!parse_radius(optarg, &o.radius_m)) {
				free(manifests);
				return QP_EXIT_USAGE;
			}
			break;
		case OPT_MAXPX:
			if (!qp_parse_number(optarg, strlen(optarg),
			    &o.limits.max_pixels) || o.limits.max_pixels < 1 ||
			    o.limits.max_pixels > 1000) {
				qp_cli_error("--max-pixels '%s': expected "
				    "megapixels from 1 to 1000", optarg);
				free(manifests);
				return QP_EXIT_USAGE;
			}
			o.limits.max_pixels *= 1e6;
			if (o.limits.decode_pixels > o.limits.max_pixels)
				o.limits.decode_pixels = o.limits.max_pixels;
			break;
		case 'h':
			audit_usage(stdout);
			free(manifests);
			return QP_EXIT_OK;
		default:
			qp_cli_bad_option("audit", argv, c);
			free(manifests);
			return QP_EXIT_USAGE;
		}
	}
	if (nmanifests == 0 || optind >= argc) {
		qp_cli_error("audit: %s (see 'qrposter audit --help')",
		    nmanifests == 0 ? "give the run's manifest with -m" :
		    "give the photos (files or folders)");
		free(manifests);
		return QP_EXIT_USAGE;
	}
	r.quiet = quiet;
	r.a = qp_audit_new(&o);
	for (size_t i = 0; i < nmanifests; i++)
		if (!qp_audit_add_manifest(r.a, manifests[i], &err)) {
			qp_cli_error("%s", err.msg);
			goto fail;
		}
	free(manifests);
	manifests = NULL;
	if (qp_audit_nrows(r.a) == 0) {
		qp_cli_error("audit: the manifests list no printed poster");
		goto fail;
	}
	if (data && !qp_audit_add_locations(r.a, data, &err)) {
		qp_cli_error("%s", err.msg);
		goto fail;
	}
	if (tmpl && !template_code(tmpl, r.a))
		goto fail;
	if (outdir == NULL) {
		outdir = "output";
		qp_cli_default_dir(outdir);
	}
	r.rep = qp_audit_report_open(outdir, &err);
	if (r.rep == NULL) {
		qp_cli_error("%s", err.msg);
		goto fail;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			walk(&r, argv[i], 0);
		else
			one_photo(&r, argv[i]);
	}
	if (!qp_audit_report_close(r.rep, r.a, &err)) {
		r.rep = NULL;
		qp_cli_error("%s", err.msg);
		goto fail;
	}
	r.rep = NULL;
	qp_audit_get_totals(r.a, &t);
	if (!quiet) {
		fprintf(stderr, "audit: %zu photos: %zu ok, %zu wrong place, "
		    "%zu foreign code, %zu unreadable, %zu bad file",
		    t.photos, t.by_kind[QP_AUDIT_OK],
		    t.by_kind[QP_AUDIT_WRONG_PLACE], t.by_kind[QP_AUDIT_FOREIGN],
		    t.by_kind[QP_AUDIT_UNREADABLE], t.by_kind[QP_AUDIT_BAD_FILE]);
		if (t.photos)
			fprintf(stderr, " (%.0f ms a photo)", r.seconds * 1000 /
			    t.photos);
		fprintf(stderr, "\naudit: %zu locations: %zu installed, %zu "
		    "missing, %zu conflict\naudit: report in %s/audit.html\n",
		    t.rows, t.by_row[QP_ROW_INSTALLED],
		    t.by_row[QP_ROW_MISSING], t.by_row[QP_ROW_CONFLICT],
		    outdir);
	}
	if (r.failed)
		status = QP_EXIT_ERROR;
	else if (t.by_kind[QP_AUDIT_FOREIGN] || t.by_kind[QP_AUDIT_WRONG_PLACE] ||
	    t.by_row[QP_ROW_CONFLICT])
		status = QP_EXIT_ALARM;
	else if (t.by_row[QP_ROW_MISSING] || t.by_kind[QP_AUDIT_UNREADABLE] ||
	    t.by_kind[QP_AUDIT_BAD_FILE])
		status = QP_EXIT_ATTENTION;
	else
		status = QP_EXIT_OK;
	qp_audit_free(r.a);
	return status;
fail:
	free(manifests);
	qp_audit_report_abort(r.rep);
	qp_audit_free(r.a);
	return QP_EXIT_ERROR;
}
