/* The engine's step table (engine_steps.c) and cases/schema.json name the
 * same step kinds, each with the same keys and the same required key: the
 * schema is the user-facing contract, the table what the engine enforces.
 * Usage: test_engine_steps [SCHEMA] (default: the source tree's
 * cases/schema.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_steps.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static const eng_step_def *def_by_kind(const char *kind)
{
    for (size_t i = 0; i < eng_step_ndefs; i++)
        if (!strcmp(eng_step_defs[i].kind, kind))
            return &eng_step_defs[i];
    return NULL;
}

/* Does the table let a step of kind d hold key? */
static int table_has_key(const eng_step_def *d, const char *key)
{
    if (!strcmp(key, d->kind))
        return 1;
    for (size_t i = 0; eng_step_common_keys[i].key; i++)
        if (!strcmp(eng_step_common_keys[i].key, key))
            return eng_step_common_key_ok(d, key);
    for (size_t i = 0; i < ENG_STEP_MAX_KEYS && d->keys[i].key; i++)
        if (!strcmp(d->keys[i].key, key))
            return 1;
    return 0;
}

/* Every key the table gives kind d is a property of its schema entry. */
static void table_keys_in_schema(const eng_step_def *d, const cJSON *props)
{
    for (size_t i = 0; i < ENG_STEP_MAX_KEYS && d->keys[i].key; i++)
        CHECK(cJSON_GetObjectItemCaseSensitive(props, d->keys[i].key),
              "the table gives %s steps the key '%s'; the schema does not", d->kind, d->keys[i].key);
    for (size_t i = 0; eng_step_common_keys[i].key; i++)
        if (table_has_key(d, eng_step_common_keys[i].key))
            CHECK(cJSON_GetObjectItemCaseSensitive(props, eng_step_common_keys[i].key),
                  "the table lets %s steps hold '%s'; the schema does not", d->kind,
                  eng_step_common_keys[i].key);
}

static void check_entry(const cJSON *entry, int *seen)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(entry, "required");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(entry, "properties");
    const char *kind = cJSON_IsArray(req) && cJSON_IsString(req->child) ? req->child->valuestring : "";
    const eng_step_def *d = def_by_kind(kind);
    CHECK(d, "the schema has a '%s' step kind; the engine's table does not", kind);
    if (!d)
        return;
    seen[d - eng_step_defs]++;
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    CHECK(table_has_key(d, p->string), "the schema gives %s steps the key '%s'; the table does not",
          kind, p->string);
    table_keys_in_schema(d, props);
    const cJSON *req2 = cJSON_GetArrayItem(req, 1);
    CHECK(cJSON_GetArraySize(req) <= 2, "%s: the schema requires more than one extra key", kind);
    CHECK((!req2 && !d->required) ||
              (req2 && d->required && cJSON_IsString(req2) && !strcmp(req2->valuestring, d->required)),
          "%s steps: the schema requires '%s', the table '%s'", kind,
          req2 && cJSON_IsString(req2) ? req2->valuestring : "-", d->required ? d->required : "-");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(entry, "additionalProperties")),
          "%s steps: the schema must refuse other keys, as the engine does", kind);
}

static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    if (!root) {
        fprintf(stderr, "%s: not JSON\n", path);
        exit(2);
    }
    return root;
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: test_engine_steps [cases/schema.json]\n");
        return 2;
    }
    const char *path = argc == 2 ? argv[1] : MBWS_SOURCE_DIR "/cases/schema.json";
    cJSON *root = load(path);
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(root, "$defs");
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(defs, "step"), "oneOf");
    CHECK(cJSON_IsArray(one) && cJSON_GetArraySize(one) > 0, "no $defs/step/oneOf in %s", path);
    int *seen = calloc(eng_step_ndefs, sizeof *seen);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, one)
    check_entry(entry, seen);
    for (size_t i = 0; i < eng_step_ndefs; i++)
        CHECK(seen[i] == 1, "the table's '%s' kind appears %d times in the schema",
              eng_step_defs[i].kind, seen[i]);
    printf("%zu step kinds: table and schema agree%s\n", eng_step_ndefs,
           failures ? " NOT" : "");
    free(seen);
    cJSON_Delete(root);
    return failures ? 1 : 0;
}
