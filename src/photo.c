/*
 * photo.c - photo files -> grey pixels + EXIF (libjpeg-turbo, libpng,
 * libexif). See photo.h.
 */
#include "photo.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>
#include <png.h>

const char *
qp_photo_status_name(qp_photo_status s)
{
	switch (s) {
	case QP_PHOTO_OK: return "ok";
	case QP_PHOTO_TRUNCATED: return "truncated";
	case QP_PHOTO_NOT_IMAGE: return "not an image";
	case QP_PHOTO_UNSUPPORTED: return "unsupported format";
	case QP_PHOTO_TOO_LARGE: return "too large";
	case QP_PHOTO_CORRUPT: return "corrupt";
	case QP_PHOTO_IO: return "unreadable file";
	}
	return "?";
}

void
qp_photo_image_free(qp_photo_image *im)
{
	if (im == NULL)
		return;
	free(im->px);
	im->px = NULL;
}

/* ---- EXIF ------------------------------------------------------------ */

/* Degrees from three EXIF rationals (degrees, minutes, seconds). */
static bool
exif_degrees(ExifData *ed, ExifTag tag, ExifTag reftag, double *out)
{
	ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
	ExifEntry *e = exif_content_get_entry(gps, tag);
	ExifEntry *ref = exif_content_get_entry(gps, reftag);
	ExifByteOrder bo = exif_data_get_byte_order(ed);
	double v = 0, div = 1;

	if (e == NULL || e->format != EXIF_FORMAT_RATIONAL ||
	    e->components < 1 || e->size < 8 * e->components)
		return false;
	for (unsigned i = 0; i < 3 && i < e->components; i++) {
		ExifRational r = exif_get_rational(e->data + 8 * i, bo);

		if (r.denominator == 0)
			return false;
		v += (double)r.numerator / r.denominator / div;
		div *= 60;
	}
	if (ref && ref->format == EXIF_FORMAT_ASCII && ref->size >= 1 &&
	    (ref->data[0] == 'S' || ref->data[0] == 'W'))
		v = -v;
	*out = v;
	return true;
}

/* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DD HH:MM:SS"; false if not that. */
static bool
exif_time(ExifData *ed, char out[20])
{
	ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF],
	    EXIF_TAG_DATE_TIME_ORIGINAL);
	static const char pat[] = "dddd:dd:dd dd:dd:dd";

	if (e == NULL)
		e = exif_content_get_entry(ed->ifd[EXIF_IFD_0],
		    EXIF_TAG_DATE_TIME);
	if (e == NULL || e->format != EXIF_FORMAT_ASCII || e->size < 19)
		return false;
	for (size_t i = 0; i < 19; i++) {
		char c = (char)e->data[i];

		if (pat[i] == 'd' ? (c < '0' || c > '9') : c != pat[i])
			return false;
		out[i] = (i == 4 || i == 7) ? '-' : c;
	}
	out[19] = '\0';
	return strncmp(out, "0000", 4) != 0;
}

static unsigned
exif_short(ExifData *ed, ExifIfd ifd, ExifTag tag)
{
	ExifEntry *e = exif_content_get_entry(ed->ifd[ifd], tag);

	if (e == NULL || e->format != EXIF_FORMAT_SHORT || e->size < 2)
		return 0;
	return exif_get_short(e->data, exif_data_get_byte_order(ed));
}

/* Parse an APP1 segment ("Exif\0\0" + TIFF) into im's EXIF fields. */
static void
parse_exif(const unsigned char *data, size_t len, qp_photo_image *im)
{
	ExifData *ed;

	if (len < 6 || memcmp(data, "Exif\0\0", 6) != 0 || len > 0xffff)
		return;
	ed = exif_data_new_from_data(data, (unsigned)len);
	if (ed == NULL)
		return;
	if (exif_degrees(ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF,
	    &im->lat) && exif_degrees(ed, EXIF_TAG_GPS_LONGITUDE,
	    EXIF_TAG_GPS_LONGITUDE_REF, &im->lon) &&
	    fabs(im->lat) <= 90 && fabs(im->lon) <= 180 &&
	    !(im->lat == 0 && im->lon == 0))
		im->has_gps = true;
	im->has_time = exif_time(ed, im->time);
	im->focal35 = exif_short(ed, EXIF_IFD_EXIF,
	    EXIF_TAG_FOCAL_LENGTH_IN_35MM_FILM);
	im->orientation = (int)exif_short(ed, EXIF_IFD_0,
	    EXIF_TAG_ORIENTATION);
	if (im->orientation > 8)
		im->orientation = 0;
	exif_data_unref(ed);
}

/* ---- JPEG ------------------------------------------------------------ */

typedef struct jpeg_err {
	struct jpeg_error_mgr mgr;
	jmp_buf jmp;
	bool eof;     /* the data ended early */
	bool damaged; /* corrupt data was skipped */
	char first[JMSG_LENGTH_MAX];
} jpeg_err;

static void
jpeg_on_error(j_common_ptr ci)
{
	jpeg_err *e = (jpeg_err *)(void *)ci->err;

	(*ci->err->format_message)(ci, e->first);
	longjmp(e->jmp, 1);
}

/* Warnings: libjpeg goes on after them; remember what they said. */
static void
jpeg_on_message(j_common_ptr ci, int level)
{
	jpeg_err *e = (jpeg_err *)(void *)ci->err;

	if (level >= 0)
		return; /* trace messages */
	if (ci->err->msg_code == JWRN_JPEG_EOF)
		e->eof = true;
	else
		e->damaged = true;
	if (!e->first[0])
		(*ci->err->format_message)(ci, e->first);
	ci->err->num_warnings++;
}

typedef struct jpeg_job {
	struct jpeg_decompress_struct ci;
	jpeg_err err;
	FILE *fp;
	qp_photo_image *im;
	const qp_photo_limits *lim;
	qp_error *msg;
	qp_photo_status st;
} jpeg_job;

/* The body, under libjpeg's longjmp; everything it changes lives in *j. */
static void
jpeg_run(jpeg_job *j)
{
	struct jpeg_decompress_struct *ci = &j->ci;
	qp_photo_image *im = j->im;
	double px;
	unsigned denom = 1;

	jpeg_stdio_src(ci, j->fp);
	jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
	(void)jpeg_read_header(ci, TRUE);
	im->full_w = (int)ci->image_width;
	im->full_h = (int)ci->image_height;
	px = (double)ci->image_width * ci->image_height;
	if (px > j->lim->max_pixels) {
		j->st = QP_PHOTO_TOO_LARGE;
		qp_fail(j->msg, "the header claims %u x %u pixels (%.0f MP); "
		    "the limit is %.0f MP", ci->image_width, ci->image_height,
		    px / 1e6, j->lim->max_pixels / 1e6);
		return;
	}
	for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
		if (m->marker == JPEG_APP0 + 1)
			parse_exif(m->data, m->data_length, im);
	/* The decoder's own downscaling (DCT scaling) costs less than
	 * decoding in full and shrinking afterwards. */
	while (denom < 8 && px / ((double)denom * denom) > j->lim->decode_pixels)
		denom *= 2;
	ci->scale_num = 1;
	ci->scale_denom = denom;
	ci->out_color_space = JCS_GRAYSCALE;
	(void)jpeg_start_decompress(ci);
	im->w = (int)ci->output_width;
	im->h = (int)ci->output_height;
	im->scale = (double)im->w / im->full_w;
	im->px = malloc((size_t)im->w * (size_t)im->h);
	if (im->px == NULL) {
		j->st = QP_PHOTO_TOO_LARGE;
		qp_fail(j->msg, "out of memory for %d x %d pixels", im->w,
		    im->h);
		jpeg_abort_decompress(ci);
		return;
	}
	while (ci->output_scanline < ci->output_height) {
		JSAMPROW row = im->px + (size_t)ci->output_scanline * im->w;

		(void)jpeg_read_scanlines(ci, &row, 1);
	}
	(void)jpeg_finish_decompress(ci);
	j->st = QP_PHOTO_OK;
}

static qp_photo_status
load_jpeg(FILE *fp, const qp_photo_limits *lim, qp_photo_image *im,
    qp_error *err)
{
	jpeg_job *j = qp_xcalloc(1, sizeof *j);
	qp_photo_status st;

	j->fp = fp;
	j->im = im;
	j->lim = lim;
	j->msg = err;
	j->st = QP_PHOTO_CORRUPT;
	j->ci.err = jpeg_std_error(&j->err.mgr);
	j->err.mgr.error_exit = jpeg_on_error;
	j->err.mgr.emit_message = jpeg_on_message;
	jpeg_create_decompress(&j->ci);
	if (setjmp(j->err.jmp) == 0)
		jpeg_run(j);
	else {
		free(im->px);
		im->px = NULL;
		j->st = QP_PHOTO_CORRUPT;
		qp_fail(err, "a damaged JPEG (libjpeg: %s)", j->err.first);
	}
	jpeg_destroy_decompress(&j->ci);
	st = j->st;
	if (st == QP_PHOTO_OK && j->err.eof) {
		st = QP_PHOTO_TRUNCATED;
		qp_fail(err, "a truncated JPEG: the data ends before the "
		    "image does (the part present was read)");
	} else if (st == QP_PHOTO_OK && j->err.damaged)
		qp_fail(err, "damaged data was skipped (libjpeg: %s)",
		    j->err.first);
	free(j);
	return st;
}

/* ---- PNG ------------------------------------------------------------- */

/* Shrink im in place by an integer factor f (box filter). */
static void
shrink(qp_photo_image *im, int f)
{
	int w = im->w / f, h = im->h / f;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned sum = 0;

			for (int dy = 0; dy < f; dy++)
				for (int dx = 0; dx < f; dx++)
					sum += im->px[(size_t)(y * f + dy) *
					    im->w + x * f + dx];
			im->px[(size_t)y * w + x] = (unsigned char)(sum /
			    (unsigned)(f * f));
		}
	im->w = w;
	im->h = h;
	im->scale = (double)w / im->full_w;
}

static qp_photo_status
load_png(FILE *fp, const qp_photo_limits *lim, qp_photo_image *im, qp_error *err)
{
	png_image pi;
	png_color white = {255, 255, 255};
	double px;
	int f = 1;

	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_stdio(&pi, fp)) {
		qp_fail(err, "a damaged PNG (libpng: %s)", pi.message);
		png_image_free(&pi);
		return QP_PHOTO_CORRUPT;
	}
	im->full_w = (int)pi.width;
	im->full_h = (int)pi.height;
	px = (double)pi.width * pi.height;
	if (px > lim->max_pixels) {
		qp_fail(err, "the header claims %u x %u pixels (%.0f MP); "
		    "the limit is %.0f MP", pi.width, pi.height, px / 1e6,
		    lim->max_pixels / 1e6);
		png_image_free(&pi);
		return QP_PHOTO_TOO_LARGE;
	}
	pi.format = PNG_FORMAT_GRAY;
	im->w = (int)pi.width;
	im->h = (int)pi.height;
	im->scale = 1;
	im->px = malloc(PNG_IMAGE_SIZE(pi));
	if (im->px == NULL) {
		png_image_free(&pi);
		return qp_fail(err, "out of memory for %u x %u pixels",
		    pi.width, pi.height), QP_PHOTO_TOO_LARGE;
	}
	if (!png_image_finish_read(&pi, &white, im->px, 0, NULL)) {
		qp_fail(err, "a damaged or truncated PNG (libpng: %s)",
		    pi.message);
		png_image_free(&pi);
		free(im->px);
		im->px = NULL;
		return QP_PHOTO_CORRUPT;
	}
	while (px / ((double)f * f) > lim->decode_pixels)
		f++;
	if (f > 1)
		shrink(im, f);
	return QP_PHOTO_OK;
}

/* ---- dispatch -------------------------------------------------------- */

/* Formats recognised by their first bytes but not read. */
static const char *
other_format(const unsigned char *b, size_t n)
{
	if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) {
		if (!memcmp(b + 8, "heic", 4) || !memcmp(b + 8, "heix", 4) ||
		    !memcmp(b + 8, "mif1", 4) || !memcmp(b + 8, "msf1", 4))
			return "HEIF/HEIC";
		if (!memcmp(b + 8, "avif", 4))
			return "AVIF";
		return "an ISO media file (a video?)";
	}
	if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
		return "GIF";
	if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return "WebP";
	if (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4)))
		return "TIFF (or a camera raw file)";
	return NULL;
}

qp_photo_status
qp_photo_load(const char *path, const qp_photo_limits *lim, qp_photo_image *im,
    qp_error *err)
{
	unsigned char magic[16];
	size_t n;
	FILE *fp;
	qp_photo_status st;
	const char *other;

	memset(im, 0, sizeof *im);
	im->scale = 1;
	fp = fopen(path, "rb");
	if (fp == NULL) {
		qp_fail(err, "cannot open: %s", strerror(errno));
		return QP_PHOTO_IO;
	}
	n = fread(magic, 1, sizeof magic, fp);
	if (ferror(fp)) {
		qp_fail(err, "cannot read: %s", strerror(errno));
		fclose(fp);
		return QP_PHOTO_IO;
	}
	rewind(fp);
	if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 &&
	    magic[2] == 0xff) {
		im->format = "JPEG";
		st = load_jpeg(fp, lim, im, err);
	} else if (n >= 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
		im->format = "PNG";
		st = load_png(fp, lim, im, err);
	} else if ((other = other_format(magic, n)) != NULL) {
		im->format = other;
		qp_fail(err, "%s is not read: only JPEG and PNG are (export "
		    "the photo as JPEG)", other);
		st = QP_PHOTO_UNSUPPORTED;
	} else {
		qp_fail(err, n == 0 ? "an empty file" : "not an image: "
		    "neither JPEG nor PNG");
		st = QP_PHOTO_NOT_IMAGE;
	}
	fclose(fp);
	return st;
}

/* ---- thumbnails ------------------------------------------------------ */

typedef struct thumb_job {
	struct jpeg_compress_struct ci;
	jpeg_err err;
	unsigned char *buf;
	unsigned long len;
	const unsigned char *px;
	int w, h, quality;
	bool done;
} thumb_job;

/* The compression, under libjpeg's longjmp; its results live in *j. */
static void
thumb_run(thumb_job *j)
{
	struct jpeg_compress_struct *ci = &j->ci;

	jpeg_mem_dest(ci, &j->buf, &j->len);
	ci->image_width = (JDIMENSION)j->w;
	ci->image_height = (JDIMENSION)j->h;
	ci->input_components = 1;
	ci->in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(ci);
	jpeg_set_quality(ci, j->quality, TRUE);
	jpeg_start_compress(ci, TRUE);
	while (ci->next_scanline < ci->image_height) {
		JSAMPROW row = (JSAMPROW)(j->px + (size_t)ci->next_scanline *
		    (size_t)j->w);

		(void)jpeg_write_scanlines(ci, &row, 1);
	}
	jpeg_finish_compress(ci);
}

bool
qp_photo_thumbnail(const qp_photo_image *im, int maxside, int quality,
    unsigned char **out, size_t *outlen, int *tw, int *th)
{
	thumb_job *j;
	unsigned char *small;
	double f;
	int w, h;
	bool ok;

	*out = NULL;
	*outlen = 0;
	if (im->px == NULL || im->w < 1 || im->h < 1 || maxside < 1)
		return false;
	f = (double)maxside / (im->w > im->h ? im->w : im->h);
	if (f > 1)
		f = 1;
	w = (int)fmax(1, lround(im->w * f));
	h = (int)fmax(1, lround(im->h * f));
	small = qp_xmalloc((size_t)w * h);
	/* Box average over the source pixels each thumbnail pixel covers. */
	for (int y = 0; y < h; y++) {
		int y0 = (int)((double)y * im->h / h);
		int y1 = (int)((double)(y + 1) * im->h / h);

		if (y1 <= y0)
			y1 = y0 + 1;
		for (int x = 0; x < w; x++) {
			int x0 = (int)((double)x * im->w / w);
			int x1 = (int)((double)(x + 1) * im->w / w);
			unsigned long sum = 0;

			if (x1 <= x0)
				x1 = x0 + 1;
			for (int yy = y0; yy < y1; yy++)
				for (int xx = x0; xx < x1; xx++)
					sum += im->px[(size_t)yy * im->w + xx];
			small[(size_t)y * w + x] = (unsigned char)(sum /
			    ((unsigned long)(y1 - y0) * (unsigned long)(x1 -
			    x0)));
		}
	}
	j = qp_xcalloc(1, sizeof *j);
	j->px = small;
	j->w = w;
	j->h = h;
	j->quality = quality;
	j->ci.err = jpeg_std_error(&j->err.mgr);
	j->err.mgr.error_exit = jpeg_on_error;
	jpeg_create_compress(&j->ci);
	if (setjmp(j->err.jmp) == 0) {
		thumb_run(j);
		j->done = true;
	}
	ok = j->done;
	jpeg_destroy_compress(&j->ci);
	free(small);
	if (!ok) {
		free(j->buf);
		free(j);
		return false;
	}
	*out = j->buf;
	*outlen = j->len;
	*tw = w;
	*th = h;
	free(j);
	return true;
}
