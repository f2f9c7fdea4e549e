// The analytics write path for messages up to 0.8.0: stats_on_message(), an
// AFTER INSERT FOR EACH ROW trigger on switchboard.messages (the design:
// staged deltas, seen-sets, first messages, reply pairs).  0.9.0 installs no
// such trigger and record_* stage nothing for a message (the messages are
// folded from the raw rows: extension/sql/040_stats.sql); the library keeps
// this code for databases still at 0.1.0 to 0.8.0.
//
// Native so that an event pays for its statements only: the PL/pgSQL version
// spent about as much time interpreting as executing (a pg_stat_statements and
// pg_stat_user_functions profile at 8 clients).  Same results; plans prepared
// once per backend and kept (SPI_keepplan), every name and operator
// schema-qualified (no SET search_path).  An in-order message (the common
// case) is one statement after the advisory lock; the others take the general
// path, the PL/pgSQL trigger's statements.
//
// C-style at the SPI level, as events.cpp: the body owns no C++ object with a
// destructor, so it calls Postgres directly.
#include "switchboard/pg_guard.hpp"
#include "switchboard/pg_plan.hpp"
#include "switchboard/pg_stats_hint.hpp"
#include "switchboard/pg_stats_sql.hpp"
#include "switchboard/pg_trigger.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include <cstring>

namespace switchboard::pg {
MessageStatsHint message_stats_hint = {false, {}, 0};
}

namespace {

using switchboard::pg::Plan;

// Every statement runs with a fresh snapshot (read_only = false), as a
// VOLATILE PL/pgSQL trigger's statements do: it sees the rows its own
// statement inserted before this one.
void run(Plan *p, Datum *values, const char *nulls, long count)
{
    switchboard::pg::run_plan(p, values, nulls, false, count);
}

Datum col(int c, bool *isnull)
{
    return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c, isnull);
}

#define EQ " OPERATOR(pg_catalog.=) "
#define LT " OPERATOR(pg_catalog.<) "
#define LE " OPERATOR(pg_catalog.<=) "
#define GT " OPERATOR(pg_catalog.>) "
#define GE " OPERATOR(pg_catalog.>=) "
#define DIV " OPERATOR(pg_catalog./) "
#define NUMERIC_LAT(p) "pg_catalog.round(" p "::pg_catalog.numeric" DIV "1000000, 6)"

Plan tz_plan = {nullptr, "SELECT a.timezone FROM switchboard.agents a WHERE a.agent_id" EQ "$1", 1, {UUIDOID}};

// Everything a message of a conversation needs, in one statement: the agent's
// timezone, the first messages known of its conversation and session, and
// (for an accepted message) its accepted neighbours by (created_at, message_id).
// $1 agent, $2 conversation, $3 session, $4 created_at, $5 message_id, $6 accepted.
#define NEIGHBOUR(cmp, cmp_eq, order)                                                                \
    " LEFT JOIN LATERAL (SELECT m.direction, m.created_at, m.message_id FROM switchboard.messages m" \
    "   WHERE $6 AND m.agent_id" EQ "$1 AND m.conversation_id" EQ "$2"                              \
    "     AND m.created_at" cmp_eq "$4 AND (m.created_at, m.message_id)" cmp "($4, $5)"             \
    "     AND m.decision" EQ "'accepted'"                                                          \
    "   ORDER BY " order " LIMIT 1)"
#define CONTEXT_SELECT                                                                              \
    "SELECT (SELECT a.timezone FROM switchboard.agents a WHERE a.agent_id" EQ "$1) AS tz,"         \
    " fc.first_at AS c_at, fc.first_message_id AS c_id, fc.first_day AS c_day,"                     \
    " fs.first_at AS s_at, fs.first_message_id AS s_id, fs.first_day AS s_day,"                     \
    " p.direction AS p_dir, p.created_at AS p_at, p.message_id AS p_id,"                            \
    " x.direction AS x_dir, x.created_at AS x_at"                                                   \
    " FROM (SELECT 1) one"                                                                           \
    " LEFT JOIN switchboard.stats_first fc ON fc.agent_id" EQ "$1"                                  \
    "   AND fc.kind" EQ "'conversation' AND fc.id" EQ "$2"                                          \
    " LEFT JOIN switchboard.stats_first fs ON fs.agent_id" EQ "$1"                                  \
    "   AND fs.kind" EQ "'session' AND fs.id" EQ "$3"                                               \
    NEIGHBOUR(LT, LE, "m.created_at DESC, m.message_id DESC") " p ON true"                          \
    NEIGHBOUR(GT, GE, "m.created_at, m.message_id") " x ON true"

// The in-order case in one statement: the context above, and when the
// message is neither the first of its conversation or session nor out of
// order among the accepted ones (no later accepted message, the previous one
// has a smaller id), the staged delta.  Otherwise it writes nothing and
// returns no row, and the trigger takes the general path.  `ok` has the
// message's day and its previous accepted message.
#define IN_ORDER                                                                                     \
    "WITH ctx AS (" CONTEXT_SELECT "),"                                                              \
    " ok AS (SELECT pg_catalog.timezone(coalesce(ctx.tz, 'UTC'), $4)::pg_catalog.date AS day,"       \
    "               ctx.p_dir, ctx.p_at FROM ctx"                                                    \
    "  WHERE ctx.c_at IS NOT NULL AND (ctx.c_at, ctx.c_id)" LT "($4, $5)"                            \
    "    AND ($3 IS NULL OR (ctx.s_at IS NOT NULL AND (ctx.s_at, ctx.s_id)" LT "($4, $5)))"          \
    "    AND (NOT $6 OR (ctx.x_at IS NULL AND (ctx.p_id IS NULL OR ctx.p_id" LT "$5))))"

// Both return the context (the columns of CONTEXT_SELECT) and, 13th, the
// staged row's delta_id, NULL when the general path has to run (it then
// needs no second look at the context).
#define IN_ORDER_RESULT " SELECT ctx.*, (SELECT ins.delta_id FROM ins) FROM ctx"

// ... for an inbound message: $7 phone, $8..$12 accepted/blocked/rate_limited/daily_limit/disabled,
// $13 quota_exceeded, $14 after hours
Plan inbound_in_order_plan = {nullptr,
                              IN_ORDER ","
                              " seen AS (INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)"
                              "  SELECT $1, 'phone', ok.day, $7 FROM ok ON CONFLICT DO NOTHING RETURNING 1),"
                              " ins AS (INSERT INTO switchboard.stats_delta (agent_id, day, inbound, accepted, blocked,"
                              " rate_limited, daily_limit, disabled, unique_phones, quota_exceeded, after_hours)"
                              " SELECT $1, ok.day, 1, $8, $9, $10, $11, $12, (SELECT pg_catalog.count(*) FROM seen),"
                              " $13, $14 FROM ok RETURNING delta_id)" IN_ORDER_RESULT,
                              14, {UUIDOID, UUIDOID, UUIDOID, TIMESTAMPTZOID, INT8OID, BOOLOID, TEXTOID, INT8OID,
                                   INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}};

// ... for an outbound message: $7 metadata; a reply when the previous accepted
// message is inbound (and this one accepted)
#define IS_REPLY "$6 AND ok.p_dir" EQ "'inbound'"
Plan outbound_in_order_plan = {nullptr,
                               IN_ORDER ","
                               " ins AS (INSERT INTO switchboard.stats_delta (agent_id, day, category, outbound, replies,"
                               " reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total,"
                               " ai_processing_count, ai_judged, ai_succeeded)"
                               " SELECT $1, ok.day, " SB_MD_CATEGORY ", 1,"
                               " CASE WHEN " IS_REPLY " THEN 1 ELSE 0 END,"
                               " CASE WHEN " IS_REPLY " THEN EXTRACT(epoch FROM $4) OPERATOR(pg_catalog.-)"
                               "   EXTRACT(epoch FROM ok.p_at) ELSE 0 END,"
                               SB_AI_FACTS
                               " FROM ok, (SELECT $7 AS md) s RETURNING delta_id)" IN_ORDER_RESULT,
                               7, {UUIDOID, UUIDOID, UUIDOID, TIMESTAMPTZOID, INT8OID, BOOLOID, JSONBOID}};

// Not the in-order case: the neighbours again, leaving out the rows of this
// same statement inserted after this one (their own trigger runs next).
#define NEIGHBOUR_SLOW(cmp, cmp_eq, order)                                                           \
    " LEFT JOIN LATERAL (SELECT m.direction, m.created_at, m.message_id FROM switchboard.messages m" \
    "   WHERE m.agent_id" EQ "$1 AND m.conversation_id" EQ "$2"                                     \
    "     AND m.created_at" cmp_eq "$3 AND (m.created_at, m.message_id)" cmp "($3, $4)"             \
    "     AND m.decision" EQ "'accepted'"                                                          \
    "     AND NOT (m.xmin" EQ "me.x AND m.cmin" EQ "me.c AND m.message_id" GT "$4)"                 \
    "   ORDER BY " order " LIMIT 1)"
Plan slow_plan = {nullptr,
                  "SELECT p.direction, p.created_at, p.message_id, x.direction, x.created_at"
                  " FROM (SELECT m.xmin AS x, m.cmin AS c FROM switchboard.messages m"
                  "        WHERE m.agent_id" EQ "$1 AND m.message_id" EQ "$4) me"
                  NEIGHBOUR_SLOW(LT, LE, "m.created_at DESC, m.message_id DESC") " p ON true"
                  NEIGHBOUR_SLOW(GT, GE, "m.created_at, m.message_id") " x ON true",
                  4, {UUIDOID, UUIDOID, TIMESTAMPTZOID, INT8OID}};

Plan first_insert_plan = {nullptr,
                          "INSERT INTO switchboard.stats_first (agent_id, kind, id, first_at, first_message_id, first_day)"
                          " VALUES ($1, $2, $3, $4, $5, $6)",
                          6, {UUIDOID, TEXTOID, UUIDOID, TIMESTAMPTZOID, INT8OID, DATEOID}};

Plan first_update_plan = {nullptr,
                          "UPDATE switchboard.stats_first f SET first_at = $4, first_message_id = $5, first_day = $6"
                          " WHERE f.agent_id" EQ "$1 AND f.kind" EQ "$2 AND f.id" EQ "$3",
                          6, {UUIDOID, TEXTOID, UUIDOID, TIMESTAMPTZOID, INT8OID, DATEOID}};

// A staged correction on another day: new conversations/sessions, replies.
Plan other_day_plan = {nullptr,
                       "INSERT INTO switchboard.stats_delta (agent_id, day, new_conversations, new_sessions,"
                       " replies, reply_latency_total)"
                       " VALUES ($1, $2, $3, $4, $5, " NUMERIC_LAT("$6") ")",
                       6, {UUIDOID, DATEOID, INT8OID, INT8OID, INT8OID, INT8OID}};

// An inbound message: the sender's seen-set row and the staged delta, one statement.
// $1 agent, $2 day, $3 phone, $4..$8 accepted/blocked/rate_limited/daily_limit/disabled,
// $9/$10 new conversation/session, $11 replies, $12 reply latency in microseconds,
// $13 quota_exceeded, $14 after hours.
Plan inbound_plan = {nullptr,
                     "WITH seen AS (INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)"
                     " VALUES ($1, 'phone', $2, $3) ON CONFLICT DO NOTHING RETURNING 1)"
                     " INSERT INTO switchboard.stats_delta (agent_id, day, inbound, accepted, blocked, rate_limited,"
                     " daily_limit, disabled, new_conversations, new_sessions, unique_phones, replies,"
                     " reply_latency_total, quota_exceeded, after_hours)"
                     " SELECT $1, $2, 1, $4, $5, $6, $7, $8, $9, $10, (SELECT pg_catalog.count(*) FROM seen), $11, "
                     NUMERIC_LAT("$12") ", $13, $14 RETURNING delta_id",
                     14, {UUIDOID, DATEOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
                          INT8OID, INT8OID, INT8OID, INT8OID}};

// An outbound message, with its AI task facts read from the metadata ($3).
Plan outbound_plan = {nullptr,
                      "INSERT INTO switchboard.stats_delta (agent_id, day, category, outbound, new_conversations,"
                      " new_sessions, replies, reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total,"
                      " ai_processing_count, ai_judged, ai_succeeded)"
                      " SELECT $1, $2, " SB_MD_CATEGORY ","
                      " 1, $4, $5, $6, " NUMERIC_LAT("$7") "," SB_AI_FACTS
                      " FROM (SELECT $3 AS md) s RETURNING delta_id",
                      7, {UUIDOID, DATEOID, JSONBOID, INT8OID, INT8OID, INT8OID, INT8OID}};

// The write path's fold of one agent, under rollup()'s fold lock (skipped when
// another transaction holds it): the staged rows after delta_id $2.
Plan fold_plan = {nullptr,
                  "SELECT switchboard.stats_fold($1, $2)"
                  " WHERE pg_catalog.pg_try_advisory_xact_lock(1398145877,"
                  " pg_catalog.hashtext(CAST($1 AS pg_catalog.text)))",
                  2, {UUIDOID, INT8OID}};

// Before 0.4.0 (a database not yet updated) stats_fold takes no bound: fold
// all through rollup().
Plan rollup_plan = {nullptr, "SELECT switchboard.rollup($1)", 1, {UUIDOID}};

bool fold_takes_bound()
{
    Oid args[2] = {UUIDOID, INT8OID};
    List *name = list_make2(makeString(pstrdup("switchboard")), makeString(pstrdup("stats_fold")));
    return OidIsValid(LookupFuncName(name, 2, args, true));
}

// Where this backend's last write-path fold began: the agent and the staged
// row that triggered it.  The next fold of the same agent starts after that
// row, so it does not walk again the index entries of the rows earlier folds
// deleted (dead until a vacuum: on one busy agent, a hundred thousand within
// seconds).  A row staged below that mark but committed after the fold (a
// transaction still open then) is left for a full fold: every 64th fold of an
// agent is one, and readers (rollup) always fold everything.
struct LastFold {
    bool set;
    pg_uuid_t agent;
    int64 mark;
    int bounded;  // folds since the last full one
};
LastFold last_fold = {false, {}, 0, 0};

// Keys of the per-conversation advisory lock (as the PL/pgSQL trigger took it).
constexpr int32 conversation_lock_key = 1398145876;

Datum day_of(const char *tz, TimestampTz at)
{
    Datum local = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz), TimestampTzGetDatum(at));
    return DirectFunctionCall1(timestamp_date, local);
}

bool text_is(Datum d, const char *s)
{
    text *t = DatumGetTextPP(d);
    size_t n = VARSIZE_ANY_EXHDR(t);
    return n == strlen(s) && memcmp(VARDATA_ANY(t), s, n) == 0;
}

// (a_at, a_id) < (b_at, b_id)
bool before(TimestampTz a_at, int64 a_id, TimestampTz b_at, int64 b_id)
{
    return a_at < b_at || (a_at == b_at && a_id < b_id);
}

struct First {
    bool found;
    TimestampTz at;
    int64 id;
    DateADT day;
};

// A message that may be the first of its conversation or session: records it
// when it is; returns 1 when it now counts as new on its day (moving the count
// off the day it held before, if another).
int64 note_first(Datum agent, const char *kind, Datum id, const First &f, TimestampTz at, int64 mid, Datum day)
{
    if (f.found && !before(at, mid, f.at, f.id))
        return 0;
    Datum args[6] = {agent, CStringGetTextDatum(kind), id, TimestampTzGetDatum(at), Int64GetDatum(mid), day};
    if (!f.found) {
        run(&first_insert_plan, args, nullptr, 0);
        return 1;
    }
    run(&first_update_plan, args, nullptr, 0);
    if (f.day == DatumGetDateADT(day))
        return 0;
    bool conversation = strcmp(kind, "conversation") == 0;
    Datum delta[6] = {agent, DateADTGetDatum(f.day), Int64GetDatum(conversation ? -1 : 0),
                      Int64GetDatum(conversation ? 0 : -1), Int64GetDatum(0), Int64GetDatum(0)};
    run(&other_day_plan, delta, nullptr, 0);
    return 1;
}

// Stages one message's analytics.
void stage(const switchboard::pg::MessageFacts &m)
{
    Datum agent = m.agent_id;
    int64 mid = m.message_id;
    bool no_conversation = m.conversation_id == 0;
    Datum conversation = m.conversation_id;
    bool no_session = m.session_id == 0;
    Datum session = m.session_id;
    bool inbound = m.inbound;
    Datum phone = m.phone;
    Datum metadata = m.metadata;
    Datum decision = m.decision;
    TimestampTz at = m.at;
    bool accepted = text_is(decision, "accepted");
    int64 ah = m.after_hours ? 1 : 0;
    int64 qe = text_is(decision, "quota_exceeded") ? 1 : 0;
    bool isnull;

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "switchboard: SPI_connect failed");

    char tz[256] = "UTC";
    First fc = {false, 0, 0, 0}, fs = {false, 0, 0, 0};
    bool has_p = false, has_x = false, p_inbound = false, x_outbound = false;
    TimestampTz p_at = 0, x_at = 0;
    int64 p_id = 0;

    if (no_conversation) {
        Datum args[1] = {agent};
        run(&tz_plan, args, nullptr, 1);
        if (SPI_processed > 0) {
            Datum t = col(1, &isnull);
            if (!isnull)
                text_to_cstring_buffer(DatumGetTextPP(t), tz, sizeof tz);
        }
    } else {
        switchboard::pg::lock_conversation_stats(conversation);

        Datum args[14] = {agent, conversation, session, TimestampTzGetDatum(at), Int64GetDatum(mid),
                          BoolGetDatum(accepted)};
        char nulls[14] = {' ', ' ', no_session ? 'n' : ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
        // the common case first: one statement, nothing else to do
        if (inbound) {
            args[6] = phone;
            args[7] = Int64GetDatum(accepted ? 1 : 0);
            args[8] = Int64GetDatum(text_is(decision, "blocked") ? 1 : 0);
            args[9] = Int64GetDatum(text_is(decision, "rate_limited") ? 1 : 0);
            args[10] = Int64GetDatum(text_is(decision, "daily_limit") ? 1 : 0);
            args[11] = Int64GetDatum(text_is(decision, "disabled") ? 1 : 0);
            args[12] = Int64GetDatum(qe);
            args[13] = Int64GetDatum(ah);
            run(&inbound_in_order_plan, args, nulls, 0);
        } else {
            args[6] = metadata;
            run(&outbound_in_order_plan, args, nulls, 0);
        }
        Datum delta_id = col(13, &isnull);
        if (!isnull) {
            switchboard::pg::fold_after_stage(agent, DatumGetInt64(delta_id));
            SPI_finish();
            return;
        }
        Datum t = col(1, &isnull);
        if (!isnull)
            text_to_cstring_buffer(DatumGetTextPP(t), tz, sizeof tz);
        Datum v = col(2, &isnull);
        if (!isnull) {
            fc.found = true;
            fc.at = DatumGetTimestampTz(v);
            fc.id = DatumGetInt64(col(3, &isnull));
            fc.day = DatumGetDateADT(col(4, &isnull));
        }
        v = col(5, &isnull);
        if (!isnull) {
            fs.found = true;
            fs.at = DatumGetTimestampTz(v);
            fs.id = DatumGetInt64(col(6, &isnull));
            fs.day = DatumGetDateADT(col(7, &isnull));
        }
        v = col(8, &isnull);
        if (!isnull) {
            has_p = true;
            p_inbound = text_is(v, "inbound");
            p_at = DatumGetTimestampTz(col(9, &isnull));
            p_id = DatumGetInt64(col(10, &isnull));
        }
        v = col(11, &isnull);
        if (!isnull) {
            has_x = true;
            x_outbound = !text_is(v, "inbound");
            x_at = DatumGetTimestampTz(col(12, &isnull));
        }
    }
    Datum day = day_of(tz, at);

    int64 nc = 0, ns = 0, rep = 0, lat_us = 0;
    if (!no_conversation) {
        nc = note_first(agent, "conversation", conversation, fc, at, mid, day);
        if (!no_session)
            ns = note_first(agent, "session", session, fs, at, mid, day);
        if (accepted) {
            // a reply is an outbound whose previous accepted message in the
            // conversation is inbound; a message recorded late between two
            // others splits their pair.
            if (has_x || (has_p && p_id > mid)) {
                Datum args[4] = {agent, conversation, TimestampTzGetDatum(at), Int64GetDatum(mid)};
                run(&slow_plan, args, nullptr, 1);
                has_p = has_x = false;
                if (SPI_processed > 0) {
                    Datum v = col(1, &isnull);
                    if (!isnull) {
                        has_p = true;
                        p_inbound = text_is(v, "inbound");
                        p_at = DatumGetTimestampTz(col(2, &isnull));
                        p_id = DatumGetInt64(col(3, &isnull));
                    }
                    v = col(4, &isnull);
                    if (!isnull) {
                        has_x = true;
                        x_outbound = !text_is(v, "inbound");
                        x_at = DatumGetTimestampTz(col(5, &isnull));
                    }
                }
            }
            if (has_x && x_outbound) {
                int64 x_rep = 0, x_lat = 0;
                if (has_p && p_inbound) {  // the pair (p, x) is split
                    x_rep = -1;
                    x_lat = p_at - x_at;
                }
                if (inbound) {  // and (this, x) is a pair
                    x_rep += 1;
                    x_lat += x_at - at;
                }
                Datum x_day = day_of(tz, x_at);
                if (DatumGetDateADT(x_day) == DatumGetDateADT(day)) {
                    rep = x_rep;
                    lat_us = x_lat;
                } else if (x_rep != 0 || x_lat != 0) {
                    Datum delta[6] = {agent, x_day, Int64GetDatum(0), Int64GetDatum(0), Int64GetDatum(x_rep),
                                      Int64GetDatum(x_lat)};
                    run(&other_day_plan, delta, nullptr, 0);
                }
            }
            if (has_p && p_inbound && !inbound) {
                rep += 1;
                lat_us += at - p_at;
            }
        }
    }

    if (inbound) {
        Datum args[14] = {agent,
                          day,
                          phone,
                          Int64GetDatum(accepted ? 1 : 0),
                          Int64GetDatum(text_is(decision, "blocked") ? 1 : 0),
                          Int64GetDatum(text_is(decision, "rate_limited") ? 1 : 0),
                          Int64GetDatum(text_is(decision, "daily_limit") ? 1 : 0),
                          Int64GetDatum(text_is(decision, "disabled") ? 1 : 0),
                          Int64GetDatum(nc),
                          Int64GetDatum(ns),
                          Int64GetDatum(rep),
                          Int64GetDatum(lat_us),
                          Int64GetDatum(qe),
                          Int64GetDatum(ah)};
        run(&inbound_plan, args, nullptr, 0);
    } else {
        Datum args[7] = {agent, day, metadata, Int64GetDatum(nc), Int64GetDatum(ns), Int64GetDatum(rep),
                         Int64GetDatum(lat_us)};
        run(&outbound_plan, args, nullptr, 0);
    }
    switchboard::pg::fold_after_stage(agent, DatumGetInt64(col(1, &isnull)));
    SPI_finish();
}

}  // namespace

namespace switchboard::pg {

bool stats_rollup_on()
{
    const char *setting = GetConfigOption("switchboard.stats_rollup", true, false);
    return setting == nullptr || strcmp(setting, "off") != 0;
}

// one event of a conversation at a time (record_* also hold its row)
void lock_conversation_stats(Datum conversation_id)
{
    char *conv_text = DatumGetCString(DirectFunctionCall1(uuid_out, conversation_id));
    Datum hash = DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID, CStringGetTextDatum(conv_text));
    DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(conversation_lock_key), hash);
}

void stage_message_stats(const MessageFacts &m)
{
    stage(m);
}

// Writers fold their agent now and then, so the stage stays small without a
// scheduler.
void fold_after_stage(Datum agent_id, int64 delta_id)
{
    if (delta_id % 1024 != 0)
        return;
    if (!fold_takes_bound()) {
        Datum args[1] = {agent_id};
        run(&rollup_plan, args, nullptr, 0);
        return;
    }
    const pg_uuid_t *agent = DatumGetUUIDP(agent_id);
    bool bounded = last_fold.set && memcmp(&last_fold.agent, agent, sizeof(pg_uuid_t)) == 0 &&
                   last_fold.mark < delta_id && last_fold.bounded < 63;
    Datum args[2] = {agent_id, Int64GetDatum(bounded ? last_fold.mark : 0)};
    run(&fold_plan, args, nullptr, 0);
    last_fold.set = true;
    memcpy(&last_fold.agent, agent, sizeof(pg_uuid_t));
    last_fold.mark = delta_id;
    last_fold.bounded = bounded ? last_fold.bounded + 1 : 0;
}

}  // namespace switchboard::pg

// stats_on_message() trigger: AFTER INSERT FOR EACH ROW on messages; stages
// the daily-stats increments of the new message (nothing when
// switchboard.stats_rollup = off, or when record_* stage them themselves)
SB_FUNCTION(stats_on_message)
{
    TriggerData *td = switchboard::pg::after_insert_row_trigger(fcinfo, "stats_on_message");
    if (!switchboard::pg::stats_rollup_on())
        return PointerGetDatum(nullptr);

    HeapTuple row = td->tg_trigtuple;
    TupleDesc desc = td->tg_relation->rd_att;
    bool isnull;
    switchboard::pg::MessageFacts m;
    m.agent_id = heap_getattr(row, SPI_fnumber(desc, "agent_id"), desc, &isnull);
    m.message_id = DatumGetInt64(heap_getattr(row, SPI_fnumber(desc, "message_id"), desc, &isnull));
    m.conversation_id = heap_getattr(row, SPI_fnumber(desc, "conversation_id"), desc, &isnull);
    if (isnull)
        m.conversation_id = 0;
    m.session_id = heap_getattr(row, SPI_fnumber(desc, "session_id"), desc, &isnull);
    if (isnull)
        m.session_id = 0;
    m.inbound = text_is(heap_getattr(row, SPI_fnumber(desc, "direction"), desc, &isnull), "inbound");
    m.phone = heap_getattr(row, SPI_fnumber(desc, "phone"), desc, &isnull);
    m.metadata = heap_getattr(row, SPI_fnumber(desc, "metadata"), desc, &isnull);
    m.decision = heap_getattr(row, SPI_fnumber(desc, "decision"), desc, &isnull);
    m.at = DatumGetTimestampTz(heap_getattr(row, SPI_fnumber(desc, "created_at"), desc, &isnull));
    Datum after_hours = heap_getattr(row, SPI_fnumber(desc, "after_hours"), desc, &isnull);
    m.after_hours = !isnull && DatumGetBool(after_hours);

    // record_*'s hint, for this row only (see pg_stats_hint.hpp)
    switchboard::pg::MessageStatsHint hint = switchboard::pg::message_stats_hint;
    switchboard::pg::message_stats_hint.set = false;
    bool described = hint.set && m.conversation_id != 0 && hint.at == m.at &&
                     memcmp(DatumGetUUIDP(m.conversation_id), &hint.conversation_id, sizeof(pg_uuid_t)) == 0;
    if (!described)
        stage(m);
    return PointerGetDatum(nullptr);
}
