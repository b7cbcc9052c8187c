/*
 * verify.c - decode QR codes from a raster rendering with libzbar.
 */
#include "verify.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

#include "render.h"

/* Pixels per module: zbar reads 2 reliably; 5 leaves a wide margin for
 * the anti-aliased edges of a vector drawing. */
#define PX_PER_MODULE 5.0

struct qp_verifier {
	zbar_image_scanner_t *scanner;
};

qp_verifier *
qp_verifier_new(void)
{
	qp_verifier *v = qp_xcalloc(1, sizeof *v);

	v->scanner = zbar_image_scanner_create();
	zbar_image_scanner_set_config(v->scanner, ZBAR_NONE, ZBAR_CFG_ENABLE,
	    0);
	zbar_image_scanner_set_config(v->scanner, ZBAR_QRCODE,
	    ZBAR_CFG_ENABLE, 1);
	/* The payload's bytes as they are, not re-encoded by a guess at
	 * their character set. */
	zbar_image_scanner_set_config(v->scanner, ZBAR_QRCODE,
	    ZBAR_CFG_BINARY, 1);
	return v;
}

void
qp_verifier_free(qp_verifier *v)
{
	if (v == NULL)
		return;
	zbar_image_scanner_destroy(v->scanner);
	free(v);
}

/* Decode the grey square (x, y, side) of img; true if one symbol reads
 * exactly want, else err says what was read. */
static bool
scan_area(qp_verifier *v, cairo_surface_t *img, int x, int y, int side,
    const char *block, const char *want, qp_error *err)
{
	int w = cairo_image_surface_get_width(img);
	int h = cairo_image_surface_get_height(img);
	int stride = cairo_image_surface_get_stride(img);
	const unsigned char *data = cairo_image_surface_get_data(img);
	unsigned char *grey;
	zbar_image_t *zi;
	const zbar_symbol_t *sym;
	size_t wantlen = strlen(want);
	bool ok = false;
	int n;
	char got[256] = "";

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x + side > w)
		side = w - x;
	if (y + side > h)
		side = h - y;
	if (side <= 0)
		return qp_fail(err, "block '%s': the code lies off the page",
		    block);
	grey = malloc((size_t)side * (size_t)side);
	if (grey == NULL)
		return qp_fail(err, "out of memory");
	for (int r = 0; r < side; r++) {
		const uint32_t *p = (const uint32_t *)(const void *)(data +
		    (size_t)(y + r) * stride) + x;
		for (int c = 0; c < side; c++) {
			uint32_t px = p[c];
			/* Rec. 601 luma, as a camera's grey would be. */
			grey[(size_t)r * side + c] = (unsigned char)
			    ((((px >> 16) & 0xff) * 299 + ((px >> 8) & 0xff) *
			    587 + (px & 0xff) * 114) / 1000);
		}
	}
	zi = zbar_image_create();
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)side, (unsigned)side);
	zbar_image_set_data(zi, grey, (unsigned long)side * side, NULL);
	n = zbar_scan_image(v->scanner, zi);
	for (sym = n > 0 ? zbar_image_first_symbol(zi) : NULL; sym;
	    sym = zbar_symbol_next(sym)) {
		const char *d = zbar_symbol_get_data(sym);
		unsigned len = zbar_symbol_get_data_length(sym);

		if (len == wantlen && memcmp(d, want, len) == 0) {
			ok = true;
			break;
		}
		snprintf(got, sizeof got, "%.*s", (int)(len < 200 ? len : 200),
		    d);
	}
	zbar_image_destroy(zi);
	free(grey);
	if (ok)
		return true;
	if (n <= 0)
		return qp_fail(err, "block '%s': the QR code does not decode "
		    "(expected '%s')", block, want);
	return qp_fail(err, "block '%s': the QR code decodes to '%s', "
	    "expected '%s'", block, got, want);
}

bool
qp_verify_page(qp_verifier *v, const qp_page *page,
    const char *const *payloads, size_t npayloads, qp_error *err)
{
	qp_render_opts o = QP_RENDER_OPTS_DEFAULT;
	double s = 0;
	size_t k = 0;
	cairo_surface_t *img;
	cairo_t *cr;
	bool ok = true;

	/* The scale that gives the smallest module PX_PER_MODULE pixels. */
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		if (it->kind == QP_ITEM_QR && (payloads || it->payload)) {
			double m = it->w / (it->qr->width + 2 * it->quiet);
			s = fmax(s, PX_PER_MODULE / m);
		}
	}
	if (s == 0)
		return npayloads == 0 || payloads == NULL ? true : qp_fail(err,
		    "the page has no QR code");
	if (page->w * s * page->h * s > 100e6)
		return qp_fail(err, "the QR modules are too small to check "
		    "on a page this size");
	img = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
	    (int)ceil(page->w * s), (int)ceil(page->h * s));
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(img);
		return qp_fail(err, "out of memory");
	}
	cr = cairo_create(img);
	cairo_scale(cr, s, s);
	/* As in the PDF: a 1-bit mask scaled with exact module edges. */
	qp_draw_page(cr, page, &o, 0, true);
	cairo_destroy(cr);
	cairo_surface_flush(img);
	for (size_t i = 0; i < page->nitems && ok; i++) {
		const qp_item *it = &page->items[i];
		const char *name = it->block ? it->block->id : "qr";

		if (it->kind != QP_ITEM_QR)
			continue;
		if (payloads == NULL) {
			/* The codes with a logo, against their own payload. */
			if (it->payload)
				ok = scan_area(v, img, (int)floor(it->x * s) - 2,
				    (int)floor(it->y * s) - 2,
				    (int)ceil(it->w * s) + 4, name, it->payload,
				    err);
			continue;
		}
		if (k >= npayloads) {
			ok = qp_fail(err, "block '%s': a QR code with no "
			    "payload to compare", name);
			break;
		}
		ok = scan_area(v, img, (int)floor(it->x * s) - 2,
		    (int)floor(it->y * s) - 2, (int)ceil(it->w * s) + 4, name,
		    payloads[k], err);
		k++;
	}
	cairo_surface_destroy(img);
	return ok;
}

bool
qp_verify_logos(const qp_page *page, qp_error *err)
{
	qp_verifier *v;
	bool ok, any = false;

	for (size_t i = 0; i < page->nitems && !any; i++)
		any = page->items[i].kind == QP_ITEM_QR &&
		    page->items[i].payload != NULL;
	if (!any)
		return true;
	v = qp_verifier_new();
	ok = qp_verify_page(v, page, NULL, 0, err);
	qp_verifier_free(v);
	if (!ok)
		qp_error_prefix(err, "a code with a logo must scan, and this "
		    "one was refused");
	return ok;
}
