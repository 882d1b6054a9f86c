/* See broker_control.h. */
#include "broker_control.h"

#include <stdio.h>
#include <string.h>

int broker_control_to(const char *control_address, const mbws_action *a)
{
    return control_address && a->address.len == strlen(control_address) &&
           !memcmp(a->address.ptr, control_address, a->address.len);
}

int broker_control_parse(const mbws_action *a, const char **addr, size_t *alen)
{
    static const char verb[] = "disconnect ";
    const size_t vl = sizeof verb - 1;
    const char *body = (const char *)a->body.ptr;
    if (a->body.len <= vl || memcmp(body, verb, vl)) {
        fprintf(stderr, "broker: control message ignored (want 'disconnect ADDRESS'): %.*s\n",
                (int)(a->body.len > 80 ? 80 : a->body.len), a->body.len ? body : "");
        return -1;
    }
    *addr = body + vl;
    *alen = a->body.len - vl;
    fprintf(stderr, "broker: control: DISCONNECT of the sessions subscribed to %.*s\n",
            (int)*alen, *addr);
    return 0;
}
