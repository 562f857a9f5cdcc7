// The worker flow table against a std::map model under random churn, plus
// its edges: full, duplicate, IPv4 vs IPv6 keys, erase inside probe runs.
#include "flow/flow_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace isthmus::flow {
namespace {

FlowKey v4(uint32_t ip, uint16_t port) {
    const uint8_t a[4] = {static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                          static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)};
    return FlowKey::ipv4(a, port);
}

TEST(FlowTable, InsertFindErase) {
    FlowTable t(4);
    const FlowKey a = v4(0xc6120001, 40000), b = v4(0xc6120001, 40002);
    EXPECT_EQ(t.find(a), FlowTable::kNotFound);
    EXPECT_EQ(t.insert(a, 7), InsertResult::Inserted);
    EXPECT_EQ(t.insert(a, 8), InsertResult::Exists);
    EXPECT_EQ(t.find(a), 7U);
    EXPECT_EQ(t.find(b), FlowTable::kNotFound);
    EXPECT_TRUE(t.erase(a));
    EXPECT_FALSE(t.erase(a));
    EXPECT_EQ(t.find(a), FlowTable::kNotFound);
    EXPECT_EQ(t.size(), 0U);
}

TEST(FlowTable, RefusesBeyondItsCapacity) {
    FlowTable t(3);
    for (uint16_t p = 0; p < 3; ++p)
        EXPECT_EQ(t.insert(v4(1, p), p), InsertResult::Inserted);
    EXPECT_EQ(t.insert(v4(1, 99), 99), InsertResult::Full);
    EXPECT_EQ(t.insert(v4(1, 0), 5), InsertResult::Exists);  // a duplicate is still a duplicate
    EXPECT_TRUE(t.erase(v4(1, 1)));
    EXPECT_EQ(t.insert(v4(1, 99), 99), InsertResult::Inserted);
    EXPECT_THROW(FlowTable((1U << 30) + 1), std::invalid_argument);
}

TEST(FlowTable, Ipv4AndIpv6KeysDiffer) {
    FlowTable t(8);
    uint8_t six[16] = {};
    six[0] = 0xc6;
    six[1] = 0x12;
    six[3] = 0x01;  // same leading octets as 198.18.0.1
    EXPECT_EQ(t.insert(v4(0xc6120001, 5000), 1), InsertResult::Inserted);
    EXPECT_EQ(t.insert(FlowKey::ipv6(six, 5000), 2), InsertResult::Inserted);
    EXPECT_EQ(t.find(v4(0xc6120001, 5000)), 1U);
    EXPECT_EQ(t.find(FlowKey::ipv6(six, 5000)), 2U);
}

// Random inserts and erases in a small table (long probe runs, wrap-around
// at the end of the slot array) must always agree with a std::map.
TEST(FlowTable, AgreesWithAModelUnderChurn) {
    std::mt19937 rng(20261125);
    FlowTable t(64);  // 128 slots
    std::map<std::tuple<uint32_t, uint16_t>, uint32_t> model;
    for (int step = 0; step < 200000; ++step) {
        const auto ip = static_cast<uint32_t>(0xc6120000U + rng() % 4);
        const auto port = static_cast<uint16_t>(rng() % 64);
        const FlowKey k = v4(ip, port);
        const auto key = std::make_tuple(ip, port);
        switch (rng() % 3) {
            case 0: {
                const auto v = static_cast<uint32_t>(rng());
                const InsertResult r = t.insert(k, v == FlowTable::kNotFound ? 0 : v);
                if (model.count(key) != 0) {
                    ASSERT_EQ(r, InsertResult::Exists) << step;
                } else if (model.size() >= 64) {
                    ASSERT_EQ(r, InsertResult::Full) << step;
                } else {
                    ASSERT_EQ(r, InsertResult::Inserted) << step;
                    model[key] = v == FlowTable::kNotFound ? 0 : v;
                }
                break;
            }
            case 1:
                ASSERT_EQ(t.erase(k), model.erase(key) == 1) << step;
                break;
            default: {
                const auto it = model.find(key);
                ASSERT_EQ(t.find(k), it == model.end() ? FlowTable::kNotFound : it->second) << step;
            }
        }
        ASSERT_EQ(t.size(), model.size());
    }
    // Every remaining key is still found, in bulk too.
    std::vector<FlowKey> keys;
    std::vector<uint32_t> want;
    for (const auto& [key, v] : model) {
        keys.push_back(v4(std::get<0>(key), std::get<1>(key)));
        want.push_back(v);
    }
    keys.push_back(v4(0x0a000001, 1));  // absent
    want.push_back(FlowTable::kNotFound);
    std::vector<uint32_t> got(keys.size());
    t.find_bulk(keys.data(), keys.size(), got.data());
    EXPECT_EQ(got, want);
}

TEST(FlowTable, MillionFlowsFit) {
    FlowTable t(1U << 20);
    for (uint32_t i = 0; i < (1U << 20); ++i) {
        ASSERT_EQ(t.insert(v4(0xc6120000U + (i >> 16), static_cast<uint16_t>(i)), i),
                  InsertResult::Inserted);
    }
    EXPECT_EQ(t.size(), 1U << 20);
    EXPECT_EQ(t.memory_bytes(), std::size_t{2} << 20 << 5);  // 2M slots of 32 octets: 64 MiB
    for (uint32_t i = 0; i < (1U << 20); i += 4099) {
        ASSERT_EQ(t.find(v4(0xc6120000U + (i >> 16), static_cast<uint16_t>(i))), i);
    }
}

}  // namespace
}  // namespace isthmus::flow
