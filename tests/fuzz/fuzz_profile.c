/*
 * fuzz_profile.c - libFuzzer harness for the agency profile reader
 * (profile.h). Profiles come from users and, through the web editor's
 * "Open settings", over HTTP: any input must either load into entries
 * that each name a profile key or a variable, with values the value rule
 * accepts, or fail with a message that names the file and a line; never
 * crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	qp_profile *p;
	qp_error err = {0};

	memcpy(text, data, size);
	text[size] = '\0';
	p = qp_profile_parse("fuzz.yaml", text, size, &err);
	if (p == NULL) {
		if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
			abort();
	} else {
		for (size_t i = 0; i < p->n; i++) {
			if (p->v[i].name == NULL || p->v[i].name[0] == '\0' ||
			    p->v[i].value == NULL)
				abort();
			/* A value reads back as the profile's value of its name. */
			if (qp_profile_get(p, p->v[i].name) == NULL)
				abort();
		}
	}
	qp_profile_free(p);
	free(text);
	return 0;
}
