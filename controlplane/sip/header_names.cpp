#include "sip/header_names.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

struct KnownHeader {
    std::string_view name;  // registered capitalization
    char compact;           // compact form (RFC 3261 7.3.3, IANA), 0 if none
    bool list;              // comma-separated list (RFC 3261 7.3.1)
};

// RFC 3261 20, RFC 3262, 3265/6665, 3311, 3313, 3323, 3325, 3326, 3327,
// 3329, 3455/7315, 3515, 3608, 3841, 3891, 3892, 3903, 4028, 4244, 4412,
// 4474, 4488, 5009, 5626, 6050, 6086, 7044, 8224; compact forms from the IANA
// "Header Fields" registry.
constexpr KnownHeader kKnownHeaders[] = {
    {"Accept", 0, true},
    {"Accept-Contact", 'a', true},
    {"Accept-Encoding", 0, true},
    {"Accept-Language", 0, true},
    {"Accept-Resource-Priority", 0, true},
    {"Alert-Info", 0, true},
    {"Allow", 0, true},
    {"Allow-Events", 'u', true},
    {"Answer-Mode", 0, false},
    {"Authentication-Info", 0, false},
    {"Authorization", 0, false},
    {"Call-ID", 'i', false},
    {"Call-Info", 0, true},
    {"Contact", 'm', true},
    {"Content-Disposition", 0, false},
    {"Content-Encoding", 'e', true},
    {"Content-ID", 0, false},
    {"Content-Language", 0, true},
    {"Content-Length", 'l', false},
    {"Content-Transfer-Encoding", 0, false},
    {"Content-Type", 'c', false},
    {"CSeq", 0, false},
    {"Date", 0, false},
    {"Encryption", 0, false},
    {"Error-Info", 0, true},
    {"Event", 'o', false},
    {"Expires", 0, false},
    {"Feature-Caps", 0, true},
    {"Flow-Timer", 0, false},
    {"From", 'f', false},
    {"Geolocation", 0, true},
    {"Geolocation-Error", 0, false},
    {"Geolocation-Routing", 0, false},
    {"History-Info", 0, true},
    {"Identity", 'y', false},
    {"Identity-Info", 'n', false},
    {"In-Reply-To", 0, true},
    {"Info-Package", 0, false},
    {"Join", 0, false},
    {"Max-Breadth", 0, false},
    {"Max-Forwards", 0, false},
    {"MIME-Version", 0, false},
    {"Min-Expires", 0, false},
    {"Min-SE", 0, false},
    {"Organization", 0, false},
    {"P-Access-Network-Info", 0, true},
    {"P-Answer-State", 0, false},
    {"P-Asserted-Identity", 0, true},
    {"P-Asserted-Service", 0, true},
    {"P-Associated-URI", 0, true},
    {"P-Called-Party-ID", 0, false},
    {"P-Charging-Function-Addresses", 0, false},
    {"P-Charging-Vector", 0, false},
    {"P-DCS-Billing-Info", 0, false},
    {"P-Early-Media", 0, true},
    {"P-Media-Authorization", 0, true},
    {"P-Preferred-Identity", 0, true},
    {"P-Preferred-Service", 0, true},
    {"P-Profile-Key", 0, false},
    {"P-Served-User", 0, false},
    {"P-User-Database", 0, false},
    {"P-Visited-Network-ID", 0, true},
    {"Path", 0, true},
    {"Permission-Missing", 0, true},
    {"Policy-Contact", 0, false},
    {"Policy-ID", 0, true},
    {"Priority", 0, false},
    {"Privacy", 0, false},
    {"Proxy-Authenticate", 0, false},
    {"Proxy-Authorization", 0, false},
    {"Proxy-Require", 0, true},
    {"RAck", 0, false},
    {"Reason", 0, true},
    {"Record-Route", 0, true},
    {"Recv-Info", 0, true},
    {"Refer-Sub", 0, false},
    {"Refer-To", 'r', false},
    {"Referred-By", 'b', false},
    {"Reject-Contact", 'j', true},
    {"Replaces", 0, false},
    {"Reply-To", 0, false},
    {"Request-Disposition", 'd', true},
    {"Require", 0, true},
    {"Resource-Priority", 0, true},
    {"Response-Key", 0, false},
    {"Retry-After", 0, false},
    {"Route", 0, true},
    {"RSeq", 0, false},
    {"Security-Client", 0, true},
    {"Security-Server", 0, true},
    {"Security-Verify", 0, true},
    {"Server", 0, false},
    {"Service-Route", 0, true},
    {"Session-Expires", 'x', false},
    {"Session-ID", 0, false},
    {"SIP-ETag", 0, false},
    {"SIP-If-Match", 0, false},
    {"Subject", 's', false},
    {"Subscription-State", 0, false},
    {"Supported", 'k', true},
    {"Target-Dialog", 0, false},
    {"Timestamp", 0, false},
    {"To", 't', false},
    {"Unsupported", 0, true},
    {"User-Agent", 0, false},
    {"Via", 'v', true},
    {"Warning", 0, true},
    {"WWW-Authenticate", 0, false},
};

constexpr std::size_t kKnownCount = std::size(kKnownHeaders);
constexpr std::size_t kMaxNameLength = 32;

// Lookups happen several times per header of every message (parse,
// serialize, every header()/add()/remove()): full names go through an
// open-addressing table keyed by a case-insensitive hash of the length and
// four of the characters, built at compile time, so that a lookup compares
// at most kMaxProbes (4) names, a known one or not (checked below); compact
// forms are indexed by letter.
constexpr std::size_t kSlots = 512;  // a power of two, over 4x kKnownCount

constexpr bool name_lengths_valid() {
    for (const KnownHeader& h : kKnownHeaders)
        if (h.name.size() < 2 || h.name.size() > kMaxNameLength) return false;
    return true;
}
static_assert(name_lengths_valid(), "a full name of 1 or more than 32 characters");

constexpr std::size_t name_hash(std::string_view name) {
    const auto at = [&](std::size_t i) {
        return static_cast<std::size_t>(static_cast<unsigned char>(ascii_lower(name[i])));
    };
    const std::size_t n = name.size();
    return (n * 0x9E37u ^ at(0) * 0x2F1u ^ at(n - 1) * 0x61u ^ at(n / 2) * 0x3B9u ^ at(n * 3 / 4)) &
           (kSlots - 1);
}

struct Index {
    std::array<uint8_t, kSlots> slot{};  // table index + 1, 0: empty
    std::array<uint8_t, 26> compact{};   // letter -> table index + 1, 0: none
};

constexpr Index make_index() {
    Index ix;
    for (std::size_t i = 0; i < kKnownCount; ++i) {
        std::size_t h = name_hash(kKnownHeaders[i].name);
        while (ix.slot[h] != 0)
            h = (h + 1) & (kSlots - 1);
        ix.slot[h] = static_cast<uint8_t>(i + 1);
    }
    for (std::size_t i = 0; i < kKnownCount; ++i)
        if (kKnownHeaders[i].compact != 0)
            ix.compact[static_cast<std::size_t>(kKnownHeaders[i].compact - 'a')] =
                static_cast<uint8_t>(i + 1);
    return ix;
}

constexpr Index kIndex = make_index();
static_assert(kKnownCount < 255 && kKnownCount * 4 < kSlots);

// The longest run of slots a known name's lookup walks before finding it.
constexpr std::size_t longest_probe() {
    std::size_t longest = 0;
    for (std::size_t i = 0; i < kKnownCount; ++i) {
        std::size_t n = 1;
        for (std::size_t h = name_hash(kKnownHeaders[i].name); kIndex.slot[h] != i + 1;
             h = (h + 1) & (kSlots - 1))
            ++n;
        longest = std::max(longest, n);
    }
    return longest;
}
// The longest run of occupied slots: an unknown name's lookup walks at
// most that many before an empty one.
constexpr std::size_t longest_run() {
    std::size_t longest = 0;
    std::size_t run = 0;
    for (std::size_t k = 0; k < 2 * kSlots; ++k) {  // twice round: a run may wrap
        run = kIndex.slot[k & (kSlots - 1)] != 0 ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return longest;
}
constexpr std::size_t kMaxProbes = 4;
static_assert(longest_probe() <= kMaxProbes && longest_run() <= kMaxProbes,
              "the name hash clusters: change its constants");

const KnownHeader* find_known(std::string_view name) {
    if (name.size() == 1) {
        const char c = ascii_lower(name[0]);
        if (c < 'a' || c > 'z') return nullptr;
        const uint8_t i = kIndex.compact[static_cast<std::size_t>(c - 'a')];
        return i == 0 ? nullptr : &kKnownHeaders[i - 1];
    }
    if (name.empty() || name.size() > kMaxNameLength) return nullptr;
    for (std::size_t h = name_hash(name);; h = (h + 1) & (kSlots - 1)) {
        const uint8_t i = kIndex.slot[h];
        if (i == 0) return nullptr;
        const KnownHeader& k = kKnownHeaders[i - 1];
        if (iequals(k.name, name)) return &k;
    }
}

}  // namespace

std::string_view canonical_header_name(std::string_view name) {
    const KnownHeader* h = find_known(name);
    return h ? h->name : name;
}

bool is_list_header(std::string_view canonical_name) {
    const KnownHeader* h = find_known(canonical_name);
    return h != nullptr && h->list;
}

}  // namespace isthmus::sip
