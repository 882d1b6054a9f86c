/* The fault table and the look-up by name (see mbws_fault.h). */
#include "mbws_fault.h"

#include <string.h>

const struct mbws_fault_info mbws_fault_table[MBWS_FAULT_COUNT] = {
    {"none", MBWS_FAULT_BOTH, "", "no fault: the correct peer"},
#define MBWS_FAULT(id, name, roles, req, what) {name, roles, req, what},
#include "mbws_faults_wire.def"
#include "mbws_faults_session.def"
#undef MBWS_FAULT
};

enum mbws_fault_id mbws_fault_by_name(const char *name)
{
    for (int i = 1; i < MBWS_FAULT_COUNT; i++)
        if (!strcmp(mbws_fault_table[i].name, name))
            return (enum mbws_fault_id)i;
    return MBWS_FAULT_NONE;
}
