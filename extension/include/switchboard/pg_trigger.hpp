// Shared checks of the native trigger functions.
#pragma once

#include "switchboard/pg_guard.hpp"

extern "C" {
#include "commands/trigger.h"
}

namespace switchboard::pg {

// The TriggerData of a BEFORE ... FOR EACH ROW trigger call.  Misuse is a
// programming error: elog(ERROR) in contrib/moddatetime's words.  Call it first,
// before the body owns any C++ object.
inline TriggerData *before_row_trigger(FunctionCallInfo fcinfo, const char *name)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        elog(ERROR, "%s: not fired by trigger manager", name);
    TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
        elog(ERROR, "%s: cannot process STATEMENT events", name);
    if (!TRIGGER_FIRED_BEFORE(td->tg_event))
        elog(ERROR, "%s: must be fired before event", name);
    return td;
}

// The TriggerData of an AFTER INSERT ... FOR EACH ROW trigger call, checked the same way.
inline TriggerData *after_insert_row_trigger(FunctionCallInfo fcinfo, const char *name)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        elog(ERROR, "%s: not fired by trigger manager", name);
    TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
        elog(ERROR, "%s: cannot process STATEMENT events", name);
    if (!TRIGGER_FIRED_AFTER(td->tg_event))
        elog(ERROR, "%s: must be fired after event", name);
    if (!TRIGGER_FIRED_BY_INSERT(td->tg_event))
        elog(ERROR, "%s: must be fired for INSERT", name);
    return td;
}

}  // namespace switchboard::pg
