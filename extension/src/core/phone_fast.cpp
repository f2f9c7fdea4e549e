// Native fast path of phone normalization.  See phone_fast.hpp.
//
// It follows libphonenumber 8.12's PhoneNumberUtil::ParseHelper step by step
// (ExtractPossibleNumber, IsViablePhoneNumber, CheckRegionForParsing,
// MaybeStripExtension, MaybeExtractCountryCode, MaybeStripNationalPrefixAndCarrierCode,
// TestNumberLength) for the spellings it fully understands, and answers
// Verdict::fallback for everything else.  The metadata (country codes,
// international and national prefixes, possible lengths, general number
// patterns) comes from libphonenumber's own compiled-in metadata blob; its
// digit-only regular expressions are compiled into a tiny backtracking matcher
// with ICU's leftmost-first semantics.
#include "switchboard/cpp_only.hpp"
#include "switchboard/phone_fast.hpp"

#include <phonenumbers/phonemetadata.pb.h>

#include <cstring>
#include <string>
#include <vector>

namespace i18n::phonenumbers {
// Exported by libphonenumber.so (metadata.h is not installed).
int metadata_size();
const void *metadata_get();
}  // namespace i18n::phonenumbers

namespace switchboard::phone::fast {

namespace {

// --- a matcher for the digit-only regular expressions of the metadata --------

struct Inst {
    enum Op : uint8_t { chr, split, jmp, end_anchor, match } op;
    uint16_t mask;  // chr: the digits accepted
    int32_t x, y;   // split: x first, then y; jmp: x
};

// -1: no match, -2: gave up (budget or stack exhausted): the caller falls back.
constexpr int no_match = -1;
constexpr int gave_up = -2;

struct Program {
    std::vector<Inst> code;
    bool ok = false;     // compiled (the pattern is in the supported subset)
    bool empty = false;  // the pattern text was empty
};

struct Node {
    enum Kind { chars, cat, alt, repeat, anchor } kind;
    uint16_t mask = 0;
    int min = 0, max = 0;  // repeat; max -1 = unbounded
    std::vector<Node> kids;
};

class PatternParser {
public:
    explicit PatternParser(const std::string &p) : p_(p) {}

    bool parse(Node &out)
    {
        if (!parse_alt(out))
            return false;
        return i_ == p_.size();
    }

private:
    const std::string &p_;
    size_t i_ = 0;

    bool peek(char c) const { return i_ < p_.size() && p_[i_] == c; }

    bool parse_alt(Node &out)
    {
        Node first;
        if (!parse_cat(first))
            return false;
        if (!peek('|')) {
            out = std::move(first);
            return true;
        }
        out = Node{Node::alt, 0, 0, 0, {}};
        out.kids.push_back(std::move(first));
        while (peek('|')) {
            i_++;
            Node next;
            if (!parse_cat(next))
                return false;
            out.kids.push_back(std::move(next));
        }
        return true;
    }

    bool parse_cat(Node &out)
    {
        out = Node{Node::cat, 0, 0, 0, {}};
        while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
            Node atom;
            if (!parse_repeat(atom))
                return false;
            out.kids.push_back(std::move(atom));
        }
        return true;
    }

    bool parse_number(int &n)
    {
        if (i_ >= p_.size() || p_[i_] < '0' || p_[i_] > '9')
            return false;
        n = 0;
        while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
            n = n * 10 + (p_[i_++] - '0');
            if (n > 100)
                return false;
        }
        return true;
    }

    bool parse_repeat(Node &out)
    {
        Node atom;
        if (!parse_atom(atom))
            return false;
        for (;;) {
            int min, max;
            if (peek('?')) {
                min = 0, max = 1, i_++;
            } else if (peek('*')) {
                min = 0, max = -1, i_++;
            } else if (peek('+')) {
                min = 1, max = -1, i_++;
            } else if (peek('{')) {
                i_++;
                if (!parse_number(min))
                    return false;
                max = min;
                if (peek(',')) {
                    i_++;
                    if (peek('}'))
                        max = -1;
                    else if (!parse_number(max) || max < min)
                        return false;
                }
                if (!peek('}'))
                    return false;
                i_++;
            } else {
                break;
            }
            // Lazy or possessive quantifiers are not in the supported subset.
            if (peek('?') || peek('+'))
                return false;
            if (atom.kind == Node::anchor)
                return false;
            Node rep{Node::repeat, 0, min, max, {}};
            rep.kids.push_back(std::move(atom));
            atom = std::move(rep);
        }
        out = std::move(atom);
        return true;
    }

    bool parse_atom(Node &out)
    {
        if (i_ >= p_.size())
            return false;
        char c = p_[i_];
        if (c >= '0' && c <= '9') {
            i_++;
            out = Node{Node::chars, static_cast<uint16_t>(1u << (c - '0')), 0, 0, {}};
            return true;
        }
        if (c == '\\') {
            if (i_ + 1 < p_.size() && p_[i_ + 1] == 'd') {
                i_ += 2;
                out = Node{Node::chars, 0x3FF, 0, 0, {}};
                return true;
            }
            return false;
        }
        if (c == '$') {
            i_++;
            out = Node{Node::anchor, 0, 0, 0, {}};
            return true;
        }
        if (c == '[') {
            i_++;
            uint16_t mask = 0;
            if (peek('^'))
                return false;
            while (i_ < p_.size() && p_[i_] != ']') {
                char a = p_[i_];
                if (a == '\\' && i_ + 1 < p_.size() && p_[i_ + 1] == 'd') {
                    mask |= 0x3FF;
                    i_ += 2;
                    continue;
                }
                if (a < '0' || a > '9')
                    return false;
                char b = a;
                if (i_ + 2 < p_.size() && p_[i_ + 1] == '-' && p_[i_ + 2] != ']') {
                    b = p_[i_ + 2];
                    if (b < a || b > '9')
                        return false;
                    i_ += 3;
                } else {
                    i_++;
                }
                for (char d = a; d <= b; d++)
                    mask |= static_cast<uint16_t>(1u << (d - '0'));
            }
            if (!peek(']') || mask == 0)
                return false;
            i_++;
            out = Node{Node::chars, mask, 0, 0, {}};
            return true;
        }
        if (c == '(') {
            i_++;
            if (peek('?')) {
                if (i_ + 1 < p_.size() && p_[i_ + 1] == ':')
                    i_ += 2;
                else
                    return false;
            }
            if (!parse_alt(out))
                return false;
            if (!peek(')'))
                return false;
            i_++;
            return true;
        }
        return false;
    }
};

bool nullable(const Node &n)
{
    switch (n.kind) {
    case Node::chars: return false;
    case Node::anchor: return true;
    case Node::repeat: return n.min == 0 || nullable(n.kids[0]);
    case Node::cat:
        for (const Node &k : n.kids)
            if (!nullable(k))
                return false;
        return true;
    case Node::alt:
        for (const Node &k : n.kids)
            if (nullable(k))
                return true;
        return false;
    }
    return true;
}

constexpr size_t max_program = 60000;

bool emit(const Node &n, std::vector<Inst> &code)
{
    if (code.size() > max_program)
        return false;
    switch (n.kind) {
    case Node::chars:
        code.push_back({Inst::chr, n.mask, 0, 0});
        return true;
    case Node::anchor:
        code.push_back({Inst::end_anchor, 0, 0, 0});
        return true;
    case Node::cat:
        for (const Node &k : n.kids)
            if (!emit(k, code))
                return false;
        return true;
    case Node::alt: {
        // split L1, next; L1: a; jmp end; next: split L2, next2; ...
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); i++) {
            if (i + 1 < n.kids.size()) {
                size_t s = code.size();
                code.push_back({Inst::split, 0, static_cast<int32_t>(s + 1), 0});
                if (!emit(n.kids[i], code))
                    return false;
                jumps.push_back(code.size());
                code.push_back({Inst::jmp, 0, 0, 0});
                code[s].y = static_cast<int32_t>(code.size());
            } else if (!emit(n.kids[i], code)) {
                return false;
            }
        }
        for (size_t j : jumps)
            code[j].x = static_cast<int32_t>(code.size());
        return true;
    }
    case Node::repeat: {
        const Node &body = n.kids[0];
        for (int i = 0; i < n.min; i++)
            if (!emit(body, code))
                return false;
        if (n.max < 0) {
            // Greedy star: L: split B, out; B: body; jmp L.  A body that can
            // match empty would loop: not in the supported subset.
            if (nullable(body))
                return false;
            size_t l = code.size();
            code.push_back({Inst::split, 0, static_cast<int32_t>(l + 1), 0});
            if (!emit(body, code))
                return false;
            code.push_back({Inst::jmp, 0, static_cast<int32_t>(l), 0});
            code[l].y = static_cast<int32_t>(code.size());
            return true;
        }
        // Greedy optional copies, nested: (?:b(?:b(?:b)?)?)?
        std::vector<size_t> splits;
        for (int i = n.min; i < n.max; i++) {
            splits.push_back(code.size());
            code.push_back({Inst::split, 0, static_cast<int32_t>(code.size() + 1), 0});
            if (!emit(body, code))
                return false;
        }
        for (size_t s : splits)
            code[s].y = static_cast<int32_t>(code.size());
        return true;
    }
    }
    return false;
}

Program compile(const std::string &pattern)
{
    Program prog;
    if (pattern.empty()) {
        prog.empty = true;
        return prog;
    }
    Node root;
    PatternParser parser(pattern);
    if (!parser.parse(root))
        return prog;
    if (!emit(root, prog.code) || prog.code.size() > max_program) {
        prog.code.clear();
        return prog;
    }
    prog.code.push_back({Inst::match, 0, 0, 0});
    prog.ok = true;
    return prog;
}

// Leftmost-first backtracking, as ICU's matches() (full) and lookingAt() (!full).
// Returns the end of the first match in priority order, no_match or gave_up.
int run(const Program &prog, const char *s, int n, bool full)
{
    struct Thread {
        int32_t pc, pos;
    };
    constexpr int stack_size = 256;
    Thread stack[stack_size];
    int depth = 0;
    long steps = 0;
    const Inst *code = prog.code.data();
    stack[depth++] = {0, 0};
    while (depth > 0) {
        Thread t = stack[--depth];
        int pc = t.pc, pos = t.pos;
        for (;;) {
            if (++steps > 200000)
                return gave_up;
            const Inst &in = code[pc];
            if (in.op == Inst::chr) {
                if (pos < n && ((in.mask >> (s[pos] - '0')) & 1)) {
                    pc++;
                    pos++;
                    continue;
                }
                break;
            }
            if (in.op == Inst::jmp) {
                pc = in.x;
                continue;
            }
            if (in.op == Inst::split) {
                if (depth == stack_size)
                    return gave_up;
                stack[depth++] = {in.y, pos};
                pc = in.x;
                continue;
            }
            if (in.op == Inst::end_anchor) {
                if (pos == n) {
                    pc++;
                    continue;
                }
                break;
            }
            // match
            if (!full || pos == n)
                return pos;
            break;
        }
    }
    return no_match;
}

// --- tables built from the metadata -------------------------------------------

enum class Length : uint8_t { possible, local_only, too_short, invalid_length, too_long };

struct Meta {
    int country_code = 0;
    char cc_text[4] = {};
    uint8_t cc_length = 0;
    char id[4] = {};
    bool lengths_ok = false;     // a usable possible-length list
    bool minus_one = false;      // the list is [-1]: nothing is possible
    int first = 0, last = 0;     // the list's first and last entries
    uint64_t lengths = 0;        // bit per possible length
    uint64_t local_lengths = 0;  // bit per local-only length
    Program general;             // general_desc.national_number_pattern
    Program idd;                 // international_prefix
    Program npfp;                // national_prefix_for_parsing
    bool transform = false;      // has a national_prefix_transform_rule
};

struct Tables {
    std::vector<Meta> metas;
    int16_t by_region[26 * 26];
    int16_t by_cc[1000];  // the main metadata for a country calling code
    Tables()
    {
        for (int16_t &r : by_region)
            r = -1;
        for (int16_t &c : by_cc)
            c = -1;
    }
};

void fill_lengths(const i18n::phonenumbers::PhoneNumberDesc &desc, Meta &m)
{
    if (desc.possible_length_size() == 0)
        return;
    m.first = desc.possible_length(0);
    m.last = desc.possible_length(desc.possible_length_size() - 1);
    m.minus_one = m.first == -1;
    for (int l : desc.possible_length())
        if (l >= 0 && l < 64)
            m.lengths |= uint64_t{1} << l;
    for (int l : desc.possible_length_local_only())
        if (l >= 0 && l < 64)
            m.local_lengths |= uint64_t{1} << l;
    m.lengths_ok = true;
}

const Tables &tables()
{
    static const Tables *built = [] {
        auto *t = new Tables;
        i18n::phonenumbers::PhoneMetadataCollection collection;
        if (!collection.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                       i18n::phonenumbers::metadata_size()))
            return static_cast<const Tables *>(t);
        // As PhoneNumberUtil's constructor: the main country of a code first,
        // otherwise the first region of the collection with that code.
        std::vector<bool> main_set(1000, false);
        for (const auto &pm : collection.metadata()) {
            const std::string &id = pm.id();
            if (id == "ZZ")
                continue;
            int cc = pm.country_code();
            if (cc <= 0 || cc >= 1000)
                continue;
            Meta m;
            m.country_code = cc;
            std::string cc_text = std::to_string(cc);
            memcpy(m.cc_text, cc_text.data(), cc_text.size());
            m.cc_length = static_cast<uint8_t>(cc_text.size());
            memcpy(m.id, id.data(), id.size() < 3 ? id.size() : 3);
            fill_lengths(pm.general_desc(), m);
            m.general = compile(pm.general_desc().national_number_pattern());
            m.idd = compile(pm.international_prefix());
            m.npfp = compile(pm.national_prefix_for_parsing());
            m.transform = !pm.national_prefix_transform_rule().empty();
            int16_t index = static_cast<int16_t>(t->metas.size());
            t->metas.push_back(std::move(m));
            if (id.size() == 2 && id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z')
                t->by_region[(id[0] - 'A') * 26 + (id[1] - 'A')] = index;
            if (t->by_cc[cc] < 0 || (pm.main_country_for_code() && !main_set[cc])) {
                t->by_cc[cc] = index;
                if (pm.main_country_for_code())
                    main_set[cc] = true;
            }
        }
        return static_cast<const Tables *>(t);
    }();
    return *built;
}

// TestNumberLength for the general description (type UNKNOWN).
Length test_length(const Meta &m, int length)
{
    if (m.minus_one)
        return Length::invalid_length;
    if (length >= 0 && length < 64 && ((m.local_lengths >> length) & 1))
        return Length::local_only;
    if (m.first == length)
        return Length::possible;
    if (m.first > length)
        return Length::too_short;
    if (m.last < length)
        return Length::too_long;
    return (length < 64 && ((m.lengths >> length) & 1)) ? Length::possible : Length::invalid_length;
}

// MatchNationalNumber(number, general_desc, false): 1 yes, 0 no, -1 unknown.
int match_general(const Meta &m, const char *s, int n)
{
    if (m.general.empty)
        return 0;
    if (!m.general.ok)
        return -1;
    int r = run(m.general, s, n, true);
    if (r == gave_up)
        return -1;
    return r >= 0 ? 1 : 0;
}

// MaybeStripNationalPrefixAndCarrierCode: the digits to drop from the front
// (0 when nothing is stripped), or -1 when it cannot be decided natively.
int strip_national_prefix(const Meta &m, const char *s, int n)
{
    if (n == 0 || m.npfp.empty)
        return 0;
    if (!m.npfp.ok)
        return -1;
    int consumed = run(m.npfp, s, n, false);
    if (consumed == gave_up)
        return -1;
    if (consumed == no_match)
        return 0;
    if (m.transform)
        return -1;
    int viable_original = match_general(m, s, n);
    if (viable_original < 0)
        return -1;
    if (viable_original) {
        int viable_stripped = match_general(m, s + consumed, n - consumed);
        if (viable_stripped < 0)
            return -1;
        if (!viable_stripped)
            return 0;
    }
    return consumed;
}

// ExtractCountryCode: the main metadata index and the digits it took, or -1.
// For "+0...": whether MaybeExtractCountryCode without the plus certainly
// finds no country code (no international prefix, not the region's code).
bool retry_finds_nothing(const Meta &r, const char *d, int n)
{
    if (!r.idd.ok)
        return false;
    int m = run(r.idd, d, n, false);
    if (m != no_match)
        return false;
    return !(n >= r.cc_length && memcmp(d, r.cc_text, r.cc_length) == 0);
}

int extract_country_code(const Tables &t, const char *s, int n, int &taken)
{
    if (n == 0 || s[0] == '0')
        return -1;
    int cc = 0;
    for (int i = 1; i <= 3 && i <= n; i++) {
        cc = cc * 10 + (s[i - 1] - '0');
        if (t.by_cc[cc] >= 0) {
            taken = i;
            return t.by_cc[cc];
        }
    }
    return -1;
}

// --- characters -----------------------------------------------------------

enum Class : uint8_t {
    c_digit,   // any decimal digit we fold (value in val)
    c_plus,    // '+'
    c_punct,   // valid punctuation without 'x': space, NBSP, - . ( ) / [ ] *
    c_letter,  // ASCII letter (x is also punctuation for viability)
    c_semi,    // ';'
    c_colon,   // ':'
    c_equals,  // '='
    c_other,   // anything else: fall back if it is in what we parse
};

constexpr int max_input = 250;

struct Cp {
    Class cls;
    char val;   // digit: '0'..'9' (| 0x40 when not ASCII); letter: lower case; else the char
    char orig;  // the ASCII character as written (' ' for NBSP)
};

bool is_letter(unsigned c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

char keypad(char lower)
{
    static const char map[] = "22233344455566677778889999";
    return map[lower - 'a'];
}

// Whether a run of letters ends with an ASCII spelling of one of
// libphonenumber's extension labels (e?xt(?:ensi(?:o|ó))?n?, anexo, x, int).
bool ends_with_label(const Cp *run, int n)
{
    static const char *const labels[] = {"xt", "xtn", "xtensio", "xtension", "anexo", "x", "int"};
    for (const char *label : labels) {
        int m = static_cast<int>(strlen(label));
        if (m > n)
            continue;
        bool same = true;
        for (int i = 0; i < m && same; i++)
            same = run[n - m + i].val == label[i];
        if (same)
            return true;
    }
    return false;
}

}  // namespace

bool region_supported(char a, char b)
{
    if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
        return false;
    return tables().by_region[(a - 'A') * 26 + (b - 'A')] >= 0;
}

void warm_up() { (void) tables(); }

Verdict normalize(std::string_view raw, const Region &region, E164 &out, Failure &failure)
{
    if (!region.valid) {
        failure = Failure::unknown_region;
        return Verdict::answered;
    }
    const Tables &t = tables();
    const Meta *region_meta = nullptr;
    if (!(region.code[0] == 'Z' && region.code[1] == 'Z')) {
        int16_t r = t.by_region[(region.code[0] - 'A') * 26 + (region.code[1] - 'A')];
        if (r < 0)
            return Verdict::fallback;
        region_meta = &t.metas[r];
    }

    // Surrounding ASCII blanks never matter; the 250 limit is switchboard's own.
    size_t b = 0, e = raw.size();
    auto blank = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (b < e && blank(raw[b]))
        b++;
    while (e > b && blank(raw[e - 1]))
        e--;
    if (e - b > static_cast<size_t>(max_input)) {
        failure = Failure::too_long;
        return Verdict::answered;
    }

    // Decode.  Anything non-ASCII other than NBSP and the folded digits falls back.
    Cp cps[max_input];
    int n = 0;
    const unsigned char *p = reinterpret_cast<const unsigned char *>(raw.data());
    for (size_t i = b; i < e;) {
        unsigned c = p[i];
        Cp cp{c_other, static_cast<char>(c), static_cast<char>(c)};
        if (c < 0x80) {
            // Control characters are not "interchange valid" for libphonenumber's
            // UTF-8 reader: leave them to it.
            if (c < 0x20 || c == 0x7F)
                return Verdict::fallback;
            i++;
            if (c >= '0' && c <= '9')
                cp.cls = c_digit;
            else if (c == '+')
                cp.cls = c_plus;
            else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' ||
                     c == '[' || c == ']' || c == '*')
                cp.cls = c_punct;
            else if (is_letter(c))
                cp.cls = c_letter, cp.val = static_cast<char>(c | 0x20);
            else if (c == ';')
                cp.cls = c_semi;
            else if (c == ':')
                cp.cls = c_colon;
            else if (c == '=')
                cp.cls = c_equals;
        } else {
            unsigned cpv;
            if ((c & 0xE0) == 0xC0 && i + 1 < e && (p[i + 1] & 0xC0) == 0x80) {
                cpv = ((c & 0x1F) << 6) | (p[i + 1] & 0x3F);
                if (cpv < 0x80)
                    return Verdict::fallback;
                i += 2;
            } else if ((c & 0xF0) == 0xE0 && i + 2 < e && (p[i + 1] & 0xC0) == 0x80 &&
                       (p[i + 2] & 0xC0) == 0x80) {
                cpv = ((c & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
                if (cpv < 0x800 || (cpv >= 0xD800 && cpv <= 0xDFFF))
                    return Verdict::fallback;
                i += 3;
            } else {
                return Verdict::fallback;
            }
            // Non-ASCII digits are marked (| 0x40): alpha normalization drops them.
            unsigned zero;
            if (cpv == 0xFF0B) {  // full-width plus
                cps[n++] = {c_plus, '+', '+'};
                continue;
            }
            if (cpv == 0xA0)
                zero = 0;
            else if (cpv >= 0x660 && cpv <= 0x669)
                zero = 0x660;
            else if (cpv >= 0x6F0 && cpv <= 0x6F9)
                zero = 0x6F0;
            else if (cpv >= 0xFF10 && cpv <= 0xFF19)
                zero = 0xFF10;
            else
                return Verdict::fallback;
            if (zero == 0)
                cp = {c_punct, ' ', ' '};
            else
                cp = {c_digit, static_cast<char>(('0' + (cpv - zero)) | 0x40), '?'};
        }
        cps[n++] = cp;
    }
    auto digit_value = [](const Cp &c) { return static_cast<char>((c.val & 0x0F) + '0'); };
    auto ascii_digit = [](const Cp &c) { return (c.val & 0x40) == 0; };

    // ExtractPossibleNumber: from the first digit or plus...  A ';' anywhere
    // outside a ";ext=" suffix (";phone-context=", ";isub=") falls back.
    int start = 0;
    while (start < n && cps[start].cls != c_digit && cps[start].cls != c_plus) {
        if (cps[start].cls == c_semi)
            return Verdict::fallback;
        start++;
    }
    if (start == n) {
        failure = Failure::not_a_number;
        return Verdict::answered;
    }
    // ...without trailing characters other than digits, letters and '#'.
    int end = n;
    while (end > start && cps[end - 1].cls != c_digit && cps[end - 1].cls != c_letter) {
        if (cps[end - 1].orig == '#' || cps[end - 1].cls == c_semi)
            return Verdict::fallback;
        end--;
    }
    // A second number ("[\\/] *x") or anything we do not parse: fall back.
    for (int i = start; i < end; i++) {
        if (cps[i].val == '/') {
            int j = i + 1;
            while (j < end && cps[j].cls == c_punct && cps[j].val == ' ')
                j++;
            if (j < end && cps[j].orig == 'x')
                return Verdict::fallback;
        }
    }

    // MaybeStripExtension, for the spellings "...;ext=N", "... ext. N", "... x N".
    int main_end = end;
    {
        int tail = end;
        while (tail > start && cps[tail - 1].cls == c_digit)
            tail--;
        int digits = end - tail;
        if (digits > 0 && tail > start) {
            int j = tail;
            int limit = 0, ext_start = -1;
            if (j - start >= 5 && cps[j - 5].cls == c_semi && cps[j - 4].val == 'e' &&
                cps[j - 3].val == 'x' && cps[j - 2].val == 't' && cps[j - 1].cls == c_equals &&
                cps[j - 4].cls == c_letter && cps[j - 3].cls == c_letter &&
                cps[j - 2].cls == c_letter) {
                limit = 20;
                ext_start = j - 5;
            } else {
                while (j > start && cps[j - 1].cls == c_punct &&
                       (cps[j - 1].val == ' ' || cps[j - 1].val == '-'))
                    j--;
                if (j > start && (cps[j - 1].cls == c_colon ||
                                  (cps[j - 1].cls == c_punct && cps[j - 1].val == '.')))
                    j--;
                int l = j;
                while (l > start && cps[l - 1].cls == c_letter)
                    l--;
                int letters = j - l;
                if (letters == 3 && cps[l].val == 'e' && cps[l + 1].val == 'x' &&
                    cps[l + 2].val == 't')
                    limit = 20;
                else if (letters == 1 && cps[l].val == 'x')
                    limit = 9;
                else if (ends_with_label(cps + l, letters))
                    return Verdict::fallback;  // another extension label
                if (limit) {
                    ext_start = l;
                    while (ext_start > start && cps[ext_start - 1].cls == c_punct &&
                           cps[ext_start - 1].val == ' ')
                        ext_start--;
                }
            }
            if (limit) {
                if (digits > limit)
                    return Verdict::fallback;
                // The number before the extension must be viable on its own and
                // plain (digits and punctuation only), or we fall back.
                int nd = 0;
                for (int i = start; i < ext_start; i++) {
                    if (cps[i].cls == c_digit)
                        nd++;
                    else if (cps[i].cls != c_punct && cps[i].cls != c_plus)
                        return Verdict::fallback;
                }
                if (nd < 3)
                    return Verdict::fallback;
                main_end = ext_start;
            }
        }
    }

    // The number: pluses, then digits, punctuation and letters only.
    int i = start;
    bool plus = false;
    while (i < main_end && cps[i].cls == c_plus) {
        plus = true;
        i++;
    }
    int body = i;
    int nd = 0, letters = 0;
    bool non_ascii_digit = false;
    for (int k = body; k < main_end; k++) {
        const Cp &c = cps[k];
        if (c.cls == c_digit) {
            nd++;
            if (!ascii_digit(c))
                non_ascii_digit = true;
        } else if (c.cls == c_letter) {
            letters++;
            // A letter other than x before the third digit: viability hinges
            // on extension patterns; let libphonenumber decide.
            if (nd < 3 && c.val != 'x')
                return Verdict::fallback;
        } else if (c.cls != c_punct) {
            return Verdict::fallback;
        }
    }
    // IsViablePhoneNumber: two digits alone, or three or more with punctuation.
    bool viable = nd >= 3 || (!plus && main_end - start == 2 && nd == 2);
    if (!viable) {
        if (main_end != end)
            return Verdict::fallback;
        failure = Failure::not_a_number;
        return Verdict::answered;
    }
    // CheckRegionForParsing.
    if (!region_meta && !plus) {
        failure = Failure::invalid_country_code;
        return Verdict::answered;
    }

    // Normalize: with three or more letters, letters become keypad digits and
    // non-ASCII digits are dropped; otherwise letters are dropped.
    char digits[max_input];
    int nd2 = 0;
    bool alpha = letters >= 3;
    if (alpha && non_ascii_digit)
        return Verdict::fallback;
    for (int k = body; k < main_end; k++) {
        const Cp &c = cps[k];
        if (c.cls == c_digit)
            digits[nd2++] = digit_value(c);
        else if (alpha && c.cls == c_letter)
            digits[nd2++] = keypad(c.val);
    }
    const char *d = digits;
    int dn = nd2;

    // MaybeExtractCountryCode.
    const Meta *meta = nullptr;  // the metadata for parsing the national number
    int cc_index = -1;
    bool international = plus;
    if (!plus) {
        if (!region_meta->idd.ok)
            return Verdict::fallback;
        int m = run(region_meta->idd, d, dn, false);
        if (m == gave_up)
            return Verdict::fallback;
        if (m >= 0 && !(m < dn && d[m] == '0')) {
            international = true;
            d += m;
            dn -= m;
        }
    }
    if (international) {
        if (dn <= 2) {
            failure = Failure::too_short_after_idd;
            return Verdict::answered;
        }
        int taken = 0;
        cc_index = extract_country_code(t, d, dn, taken);
        if (cc_index < 0) {
            // With a plus, libphonenumber tries again without it: the default
            // region's international prefix, then its own country code.  We
            // answer only when neither can apply.
            if (plus && region_meta && !retry_finds_nothing(*region_meta, digits, nd2))
                return Verdict::fallback;
            failure = Failure::invalid_country_code;
            return Verdict::answered;
        }
        d += taken;
        dn -= taken;
        meta = &t.metas[cc_index];
    } else {
        const Meta &r = *region_meta;
        bool extracted = false;
        if (dn >= r.cc_length && memcmp(d, r.cc_text, r.cc_length) == 0) {
            const char *pd = d + r.cc_length;
            int pn = dn - r.cc_length;
            int s = strip_national_prefix(r, pd, pn);
            if (s < 0)
                return Verdict::fallback;
            pd += s;
            pn -= s;
            int whole = match_general(r, d, dn);
            if (whole < 0 || !r.lengths_ok)
                return Verdict::fallback;
            bool take = false;
            if (!whole) {
                int part = match_general(r, pd, pn);
                if (part < 0)
                    return Verdict::fallback;
                take = part == 1;
            }
            if (!take && test_length(r, dn) == Length::too_long)
                take = true;
            if (take) {
                d = pd;
                dn = pn;
                cc_index = t.by_cc[r.country_code];
                meta = &t.metas[cc_index];
                extracted = true;
            }
        }
        if (!extracted) {
            meta = &r;
            cc_index = t.by_cc[r.country_code];
        }
    }
    if (cc_index < 0 || !meta->lengths_ok)
        return Verdict::fallback;

    if (dn < 2) {
        failure = Failure::too_short;
        return Verdict::answered;
    }
    // The national prefix, kept only if what remains has a possible length.
    int s = strip_national_prefix(*meta, d, dn);
    if (s < 0)
        return Verdict::fallback;
    if (s > 0) {
        Length l = test_length(*meta, dn - s);
        if (l != Length::too_short && l != Length::local_only && l != Length::invalid_length) {
            d += s;
            dn -= s;
        }
    }
    if (dn < 2) {
        failure = Failure::too_short;
        return Verdict::answered;
    }
    if (dn > 17) {
        failure = Failure::too_long;
        return Verdict::answered;
    }

    // IsPossibleNumberWithReason, against the main metadata of the code.
    const Meta &main = t.metas[cc_index];
    if (!main.lengths_ok)
        return Verdict::fallback;
    switch (test_length(main, dn)) {
    case Length::possible:
    case Length::local_only: break;
    case Length::too_short: failure = Failure::too_short; return Verdict::answered;
    case Length::invalid_length: failure = Failure::invalid_length; return Verdict::answered;
    case Length::too_long: failure = Failure::too_long; return Verdict::answered;
    }

    // Format(E164): "+", the code, the national significant number.
    out.text[0] = '+';
    memcpy(out.text + 1, main.cc_text, main.cc_length);
    memcpy(out.text + 1 + main.cc_length, d, dn);
    out.length = static_cast<uint8_t>(1 + main.cc_length + dn);
    out.text[out.length] = '\0';
    failure = Failure::none;
    return Verdict::answered;
}

}  // namespace switchboard::phone::fast
