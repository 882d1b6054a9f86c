/* libFuzzer target for the engine's case loader (peer/engine/engine_case.c,
 * engine_json_check.c, engine_validate.c, engine_steps.c): any octets as a
 * case file. Loading either succeeds with an id, a title and steps, or fails
 * with a message that names the file; never a crash, a leak or a read out of
 * bounds (ASan). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    eng_case c;
    char err[1024] = "";
    if (eng_case_load_text("fuzz.json", text, size, &c, err, sizeof err) == 0) {
        if (!c.id || !c.title || !c.root || !c.file)
            abort();
        eng_case_free(&c);
    } else if (strncmp(err, "fuzz.json: ", 11) != 0) {
        abort(); /* every error names the file */
    }
    free(text);
    return 0;
}
