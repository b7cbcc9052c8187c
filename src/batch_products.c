/*
 * batch_products.c - product sets: several products for every location
 * in one run (a restroom poster, a stall-door sticker, a car card, a
 * wallet card), or the product a CSV's "template" column names per row.
 *
 * Each product is an ordinary batch (batch.c): its own print-run PDF or
 * files, its own manifest, resume and shards exactly as for one
 * template, so a print shop gets one file per product with one page size
 * in it. When they are done, the run's manifest joins the products'
 * manifests in row order with the product's name in a last column; the
 * products' own manifests keep the format resume and merge read.
 */
#define _GNU_SOURCE
#include "batch_int.h"
#include "datadir.h"
#include "template_int.h"

static void
product_free(qp_product *p)
{
	free(p->name);
	free(p->template_arg);
	free(p->select);
}

void
qp_products_free(qp_product_set *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		product_free(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof *ps);
}

/* A product's name from its template argument: the file's base name
 * without ".yaml" ("templates/x/stall-sticker.yaml": "stall-sticker"). */
static char *
name_of(const char *arg)
{
	const char *base = strrchr(arg, '/');
	size_t n;

	base = base ? base + 1 : arg;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		n -= 5;
	return qp_xstrndup(base, n);
}

/* Add a product; a name given twice is an error (two products would
 * write the same files). */
static qp_product *
add_product(qp_product_set *ps, const char *arg, const char *name,
    qp_error *err)
{
	qp_product *p;
	char *nm = name ? qp_xstrdup(name) : name_of(arg);
	qp_buf safe;

	/* The name goes into file names: it must be one already. */
	qp_buf_init(&safe);
	qp_batch_safe_name(nm, &safe);
	if (*nm == '\0' || strcmp(safe.data, nm) != 0) {
		qp_fail(err, "product '%s': a product's name is part of file "
		    "names: use letters, digits, '-' and '_'", nm);
		qp_buf_free(&safe);
		free(nm);
		return NULL;
	}
	qp_buf_free(&safe);
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, nm) == 0) {
			qp_fail(err, "product '%s' is listed twice", nm);
			free(nm);
			return NULL;
		}
	ps->v = qp_xrealloc(ps->v, (ps->n + 1) * sizeof *ps->v);
	p = &ps->v[ps->n++];
	memset(p, 0, sizeof *p);
	p->name = nm;
	p->template_arg = qp_xstrdup(arg);
	return p;
}

bool
qp_products_from_list(const char *list, qp_product_set *ps, qp_error *err)
{
	char *copy = qp_xstrdup(list), *save = NULL;
	bool ok = true;

	memset(ps, 0, sizeof *ps);
	for (char *tok = strtok_r(copy, ",", &save); tok && ok;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok && add_product(ps, tok, NULL, err) == NULL)
			ok = false;
	}
	free(copy);
	if (ok && ps->n == 0)
		ok = qp_fail(err, "'%s' names no product (e.g. "
		    "restroom-letter,stall-sticker,car-card)", list);
	if (!ok)
		qp_products_free(ps);
	return ok;
}

/* ---- the job file ---------------------------------------------------- */

static bool
parse_product(parser *p, yaml_node_t *n, qp_product_set *ps)
{
	static const char *const keys[] = {"template", "name", "impose",
	    "sheet", "bleed", "marks"};
	const char *tmpl, *name, *impose, *sheet;
	yaml_node_t *tv, *iv, *sv;
	qp_product *pr;
	qp_error e;

	if (!tp_check_map(p, n, "a product", keys, NKEYS(keys)) ||
	    !tp_get_str(p, n, "template", "a product", &tmpl, &tv, true) ||
	    !tp_get_str(p, n, "name", "a product", &name, NULL, false) ||
	    !tp_get_str(p, n, "impose", "a product", &impose, &iv, false) ||
	    !tp_get_str(p, n, "sheet", "a product", &sheet, &sv, false))
		return false;
	if ((pr = add_product(ps, tmpl, name, &e)) == NULL)
		return tp_perr(p, tv, 0, "%s", e.msg);
	if (impose) {
		if (!qp_batch_parse_impose(impose, &pr->impose.cols,
		    &pr->impose.rows, &e))
			return tp_perr(p, iv, 0, "impose: %s", e.msg);
		pr->has_impose = true;
		if (!qp_page_size_parse(sheet ? sheet : "letter",
		    &pr->impose.sheet_w, &pr->impose.sheet_h, &e))
			return tp_perr(p, sv, 0, "sheet: %s", e.msg);
	} else if (sheet)
		return tp_perr(p, sv, 0, "sheet: only with impose");
	if (!tp_get_len(p, n, "bleed", "a product", false, 0, &pr->bleed,
	    &pr->has_bleed))
		return false;
	if (tp_get(p, n, "marks")) {
		pr->has_marks = true;
		if (!tp_get_bool(p, n, "marks", &pr->marks))
			return false;
	}
	return true;
}

bool
qp_products_load(const char *path, qp_product_set *ps, qp_error *err)
{
	static const char *const keys[] = {"qrposter-products", "products"};
	parser p = {.path = path, .err = err};
	yaml_node_t *root, *list;
	yaml_node_item_t *it;
	qp_buf text;
	bool ok = false;

	memset(ps, 0, sizeof *ps);
	if (!tp_read_file(path, "job file", 256 * 1024, &text, err))
		return false;
	if (!tp_doc_load(path, text.data, text.len, 256 * 1024, "job file",
	    &p.doc, err)) {
		qp_buf_free(&text);
		return false;
	}
	qp_buf_free(&text);
	root = yaml_document_get_root_node(&p.doc);
	if (!tp_check_map(&p, root, "the job file", keys, NKEYS(keys)))
		goto done;
	{
		const char *ver;
		yaml_node_t *vv;
		if (!tp_get_str(&p, root, "qrposter-products", "the job file",
		    &ver, &vv, false))
			goto done;
		if (ver && strcmp(ver, "1") != 0) {
			tp_perr(&p, vv, 0, "qrposter-products: version '%s' is "
			    "not known (this qrposter reads version 1)", ver);
			goto done;
		}
	}
	if ((list = tp_get(&p, root, "products")) == NULL) {
		tp_perr(&p, root, 0, "the job file needs 'products', a list of "
		    "{template: NAME, ...}");
		goto done;
	}
	if (list->type != YAML_SEQUENCE_NODE ||
	    list->data.sequence.items.start == list->data.sequence.items.top) {
		tp_perr(&p, list, 0, "'products' must be a non-empty list");
		goto done;
	}
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = tp_node(&p, *it);
		/* A bare name is a product with the run's options. */
		if (e->type == YAML_SCALAR_NODE) {
			qp_error pe;
			if (add_product(ps, tp_scalar(e), NULL, &pe) == NULL) {
				tp_perr(&p, e, 0, "%s", pe.msg);
				goto done;
			}
		} else if (!parse_product(&p, e, ps))
			goto done;
	}
	ok = true;
done:
	yaml_document_delete(&p.doc);
	if (!ok)
		qp_products_free(ps);
	return ok;
}

int
qp_products_from_column(const char *data, const char *fallback,
    qp_product_set *ps, qp_error *err)
{
	qp_data *d;
	qp_record rec;
	long col;
	bool empty = false;
	int r;

	memset(ps, 0, sizeof *ps);
	if ((d = qp_data_open(data, err)) == NULL)
		return -1;
	if ((col = qp_data_col_index(d, "template")) < 0) {
		qp_data_close(d);
		return 0;
	}
	while ((r = qp_data_next(d, &rec, err)) == 1) {
		const char *v = rec.fields[col];
		bool seen = false;

		if (*v == '\0') {
			empty = true;
			continue;
		}
		for (size_t i = 0; i < ps->n; i++)
			if (strcmp(ps->v[i].select, v) == 0)
				seen = true;
		if (!seen) {
			qp_product *p = add_product(ps, v, NULL, err);
			if (p == NULL) {
				qp_error_prefix(err, "%s:%zu: column 'template'",
				    qp_data_name(d), rec.line);
				r = -1;
				break;
			}
			p->select = qp_xstrdup(v);
		}
	}
	if (r == 0 && empty) {
		/* Empty cells: the fallback template, with the rows that
		 * name it (if any). */
		qp_product *p = NULL;
		char *nm = name_of(fallback);
		for (size_t i = 0; i < ps->n; i++)
			if (strcmp(ps->v[i].name, nm) == 0)
				p = &ps->v[i];
		free(nm);
		if (p == NULL && (p = add_product(ps, fallback, NULL,
		    err)) != NULL)
			p->select = qp_xstrdup(fallback);
		if (p == NULL)
			r = -1;
		else
			p->select_empty = true;
	}
	qp_data_close(d);
	if (r < 0) {
		qp_products_free(ps);
		return -1;
	}
	return 1;
}

/* ---- running them ---------------------------------------------------- */

/* path with "-what" before its extension ext (or at its end). */
static char *
suffixed(const char *path, const char *ext, const char *what)
{
	size_t len = strlen(path), el = strlen(ext);

	if (len > el && strcmp(path + len - el, ext) == 0)
		return qp_xasprintf("%.*s-%s%s", (int)(len - el), path, what,
		    ext);
	return qp_xasprintf("%s-%s", path, what);
}

/* s with every "{{product}}" replaced by name. */
static char *
subst_product(const char *s, const char *name)
{
	static const char key[] = "{{product}}";
	qp_buf b;

	qp_buf_init(&b);
	for (const char *p; (p = strstr(s, key)) != NULL;
	    s = p + sizeof key - 1) {
		qp_buf_add(&b, s, (size_t)(p - s));
		qp_buf_adds(&b, name);
	}
	qp_buf_adds(&b, s);
	return qp_buf_steal(&b);
}

/* "-K-of-N" for a shard, else "". */
static void
shard_tag(const qp_batch_opts *o, char *buf, size_t n)
{
	buf[0] = '\0';
	if (o->shard_n > 1)
		snprintf(buf, n, "-%ld-of-%ld", o->shard_k, o->shard_n);
}

/* The folder of a pattern's fixed part, with its '/': "output/". */
static size_t
pattern_dir(const char *pattern)
{
	const char *brace = strstr(pattern, "{{");
	size_t dir = brace ? (size_t)(brace - pattern) : strlen(pattern);

	while (dir > 0 && pattern[dir - 1] != '/')
		dir--;
	return dir;
}

/* The run's manifest: --manifest, else where one batch would put it. */
static char *
set_manifest(const qp_batch_opts *o)
{
	char shard[48];

	shard_tag(o, shard, sizeof shard);
	if (o->manifest)
		return qp_xstrdup(o->manifest);
	if (o->combine) {
		size_t len = strlen(o->combine);
		if (len > 4 && strcmp(o->combine + len - 4, ".pdf") == 0)
			len -= 4;
		return qp_xasprintf("%.*s%s.manifest.csv", (int)len, o->combine,
		    shard);
	}
	return qp_xasprintf("%.*smanifest%s.csv", (int)pattern_dir(o->pattern),
	    o->pattern, shard);
}

/* A product's own manifest, or NULL where its batch's default is right
 * (beside its own print-run PDF). */
static char *
product_manifest(const qp_batch_opts *o, const char *name)
{
	char shard[48];

	if (o->manifest)
		return suffixed(o->manifest, ".csv", name);
	if (o->combine)
		return NULL; /* run-P.manifest.csv, by the batch itself */
	/* Files of every product may share a folder; manifests must not. */
	shard_tag(o, shard, sizeof shard);
	return qp_xasprintf("%.*smanifest-%s%s.csv", (int)pattern_dir(o->pattern),
	    o->pattern, name, shard);
}

bool
qp_batch_products(const qp_batch_opts *base, const qp_product_set *ps,
    const qp_batch_hooks *h, qp_products_stats *st, qp_error *err)
{
	char *run_manifest = NULL, **parts = NULL, **paths = NULL;
	const char **names = NULL;
	size_t done = 0;
	bool ok = false;

	memset(st, 0, sizeof *st);
	st->each = qp_xcalloc(ps->n + 1, sizeof *st->each);
	if (ps->n == 0)
		return qp_fail(err, "no products to make");
	if (base->pattern && strstr(base->pattern, "{{product}}") == NULL)
		return qp_fail(err, "the output pattern '%s' must say "
		    "{{product}}, or every product would write the same files "
		    "(e.g. 'output/{{code}}-{{product}}.pdf')", base->pattern);
	if (strcmp(base->data, "-") == 0)
		return qp_fail(err, "a product set reads the CSV once per "
		    "product: give it as a file, not standard input");
	run_manifest = set_manifest(base);
	parts = qp_xcalloc(ps->n + 1, sizeof *parts);
	paths = qp_xcalloc(ps->n + 1, sizeof *paths);
	names = qp_xcalloc(ps->n + 1, sizeof *names);
	/* Every product's template is found and read before the first
	 * product is made: a misspelt one must not leave half a set. */
	for (size_t i = 0; i < ps->n; i++) {
		const qp_product *p = &ps->v[i];
		qp_template *t;

		names[i] = p->name;
		if ((paths[i] = qp_template_find(p->template_arg, err)) ==
		    NULL || (t = qp_template_load(paths[i], err)) == NULL) {
			qp_error_prefix(err, "product '%s'", p->name);
			goto done;
		}
		qp_template_free(t);
		if (p->has_impose && base->combine == NULL) {
			qp_fail(err, "product '%s': imposing needs a combined "
			    "PDF (--combine)", p->name);
			goto done;
		}
	}
	for (size_t i = 0; i < ps->n; i++) {
		const qp_product *p = &ps->v[i];
		qp_batch_opts o = *base;
		char *combine = NULL, *pattern = NULL, *own = NULL;
		bool r;

		o.template_path = paths[i];
		if (base->combine)
			o.combine = combine = suffixed(base->combine, ".pdf",
			    p->name);
		else
			o.pattern = pattern = subst_product(base->pattern,
			    p->name);
		if ((own = product_manifest(base, p->name)) != NULL)
			o.manifest = own;
		if (p->has_impose)
			o.impose = p->impose;
		if (p->has_bleed)
			o.render.bleed = p->bleed;
		if (p->has_marks)
			o.render.marks = p->marks;
		if (p->select) {
			o.select_column = "template";
			o.select_value = p->select;
			o.select_empty = p->select_empty;
		}
		r = qp_batch_run(&o, h, &st->each[i], err);
		free(combine);
		free(pattern);
		free(own);
		if (!r) {
			qp_error_prefix(err, "product '%s'", p->name);
			goto done;
		}
		done++;
		if (st->each[i].manifest[0])
			parts[i] = qp_xstrdup(st->each[i].manifest);
		if (st->each[i].interrupted) {
			st->interrupted = true;
			break;
		}
	}
	/* The run's manifest: what the products made (after a stop, what
	 * they made so far; the next run resumes each). */
	if (!bt_manifest_join(run_manifest, (const char *const *)parts, names,
	    done, err))
		goto done;
	snprintf(st->manifest, sizeof st->manifest, "%s", run_manifest);
	ok = true;
done:
	for (size_t i = 0; i < ps->n; i++) {
		free(parts[i]);
		free(paths[i]);
	}
	free(parts);
	free(paths);
	free(names);
	free(run_manifest);
	return ok;
}
