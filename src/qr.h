/*
 * qr.h - payload -> QR module matrix through libqrencode.
 */
#ifndef QP_QR_H
#define QP_QR_H

#include "util.h"

/* A batch's workers send this to the drawing process field by field
 * (batch_combined.c: send_layout, read_known): a new field goes there. */
typedef struct qp_qr {
	int version; /* 1..40 */
	int width;   /* modules per side, without quiet zone */
	int ecc;     /* 0..3 = L M Q H */
	bool eci;    /* carries ECI 26 (UTF-8) before the data */
	unsigned char *dark; /* width*width, 1 = dark module */
	unsigned char *func; /* width*width, 1 = a function pattern, format
	                      * or version module (not data or ECC) */
} qp_qr;

/*
 * A URL with the bytes a URI may not hold (non-ASCII, spaces, quotes...)
 * percent-encoded, as a browser would send it: phones open it without
 * guessing an encoding. A non-ASCII host is an error (use punycode).
 * Returns a malloc'd string, or NULL with err set.
 */
char *qp_qr_url_normalize(const char *url, qp_error *err);

/*
 * ecc "auto": the highest level whose symbol is the same version (the
 * same number of modules) as at QP_QR_ECC_AUTO_FLOOR, so a code gains
 * error correction where it costs no size. Never below the floor (M, the
 * default level).
 */
#define QP_QR_ECC_AUTO 4
#define QP_QR_ECC_AUTO_FLOOR 1

/*
 * Encode payload (UTF-8 bytes, 8-bit mode with libqrencode's mode
 * optimisation; a payload with any non-ASCII byte is preceded by the
 * ECI designator 26 = UTF-8 and goes in one 8-bit segment) at ecc (0..3
 * = L, M, Q, H, or QP_QR_ECC_AUTO), choosing the smallest version; the
 * result's ecc is the level used.
 * Returns NULL with err set when the payload is empty or too long for any
 * version at that level (the message gives the payload's length and the
 * largest that fits).
 */
qp_qr *qp_qr_encode(const char *payload, int ecc, qp_error *err);
void qp_qr_free(qp_qr *q);

/* The most bytes version 40 holds in 8-bit mode at ecc (0..3). */
int qp_qr_capacity(int ecc);

/* The share of its codewords each level can restore: L 7%, M 15%,
 * Q 25%, H 30% (ISO/IEC 18004 table 13). */
double qp_qr_ecc_recovery(int ecc);

/* "L", "M", "Q", "H" -> 0..3, "auto" -> QP_QR_ECC_AUTO; -1 if not one
 * of them. */
int qp_qr_ecc_parse(const char *s);
char qp_qr_ecc_name(int ecc);

#endif
