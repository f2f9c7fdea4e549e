// switchboard: the command-line client, on libswitchboard.
//
//   switchboard [--db URL] normalize [--region CC] [NUMBER...]   (stdin, one per line, without NUMBERs)
//   switchboard [--db URL] ingest [--batch-size N] FILE.csv       (- for stdin)
//   switchboard [--db URL] agents add|list|set|block|unblock|blocked ...
//   switchboard [--db URL] stats --agent ID [--days N | --from DAY --to DAY] [--format table|csv|json]
//
// Exit status: 0 success, 1 error, 2 usage, 3 ingest finished but some lines
// were malformed or rejected with an error.
#include <switchboard/client.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

namespace sb = switchboard;

namespace {

const char *const kUsage =
    "usage: switchboard [--db URL] COMMAND ...\n"
    "\n"
    "  normalize [--region CC] [NUMBER...]    E.164 form of each number (stdin, one per line, without NUMBERs)\n"
    "  ingest [--batch-size N] FILE.csv       replay message and call events (- reads stdin):\n"
    "                                         kind sms (inbound), reply (outbound) or call\n"
    "  agents add [SETTINGS]                  create an agent; prints its id\n"
    "  agents list [--owner UUID]             list agents\n"
    "  agents set AGENT_ID SETTINGS           change settings\n"
    "  agents block AGENT_ID PHONE [--reason TEXT]\n"
    "  agents unblock AGENT_ID PHONE\n"
    "  agents blocked AGENT_ID                list blocked numbers\n"
    "  stats --agent ID [--days 30] [--format table|csv|json]\n"
    "        [--from YYYY-MM-DD --to YYYY-MM-DD]\n"
    "                                         daily analytics (agent's timezone): table and bar chart,\n"
    "                                         or every column as csv/json; --days N: the last N days\n"
    "\n"
    "SETTINGS: --id UUID (add only) --owner UUID --name TEXT --sms|--no-sms --auto-respond|--no-auto-respond\n"
    "          --welcome TEXT --session-timeout MINUTES --daily N --hourly N --region CC --timezone TZ\n"
    "\n"
    "The database: --db URL, else $DATABASE_URL, else libpq's PG* variables.\n";

struct Usage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

int parse_int(const std::string &opt, const std::string &v) {
    try {
        std::size_t n = 0;
        int x = std::stoi(v, &n);
        if (n == v.size()) return x;
    } catch (const std::exception &) {
    }
    throw Usage(opt + ": not an integer: \"" + v + "\"");
}

sb::Uuid parse_uuid(const std::string &what, const std::string &v) {
    if (auto u = sb::Uuid::try_parse(v)) return *u;
    throw Usage(what + ": not a uuid: \"" + v + "\"");
}

// --- normalize -------------------------------------------------------------------

int cmd_normalize(sb::Client &db, std::vector<std::string> args) {
    std::optional<std::string> region;
    std::vector<std::string> numbers;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--region") {
            if (i + 1 >= args.size()) throw Usage("--region needs a value");
            region = args[++i];
        } else if (args[i].rfind("--region=", 0) == 0) {
            region = args[i].substr(9);
        } else {
            numbers.push_back(args[i]);
        }
    }
    int bad = 0;
    auto one = [&](const std::string &raw, const std::string &where) {
        try {
            std::cout << db.normalize_phone(raw, region ? std::optional<std::string_view>(*region) : std::nullopt)
                      << '\n';
        } catch (const sb::InvalidPhone &e) {
            std::cout << '\n';
            std::cerr << "switchboard: " << where << ": " << e.message();
            if (!e.detail().empty()) std::cerr << ": " << e.detail();
            std::cerr << '\n';
            ++bad;
        }
    };
    if (numbers.empty()) {
        std::string line;
        long n = 0;
        while (std::getline(std::cin, line)) {
            ++n;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) {
                std::cout << '\n';
                continue;
            }
            one(line, "line " + std::to_string(n));
        }
    } else {
        for (std::size_t i = 0; i < numbers.size(); ++i) one(numbers[i], "argument " + std::to_string(i + 1));
    }
    std::cout.flush();
    return bad ? 1 : 0;
}

// --- ingest ----------------------------------------------------------------------

struct CsvRecord {
    long line;
    std::vector<std::string> fields;
};

// RFC 4180: quoted fields may hold commas, quotes ("") and newlines; line
// is the physical line a record starts on.  An unterminated quote is reported.
std::vector<CsvRecord> read_csv(std::istream &in, std::vector<std::string> &problems) {
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<CsvRecord> out;
    long line = 1;
    std::size_t i = 0;
    while (i < data.size()) {
        CsvRecord rec{line, {}};
        std::string field;
        bool in_quotes = false, done = false, quoted_field = false;
        while (!done) {
            if (i >= data.size()) {
                if (in_quotes) problems.push_back("line " + std::to_string(rec.line) + ": unterminated quoted field");
                rec.fields.push_back(field);
                done = true;
                break;
            }
            char c = data[i++];
            if (in_quotes) {
                if (c == '"') {
                    if (i < data.size() && data[i] == '"') {
                        field += '"';
                        ++i;
                    } else {
                        in_quotes = false;
                    }
                } else {
                    if (c == '\n') ++line;
                    field += c;
                }
            } else if (c == '"' && field.empty() && !quoted_field) {
                in_quotes = quoted_field = true;
            } else if (c == ',') {
                rec.fields.push_back(field);
                field.clear();
                quoted_field = false;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i < data.size() && data[i] == '\n') ++i;
                ++line;
                rec.fields.push_back(field);
                done = true;
            } else {
                field += c;
            }
        }
        bool blank = rec.fields.size() == 1 && rec.fields[0].empty();
        if (!blank) out.push_back(std::move(rec));
    }
    return out;
}

// kind sms: an inbound message; reply: an outbound one, to the conversation
// of (agent_id, phone); call: a call status event.
enum class Kind { sms, reply, call };

struct Row {
    long line;
    Kind kind;
    sb::InboundEvent sms;
    sb::OutboundToPhone reply;
    sb::CallEvent call;
};

std::string fmt_count(long long n) {
    std::string s = std::to_string(n), out;
    int k = 0;
    for (auto it = s.rbegin(); it != s.rend(); ++it) {
        if (k && k % 3 == 0 && *it != '-') out.push_back(',');
        out.push_back(*it);
        ++k;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::string fmt_secs(double s) {
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) / 60) % 60);
    return buf;
}

int cmd_ingest(sb::Client &db, std::vector<std::string> args) {
    std::size_t batch_size = 500;
    std::string file;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--batch-size") {
            if (i + 1 >= args.size()) throw Usage("--batch-size needs a value");
            int n = parse_int("--batch-size", args[++i]);
            if (n < 1 || n > 100000) throw Usage("--batch-size must be between 1 and 100000");
            batch_size = static_cast<std::size_t>(n);
        } else if (file.empty()) {
            file = args[i];
        } else {
            throw Usage("ingest takes one file");
        }
    }
    if (file.empty()) throw Usage("ingest needs a FILE.csv (- for stdin)");

    std::vector<std::string> problems;
    std::vector<CsvRecord> records;
    if (file == "-") {
        records = read_csv(std::cin, problems);
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "switchboard: could not open \"" << file << "\": " << std::strerror(errno) << '\n';
            return 1;
        }
        records = read_csv(in, problems);
    }
    if (records.empty()) {
        std::cerr << "switchboard: " << file << ": no header line\n";
        return 1;
    }
    // The header names the columns, in any order.
    std::map<std::string, std::size_t> col;
    const auto &header = records.front().fields;
    for (std::size_t i = 0; i < header.size(); ++i) {
        std::string h = header[i];
        h.erase(0, h.find_first_not_of(" \t"));
        h.erase(h.find_last_not_of(" \t") + 1);
        col[h] = i;
    }
    for (const char *req : {"kind", "agent_id", "phone"}) {
        if (!col.count(req)) {
            std::cerr << "switchboard: " << file << ": line 1: the header has no column \"" << req
                      << "\" (expected kind,at,agent_id,phone,body,call_sid,status,duration_seconds,metadata)\n";
            return 1;
        }
    }
    long malformed = 0;
    const std::size_t max_reports = 100;
    std::size_t reports = 0;
    auto report = [&](const std::string &msg) {
        if (reports++ < max_reports)
            std::cerr << "switchboard: " << file << ": " << msg << '\n';
        else if (reports == max_reports + 1)
            std::cerr << "switchboard: " << file << ": (further problems not shown)\n";
    };
    for (const auto &p : problems) {
        report(p);
        ++malformed;
    }

    std::vector<Row> rows;
    rows.reserve(records.size());
    for (std::size_t r = 1; r < records.size(); ++r) {
        const auto &rec = records[r];
        if (rec.fields.size() != header.size()) {
            report("line " + std::to_string(rec.line) + ": expected " + std::to_string(header.size()) +
                   " fields, found " + std::to_string(rec.fields.size()));
            ++malformed;
            continue;
        }
        auto get = [&](const char *name) -> std::string {
            auto it = col.find(name);
            return it == col.end() ? std::string() : rec.fields[it->second];
        };
        std::string bad_col, bad_val, why;
        auto bad = [&](const char *c, const std::string &v, const std::string &w) {
            if (bad_col.empty()) {
                bad_col = c;
                bad_val = v;
                why = w;
            }
        };
        Row row{rec.line, Kind::sms, {}, {}, {}};
        std::string kind = get("kind");
        if (kind == "call")
            row.kind = Kind::call;
        else if (kind == "reply")
            row.kind = Kind::reply;
        else if (kind != "sms")
            bad("kind", kind, "expected sms, reply or call");
        auto agent = sb::Uuid::try_parse(get("agent_id"));
        if (!agent) bad("agent_id", get("agent_id"), "not a uuid");
        std::optional<sb::Timestamp> at;
        if (!get("at").empty()) {
            at = sb::parse_timestamp(get("at"));
            if (!at) bad("at", get("at"), "not an ISO 8601 timestamp");
        }
        std::string phone = get("phone");
        if (phone.find_first_not_of(" \t") == std::string::npos) bad("phone", phone, "empty");
        std::string metadata = get("metadata");
        if (metadata.empty()) metadata = "{}";
        if (metadata.front() != '{') bad("metadata", get("metadata"), "not a JSON object");
        if (row.kind == Kind::call) {
            auto status = sb::parse_call_status(get("status"));
            if (!status)
                bad("status", get("status"),
                    "expected ringing, in_progress, completed, failed, busy, no_answer or canceled");
            if (get("call_sid").empty()) bad("call_sid", "", "empty");
            std::optional<std::chrono::seconds> dur;
            std::string d = get("duration_seconds");
            if (!d.empty()) {
                if (d.find_first_not_of("0123456789") != std::string::npos || d.size() > 9)
                    bad("duration_seconds", d, "not a non-negative integer");
                else
                    dur = std::chrono::seconds(std::stol(d));
            }
            if (bad_col.empty())
                row.call = sb::CallEvent{*agent, get("call_sid"), phone, *status, at, dur, metadata};
        } else if (bad_col.empty() && row.kind == Kind::reply) {
            row.reply = sb::OutboundToPhone{*agent, phone, get("body"), metadata, at};
        } else if (bad_col.empty()) {
            row.sms = sb::InboundEvent{*agent, phone, get("body"), metadata, at};
        }
        if (!bad_col.empty()) {
            report("line " + std::to_string(rec.line) + ", column " + bad_col + ": " + why + ": \"" +
                   bad_val.substr(0, 80) + "\"");
            ++malformed;
            continue;
        }
        rows.push_back(std::move(row));
    }

    // Replay in chunks: each chunk's inbound messages go in one batch, then its
    // replies (their conversations are open by then), then its calls.
    const bool tty = isatty(STDERR_FILENO);
    const auto start = std::chrono::steady_clock::now();
    std::map<sb::Decision, long> decisions;
    std::map<std::string, long> errors;  // by sqlstate
    long calls = 0, new_calls = 0, messages = 0, new_conversations = 0, replies = 0, outbound = 0;
    bool no_record_call = false;
    int next_tenth = 1;
    auto progress = [&](std::size_t done, bool final) {
        double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double rate = el > 0 ? done / el : 0;
        double eta = rate > 0 ? (rows.size() - done) / rate : 0;
        int pct = rows.empty() ? 100 : int(100.0 * done / rows.size());
        if (tty) {
            int w = 30, fill = pct * w / 100;
            std::fprintf(stderr, "\r[%s%s] %3d%%  %s/%s rows  %s rows/s  ETA %s   ",
                         std::string(fill, '#').c_str(), std::string(w - fill, '-').c_str(), pct,
                         fmt_count(done).c_str(), fmt_count(rows.size()).c_str(), fmt_count((long long)rate).c_str(),
                         fmt_secs(eta).c_str());
            if (final) std::fputc('\n', stderr);
        } else if (final || pct >= next_tenth * 10) {
            while (next_tenth * 10 <= pct) ++next_tenth;
            std::fprintf(stderr, "ingest: %s/%s rows (%d%%), %s rows/s, ETA %s\n", fmt_count(done).c_str(),
                         fmt_count(rows.size()).c_str(), pct, fmt_count((long long)rate).c_str(),
                         fmt_secs(eta).c_str());
        }
        std::fflush(stderr);
    };
    auto event_error = [&](long line, const sb::EventError &e) {
        ++errors[e.sqlstate];
        report("line " + std::to_string(line) + ": " + e.message + (e.detail.empty() ? "" : ": " + e.detail) +
               " (SQLSTATE " + e.sqlstate + ")");
    };
    for (std::size_t off = 0; off < rows.size(); off += batch_size) {
        std::size_t end = std::min(rows.size(), off + batch_size);
        std::vector<sb::InboundEvent> sms;
        std::vector<sb::OutboundToPhone> out_msgs;
        std::vector<sb::CallEvent> cev;
        std::vector<long> sms_lines, out_lines, call_lines;
        for (std::size_t i = off; i < end; ++i) {
            if (rows[i].kind == Kind::call) {
                cev.push_back(rows[i].call);
                call_lines.push_back(rows[i].line);
            } else if (rows[i].kind == Kind::reply) {
                out_msgs.push_back(rows[i].reply);
                out_lines.push_back(rows[i].line);
            } else {
                sms.push_back(rows[i].sms);
                sms_lines.push_back(rows[i].line);
            }
        }
        if (!sms.empty()) {
            auto out = db.record_inbound_batch(sms);
            for (std::size_t k = 0; k < out.size(); ++k) {
                if (!out[k].ok()) {
                    event_error(sms_lines[k], *out[k].error);
                    continue;
                }
                const auto &r = *out[k].result;
                ++messages;
                ++decisions[r.decision];
                if (r.is_new_conversation) ++new_conversations;
                if (r.reply) ++replies;
            }
        }
        if (!out_msgs.empty()) {
            auto out = db.record_outbound_batch(out_msgs);
            for (std::size_t k = 0; k < out.size(); ++k) {
                if (out[k].ok())
                    ++outbound;
                else
                    event_error(out_lines[k], *out[k].error);
            }
        }
        if (!cev.empty() && !no_record_call) {
            std::vector<sb::Outcome<sb::CallResult>> out;
            try {
                out = db.record_call_batch(cev);
            } catch (const sb::Error &e) {
                if (e.sqlstate() != "42883") throw;  // undefined_function: an extension without record_call
                std::cerr << "switchboard: " << e.message() << ": call events are skipped\n";
                no_record_call = true;
            }
            for (std::size_t k = 0; k < out.size(); ++k) {
                if (!out[k].ok()) {
                    event_error(call_lines[k], *out[k].error);
                    continue;
                }
                ++calls;
                if (out[k].result->is_new_call) ++new_calls;
            }
        }
        progress(end, end == rows.size());
    }
    if (rows.empty()) progress(0, true);
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    long nerr = 0;
    for (const auto &e : errors) nerr += e.second;
    std::printf("ingested %s of %s events from %s in %.2f s (%s events/s)\n", fmt_count(messages + outbound + calls).c_str(),
                fmt_count(records.size() - 1).c_str(), file.c_str(), el,
                fmt_count(el > 0 ? (long long)(rows.size() / el) : 0).c_str());
    std::printf("messages     %8s\n", fmt_count(messages).c_str());
    for (auto d : {sb::Decision::accepted, sb::Decision::blocked, sb::Decision::disabled, sb::Decision::rate_limited,
                   sb::Decision::daily_limit})
        std::printf("  %-12s %8s\n", std::string(sb::to_string(d)).c_str(), fmt_count(decisions[d]).c_str());
    if (decisions[sb::Decision::quota_exceeded])  // 0.2.0: only agents with tiers
        std::printf("  %-12s %8s\n", "quota_exceeded", fmt_count(decisions[sb::Decision::quota_exceeded]).c_str());
    std::printf("  new conversations %s, welcome replies %s\n", fmt_count(new_conversations).c_str(),
                fmt_count(replies).c_str());
    std::printf("outbound     %8s\n", fmt_count(outbound).c_str());
    std::printf("call events  %8s  (%s new calls)\n", fmt_count(calls).c_str(), fmt_count(new_calls).c_str());
    std::printf("errors       %8s", fmt_count(nerr).c_str());
    if (nerr) {
        const char *sep = "  (";
        for (const auto &e : errors) {
            const char *name = e.first == "22023"   ? "invalid phone"
                               : e.first == "P0002" ? "unknown agent or no conversation"
                               : e.first == "23514" ? "rule violation"
                                                    : nullptr;
            std::printf("%s%s %s", sep, name ? name : ("SQLSTATE " + e.first).c_str(), fmt_count(e.second).c_str());
            sep = ", ";
        }
        std::printf(")");
    }
    std::printf("\nmalformed    %8s lines\n", fmt_count(malformed).c_str());
    std::fflush(stdout);
    return (malformed || nerr) ? 3 : 0;
}

// --- stats ----------------------------------------------------------------------------

std::string fmt_opt(const std::optional<double> &v, const char *fmt = "%.10g") {
    if (!v) return {};
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, *v);
    return buf;
}

std::string csv_field(const std::string &v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

const char *weekday(const sb::Date &d) {
    static const char *const names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    long long n = d.days_since_epoch() + 4;  // 1970-01-01 was a Thursday
    return names[((n % 7) + 7) % 7];
}

// Every column of daily_stats, in its order: (name, value as text; empty for NULL).
std::vector<std::pair<const char *, std::string>> daily_columns(const sb::DailyStats &d) {
    auto n = [](std::int64_t v) { return std::to_string(v); };
    return {{"day", d.day.str()},
            {"inbound", n(d.inbound)},
            {"accepted", n(d.accepted)},
            {"blocked", n(d.blocked)},
            {"rate_limited", n(d.rate_limited)},
            {"daily_limit", n(d.daily_limit)},
            {"disabled", n(d.disabled)},
            {"outbound", n(d.outbound)},
            {"new_conversations", n(d.new_conversations)},
            {"new_sessions", n(d.new_sessions)},
            {"unique_phones", n(d.unique_phones)},
            {"calls_total", n(d.calls_total)},
            {"calls_answered", n(d.calls_answered)},
            {"calls_completed", n(d.calls_completed)},
            {"calls_failed", n(d.calls_failed)},
            {"calls_busy", n(d.calls_busy)},
            {"calls_no_answer", n(d.calls_no_answer)},
            {"calls_canceled", n(d.calls_canceled)},
            {"call_duration_total", n(d.call_duration_total)},
            {"call_duration_avg", fmt_opt(d.call_duration_avg)},
            {"unique_callers", n(d.unique_callers)},
            {"replies", n(d.replies)},
            {"reply_latency_avg", fmt_opt(d.reply_latency_avg)},
            {"ai_tasks", n(d.ai_tasks)},
            {"tokens_used", n(d.tokens_used)},
            {"processing_ms_avg", fmt_opt(d.processing_ms_avg)},
            {"success_rate", fmt_opt(d.success_rate)},
            {"categories", d.categories}};
}

std::vector<std::pair<const char *, std::string>> summary_columns(const sb::AgentSummary &s) {
    auto n = [](std::int64_t v) { return std::to_string(v); };
    return {{"from_day", s.from_day.str()},
            {"to_day", s.to_day.str()},
            {"inbound", n(s.inbound)},
            {"accepted", n(s.accepted)},
            {"blocked", n(s.blocked)},
            {"rate_limited", n(s.rate_limited)},
            {"daily_limit", n(s.daily_limit)},
            {"disabled", n(s.disabled)},
            {"outbound", n(s.outbound)},
            {"new_conversations", n(s.new_conversations)},
            {"new_sessions", n(s.new_sessions)},
            {"unique_phones", n(s.unique_phones)},
            {"calls_total", n(s.calls_total)},
            {"calls_answered", n(s.calls_answered)},
            {"calls_completed", n(s.calls_completed)},
            {"calls_failed", n(s.calls_failed)},
            {"calls_busy", n(s.calls_busy)},
            {"calls_no_answer", n(s.calls_no_answer)},
            {"calls_canceled", n(s.calls_canceled)},
            {"answer_rate", fmt_opt(s.answer_rate)},
            {"call_duration_total", n(s.call_duration_total)},
            {"call_duration_avg", fmt_opt(s.call_duration_avg)},
            {"unique_callers", n(s.unique_callers)},
            {"replies", n(s.replies)},
            {"reply_latency_avg", fmt_opt(s.reply_latency_avg)},
            {"ai_tasks", n(s.ai_tasks)},
            {"tokens_used", n(s.tokens_used)},
            {"processing_ms_avg", fmt_opt(s.processing_ms_avg)},
            {"success_rate", fmt_opt(s.success_rate)}};
}

// A JSON object from (name, text) columns: days quoted, empty as null,
// categories raw (it is JSON already), the rest numbers.
std::string json_object(const std::vector<std::pair<const char *, std::string>> &cols) {
    std::string out = "{";
    for (const auto &c : cols) {
        if (out.size() > 1) out += ", ";
        out += '"';
        out += c.first;
        out += "\": ";
        const std::string name = c.first;
        if (name == "day" || name == "from_day" || name == "to_day")
            out += '"' + c.second + '"';
        else if (c.second.empty())
            out += "null";
        else
            out += c.second;
    }
    return out + "}";
}

// A bar of `width` columns for parts that add up to at most `max`, one mark
// character per part; cumulative rounding so the parts never drift.
std::string bar(const std::vector<std::pair<std::int64_t, char>> &parts, std::int64_t max, int width) {
    std::string out;
    std::int64_t sum = 0;
    int drawn = 0;
    for (const auto &p : parts) {
        sum += p.first;
        int upto = max > 0 ? static_cast<int>((sum * width + max / 2) / max) : 0;
        if (p.first > 0 && upto == drawn && drawn < width) upto = drawn + 1;  // something shows as one mark
        for (; drawn < upto && drawn < width; ++drawn) out += p.second;
    }
    return out;
}

int cmd_stats(sb::Client &db, std::vector<std::string> args) {
    std::optional<sb::Uuid> agent;
    std::optional<int> days;
    std::optional<sb::Date> from, to;
    std::string format = "table";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto val = [&]() -> const std::string & {
            if (i + 1 >= args.size()) throw Usage(a + " needs a value");
            return args[++i];
        };
        auto date = [&](const std::string &v) {
            if (auto d = sb::Date::try_parse(v)) return *d;
            throw Usage(a + ": not a day (YYYY-MM-DD): \"" + v + "\"");
        };
        if (a == "--agent")
            agent = parse_uuid("--agent", val());
        else if (a == "--days")
            days = parse_int(a, val());
        else if (a == "--from")
            from = date(val());
        else if (a == "--to")
            to = date(val());
        else if (a == "--format")
            format = val();
        else
            throw Usage("stats: unknown argument \"" + a + "\"");
    }
    if (!agent) throw Usage("stats needs --agent ID");
    if (format != "table" && format != "csv" && format != "json")
        throw Usage("--format: expected table, csv or json, not \"" + format + "\"");
    if (bool(from) != bool(to)) throw Usage("stats: --from and --to go together");
    if (from && days) throw Usage("stats: --days or --from/--to, not both");
    if (days && *days < 1) throw Usage("--days: at least 1");

    // The window: the last N days in the agent's timezone (agent_summary
    // knows which days those are), or the days given.
    std::optional<sb::AgentSummary> summary;
    if (!from) {
        summary = db.agent_summary(*agent, days.value_or(30));
        from = summary->from_day;
        to = summary->to_day;
    }
    const auto rows = db.daily_stats(*agent, *from, *to);

    if (format == "csv") {
        bool header = true;
        for (const auto &r : rows) {
            auto cols = daily_columns(r);
            if (header) {
                for (std::size_t i = 0; i < cols.size(); ++i) std::cout << (i ? "," : "") << cols[i].first;
                std::cout << '\n';
                header = false;
            }
            for (std::size_t i = 0; i < cols.size(); ++i) std::cout << (i ? "," : "") << csv_field(cols[i].second);
            std::cout << '\n';
        }
        return 0;
    }
    if (format == "json") {
        std::cout << "{\"agent_id\": \"" << agent->str() << "\", \"from\": \"" << from->str() << "\", \"to\": \""
                  << to->str() << "\",\n \"days\": [";
        for (std::size_t i = 0; i < rows.size(); ++i)
            std::cout << (i ? ",\n  " : "\n  ") << json_object(daily_columns(rows[i]));
        std::cout << "\n ]";
        if (summary) std::cout << ",\n \"summary\": " << json_object(summary_columns(*summary));
        std::cout << "}\n";
        return 0;
    }

    // table
    std::printf("agent %s, %s to %s (the agent's timezone)\n\n", agent->str().c_str(), from->str().c_str(),
                to->str().c_str());
    std::printf("%-14s %7s %7s %8s %7s %7s %6s %6s %6s %8s %7s\n", "day", "inbound", "outbnd", "accepted", "limited",
                "blocked", "new cv", "phones", "calls", "answered", "avg dur");
    std::int64_t tin = 0, tout = 0, tacc = 0, tlim = 0, tblk = 0, tnew = 0, tcalls = 0, tans = 0;
    for (const auto &r : rows) {
        const std::int64_t limited = r.rate_limited + r.daily_limit;
        std::string dur = r.call_duration_avg ? fmt_opt(r.call_duration_avg, "%.0fs") : "-";
        std::printf("%s %s %7lld %7lld %8lld %7lld %7lld %6lld %6lld %6lld %8lld %7s\n", r.day.str().c_str(),
                    weekday(r.day), (long long)r.inbound, (long long)r.outbound, (long long)r.accepted,
                    (long long)limited, (long long)r.blocked, (long long)r.new_conversations,
                    (long long)r.unique_phones, (long long)r.calls_total, (long long)r.calls_answered, dur.c_str());
        tin += r.inbound;
        tout += r.outbound;
        tacc += r.accepted;
        tlim += limited;
        tblk += r.blocked;
        tnew += r.new_conversations;
        tcalls += r.calls_total;
        tans += r.calls_answered;
    }
    std::string tphones = summary ? std::to_string(summary->unique_phones) : "-";
    std::string tdur = summary && summary->call_duration_avg ? fmt_opt(summary->call_duration_avg, "%.0fs") : "-";
    std::printf("%-14s %7lld %7lld %8lld %7lld %7lld %6lld %6s %6lld %8lld %7s\n", "total", (long long)tin,
                (long long)tout, (long long)tacc, (long long)tlim, (long long)tblk, (long long)tnew, tphones.c_str(),
                (long long)tcalls, (long long)tans, tdur.c_str());
    if (summary) {
        std::string rate = summary->answer_rate ? fmt_opt(*summary->answer_rate * 100, "%.0f%%") : "-";
        std::printf("(phones in the total row: distinct over the whole window; calls answered: %s)\n", rate.c_str());
    }

    // Replies and AI task facts, when the window has outbound messages.
    std::int64_t touts = 0;
    for (const auto &r : rows) touts += r.outbound;
    if (touts > 0) {
        std::printf("\n%-14s %7s %9s %8s %9s %9s %7s\n", "day", "replies", "reply avg", "ai tasks", "tokens",
                    "proc avg", "success");
        auto line = [](const std::string &label, std::int64_t replies, const std::optional<double> &latency,
                       std::int64_t tasks, std::int64_t tokens, const std::optional<double> &proc,
                       const std::optional<double> &success) {
            std::string lat = latency ? fmt_opt(latency, "%.0fs") : "-";
            std::string pms = proc ? fmt_opt(proc, "%.0fms") : "-";
            std::string ok = success ? fmt_opt(*success * 100, "%.0f%%") : "-";
            std::printf("%-14s %7lld %9s %8lld %9s %9s %7s\n", label.c_str(), (long long)replies, lat.c_str(),
                        (long long)tasks, fmt_count(tokens).c_str(), pms.c_str(), ok.c_str());
        };
        for (const auto &r : rows)
            line(r.day.str() + " " + weekday(r.day), r.replies, r.reply_latency_avg, r.ai_tasks, r.tokens_used,
                 r.processing_ms_avg, r.success_rate);
        if (summary)
            line("total", summary->replies, summary->reply_latency_avg, summary->ai_tasks, summary->tokens_used,
                 summary->processing_ms_avg, summary->success_rate);
    }

    // The chart: messages (inbound accepted #, inbound rejected x, outbound +)
    // and calls (answered =, not answered -), each scaled to its busiest day.
    std::int64_t max_msgs = 0, max_calls = 0;
    for (const auto &r : rows) {
        max_msgs = std::max(max_msgs, r.inbound + r.outbound);
        max_calls = std::max(max_calls, r.calls_total);
    }
    const int mw = 40, cw = 20;
    std::printf("\nmessages per day (# accepted, x rejected, + outbound)   calls per day (= answered, - not)\n");
    for (const auto &r : rows) {
        std::string m = bar({{r.accepted, '#'}, {r.inbound - r.accepted, 'x'}, {r.outbound, '+'}}, max_msgs, mw);
        std::string c = bar({{r.calls_answered, '='}, {r.calls_total - r.calls_answered, '-'}}, max_calls, cw);
        std::printf("%s %s |%-*s %5lld  |%-*s %4lld\n", r.day.str().c_str(), weekday(r.day), mw, m.c_str(),
                    (long long)(r.inbound + r.outbound), cw, c.c_str(), (long long)r.calls_total);
    }
    return 0;
}

// --- agents -----------------------------------------------------------------------

sb::AgentSettings parse_settings(const std::vector<std::string> &args, std::size_t from, bool allow_id,
                                 std::vector<std::string> *rest = nullptr) {
    sb::AgentSettings s;
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto val = [&]() -> const std::string & {
            if (i + 1 >= args.size()) throw Usage(a + " needs a value");
            return args[++i];
        };
        if (a == "--id" && allow_id)
            s.agent_id = parse_uuid("--id", val());
        else if (a == "--owner")
            s.owner_id = parse_uuid("--owner", val());
        else if (a == "--name")
            s.display_name = val();
        else if (a == "--sms")
            s.sms_enabled = true;
        else if (a == "--no-sms")
            s.sms_enabled = false;
        else if (a == "--auto-respond")
            s.auto_respond = true;
        else if (a == "--no-auto-respond")
            s.auto_respond = false;
        else if (a == "--welcome")
            s.welcome_message = val();
        else if (a == "--session-timeout")
            s.session_timeout = std::chrono::minutes(parse_int(a, val()));
        else if (a == "--daily")
            s.max_daily_conversations = parse_int(a, val());
        else if (a == "--hourly")
            s.rate_limit_per_hour = parse_int(a, val());
        else if (a == "--region")
            s.default_region = val();
        else if (a == "--timezone")
            s.timezone = val();
        else if (rest)
            rest->push_back(a);
        else
            throw Usage("unknown option \"" + a + "\"");
    }
    return s;
}

void print_agents(const std::vector<sb::Agent> &agents) {
    std::printf("%-36s  %-20s %-3s %-4s %6s %5s %-6s %s\n", "agent_id", "name", "sms", "auto", "hourly", "daily",
                "region", "timezone");
    for (const auto &a : agents)
        std::printf("%-36s  %-20s %-3s %-4s %6d %5d %-6s %s\n", a.agent_id.str().c_str(),
                    a.display_name.substr(0, 20).c_str(), a.sms_enabled ? "on" : "off",
                    a.auto_respond ? "on" : "off", a.rate_limit_per_hour, a.max_daily_conversations,
                    a.default_region.c_str(), a.timezone.c_str());
}

int cmd_agents(sb::Client &db, std::vector<std::string> args) {
    if (args.empty()) throw Usage("agents needs add, list, set, block, unblock or blocked");
    const std::string sub = args[0];
    if (sub == "add") {
        std::cout << db.create_agent(parse_settings(args, 1, true)).str() << '\n';
    } else if (sub == "list") {
        std::optional<sb::Uuid> owner;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--owner" && i + 1 < args.size())
                owner = parse_uuid("--owner", args[++i]);
            else
                throw Usage("agents list: unknown argument \"" + args[i] + "\"");
        }
        print_agents(db.list_agents(owner));
    } else if (sub == "set") {
        if (args.size() < 2) throw Usage("agents set needs AGENT_ID");
        auto id = parse_uuid("AGENT_ID", args[1]);
        print_agents({db.update_agent(id, parse_settings(args, 2, false))});
    } else if (sub == "block" || sub == "unblock") {
        std::vector<std::string> pos;
        std::optional<std::string> reason;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--reason" && sub == "block") {
                if (i + 1 >= args.size()) throw Usage("--reason needs a value");
                reason = args[++i];
            } else {
                pos.push_back(args[i]);
            }
        }
        if (pos.size() != 2) throw Usage("agents " + sub + " needs AGENT_ID PHONE");
        auto id = parse_uuid("AGENT_ID", pos[0]);
        if (sub == "block") {
            std::string e164 = db.block_number(id, pos[1], reason);
            std::cout << "blocked " << e164 << '\n';
        } else if (db.unblock_number(id, pos[1])) {
            std::string e164 = db.normalize_phone(pos[1], db.get_agent(id).default_region);
            std::cout << "unblocked " << e164 << '\n';
        } else {
            std::cout << "not blocked: " << pos[1] << '\n';
        }
    } else if (sub == "blocked") {
        if (args.size() != 2) throw Usage("agents blocked needs AGENT_ID");
        for (const auto &b : db.list_blocked(parse_uuid("AGENT_ID", args[1])))
            std::cout << b.phone << '\t' << b.reason.value_or("") << '\t' << sb::format_timestamp(b.created_at)
                      << '\n';
    } else {
        throw Usage("unknown agents command \"" + sub + "\"");
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string db_url;
    std::vector<std::string> rest;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--db") {
            if (i + 1 >= args.size()) {
                std::cerr << "switchboard: --db needs a URL\n" << kUsage;
                return 2;
            }
            db_url = args[++i];
        } else if (args[i].rfind("--db=", 0) == 0) {
            db_url = args[i].substr(5);
        } else if (args[i] == "-h" || args[i] == "--help" || args[i] == "help") {
            std::cout << kUsage;
            return 0;
        } else {
            rest.push_back(args[i]);
        }
    }
    if (rest.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string cmd = rest[0];
    rest.erase(rest.begin());
    try {
        if (cmd != "normalize" && cmd != "ingest" && cmd != "agents" && cmd != "stats")
            throw Usage("unknown command \"" + cmd + "\"");
        sb::Client db(db_url);
        if (cmd == "normalize") return cmd_normalize(db, rest);
        if (cmd == "ingest") return cmd_ingest(db, rest);
        if (cmd == "stats") return cmd_stats(db, rest);
        return cmd_agents(db, rest);
    } catch (const Usage &e) {
        std::cerr << "switchboard: " << e.what() << "\n\n" << kUsage;
        return 2;
    } catch (const sb::ConnectionError &e) {
        std::cerr << "switchboard: " << e.message() << '\n';
        if (e.may_have_committed())
            std::cerr << "hint: the connection broke after the request was sent; it may have been committed\n";
        else
            std::cerr << "hint: pass --db URL (postgresql://user@host:port/dbname) or set DATABASE_URL; "
                         "without either, libpq's PG* variables and defaults are used\n";
        return 1;
    } catch (const sb::Error &e) {
        std::cerr << "switchboard: " << e.message() << '\n';
        if (!e.detail().empty()) std::cerr << "detail: " << e.detail() << '\n';
        if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "switchboard: " << e.what() << '\n';
        return 1;
    }
}
