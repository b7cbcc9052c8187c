/*
 * profile.c - agency profiles: a flat YAML mapping read with libyaml's
 * event parser (no document tree: a profile is a few scalars, and a
 * file nested thousands deep is refused at its first extra level rather
 * than recursed into).
 */
#include "profile.h"

#include "image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char *const qp_profile_keys[] = {"agency", "hotline_name", "hotline",
    "text_number", "text_keyword", "report_url", "hotline_languages",
    "logo"};
const size_t qp_profile_nkeys = sizeof qp_profile_keys /
    sizeof qp_profile_keys[0];

/* The keys of the file beyond the variables' (profile and values). */
static const char *const file_keys[] = {"profile", "agency", "hotline_name",
    "hotline", "text_number", "text_keyword", "report_url",
    "hotline_languages", "logo", "values"};
#define NFILE_KEYS (sizeof file_keys / sizeof file_keys[0])

qp_profile *
qp_profile_new(const char *name)
{
	qp_profile *p = qp_xcalloc(1, sizeof *p);

	p->path = qp_xstrdup(name ? name : "profile");
	return p;
}

void
qp_profile_free(qp_profile *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	free(p->logo);
	free(p->logo_text);
	free(p->path);
	free(p);
}

static qp_profile_entry *
set(qp_profile *p, const char *name, const char *value)
{
	qp_profile_entry *e = NULL;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			e = &p->v[i];
	if (e == NULL) {
		p->v = qp_xrealloc(p->v, (p->n + 1) * sizeof *p->v);
		e = &p->v[p->n++];
		memset(e, 0, sizeof *e);
		e->name = qp_xstrdup(name);
	}
	free(e->value);
	e->value = qp_xstrdup(value);
	return e;
}

void
qp_profile_add(qp_profile *p, const char *name, const char *value)
{
	if (strcmp(name, "logo") == 0) {
		free(p->logo_text);
		free(p->logo);
		p->logo_text = qp_xstrdup(value);
		p->logo = qp_xstrdup(value);
		return;
	}
	set(p, name, value);
}

const char *
qp_profile_get(const qp_profile *p, const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

/* ---- reading -------------------------------------------------------- */

typedef struct reader {
	yaml_parser_t yp;
	const char *path;
	qp_error *err;
} reader;

static bool
rerr(reader *r, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
rerr(reader *r, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return qp_fail(r->err, "%s:%zu:%zu: %s", r->path, m->line + 1,
	    m->column + 1, msg);
}

/* The next event; false with err on a YAML syntax error. */
static bool
next(reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->yp, ev))
		return true;
	return qp_fail(r->err, "%s:%zu:%zu: YAML syntax error: %s%s%s", r->path,
	    r->yp.problem_mark.line + 1, r->yp.problem_mark.column + 1,
	    r->yp.problem ? r->yp.problem : "unknown problem",
	    r->yp.context ? " " : "", r->yp.context ? r->yp.context : "");
}

static const char *
ev_name(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_ALIAS_EVENT: return "an alias";
	default: return "nothing";
	}
}

/* A scalar value for key; "" for a quoted empty one. */
static bool
scalar_value(reader *r, const yaml_event_t *ev, const char *key)
{
	if (ev->type != YAML_SCALAR_EVENT)
		return rerr(r, &ev->start_mark, "'%s' takes one value (in "
		    "quotes if you like), not %s", key, ev_name(ev));
	if (ev->data.scalar.length == 0 && ev->data.scalar.plain_implicit &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return rerr(r, &ev->start_mark, "'%s' has no value: give one, "
		    "or leave the key out to keep the template's", key);
	return true;
}

/* A name as a variable may have it: letters, digits, '_'. */
static bool
var_name_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
	    "UVWXYZ0123456789_") == strlen(s);
}

/* values: {name: value, ...} after its MAPPING_START. */
static bool
read_values(reader *r, qp_profile *p)
{
	yaml_event_t k, v;

	for (;;) {
		if (!next(r, &k))
			return false;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return true;
		}
		if (k.type != YAML_SCALAR_EVENT ||
		    !var_name_ok((const char *)k.data.scalar.value)) {
			rerr(r, &k.start_mark, "values: each key is a "
			    "variable's name (letters, digits and '_')");
			yaml_event_delete(&k);
			return false;
		}
		if (qp_profile_get(p, (const char *)k.data.scalar.value)) {
			rerr(r, &k.start_mark, "'%s' is given twice",
			    (const char *)k.data.scalar.value);
			yaml_event_delete(&k);
			return false;
		}
		if (!next(r, &v)) {
			yaml_event_delete(&k);
			return false;
		}
		if (!scalar_value(r, &v, (const char *)k.data.scalar.value)) {
			yaml_event_delete(&k);
			yaml_event_delete(&v);
			return false;
		}
		{
			qp_profile_entry *e = set(p,
			    (const char *)k.data.scalar.value,
			    (const char *)v.data.scalar.value);
			e->line = (int)v.start_mark.line + 1;
			e->col = (int)v.start_mark.column + 1;
		}
		yaml_event_delete(&k);
		yaml_event_delete(&v);
	}
}

/* logo: a file relative to the profile's folder. */
static void
set_logo(qp_profile *p, const char *file, const yaml_mark_t *m)
{
	const char *slash = strrchr(p->path, '/');

	p->logo_text = qp_xstrdup(file);
	if (file[0] == '/' || slash == NULL)
		p->logo = qp_xstrdup(file);
	else
		p->logo = qp_xasprintf("%.*s/%s", (int)(slash - p->path),
		    p->path, file);
	p->logo_line = (int)m->line + 1;
	p->logo_col = (int)m->column + 1;
}

/* The value v of the top mapping's key (k its key event). */
static bool
read_value(reader *r, qp_profile *p, const yaml_event_t *k,
    const yaml_event_t *v)
{
	const char *key = (const char *)k->data.scalar.value, *val;
	qp_profile_entry *e;

	if (strcmp(key, "values") == 0) {
		if (v->type != YAML_MAPPING_START_EVENT)
			return rerr(r, &v->start_mark, "values is a mapping of "
			    "variable to value, e.g. values: {lang2: vi}");
		return read_values(r, p);
	}
	if (!scalar_value(r, v, key))
		return false;
	val = (const char *)v->data.scalar.value;
	if (strcmp(key, "profile") == 0) {
		if (strcmp(val, "1") != 0)
			return rerr(r, &v->start_mark, "this is a version %s "
			    "profile; this qrposter reads version 1", val);
		return true;
	}
	if (strcmp(key, "logo") == 0) {
		if (*val == '\0')
			return rerr(r, &v->start_mark, "logo: name a picture "
			    "file (PNG, JPEG or SVG)");
		set_logo(p, val, &v->start_mark);
		return true;
	}
	/* values: may have set it already */
	if (qp_profile_get(p, key))
		return rerr(r, &k->start_mark, "'%s' is given twice", key);
	e = set(p, key, val);
	e->line = (int)v->start_mark.line + 1;
	e->col = (int)v->start_mark.column + 1;
	return true;
}

/* The key k of the top mapping: one of file_keys, once. */
static bool
known_key(reader *r, const yaml_event_t *k, bool *seen)
{
	const char *key = (const char *)k->data.scalar.value, *near;
	size_t i;

	if (k->type != YAML_SCALAR_EVENT)
		return rerr(r, &k->start_mark, "keys in a profile are plain "
		    "names, e.g. hotline");
	for (i = 0; i < NFILE_KEYS; i++)
		if (strcmp(key, file_keys[i]) == 0)
			break;
	if (i == NFILE_KEYS) {
		near = qp_nearest(key, file_keys, NFILE_KEYS);
		if (near)
			return rerr(r, &k->start_mark, "unknown key '%s' in "
			    "the profile (did you mean '%s'?)", key, near);
		return rerr(r, &k->start_mark, "unknown key '%s' in the "
		    "profile (a variable of one template goes under values:)",
		    key);
	}
	if (seen[i])
		return rerr(r, &k->start_mark, "'%s' appears twice", key);
	seen[i] = true;
	return true;
}

/* The top mapping's pairs, after its MAPPING_START. */
static bool
read_map(reader *r, qp_profile *p)
{
	bool seen[NFILE_KEYS] = {false};
	yaml_event_t k, v;

	for (;;) {
		bool ok;

		if (!next(r, &k))
			return false;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return true;
		}
		if (!known_key(r, &k, seen) || !next(r, &v)) {
			yaml_event_delete(&k);
			return false;
		}
		ok = read_value(r, p, &k, &v);
		yaml_event_delete(&k);
		yaml_event_delete(&v);
		if (!ok)
			return false;
	}
}

qp_profile *
qp_profile_parse(const char *path, const char *text, size_t len,
    qp_error *err)
{
	reader r = {.path = path, .err = err};
	qp_profile *p;
	yaml_event_t ev;
	bool ok = false, started = false;
	size_t bad;

	if (len > QP_PROFILE_MAX_BYTES) {
		qp_fail(err, "%s: the profile is %zu bytes; the limit is %d",
		    path, len, QP_PROFILE_MAX_BYTES);
		return NULL;
	}
	if (!qp_utf8_valid(text, len, &bad) || memchr(text, '\0', len)) {
		qp_fail(err, "%s: not UTF-8 text; save the profile as UTF-8",
		    path);
		return NULL;
	}
	if (!yaml_parser_initialize(&r.yp)) {
		qp_fail(err, "%s: cannot start the YAML parser", path);
		return NULL;
	}
	yaml_parser_set_input_string(&r.yp, (const unsigned char *)text, len);
	p = qp_profile_new(path);
	/* stream start, document start, the mapping, document and stream
	 * end: nothing else. */
	for (;;) {
		if (!next(&r, &ev))
			break;
		if (ev.type == YAML_STREAM_START_EVENT ||
		    (ev.type == YAML_DOCUMENT_START_EVENT && !started)) {
			if (ev.type == YAML_DOCUMENT_START_EVENT)
				started = true;
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			if (!ok)
				qp_fail(err, "%s: the profile is empty; it is "
				    "a mapping such as 'hotline: "
				    "1-555-010-0199'", path);
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_END_EVENT && ok) {
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type != YAML_MAPPING_START_EVENT || ok) {
			ok = false;
			rerr(&r, &ev.start_mark, ev.type ==
			    YAML_DOCUMENT_START_EVENT ? "a profile is one YAML "
			    "document" : "a profile is a mapping of key: "
			    "value, such as 'hotline: 1-555-010-0199'");
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (!(ok = read_map(&r, p)))
			break;
	}
	yaml_parser_delete(&r.yp);
	if (!ok) {
		qp_profile_free(p);
		return NULL;
	}
	return p;
}

qp_profile *
qp_profile_load(const char *path, qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	char buf[QP_PROFILE_MAX_BYTES + 1];
	size_t n;

	if (fp == NULL) {
		qp_fail(err, "%s: cannot open the profile: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof buf, fp);
	if (ferror(fp)) {
		qp_fail(err, "%s: cannot read the profile: %s", path,
		    strerror(errno));
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	return qp_profile_parse(path, buf, n, err);
}

/* ---- the logo ------------------------------------------------------- */

bool
qp_template_has_logo(const qp_template *t)
{
	for (size_t i = 0; i < t->nblocks; i++) {
		const qp_block *b = &t->blocks[i];

		if ((b->kind == QP_BLOCK_IMAGE && strcmp(b->id, "logo") == 0) ||
		    (b->kind == QP_BLOCK_QR && b->u.qr.logo))
			return true;
	}
	return false;
}

bool
qp_profile_logo(const qp_profile *p, qp_template *t, qp_error *err)
{
	if (p == NULL || p->logo == NULL)
		return true;
	for (size_t i = 0; i < t->nblocks; i++) {
		qp_block *b = &t->blocks[i];
		bool slot = b->kind == QP_BLOCK_IMAGE ?
		    strcmp(b->id, "logo") == 0 : b->kind == QP_BLOCK_QR &&
		    b->u.qr.logo != NULL;
		qp_image *img;

		if (!slot)
			continue;
		if ((img = qp_image_load(p->logo, err)) == NULL) {
			if (p->logo_line)
				qp_error_prefix(err, "%s:%d:%d: logo", p->path,
				    p->logo_line, p->logo_col);
			return false;
		}
		if (b->kind == QP_BLOCK_IMAGE) {
			qp_image_free(b->u.image.img);
			b->u.image.img = img;
			free(b->u.image.file);
			b->u.image.file = qp_xstrdup(p->logo_text);
		} else {
			qp_image_free(b->u.qr.logo);
			b->u.qr.logo = img;
			free(b->u.qr.logo_file);
			b->u.qr.logo_file = qp_xstrdup(p->logo_text);
		}
	}
	return true;
}
