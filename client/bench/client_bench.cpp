// Client-side throughput: record_inbound one call at a time (one autocommit
// statement each) vs record_inbound_batch (one statement per batch).
//   client_bench EVENTS SINGLE_EVENTS BATCH_SIZE
// Prints "single: N events in S s = R events/s", "batch: ...", "ratio: X".
#include <switchboard/client.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace sb = switchboard;

namespace {
sb::Uuid make_agent(sb::Client &db) {
    sb::AgentSettings s;
    s.display_name = "bench";
    s.sms_enabled = true;
    s.rate_limit_per_hour = 100;
    s.max_daily_conversations = 1000;
    return db.create_agent(s);
}

// Event i: one of 500 people, one message a second in all: about 7 an hour
// each, all accepted.
sb::InboundEvent event(const sb::Uuid &agent, long i) {
    static const sb::Timestamp base = *sb::parse_timestamp("2026-06-01T00:00:00Z");
    long person = i % 500;
    char phone[32];
    std::snprintf(phone, sizeof phone, "(201) 555-%04ld", person);
    return {agent, phone, "benchmark message", "{}", base + std::chrono::seconds(i)};
}
}  // namespace

int main(int argc, char **argv) {
    long events = argc > 1 ? std::atol(argv[1]) : 100000;
    long single = argc > 2 ? std::atol(argv[2]) : 20000;
    std::size_t batch_size = argc > 3 ? std::size_t(std::atol(argv[3])) : 1000;
    sb::Client db;

    auto a1 = make_agent(db);
    long accepted1 = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < single; ++i)
        if (db.record_inbound(event(a1, i)).decision == sb::Decision::accepted) ++accepted1;
    double s1 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    auto a2 = make_agent(db);
    long accepted2 = 0, errors = 0;
    t0 = std::chrono::steady_clock::now();
    std::vector<sb::InboundEvent> batch;
    for (long i = 0; i < events;) {
        batch.clear();
        for (std::size_t k = 0; k < batch_size && i < events; ++k, ++i) batch.push_back(event(a2, i));
        for (const auto &o : db.record_inbound_batch(batch)) {
            if (!o.ok())
                ++errors;
            else if (o.result->decision == sb::Decision::accepted)
                ++accepted2;
        }
    }
    double s2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    double r1 = single / s1, r2 = events / s2;
    std::printf("single calls:  %7ld events in %6.2f s = %8.0f events/s (%ld accepted)\n", single, s1, r1, accepted1);
    std::printf("batch of %-5zu %7ld events in %6.2f s = %8.0f events/s (%ld accepted, %ld errors)\n", batch_size,
                events, s2, r2, accepted2, errors);
    std::printf("ratio batch/single: %.1fx (target >= 4x)\n", r2 / r1);
    return accepted1 == single && accepted2 == events && errors == 0 ? 0 : 1;
}
