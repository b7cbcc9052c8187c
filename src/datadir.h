/*
 * datadir.h - where qrposter's data lives, and finding a template by name.
 */
#ifndef QP_DATADIR_H
#define QP_DATADIR_H

#include "util.h"

struct qp_template;

/*
 * The data directory holding templates/ and fonts/: $QRPOSTER_DATADIR if
 * set; else the directory of the running binary when it holds both (a
 * source tree); else <bindir>/../share/qrposter (an installed copy,
 * wherever the prefix is); else <bindir>/.. (a build directory inside
 * a source tree); else the compile-time QP_DATADIR. Returns a static
 * string.
 */
const char *qp_datadir(void);

/* True if p is an existing directory. */
bool qp_is_dir(const char *p);

/*
 * Resolve a template argument: an existing file path is used as is; a
 * bare name ("restroom-letter" or "restroom-letter.yaml") is looked up in
 * <datadir>/templates. Returns a malloc'd path, or NULL with err set.
 */
char *qp_template_find(const char *arg, qp_error *err);

/*
 * qp_template_find() then qp_template_load(): the template a command's
 * -t argument names, or NULL with err set.
 */
struct qp_template *qp_template_open(const char *arg, qp_error *err);

#endif
