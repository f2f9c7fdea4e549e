// switchboard client: a thin, typed C++17 API over the switchboard extension.
//
//   #include <switchboard/client.hpp>
//   switchboard::Client db;                       // DATABASE_URL, else libpq's PG* variables
//   auto r = db.record_inbound({agent, "(201) 555-0123", "hi"});
//   if (r.decision == switchboard::Decision::accepted && r.reply) send_sms(*r.reply);
//
// Every call is one statement in its own transaction (autocommit): one round
// trip, committed when the call returns.  The public header uses only the
// standard library; libpqxx stays an implementation detail (pkg-config:
// Requires.private).  A Client is not thread-safe: use one per thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard {

// --- values -------------------------------------------------------------------

// A UUID, 16 bytes; text form is the canonical lower-case 8-4-4-4-12.
struct Uuid {
    std::array<std::uint8_t, 16> bytes{};

    // Parses the forms Postgres accepts for uuid (hyphens optional, braces,
    // any case); throws std::invalid_argument otherwise.
    static Uuid parse(std::string_view text);
    static std::optional<Uuid> try_parse(std::string_view text) noexcept;
    std::string str() const;
    bool is_nil() const noexcept;

    friend bool operator==(const Uuid &a, const Uuid &b) noexcept { return a.bytes == b.bytes; }
    friend bool operator!=(const Uuid &a, const Uuid &b) noexcept { return a.bytes != b.bytes; }
    friend bool operator<(const Uuid &a, const Uuid &b) noexcept { return a.bytes < b.bytes; }
};

// A timestamptz, microsecond precision (as Postgres keeps it).
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// Formats as ISO 8601 in UTC ("2026-11-18T09:15:03.250000Z").
std::string format_timestamp(Timestamp t);
// Parses "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|+HH[:MM]|-HH[:MM]]" (no zone
// means UTC) or a bare "YYYY-MM-DD" (midnight UTC); std::nullopt when malformed.
std::optional<Timestamp> parse_timestamp(std::string_view text) noexcept;

// A calendar day (a Postgres date), proleptic Gregorian; text form "YYYY-MM-DD".
struct Date {
    int year = 1970;
    unsigned month = 1;   // 1..12
    unsigned day = 1;     // 1..31

    // Parses "YYYY-MM-DD" (a real day); throws std::invalid_argument otherwise.
    static Date parse(std::string_view text);
    static std::optional<Date> try_parse(std::string_view text) noexcept;
    // The day of t in UTC.
    static Date from_timestamp(Timestamp t) noexcept;
    std::string str() const;
    // Days since 1970-01-01 (negative before), and back.
    long long days_since_epoch() const noexcept;
    static Date from_days_since_epoch(long long days) noexcept;
    Date plus_days(long long n) const noexcept { return from_days_since_epoch(days_since_epoch() + n); }

    friend bool operator==(const Date &a, const Date &b) noexcept {
        return a.year == b.year && a.month == b.month && a.day == b.day;
    }
    friend bool operator!=(const Date &a, const Date &b) noexcept { return !(a == b); }
    friend bool operator<(const Date &a, const Date &b) noexcept {
        return a.days_since_epoch() < b.days_since_epoch();
    }
    friend bool operator<=(const Date &a, const Date &b) noexcept { return !(b < a); }
};

// What record_inbound decided for an inbound message.
enum class Decision { accepted, blocked, disabled, rate_limited, daily_limit, quota_exceeded };
std::string_view to_string(Decision d) noexcept;
std::optional<Decision> parse_decision(std::string_view text) noexcept;

// The call state machine of switchboard.calls.status.
enum class CallStatus { ringing, in_progress, completed, failed, busy, no_answer, canceled };
std::string_view to_string(CallStatus s) noexcept;
std::optional<CallStatus> parse_call_status(std::string_view text) noexcept;

// --- errors -------------------------------------------------------------------

// Base of everything the client throws for a failed call.  sqlstate() is the
// server's SQLSTATE (empty for client-side failures); message/detail/hint are
// the server's fields without the "ERROR:" decoration.
class Error : public std::runtime_error {
public:
    Error(std::string sqlstate, std::string message, std::string detail = {}, std::string hint = {});
    const std::string &sqlstate() const noexcept { return sqlstate_; }
    const std::string &message() const noexcept { return message_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

private:
    std::string sqlstate_, message_, detail_, hint_;
};

// 22023: a phone number that is not a possible number, or an unknown region.
class InvalidPhone : public Error { using Error::Error; };
// P0002: an unknown agent, conversation or number.
class UnknownAgent : public Error { using Error::Error; };
// 23514: a broken rule (check constraint, illegal call-status transition, ...).
class RuleViolation : public Error { using Error::Error; };
// 42501: the role may not do this.
class PermissionDenied : public Error { using Error::Error; };

// The connection could not be made, or broke during a call.  When
// may_have_committed() is true the call was sent and its outcome is unknown:
// the client never retries such a call; check before repeating it.  The next
// call on the Client reconnects.
class ConnectionError : public Error {
public:
    ConnectionError(std::string message, bool may_have_committed, std::string sqlstate = {});
    bool may_have_committed() const noexcept { return may_have_committed_; }

private:
    bool may_have_committed_;
};

// Throws the class matching sqlstate (InvalidPhone, UnknownAgent, ...; Error otherwise).
[[noreturn]] void throw_error(const std::string &sqlstate, const std::string &message,
                              const std::string &detail = {}, const std::string &hint = {});

// --- phone numbers --------------------------------------------------------------

struct PhoneInfo {
    std::optional<std::string> e164;      // NULL when it does not parse
    std::optional<int> country_code;
    std::optional<std::string> region;    // ISO 3166-1 alpha-2, "001" for non-geographic
    std::string number_type;              // mobile, fixed_line, toll_free, ..., unknown
    bool is_possible = false;
    bool is_valid = false;
};

// --- the event path ---------------------------------------------------------------

// Events have constructors so that {agent, phone, body} compiles warning-free
// under -Wextra (which flags aggregate initializers that omit members).
struct InboundEvent {
    InboundEvent() = default;
    InboundEvent(Uuid agent, std::string phone, std::string text, std::string meta = "{}",
                 std::optional<Timestamp> when = {})
        : agent_id(agent), from_phone(std::move(phone)), body(std::move(text)), metadata(std::move(meta)),
          at(when) {}
    Uuid agent_id;
    std::string from_phone;              // any spelling; normalized with the agent's default_region
    std::string body;
    std::string metadata = "{}";         // a JSON object, as text
    std::optional<Timestamp> at;         // empty: the server's now() (transaction time)
};

struct InboundResult {
    Decision decision = Decision::accepted;
    std::optional<Uuid> conversation_id;          // empty when a rejected message opened nothing
    std::optional<Uuid> session_id;
    std::optional<std::int64_t> message_id;       // the stored message (rejected ones are stored too)
    bool is_new_conversation = false;
    bool is_new_session = false;
    std::optional<std::string> reply;             // welcome message to send, if any
    std::optional<std::chrono::microseconds> retry_after;  // when limited
    std::optional<int> remaining;                 // accepted messages left in the hourly window
    bool after_hours = false;                     // outside the agent's business hours (0.2.0)
    std::optional<int> quota_remaining;           // this month's messages left by the contact's tier; empty: unlimited (0.2.0)
};

struct OutboundMessage {
    OutboundMessage() = default;
    OutboundMessage(Uuid agent, Uuid conversation, std::string text, std::string meta = "{}",
                    std::optional<Timestamp> when = {})
        : agent_id(agent), conversation_id(conversation), body(std::move(text)), metadata(std::move(meta)),
          at(when) {}
    Uuid agent_id;
    Uuid conversation_id;
    std::string body;
    std::string metadata = "{}";
    std::optional<Timestamp> at;
};

// An outbound message addressed by phone number (record_outbound_batch): it
// joins the conversation of (agent, phone), the number read with the agent's
// default_region.  A number with no conversation is an error (P0002): an
// outbound message never opens one.
struct OutboundToPhone {
    OutboundToPhone() = default;
    OutboundToPhone(Uuid agent, std::string phone, std::string text, std::string meta = "{}",
                    std::optional<Timestamp> when = {})
        : agent_id(agent), to_phone(std::move(phone)), body(std::move(text)), metadata(std::move(meta)),
          at(when) {}
    Uuid agent_id;
    std::string to_phone;                // any spelling
    std::string body;
    std::string metadata = "{}";         // a JSON object, as text (AI task facts: tokens_used, ...)
    std::optional<Timestamp> at;         // empty: the server's now()
};

struct RateLimitResult {
    Decision decision = Decision::accepted;
    std::optional<std::chrono::microseconds> retry_after;
    std::optional<int> remaining;
};

struct ConversationRef {
    Uuid conversation_id;
    Uuid session_id;
    bool is_new_conversation = false;
    bool is_new_session = false;
};

struct CallEvent {
    CallEvent() = default;
    CallEvent(Uuid agent, std::string sid, std::string from, CallStatus st, std::optional<Timestamp> when = {},
              std::optional<std::chrono::seconds> dur = {}, std::string meta = "{}")
        : agent_id(agent), call_sid(std::move(sid)), caller(std::move(from)), status(st), at(when), duration(dur),
          metadata(std::move(meta)) {}
    Uuid agent_id;
    std::string call_sid;
    std::string caller;                  // any spelling
    CallStatus status = CallStatus::ringing;
    std::optional<Timestamp> at;
    std::optional<std::chrono::seconds> duration;
    std::string metadata = "{}";
};

struct CallResult {
    std::int64_t call_id = 0;
    std::optional<Uuid> conversation_id;
    CallStatus status = CallStatus::ringing;
    bool is_new_call = false;
};

// One failed event of a batch: the SQLSTATE and text the single call would
// have thrown.  raise() throws exactly that exception.
struct EventError {
    std::string sqlstate;
    std::string message;
    std::string detail;
    [[noreturn]] void raise() const { throw_error(sqlstate, message, detail); }
};

// The outcome of one event of a batch: a result or an error, never both.
template <class T>
struct Outcome {
    std::optional<T> result;
    std::optional<EventError> error;
    bool ok() const noexcept { return result.has_value(); }
    // The result, or throws the event's error.
    const T &value() const {
        if (!result) error->raise();
        return *result;
    }
};

// --- agents and the blocklist ---------------------------------------------------

// Settings for create_agent/update_agent: only the fields that are set are
// written; create_agent leaves the others at the table defaults.
struct AgentSettings {
    std::optional<Uuid> agent_id;                // create only: a chosen id (default: random)
    std::optional<Uuid> owner_id;
    std::optional<std::string> display_name;
    std::optional<bool> sms_enabled;
    std::optional<bool> auto_respond;
    std::optional<std::string> welcome_message;
    std::optional<std::chrono::minutes> session_timeout;
    std::optional<int> max_daily_conversations;
    std::optional<int> rate_limit_per_hour;
    std::optional<std::string> default_region;
    std::optional<std::string> timezone;
};

struct Agent {
    Uuid agent_id;
    std::optional<Uuid> owner_id;
    std::string display_name;
    bool sms_enabled = false;
    bool auto_respond = true;
    std::string welcome_message;
    std::chrono::minutes session_timeout{30};
    int max_daily_conversations = 0;
    int rate_limit_per_hour = 0;
    std::string default_region;
    std::string timezone;
    Timestamp created_at;
    Timestamp updated_at;
};

struct BlockedNumber {
    std::string phone;                   // E.164
    std::optional<std::string> reason;
    Timestamp created_at;
};

// --- analytics ------------------------------------------------------------------------

// One day of switchboard.daily_stats (the agent's timezone defines the days;
// quiet days are all zeros).  Averages and rates are empty when there is
// nothing to average (no calls with a duration, no replies, no judged task).
struct DailyStats {
    Date day;
    std::int64_t inbound = 0;            // all inbound messages, whatever the decision
    std::int64_t accepted = 0;
    std::int64_t blocked = 0;
    std::int64_t rate_limited = 0;
    std::int64_t daily_limit = 0;
    std::int64_t disabled = 0;
    std::int64_t outbound = 0;
    std::int64_t new_conversations = 0;
    std::int64_t new_sessions = 0;
    std::int64_t unique_phones = 0;      // distinct inbound senders that day
    std::int64_t calls_total = 0;
    std::int64_t calls_answered = 0;
    std::int64_t calls_completed = 0;
    std::int64_t calls_failed = 0;
    std::int64_t calls_busy = 0;
    std::int64_t calls_no_answer = 0;
    std::int64_t calls_canceled = 0;
    std::int64_t call_duration_total = 0;          // seconds
    std::optional<double> call_duration_avg;       // seconds
    std::int64_t unique_callers = 0;
    std::int64_t replies = 0;
    std::optional<double> reply_latency_avg;       // seconds
    std::int64_t ai_tasks = 0;
    std::int64_t tokens_used = 0;
    std::optional<double> processing_ms_avg;
    std::optional<double> success_rate;            // 0..1
    std::string categories = "{}";                 // JSON object: category -> {tasks, tokens, ...}
};

// switchboard.agent_summary: totals over the last `days` days (today
// included, the agent's timezone); unique phones/callers are exact over the
// whole window.
struct AgentSummary {
    Date from_day;
    Date to_day;
    std::int64_t inbound = 0;
    std::int64_t accepted = 0;
    std::int64_t blocked = 0;
    std::int64_t rate_limited = 0;
    std::int64_t daily_limit = 0;
    std::int64_t disabled = 0;
    std::int64_t outbound = 0;
    std::int64_t new_conversations = 0;
    std::int64_t new_sessions = 0;
    std::int64_t unique_phones = 0;
    std::int64_t calls_total = 0;
    std::int64_t calls_answered = 0;
    std::int64_t calls_completed = 0;
    std::int64_t calls_failed = 0;
    std::int64_t calls_busy = 0;
    std::int64_t calls_no_answer = 0;
    std::int64_t calls_canceled = 0;
    std::optional<double> answer_rate;             // 0..1
    std::int64_t call_duration_total = 0;
    std::optional<double> call_duration_avg;
    std::int64_t unique_callers = 0;
    std::int64_t replies = 0;
    std::optional<double> reply_latency_avg;
    std::int64_t ai_tasks = 0;
    std::int64_t tokens_used = 0;
    std::optional<double> processing_ms_avg;
    std::optional<double> success_rate;
};

// --- the client ---------------------------------------------------------------------

class Client {
public:
    // conninfo: a libpq connection string or URI.  Empty: $DATABASE_URL if
    // set, else libpq's defaults and PG* environment variables.
    // Throws ConnectionError when the server cannot be reached.
    explicit Client(std::string conninfo = {});
    ~Client();
    Client(Client &&) noexcept;
    Client &operator=(Client &&) noexcept;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    // Phone numbers (read-only: retried once on a broken connection).
    std::string normalize_phone(std::string_view raw, std::optional<std::string_view> region = {});
    std::optional<std::string> try_normalize_phone(std::string_view raw,
                                                   std::optional<std::string_view> region = {});
    PhoneInfo phone_info(std::string_view raw, std::optional<std::string_view> region = {});

    // The event path.
    InboundResult record_inbound(const InboundEvent &e);
    std::int64_t record_outbound(const OutboundMessage &m);
    CallResult record_call(const CallEvent &e);
    RateLimitResult check_rate_limit(const Uuid &agent_id, std::string_view phone,
                                     std::optional<Timestamp> at = {});
    ConversationRef upsert_conversation(const Uuid &agent_id, std::string_view phone,
                                        std::optional<Timestamp> at = {});

    // Batches: all events in one statement (one round trip, one transaction),
    // outcomes in the order of the input.  An event that fails with a data
    // error (SQLSTATE class 22, 23 or P0: bad phone, unknown agent, broken
    // rule) gets an error outcome and the others still go in: the batch is
    // then re-run with a savepoint per event (a second round trip; the failed
    // first attempt rolled back entirely).  Any other error (permissions,
    // connection, ...) throws and nothing of the batch is committed.
    std::vector<Outcome<InboundResult>> record_inbound_batch(const std::vector<InboundEvent> &events);
    std::vector<Outcome<CallResult>> record_call_batch(const std::vector<CallEvent> &events);
    // Outbound messages by phone number; each outcome is the stored message_id.
    std::vector<Outcome<std::int64_t>> record_outbound_batch(const std::vector<OutboundToPhone> &messages);

    // Agents: plain DML on switchboard.agents.
    Uuid create_agent(const AgentSettings &s);
    Agent get_agent(const Uuid &agent_id);                       // UnknownAgent if missing
    std::vector<Agent> list_agents(std::optional<Uuid> owner_id = {});
    Agent update_agent(const Uuid &agent_id, const AgentSettings &s);  // UnknownAgent if missing

    // The blocklist: any spelling, normalized with the agent's default_region.
    // block_number returns the stored E.164 form (blocking twice updates the reason).
    std::string block_number(const Uuid &agent_id, std::string_view phone,
                             std::optional<std::string_view> reason = {});
    bool unblock_number(const Uuid &agent_id, std::string_view phone);  // false if it was not blocked
    std::vector<BlockedNumber> list_blocked(const Uuid &agent_id);

    // Analytics (idempotent reads, though the server folds staged counters on
    // the way: retried once on a broken connection).  daily_stats returns one
    // row per day from..to inclusive; from > to is the server's 22023 (thrown
    // as InvalidPhone, the class for 22023).  UnknownAgent (P0002) for an
    // agent that does not exist; PermissionDenied (42501) for a role without
    // access and, under row-level security, for an agent the caller cannot
    // see (another owner's, or none: existence is not revealed).
    std::vector<DailyStats> daily_stats(const Uuid &agent_id, Date from, Date to);
    AgentSummary agent_summary(const Uuid &agent_id, int days = 30);

    // Connection state: reconnect() drops the connection and opens a new one.
    void reconnect();
    // The server process id of the current connection (for diagnostics and tests).
    int backend_pid();
    // Number of connections opened so far (1 after construction).
    int connection_count() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard
