/*
 * render_png.c - the PNG backend: the page drawn on a Cairo image
 * surface (memory reused across a batch's rows, qp_raster) and written
 * with libpng (pHYs for the resolution; rows filtered and compressed
 * here, the reason is at write_png).
 */
#include <libdeflate.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render.h"
#include "render_int.h"

typedef struct png_sink {
	qp_outfile *of;
} png_sink;

static void
png_write_fn(png_structp png, png_bytep data, size_t len)
{
	png_sink *sink = png_get_io_ptr(png);

	if (!qp_outfile_write(sink->of, data, len))
		png_error(png, "write failed");
}

static void
png_flush_fn(png_structp png)
{
	(void)png;
}

/* One filtered PNG row (filter byte, then 1 or 3 bytes a pixel) of the
 * RGB24 row cur, filter Up against prev (NULL for the first row). */
static void
png_up_row(unsigned char *out, const uint32_t *cur, const uint32_t *prev,
    int w, bool grey)
{
	*out++ = 2; /* Up */
	if (prev && memcmp(cur, prev, (size_t)w * 4) == 0) {
		/* Most rows of a poster repeat the one above: all zeros. */
		memset(out, 0, (size_t)w * (grey ? 1 : 3));
		return;
	}
	for (int x = 0; x < w; x++) {
		uint32_t a = cur[x], b = prev ? prev[x] : 0;
		if (grey) {
			out[x] = (unsigned char)((a & 0xff) - (b & 0xff));
			continue;
		}
		out[3 * x] = (unsigned char)((a >> 16) - (b >> 16));
		out[3 * x + 1] = (unsigned char)((a >> 8) - (b >> 8));
		out[3 * x + 2] = (unsigned char)(a - b);
	}
}

/* The compressed data so far, as one IDAT chunk. */
#define IDAT_BUF (256 * 1024)

/*
 * Write an RGB24 image as a PNG: grey (one byte a pixel) when every
 * pixel is grey, which most posters on white are not but QR-only files
 * are; RGB otherwise. The pHYs chunk carries the DPI.
 *
 * libpng writes the signature, the header chunks and the chunk framing;
 * the image data is filtered and compressed here, straight from Cairo's
 * pixels into zlib. At 300 DPI the encoding is nearly all of a page's
 * time (the drawing is a few per cent), and libpng's row pipeline (a
 * copy of each row into its own buffer, its filter pass, a deflate call
 * per row) cost as much again as deflate itself. Measured (callgrind,
 * Letter restroom poster, instructions per page): libpng rows 813 M, of
 * which deflate 565 M; this way 340 M. The choices are the ones measured
 * before on the same poster (8 pages, CPU seconds, bytes):
 *   Sub|Up adaptive, level 3   1.00 s  2.39 MB
 *   Up only, level 1           0.73 s  2.47 MB   <- kept
 *   Up only, level 1, Z_RLE    0.75 s  2.95 MB
 *   Sub only, level 1, Z_RLE   0.82 s  4.01 MB
 *   None, level 1              0.66 s  2.79 MB
 * Up suits horizontal bands and text lines repeated down the page: a row
 * like the one above (98 % of a poster's filtered bytes are zero) is
 * found with one memcmp. zlib's memLevel 5 rather than its default 8: a
 * hash table that stays in cache; deflate CPU seconds a page (restroom
 * letter, station tabloid, bilingual letter; the files 1 % smaller too):
 *   memLevel 8   0.054  0.146  0.077
 *   memLevel 5   0.043  0.078  0.048   <- this
 *   memLevel 3   0.044  0.084  0.057
 * libdeflate was measured too: smaller files (196 KB against 284 KB a
 * page) but slower than zlib at level 1 (0.094 s). A palette would
 * feed deflate a third of the bytes, but antialiased posters have 480
 * to 970 colours, more than a palette holds.
 */
static bool
write_png(cairo_surface_t *img, double dpi, qp_outfile *of, qp_error *err)
{
	int w = cairo_image_surface_get_width(img);
	int h = cairo_image_surface_get_height(img);
	int stride = cairo_image_surface_get_stride(img);
	const unsigned char *data = cairo_image_surface_get_data(img);
	bool grey = true;
	png_structp png = NULL;
	png_infop info = NULL;
	png_sink sink = {of};
	uint32_t ppm = (uint32_t)floor(dpi / 0.0254 + 0.5);
	/* On the heap: what setjmp's error path needs must not be a local
	 * changed after setjmp. */
	z_stream *zs = qp_xcalloc(1, sizeof *zs);
	size_t rowlen;
	unsigned char *row, *buf;
	uint32_t adler = 1;
	bool zinit = false;

	for (int y = 0; y < h && grey; y++) {
		const uint32_t *p = (const uint32_t *)(const void *)
		    (data + (size_t)y * stride);
		for (int x = 0; x < w; x++) {
			uint32_t v = p[x];
			if (((v >> 16) & 0xff) != ((v >> 8) & 0xff) ||
			    ((v >> 8) & 0xff) != (v & 0xff)) {
				grey = false;
				break;
			}
		}
	}
	rowlen = 1 + (size_t)w * (grey ? 1 : 3);
	row = qp_xmalloc(rowlen);
	buf = qp_xmalloc(IDAT_BUF);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png)
		info = png_create_info_struct(png);
	zinit = deflateInit2(zs, 1, Z_DEFLATED, -15, 5, Z_DEFAULT_STRATEGY) ==
	    Z_OK;
	if (png == NULL || info == NULL || !zinit) {
		if (zinit)
			deflateEnd(zs);
		png_destroy_write_struct(&png, &info);
		free(zs);
		free(row);
		free(buf);
		return qp_fail(err, "cannot start the PNG encoder (out of "
		    "memory?)");
	}
	if (setjmp(png_jmpbuf(png))) {
		deflateEnd(zs);
		png_destroy_write_struct(&png, &info);
		free(zs);
		free(row);
		free(buf);
		return qp_fail(err, "cannot write '%s': %s", of->path,
		    of->write_failed ? strerror(of->saved_errno) :
		    "PNG encoding failed");
	}
	png_set_write_fn(png, &sink, png_write_fn, png_flush_fn);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
	    grey ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	png_write_info(png, info);
	/*
	 * A zlib stream made of a raw deflate stream: the header here
	 * (deflate, 32 KB window, fastest level), the Adler-32 trailer from
	 * libdeflate's vectorised adler32, which is a fifth of zlib's time
	 * when zlib computes it (22 % of deflate's instructions, callgrind).
	 */
	buf[0] = 0x78;
	buf[1] = 0x01;
	zs->next_out = buf + 2;
	zs->avail_out = IDAT_BUF - 2 - 4;
	for (int y = 0; y <= h; y++) {
		int flush = y == h ? Z_FINISH : Z_NO_FLUSH;
		int zr;

		if (y < h) {
			const uint32_t *cur = (const uint32_t *)(const void *)
			    (data + (size_t)y * stride);
			png_up_row(row, cur, y ? (const uint32_t *)(const void *)
			    (data + (size_t)(y - 1) * stride) : NULL, w, grey);
			zs->next_in = row;
			zs->avail_in = (uInt)rowlen;
			adler = libdeflate_adler32(adler, row, rowlen);
		}
		do {
			zr = deflate(zs, flush);
			if (zr == Z_STREAM_ERROR)
				png_error(png, "deflate failed");
			if (zs->avail_out == 0 || zr == Z_STREAM_END) {
				size_t n = (size_t)(zs->next_out - buf);
				if (zr == Z_STREAM_END) {
					/* The zlib trailer: Adler-32, big-endian
					 * (the buffer keeps room for it). */
					for (int k = 0; k < 4; k++)
						buf[n++] = (unsigned char)(adler >>
						    (24 - 8 * k));
				}
				png_write_chunk(png, (png_const_bytep)"IDAT", buf,
				    n);
				zs->next_out = buf;
				zs->avail_out = IDAT_BUF - 4;
			}
		} while (zs->avail_in > 0 || (flush == Z_FINISH &&
		    zr != Z_STREAM_END));
	}
	png_write_chunk(png, (png_const_bytep)"IEND", NULL, 0);
	deflateEnd(zs);
	png_destroy_write_struct(&png, &info);
	free(zs);
	free(row);
	free(buf);
	return true;
}

struct qp_raster {
	unsigned char *data;
	size_t cap;
};

qp_raster *
qp_raster_new(void)
{
	return qp_xcalloc(1, sizeof(qp_raster));
}

void
qp_raster_free(qp_raster *r)
{
	if (r == NULL)
		return;
	free(r->data);
	free(r);
}

static bool
png_fits(double w, double h, double dpi, double max_pixels)
{
	double pw = floor(w * dpi / 72.0 + 0.5), ph = floor(h * dpi / 72.0 +
	    0.5);

	return pw * ph <= max_pixels && pw <= 32767 && ph <= 32767;
}

int
qp_png_max_dpi(double w, double h, double max_pixels)
{
	double est = fmin(72.0 * sqrt(max_pixels / (w * h)),
	    32767 * 72.0 / fmax(w, h));
	int dpi = (int)floor(est) + 1;

	/* Start just above the estimate; rounding decides the last step. */
	while (dpi > 1 && !png_fits(w, h, dpi, max_pixels))
		dpi--;
	return dpi;
}

bool
qp_png_size_ok(double w, double h, double dpi, qp_error *err)
{
	double pw = floor(w * dpi / 72.0 + 0.5), ph = floor(h * dpi / 72.0 +
	    0.5);

	if (png_fits(w, h, dpi, QP_MAX_PNG_PIXELS))
		return true;
	qp_fail(err, "a %.1fx%.1fin page at %g DPI is %.0fx%.0f pixels "
	    "(%.0f MB in memory); the limit is %.0f megapixels and 32767 "
	    "pixels a side", w / 72, h / 72, dpi, pw, ph, pw * ph * 4 / 1e6,
	    QP_MAX_PNG_PIXELS / 1e6);
	return qp_error_hint(err, QP_HINT_MAX_DPI,
	    qp_png_max_dpi(w, h, QP_MAX_PNG_PIXELS), NULL);
}

bool
qp_render_png(const qp_page *page, qp_outfile *of, const qp_render_opts *o,
    qp_raster *r, qp_error *err)
{
	double sw, sh, s = o->dpi / 72.0;
	double pw, ph;
	cairo_surface_t *img;
	cairo_t *cr;
	bool ok;

	qp_sheet_size(page, o, &sw, &sh);
	if (!qp_png_size_ok(sw, sh, o->dpi, err))
		return false;
	pw = floor(sw * s + 0.5);
	ph = floor(sh * s + 0.5);
	if (r) {
		int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24,
		    (int)pw);
		size_t need = (size_t)stride * (size_t)ph;

		if (r->cap < need) {
			free(r->data);
			r->data = malloc(need);
			r->cap = r->data ? need : 0;
		}
		img = r->data ? cairo_image_surface_create_for_data(r->data,
		    CAIRO_FORMAT_RGB24, (int)pw, (int)ph, stride) :
		    cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw,
		    (int)ph);
	} else
		img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw,
		    (int)ph);
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(img);
		return qp_fail(err, "cannot make a %.0fx%.0f image (out of "
		    "memory?)", pw, ph);
	}
	cr = cairo_create(img);
	/* White under everything: the crop-mark margin outside the bleed
	 * is not part of the page's background (and reused memory holds
	 * the previous page). */
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, s, s);
	qp_draw_page(cr, page, o, s, false);
	cairo_destroy(cr);
	cairo_surface_flush(img);
	ok = write_png(img, o->dpi, of, err);
	cairo_surface_destroy(img);
	return ok;
}
