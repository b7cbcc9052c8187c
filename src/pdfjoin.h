/*
 * pdfjoin.h - join whole PDF files into one, their pages interleaved in
 * an order the caller gives, streaming: memory does not grow with the
 * number of pages or objects.
 *
 * Why not libqpdf, which qrposter links: a QPDF object keeps its whole
 * cross-reference table in memory and caches every object it parses
 * until it is freed, and pages copied between QPDF objects stay in both.
 * Measured on this project's print runs (16 objects a page): reading a
 * 25,000-page shard and listing its pages takes 170 MB; copying 10,000
 * pages from 4 shards with qpdf_add_page() takes 419 MB (about 40 KB a
 * page), so 100,000 pages would need some 4 GB. The files joined here
 * are qrposter's own (Cairo's, rewritten by libqpdf for --bleed, or
 * this joiner's): a cross-reference table of fixed 20-byte lines is an
 * index on disk, and a cross-reference stream is inflated into one (an
 * unlinked temporary file). So each input is read through its index,
 * object by object, and copied under new numbers (input i's object n
 * becomes base_i + n), stream data byte for byte; objects inside object
 * streams are read from the one object stream last inflated (at most
 * 64 MB; objects of one stream are copied one after another). Only the
 * page tree, the catalog and the document information are written anew.
 * What is kept in memory is a few numbers per input; the output's
 * cross-reference entries go to a temporary file until the end.
 *
 * Inputs with several cross-reference sections (incremental updates),
 * a page tree of more than one level, or encryption are refused with
 * the file named.
 */
#ifndef QP_PDFJOIN_H
#define QP_PDFJOIN_H

#include "pdfbox.h"
#include "util.h"

typedef struct qp_pdfjoin qp_pdfjoin;

/*
 * Open n PDF files and read their structure: the cross-reference table,
 * the catalog, the document information, the page tree (one level, as
 * Cairo and qpdf write it). NULL with err naming the file on failure.
 */
qp_pdfjoin *qp_pdfjoin_open(const char *const *paths, size_t n,
    qp_error *err);

/* Pages of input i. */
size_t qp_pdfjoin_npages(const qp_pdfjoin *j, size_t i);

/*
 * The order of the result: called once per page of the result, it sets
 * *input to the input the page comes from (each input's pages are taken
 * in their own order) and returns 1; 0 when there are no more pages; -1
 * with err filled to stop.
 */
typedef int (*qp_pdfjoin_next_fn)(void *arg, size_t *input, qp_error *err);

/*
 * Finishing while joining. qrposter's print run is drawn by Cairo in
 * parts (pdfrun.h) that have no link annotations and no print boxes
 * (pdfbox.h says why not Cairo's); rather than have libqpdf rewrite
 * every part first (a fifth of the run's time, and the whole part in
 * memory), the joiner writes them as it copies each page: its /Annots
 * (one /Link annotation with a /URI action per link, new objects after
 * the input's own), /TrimBox and /BleedBox, from the page's /MediaBox,
 * as qp_pdfbox_write would. fn gives input i's qp_pdf_finish (its page
 * numbers the input's, 0-based, its links in page order); it is called
 * once per input, in order, while writing, and *f stays valid until the
 * next call. nlinks[i] is how many links it will give for input i (the
 * new objects are numbered before anything is written). A page of an
 * input that is finished must not already have /Annots, /TrimBox or
 * /BleedBox. Without this call nothing is added.
 */
typedef bool (*qp_pdfjoin_finish_fn)(void *arg, size_t input,
    const qp_pdf_finish **f, qp_error *err);

void qp_pdfjoin_finish(qp_pdfjoin *j, const size_t *nlinks,
    qp_pdfjoin_finish_fn fn, void *arg);

/*
 * Write the joined file to out (the caller opens and commits it): every
 * page of every input exactly once, in next's order, the document
 * information of input 0. compact puts every object that is not a
 * stream into compressed object streams with a cross-reference stream
 * (PDF 1.5): about half the size for qrposter's print runs, but not
 * for PDF/X-1a or readers older than PDF 1.5. sha256 receives the
 * hexadecimal SHA-256 of the bytes written. False with err set on a
 * malformed input, a page order that does not use every page once, or
 * a write error.
 */
bool qp_pdfjoin_write(qp_pdfjoin *j, qp_outfile *out, bool compact,
    qp_pdfjoin_next_fn next, void *arg, char sha256[65], qp_error *err);

void qp_pdfjoin_free(qp_pdfjoin *j);

#endif
