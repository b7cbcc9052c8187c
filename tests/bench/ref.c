/*
 * ref.c - the benchmark's yardstick: the restroom poster drawn with the
 * bare libraries (libqrencode, Cairo, PangoCairo), no template, no
 * checks, no shrink-to-fit, fixed sizes. What qrposter costs on top of
 * this is what its template engine, checks and manifest cost.
 *
 *   ref MODE CSV OUT [PART NPARTS]
 *   MODE: mask (QR as a 1-bit image mask, nearest-neighbour scaled),
 *         path (QR as one merged path), png (300 DPI through Cairo's own
 *         PNG writer, one file per row into the directory OUT)
 *   CSV: code,name lines (the first is a header; no quoting).
 *   PART/NPARTS: only rows whose index % NPARTS == PART (for running
 *   several processes).
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN 72.0

static void
text(cairo_t *cr, PangoLayout *l, const char *markup, const char *font,
    double size, double x, double y, double w, double h, unsigned rgb)
{
	PangoFontDescription *d = pango_font_description_from_string(font);
	int lw, lh;

	pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
	pango_layout_set_font_description(l, d);
	pango_font_description_free(d);
	pango_layout_set_width(l, (int)(w * PANGO_SCALE));
	pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
	pango_layout_set_markup(l, markup, -1);
	pango_layout_get_size(l, &lw, &lh);
	cairo_set_source_rgb(cr, (rgb >> 16 & 255) / 255.0,
	    (rgb >> 8 & 255) / 255.0, (rgb & 255) / 255.0);
	cairo_move_to(cr, x, y + (h - lh / (double)PANGO_SCALE) / 2);
	pango_cairo_show_layout(cr, l);
}

static void
qr(cairo_t *cr, const char *payload, double x, double y, double w,
    int mode)
{
	QRcode *q = QRcode_encodeString(payload, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1);
	int n = q->width + 8;
	double m = w / n, ox = x + 4 * m, oy = y + 4 * m;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, w, w);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	if (mode == 0) {
		cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A1,
		    q->width, q->width);
		unsigned char *data = cairo_image_surface_get_data(s);
		int stride = cairo_image_surface_get_stride(s);
		cairo_pattern_t *p;
		cairo_matrix_t mx;

		memset(data, 0, (size_t)stride * q->width);
		for (int r = 0; r < q->width; r++)
			for (int c = 0; c < q->width; c++)
				if (q->data[r * q->width + c] & 1)
					((unsigned *)(void *)(data + r * stride))
					    [c >> 5] |= 1u << (c & 31);
		cairo_surface_mark_dirty(s);
		p = cairo_pattern_create_for_surface(s);
		cairo_pattern_set_filter(p, CAIRO_FILTER_NEAREST);
		cairo_matrix_init_scale(&mx, 1 / m, 1 / m);
		cairo_matrix_translate(&mx, -ox, -oy);
		cairo_pattern_set_matrix(p, &mx);
		cairo_mask(cr, p);
		cairo_pattern_destroy(p);
		cairo_surface_destroy(s);
	} else {
		for (int r = 0; r < q->width; r++)
			for (int c = 0; c < q->width; c++) {
				int s = c;
				while (c < q->width && (q->data[r * q->width + c]
				    & 1))
					c++;
				if (c > s)
					cairo_rectangle(cr, ox + s * m, oy + r * m,
					    (c - s) * m, m);
			}
		cairo_fill(cr);
	}
	QRcode_free(q);
}

static void
poster(cairo_t *cr, PangoLayout *l, const char *code, const char *name,
    int mode)
{
	char payload[512], foot[1024];

	snprintf(payload, sizeof payload,
	    "https://humantraffickinghotline.org/?loc=%s", code);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0x0B / 255.0, 0x3D / 255.0, 0x91 / 255.0);
	cairo_rectangle(cr, 0, 0, 8.5 * IN, 2.35 * IN);
	cairo_fill(cr);
	text(cr, l, "<b>Are you being forced to work or to sell sex?\n"
	    "Is someone you know?</b>", "Noto Sans", 40, 0.5 * IN, 0.3 * IN,
	    7.5 * IN, 1.75 * IN, 0xFFFFFF);
	text(cr, l, "Get help or report it. Call 24/7, free and confidential:",
	    "Noto Sans", 20, 0.5 * IN, 2.5 * IN, 7.5 * IN, 0.45 * IN, 0x1A1A1A);
	text(cr, l, "<b>1-888-373-7888</b>", "Noto Sans", 68, 0.5 * IN,
	    2.95 * IN, 7.5 * IN, 1.0 * IN, 0x0B3D91);
	text(cr, l, "or text <b>233733</b>", "Noto Sans", 34, 0.5 * IN,
	    3.95 * IN, 7.5 * IN, 0.6 * IN, 0x1A1A1A);
	text(cr, l, "Or scan to report online. No name needed.", "Noto Sans",
	    18, 0.5 * IN, 4.62 * IN, 7.5 * IN, 0.4 * IN, 0x1A1A1A);
	qr(cr, payload, (8.5 - 5.1) / 2 * IN, 5.0 * IN, 5.1 * IN, mode);
	text(cr, l, "https://humantraffickinghotline.org/", "Noto Sans", 15,
	    0.5 * IN, 10.1 * IN, 7.5 * IN, 0.3 * IN, 0x333333);
	snprintf(foot, sizeof foot, "Not law enforcement or immigration. More "
	    "than 200 languages. In an emergency, call <b>911</b>.\n"
	    "<span foreground=\"#555555\">Location: %s · %s</span>", name,
	    code);
	text(cr, l, foot, "Noto Sans", 11, 0.5 * IN, 10.42 * IN, 7.5 * IN,
	    0.5 * IN, 0x1A1A1A);
}

int
main(int argc, char **argv)
{
	int mode, part = 0, nparts = 1;
	FILE *fp;
	char line[1024];
	long idx = -1;
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	PangoLayout *l = NULL;
	const char *fonts = getenv("QRPOSTER_DATADIR");
	char fdir[1024];

	if (argc < 4)
		return 2;
	mode = !strcmp(argv[1], "mask") ? 0 : !strcmp(argv[1], "path") ? 1 : 2;
	if (argc >= 6) {
		part = atoi(argv[4]);
		nparts = atoi(argv[5]);
	}
	snprintf(fdir, sizeof fdir, "%s/fonts", fonts ? fonts : ".");
	FcConfigAppFontAddDir(NULL, (const FcChar8 *)fdir);
	if ((fp = fopen(argv[2], "r")) == NULL)
		return 1;
	if (mode < 2) {
		s = cairo_pdf_surface_create(argv[3], 8.5 * IN, 11 * IN);
		cr = cairo_create(s);
		l = pango_cairo_create_layout(cr);
	}
	while (fgets(line, sizeof line, fp)) {
		char *code = line, *name = strchr(line, ','), *e;

		if (idx++ < 0 || name == NULL || idx % nparts != part)
			continue;
		*name++ = '\0';
		if ((e = strpbrk(name, "\r\n")) != NULL)
			*e = '\0';
		if (mode < 2) {
			poster(cr, l, code, name, mode);
			cairo_show_page(cr);
		} else {
			cairo_surface_t *img = cairo_image_surface_create(
			    CAIRO_FORMAT_RGB24, 2550, 3300);
			cairo_t *c2 = cairo_create(img);
			PangoLayout *l2 = pango_cairo_create_layout(c2);
			char out[2048];

			cairo_scale(c2, 300 / IN, 300 / IN);
			poster(c2, l2, code, name, 0);
			snprintf(out, sizeof out, "%s/%s.png", argv[3], code);
			cairo_surface_write_to_png(img, out);
			g_object_unref(l2);
			cairo_destroy(c2);
			cairo_surface_destroy(img);
		}
	}
	fclose(fp);
	if (l)
		g_object_unref(l);
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	return 0;
}
