/*
 * verify.h - read a poster's QR codes back the way a phone would: draw
 * the page to pixels, decode with libzbar, compare with the payload.
 */
#ifndef QP_VERIFY_H
#define QP_VERIFY_H

#include "layout.h"

typedef struct qp_verifier qp_verifier;

qp_verifier *qp_verifier_new(void);
void qp_verifier_free(qp_verifier *v);

/*
 * Draw page (everything on it, so a block drawn over a code counts) at a
 * resolution giving each module several pixels, then decode the area of
 * each QR item in turn: the k-th QR item must decode to exactly
 * payloads[k] (npayloads of them). Errors name the block and say what
 * was read instead.
 */
bool qp_verify_page(qp_verifier *v, const qp_page *page,
    const char *const *payloads, size_t npayloads, qp_error *err);

/*
 * Every code on page with a logo (its item's payload set) decoded back
 * (qp_verify_page, each against its own payload): the renderers call it
 * before they write a page, so no command ever writes a logo code that
 * does not scan. True when there is none.
 */
bool qp_verify_logos(const qp_page *page, qp_error *err);

#endif
