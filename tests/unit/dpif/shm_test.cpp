// The dpif region in POSIX shared memory: create, attach, generations across
// restarts, and the errors an operator sees.
#include "isthmus/dpif/shm.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace isthmus::dpif {
namespace {

std::string unique_name(const char* what) {
    return "/isthmus-test-" + std::string(what) + "-" + std::to_string(::getpid());
}

TEST(SharedRegion, AttachWithoutDataplaneSaysSo) {
    try {
        (void)SharedRegion::attach(unique_name("absent"));
        FAIL() << "attach succeeded with no region";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("is isthmus-dataplane running?"), std::string::npos)
            << e.what();
    }
}

TEST(SharedRegion, CreateAttachAndExchangeMessages) {
    const std::string name = unique_name("basic");
    SharedRegion dp = SharedRegion::create(name);
    EXPECT_TRUE(dp.owner());
    EXPECT_EQ(dp->header.dataplane_generation.load(), 1U);
    EXPECT_EQ(dp->header.state.load(), static_cast<uint32_t>(DataplaneState::Starting));

    SharedRegion cp = SharedRegion::attach(name);
    EXPECT_FALSE(cp.owner());
    EXPECT_NE(cp.get(), dp.get());  // two mappings of one object

    Command cmd{};
    cmd.hdr = {kAbiVersion, MsgType::SessionCreate, 0, 7, 3, 42};
    cmd.access.local.family = 4;
    cmd.access.local.port = 40000;
    ASSERT_TRUE(cp->commands.try_push(cmd));
    Command got{};
    ASSERT_TRUE(dp->commands.try_pop(got));
    EXPECT_EQ(std::memcmp(&got, &cmd, sizeof cmd), 0);

    Event ev{};
    ev.hdr = {kAbiVersion, MsgType::Result, 0, 7, 3, 42};
    ev.result = ResultCode::Ok;
    ASSERT_TRUE(dp->events.try_push(ev));
    Event back{};
    ASSERT_TRUE(cp->events.try_pop(back));
    EXPECT_EQ(back.hdr.seq, 7U);
    EXPECT_EQ(result_name(back.result), "ok");
}

TEST(SharedRegion, RestartedDataplaneGetsAFreshRegionAndNextGeneration) {
    const std::string name = unique_name("restart");
    SharedRegion first = SharedRegion::create(name);
    Command cmd{};
    ASSERT_TRUE(first->commands.try_push(cmd));
    // The dataplane dies without cleaning up: its owner handle is leaked on
    // purpose by moving it into a child that exits without destructors.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        SharedRegion crashed = SharedRegion::create(name);  // generation 2, then "crash"
        ::_exit(crashed->header.dataplane_generation.load() == 2 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    SharedRegion next = SharedRegion::create(name);
    EXPECT_EQ(next->header.dataplane_generation.load(), 3U);
    EXPECT_TRUE(next->commands.empty()) << "a restarted dataplane must not inherit old commands";
    SharedRegion cp = SharedRegion::attach(name);
    EXPECT_EQ(cp->header.dataplane_generation.load(), 3U);
    // The first (orphaned) mapping still works for whoever holds it, and
    // letting it go does not unlink the newer region's name.
    EXPECT_EQ(first->commands.size(), 1U);
    first = SharedRegion();
    EXPECT_NO_THROW((void)SharedRegion::attach(name));
}

TEST(SharedRegion, OwnerUnlinksAndMarksStopped) {
    const std::string name = unique_name("stop");
    RegionHeader* seen = nullptr;
    SharedRegion cp;
    {
        SharedRegion dp = SharedRegion::create(name);
        cp = SharedRegion::attach(name);
        seen = &cp->header;
    }
    EXPECT_EQ(seen->state.load(), static_cast<uint32_t>(DataplaneState::Stopped));
    EXPECT_THROW((void)SharedRegion::attach(name), std::runtime_error);
}

TEST(SharedRegion, RefusesAnotherLayout) {
    const std::string name = unique_name("abi");
    SharedRegion dp = SharedRegion::create(name);
    dp->header.abi_version = kAbiVersion + 1;
    try {
        (void)SharedRegion::attach(name);
        FAIL() << "attach accepted another ABI";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("ABI version"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace isthmus::dpif
