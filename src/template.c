/*
 * template.c - YAML template -> qp_template, with file:line:column errors.
 *
 * libyaml's document API gives every node its start mark, so each message
 * can point at the exact key or value that is wrong. Unknown keys are
 * errors (with the nearest valid key suggested): a misspelt "colr" that
 * were silently ignored would print a poster nobody asked for.
 */
#include "template_int.h"

#include "image.h"

/* choices: [a, b, c] -- the values a variable may take. */
static bool
parse_choices(parser *p, yaml_node_t *v, qp_var *var)
{
	yaml_node_t *c = tp_get(p, v, "choices");
	yaml_node_item_t *it;
	qp_error e;

	if (c == NULL)
		return true;
	if (c->type != YAML_SEQUENCE_NODE ||
	    c->data.sequence.items.top == c->data.sequence.items.start)
		return tp_perr(p, c, 0, "choices of '%s' must be a non-empty list",
		    var->name);
	for (it = c->data.sequence.items.start; it < c->data.sequence.items.top;
	    it++) {
		const char *s = tp_scalar(tp_node(p, *it));
		if (s == NULL || *s == '\0')
			return tp_perr(p, tp_node(p, *it), 0, "each choice of '%s' "
			    "must be a single value", var->name);
		var->choices = qp_xrealloc(var->choices,
		    (var->nchoices + 1) * sizeof *var->choices);
		var->choices[var->nchoices++] = qp_xstrdup(s);
	}
	if (var->def && !qp_var_value_ok(p->t, (size_t)(var - p->t->vars),
	    var->def, &e))
		return tp_perr(p, tp_get(p, v, "default"), 0, "default: %s", e.msg);
	return true;
}

static bool
parse_variables(parser *p, yaml_node_t *n)
{
	static const char *const keys[] = {"default", "description",
	    "choices", "when", "required"};
	qp_template *t = p->t;
	yaml_node_pair_t *a;
	size_t i = 0, count;

	if (n->type != YAML_MAPPING_NODE)
		return tp_perr(p, n, 0, "variables must be a mapping of name: "
		    "default value");
	count = (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start);
	t->vars = qp_xcalloc(count, sizeof *t->vars);
	t->var_names = qp_xcalloc(count, sizeof *t->var_names);
	for (a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
	    a++) {
		yaml_node_t *k = tp_node(p, a->key), *v = tp_node(p, a->value);
		const char *name = tp_scalar(k);
		qp_var *var = &t->vars[i];

		if (name == NULL || *name == '\0')
			return tp_perr(p, k, 0, "variable names must be plain "
			    "names");
		for (const char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || *c == '_'))
				return tp_perr(p, k, 0, "variable name '%s' may "
				    "use only letters, digits and '_'", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->vars[j].name, name) == 0)
				return tp_perr(p, k, 0, "variable '%s' is "
				    "defined twice", name);
		var->name = qp_xstrdup(name);
		t->var_names[i] = var->name;
		t->nvars = ++i;
		if (tp_is_null(v))
			continue;
		if (v->type == YAML_SCALAR_NODE) {
			var->def = qp_xstrdup(tp_scalar(v));
			continue;
		}
		{
			const char *d, *desc;
			if (!tp_check_map(p, v, "a variable", keys, NKEYS(keys)) ||
			    !tp_get_str(p, v, "default", "variable", &d, NULL,
			    false) ||
			    !tp_get_str(p, v, "description", "variable", &desc,
			    NULL, false))
				return false;
			if (d && !tp_is_null(tp_get(p, v, "default")))
				var->def = qp_xstrdup(d);
			if (desc)
				var->desc = qp_xstrdup(desc);
			if (!tp_get_bool(p, v, "required", &var->required) ||
			    !parse_choices(p, v, var))
				return false;
			/* when: is read once every variable exists
			 * (tp_check_var_conds). */
		}
	}
	return true;
}

/* Box: x, y, w, h. x and y may be "center". */
static bool
parse_box(parser *p, yaml_node_t *blk, qp_block *b, bool need_h)
{
	static const char *const keys[] = {"x", "y", "w", "h"};
	qp_template *t = p->t;
	yaml_node_t *n = tp_get(p, blk, "box"), *xv, *yv;
	const char *xs, *ys;
	bool x_center = false, y_center = false;

	if (n == NULL)
		return tp_perr(p, blk, 0, "block '%s' needs a 'box' "
		    "{x, y, w, h}", b->id);
	if (!tp_check_map(p, n, "box", keys, NKEYS(keys)))
		return false;
	if (!tp_get_len(p, n, "w", "box", true, t->page_w, &b->box.w, NULL) ||
	    !tp_get_len(p, n, "h", "box", need_h, t->page_h, &b->box.h,
	    &b->box.has_h))
		return false;
	if (!tp_get_str(p, n, "x", "box", &xs, &xv, true) ||
	    !tp_get_str(p, n, "y", "box", &ys, &yv, true))
		return false;
	if (strcmp(xs, "center") == 0)
		x_center = true;
	else if (!tp_get_len(p, n, "x", "box", true, t->page_w, &b->box.x, NULL))
		return false;
	if (strcmp(ys, "center") == 0) {
		if (!b->box.has_h)
			return tp_perr(p, yv, 0, "y: 'center' needs the box's "
			    "height 'h'");
		y_center = true;
	} else if (!tp_get_len(p, n, "y", "box", true, t->page_h, &b->box.y,
	    NULL))
		return false;
	if (b->box.w <= 0 || (b->box.has_h && b->box.h <= 0))
		return tp_perr(p, n, 0, "box of block '%s' must have a positive "
		    "width and height", b->id);
	if (x_center)
		b->box.x = (t->page_w - b->box.w) / 2;
	if (y_center)
		b->box.y = (t->page_h - b->box.h) / 2;
	/* A hair of tolerance for percentages that add up to 100%. */
	if (b->box.x < -0.01 || b->box.y < -0.01 ||
	    b->box.x + b->box.w > t->page_w + 0.01 ||
	    (b->box.has_h && b->box.y + b->box.h > t->page_h + 0.01))
		return tp_perr(p, n, 0, "box of block '%s' (%.1fx%.1fpt at "
		    "%.1f,%.1f) extends outside the %.1fx%.1fpt page", b->id,
		    b->box.w, b->box.has_h ? b->box.h : b->box.w, b->box.x,
		    b->box.y, t->page_w, t->page_h);
	return true;
}

/* size: 24pt, or {max: 72pt, min: 28pt}. */
static bool
parse_size(parser *p, yaml_node_t *blk, const char *key, double def_max,
    double def_min, double *max, double *min)
{
	static const char *const keys[] = {"max", "min"};
	yaml_node_t *n = tp_get(p, blk, key);
	qp_error e;

	*max = def_max;
	*min = def_min;
	if (n == NULL)
		return true;
	if (n->type == YAML_SCALAR_NODE) {
		if (!qp_parse_points(tp_scalar(n), max, &e))
			return tp_perr(p, n, 0, "%s: %s", key, e.msg);
		*min = *max;
	} else {
		bool has_min;
		if (!tp_check_map(p, n, key, keys, NKEYS(keys)) ||
		    !tp_get_len(p, n, "max", key, true, 0, max, NULL) ||
		    !tp_get_len(p, n, "min", key, false, 0, min, &has_min))
			return false;
		if (!has_min)
			*min = *max;
	}
	if (*min <= 0 || *max < *min || *max > 2000)
		return tp_perr(p, n, 0, "%s: need 0 < min <= max <= 2000pt", key);
	return true;
}

static bool
parse_rect(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "when", "box", "fill",
	    "stroke", "stroke_width"};
	qp_rect_spec *r = &b->u.rect;

	r->fill = (qp_color){.r = 0, .g = 0, .b = 0, .a = 0};
	r->stroke_width = 1;
	if (!tp_check_map(p, n, "rect block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, true) || !tp_get_color(p, n, "fill", &r->fill))
		return false;
	r->has_stroke = tp_get(p, n, "stroke") != NULL;
	return tp_get_color(p, n, "stroke", &r->stroke) &&
	    tp_get_len(p, n, "stroke_width", "rect", false, 0, &r->stroke_width,
	    NULL);
}

static const char *const align_names[] = {"left", "center", "right",
    "start", "end"};
static const char *const valign_names[] = {"top", "middle", "bottom"};

static bool
parse_text(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "when", "box", "text",
	    "font", "size", "color", "align", "valign", "line_spacing",
	    "wrap", "lang"};
	qp_text_spec *x = &b->u.text;
	const char *font, *ls, *lang;
	yaml_node_t *lsv;
	yaml_node_t *langv;
	int align = QP_ALIGN_START, valign = QP_VALIGN_TOP;

	x->color = (qp_color){.r = 0, .g = 0, .b = 0, .a = 1};
	x->wrap = true;
	if (!tp_check_map(p, n, "text block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, true) ||
	    !tp_get_l10n(p, n, "text", "text block", true, true, &x->l10n,
	    &x->markup) ||
	    !tp_get_str(p, n, "font", "text block", &font, NULL, false) ||
	    !parse_size(p, n, "size", 24, 24, &x->size_max, &x->size_min) ||
	    !tp_get_color(p, n, "color", &x->color) ||
	    !tp_get_enum(p, n, "align", align_names, 5, &align) ||
	    !tp_get_enum(p, n, "valign", valign_names, 3, &valign) ||
	    !tp_get_str(p, n, "line_spacing", "text block", &ls, &lsv, false) ||
	    !tp_get_bool(p, n, "wrap", &x->wrap) ||
	    !tp_get_str(p, n, "lang", "text block", &lang, &langv, false))
		return false;
	x->font = qp_xstrdup(font ? font : "Noto Sans");
	x->align = (qp_halign)align;
	x->valign = (qp_valign)valign;
	if (lang) {
		x->lang = qp_xstrdup(lang);
		if (!tp_compile(p, langv, lang, &x->lang_tstr))
			return false;
		if (qp_tstr_is_constant(x->lang_tstr) && (p->t->nlangs ?
		    qp_template_lang(p->t, lang) < 0 : !tp_valid_tag(lang)))
			return tp_perr(p, langv, 0, p->t->nlangs ? "lang: '%s' is "
			    "not one of the template's languages" : "lang: "
			    "'%s' is not a language tag (e.g. en, es, zh-Hant)",
			    lang);
	}
	if (ls && (!qp_parse_number(ls, strlen(ls), &x->line_spacing) ||
	    x->line_spacing < 0.5 || x->line_spacing > 3))
		return tp_perr(p, lsv, 0, "line_spacing: '%s' is not a factor "
		    "between 0.5 and 3", ls);
	return true;
}

/* A path the template gives, relative to the template's folder. */
static char *
template_relative(const parser *p, const char *f)
{
	const char *slash = strrchr(p->path, '/');

	if (f[0] == '/' || slash == NULL)
		return qp_xstrdup(f);
	return qp_xasprintf("%.*s/%s", (int)(slash - p->path), p->path, f);
}

/*
 * logo: a picture in the middle of the code, logo_size (a fraction of the
 * code's width) wide; without an ecc of its own the code gets H. Whether
 * the level can spare the modules is layout's question (it depends on
 * the version); the file is checked here, at its line and column.
 */
static bool
parse_qr_logo(parser *p, yaml_node_t *n, qp_block *b)
{
	qp_qr_spec *q = &b->u.qr;
	const char *file, *ls;
	yaml_node_t *fv, *lsv;
	qp_error e;
	char *path;

	q->ecc_given = tp_get(p, n, "ecc") != NULL;
	if (!tp_get_str(p, n, "logo", "qr block", &file, &fv, false) ||
	    !tp_get_str(p, n, "logo_size", "qr block", &ls, &lsv, false))
		return false;
	if (file == NULL) {
		if (ls)
			return tp_perr(p, lsv, 0, "logo_size: goes with logo");
		return true;
	}
	q->logo_size = QP_QR_LOGO_DEFAULT;
	if (ls && (!qp_parse_number(ls, strlen(ls), &q->logo_size) ||
	    q->logo_size <= 0 || q->logo_size >= 1))
		return tp_perr(p, lsv, 0, "logo_size: '%s' is a fraction of the "
		    "code's width, above 0 and below 1 (e.g. 0.2)", ls);
	if (!q->ecc_given)
		q->ecc = 3;
	q->logo_file = qp_xstrdup(file);
	path = template_relative(p, file);
	q->logo = qp_image_load(path, &e);
	free(path);
	if (q->logo == NULL)
		return tp_perr(p, fv, 0, "block '%s': %s (paths are relative to "
		    "the template's folder)", b->id, e.msg);
	return true;
}

static bool
parse_qr(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "when", "box", "data",
	    "ecc", "scan_distance", "min_module", "quiet_zone", "color",
	    "background", "link", "caption", "caption_font", "caption_size",
	    "caption_color", "logo", "logo_size"};
	/* Indices are qr.h's levels; "auto" is QP_QR_ECC_AUTO. */
	static const char *const eccs[] = {"L", "M", "Q", "H", "auto"};
	qp_qr_spec *q = &b->u.qr;
	const char *sd, *qz, *cf;
	yaml_node_t *sdv, *qzv;
	qp_error e;

	q->ecc = 1;
	q->quiet_zone = 4;
	q->min_module = 0.4 * QP_PT_PER_MM;
	q->color = (qp_color){.r = 0, .g = 0, .b = 0, .a = 1};
	q->background = (qp_color){.r = 1, .g = 1, .b = 1, .a = 1};
	q->caption_color = (qp_color){.r = 0, .g = 0, .b = 0, .a = 1};
	q->link = true;
	if (!tp_check_map(p, n, "qr block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, false) ||
	    !tp_get_tstr(p, n, "data", "qr block", true, &q->data) ||
	    !tp_get_enum(p, n, "ecc", eccs, 5, &q->ecc) ||
	    !tp_get_str(p, n, "scan_distance", "qr block", &sd, &sdv, false) ||
	    !tp_get_len(p, n, "min_module", "qr block", false, 0, &q->min_module,
	    NULL) ||
	    !tp_get_str(p, n, "quiet_zone", "qr block", &qz, &qzv, false) ||
	    !tp_get_color(p, n, "color", &q->color) ||
	    !tp_get_color(p, n, "background", &q->background) ||
	    !tp_get_bool(p, n, "link", &q->link) ||
	    !tp_get_l10n(p, n, "caption", "qr block", false, true,
	    &q->caption_l10n, &q->caption) ||
	    !tp_get_str(p, n, "caption_font", "qr block", &cf, NULL, false) ||
	    !parse_size(p, n, "caption_size", 14, 8, &q->caption_size_max,
	    &q->caption_size_min) ||
	    !tp_get_color(p, n, "caption_color", &q->caption_color) ||
	    !parse_qr_logo(p, n, b))
		return false;
	if (sd && (!qp_parse_metres(sd, &q->scan_distance, &e) ||
	    q->scan_distance <= 0))
		return tp_perr(p, sdv, 0, "scan_distance: %s", sd &&
		    q->scan_distance <= 0 && e.msg[0] == '\0' ?
		    "must be positive" : e.msg);
	if (qz) {
		long v;
		if (!qp_parse_int(qz, 4, 100, &v))
			return tp_perr(p, qzv, 0, "quiet_zone: '%s' must be a "
			    "whole number of modules, at least 4 (scanners "
			    "need 4)", qz);
		q->quiet_zone = (int)v;
	}
	if (q->min_module <= 0)
		return tp_perr(p, tp_get(p, n, "min_module"), 0, "min_module must "
		    "be positive");
	if (b->box.has_h && b->box.h < b->box.w)
		return tp_perr(p, tp_get(p, n, "box"), 0, "box of qr block '%s' must "
		    "be at least as tall as it is wide (the code is square)",
		    b->id);
	q->caption_font = qp_xstrdup(cf ? cf : "Noto Sans");
	return true;
}

/*
 * image: a PNG, JPEG or SVG file (relative to the template's folder), read
 * and checked now, so a missing, unreadable or mislabelled file, or one
 * with too many pixels, is an error at the 'file' line and column.
 */
static bool
parse_image(parser *p, yaml_node_t *n, qp_block *b)
{
	static const char *const keys[] = {"type", "id", "when", "box", "file",
	    "fit", "align", "valign", "opacity"};
	static const char *const fits[] = {"contain", "cover", "stretch"};
	qp_image_spec *im = &b->u.image;
	const char *file, *op;
	yaml_node_t *fv, *opv;
	int fit = QP_FIT_CONTAIN, align = QP_ALIGN_CENTER;
	int valign = QP_VALIGN_MIDDLE;
	qp_error e;
	char *path;

	im->opacity = 1;
	if (!tp_check_map(p, n, "image block", keys, NKEYS(keys)) ||
	    !parse_box(p, n, b, true) ||
	    !tp_get_str(p, n, "file", "image block", &file, &fv, true) ||
	    !tp_get_enum(p, n, "fit", fits, 3, &fit) ||
	    !tp_get_enum(p, n, "align", align_names, 3, &align) ||
	    !tp_get_enum(p, n, "valign", valign_names, 3, &valign) ||
	    !tp_get_str(p, n, "opacity", "image block", &op, &opv, false))
		return false;
	im->fit = (qp_fit)fit;
	im->align = (qp_halign)align;
	im->valign = (qp_valign)valign;
	if (op && (!qp_parse_number(op, strlen(op), &im->opacity) ||
	    im->opacity <= 0 || im->opacity > 1))
		return tp_perr(p, opv, 0, "opacity: '%s' is not a number above "
		    "0 and at most 1", op);
	im->file = qp_xstrdup(file);
	path = template_relative(p, file);
	im->img = qp_image_load(path, &e);
	free(path);
	if (im->img == NULL)
		return tp_perr(p, fv, 0, "block '%s': %s (paths are relative to "
		    "the template's folder)", b->id, e.msg);
	return true;
}

static bool
parse_blocks(parser *p, yaml_node_t *n)
{
	static const char *const types[] = {"rect", "text", "qr", "image"};
	qp_template *t = p->t;
	yaml_node_item_t *it;
	size_t count, i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return tp_perr(p, n, 0, "blocks must be a list");
	count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (count == 0)
		return tp_perr(p, n, 0, "blocks is empty: a poster needs at least "
		    "one block");
	t->blocks = qp_xcalloc(count, sizeof *t->blocks);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++, i++) {
		yaml_node_t *bn = tp_node(p, *it), *tv;
		qp_block *b = &t->blocks[i];
		const char *type, *id;
		size_t k;
		bool ok;

		t->nblocks = i + 1;
		b->line = (int)bn->start_mark.line + 1;
		b->col = (int)bn->start_mark.column + 1;
		if (bn->type != YAML_MAPPING_NODE)
			return tp_perr(p, bn, 0, "each block must be a mapping "
			    "with a 'type'");
		if (!tp_get_str(p, bn, "type", "block", &type, &tv, true) ||
		    !tp_get_str(p, bn, "id", "block", &id, NULL, false))
			return false;
		b->id = id ? qp_xstrdup(id) : qp_xasprintf("blocks[%zu]", i);
		for (k = 0; k < NKEYS(types); k++)
			if (strcmp(type, types[k]) == 0)
				break;
		if (k == NKEYS(types)) {
			const char *near = qp_nearest(type, types,
			    NKEYS(types));
			if (near)
				return tp_perr(p, tv, 0, "unknown block type '%s' "
				    "(did you mean '%s'?)", type, near);
			return tp_perr(p, tv, 0, "unknown block type '%s' (use "
			    "rect, text, qr or image)", type);
		}
		b->kind = (qp_block_kind)k;
		if (!tp_parse_when(p, bn, &b->when))
			return false;
		switch (b->kind) {
		case QP_BLOCK_RECT: ok = parse_rect(p, bn, b); break;
		case QP_BLOCK_TEXT: ok = parse_text(p, bn, b); break;
		case QP_BLOCK_QR: ok = parse_qr(p, bn, b); break;
		case QP_BLOCK_IMAGE: ok = parse_image(p, bn, b); break;
		default: ok = false; break;
		}
		if (!ok)
			return false;
	}
	return true;
}


/*
 * fonts: [file, ...] - font files the template brings, relative to the
 * template's folder. Only their paths are kept: whoever lays the template
 * out registers them (qp_fonts_add_template).
 * A file that is not there is an error at its line and column.
 */
static bool
parse_fonts(parser *p, yaml_node_t *n)
{
	qp_template *t = p->t;
	yaml_node_item_t *it;
	const char *slash = strrchr(p->path, '/');

	if (n->type != YAML_SEQUENCE_NODE)
		return tp_perr(p, n, 0, "fonts must be a list of font files");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *v = tp_node(p, *it);
		const char *f = tp_scalar(v);
		struct stat st;
		char *path;

		if (f == NULL || *f == '\0')
			return tp_perr(p, v, 0, "each entry of fonts is a font "
			    "file's path");
		if (f[0] == '/' || slash == NULL)
			path = qp_xstrdup(f);
		else
			path = qp_xasprintf("%.*s/%s", (int)(slash - p->path),
			    p->path, f);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			tp_perr(p, v, 0, "font file '%s' does not exist (paths "
			    "are relative to the template's folder)", f);
			free(path);
			return false;
		}
		t->font_files = qp_xrealloc(t->font_files,
		    (t->nfont_files + 1) * sizeof *t->font_files);
		t->font_files[t->nfont_files++] = path;
	}
	return true;
}

static bool
parse_root(parser *p, yaml_node_t *root)
{
	static const char *const keys[] = {"qrposter", "name", "description",
	    "title", "subject", "page", "variables", "blocks",
	    "min_text_size", "languages", "strings", "fonts", "policy"};
	qp_template *t = p->t;
	yaml_node_t *n;
	const char *s;

	if (root == NULL)
		return tp_perr(p, NULL, 0, "the template is empty");
	if (!tp_check_map(p, root, "the template", keys, NKEYS(keys)))
		return false;
	if (!tp_get_str(p, root, "qrposter", "template", &s, &n, false))
		return false;
	if (s && strcmp(s, "1") != 0)
		return tp_perr(p, n, 0, "this is a version %s template; this "
		    "qrposter reads version 1", s);
	if (!tp_get_str(p, root, "name", "template", &s, NULL, false))
		return false;
	t->name = qp_xstrdup(s ? s : "poster");
	if (!tp_get_str(p, root, "description", "template", &s, NULL, false))
		return false;
	if (s)
		t->description = qp_xstrdup(s);
	if ((n = tp_get(p, root, "page")) == NULL)
		return tp_perr(p, root, 0, "the template needs a 'page' "
		    "(e.g. page: {size: letter})");
	t->background = (qp_color){.r = 1, .g = 1, .b = 1, .a = 1};
	if (!tp_parse_page(p, n))
		return false;
	if (!tp_get_len(p, root, "min_text_size", "template", false, 0,
	    &t->min_text_size, NULL))
		return false;
	if ((n = tp_get(p, root, "fonts")) != NULL && !tp_is_null(n) &&
	    !parse_fonts(p, n))
		return false;
	if ((n = tp_get(p, root, "variables")) != NULL && !tp_is_null(n) &&
	    !parse_variables(p, n))
		return false;
	if (!tp_parse_policy(p, tp_get(p, root, "policy")))
		return false;
	if (!tp_parse_languages(p, root) ||
	    !tp_check_var_conds(p, tp_get(p, root, "variables")))
		return false;
	if (!tp_get_l10n(p, root, "title", "template", false, true,
	    &t->title_l10n, &t->title) ||
	    !tp_get_l10n(p, root, "subject", "template", false, true,
	    &t->subject_l10n, &t->subject))
		return false;
	if ((n = tp_get(p, root, "blocks")) == NULL)
		return tp_perr(p, root, 0, "the template needs 'blocks'");
	return parse_blocks(p, n);
}

qp_template *
qp_template_parse(const char *path, const char *text, size_t len,
    qp_error *err)
{
	parser p = {.path = path, .err = err};
	bool ok = false;

	if (!tp_doc_load(path, text, len, QP_TEMPLATE_MAX_BYTES, "template",
	    &p.doc, err))
		return NULL;
	p.t = qp_xcalloc(1, sizeof *p.t);
	p.t->path = qp_xstrdup(path);
	p.t->lang_var = -1;
	ok = parse_root(&p, yaml_document_get_root_node(&p.doc));
	free(p.smaps);
	free(p.skeys);
	yaml_document_delete(&p.doc);
	if (!ok) {
		qp_template_free(p.t);
		return NULL;
	}
	return p.t;
}

qp_template *
qp_template_load(const char *path, qp_error *err)
{
	qp_buf b;
	qp_template *t;

	if (!tp_read_file(path, "template", QP_TEMPLATE_MAX_BYTES, &b, err))
		return NULL;
	t = qp_template_parse(path, b.data, b.len, err);
	qp_buf_free(&b);
	return t;
}

void
qp_template_free(qp_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nblocks; i++) {
		qp_block *b = &t->blocks[i];
		free(b->id);
		tp_free_cond(&b->when);
		switch (b->kind) {
		case QP_BLOCK_TEXT:
			tp_free_l10n(t, b->u.text.l10n);
			free(b->u.text.font);
			free(b->u.text.lang);
			qp_tstr_free(b->u.text.lang_tstr);
			break;
		case QP_BLOCK_IMAGE:
			free(b->u.image.file);
			qp_image_free(b->u.image.img);
			break;
		case QP_BLOCK_QR:
			qp_image_free(b->u.qr.logo);
			free(b->u.qr.logo_file);
			qp_tstr_free(b->u.qr.data);
			tp_free_l10n(t, b->u.qr.caption_l10n);
			free(b->u.qr.caption_font);
			break;
		default:
			break;
		}
	}
	free(t->blocks);
	for (size_t i = 0; i < t->nvars; i++) {
		free(t->vars[i].name);
		free(t->vars[i].def);
		free(t->vars[i].desc);
		for (size_t j = 0; j < t->vars[i].nchoices; j++)
			free(t->vars[i].choices[j]);
		free(t->vars[i].choices);
		tp_free_cond(&t->vars[i].when);
	}
	free(t->vars);
	free(t->var_names);
	tp_free_l10n(t, t->title_l10n);
	tp_free_l10n(t, t->subject_l10n);
	for (size_t i = 0; i < t->nlangs; i++)
		free(t->langs[i]);
	free(t->langs);
	free(t->name);
	free(t->description);
	for (size_t i = 0; i < t->nfont_files; i++)
		free(t->font_files[i]);
	free(t->font_files);
	for (size_t i = 0; i < t->policy.ndomains; i++)
		free(t->policy.domains[i]);
	free(t->policy.domains);
	free(t->path);
	free(t);
}

long
qp_template_var(const qp_template *t, const char *name)
{
	for (size_t i = 0; i < t->nvars; i++)
		if (strcmp(t->vars[i].name, name) == 0)
			return (long)i;
	return -1;
}
