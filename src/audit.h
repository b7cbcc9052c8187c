/*
 * audit.h - field audit: installers' photos + a print run's manifest ->
 * which posters are up, in the right place, and which have another code
 * stuck over them.
 *
 * A qp_audit holds the manifest rows (one or several manifests: shards,
 * or runs; rows with the same payload count once), their locations (a
 * CSV with `code` and optionally `lat,lon`), and a running count per
 * row. Photos are then read one at a time (qp_audit_photo_run): every QR
 * code found (libzbar, and ZXing-cpp as a second reader) is classified,
 * the row counts are updated, and the photo's result is handed back for
 * the report and freed: memory does not grow with the number of photos.
 *
 * Classification of each code found:
 *   ok          the payload is a row's and the photo's GPS (when present)
 *               lies within the radius of the row's location (when known)
 *   wrong place a row's payload photographed farther than the radius
 *   foreign     a payload no row has: its domain, and whether it sits on
 *               top of or next to a known (or unreadable) code
 *   unreadable  a QR code located but not decoded, or no code at all,
 *               with the reason when it can be told
 *   bad file    not an image, an unsupported format, truncated, damaged,
 *               or more pixels than allowed (checked from the header)
 * Per row: installed (an ok photo), missing (none), conflict (an ok
 * photo and a foreign code at the same location).
 */
#ifndef QP_AUDIT_H
#define QP_AUDIT_H

#include "photo.h"
#include "util.h"

typedef enum qp_audit_kind {
	QP_AUDIT_OK,
	QP_AUDIT_WRONG_PLACE,
	QP_AUDIT_FOREIGN,
	QP_AUDIT_UNREADABLE,
	QP_AUDIT_BAD_FILE,
} qp_audit_kind;
#define QP_AUDIT_NKINDS 5

/* Where a foreign code sits. */
typedef enum qp_audit_place {
	QP_PLACE_NONE,    /* not a foreign code */
	QP_PLACE_ON_TOP,  /* over a known or an unreadable code */
	QP_PLACE_NEXT_TO, /* in a photo with a known code, apart from it */
	QP_PLACE_ALONE,   /* no known code in the photo */
} qp_audit_place;

typedef enum qp_row_status {
	QP_ROW_INSTALLED,
	QP_ROW_MISSING,
	QP_ROW_CONFLICT,
} qp_row_status;
#define QP_ROW_NSTATUS 3

/* Readers. */
#define QP_READ_ZBAR 1u
#define QP_READ_ZXING 2u

typedef struct qp_audit_opts {
	double radius_m;        /* ok within this of the location; 500 */
	qp_photo_limits limits; /* pixel limit, decode budget */
	unsigned readers;       /* QP_READ_*; 0: both */
	/* The printed code, when known (from the template): the symbol's
	 * side without quiet zone, its modules per side, the template's
	 * scan distance. 0 = unknown. */
	double code_m;
	int code_modules;
	double scan_distance_m;
	int thumb_side;         /* thumbnail's longest side; 0: none */
} qp_audit_opts;

#define QP_AUDIT_OPTS_DEFAULT {500, {QP_PHOTO_MAX_PIXELS, \
    QP_PHOTO_DECODE_PIXELS}, 0, 0, 0, 0, 320}

typedef struct qp_audit_code {
	qp_audit_kind kind;
	char *payload;     /* NUL-terminated bytes; NULL if not decoded */
	size_t len;
	bool has_quad;
	double quad[8];    /* corners, full-size photo pixels */
	unsigned readers;  /* QP_READ_* that decoded (or located) it */
	long row;          /* index of its row (qp_audit_row_at), or -1;
	                    * a foreign code: the row it was found at */
	double distance_m; /* from the photo's GPS to row's location; -1 */
	long near_row;     /* wrong place: the row nearest the photo; -1 */
	double near_m;     /* ... and its distance */
	char domain[256];  /* a URL's host, lower-cased; "" if not a URL */
	qp_audit_place place;
	double module_px;  /* apparent module size, full-size pixels; 0 */
	double taken_m;    /* distance estimated from the code's size; 0 */
	char *why;         /* the reason, in words */
} qp_audit_code;

typedef struct qp_audit_photo {
	char *path;
	qp_photo_status file;  /* the file's state */
	char file_msg[1024];   /* why, when not QP_PHOTO_OK */
	const char *format;
	int width, height;     /* full size from the header; 0 unknown */
	bool has_time;
	char time[20];
	bool has_gps;
	double lat, lon;
	double focal35;
	qp_audit_kind status;  /* the photo's: see qp_audit_photo_run */
	qp_audit_code *codes;  /* at least one */
	size_t ncodes;
	unsigned char *thumb;  /* JPEG, or NULL */
	size_t thumb_len;
	int thumb_w, thumb_h;
} qp_audit_photo;

typedef struct qp_audit_row {
	long row, line;    /* as the manifest gives them */
	char *code, *payload, *file, *manifest;
	char *name;        /* from the locations CSV, or NULL */
	bool has_loc;
	double lat, lon;
	size_t ok, wrong_place, foreign;
	char *first_ok;    /* the first ok photo, or NULL */
	char *foreign_at;  /* the first foreign code's domain and photo */
} qp_audit_row;

typedef struct qp_audit_totals {
	size_t photos;
	size_t by_kind[QP_AUDIT_NKINDS]; /* photos by their status */
	size_t rows;
	size_t by_row[QP_ROW_NSTATUS];
	size_t not_printed; /* manifest rows whose status is not ok */
	size_t duplicates;  /* rows skipped: same payload as another */
	size_t no_location; /* rows without coordinates */
} qp_audit_totals;

typedef struct qp_audit qp_audit;

qp_audit *qp_audit_new(const qp_audit_opts *o);
void qp_audit_free(qp_audit *a);

/*
 * Add a manifest (qrposter batch's CSV). Rows whose status is not "ok"
 * were not printed and are left out; a payload already known is counted
 * once. Errors name FILE:LINE and the column.
 */
bool qp_audit_add_manifest(qp_audit *a, const char *path, qp_error *err);

/*
 * Give rows their locations: path is a CSV with a `code` column (the
 * manifest's code) and optionally `name`, `lat` and `lon` (decimal
 * degrees). Call after the manifests. Errors name FILE:LINE and column.
 */
bool qp_audit_add_locations(qp_audit *a, const char *path, qp_error *err);

/*
 * The printed code, from the template: the symbol's side without quiet
 * zone (metres), its modules per side, the scan distance (metres; 0 if
 * not declared). Lets an unreadable code's reason say how far away the
 * photo was taken.
 */
void qp_audit_set_code(qp_audit *a, double code_m, int modules,
    double scan_distance_m);

/* Rows (after the manifests). */
size_t qp_audit_nrows(const qp_audit *a);
const qp_audit_row *qp_audit_row_at(const qp_audit *a, size_t i);
qp_row_status qp_audit_row_status(const qp_audit_row *r);

/*
 * Audit one photo file. Never fails: a file that cannot be read gives a
 * photo whose one code is QP_AUDIT_BAD_FILE. The photo's status is
 * foreign if any code is, else wrong place if any is, else ok if any is,
 * else bad file if the file is damaged or not an image, else unreadable.
 * Free with qp_audit_photo_free.
 */
qp_audit_photo *qp_audit_photo_run(qp_audit *a, const char *path);
void qp_audit_photo_free(qp_audit_photo *p);

void qp_audit_get_totals(const qp_audit *a, qp_audit_totals *t);

/* "ok", "wrong place", "foreign code", "unreadable", "bad file". */
const char *qp_audit_kind_name(qp_audit_kind k);
/* "installed", "missing", "conflict". */
const char *qp_row_status_name(qp_row_status s);
/* "on top of a known code", "next to a known code", "no known code in
 * the photo", "" */
const char *qp_audit_place_name(qp_audit_place p);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double qp_haversine_m(double lat1, double lon1, double lat2, double lon2);

/*
 * The report: photos.csv (a line per code found), rows.csv (a line per
 * row) and report.html (self-contained: totals, rows, photos with
 * thumbnails and the codes outlined; sortable; no network requests),
 * written into dir as they come and committed by qp_audit_report_close.
 */
typedef struct qp_audit_report qp_audit_report;

qp_audit_report *qp_audit_report_open(const char *dir, qp_error *err);
bool qp_audit_report_photo(qp_audit_report *r, const qp_audit *a,
    const qp_audit_photo *p, qp_error *err);
/* Write the rows and totals and rename the files into place; frees r. */
bool qp_audit_report_close(qp_audit_report *r, const qp_audit *a,
    qp_error *err);
/* Remove the temporaries; frees r (NULL is fine). */
void qp_audit_report_abort(qp_audit_report *r);

#endif
