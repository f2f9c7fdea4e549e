// The native fast path against libphonenumber (normalize_reference): every
// corpus row, the corpus re-spelled, and random digit strings per region.
// Wherever the fast path answers, success or failure, the reason and the E.164
// string must be libphonenumber's.
#include "switchboard/cpp_only.hpp"
#include "switchboard/phone.hpp"
#include "switchboard/phone_fast.hpp"

#include <catch2/catch.hpp>

#include <phonenumbers/phonenumberutil.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard::phone;
namespace fast = switchboard::phone::fast;

namespace {

Region region_of(const std::string &code)
{
    return parse_region(code.data(), code.size(), code.empty());
}

struct Row {
    std::string input, region;
};

std::vector<Row> corpus()
{
    const char *env = std::getenv("SWITCHBOARD_CORPUS");
    std::ifstream in(env ? env : "../shared/corpus/phones_dev.tsv");
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string input, region;
        std::getline(ss, input, '\t');
        std::getline(ss, region, '\t');
        rows.push_back({input, region});
    }
    return rows;
}

struct Tally {
    size_t cases = 0, answered = 0, mismatches = 0;
};

std::string show(Failure f, const E164 &e)
{
    return f == Failure::none ? std::string(e.view()) : std::string("INVALID: ") + describe(f);
}

// One differential check; returns whether the fast path answered.
void check(const std::string &input, const std::string &code, Tally &tally)
{
    Region region = region_of(code);
    E164 fast_out{}, ref_out{};
    Failure fast_failure = Failure::none;
    tally.cases++;
    if (fast::normalize(input, region, fast_out, fast_failure) != fast::Verdict::answered)
        return;
    tally.answered++;
    Failure ref_failure = normalize_reference(input, region, ref_out);
    if (fast_failure != ref_failure ||
        (ref_failure == Failure::none && fast_out.view() != ref_out.view())) {
        tally.mismatches++;
        if (tally.mismatches <= 30)
            UNSCOPED_INFO("mismatch: [" << input << "] region " << code << ": fast "
                                        << show(fast_failure, fast_out) << ", libphonenumber "
                                        << show(ref_failure, ref_out));
    }
}

// Re-spell a digit string with other punctuation and spacing.
std::string respell(const std::string &s, std::mt19937 &rng)
{
    static const char *const seps[] = {"", " ", "-", ".", "  ", " - ", "/", "\xc2\xa0"};
    std::string out;
    std::uniform_int_distribution<int> pick(0, 7), coin(0, 3);
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            out += c;
            if (coin(rng) == 0)
                out += seps[pick(rng)];
        } else if (c == '+') {
            out += c;
        }
    }
    return out;
}

std::vector<std::string> regions_of_corpus(const std::vector<Row> &rows)
{
    std::set<std::string> set;
    for (const Row &r : rows)
        set.insert(r.region);
    return {set.begin(), set.end()};
}

}  // namespace

TEST_CASE("region table is libphonenumber's GetSupportedRegions")
{
    std::set<std::string> supported;
    i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
    size_t agree = 0;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            if (fast::region_supported(a, b) == (supported.count(std::string{a, b}) > 0))
                agree++;
    CHECK(agree == 26 * 26);
}

TEST_CASE("fast path agrees with libphonenumber on every corpus row")
{
    std::vector<Row> rows = corpus();
    REQUIRE(rows.size() > 6000);
    Tally tally;
    for (const Row &r : rows)
        check(r.input, r.region, tally);
    double coverage = static_cast<double>(tally.answered) / tally.cases;
    std::printf("fast path: corpus %zu rows, %zu answered natively (%.1f%%), %zu fall back\n",
                tally.cases, tally.answered, 100 * coverage, tally.cases - tally.answered);
    CHECK(tally.mismatches == 0);
    // Most spellings are parsed natively (the benchmark's 10x depends on it).
    CHECK(coverage >= 0.95);
}

TEST_CASE("fast path agrees on the corpus re-spelled")
{
    std::vector<Row> rows = corpus();
    std::mt19937 rng(42);
    Tally tally;
    static const char *const labels[] = {"", "Phone: ", "tel:", "call ", "(", "TEL "};
    static const char *const exts[] = {"", " ext. 42", ";ext=7", " x123", " ext 9", "x5",
                                       " ext: 123", " X 77", " abc", "!", " #"};
    std::uniform_int_distribution<int> label(0, 5), ext(0, 10);
    for (const Row &r : rows) {
        for (int k = 0; k < 4; k++) {
            std::string spelled = respell(r.input, rng);
            check(spelled, r.region, tally);
            check(std::string(labels[label(rng)]) + spelled + exts[ext(rng)], r.region, tally);
            // the same digits under another region, and without one
            check(spelled, k % 2 ? "US" : "", tally);
        }
    }
    std::printf("fast path: %zu re-spelled cases, %zu answered natively\n", tally.cases,
                tally.answered);
    CHECK(tally.mismatches == 0);
    CHECK(tally.answered > tally.cases / 2);
}

TEST_CASE("fast path agrees on random digit strings per region")
{
    std::vector<Row> rows = corpus();
    std::vector<std::string> regions = regions_of_corpus(rows);
    // every region libphonenumber knows, too
    std::set<std::string> supported;
    i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
    regions.insert(regions.end(), supported.begin(), supported.end());
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> digit(0, 9), len(1, 19), form(0, 5);
    Tally tally;
    for (const std::string &region : regions) {
        for (int k = 0; k < 400; k++) {
            int n = len(rng);
            std::string digits;
            for (int i = 0; i < n; i++)
                digits += static_cast<char>('0' + digit(rng));
            switch (form(rng)) {
            case 0: check(digits, region, tally); break;
            case 1: check("+" + digits, region, tally); break;
            case 2: check("0" + digits, region, tally); break;
            case 3: check("00" + digits, region, tally); break;
            case 4: check("011" + digits, region, tally); break;
            default: check("+" + digits, "", tally); break;
            }
        }
    }
    std::printf("fast path: %zu random cases, %zu answered natively\n", tally.cases,
                tally.answered);
    CHECK(tally.mismatches == 0);
}

TEST_CASE("fast path agrees around the possible lengths of every country code")
{
    std::set<std::string> supported;
    const auto *util = i18n::phonenumbers::PhoneNumberUtil::GetInstance();
    util->GetSupportedRegions(&supported);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> digit(0, 9);
    Tally tally;
    for (const std::string &region : supported) {
        int cc = util->GetCountryCodeForRegion(region);
        std::string ccs = std::to_string(cc);
        for (int n = 1; n <= 18; n++) {
            for (int k = 0; k < 6; k++) {
                std::string nsn;
                for (int i = 0; i < n; i++)
                    nsn += static_cast<char>('0' + digit(rng));
                if (k == 0 && n > 1)
                    nsn[0] = '0';  // a national prefix (or an Italian leading zero)
                check("+" + ccs + nsn, "", tally);
                check("+" + ccs + " " + nsn, region, tally);
                check(nsn, region, tally);
                check(ccs + nsn, region, tally);
                check("00" + ccs + nsn, region, tally);
            }
        }
    }
    std::printf("fast path: %zu length cases, %zu answered natively\n", tally.cases,
                tally.answered);
    CHECK(tally.mismatches == 0);
}

TEST_CASE("fast path handles odd spellings exactly or falls back")
{
    Tally tally;
    const char *const inputs[] = {
        "", " ", "+", "++", "+1", "+12", "+123", "12", "1 2", "1x2", "12 x3", "12 ext 3",
        "123", "+0 123456", "+99 123", "+999 12345678", "n/a", "hello", "1-800-FLOWERS",
        "1-800-FLO", "1 800 FL", "+1 201 555 0123 ext.", "+1 201 555 0123 x1234567890",
        "+1 201 555 0123 ext 123456789012345678901", "201/x555", "201 / x 555", "201\\x555",
        "+1 (201) 555-0123;ext=42", "tel:+1-201-555-0123;phone-context=example.com",
        "+1 201 555 0123#", "+44 07400 123456", "0044 7400 123456", "011 44 7400 123456",
        "+49 0 30 1234567", "1 201 555 0123", "12015550123", "+1-201-555-0123abc",
        "\xef\xbc\x8b" "12015550123", "\xd9\xa0\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4",
        "+1 2015550123 extn 5", "  +1\xc2\xa0" "201\xc2\xa0" "555\xc2\xa0" "0123  ", "\xff\xfe",
        "1+2015550123", "+1 201 555 0123 int 5", "+1 201 555 0123 ~5", "201-555-0123 ,,5",
    };
    for (const char *input : inputs)
        for (const char *region : {"", "US", "GB", "DE", "IT", "RU", "BR", "AR", "AU", "JM"})
            check(input, region, tally);
    CHECK(tally.mismatches == 0);
}
