/*
 * photo.h - an installer's photo file -> 8-bit grey pixels, downscaled
 * while decoding, and what its EXIF says (time, GPS, focal length).
 *
 * JPEG is read with libjpeg-turbo (grey output, scaled by the decoder's
 * own 1/2, 1/4, 1/8 steps), PNG with libpng's simplified API; EXIF with
 * libexif from the JPEG's APP1 segment. The file's size in pixels is
 * read from its header and checked against a limit before any pixel is
 * decoded: a "decompression bomb" (a few kilobytes claiming gigapixels)
 * is refused without allocating. Memory per photo is bounded by the
 * decode budget, never by the number of photos.
 */
#ifndef QP_PHOTO_H
#define QP_PHOTO_H

#include "util.h"

/* Why a file gave no pixels (or only some). */
typedef enum qp_photo_status {
	QP_PHOTO_OK,
	QP_PHOTO_TRUNCATED,   /* JPEG: the data ends early; the part present
	                       * was decoded (the rest is grey) */
	QP_PHOTO_NOT_IMAGE,   /* neither JPEG nor PNG by its first bytes */
	QP_PHOTO_UNSUPPORTED, /* an image format audit does not read (HEIC...) */
	QP_PHOTO_TOO_LARGE,   /* the header claims more pixels than allowed */
	QP_PHOTO_CORRUPT,     /* the decoder gave up */
	QP_PHOTO_IO,          /* cannot open or read the file */
} qp_photo_status;

typedef struct qp_photo_limits {
	double max_pixels;    /* width x height above this: QP_PHOTO_TOO_LARGE */
	double decode_pixels; /* decode at the largest scale giving at most
	                       * this many pixels */
} qp_photo_limits;

#define QP_PHOTO_MAX_PIXELS 100e6
#define QP_PHOTO_DECODE_PIXELS 16.8e6

typedef struct qp_photo_image {
	unsigned char *px; /* w x h grey, rows w bytes apart; NULL if none */
	int w, h;          /* decoded size */
	int full_w, full_h; /* size the header gives */
	double scale;      /* decoded pixels per full-size pixel (<= 1) */
	const char *format; /* "JPEG", "PNG", or the unsupported format's name */
	/* EXIF */
	bool has_time;
	char time[20];    /* DateTimeOriginal as "YYYY-MM-DD HH:MM:SS" */
	bool has_gps;
	double lat, lon;  /* degrees, south and west negative */
	double focal35;   /* 35 mm equivalent focal length, mm; 0 unknown */
	int orientation;  /* EXIF orientation 1..8; 0 unknown */
} qp_photo_image;

/*
 * Read path. QP_PHOTO_OK or QP_PHOTO_TRUNCATED: im holds pixels (free
 * with qp_photo_image_free). Any other status: im->px is NULL and err says
 * why, in words for a report ("the header claims 60000 x 60000 pixels
 * (3600 MP); the limit is 100 MP"). TRUNCATED also fills err.
 */
qp_photo_status qp_photo_load(const char *path, const qp_photo_limits *lim,
    qp_photo_image *im, qp_error *err);
void qp_photo_image_free(qp_photo_image *im);

/* "ok", "truncated", "not an image"... */
const char *qp_photo_status_name(qp_photo_status s);

/*
 * A JPEG thumbnail of im, longest side at most maxside pixels, at the
 * given quality: *out (malloc'd, *outlen bytes), its size in *tw x *th.
 * False if libjpeg failed.
 */
bool qp_photo_thumbnail(const qp_photo_image *im, int maxside, int quality,
    unsigned char **out, size_t *outlen, int *tw, int *th);

#endif
