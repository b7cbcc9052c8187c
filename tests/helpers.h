/*
 * helpers.h - what qrposter's test programs share: run the binary under
 * test, a fresh directory per test, and readers that check what a user
 * would check in the output (the QR decoded by libzbar, the text and page
 * size poppler sees, PNG size and DPI).
 *
 * Conventions: functions returning char * or char ** hand the caller
 * malloc'd memory (free with free() / th_strv_free()); on failure they
 * return NULL (or -1) and never abort, so a test can assert on the
 * result. Tests run from the top of the source tree; the binary under test
 * is $QRPOSTER (default ./qrposter).
 */
#ifndef QP_TEST_HELPERS_H
#define QP_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Structural checks of an output file, chosen by its extension: a PDF
 * must pass the check qpdf --check makes (libqpdf's qpdf_check_pdf after
 * reading the file) with no warning at all, an SVG must parse as XML
 * (xmllint --noout, no message), a PNG must pass pngcheck. Returns true
 * for a valid file or one of another kind; else false with the reason in
 * why (whysz bytes).
 */
bool th_output_valid(const char *path, char *why, size_t whysz);

/* Fail the running cmocka test unless th_output_valid(path). */
void th_assert_output_valid(const char *path);

/*
 * Fail the running cmocka test unless every .pdf, .svg and .png under dir
 * (recursively; hidden names skipped) last modified at or after since is
 * valid. Returns how many files were checked.
 *
 * th_run_argv() calls this after every run of the binary under test, on
 * the folders its -o/--output/--combine arguments write to (the default
 * output/ when there are none), so every file the tests make is checked.
 */
struct timespec;
int th_assert_outputs_valid(const char *dir, const struct timespec *since);

/* The result of one command. */
typedef struct th_run {
	int status; /* exit status; 128+N if killed by signal N; -1 no run */
	char *out;  /* everything written to stdout (NUL-terminated) */
	char *err;  /* everything written to stderr (NUL-terminated) */
} th_run;

/* Path of the binary under test: $QRPOSTER or "./qrposter". */
const char *th_bin(void);

/*
 * Run argv (argv[0] looked up in PATH, argv NULL-terminated; no shell)
 * with stdin from /dev/null. env, if not NULL, is a NULL-terminated list
 * of "KEY=VALUE" (set) or "KEY" (unset) applied in the child only.
 * QRPOSTER_DATADIR is set to the current directory when it is unset, so
 * a binary built outside the tree (build-t/qrposter) finds templates/ and
 * fonts/. Returns r->status; free r with th_run_free().
 */
int th_run_argv(th_run *r, const char *const *argv, const char *const *env);

/* th_run_argv() on th_bin() followed by the NULL-terminated arguments. */
int th_qrposter(th_run *r, ...) __attribute__((sentinel));
/* The same with an environment list as for th_run_argv(). */
int th_qrposter_env(th_run *r, const char *const *env, ...)
    __attribute__((sentinel));
void th_run_free(th_run *r);

/* A new empty directory under /tmp, and its recursive removal. */
char *th_tmpdir_new(void);
void th_tmpdir_remove(char *dir); /* also frees dir; NULL is fine */

/* "dir/name", malloc'd. */
char *th_path(const char *dir, const char *name);
bool th_exists(const char *path);

/* Whole-file read (NUL-terminated; *len may be NULL) and write. */
char *th_read_file(const char *path, size_t *len);
bool th_write_file(const char *path, const void *data, size_t len);
/* True when both files exist and hold the same bytes. */
bool th_files_equal(const char *a, const char *b);
/* True when haystack (len bytes, may hold NULs) contains needle. */
bool th_memmem(const char *hay, size_t len, const char *needle);

/*
 * True when dir holds no entry but those named in allowed (a
 * NULL-terminated list, or NULL for "nothing at all"); hidden files
 * count. Otherwise false with the first stray name in stray (if not
 * NULL; strays sz bytes).
 */
bool th_dir_only(const char *dir, const char *const *allowed, char *stray,
    size_t straysz);

/* NULL-terminated string lists. */
size_t th_strv_len(char **v);
void th_strv_free(char **v);

/*
 * Every QR code libzbar finds in a PNG (any colour type; read with
 * libpng, converted to grey). Returns a NULL-terminated list of payloads
 * (raw bytes, no character-set conversion), or NULL if the file cannot
 * be read.
 */
char **th_png_decode_qr(const char *png);
/*
 * A table row's test with a directory of its own: cmocka passes the row
 * as the state to th_fixture_setup, which makes the directory and puts
 * a th_fixture in its place; th_fixture_teardown removes both.
 */
typedef struct th_fixture {
	const void *row;
	char *dir;
} th_fixture;
int th_fixture_setup(void **state);
int th_fixture_teardown(void **state);

/* Rasterise page 1 of pdf with `pdftoppm -r dpi -png`, then decode. */
char **th_pdf_decode_qr(const char *pdf, int dpi);
/* The same for page `page` (from 1). */
char **th_pdf_page_decode_qr(const char *pdf, int page, int dpi);
/* The PDF's page count from `pdfinfo`, or -1. */
int th_pdf_pages(const char *pdf);

/* `pdftotext -layout`-free plain text of the whole PDF, or NULL. */
char *th_pdftotext(const char *pdf);
/* One "Key: value" field of `pdfinfo -isodates` (value trimmed; dates
 * as 2023-11-14T22:13:20Z), or NULL. */
char *th_pdfinfo_field(const char *pdf, const char *key);
/* Page 1's size in points from `pdfinfo`. */
bool th_pdf_page_size(const char *pdf, double *w, double *h);
/*
 * Fonts listed by `pdffonts`: returns how many there are (-1 if it could
 * not run) and sets *embedded to how many have emb = yes.
 */
int th_pdf_fonts(const char *pdf, int *embedded);

/*
 * Link annotations on page 1, read with libqpdf (so it does not matter
 * how the PDF is compressed): returns how many (-1 if the file cannot be
 * read) and fills up to max entries of links.
 */
typedef struct th_pdf_link {
	char uri[4096];
	double x0, y0, x1, y1; /* /Rect, PDF points from the bottom left */
} th_pdf_link;

int th_pdf_links(const char *pdf, th_pdf_link *links, int max);

/* PNG header facts. ppm_x/ppm_y are pixels per metre from pHYs (0 when
 * there is no pHYs chunk or its unit is not the metre). */
typedef struct th_png_info {
	unsigned width, height;
	unsigned ppm_x, ppm_y;
} th_png_info;

bool th_png_read_info(const char *png, th_png_info *info);

#endif
