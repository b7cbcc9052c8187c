/*
 * test_policy.c - the link and number policy through `qrposter check`:
 * one table row per case (a template's policy, what the code holds, what
 * is printed), asserting the exit status and the finding's words; and
 * the number registry in-process against numbers written out by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "policy.h"
#include "vars.h"

typedef struct pcase {
	const char *name;
	const char *policy;  /* the policy: line, or "" for none */
	const char *data;    /* the code's payload */
	const char *caption; /* the code's caption, or NULL for none */
	const char *text;    /* the text block's text */
	int status;          /* check's exit status */
	const char *want;    /* in the output (NULL: no error at all) */
} pcase;

#define P "policy: {domains: [example.gov]}\n"
#define HOT "Call 1-888-373-7888 or text 233733"

static const pcase cases[] = {
	{"official numbers", P, "https://example.gov/r", "example.gov/r",
	    "Call 1-888-373-7888, text 233733, HSI 1-866-DHS-2-ICE, Florida "
	    "1-855-FLA-SAFE, Amtrak Police 1-800-331-0008 or text 27311", 0,
	    NULL},
	{"hotline misprint (published in the wild)", P, "https://example.gov/",
	    "example.gov", "Call 1-888-373-3888", 1, "1-888-373-3888 differs "
	    "from the National Human Trafficking Hotline 1-888-373-7888"},
	{"hotline, two digits swapped", P, "https://example.gov/",
	    "example.gov", "Call (888) 337-7888", 1, "differs from the "
	    "National Human Trafficking Hotline 1-888-373-7888 by 1 digit"},
	{"hotline, two digits wrong", P, "https://example.gov/",
	    "example.gov", "Call 1.888.373.7811 now", 1, "by 2 digits"},
	{"Florida vanity misspelt", P, "https://example.gov/", "example.gov",
	    "Florida: 1-855-FLA-SAVE", 1, "1-855-FLA-SAVE differs from the "
	    "Florida human trafficking hotline"},
	{"text line misprint", P, "https://example.gov/", "example.gov",
	    "or text 233783", 1, "233783 differs from the National Human "
	    "Trafficking Hotline's text line 233733"},
	{"Amtrak Police misprint", P, "https://example.gov/", "example.gov",
	    "Amtrak Police 1-800-331-0080", 1, "differs from the Amtrak "
	    "Police 1-800-331-0008"},
	{"an unrelated number", P, "https://example.gov/", "example.gov",
	    "Station office 1-800-555-0199, ZIP 23373", 0, NULL},
	{"numbers: false", "policy: {numbers: false}\n",
	    "https://example.gov/", "example.gov", "Call 1-888-373-3888", 0,
	    NULL},
	{"no policy: numbers still checked", "", "http://example.org/", NULL,
	    "Call 1-888-373-7880", 1, "differs from the National Human "
	    "Trafficking Hotline"},
	{"no policy: any link", "", "http://bit.ly/x", NULL, HOT, 0, NULL},
	{"http link", P, "http://example.gov/r", "example.gov", HOT, 1,
	    "not an https link"},
	{"link shortener", "policy: {}\n", "https://bit.ly/3xYzAb", "bit.ly",
	    HOT, 1, "opens bit.ly, a link shortener or dynamic-QR redirect"},
	{"dynamic-QR redirect, a subdomain", "policy: {}\n",
	    "https://go.qrco.de/bfT3", "qrco.de", HOT, 1, "opens go.qrco.de, "
	    "a link shortener"},
	{"shorteners allowed", "policy: {shorteners: true}\n",
	    "https://bit.ly/3xYzAb", "bit.ly", HOT, 0, NULL},
	{"another domain", P, "https://evil.example/r", "evil.example", HOT, 1,
	    "opens evil.example, which is not on the policy's domains "
	    "(example.gov)"},
	{"a subdomain of the policy's", P, "https://report.example.gov/r",
	    "report.example.gov", HOT, 0, NULL},
	{"a look-alike host", P, "https://example.gov.evil.example/",
	    "example.gov.evil.example", HOT, 1, "opens example.gov.evil."
	    "example, which is not"},
	{"user@host hides the host", P, "https://example.gov@evil.example/",
	    "example.gov", HOT, 1, "opens evil.example"},
	{"caption without the domain", P, "https://example.gov/r",
	    "Scan to report", HOT, 1, "its caption does not show the link's "
	    "domain example.gov"},
	{"no caption, domain on the page", P, "https://www.example.gov/r",
	    NULL, "Report at example.gov or call 1-888-373-7888", 0, NULL},
	{"no caption, domain nowhere", P, "https://example.gov/r", NULL, HOT,
	    1, "no text on the page does not show the link's domain"},
	{"caption_domain: false", "policy: {caption_domain: false}\n",
	    "https://example.gov/r", "Scan to report", HOT, 0, NULL},
	{"a tel: code dials a misprint", "policy: {https: false}\n",
	    "tel:+18883733888", "Call", HOT, 1, "+18883733888 differs from the "
	    "National Human Trafficking Hotline"},
	{"bad domains entry", "policy: {domains: [\"https://x.gov/\"]}\n",
	    "https://x.gov/", "x.gov", HOT, 1, ":3:20: policy: 'https://x.gov/' "
	    "is not a host name"},
	{"unknown policy key", "policy: {http: false}\n", "https://x.gov/",
	    "x.gov", HOT, 1, ":3:"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void
test_case(void **state)
{
	const pcase *c = *state;
	char *dir = th_tmpdir_new(), *path, *yaml;
	th_run r;

	assert_non_null(dir);
	yaml = qp_xasprintf("qrposter: 1\nname: policy test\n%s"
	    "page: {size: letter, margin: 0.5in}\n"
	    "blocks:\n"
	    "  - type: text\n    id: numbers\n"
	    "    box: {x: 0.5in, y: 0.5in, w: 7.5in, h: 2in}\n"
	    "    text: \"%s\"\n    size: {max: 18pt, min: 10pt}\n"
	    "  - type: qr\n    id: qr\n"
	    "    box: {x: center, y: 3in, w: 4in}\n"
	    "    data: \"%s\"\n%s%s%s", c->policy, c->text, c->data,
	    c->caption ? "    caption: \"" : "", c->caption ? c->caption : "",
	    c->caption ? "\"\n" : "");
	path = th_path(dir, "t.yaml");
	assert_true(th_write_file(path, yaml, strlen(yaml)));
	th_qrposter(&r, "check", "-t", path, NULL);
	if (r.status != c->status || (c->want && !strstr(r.out, c->want) &&
	    !strstr(r.err, c->want)))
		print_error("%s:\n%s\n--- stdout:\n%s--- stderr:\n%s\n",
		    c->name, yaml, r.out, r.err);
	assert_int_equal(r.status, c->status);
	if (c->want)
		assert_true(strstr(r.out, c->want) || strstr(r.err, c->want));
	else
		assert_null(strstr(r.out, ": error:"));
	th_run_free(&r);
	free(yaml);
	free(path);
	th_tmpdir_remove(dir);
}

/* The registry against the numbers as FIELD.md publishes them. */
static void
test_registry(void **state)
{
	int d;

	(void)state;
	assert_null(qp_policy_near_number("8883737888", &d));
	assert_string_equal(qp_policy_near_number("8883733888",
	    &d)->printed, "1-888-373-7888");
	assert_int_equal(d, 1);
	assert_null(qp_policy_near_number("233733", &d));
	assert_null(qp_policy_near_number("8663472423", &d));
	assert_null(qp_policy_near_number("8003310008", &d));
	assert_null(qp_policy_near_number("8553527233", &d));
	/* Three digits off is another number, not a misprint. */
	assert_null(qp_policy_near_number("8883731234", &d));
	{
		char h[64];

		assert_true(qp_url_host("https://Example.GOV:443/r?x", h,
		    sizeof h));
		assert_string_equal(h, "example.gov");
		assert_true(qp_url_host("https://example.gov@evil.example/", h,
		    sizeof h));
		assert_string_equal(h, "evil.example");
		assert_false(qp_url_host("tel:+18883737888", h, sizeof h));
		assert_string_equal(h, "");
	}
	assert_true(qp_policy_is_shortener("bit.ly"));
	assert_true(qp_policy_is_shortener("x.bit.ly"));
	assert_false(qp_policy_is_shortener("orbit.ly"));
	assert_false(qp_policy_is_shortener("humantraffickinghotline.org"));
}

int
main(void)
{
	struct CMUnitTest tests[NCASES + 1];

	for (size_t i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){cases[i].name, test_case, NULL,
		    NULL, (void *)&cases[i]};
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(test_registry);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
