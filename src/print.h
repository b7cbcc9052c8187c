/*
 * print.h - CMYK print files: a finished PDF made PDF/X-3 through
 * Ghostscript, with black that prints in black ink only.
 *
 * Which PDF/X: Debian 12's Ghostscript 10.0 has one PDF/X mode, -dPDFX,
 * which is PDF/X-3 (PDF 1.3, its checks; lib/PDFX_def.ps: "GTS_PDFXVersion
 * (PDF/X-3:2002) % Must be so"); X-1a and X-4 came with 10.05. Files are
 * labelled PDF/X-3:2002 and nothing else. Ghostscript falls back to plain
 * PDF (exit status 0) when something is not allowed in PDF/X ("reverting
 * to normal PDF output"); that is an error here, never a mislabelled file.
 *
 * Black ink: Ghostscript turns RGB black into four inks (C, M and Y under
 * the K), and -dBlackText/-dBlackVector leave the QR code's image mask
 * four-colour. DeviceGray, on the other hand, prints as K alone. So the
 * PDF is first rewritten (libqpdf): every neutral RGB colour becomes the
 * same DeviceGray value, and every colour the template gave as cmyk() --
 * drawn with a code colour that qp_inks hands out -- becomes exactly those
 * DeviceCMYK inks. Other RGB colours are converted by Ghostscript with
 * the output profile. Links (annotations are not allowed in PDF/X) and
 * Cairo's page groups (no transparency in PDF 1.3) are removed; real
 * transparency is an error.
 */
#ifndef QP_PRINT_H
#define QP_PRINT_H

#include "util.h"

typedef struct qp_print_opts {
	/* The output (press) profile: an ICC output profile for CMYK; its
	 * bytes are embedded as the output intent. */
	const char *icc_path;
	/* Ghostscript runs at a time (each holds up to ~110 MB); 0 = 1. */
	int jobs;
} qp_print_opts;

/* What the files claim. */
#define QP_PDFX_VERSION "PDF/X-3:2002"

/*
 * Ghostscript's own CMYK profile (default_cmyk.icc), found through the
 * search path `gs -h` prints (the version directory is Ghostscript's
 * business). Returns a malloc'd path, or NULL with err saying what is
 * missing (Ghostscript itself, or the profile).
 */
char *qp_print_default_profile(qp_error *err);

/*
 * Check that path is a readable ICC output profile for CMYK (header
 * signature 'acsp', class 'prtr', data colour space 'CMYK'); the error
 * names the file and what it is instead.
 */
bool qp_print_profile_ok(const char *path, qp_error *err);

/*
 * The colours of one document that must come out as given inks. While
 * drawing the PDF that qp_print_convert will read, a colour with cmyk
 * set is drawn with the RGB qp_inks_code gives it (a code that the
 * conversion maps back to the inks exactly).
 */
typedef struct qp_inks qp_inks;

qp_inks *qp_inks_new(void);
void qp_inks_free(qp_inks *inks);
/* The RGB code for c (c->cmyk true); the same colour, the same code. */
void qp_inks_code(qp_inks *inks, const qp_color *c, double rgb[3]);

/*
 * Convert the finished RGB PDF at in_path (drawn with inks' codes, may be
 * NULL) to a CMYK PDF/X-3 file at out_path: Ghostscript (pdfwrite, -dSAFER,
 * run without a shell) a bounded number of pages at a time, the parts
 * joined by libqpdf. Page count, order, sizes, TrimBox and BleedBox are
 * kept; fonts stay embedded and text stays text. out_path is overwritten
 * (the caller makes it atomic); intermediate files sit beside it and are
 * removed. Fails with Ghostscript's own message when it fails or falls
 * back to plain PDF, and on transparency.
 */
bool qp_print_convert(const char *in_path, const char *out_path,
    const qp_inks *inks, const qp_print_opts *o, qp_error *err);

/*
 * Run Ghostscript with argv (argv[0] "gs"; the caller passes -dSAFER and
 * the rest) without a shell, stdin from /dev/null, its stdout and stderr
 * into log (the first 64 KB). False when it cannot start or fails, with
 * its own last words in err.
 */
bool qp_print_run_gs(char *const argv[], qp_buf *log, qp_error *err);

#endif
