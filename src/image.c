/*
 * image.c - PNG and JPEG through gdk-pixbuf, SVG through librsvg (see
 * image.h for the choice).
 */
#include "image.h"

#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <librsvg/rsvg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Largest file read: far above any sensible logo or photo. */
#define MAX_FILE (64L * 1024 * 1024)

struct qp_image {
	qp_image_kind kind;
	char *path;
	/* PNG, JPEG: premultiplied native-endian ARGB32, as Cairo wants */
	int w, h, stride;
	unsigned char *px;
	bool alpha, soft;
	/* SVG: the file, parsed again where it is drawn (an RsvgHandle is
	 * for one thread), and its size */
	unsigned char *svg;
	size_t svglen;
	double sw, sh;
};

static const char *const kind_names[] = {"PNG", "JPEG", "SVG"};

static unsigned char *
read_all(const char *path, size_t *len, qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	unsigned char *d;

	if (fp == NULL) {
		qp_fail(err, "cannot read the image '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		qp_fail(err, "the image '%s' is not a regular file", path);
		return NULL;
	}
	if (st.st_size > MAX_FILE) {
		fclose(fp);
		qp_fail(err, "the image '%s' is %lld MB; the limit is %ld MB",
		    path, (long long)st.st_size / 1024 / 1024,
		    MAX_FILE / 1024 / 1024);
		return NULL;
	}
	d = qp_xmalloc((size_t)st.st_size + 1);
	*len = fread(d, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		qp_fail(err, "cannot read the image '%s': %s", path,
		    strerror(errno));
		fclose(fp);
		free(d);
		return NULL;
	}
	fclose(fp);
	d[*len] = 0;
	return d;
}

/* What the first bytes say the file is: 0 PNG, 1 JPEG, 2 perhaps SVG
 * (text with "<svg"), -1 none of them. */
static int
sniff(const unsigned char *d, size_t n)
{
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return QP_IMAGE_PNG;
	if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return QP_IMAGE_JPEG;
	for (size_t i = 0; i + 4 <= n && i < 4096; i++)
		if (memcmp(d + i, "<svg", 4) == 0)
			return QP_IMAGE_SVG;
	return -1;
}

static unsigned long
be(const unsigned char *p, int n)
{
	unsigned long v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Width and height from the header, before decoding anything. */
static bool
raster_dims(qp_image_kind k, const unsigned char *d, size_t n,
    unsigned long *w, unsigned long *h)
{
	if (k == QP_IMAGE_PNG) {
		if (n < 24 || memcmp(d + 12, "IHDR", 4) != 0)
			return false;
		*w = be(d + 16, 4);
		*h = be(d + 20, 4);
		return true;
	}
	/* JPEG: the first start-of-frame marker (SOF0..SOF15 but DHT C4,
	 * JPG C8 and DAC CC) holds the height and width. */
	for (size_t i = 2; i + 9 < n;) {
		unsigned m;
		unsigned long len;

		if (d[i] != 0xFF) {
			i++;
			continue;
		}
		m = d[i + 1];
		if (m == 0xFF) {
			i++;
			continue;
		}
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			i += 2;
			continue;
		}
		len = be(d + i + 2, 2);
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 &&
		    m != 0xCC) {
			*h = be(d + i + 5, 2);
			*w = be(d + i + 7, 2);
			return true;
		}
		if (len < 2)
			return false;
		i += 2 + len;
	}
	return false;
}

static bool
decode_raster(qp_image *img, const unsigned char *d, size_t n,
    qp_error *err)
{
	GError *ge = NULL;
	GdkPixbufLoader *ld = gdk_pixbuf_loader_new_with_type(
	    img->kind == QP_IMAGE_PNG ? "png" : "jpeg", &ge);
	GdkPixbuf *pb = NULL, *rot;
	int ch, rs;
	const guchar *src;

	if (ld == NULL) {
		qp_fail(err, "cannot decode '%s': %s", img->path,
		    ge ? ge->message : "no loader");
		g_clear_error(&ge);
		return false;
	}
	if (!gdk_pixbuf_loader_write(ld, d, n, &ge) ||
	    !gdk_pixbuf_loader_close(ld, &ge) ||
	    (pb = gdk_pixbuf_loader_get_pixbuf(ld)) == NULL) {
		qp_fail(err, "'%s' does not decode as %s: %s", img->path,
		    kind_names[img->kind], ge ? ge->message : "no image");
		g_clear_error(&ge);
		if (pb == NULL)
			gdk_pixbuf_loader_close(ld, NULL);
		g_object_unref(ld);
		return false;
	}
	/* A phone photo is stored sideways with an EXIF orientation. */
	rot = gdk_pixbuf_apply_embedded_orientation(pb);
	img->w = gdk_pixbuf_get_width(rot);
	img->h = gdk_pixbuf_get_height(rot);
	ch = gdk_pixbuf_get_n_channels(rot);
	rs = gdk_pixbuf_get_rowstride(rot);
	src = gdk_pixbuf_read_pixels(rot);
	img->stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32,
	    img->w);
	img->px = qp_xmalloc((size_t)img->stride * (size_t)img->h);
	for (int y = 0; y < img->h; y++) {
		const guchar *s = src + (size_t)y * rs;
		uint32_t *o = (uint32_t *)(void *)(img->px +
		    (size_t)y * img->stride);

		for (int x = 0; x < img->w; x++, s += ch) {
			unsigned a = ch == 4 ? s[3] : 255;
			unsigned r = (s[0] * a + 127) / 255;
			unsigned g = (s[1] * a + 127) / 255;
			unsigned b = (s[2] * a + 127) / 255;

			if (a != 255)
				img->alpha = true;
			if (a != 255 && a != 0)
				img->soft = true;
			o[x] = (uint32_t)a << 24 | r << 16 | g << 8 | b;
		}
	}
	g_object_unref(rot);
	g_object_unref(ld);
	return true;
}

static bool
parse_svg(qp_image *img, qp_error *err)
{
	GError *ge = NULL;
	/* From memory, with no base file: the SVG cannot pull in other
	 * files (href="...") from the template's machine. */
	RsvgHandle *h = rsvg_handle_new_from_data(img->svg, img->svglen, &ge);
	gboolean has_w, has_h, has_vb;
	RsvgLength lw, lh;
	RsvgRectangle vb;
	double w = 0, hh = 0;

	if (h == NULL) {
		qp_fail(err, "'%s' is not an SVG image librsvg can read: %s",
		    img->path, ge ? ge->message : "parse error");
		g_clear_error(&ge);
		return false;
	}
	rsvg_handle_set_dpi(h, 96);
	if (rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hh) && w > 0 &&
	    hh > 0) {
		img->sw = w;
		img->sh = hh;
	} else {
		rsvg_handle_get_intrinsic_dimensions(h, &has_w, &lw, &has_h, &lh,
		    &has_vb, &vb);
		if (!has_vb || vb.width <= 0 || vb.height <= 0) {
			g_object_unref(h);
			return qp_fail(err, "the SVG '%s' has neither a size nor "
			    "a viewBox, so it cannot be fitted to a box",
			    img->path);
		}
		img->sw = vb.width;
		img->sh = vb.height;
	}
	g_object_unref(h);
	return true;
}

qp_image *
qp_image_load(const char *path, qp_error *err)
{
	const char *dot = strrchr(path, '.');
	qp_image *img;
	unsigned char *d;
	size_t n = 0;
	int is;
	unsigned long w = 0, h = 0;

	img = qp_xcalloc(1, sizeof *img);
	img->path = qp_xstrdup(path);
	if (dot && strcasecmp(dot, ".png") == 0)
		img->kind = QP_IMAGE_PNG;
	else if (dot && (strcasecmp(dot, ".jpg") == 0 ||
	    strcasecmp(dot, ".jpeg") == 0))
		img->kind = QP_IMAGE_JPEG;
	else if (dot && strcasecmp(dot, ".svg") == 0)
		img->kind = QP_IMAGE_SVG;
	else {
		qp_fail(err, "the image '%s' must be .png, .jpg or .svg", path);
		goto bad;
	}
	if ((d = read_all(path, &n, err)) == NULL)
		goto bad;
	is = sniff(d, n);
	if (is != (int)img->kind) {
		if (is >= 0)
			qp_fail(err, "'%s' is a %s image, not %s (rename it or "
			    "convert it)", path, kind_names[is],
			    kind_names[img->kind]);
		else
			qp_fail(err, "'%s' is not a %s image (its content is "
			    "not %s)", path, kind_names[img->kind],
			    kind_names[img->kind]);
		free(d);
		goto bad;
	}
	if (img->kind == QP_IMAGE_SVG) {
		img->svg = d;
		img->svglen = n;
		if (!parse_svg(img, err))
			goto bad;
		return img;
	}
	if (!raster_dims(img->kind, d, n, &w, &h) || w == 0 || h == 0) {
		qp_fail(err, "'%s' is a damaged %s image (no size in its "
		    "header)", path, kind_names[img->kind]);
		free(d);
		goto bad;
	}
	if ((double)w * (double)h > QP_IMAGE_MAX_PIXELS || w > 32767 ||
	    h > 32767) {
		qp_fail(err, "the image '%s' is %lux%lu pixels (%.0f "
		    "megapixels); the limit is %.0f megapixels and 32767 a "
		    "side: scale it down", path, w, h, (double)w * h / 1e6,
		    QP_IMAGE_MAX_PIXELS / 1e6);
		free(d);
		goto bad;
	}
	if (!decode_raster(img, d, n, err)) {
		free(d);
		goto bad;
	}
	free(d);
	return img;
bad:
	qp_image_free(img);
	return NULL;
}

void
qp_image_free(qp_image *img)
{
	if (img == NULL)
		return;
	free(img->path);
	free(img->px);
	free(img->svg);
	free(img);
}

qp_image_kind
qp_image_get_kind(const qp_image *img)
{
	return img->kind;
}

const char *
qp_image_path(const qp_image *img)
{
	return img->path;
}

void
qp_image_size(const qp_image *img, double *w, double *h)
{
	if (img->kind == QP_IMAGE_SVG) {
		*w = img->sw;
		*h = img->sh;
	} else {
		*w = img->w;
		*h = img->h;
	}
}

bool
qp_image_soft_alpha(const qp_image *img)
{
	return img->soft;
}

bool
qp_image_has_alpha(const qp_image *img)
{
	return img->alpha;
}

cairo_surface_t *
qp_image_surface(const qp_image *img, const qp_color *flatten)
{
	/* Cairo only reads pixels it did not draw: the shared buffer stays
	 * as it is. */
	cairo_surface_t *s = cairo_image_surface_create_for_data(img->px,
	    img->alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, img->w,
	    img->h, img->stride);
	cairo_surface_t *flat;
	cairo_t *cr;

	if (flatten == NULL || !img->alpha)
		return s;
	flat = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img->w, img->h);
	cr = cairo_create(flat);
	cairo_set_source_rgb(cr, flatten->r, flatten->g, flatten->b);
	cairo_paint(cr);
	cairo_set_source_surface(cr, s, 0, 0);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return flat;
}

bool
qp_image_draw_svg(const qp_image *img, cairo_t *cr, double w, double h,
    qp_error *err)
{
	GError *ge = NULL;
	RsvgHandle *hd = rsvg_handle_new_from_data(img->svg, img->svglen, &ge);
	RsvgRectangle vp = {0, 0, img->sw, img->sh};
	bool ok;

	if (hd == NULL) {
		qp_fail(err, "'%s': %s", img->path, ge ? ge->message : "parse "
		    "error");
		g_clear_error(&ge);
		return false;
	}
	rsvg_handle_set_dpi(hd, 96);
	cairo_save(cr);
	/* The picture's own size mapped onto w x h: the caller has chosen
	 * w and h for the fit (stretch may change the proportions). */
	cairo_scale(cr, w / img->sw, h / img->sh);
	ok = rsvg_handle_render_document(hd, cr, &vp, &ge);
	cairo_restore(cr);
	if (!ok) {
		qp_fail(err, "cannot draw the SVG '%s': %s", img->path, ge ?
		    ge->message : "render error");
		g_clear_error(&ge);
	}
	g_object_unref(hd);
	return ok;
}
