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
#include "switchboard/pg_plan.hpp"
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
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include "switchboard/limits.hpp"
#include "switchboard/pg_security.hpp"
#include "switchboard/pg_stats_hint.hpp"
#include "switchboard/pg_stats_sql.hpp"
#include "switchboard/phone.hpp"

namespace limits = switchboard::limits;
namespace phone = switchboard::phone;

namespace {

// ---------------------------------------------------------------------------
// Plans, prepared on first use and kept for the backend's life
// (switchboard/pg_plan.hpp).

using switchboard::pg::Plan;

int run(Plan *p, Datum *values, const char *nulls, bool read_only, long count)
{
    return switchboard::pg::run_plan(p, values, nulls, read_only, count);
}

#define Q_EQ " OPERATOR(pg_catalog.=) "

Plan agent_plan = {nullptr,
                   "SELECT sms_enabled, auto_respond, welcome_message, session_timeout_minutes,"
                   " max_daily_conversations, rate_limit_per_hour, default_region, timezone"
                   " FROM switchboard.agents WHERE agent_id" Q_EQ "$1",
                   1, {UUIDOID}};

// Whether the agent `A` is open at the instant `AT` (timestamptz), in its time
// zone `TZ`: no closed date that day and an interval of that weekday around the
// local time (no business_hours at all: open), or an overnight interval of the
// day before still running, unless that day was closed.  One scalar expression,
// shared by the event statement and is_open().
#define OPEN_SQL(A, AT, TZ)                                                                         \
    "(SELECT (NOT EXISTS (SELECT FROM switchboard.closed_dates d"                                  \
    "          WHERE d.agent_id" Q_EQ A " AND d.day" Q_EQ "l.d)"                                    \
    "     AND (NOT EXISTS (SELECT FROM switchboard.business_hours h WHERE h.agent_id" Q_EQ A ")"   \
    "          OR EXISTS (SELECT FROM switchboard.business_hours h"                                 \
    "              WHERE h.agent_id" Q_EQ A " AND h.day_of_week" Q_EQ "l.dow AND NOT h.is_closed"  \
    "                AND h.open_time OPERATOR(pg_catalog.<=) l.t"                                   \
    "                AND (l.t OPERATOR(pg_catalog.<) h.close_time"                                  \
    "                     OR h.close_time OPERATOR(pg_catalog.<) h.open_time))))"                    \
    "  OR (EXISTS (SELECT FROM switchboard.business_hours h"                                        \
    "          WHERE h.agent_id" Q_EQ A                                                              \
    "            AND h.day_of_week" Q_EQ "((l.dow OPERATOR(pg_catalog.+) 6) OPERATOR(pg_catalog.%) 7)" \
    "            AND NOT h.is_closed AND h.close_time OPERATOR(pg_catalog.<) h.open_time"           \
    "            AND l.t OPERATOR(pg_catalog.<) h.close_time)"                                      \
    "      AND NOT EXISTS (SELECT FROM switchboard.closed_dates d"                                  \
    "          WHERE d.agent_id" Q_EQ A " AND d.day" Q_EQ "(l.d OPERATOR(pg_catalog.-) 1)))"          \
    " FROM (SELECT x.l::pg_catalog.date AS d, x.l::pg_catalog.time AS t,"                           \
    "        pg_catalog.date_part('dow', x.l)::pg_catalog.int4 AS dow"                              \
    "       FROM (SELECT pg_catalog.timezone(" TZ ", " AT ") AS l) x) l)"

// Everything an inbound event needs, in one round trip: the agent's settings
// (read on every event, so a change takes effect on the next one), the number
// normalized with the agent's default_region (NULL when it is not a number:
// read_event then raises normalize_phone's error from C, without a CONTEXT line), whether it is blocked, and the conversation, locked.  The
// lock is taken even when the agent is disabled or the number blocked: rare
// events, and one statement instead of two for the common one.
// Since 0.2.0 also the contact's monthly counter and its tier's limit (not
// locked: as of the statement's snapshot, see contact_lock_plan), whether the
// agent is open at $3, and the agent's id (the routed form finds the agent by
// the dialed number, $1).
// The columns every event plan returns, 1-14 (every schema), 15-16 and 19-22
// (from 0.2.0 on); 17-18 (the tier's limit, open) and, since 0.5.0, 23-25
// differ by schema.
#define EVENT_COLUMNS_AGENT                                                                         \
    "SELECT a.sms_enabled, a.auto_respond, a.welcome_message, a.session_timeout_minutes,"         \
    " a.max_daily_conversations, a.rate_limit_per_hour, a.timezone, n.e164,"                      \
    " EXISTS (SELECT FROM switchboard.blocked_numbers b"                                          \
    "   WHERE b.agent_id" Q_EQ "a.agent_id AND b.phone" Q_EQ "n.e164) AS blocked,"                 \
    " c.conversation_id, c.session_id, c.last_message_at, c.rate_window, a.default_region,"
#define EVENT_COLUMNS_HEAD EVENT_COLUMNS_AGENT " k.monthly_requests, k.requests_month,"
#define EVENT_COLUMNS_TAIL " a.after_hours_message, a.agent_id, k.phone IS NOT NULL, c.last_inbound_at"
// 0.5.0: whether the agent has a schedule and tiers (agents.has_schedule,
// has_tiers) and the contact's tier, instead of the tier's limit and the
// hours: read_event looks those up (tier_plan, open_plan) only for an agent
// that has them.  Why: Postgres keeps a backend's first 16 relation locks of a
// transaction on its fast path, and every further one goes through the shared
// lock table under its partition lock; with the schedule and the tiers in the
// plan an event locked about 20 relations, and the analytics' writes spilled
// over (+13% events/s without them, README "The fast-path locks").
#define EVENT_COLUMNS                                                                               \
    EVENT_COLUMNS_HEAD " NULL::pg_catalog.int4, true," EVENT_COLUMNS_TAIL ", a.has_schedule, a.has_tiers, k.tier"
// 0.2.0 to 0.4.0: the tier's limit and the hours in the statement.
#define EVENT_COLUMNS_020                                                                           \
    EVENT_COLUMNS_HEAD " t.monthly_limit, " OPEN_SQL("a.agent_id", "$3", "a.timezone") "," EVENT_COLUMNS_TAIL
#define EVENT_FROM_AGENT " FROM switchboard.agents a"
#define EVENT_FROM_NUMBER                                                                           \
    " FROM switchboard.phone_numbers p JOIN switchboard.agents a ON a.agent_id" Q_EQ "p.agent_id"
// The number normalized, and the conversation (every schema; MORE: columns of
// later schemas).
#define EVENT_JOINS_CONVERSATION_WITH(MORE, LOCK)                                                   \
    " CROSS JOIN LATERAL (SELECT switchboard.try_normalize_phone($2, a.default_region) AS e164 OFFSET 0) AS n" \
    " LEFT JOIN LATERAL (SELECT conversation_id, session_id, last_message_at, rate_window, last_inbound_at" MORE \
    "   FROM switchboard.conversations"                                                           \
    "   WHERE agent_id" Q_EQ "a.agent_id AND phone" Q_EQ "n.e164" LOCK ") AS c ON true"
#define EVENT_JOINS_CONVERSATION(LOCK) EVENT_JOINS_CONVERSATION_WITH("", LOCK)
#define EVENT_JOINS_CONTACT                                                                         \
    " LEFT JOIN LATERAL (SELECT phone, tier, monthly_requests, requests_month"                    \
    "   FROM switchboard.contacts"                                                                \
    "   WHERE agent_id" Q_EQ "a.agent_id AND phone" Q_EQ "n.e164) AS k ON true"
// 0.6.0: the conversation's analytics mark too (column 26).
#define EVENT_COLUMNS_060 EVENT_COLUMNS ", c.stats_session"
#define EVENT_JOINS_060(LOCK) EVENT_JOINS_CONVERSATION_WITH(", stats_session", LOCK) EVENT_JOINS_CONTACT
#define EVENT_JOINS(LOCK) EVENT_JOINS_CONVERSATION(LOCK) EVENT_JOINS_CONTACT
#define EVENT_JOINS_020(LOCK)                                                                       \
    EVENT_JOINS(LOCK)                                                                               \
    " LEFT JOIN LATERAL (SELECT monthly_limit FROM switchboard.tiers"                             \
    "   WHERE agent_id" Q_EQ "a.agent_id AND tier" Q_EQ "COALESCE(k.tier, 'free')) AS t ON true"
#define WHERE_AGENT " WHERE a.agent_id" Q_EQ "$1"
#define WHERE_NUMBER                                                                                \
    " WHERE p.number" Q_EQ "$1 AND p.is_active AND p.kind" " OPERATOR(pg_catalog.<>) 'voice'"
Plan event_lock_plan_060 = {nullptr, EVENT_COLUMNS_060 EVENT_FROM_AGENT EVENT_JOINS_060(" FOR UPDATE") WHERE_AGENT,
                            3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Plan event_lock_plan = {nullptr, EVENT_COLUMNS EVENT_FROM_AGENT EVENT_JOINS(" FOR UPDATE") WHERE_AGENT,
                        3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Plan event_lock_plan_020 = {nullptr, EVENT_COLUMNS_020 EVENT_FROM_AGENT EVENT_JOINS_020(" FOR UPDATE") WHERE_AGENT,
                            3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};

// The same without the locks, for check_rate_limit.
Plan event_peek_plan = {nullptr, EVENT_COLUMNS EVENT_FROM_AGENT EVENT_JOINS("") WHERE_AGENT,
                        3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Plan event_peek_plan_020 = {nullptr, EVENT_COLUMNS_020 EVENT_FROM_AGENT EVENT_JOINS_020("") WHERE_AGENT,
                            3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};

// A tier's monthly limit (no row: unlimited), for an agent that has tiers.
Plan tier_plan = {nullptr,
                  "SELECT monthly_limit FROM switchboard.tiers"
                  " WHERE agent_id" Q_EQ "$1 AND tier" Q_EQ "$2",
                  2, {UUIDOID, TEXTOID}};

// A schema still at 0.1.0 (the library serves both until ALTER EXTENSION
// UPDATE): the same columns, without contacts, tiers and hours.
#define EVENT_COLUMNS_010                                                                           \
    EVENT_COLUMNS_AGENT                                                                             \
    " NULL::pg_catalog.int4, NULL::pg_catalog.date, NULL::pg_catalog.int4, true,"                 \
    " NULL::pg_catalog.text, a.agent_id, false, c.last_inbound_at"
Plan event_lock_plan_010 = {nullptr, EVENT_COLUMNS_010 EVENT_FROM_AGENT EVENT_JOINS_CONVERSATION(" FOR UPDATE")
                            WHERE_AGENT, 3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Plan event_peek_plan_010 = {nullptr, EVENT_COLUMNS_010 EVENT_FROM_AGENT EVENT_JOINS_CONVERSATION("") WHERE_AGENT,
                            3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}};

// The contact's counter, locked and current, for a quota check: read only when
// its tier has a limit and its conversation exists.  The event statement's
// snapshot predates the wait for the conversation's lock, so the message ahead
// (which held that lock) may have counted or created the contact since; this
// statement, run with the conversation locked, sees it, and the lock keeps
// set_contact_tier's upsert out while we decide.
Plan contact_lock_plan = {nullptr,
                          "SELECT monthly_requests, requests_month FROM switchboard.contacts"
                          " WHERE agent_id" Q_EQ "$1 AND phone" Q_EQ "$2 FOR UPDATE",
                          2, {UUIDOID, TEXTOID}};

// route_inbound: the agent by the dialed number ($1, E.164), an active sms/both number.
Plan route_lock_plan_060 = {nullptr, EVENT_COLUMNS_060 EVENT_FROM_NUMBER EVENT_JOINS_060(" FOR UPDATE") WHERE_NUMBER,
                            3, {TEXTOID, TEXTOID, TIMESTAMPTZOID}};
Plan route_lock_plan = {nullptr, EVENT_COLUMNS EVENT_FROM_NUMBER EVENT_JOINS(" FOR UPDATE") WHERE_NUMBER,
                        3, {TEXTOID, TEXTOID, TIMESTAMPTZOID}};
Plan route_lock_plan_020 = {nullptr, EVENT_COLUMNS_020 EVENT_FROM_NUMBER EVENT_JOINS_020(" FOR UPDATE") WHERE_NUMBER,
                            3, {TEXTOID, TEXTOID, TIMESTAMPTZOID}};

// Why a dialed number does not route (the error path only).
Plan number_plan = {nullptr,
                    "SELECT p.agent_id, p.is_active, p.kind FROM switchboard.phone_numbers p"
                    " WHERE p.number" Q_EQ "$1",
                    1, {TEXTOID}};

// switchboard_route_number: the agent of an active number whose kind is not $2.
Plan route_agent_plan = {nullptr,
                         "SELECT p.agent_id FROM switchboard.phone_numbers p"
                         " WHERE p.number" Q_EQ "$1 AND p.is_active AND p.kind OPERATOR(pg_catalog.<>) $2",
                         2, {TEXTOID, TEXTOID}};

// is_open(agent_id, at)
Plan open_plan = {nullptr,
                  "SELECT " OPEN_SQL("a.agent_id", "$2", "a.timezone")
                  " FROM switchboard.agents a WHERE a.agent_id" Q_EQ "$1",
                  2, {UUIDOID, TIMESTAMPTZOID}};

#define CONV_BY_ID(MORE)                                                                            \
    "SELECT c.session_id, c.last_message_at, c.rate_window, c.phone,"                               \
    " a.session_timeout_minutes, a.timezone" MORE                                                   \
    " FROM switchboard.conversations c JOIN switchboard.agents a"                                   \
    "   ON a.agent_id" Q_EQ "c.agent_id"                                                            \
    " WHERE c.agent_id" Q_EQ "$1 AND c.conversation_id" Q_EQ "$2"                                   \
    " FOR UPDATE OF c"
Plan conv_by_id_plan = {nullptr, CONV_BY_ID(""), 2, {UUIDOID, UUIDOID}};
// 0.6.0: and the conversation's analytics marks (columns 7-9: stats_session,
// message_count, stats_last), for record_outbound.
Plan conv_by_id_plan_060 = {nullptr, CONV_BY_ID(", c.stats_session, c.message_count, c.stats_last"), 2,
                            {UUIDOID, UUIDOID}};

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

// $10: received after hours
#define MESSAGE_INSERT_ROW                                                                          \
    "INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"                      \
    " direction, phone, body, metadata, decision, created_at, after_hours)"                        \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING message_id"
#define MESSAGE_INSERT_TYPES                                                                        \
    UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, BOOLOID
Plan message_insert_plan = {nullptr, MESSAGE_INSERT_ROW, 10, {MESSAGE_INSERT_TYPES}};

// MARK: more assignments (each ending in a comma), e.g. the analytics mark.
#define CONV_BUMP_MARKED(MARK)                                                                      \
    "UPDATE switchboard.conversations SET session_id = $3,"                                         \
    " message_count = message_count OPERATOR(pg_catalog.+) 1,"                                      \
    " inbound_count = inbound_count OPERATOR(pg_catalog.+) $4,"                                     \
    " outbound_count = outbound_count OPERATOR(pg_catalog.+) $5,"                                   \
    " first_message_at = LEAST(first_message_at, $6),"                                              \
    " last_message_at = GREATEST(last_message_at, $6),"                                             \
    " last_inbound_at = CASE WHEN $4 OPERATOR(pg_catalog.>) 0"                                      \
    "   THEN GREATEST(last_inbound_at, $6) ELSE last_inbound_at END,"                               \
    " rate_window = COALESCE($7, rate_window)," MARK                                               \
    " is_active = true, updated_at = pg_catalog.now()"                                              \
    " WHERE agent_id" Q_EQ "$1 AND conversation_id" Q_EQ "$2"
#define CONV_BUMP CONV_BUMP_MARKED("")
#define MESSAGE_INSERT                                                                              \
    " INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"                     \
    " direction, phone, body, metadata, decision, created_at, after_hours)"                        \
    " VALUES ($1, $2, $3, $8, $9, $10, $11, 'accepted', $6, $12) RETURNING message_id"

// The same against a 0.1.0 schema (no after_hours column).
Plan message_insert_plan_010 = {nullptr,
                                "INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"
                                " direction, phone, body, metadata, decision, created_at)"
                                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING message_id",
                                9, {UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID,
                                    TIMESTAMPTZOID}};

// An accepted message and its conversation's bump in one statement (record_*):
// $1 agent, $2 conversation, $3 session, $4/$5 inbound/outbound, $6 time,
// $7 the new hourly log (NULL keeps it), $8 direction, $9 phone, $10 body, $11 metadata,
// $12 after hours.
Plan bump_and_insert_plan = {nullptr,
                             "WITH bump AS (" CONV_BUMP ")" MESSAGE_INSERT,
                             12, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID,
                                  TEXTOID, TEXTOID, TEXTOID, JSONBOID, BOOLOID}};

// record_outbound's message when it is in order (its time is at or after the
// locked conversation's last message): the bump, the message and its analytics
// in one statement, so the trigger has nothing left to do.  The analytics need
// the conversation's and session's first messages known and earlier (else no
// delta is staged and record_outbound runs the trigger's general path) and the
// previous accepted message (a reply when inbound); none is later.
// $1..$12 as bump_and_insert_plan, $13 the message's day, $14 it starts a
// session.  Returns message_id, delta_id (NULL: nothing staged).
// The pieces of a staged-analytics statement: the conversation's and the
// session's first messages known (`fc`, `fs`); an in-order message counts
// when both are earlier, or the session is new (NEW_SESSION) and has none
// yet; the session's first message when it starts one.  $1 agent,
// $2 conversation, $3 session, $6 time; `msg` is the inserted message.
#define STAGE_FIRST_JOINS                                                                           \
    "  FROM (SELECT 1) one"                                                                         \
    "  LEFT JOIN switchboard.stats_first fc ON fc.agent_id" Q_EQ "$1"                               \
    "    AND fc.kind" Q_EQ "'conversation' AND fc.id" Q_EQ "$2"                                     \
    "  LEFT JOIN switchboard.stats_first fs ON fs.agent_id" Q_EQ "$1"                               \
    "    AND fs.kind" Q_EQ "'session' AND fs.id" Q_EQ "$3"
#define STAGE_IN_ORDER(NEW_SESSION)                                                                 \
    "  WHERE ctx.c_at OPERATOR(pg_catalog.<=) $6"                                                   \
    "    AND CASE WHEN " NEW_SESSION " THEN ctx.s_at IS NULL ELSE ctx.s_at OPERATOR(pg_catalog.<=) $6 END"
#define STAGE_SESSION_FIRST(DAY)                                                                    \
    " first AS (INSERT INTO switchboard.stats_first (agent_id, kind, id, first_at, first_message_id, first_day)" \
    "  SELECT $1, 'session', $3, $6, msg.message_id, " DAY " FROM ok, msg RETURNING 1),"
#define STAGE_RESULT " SELECT msg.message_id, (SELECT ins.delta_id FROM ins) FROM msg"

// Since 0.6.0 the conversation row marks the session whose first messages (and
// the conversation's) are known: conversations.stats_session.  A staged
// statement comes in three forms, by what the event read of the mark:
enum StageMark {
    stage_probe = 0,       // up to 0.5.0 (no mark): probe stats_first
    stage_probe_mark = 1,  // 0.6.0, the mark is not this session's: probe, and
                           // set the mark when the probe succeeds (else clear it)
    stage_marked = 2,      // 0.6.0, the mark is this session's: no probe (the
                           // records exist and are no later than the last
                           // message, so an in-order message passes the probe)
};
#define MARK_IF_OK " stats_session = CASE WHEN EXISTS (SELECT FROM ok) THEN $3 END,"
#define MARK_SET " stats_session = $3,"
// 0.6.0 also: conversations.stats_last, the direction of the last accepted
// message as a staged statement left it: message_count after it, negated for
// an outbound one.  Any other bump adds to message_count without setting it,
// so it is known only while |stats_last| = message_count.
#define LAST_INBOUND " stats_last = message_count OPERATOR(pg_catalog.+) 1,"
#define LAST_OUTBOUND " stats_last = OPERATOR(pg_catalog.-) (message_count OPERATOR(pg_catalog.+) 1),"
// [StageMark]: `ok` (one row when the message counts) and the marks it leaves
#define STAGE_FORMS(PROBED_OK, MARKED_OK, LAST, X)                                                  \
    {X(PROBED_OK, ""), X(PROBED_OK, MARK_IF_OK LAST), X(MARKED_OK, MARK_SET LAST)}

// The previous accepted message (a reply when inbound).
#define OUTBOUND_PREVIOUS                                                                           \
    "  LEFT JOIN LATERAL (SELECT m.direction, m.created_at FROM switchboard.messages m"              \
    "    WHERE m.agent_id" Q_EQ "$1 AND m.conversation_id" Q_EQ "$2"                                \
    "      AND m.created_at OPERATOR(pg_catalog.<=) $6 AND m.decision" Q_EQ "'accepted'"            \
    "    ORDER BY m.created_at DESC, m.message_id DESC LIMIT 1) p ON true"
#define OUTBOUND_PROBED_OK                                                                          \
    " ctx AS (SELECT fc.first_at AS c_at, fs.first_at AS s_at, p.direction AS p_dir, p.created_at AS p_at" \
    STAGE_FIRST_JOINS OUTBOUND_PREVIOUS "),"                                                        \
    " ok AS (SELECT ctx.p_dir" Q_EQ "'inbound' AS reply, ctx.p_at FROM ctx" STAGE_IN_ORDER("$14") "),"
#define OUTBOUND_MARKED_OK                                                                          \
    " ctx AS (SELECT p.direction AS p_dir, p.created_at AS p_at FROM (SELECT 1) one" OUTBOUND_PREVIOUS ")," \
    " ok AS (SELECT ctx.p_dir" Q_EQ "'inbound' AS reply, ctx.p_at FROM ctx),"
// The previous accepted message known from the conversation row (stats_last):
// $15 it is inbound, $16 its time (last_message_at).
#define OUTBOUND_KNOWN_OK " ok AS (SELECT $15 AS reply, $16 AS p_at),"
#define OUTBOUND_STAGED(ok, mark, first, new_sessions)                                              \
    "WITH" ok " bump AS (" CONV_BUMP_MARKED(mark) "), msg AS (" MESSAGE_INSERT "),"                 \
    first                                                                                               \
    " ins AS (INSERT INTO switchboard.stats_delta (agent_id, day, category, outbound, new_sessions, replies," \
    "  reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged," \
    "  ai_succeeded)"                                                                                   \
    "  SELECT $1, $13, " SB_MD_CATEGORY ", 1, " new_sessions ","                                        \
    "  CASE WHEN ok.reply THEN 1 ELSE 0 END,"                                                           \
    "  CASE WHEN ok.reply THEN EXTRACT(epoch FROM $6) OPERATOR(pg_catalog.-) EXTRACT(epoch FROM ok.p_at)" \
    "   ELSE 0 END," SB_AI_FACTS                                                                        \
    "  FROM ok, (SELECT $11 AS md) s RETURNING delta_id)" STAGE_RESULT
#define OUTBOUND_STAGED_TYPES                                                                        \
    UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, TEXTOID, TEXTOID, \
        TEXTOID, JSONBOID, BOOLOID, DATEOID, BOOLOID
#define OUTBOUND_STAGED_PLAN(sql) {nullptr, sql, 14, {OUTBOUND_STAGED_TYPES}}
// [StageMark][starts a session]: the session's first message is written only
// then (a data-modifying WITH costs its start-up even when it writes nothing)
#define OUTBOUND_SAME_SESSION(ok, mark) OUTBOUND_STAGED_PLAN(OUTBOUND_STAGED(ok, mark, "", "0"))
#define OUTBOUND_NEW_SESSION(ok, mark)                                                              \
    OUTBOUND_STAGED_PLAN(OUTBOUND_STAGED(ok, mark, STAGE_SESSION_FIRST("$13"), COUNT_OF("first")))
#define OUTBOUND_STAGED_PLANS(ok, mark) {OUTBOUND_SAME_SESSION(ok, mark), OUTBOUND_NEW_SESSION(ok, mark)}
Plan outbound_staged_plans[3][2] =
    STAGE_FORMS(OUTBOUND_PROBED_OK, OUTBOUND_MARKED_OK, LAST_OUTBOUND, OUTBOUND_STAGED_PLANS);
// stage_marked with the previous accepted message known: no look-up at all.
// [starts a session]
#define OUTBOUND_KNOWN_PLAN(first, new_sessions)                                                    \
    {nullptr, OUTBOUND_STAGED(OUTBOUND_KNOWN_OK, MARK_SET LAST_OUTBOUND, first, new_sessions), 16,  \
     {OUTBOUND_STAGED_TYPES, BOOLOID, TIMESTAMPTZOID}}
Plan outbound_known_plans[2] = {OUTBOUND_KNOWN_PLAN("", "0"),
                                OUTBOUND_KNOWN_PLAN(STAGE_SESSION_FIRST("$13"), COUNT_OF("first"))};

Plan bump_and_insert_plan_010 = {nullptr,
                                 "WITH bump AS (" CONV_BUMP ")"
                                 " INSERT INTO switchboard.messages (agent_id, conversation_id, session_id,"
                                 " direction, phone, body, metadata, decision, created_at)"
                                 " VALUES ($1, $2, $3, $8, $9, $10, $11, 'accepted', $6) RETURNING message_id",
                                 11, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID,
                                      TIMESTAMPTZARRAYOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID}};

// An accepted inbound message counts for its contact: total, and the month's
// count ($13, the first day of the agent's month of the message; a count of an
// earlier month starts again at 1, a message of an earlier month than the
// stored one leaves the month's count alone).
#define CONTACT_COUNT(MONTH, AT)                                                                    \
    "total_requests = k.total_requests OPERATOR(pg_catalog.+) 1,"                                   \
    " monthly_requests = CASE WHEN k.requests_month" Q_EQ MONTH                                     \
    "   THEN k.monthly_requests OPERATOR(pg_catalog.+) 1"                                           \
    "   WHEN k.requests_month OPERATOR(pg_catalog.>) " MONTH " THEN k.monthly_requests ELSE 1 END," \
    " requests_month = GREATEST(k.requests_month, " MONTH "),"                                      \
    " last_active_at = GREATEST(k.last_active_at, " AT "), updated_at = pg_catalog.now()"
#define CONTACT_UPSERT(AGENT, PHONE, MONTH, AT)                                                     \
    "INSERT INTO switchboard.contacts AS k (agent_id, phone, total_requests, monthly_requests,"     \
    " requests_month, last_active_at) VALUES (" AGENT ", " PHONE ", 1, 1, " MONTH ", " AT ")"      \
    " ON CONFLICT (agent_id, phone) DO UPDATE SET " CONTACT_COUNT(MONTH, AT)
// The contact's count when it exists ($1 agent, $9 phone, $13 month, $6 time).
#define CONTACT_UPDATE                                                                              \
    "UPDATE switchboard.contacts k SET " CONTACT_COUNT("$13", "$6")                                 \
    " WHERE k.agent_id" Q_EQ "$1 AND k.phone" Q_EQ "$9"

// The same for an inbound message, with its contact's counters (the contact
// exists: an update; else an insert).
Plan inbound_insert_plan = {nullptr,
                            "WITH bump AS (" CONV_BUMP "), contact AS (" CONTACT_UPDATE ")" MESSAGE_INSERT,
                            13, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID,
                                 TEXTOID, TEXTOID, TEXTOID, JSONBOID, BOOLOID, DATEOID}};
Plan inbound_insert_new_contact_plan = {nullptr,
                                        "WITH bump AS (" CONV_BUMP "), contact AS ("
                                        CONTACT_UPSERT("$1", "$9", "$13", "$6") ")" MESSAGE_INSERT,
                                        13, {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID,
                                             TIMESTAMPTZARRAYOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, BOOLOID,
                                             DATEOID}};

// record_inbound's in-order accepted message on an open conversation:
// inbound_insert_plan (or its new-contact twin) with the message's analytics
// staged in the same statement (as record_outbound's): the session's first
// message when it starts one, the phone's seen-set row of the day unless
// known to exist, the staged row.  $14 the message's day, $15 it starts a
// session.  Returns message_id, delta_id (NULL: nothing staged).
#define INBOUND_PROBED_OK                                                                           \
    " ctx AS (SELECT fc.first_at AS c_at, fs.first_at AS s_at" STAGE_FIRST_JOINS "),"               \
    " ok AS (SELECT FROM ctx" STAGE_IN_ORDER("$15") "),"
#define INBOUND_MARKED_OK " ok AS (SELECT),"
#define INBOUND_STAGED(ok, mark, contact, first, seen, new_sessions, unique_phones)                 \
    "WITH" ok " bump AS (" CONV_BUMP_MARKED(mark) "), contact AS (" contact "),"                    \
    " msg AS (" MESSAGE_INSERT "),"                                                                 \
    first seen                                                                                      \
    " ins AS (INSERT INTO switchboard.stats_delta (agent_id, day, inbound, accepted, new_sessions," \
    "  unique_phones, after_hours)"                                                                 \
    "  SELECT $1, $14, 1, 1, " new_sessions ", " unique_phones ", CASE WHEN $12 THEN 1 ELSE 0 END"  \
    "  FROM ok RETURNING delta_id)" STAGE_RESULT
#define INBOUND_SEEN                                                                                \
    " seen AS (INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)"                     \
    "  SELECT $1, 'phone', $14, $9 FROM ok ON CONFLICT DO NOTHING RETURNING 1),"
#define INBOUND_STAGED_PLAN(sql)                                                                     \
    {nullptr, sql, 15,                                                                              \
     {UUIDOID, UUIDOID, UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, TEXTOID, TEXTOID, \
      TEXTOID, JSONBOID, BOOLOID, DATEOID, DATEOID, BOOLOID}}
#define INBOUND_STAGED_PLANS(ok, mark, contact)                                                     \
    {{INBOUND_STAGED_PLAN(INBOUND_STAGED(ok, mark, contact, "", "", "0", "0")),                       \
      INBOUND_STAGED_PLAN(INBOUND_STAGED(ok, mark, contact, "", INBOUND_SEEN, "0", COUNT_OF("seen")))}, \
     {INBOUND_STAGED_PLAN(INBOUND_STAGED(ok, mark, contact, STAGE_SESSION_FIRST("$14"), "", COUNT_OF("first"), \
                                         "0")),                                                     \
      INBOUND_STAGED_PLAN(INBOUND_STAGED(ok, mark, contact, STAGE_SESSION_FIRST("$14"), INBOUND_SEEN,  \
                                         COUNT_OF("first"), COUNT_OF("seen")))}}
#define INBOUND_STAGED_CONTACTS(ok, mark)                                                           \
    {INBOUND_STAGED_PLANS(ok, mark, CONTACT_UPDATE), INBOUND_STAGED_PLANS(ok, mark, CONTACT_UPSERT("$1", "$9", "$13", "$6"))}
// [StageMark][contact to insert][starts a session][writes the seen-set row]
Plan inbound_staged_plans[3][2][2][2] =
    STAGE_FORMS(INBOUND_PROBED_OK, INBOUND_MARKED_OK, LAST_INBOUND, INBOUND_STAGED_CONTACTS);

// record_inbound's rejected message on a marked conversation (0.6.0), in order:
// the message and its analytics in one statement, as for an accepted one.  Not
// the first message of its conversation or session (the mark says both have an
// earlier one), not part of a reply pair (only accepted messages are), so its
// analytics are its decision's count, the phone's seen-set row of the day
// unless known to exist, and after hours.  $1..$10 as message_insert_plan,
// $11 the message's day, $12..$16 blocked, rate_limited, daily_limit,
// disabled, quota_exceeded (0/1).  Returns message_id, delta_id.
#define REJECTED_STAGED(seen, unique_phones)                                                        \
    "WITH msg AS (" MESSAGE_INSERT_ROW "),"                                                         \
    seen                                                                                            \
    " ins AS (INSERT INTO switchboard.stats_delta (agent_id, day, inbound, blocked, rate_limited,"  \
    "  daily_limit, disabled, quota_exceeded, unique_phones, after_hours)"                         \
    "  SELECT $1, $11, 1, $12, $13, $14, $15, $16, " unique_phones ", CASE WHEN $10 THEN 1 ELSE 0 END" \
    "  RETURNING delta_id)" STAGE_RESULT
#define REJECTED_SEEN                                                                               \
    " seen AS (INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)"                     \
    "  VALUES ($1, 'phone', $11, $5) ON CONFLICT DO NOTHING RETURNING 1),"
#define REJECTED_STAGED_PLAN(sql)                                                                   \
    {nullptr, sql, 16, {MESSAGE_INSERT_TYPES, DATEOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}}
// [writes the seen-set row]
Plan rejected_staged_plans[2] = {REJECTED_STAGED_PLAN(REJECTED_STAGED("", "0")),
                                 REJECTED_STAGED_PLAN(REJECTED_STAGED(REJECTED_SEEN, COUNT_OF("seen")))};

// A contact's accepted message on its own (the first message of a conversation).
Plan contact_count_plan = {nullptr, CONTACT_UPSERT("$1", "$2", "$4", "$3"),
                           4, {UUIDOID, TEXTOID, TIMESTAMPTZOID, DATEOID}};

Plan region_plan = {nullptr,
                    "SELECT default_region FROM switchboard.agents WHERE agent_id" Q_EQ "$1",
                    1, {UUIDOID}};

// Whether the schema is still 0.1.0's (no switchboard.contacts): set by each
// entry point of the event path, so one library serves a database before and
// after ALTER EXTENSION UPDATE (two syscache look-ups per call).
bool schema_010 = false;
// Whether agents has has_schedule and has_tiers (0.5.0 on), set with schema_010.
bool schema_050 = false;
// Whether conversations has stats_session (0.6.0 to 0.8.0), set with schema_010.
bool schema_060 = false;
// Whether the messages' analytics are folded from the raw rows (0.9.0 on:
// switchboard.stats_watermark exists), set with schema_010: record_* then
// stage nothing for a message.
bool schema_090 = false;

void detect_schema()
{
    Oid nsp = get_namespace_oid("switchboard", true);
    schema_010 = !OidIsValid(nsp) || !OidIsValid(get_relname_relid("contacts", nsp));
    schema_050 = !schema_010 && get_attnum(get_relname_relid("agents", nsp), "has_tiers") != InvalidAttrNumber;
    schema_060 = schema_050 &&
                 get_attnum(get_relname_relid("conversations", nsp), "stats_session") != InvalidAttrNumber;
    schema_090 = schema_050 && OidIsValid(get_relname_relid("stats_watermark", nsp));
}

// Whether record_* stage a message's analytics themselves: up to 0.8.0, unless
// switchboard.stats_rollup = off.
bool stage_message_analytics()
{
    return !schema_090 && switchboard::pg::stats_rollup_on();
}

// The form of a staged statement for a conversation whose analytics mark
// (conversations.stats_session, 0.6.0) is `mark`, null or not, and whose
// session was `session` when the event read it.
StageMark stage_mark(bool has_mark, Datum mark, Datum session)
{
    if (!schema_060)
        return stage_probe;
    if (has_mark && memcmp(DatumGetUUIDP(mark), DatumGetUUIDP(session), UUID_LEN) == 0)
        return stage_marked;
    return stage_probe_mark;
}

// The event plan of the installed schema: locking the conversation, or not (check_rate_limit).
Plan *event_plan(bool lock)
{
    if (schema_010)
        return lock ? &event_lock_plan_010 : &event_peek_plan_010;
    if (schema_060 && lock)
        return &event_lock_plan_060;
    if (schema_050)
        return lock ? &event_lock_plan : &event_peek_plan;
    return lock ? &event_lock_plan_020 : &event_peek_plan_020;
}

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
    // read_event only (0.2.0):
    Datum agent_id;               // uuid, in SPI memory
    bool has_after_hours_message;
    Datum after_hours_message;    // text, in SPI memory
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
    bool has_last_inbound;  // its last accepted inbound message
    TimestampTz last_inbound_at;
    int nlog;
    int64 log[limits::max_window];
    // the contact's monthly counter and its tier's limit, and the hours (0.2.0)
    bool contact_found;
    int monthly_requests;
    bool has_requests_month;
    DateADT requests_month;
    bool has_limit;
    int monthly_limit;
    bool open;
    // how an in-order message stages its analytics (its analytics mark, 0.6.0)
    StageMark stage;
};

[[noreturn]] void number_not_routed(Datum number, bool voice);

// Whether an event plan finds the agent by the dialed number (route_inbound).
bool routed_plan(const Plan *plan)
{
    return plan == &route_lock_plan_060 || plan == &route_lock_plan || plan == &route_lock_plan_020;
}

// 0.5.0's event plans leave the hours and the tier's limit to these two
// statements, run only for an agent that has a schedule or tiers (the
// event's columns 23-25: has_schedule, has_tiers, the contact's tier).
void read_schedule_and_tier(Datum agent_id, TimestampTz at, Conversation *c, bool read_only)
{
    bool isnull;
    bool has_schedule = getbool(23, &isnull);
    bool has_tiers = getbool(24, &isnull);
    Datum tier = getdatum(25, &isnull);
    if (isnull)
        tier = CStringGetTextDatum("free");
    if (has_schedule) {
        Datum args[2] = {agent_id, TimestampTzGetDatum(at)};
        run(&open_plan, args, nullptr, read_only, 1);
        c->open = SPI_processed == 0 || getbool(1, &isnull);
    }
    if (has_tiers) {
        Datum args[2] = {agent_id, tier};
        run(&tier_plan, args, nullptr, read_only, 1);
        c->has_limit = SPI_processed > 0;
        c->monthly_limit = c->has_limit ? DatumGetInt32(getdatum(1, &isnull)) : 0;
    }
}

void read_event_row(Plan *plan, Datum key, Datum raw, Agent *agent, Datum *e164, Conversation *c);

// Runs an event plan: the agent (or P0002), the normalized number (or 22023),
// blocked, and the conversation row if there is one.  `key` is the agent's id,
// or for route_lock_plan the dialed number in E.164 (P0002 naming it when it
// does not route an SMS).
void read_event(Plan *plan, Datum key, Datum raw, TimestampTz at, Agent *agent, Datum *e164, Conversation *c,
                bool read_only)
{
    Datum args[3] = {key, raw, TimestampTzGetDatum(at)};
    run(plan, args, nullptr, read_only, 0);
    read_event_row(plan, key, raw, agent, e164, c);
    c->stage = stage_probe;
    int natts = SPI_tuptable->tupdesc->natts;
    if (natts > 25 && c->found) {
        bool isnull;
        Datum mark = getdatum(26, &isnull);
        c->stage = stage_mark(!isnull, mark, c->session_id);
    }
    if (natts > 22)
        read_schedule_and_tier(agent->agent_id, at, c, read_only);
}

// read_event's result row (SPI_tuptable), columns 1-22.
void read_event_row(Plan *plan, Datum key, Datum raw, Agent *agent, Datum *e164, Conversation *c)
{
    if (SPI_processed == 0) {
        if (routed_plan(plan))
            number_not_routed(key, false);
        agent_not_found(key);
    }
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
    Datum requests = getdatum(15, &isnull);
    c->monthly_requests = isnull ? 0 : DatumGetInt32(requests);
    Datum month = getdatum(16, &isnull);
    c->has_requests_month = !isnull;
    c->requests_month = isnull ? 0 : DatumGetDateADT(month);
    Datum limit = getdatum(17, &isnull);
    c->has_limit = !isnull;
    c->monthly_limit = isnull ? 0 : DatumGetInt32(limit);
    c->open = getbool(18, &isnull);
    agent->after_hours_message = getdatum(19, &isnull);
    agent->has_after_hours_message = !isnull;
    agent->agent_id = getdatum(20, &isnull);
    c->contact_found = getbool(21, &isnull);
    c->conversation_id = getdatum(10, &isnull);
    c->found = !isnull;
    c->nlog = 0;
    c->has_last = false;
    c->has_last_inbound = false;
    if (!c->found)
        return;
    c->session_id = getdatum(11, &isnull);
    Datum last = getdatum(12, &isnull);
    c->has_last = !isnull;
    c->last_message_at = isnull ? 0 : DatumGetTimestampTz(last);
    Datum log = getdatum(13, &isnull);
    c->nlog = read_log(log, isnull, c->log);
    Datum last_inbound = getdatum(22, &isnull);
    c->has_last_inbound = !isnull;
    c->last_inbound_at = isnull ? 0 : DatumGetTimestampTz(last_inbound);
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
                     Datum e164, Datum body, Datum metadata, const char *decision, TimestampTz at,
                     bool after_hours)
{
    Datum args[10] = {agent_id,
                     conversation_id,
                     session_id,
                     CStringGetTextDatum(direction),
                     e164,
                     body,
                     metadata,
                     CStringGetTextDatum(decision),
                     TimestampTzGetDatum(at),
                     BoolGetDatum(after_hours)};
    char nulls[10] = {' ', conversation_id ? ' ' : 'n', session_id ? ' ' : 'n', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    record_in_progress = true;
    PG_TRY();
    {
        run(schema_010 ? &message_insert_plan_010 : &message_insert_plan, args, nulls, false, 0);
    }
    PG_FINALLY();
    {
        record_in_progress = false;
    }
    PG_END_TRY();
    bool isnull;
    return DatumGetInt64(getdatum(1, &isnull));
}

// The parameters $1..$13 of the statements that bump a conversation and store
// an accepted message (bump_and_insert_plan, inbound_insert_plan, the
// *_staged_plans): a null `log` keeps the hourly log; $13 is the contact's
// month, or the message's day for outbound_staged_plans.
void message_args(Datum *args, char *nulls, Datum agent_id, Datum conversation_id, Datum session_id, bool inbound,
                  TimestampTz at, const int64 *log, int nlog, Datum e164, Datum body, Datum metadata,
                  bool after_hours, Datum p13)
{
    Datum a[13] = {agent_id,
                   conversation_id,
                   session_id,
                   Int32GetDatum(inbound ? 1 : 0),
                   Int32GetDatum(inbound ? 0 : 1),
                   TimestampTzGetDatum(at),
                   log ? log_datum(log, nlog) : 0,
                   CStringGetTextDatum(inbound ? "inbound" : "outbound"),
                   e164,
                   body,
                   metadata,
                   BoolGetDatum(after_hours),
                   p13};
    memcpy(args, a, sizeof a);
    memset(nulls, ' ', 13);
    if (log == nullptr)
        nulls[6] = 'n';
}

void bump_conversation(Datum agent_id, Datum conversation_id, Datum session_id, bool inbound,
                       TimestampTz at, const int64 *log, int nlog)
{
    Datum args[13];
    char nulls[13];
    message_args(args, nulls, agent_id, conversation_id, session_id, inbound, at, log, nlog, 0, 0, 0, false, 0);
    run(&conv_bump_plan, args, nulls, false, 0);  // $1..$7
}

// Bumps the conversation and stores an accepted message, one statement; returns
// its id.  An inbound message (contact_plan: inbound_insert_plan or
// inbound_insert_new_contact_plan) also counts for its contact in `month`.
int64 bump_and_insert(Datum agent_id, Datum conversation_id, Datum session_id, bool inbound, TimestampTz at,
                      const int64 *log, int nlog, Datum e164, Datum body, Datum metadata,
                      Plan *contact_plan = nullptr, bool after_hours = false, Datum month = 0)
{
    Datum args[13];
    char nulls[13];
    message_args(args, nulls, agent_id, conversation_id, session_id, inbound, at, log, nlog, e164, body, metadata,
                 after_hours, month);
    record_in_progress = true;
    PG_TRY();
    {
        run(schema_010 ? &bump_and_insert_plan_010 : contact_plan ? contact_plan : &bump_and_insert_plan, args, nulls,
            false, 0);
    }
    PG_FINALLY();
    {
        record_in_progress = false;
    }
    PG_END_TRY();
    bool isnull;
    return DatumGetInt64(getdatum(1, &isnull));
}

// An in-order message of record_*, stored by `plan` (one of the *_staged_plans,
// `args`/`nulls` its parameters) under the conversation's analytics lock, the
// trigger told to leave the row alone; when the statement could not stage the
// analytics, the trigger's general path for `m` (its message_id filled in).
int64 insert_staged(Plan *plan, Datum *args, const char *nulls, switchboard::pg::MessageFacts m)
{
    switchboard::pg::lock_conversation_stats(m.conversation_id);
    switchboard::pg::MessageStatsHint &hint = switchboard::pg::message_stats_hint;
    hint.set = true;
    memcpy(&hint.conversation_id, DatumGetUUIDP(m.conversation_id), sizeof(pg_uuid_t));
    hint.at = m.at;
    record_in_progress = true;
    PG_TRY();
    {
        run(plan, args, nulls, false, 0);
    }
    PG_FINALLY();
    {
        record_in_progress = false;
        hint.set = false;
    }
    PG_END_TRY();
    bool isnull;
    m.message_id = DatumGetInt64(getdatum(1, &isnull));
    Datum delta_id = getdatum(2, &isnull);
    if (!isnull)
        switchboard::pg::fold_after_stage(m.agent_id, DatumGetInt64(delta_id));
    else
        switchboard::pg::stage_message_stats(m);
    return m.message_id;
}

// The conversation's last accepted message as record_outbound knows it from
// the row (0.6.0's stats_last): unknown, or its direction and time.
struct PreviousMessage {
    bool known;
    bool inbound;
    TimestampTz at;
};

// record_outbound's in-order message (outbound_staged_plans, or
// outbound_known_plans when the conversation is marked and `previous` known).
int64 insert_outbound_staged(Datum agent_id, Datum conversation_id, Datum session_id, TimestampTz at, Datum phone,
                             Datum body, Datum metadata, Datum day, bool new_session, StageMark stage,
                             PreviousMessage previous)
{
    Datum args[16];
    char nulls[16];
    message_args(args, nulls, agent_id, conversation_id, session_id, false, at, nullptr, 0, phone, body, metadata,
                 false, day);
    args[13] = BoolGetDatum(new_session);
    args[14] = BoolGetDatum(previous.inbound);
    args[15] = TimestampTzGetDatum(previous.at);
    nulls[13] = nulls[14] = nulls[15] = ' ';
    switchboard::pg::MessageFacts m = {agent_id, 0, conversation_id, session_id, false, phone, metadata,
                                       CStringGetTextDatum("accepted"), at, false};
    Plan *plan = stage == stage_marked && previous.known ? &outbound_known_plans[new_session ? 1 : 0]
                                                         : &outbound_staged_plans[stage][new_session ? 1 : 0];
    return insert_staged(plan, args, nulls, m);
}

// record_inbound's in-order accepted message on an open conversation
// (inbound_staged_plans): `log` the new hourly log, `month` the contact's
// month, `new_contact` the contact is to be inserted, `phone_seen` the phone's
// seen-set row of the day exists.
int64 insert_inbound_staged(Datum agent_id, Datum conversation_id, Datum session_id, TimestampTz at,
                            const int64 *log, int nlog, Datum e164, Datum body, Datum metadata, bool after_hours,
                            Datum month, Datum day, bool new_contact, bool new_session, bool phone_seen,
                            StageMark stage)
{
    Datum args[15];
    char nulls[15];
    message_args(args, nulls, agent_id, conversation_id, session_id, true, at, log, nlog, e164, body, metadata,
                 after_hours, month);
    args[13] = day;
    args[14] = BoolGetDatum(new_session);
    nulls[13] = nulls[14] = ' ';
    switchboard::pg::MessageFacts m = {agent_id, 0, conversation_id, session_id, true, e164, metadata,
                                       CStringGetTextDatum("accepted"), at, after_hours};
    return insert_staged(&inbound_staged_plans[stage][new_contact ? 1 : 0][new_session ? 1 : 0][phone_seen ? 0 : 1],
                         args, nulls, m);
}

// ---------------------------------------------------------------------------
// The decision, shared by record_inbound and check_rate_limit.

enum Decision { accepted, blocked, disabled, rate_limited, daily_limit, quota_exceeded };
const char *const decision_names[] = {"accepted",     "blocked",     "disabled",
                                      "rate_limited", "daily_limit", "quota_exceeded"};

struct Verdict {
    Decision decision;
    bool has_retry;
    int64 retry_after_us;
    bool has_remaining;
    int remaining;
};

// Whether the phone's seen-set row of `day` exists: its conversation's last
// accepted inbound message was earlier the same day.
bool phone_seen_on(const Agent *agent, const Conversation *conv, TimestampTz at, Datum day)
{
    return conv->has_last_inbound && conv->last_inbound_at <= at &&
           DatumGetDateADT(local_day(agent, conv->last_inbound_at)) == DatumGetDateADT(day);
}

// Whether record_inbound stores a rejected message of this conversation with
// its analytics in one statement (rejected_staged_plans): the conversation is
// marked for its session (0.6.0) and the message is in order.
bool rejected_stages(const Conversation *conv, TimestampTz at)
{
    return conv->found && conv->stage == stage_marked && conv->has_last && at >= conv->last_message_at &&
           stage_message_analytics();
}

// record_inbound's rejected message (rejected_stages): its id.
int64 insert_rejected_staged(const Agent *agent, Datum agent_id, const Conversation *conv, TimestampTz at,
                             Datum e164, Datum body, Datum metadata, Decision decision, Datum day)
{
    bool after_hours = !conv->open;
    Datum decision_text = CStringGetTextDatum(decision_names[decision]);
    Datum args[16] = {agent_id,
                      conv->conversation_id,
                      conv->session_id,
                      CStringGetTextDatum("inbound"),
                      e164,
                      body,
                      metadata,
                      decision_text,
                      TimestampTzGetDatum(at),
                      BoolGetDatum(after_hours),
                      day,
                      Int64GetDatum(decision == blocked ? 1 : 0),
                      Int64GetDatum(decision == rate_limited ? 1 : 0),
                      Int64GetDatum(decision == daily_limit ? 1 : 0),
                      Int64GetDatum(decision == disabled ? 1 : 0),
                      Int64GetDatum(decision == quota_exceeded ? 1 : 0)};
    char nulls[16];
    memset(nulls, ' ', sizeof nulls);
    switchboard::pg::MessageFacts m = {agent_id, 0,    conv->conversation_id, conv->session_id, true, e164,
                                       metadata, decision_text, at, after_hours};
    return insert_staged(&rejected_staged_plans[phone_seen_on(agent, conv, at, day) ? 0 : 1], args, nulls, m);
}

// The first day of the agent's month of `day`.
Datum month_of(Datum day)
{
    int y, m, d;
    j2date(DatumGetDateADT(day) + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    return DateADTGetDatum(date2j(y, m, 1) - POSTGRES_EPOCH_JDATE);
}

// From `at` to the agent's first local midnight of the month after `month`.
int64 until_next_month(const Agent *agent, Datum month, TimestampTz at)
{
    int y, m, d;
    j2date(DatumGetDateADT(month) + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    if (++m > 12) {
        m = 1;
        y++;
    }
    Datum last_day = DateADTGetDatum(date2j(y, m, 1) - POSTGRES_EPOCH_JDATE - 1);
    return until_next_day(agent, last_day, at);
}

// The contact's accepted messages of `month` so far.
int used_in_month(const Conversation *c, Datum month)
{
    return c->has_requests_month && c->requests_month == DatumGetDateADT(month) ? c->monthly_requests : 0;
}

// The monthly quota: quota_exceeded when the contact's tier has a limit and
// its accepted messages of the month reached it.  True when it decided.
bool judge_quota(const Agent *agent, const Conversation *c, TimestampTz at, Datum month, Verdict *v)
{
    if (!c->has_limit || used_in_month(c, month) < c->monthly_limit)
        return false;
    v->decision = quota_exceeded;
    v->has_retry = true;
    v->retry_after_us = until_next_month(agent, month, at);
    return true;
}

// judge_quota on the current counter: for a limited tier on an existing
// conversation, reads the contact again under its lock (contact_lock_plan).
bool judge_quota_locked(const Agent *agent, Datum agent_id, Datum e164, Conversation *c, TimestampTz at,
                        Datum month, Verdict *v)
{
    if (c->found && c->has_limit) {
        Datum args[2] = {agent_id, e164};
        run(&contact_lock_plan, args, nullptr, false, 0);
        bool isnull;
        c->contact_found = SPI_processed > 0;
        c->monthly_requests = 0;
        c->has_requests_month = false;
        if (c->contact_found) {
            Datum n = getdatum(1, &isnull);
            c->monthly_requests = isnull ? 0 : DatumGetInt32(n);
            Datum m = getdatum(2, &isnull);
            c->has_requests_month = !isnull;
            c->requests_month = isnull ? 0 : DatumGetDateADT(m);
        }
    }
    return judge_quota(agent, c, at, month, v);
}

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

// The decision chain up to the limits of an existing conversation, shared by
// record_inbound (`lock`: the quota re-read under lock) and check_rate_limit:
// disabled, blocked, the monthly quota, then the hourly limit when the
// conversation exists.  False when none applies and the event would open a
// conversation (judge_daily decides).
bool judge_known(const Agent *agent, Datum agent_id, Datum e164, Conversation *c, TimestampTz at, Datum month,
                 bool lock, Verdict *v)
{
    *v = Verdict{accepted, false, 0, false, 0};
    if (!agent->sms_enabled)
        v->decision = disabled;
    else if (c->blocked)
        v->decision = blocked;
    else if (lock ? judge_quota_locked(agent, agent_id, e164, c, at, month, v) : judge_quota(agent, c, at, month, v))
        ;  // quota_exceeded
    else if (c->found)
        judge_rate(agent, c, at, v);
    else
        return false;
    return true;
}

// The daily limit of an event that would open a conversation, the agent
// having opened `opened` today.  True when it refuses.
bool judge_daily(const Agent *agent, int opened, Datum day, TimestampTz at, Verdict *v)
{
    v->has_remaining = true;
    if (opened < agent->max_daily_conversations) {
        v->remaining = agent->rate_limit_per_hour - 1;
        return false;
    }
    v->decision = daily_limit;
    v->has_retry = true;
    v->retry_after_us = until_next_day(agent, day, at);
    v->remaining = agent->rate_limit_per_hour;
    return true;
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

// The body of record_inbound and route_inbound: `key` is the agent's id
// (event_lock_plan) or the dialed number in E.164 (route_lock_plan); the rest
// is the same code.  Result: decision, conversation_id, session_id, message_id,
// is_new_conversation, is_new_session, reply, retry_after, remaining,
// after_hours, quota_remaining, and for route_inbound agent_id.
Datum inbound_event(FunctionCallInfo fcinfo, Plan *plan, Datum key)
{
    Datum raw = PG_GETARG_DATUM(1);
    Datum body = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
    Datum metadata = PG_GETARG_DATUM(3);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(4);

    ReturnSetInfo *rsinfo = materialized_result(fcinfo);

    spi_connect();

    Agent agent;
    Datum e164;
    Conversation conv;
    read_event(plan, key, raw, at, &agent, &e164, &conv, false);
    Datum agent_id = agent.agent_id;

    Verdict v;  // set by judge_known
    bool is_new_conversation = false, is_new_session = false;
    int64 message_id = 0;
    Datum day = local_day(&agent, at);
    Datum month = month_of(day);

    if (!judge_known(&agent, agent_id, e164, &conv, at, month, true, &v)) {
        // Would open a conversation: take the day's counter lock, then look
        // again (a concurrent first message may have opened it meanwhile, or
        // the settings changed while we waited).
        int opened = lock_day(agent_id, day);
        read_event(plan, key, raw, at, &agent, &e164, &conv, false);
        agent_id = agent.agent_id;
        if (judge_known(&agent, agent_id, e164, &conv, at, month, true, &v)) {
            // decided: settings, blocklist, quota, or the conversation opened meanwhile
        } else if (judge_daily(&agent, opened, day, at, &v)) {
            // daily_limit
        } else {
            int64 log[1] = {at};
            Datum args[5] = {agent_id, e164, TimestampTzGetDatum(at), log_datum(log, 1), new_uuid()};
            run(&conv_insert_plan, args, nullptr, false, 0);
            if (SPI_processed == 0) {
                // Opened by someone who did not take the counter lock (a direct insert).
                read_event(plan, key, raw, at, &agent, &e164, &conv, false);
                agent_id = agent.agent_id;
                if (!conv.found)
                    elog(ERROR, "switchboard: conversation vanished while opening it");
                judge_known(&agent, agent_id, e164, &conv, at, month, true, &v);
            } else {
                bool isnull;
                conv.found = true;
                conv.conversation_id = getdatum(1, &isnull);
                conv.session_id = getdatum(2, &isnull);
                is_new_conversation = is_new_session = true;
                Datum bump[2] = {agent_id, day};
                run(&day_bump_plan, bump, nullptr, false, 0);
                if (!schema_010) {
                    Datum count[4] = {agent_id, e164, TimestampTzGetDatum(at), month};
                    run(&contact_count_plan, count, nullptr, false, 0);
                }
                message_id = insert_message(agent_id, conv.conversation_id, conv.session_id, "inbound", e164,
                                            body, metadata, "accepted", at, !conv.open);
            }
        }
    }

    if (is_new_conversation) {
        // stored above
    } else if (v.decision == accepted) {
        // An accepted message on an existing conversation: roll the session, log it, bump, count.
        if (limits::session_expired(conv.has_last, conv.last_message_at, at, agent.session_timeout_minutes)) {
            conv.session_id = new_uuid();
            is_new_session = true;
        }
        int64 log[limits::max_window];
        int nlog = limits::admit(conv.log, conv.nlog, at, log);
        // in order: no accepted message of the conversation is later
        bool in_order = !schema_010 && conv.has_last && at >= conv.last_message_at;
        if (in_order && stage_message_analytics()) {
            // the analytics staged in the same statement; the phone's seen-set
            // row of the day exists when its last accepted inbound message was
            // earlier the same day
            bool phone_seen = phone_seen_on(&agent, &conv, at, day);
            message_id = insert_inbound_staged(agent_id, conv.conversation_id, conv.session_id, at, log, nlog, e164,
                                               body, metadata, !conv.open, month, day, !conv.contact_found,
                                               is_new_session, phone_seen, conv.stage);
        } else {
            message_id = bump_and_insert(agent_id, conv.conversation_id, conv.session_id, true, at, log, nlog, e164,
                                         body, metadata,
                                         conv.contact_found ? &inbound_insert_plan : &inbound_insert_new_contact_plan,
                                         !conv.open, month);
        }
    } else if (rejected_stages(&conv, at)) {
        // Rejected, on a conversation that talked before: stored with its decision and its analytics.
        message_id = insert_rejected_staged(&agent, agent_id, &conv, at, e164, body, metadata, v.decision, day);
    } else {
        // Rejected: stored with its decision (and its conversation, if it has one), counting for nothing.
        message_id = insert_message(agent_id, conv.found ? conv.conversation_id : 0,
                                    conv.found ? conv.session_id : 0, "inbound", e164, body, metadata,
                                    decision_names[v.decision], at, !conv.open);
    }

    bool attached = conv.found;
    bool routed = routed_plan(plan);
    Datum values[12];
    bool nulls[12] = {false, !attached, !attached, false, false, false, true, !v.has_retry, !v.has_remaining,
                      false, !conv.has_limit, !routed};
    values[0] = CStringGetTextDatum(decision_names[v.decision]);
    values[1] = attached ? conv.conversation_id : 0;
    values[2] = attached ? conv.session_id : 0;
    values[3] = Int64GetDatum(message_id);
    values[4] = BoolGetDatum(is_new_conversation);
    values[5] = BoolGetDatum(is_new_session);
    values[6] = 0;
    if (v.decision == accepted && agent.auto_respond) {
        // Outside hours the after-hours message answers every accepted message;
        // else (or without one) the welcome message answers a new conversation.
        if (!conv.open && agent.has_after_hours_message) {
            values[6] = agent.after_hours_message;
            nulls[6] = false;
        } else if (is_new_conversation) {
            values[6] = agent.welcome_message;
            nulls[6] = false;
        }
    }
    values[7] = v.has_retry ? interval_us(v.retry_after_us) : 0;
    values[8] = Int32GetDatum(v.remaining);
    values[9] = BoolGetDatum(!conv.open);
    int used = used_in_month(&conv, month) + (v.decision == accepted ? 1 : 0);
    values[10] = Int32GetDatum(conv.monthly_limit > used ? conv.monthly_limit - used : 0);
    values[11] = agent_id;
    TupleDesc desc = rsinfo->setDesc;  // 0.1.0's record_inbound: the first 9 columns
    if (desc->natts > 12)
        elog(ERROR, "switchboard: %s returns %d columns, expected at most 12", routed ? "route_inbound" : "record_inbound",
             desc->natts);
    tuplestore_putvalues(rsinfo->setResult, desc, values, nulls);
    SPI_finish();
    return (Datum)0;
}

// The dialed number of route_inbound/route_call in E.164 (no default region:
// providers send To in international form), or ERROR 22023.
Datum dialed_number(Datum raw)
{
    return normalized(DatumGetTextPP(raw), phone::parse_region(nullptr, 0, true));
}

// ERROR P0002 for a dialed number that routes nothing: unknown, inactive, or
// of the other kind.  A number whose agent the caller cannot see is unknown.
[[noreturn]] void number_not_routed(Datum number, bool voice)
{
    char *shown_number = TextDatumGetCString(number);
    Datum args[1] = {number};
    run(&number_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("phone number \"%s\" is not provisioned", shown_number),
                        errhint("Add it to switchboard.phone_numbers with the agent it routes to.")));
    bool isnull;
    if (!getbool(2, &isnull))
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("phone number \"%s\" is not active", shown_number),
                        errdetail("switchboard.phone_numbers.is_active is false for it.")));
    char *kind = TextDatumGetCString(getdatum(3, &isnull));
    if (strcmp(kind, voice ? "sms" : "voice") == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("phone number \"%s\" does not take %s", shown_number, voice ? "calls" : "SMS"),
                        errdetail("Its kind is %s.", kind),
                        errhint("Set its kind to both to route %s too.", voice ? "calls" : "SMS")));
    agent_not_found(getdatum(1, &isnull));  // the number is visible, its agent is not
}

}  // namespace

// record_inbound(agent_id, from_phone, body, metadata, at) -> one row: decision,
// conversation_id, session_id, message_id, is_new_conversation, is_new_session,
// reply, retry_after, remaining, after_hours, quota_remaining
SB_FUNCTION(record_inbound)
{
    require_arguments(fcinfo, "record_inbound", 5, 2);
    detect_schema();
    return inbound_event(fcinfo, event_plan(true), PG_GETARG_DATUM(0));
}

// route_inbound(to_phone, from_phone, body, metadata, at) -> record_inbound's row
// for the agent of the dialed number, plus agent_id
SB_FUNCTION(route_inbound)
{
    require_arguments(fcinfo, "route_inbound", 5, 2);
    detect_schema();  // route_inbound exists from 0.2.0 on
    return inbound_event(fcinfo, schema_060 ? &route_lock_plan_060 : schema_050 ? &route_lock_plan : &route_lock_plan_020,
                         dialed_number(PG_GETARG_DATUM(0)));
}

// is_open(agent_id, at) -> whether the agent's business hours hold `at`
SB_FUNCTION(is_open)
{
    require_arguments(fcinfo, "is_open", 2, -1);
    Datum args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
    spi_connect();
    run(&open_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        agent_not_found(args[0]);
    bool isnull;
    bool open = getbool(1, &isnull);
    SPI_finish();
    PG_RETURN_BOOL(open);
}

// switchboard_agent_open(agent_id, at): is_open for record_call's C++ code
// (record_call and route_call, when they insert a call); runs inside its SPI connection.
extern "C" bool switchboard_agent_open(Datum agent_id, TimestampTz at)
{
    Datum args[2] = {agent_id, TimestampTzGetDatum(at)};
    run(&open_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        agent_not_found(agent_id);
    bool isnull;
    return getbool(1, &isnull);
}

// switchboard_schema_is_010(): whether the installed schema is 0.1.0's, for
// record_call's C++ code.
extern "C" bool switchboard_schema_is_010(void)
{
    detect_schema();
    return schema_010;
}

// switchboard_schema_is_050(): whether agents has has_schedule (0.5.0 on), for
// record_call's C++ code.
extern "C" bool switchboard_schema_is_050(void)
{
    detect_schema();
    return schema_050;
}

// switchboard_route_number(to_phone, voice): the agent of an active dialed
// number taking calls (voice) or SMS, inside the caller's SPI connection; P0002 else.
extern "C" Datum switchboard_route_number(Datum raw, bool voice)
{
    Datum number = dialed_number(raw);
    Datum args[2] = {number, CStringGetTextDatum(voice ? "sms" : "voice")};
    run(&route_agent_plan, args, nullptr, true, 1);
    if (SPI_processed == 0)
        number_not_routed(number, voice);
    bool isnull;
    return getdatum(1, &isnull);
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
    detect_schema();
    read_event(event_plan(false), agent_id, raw, at, &agent, &e164, &conv, true);
    Verdict v;
    Datum day = local_day(&agent, at);
    if (!judge_known(&agent, agent_id, e164, &conv, at, month_of(day), false, &v)) {
        Datum args[2] = {agent_id, day};
        run(&day_peek_plan, args, nullptr, true, 0);
        bool isnull = true;
        int opened = SPI_processed > 0 ? DatumGetInt32(getdatum(1, &isnull)) : 0;
        judge_daily(&agent, opened, day, at, &v);
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
    detect_schema();
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum conversation_id = PG_GETARG_DATUM(1);
    Datum body = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
    Datum metadata = PG_GETARG_DATUM(3);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(4);

    spi_connect();
    Datum args[2] = {agent_id, conversation_id};
    run(schema_060 ? &conv_by_id_plan_060 : &conv_by_id_plan, args, nullptr, false, 0);
    if (SPI_processed == 0) {
        Agent agent;
        load_agent(agent_id, &agent);  // P0002 for an unknown agent first
        conversation_not_found(agent_id, conversation_id);
    }
    bool isnull;
    Datum session_id = getdatum(1, &isnull);
    StageMark stage = stage_probe;
    PreviousMessage previous = {false, false, 0};
    Datum last = getdatum(2, &isnull);
    bool has_last = !isnull;
    if (schema_060) {
        Datum mark = getdatum(7, &isnull);
        stage = stage_mark(!isnull, mark, session_id);
        int count = DatumGetInt32(getdatum(8, &isnull));
        Datum stats_last = getdatum(9, &isnull);
        int64 signed_count = isnull ? 0 : DatumGetInt32(stats_last);
        previous.known = has_last && count > 0 && (signed_count == count || signed_count == -int64{count});
        previous.inbound = signed_count > 0;
        previous.at = has_last ? DatumGetTimestampTz(last) : 0;
    }
    Datum phone_number = getdatum(4, &isnull);
    int timeout = DatumGetInt32(getdatum(5, &isnull));
    bool new_session = limits::session_expired(has_last, has_last ? DatumGetTimestampTz(last) : 0, at, timeout);
    if (new_session)
        session_id = new_uuid();
    int64 message_id;
    if (!schema_010 && has_last && at >= DatumGetTimestampTz(last) && stage_message_analytics()) {
        Agent agent;
        text_to_cstring_buffer(DatumGetTextPP(getdatum(6, &isnull)), agent.timezone, sizeof agent.timezone);
        message_id = insert_outbound_staged(agent_id, conversation_id, session_id, at, phone_number, body, metadata,
                                            local_day(&agent, at), new_session, stage, previous);
    } else {
        message_id = bump_and_insert(agent_id, conversation_id, session_id, false, at, nullptr, 0, phone_number,
                                     body, metadata);
    }
    SPI_finish();
    PG_RETURN_INT64(message_id);
}

// upsert_conversation(agent_id, phone, at) -> (conversation_id, session_id,
// is_new_conversation, is_new_session); opens without the daily limit but
// counts the opening against it
SB_FUNCTION(upsert_conversation)
{
    require_arguments(fcinfo, "upsert_conversation", 3, -1);
    detect_schema();
    Datum agent_id = PG_GETARG_DATUM(0);
    Datum raw = PG_GETARG_DATUM(1);
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);

    ReturnSetInfo *rsinfo = materialized_result(fcinfo);
    spi_connect();

    Agent agent;
    Datum e164;
    Conversation conv;
    bool is_new_conversation = false, is_new_session = false;
    read_event(event_plan(true), agent_id, raw, at, &agent, &e164, &conv, false);
    if (!conv.found) {
        Datum day = local_day(&agent, at);
        lock_day(agent_id, day);
        read_event(event_plan(true), agent_id, raw, at, &agent, &e164, &conv, false);
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
                read_event(event_plan(true), agent_id, raw, at, &agent, &e164, &conv, false);
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

namespace {

// The column `name` of the new row in E.164, read with the agent's default_region.
// A spelling starting with '+' needs no region: it is normalized without reading the agent.
Datum normalize_column(TriggerData *td, const char *name, bool plus_needs_no_region)
{
    HeapTuple row = new_row(td);
    TupleDesc desc = td->tg_relation->rd_att;
    int agent_col = column(desc, "agent_id");
    int phone_col = column(desc, name);
    bool agent_null, phone_null;
    Datum agent_id = heap_getattr(row, agent_col, desc, &agent_null);
    Datum raw = heap_getattr(row, phone_col, desc, &phone_null);
    if (agent_null || phone_null)
        return PointerGetDatum(row);  // NOT NULL reports it
    text *raw_text = DatumGetTextPP(raw);
    phone::Region region;
    if (plus_needs_no_region && VARSIZE_ANY_EXHDR(raw_text) > 0 && VARDATA_ANY(raw_text)[0] == '+') {
        region = phone::parse_region(nullptr, 0, true);
    } else {
        spi_connect();
        Datum args[1] = {agent_id};
        run(&region_plan, args, nullptr, true, 1);
        if (SPI_processed == 0)
            agent_not_found(agent_id);
        bool isnull;
        text *region_text = DatumGetTextPP(getdatum(1, &isnull));
        region = phone::parse_region(VARDATA_ANY(region_text), VARSIZE_ANY_EXHDR(region_text), false);
        SPI_finish();
    }
    Datum e164 = normalized(raw_text, region);
    bool null = false;
    row = heap_modify_tuple_by_cols(row, desc, 1, &phone_col, &e164, &null);
    return PointerGetDatum(row);
}

}  // namespace

// blocked_numbers_normalize() trigger: phone in E.164, read with the agent's default_region
SB_FUNCTION(blocked_numbers_normalize)
{
    TriggerData *td = trigger_data(fcinfo, "blocked_numbers_normalize");
    return normalize_column(td, "phone", false);
}

// phone_column_normalize(column) trigger (0.2.0): the column named by the
// trigger's argument in E.164, read with the agent's default_region
SB_FUNCTION(phone_column_normalize)
{
    TriggerData *td = trigger_data(fcinfo, "phone_column_normalize");
    if (td->tg_trigger->tgnargs != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("phone_column_normalize: takes the column name as its one argument")));
    return normalize_column(td, td->tg_trigger->tgargs[0], true);
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
