/* Checks on a case file's JSON that cJSON does not make (engine_json_check.c). */
#ifndef ENGINE_JSON_CHECK_H
#define ENGINE_JSON_CHECK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define ENG_JSON_MAX_DEPTH 64

/* The raw text: UTF-8 only, no NUL octet or \u0000, nesting at most
 * ENG_JSON_MAX_DEPTH. 0, or -1 with the JSON pointer of the place and why. */
int eng_json_text_check(const char *text, size_t len, char *ptr, size_t ptrcap, char *why,
                        size_t whylen);
/* The parsed tree: no object has a key twice. 0, or -1 with pointer and why. */
int eng_json_dup_check(const cJSON *root, char *ptr, size_t ptrcap, char *why, size_t whylen);

#endif
