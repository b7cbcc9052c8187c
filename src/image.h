/*
 * image.h - picture files a template places: PNG and JPEG decoded with
 * gdk-pixbuf, SVG kept as vectors for librsvg.
 *
 * Why gdk-pixbuf: one Debian library made for loading PNG and JPEG, that
 * reads the size from the header before decoding (the pixel limit is
 * checked first), turns a JPEG by its EXIF orientation, and gives
 * messages worth showing; librsvg needs it anyway. Only its built-in PNG
 * and JPEG loaders are ever used: the file's own signature picks the
 * loader by name, so no other format's plug-in parses a template's file.
 *
 * A qp_image is read and checked once, when the template is loaded, and
 * is read-only afterwards: every page, document and thread shares it.
 * The drawing side (qp_image_surface, qp_image_draw_svg) is for the Cairo
 * backends; layout uses the sizes only.
 */
#ifndef QP_IMAGE_H
#define QP_IMAGE_H

#include <cairo.h>

#include "util.h"

typedef enum qp_image_kind {
	QP_IMAGE_PNG,
	QP_IMAGE_JPEG,
	QP_IMAGE_SVG,
} qp_image_kind;

typedef struct qp_image qp_image;

/* Largest picture decoded: 50 megapixels (200 MB decoded), far beyond a
 * logo at 600 ppi on a one-sheet. */
#define QP_IMAGE_MAX_PIXELS (50.0 * 1000 * 1000)

/*
 * Read path: PNG (.png), JPEG (.jpg, .jpeg) or SVG (.svg), by its name's
 * extension; the content must be that kind (a .png holding a JPEG, or
 * text, is an error saying what it is). NULL with err set: the file is
 * missing or unreadable, not the image it claims, too many pixels, or
 * does not decode. A relative path is taken as given (the template
 * resolves it first).
 */
qp_image *qp_image_load(const char *path, qp_error *err);
void qp_image_free(qp_image *img);

qp_image_kind qp_image_get_kind(const qp_image *img);
const char *qp_image_path(const qp_image *img);

/* The picture's own size: pixels for PNG and JPEG; for SVG its intrinsic
 * size in CSS pixels (96 per inch), or its viewBox proportions. */
void qp_image_size(const qp_image *img, double *w, double *h);

/* PNG/JPEG: some pixel is neither opaque nor fully clear (soft edges or
 * a shadow), or some pixel is not opaque at all. */
bool qp_image_soft_alpha(const qp_image *img);
bool qp_image_has_alpha(const qp_image *img);

/*
 * PNG/JPEG as a Cairo image surface over the shared pixels (no copy;
 * ARGB32, or RGB24 when opaque). The caller destroys it; one surface
 * painted on many pages of a PDF is embedded once. With flatten set the
 * pixels are composited over that colour first into a new surface (an
 * opaque image, for print files that cannot hold transparency).
 */
cairo_surface_t *qp_image_surface(const qp_image *img, const qp_color *flatten);

/* SVG drawn as vectors into the rectangle (0, 0, w, h) of cr's user space,
 * its aspect ratio as the caller computed it. False with err set when
 * librsvg fails. */
bool qp_image_draw_svg(const qp_image *img, cairo_t *cr, double w, double h,
    qp_error *err);

#endif
