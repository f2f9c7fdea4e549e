// Example: what an SMS webhook handler does with libswitchboard.
// Build against the installed library:
//   c++ -o inbound_webhook inbound_webhook.cpp $(pkg-config --cflags --libs switchboard)
// Run: ./inbound_webhook [CONNINFO]   (default: $DATABASE_URL or the PG* variables)
#include <switchboard/client.hpp>

#include <iostream>

int main(int argc, char **argv) {
    namespace sb = switchboard;
    try {
        sb::Client db(argc > 1 ? argv[1] : "");

        sb::AgentSettings settings;
        settings.display_name = "example";
        settings.sms_enabled = true;
        settings.rate_limit_per_hour = 2;
        sb::Uuid agent = db.create_agent(settings);

        // A provider posts three messages from the same person, spelled differently.
        for (const char *from : {"(201) 555-0123", "+1 201 555 0123", "201.555.0123"}) {
            sb::InboundResult r = db.record_inbound({agent, from, "hello"});
            std::cout << from << " -> " << sb::to_string(r.decision);
            if (r.reply) std::cout << ", reply: " << *r.reply;
            if (r.retry_after)
                std::cout << ", retry after "
                          << std::chrono::ceil<std::chrono::seconds>(*r.retry_after).count() << " s";
            std::cout << '\n';
        }
        try {
            db.record_inbound({agent, "12", "hello"});
        } catch (const sb::InvalidPhone &e) {
            std::cout << "rejected: " << e.message() << " (" << e.detail() << ")\n";
        }
        return 0;
    } catch (const sb::ConnectionError &e) {
        std::cerr << "inbound_webhook: " << e.message() << '\n';
    } catch (const sb::Error &e) {
        std::cerr << "inbound_webhook: " << e.what() << '\n';
    }
    return 1;
}
