// switchboard::Client against a live server with the extension installed
// (PGDATABASE has it).  Every test makes its own agents, so tests are
// independent and may run in any order.
#include <switchboard/client.hpp>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <thread>

namespace sb = switchboard;
using namespace std::chrono_literals;

namespace {

// Setup and inspection through plain libpqxx (not the API under test).
std::string sql1(const std::string &q) {
    pqxx::connection c;
    pqxx::nontransaction tx(c);
    auto r = tx.exec(q);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].c_str();
}

sb::Timestamp at(const char *iso) { return *sb::parse_timestamp(iso); }

sb::Uuid agent(sb::Client &db, int hourly = 10, int daily = 50, bool sms = true, bool auto_respond = true) {
    sb::AgentSettings s;
    s.display_name = "test agent";
    s.sms_enabled = sms;
    s.auto_respond = auto_respond;
    s.rate_limit_per_hour = hourly;
    s.max_daily_conversations = daily;
    s.welcome_message = "welcome!";
    return db.create_agent(s);
}

void wait_backend_gone(int pid) {
    for (int i = 0; i < 200; ++i) {
        if (sql1("select count(*) from pg_stat_activity where pid = " + std::to_string(pid)) == "0") return;
        std::this_thread::sleep_for(10ms);
    }
    FAIL("backend " << pid << " did not exit");
}

}  // namespace

TEST_CASE("uuid and timestamp values", "[values]") {
    auto u = sb::Uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
    CHECK(u.str() == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK(sb::Uuid::parse("{a0eebc999c0b4ef8bb6d6bb9bd380a11}") == u);
    CHECK_FALSE(sb::Uuid::try_parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"));
    CHECK_FALSE(sb::Uuid::try_parse("a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11"));
    CHECK_THROWS_AS(sb::Uuid::parse("nope"), std::invalid_argument);
    CHECK(sb::Uuid{}.is_nil());

    CHECK(sb::format_timestamp(at("2026-11-18T09:15:03.25Z")) == "2026-11-18T09:15:03.250000Z");
    CHECK(at("2026-11-18 10:15:03+01:00") == at("2026-11-18T09:15:03Z"));
    CHECK(at("2026-11-18T04:15-0500") == at("2026-11-18T09:15:00Z"));
    CHECK(at("2024-02-29") == at("2024-02-29T00:00:00Z"));
    CHECK_FALSE(sb::parse_timestamp("2026-02-29T00:00:00Z"));
    CHECK_FALSE(sb::parse_timestamp("2026-11-18T25:00:00Z"));
    CHECK_FALSE(sb::parse_timestamp("yesterday"));
    CHECK(sb::parse_decision("rate_limited") == sb::Decision::rate_limited);
    CHECK_FALSE(sb::parse_decision("maybe"));
    CHECK(sb::parse_call_status("no_answer") == sb::CallStatus::no_answer);
}

TEST_CASE("phone numbers", "[phone]") {
    sb::Client db;
    CHECK(db.normalize_phone("(201) 555-0123", "US") == "+12015550123");
    CHECK(db.normalize_phone("tel:+49-30-123456") == "+4930123456");
    CHECK(db.try_normalize_phone("12", "US") == std::nullopt);
    CHECK(db.try_normalize_phone("00 44 7400 123456", "DE") == "+447400123456");

    auto info = db.phone_info("0800 123 4567", "GB");
    CHECK(info.e164 == "+448001234567");
    CHECK(info.country_code == 44);
    CHECK(info.region == "GB");
    CHECK(info.number_type == "toll_free");
    CHECK(info.is_possible);
    CHECK(info.is_valid);

    try {
        db.normalize_phone("12", "US");
        FAIL("no exception");
    } catch (const sb::InvalidPhone &e) {
        CHECK(e.sqlstate() == "22023");
        CHECK(e.message() == "invalid phone number \"12\"");
        CHECK(e.detail() == "The number is too short.");
    }
    CHECK_THROWS_AS(db.normalize_phone("123", "XX"), sb::InvalidPhone);
}

TEST_CASE("errors map from their SQLSTATE", "[errors]") {
    CHECK_THROWS_AS(sb::throw_error("22023", "m"), sb::InvalidPhone);
    CHECK_THROWS_AS(sb::throw_error("P0002", "m"), sb::UnknownAgent);
    CHECK_THROWS_AS(sb::throw_error("23514", "m"), sb::RuleViolation);
    CHECK_THROWS_AS(sb::throw_error("42501", "m"), sb::PermissionDenied);
    CHECK_THROWS_AS(sb::throw_error("08006", "m"), sb::ConnectionError);
    try {
        sb::throw_error("40001", "m", "d", "h");
    } catch (const sb::Error &e) {
        CHECK(e.sqlstate() == "40001");
        CHECK(e.detail() == "d");
        CHECK(e.hint() == "h");
        CHECK(std::string(e.what()) == "m: d (SQLSTATE 40001)");
    }
}

TEST_CASE("agents: create, get, list, update", "[agents]") {
    sb::Client db;
    auto owner = sb::Uuid::parse(sql1("select gen_random_uuid()"));
    sb::AgentSettings s;
    s.owner_id = owner;
    s.display_name = "Ada";
    s.sms_enabled = true;
    s.rate_limit_per_hour = 7;
    s.max_daily_conversations = 3;
    s.session_timeout = std::chrono::minutes(45);
    s.default_region = "GB";
    s.timezone = "Europe/London";
    auto id = db.create_agent(s);
    auto a = db.get_agent(id);
    CHECK(a.agent_id == id);
    CHECK(a.owner_id == owner);
    CHECK(a.display_name == "Ada");
    CHECK(a.sms_enabled);
    CHECK(a.auto_respond);  // the table default
    CHECK(a.rate_limit_per_hour == 7);
    CHECK(a.max_daily_conversations == 3);
    CHECK(a.session_timeout == std::chrono::minutes(45));
    CHECK(a.default_region == "GB");
    CHECK(a.timezone == "Europe/London");
    CHECK(a.created_at <= a.updated_at);

    sb::AgentSettings chosen;
    chosen.agent_id = sb::Uuid::parse(sql1("select gen_random_uuid()"));
    chosen.owner_id = owner;
    CHECK(db.create_agent(chosen) == *chosen.agent_id);

    auto mine = db.list_agents(owner);
    REQUIRE(mine.size() == 2);
    CHECK(mine[0].agent_id == id);
    CHECK(mine[1].agent_id == *chosen.agent_id);
    CHECK(db.list_agents().size() >= 2);

    sb::AgentSettings change;
    change.rate_limit_per_hour = 20;
    change.auto_respond = false;
    auto b = db.update_agent(id, change);
    CHECK(b.rate_limit_per_hour == 20);
    CHECK_FALSE(b.auto_respond);
    CHECK(b.display_name == "Ada");
    CHECK(db.update_agent(id, {}).rate_limit_per_hour == 20);

    auto nobody = sb::Uuid::parse("00000000-0000-0000-0000-000000000001");
    CHECK_THROWS_AS(db.get_agent(nobody), sb::UnknownAgent);
    CHECK_THROWS_AS(db.update_agent(nobody, change), sb::UnknownAgent);

    sb::AgentSettings bad;
    bad.rate_limit_per_hour = 1000;  // CHECK (rate_limit_per_hour BETWEEN 1 AND 100)
    try {
        db.create_agent(bad);
        FAIL("no exception");
    } catch (const sb::RuleViolation &e) {
        CHECK(e.sqlstate() == "23514");
    }
}

TEST_CASE("blocklist: any spelling blocks and unblocks the number", "[agents]") {
    sb::Client db;
    auto a = agent(db);
    CHECK(db.block_number(a, "(201) 555-0199", "spam") == "+12015550199");
    CHECK(db.block_number(a, "+1 201 555 0199", "spam again") == "+12015550199");  // idempotent
    auto list = db.list_blocked(a);
    REQUIRE(list.size() == 1);
    CHECK(list[0].phone == "+12015550199");
    CHECK(list[0].reason == "spam again");
    CHECK(db.record_inbound({a, "201-555-0199", "hi"}).decision == sb::Decision::blocked);
    CHECK(db.unblock_number(a, "2015550199"));
    CHECK_FALSE(db.unblock_number(a, "2015550199"));
    CHECK(db.list_blocked(a).empty());
    CHECK_THROWS_AS(db.block_number(a, "12"), sb::InvalidPhone);
    auto nobody = sb::Uuid::parse("00000000-0000-0000-0000-000000000002");
    CHECK_THROWS_AS(db.block_number(nobody, "+12015550199"), sb::UnknownAgent);
    CHECK_THROWS_AS(db.unblock_number(nobody, "+12015550199"), sb::UnknownAgent);
    CHECK_THROWS_AS(db.list_blocked(nobody), sb::UnknownAgent);
}

TEST_CASE("record_inbound: every decision", "[events]") {
    sb::Client db;
    auto a = agent(db, /*hourly*/ 2, /*daily*/ 1);

    // accepted: a new conversation, the welcome reply, the hourly budget
    auto r1 = db.record_inbound({a, "(201) 555-0101", "hello", R"({"sid": "SM1"})", at("2026-03-02T10:00:00Z")});
    CHECK(r1.decision == sb::Decision::accepted);
    REQUIRE(r1.conversation_id);
    REQUIRE(r1.session_id);
    REQUIRE(r1.message_id);
    CHECK(r1.is_new_conversation);
    CHECK(r1.is_new_session);
    CHECK(r1.reply == "welcome!");
    CHECK_FALSE(r1.retry_after);
    CHECK(r1.remaining == 1);

    auto r2 = db.record_inbound({a, "+12015550101", "again", "{}", at("2026-03-02T10:10:00Z")});
    CHECK(r2.decision == sb::Decision::accepted);
    CHECK(r2.conversation_id == r1.conversation_id);
    CHECK_FALSE(r2.is_new_conversation);
    CHECK_FALSE(r2.reply);
    CHECK(r2.remaining == 0);
    CHECK(*r2.message_id > *r1.message_id);

    // rate_limited: the hourly window is full until 11:00
    auto limit = db.check_rate_limit(a, "2015550101", at("2026-03-02T10:20:00Z"));
    CHECK(limit.decision == sb::Decision::rate_limited);
    REQUIRE(limit.retry_after);
    CHECK(*limit.retry_after == std::chrono::minutes(40));
    auto r3 = db.record_inbound({a, "2015550101", "third", "{}", at("2026-03-02T10:20:00Z")});
    CHECK(r3.decision == sb::Decision::rate_limited);
    REQUIRE(r3.retry_after);
    CHECK(*r3.retry_after == std::chrono::minutes(40));
    CHECK(r3.message_id);  // rejected messages are stored too
    CHECK(db.check_rate_limit(a, "2015550101", at("2026-03-02T11:00:01Z")).decision == sb::Decision::accepted);

    // daily_limit: one new conversation a day
    auto r4 = db.record_inbound({a, "2015550102", "new person", "{}", at("2026-03-02T12:00:00Z")});
    CHECK(r4.decision == sb::Decision::daily_limit);
    CHECK_FALSE(r4.is_new_conversation);
    CHECK_FALSE(r4.reply);

    // blocked
    db.block_number(a, "2015550103");
    CHECK(db.record_inbound({a, "(201) 555-0103", "x", "{}", at("2026-03-02T12:00:00Z")}).decision ==
          sb::Decision::blocked);

    // disabled
    auto off = agent(db, 10, 50, /*sms*/ false);
    auto r5 = db.record_inbound({off, "2015550101", "x"});
    CHECK(r5.decision == sb::Decision::disabled);
    CHECK_FALSE(r5.reply);
    CHECK(db.check_rate_limit(off, "2015550101").decision == sb::Decision::disabled);

    // errors
    auto nobody = sb::Uuid::parse("00000000-0000-0000-0000-000000000003");
    try {
        db.record_inbound({nobody, "2015550101", "x"});
        FAIL("no exception");
    } catch (const sb::UnknownAgent &e) {
        CHECK(e.sqlstate() == "P0002");
        CHECK(e.message() == "agent \"00000000-0000-0000-0000-000000000003\" does not exist");
    }
    CHECK_THROWS_AS(db.record_inbound({a, "12", "x"}), sb::InvalidPhone);
    CHECK_THROWS_AS(db.check_rate_limit(nobody, "2015550101"), sb::UnknownAgent);
}

TEST_CASE("record_inbound 0.2.0: after_hours, quota_remaining, quota_exceeded", "[events]") {
    sb::Client db;
    auto a = agent(db);
    auto id = a.str();
    sql1("update switchboard.agents set after_hours_message = 'closed now' where agent_id = '" + id + "'");
    // Monday 09:00-17:00 UTC; the free tier gets 2 messages a month
    sql1("insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time) values ('" + id +
         "', 1, '09:00', '17:00')");
    sql1("insert into switchboard.tiers (agent_id, tier, monthly_limit) values ('" + id + "', 'free', 2)");

    auto r1 = db.record_inbound({a, "(201) 555-0121", "open", "{}", at("2026-03-02T10:00:00Z")});
    CHECK(r1.decision == sb::Decision::accepted);
    CHECK_FALSE(r1.after_hours);
    CHECK(r1.reply == "welcome!");
    CHECK(r1.quota_remaining == 1);

    auto r2 = db.record_inbound({a, "(201) 555-0121", "late", "{}", at("2026-03-02T20:00:00Z")});
    CHECK(r2.decision == sb::Decision::accepted);
    CHECK(r2.after_hours);
    CHECK(r2.reply == "closed now");
    CHECK(r2.quota_remaining == 0);

    auto r3 = db.record_inbound({a, "(201) 555-0121", "over", "{}", at("2026-03-02T11:00:00Z")});
    CHECK(r3.decision == sb::Decision::quota_exceeded);
    CHECK(sb::to_string(r3.decision) == "quota_exceeded");
    REQUIRE(r3.retry_after);
    CHECK(*r3.retry_after == std::chrono::hours(24 * 29 + 13));  // until April 1st 00:00 UTC
    CHECK(db.check_rate_limit(a, "2015550121", at("2026-03-02T11:00:00Z")).decision == sb::Decision::quota_exceeded);

    // a contact without a limited tier: no quota_remaining
    auto other = agent(db);
    auto r4 = db.record_inbound({other, "(201) 555-0121", "hi", "{}", at("2026-03-02T10:00:00Z")});
    CHECK_FALSE(r4.quota_remaining);
    CHECK_FALSE(r4.after_hours);

    // the batch decodes the new columns too
    auto out = db.record_inbound_batch({{a, "(201) 555-0121", "b", "{}", at("2026-03-03T11:00:00Z")},
                                        {other, "(201) 555-0121", "b", "{}", at("2026-03-03T02:00:00Z")}});
    REQUIRE(out.size() == 2);
    REQUIRE(out[0].ok());
    CHECK(out[0].result->decision == sb::Decision::quota_exceeded);
    CHECK(out[0].result->quota_remaining == 0);
    REQUIRE(out[1].ok());
    CHECK(out[1].result->decision == sb::Decision::accepted);
}

TEST_CASE("upsert_conversation and record_outbound", "[events]") {
    sb::Client db;
    auto a = agent(db);
    auto c1 = db.upsert_conversation(a, "(201) 555-0111", at("2026-03-03T09:00:00Z"));
    CHECK(c1.is_new_conversation);
    CHECK(c1.is_new_session);
    auto r0 = db.record_inbound({a, "+12015550111", "hi", "{}", at("2026-03-03T09:01:00Z")});
    CHECK(r0.conversation_id == c1.conversation_id);
    auto c2 = db.upsert_conversation(a, "+12015550111", at("2026-03-03T09:05:00Z"));
    CHECK(c2.conversation_id == c1.conversation_id);
    CHECK(c2.session_id == r0.session_id);
    CHECK_FALSE(c2.is_new_conversation);
    CHECK_FALSE(c2.is_new_session);
    auto c3 = db.upsert_conversation(a, "+12015550111", at("2026-03-03T12:00:00Z"));  // after the timeout
    CHECK(c3.conversation_id == c1.conversation_id);
    CHECK(c3.is_new_session);
    CHECK(c3.session_id != c1.session_id);

    auto id = db.record_outbound({a, c1.conversation_id, "how can I help?", "{}", at("2026-03-03T12:00:01Z")});
    CHECK(id > 0);
    CHECK(sql1("select count(*) from switchboard.messages where direction = 'outbound' and message_id = " +
               std::to_string(id)) == "1");
    auto nowhere = sb::Uuid::parse("00000000-0000-0000-0000-000000000004");
    try {
        db.record_outbound({a, nowhere, "x"});
        FAIL("no exception");
    } catch (const sb::UnknownAgent &e) {
        CHECK(e.sqlstate() == "P0002");
    }
}

TEST_CASE("record_call: the status machine", "[events][calls]") {
    sb::Client db;
    auto a = agent(db);
    auto r1 = db.record_call({a, "CA1", "(201) 555-0121", sb::CallStatus::ringing, at("2026-03-04T09:00:00Z")});
    CHECK(r1.is_new_call);
    CHECK(r1.status == sb::CallStatus::ringing);
    CHECK(r1.call_id > 0);
    auto r2 = db.record_call({a, "CA1", "+12015550121", sb::CallStatus::in_progress, at("2026-03-04T09:00:05Z")});
    CHECK_FALSE(r2.is_new_call);
    CHECK(r2.call_id == r1.call_id);
    CHECK(r2.status == sb::CallStatus::in_progress);
    auto r3 = db.record_call({a, "CA1", "+12015550121", sb::CallStatus::completed, at("2026-03-04T09:03:05Z"),
                              std::chrono::seconds(180)});
    CHECK(r3.status == sb::CallStatus::completed);
    CHECK(sql1("select duration_seconds from switchboard.calls where call_sid = 'CA1' and agent_id = '" + a.str() +
               "'") == "180");
    try {
        // a late ringing webhook is ignored; a conflicting final status is a broken rule
        db.record_call({a, "CA1", "+12015550121", sb::CallStatus::failed, at("2026-03-04T09:04:00Z")});
        FAIL("no exception");
    } catch (const sb::RuleViolation &e) {
        CHECK(e.sqlstate() == "23514");
    }
    auto late = db.record_call({a, "CA1", "+12015550121", sb::CallStatus::ringing, at("2026-03-04T09:05:00Z")});
    CHECK(late.status == sb::CallStatus::completed);
    CHECK_THROWS_AS(db.record_call({a, "CA2", "12", sb::CallStatus::ringing}), sb::InvalidPhone);
    CHECK_THROWS_AS(db.record_call({sb::Uuid::parse("00000000-0000-0000-0000-000000000005"), "CA3",
                                    "+12015550121", sb::CallStatus::ringing}),
                    sb::UnknownAgent);
}

TEST_CASE("record_inbound_batch: results in order, bad events reported in place", "[batch]") {
    sb::Client db;
    auto a = agent(db, /*hourly*/ 3, /*daily*/ 50);
    auto nobody = sb::Uuid::parse("00000000-0000-0000-0000-000000000006");

    SECTION("all good: one statement") {
        std::vector<sb::InboundEvent> ev;
        for (int i = 0; i < 5; ++i)
            ev.push_back({a, "2015550131", "m" + std::to_string(i), "{}", at("2026-03-05T09:00:00Z") + i * 1min});
        auto out = db.record_inbound_batch(ev);
        REQUIRE(out.size() == 5);
        for (int i = 0; i < 3; ++i) CHECK(out[i].value().decision == sb::Decision::accepted);
        CHECK(out[0].value().is_new_conversation);
        CHECK(out[0].value().reply == "welcome!");
        CHECK(out[2].value().remaining == 0);
        CHECK(out[3].value().decision == sb::Decision::rate_limited);
        CHECK(out[4].value().decision == sb::Decision::rate_limited);
        for (int i = 1; i < 5; ++i) CHECK(*out[i].result->message_id > *out[i - 1].result->message_id);
        CHECK(db.record_inbound_batch({}).empty());
    }

    SECTION("bad events in the middle: errors in place, the others go in") {
        std::vector<sb::InboundEvent> ev = {
            {a, "2015550141", "ok 1", "{}", at("2026-03-05T10:00:00Z")},
            {a, "12", "bad phone", "{}", at("2026-03-05T10:01:00Z")},
            {a, "2015550142", "ok 2", "{}", at("2026-03-05T10:02:00Z")},
            {nobody, "2015550141", "unknown agent", "{}", at("2026-03-05T10:03:00Z")},
            {a, "2015550141", "bad json", "{nope", at("2026-03-05T10:03:30Z")},
            {a, "2015550141", "ok 3", "{\"k\": 1}", at("2026-03-05T10:04:00Z")},
        };
        auto out = db.record_inbound_batch(ev);
        REQUIRE(out.size() == 6);
        CHECK(out[0].ok());
        CHECK(out[0].result->is_new_conversation);
        REQUIRE(out[1].error);
        CHECK(out[1].error->sqlstate == "22023");
        CHECK(out[1].error->message == "invalid phone number \"12\"");
        CHECK_THROWS_AS(out[1].value(), sb::InvalidPhone);
        CHECK(out[2].ok());
        REQUIRE(out[3].error);
        CHECK(out[3].error->sqlstate == "P0002");
        CHECK_THROWS_AS(out[3].value(), sb::UnknownAgent);
        REQUIRE(out[4].error);
        CHECK(out[4].error->sqlstate == "22P02");
        CHECK(out[5].ok());
        CHECK(out[5].result->conversation_id == out[0].result->conversation_id);
        CHECK(out[5].result->remaining == 1);  // ok 1 and ok 3 counted, the failed ones not
        CHECK(sql1("select count(*) from switchboard.messages where agent_id = '" + a.str() + "'") == "3");
    }
}

TEST_CASE("record_outbound_batch: replies by phone number, in order, errors in place", "[batch]") {
    sb::Client db;
    auto a = agent(db);
    auto in = db.record_inbound({a, "(201) 555-0161", "hello", "{}", at("2026-03-07T09:00:00Z")});
    REQUIRE(in.conversation_id);

    SECTION("the batch statement: any spelling finds the conversation") {
        auto out = db.record_outbound_batch({
            {a, "+1 201-555-0161", "hi!", "{\"tokens_used\": 12}", at("2026-03-07T09:00:05Z")},
            {a, "2015550161", "anything else?", "{}", at("2026-03-07T09:00:09Z")},
        });
        REQUIRE(out.size() == 2);
        CHECK(out[1].value() > out[0].value());
        CHECK(sql1("select count(*) from switchboard.messages where agent_id = '" + a.str() +
                   "' and direction = 'outbound' and conversation_id = '" + in.conversation_id->str() + "'") == "2");
        CHECK(db.record_outbound_batch({}).empty());
    }

    SECTION("no conversation (P0002) and a bad number (22023): errors in place, the others go in") {
        auto out = db.record_outbound_batch({
            {a, "2015550161", "ok 1", "{}", at("2026-03-07T09:01:00Z")},
            {a, "2015550162", "nobody wrote", "{}", at("2026-03-07T09:01:01Z")},
            {a, "12", "bad phone", "{}", at("2026-03-07T09:01:02Z")},
            {a, "2015550161", "ok 2", "{}", at("2026-03-07T09:01:03Z")},
        });
        REQUIRE(out.size() == 4);
        CHECK(out[0].ok());
        REQUIRE(out[1].error);
        CHECK(out[1].error->sqlstate == "P0002");
        CHECK(out[1].error->message == "no conversation with \"2015550162\" for agent " + a.str());
        REQUIRE(out[2].error);
        CHECK(out[2].error->sqlstate == "22023");
        CHECK_THROWS_AS(out[2].value(), sb::InvalidPhone);
        CHECK(out[3].value() > out[0].value());
        CHECK(sql1("select count(*) from switchboard.messages where agent_id = '" + a.str() +
                   "' and direction = 'outbound'") == "2");
    }
}

TEST_CASE("record_call_batch: results in order, bad events reported in place", "[batch][calls]") {
    sb::Client db;
    auto a = agent(db);
    std::vector<sb::CallEvent> ev = {
        {a, "CB1", "2015550151", sb::CallStatus::ringing, at("2026-03-06T09:00:00Z")},
        {a, "CB1", "2015550151", sb::CallStatus::in_progress, at("2026-03-06T09:00:03Z")},
        {a, "CB2", "12", sb::CallStatus::ringing, at("2026-03-06T09:00:04Z")},
        {a, "CB1", "2015550151", sb::CallStatus::completed, at("2026-03-06T09:02:03Z"), std::chrono::seconds(120)},
        {a, "CB1", "2015550151", sb::CallStatus::failed, at("2026-03-06T09:03:00Z")},
    };
    auto out = db.record_call_batch(ev);
    REQUIRE(out.size() == 5);
    CHECK(out[0].value().is_new_call);
    CHECK(out[1].value().status == sb::CallStatus::in_progress);
    CHECK(out[1].value().call_id == out[0].value().call_id);
    CHECK(out[2].error->sqlstate == "22023");
    CHECK(out[3].value().status == sb::CallStatus::completed);
    CHECK(out[4].error->sqlstate == "23514");
    CHECK_THROWS_AS(out[4].value(), sb::RuleViolation);
}

TEST_CASE("permission denied", "[errors]") {
    sql1("do $$ begin if not exists (select from pg_roles where rolname = 'sb_client_noperm') then "
         "create role sb_client_noperm; end if; end $$");
    sb::Client db("options='-c role=sb_client_noperm'");
    try {
        db.record_inbound({sb::Uuid::parse("00000000-0000-0000-0000-000000000007"), "2015550101", "x"});
        FAIL("no exception");
    } catch (const sb::PermissionDenied &e) {
        CHECK(e.sqlstate() == "42501");
    }
    auto a = sb::Uuid::parse("00000000-0000-0000-0000-000000000007");
    std::vector<sb::InboundEvent> ev{{a, "2015550101", "x"}};
    CHECK_THROWS_AS(db.record_inbound_batch(ev), sb::PermissionDenied);  // not per event: nothing went in
}

TEST_CASE("connection errors", "[connection]") {
    try {
        sb::Client db("host=/nonexistent-dir port=1");
        FAIL("no exception");
    } catch (const sb::ConnectionError &e) {
        CHECK_FALSE(e.may_have_committed());
        CHECK(e.message().rfind("could not connect to the database: ", 0) == 0);
    }
    CHECK_THROWS_AS(sb::Client("this is not a connection string"), sb::ConnectionError);
    CHECK_THROWS_AS(sb::Client("postgresql://%zz"), sb::ConnectionError);
}

TEST_CASE("reconnect after the backend was terminated between calls", "[connection]") {
    sb::Client db;
    auto a = agent(db);
    int pid1 = db.backend_pid();
    CHECK(db.connection_count() == 1);

    sql1("select pg_terminate_backend(" + std::to_string(pid1) + ")");
    wait_backend_gone(pid1);
    CHECK(db.normalize_phone("2015550161", "US") == "+12015550161");  // read: reconnects
    int pid2 = db.backend_pid();
    CHECK(pid2 != pid1);
    CHECK(db.connection_count() == 2);

    sql1("select pg_terminate_backend(" + std::to_string(pid2) + ")");
    wait_backend_gone(pid2);
    // a write: the broken connection is noticed before anything is sent
    auto r = db.record_inbound({a, "2015550161", "after reconnect"});
    CHECK(r.decision == sb::Decision::accepted);
    CHECK(db.connection_count() == 3);
    std::vector<sb::InboundEvent> ev{{a, "2015550161", "batch after"}};
    CHECK(db.record_inbound_batch(ev)[0].ok());
}

TEST_CASE("a write whose connection breaks mid-call is not retried", "[connection]") {
    sb::Client db;
    auto a = agent(db);
    db.record_inbound({a, "2015550171", "first"});
    int pid = db.backend_pid();

    // Hold a lock the call needs, terminate its backend while it waits.
    pqxx::connection locker;
    pqxx::work lock_tx(locker);
    lock_tx.exec("lock table switchboard.conversations in access exclusive mode");
    std::atomic<int> outcome{0};  // 1 ConnectionError(may_have_committed), 2 other
    std::thread t([&] {
        try {
            db.record_inbound({a, "2015550171", "second"});
            outcome = 2;
        } catch (const sb::ConnectionError &e) {
            outcome = e.may_have_committed() ? 1 : 2;
        } catch (...) {
            outcome = 2;
        }
    });
    for (int i = 0; i < 500; ++i) {
        if (sql1("select wait_event_type from pg_stat_activity where pid = " + std::to_string(pid)) == "Lock") break;
        std::this_thread::sleep_for(10ms);
    }
    sql1("select pg_terminate_backend(" + std::to_string(pid) + ")");
    t.join();
    lock_tx.abort();
    CHECK(outcome == 1);
    // not retried behind our back: only the first message is there
    CHECK(sql1("select count(*) from switchboard.messages where agent_id = '" + a.str() + "'") == "1");
    // and the client works again
    CHECK(db.record_inbound({a, "2015550171", "third"}).decision == sb::Decision::accepted);
    CHECK(sql1("select count(*) from switchboard.messages where agent_id = '" + a.str() + "'") == "2");
}

TEST_CASE("date values", "[values]") {
    auto d = sb::Date::parse("2024-02-29");
    CHECK(d.year == 2024);
    CHECK(d.month == 2u);
    CHECK(d.day == 29u);
    CHECK(d.str() == "2024-02-29");
    CHECK(d.plus_days(1) == sb::Date::parse("2024-03-01"));
    CHECK(d.plus_days(-60).str() == "2023-12-31");
    CHECK(sb::Date::parse("1970-01-01").days_since_epoch() == 0);
    CHECK(sb::Date::from_timestamp(at("2026-11-18T23:59:59Z")).str() == "2026-11-18");
    CHECK(sb::Date::parse("2026-01-31") < sb::Date::parse("2026-02-01"));
    CHECK_FALSE(sb::Date::try_parse("2023-02-29"));
    CHECK_FALSE(sb::Date::try_parse("2026-13-01"));
    CHECK_FALSE(sb::Date::try_parse("2026-1-01"));
    CHECK_FALSE(sb::Date::try_parse("2026-01-01T00:00"));
    CHECK_THROWS_AS(sb::Date::parse("yesterday"), std::invalid_argument);
}

TEST_CASE("daily_stats after recorded events", "[stats]") {
    sb::Client db;
    auto a = agent(db, 10, 50);
    db.block_number(a, "2015550199", "spam");
    auto r1 = db.record_inbound({a, "(201) 555-0123", "one", "{}", at("2026-03-02T10:00:00Z")});
    db.record_inbound({a, "2015550123", "two", "{}", at("2026-03-02T10:01:00Z")});
    db.record_inbound({a, "+1 201 555 0123", "three", "{}", at("2026-03-02T10:02:00Z")});
    db.record_inbound({a, "2015550124", "other", "{}", at("2026-03-02T11:00:00Z")});
    CHECK(db.record_inbound({a, "2015550199", "spam", "{}", at("2026-03-02T12:00:00Z")}).decision ==
          sb::Decision::blocked);
    db.record_outbound({a, *r1.conversation_id, "hello", "{}", at("2026-03-02T10:00:30Z")});
    db.record_call({a, "CA-stats-1", "2015550125", sb::CallStatus::ringing, at("2026-03-02T13:00:00Z")});
    db.record_call({a, "CA-stats-1", "2015550125", sb::CallStatus::in_progress, at("2026-03-02T13:00:05Z")});
    db.record_call({a, "CA-stats-1", "2015550125", sb::CallStatus::completed, at("2026-03-02T13:01:05Z"), 60s});
    db.record_call({a, "CA-stats-2", "2015550126", sb::CallStatus::ringing, at("2026-03-03T09:00:00Z")});
    db.record_call({a, "CA-stats-2", "2015550126", sb::CallStatus::no_answer, at("2026-03-03T09:00:30Z")});

    auto days = db.daily_stats(a, sb::Date::parse("2026-03-01"), sb::Date::parse("2026-03-04"));
    REQUIRE(days.size() == 4);
    CHECK(days[0].day.str() == "2026-03-01");
    CHECK(days[3].day.str() == "2026-03-04");
    for (int i : {0, 3}) {  // quiet days: zeros, no averages
        CHECK(days[i].inbound == 0);
        CHECK(days[i].calls_total == 0);
        CHECK_FALSE(days[i].call_duration_avg);
        CHECK_FALSE(days[i].success_rate);
        CHECK(days[i].categories == "{}");
    }
    const auto &d = days[1];
    CHECK(d.day == sb::Date::parse("2026-03-02"));
    CHECK(d.inbound == 5);
    CHECK(d.accepted == 4);
    CHECK(d.blocked == 1);
    CHECK(d.rate_limited == 0);
    CHECK(d.outbound == 1);
    CHECK(d.new_conversations == 2);
    CHECK(d.unique_phones == 3);
    CHECK(d.calls_total == 1);
    CHECK(d.calls_answered == 1);
    CHECK(d.calls_completed == 1);
    CHECK(d.call_duration_total == 60);
    REQUIRE(d.call_duration_avg);
    CHECK(*d.call_duration_avg == Approx(60.0));
    CHECK(d.unique_callers == 1);
    CHECK(d.replies == 1);
    REQUIRE(d.reply_latency_avg);
    CHECK(*d.reply_latency_avg == Approx(30.0));
    CHECK(days[2].calls_total == 1);
    CHECK(days[2].calls_answered == 0);
    CHECK(days[2].calls_no_answer == 1);

    // one day; an inverted range is the server's 22023
    CHECK(db.daily_stats(a, sb::Date::parse("2026-03-02"), sb::Date::parse("2026-03-02")).size() == 1);
    try {
        db.daily_stats(a, sb::Date::parse("2026-03-03"), sb::Date::parse("2026-03-02"));
        FAIL("no exception");
    } catch (const sb::Error &e) {
        CHECK(e.sqlstate() == "22023");
    }
}

TEST_CASE("agent_summary after recorded events", "[stats]") {
    sb::Client db;
    auto a = agent(db, 2, 50);
    db.record_inbound({a, "2015550123", "one"});
    db.record_inbound({a, "2015550123", "two"});
    CHECK(db.record_inbound({a, "2015550123", "three"}).decision == sb::Decision::rate_limited);
    db.record_inbound({a, "2015550124", "other"});
    db.record_call({a, "CA-sum-1", "2015550125", sb::CallStatus::in_progress});
    db.record_call({a, "CA-sum-1", "2015550125", sb::CallStatus::completed, {}, 90s});
    db.record_call({a, "CA-sum-2", "2015550126", sb::CallStatus::busy});

    auto s = db.agent_summary(a);
    CHECK(s.to_day.days_since_epoch() - s.from_day.days_since_epoch() == 29);  // 30 days, today included
    CHECK(s.inbound == 4);
    CHECK(s.accepted == 3);
    CHECK(s.rate_limited == 1);
    CHECK(s.new_conversations == 2);
    CHECK(s.unique_phones == 2);
    CHECK(s.calls_total == 2);
    CHECK(s.calls_answered == 1);
    CHECK(s.calls_busy == 1);
    REQUIRE(s.answer_rate);
    CHECK(*s.answer_rate == Approx(0.5));
    REQUIRE(s.call_duration_avg);
    CHECK(*s.call_duration_avg == Approx(90.0));
    CHECK(s.unique_callers == 2);
    CHECK_FALSE(s.success_rate);

    auto one = db.agent_summary(a, 1);
    CHECK(one.from_day == one.to_day);
    CHECK(one.to_day == s.to_day);
    CHECK(one.inbound == 4);
    // the summary's window agrees with daily_stats over the same days
    auto days = db.daily_stats(a, s.from_day, s.to_day);
    REQUIRE(days.size() == 30);
    std::int64_t inbound = 0, calls = 0;
    for (const auto &d : days) {
        inbound += d.inbound;
        calls += d.calls_total;
    }
    CHECK(inbound == 4);
    CHECK(calls == 2);
    try {
        db.agent_summary(a, 0);
        FAIL("no exception");
    } catch (const sb::Error &e) {
        CHECK(e.sqlstate() == "22023");
    }
}

TEST_CASE("stats errors: unknown agent, another owner's agent, no privileges", "[stats][errors]") {
    sb::Client db;
    auto nobody = sb::Uuid::parse("00000000-0000-4000-8000-0000000000ee");
    auto d = sb::Date::parse("2026-03-02");
    CHECK_THROWS_AS(db.daily_stats(nobody, d, d), sb::UnknownAgent);
    try {
        db.agent_summary(nobody);
        FAIL("no exception");
    } catch (const sb::UnknownAgent &e) {
        CHECK(e.sqlstate() == "P0002");
        CHECK(e.message() == "agent \"" + nobody.str() + "\" does not exist");
    }

    // A signed-in role (grant_usage) reads its owner's agents; another
    // owner's agent is refused with 42501 (PermissionDenied), never data.
    sql1("do $$ begin if not exists (select from pg_roles where rolname = 'sb_client_owner') then "
         "create role sb_client_owner; end if; end $$");
    sql1("select switchboard.grant_usage('sb_client_owner')");
    sb::AgentSettings mine_s, theirs_s;
    mine_s.owner_id = sb::Uuid::parse("0a000000-0000-4000-8000-0000000000a1");
    theirs_s.owner_id = sb::Uuid::parse("0a000000-0000-4000-8000-0000000000b2");
    auto mine = db.create_agent(mine_s);
    auto theirs = db.create_agent(theirs_s);
    db.record_inbound({mine, "2015550123", "mine", "{}", at("2026-03-02T10:00:00Z")});
    db.record_inbound({theirs, "2015550123", "private", "{}", at("2026-03-02T10:00:00Z")});
    sb::Client owner("options='-c role=sb_client_owner -c request.jwt.claim.sub=" + mine_s.owner_id->str() + "'");
    auto own = owner.daily_stats(mine, d, d);
    REQUIRE(own.size() == 1);
    CHECK(own[0].inbound == 1);
    CHECK(owner.agent_summary(mine, 7).to_day.days_since_epoch() -
              owner.agent_summary(mine, 7).from_day.days_since_epoch() == 6);
    try {
        owner.daily_stats(theirs, d, d);
        FAIL("no exception");
    } catch (const sb::PermissionDenied &e) {
        CHECK(e.sqlstate() == "42501");
    }
    CHECK_THROWS_AS(owner.agent_summary(theirs), sb::PermissionDenied);
    // under row-level security a missing agent looks like another owner's (no existence leak)
    CHECK_THROWS_AS(owner.daily_stats(nobody, d, d), sb::PermissionDenied);

    // A role without switchboard privileges: permission denied.
    sql1("do $$ begin if not exists (select from pg_roles where rolname = 'sb_client_noperm') then "
         "create role sb_client_noperm; end if; end $$");
    sb::Client noperm("options='-c role=sb_client_noperm'");
    try {
        noperm.daily_stats(mine, d, d);
        FAIL("no exception");
    } catch (const sb::PermissionDenied &e) {
        CHECK(e.sqlstate() == "42501");
    }
    CHECK_THROWS_AS(noperm.agent_summary(mine), sb::PermissionDenied);
}
