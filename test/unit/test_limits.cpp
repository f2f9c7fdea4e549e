// The event path's decision arithmetic: sliding log, retry_after, remaining, sessions.
#include "switchboard/cpp_only.hpp"
#include "switchboard/limits.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

using namespace switchboard::limits;

namespace {

const int64_t M = minute_us;
const int64_t H = hour_us;

RateDecision eval(const std::vector<int64_t> &log, int64_t at, int limit)
{
    return evaluate(log.data(), static_cast<int>(log.size()), at, limit);
}

std::vector<int64_t> admitted(const std::vector<int64_t> &log, int64_t at)
{
    int64_t out[max_window];
    int n = admit(log.data(), static_cast<int>(log.size()), at, out);
    return std::vector<int64_t>(out, out + n);
}

// The invariant: every hour (s - 1h, s] ending at an accepted message holds at most `limit`.
bool holds(std::vector<int64_t> log, int limit)
{
    std::sort(log.begin(), log.end());
    for (size_t j = 0; j < log.size(); j++) {
        int n = 0;
        for (size_t i = 0; i < log.size(); i++)
            if (log[i] > log[j] - H && log[i] <= log[j])
                n++;
        if (n > limit)
            return false;
    }
    return true;
}

}  // namespace

TEST_CASE("an empty log accepts with limit - 1 remaining", "[limits]")
{
    RateDecision d = eval({}, 10 * H, 10);
    CHECK(d.accepted);
    CHECK(d.remaining == 9);
    CHECK(eval({}, 10 * H, 1).remaining == 0);
}

TEST_CASE("the limit-th message in an hour is accepted, the next one refused", "[limits]")
{
    std::vector<int64_t> log = {0, 10 * M};
    RateDecision third = eval(log, 20 * M, 3);
    CHECK(third.accepted);
    CHECK(third.remaining == 0);
    log.push_back(20 * M);
    RateDecision fourth = eval(log, 30 * M, 3);
    CHECK_FALSE(fourth.accepted);
    CHECK(fourth.remaining == 0);
    CHECK(fourth.retry_after_us == 30 * M);  // 0 leaves the window at 60 min
}

TEST_CASE("the window is open on the left: exactly one hour later the oldest no longer counts", "[limits]")
{
    std::vector<int64_t> log = {0, 10 * M, 20 * M};
    CHECK_FALSE(eval(log, H - 1, 3).accepted);
    CHECK(eval(log, H - 1, 3).retry_after_us == 1);
    RateDecision d = eval(log, H, 3);
    CHECK(d.accepted);
    CHECK(d.remaining == 0);
}

TEST_CASE("retry_after points at the moment a message is accepted", "[limits]")
{
    std::vector<int64_t> log = {5 * M, 6 * M, 7 * M, 50 * M};
    RateDecision d = eval(log, 55 * M, 4);
    REQUIRE_FALSE(d.accepted);
    CHECK(d.retry_after_us == 10 * M);  // 5 min leaves at 65 min
    CHECK(eval(log, 55 * M + d.retry_after_us, 4).accepted);
    CHECK_FALSE(eval(log, 55 * M + d.retry_after_us - 1, 4).accepted);
}

TEST_CASE("a lower limit than the log holds refuses until enough entries leave", "[limits]")
{
    std::vector<int64_t> log = {1 * M, 2 * M, 3 * M, 4 * M, 5 * M};
    RateDecision d = eval(log, 10 * M, 2);
    REQUIRE_FALSE(d.accepted);
    CHECK(d.retry_after_us == 54 * M);  // at 64 min the hour (4, 64] holds only 5: 1 < 2
    CHECK(eval(log, 10 * M + d.retry_after_us, 2).accepted);
}

TEST_CASE("out of order: a late message may not overfill an hour ending at a later one", "[limits]")
{
    // 3 per hour; accepted at 0, 30, 70 min.  A message stamped 50 min arriving
    // now: the hour before it holds 0 and 30 (2 < 3) but the hour before 70
    // would hold 30, 50, 70: still 3, fine.  A second one stamped 55 would make
    // it 4.
    std::vector<int64_t> log = {0, 30 * M, 70 * M};
    RateDecision d = eval(log, 50 * M, 3);
    CHECK(d.accepted);
    log = admitted(log, 50 * M);
    CHECK(holds(log, 3));
    CHECK_FALSE(eval(log, 55 * M, 3).accepted);
}

TEST_CASE("admit keeps the log sorted and drops what is older than an hour and the slack", "[limits]")
{
    std::vector<int64_t> log = admitted({0, 10 * M, 20 * M}, 5 * M);
    CHECK(log == std::vector<int64_t>{0, 5 * M, 10 * M, 20 * M});
    log = admitted(log, 3 * H);
    CHECK(log == std::vector<int64_t>{3 * H});
    log = admitted({2 * H - H - retention_slack_us, 2 * H - H - retention_slack_us + 1}, 2 * H);
    CHECK(log == std::vector<int64_t>{2 * H - H - retention_slack_us + 1, 2 * H});
}

TEST_CASE("admit keeps at most max_window entries, the newest", "[limits]")
{
    std::vector<int64_t> log;
    for (int i = 0; i < max_window; i++)
        log.push_back(i);
    log = admitted(log, 1000);
    REQUIRE(log.size() == static_cast<size_t>(max_window));
    CHECK(log.front() == 1);
    CHECK(log.back() == 1000);
}

TEST_CASE("admit sorts a log written by hand", "[limits]")
{
    CHECK(admitted({30 * M, 10 * M}, 20 * M) == std::vector<int64_t>{10 * M, 20 * M, 30 * M});
}

TEST_CASE("random streams, slightly out of order, never break the invariant and match a brute force", "[limits]")
{
    std::mt19937_64 rng(42);
    for (int round = 0; round < 200; round++) {
        int limit = 1 + static_cast<int>(rng() % 12);
        std::vector<int64_t> log, accepted;
        int64_t t = 0;
        for (int i = 0; i < 300; i++) {
            t += static_cast<int64_t>(rng() % (20 * M));
            int64_t at = t - static_cast<int64_t>(rng() % (2 * M));  // jitter: up to 2 min late
            RateDecision d = eval(log, at, limit);
            std::vector<int64_t> with = accepted;
            with.push_back(at);
            // Brute force over the recent accepted messages.
            std::vector<int64_t> recent;
            for (int64_t x : with)
                if (x > at - 2 * H)
                    recent.push_back(x);
            REQUIRE(d.accepted == holds(recent, limit));
            if (d.accepted) {
                log = admitted(log, at);
                accepted.push_back(at);
            } else {
                REQUIRE(d.retry_after_us > 0);
                REQUIRE(eval(log, at + d.retry_after_us, limit).accepted);
            }
        }
        REQUIRE(holds(accepted, limit));
    }
}

TEST_CASE("session rollover after the timeout, not at it", "[limits]")
{
    CHECK(session_expired(false, 0, 0, 30));
    CHECK_FALSE(session_expired(true, 0, 30 * M, 30));
    CHECK(session_expired(true, 0, 30 * M + 1, 30));
    CHECK_FALSE(session_expired(true, 10 * M, 5 * M, 30));  // out of order: no rollover
}
