// touch_updated_at(): a generic BEFORE UPDATE trigger, after contrib's moddatetime.
#include "switchboard/pg_guard.hpp"
#include "switchboard/pg_trigger.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

// touch_updated_at([column]) trigger: BEFORE UPDATE FOR EACH ROW on any table
// with a timestamptz or timestamp column named updated_at (or the column given
// as the trigger's argument).  Sets it to the transaction timestamp, now(),
// unless the UPDATE itself set it to a value different from the old one.
SB_FUNCTION(touch_updated_at)
{
    const char *self = "touch_updated_at";
    TriggerData *trigdata = switchboard::pg::before_row_trigger(fcinfo, self);
    if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
        elog(ERROR, "%s: cannot process INSERT events", self);
    if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
        elog(ERROR, "%s: must be fired for UPDATE", self);

    Trigger *trigger = trigdata->tg_trigger;
    if (trigger->tgnargs > 1)
        elog(ERROR, "%s: takes at most one argument, the name of the column", self);
    const char *column = trigger->tgnargs == 1 ? trigger->tgargs[0] : "updated_at";

    Relation rel = trigdata->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    int attnum = SPI_fnumber(desc, column);
    if (attnum <= 0)
        elog(ERROR, "%s: table \"%s\" has no column \"%s\"", self, RelationGetRelationName(rel),
             column);
    Oid type = TupleDescAttr(desc, attnum - 1)->atttypid;
    if (type != TIMESTAMPTZOID && type != TIMESTAMPOID)
        elog(ERROR,
             "%s: column \"%s\" of table \"%s\" must be of type timestamp with time zone or "
             "timestamp without time zone",
             self, column, RelationGetRelationName(rel));

    HeapTuple old_tuple = trigdata->tg_trigtuple;
    HeapTuple new_tuple = trigdata->tg_newtuple;
    bool old_null, new_null;
    Datum old_value = heap_getattr(old_tuple, attnum, desc, &old_null);
    Datum new_value = heap_getattr(new_tuple, attnum, desc, &new_null);
    // Set by the UPDATE to something else: an explicit value, kept.
    if (!new_null && (old_null || DatumGetInt64(old_value) != DatumGetInt64(new_value)))
        return PointerGetDatum(new_tuple);

    Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
    if (type == TIMESTAMPOID)
        now = DirectFunctionCall1(timestamptz_timestamp, now);
    int columns[1] = {attnum};
    Datum values[1] = {now};
    bool nulls[1] = {false};
    return PointerGetDatum(heap_modify_tuple_by_cols(new_tuple, desc, 1, columns, values, nulls));
}
