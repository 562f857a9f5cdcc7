// The dpif client against a stand-in dataplane thread serving the rings.
#include "isthmus/dpif/client.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace isthmus::dpif {
namespace {

std::string unique_name(const char* what) {
    return "/isthmus-test-client-" + std::string(what) + "-" + std::to_string(::getpid());
}

// Answers every command with Result Ok (Pong for Ping), after first sending
// an unrelated event, until stopped.
class FakeDataplane {
  public:
    explicit FakeDataplane(const std::string& name) : region_(SharedRegion::create(name)) {}
    ~FakeDataplane() { stop(); }
    void start() {
        thread_ = std::thread([this] {
            Command cmd{};
            while (!stop_.load()) {
                if (!region_->commands.try_pop(cmd)) {
                    std::this_thread::yield();
                    continue;
                }
                seen.push_back(cmd.hdr);
                Event noise{};
                noise.hdr = {kAbiVersion, MsgType::ConsentLost, 0, 0, cmd.hdr.generation, 99};
                while (!region_->events.try_push(noise))
                    std::this_thread::yield();
                Event ev{};
                ev.hdr = cmd.hdr;
                ev.hdr.type = cmd.hdr.type == MsgType::Ping ? MsgType::Pong : MsgType::Result;
                ev.result =
                    cmd.hdr.version == kAbiVersion ? ResultCode::Ok : ResultCode::BadVersion;
                while (!region_->events.try_push(ev))
                    std::this_thread::yield();
            }
        });
    }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    SharedRegion region_;
    std::vector<MsgHeader> seen;  // read after stop()

  private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

TEST(DpifClient, StampsAndMatchesAnswers) {
    const std::string name = unique_name("call");
    FakeDataplane dp(name);
    Client client(name, 1234);
    EXPECT_EQ(client.dataplane_generation(), 1U);
    dp.start();

    int others = 0;
    for (int i = 0; i < 3; ++i) {
        Command cmd{};
        cmd.hdr.type = i == 2 ? MsgType::Ping : MsgType::SessionCreate;
        cmd.hdr.session_id = 10U + static_cast<uint64_t>(i);
        const auto ev = client.call(cmd, std::chrono::seconds(5), [&](const Event& e) {
            EXPECT_EQ(e.hdr.type, MsgType::ConsentLost);
            ++others;
        });
        ASSERT_TRUE(ev.has_value()) << i;
        EXPECT_EQ(ev->hdr.seq, static_cast<uint64_t>(i + 1));
        EXPECT_EQ(ev->hdr.session_id, 10U + static_cast<uint64_t>(i));
        EXPECT_EQ(ev->hdr.type, i == 2 ? MsgType::Pong : MsgType::Result);
        EXPECT_EQ(ev->result, ResultCode::Ok);
    }
    EXPECT_EQ(others, 3);
    dp.stop();
    ASSERT_EQ(dp.seen.size(), 3U);
    for (const MsgHeader& h : dp.seen) {
        EXPECT_EQ(h.version, kAbiVersion);
        EXPECT_EQ(h.generation, 1234U);
    }
}

TEST(DpifClient, TimesOutWhenNobodyAnswers) {
    const std::string name = unique_name("timeout");
    SharedRegion dp = SharedRegion::create(name);  // never served
    Client client(name, 1);
    Command cmd{};
    cmd.hdr.type = MsgType::Ping;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(client.call(cmd, std::chrono::milliseconds(50)).has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
}

TEST(DpifClient, FullRingIsReportedNotBlocked) {
    const std::string name = unique_name("full");
    SharedRegion dp = SharedRegion::create(name);
    Client client(name, 1);
    Command cmd{};
    uint64_t sent = 0;
    while (client.send(cmd).has_value())
        ++sent;
    EXPECT_EQ(sent, kCommandRingSlots);
    EXPECT_FALSE(client.call(cmd, std::chrono::milliseconds(20)).has_value());
}

TEST(DpifClient, AttachFailsClearlyWithoutDataplane) {
    EXPECT_THROW(Client(unique_name("none"), 1), std::runtime_error);
}

}  // namespace
}  // namespace isthmus::dpif

namespace isthmus::dpif {
namespace {

TEST(DpifClient, OneClientAtATime) {
    const std::string name = unique_name("claim");
    SharedRegion dp = SharedRegion::create(name);
    {
        Client first(name, 1);
        EXPECT_EQ(dp->header.client_pid.load(), static_cast<uint32_t>(::getpid()));
        try {
            Client second(name, 2);
            FAIL() << "a second producer was let in";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("already has a client"), std::string::npos)
                << e.what();
        }
    }
    EXPECT_EQ(dp->header.client_pid.load(), 0U);  // released
    EXPECT_NO_THROW(Client(name, 3));

    // A claim left by a process that died is taken over.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    dp->header.client_pid.store(static_cast<uint32_t>(child));
    EXPECT_NO_THROW(Client(name, 4));
}

TEST(DpifClient, LateAnswerToAnEarlierClientIsNotTaken) {
    const std::string name = unique_name("stale");
    SharedRegion dp = SharedRegion::create(name);
    // An earlier client (generation 1) timed out; its answer arrives late.
    Event late{};
    late.hdr = {kAbiVersion, MsgType::Result, 0, 1, 1, 0};
    late.result = ResultCode::NotFound;
    ASSERT_TRUE(dp->events.try_push(late));
    Client client(name, 2);
    Command cmd{};
    cmd.hdr.type = MsgType::Ping;
    int passed_aside = 0;
    EXPECT_FALSE(client.call(cmd, std::chrono::milliseconds(30), [&](const Event& e) {
        EXPECT_EQ(e.hdr.generation, 1U);
        ++passed_aside;
    }));
    EXPECT_EQ(passed_aside, 1);
}

TEST(DpifClient, SeesTheDataplaneGo) {
    const std::string name = unique_name("gone");
    auto dp = std::make_unique<SharedRegion>(SharedRegion::create(name));
    Client client(name, 1);
    EXPECT_FALSE(client.dataplane_gone());
    *dp = SharedRegion::create(name);  // the dataplane restarted
    EXPECT_TRUE(client.dataplane_gone());
    Client again(name, 2);
    EXPECT_FALSE(again.dataplane_gone());
    EXPECT_EQ(again.dataplane_generation(), 2U);
}

TEST(SharedRegionCreate, RefusesToTakeOverARunningDataplane) {
    const std::string name = unique_name("busy");
    int ready[2], release[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(release), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        SharedRegion mine = SharedRegion::create(name);
        mine->header.state.store(static_cast<uint32_t>(DataplaneState::Running));
        char c = 1;
        (void)!::write(ready[1], &c, 1);
        (void)!::read(release[0], &c, 1);  // serve until told to stop
        ::_exit(0);                        // a crash: no clean-up
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    try {
        (void)SharedRegion::create(name);
        ADD_FAILURE() << "took over a running dataplane's region";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("running dataplane"), std::string::npos) << e.what();
    }
    ASSERT_EQ(::write(release[1], &c, 1), 1);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    // The crashed dataplane's region is replaced by the next one.
    SharedRegion next = SharedRegion::create(name);
    EXPECT_EQ(next->header.dataplane_generation.load(), 2U);
    for (int fd : {ready[0], ready[1], release[0], release[1]})
        ::close(fd);
}

}  // namespace
}  // namespace isthmus::dpif
