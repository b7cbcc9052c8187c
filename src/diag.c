/*
 * diag.c - findings and the messages made from them.
 *
 * Each code's message is written once, here, from the finding's fields;
 * the comment beside it says which numbers (n[]) and strings (s[]) it
 * reads.
 */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	qp_code code;
	const char *name;
	qp_severity sev;
} codes[] = {
#define QP_DIAG_ROW_(e, num, name, sev) {QP_D_##e, name, QP_DIAG_##sev},
	QP_DIAG_CODES(QP_DIAG_ROW_)
#undef QP_DIAG_ROW_
};

#define NCODES (sizeof codes / sizeof codes[0])

const char *
qp_code_name(qp_code code)
{
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "";
}

size_t
qp_diag_code_at(const char *msg)
{
	size_t n = strlen(msg);
	const char *open = n ? strrchr(msg, '[') : NULL;
	char name[64];

	if (open == NULL || open == msg || open[-1] != ' ' || msg[n - 1] != ']' ||
	    (size_t)(msg + n - 1 - open - 1) >= sizeof name)
		return n;
	snprintf(name, sizeof name, "%.*s", (int)(msg + n - 1 - open - 1),
	    open + 1);
	return qp_code_from_name(name) != QP_D_NONE ?
	    (size_t)(open - 1 - msg) : n;
}

qp_code
qp_code_from_name(const char *name)
{
	for (size_t i = 0; name && i < NCODES; i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].code;
	return QP_D_NONE;
}

qp_severity
qp_code_severity(qp_code code)
{
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i].code == code)
			return codes[i].sev;
	return QP_DIAG_ERROR;
}

const char *
qp_severity_name(qp_severity sev)
{
	return sev == QP_DIAG_ERROR ? "error" : "warning";
}

void
qp_diag_list_init(qp_diag_list *l)
{
	memset(l, 0, sizeof *l);
}

static void
diag_free(qp_diag *d)
{
	free(d->block);
	free(d->column);
	for (size_t i = 0; i < d->nvars; i++)
		free(d->vars[i]);
	free(d->vars);
	for (size_t i = 0; i < QP_DIAG_STRS; i++)
		free(d->s[i]);
	free(d->msg);
}

void
qp_diag_list_clear(qp_diag_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		diag_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static const char *
str(const qp_diag *d, int i)
{
	return d->s[i] ? d->s[i] : "";
}

/* "block 'qr' caption", "column 'name'", "variable 'code'" or "". */
static void
subject(const qp_diag *d, qp_buf *b)
{
	if (d->block)
		qp_buf_printf(b, "block '%s'%s", d->block, d->caption ?
		    " caption" : "");
	else if (d->column)
		qp_buf_printf(b, "column '%s'", d->column);
	else if (d->nvars)
		qp_buf_printf(b, "variable '%s'", d->vars[0]);
}

/* "subject: " when there is a subject; the body starts after it. */
static void
lead(qp_diag *d, qp_buf *b)
{
	size_t before = b->len;

	subject(d, b);
	if (b->len > before)
		qp_buf_adds(b, ": ");
	d->body = b->len;
}

/* "page 3: " for a finding about a page of a file (page > 0). */
static void
print_page(const qp_diag *d, double page, qp_buf *b)
{
	if (page > 0)
		qp_buf_printf(b, "%spage %.0f: ", d->block ? "on " : "", page);
}

/* A code point as a message shows it: \x1B below U+0080, else U+0085. */
static void
codepoint(qp_buf *b, unsigned long cp)
{
	if (cp < 0x80)
		qp_buf_printf(b, "\\x%02lX", cp);
	else
		qp_buf_printf(b, "U+%04lX", cp);
}

/* A length in inches without trailing zeros: "8.5", "11", "3". */
static void
inches(qp_buf *b, double v)
{
	char tmp[32];
	size_t n;

	snprintf(tmp, sizeof tmp, "%.2f", v);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0')
		tmp[--n] = '\0';
	if (n > 0 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	qp_buf_adds(b, tmp);
}

/*
 * Posting-law findings (law_check.c). s0 is the rule's citation, s3 the
 * pack's code; the rest per code.
 */
static void
law_msg(const qp_diag *d, qp_code code, qp_buf *b)
{
	const double *n = d->n;

	switch (code) {
	case QP_D_LAW_PAGE_SIZE: /* n0 n1 the page, n2 n3 the minimum (in) */
		qp_buf_adds(b, "the page is ");
		inches(b, n[0]);
		qp_buf_addc(b, 'x');
		inches(b, n[1]);
		qp_buf_printf(b, "in; %s requires at least ", str(d, 0));
		inches(b, n[2]);
		qp_buf_addc(b, 'x');
		inches(b, n[3]);
		qp_buf_adds(b, "in");
		break;
	case QP_D_LAW_TYPE_SIZE: /* n0 the smallest size, n1 the minimum */
		qp_buf_printf(b, "text set at %.1fpt; %s requires at least "
		    "%.4gpt", n[0], str(d, 0), n[1]);
		break;
	case QP_D_LAW_LANGUAGE: /* s1 the language, s2 all the law asks
	                         * for, n0 letters with no language */
		qp_buf_printf(b, "%s text is missing; %s requires the poster "
		    "in %s", str(d, 1), str(d, 0), str(d, 2));
		if (n[0] > 0)
			qp_buf_printf(b, " (%.0f letters of text carry no "
			    "language: give their blocks lang:, or the template "
			    "languages:)", n[0]);
		break;
	case QP_D_LAW_PHRASE: /* s1 the phrase(s) quoted, n0 how many, s2
	                       * the language it must be in, or NULL */
		if (n[0] > 1)
			qp_buf_printf(b, "none of %s is on the poster", str(d, 1));
		else
			qp_buf_printf(b, "%s is not on the poster", str(d, 1));
		if (d->s[2])
			qp_buf_printf(b, " in %s", str(d, 2));
		qp_buf_printf(b, "; %s requires %s", str(d, 0), n[0] > 1 ?
		    "one of them" : "it");
		break;
	case QP_D_LAW_PHRASE_STYLE: /* s1 the phrase; n0 1 bold, 2
	                             * prominent (n1 its size, n2 the
	                             * largest), 3 size (n1, n2 minimum) */
		if (n[0] == 1)
			qp_buf_printf(b, "'%s' is not in bold anywhere on the "
			    "poster; %s requires it in bold type", str(d, 1),
			    str(d, 0));
		else if (n[0] == 2)
			qp_buf_printf(b, "'%s' is not prominent (at most %.1fpt "
			    "and not bold, while other text is %.1fpt); %s "
			    "requires it prominently: set it in bold or as large "
			    "as any text", str(d, 1), n[1], n[2], str(d, 0));
		else
			qp_buf_printf(b, "'%s' is set at %.1fpt at most; %s "
			    "requires at least %.4gpt", str(d, 1), n[1],
			    str(d, 0), n[2]);
		break;
	case QP_D_LAW_TEXT: /* n0 bytes matched, n1 of; s1 the last words
	                     * matched, s4 the law's next, s5 the poster's */
	case QP_D_LAW_TEXT_SIMILAR:
		qp_buf_printf(b, "the text %s prescribes is not on the "
		    "poster word for word%s%s", str(d, 0), d->s[2] ? " in " :
		    "", d->s[2] ? str(d, 2) : "");
		if (d->s[1])
			qp_buf_printf(b, ": it follows the law up to \"...%s\", "
			    "then has \"%s...\" where the law has \"%s...\"",
			    str(d, 1), str(d, 5), str(d, 4));
		if (code == QP_D_LAW_TEXT_SIMILAR)
			qp_buf_adds(b, "; the law allows substantially similar "
			    "wording, so compare it by hand");
		break;
	case QP_D_LAW_TEXT_STYLE: /* n0 1 bold, 3 size (n1, n2 minimum) */
		if (n[0] == 1)
			qp_buf_printf(b, "the text %s prescribes is not all in "
			    "bold; it requires boldfaced type", str(d, 0));
		else
			qp_buf_printf(b, "the text %s prescribes is set at "
			    "%.1fpt at its smallest; it requires at least "
			    "%.4gpt", str(d, 0), n[1], n[2]);
		break;
	case QP_D_LAW_STALE: /* s1 the date, n0 days since */
		qp_buf_printf(b, "the law pack '%s' (%s) was last compared with "
		    "its sources on %s, %.0f days ago; check them before "
		    "printing (templates/LAWS.md)", str(d, 3), str(d, 0),
		    str(d, 1), n[0]);
		break;
	default:
		qp_buf_adds(b, "a posting-law rule failed");
		break;
	}
}

static void
make_msg(qp_diag *d)
{
	const double *n = d->n;
	qp_buf b;

	qp_buf_init(&b);
	switch (d->code) {
	case QP_D_VALUE_UTF8: /* n0 byte offset (1-based), n1 the byte */
		lead(d, &b);
		qp_buf_printf(&b, "invalid UTF-8 (byte 0x%02X at byte %.0f of "
		    "the value); save the text as UTF-8", (unsigned)n[1], n[0]);
		break;
	case QP_D_VALUE_CONTROL: /* n0 code point, n1 byte offset */
		lead(d, &b);
		if (n[0] == 0)
			qp_buf_adds(&b, "a NUL byte");
		else {
			qp_buf_adds(&b, "a control character (");
			codepoint(&b, (unsigned long)n[0]);
			qp_buf_addc(&b, ')');
		}
		qp_buf_printf(&b, " at byte %.0f of the value; only tab and "
		    "line breaks are allowed", n[1]);
		break;
	case QP_D_VALUE_TOO_LONG: /* n0 bytes, n1 limit */
		lead(d, &b);
		qp_buf_printf(&b, "the value is %.0f bytes long; the limit is "
		    "%.0f", n[0], n[1]);
		break;
	case QP_D_VALUE_MISSING:
		/* s0 s1: a default that applies only when s1 ("hotline is
		 * 1-888-373-7888") */
		if (d->s[1]) {
			if (d->block)
				lead(d, &b);
			qp_buf_printf(&b, "%s '%s' has no value, and the "
			    "template's default ('%s') is only for when %s",
			    d->column ? "column" : "variable", d->column ?
			    d->column : d->nvars ? d->vars[0] : "?", str(d, 0),
			    str(d, 1));
		} else if (d->column && d->nvars)
			qp_buf_printf(&b, "column '%s' is empty and the template "
			    "has no default for it", d->column);
		else {
			if (d->block) {
				lead(d, &b);
				qp_buf_adds(&b, "the ");
			}
			qp_buf_printf(&b, "variable '%s' has no value and the "
			    "template has no default for it", d->nvars ?
			    d->vars[0] : "?");
		}
		break;
	case QP_D_VALUE_EMPTY: /* s0 the default, or NULL */
		lead(d, &b);
		qp_buf_adds(&b, "it may not be empty: the template marks it "
		    "required");
		if (d->s[0])
			qp_buf_printf(&b, " (leave it out for the default, %s)",
			    str(d, 0));
		break;
	case QP_D_VALUE_UNUSED:
		lead(d, &b);
		qp_buf_adds(&b, "given, but this poster does not print it with "
		    "these values (the blocks that would have a when: that "
		    "does not hold); it is ignored");
		break;
	case QP_D_COLUMN_TWICE: /* s0 s1 the two columns */
		qp_buf_printf(&b, "columns '%s' and '%s' both name variable "
		    "'%s'; keep one, or name it exactly", str(d, 0), str(d, 1),
		    d->nvars ? d->vars[0] : "?");
		break;
	case QP_D_NATIONAL_WORDING: /* s0 the words, s1 the number */
		lead(d, &b);
		qp_buf_printf(&b, "the template's own text says '%s', which is "
		    "the National Human Trafficking Hotline's, but the number "
		    "is %s: give the block a when: on the hotline, or word it "
		    "through a variable", str(d, 0), str(d, 1));
		break;
	case QP_D_PROFILE_UNUSED: /* s0 the key, s1 the template */
		qp_buf_printf(&b, "the profile's '%s' is not used by %s; it is "
		    "ignored", str(d, 0), str(d, 1));
		break;
	case QP_D_VALUE_CHOICE: /* s0 the value, s1 the choices */
		if (d->block)
			lead(d, &b);
		qp_buf_printf(&b, "variable '%s' is '%s'; it must be one of %s",
		    d->nvars ? d->vars[0] : "?", str(d, 0), str(d, 1));
		break;
	case QP_D_UNKNOWN_VARIABLE: /* s0 the name, s1 template, s2 nearest */
		qp_buf_printf(&b, "the template %s has no variable '%s'",
		    str(d, 1), str(d, 0));
		if (d->s[2])
			qp_buf_printf(&b, " (did you mean '%s'?)", d->s[2]);
		break;
	case QP_D_SET_SYNTAX: /* s0 what was given */
		qp_buf_printf(&b, "'%s': expected KEY=VALUE", str(d, 0));
		break;
	case QP_D_COLUMN_MISSING: /* s0 the columns, s1 the template */
		qp_buf_printf(&b, "no column '%s', which the template %s needs "
		    "and has no default for (columns: %s)", d->nvars ?
		    d->vars[0] : "?", str(d, 1), str(d, 0));
		break;
	case QP_D_COLUMN_UNUSED: /* s0 the template, s1 nearest variable */
		qp_buf_printf(&b, "column '%s' is not a variable of %s; it is "
		    "ignored", d->column ? d->column : "?", str(d, 0));
		if (d->s[1])
			qp_buf_printf(&b, " (did you mean '%s'?)", d->s[1]);
		break;
	case QP_D_LINK_NOT_HTTP: /* s0 the URL or payload */
		lead(d, &b);
		qp_buf_printf(&b, "'%.200s%s' is not an absolute http(s) URL; a "
		    "link must start with https:// (or http://) and a host "
		    "name", str(d, 0), strlen(str(d, 0)) > 200 ? "..." : "");
		break;
	case QP_D_LINK_HOST: /* s0 the host */
		lead(d, &b);
		qp_buf_printf(&b, "the URL's host '%s' is not plain ASCII; write "
		    "it in its punycode form (xn--...)", str(d, 0));
		break;
	case QP_D_QR_PAYLOAD_EMPTY:
		lead(d, &b);
		qp_buf_adds(&b, "the QR payload is empty");
		break;
	case QP_D_QR_TOO_LONG: /* n0 bytes, n1 ECC level 0-3, n2 capacity */
		lead(d, &b);
		qp_buf_printf(&b, "the QR payload is too long: %.0f bytes do not "
		    "fit in any QR version at error correction %c (at most "
		    "about %.0f bytes; shorten the URL or use a lower level)",
		    n[0], "LMQH"[(int)n[1] & 3], n[2]);
		break;
	case QP_D_QR_MODULE_TOO_SMALL:
		/* n0 modules across (quiet zone included), n1 version, n2
		 * payload bytes, n3 ECC 0-3, n4 box mm, n5 module mm, n6
		 * minimum mm */
		lead(d, &b);
		qp_buf_printf(&b, "modules are %.2fmm, below the printable "
		    "minimum %.2fmm: the code needs %.0f modules across "
		    "(version %.0f, %.0f-byte payload, ECC %c, with its quiet "
		    "zone) and its box is %.1fmm wide; widen the box to at "
		    "least %.1fmm, shorten the payload or lower the ECC level",
		    n[5], n[6], n[0], n[1], n[2], "LMQH"[(int)n[3] & 3], n[4],
		    n[6] * n[0]);
		break;
	case QP_D_QR_SCAN_DISTANCE: /* n0 code cm, n1 distance m, n2 cm */
		lead(d, &b);
		qp_buf_printf(&b, "the code is %.1fcm wide but is meant to be "
		    "scanned from %.2gm; it should be at least %.1fcm (a tenth "
		    "of the distance): widen the box or shorten scan_distance",
		    n[0], n[1], n[2]);
		break;
	case QP_D_QR_INVERTED: /* s0 modules, s1 background */
		lead(d, &b);
		qp_buf_printf(&b, "the code is inverted (light %s modules on a "
		    "dark %s background); many phone scanners cannot read it: "
		    "make the modules dark and the background light", str(d, 0),
		    str(d, 1));
		break;
	case QP_D_QR_CONTRAST: /* s0 s1 colours, n0 ratio, n1 minimum */
		lead(d, &b);
		qp_buf_printf(&b, "contrast between the code (%s) and its "
		    "background (%s) is %.2f:1, below %.1f:1; scanners will "
		    "miss it (black on white is 21:1)", str(d, 0), str(d, 1),
		    n[0], n[1]);
		break;
	case QP_D_QR_CONTRAST_FAIR: /* as qr-contrast, n1 the good ratio */
		lead(d, &b);
		qp_buf_printf(&b, "contrast between the code (%s) and its "
		    "background (%s) is only %.2f:1; %.1f:1 or more scans "
		    "reliably in poor light", str(d, 0), str(d, 1), n[0], n[1]);
		break;
	case QP_D_QR_QUIET_ZONE: /* s0 the other block, n0 modules, n1 mm */
		lead(d, &b);
		qp_buf_printf(&b, "block '%s' reaches into the code or its "
		    "%.0f-module quiet zone (%.1fmm of clear space a scanner "
		    "needs)", str(d, 0), n[0], n[1]);
		break;
	case QP_D_CAPTION_NO_ROOM: /* n0 points needed */
		lead(d, &b);
		qp_buf_printf(&b, "no room for the caption below the code (it "
		    "needs %.1fpt; give the box a height 'h' that fits the "
		    "page)", n[0]);
		break;
	case QP_D_QR_LOGO_PATTERN:
		/* n0 logo % of the width, n1 version, n2 the largest
		 * logo_size that fits (0: none at this version), n3 ECC */
		lead(d, &b);
		if (n[2] > 0)
			qp_buf_printf(&b, "a logo %.0f%% of the code's width "
			    "would hide part of its alignment or timing pattern "
			    "(version %.0f), which scanners need: make logo_size "
			    "%.2f or less", n[0], n[1], n[2]);
		else
			qp_buf_printf(&b, "this payload makes a version %.0f "
			    "code at error correction %c, which has an alignment "
			    "pattern in the middle where the logo would go: "
			    "shorten the payload (a logo fits codes up to "
			    "version 6) or drop the logo", n[1],
			    "LMQH"[(int)n[3] & 3]);
		break;
	case QP_D_QR_LOGO_TOO_BIG:
		/* n0 logo %, n1 modules cleared, n2 data modules, n3 their
		 * share %, n4 ECC, n5 what it restores %, n6 the limit %, n7
		 * the largest logo_size that fits; s0 more advice or NULL */
		lead(d, &b);
		qp_buf_printf(&b, "a logo %.0f%% of the code's width clears "
		    "%.0f of its %.0f data modules (%.1f%%); error correction "
		    "%c restores %.0f%% of a code and a logo may use at most "
		    "half of that (%.1f%%): make logo_size %.2f or less%s",
		    n[0], n[1], n[2], n[3], "LMQH"[(int)n[4] & 3], n[5], n[6],
		    n[7], str(d, 0));
		break;
	case QP_D_QR_LOGO_UNREADABLE: /* s0 what verify.h says */
		lead(d, &b);
		qp_buf_adds(&b, str(d, 0));
		break;
	case QP_D_IMAGE_LOW_PPI:
	case QP_D_IMAGE_FAIR_PPI:
		/* s0 the file, n0 ppi, n1 n2 pixels, n3 n4 inches, n5 the
		 * minimum ppi, n6 the ppi for sharp print */
		lead(d, &b);
		qp_buf_printf(&b, "'%s' prints at %.0f ppi (%.0fx%.0f pixels "
		    "over %.2fx%.2fin)", str(d, 0), n[0], n[1], n[2], n[3],
		    n[4]);
		if (d->code == QP_D_IMAGE_LOW_PPI)
			qp_buf_printf(&b, ", below the %.0f ppi a print needs; "
			    "give a larger image or a smaller box (%.0f ppi for "
			    "sharp print)", n[5], n[6]);
		else
			qp_buf_printf(&b, "; %.0f ppi prints sharp", n[6]);
		break;
	case QP_D_LINK_NOT_HTTPS: /* s0 the payload */
		lead(d, &b);
		qp_buf_printf(&b, "the code holds '%.60s', not an https link; "
		    "the template's policy asks for https", str(d, 0));
		break;
	case QP_D_LINK_SHORTENER: /* s0 the host */
		lead(d, &b);
		qp_buf_printf(&b, "the code opens %s, a link shortener or "
		    "dynamic-QR redirect (templates/link-shorteners.txt); print "
		    "the final link, on the agency's own domain: a redirect can "
		    "be changed or lapse after printing", str(d, 0));
		break;
	case QP_D_LINK_DOMAIN: /* s0 the host, s1 the policy's domains */
		lead(d, &b);
		qp_buf_printf(&b, "the code opens %s, which is not on the "
		    "policy's domains (%s)", str(d, 0), str(d, 1));
		break;
	case QP_D_CAPTION_NO_DOMAIN: /* s0 the host, n0 1 if a caption */
		lead(d, &b);
		qp_buf_printf(&b, "%s does not show the link's domain %s; people "
		    "must see where a code goes (and a sticker with another "
		    "domain then stands out)", n[0] ? "its caption" :
		    "no text on the page", str(d, 0));
		break;
	case QP_D_NUMBER_NEAR_OFFICIAL:
		/* s0 the number as printed, s1 s2 the official one's name and
		 * number, s3 its source, n0 digits that differ */
		lead(d, &b);
		qp_buf_printf(&b, "%s differs from the %s %s by %.0f digit%s "
		    "(%s); check the number", str(d, 0), str(d, 1), str(d, 2),
		    n[0], n[0] == 1 ? "" : "s", str(d, 3));
		break;
	case QP_D_TEXT_OVERFLOW: /* n0 n1 box pt, n2 size.min, n3 n4 need */
		lead(d, &b);
		qp_buf_printf(&b, "the text does not fit its %.1fx%.1fpt box "
		    "even at the minimum size %.1fpt (it needs %.1fx%.1fpt); "
		    "shorten the text, enlarge the box or lower size.min",
		    n[0], n[1], n[2], n[3], n[4]);
		break;
	case QP_D_TEXT_TOO_SMALL: /* n0 size set, n1 min_text_size */
		lead(d, &b);
		qp_buf_printf(&b, "text set at %.1fpt, below the template's "
		    "min_text_size %.1fpt (raise the box or size.min, or "
		    "shorten the text)", n[0], n[1]);
		break;
	case QP_D_TEXT_MAY_SHRINK: /* n0 size.min, n1 min_text_size */
		lead(d, &b);
		qp_buf_printf(&b, "size.min %.1fpt is below min_text_size "
		    "%.1fpt; longer text could shrink below it", n[0], n[1]);
		break;
	case QP_D_TEXT_CONTRAST:
		/* s0 text, s1 background, n0 ratio, n1 size, n2 required */
		lead(d, &b);
		qp_buf_printf(&b, "text contrast %.2f:1 (%s on %s, %.1fpt) is "
		    "below WCAG 2.1 AA %.1f:1 for %s text", n[0], str(d, 0),
		    str(d, 1), n[1], n[2], n[2] < 4 ? "large" : "normal-size");
		break;
	case QP_D_TEXT_OVERLAP: /* s0 the other block */
		lead(d, &b);
		qp_buf_printf(&b, "its text overlaps block '%s'", str(d, 0));
		break;
	case QP_D_MARKUP_INVALID: /* s0 Pango's reason */
		lead(d, &b);
		qp_buf_printf(&b, "the text is not valid Pango markup: %s",
		    str(d, 0));
		break;
	case QP_D_GLYPH_MISSING: /* n0 code point, s0 the only family that
	                           * has it, outside qrposter's set, or NULL */
		lead(d, &b);
		if (d->s[0])
			qp_buf_printf(&b, "no font covers U+%04lX (only the "
			    "system font '%s' has it, which another machine "
			    "may lack; name it in the block's font to use it, "
			    "or remove the character)", (unsigned long)d->n[0],
			    d->s[0]);
		else
			qp_buf_printf(&b, "no font covers U+%04lX; install a "
			    "font that has it or remove the character",
			    (unsigned long)d->n[0]);
		break;
	case QP_D_FONT_MISSING: /* s0 family */
		lead(d, &b);
		qp_buf_printf(&b, "font family '%s' is not installed (bundled: "
		    "Noto Sans; see fc-list for others)", str(d, 0));
		break;
	case QP_D_FONT_NO_FAMILY: /* s0 the font description */
		lead(d, &b);
		qp_buf_printf(&b, "font '%s' names no family", str(d, 0));
		break;
	case QP_D_TEXT_NO_TRANSLATION: /* s0 language */
		lead(d, &b);
		qp_buf_printf(&b, "there is no '%s' version of this text (a "
		    "string it uses, or its per-language text, lacks '%s')",
		    str(d, 0), str(d, 0));
		break;
	case QP_D_LANG_UNKNOWN: /* s0 language, s1 the languages or NULL */
		lead(d, &b);
		qp_buf_printf(&b, "lang '%s' is not one of the template's "
		    "languages", str(d, 0));
		if (d->s[1])
			qp_buf_printf(&b, " (%s)", d->s[1]);
		break;
	case QP_D_OFF_PAGE: /* s0 text/code/caption, s1 side, n0 inches */
		lead(d, &b);
		qp_buf_printf(&b, "its %s runs %.2fin off the %s edge of the "
		    "page", str(d, 0), n[0], str(d, 1));
		break;
	case QP_D_OUTSIDE_SAFE_AREA: /* as off-page, n1 margin inches */
		lead(d, &b);
		qp_buf_printf(&b, "its %s reaches %.2fin into the %.2fin margin "
		    "at the %s edge (outside the safe area; with a bleed the "
		    "trim may cut it)", str(d, 0), n[0], n[1], str(d, 1));
		break;
	case QP_D_LAW_PAGE_SIZE:
	case QP_D_LAW_TYPE_SIZE:
	case QP_D_LAW_LANGUAGE:
	case QP_D_LAW_PHRASE:
	case QP_D_LAW_PHRASE_STYLE:
	case QP_D_LAW_TEXT:
	case QP_D_LAW_TEXT_SIMILAR:
	case QP_D_LAW_TEXT_STYLE:
	case QP_D_LAW_STALE:
		lead(d, &b);
		law_msg(d, d->code, &b);
		break;
	case QP_D_LAW_ADVISORY: /* n7 the code of the rule's kind */
		lead(d, &b);
		qp_buf_adds(&b, "advisory: ");
		law_msg(d, (qp_code)(int)n[7], &b);
		qp_buf_adds(&b, " (the sources disagree on this rule: check "
		    "them)");
		break;
	case QP_D_PRINT_INK_LIMIT:
		/* n0 the most ink, n1-n4 its C M Y K, n5 the limit, n6 mm^2
		 * over it, n7 the page (0: the one poster's) */
		lead(d, &b);
		print_page(d, n[7], &b);
		qp_buf_printf(&b, "the inks add up to %.0f%% (C %.0f M %.0f Y %.0f "
		    "K %.0f) in the CMYK print file, over the %.0f%% limit, on "
		    "%.0f mm^2; wet ink that heavy smears and sets off: use a "
		    "lighter colour, or a rich black within the limit such as "
		    "cmyk(60, 40, 40, 100)", n[0], n[1], n[2], n[3], n[4], n[5],
		    n[6]);
		break;
	case QP_D_PRINT_RGB: /* n0 the page, n1 how many, s0 the first */
		lead(d, &b);
		print_page(d, n[0], &b);
		qp_buf_printf(&b, "%.0f use%s of RGB colour left in the CMYK print "
		    "file (the first: %s); a print shop's preflight refuses "
		    "them", n[1], n[1] == 1 ? "" : "s", str(d, 0));
		break;
	case QP_D_PRINT_HAIRLINE: /* n0 the width, n1 the least, s0 what */
		lead(d, &b);
		qp_buf_printf(&b, "its %s is %.2fpt thick, under the %.2fpt a "
		    "press holds: it may break up or vanish; make it at least "
		    "%.2fpt", str(d, 0), n[0], n[1], n[1]);
		break;
	case QP_D_PRINT_IMAGE_PPI:
		/* n0 ppi, n1 n2 pixels, n3 n4 inches, n5 the least, n6 page */
		lead(d, &b);
		print_page(d, n[6], &b);
		qp_buf_printf(&b, "a picture in the print file (%.0fx%.0f pixels "
		    "over %.2fx%.2fin) prints at %.0f ppi, below the %.0f ppi "
		    "print shops ask for; give a larger image or a smaller box",
		    n[1], n[2], n[3], n[4], n[0], n[5]);
		break;
	case QP_D_PRINT_TEXT_SMALL: /* n0 the size, n1 the least */
		lead(d, &b);
		qp_buf_printf(&b, "text set at %.1fpt, below the %.0fpt a press "
		    "prints legibly", n[0], n[1]);
		break;
	case QP_D_PRINT_QR_INKS:
		/* n0 % of the dark modules' area, n1-n3 the most C M Y, n4
		 * the page */
		lead(d, &b);
		print_page(d, n[4], &b);
		qp_buf_printf(&b, "%.0f%% of the code's dark modules print in "
		    "more than one ink (up to C %.0f M %.0f Y %.0f%%): plates "
		    "out of register fringe every module; a code prints best "
		    "in one ink (black, or a grey)", n[0], n[1], n[2], n[3]);
		break;
	case QP_D_NONE:
		lead(d, &b);
		qp_buf_adds(&b, "a problem");
		break;
	}
	if (d->block && d->line > 0)
		qp_buf_printf(&b, " (the block is at line %d, column %d of the "
		    "template)", d->line, d->col);
	qp_buf_printf(&b, " [%s]", qp_code_name(d->code));
	d->msg = qp_buf_steal(&b);
}

void
qp_diag_add_var(qp_diag *d, const char *var)
{
	for (size_t i = 0; i < d->nvars; i++)
		if (strcmp(d->vars[i], var) == 0)
			return;
	d->vars = qp_xrealloc(d->vars, (d->nvars + 1) * sizeof *d->vars);
	d->vars[d->nvars++] = qp_xstrdup(var);
}

qp_diag *
qp_diag_push(qp_diag_list *l, qp_code code, const qp_diag_in *in)
{
	static const qp_diag_in none;
	qp_diag *d;

	if (in == NULL)
		in = &none;
	l->v = qp_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	d = &l->v[l->n++];
	memset(d, 0, sizeof *d);
	d->code = code;
	d->sev = qp_code_severity(code);
	d->block = in->block ? qp_xstrdup(in->block) : NULL;
	d->caption = in->caption;
	d->line = in->line;
	d->col = in->col;
	d->csv_line = in->csv_line;
	d->column = in->column ? qp_xstrdup(in->column) : NULL;
	if (in->var)
		qp_diag_add_var(d, in->var);
	memcpy(d->n, in->n, sizeof d->n);
	for (size_t i = 0; i < QP_DIAG_STRS; i++)
		d->s[i] = in->s[i] ? qp_xstrdup(in->s[i]) : NULL;
	make_msg(d);
	if (d->sev == QP_DIAG_ERROR)
		l->nerrors++;
	else
		l->nwarnings++;
	return d;
}

void
qp_diag_list_move(qp_diag_list *dst, qp_diag_list *src)
{
	if (src->n == 0)
		return;
	dst->v = qp_xrealloc(dst->v, (dst->n + src->n) * sizeof *dst->v);
	memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
	dst->n += src->n;
	dst->nerrors += src->nerrors;
	dst->nwarnings += src->nwarnings;
	free(src->v);
	memset(src, 0, sizeof *src);
}

const qp_diag *
qp_diag_first_error(const qp_diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev == QP_DIAG_ERROR)
			return &l->v[i];
	return NULL;
}

void
qp_diag_summary(const qp_diag_list *l, qp_buf *out)
{
	const qp_diag *first = qp_diag_first_error(l);
	size_t more = 0;

	if (first == NULL) {
		qp_buf_add(out, "", 0);
		return;
	}
	qp_buf_adds(out, first->msg);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev == QP_DIAG_ERROR && &l->v[i] != first)
			more++;
	if (more == 0)
		return;
	qp_buf_printf(out, " (and %zu more error%s:", more, more == 1 ? "" :
	    "s");
	for (size_t i = 0, k = 0; i < l->n; i++)
		if (l->v[i].sev == QP_DIAG_ERROR && &l->v[i] != first)
			qp_buf_printf(out, "%s %s", k++ ? "," : "",
			    qp_code_name(l->v[i].code));
	qp_buf_addc(out, ')');
}
