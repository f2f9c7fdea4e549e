// Phone normalization against libphonenumber, the shared corpus and hand-picked cases.
#include "switchboard/cpp_only.hpp"
#include "switchboard/phone.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace switchboard::phone;

namespace {

Region region(const std::string &code)
{
    return parse_region(code.data(), code.size(), false);
}

std::string normalized(const std::string &raw, const std::string &code)
{
    E164 out;
    Failure failure = normalize(raw, region(code), out);
    return failure == Failure::none ? std::string(out.view()) : std::string("INVALID");
}

struct Case {
    std::string input, region, expected;
    bool valid;
};

std::vector<Case> load_corpus()
{
    const char *env = std::getenv("SWITCHBOARD_CORPUS");
    std::string path = env ? env : "../shared/corpus/phones_dev.tsv";
    std::ifstream in(path);
    std::vector<Case> cases;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t'))
            cols.push_back(col);
        while (cols.size() < 4)
            cols.emplace_back();
        cases.push_back({cols[0], cols[1], cols[2], cols[3] == "t"});
    }
    return cases;
}

}  // namespace

TEST_CASE("regions are ISO codes, case-insensitive, blank means none")
{
    CHECK(region("US").valid);
    CHECK(region("gb").valid);
    CHECK(std::string(region("gb").code) == "GB");
    CHECK(parse_region(nullptr, 0, true).valid);
    CHECK(std::string(parse_region(nullptr, 0, true).code) == "ZZ");
    CHECK(region(" ").valid);
    CHECK_FALSE(region("XX").valid);
    CHECK_FALSE(region("USA").valid);
    CHECK_FALSE(region("1").valid);
    CHECK_FALSE(region("001").valid);
}

TEST_CASE("common spellings normalize to E.164")
{
    CHECK(normalized("(201) 555-0123", "US") == "+12015550123");
    CHECK(normalized("+1 201-555-0123", "") == "+12015550123");
    CHECK(normalized("00 44 7400 123456", "DE") == "+447400123456");
    CHECK(normalized("011 44 7400 123456", "US") == "+447400123456");
    CHECK(normalized("07400 123456", "GB") == "+447400123456");
    CHECK(normalized("tel:+1-201-555-0123", "") == "+12015550123");
    CHECK(normalized("+1 201 555 0123 ext. 42", "") == "+12015550123");
    CHECK(normalized("\xef\xbc\x8b\xef\xbc\x91\xef\xbc\x92\xef\xbc\x90\xef\xbc\x91\xef\xbc\x95"
                     "\xef\xbc\x95\xef\xbc\x95\xef\xbc\x90\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
                     "") == "+12015550123");  // full-width digits
}

TEST_CASE("bad spellings fail with libphonenumber's reason")
{
    E164 out;
    CHECK(normalize("", region("US"), out) == Failure::not_a_number);
    CHECK(normalize("+", region("US"), out) == Failure::not_a_number);
    CHECK(normalize("hello", region("US"), out) == Failure::not_a_number);
    CHECK(normalize("12", region("US"), out) == Failure::too_short);
    CHECK(normalize("2015550123", region(""), out) == Failure::invalid_country_code);
    CHECK(normalize("+999 123456789", region(""), out) == Failure::invalid_country_code);
    CHECK(normalize("+1 2015550123456789012", region(""), out) == Failure::too_long);
    CHECK(normalize("123", region("XX"), out) == Failure::unknown_region);
    CHECK(normalize(std::string(251, '9'), region("US"), out) == Failure::too_long);
    CHECK(normalize(std::string(1000000, 'x'), region("US"), out) == Failure::too_long);
    CHECK(normalized(std::string(300, ' ') + "+12015550123" + std::string(300, ' '), "") == "+12015550123");
    CHECK(std::string(describe(Failure::too_short)) == "too short");
}

TEST_CASE("is_e164 accepts exactly the E.164 form")
{
    CHECK(is_e164("+12015550123"));
    CHECK(is_e164("+123"));                       // the shortest: 3 digits
    CHECK(is_e164("+1" + std::string(19, '0')));  // the longest: 20 digits
    CHECK_FALSE(is_e164("+12"));
    CHECK_FALSE(is_e164("+1" + std::string(20, '0')));
    CHECK_FALSE(is_e164("+0123456"));
    CHECK_FALSE(is_e164("12015550123"));
    CHECK_FALSE(is_e164("+1 201 555 0123"));
    CHECK_FALSE(is_e164("+1201555012x"));
    CHECK_FALSE(is_e164(""));
    CHECK_FALSE(is_e164(std::string_view("+1201\0555", 9)));
    // every normalized spelling of the corpus is in the form
    for (const Case &c : load_corpus())
        if (c.expected != "INVALID")
            CHECK(is_e164(c.expected));
}

TEST_CASE("the whole corpus agrees with libphonenumber")
{
    std::vector<Case> cases = load_corpus();
    REQUIRE(cases.size() > 6000);
    size_t e164_agree = 0, valid_agree = 0, reference_agree = 0;
    for (const Case &c : cases) {
        std::string got = normalized(c.input, c.region);
        if (got == c.expected)
            e164_agree++;
        else
            UNSCOPED_INFO("e164 mismatch: [" << c.input << "] " << c.region << " got " << got
                                              << " want " << c.expected);
        if (is_valid(c.input, region(c.region)) == c.valid)
            valid_agree++;
        E164 ref;
        Failure rf = normalize_reference(c.input, region(c.region), ref);
        if ((rf == Failure::none ? std::string(ref.view()) : "INVALID") == got)
            reference_agree++;
    }
    CHECK(e164_agree == cases.size());
    CHECK(valid_agree == cases.size());
    CHECK(reference_agree == cases.size());
}

TEST_CASE("info reports type, region and validity")
{
    Info info;
    REQUIRE(switchboard::phone::info("+44 7400 123456", region(""), info) == Failure::none);
    CHECK(std::string(info.e164.view()) == "+447400123456");
    CHECK(info.country_code == 44);
    CHECK(std::string(info.region) == "GB");
    CHECK(std::string(info.number_type) == "mobile");
    CHECK(info.is_possible);
    CHECK(info.is_valid);
}
