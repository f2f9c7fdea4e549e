// switchboard::Client on libpqxx 6.4: prepared statements, one autocommit
// statement per call, typed results, SQLSTATE-keeping errors, reconnect.
#include <switchboard/client.hpp>

#include <poll.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <utility>

namespace switchboard {

namespace {

using Params = std::vector<std::optional<std::string>>;

// --- statements ----------------------------------------------------------------

constexpr const char *kRetryUs = "(extract(epoch from r.retry_after) * 1000000)::bigint";

// record_outbound_batch: the conversation of (b.agent_id, b.phone), the number
// read with the agent's default_region (a bad one raises 22023), and the error
// columns of an event whose number has no conversation.
constexpr const char *kConversationByPhone =
    "select cv.conversation_id from switchboard.agents a join switchboard.conversations cv "
    "on cv.agent_id = a.agent_id and cv.phone = switchboard.normalize_phone(b.phone, a.default_region) "
    "where a.agent_id = b.agent_id";
constexpr const char *kNoConversation =
    "case when c.conversation_id is null then 'P0002' end, "
    "case when c.conversation_id is null then format('no conversation with \"%s\" for agent %s', "
    "b.phone, b.agent_id) end, null::text";

struct Statement {
    const char *name;
    std::string sql;
};

const std::vector<Statement> &statements() {
    static const std::vector<Statement> all = {
        {"sb_normalize_phone", "select switchboard.normalize_phone($1, $2)"},
        {"sb_try_normalize_phone", "select switchboard.try_normalize_phone($1, $2)"},
        {"sb_phone_info",
         "select r.e164, r.country_code, r.region, r.number_type, r.is_possible, r.is_valid "
         "from switchboard.phone_info($1, $2) as r"},
        {"sb_record_inbound",
         std::string("select r.decision, r.conversation_id, r.session_id, r.message_id, "
                     "r.is_new_conversation, r.is_new_session, r.reply, ") +
             kRetryUs +
             ", r.remaining, r.after_hours, r.quota_remaining "
             "from switchboard.record_inbound($1::uuid, $2::text, $3::text, coalesce($4::jsonb, '{}'), "
             "coalesce($5::timestamptz, now())) as r"},
        {"sb_record_outbound",
         "select switchboard.record_outbound($1::uuid, $2::uuid, $3::text, coalesce($4::jsonb, '{}'), "
         "coalesce($5::timestamptz, now()))"},
        {"sb_check_rate_limit",
         std::string("select r.decision, ") + kRetryUs +
             ", r.remaining "
             "from switchboard.check_rate_limit($1::uuid, $2::text, coalesce($3::timestamptz, now())) as r"},
        {"sb_upsert_conversation",
         "select r.conversation_id, r.session_id, r.is_new_conversation, r.is_new_session "
         "from switchboard.upsert_conversation($1::uuid, $2::text, coalesce($3::timestamptz, now())) as r"},
        {"sb_record_call",
         "select r.call_id, r.conversation_id, r.status, r.is_new_call "
         "from switchboard.record_call($1::uuid, $2::text, $3::text, $4::text, "
         "coalesce($5::timestamptz, now()), $6::integer, coalesce($7::jsonb, '{}')) as r"},
        // Batches: one statement; the lateral calls run in input order.
        {"sb_record_inbound_batch",
         std::string("select b.ord, r.decision, r.conversation_id, r.session_id, r.message_id, "
                     "r.is_new_conversation, r.is_new_session, r.reply, ") +
             kRetryUs +
             ", r.remaining, r.after_hours, r.quota_remaining, null::text, null::text, null::text "
             "from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) "
             "with ordinality as b(agent_id, phone, body, metadata, at, ord) "
             "cross join lateral switchboard.record_inbound(b.agent_id, b.phone, b.body, "
             "coalesce(b.metadata::jsonb, '{}'), coalesce(b.at, now())) as r "
             "order by b.ord"},
        {"sb_record_call_batch",
         "select b.ord, r.call_id, r.conversation_id, r.status, r.is_new_call, "
         "null::text, null::text, null::text "
         "from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::integer[], "
         "$7::text[]) with ordinality as b(agent_id, call_sid, caller, status, at, duration, metadata, ord) "
         "cross join lateral switchboard.record_call(b.agent_id, b.call_sid, b.caller, b.status, "
         "coalesce(b.at, now()), b.duration, coalesce(b.metadata::jsonb, '{}')) as r "
         "order by b.ord"},
        // The conversation by phone, in the lateral subquery so that the calls
        // still run in input order; none: an error row (no call).
        {"sb_record_outbound_batch",
         std::string("select b.ord, m.message_id, ") + kNoConversation +
             " from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) "
             "with ordinality as b(agent_id, phone, body, metadata, at, ord) "
             "left join lateral (" +
             kConversationByPhone +
             ") as c on true "
             "left join lateral (select switchboard.record_outbound(b.agent_id, c.conversation_id, b.body, "
             "coalesce(b.metadata::jsonb, '{}'), coalesce(b.at, now())) as message_id "
             "where c.conversation_id is not null) as m on true "
             "order by b.ord"},
        // The per-event fallback of the batches (temporary functions, created on first need).
        {"sb_record_inbound_each",
         "select * from pg_temp.sb_record_inbound_each($1::uuid[], $2::text[], $3::text[], $4::text[], "
         "$5::timestamptz[])"},
        {"sb_record_outbound_each",
         "select * from pg_temp.sb_record_outbound_each($1::uuid[], $2::text[], $3::text[], $4::text[], "
         "$5::timestamptz[])"},
        {"sb_record_call_each",
         "select * from pg_temp.sb_record_call_each($1::uuid[], $2::text[], $3::text[], $4::text[], "
         "$5::timestamptz[], $6::integer[], $7::text[])"},
        // Agents and the blocklist.
        {"sb_get_agent",
         "select agent_id, owner_id, display_name, sms_enabled, auto_respond, welcome_message, "
         "session_timeout_minutes, max_daily_conversations, rate_limit_per_hour, default_region, timezone, "
         "(extract(epoch from created_at) * 1000000)::bigint, (extract(epoch from updated_at) * 1000000)::bigint "
         "from switchboard.agents where agent_id = $1::uuid"},
        {"sb_list_agents",
         "select agent_id, owner_id, display_name, sms_enabled, auto_respond, welcome_message, "
         "session_timeout_minutes, max_daily_conversations, rate_limit_per_hour, default_region, timezone, "
         "(extract(epoch from created_at) * 1000000)::bigint, (extract(epoch from updated_at) * 1000000)::bigint "
         "from switchboard.agents where $1::uuid is null or owner_id = $1::uuid "
         "order by created_at, agent_id"},
        {"sb_block_number",
         "insert into switchboard.blocked_numbers as b (agent_id, phone, reason) "
         "values ($1::uuid, $2::text, $3::text) "
         "on conflict (agent_id, phone) do update set reason = excluded.reason returning b.phone"},
        {"sb_unblock_number",
         "delete from switchboard.blocked_numbers as b using switchboard.agents as a "
         "where a.agent_id = $1::uuid and b.agent_id = a.agent_id "
         "and b.phone = switchboard.normalize_phone($2::text, a.default_region) returning b.phone"},
        {"sb_agent_exists", "select 1 from switchboard.agents where agent_id = $1::uuid"},
        // Analytics: days as text in a fixed form, whatever the DateStyle.
        {"sb_daily_stats",
         "select to_char(r.day, 'YYYY-MM-DD'), r.inbound, r.accepted, r.blocked, r.rate_limited, r.daily_limit, "
         "r.disabled, r.outbound, r.new_conversations, r.new_sessions, r.unique_phones, r.calls_total, "
         "r.calls_answered, r.calls_completed, r.calls_failed, r.calls_busy, r.calls_no_answer, r.calls_canceled, "
         "r.call_duration_total, r.call_duration_avg, r.unique_callers, r.replies, r.reply_latency_avg, "
         "r.ai_tasks, r.tokens_used, r.processing_ms_avg, r.success_rate, r.categories::text "
         "from switchboard.daily_stats($1::uuid, $2::date, $3::date) as r order by r.day"},
        {"sb_agent_summary",
         "select to_char(r.from_day, 'YYYY-MM-DD'), to_char(r.to_day, 'YYYY-MM-DD'), r.inbound, r.accepted, "
         "r.blocked, r.rate_limited, r.daily_limit, r.disabled, r.outbound, r.new_conversations, r.new_sessions, "
         "r.unique_phones, r.calls_total, r.calls_answered, r.calls_completed, r.calls_failed, r.calls_busy, "
         "r.calls_no_answer, r.calls_canceled, r.answer_rate, r.call_duration_total, r.call_duration_avg, "
         "r.unique_callers, r.replies, r.reply_latency_avg, r.ai_tasks, r.tokens_used, r.processing_ms_avg, "
         "r.success_rate "
         "from switchboard.agent_summary($1::uuid, $2::integer) as r"},
        {"sb_list_blocked",
         "select b.phone, b.reason, (extract(epoch from b.created_at) * 1000000)::bigint "
         "from switchboard.agents as a left join switchboard.blocked_numbers as b on b.agent_id = a.agent_id "
         "where a.agent_id = $1::uuid order by b.phone"},
    };
    return all;
}

const char *const kEachFunctions = R"SQL(
create or replace function pg_temp.sb_record_inbound_each(
    agent_ids uuid[], phones text[], bodies text[], metas text[], ats timestamptz[],
    out ord bigint, out decision text, out conversation_id uuid, out session_id uuid,
    out message_id bigint, out is_new_conversation boolean, out is_new_session boolean,
    out reply text, out retry_after_us bigint, out remaining integer,
    out after_hours boolean, out quota_remaining integer,
    out err_sqlstate text, out err_message text, out err_detail text)
returns setof record language plpgsql set search_path = pg_catalog, pg_temp as $f$
begin
    for i in 1 .. coalesce(array_length(agent_ids, 1), 0) loop
        ord := i;
        err_sqlstate := null; err_message := null; err_detail := null;
        begin
            select x.decision, x.conversation_id, x.session_id, x.message_id, x.is_new_conversation,
                   x.is_new_session, x.reply, (extract(epoch from x.retry_after) * 1000000)::bigint,
                   x.remaining, x.after_hours, x.quota_remaining
              into decision, conversation_id, session_id, message_id, is_new_conversation,
                   is_new_session, reply, retry_after_us, remaining, after_hours, quota_remaining
              from switchboard.record_inbound(agent_ids[i], phones[i], bodies[i],
                                              coalesce(metas[i]::jsonb, '{}'), coalesce(ats[i], now())) as x;
        exception when data_exception or integrity_constraint_violation or plpgsql_error then
            get stacked diagnostics err_sqlstate = returned_sqlstate, err_message = message_text,
                                    err_detail = pg_exception_detail;
            decision := null; conversation_id := null; session_id := null; message_id := null;
            is_new_conversation := null; is_new_session := null; reply := null;
            retry_after_us := null; remaining := null; after_hours := null; quota_remaining := null;
        end;
        return next;
    end loop;
end
$f$;
create or replace function pg_temp.sb_record_call_each(
    agent_ids uuid[], sids text[], callers text[], statuses text[], ats timestamptz[],
    durations integer[], metas text[],
    out ord bigint, out call_id bigint, out conversation_id uuid, out status text, out is_new_call boolean,
    out err_sqlstate text, out err_message text, out err_detail text)
returns setof record language plpgsql set search_path = pg_catalog, pg_temp as $f$
begin
    for i in 1 .. coalesce(array_length(agent_ids, 1), 0) loop
        ord := i;
        err_sqlstate := null; err_message := null; err_detail := null;
        begin
            select x.call_id, x.conversation_id, x.status, x.is_new_call
              into call_id, conversation_id, status, is_new_call
              from switchboard.record_call(agent_ids[i], sids[i], callers[i], statuses[i],
                                           coalesce(ats[i], now()), durations[i],
                                           coalesce(metas[i]::jsonb, '{}')) as x;
        exception when data_exception or integrity_constraint_violation or plpgsql_error then
            get stacked diagnostics err_sqlstate = returned_sqlstate, err_message = message_text,
                                    err_detail = pg_exception_detail;
            call_id := null; conversation_id := null; status := null; is_new_call := null;
        end;
        return next;
    end loop;
end
$f$;
)SQL";

// The fallback of record_outbound_batch: the fast statement's lookup, one
// savepoint per message.
std::string outbound_each_function() {
    return std::string(R"SQL(
create or replace function pg_temp.sb_record_outbound_each(
    agent_ids uuid[], phones text[], bodies text[], metas text[], ats timestamptz[],
    out ord bigint, out message_id bigint,
    out err_sqlstate text, out err_message text, out err_detail text)
returns setof record language plpgsql set search_path = pg_catalog, pg_temp as $f$
declare
    b record;
    c record;
begin
    for b in select * from unnest(agent_ids, phones, bodies, metas, ats)
                           with ordinality as b(agent_id, phone, body, metadata, at, ord) loop
        ord := b.ord;
        message_id := null; err_sqlstate := null; err_message := null; err_detail := null;
        begin
            select x.conversation_id into c from ()SQL") +
           kConversationByPhone + R"SQL() as x;
            if c.conversation_id is null then
                select )SQL" +
           kNoConversation + R"SQL( into err_sqlstate, err_message, err_detail;
            else
                message_id := switchboard.record_outbound(b.agent_id, c.conversation_id, b.body,
                                                          coalesce(b.metadata::jsonb, '{}'), coalesce(b.at, now()));
            end if;
        exception when data_exception or integrity_constraint_violation or plpgsql_error then
            get stacked diagnostics err_sqlstate = returned_sqlstate, err_message = message_text,
                                    err_detail = pg_exception_detail;
            message_id := null;
        end;
        return next;
    end loop;
end
$f$;
)SQL";
}

// --- error mapping ------------------------------------------------------------------

struct ServerText {
    std::string message, detail, hint;
};

// pqxx's what() is libpq's error text: "ERROR:  msg\nDETAIL:  ...\nHINT:  ...\n".
ServerText split_error_text(const std::string &text) {
    ServerText out;
    std::string *field = &out.message;
    std::size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        auto strip = [&](const char *prefix) {
            std::size_t n = std::char_traits<char>::length(prefix);
            if (line.compare(0, n, prefix) != 0) return false;
            line.erase(0, n);
            while (!line.empty() && line.front() == ' ') line.erase(0, 1);
            return true;
        };
        if (first) {
            for (const char *p : {"ERROR:", "FATAL:", "PANIC:"})
                if (strip(p)) break;
            out.message = line;
            first = false;
            continue;
        }
        if (strip("DETAIL:")) {
            field = &out.detail;
            *field = line;
        } else if (strip("HINT:")) {
            field = &out.hint;
            *field = line;
        } else if (strip("CONTEXT:") || strip("LINE ") || strip("QUERY:")) {
            field = nullptr;
        } else if (field && !line.empty()) {
            *field += "\n" + line;
        }
    }
    while (!out.message.empty() && (out.message.back() == '\n' || out.message.back() == ' '))
        out.message.pop_back();
    return out;
}

// libpqxx 6.4 leaves sqlstate() empty on some of its exception classes.
std::string sqlstate_of(const pqxx::sql_error &e) {
    if (!e.sqlstate().empty()) return e.sqlstate();
    if (dynamic_cast<const pqxx::insufficient_privilege *>(&e)) return "42501";
    if (dynamic_cast<const pqxx::undefined_function *>(&e)) return "42883";
    if (dynamic_cast<const pqxx::undefined_table *>(&e)) return "42P01";
    if (dynamic_cast<const pqxx::undefined_column *>(&e)) return "42703";
    if (dynamic_cast<const pqxx::syntax_error *>(&e)) return "42601";
    if (dynamic_cast<const pqxx::check_violation *>(&e)) return "23514";
    if (dynamic_cast<const pqxx::foreign_key_violation *>(&e)) return "23503";
    if (dynamic_cast<const pqxx::unique_violation *>(&e)) return "23505";
    if (dynamic_cast<const pqxx::not_null_violation *>(&e)) return "23502";
    if (dynamic_cast<const pqxx::data_exception *>(&e)) return "22000";
    return {};
}

bool is_connection_state(const std::string &sqlstate) {
    return sqlstate.compare(0, 2, "08") == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
           sqlstate == "57P03";
}

bool is_event_error(const std::string &sqlstate) {
    return sqlstate.compare(0, 2, "22") == 0 || sqlstate.compare(0, 2, "23") == 0 ||
           sqlstate.compare(0, 2, "P0") == 0;
}

// --- parameter encoding --------------------------------------------------------

std::optional<std::string> opt_str(std::optional<std::string_view> v) {
    if (!v) return std::nullopt;
    return std::string(*v);
}

std::optional<std::string> opt_ts(const std::optional<Timestamp> &t) {
    if (!t) return std::nullopt;
    return format_timestamp(*t);
}

// A Postgres array literal; every element quoted, NULL for empty optionals.
class ArrayLiteral {
public:
    ArrayLiteral() { s_ = "{"; }
    void add(const std::optional<std::string> &v) {
        if (n_++) s_ += ',';
        if (!v) {
            s_ += "NULL";
            return;
        }
        s_ += '"';
        for (char c : *v) {
            if (c == '"' || c == '\\') s_ += '\\';
            s_ += c;
        }
        s_ += '"';
    }
    void add(const std::string &v) { add(std::optional<std::string>(v)); }
    std::string str() const { return s_ + "}"; }

private:
    std::string s_;
    std::size_t n_ = 0;
};

// --- result decoding ---------------------------------------------------------------

template <class T>
std::optional<T> opt(const pqxx::field &f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

std::optional<Uuid> opt_uuid(const pqxx::field &f) {
    if (f.is_null()) return std::nullopt;
    return Uuid::parse(f.c_str());
}

Uuid req_uuid(const pqxx::field &f) {
    if (f.is_null()) throw Error("", "unexpected NULL in column " + std::string(f.name()));
    return Uuid::parse(f.c_str());
}

template <class T>
T req(const pqxx::field &f) {
    if (f.is_null()) throw Error("", "unexpected NULL in column " + std::string(f.name()));
    return f.as<T>();
}

Decision req_decision(const pqxx::field &f) {
    auto d = parse_decision(f.is_null() ? "" : f.c_str());
    if (!d) throw Error("", "unexpected decision \"" + std::string(f.is_null() ? "NULL" : f.c_str()) + "\"");
    return *d;
}

std::optional<std::chrono::microseconds> opt_us(const pqxx::field &f) {
    if (f.is_null()) return std::nullopt;
    return std::chrono::microseconds(f.as<long long>());
}

Timestamp req_ts(const pqxx::field &f) { return Timestamp(std::chrono::microseconds(req<long long>(f))); }

InboundResult inbound_from(const pqxx::row &r, int base) {
    InboundResult x;
    x.decision = req_decision(r[base + 0]);
    x.conversation_id = opt_uuid(r[base + 1]);
    x.session_id = opt_uuid(r[base + 2]);
    x.message_id = opt<std::int64_t>(r[base + 3]);
    x.is_new_conversation = opt<bool>(r[base + 4]).value_or(false);
    x.is_new_session = opt<bool>(r[base + 5]).value_or(false);
    x.reply = opt<std::string>(r[base + 6]);
    x.retry_after = opt_us(r[base + 7]);
    x.remaining = opt<int>(r[base + 8]);
    x.after_hours = opt<bool>(r[base + 9]).value_or(false);
    x.quota_remaining = opt<int>(r[base + 10]);
    return x;
}

CallResult call_from(const pqxx::row &r, int base) {
    CallResult x;
    x.call_id = req<std::int64_t>(r[base + 0]);
    x.conversation_id = opt_uuid(r[base + 1]);
    auto st = parse_call_status(r[base + 2].is_null() ? "" : r[base + 2].c_str());
    if (!st) throw Error("", "unexpected call status \"" + std::string(r[base + 2].c_str()) + "\"");
    x.status = *st;
    x.is_new_call = opt<bool>(r[base + 3]).value_or(false);
    return x;
}

Agent agent_from(const pqxx::row &r) {
    Agent a;
    a.agent_id = req_uuid(r[0]);
    a.owner_id = opt_uuid(r[1]);
    a.display_name = req<std::string>(r[2]);
    a.sms_enabled = req<bool>(r[3]);
    a.auto_respond = req<bool>(r[4]);
    a.welcome_message = req<std::string>(r[5]);
    a.session_timeout = std::chrono::minutes(req<int>(r[6]));
    a.max_daily_conversations = req<int>(r[7]);
    a.rate_limit_per_hour = req<int>(r[8]);
    a.default_region = req<std::string>(r[9]);
    a.timezone = req<std::string>(r[10]);
    a.created_at = req_ts(r[11]);
    a.updated_at = req_ts(r[12]);
    return a;
}

Date req_date(const pqxx::field &f) {
    if (f.is_null()) throw Error("", "unexpected NULL in column " + std::string(f.name()));
    auto d = Date::try_parse(f.c_str());
    if (!d) throw Error("", "unexpected date \"" + std::string(f.c_str()) + "\"");
    return *d;
}

// bigint sums are NULL only over no rows; read them as 0 then.
std::int64_t count_of(const pqxx::field &f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }

DailyStats daily_from(const pqxx::row &r) {
    DailyStats x;
    int i = 0;
    x.day = req_date(r[i++]);
    x.inbound = count_of(r[i++]);
    x.accepted = count_of(r[i++]);
    x.blocked = count_of(r[i++]);
    x.rate_limited = count_of(r[i++]);
    x.daily_limit = count_of(r[i++]);
    x.disabled = count_of(r[i++]);
    x.outbound = count_of(r[i++]);
    x.new_conversations = count_of(r[i++]);
    x.new_sessions = count_of(r[i++]);
    x.unique_phones = count_of(r[i++]);
    x.calls_total = count_of(r[i++]);
    x.calls_answered = count_of(r[i++]);
    x.calls_completed = count_of(r[i++]);
    x.calls_failed = count_of(r[i++]);
    x.calls_busy = count_of(r[i++]);
    x.calls_no_answer = count_of(r[i++]);
    x.calls_canceled = count_of(r[i++]);
    x.call_duration_total = count_of(r[i++]);
    x.call_duration_avg = opt<double>(r[i++]);
    x.unique_callers = count_of(r[i++]);
    x.replies = count_of(r[i++]);
    x.reply_latency_avg = opt<double>(r[i++]);
    x.ai_tasks = count_of(r[i++]);
    x.tokens_used = count_of(r[i++]);
    x.processing_ms_avg = opt<double>(r[i++]);
    x.success_rate = opt<double>(r[i++]);
    x.categories = opt<std::string>(r[i++]).value_or("{}");
    return x;
}

AgentSummary summary_from(const pqxx::row &r) {
    AgentSummary x;
    int i = 0;
    x.from_day = req_date(r[i++]);
    x.to_day = req_date(r[i++]);
    x.inbound = count_of(r[i++]);
    x.accepted = count_of(r[i++]);
    x.blocked = count_of(r[i++]);
    x.rate_limited = count_of(r[i++]);
    x.daily_limit = count_of(r[i++]);
    x.disabled = count_of(r[i++]);
    x.outbound = count_of(r[i++]);
    x.new_conversations = count_of(r[i++]);
    x.new_sessions = count_of(r[i++]);
    x.unique_phones = count_of(r[i++]);
    x.calls_total = count_of(r[i++]);
    x.calls_answered = count_of(r[i++]);
    x.calls_completed = count_of(r[i++]);
    x.calls_failed = count_of(r[i++]);
    x.calls_busy = count_of(r[i++]);
    x.calls_no_answer = count_of(r[i++]);
    x.calls_canceled = count_of(r[i++]);
    x.answer_rate = opt<double>(r[i++]);
    x.call_duration_total = count_of(r[i++]);
    x.call_duration_avg = opt<double>(r[i++]);
    x.unique_callers = count_of(r[i++]);
    x.replies = count_of(r[i++]);
    x.reply_latency_avg = opt<double>(r[i++]);
    x.ai_tasks = count_of(r[i++]);
    x.tokens_used = count_of(r[i++]);
    x.processing_ms_avg = opt<double>(r[i++]);
    x.success_rate = opt<double>(r[i++]);
    return x;
}

[[noreturn]] void throw_unknown_agent(const Uuid &id) {
    throw UnknownAgent("P0002", "agent \"" + id.str() + "\" does not exist");
}

// Settings as (column, value) pairs, in table order.
std::vector<std::pair<const char *, std::optional<std::string>>> settings_columns(const AgentSettings &s) {
    std::vector<std::pair<const char *, std::optional<std::string>>> cols;
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    if (s.owner_id) cols.emplace_back("owner_id", s.owner_id->str());
    if (s.display_name) cols.emplace_back("display_name", *s.display_name);
    if (s.sms_enabled) cols.emplace_back("sms_enabled", b(*s.sms_enabled));
    if (s.auto_respond) cols.emplace_back("auto_respond", b(*s.auto_respond));
    if (s.welcome_message) cols.emplace_back("welcome_message", *s.welcome_message);
    if (s.session_timeout) cols.emplace_back("session_timeout_minutes", std::to_string(s.session_timeout->count()));
    if (s.max_daily_conversations)
        cols.emplace_back("max_daily_conversations", std::to_string(*s.max_daily_conversations));
    if (s.rate_limit_per_hour) cols.emplace_back("rate_limit_per_hour", std::to_string(*s.rate_limit_per_hour));
    if (s.default_region) cols.emplace_back("default_region", *s.default_region);
    if (s.timezone) cols.emplace_back("timezone", *s.timezone);
    return cols;
}

}  // namespace

// --- the connection ------------------------------------------------------------------

struct Client::Impl {
    std::string conninfo;
    std::unique_ptr<pqxx::connection> conn;
    bool broken = true;
    bool each_functions = false;
    int connections = 0;

    void connect() {
        conn.reset();
        broken = true;
        each_functions = false;
        try {
            auto c = std::make_unique<pqxx::connection>(conninfo);
            for (const auto &s : statements()) c->prepare(s.name, s.sql);
            conn = std::move(c);
        } catch (const pqxx::broken_connection &e) {
            std::string msg = e.what();
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            throw ConnectionError("could not connect to the database: " + msg, false, "08001");
        } catch (const pqxx::sql_error &e) {
            auto t = split_error_text(e.what());
            throw ConnectionError("could not connect to the database: " + t.message, false, sqlstate_of(e));
        } catch (const pqxx::failure &e) {
            throw ConnectionError(std::string("could not connect to the database: ") + e.what(), false);
        }
        broken = false;
        ++connections;
    }

    // Before a call: a connection that broke while idle (server restart,
    // pg_terminate_backend) shows as a readable socket; reconnect then,
    // before anything is sent.
    void ensure() {
        if (!conn || broken || !conn->is_open()) {
            connect();
            return;
        }
        pollfd p{conn->sock(), POLLIN, 0};
        if (p.fd < 0) {
            connect();
            return;
        }
        // Idle and readable: an asynchronous message (notice, parameter
        // status) or the server's goodbye.  Read it; still readable after
        // that, or closed, means the connection is gone: reconnect (nothing
        // of the next call has been sent, so this is always safe).
        if (::poll(&p, 1, 0) > 0) {
            try {
                conn->get_notifs();
            } catch (const std::exception &) {
                connect();
                return;
            }
            if (!conn->is_open() || ::poll(&p, 1, 0) > 0) connect();
        }
    }

    [[noreturn]] void rethrow(const pqxx::sql_error &e, bool read_only) {
        auto t = split_error_text(e.what());
        const std::string st = sqlstate_of(e);
        if (is_connection_state(st) || !conn->is_open()) {
            broken = true;
            throw ConnectionError("connection lost: " + t.message, !read_only, st);
        }
        throw_error(st, t.message, t.detail, t.hint);
    }

    // Runs f (which sends one statement).  A read-only call is retried once
    // on a fresh connection when the connection broke; a writing call never
    // is: its ConnectionError says it may have committed.
    template <class F>
    auto run(bool read_only, F &&f) -> decltype(f()) {
        ensure();
        for (int attempt = 0;; ++attempt) {
            try {
                return f();
            } catch (const pqxx::broken_connection &e) {
                broken = true;
                if (read_only && attempt == 0) {
                    connect();
                    continue;
                }
                std::string msg = e.what();
                while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
                throw ConnectionError("connection lost: " + msg, !read_only, "08006");
            } catch (const pqxx::in_doubt_error &e) {
                broken = true;
                throw ConnectionError(std::string("connection lost: ") + e.what(), true, "08007");
            } catch (const pqxx::sql_error &e) {
                if (read_only && attempt == 0 && (is_connection_state(sqlstate_of(e)) || !conn->is_open())) {
                    broken = true;
                    connect();
                    continue;
                }
                rethrow(e, read_only);
            }
        }
    }

    pqxx::result exec(const char *stmt, const Params &args) {
        std::vector<const char *> ptrs;
        ptrs.reserve(args.size());
        for (const auto &a : args) ptrs.push_back(a ? a->c_str() : nullptr);
        pqxx::nontransaction tx(*conn);
        pqxx::result r = tx.exec_prepared(stmt, pqxx::prepare::make_dynamic_params(ptrs));
        tx.commit();
        return r;
    }

    pqxx::result exec_sql(const std::string &sql, const Params &args) {
        std::vector<const char *> ptrs;
        ptrs.reserve(args.size());
        for (const auto &a : args) ptrs.push_back(a ? a->c_str() : nullptr);
        pqxx::nontransaction tx(*conn);
        pqxx::result r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
        tx.commit();
        return r;
    }

    pqxx::row one(bool read_only, const char *stmt, const Params &args) {
        return run(read_only, [&] {
            pqxx::result r = exec(stmt, args);
            if (r.size() != 1)
                throw Error("", std::string(stmt) + " returned " + std::to_string(r.size()) + " rows, expected 1");
            return r[0];
        });
    }

    // A batch: the fast single statement; when an event fails with a data
    // error the whole statement rolled back, and the batch is re-run through
    // the per-event fallback (a savepoint per event).
    template <class T, class Decode>
    std::vector<Outcome<T>> batch(const char *fast, const char *each, const Params &args, std::size_t n,
                                  Decode decode) {
        std::vector<Outcome<T>> out(n);
        if (n == 0) return out;
        pqxx::result r = run(false, [&]() -> pqxx::result {
            try {
                return exec(fast, args);
            } catch (const pqxx::sql_error &e) {
                if (!is_event_error(sqlstate_of(e)) || !conn->is_open()) throw;
            }
            if (!each_functions) {
                pqxx::nontransaction tx(*conn);
                tx.exec(kEachFunctions);
                tx.exec(outbound_each_function());
                tx.commit();
                each_functions = true;
            }
            return exec(each, args);
        });
        for (const auto &row : r) {
            auto ord = row[0].as<long long>();
            if (ord < 1 || static_cast<std::size_t>(ord) > n) throw Error("", "batch returned a bad ordinal");
            auto &o = out[static_cast<std::size_t>(ord - 1)];
            const int ncols = static_cast<int>(row.size());
            if (!row[ncols - 3].is_null()) {
                o.error = EventError{row[ncols - 3].c_str(), row[ncols - 2].is_null() ? "" : row[ncols - 2].c_str(),
                                     row[ncols - 1].is_null() ? "" : row[ncols - 1].c_str()};
            } else if (row[1].is_null()) {
                o.error = EventError{"P0002", "the event produced no result", ""};
            } else {
                o.result = decode(row, 1);
            }
        }
        for (auto &o : out)
            if (!o.result && !o.error) o.error = EventError{"P0002", "the event produced no result", ""};
        return out;
    }
};

Client::Client(std::string conninfo) : impl_(std::make_unique<Impl>()) {
    if (conninfo.empty()) {
        if (const char *url = std::getenv("DATABASE_URL")) conninfo = url;
    }
    impl_->conninfo = std::move(conninfo);
    impl_->connect();
}

Client::~Client() = default;
Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;

void Client::reconnect() { impl_->connect(); }

int Client::backend_pid() {
    impl_->ensure();
    return impl_->conn->backendpid();
}

int Client::connection_count() const noexcept { return impl_->connections; }

// --- phone numbers ----------------------------------------------------------------------

std::string Client::normalize_phone(std::string_view raw, std::optional<std::string_view> region) {
    auto row = impl_->one(true, "sb_normalize_phone", {std::string(raw), opt_str(region)});
    return req<std::string>(row[0]);
}

std::optional<std::string> Client::try_normalize_phone(std::string_view raw,
                                                       std::optional<std::string_view> region) {
    auto row = impl_->one(true, "sb_try_normalize_phone", {std::string(raw), opt_str(region)});
    return opt<std::string>(row[0]);
}

PhoneInfo Client::phone_info(std::string_view raw, std::optional<std::string_view> region) {
    auto row = impl_->one(true, "sb_phone_info", {std::string(raw), opt_str(region)});
    PhoneInfo p;
    p.e164 = opt<std::string>(row[0]);
    p.country_code = opt<int>(row[1]);
    p.region = opt<std::string>(row[2]);
    p.number_type = opt<std::string>(row[3]).value_or("unknown");
    p.is_possible = opt<bool>(row[4]).value_or(false);
    p.is_valid = opt<bool>(row[5]).value_or(false);
    return p;
}

// --- the event path ------------------------------------------------------------------------

InboundResult Client::record_inbound(const InboundEvent &e) {
    auto row = impl_->one(false, "sb_record_inbound",
                          {e.agent_id.str(), e.from_phone, e.body, e.metadata, opt_ts(e.at)});
    return inbound_from(row, 0);
}

std::int64_t Client::record_outbound(const OutboundMessage &m) {
    auto row = impl_->one(false, "sb_record_outbound",
                          {m.agent_id.str(), m.conversation_id.str(), m.body, m.metadata, opt_ts(m.at)});
    return req<std::int64_t>(row[0]);
}

CallResult Client::record_call(const CallEvent &e) {
    std::optional<std::string> dur;
    if (e.duration) dur = std::to_string(e.duration->count());
    auto row = impl_->one(false, "sb_record_call",
                          {e.agent_id.str(), e.call_sid, e.caller, std::string(to_string(e.status)), opt_ts(e.at),
                           dur, e.metadata});
    return call_from(row, 0);
}

RateLimitResult Client::check_rate_limit(const Uuid &agent_id, std::string_view phone, std::optional<Timestamp> at) {
    auto row = impl_->one(true, "sb_check_rate_limit", {agent_id.str(), std::string(phone), opt_ts(at)});
    RateLimitResult x;
    x.decision = req_decision(row[0]);
    x.retry_after = opt_us(row[1]);
    x.remaining = opt<int>(row[2]);
    return x;
}

ConversationRef Client::upsert_conversation(const Uuid &agent_id, std::string_view phone,
                                            std::optional<Timestamp> at) {
    auto row = impl_->one(false, "sb_upsert_conversation", {agent_id.str(), std::string(phone), opt_ts(at)});
    ConversationRef c;
    c.conversation_id = req_uuid(row[0]);
    c.session_id = req_uuid(row[1]);
    c.is_new_conversation = req<bool>(row[2]);
    c.is_new_session = req<bool>(row[3]);
    return c;
}

// The five arrays of a message batch: agent, phone (the member `phone`), body,
// metadata, time.
template <class Message>
Params message_arrays(const std::vector<Message> &messages, std::string Message::*phone) {
    ArrayLiteral agents, phones, bodies, metas, ats;
    for (const auto &m : messages) {
        agents.add(m.agent_id.str());
        phones.add(m.*phone);
        bodies.add(m.body);
        metas.add(m.metadata);
        ats.add(opt_ts(m.at));
    }
    return {agents.str(), phones.str(), bodies.str(), metas.str(), ats.str()};
}

std::vector<Outcome<InboundResult>> Client::record_inbound_batch(const std::vector<InboundEvent> &events) {
    return impl_->batch<InboundResult>("sb_record_inbound_batch", "sb_record_inbound_each",
                                       message_arrays(events, &InboundEvent::from_phone), events.size(),
                                       inbound_from);
}

std::vector<Outcome<CallResult>> Client::record_call_batch(const std::vector<CallEvent> &events) {
    ArrayLiteral agents, sids, callers, statuses, ats, durs, metas;
    for (const auto &e : events) {
        agents.add(e.agent_id.str());
        sids.add(e.call_sid);
        callers.add(e.caller);
        statuses.add(std::string(to_string(e.status)));
        ats.add(opt_ts(e.at));
        durs.add(e.duration ? std::optional<std::string>(std::to_string(e.duration->count())) : std::nullopt);
        metas.add(e.metadata);
    }
    return impl_->batch<CallResult>(
        "sb_record_call_batch", "sb_record_call_each",
        {agents.str(), sids.str(), callers.str(), statuses.str(), ats.str(), durs.str(), metas.str()},
        events.size(), call_from);
}

std::vector<Outcome<std::int64_t>> Client::record_outbound_batch(const std::vector<OutboundToPhone> &messages) {
    return impl_->batch<std::int64_t>("sb_record_outbound_batch", "sb_record_outbound_each",
                                      message_arrays(messages, &OutboundToPhone::to_phone), messages.size(),
                                      [](const pqxx::row &r, int base) { return req<std::int64_t>(r[base]); });
}

// --- agents and the blocklist -------------------------------------------------------------------

Uuid Client::create_agent(const AgentSettings &s) {
    auto cols = settings_columns(s);
    if (s.agent_id) cols.insert(cols.begin(), {"agent_id", s.agent_id->str()});
    std::string names, values;
    Params args;
    for (const auto &c : cols) {
        if (!args.empty()) {
            names += ", ";
            values += ", ";
        }
        args.push_back(c.second);
        names += c.first;
        values += "$" + std::to_string(args.size());
    }
    std::string sql = cols.empty() ? "insert into switchboard.agents default values returning agent_id"
                                   : "insert into switchboard.agents (" + names + ") values (" + values +
                                         ") returning agent_id";
    return impl_->run(false, [&] { return req_uuid(impl_->exec_sql(sql, args)[0][0]); });
}

Agent Client::get_agent(const Uuid &agent_id) {
    pqxx::result r = impl_->run(true, [&] { return impl_->exec("sb_get_agent", {agent_id.str()}); });
    if (r.empty()) throw_unknown_agent(agent_id);
    return agent_from(r[0]);
}

std::vector<Agent> Client::list_agents(std::optional<Uuid> owner_id) {
    std::optional<std::string> owner;
    if (owner_id) owner = owner_id->str();
    pqxx::result r = impl_->run(true, [&] { return impl_->exec("sb_list_agents", {owner}); });
    std::vector<Agent> out;
    out.reserve(r.size());
    for (const auto &row : r) out.push_back(agent_from(row));
    return out;
}

Agent Client::update_agent(const Uuid &agent_id, const AgentSettings &s) {
    auto cols = settings_columns(s);
    if (cols.empty()) return get_agent(agent_id);
    Params args{agent_id.str()};
    std::string sets;
    for (const auto &c : cols) {
        args.push_back(c.second);
        sets += std::string(c.first) + " = $" + std::to_string(args.size()) + ", ";
    }
    std::string sql =
        "update switchboard.agents set " + sets +
        "updated_at = now() where agent_id = $1::uuid returning agent_id, owner_id, display_name, sms_enabled, "
        "auto_respond, welcome_message, session_timeout_minutes, max_daily_conversations, rate_limit_per_hour, "
        "default_region, timezone, (extract(epoch from created_at) * 1000000)::bigint, "
        "(extract(epoch from updated_at) * 1000000)::bigint";
    pqxx::result r = impl_->run(false, [&] { return impl_->exec_sql(sql, args); });
    if (r.empty()) throw_unknown_agent(agent_id);
    return agent_from(r[0]);
}

std::string Client::block_number(const Uuid &agent_id, std::string_view phone, std::optional<std::string_view> reason) {
    try {
        auto row = impl_->one(false, "sb_block_number", {agent_id.str(), std::string(phone), opt_str(reason)});
        return req<std::string>(row[0]);
    } catch (const Error &e) {
        if (e.sqlstate() == "23503") throw_unknown_agent(agent_id);  // foreign key: no such agent
        throw;
    }
}

bool Client::unblock_number(const Uuid &agent_id, std::string_view phone) {
    pqxx::result r = impl_->run(false, [&] {
        return impl_->exec("sb_unblock_number", {agent_id.str(), std::string(phone)});
    });
    if (!r.empty()) return true;
    pqxx::result a = impl_->run(true, [&] { return impl_->exec("sb_agent_exists", {agent_id.str()}); });
    if (a.empty()) throw_unknown_agent(agent_id);
    return false;
}

std::vector<BlockedNumber> Client::list_blocked(const Uuid &agent_id) {
    pqxx::result r = impl_->run(true, [&] { return impl_->exec("sb_list_blocked", {agent_id.str()}); });
    if (r.empty()) throw_unknown_agent(agent_id);
    std::vector<BlockedNumber> out;
    for (const auto &row : r) {
        if (row[0].is_null()) continue;
        out.push_back(BlockedNumber{req<std::string>(row[0]), opt<std::string>(row[1]), req_ts(row[2])});
    }
    return out;
}

// --- analytics --------------------------------------------------------------------------

std::vector<DailyStats> Client::daily_stats(const Uuid &agent_id, Date from, Date to) {
    pqxx::result r = impl_->run(true, [&] {
        return impl_->exec("sb_daily_stats", {agent_id.str(), from.str(), to.str()});
    });
    std::vector<DailyStats> out;
    out.reserve(r.size());
    for (const auto &row : r) out.push_back(daily_from(row));
    return out;
}

AgentSummary Client::agent_summary(const Uuid &agent_id, int days) {
    pqxx::result r = impl_->run(true, [&] {
        return impl_->exec("sb_agent_summary", {agent_id.str(), std::to_string(days)});
    });
    if (r.empty()) throw_unknown_agent(agent_id);  // the function always returns one row
    return summary_from(r[0]);
}

}  // namespace switchboard
