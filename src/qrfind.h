/*
 * qrfind.h - locate QR codes by their three finder patterns alone, when
 * no reader can decode them: a code too small in the frame (a photo from
 * too far away), or one with a sticker over its middle.
 *
 * Neither libzbar nor ZXing-cpp 1.4 reports a code it cannot decode at
 * these sizes (about 1.5 to 3 pixels a module), so audit could not tell
 * "too far away" from "no code at all" without this. It is a plain
 * finder-pattern search (the 1:1:3:1:1 runs of ISO/IEC 18004 section
 * 12, across and down), tolerant of the blur of a phone photo; it never
 * decodes anything.
 */
#ifndef QP_QRFIND_H
#define QP_QRFIND_H

#include <stddef.h>

typedef struct qp_qrfind {
	double quad[8];   /* the code's corners (x0 y0 .. x3 y3), pixels */
	double module_px; /* module size measured on the finder patterns */
	int modules;      /* modules per side the geometry suggests */
} qp_qrfind;

/*
 * Find up to max codes in an 8-bit grey image (w x h, rows w bytes
 * apart) with modules of at least min_module pixels. Returns how many
 * were written to out.
 */
size_t qp_qrfind_locate(const unsigned char *grey, int w, int h,
    double min_module, qp_qrfind *out, size_t max);

#endif
