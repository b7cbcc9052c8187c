/*
 * template_when.c - conditions: `when:` on a block (it is drawn only
 * when the condition holds) and on a variable (its default applies only
 * when it holds), so a poster's wording can follow its numbers:
 *
 *   - type: text
 *     when: {hotline: "1-888-373-7888"}          # the national number
 *     text: "More than 200 languages."
 *   - type: text
 *     when: {hotline: {not: "1-888-373-7888"}}   # any other
 *     text: "Call the {{hotline_name}}:"
 *   - type: text
 *     when: {text_number: {not: ""}}             # a text number is given
 *
 * A condition is a mapping of variable to value (equal) or {not: value}
 * (different); "" is "no value"; every entry must hold. Values are
 * compared as phone numbers when both read as one, so a template that
 * says 1-888-373-7888 also matches (888) 373-7888 typed in a form.
 * A variable's when may only name variables whose own default is
 * unconditional: one pass over the values then settles every default.
 */
#include "template_int.h"

#include <ctype.h>

void
tp_free_cond(qp_cond *c)
{
	for (size_t i = 0; c && i < c->n; i++)
		free(c->terms[i].value);
	if (c) {
		free(c->terms);
		memset(c, 0, sizeof *c);
	}
}

/* One term: "VAR: value" or "VAR: {not: value}". */
static bool
parse_term(parser *p, yaml_node_t *k, yaml_node_t *v, qp_cond *out)
{
	static const char *const keys[] = {"not"};
	const qp_template *t = p->t;
	const char *name = tp_scalar(k), *val;
	qp_cond_term *term;
	bool negate = false;
	long var;

	if (name == NULL)
		return tp_perr(p, k, 0, "when: keys are variable names");
	if ((var = qp_template_var(t, name)) < 0) {
		const char *near = qp_nearest(name, t->var_names, t->nvars);
		return tp_perr(p, k, 0, "when: there is no variable '%s'%s%s%s",
		    name, near ? " (did you mean '" : "", near ? near : "",
		    near ? "'?)" : "");
	}
	if (v->type == YAML_MAPPING_NODE) {
		yaml_node_t *nv;

		if (!tp_check_map(p, v, "when", keys, NKEYS(keys)))
			return false;
		if ((nv = tp_get(p, v, "not")) == NULL)
			return tp_perr(p, v, 0, "when: '%s: {not: VALUE}' "
			    "needs its value", name);
		v = nv;
		negate = true;
	}
	if ((val = tp_scalar(v)) == NULL)
		return tp_perr(p, v, 0, "when: '%s' takes one value (\"\" for "
		    "none) or {not: VALUE}, not %s", name, tp_type_name(v));
	/* A plain empty scalar (`x:`) is null in YAML: say "" instead, so
	 * that nobody writes `x: ~` meaning the text "~". */
	if (tp_is_null(v) && *val != '\0')
		return tp_perr(p, v, 0, "when: write \"\" for no value, not "
		    "'%s'", val);
	out->terms = qp_xrealloc(out->terms, (out->n + 1) * sizeof *out->terms);
	term = &out->terms[out->n++];
	term->var = (size_t)var;
	term->value = qp_xstrdup(val);
	term->negate = negate;
	return true;
}

bool
tp_parse_when(parser *p, yaml_node_t *map, qp_cond *out)
{
	yaml_node_t *n = tp_get(p, map, "when");
	yaml_node_pair_t *a;

	memset(out, 0, sizeof *out);
	if (n == NULL)
		return true;
	if (n->type != YAML_MAPPING_NODE ||
	    n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return tp_perr(p, n, 0, "when must be a mapping of variable to "
		    "value, e.g. when: {hotline: \"1-888-373-7888\"}");
	for (a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top;
	    a++) {
		yaml_node_t *k = tp_node(p, a->key);

		for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a;
		    b++)
			if (tp_scalar(k) && strcmp(tp_scalar(k),
			    tp_scalar(tp_node(p, b->key))) == 0)
				return tp_perr(p, k, 0, "when: '%s' appears "
				    "twice", tp_scalar(k));
		if (!parse_term(p, k, tp_node(p, a->value), out))
			return false;
	}
	return true;
}

/*
 * The variables' conditions, once every variable (and 'lang') exists.
 * vars is the template's variables mapping.
 */
bool
tp_check_var_conds(parser *p, yaml_node_t *vars)
{
	qp_template *t = p->t;
	yaml_node_pair_t *a;
	size_t i = 0;

	if (vars == NULL || vars->type != YAML_MAPPING_NODE)
		return true;
	for (a = vars->data.mapping.pairs.start;
	    a < vars->data.mapping.pairs.top; a++, i++) {
		yaml_node_t *v = tp_node(p, a->value);

		if (v->type != YAML_MAPPING_NODE)
			continue;
		if (!tp_parse_when(p, v, &t->vars[i].when))
			return false;
		if (t->vars[i].when.n && t->vars[i].def == NULL)
			return tp_perr(p, tp_get(p, v, "when"), 0, "when: says "
			    "when the default of '%s' applies, and it has no "
			    "default", t->vars[i].name);
	}
	i = 0;
	for (a = vars->data.mapping.pairs.start;
	    a < vars->data.mapping.pairs.top; a++, i++) {
		const qp_cond *c = &t->vars[i].when;
		yaml_node_t *v = tp_node(p, a->value);

		for (size_t k = 0; k < c->n; k++) {
			const qp_var *o = &t->vars[c->terms[k].var];

			if (c->terms[k].var == i || o->when.n)
				return tp_perr(p, tp_get(p, v, "when"), 0,
				    "when: the default of '%s' may depend on a "
				    "variable whose own default does not (%s)",
				    t->vars[i].name, c->terms[k].var == i ?
				    "it names itself" : "'%s' has a when: of "
				    "its own");
		}
	}
	return true;
}

/* The keypad digit of an ASCII letter (ABC 2 ... WXYZ 9). */
static char
keypad(char c)
{
	static const char keys[] = "22233344455566677778889999";

	return keys[tolower((unsigned char)c) - 'a'];
}

/* s as a phone number's keys, a leading 1 of an 11-digit US number
 * dropped; false if s does not read as a phone number. */
static bool
phone_keys(const char *s, char *out, size_t outsz)
{
	size_t n = 0, digits = 0;

	if (s == NULL)
		return false;
	while (*s == ' ')
		s++;
	if (!(isdigit((unsigned char)*s) || *s == '+' || *s == '('))
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (strchr(" -+.()", c))
			continue;
		if (!isdigit(c) && !(c < 0x80 && isalpha(c)))
			return false;
		if (n + 1 >= outsz)
			return false;
		digits += isdigit(c) != 0;
		out[n++] = isdigit(c) ? (char)c : keypad((char)c);
	}
	out[n] = '\0';
	if (n < 5 || digits < 3)
		return false;
	if (n == 11 && out[0] == '1')
		memmove(out, out + 1, n);
	return true;
}

bool
qp_is_phone(const char *s)
{
	char k[32];

	return phone_keys(s, k, sizeof k);
}

bool
qp_same_value(const char *a, const char *b)
{
	char ka[32], kb[32];

	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	if (strcmp(a, b) == 0)
		return true;
	return phone_keys(a, ka, sizeof ka) && phone_keys(b, kb, sizeof kb) &&
	    strcmp(ka, kb) == 0;
}

bool
qp_cond_holds(const qp_template *t, const qp_cond *c,
    const char *const *values)
{
	for (size_t i = 0; i < c->n; i++) {
		const qp_cond_term *term = &c->terms[i];
		const char *v = term->var < t->nvars ? values[term->var] : NULL;

		if (qp_same_value(v, term->value) == term->negate)
			return false;
	}
	return true;
}

bool
qp_block_active(const qp_template *t, const qp_block *b,
    const char *const *values)
{
	return qp_cond_holds(t, &b->when, values);
}

const char *
qp_var_default(const qp_template *t, size_t i, const char *const *values)
{
	const qp_var *v = &t->vars[i];

	if (v->def == NULL || !qp_cond_holds(t, &v->when, values))
		return NULL;
	return v->def;
}
