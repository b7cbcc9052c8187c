/*
 * render_int.h - what render.c and render_png.c share; not for other
 * modules (they use render.h).
 */
#ifndef QP_RENDER_INT_H
#define QP_RENDER_INT_H

#include "render.h"
#include "util.h"

/* Draw page as a PNG into of (not committed); raster's memory is reused
 * when given. */
bool qp_render_png(const qp_page *page, qp_outfile *of,
    const qp_render_opts *o, qp_raster *raster, qp_error *err);

#endif
