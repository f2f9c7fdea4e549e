// SQL entry points of the event path: record_inbound, record_outbound,
// check_rate_limit, upsert_conversation, and the triggers on agents,
// blocked_numbers and messages.
//
// C-style at the SPI level: plans are prepared once per backend and kept
// (SPI_prepare + SPI_keepplan); the bodies own no C++ object with a destructor,
// so they call Postgres directly.  The decision arithmetic (sliding log,
// retry_after, remaining, session rollover) lives in core/limits.cpp.
//
// Every name and operator in the query text is schema-qualified, so the
// functions need no SET search_path.
//
// Concurrency: an event on an existing conversation locks its row (SELECT ...
// FOR UPDATE), so the hourly log is read and written by one transaction at a
// time.  An event that would open a conversation first locks the agent's
// daily-counter row for the day, then looks for the conversation again: a
// concurrent first message that opened it meanwhile has committed by then, and
// the event continues as one on an existing conversation.
#include "switchboard/pg_guard.hpp"
#include "switchboard/pg_trigger.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include "switchboard/limits.hpp"
#include "switchboard/pg_security.hpp"
#include "switchboard/phone.hpp"

namespace limits = switchboard::limits;
namespace phone = switchboard::phone;

namespace {

// ---------------------------------------------------------------------------
// Plans, prepared on first use and kept for the backend's life.  Plan-cache
// invalidation re-plans them when the tables change.

struct Plan {
    SPIPlanPtr plan;
    const char *sql;
    int nargs;
    Oid types[12];
};

SPIPlanPtr prepared(Plan *p)
{
    if (p->plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(p->sql, p->nargs, p->types);
        if (plan == nullptr)
            elog(ERROR, "switchboard: SPI_prepare failed (%s): %s", SPI_result_code_string(SPI_result),
                 p->sql);
        if (SPI_keepplan(plan) != 0)
            elog(ERROR, "switchboard: SPI_keepplan failed");
        p->plan = plan;
    }
    return p->plan;
}

int run(Plan *p, Datum *values, const char *nulls, bool read_only, long count)
{
    int rc = SPI_execute_plan(prepared(p), values, nulls, read_only, count);
    if (rc < 0)
        elog(ERROR, "switchboard: SPI_execute_plan failed (%s): %s", SPI_result_code_string(rc), p->sql);
    return rc;
}

#define Q_EQ " OPERATOR(pg_catalog.=) "

Plan agent_plan = {nullptr,
                   "SELECT sms_enabled, auto_respond, welcome_message, session_timeout_minutes,"
                   " max_daily_conversations, rate_limit_per_hour, default_region, timezone"
                   " FROM switchboard.agents WHERE agent_id" Q_EQ "$1",
                   1, {UUIDOID}};

// Everything an inbound event needs, in one round trip: the agent's settings
// (read on every event, so a change takes effect on the next one), the number
// normalized with the agent's default_region (NULL when it is not a number:
// read_event then raises normalize_phone's error from C, without a CONTEXT line), whether it is blocked, and the conversation, locked.  The
// lock is taken even when the agent is disabled or the number blocked: rare
// events, and one statement instead of two for the common one.
#define EVENT_SELECT                                                                                \
    "SELECT a.sms_enabled, a.auto_respond, a.welcome_message, a.session_timeout_minutes,"         \
    " a.max_daily_conversations, a.rate_limit_per_hour, a.timezone, n.e164,"                      \
    " EXISTS (SELECT FROM switchboard.blocked_numbers b"                                          \
    "   WHERE b.agent_id" Q_EQ "$1 AND b.phone" Q_EQ "n.e164) AS blocked,"                         \
    " c.conversation_id, c.session_id, c.last_message_at, c.rate_window, a.default_region"        \
    " FROM switchboard.agents a"                                                                  \
    " CROSS JOIN LATERAL (SELECT switchboard.try_normalize_phone($2, a.default_region) AS e164 OFFSET 0) AS n" \
    " LEFT JOIN LATERAL (SELECT conversation_id, session_id, last_message_at, rate_window"        \
    "   FROM switchboard.conversations"                                                           \
    "   WHERE agent_id" Q_EQ "$1 AND phone" Q_EQ "n.e164"
Plan event_lock_plan = {nullptr, EVENT_SELECT " FOR UPDATE) AS c ON true WHERE a.agent_id" Q_EQ "$1",
                        2, {UUIDOID, TEXTOID}};

// The same without the lock, for check_rate_limit.
Plan event_peek_plan = {nullptr, EVENT_SELECT ") AS c ON true WHERE a.agent_id" Q_EQ "$1",
                        2, {UUIDOID, TEXTOID}};

Plan conv_by_id_plan = {nullptr,
                        "SELECT c.session_id, c.last_message_at, c.rate_window, c.phone,"
                        " a.session_timeout_minutes"
                        " FROM switchboard.conversations c JOIN switchboard.agents a"
                        "   ON a.agent_id" Q_EQ "c.agent_id"
                        " WHERE c.agent_id" Q_EQ "$1 AND c.conversation_id" Q_EQ "$2"
                        " FOR UPDATE OF c",
                        2, {UUIDOID, UUIDOID}};

Plan day_lock_plan = {nullptr,
                      "SELECT new_conversations FROM switchboard.agent_daily_counters"
                      " WHERE agent_id" Q_EQ "$1 AND day" Q_EQ "$2 FOR UPDATE",
                      2, {UUIDOID, DATEOID}};

Plan day_peek_plan = {nullptr,
                      "SELECT new_conversations FROM switchboard.agent_daily_counters"
                      " WHERE agent_id" Q_EQ "$1 AND day" Q_EQ "$2",
                      2, {UUIDOID, DATEOID}};

Plan day_create_plan = {nullptr,
                        "INSERT INTO switchboard.agent_daily_counters (agent_id, day)"
                        " VALUES ($1, $2) ON CONFLICT (agent_id, day) DO NOTHING",
                        2, {UUIDOID, DATEOID}};

Plan day_bump_plan = {nullptr,
                      "UPDATE switchboard.agent_daily_counters"
                      " SET new_conversations = new_conversations OPERATOR(pg_catalog.+) 1"
                      " WHERE agent_id" Q_EQ "$1 AND day" Q_EQ "$2",
                      2, {UUIDOID, DATEOID}};

// $3 = the first message's time (NULL: opened without a message), $4 its log.
Plan conv_insert_plan = {nullptr,
                         "INSERT INTO switchboard.conversations AS c"
                         " (agent_id, phone, session_id, message_count, inbound_count,"
                         "  first_message_at, last_message_at, last_inbound_at, rate_window)"
                         " VALUES ($1, $2, $5,"
                         "  CASE WHEN $3 IS NULL THEN 0 ELSE 1 END, CASE WHEN $3 IS NULL THEN 0 ELSE 1 END,"
                         "  $3, $3, $3, $4)"
                         " ON CONFLICT (agent_id, phone) DO NOTHING"
                         " RETURNING conversation_id, session_id",
                         5, {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, UUIDOID}};

// One message bumps its conversation: $4/$5 inbound/outbound, $6 its time,
// $7 the new hourly log (NULL keeps it).
Plan conv_bump_plan = {nullptr,
                       "UPDATE switchboard.conversations SET session_id = $3,"
                       " message_count = message_count OPERATOR(pg_catalog.+) 1,"
                       " inbound_count = inbound_count OPERATOR(pg_catalog.+) $4,"
                       " outbound_count = outbound_count OPERATOR(pg_catalog.+) $5,"
                       " first_message_at = LEAST(first_message_at, $6),"
                       " last_message_at = GREATEST(last_message_at, $6),"
                       " last_inbound_at = CASE WHEN $4 OPERATOR(pg_catalog.>) 0"
                       "   THEN GREATEST(last_inbound_at, $6) ELSE last_inbound_at END,"
                       " rate_window = COALESCE($7, rate_window),"
                       " is_active = true, updated_at = pg_catalog.now()"
                       " WHERE agent_id" Q_EQ "$1 AND conversation_id" Q_EQ "$2",
                       7, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID}};

Plan conv_session_plan = {nullptr,
                          "UPDATE switchboard.conversations SET session_id = $3, updated_at = pg_catalog.now()"
                          " WHERE agent_id" Q_EQ "$1 AND conversation_id" Q_EQ "$2",
                          3, {UUIDOID, UUIDOID, UUIDOID}};

Plan message_insert_plan = {nullptr,
                            "INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"
                            " direction, phone, body, metadata, decision, created_at)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING message_id",
                            9, {UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID,
                                TIMESTAMPTZOID}};

// An accepted message and its conversation's bump in one statement (record_*):
// $1 agent, $2 conversation, $3 session, $4/$5 inbound/outbound, $6 time,
// $7 the new hourly log (NULL keeps it), $8 direction, $9 phone, $10 body, $11 metadata.
Plan bump_and_insert_plan = {nullptr,
                             "WITH bump AS (UPDATE switchboard.conversations SET session_id = $3,"
                             " message_count = message_count OPERATOR(pg_catalog.+) 1,"
                             " inbound_count = inbound_count OPERATOR(pg_catalog.+) $4,"
                             " outbound_count = outbound_count OPERATOR(pg_catalog.+) $5,"
                             " first_message_at = LEAST(first_message_at, $6),"
                             " last_message_at = GREATEST(last_message_at, $6),"
                             " last_inbound_at = CASE WHEN $4 OPERATOR(pg_catalog.>) 0"
                             "   THEN GREATEST(last_inbound_at, $6) ELSE last_inbound_at END,"
                             " rate_window = COALESCE($7, rate_window),"
                             " is_active = true, updated_at = pg_catalog.now()"
                             " WHERE agent_id" Q_EQ "$1 AND conversation_id" Q_EQ "$2)"
                             " INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"
                             " direction, phone, body, metadata, decision, created_at)"
                             " VALUES ($1, $2, $3, $8, $9, $10, $11, 'accepted', $6) RETURNING message_id",
                             11, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID,
                                  TEXTOID, TEXTOID, TEXTOID, JSONBOID}};

Plan region_plan = {nullptr,
                    "SELECT default_region FROM switchboard.agents WHERE agent_id" Q_EQ "$1",
                    1, {UUIDOID}};

// Set by record_* around their own message insert: the messages trigger then
// leaves the conversation alone (record_* bumped it already).  Reset by
// PG_FINALLY, so an error cannot leave it set.
bool record_in_progress = false;

// ---------------------------------------------------------------------------
// Small helpers

struct Agent {
    bool sms_enabled;
    bool auto_respond;
    Datum welcome_message;  // text, in SPI memory
    int session_timeout_minutes;
    int max_daily_conversations;
    int rate_limit_per_hour;
    phone::Region region;
    char timezone[TZ_STRLEN_MAX + 1];
};

bool getbool(int col, bool *isnull)
{
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull));
}

Datum getdatum(int col, bool *isnull)
{
    return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

// Not found: 42501 under row-level security (someone else's agent and a
// missing one look the same), else P0002; see switchboard/pg_security.hpp.
[[noreturn]] void agent_not_found(Datum agent_id)
{
    switchboard::pg::raise_agent_not_found(agent_id);
}

[[noreturn]] void conversation_not_found(Datum agent_id, Datum conversation_id)
{
    switchboard::pg::raise_conversation_not_found(agent_id, conversation_id);
}

// Reads the agent's settings, or raises P0002 (42501 under row-level
// security).  Read on every event: a settings change takes effect on the next one.
void load_agent(Datum agent_id, Agent *agent)
{
    Datum args[1] = {agent_id};
    run(&agent_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        agent_not_found(agent_id);
    bool isnull;
    agent->sms_enabled = getbool(1, &isnull);
    agent->auto_respond = getbool(2, &isnull);
    agent->welcome_message = getdatum(3, &isnull);
    agent->session_timeout_minutes = DatumGetInt32(getdatum(4, &isnull));
    agent->max_daily_conversations = DatumGetInt32(getdatum(5, &isnull));
    agent->rate_limit_per_hour = DatumGetInt32(getdatum(6, &isnull));
    text *region = DatumGetTextPP(getdatum(7, &isnull));
    agent->region = phone::parse_region(VARDATA_ANY(region), VARSIZE_ANY_EXHDR(region), false);
    text *tz = DatumGetTextPP(getdatum(8, &isnull));
    text_to_cstring_buffer(tz, agent->timezone, sizeof agent->timezone);
}

// "invalid phone number" as normalize_phone words it: at most 100 bytes of the
// spelling, cut at a character boundary.
[[noreturn]] void invalid_phone(const char *raw, size_t length, phone::Failure failure)
{
    size_t n = length;
    bool cut = false;
    if (n > 100) {
        n = 100;
        while (n > 0 && (static_cast<unsigned char>(raw[n]) & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid phone number \"%.*s%s\"", static_cast<int>(n), raw, cut ? "..." : ""),
                    errdetail_internal("%s", phone::explain(failure))));
    pg_unreachable();
}

// The E.164 text datum of a raw spelling, or ERROR 22023.
Datum normalized(text *raw, const phone::Region &region)
{
    const char *data = VARDATA_ANY(raw);
    size_t length = VARSIZE_ANY_EXHDR(raw);
    phone::E164 e164;
    phone::Failure failure = phone::normalize(std::string_view(data, length), region, e164);
    if (failure != phone::Failure::none)
        invalid_phone(data, length, failure);
    return PointerGetDatum(cstring_to_text_with_len(e164.text, e164.length));
}

Datum new_uuid()
{
    pg_uuid_t *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
    if (!pg_strong_random(uuid->data, UUID_LEN))
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate random values")));
    uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;  // version 4
    uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;  // RFC 4122 variant
    return UUIDPGetDatum(uuid);
}

Datum interval_us(int64 us)
{
    Interval *iv = static_cast<Interval *>(palloc(sizeof(Interval)));
    iv->time = us;
    iv->day = 0;
    iv->month = 0;
    return IntervalPGetDatum(iv);
}

// The hourly log of a conversation row: up to max_window timestamps into out.
int read_log(Datum array_datum, bool isnull, int64 *out)
{
    if (isnull)
        return 0;
    ArrayType *array = DatumGetArrayTypeP(array_datum);
    Datum *elems;
    bool *nulls;
    int n;
    deconstruct_array(array, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems,
                      &nulls, &n);
    int first = n > limits::max_window ? n - limits::max_window : 0;
    int k = 0;
    for (int i = first; i < n; i++)
        if (!nulls[i])
            out[k++] = DatumGetTimestampTz(elems[i]);
    limits::sort_log(out, k);
    return k;
}

Datum log_datum(const int64 *times, int n)
{
    Datum elems[limits::max_window];
    for (int i = 0; i < n; i++)
        elems[i] = TimestampTzGetDatum(times[i]);
    return PointerGetDatum(
        construct_array(elems, n, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

// The agent's day of `at`, in its time zone.
Datum local_day(const Agent *agent, TimestampTz at)
{
    Datum local = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(agent->timezone),
                                      TimestampTzGetDatum(at));
    return DirectFunctionCall1(timestamp_date, local);
}

// From `at` to the agent's next local midnight.
int64 until_next_day(const Agent *agent, Datum day, TimestampTz at)
{
    DateADT next = DatumGetDateADT(day) + 1;
    Timestamp midnight = static_cast<Timestamp>(next) * USECS_PER_DAY;
    Datum instant = DirectFunctionCall2(timestamp_zone, CStringGetTextDatum(agent->timezone),
                                        TimestampGetDatum(midnight));
    return DatumGetTimestampTz(instant) - at;
}

// A conversation row as the event path sees it.
struct Conversation {
    bool found;
    bool blocked;
    Datum conversation_id;
    Datum session_id;
    bool has_last;
    TimestampTz last_message_at;
    int nlog;
    int64 log[limits::max_window];
};

// Runs an event plan: the agent (or P0002), the normalized number (or 22023),
// blocked, and the conversation row if there is one.
void read_event(Plan *plan, Datum agent_id, Datum raw, Agent *agent, Datum *e164, Conversation *c,
                bool read_only)
{
    Datum args[2] = {agent_id, raw};
    run(plan, args, nullptr, read_only, 0);
    if (SPI_processed == 0)
        agent_not_found(agent_id);
    bool isnull;
    agent->sms_enabled = getbool(1, &isnull);
    agent->auto_respond = getbool(2, &isnull);
    agent->welcome_message = getdatum(3, &isnull);
    agent->session_timeout_minutes = DatumGetInt32(getdatum(4, &isnull));
    agent->max_daily_conversations = DatumGetInt32(getdatum(5, &isnull));
    agent->rate_limit_per_hour = DatumGetInt32(getdatum(6, &isnull));
    text_to_cstring_buffer(DatumGetTextPP(getdatum(7, &isnull)), agent->timezone, sizeof agent->timezone);
    *e164 = getdatum(8, &isnull);
    if (isnull) {
        text *region_text = DatumGetTextPP(getdatum(14, &isnull));
        phone::Region region =
            phone::parse_region(VARDATA_ANY(region_text), VARSIZE_ANY_EXHDR(region_text), false);
        normalized(DatumGetTextPP(raw), region);  // raises the error
        elog(ERROR, "switchboard: try_normalize_phone and normalize_phone disagree");
    }
    c->blocked = getbool(9, &isnull);
    c->conversation_id = getdatum(10, &isnull);
    c->found = !isnull;
    c->nlog = 0;
    c->has_last = false;
    if (!c->found)
        return;
    c->session_id = getdatum(11, &isnull);
    Datum last = getdatum(12, &isnull);
    c->has_last = !isnull;
    c->last_message_at = isnull ? 0 : DatumGetTimestampTz(last);
    Datum log = getdatum(13, &isnull);
    c->nlog = read_log(log, isnull, c->log);
}

// Locks (creating if needed) the agent's counter row of `day`; returns its count.
int lock_day(Datum agent_id, Datum day)
{
    Datum args[2] = {agent_id, day};
    for (int attempt = 0; attempt < 2; attempt++) {
        run(&day_lock_plan, args, nullptr, false, 0);
        if (SPI_processed > 0) {
            bool isnull;
            return DatumGetInt32(getdatum(1, &isnull));
        }
        run(&day_create_plan, args, nullptr, false, 0);
    }
    elog(ERROR, "switchboard: could not lock the daily counter");
    pg_unreachable();
}

int64 insert_message(Datum agent_id, Datum conversation_id, Datum session_id, const char *direction,
                     Datum e164, Datum body, Datum metadata, const char *decision, TimestampTz at)
{
    Datum args[9] = {agent_id,
                     conversation_id,
                     session_id,
                     CStringGetTextDatum(direction),
                     e164,
                     body,
                     metadata,
                     CStringGetTextDatum(decision),
                     TimestampTzGetDatum(at)};
    char nulls[9] = {' ', conversation_id ? ' ' : 'n', session_id ? ' ' : 'n', ' ', ' ', ' ', ' ', ' ', ' '};
    record_in_progress = true;
    PG_TRY();
    {
        run(&message_insert_plan, args, nulls, false, 0);
    }
    PG_FINALLY();
    {
        record_in_progress = false;
    }
    PG_END_TRY();
    bool isnull;
    return DatumGetInt64(getdatum(1, &isnull));
}

void bump_conversation(Datum agent_id, Datum conversation_id, Datum session_id, bool inbound,
                       TimestampTz at, const int64 *log, int nlog)
{
    Datum args[7] = {agent_id,
                     conversation_id,
                     session_id,
                     Int32GetDatum(inbound ? 1 : 0),
                     Int32GetDatum(inbound ? 0 : 1),
                     TimestampTzGetDatum(at),
                     log ? log_datum(log, nlog) : 0};
    char nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', log ? ' ' : 'n'};
    run(&conv_bump_plan, args, nulls, false, 0);
}

// Bumps the conversation and stores an accepted message, one statement; returns its id.
int64 bump_and_insert(Datum agent_id, Datum conversation_id, Datum session_id, bool inbound, TimestampTz at,
                      const int64 *log, int nlog, Datum e164, Datum body, Datum metadata)
{
    Datum args[11] = {agent_id,
                      conversation_id,
                      session_id,
                      Int32GetDatum(inbound ? 1 : 0),
                      Int32GetDatum(inbound ? 0 : 1),
                      TimestampTzGetDatum(at),
                      log ? log_datum(log, nlog) : 0,
                      CStringGetTextDatum(inbound ? "inbound" : "outbound"),
                      e164,
                      body,
                      metadata};
    char nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', log ? ' ' : 'n', ' ', ' ', ' ', ' '};
    record_in_progress = true;
    PG_TRY();
    {
        run(&bump_and_insert_plan, args, nulls, false, 0);
    }
    PG_FINALLY();
    {
        record_in_progress = false;
    }
    PG_END_TRY();
    bool isnull;
    return DatumGetInt64(getdatum(1, &isnull));
}

// ---------------------------------------------------------------------------
// The decision, shared by record_inbound and check_rate_limit.

enum Decision { accepted, blocked, disabled, rate_limited, daily_limit };
const char *const decision_names[] = {"accepted", "blocked", "disabled", "rate_limited", "daily_limit"};

struct Verdict {
    Decision decision;
    bool has_retry;
    int64 retry_after_us;
    bool has_remaining;
    int remaining;
};

// Hourly limit on an existing conversation.
void judge_rate(const Agent *agent, const Conversation *c, TimestampTz at, Verdict *v)
{
    limits::RateDecision r = limits::evaluate(c->log, c->nlog, at, agent->rate_limit_per_hour);
    v->has_remaining = true;
    v->remaining = r.remaining;
    if (!r.accepted) {
        v->decision = rate_limited;
        v->has_retry = true;
        v->retry_after_us = r.retry_after_us;
    }
}

}  // namespace

namespace {

// ERROR 22004 for a NULL among the first n arguments (argument `nullable`, the
// message body, may be NULL: it is stored as '').
void require_arguments(FunctionCallInfo fcinfo, const char *function, int n, int nullable)
{
    for (int i = 0; i < n; i++)
        if (PG_ARGISNULL(i) && i != nullable)
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("%s: argument %d must not be null", function, i + 1)));
}

void spi_connect()
{
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "switchboard: SPI_connect failed");
}

// The tuplestore a set-returning entry point fills.
ReturnSetInfo *materialized_result(FunctionCallInfo fcinfo)
{
    InitMaterializedSRF(fcinfo, 0);
    return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
}

}  // namespace

// record_inbound(agent_id, from_phone, body, metadata, at) -> one row: decision,
// conversation_id, session_id, message_id, is_new_conversation, is_new_session,
// reply, retry_after, remaining
SB_FUNCTION(record_inbound)
{
    require_arguments(fcinfo, "record_inbound", 5, 2);
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum raw = PG_GETARG_DATUM(1);
    Datum body = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
    Datum metadata = PG_GETARG_DATUM(3);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(4);

    ReturnSetInfo *rsinfo = materialized_result(fcinfo);

    spi_connect();

    Agent agent;
    Datum e164;
    Conversation conv;
    read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);

    Verdict v = {accepted, false, 0, false, 0};
    bool is_new_conversation = false, is_new_session = false;
    int64 message_id = 0;

    if (!agent.sms_enabled) {
        v.decision = disabled;
    } else if (conv.blocked) {
        v.decision = blocked;
    } else if (conv.found) {
        judge_rate(&agent, &conv, at, &v);
    } else {
        // Would open a conversation: take the day's counter lock, then look
        // again (a concurrent first message may have opened it meanwhile).
        Datum day = local_day(&agent, at);
        int opened = lock_day(agent_id, day);
        read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);
        if (conv.found) {
            judge_rate(&agent, &conv, at, &v);
        } else if (opened >= agent.max_daily_conversations) {
            v.decision = daily_limit;
            v.has_retry = true;
            v.retry_after_us = until_next_day(&agent, day, at);
            v.has_remaining = true;
            v.remaining = agent.rate_limit_per_hour;
        } else {
            int64 log[1] = {at};
            Datum args[5] = {agent_id, e164, TimestampTzGetDatum(at), log_datum(log, 1), new_uuid()};
            run(&conv_insert_plan, args, nullptr, false, 0);
            if (SPI_processed == 0) {
                // Opened by someone who did not take the counter lock (a direct insert).
                read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);
                if (!conv.found)
                    elog(ERROR, "switchboard: conversation vanished while opening it");
                judge_rate(&agent, &conv, at, &v);
            } else {
                bool isnull;
                conv.found = true;
                conv.conversation_id = getdatum(1, &isnull);
                conv.session_id = getdatum(2, &isnull);
                is_new_conversation = is_new_session = true;
                v.has_remaining = true;
                v.remaining = agent.rate_limit_per_hour - 1;
                Datum bump[2] = {agent_id, day};
                run(&day_bump_plan, bump, nullptr, false, 0);
                message_id = insert_message(agent_id, conv.conversation_id, conv.session_id, "inbound", e164,
                                            body, metadata, "accepted", at);
            }
        }
    }

    if (is_new_conversation) {
        // stored above
    } else if (v.decision == accepted) {
        // An accepted message on an existing conversation: roll the session, log it, bump.
        if (limits::session_expired(conv.has_last, conv.last_message_at, at, agent.session_timeout_minutes)) {
            conv.session_id = new_uuid();
            is_new_session = true;
        }
        int64 log[limits::max_window];
        int nlog = limits::admit(conv.log, conv.nlog, at, log);
        message_id = bump_and_insert(agent_id, conv.conversation_id, conv.session_id, true, at, log, nlog, e164,
                                     body, metadata);
    } else {
        // Rejected: stored with its decision (and its conversation, if it has one), counting for nothing.
        message_id = insert_message(agent_id, conv.found ? conv.conversation_id : 0,
                                    conv.found ? conv.session_id : 0, "inbound", e164, body, metadata,
                                    decision_names[v.decision], at);
    }

    bool attached = conv.found;
    Datum values[9];
    bool nulls[9] = {false, !attached, !attached, false, false, false, true, !v.has_retry, !v.has_remaining};
    values[0] = CStringGetTextDatum(decision_names[v.decision]);
    values[1] = attached ? conv.conversation_id : 0;
    values[2] = attached ? conv.session_id : 0;
    values[3] = Int64GetDatum(message_id);
    values[4] = BoolGetDatum(is_new_conversation);
    values[5] = BoolGetDatum(is_new_session);
    values[6] = 0;
    if (is_new_conversation && agent.auto_respond) {
        values[6] = agent.welcome_message;
        nulls[6] = false;
    }
    values[7] = v.has_retry ? interval_us(v.retry_after_us) : 0;
    values[8] = Int32GetDatum(v.remaining);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    SPI_finish();
    return (Datum)0;
}

// check_rate_limit(agent_id, phone, at) -> (decision, retry_after, remaining): what
// record_inbound would decide now, recording nothing
SB_FUNCTION(check_rate_limit)
{
    require_arguments(fcinfo, "check_rate_limit", 3, -1);
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum raw = PG_GETARG_DATUM(1);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);

    ReturnSetInfo *rsinfo = materialized_result(fcinfo);
    spi_connect();

    Agent agent;
    Datum e164;
    Conversation conv;
    read_event(&event_peek_plan, agent_id, raw, &agent, &e164, &conv, true);
    Verdict v = {accepted, false, 0, false, 0};
    if (!agent.sms_enabled) {
        v.decision = disabled;
    } else if (conv.blocked) {
        v.decision = blocked;
    } else if (conv.found) {
        judge_rate(&agent, &conv, at, &v);
    } else {
        Datum day = local_day(&agent, at);
        Datum args[2] = {agent_id, day};
        run(&day_peek_plan, args, nullptr, true, 0);
        bool isnull = true;
        int opened = SPI_processed > 0 ? DatumGetInt32(getdatum(1, &isnull)) : 0;
        v.has_remaining = true;
        if (opened >= agent.max_daily_conversations) {
            v.decision = daily_limit;
            v.has_retry = true;
            v.retry_after_us = until_next_day(&agent, day, at);
            v.remaining = agent.rate_limit_per_hour;
        } else {
            v.remaining = agent.rate_limit_per_hour - 1;
        }
    }
    Datum values[3];
    bool nulls[3] = {false, !v.has_retry, !v.has_remaining};
    values[0] = CStringGetTextDatum(decision_names[v.decision]);
    values[1] = v.has_retry ? interval_us(v.retry_after_us) : 0;
    values[2] = Int32GetDatum(v.remaining);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    SPI_finish();
    return (Datum)0;
}

// record_outbound(agent_id, conversation_id, body, metadata, at) -> message_id
SB_FUNCTION(record_outbound)
{
    require_arguments(fcinfo, "record_outbound", 5, 2);
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum conversation_id = PG_GETARG_DATUM(1);
    Datum body = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
    Datum metadata = PG_GETARG_DATUM(3);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(4);

    spi_connect();
    Datum args[2] = {agent_id, conversation_id};
    run(&conv_by_id_plan, args, nullptr, false, 0);
    if (SPI_processed == 0) {
        Agent agent;
        load_agent(agent_id, &agent);  // P0002 for an unknown agent first
        conversation_not_found(agent_id, conversation_id);
    }
    bool isnull;
    Datum session_id = getdatum(1, &isnull);
    Datum last = getdatum(2, &isnull);
    bool has_last = !isnull;
    Datum phone_number = getdatum(4, &isnull);
    int timeout = DatumGetInt32(getdatum(5, &isnull));
    if (limits::session_expired(has_last, has_last ? DatumGetTimestampTz(last) : 0, at, timeout))
        session_id = new_uuid();
    int64 message_id = bump_and_insert(agent_id, conversation_id, session_id, false, at, nullptr, 0,
                                       phone_number, body, metadata);
    SPI_finish();
    PG_RETURN_INT64(message_id);
}

// upsert_conversation(agent_id, phone, at) -> (conversation_id, session_id,
// is_new_conversation, is_new_session); opens without the daily limit but
// counts the opening against it
SB_FUNCTION(upsert_conversation)
{
    require_arguments(fcinfo, "upsert_conversation", 3, -1);
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum raw = PG_GETARG_DATUM(1);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);

    ReturnSetInfo *rsinfo = materialized_result(fcinfo);
    spi_connect();

    Agent agent;
    Datum e164;
    Conversation conv;
    bool is_new_conversation = false, is_new_session = false;
    read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);
    if (!conv.found) {
        Datum day = local_day(&agent, at);
        lock_day(agent_id, day);
        read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);
        if (!conv.found) {
            Datum args[5] = {agent_id, e164, 0, 0, new_uuid()};
            char nulls[5] = {' ', ' ', 'n', ' ', ' '};
            args[3] = log_datum(nullptr, 0);
            run(&conv_insert_plan, args, nulls, false, 0);
            if (SPI_processed > 0) {
                bool isnull;
                conv.found = true;
                conv.conversation_id = getdatum(1, &isnull);
                conv.session_id = getdatum(2, &isnull);
                is_new_conversation = is_new_session = true;
                Datum bump[2] = {agent_id, day};
                run(&day_bump_plan, bump, nullptr, false, 0);
            } else {
                read_event(&event_lock_plan, agent_id, raw, &agent, &e164, &conv, false);
                if (!conv.found)
                    elog(ERROR, "switchboard: conversation vanished while opening it");
            }
        }
    }
    if (!is_new_conversation && conv.has_last &&
        limits::session_expired(conv.has_last, conv.last_message_at, at, agent.session_timeout_minutes)) {
        conv.session_id = new_uuid();
        is_new_session = true;
        Datum args[3] = {agent_id, conv.conversation_id, conv.session_id};
        run(&conv_session_plan, args, nullptr, false, 0);
    }
    Datum values[4] = {conv.conversation_id, conv.session_id, BoolGetDatum(is_new_conversation),
                       BoolGetDatum(is_new_session)};
    bool nulls[4] = {false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    SPI_finish();
    return (Datum)0;
}

// ---------------------------------------------------------------------------
// Triggers

namespace {

TriggerData *trigger_data(FunctionCallInfo fcinfo, const char *name)
{
    return switchboard::pg::before_row_trigger(fcinfo, name);
}

HeapTuple new_row(TriggerData *td)
{
    return TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
}

int column(TupleDesc desc, const char *name)
{
    int col = SPI_fnumber(desc, name);
    if (col <= 0)
        elog(ERROR, "switchboard: column \"%s\" not found", name);
    return col;
}

}  // namespace

// agents_validate() trigger: default_region upper-cased and known to
// libphonenumber, timezone a time zone name Postgres knows (IANA)
SB_FUNCTION(agents_validate)
{
    TriggerData *td = trigger_data(fcinfo, "agents_validate");
    HeapTuple row = new_row(td);
    TupleDesc desc = td->tg_relation->rd_att;
    int region_col = column(desc, "default_region");
    int tz_col = column(desc, "timezone");
    bool isnull;
    Datum region_datum = heap_getattr(row, region_col, desc, &isnull);
    if (isnull)
        return PointerGetDatum(row);  // NOT NULL reports it
    text *region_text = DatumGetTextPP(region_datum);
    const char *data = VARDATA_ANY(region_text);
    int length = VARSIZE_ANY_EXHDR(region_text);
    phone::Region region = phone::parse_region(data, length, false);
    if (!region.valid || length == 0 || strcmp(region.code, "ZZ") == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("unknown region \"%.*s\"", length > 100 ? 100 : length, data),
                        errdetail("An agent's default_region is the ISO 3166-1 alpha-2 code its numbers are read with."),
                        errhint("A region is an ISO 3166-1 alpha-2 code such as US or GB.")));
    Datum tz_datum = heap_getattr(row, tz_col, desc, &isnull);
    if (!isnull) {
        char *tz = TextDatumGetCString(tz_datum);
        // pg_tzset also takes POSIX rule strings ("EST5EDT,M3.2.0,M11.1.0"): require a name.
        bool name_like = tz[0] != '\0' && strlen(tz) <= TZ_STRLEN_MAX && strpbrk(tz, ",<>") == nullptr &&
                         ((tz[0] >= 'A' && tz[0] <= 'Z') || (tz[0] >= 'a' && tz[0] <= 'z'));
        if (!name_like || pg_tzset(tz) == nullptr)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("unknown time zone \"%s\"", tz),
                            errdetail("An agent's timezone decides its day for the daily limit."),
                            errhint("A time zone is an IANA name such as America/New_York or UTC.")));
    }
    if (strncmp(region.code, data, 2) != 0 || length != 2) {
        Datum value = CStringGetTextDatum(region.code);
        bool null = false;
        row = heap_modify_tuple_by_cols(row, desc, 1, &region_col, &value, &null);
    }
    return PointerGetDatum(row);
}

// blocked_numbers_normalize() trigger: phone in E.164, read with the agent's default_region
SB_FUNCTION(blocked_numbers_normalize)
{
    TriggerData *td = trigger_data(fcinfo, "blocked_numbers_normalize");
    HeapTuple row = new_row(td);
    TupleDesc desc = td->tg_relation->rd_att;
    int agent_col = column(desc, "agent_id");
    int phone_col = column(desc, "phone");
    bool agent_null, phone_null;
    Datum agent_id = heap_getattr(row, agent_col, desc, &agent_null);
    Datum raw = heap_getattr(row, phone_col, desc, &phone_null);
    if (agent_null || phone_null)
        return PointerGetDatum(row);  // NOT NULL reports it
    spi_connect();
    Datum args[1] = {agent_id};
    run(&region_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        agent_not_found(agent_id);
    bool isnull;
    text *region_text = DatumGetTextPP(getdatum(1, &isnull));
    phone::Region region = phone::parse_region(VARDATA_ANY(region_text), VARSIZE_ANY_EXHDR(region_text), false);
    SPI_finish();
    Datum e164 = normalized(DatumGetTextPP(raw), region);
    bool null = false;
    row = heap_modify_tuple_by_cols(row, desc, 1, &phone_col, &e164, &null);
    return PointerGetDatum(row);
}

// messages_bump_conversation() trigger: a message inserted directly (not by
// record_inbound/record_outbound, which bump it themselves) bumps its
// conversation the same way: session rollover, counters, times, and for an
// accepted inbound message the hourly log.  Fills session_id when missing.
SB_FUNCTION(messages_bump_conversation)
{
    TriggerData *td = trigger_data(fcinfo, "messages_bump_conversation");
    HeapTuple row = new_row(td);
    if (record_in_progress)
        return PointerGetDatum(row);
    TupleDesc desc = td->tg_relation->rd_att;
    int agent_col = column(desc, "agent_id");
    int conv_col = column(desc, "conversation_id");
    int session_col = column(desc, "session_id");
    int direction_col = column(desc, "direction");
    int decision_col = column(desc, "decision");
    int created_col = column(desc, "created_at");
    bool isnull;
    Datum conversation_id = heap_getattr(row, conv_col, desc, &isnull);
    if (isnull)
        return PointerGetDatum(row);
    Datum agent_id = heap_getattr(row, agent_col, desc, &isnull);
    if (isnull)
        return PointerGetDatum(row);
    bool session_null;
    Datum session_id = heap_getattr(row, session_col, desc, &session_null);
    char *direction = TextDatumGetCString(heap_getattr(row, direction_col, desc, &isnull));
    char *decision = TextDatumGetCString(heap_getattr(row, decision_col, desc, &isnull));
    Datum created = heap_getattr(row, created_col, desc, &isnull);
    TimestampTz at = isnull ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(created);
    bool inbound = strcmp(direction, "inbound") == 0;

    spi_connect();
    Datum args[2] = {agent_id, conversation_id};
    run(&conv_by_id_plan, args, nullptr, false, 0);
    if (SPI_processed == 0)
        conversation_not_found(agent_id, conversation_id);
    Datum current = SPI_datumTransfer(getdatum(1, &isnull), false, sizeof(pg_uuid_t));
    Datum last = getdatum(2, &isnull);
    bool has_last = !isnull;
    TimestampTz last_at = has_last ? DatumGetTimestampTz(last) : 0;
    bool log_null;
    Datum log_array = getdatum(3, &log_null);
    int timeout = DatumGetInt32(getdatum(5, &isnull));
    int64 log[limits::max_window];
    int nlog = read_log(log_array, log_null, log);

    if (strcmp(decision, "accepted") == 0) {
        // A session_id given by the caller (from upsert_conversation) is the
        // conversation's session; without one, the timeout decides.
        if (!session_null)
            current = session_id;
        else if (limits::session_expired(has_last, last_at, at, timeout))
            current = SPI_datumTransfer(new_uuid(), false, sizeof(pg_uuid_t));
        if (session_null)
            session_id = current;
        int64 out[limits::max_window];
        int nout = inbound ? limits::admit(log, nlog, at, out) : 0;
        bump_conversation(agent_id, conversation_id, current, inbound, at, inbound ? out : nullptr, nout);
    } else if (session_null) {
        session_id = current;
    }
    SPI_finish();
    if (session_null) {
        bool null = false;
        row = heap_modify_tuple_by_cols(row, desc, 1, &session_col, &session_id, &null);
    }
    return PointerGetDatum(row);
}
