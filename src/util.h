/*
 * util.h - small shared pieces: error reports, growable strings, strict
 * number and unit parsing, colours, and atomic output files.
 *
 * Lower layers never print or exit: every function that can fail returns
 * false (or NULL) and fills a qp_error the caller decides what to do with.
 */
#ifndef QP_UTIL_H
#define QP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define QP_VERSION "0.1.0"

/*
 * What the caller can change to get past an error, for the layer that
 * knows the caller's own words: the command line turns it into a flag
 * ("use --dpi 190 or lower", cmd_*.c), the web editor into a form field.
 * Library messages never name a command-line flag; they carry the hint.
 */
typedef enum qp_hint {
	QP_HINT_NONE = 0,
	QP_HINT_SET,        /* a KEY=VALUE the caller gave is wrong */
	QP_HINT_UNSET,      /* variable `name` has no value: give it one */
	QP_HINT_MAX_DPI,    /* too many pixels: `num` is the most DPI that fits */
	QP_HINT_KEEP_GOING, /* rows failed; the good ones could still be made */
	QP_HINT_PATTERN,    /* the output pattern gives every row one name */
} qp_hint;

/* One error message a user can act on: what, where, why; and the hint. */
typedef struct qp_error {
	char msg[1024];
	qp_hint hint;
	long num;      /* the number the hint is about */
	char name[64]; /* the name the hint is about */
} qp_error;

/* Fill err (may be NULL) with a printf-style message and no hint;
 * returns false so a caller can write `return qp_fail(err, ...)`. */
bool qp_fail(qp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Give err's message a hint (err may be NULL); returns false. */
bool qp_error_hint(qp_error *err, qp_hint hint, long num, const char *name);

/* Prefix an existing message: "prefix: old message". */
void qp_error_prefix(qp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation that never returns NULL: out of memory is a broken
 * invariant for a tool like this, reported and fatal (tmux's xmalloc). */
void *qp_xmalloc(size_t n);
void *qp_xcalloc(size_t n, size_t size);
void *qp_xrealloc(void *p, size_t n);
char *qp_xstrdup(const char *s);
char *qp_xstrndup(const char *s, size_t n);
char *qp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The one way an array grows: returns p (or its reallocation) with room
 * for at least n elements of elem bytes, *cap (elements) doubled as
 * often as needed from at least 16; a size that overflows size_t is out
 * of memory. Use as `v = qp_grow(v, &cap, n + 1, sizeof *v)`.
 */
void *qp_grow(void *p, size_t *cap, size_t n, size_t elem);

/* Growable NUL-terminated byte string. */
typedef struct qp_buf {
	char *data;
	size_t len;
	size_t cap;
} qp_buf;

void qp_buf_init(qp_buf *b);
void qp_buf_add(qp_buf *b, const char *s, size_t n);
void qp_buf_adds(qp_buf *b, const char *s);
void qp_buf_addc(qp_buf *b, char c);
void qp_buf_printf(qp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void qp_buf_reset(qp_buf *b);
/* Hand the string to the caller (who frees it); b is left empty. */
char *qp_buf_steal(qp_buf *b);
void qp_buf_free(qp_buf *b);

/*
 * Strict, locale-independent decimal parse of the whole of s (no
 * exponent, no hex, no leading/trailing junk). "12.5" and "-3" pass,
 * "12,5", "1e3", "", " 4" fail.
 */
bool qp_parse_number(const char *s, size_t len, double *out);
bool qp_parse_int(const char *s, long min, long max, long *out);

/* Lengths. */
#define QP_PT_PER_IN 72.0
#define QP_PT_PER_MM (72.0 / 25.4)

typedef enum qp_len_kind {
	QP_LEN_ABS, /* points */
	QP_LEN_PCT, /* percent of a reference length */
} qp_len_kind;

typedef struct qp_len {
	qp_len_kind kind;
	double v; /* points, or percent */
} qp_len;

/*
 * Parse a length: a number followed by pt, in, mm, cm, or % (if
 * allow_pct). A bare 0 is accepted. Fills err with the reason on failure.
 */
bool qp_parse_len(const char *s, bool allow_pct, qp_len *out, qp_error *err);
/* Parse a physical length and return points (no %): "2in", "50mm". */
bool qp_parse_points(const char *s, double *pt, qp_error *err);
/* Parse a distance in metres: "1m", "150cm", "10ft", "3.5 m". */
bool qp_parse_metres(const char *s, double *m, qp_error *err);

typedef struct qp_color {
	double r, g, b, a;
	/* cmyk(c,m,y,k): the inks as given (0..1), for CMYK print output
	 * (print.h); r, g, b then hold a screen approximation. */
	bool cmyk;
	double c, m, y, k;
} qp_color;

/* Value of a hexadecimal digit, or -1. */
int qp_hex_digit(char c);

/* "#RGB", "#RRGGBB", "#RRGGBBAA", a few CSS names (black, white...), or
 * "cmyk(C, M, Y, K)" with each ink 0..100 (an optional % after each). */
bool qp_parse_color(const char *s, qp_color *out, qp_error *err);
/* WCAG 2.1 relative luminance and contrast ratio (1..21). */
double qp_color_luminance(qp_color c);
double qp_color_contrast(qp_color a, qp_color b);

/* True if s is valid UTF-8; else *bad_off is the offset of the first bad
 * byte. */
bool qp_utf8_valid(const char *s, size_t len, size_t *bad_off);

/*
 * The first control character in s[0..len): C0 but tab, line feed and
 * carriage return, DEL, or C1 (U+0080..U+009F). Returns its code point
 * with *off its byte offset, or 0 if there is none. s must be valid UTF-8.
 */
unsigned long qp_text_control(const char *s, size_t len, size_t *off);

/* True for the invisible characters that reorder text: U+061C, U+200E,
 * U+200F, U+202A..U+202E and U+2066..U+2069. */
bool qp_is_bidi_control(unsigned long cp);

/*
 * Append s to out with everything a terminal would act on made visible:
 * control characters as \xNN (\r as \r; tab and line feed kept), C1
 * controls and direction controls as <U+XXXX>, and bytes that are not
 * UTF-8 as \xNN. Used on every message qrposter prints, so data quoted
 * in an error can never move the cursor, change colours or reorder text.
 */
void qp_visible(const char *s, qp_buf *out);

/* Levenshtein distance (small strings; for "did you mean"). */
size_t qp_edit_distance(const char *a, const char *b);
/* The candidate nearest to s (NULL if none is reasonably close). */
const char *qp_nearest(const char *s, const char *const *cands, size_t n);

/*
 * Atomic output: a temporary file in the same directory, renamed over the
 * destination on commit, removed on abort. A crash or a failure never
 * leaves a partial file under the real name.
 */
typedef struct qp_outfile {
	char *path;     /* final name */
	char *tmp_path; /* temporary name in the same directory */
	FILE *fp;
	bool write_failed;
	int saved_errno;
	int slot; /* 1 + its place in the temporary-file registry, or 0 */
	/* Set after opening, for a file a crash makes worthless anyway (a
	 * part of a combined PDF): committed without waiting for the disk
	 * (fsync), which costs milliseconds a file. */
	bool no_sync;
} qp_outfile;

bool qp_outfile_open(qp_outfile *o, const char *path, qp_error *err);
bool qp_outfile_write(qp_outfile *o, const void *data, size_t len);
bool qp_outfile_commit(qp_outfile *o, qp_error *err);
void qp_outfile_abort(qp_outfile *o);

/*
 * Remove every temporary file an open qp_outfile holds in this process.
 * Async-signal-safe: for a SIGINT/SIGTERM handler that then re-raises the
 * signal, so an interrupted render leaves no ".NAME.XXXXXX" behind.
 */
void qp_outfile_unlink_all(void);
/* In a child just forked: the temporaries listed are the parent's, which
 * the child must never remove; forget them. */
void qp_outfile_forget_all(void);
/*
 * How many files this process has committed (renamed into place) so far;
 * the count and the rename change together, with every signal held.
 * Async-signal-safe: a handler that is about to end the process compares
 * it with the count its bookkeeping (a manifest line) last accounted for.
 */
unsigned long qp_outfile_commits(void);
/*
 * List path, a finished file that is still a temporary of this process
 * (a part of a combined PDF, pdfrun.h), with the temporaries
 * qp_outfile_unlink_all removes; returns its slot for qp_outfile_unlist
 * (when the file is gone or another process owns it), 0 if the list is
 * full (the file is then just not listed). Thread-safe.
 */
int qp_outfile_list(const char *path);
void qp_outfile_unlist(int slot);
/*
 * A process killed outright (SIGKILL, the OOM killer) cannot remove its
 * temporary file: remove what one left for path, the ".NAME.XXXXXX"
 * files qp_outfile_open makes beside it.
 */
void qp_outfile_remove_left(const char *path);
/* What follows strerror(e) in a message about a failed write: a hint
 * when the disk or the file size limit is full, else "". */
const char *qp_write_error_hint(int e);

/*
 * Mark path (an input: a template, a CSV) so that qp_outfile_open refuses
 * to replace it: an output that resolves to the same device and inode is
 * an error naming what. Missing files are ignored. Thread-safe.
 */
void qp_outfile_protect(const char *path, const char *what);

/* Check that the directory part of path exists and is a directory. */
bool qp_check_output_dir(const char *path, qp_error *err);

/* Lower-cased extension of path without the dot ("" if none). */
const char *qp_path_ext(const char *path, char *buf, size_t bufsz);

/* SOURCE_DATE_EPOCH if set and valid, else a fixed date: output must not
 * depend on when it was made. */
long long qp_source_date_epoch(void);

#endif
