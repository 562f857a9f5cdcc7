// The used tokens' ids on disk (controlplane/token/replay_journal.hpp): made
// when missing, read back after a "restart" into a cache that then refuses
// them, expired and malformed lines dropped and counted with the file
// rewritten to the live ones, compaction once the file holds more than
// twice the live ids, and a file that cannot be made named in the error.
#include "token/replay_journal.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace isthmus::token {
namespace {

constexpr int64_t kNow = 1764000000;

class ReplayJournalTest : public ::testing::Test {
  protected:
    ReplayJournalTest()
        : path_(::testing::TempDir() + "replay-journal-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name()) {
        std::remove(path_.c_str());
    }
    ~ReplayJournalTest() override {
        std::remove(path_.c_str());
        std::remove((path_ + ".tmp").c_str());
    }
    std::string contents() const {
        std::ifstream in(path_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    void write(const std::string& text) const { std::ofstream(path_) << text; }
    // A journal and its cache as the core keeps them: record() after first_use().
    static bool use(ReplayJournal& j, ReplayCache& c, const std::string& id, int64_t expires,
                    int64_t now = kNow) {
        if (!c.first_use(id, expires, now)) return false;
        std::string error;
        EXPECT_TRUE(j.record(id, expires, c, error)) << error;
        return true;
    }
    std::string path_;
};

TEST_F(ReplayJournalTest, AMissingFileIsMadeEmptyAndPrivate) {
    const auto j = ReplayJournal::open(path_, kNow);
    EXPECT_EQ(j->loaded().live, 0u);
    EXPECT_EQ(j->lines(), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(contents(), "");
}

TEST_F(ReplayJournalTest, IdsUsedBeforeARestartAreRefusedAfterIt) {
    {
        const auto j = ReplayJournal::open(path_, kNow);
        ReplayCache c;
        EXPECT_TRUE(use(*j, c, "tok-a", kNow + 120));
        EXPECT_TRUE(use(*j, c, "tok_B", kNow + 60));
        EXPECT_FALSE(use(*j, c, "tok-a", kNow + 120));  // a replay: not recorded again
        EXPECT_EQ(j->lines(), 2u);
    }
    EXPECT_EQ(contents(), "1764000120 tok-a\n1764000060 tok_B\n");
    // The restart, 30 s later.
    const auto j = ReplayJournal::open(path_, kNow + 30);
    EXPECT_EQ(j->loaded().live, 2u);
    ReplayCache c;
    j->seed(c, kNow + 30);
    EXPECT_EQ(c.size(), 2u);
    EXPECT_FALSE(c.first_use("tok-a", kNow + 120, kNow + 30));
    EXPECT_FALSE(c.first_use("tok_B", kNow + 60, kNow + 30));
    EXPECT_TRUE(c.first_use("tok-c", kNow + 120, kNow + 30));
    // seed() gives them once.
    ReplayCache again;
    j->seed(again, kNow + 30);
    EXPECT_EQ(again.size(), 0u);
}

TEST_F(ReplayJournalTest, ExpiredAndMalformedLinesAreDroppedAndCounted) {
    write(
        "1764000120 live-1\n"
        "1764000000 expired-at-now\n"
        "1763999000 long-gone\n"
        "garbage\n"
        "1764000120\n"
        " 1764000120 leading-space\n"
        "-5 negative\n"
        "1764000120 bad/char\n"
        "1764000120 " +
        std::string(65, 'x') +
        "\n"
        "12x4 not-a-number\n"
        "\n"
        "1764000200 live-2\n"
        "1764000300 cut-off-no-newline");
    const auto j = ReplayJournal::open(path_, kNow);
    EXPECT_EQ(j->loaded().live, 3u);
    EXPECT_EQ(j->loaded().expired, 2u);
    EXPECT_EQ(j->loaded().malformed, 8u);
    // Rewritten with the live ones only, each line whole.
    EXPECT_EQ(contents(), "1764000120 live-1\n1764000200 live-2\n1764000300 cut-off-no-newline\n");
    EXPECT_EQ(j->lines(), 3u);
}

TEST_F(ReplayJournalTest, TheFileIsCompactedWhenMostOfItHasExpired) {
    const auto j = ReplayJournal::open(path_, kNow);
    ReplayCache c;
    // 1,100 ids living 10 s, then (60 s later, all expired) one more.
    for (int i = 0; i < 1100; ++i)
        ASSERT_TRUE(use(*j, c, "short-" + std::to_string(i), kNow + 10));
    EXPECT_EQ(j->lines(), 1100u);  // over kCompactMin, but all live: no compaction
    ASSERT_TRUE(use(*j, c, "late", kNow + 200, kNow + 60));
    // first_use purged the expired ones: the cache holds 1, the file is
    // rewritten from it.
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(j->lines(), 1u);
    EXPECT_EQ(contents(), "1764000200 late\n");
    ASSERT_TRUE(use(*j, c, "next", kNow + 200, kNow + 61));
    EXPECT_EQ(contents(), "1764000200 late\n1764000200 next\n");
}

TEST_F(ReplayJournalTest, AFileThatCannotBeMadeIsNamed) {
    const std::string bad =
        ::testing::TempDir() + "no-such-dir-" + std::to_string(::getpid()) + "/replay";
    try {
        ReplayJournal::open(bad, kNow);
        FAIL() << "opened " << bad;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace isthmus::token
