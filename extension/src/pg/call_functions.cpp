// SQL entry points for voice calls: record_call and the calls status trigger.
//
// record_call runs its SQL through SPI with plans prepared once per backend and
// kept (SPI_keepplan); the query texts schema-qualify every name and operator,
// so they mean the same under any search_path.  The SPI parts are C-style: no
// C++ object with a destructor is alive while Postgres may raise an ERROR.
#include "switchboard/pg_guard.hpp"
#include "switchboard/pg_trigger.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "storage/itemptr.h"
#include "miscadmin.h"
}

#include "switchboard/calls.hpp"
#include "switchboard/error.hpp"
#include "switchboard/pg_security.hpp"
#include "switchboard/phone.hpp"

#include <string>

namespace calls = switchboard::calls;
namespace phone = switchboard::phone;
namespace sqlstate = switchboard::sqlstate;

namespace {

constexpr char null_value_not_allowed[] = "22004";

using switchboard::shown;

std::string_view text_view(const text *t)
{
    return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

[[noreturn]] void throw_unknown_status(std::string_view raw)
{
    throw switchboard::Error(sqlstate::invalid_parameter_value,
                             "unknown call status \"" + shown(raw) + "\"", {},
                             "A call status is one of ringing, in_progress, completed, failed, busy, "
                             "no_answer, canceled, or a provider spelling of one such as answered, "
                             "in-progress, no-answer or cancelled.");
}

// --- record_call: kept plans ---------------------------------------------------

SPIPlanPtr plan_agent;             // the agent's default region, whether it has a schedule (0.5.0)
SPIPlanPtr plan_agent_020;         // the same before 0.5.0: the schedule is always read
SPIPlanPtr plan_read_call;         // the call by (agent, call_sid), with its ctid and after_hours
SPIPlanPtr plan_insert_conversation;
SPIPlanPtr plan_select_conversation;
SPIPlanPtr plan_insert_call;       // $11: the call started after hours
SPIPlanPtr plan_update_call;
// The same against a 0.1.0 schema (no calls.after_hours: always false, $11 unused).
SPIPlanPtr plan_read_call_010;
SPIPlanPtr plan_insert_call_010;

void prepare(SPIPlanPtr *plan, const char *query, int nargs, Oid *types)
{
    if (*plan != nullptr)
        return;
    SPIPlanPtr p = SPI_prepare(query, nargs, types);
    if (p == nullptr)
        elog(ERROR, "record_call: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(p) != 0)
        elog(ERROR, "record_call: SPI_keepplan failed");
    *plan = p;
}

#define READ_CALL                                                                                  \
    "SELECT c.call_id, c.status, c.started_at, c.answered_at, c.ended_at,"                         \
    " c.duration_seconds, c.conversation_id, c.ctid, "
#define READ_CALL_WHERE                                                                            \
    " FROM switchboard.calls c"                                                                    \
    " WHERE c.agent_id OPERATOR(pg_catalog.=) $1 AND c.call_sid OPERATOR(pg_catalog.=) $2"
#define INSERT_CALL                                                                                \
    "INSERT INTO switchboard.calls AS c (agent_id, call_sid, conversation_id, caller, status,"     \
    " started_at, answered_at, ended_at, duration_seconds, metadata"

void prepare_plans(bool schema_010, bool schema_050)
{
    Oid agent_sid[2] = {UUIDOID, TEXTOID};
    if (schema_050)
        prepare(&plan_agent,
                "SELECT a.default_region, a.has_schedule FROM switchboard.agents a"
                " WHERE a.agent_id OPERATOR(pg_catalog.=) $1",
                1, agent_sid);
    else
        prepare(&plan_agent_020,
                "SELECT a.default_region, true FROM switchboard.agents a"
                " WHERE a.agent_id OPERATOR(pg_catalog.=) $1",
                1, agent_sid);
    if (schema_010)
        prepare(&plan_read_call_010, READ_CALL "false" READ_CALL_WHERE, 2, agent_sid);
    else
        prepare(&plan_read_call, READ_CALL "c.after_hours" READ_CALL_WHERE, 2, agent_sid);
    prepare(&plan_insert_conversation,
            "INSERT INTO switchboard.conversations AS v (agent_id, phone) VALUES ($1, $2)"
            " ON CONFLICT (agent_id, phone) DO NOTHING RETURNING v.conversation_id",
            2, agent_sid);
    prepare(&plan_select_conversation,
            "SELECT v.conversation_id FROM switchboard.conversations v"
            " WHERE v.agent_id OPERATOR(pg_catalog.=) $1 AND v.phone OPERATOR(pg_catalog.=) $2",
            2, agent_sid);
    Oid insert_types[11] = {UUIDOID,        TEXTOID,        UUIDOID,        TEXTOID, TEXTOID, TIMESTAMPTZOID,
                            TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID,        JSONBOID, BOOLOID};
    if (schema_010)
        prepare(&plan_insert_call_010,
                INSERT_CALL ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT (agent_id, call_sid) DO NOTHING RETURNING c.call_id, c.status, false",
                11, insert_types);
    else
        prepare(&plan_insert_call,
                INSERT_CALL ", after_hours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT (agent_id, call_sid) DO NOTHING RETURNING c.call_id, c.status, c.after_hours",
                11, insert_types);
    Oid update_types[10] = {UUIDOID,        INT8OID, TEXTOID,  TIMESTAMPTZOID, TIMESTAMPTZOID,
                            TIMESTAMPTZOID, INT4OID, JSONBOID, UUIDOID,        TIDOID};
    prepare(&plan_update_call,
            "UPDATE switchboard.calls c SET status = $3, started_at = $4, answered_at = $5,"
            " ended_at = $6, duration_seconds = $7,"
            " metadata = c.metadata OPERATOR(pg_catalog.||) $8, conversation_id = $9"
            " WHERE c.ctid OPERATOR(pg_catalog.=) $10"
            " AND c.agent_id OPERATOR(pg_catalog.=) $1 AND c.call_id OPERATOR(pg_catalog.=) $2"
            " RETURNING c.status",
            10, update_types);
}

void run(SPIPlanPtr plan, Datum *values, const char *nulls, int expected)
{
    int rc = SPI_execute_plan(plan, values, nulls, false, 0);
    if (rc != expected)
        elog(ERROR, "record_call: SPI_execute_plan returned %s", SPI_result_code_string(rc));
}

bool column_is_null(int column)
{
    bool isnull;
    (void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
    return isnull;
}

Datum column(int column)
{
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
    if (isnull)
        elog(ERROR, "record_call: unexpected NULL in column %d", column);
    return d;
}

calls::OptTime opt_time(int col)
{
    calls::OptTime t;
    if (!column_is_null(col))
        t = {true, DatumGetTimestampTz(column(col))};
    return t;
}

calls::Status status_column(int col)
{
    calls::Status s;
    if (!calls::parse_status(text_view(DatumGetTextPP(column(col))), s))
        elog(ERROR, "record_call: unexpected call status in the calls table");
    return s;
}

void set_time(Datum *values, char *nulls, int i, const calls::OptTime &t)
{
    values[i] = TimestampTzGetDatum(t.value);
    nulls[i] = t.known ? ' ' : 'n';
}

void set_int(Datum *values, char *nulls, int i, const calls::OptInt &v)
{
    values[i] = Int32GetDatum(v.value);
    nulls[i] = v.known ? ' ' : 'n';
}

// The caller's conversation: INSERT ... ON CONFLICT DO NOTHING, then read it.
void ensure_conversation(const pg_uuid_t *agent, Datum phone_text, pg_uuid_t *out)
{
    Datum values[2] = {UUIDPGetDatum(agent), phone_text};
    const char nulls[3] = "  ";
    // A concurrent DELETE between the two statements is the only way round
    // this loop more than once.
    for (int attempt = 0; attempt < 10; attempt++) {
        run(plan_insert_conversation, values, nulls, SPI_OK_INSERT_RETURNING);
        if (SPI_processed == 0)
            run(plan_select_conversation, values, nulls, SPI_OK_SELECT);
        if (SPI_processed == 1) {
            *out = *DatumGetUUIDP(column(1));
            return;
        }
    }
    elog(ERROR, "record_call: could not create or find the conversation");
}

[[noreturn]] void throw_unknown_agent(const pg_uuid_t *agent)
{
    char *shown_uuid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(agent)));
    SPI_finish();
    // P0002, or 42501 when row-level security hides it (switchboard/pg_security.hpp)
    throw switchboard::pg::agent_not_found(shown_uuid);
}

[[noreturn]] void throw_null_argument(const char *name)
{
    throw switchboard::Error(null_value_not_allowed, std::string(name) + " must not be null");
}

}  // namespace

// From events.cpp (C-style, they ereport; called while no C++ object with a
// destructor is live, like run() above): the agent of a dialed number taking
// calls (P0002 else), and whether an agent is open at a time.
extern "C" Datum switchboard_route_number(Datum raw, bool voice);
extern "C" bool switchboard_agent_open(Datum agent_id, TimestampTz at);
// Whether the installed schema is 0.1.0's (no business hours, no calls.after_hours),
// and whether it has agents.has_schedule (0.5.0 on).
extern "C" bool switchboard_schema_is_010(void);
extern "C" bool switchboard_schema_is_050(void);

namespace {

// record_call, and route_call (routed: argument 1 is the dialed number, and the
// result also carries agent_id and after_hours).  A call is after hours when
// its agent is closed at the started_at of the event that inserts its row
// (is_open's SQL); the flag is stored then and kept by later events, and
// route_call returns the stored flag.
Datum call_event(FunctionCallInfo fcinfo, bool routed)
{
    static const char *const arg_names[5] = {"agent_id", "call_sid", "caller", "status", "at"};
    static const char *const routed_names[5] = {"to_phone", "call_sid", "from_phone", "status", "at"};
    for (int i = 0; i < 5; i++)
        if (PG_ARGISNULL(i))
            throw_null_argument((routed ? routed_names : arg_names)[i]);

    pg_uuid_t agent;
    if (!routed)
        agent = *PG_GETARG_UUID_P(0);
    text *call_sid = PG_GETARG_TEXT_PP(1);
    text *caller = PG_GETARG_TEXT_PP(2);
    text *status_text = PG_GETARG_TEXT_PP(3);

    calls::CallEvent event;
    event.at = PG_GETARG_TIMESTAMPTZ(4);
    if (!calls::parse_status(text_view(status_text), event.status))
        throw_unknown_status(text_view(status_text));
    if (VARSIZE_ANY_EXHDR(call_sid) == 0)
        throw switchboard::Error(sqlstate::invalid_parameter_value, "call_sid must not be empty");
    if (TIMESTAMP_NOT_FINITE(event.at))
        throw switchboard::Error(sqlstate::invalid_parameter_value, "at must be a finite timestamp");
    if (!PG_ARGISNULL(5)) {
        event.duration_seconds = {true, PG_GETARG_INT32(5)};
        if (event.duration_seconds.value < 0)
            throw switchboard::Error(sqlstate::invalid_parameter_value,
                                     "duration_seconds must not be negative");
    }
    Datum metadata = (Datum) 0;
    if (!PG_ARGISNULL(6)) {
        Jsonb *jb = PG_GETARG_JSONB_P(6);
        if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
            throw switchboard::Error(sqlstate::invalid_parameter_value,
                                     "metadata must be a JSON object");
        metadata = PointerGetDatum(jb);
    } else {
        metadata = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
    }

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "record_call: SPI_connect failed");
    bool schema_010 = !routed && switchboard_schema_is_010();
    bool schema_050 = !schema_010 && switchboard_schema_is_050();
    prepare_plans(schema_010, schema_050);
    bool after_hours = false;
    if (routed)
        agent = *DatumGetUUIDP(switchboard_route_number(PG_GETARG_DATUM(0), true));

    // the agent and its default region
    Datum values[11];
    char nulls[12] = "           ";
    values[0] = UUIDPGetDatum(&agent);
    run(schema_050 ? plan_agent : plan_agent_020, values, nulls, SPI_OK_SELECT);
    if (SPI_processed == 0)
        throw_unknown_agent(&agent);
    // is_open's statement only for an agent with a schedule (0.5.0's agents.has_schedule)
    bool has_schedule = DatumGetBool(column(2));
    text *region_text = DatumGetTextPP(column(1));
    phone::Region region = phone::parse_region(VARDATA_ANY(region_text),
                                               VARSIZE_ANY_EXHDR(region_text), false);
    if (!region.valid) {
        SPI_finish();
        throw switchboard::Error(sqlstate::invalid_parameter_value,
                                 std::string("unknown region \"") + region.code + "\"",
                                 "It is the default_region of the agent.",
                                 "A region is an ISO 3166-1 alpha-2 code such as US or GB.");
    }

    phone::E164 e164;
    phone::Failure failure = phone::normalize(text_view(caller), region, e164);
    if (failure != phone::Failure::none) {
        SPI_finish();
        throw switchboard::Error(sqlstate::invalid_parameter_value,
                                 "invalid phone number \"" + shown(text_view(caller)) + "\"",
                                 phone::explain(failure));
    }
    Datum caller_e164 = PointerGetDatum(cstring_to_text_with_len(e164.text, e164.length));

    int64 call_id = 0;
    pg_uuid_t conversation;
    bool have_conversation = false;
    bool is_new_call = false;
    calls::Status stored = event.status;
    for (int attempt = 0;; attempt++) {
        // Optimistic: read the call without locking it, compute the new row,
        // and update that very row version (WHERE ctid = the one read).  If
        // another backend changed the call meanwhile, the UPDATE waits for it,
        // finds the row moved on and updates nothing; the next round reads the
        // new version.  Likewise another backend may insert the call between
        // our look-up and our insert; ON CONFLICT DO NOTHING then waits for it,
        // and the next round finds its row.  Rounds are only repeated while
        // other sessions keep writing the same call; saving the row lock (a
        // WAL record per event) pays for that.
        if (attempt == 1000)
            elog(ERROR, "record_call: could not record the call: it changes constantly");
        CHECK_FOR_INTERRUPTS();

        values[0] = UUIDPGetDatum(&agent);
        values[1] = PointerGetDatum(call_sid);
        run(schema_010 ? plan_read_call_010 : plan_read_call, values, nulls, SPI_OK_SELECT);
        if (SPI_processed == 1) {
            call_id = DatumGetInt64(column(1));
            calls::CallState current;
            current.status = status_column(2);
            current.started_at = DatumGetTimestampTz(column(3));
            current.answered_at = opt_time(4);
            current.ended_at = opt_time(5);
            if (!column_is_null(6))
                current.duration_seconds = {true, DatumGetInt32(column(6))};
            if (!column_is_null(7)) {
                conversation = *DatumGetUUIDP(column(7));
                have_conversation = true;
            }
            ItemPointerData ctid = *reinterpret_cast<ItemPointer>(DatumGetPointer(column(8)));
            after_hours = DatumGetBool(column(9));
            calls::CallState next = calls::apply_event(current, event);
            if (!have_conversation) {
                ensure_conversation(&agent, caller_e164, &conversation);
                have_conversation = true;
            }
            values[0] = UUIDPGetDatum(&agent);
            values[1] = Int64GetDatum(call_id);
            values[2] = CStringGetTextDatum(calls::name(next.status));
            values[3] = TimestampTzGetDatum(next.started_at);
            set_time(values, nulls, 4, next.answered_at);
            set_time(values, nulls, 5, next.ended_at);
            set_int(values, nulls, 6, next.duration_seconds);
            values[7] = metadata;
            values[8] = UUIDPGetDatum(&conversation);
            values[9] = PointerGetDatum(&ctid);
            run(plan_update_call, values, nulls, SPI_OK_UPDATE_RETURNING);
            memset(nulls, ' ', 11);
            if (SPI_processed == 1) {
                stored = status_column(1);
                break;
            }
            continue;  // changed under us: read it again
        }

        if (!have_conversation) {
            ensure_conversation(&agent, caller_e164, &conversation);
            have_conversation = true;
        }
        calls::CallState first = calls::first_event(event);
        // after hours at the call's start, in the agent's hours (0.2.0 schema)
        bool closed = !schema_010 && has_schedule && !switchboard_agent_open(UUIDPGetDatum(&agent), first.started_at);
        memset(nulls, ' ', 11);
        values[0] = UUIDPGetDatum(&agent);
        values[1] = PointerGetDatum(call_sid);
        values[2] = UUIDPGetDatum(&conversation);
        values[3] = caller_e164;
        values[4] = CStringGetTextDatum(calls::name(first.status));
        values[5] = TimestampTzGetDatum(first.started_at);
        set_time(values, nulls, 6, first.answered_at);
        set_time(values, nulls, 7, first.ended_at);
        set_int(values, nulls, 8, first.duration_seconds);
        values[9] = metadata;
        values[10] = BoolGetDatum(closed);
        run(schema_010 ? plan_insert_call_010 : plan_insert_call, values, nulls, SPI_OK_INSERT_RETURNING);
        memset(nulls, ' ', 11);
        if (SPI_processed == 1) {
            call_id = DatumGetInt64(column(1));
            stored = status_column(2);
            after_hours = DatumGetBool(column(3));
            is_new_call = true;
            break;
        }
    }
    SPI_finish();

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    Datum result[6] = {Int64GetDatum(call_id), UUIDPGetDatum(&conversation),
                       CStringGetTextDatum(calls::name(stored)), BoolGetDatum(is_new_call),
                       UUIDPGetDatum(&agent), BoolGetDatum(after_hours)};
    bool result_nulls[6] = {false, false, false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, result, result_nulls);
    return (Datum) 0;
}

}  // namespace

// record_call(agent_id, call_sid, caller, status, at, duration_seconds, metadata)
//   -> (call_id, conversation_id, status, is_new_call): upserts the call by
// (agent_id, call_sid) and links the caller's conversation, creating it if needed
SB_FUNCTION(record_call)
{
    return call_event(fcinfo, false);
}

// route_call(to_phone, call_sid, from_phone, status, at, duration_seconds, metadata)
//   -> record_call's row for the agent of the dialed number, plus agent_id and after_hours
SB_FUNCTION(route_call)
{
    return call_event(fcinfo, true);
}

// --- the calls status trigger ----------------------------------------------------

namespace {

int required_column(Relation rel, const char *trigger, const char *name, Oid type)
{
    TupleDesc desc = RelationGetDescr(rel);
    int attnum = SPI_fnumber(desc, name);
    if (attnum <= 0)
        elog(ERROR, "%s: table \"%s\" has no column \"%s\"", trigger, RelationGetRelationName(rel),
             name);
    if (TupleDescAttr(desc, attnum - 1)->atttypid != type)
        elog(ERROR, "%s: column \"%s\" of table \"%s\" must be of type %s", trigger, name,
             RelationGetRelationName(rel), format_type_be(type));
    return attnum;
}

calls::OptTime tuple_time(HeapTuple tuple, TupleDesc desc, int attnum)
{
    bool isnull;
    Datum d = heap_getattr(tuple, attnum, desc, &isnull);
    calls::OptTime t;
    if (!isnull)
        t = {true, DatumGetTimestampTz(d)};
    return t;
}

}  // namespace

// enforce_call_status() trigger: BEFORE INSERT OR UPDATE FOR EACH ROW on calls.
// Spells the status canonically, refuses an illegal transition (23514) and
// derives answered_at, ended_at and duration_seconds when they are missing.
SB_FUNCTION(enforce_call_status)
{
    const char *self = "enforce_call_status";
    TriggerData *trigdata = switchboard::pg::before_row_trigger(fcinfo, self);
    HeapTuple old_tuple = nullptr;
    HeapTuple new_tuple;
    if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event)) {
        new_tuple = trigdata->tg_trigtuple;
    } else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)) {
        old_tuple = trigdata->tg_trigtuple;
        new_tuple = trigdata->tg_newtuple;
    } else {
        elog(ERROR, "%s: must be fired for INSERT or UPDATE", self);
    }

    Relation rel = trigdata->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    int status_col = required_column(rel, self, "status", TEXTOID);
    int sid_col = required_column(rel, self, "call_sid", TEXTOID);
    int answered_col = required_column(rel, self, "answered_at", TIMESTAMPTZOID);
    int ended_col = required_column(rel, self, "ended_at", TIMESTAMPTZOID);
    int duration_col = required_column(rel, self, "duration_seconds", INT4OID);

    bool isnull;
    Datum status_datum = heap_getattr(new_tuple, status_col, desc, &isnull);
    if (isnull)
        return PointerGetDatum(new_tuple);  // the NOT NULL constraint speaks
    text *status_text = DatumGetTextPP(status_datum);
    calls::CallState row;
    if (!calls::parse_status(text_view(status_text), row.status))
        throw_unknown_status(text_view(status_text));

    if (old_tuple != nullptr) {
        Datum old_datum = heap_getattr(old_tuple, status_col, desc, &isnull);
        calls::Status from;
        if (!isnull && calls::parse_status(text_view(DatumGetTextPP(old_datum)), from) &&
            !calls::is_legal(from, row.status)) {
            Datum sid = heap_getattr(new_tuple, sid_col, desc, &isnull);
            ereport(ERROR,
                    (errcode(ERRCODE_CHECK_VIOLATION),
                     errmsg("illegal call status transition from \"%s\" to \"%s\"", calls::name(from),
                            calls::name(row.status)),
                     errdetail("Call \"%s\" %s.", isnull ? "" : TextDatumGetCString(sid),
                               calls::illegal_reason(from, row.status)),
                     errtable(rel)));
        }
    }

    row.answered_at = tuple_time(new_tuple, desc, answered_col);
    row.ended_at = tuple_time(new_tuple, desc, ended_col);
    Datum duration = heap_getattr(new_tuple, duration_col, desc, &isnull);
    if (!isnull)
        row.duration_seconds = {true, DatumGetInt32(duration)};
    calls::CallState before = row;
    calls::derive(row, GetCurrentTransactionStartTimestamp());

    int columns[4];
    Datum values[4];
    bool nulls[4] = {false, false, false, false};
    int n = 0;
    const char *canonical = calls::name(row.status);
    if (text_view(status_text) != canonical) {
        columns[n] = status_col;
        values[n++] = CStringGetTextDatum(canonical);
    }
    if (row.answered_at.known != before.answered_at.known) {
        columns[n] = answered_col;
        values[n++] = TimestampTzGetDatum(row.answered_at.value);
    }
    if (row.ended_at.known != before.ended_at.known) {
        columns[n] = ended_col;
        values[n++] = TimestampTzGetDatum(row.ended_at.value);
    }
    if (row.duration_seconds.known != before.duration_seconds.known) {
        columns[n] = duration_col;
        values[n++] = Int32GetDatum(row.duration_seconds.value);
    }
    if (n == 0)
        return PointerGetDatum(new_tuple);
    return PointerGetDatum(heap_modify_tuple_by_cols(new_tuple, desc, n, columns, values, nulls));
}
