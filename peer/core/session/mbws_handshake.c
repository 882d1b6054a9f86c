/* Subprotocol rules of the opening handshake (mbws_handshake.h). */
#include "mbws_handshake.h"

#include <string.h>

int mbws_token_list(const char *list, int (*fn)(const char *item, size_t len, void *arg),
                    void *arg)
{
    int n = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *s = p, *t = e;
        while (s < t && (*s == ' ' || *s == '\t'))
            s++;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (t > s) {
            n++;
            if (fn(s, (size_t)(t - s), arg))
                break;
        }
        p = *e ? e + 1 : e;
    }
    return n;
}

struct find {
    const char *name;             /* mbws_token_listed: the name looked for */
    const char *const *supported; /* mbws_select_subprotocol */
    const char *found;
};

static int find_name(const char *item, size_t len, void *arg)
{
    struct find *f = arg;
    if (strlen(f->name) == len && !memcmp(item, f->name, len))
        f->found = f->name;
    return f->found != NULL;
}

int mbws_token_listed(const char *list, const char *name)
{
    struct find f = {name, NULL, NULL};
    if (!name || !*name)
        return 0;
    mbws_token_list(list, find_name, &f);
    return f.found != NULL;
}

const char *mbws_supported_name(const char *item, size_t len, const char *const supported[])
{
    for (size_t i = 0; supported && supported[i]; i++)
        if (strlen(supported[i]) == len && !memcmp(item, supported[i], len))
            return supported[i];
    return NULL;
}

static int find_supported(const char *item, size_t len, void *arg)
{
    struct find *f = arg;
    f->found = mbws_supported_name(item, len, f->supported);
    return f->found != NULL;
}

const char *mbws_select_subprotocol(const char *offer, const char *const supported[])
{
    struct find f = {NULL, supported, NULL};
    mbws_token_list(offer, find_supported, &f);
    return f.found;
}
