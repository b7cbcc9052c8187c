/*
 * test_law.c - posting-law packs (issue 12): every bundled pack loads,
 * names its own file, cites an official or stated source and a template
 * that exists; broken packs are refused at their file:line:column.
 * Tables run one case per row.
 */
#include "suite.h"

#include <dirent.h>

#include "datadir.h"
#include "helpers.h"
#include "law.h"
#include "template.h"

/* The packs the issue asks for at least; each must be bundled. */
static const char *const packs[] = {"federal", "ca", "mi", "fl", "ga", "tx",
    "ny", "md"};

static void
test_pack_loads(void **state)
{
	const char *code = *state;
	qp_error err = {0};
	qp_law *law = qp_law_open(code, &err);
	char *tpath;

	if (law == NULL)
		fail_msg("%s: %s", code, err.msg);
	assert_string_equal(law->code, code);
	assert_true(law->nrules > 0);
	assert_true(law->nsources > 0);
	assert_true(law->napplies > 0);
	assert_int_equal(strlen(law->checked), 10);
	/* Every rule cites something; a by-hand rule says what to do. */
	for (size_t i = 0; i < law->nrules; i++) {
		assert_non_null(law->rules[i].cite);
		assert_true(law->rules[i].line > 0);
		if (law->rules[i].kind == QP_LAW_BY_HAND)
			assert_true(strlen(law->rules[i].texts[0]) > 10);
	}
	assert_non_null(law->template_name);
	tpath = qp_template_find(law->template_name, &err);
	if (tpath == NULL)
		fail_msg("%s: template %s: %s", code, law->template_name,
		    err.msg);
	free(tpath);
	qp_law_free(law);
}

/* Codes are case-insensitive and may carry .yaml; unknown ones list the
 * bundled packs. */
static void
test_find(void **state)
{
	qp_error err = {0};
	char *p;

	(void)state;
	p = qp_law_find("FL", &err);
	assert_non_null(p);
	assert_non_null(strstr(p, "templates/laws/fl.yaml"));
	free(p);
	p = qp_law_find("ga.yaml", &err);
	assert_non_null(p);
	free(p);
	assert_null(qp_law_find("zz", &err));
	assert_non_null(strstr(err.msg, "zz: no such law pack"));
	for (size_t i = 0; i < sizeof packs / sizeof packs[0]; i++)
		assert_non_null(strstr(err.msg, packs[i]));
	assert_null(qp_law_find("../fl", &err));
	qp_law_free(NULL);
}

/* A bundled pack that is not in packs[] still has to load: every file. */
static void
test_every_file(void **state)
{
	char *dir = qp_xasprintf("%s/templates/laws", qp_datadir());
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *path;
		qp_error err = {0};
		qp_law *law;

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		path = th_path(dir, e->d_name);
		law = qp_law_load(path, &err);
		if (law == NULL)
			fail_msg("%s", err.msg);
		assert_int_equal(strlen(law->code), len - 5);
		assert_memory_equal(law->code, e->d_name, len - 5);
		qp_law_free(law);
		free(path);
		n++;
	}
	closedir(d);
	free(dir);
	assert_true(n >= sizeof packs / sizeof packs[0]);
}

/* Broken packs: the message starts with file:line:column and says why. */
typedef struct bad_pack {
	const char *name, *yaml, *want;
} bad_pack;

#define HEAD "qrposter-law: 1\ncode: xx\njurisdiction: X\ncitation: X 1\n" \
    "checked: 2026-12-01\nsources: [{url: \"https://example.org/\"}]\n"

static const bad_pack bad_packs[] = {
	{"empty", "", "p.yaml: the law pack is empty"},
	{"syntax", "rules: [", "p.yaml:2:1: YAML syntax error"},
	{"not a mapping", "- 1\n", "p.yaml:1:1: the law pack must be a mapping"},
	{"unknown key", HEAD "rule: []\n",
	    "p.yaml:7:1: unknown key 'rule' in the law pack (did you mean "
	    "'rules'?)"},
	{"version", "qrposter-law: 2\n",
	    "p.yaml:1:15: qrposter-law: version '2' is not known"},
	{"code", "qrposter-law: 1\ncode: F L\n",
	    "p.yaml:2:7: code: 'F L' must be lower-case"},
	{"date", "qrposter-law: 1\ncode: xx\njurisdiction: X\n"
	    "citation: X\nchecked: 2026-02-30\n",
	    "p.yaml:5:10: checked: '2026-02-30' is not a date"},
	{"no sources", "qrposter-law: 1\ncode: xx\njurisdiction: X\n"
	    "citation: X\nchecked: 2026-12-01\nrules: []\n",
	    "p.yaml:1:1: the law pack needs 'sources'"},
	{"source url", "qrposter-law: 1\ncode: xx\njurisdiction: X\n"
	    "citation: X\nchecked: 2026-12-01\nsources: [{url: example.org}]\n",
	    "p.yaml:6:17: url: 'example.org' is not an http(s) address"},
	{"no rules", HEAD, "p.yaml:1:1: the law pack needs 'rules'"},
	{"rule kind", HEAD "rules: [{rule: size}]\n",
	    "p.yaml:7:16: rule: 'size' is not one of page-size, type-size"},
	{"rule key", HEAD "rules: [{rule: page-size, min: letter, max: 1}]\n",
	    "p.yaml:7:40: unknown key 'max' in a page-size rule"},
	{"page size", HEAD "rules: [{rule: page-size, min: 8.5x11}]\n",
	    "p.yaml:7:32: min: "},
	{"type size", HEAD "rules: [{rule: type-size, min: 16}]\n",
	    "p.yaml:7:32: min: "},
	{"language tag", HEAD "rules: [{rule: languages, languages: [e s]}]\n",
	    "p.yaml:7:38: languages: 'e s' is not a BCP 47 language tag"},
	{"phrase both", HEAD "rules: [{rule: phrase, text: a, any: [b]}]\n",
	    "p.yaml:7:9: a phrase rule needs either 'text'"},
	{"statute match", HEAD "rules: [{rule: statute-text, text: a}]\n",
	    "p.yaml:7:9: a statute-text rule needs 'match'"},
	{"bold value", HEAD "rules: [{rule: phrase, text: a, bold: very}]\n",
	    "p.yaml:7:39: bold: 'very' is not true or false"},
	{"by-hand key", HEAD "rules: [{rule: by-hand, text: a, advisory: "
	    "true}]\n", "p.yaml:7:34: unknown key 'advisory' in a by-hand rule"},
};

static void
test_bad_pack(void **state)
{
	const bad_pack *b = *state;
	qp_error err = {0};
	qp_law *law = qp_law_parse("p.yaml", b->yaml, strlen(b->yaml), &err);

	assert_null(law);
	if (strncmp(err.msg, b->want, strlen(b->want)) != 0)
		fail_msg("got: %s\nwant: %s...", err.msg, b->want);
}

int
main(void)
{
	th_suite s = {0};

	for (size_t i = 0; i < sizeof packs / sizeof packs[0]; i++)
		th_suite_add(&s, test_pack_loads, NULL, NULL, packs[i],
		    "pack %s loads", packs[i]);
	th_suite_add(&s, test_find, NULL, NULL, NULL, "find by code");
	th_suite_add(&s, test_every_file, NULL, NULL, NULL,
	    "every file in templates/laws loads");
	for (size_t i = 0; i < sizeof bad_packs / sizeof bad_packs[0]; i++)
		th_suite_add(&s, test_bad_pack, NULL, NULL, &bad_packs[i],
		    "bad pack: %s", bad_packs[i].name);
	return th_suite_run(&s, "law", NULL, NULL);
}
