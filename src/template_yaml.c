/*
 * template_yaml.c - typed access to the YAML document: every getter checks
 * the node's type and reports a mistake at its file:line:column.
 */
#include "template_int.h"

bool
tp_perr(parser *p, const yaml_node_t *n, size_t col_off, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		return qp_fail(p->err, "%s:%zu:%zu: %s", p->path,
		    n->start_mark.line + 1,
		    n->start_mark.column + 1 + col_off, msg);
	return qp_fail(p->err, "%s: %s", p->path, msg);
}

yaml_node_t *
tp_node(parser *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

const char *
tp_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

const char *
tp_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/*
 * Check that n is a mapping whose keys are scalars from keys[], each at
 * most once. what names the mapping in messages ("page", "text block").
 */
bool
tp_check_map(parser *p, yaml_node_t *n, const char *what,
    const char *const *keys, size_t nkeys)
{
	yaml_node_pair_t *a, *b;

	if (n->type != YAML_MAPPING_NODE)
		return tp_perr(p, n, 0, "%s must be a mapping, not %s", what,
		    tp_type_name(n));
	for (a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
	    a++) {
		yaml_node_t *k = tp_node(p, a->key);
		const char *ks = tp_scalar(k);
		size_t i;

		if (ks == NULL)
			return tp_perr(p, k, 0, "keys in %s must be plain names",
			    what);
		for (i = 0; i < nkeys; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (i == nkeys) {
			const char *near = qp_nearest(ks, keys, nkeys);
			if (near)
				return tp_perr(p, k, 0, "unknown key '%s' in %s "
				    "(did you mean '%s'?)", ks, what, near);
			return tp_perr(p, k, 0, "unknown key '%s' in %s",
			    ks, what);
		}
		for (b = n->data.mapping.pairs.start; b < a; b++)
			if (strcmp(tp_scalar(tp_node(p, b->key)), ks) == 0)
				return tp_perr(p, k, 0, "key '%s' appears twice "
				    "in %s", ks, what);
	}
	return true;
}

yaml_node_t *
tp_get(parser *p, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *a;

	for (a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	    a++) {
		/* A complex key ({a: b}: c) is no name; check_map reports it. */
		const char *k = tp_scalar(tp_node(p, a->key));
		if (k && strcmp(k, key) == 0)
			return tp_node(p, a->value);
	}
	return NULL;
}

bool
tp_is_null(const yaml_node_t *n)
{
	const char *s = tp_scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

/* A string value; err if missing (when required) or not a scalar. */
bool
tp_get_str(parser *p, yaml_node_t *map, const char *key, const char *what,
    const char **out, yaml_node_t **where, bool required)
{
	yaml_node_t *v = tp_get(p, map, key);

	*out = NULL;
	if (where)
		*where = v;
	if (v == NULL) {
		if (required)
			return tp_perr(p, map, 0, "%s needs '%s'", what, key);
		return true;
	}
	if (v->type != YAML_SCALAR_NODE)
		return tp_perr(p, v, 0, "'%s' must be a single value, not %s",
		    key, tp_type_name(v));
	*out = tp_scalar(v);
	return true;
}

bool
tp_get_len(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, double ref, double *out, bool *present)
{
	const char *s;
	yaml_node_t *v;
	qp_len l;
	qp_error e;

	if (!tp_get_str(p, map, key, what, &s, &v, required))
		return false;
	if (present)
		*present = s != NULL;
	if (s == NULL)
		return true;
	if (!qp_parse_len(s, ref > 0, &l, &e))
		return tp_perr(p, v, 0, "%s: %s", key, e.msg);
	*out = l.kind == QP_LEN_PCT ? l.v * ref / 100 : l.v;
	return true;
}

bool
tp_get_color(parser *p, yaml_node_t *map, const char *key, qp_color *out)
{
	const char *s;
	yaml_node_t *v;
	qp_error e;

	if (!tp_get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s && !qp_parse_color(s, out, &e))
		return tp_perr(p, v, 0, "%s: %s", key, e.msg);
	return true;
}

bool
tp_get_bool(parser *p, yaml_node_t *map, const char *key, bool *out)
{
	const char *s;
	yaml_node_t *v;

	if (!tp_get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s == NULL)
		return true;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return tp_perr(p, v, 0, "%s: '%s' is not true or false", key, s);
	return true;
}

bool
tp_get_enum(parser *p, yaml_node_t *map, const char *key,
    const char *const *names, size_t n, int *out)
{
	const char *s;
	yaml_node_t *v;
	size_t i;
	qp_buf list;

	if (!tp_get_str(p, map, key, key, &s, &v, false))
		return false;
	if (s == NULL)
		return true;
	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	qp_buf_init(&list);
	for (i = 0; i < n; i++)
		qp_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	tp_perr(p, v, 0, "%s: '%s' is not one of %s", key, s, list.data);
	qp_buf_free(&list);
	return false;
}

/* Compile a template string found at node v. */
bool
tp_compile(parser *p, yaml_node_t *v, const char *src, qp_tstr **out)
{
	qp_error e;
	size_t off = 0, col = 0;

	*out = qp_tstr_compile(src, p->t->var_names, p->t->nvars, &e, &off);
	if (*out)
		return true;
	/* Point at the column when the scalar sits on one line. */
	if (strchr(src, '\n') == NULL && v->start_mark.line == v->end_mark.line) {
		yaml_scalar_style_t st = v->data.scalar.style;
		if (st == YAML_PLAIN_SCALAR_STYLE)
			col = off;
		else if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			col = off + 1;
	}
	return tp_perr(p, v, col, "%s", e.msg);
}

bool
tp_get_tstr(parser *p, yaml_node_t *map, const char *key, const char *what,
    bool required, qp_tstr **out)
{
	const char *s;
	yaml_node_t *v;

	*out = NULL;
	if (!tp_get_str(p, map, key, what, &s, &v, required))
		return false;
	if (s == NULL)
		return true;
	return tp_compile(p, v, s, out);
}

/*
 * libyaml's loader recurses once per level of nesting: a file of a few
 * thousand "[" would exhaust the stack. Walk the events first (flat, no
 * recursion) and refuse anything deeper than a template or a law pack
 * can use. A syntax error stops the walk; the loader then reports it.
 */
#define MAX_DEPTH 64

static bool
check_depth(const char *path, const char *text, size_t len, const char *what,
    qp_error *err)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	int depth = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&yp))
		return qp_fail(err, "%s: cannot start the YAML parser", path);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (!done && yaml_parser_parse(&yp, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH) {
				ok = qp_fail(err, "%s:%zu:%zu: nested more than "
				    "%d levels deep; a %s needs a few",
				    path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, MAX_DEPTH, what);
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ok;
}

bool
tp_doc_load(const char *path, const char *text, size_t len, size_t max,
    const char *what, yaml_document_t *doc, qp_error *err)
{
	yaml_parser_t yp;
	size_t bad;

	if (len > max)
		return qp_fail(err, "%s: %s is %zu bytes; the limit is %zu",
		    path, what, len, max);
	if (!qp_utf8_valid(text, len, &bad)) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80)
				col++;
		}
		return qp_fail(err, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02X); "
		    "save the %s as UTF-8", path, line, col,
		    (unsigned char)text[bad], what);
	}
	if (!check_depth(path, text, len, what, err))
		return false;
	if (!yaml_parser_initialize(&yp))
		return qp_fail(err, "%s: cannot start the YAML parser", path);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, doc)) {
		qp_fail(err, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
		    yp.problem_mark.line + 1, yp.problem_mark.column + 1,
		    yp.problem ? yp.problem : "unknown problem",
		    yp.context ? " " : "", yp.context ? yp.context : "");
		yaml_parser_delete(&yp);
		return false;
	}
	yaml_parser_delete(&yp);
	/* An empty file loads as a document without a root node. */
	if (yaml_document_get_root_node(doc) == NULL) {
		yaml_document_delete(doc);
		return qp_fail(err, "%s: the %s is empty", path, what);
	}
	return true;
}

bool
tp_read_file(const char *path, const char *what, size_t max, qp_buf *out,
    qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	qp_buf_init(out);
	if (fp == NULL)
		return qp_fail(err, "%s: cannot open %s: %s", path, what,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		qp_buf_add(out, chunk, n);
		if (out->len > max)
			break;
	}
	if (ferror(fp)) {
		qp_fail(err, "%s: cannot read %s: %s", path, what,
		    strerror(errno));
		fclose(fp);
		qp_buf_free(out);
		return false;
	}
	fclose(fp);
	if (out->data == NULL)
		qp_buf_add(out, "", 0);
	return true;
}
