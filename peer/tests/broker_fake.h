/* A fake session for the broker model's unit tests: it has a window, a
 * largest body it takes, and logs what it was given. */
#ifndef BROKER_FAKE_H
#define BROKER_FAKE_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "mbws_broker.h"

#define FAKE_LOG 256

typedef struct fake {
    int attached;
    uint64_t window;  /* MESSAGEs it may still be sent */
    size_t max_body;  /* stands for max-frame */
    uint64_t next_seq;
    int unblocked;    /* times the model said it may grant again */
    size_t n;
    uint64_t sub[FAKE_LOG];
    uint64_t seq[FAKE_LOG];
    char body[FAKE_LOG][32];
    char ctype[FAKE_LOG][32];
    char addr[FAKE_LOG][32];
    mbws_bsess *s;
} fake;

static int fake_can_take(void *user, uint64_t sub, const mbws_bmsg *m)
{
    fake *f = user;
    size_t len;
    (void)sub;
    mbws_bmsg_body(m, &len);
    return f->attached && f->window > 0 && len <= f->max_body;
}

static uint64_t fake_deliver(void *user, uint64_t sub, const mbws_bmsg *m)
{
    fake *f = user;
    size_t len, clen, alen;
    const uint8_t *p = mbws_bmsg_body(m, &len);
    const uint8_t *c = mbws_bmsg_ctype(m, &clen);
    const char *a = mbws_bmsg_address(m, &alen);
    if (f->n < FAKE_LOG) {
        f->sub[f->n] = sub;
        f->seq[f->n] = f->next_seq + 1;
        memcpy(f->body[f->n], p, len < 31 ? len : 31);
        f->body[f->n][len < 31 ? len : 31] = 0;
        f->ctype[f->n][0] = 0;
        if (c) {
            memcpy(f->ctype[f->n], c, clen < 31 ? clen : 31);
            f->ctype[f->n][clen < 31 ? clen : 31] = 0;
        }
        memcpy(f->addr[f->n], a, alen < 31 ? alen : 31);
        f->addr[f->n][alen < 31 ? alen : 31] = 0;
    }
    f->n++;
    f->window--;
    return ++f->next_seq;
}

static void fake_unblocked(void *user)
{
    ((fake *)user)->unblocked++;
}

static const mbws_broker_ops fake_ops = {fake_can_take, fake_deliver, fake_unblocked};

static void fake_init(fake *f, mbws_broker *b)
{
    memset(f, 0, sizeof *f);
    f->attached = 1;
    f->window = 1000;
    f->max_body = 1u << 20;
    f->s = mbws_broker_session_new(b, f);
}

static int pub(fake *f, const char *addr, const char *body)
{
    return mbws_broker_publish(f->s, addr, strlen(addr), NULL, 0, body, strlen(body));
}

/* fake_init for each fake of a NULL-terminated list (inline: not every
 * test uses it). */
static inline void fakes_init(mbws_broker *b, fake *f, ...)
{
    va_list ap;
    va_start(ap, f);
    for (; f; f = va_arg(ap, fake *))
        fake_init(f, b);
    va_end(ap);
}

static inline int sub(fake *f, uint64_t id, const char *addr)
{
    return mbws_broker_subscribe(f->s, id, addr, strlen(addr));
}

#endif
