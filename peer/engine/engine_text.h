/* Target-supplied text made safe for JSON and for terminals (engine_text.c). */
#ifndef ENGINE_TEXT_H
#define ENGINE_TEXT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Length of the valid UTF-8 character at p (n octets left), 0 if none. */
size_t eng_utf8_char(const unsigned char *p, size_t n);
/* Every string value in j, its siblings and below becomes valid UTF-8
 * without control characters but tab and line ends: invalid octets and
 * those controls (ESC, ...) are written as the text \xNN. */
void eng_json_sanitize(cJSON *j);
/* s for a terminal: control characters (ESC, C1, ...) and invalid octets
 * as \xNN. Returns s itself when nothing needs escaping, else buf (cut to
 * fit cap). */
const char *eng_term_text(const char *s, char *buf, size_t cap);

#endif
