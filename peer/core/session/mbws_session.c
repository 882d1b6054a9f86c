/* The session object: what survives connections on MBWS (RES-2). Held
 * outgoing messages (ACK-5), subscription ids (BRK-2, BRK-5), expiry. */
#include <stdlib.h>
#include <string.h>

#include "mbws_conn_internal.h"
#include "mbws_fault.h"

mbws_session *session_create(enum mbws_role role, enum mbws_subprotocol sp)
{
    mbws_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->state = MBWS_SS_NEW;
    s->role = role;
    s->sp = sp;
    s->out_next_seq = 1;
    return s;
}

mbws_session *mbws_session_new(void)
{
    return session_create(MBWS_ROLE_CLIENT, MBWS_SP_MBWS);
}

static void out_msg_free(struct mbws_out_msg *m)
{
    free(m->buf);
    free(m);
}

void mbws_session_free(mbws_session *s)
{
    if (s == NULL)
        return;
    if (s->conn)
        s->conn->s = NULL; /* misuse guard: the conn forgets it */
    struct mbws_out_msg *m = s->out_head;
    while (m) {
        struct mbws_out_msg *n = m->next;
        out_msg_free(m);
        m = n;
    }
    free(s->subs);
    free(s);
}

enum mbws_session_state mbws_session_state(const mbws_session *s)
{
    return s->state;
}

const char *mbws_session_token(const mbws_session *s, size_t *len)
{
    if (len)
        *len = s->token_len;
    return s->token;
}

int mbws_session_expired(const mbws_session *s, uint64_t now)
{
    return s->state == MBWS_SS_DETACHED && now >= s->expires_at;
}

int mbws_session_may_resume(const mbws_session *s, uint64_t now)
{
    return s->state == MBWS_SS_DETACHED && now < s->expires_at;
}

uint64_t mbws_session_expires_at(const mbws_session *s)
{
    return s->state == MBWS_SS_DETACHED ? s->expires_at : NO_DEADLINE;
}

void mbws_session_end(mbws_session *s)
{
    if (s->conn == NULL)
        s->state = MBWS_SS_ENDED;
}

int mbws_session_pop_unacked(mbws_session *s, uint64_t *tag, uint64_t *seq)
{
    struct mbws_out_msg *m = s->out_head;
    if (m == NULL)
        return 0;
    s->out_head = m->next;
    if (s->out_head == NULL)
        s->out_tail = NULL;
    s->out_count--;
    if (tag)
        *tag = m->tag;
    if (seq)
        *seq = m->seq;
    out_msg_free(m);
    return 1;
}

size_t mbws_session_unacked_count(const mbws_session *s)
{
    return s->out_count;
}

int mbws_session_has_sub(const mbws_session *s, uint64_t sub)
{
    for (size_t i = 0; i < s->nsubs; i++)
        if (s->subs[i] == sub)
            return 1;
    return 0;
}

void mbws_session_set_user(mbws_session *s, void *user)
{
    s->user = user;
}

void *mbws_session_user(const mbws_session *s)
{
    return s->user;
}

void mbws_session_get_info(const mbws_session *s, mbws_session_info *out)
{
    out->out_next_seq = s->out_next_seq;
    out->out_sent_max = s->out_sent_max;
    out->out_acked = s->out_acked;
    out->out_limit = s->out_limit;
    out->in_last_seq = s->in_last_seq;
    out->in_acked = s->in_acked;
    out->in_limit = s->in_limit;
    out->expiry_s = s->expiry_s;
}

int session_sub_add(mbws_session *s, uint64_t sub)
{
    if (mbws_session_has_sub(s, sub))
        return MBWS_CMD_SUB;
    if (s->nsubs == s->subs_cap) {
        size_t cap = s->subs_cap ? s->subs_cap * 2 : 8;
        uint64_t *n = realloc(s->subs, cap * sizeof(*n));
        if (n == NULL)
            return MBWS_CMD_NOMEM;
        s->subs = n;
        s->subs_cap = cap;
    }
    s->subs[s->nsubs++] = sub;
    return MBWS_CMD_OK;
}

int session_sub_remove(mbws_session *s, uint64_t sub)
{
    for (size_t i = 0; i < s->nsubs; i++)
        if (s->subs[i] == sub) {
            s->subs[i] = s->subs[--s->nsubs];
            return MBWS_CMD_OK;
        }
    return MBWS_CMD_SUB;
}

void session_ack_upto(mbws_session *s, mbws_conn *c, uint64_t upto)
{
    if (upto > s->out_acked)
        s->out_acked = upto;
    while (s->out_head && s->out_head->seq <= upto) {
        struct mbws_out_msg *m = s->out_head;
        if (c) {
            mbws_action *a = conn_push(c, MBWS_ACT_ACKED, 0, NULL);
            if (a) {
                a->seq = m->seq;
                a->tag = m->tag;
            }
        }
        mbws_session_pop_unacked(s, NULL, NULL);
    }
}

struct mbws_out_msg *session_out_add(mbws_session *s, const mbws_msg *m, uint64_t tag,
                                     enum mbws_fault_id fault)
{
    struct mbws_out_msg *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    size_t clen = m->content_type ? m->content_type_len : 0;
    o->buf = malloc(m->address_len + clen + m->body_len + 1);
    if (o->buf == NULL) {
        free(o);
        return NULL;
    }
    memcpy(o->buf, m->address, m->address_len);
    if (clen)
        memcpy(o->buf + m->address_len, m->content_type, clen);
    if (m->body_len)
        memcpy(o->buf + m->address_len + clen, m->body, m->body_len);
    o->alen = m->address_len;
    o->clen = clen;
    o->blen = m->body_len;
    o->has_ct = m->content_type != NULL;
    o->has_sub = m->has_sub;
    o->sub = m->sub;
    o->tag = tag;
    if (s->out_next_seq == 2 && mbws_fault_on(fault, MBWS_FAULT_SEQ_SKIP))
        s->out_next_seq++;
    o->seq = s->out_next_seq++;
    if (s->out_tail)
        s->out_tail->next = o;
    else
        s->out_head = o;
    s->out_tail = o;
    s->out_count++;
    return o;
}

void session_frame_of(const struct mbws_out_msg *m, mbws_frame *f)
{
    mbws_frame_init(f, MBWS_MESSAGE);
    mbws_frame_set_int(f, MBWS_F_SEQ, m->seq);
    mbws_frame_set_str(f, MBWS_F_ADDRESS, m->buf, m->alen);
    if (m->has_sub)
        mbws_frame_set_int(f, MBWS_F_SUB, m->sub);
    if (m->has_ct)
        mbws_frame_set_str(f, MBWS_F_CONTENT_TYPE, m->buf + m->alen, m->clen);
    f->body.ptr = m->buf + m->alen + m->clen;
    f->body.len = m->blen;
}
