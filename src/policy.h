/*
 * policy.h - the link and number policy, a preflight stage (check.c
 * calls qp_policy_check_page on every laid-out poster, so check,
 * render, batch and the web editor all apply it).
 *
 * Links (when the template declares policy:): every code's payload is
 * an https link, on one of the policy's domains (or a subdomain), never
 * on a link shortener or a dynamic-QR redirect service (the list in
 * templates/link-shorteners.txt, compiled in, with its sources), and
 * the code's caption - or, for a code without one, some text on the
 * page - shows the link's domain, so a person can see where a code goes
 * and a sticker with another domain stands out.
 *
 * Numbers (unless policy: says numbers: false): every phone or text
 * number printed (vanity letters read as a keypad would) or dialled by
 * a tel:/sms: code is compared with a registry of official numbers; one
 * that differs from an official number by one or two digits is an error
 * naming it ("1-888-373-3888 differs from the National Human Trafficking
 * Hotline 1-888-373-7888"). Such misprints are published in the wild.
 */
#ifndef QP_POLICY_H
#define QP_POLICY_H

#include "check.h"

/* Add the policy's findings for page (laid out from t) to out. */
void qp_policy_check_page(const qp_template *t, const qp_page *page,
    qp_diag_list *out);

/* An official number. */
typedef struct qp_official_number {
	const char *digits;  /* as dialled: 10 digits (NANP) or a short code */
	const char *printed; /* as it is published */
	const char *name;
	const char *source;
} qp_official_number;

/* The registry, and how many it holds. */
extern const qp_official_number qp_official_numbers[];
extern const size_t qp_nofficial_numbers;

/*
 * The official number that digits (as dialled, no punctuation) is a
 * near-miss of - one or two digits changed, or one inserted, dropped or
 * two swapped - or NULL when it is an official number itself or near
 * none. *dist is the number of edits.
 */
const qp_official_number *qp_policy_near_number(const char *digits,
    int *dist);

/* True if host (lower case) is a known link shortener or dynamic-QR
 * redirect domain, or a subdomain of one. */
bool qp_policy_is_shortener(const char *host);

/* The link shortener list: NULL-terminated (generated at build time
 * from templates/link-shorteners.txt). */
extern const char *const qp_link_shorteners[];

#endif
