/*
 * pdfbox.h - set the print boxes of a finished PDF through libqpdf.
 *
 * Cairo writes a MediaBox only. A print shop wants to know where the
 * page is cut (TrimBox) and how far the artwork runs past the cut
 * (BleedBox); qrposter's sheets are the trim plus a bleed plus, with crop
 * marks, a margin for them, on every side.
 */
#ifndef QP_PDFBOX_H
#define QP_PDFBOX_H

#include "util.h"

/*
 * Copy the PDF at in_path to out_path with, on every page, a TrimBox
 * inset trim_inset points from each edge of its MediaBox and a BleedBox
 * inset bleed_inset points (bleed_inset <= trim_inset). The copy is
 * deterministic: same input, same bytes (a fixed /ID derived from the
 * content). out_path is overwritten; the caller makes it atomic.
 */
bool qp_pdfbox_write(const char *in_path, const char *out_path,
    double trim_inset, double bleed_inset, qp_error *err);

#endif
