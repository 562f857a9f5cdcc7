// RFC 7983 demultiplexing against the table in tests/vectors/rfc7983-demux.txt.
#include "pkt/demux.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vectors.hpp"

namespace isthmus::pkt {
namespace {

// "first_byte  20..63    DTLS" lines of the vector file.
struct Range {
    int lo, hi;
    std::string what;
};

std::vector<Range> load_ranges() {
    std::ifstream in(test::vectors_dir() + "/rfc7983-demux.txt");
    EXPECT_TRUE(in.good()) << "rfc7983-demux.txt not found";
    std::vector<Range> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("first_byte", 0) != 0) continue;
        std::istringstream s(line.substr(10));
        std::string range, what;
        s >> range;
        std::getline(s, what);
        const auto dots = range.find("..");
        out.push_back({std::stoi(range.substr(0, dots)), std::stoi(range.substr(dots + 2)),
                       what.substr(what.find_first_not_of(' '))});
    }
    return out;
}

Demux expected_for(const std::string& what) {
    if (what.rfind("STUN", 0) == 0) return Demux::Stun;
    if (what.rfind("ZRTP", 0) == 0) return Demux::Zrtp;
    if (what.rfind("DTLS", 0) == 0) return Demux::Dtls;
    if (what.rfind("TURN", 0) == 0) return Demux::TurnChannel;
    if (what.rfind("RTP", 0) == 0) return Demux::Rtp;  // with a non-RTCP second octet
    return Demux::Unknown;
}

TEST(Rfc7983, EveryFirstOctetFollowsTheTable) {
    const auto ranges = load_ranges();
    ASSERT_EQ(ranges.size(), 5U);
    for (int b = 0; b < 256; ++b) {
        Demux want = Demux::Unknown;
        for (const Range& r : ranges) {
            if (b >= r.lo && b <= r.hi) want = expected_for(r.what);
        }
        const uint8_t pkt[2] = {static_cast<uint8_t>(b), 96};  // second octet: RTP PT 96
        EXPECT_EQ(classify(pkt, 2), want) << "first octet " << b;
    }
}

TEST(Rfc7983, RtcpByPacketTypeRfc5761) {
    for (int pt = 0; pt < 256; ++pt) {
        const uint8_t pkt[2] = {0x80, static_cast<uint8_t>(pt)};
        EXPECT_EQ(classify(pkt, 2), (pt >= 192 && pt <= 223) ? Demux::Rtcp : Demux::Rtp) << pt;
    }
}

TEST(Rfc7983, TooShortIsUnknown) {
    const uint8_t one[1] = {0x80};
    EXPECT_EQ(classify(one, 0), Demux::Unknown);
    EXPECT_EQ(classify(one, 1), Demux::Unknown);
    const uint8_t stun[1] = {0x01};
    EXPECT_EQ(classify(stun, 1), Demux::Stun);
}

}  // namespace
}  // namespace isthmus::pkt
