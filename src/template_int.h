#ifndef QP_TEMPLATE_INT_H
#define QP_TEMPLATE_INT_H

/*
 * template_int.h - what the files of the template parser share (not
 * part of the library's interface; that is template.h):
 *
 *   template.c       the document: variables, blocks, fonts, load/free
 *   template_yaml.c  typed access to YAML nodes, errors at line:column;
 *                    loading a document (also used by law.c for packs)
 *   template_lang.c  languages, per-language strings, which variables
 *                    a template uses
 *   template_when.c  conditions (when:) on blocks and on defaults
 *   template_page.c  paper sizes and the page
 *   template_policy.c the link and number policy (policy:)
 */
#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

typedef struct parser {
	const char *path;
	yaml_document_t doc;
	qp_error *err;
	qp_template *t;
	/* strings: one mapping node per language (NULL: none), and the
	 * union of their keys */
	yaml_node_t **smaps;
	const char **skeys;
	size_t nskeys;
} parser;

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* template_yaml.c */
bool tp_perr(parser *p, const yaml_node_t *n, size_t col_off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
yaml_node_t * tp_node(parser *p, int id);
const char * tp_scalar(const yaml_node_t *n);
const char * tp_type_name(const yaml_node_t *n);
bool tp_check_map(parser *p, yaml_node_t *n, const char *what, const char *const *keys, size_t nkeys);
yaml_node_t * tp_get(parser *p, yaml_node_t *map, const char *key);
bool tp_is_null(const yaml_node_t *n);
bool tp_get_str(parser *p, yaml_node_t *map, const char *key, const char *what, const char **out, yaml_node_t **where, bool required);
bool tp_get_len(parser *p, yaml_node_t *map, const char *key, const char *what, bool required, double ref, double *out, bool *present);
bool tp_get_color(parser *p, yaml_node_t *map, const char *key, qp_color *out);
bool tp_get_bool(parser *p, yaml_node_t *map, const char *key, bool *out);
bool tp_get_enum(parser *p, yaml_node_t *map, const char *key, const char *const *names, size_t n, int *out);
bool tp_compile(parser *p, yaml_node_t *v, const char *src, qp_tstr **out);
bool tp_get_tstr(parser *p, yaml_node_t *map, const char *key, const char *what, bool required, qp_tstr **out);
/* Load text (at most max bytes, UTF-8, nested at most 64 deep) as one
 * YAML document; what names the kind of file in messages ("template"). */
bool tp_doc_load(const char *path, const char *text, size_t len, size_t max, const char *what, yaml_document_t *doc, qp_error *err);
/* Read a whole file (stops past max bytes: tp_doc_load then refuses it). */
bool tp_read_file(const char *path, const char *what, size_t max, qp_buf *out, qp_error *err);
/* template_lang.c */
void tp_free_l10n(const qp_template *t, qp_tstr **v);
bool tp_get_l10n(parser *p, yaml_node_t *map, const char *key, const char *what, bool required, bool per_lang, qp_tstr ***out, qp_tstr **first);
bool tp_valid_tag(const char *s);
bool tp_parse_languages(parser *p, yaml_node_t *root);
/* template_when.c */
bool tp_parse_when(parser *p, yaml_node_t *map, qp_cond *out);
bool tp_check_var_conds(parser *p, yaml_node_t *vars);
void tp_free_cond(qp_cond *c);
/* template_page.c */
bool tp_parse_page(parser *p, yaml_node_t *n);
/* template_policy.c: n may be NULL (no policy: key) */
bool tp_parse_policy(parser *p, yaml_node_t *n);

#endif
