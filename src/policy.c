/*
 * policy.c - link and number policy over a laid-out page (policy.h).
 */
#include "policy.h"
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "template.h"
#include "vars.h"

/*
 * Official numbers, from ../shared/FIELD.md section 1 and the notices
 * the bundled templates carry (re-check before a print run):
 * - National Human Trafficking Hotline 1-888-373-7888, text 233733:
 *   humantraffickinghotline.org/about-us/what-we-do; dhs.gov (2020-01-10)
 * - ICE HSI Tip Line 1-866-DHS-2-ICE (1-866-347-2423), TTY 802-872-6196:
 *   ice.gov/tipline (archived at cybercemetery.unt.edu)
 * - Amtrak Police 1-800-331-0008, text APD11 (27311):
 *   blog.amtrak.com/2016/01/human-trafficking/
 * - Florida 1-855-FLA-SAFE (1-855-352-7233): Fla. Stat. 787.29
 * - CAST (California) 1-888-KEY-2-FREE (1-888-539-2373): Cal. Civ. Code
 *   52.6 model notice, oag.ca.gov/human-trafficking/model-notice
 */
const qp_official_number qp_official_numbers[] = {
	{"8883737888", "1-888-373-7888", "National Human Trafficking Hotline",
	    "humantraffickinghotline.org"},
	{"233733", "233733", "National Human Trafficking Hotline's text line",
	    "humantraffickinghotline.org"},
	{"8663472423", "1-866-347-2423", "ICE HSI Tip Line",
	    "ice.gov/tipline"},
	{"8028726196", "802-872-6196", "ICE HSI Tip Line's TTY",
	    "ice.gov/tipline"},
	{"8003310008", "1-800-331-0008", "Amtrak Police",
	    "blog.amtrak.com/2016/01/human-trafficking/"},
	{"27311", "27311 (APD11)", "Amtrak Police's text line",
	    "blog.amtrak.com/2016/01/human-trafficking/"},
	{"8553527233", "1-855-FLA-SAFE (1-855-352-7233)",
	    "Florida human trafficking hotline", "Fla. Stat. 787.29"},
	{"8885392373", "1-888-539-2373", "CAST (California) hotline",
	    "oag.ca.gov/human-trafficking/model-notice"},
};
const size_t qp_nofficial_numbers = sizeof qp_official_numbers /
    sizeof qp_official_numbers[0];

/* ---- numbers --------------------------------------------------------- */

/* Optimal string alignment distance (substitutions, insertions,
 * deletions, adjacent transpositions), for short digit strings. */
static int
osa(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	int d[16][16];

	if (n > 15 || m > 15)
		return 99;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			int c = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

const qp_official_number *
qp_policy_near_number(const char *digits, int *dist)
{
	const qp_official_number *best = NULL;
	size_t len = strlen(digits);
	int bd = 99;

	for (size_t i = 0; i < qp_nofficial_numbers; i++) {
		const qp_official_number *o = &qp_official_numbers[i];
		size_t ol = strlen(o->digits);
		int d;

		if (strcmp(o->digits, digits) == 0)
			return NULL;
		/* Short codes: same length only. A five-digit ZIP code one
		 * digit short of a six-digit text line is not a misprint. */
		if ((ol < 10 || len < 10) && ol != len)
			continue;
		d = osa(digits, o->digits);
		if (d < bd) {
			bd = d;
			best = o;
		}
	}
	*dist = bd;
	return bd >= 1 && bd <= 2 ? best : NULL;
}

/* The digit a phone keypad gives letter c (A-Z). */
static char
keypad(char c)
{
	static const char map[] = "22233344455566677778889999";

	return map[c - 'A'];
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/*
 * The phone-like token starting at s: digit groups (and, after the
 * first four digits, capital-letter groups read on a keypad) joined by
 * single separators (-, ., space, parentheses, a leading +). Fills
 * digits (as dialled, a leading 1 of an 11-digit number dropped) and
 * returns the token's length, or 0 if it is not a phone or text number.
 */
static size_t
phone_token(const char *s, char digits[16], bool *short_code)
{
	const char *p = s;
	size_t n = 0;
	bool letters = false, odd_sep = false;

	if (*p == '+' || *p == '(')
		p++;
	while (*p) {
		const char *g = p;

		if (is_digit(*p))
			while (is_digit(*p) && n < 15)
				digits[n++] = *p++;
		else if (is_upper(*p) && n >= 4) {
			while (is_upper(*p) && n < 15)
				digits[n++] = keypad(*p++);
			letters = true;
		}
		if (p == g)
			break;
		/* A letter group is read to the end of the number only:
		 * 1-888-KEY-2-FREEDOM dials 1-888-539-2373. */
		if (letters && (n >= 11 || (n >= 10 && digits[0] != '1'))) {
			while (is_upper(*p) || *p == '(' || *p == ')')
				p++;
			break;
		}
		if ((*p == '-' || *p == '.' || *p == ' ' || *p == ')' ||
		    *p == '(') && (is_digit(p[1]) || is_upper(p[1]) ||
		    (p[0] == ')' && p[1] == ' ' && is_digit(p[2])))) {
			if (*p != '-')
				odd_sep = true;
			p += p[0] == ')' && p[1] == ' ' ? 2 : 1;
			continue;
		}
		break;
	}
	if (n > 0 && (is_digit(*p) || (*p >= 'a' && *p <= 'z')))
		return 0; /* part of a longer word or number */
	digits[n] = '\0';
	*short_code = false;
	if (n == 11 && digits[0] == '1') {
		memmove(digits, digits + 1, 11);
		n = 10;
	}
	if (n == 10)
		return (size_t)(p - s);
	if ((n == 5 || n == 6) && !letters && !odd_sep && s[0] != '(' &&
	    s[0] != '+') {
		*short_code = true;
		return (size_t)(p - s);
	}
	return 0;
}

static void
check_numbers_in(const char *text, const char *block, qp_diag_list *out)
{
	for (const char *s = text; *s; s++) {
		char digits[16];
		bool sc;
		size_t len;
		const qp_official_number *o;
		int d;

		if (!(is_digit(*s) || ((*s == '+' || *s == '(') &&
		    is_digit(s[1]))))
			continue;
		if (s > text && (is_digit(s[-1]) || is_upper(s[-1]) ||
		    (s[-1] >= 'a' && s[-1] <= 'z') || s[-1] == '-' ||
		    s[-1] == '.')) {
			while (is_digit(s[1]))
				s++;
			continue;
		}
		len = phone_token(s, digits, &sc);
		if (len == 0) {
			while (is_digit(s[1]))
				s++;
			continue;
		}
		if ((o = qp_policy_near_number(digits, &d)) != NULL) {
			char *num = qp_xstrndup(s, len);
			qp_diag_in in = {.block = block, .s = {num, o->name,
			    o->printed, o->source}, .n = {d}};

			qp_diag_push(out, QP_D_NUMBER_NEAR_OFFICIAL, &in);
			free(num);
		}
		s += len - 1;
	}
}

/* ---- links ----------------------------------------------------------- */

bool
qp_policy_is_shortener(const char *host)
{
	size_t hl = strlen(host);

	for (size_t i = 0; qp_link_shorteners[i]; i++) {
		const char *d = qp_link_shorteners[i];
		size_t dl = strlen(d);

		if (hl == dl ? strcmp(host, d) == 0 : hl > dl &&
		    host[hl - dl - 1] == '.' && strcmp(host + hl - dl, d) == 0)
			return true;
	}
	return false;
}

static bool
host_in(const char *host, char *const *domains, size_t n)
{
	size_t hl = strlen(host);

	for (size_t i = 0; i < n; i++) {
		size_t dl = strlen(domains[i]);

		if (strcmp(host, domains[i]) == 0 || (hl > dl &&
		    host[hl - dl - 1] == '.' && strcmp(host + hl - dl,
		    domains[i]) == 0))
			return true;
	}
	return false;
}

/* Scheme (lower case) and host of a URL payload (vars.c's
 * qp_url_host: the host a phone opens); false if not a URL. */
static bool
url_parts(const char *u, char *scheme, size_t ss, char *host, size_t hs)
{
	size_t n = strcspn(u, ":");

	if (!qp_url_host(u, host, hs) || n >= ss)
		return false;
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]);
	scheme[n] = '\0';
	return true;
}

static const char *
item_text(const qp_item *it)
{
	return it->layout ? pango_layout_get_text(it->layout) : "";
}

/* Case-insensitive: does text show host (a leading www. may be left
 * out)? */
static bool
shows(const char *text, const char *host)
{
	if (strncmp(host, "www.", 4) == 0)
		host += 4;
	for (const char *p = text; *p; p++)
		if (strncasecmp(p, host, strlen(host)) == 0)
			return true;
	return false;
}

static void
check_link(const qp_template *t, const qp_page *page, const qp_item *it,
    const char *name, qp_diag_list *out)
{
	const qp_policy_spec *ps = &t->policy;
	char scheme[32], host[256];
	bool url = url_parts(it->data, scheme, sizeof scheme, host,
	    sizeof host);
	bool has_caption = false, shown = false;

	if (ps->https && (!url || strcmp(scheme, "https") != 0)) {
		qp_diag_in in = {.block = name, .s = {it->data}};

		qp_diag_push(out, QP_D_LINK_NOT_HTTPS, &in);
		if (!url)
			return;
	}
	if (!url || !host[0])
		return;
	if (ps->shorteners && qp_policy_is_shortener(host)) {
		qp_diag_in in = {.block = name, .s = {host}};

		qp_diag_push(out, QP_D_LINK_SHORTENER, &in);
	}
	if (ps->ndomains && !host_in(host, ps->domains, ps->ndomains)) {
		qp_buf b;

		qp_buf_init(&b);
		for (size_t i = 0; i < ps->ndomains; i++)
			qp_buf_printf(&b, "%s%s", i ? ", " : "", ps->domains[i]);
		qp_diag_in in = {.block = name, .s = {host, b.data}};

		qp_diag_push(out, QP_D_LINK_DOMAIN, &in);
		qp_buf_free(&b);
	}
	if (!ps->caption)
		return;
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *c = &page->items[i];

		if (c->kind == QP_ITEM_TEXT && c->block == it->block) {
			has_caption = true;
			shown = shown || shows(item_text(c), host);
		}
	}
	/* No caption: the page must print the domain somewhere. */
	for (size_t i = 0; i < page->nitems && !has_caption && !shown; i++)
		if (page->items[i].kind == QP_ITEM_TEXT)
			shown = shows(item_text(&page->items[i]), host);
	if (!shown) {
		qp_diag_in in = {.block = name, .s = {host},
		    .n = {has_caption}};

		qp_diag_push(out, QP_D_CAPTION_NO_DOMAIN, &in);
	}
}

void
qp_policy_check_page(const qp_template *t, const qp_page *page,
    qp_diag_list *out)
{
	const qp_policy_spec *ps = &t->policy;

	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		const char *name = it->block ? it->block->id : "qr";

		if (it->kind == QP_ITEM_QR && it->data) {
			if (ps->declared)
				check_link(t, page, it, name, out);
			/* A code that dials or texts: its number too. */
			if (ps->numbers && (strncasecmp(it->data, "tel:",
			    4) == 0 || strncasecmp(it->data, "sms:", 4) == 0))
				check_numbers_in(it->data + 4, name, out);
		} else if (it->kind == QP_ITEM_TEXT && ps->numbers)
			check_numbers_in(item_text(it), name, out);
	}
}
