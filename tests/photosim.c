/*
 * photosim.c - simulated phone photos of posters (see photosim.h).
 */
#include "photosim.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <zbar.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

cairo_surface_t *
ps_load_png(const char *path)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return NULL;
	}
	return s;
}

void
ps_paste(cairo_surface_t *img, cairo_surface_t *sticker, double cx,
    double cy, double side, double pad)
{
	cairo_t *cr = cairo_create(img);
	int sw = cairo_image_surface_get_width(sticker);

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, cx - side / 2 - pad, cy - side / 2 - pad,
	    side + 2 * pad, side + 2 * pad);
	cairo_fill(cr);
	cairo_translate(cr, cx - side / 2, cy - side / 2);
	cairo_scale(cr, side / sw, side / sw);
	cairo_set_source_surface(cr, sticker, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_flush(img);
}

/* Grey copy of an image surface (any of RGB24, ARGB32). */
static unsigned char *
grey_of(cairo_surface_t *img, int *w, int *h)
{
	int stride = cairo_image_surface_get_stride(img);
	const unsigned char *d;
	unsigned char *g;

	cairo_surface_flush(img);
	d = cairo_image_surface_get_data(img);
	*w = cairo_image_surface_get_width(img);
	*h = cairo_image_surface_get_height(img);
	g = malloc((size_t)*w * *h);
	if (g == NULL)
		return NULL;
	for (int y = 0; y < *h; y++) {
		const uint32_t *p = (const uint32_t *)(const void *)(d +
		    (size_t)y * stride);
		for (int x = 0; x < *w; x++) {
			uint32_t px = p[x];
			unsigned a = px >> 24;
			unsigned r = (px >> 16) & 0xff, gg = (px >> 8) & 0xff,
			    b = px & 0xff;
			unsigned v = (r * 299 + gg * 587 + b * 114) / 1000;

			/* Premultiplied alpha over white. */
			if (cairo_image_surface_get_format(img) ==
			    CAIRO_FORMAT_ARGB32)
				v = v + (255 - a);
			g[(size_t)y * *w + x] = (unsigned char)(v > 255 ? 255 :
			    v);
		}
	}
	return g;
}

bool
ps_find_code(cairo_surface_t *img, double box[4])
{
	int w, h;
	unsigned char *g = grey_of(img, &w, &h);
	zbar_image_scanner_t *sc;
	zbar_image_t *zi;
	const zbar_symbol_t *sym;
	bool found = false;

	if (g == NULL)
		return false;
	sc = zbar_image_scanner_create();
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zi = zbar_image_create();
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)w, (unsigned)h);
	zbar_image_set_data(zi, g, (unsigned long)w * h, NULL);
	if (zbar_scan_image(sc, zi) > 0 &&
	    (sym = zbar_image_first_symbol(zi)) != NULL) {
		double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;

		for (unsigned i = 0; i < zbar_symbol_get_loc_size(sym); i++) {
			double x = zbar_symbol_get_loc_x(sym, i);
			double y = zbar_symbol_get_loc_y(sym, i);
			x0 = fmin(x0, x);
			y0 = fmin(y0, y);
			x1 = fmax(x1, x);
			y1 = fmax(y1, y);
		}
		box[0] = x0;
		box[1] = y0;
		box[2] = x1 - x0 + 1;
		box[3] = y1 - y0 + 1;
		found = true;
	}
	zbar_image_destroy(zi);
	zbar_image_scanner_destroy(sc);
	free(g);
	return found;
}

double
ps_focal_px(const ps_shot *s)
{
	int fw = s->frame_w ? s->frame_w : 4000;
	int fh = s->frame_h ? s->frame_h : 3000;
	double f35 = s->focal35 > 0 ? s->focal35 : 26;

	/* The 35 mm equivalent matches the diagonal of a 36 x 24 mm frame
	 * (43.27 mm), whatever the sensor's shape. */
	return f35 / 43.2666 * hypot(fw, fh);
}

/* A grey picture shrunk by an integer factor (box filter). */
typedef struct pic {
	unsigned char *g;
	int w, h;
} pic;

static pic
shrink_pic(const unsigned char *g, int w, int h, int f)
{
	pic p = {NULL, w / f, h / f};

	if (p.w < 1 || p.h < 1)
		return p;
	p.g = malloc((size_t)p.w * p.h);
	for (int y = 0; y < p.h; y++)
		for (int x = 0; x < p.w; x++) {
			unsigned s = 0;
			for (int dy = 0; dy < f; dy++)
				for (int dx = 0; dx < f; dx++)
					s += g[(size_t)(y * f + dy) * w + x *
					    f + dx];
			p.g[(size_t)y * p.w + x] = (unsigned char)(s / (unsigned)
			    (f * f));
		}
	return p;
}

static double
bilinear(const pic *p, double x, double y)
{
	int x0, y0;
	double fx, fy, a, b, c, d;

	x -= 0.5;
	y -= 0.5;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > p->w - 1.001)
		x = p->w - 1.001;
	if (y > p->h - 1.001)
		y = p->h - 1.001;
	x0 = (int)x;
	y0 = (int)y;
	fx = x - x0;
	fy = y - y0;
	a = p->g[(size_t)y0 * p->w + x0];
	b = p->g[(size_t)y0 * p->w + x0 + 1];
	c = p->g[(size_t)(y0 + 1) * p->w + x0];
	d = p->g[(size_t)(y0 + 1) * p->w + x0 + 1];
	return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) *
	    fy;
}

/* The wall's frame: origin (aim point), unit vectors along x and y of
 * the wall and its normal, in camera coordinates (z forward). */
typedef struct wall {
	double o[3], ex[3], ey[3], n[3];
} wall;

static void
wall_of(const ps_shot *s, wall *w)
{
	double ya = s->yaw_deg * M_PI / 180, pa = s->pitch_deg * M_PI / 180;

	w->o[0] = 0;
	w->o[1] = 0;
	w->o[2] = s->distance_m;
	/* Yaw about the vertical axis, then pitch about the wall's x. */
	w->ex[0] = cos(ya);
	w->ex[1] = 0;
	w->ex[2] = sin(ya);
	w->ey[0] = -sin(ya) * sin(pa);
	w->ey[1] = cos(pa);
	w->ey[2] = cos(ya) * sin(pa);
	w->n[0] = w->ex[1] * w->ey[2] - w->ex[2] * w->ey[1];
	w->n[1] = w->ex[2] * w->ey[0] - w->ex[0] * w->ey[2];
	w->n[2] = w->ex[0] * w->ey[1] - w->ex[1] * w->ey[0];
}

/* Frame pixel of wall point (u, v) metres. */
static void
project(const ps_shot *s, const wall *w, double f, int fw, int fh, double u,
    double v, double *x, double *y)
{
	double p[3], xr, yr, ra = s->roll_deg * M_PI / 180;

	for (int i = 0; i < 3; i++)
		p[i] = w->o[i] + u * w->ex[i] + v * w->ey[i];
	xr = f * p[0] / p[2];
	yr = f * p[1] / p[2];
	*x = fw / 2.0 + xr * cos(ra) - yr * sin(ra);
	*y = fh / 2.0 + xr * sin(ra) + yr * cos(ra);
}

/* Wall point (u, v) seen at frame pixel (x, y); false if behind. */
static bool
unproject(const ps_shot *s, const wall *w, double f, int fw, int fh,
    double x, double y, double *u, double *v)
{
	double ra = s->roll_deg * M_PI / 180;
	double dx = x - fw / 2.0, dy = y - fh / 2.0;
	double xr = dx * cos(ra) + dy * sin(ra);
	double yr = -dx * sin(ra) + dy * cos(ra);
	double d[3] = {xr / f, yr / f, 1}, t, den, p[3];

	den = d[0] * w->n[0] + d[1] * w->n[1] + d[2] * w->n[2];
	if (fabs(den) < 1e-9)
		return false;
	t = (w->o[0] * w->n[0] + w->o[1] * w->n[1] + w->o[2] * w->n[2]) / den;
	if (t <= 0)
		return false;
	for (int i = 0; i < 3; i++)
		p[i] = t * d[i] - w->o[i];
	*u = p[0] * w->ex[0] + p[1] * w->ex[1] + p[2] * w->ex[2];
	*v = p[0] * w->ey[0] + p[1] * w->ey[1] + p[2] * w->ey[2];
	return true;
}

static void
draw_poster(unsigned char *frame, int fw, int fh, const ps_shot *s,
    const wall *w, double f, const ps_poster *po)
{
	int pw, ph;
	unsigned char *g = grey_of(po->img, &pw, &ph);
	double hm = po->width_m * ph / pw;
	double cx[4], cy[4], x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
	double us[4] = {-0.5, 0.5, 0.5, -0.5}, vs[4] = {-0.5, -0.5, 0.5, 0.5};
	double frame_px, src_per_frame;
	int k = 1;
	pic p;

	if (g == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		project(s, w, f, fw, fh, po->wx + us[i] * po->width_m,
		    po->wy + vs[i] * hm, &cx[i], &cy[i]);
		x0 = fmin(x0, cx[i]);
		y0 = fmin(y0, cy[i]);
		x1 = fmax(x1, cx[i]);
		y1 = fmax(y1, cy[i]);
	}
	/* Pre-shrink the picture to about two source pixels per frame
	 * pixel, so the 2x2 bilinear taps below do not alias. */
	frame_px = hypot(cx[1] - cx[0], cy[1] - cy[0]);
	src_per_frame = pw / fmax(frame_px, 1);
	while (src_per_frame / (k + 1) >= 2)
		k++;
	p = shrink_pic(g, pw, ph, k);
	free(g);
	if (p.g == NULL)
		return;
	x0 = fmax(0, floor(x0));
	y0 = fmax(0, floor(y0));
	x1 = fmin(fw - 1, ceil(x1));
	y1 = fmin(fh - 1, ceil(y1));
	for (int y = (int)y0; y <= (int)y1; y++)
		for (int x = (int)x0; x <= (int)x1; x++) {
			double acc = 0;
			int hits = 0;

			for (int sy = 0; sy < 2; sy++)
				for (int sx = 0; sx < 2; sx++) {
					double u, v, a, b;

					if (!unproject(s, w, f, fw, fh, x + 0.25 +
					    0.5 * sx, y + 0.25 + 0.5 * sy, &u,
					    &v))
						continue;
					a = (u - po->wx) / po->width_m + 0.5;
					b = (v - po->wy) / hm + 0.5;
					if (a < 0 || a >= 1 || b < 0 || b >= 1)
						continue;
					acc += bilinear(&p, a * p.w, b * p.h);
					hits++;
				}
			if (hits) {
				size_t i = (size_t)y * fw + x;
				/* Partly covered pixels blend with the wall. */
				frame[i] = (unsigned char)lround((acc +
				    (4 - hits) * frame[i]) / 4);
			}
		}
	free(p.g);
}

/* Two passes of a horizontal and vertical box blur of radius r. */
static void
blur(unsigned char *g, int w, int h, int r)
{
	unsigned char *tmp = malloc((size_t)(w > h ? w : h));

	if (tmp == NULL || r < 1) {
		free(tmp);
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int y = 0; y < h; y++) {
			unsigned char *row = g + (size_t)y * w;
			for (int x = 0; x < w; x++) {
				int s = 0, n = 0;
				for (int d = -r; d <= r; d++)
					if (x + d >= 0 && x + d < w) {
						s += row[x + d];
						n++;
					}
				tmp[x] = (unsigned char)(s / n);
			}
			memcpy(row, tmp, (size_t)w);
		}
		for (int x = 0; x < w; x++) {
			for (int y = 0; y < h; y++) {
				int s = 0, n = 0;
				for (int d = -r; d <= r; d++)
					if (y + d >= 0 && y + d < h) {
						s += g[(size_t)(y + d) * w + x];
						n++;
					}
				tmp[y] = (unsigned char)(s / n);
			}
			for (int y = 0; y < h; y++)
				g[(size_t)y * w + x] = tmp[y];
		}
	}
	free(tmp);
}

/* A fixed-seed generator: the same shot gives the same photo. */
static double
gauss(unsigned *st)
{
	double s = 0;

	for (int i = 0; i < 4; i++) {
		*st = *st * 1103515245u + 12345u;
		s += ((*st >> 8) & 0xffff) / 65535.0;
	}
	return (s - 2) * 1.7320508; /* variance of 4 uniforms is 1/3 */
}

static ExifEntry *
exif_put(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat fmt,
    unsigned long n)
{
	ExifMem *mem = exif_mem_new_default();
	ExifEntry *e = exif_entry_new_mem(mem);
	size_t size = exif_format_get_size(fmt) * n;

	e->data = exif_mem_alloc(mem, (ExifLong)size);
	e->size = (unsigned)size;
	e->tag = tag;
	e->components = n;
	e->format = fmt;
	exif_content_add_entry(ed->ifd[ifd], e);
	exif_mem_unref(mem);
	exif_entry_unref(e);
	return e;
}

static void
exif_dms(ExifData *ed, ExifTag tag, ExifTag reftag, double deg,
    const char *pos, const char *neg)
{
	ExifByteOrder bo = exif_data_get_byte_order(ed);
	ExifEntry *e = exif_put(ed, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, 3);
	ExifEntry *r = exif_put(ed, EXIF_IFD_GPS, reftag, EXIF_FORMAT_ASCII, 2);
	double a = fabs(deg);
	ExifRational d = {(ExifLong)floor(a), 1};
	double m = (a - floor(a)) * 60;
	ExifRational mm = {(ExifLong)floor(m), 1};
	ExifRational ss = {(ExifLong)lround((m - floor(m)) * 60 * 10000),
	    10000};

	exif_set_rational(e->data, bo, d);
	exif_set_rational(e->data + 8, bo, mm);
	exif_set_rational(e->data + 16, bo, ss);
	memcpy(r->data, deg < 0 ? neg : pos, 2);
}

/* The EXIF block a phone would write ("Exif\0\0" + TIFF), malloc'd. */
static unsigned char *
make_exif(const ps_shot *s, unsigned *len)
{
	ExifData *ed = exif_data_new();
	unsigned char *buf = NULL;
	ExifEntry *e;

	exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_INTEL);
	exif_data_set_data_type(ed, EXIF_DATA_TYPE_COMPRESSED);
	e = exif_put(ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH_IN_35MM_FILM,
	    EXIF_FORMAT_SHORT, 1);
	exif_set_short(e->data, EXIF_BYTE_ORDER_INTEL,
	    (ExifShort)lround(s->focal35 > 0 ? s->focal35 : 26));
	if (s->time) {
		e = exif_put(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL,
		    EXIF_FORMAT_ASCII, 20);
		memcpy(e->data, s->time, 19);
		e->data[19] = 0;
	}
	if (s->gps) {
		e = exif_put(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_VERSION_ID,
		    EXIF_FORMAT_BYTE, 4);
		memcpy(e->data, "\2\2\0\0", 4);
		exif_dms(ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF,
		    s->lat, "N", "S");
		exif_dms(ed, EXIF_TAG_GPS_LONGITUDE,
		    EXIF_TAG_GPS_LONGITUDE_REF, s->lon, "E", "W");
	}
	exif_data_save_data(ed, &buf, len);
	exif_data_unref(ed);
	return buf;
}

bool
ps_photo(const char *path, const ps_poster *posters, size_t n,
    const ps_shot *s)
{
	int fw = s->frame_w ? s->frame_w : 4000;
	int fh = s->frame_h ? s->frame_h : 3000;
	double f = ps_focal_px(s);
	unsigned char *frame = malloc((size_t)fw * fh);
	unsigned char *row, *ex;
	unsigned exlen = 0, st = s->seed * 2654435761u + 1;
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	wall w;
	FILE *fp;

	if (frame == NULL)
		return false;
	wall_of(s, &w);
	/* The wall: a light, slightly uneven paint. */
	for (int y = 0; y < fh; y++)
		for (int x = 0; x < fw; x++)
			frame[(size_t)y * fw + x] = (unsigned char)(190 + 25 *
			    sin(x * 0.0011 + y * 0.0007));
	for (size_t i = 0; i < n; i++)
		draw_poster(frame, fw, fh, s, &w, f, &posters[i]);
	if (s->blur_px >= 1)
		blur(frame, fw, fh, (int)lround(s->blur_px));
	if (s->glare > 0) {
		/* A specular highlight near the aim point. */
		double gx = fw / 2.0 + fw * 0.02, gy = fh / 2.0 - fh * 0.02;
		double sig = fw * 0.03;
		for (int y = 0; y < fh; y++)
			for (int x = 0; x < fw; x++) {
				double r2 = ((x - gx) * (x - gx) + (y - gy) *
				    (y - gy)) / (sig * sig);
				size_t i = (size_t)y * fw + x;
				double v;

				if (r2 > 16)
					continue;
				v = frame[i] + s->glare * 255 * exp(-r2);
				frame[i] = (unsigned char)(v > 255 ? 255 : v);
			}
	}
	if (s->noise > 0)
		for (size_t i = 0; i < (size_t)fw * fh; i++) {
			double v = frame[i] + s->noise * gauss(&st);
			frame[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 :
			    lround(v));
		}
	fp = fopen(path, "wb");
	if (fp == NULL) {
		free(frame);
		return false;
	}
	ci.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&ci);
	jpeg_stdio_dest(&ci, fp);
	ci.image_width = (JDIMENSION)fw;
	ci.image_height = (JDIMENSION)fh;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, s->quality ? s->quality : 88, TRUE);
	ci.write_JFIF_header = FALSE; /* phones write EXIF (APP1) instead */
	jpeg_start_compress(&ci, TRUE);
	ex = make_exif(s, &exlen);
	if (ex)
		jpeg_write_marker(&ci, JPEG_APP0 + 1, ex, exlen);
	free(ex);
	row = malloc((size_t)fw * 3);
	while (ci.next_scanline < ci.image_height) {
		const unsigned char *g = frame + (size_t)ci.next_scanline * fw;
		/* A warm white balance: colour JPEG like a phone's. */
		for (int x = 0; x < fw; x++) {
			row[3 * x] = g[x];
			row[3 * x + 1] = (unsigned char)(g[x] * 0.97);
			row[3 * x + 2] = (unsigned char)(g[x] * 0.92);
		}
		(void)jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	free(row);
	free(frame);
	return fclose(fp) == 0;
}
