/*
 * zxread.h - ZXing-cpp's QR reader behind a C interface (zxread.cpp is
 * the project's only C++ file; nothing C++ crosses this header).
 *
 * Why a second reader beside libzbar: ZXing finds the codes zbar misses
 * in photos taken at an angle or from further away, and it reports a
 * QR code it located but could not decode (finder patterns found, data
 * damaged), with its corners: that is how audit tells "a QR-like
 * pattern that does not read" from "no code in the photo", and how it
 * measures the module size of a code too small to read.
 */
#ifndef QP_ZXREAD_H
#define QP_ZXREAD_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qp_zx_code {
	char *data;      /* payload bytes (NUL-terminated), NULL if !decoded */
	size_t len;
	bool decoded;    /* false: located, but the data did not decode */
	double quad[8];  /* corners x0 y0 .. x3 y3, image pixels */
} qp_zx_code;

typedef struct qp_zx_codes {
	qp_zx_code *v;
	size_t n;
} qp_zx_codes;

/*
 * Find every QR code in an 8-bit grey image (w x h, rows stride bytes
 * apart). Fills out (freed with qp_zx_codes_free); false only when the
 * library failed (out of memory), with why filled (whysz bytes).
 */
bool qp_zx_read(const unsigned char *grey, int w, int h, int stride,
    qp_zx_codes *out, char *why, size_t whysz);
void qp_zx_codes_free(qp_zx_codes *c);

#ifdef __cplusplus
}
#endif

#endif
