/*
 * pdfrun.h - a print run's combined PDF drawn in parts and joined.
 *
 * Cairo's PDF surface keeps something for every page until the document
 * is finished (measured: about 190 bytes a page for the QR images and
 * 250 for Cairo's link tags, so 67 MB at 100,000 pages), and Cairo
 * writes every dictionary uncompressed. So the run is drawn as a series
 * of documents of QP_PDF_RUN_PART pages each (hidden files beside the
 * output), which pdfjoin then joins, streaming, into the one file, its
 * objects packed into compressed object streams: memory stays that of
 * one part, and the file is about half the size. The parts break at
 * fixed page counts, so the bytes depend on the pages alone, not on -j.
 *
 * The parts are written as Cairo makes them, without links or print
 * boxes: pdfjoin adds each page's /Annots, /TrimBox and /BleedBox while
 * it copies the page (qp_pdfjoin_finish), from what render.c recorded
 * (the links of finished parts wait in an unlinked temporary file, not
 * in memory). That was a libqpdf pass over every part (pdfbox.c), which
 * held the whole part (23 KB a page) and took a fifth of the run's time;
 * it is why parts were 250 pages. Each part embeds its own font subsets
 * and shared text forms (about 17 KB): at 1,000 pages a part a 5,000-row
 * run is 825 bytes a page (893 at 250), in the same peak memory (27 MB).
 *
 * A print file (--print: PDF/X through Ghostscript) is drawn whole, as
 * before: parts would each carry an output intent and ICC profile, and
 * PDF/X-3 allows no object streams.
 *
 * The interface is qp_pdf_doc's (render.h), which it wraps.
 */
#ifndef QP_PDFRUN_H
#define QP_PDFRUN_H

#include "render.h"

/* Pages (or sheets) per part, at most. */
#define QP_PDF_RUN_PART 1000

/*
 * A run of posters (not imposed, not a print file) breaks its parts at
 * rows instead, qp_pdf_run_part_rows(total) rows each: QP_PDF_RUN_SPREAD
 * parts, so that with -j N several processes can each draw parts of
 * their own (batch_combined.c says why), but none shorter than
 * QP_PDF_RUN_MIN_ROWS rows (a short run is quick in one part) nor
 * longer than QP_PDF_RUN_PART (the memory). The breaks depend on the rows
 * alone, so the bytes do not depend on -j. Each part costs its font
 * subsets, forms and images once more (about 17 KB, and some 5 ms to
 * finish): 540 rows in 4 parts are 0.1 KB a page more than in one.
 */
#define QP_PDF_RUN_SPREAD 4
#define QP_PDF_RUN_MIN_ROWS 100
size_t qp_pdf_run_part_rows(size_t total);

typedef struct qp_pdf_run qp_pdf_run;

qp_pdf_run *qp_pdf_run_open(const char *path, const qp_render_opts *o,
    qp_error *err);
bool qp_pdf_run_add(qp_pdf_run *run, const qp_page *page, qp_error *err);
bool qp_pdf_run_add_sheet(qp_pdf_run *run, const qp_impose *im,
    const qp_page *const *pages, size_t n, qp_error *err);
/* Finish the part being drawn, if any: the next page starts a new one. */
bool qp_pdf_run_break(qp_pdf_run *run, qp_error *err);

/*
 * Parts drawn by other processes (a combined run's workers). Part k's
 * file is qp_pdf_run_part_name(run, k) (malloc'd; the same in every
 * process, since the run's process id is in it): a worker draws it with
 * qp_pdf_doc_open and qp_pdf_doc_close_bare, and the run takes it with
 * what that returned, parts in order (a part without pages is never
 * drawn, nor taken). qp_pdf_run_parts_elsewhere says that parts 0..n-1
 * may exist, for qp_pdf_run_abort to remove those not taken yet.
 */
char *qp_pdf_run_part_name(const qp_pdf_run *run, size_t k);
void qp_pdf_run_parts_elsewhere(qp_pdf_run *run, size_t n);
bool qp_pdf_run_add_part(qp_pdf_run *run, size_t k, const qp_pdf_finish *f,
    qp_error *err);

/* Finish the last part, join the parts into path (atomically), remove
 * them; sha256 receives the SHA-256 of the file joined (hexadecimal;
 * "" for a print file, which Ghostscript writes). On failure nothing is
 * left behind. */
bool qp_pdf_run_close(qp_pdf_run *run, char sha256[65], qp_error *err);
/* Give up: every part and temporary file is removed. NULL is fine. */
void qp_pdf_run_abort(qp_pdf_run *run);

#endif
