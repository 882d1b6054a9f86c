/* Wire-layer fault helpers shared by several hooks (docs/faults.md). */
#include <string.h>

#include "mbws_fault.h"

int mbws_fault_drops(enum mbws_fault_id fault, const char *rule)
{
    if (rule == NULL)
        return 0;
    return (mbws_fault_on(fault, MBWS_FAULT_BIN_SHORT_IGNORED) && !strcmp(rule, "BIN-1")) ||
           (mbws_fault_on(fault, MBWS_FAULT_FLD_MISSING_IGNORED) && !strcmp(rule, "FLD-1")) ||
           (mbws_fault_on(fault, MBWS_FAULT_FLD_DIRECTION_UNCHECKED) && !strcmp(rule, "FLD-5"));
}
