/*
 * template_policy.c - the template's `policy:` mapping (see
 * templates/README.md; the checks themselves are in policy.c):
 *
 *   policy:
 *     domains: [humantraffickinghotline.org]   # hosts codes may open
 *     https: true          # codes open https links only
 *     shorteners: false    # ... never a shortener or QR redirect
 *     caption_domain: true # the caption shows the link's domain
 *     numbers: true        # numbers near an official one are errors
 *
 * Everything but domains defaults to the strict value. Without policy:
 * only the number check runs (a misprinted hotline is never right).
 */
#include "template_int.h"

bool
tp_parse_policy(parser *p, yaml_node_t *n)
{
	static const char *const keys[] = {"domains", "https", "shorteners",
	    "caption_domain", "numbers"};
	qp_policy_spec *ps = &p->t->policy;
	yaml_node_t *d;
	bool allow_short = false;
	size_t cap = 0;

	ps->https = ps->shorteners = ps->caption = true;
	ps->numbers = true;
	if (n == NULL || tp_is_null(n))
		return true;
	ps->declared = true;
	ps->line = (int)n->start_mark.line + 1;
	ps->col = (int)n->start_mark.column + 1;
	if (!tp_check_map(p, n, "policy", keys, NKEYS(keys)) ||
	    !tp_get_bool(p, n, "https", &ps->https) ||
	    !tp_get_bool(p, n, "shorteners", &allow_short) ||
	    !tp_get_bool(p, n, "caption_domain", &ps->caption) ||
	    !tp_get_bool(p, n, "numbers", &ps->numbers))
		return false;
	ps->shorteners = !allow_short;
	if ((d = tp_get(p, n, "domains")) == NULL || tp_is_null(d))
		return true;
	if (d->type != YAML_SEQUENCE_NODE)
		return tp_perr(p, d, 0, "policy: domains must be a list of "
		    "host names, e.g. [humantraffickinghotline.org]");
	for (yaml_node_item_t *it = d->data.sequence.items.start;
	    it < d->data.sequence.items.top; it++) {
		yaml_node_t *v = tp_node(p, *it);
		const char *s = tp_scalar(v);
		char *low;

		if (s == NULL || *s == '\0' || strpbrk(s, "/:@ ") ||
		    strchr(s, '.') == NULL)
			return tp_perr(p, v, 0, "policy: '%s' is not a host "
			    "name (write example.org, without https:// or a "
			    "path)", s ? s : "");
		low = qp_xstrdup(s);
		for (char *c = low; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		ps->domains = qp_grow(ps->domains, &cap, ps->ndomains + 1,
		    sizeof *ps->domains);
		ps->domains[ps->ndomains++] = low;
	}
	return true;
}
