// isthmus-ctl log-level: its arguments (DAEMON, LEVEL, --name) and the line
// it prints (tools/ctl/log_level.cpp).
#include "ctl/log_level.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isthmus::ctl {
namespace {

using Args = std::vector<std::string>;

LogLevelArgs parsed(const Args& args) {
    LogLevelArgs out;
    std::string error;
    EXPECT_TRUE(parse_log_level_args(args, out, error)) << error;
    return out;
}

std::string refused(const Args& args) {
    LogLevelArgs out;
    out.daemon = "untouched";
    std::string error;
    EXPECT_FALSE(parse_log_level_args(args, out, error));
    EXPECT_EQ(out.daemon, "untouched");
    return error;
}

TEST(CtlLogLevel, DaemonPicksItsDefaultName) {
    const LogLevelArgs p = parsed({"pcscf"});
    EXPECT_EQ(p.daemon, "pcscf");
    EXPECT_EQ(p.name, "/isthmus-pcscf-log");
    EXPECT_FALSE(p.level);
    EXPECT_EQ(parsed({"dataplane"}).name, "/isthmus-dataplane-log");
    EXPECT_EQ(parsed({"wwsf"}).name, "/isthmus-wwsf-log");
}

TEST(CtlLogLevel, LevelAndName) {
    const LogLevelArgs p = parsed({"wwsf", "debug", "--name", "/wwsf-test-log"});
    EXPECT_EQ(p.daemon, "wwsf");
    EXPECT_EQ(p.name, "/wwsf-test-log");
    ASSERT_TRUE(p.level);
    EXPECT_EQ(*p.level, log::Level::Debug);
    // --name anywhere.
    const LogLevelArgs q = parsed({"--name", "/x", "dataplane", "warning"});
    EXPECT_EQ(q.name, "/x");
    EXPECT_EQ(q.daemon, "dataplane");
    EXPECT_EQ(*q.level, log::Level::Warning);
}

TEST(CtlLogLevel, UsageErrors) {
    EXPECT_NE(refused({}).find("give the daemon"), std::string::npos);
    EXPECT_NE(refused({"ctl"}).find("unknown daemon 'ctl'"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "verbose"}).find("unknown level 'verbose'"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "INFO"}).find("unknown level 'INFO'"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "info", "extra"}).find("unexpected argument 'extra'"),
              std::string::npos);
    EXPECT_NE(refused({"pcscf", "--name"}).find("--name needs a value"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "--name", "/a/b"}).find("--name '/a/b'"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "--name", "nolead"}).find("--name 'nolead'"), std::string::npos);
    EXPECT_NE(refused({"pcscf", "--level", "info"}).find("unexpected option '--level'"),
              std::string::npos);
}

TEST(CtlLogLevel, Line) {
    log::LogControl c;
    c.pid.store(4242);
    c.level.store(static_cast<uint32_t>(log::Level::Warning));
    std::snprintf(c.daemon, sizeof c.daemon, "%s", "pcscf");
    for (uint32_t i = 0; i < log::kLevelCount; ++i)
        c.lines[i].store(10 + i);
    c.suppressed.store(7);
    EXPECT_EQ(format_log_control(c),
              "daemon=pcscf pid=4242 level=warning lines_error=10 lines_warning=11 "
              "lines_notice=12 lines_info=13 lines_debug=14 suppressed=7");
}

}  // namespace
}  // namespace isthmus::ctl
