/*
 * diag.h - findings: what is wrong with a poster (or with a value for
 * one), each with a stable code.
 *
 * A finding is data: a code, a severity (fixed by the code), where it
 * is (the block and its line:column in the template, the CSV line and
 * column, the variables concerned) and its numbers. The message a user
 * reads is made from them here, so the command line, the web editor and
 * the manifest say the same thing, and the editor and the tests look at
 * the code, never at the wording.
 *
 * A leaf module: it depends on util.h only (no template, no layout), so
 * every stage can report findings without a cycle.
 *
 * The codes. The number and the name of a code never change meaning; a
 * new check gets a new code. Messages end with the name in brackets,
 * "... [text-contrast]". templates/CHECKS.md describes each one.
 *
 *   no.  name                  sev.   what
 *   Values (bind.h): -s, CSV cells, web form fields
 *   101  value-utf8            error  the value is not valid UTF-8
 *   102  value-control         error  a control character (not tab, LF, CR)
 *   103  value-too-long        error  over QP_VALUE_MAX bytes
 *   104  value-missing         error  a variable the poster uses has no value
 *   105  value-choice          error  not one of the variable's choices
 *   106  unknown-variable      error  -s or a form field names no variable
 *   107  set-syntax            error  -s without KEY=VALUE
 *   108  column-missing        error  the CSV lacks a column the poster needs
 *   109  column-unused         warn.  a CSV column is not a variable
 *   110  value-empty           error  a required variable is given ""
 *   111  column-twice          error  two CSV columns name one variable
 *   112  value-unused          warn.  a value given for what the poster
 *                                     does not draw (a when: does not hold)
 *   113  profile-unused        warn.  a profile's key the template does not use
 *   Links and payloads
 *   201  link-not-http         error  a link is not an absolute http(s) URL
 *   202  link-host             error  a URL's host is not plain ASCII
 *   203  qr-payload-empty      error  the QR payload is empty
 *   204  qr-too-long           error  no QR version holds the payload
 *   QR codes
 *   301  qr-module-too-small   error  modules below the printable minimum
 *   302  qr-scan-distance      error  code narrower than a tenth of its distance
 *   303  qr-inverted           error  light modules on a dark background
 *   304  qr-contrast           error  code contrast below 3:1
 *   305  qr-contrast-fair      warn.  code contrast below 4.5:1
 *   306  qr-quiet-zone         error  something inside the quiet zone
 *   307  caption-no-room       error  no room for the caption under the code
 *   308  qr-logo-pattern       error  a logo would hide a pattern scanners need
 *   309  qr-logo-too-big       error  a logo clears more than half the ECC can restore
 *   310  qr-logo-unreadable    error  a code with its logo does not decode
 *   Text
 *   401  text-overflow         error  does not fit its box at size.min
 *   402  text-too-small        error  set below the template's min_text_size
 *   403  text-may-shrink       warn.  size.min below min_text_size
 *   404  text-contrast         error  below WCAG 2.1 AA against its background
 *   405  text-overlap          error  two texts' ink overlaps
 *   406  markup-invalid        error  the text is not valid Pango markup
 *   407  glyph-missing         error  no font of qrposter's covers a character
 *   408  font-missing          error  the block's font family is not installed
 *   409  font-no-family        error  the block's font names no family
 *   410  text-no-translation   error  no version of a text in the language
 *   411  lang-unknown          error  a language the template does not carry
 *   412  national-wording      warn.  fixed text names the national hotline
 *                                     and the number is another
 *   The page
 *   501  off-page              error  ink or a code outside the page
 *   502  outside-safe-area     error  (with a bleed) inside the trimmed margin
 *   Pictures
 *   601  image-low-ppi         error  a PNG/JPEG below QP_IMAGE_MIN_PPI printed
 *   602  image-fair-ppi        warn.  below QP_IMAGE_GOOD_PPI
 *   Link and number policy (policy.h)
 *   701  link-not-https        error  the policy asks for https
 *   702  link-shortener        error  a shortener or dynamic-QR redirect
 *   703  link-domain           error  not on the policy's domains
 *   704  caption-no-domain     error  the page does not show the link's domain
 *   705  number-near-official  error  a number one or two digits off an official one
 *   Posting laws (law.h; with --law)
 *   801  law-page-size         error  the page is smaller than the law asks
 *   802  law-type-size         error  text set below the law's type size
 *   803  law-language          error  no text in a language the law asks for
 *   804  law-phrase            error  a phrase or number is not on the poster
 *   805  law-phrase-style      error  it is, but not bold / prominent / large
 *   806  law-text              error  the prescribed text is not there word
 *                                     for word
 *   807  law-text-similar      warn.  the same where the law allows similar
 *                                     wording
 *   808  law-text-style        error  the prescribed text not bold / too small
 *   809  law-advisory          warn.  a rule the sources disagree on failed
 *   810  law-stale             warn.  a pack last checked over a year ago
 *   Prepress (prepress.h; check --print)
 *   901  print-ink-limit       error  total ink over the limit (300 %)
 *   902  print-rgb             error  RGB colour left in the CMYK file
 *   903  print-hairline        error  a stroke or rule thinner than 0.25 pt
 *   904  print-image-ppi       error  a picture in the file below 300 ppi
 *   905  print-text-small      error  text below the press's 6 pt
 *   906  print-qr-inks         warn.  a code's dark modules in several inks
 */
#ifndef QP_DIAG_H
#define QP_DIAG_H

#include "util.h"

/* X(enum suffix, number, name, severity) */
#define QP_DIAG_CODES(X) \
	X(VALUE_UTF8, 101, "value-utf8", ERROR) \
	X(VALUE_CONTROL, 102, "value-control", ERROR) \
	X(VALUE_TOO_LONG, 103, "value-too-long", ERROR) \
	X(VALUE_MISSING, 104, "value-missing", ERROR) \
	X(VALUE_CHOICE, 105, "value-choice", ERROR) \
	X(UNKNOWN_VARIABLE, 106, "unknown-variable", ERROR) \
	X(SET_SYNTAX, 107, "set-syntax", ERROR) \
	X(COLUMN_MISSING, 108, "column-missing", ERROR) \
	X(COLUMN_UNUSED, 109, "column-unused", WARNING) \
	X(VALUE_EMPTY, 110, "value-empty", ERROR) \
	X(COLUMN_TWICE, 111, "column-twice", ERROR) \
	X(VALUE_UNUSED, 112, "value-unused", WARNING) \
	X(PROFILE_UNUSED, 113, "profile-unused", WARNING) \
	X(LINK_NOT_HTTP, 201, "link-not-http", ERROR) \
	X(LINK_HOST, 202, "link-host", ERROR) \
	X(QR_PAYLOAD_EMPTY, 203, "qr-payload-empty", ERROR) \
	X(QR_TOO_LONG, 204, "qr-too-long", ERROR) \
	X(QR_MODULE_TOO_SMALL, 301, "qr-module-too-small", ERROR) \
	X(QR_SCAN_DISTANCE, 302, "qr-scan-distance", ERROR) \
	X(QR_INVERTED, 303, "qr-inverted", ERROR) \
	X(QR_CONTRAST, 304, "qr-contrast", ERROR) \
	X(QR_CONTRAST_FAIR, 305, "qr-contrast-fair", WARNING) \
	X(QR_QUIET_ZONE, 306, "qr-quiet-zone", ERROR) \
	X(CAPTION_NO_ROOM, 307, "caption-no-room", ERROR) \
	X(QR_LOGO_PATTERN, 308, "qr-logo-pattern", ERROR) \
	X(QR_LOGO_TOO_BIG, 309, "qr-logo-too-big", ERROR) \
	X(QR_LOGO_UNREADABLE, 310, "qr-logo-unreadable", ERROR) \
	X(TEXT_OVERFLOW, 401, "text-overflow", ERROR) \
	X(TEXT_TOO_SMALL, 402, "text-too-small", ERROR) \
	X(TEXT_MAY_SHRINK, 403, "text-may-shrink", WARNING) \
	X(TEXT_CONTRAST, 404, "text-contrast", ERROR) \
	X(TEXT_OVERLAP, 405, "text-overlap", ERROR) \
	X(MARKUP_INVALID, 406, "markup-invalid", ERROR) \
	X(GLYPH_MISSING, 407, "glyph-missing", ERROR) \
	X(FONT_MISSING, 408, "font-missing", ERROR) \
	X(FONT_NO_FAMILY, 409, "font-no-family", ERROR) \
	X(TEXT_NO_TRANSLATION, 410, "text-no-translation", ERROR) \
	X(LANG_UNKNOWN, 411, "lang-unknown", ERROR) \
	X(NATIONAL_WORDING, 412, "national-wording", WARNING) \
	X(OFF_PAGE, 501, "off-page", ERROR) \
	X(OUTSIDE_SAFE_AREA, 502, "outside-safe-area", ERROR) \
	X(IMAGE_LOW_PPI, 601, "image-low-ppi", ERROR) \
	X(IMAGE_FAIR_PPI, 602, "image-fair-ppi", WARNING) \
	X(LINK_NOT_HTTPS, 701, "link-not-https", ERROR) \
	X(LINK_SHORTENER, 702, "link-shortener", ERROR) \
	X(LINK_DOMAIN, 703, "link-domain", ERROR) \
	X(CAPTION_NO_DOMAIN, 704, "caption-no-domain", ERROR) \
	X(NUMBER_NEAR_OFFICIAL, 705, "number-near-official", ERROR) \
	X(LAW_PAGE_SIZE, 801, "law-page-size", ERROR) \
	X(LAW_TYPE_SIZE, 802, "law-type-size", ERROR) \
	X(LAW_LANGUAGE, 803, "law-language", ERROR) \
	X(LAW_PHRASE, 804, "law-phrase", ERROR) \
	X(LAW_PHRASE_STYLE, 805, "law-phrase-style", ERROR) \
	X(LAW_TEXT, 806, "law-text", ERROR) \
	X(LAW_TEXT_SIMILAR, 807, "law-text-similar", WARNING) \
	X(LAW_TEXT_STYLE, 808, "law-text-style", ERROR) \
	X(LAW_ADVISORY, 809, "law-advisory", WARNING) \
	X(LAW_STALE, 810, "law-stale", WARNING) \
	X(PRINT_INK_LIMIT, 901, "print-ink-limit", ERROR) \
	X(PRINT_RGB, 902, "print-rgb", ERROR) \
	X(PRINT_HAIRLINE, 903, "print-hairline", ERROR) \
	X(PRINT_IMAGE_PPI, 904, "print-image-ppi", ERROR) \
	X(PRINT_TEXT_SMALL, 905, "print-text-small", ERROR) \
	X(PRINT_QR_INKS, 906, "print-qr-inks", WARNING)

typedef enum qp_code {
	QP_D_NONE = 0,
#define QP_DIAG_ENUM_(e, n, name, sev) QP_D_##e = n,
	QP_DIAG_CODES(QP_DIAG_ENUM_)
#undef QP_DIAG_ENUM_
} qp_code;

typedef enum qp_severity {
	QP_DIAG_WARNING,
	QP_DIAG_ERROR,
} qp_severity;

#define QP_DIAG_NUMS 8
#define QP_DIAG_STRS 6

/*
 * What a finding is made from. Which of n[] and s[] a code reads is
 * listed in diag.c beside its message; unused ones stay 0 / NULL.
 */
typedef struct qp_diag_in {
	const char *block; /* the block's id, or NULL (the page, a value) */
	bool caption;      /* about the QR block's caption, not its code */
	int line, col;     /* the block in the template; 0 if unknown */
	size_t csv_line;   /* the CSV record's first line; 0 if none */
	const char *column; /* the CSV column, or NULL */
	const char *var;   /* the variable concerned, or NULL */
	double n[QP_DIAG_NUMS];
	const char *s[QP_DIAG_STRS];
} qp_diag_in;

/* One finding. Everything is owned by the list it is in. */
typedef struct qp_diag {
	qp_code code;
	qp_severity sev;
	char *block;
	bool caption;
	int line, col;
	size_t csv_line;
	char *column;
	char **vars; /* the variables concerned (none: nvars == 0) */
	size_t nvars;
	double n[QP_DIAG_NUMS];
	char *s[QP_DIAG_STRS];
	char *msg; /* made from the above, ends with " [name]" */
	size_t body; /* msg + body: the message after its subject
	              * ("block 'x': ", "column 'c': ", "variable 'v': ") */
} qp_diag;

typedef struct qp_diag_list {
	qp_diag *v;
	size_t n;
	size_t nerrors, nwarnings;
} qp_diag_list;

void qp_diag_list_init(qp_diag_list *l);
/* Free every entry; the list is left empty and reusable. NULL is fine. */
void qp_diag_list_clear(qp_diag_list *l);

/* Add a finding and make its message; returns it (valid until the next
 * push). */
qp_diag *qp_diag_push(qp_diag_list *l, qp_code code, const qp_diag_in *in);
/* Note one more variable the finding concerns (once each). */
void qp_diag_add_var(qp_diag *d, const char *var);
/* Move every finding of src to the end of dst; src is left empty. */
void qp_diag_list_move(qp_diag_list *dst, qp_diag_list *src);
/* The first error in l, or NULL. */
const qp_diag *qp_diag_first_error(const qp_diag_list *l);

/* The offset in msg of its trailing " [code]" (a finding's message),
 * or strlen(msg) if it has none: where a caller inserts words of its
 * own ("(give it with -s code=VALUE)") so that the code stays last. */
size_t qp_diag_code_at(const char *msg);

/* "value-control", ... ("" for an unknown code). */
const char *qp_code_name(qp_code code);
/* The code called name, or QP_D_NONE. */
qp_code qp_code_from_name(const char *name);
qp_severity qp_code_severity(qp_code code);
/* "error" or "warning". */
const char *qp_severity_name(qp_severity sev);

/*
 * One line for a list of findings: the first error's message, and when
 * there are more errors, how many and their codes ("... [text-contrast]
 * (and 3 more errors: text-contrast, qr-contrast)"). For a batch row's
 * error and the manifest. Appends to out.
 */
void qp_diag_summary(const qp_diag_list *l, qp_buf *out);

#endif
