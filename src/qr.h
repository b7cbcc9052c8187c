/*
 * qr.h - payload -> QR module matrix through libqrencode.
 */
#ifndef QP_QR_H
#define QP_QR_H

#include "util.h"

typedef struct qp_qr {
	int version; /* 1..40 */
	int width;   /* modules per side, without quiet zone */
	int ecc;     /* 0..3 = L M Q H */
	unsigned char *dark; /* width*width, 1 = dark module */
} qp_qr;

/*
 * Encode payload (UTF-8 bytes, 8-bit mode with libqrencode's mode
 * optimisation) at ecc (0..3 = L, M, Q, H), choosing the smallest version.
 * Returns NULL with err set when the payload is empty or too long for any
 * version at that level (the message gives the payload's length and the
 * largest that fits).
 */
qp_qr *qp_qr_encode(const char *payload, int ecc, qp_error *err);
void qp_qr_free(qp_qr *q);

/* "L", "M", "Q", "H" -> 0..3; -1 if not one of them. */
int qp_qr_ecc_parse(const char *s);
char qp_qr_ecc_name(int ecc);

#endif
