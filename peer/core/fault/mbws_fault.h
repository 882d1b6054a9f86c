/* Fault injection: deliberate, named violations of one requirement each.
 *
 * The reference peer runs correct by default. `mbws-peer broker|client|echo
 * --fault NAME` switches on one fault, so the suite can prove that some case
 * catches it (docs/faults.md). The switch is per instance, the way llhttp
 * keeps its lenient flags per parser: the decode context, the connection
 * config, the broker model, the transport options and the modes' configs
 * each carry an enum mbws_fault_id (MBWS_FAULT_NONE, 0, is the correct
 * peer, so a zeroed config is correct), and each hook tests its own
 * instance's field. One process can hold a faulty and a correct peer. */
#ifndef MBWS_FAULT_H
#define MBWS_FAULT_H

#include <stdbool.h>

/* Which role a fault applies to (a fault may apply to both). */
#define MBWS_FAULT_BROKER 1u
#define MBWS_FAULT_CLIENT 2u /* the reference client and the echo client */
#define MBWS_FAULT_BOTH 3u

/* Every fault is one line of a .def file:
 *   MBWS_FAULT(ID, "name", roles, "REQ-N", "what the faulty peer does") */
enum mbws_fault_id {
    MBWS_FAULT_NONE = 0,
#define MBWS_FAULT(id, name, roles, req, what) MBWS_FAULT_##id,
#include "mbws_faults_wire.def"
#include "mbws_faults_session.def"
#undef MBWS_FAULT
    MBWS_FAULT_COUNT
};

struct mbws_fault_info {
    const char *name;        /* command-line name, lower case with '-' */
    unsigned roles;          /* MBWS_FAULT_BROKER | MBWS_FAULT_CLIENT */
    const char *requirement; /* the one requirement ID it breaks */
    const char *what;        /* one line: the faulty behaviour */
};

/* The table, indexed by enum mbws_fault_id (entry 0 is "none"). */
extern const struct mbws_fault_info mbws_fault_table[MBWS_FAULT_COUNT];

/* 1 when an instance configured with `fault` has fault id switched on. */
static inline bool mbws_fault_on(enum mbws_fault_id fault, enum mbws_fault_id id)
{
    return fault == id;
}

/* Looks a fault up by name; MBWS_FAULT_NONE when unknown. */
enum mbws_fault_id mbws_fault_by_name(const char *name);

/* 1 when fault makes the peer drop, silently, a frame the codec refused
 * under rule (e.g. "BIN-1"): bin-short-frame-ignored,
 * fld-missing-field-ignored, fld-direction-unchecked. */
int mbws_fault_drops(enum mbws_fault_id fault, const char *rule);

#endif
