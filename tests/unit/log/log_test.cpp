// Structured logs (include/isthmus/log/): the level words, the log control
// object in POSIX shared memory (created, replaced when stale, refused when
// a running process holds it, attached, refused when foreign, unlinked),
// and the Logger's filter, its lines and its counters.
#include "isthmus/log/log.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace isthmus::log {
namespace {

// A shared-memory name no other test (or test run) uses.
std::string unique_name(const char* what) {
    static int n = 0;
    return "/isthmus-log-test-" + std::to_string(::getpid()) + "-" + what + "-" +
           std::to_string(++n);
}

bool exists(const std::string& name) {
    const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

// The pid of a process that has exited (and been reaped).
uint32_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return static_cast<uint32_t>(child);
}

// A Logger writing into a temporary file, and what it wrote.
class Captured {
  public:
    Captured() : file_(std::tmpfile()) {}
    ~Captured() { std::fclose(file_); }
    Captured(const Captured&) = delete;
    Captured& operator=(const Captured&) = delete;
    std::FILE* file() const { return file_; }
    std::string text() const {
        std::fflush(file_);
        std::rewind(file_);
        std::string out;
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0)
            out.append(buf, n);
        std::fseek(file_, 0, SEEK_END);
        return out;
    }

  private:
    std::FILE* file_;
};

// --- the level words --------------------------------------------------------

TEST(LogLevel, NamesAndWordsRoundTrip) {
    const char* words[] = {"error", "warning", "notice", "info", "debug"};
    for (uint32_t i = 0; i < kLevelCount; ++i) {
        const auto level = static_cast<Level>(i);
        EXPECT_EQ(level_name(level), words[i]);
        ASSERT_TRUE(parse_level(words[i]));
        EXPECT_EQ(*parse_level(words[i]), level);
    }
    EXPECT_EQ(level_name(static_cast<Level>(5)), "?");
}

TEST(LogLevel, OrderIsBySeverity) {
    EXPECT_LT(Level::Error, Level::Warning);
    EXPECT_LT(Level::Warning, Level::Notice);
    EXPECT_LT(Level::Notice, Level::Info);
    EXPECT_LT(Level::Info, Level::Debug);
}

TEST(LogLevel, OtherWordsAreRefused) {
    for (const char* word : {"", "Info", "INFO", "warn", "err", "trace", "info ", " info", "5",
                             "debug\n", "critical"}) {
        EXPECT_FALSE(parse_level(word)) << "'" << word << "'";
    }
}

TEST(LogLevel, ControlNames) {
    EXPECT_TRUE(valid_control_name("/isthmus-pcscf-log"));
    EXPECT_TRUE(valid_control_name("/x"));
    EXPECT_FALSE(valid_control_name(""));
    EXPECT_FALSE(valid_control_name("/"));
    EXPECT_FALSE(valid_control_name("isthmus-pcscf-log"));
    EXPECT_FALSE(valid_control_name("/a/b"));
    EXPECT_FALSE(valid_control_name("//x"));
    EXPECT_FALSE(valid_control_name(std::string_view("/a\0b", 4)));
    EXPECT_FALSE(valid_control_name("/" + std::string(201, 'a')));
    EXPECT_TRUE(valid_control_name("/" + std::string(200, 'a')));
    EXPECT_EQ(default_control_name("dataplane"), "/isthmus-dataplane-log");
    EXPECT_EQ(default_control_name("pcscf"), "/isthmus-pcscf-log");
    EXPECT_EQ(default_control_name("wwsf"), "/isthmus-wwsf-log");
    EXPECT_FALSE(default_control_name("ctl"));
}

TEST(LogText, EscapeValue) {
    EXPECT_EQ(escape_value("/api/login"), "/api/login");
    EXPECT_EQ(escape_value(""), "-");
    // Nothing that ends the line or starts another key=value.
    EXPECT_EQ(escape_value("a b\nlevel=error"), "a%20b%0Alevel=error");
    EXPECT_EQ(escape_value("\"q\"\\\r\t\x7f\xff"), "%22q%22%5C%0D%09%7F%FF");
    EXPECT_EQ(escape_value("abcdef", 3), "abc...");
}

TEST(LogText, QuotedTextKeepsSpacesButNotQuotesOrLineEnds) {
    EXPECT_EQ(quoted_text("cannot open /x: No such file"), "cannot open /x: No such file");
    EXPECT_EQ(quoted_text("a\"b\\c"), "a%22b%5Cc");
    EXPECT_EQ(quoted_text("line\nlevel=error event=forged"), "line%0Alevel=error event=forged");
    EXPECT_EQ(quoted_text(std::string(400, 'x')), std::string(300, 'x') + "...");
}

TEST(LogText, Appendf) {
    std::string s = "event=x";
    appendf(s, " n=%d s=%s", 42, "y");
    EXPECT_EQ(s, "event=x n=42 s=y");
    const std::string big(3000, 'z');
    appendf(s, " big=%s", big.c_str());  // beyond the stack buffer
    EXPECT_EQ(s, "event=x n=42 s=y big=" + big);
}

// --- the Logger ---------------------------------------------------------------

TEST(Logger, WritesPrefixLevelAndTextAtOrAboveItsLevel) {
    Captured out;
    Logger log("isthmus-test", out.file(), Level::Info);
    EXPECT_TRUE(log.enabled(Level::Error));
    EXPECT_TRUE(log.enabled(Level::Info));
    EXPECT_FALSE(log.enabled(Level::Debug));
    log.write(Level::Info, "event=started threads=2");
    log.write(Level::Debug, "event=sip_in method=INVITE");
    log.write(Level::Warning, "event=dataplane_gone");
    log.writef(Level::Notice, "event=retry n=%d", 3);
    log.writef(Level::Debug, "event=never n=%d", 4);
    EXPECT_EQ(out.text(),
              "isthmus-test: level=info event=started threads=2\n"
              "isthmus-test: level=warning event=dataplane_gone\n"
              "isthmus-test: level=notice event=retry n=3\n");
    const LogControl& c = log.control();
    EXPECT_EQ(c.lines[static_cast<int>(Level::Info)].load(), 1u);
    EXPECT_EQ(c.lines[static_cast<int>(Level::Warning)].load(), 1u);
    EXPECT_EQ(c.lines[static_cast<int>(Level::Notice)].load(), 1u);
    EXPECT_EQ(c.lines[static_cast<int>(Level::Debug)].load(), 0u);
    EXPECT_EQ(c.suppressed.load(), 2u);
    EXPECT_FALSE(log.published());
}

// A line too costly to build unless it is written: admit() says whether,
// and counts it as suppressed when not, as write() would.
TEST(Logger, AdmitCountsWhatItTurnsAway) {
    Captured out;
    Logger log("t", out.file(), Level::Info);
    EXPECT_TRUE(log.admit(Level::Info));
    EXPECT_FALSE(log.admit(Level::Debug));
    EXPECT_FALSE(log.admit(Level::Debug));
    EXPECT_EQ(log.control().suppressed.load(), 2u);
    EXPECT_FALSE(log.enabled(Level::Debug));  // enabled() only looks
    EXPECT_EQ(log.control().suppressed.load(), 2u);
    EXPECT_EQ(out.text(), "");
}

TEST(Logger, EmptyPrefixIsTheDataplanesForm) {
    Captured out;
    Logger log("", out.file(), Level::Info);
    log.write(Level::Info, "event=port_ready port=access");
    EXPECT_EQ(out.text(), "level=info event=port_ready port=access\n");
}

TEST(Logger, EachLevelFiltersWhatIsBelowIt) {
    for (uint32_t at = 0; at < kLevelCount; ++at) {
        Captured out;
        Logger log("t", out.file(), static_cast<Level>(at));
        for (uint32_t l = 0; l < kLevelCount; ++l)
            log.write(static_cast<Level>(l), "event=e");
        const std::string text = out.text();
        for (uint32_t l = 0; l < kLevelCount; ++l) {
            const std::string line =
                "t: level=" + std::string(level_name(static_cast<Level>(l))) + " event=e\n";
            EXPECT_EQ(text.find(line) != std::string::npos, l <= at)
                << "at " << level_name(static_cast<Level>(at)) << ": " << line;
        }
        EXPECT_EQ(log.control().suppressed.load(), kLevelCount - 1 - at);
    }
}

// What the cores' log sinks hand over ("level=WORD ...") comes out byte for
// byte as it did when the daemons printed it themselves.
TEST(Logger, TaggedLinesKeepTheirTextAndLevel) {
    Captured out;
    Logger log("isthmus-wwsf", out.file(), Level::Notice);
    log.write_tagged("level=notice event=login_failed user=alice peer=127.0.0.1");
    log.write_tagged("level=info event=login user=alice");
    log.write_tagged("level=warning event=guest_pool_empty size=3");
    log.write_tagged("event=untagged");  // written at info: suppressed here
    log.write_tagged("level=bogus event=x");
    EXPECT_EQ(out.text(),
              "isthmus-wwsf: level=notice event=login_failed user=alice peer=127.0.0.1\n"
              "isthmus-wwsf: level=warning event=guest_pool_empty size=3\n");
    EXPECT_EQ(log.control().suppressed.load(), 3u);
}

TEST(Logger, LinesOfManyThreadsDoNotInterleave) {
    Captured out;
    Logger log("t", out.file(), Level::Info);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 500; ++i)
                log.writef(Level::Info, "event=x thread=%d i=%d pad=%s", t, i,
                           std::string(100, static_cast<char>('a' + t)).c_str());
        });
    }
    for (auto& th : threads)
        th.join();
    const std::string text = out.text();
    std::size_t lines = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t nl = text.find('\n', at);
        ASSERT_NE(nl, std::string::npos);
        const std::string line = text.substr(at, nl - at);
        EXPECT_EQ(line.rfind("t: level=info event=x thread=", 0), 0u) << line;
        ++lines;
        at = nl + 1;
    }
    EXPECT_EQ(lines, 2000u);
    EXPECT_EQ(log.control().lines[static_cast<int>(Level::Info)].load(), 2000u);
}

// --- the log control object -----------------------------------------------------

TEST(LogControlShm, PublishCreatesTheObjectAndTheLevelFollowsIt) {
    const std::string name = unique_name("publish");
    Captured out;
    {
        Logger log("t", out.file(), Level::Info);
        log.write(Level::Info, "event=before");  // counted before publish, carried over
        log.write(Level::Debug, "event=hidden");
        ASSERT_EQ(log.publish(name, "pcscf"), "");
        EXPECT_TRUE(log.published());
        EXPECT_TRUE(exists(name));

        SharedLogControl ctl = SharedLogControl::attach(name, true);
        EXPECT_EQ(daemon_of(*ctl), "pcscf");
        EXPECT_EQ(ctl->pid.load(), static_cast<uint32_t>(::getpid()));
        EXPECT_EQ(level_of(*ctl), Level::Info);
        EXPECT_EQ(ctl->lines[static_cast<int>(Level::Info)].load(), 1u);
        EXPECT_EQ(ctl->suppressed.load(), 1u);

        // isthmus-ctl log-level pcscf debug
        ctl->level.store(static_cast<uint32_t>(Level::Debug));
        EXPECT_TRUE(log.enabled(Level::Debug));
        log.write(Level::Debug, "event=shown");
        // ... warning
        ctl->level.store(static_cast<uint32_t>(Level::Warning));
        log.write(Level::Info, "event=quiet");
        log.write(Level::Error, "event=loud");
        EXPECT_EQ(ctl->lines[static_cast<int>(Level::Debug)].load(), 1u);
        EXPECT_EQ(ctl->lines[static_cast<int>(Level::Error)].load(), 1u);
        EXPECT_EQ(ctl->suppressed.load(), 2u);
        EXPECT_EQ(log.level(), Level::Warning);
        // A stray value is read as debug, not used as an index.
        ctl->level.store(77);
        EXPECT_EQ(log.level(), Level::Debug);
        log.write(Level::Debug, "event=stray");
    }
    EXPECT_FALSE(exists(name)) << "unlinked when the logger goes";
    EXPECT_EQ(out.text(),
              "t: level=info event=before\n"
              "t: level=debug event=shown\n"
              "t: level=error event=loud\n"
              "t: level=debug event=stray\n");
}

// A daemon without a writable /dev/shm (or with a name it cannot use) runs
// on: publish says why, the level stays fixed, lines are still counted.
TEST(LogControlShm, PublishFailureKeepsTheLoggerWorking) {
    Captured out;
    Logger log("t", out.file(), Level::Warning);
    const std::string why = log.publish("/no/such/dir", "wwsf");
    EXPECT_NE(why, "");
    EXPECT_NE(why.find("/no/such/dir"), std::string::npos) << why;
    EXPECT_FALSE(log.published());
    log.write(Level::Warning, "event=w");
    log.write(Level::Info, "event=i");
    EXPECT_EQ(out.text(), "t: level=warning event=w\n");
    EXPECT_EQ(log.control().suppressed.load(), 1u);
}

TEST(LogControlShm, StaleObjectIsReplaced) {
    const std::string name = unique_name("stale");
    {
        SharedLogControl first = SharedLogControl::create(name, "wwsf", Level::Info);
        first->pid.store(dead_pid());
        first->lines[0].store(99);
        // A second create (a restarted daemon) replaces it: fresh counters.
        SharedLogControl second = SharedLogControl::create(name, "wwsf", Level::Debug);
        SharedLogControl view = SharedLogControl::attach(name, false);
        EXPECT_EQ(view->pid.load(), static_cast<uint32_t>(::getpid()));
        EXPECT_EQ(view->lines[0].load(), 0u);
        EXPECT_EQ(level_of(*view), Level::Debug);
        // The first goes: the name is the second's, not unlinked.
        first = SharedLogControl();
        EXPECT_TRUE(exists(name));
    }
    EXPECT_FALSE(exists(name));
}

TEST(LogControlShm, ObjectOfARunningProcessIsNotTaken) {
    const std::string name = unique_name("held");
    SharedLogControl held = SharedLogControl::create(name, "pcscf", Level::Info);
    held->pid.store(static_cast<uint32_t>(::getppid()));  // alive: our parent
    try {
        SharedLogControl::create(name, "pcscf", Level::Info);
        ADD_FAILURE() << "a running process's object was replaced";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("held by a running pcscf (pid " +
                                             std::to_string(::getppid()) + ")"),
                  std::string::npos)
            << e.what();
    }
    held->pid.store(static_cast<uint32_t>(::getpid()));
}

TEST(LogControlShm, AttachRefusesWhatIsNotALogControl) {
    const std::string missing = unique_name("missing");
    try {
        SharedLogControl::attach(missing, false);
        ADD_FAILURE() << "attached to nothing";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    }
    // The right size, no magic (another program's object, or half made).
    const std::string foreign = unique_name("foreign");
    int fd = ::shm_open(foreign.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, sizeof(LogControl)), 0);
    ::close(fd);
    try {
        SharedLogControl::attach(foreign, false);
        ADD_FAILURE() << "attached to an object without the magic";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos) << e.what();
    }
    // A layout of another version.
    {
        SharedLogControl c = SharedLogControl::create(unique_name("version"), "pcscf", Level::Info);
        c->version = kLogControlVersion + 1;
        try {
            SharedLogControl::attach(c.name(), false);
            ADD_FAILURE() << "attached to another layout version";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("layout version"), std::string::npos) << e.what();
        }
    }
    // Another size.
    fd = ::shm_open(foreign.c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    ::close(fd);
    try {
        SharedLogControl::attach(foreign, false);
        ADD_FAILURE() << "attached to an object of another size";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("has size 4096"), std::string::npos) << e.what();
    }
    // A create replaces such an object (it is nobody's log control).
    {
        SharedLogControl mine = SharedLogControl::create(foreign, "dataplane", Level::Info);
        EXPECT_EQ(daemon_of(*SharedLogControl::attach(foreign, false)), "dataplane");
    }
    EXPECT_FALSE(exists(foreign));
}

TEST(LogControlShm, ProcessAlive) {
    EXPECT_TRUE(SharedLogControl::process_alive(static_cast<uint32_t>(::getpid())));
    EXPECT_TRUE(SharedLogControl::process_alive(1));  // init: EPERM or 0, alive either way
    EXPECT_FALSE(SharedLogControl::process_alive(dead_pid()));
    EXPECT_FALSE(SharedLogControl::process_alive(0));
}

TEST(LogControlShm, InvalidNamesAreRefused) {
    for (const char* name : {"", "x", "/", "/a/b"}) {
        EXPECT_THROW(SharedLogControl::create(name, "pcscf", Level::Info), std::runtime_error)
            << name;
    }
}

}  // namespace
}  // namespace isthmus::log
