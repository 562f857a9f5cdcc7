// The [pcscf] configuration loader (controlplane/pcscf/daemon_config.hpp):
// the shipped configs/isthmus.toml loads; every refusal names the file and
// the key ("test.toml: pcscf.w2.max_connections: ..."); the files it names
// (TLS certificate and key, flow token key) are read; hops and endpoints,
// IPv4 and IPv6.
#include "pcscf/daemon_config.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../../tls_test_files.hpp"

namespace isthmus::pcscf {
namespace {

namespace fs = std::filesystem;

// A small valid configuration; each test changes one thing in it.
constexpr std::string_view kBase = R"([pcscf]
visited_network_id = "ims.example.net"
orig_ioi = "pcscf.example.net"

[pcscf.w2]
host = "pcscf.example.net"
ws = "127.0.0.1:5062"

[pcscf.mw]
address = "127.0.0.1"
port = 5060
next_hop = "udp:127.0.0.1:5070"

[pcscf.limits]

[pcscf.timers]
)";

// The configuration text as lines, edited by table and key.
class Toml {
  public:
    explicit Toml(std::string_view text = kBase) {
        std::istringstream in{std::string(text)};
        for (std::string line; std::getline(in, line);)
            lines_.push_back(line);
    }

    // Sets `key = value` in [table] (replacing the key's line, else right
    // after the table's header).
    Toml& set(std::string_view table, std::string_view key, std::string_view value) {
        const std::string line = std::string(key) + " = " + std::string(value);
        const auto [header, it] = find(table, key);
        if (it != lines_.end()) {
            *it = line;
        } else {
            lines_.insert(header + 1, line);
        }
        return *this;
    }
    Toml& unset(std::string_view table, std::string_view key) {
        const auto [header, it] = find(table, key);
        if (it != lines_.end()) lines_.erase(it);
        return *this;
    }
    // Appends raw text ([[pcscf.mw.route]] tables).
    Toml& append(std::string_view text) {
        std::istringstream in{std::string(text)};
        for (std::string line; std::getline(in, line);)
            lines_.push_back(line);
        return *this;
    }
    std::string text() const {
        std::string out;
        for (const std::string& l : lines_)
            out += l + "\n";
        return out;
    }

  private:
    using Iter = std::vector<std::string>::iterator;
    std::pair<Iter, Iter> find(std::string_view table, std::string_view key) {
        const std::string head = "[" + std::string(table) + "]";
        Iter header = lines_.end();
        for (Iter it = lines_.begin(); it != lines_.end(); ++it) {
            if (*it == head) {
                header = it;
            } else if (header != lines_.end() && !it->empty() && it->front() == '[') {
                break;
            } else if (header != lines_.end() && it->rfind(std::string(key) + " = ", 0) == 0) {
                return {header, it};
            }
        }
        if (header == lines_.end()) ADD_FAILURE() << "no " << head << " in the text";
        return {header, lines_.end()};
    }
    std::vector<std::string> lines_;
};

PcscfDaemonConfig load(const Toml& t) {
    return load_pcscf_text(t.text(), "test.toml");
}

// The PcscfConfigError's message ("" when the text loads).
std::string error_of(const std::string& text) {
    try {
        load_pcscf_text(text, "test.toml");
    } catch (const PcscfConfigError& e) {
        return e.what();
    }
    return "";
}
std::string error_of(const Toml& t) {
    return error_of(t.text());
}

// The error names exactly `key` ("test.toml: KEY: ...") and says `what`.
void expect_refused(const Toml& t, std::string_view key, std::string_view what = "") {
    const std::string e = error_of(t);
    const std::string prefix = "test.toml: " + std::string(key) + ": ";
    EXPECT_EQ(e.rfind(prefix, 0), 0u)
        << "expected \"" << prefix << "...\", got \"" << e << "\"\nfrom:\n"
        << t.text();
    EXPECT_NE(e.find(what), std::string::npos) << "expected \"" << what << "\" in \"" << e << "\"";
}

std::array<uint8_t, 16> v6(const char* text) {
    std::array<uint8_t, 16> a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
    return a;
}

// A directory of its own for the files a test writes.
class PcscfConfigFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string templ = (fs::path(::testing::TempDir()) / "pcscf_config_XXXXXX").string();
        ASSERT_NE(mkdtemp(templ.data()), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& content) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    fs::path dir_;
};

// --- what loads ----------------------------------------------------------

TEST(PcscfConfig, ShippedConfigurationLoads) {
    const char* path = std::getenv("ISTHMUS_PCSCF_CONFIG");
    ASSERT_NE(path, nullptr) << "ISTHMUS_PCSCF_CONFIG (set by tests/meson.build)";
    const PcscfDaemonConfig c = load_pcscf_file(path);
    EXPECT_EQ(c.threads, 1);
    EXPECT_EQ(c.transports.concurrency_hint, 1);
    ASSERT_TRUE(c.transports.ws);
    EXPECT_EQ(c.transports.ws->address, "127.0.0.1");
    EXPECT_EQ(c.transports.ws->port, 5062);
    EXPECT_FALSE(c.transports.ws->tls);
    EXPECT_EQ(c.transports.ws->handshake_timeout, std::chrono::milliseconds(10000));
    EXPECT_EQ(c.transports.ws->idle_timeout, std::chrono::seconds(60));
    EXPECT_EQ(c.transports.ws->max_connections, 10000u);
    EXPECT_EQ(c.transports.ws->send_queue_max_messages, 256u);
    EXPECT_EQ(c.transports.ws->send_queue_max_bytes, 1048576u);
    EXPECT_EQ(c.transports.ws->read_message_max, 65535u);
    EXPECT_FALSE(c.transports.wss);
    ASSERT_TRUE(c.transports.udp);
    EXPECT_EQ(c.transports.udp->address, "127.0.0.1");
    EXPECT_EQ(c.transports.udp->port, 5060);
    EXPECT_EQ(c.transports.udp->max_datagram, 65535u);
    EXPECT_FALSE(c.transports.tcp);
    EXPECT_EQ(c.core.w2_host, "pcscf.example.net");
    EXPECT_EQ(c.core.w2_port, 5062);
    EXPECT_EQ(c.core.mw_host, "127.0.0.1");
    EXPECT_EQ(c.core.mw_port, 5060);
    EXPECT_EQ(c.core.mw_transport, Transport::Udp);
    EXPECT_EQ(c.core.ims_next_hop.transport, Transport::Udp);
    EXPECT_EQ(c.core.ims_next_hop.address, v4_mapped(127, 0, 0, 1));
    EXPECT_EQ(c.core.ims_next_hop.port, 5070);
    EXPECT_TRUE(c.core.static_routes.empty());
    EXPECT_EQ(c.core.visited_network_id, "pcscf.example.net");
    EXPECT_EQ(c.core.orig_ioi, "pcscf.example.net");
    EXPECT_EQ(c.core.max_flows, 20000u);
    EXPECT_EQ(c.core.max_registrations, 10000u);
    EXPECT_EQ(c.core.max_registrations_per_flow, 4u);
    EXPECT_EQ(c.core.max_transactions, 20000u);
    EXPECT_EQ(c.core.parse_limits.max_message_bytes, 65535u);
    EXPECT_EQ(c.core.retry_after_s, 10u);
    EXPECT_EQ(c.core.admission.flow_rate, 100u);
    EXPECT_EQ(c.core.admission.flow_burst, 200u);
    EXPECT_EQ(c.core.admission.register_rate, 0u);
    EXPECT_EQ(c.core.admission.initial_rate, 0u);
    EXPECT_EQ(c.core.admission.max_invites_in_setup, 5000u);
    EXPECT_EQ(c.core.admission.retry_after_s, 5u);
    EXPECT_EQ(c.core.admission.close_after_refusals, 100u);
    EXPECT_EQ(c.core.timers.t1, std::chrono::milliseconds(500));
    EXPECT_EQ(c.core.timers.t2, std::chrono::milliseconds(4000));
    EXPECT_EQ(c.core.timers.t4, std::chrono::milliseconds(5000));
    EXPECT_EQ(c.core.timer_c, std::chrono::seconds(181));
    EXPECT_EQ(c.core.default_expires, std::chrono::seconds(3600));
    // No key file: a random 32-octet key.
    EXPECT_EQ(c.core.flow_token_key.size(), 32u);
    EXPECT_EQ(c.flow_token_key_source, "");
}

TEST(PcscfConfig, MinimalConfigurationTakesTheDefaults) {
    const PcscfDaemonConfig c = load(Toml());
    const PcscfConfig defaults;
    EXPECT_EQ(c.threads, 1);
    EXPECT_EQ(c.core.w2_port, 5062);  // the ws port: no wss, no uri_port
    EXPECT_EQ(c.core.max_flows, defaults.max_flows);
    EXPECT_EQ(c.core.timer_c, defaults.timer_c);
    EXPECT_EQ(c.core.timers.t1, defaults.timers.t1);
    EXPECT_EQ(c.core.parse_limits.max_message_bytes, defaults.parse_limits.max_message_bytes);
    ASSERT_TRUE(c.transports.udp);
    EXPECT_FALSE(c.transports.tcp);
    // Two loads, two random keys.
    EXPECT_NE(c.core.flow_token_key, load(Toml()).core.flow_token_key);
}

TEST(PcscfConfig, EveryKeyIsRead) {
    const PcscfDaemonConfig c = load(Toml()
                                         .set("pcscf", "threads", "4")
                                         .set("pcscf.w2", "uri_port", "443")
                                         .set("pcscf.w2", "handshake_timeout_ms", "2500")
                                         .set("pcscf.w2", "idle_timeout_s", "0")
                                         .set("pcscf.w2", "max_connections", "7")
                                         .set("pcscf.w2", "send_queue_messages", "8")
                                         .set("pcscf.w2", "send_queue_bytes", "4096")
                                         .set("pcscf.mw", "transports", R"(["udp", "tcp"])")
                                         .set("pcscf.mw", "transport", R"("tcp")")
                                         .set("pcscf.mw", "host", R"("pcscf.ims.example.net")")
                                         .set("pcscf.mw", "max_tcp_connections", "9")
                                         .set("pcscf.mw", "tcp_idle_timeout_s", "11")
                                         .set("pcscf.limits", "max_flows", "100")
                                         .set("pcscf.limits", "max_registrations", "50")
                                         .set("pcscf.limits", "max_registrations_per_flow", "2")
                                         .set("pcscf.limits", "max_transactions", "16")
                                         .set("pcscf.limits", "max_message_bytes", "2048")
                                         .set("pcscf.limits", "retry_after_s", "3")
                                         .set("pcscf.timers", "t1_ms", "100")
                                         .set("pcscf.timers", "t2_ms", "100")
                                         .set("pcscf.timers", "t4_ms", "200")
                                         .set("pcscf.timers", "timer_c_s", "200")
                                         .set("pcscf.timers", "default_expires_s", "60"));
    EXPECT_EQ(c.threads, 4);
    EXPECT_EQ(c.transports.concurrency_hint, 4);
    EXPECT_EQ(c.core.w2_port, 443);
    ASSERT_TRUE(c.transports.ws);
    EXPECT_EQ(c.transports.ws->handshake_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(c.transports.ws->idle_timeout, std::chrono::milliseconds(0));
    EXPECT_EQ(c.transports.ws->max_connections, 7u);
    EXPECT_EQ(c.transports.ws->send_queue_max_messages, 8u);
    EXPECT_EQ(c.transports.ws->send_queue_max_bytes, 4096u);
    EXPECT_EQ(c.transports.ws->read_message_max, 2048u);
    ASSERT_TRUE(c.transports.udp);
    EXPECT_EQ(c.transports.udp->max_datagram, 2048u);
    ASSERT_TRUE(c.transports.tcp);
    EXPECT_EQ(c.transports.tcp->address, "127.0.0.1");
    EXPECT_EQ(c.transports.tcp->port, 5060);
    EXPECT_EQ(c.transports.tcp->max_connections, 9u);
    EXPECT_EQ(c.transports.tcp->idle_timeout, std::chrono::seconds(11));
    EXPECT_EQ(c.transports.tcp->limits.max_message_bytes, 2048u);
    EXPECT_EQ(c.core.mw_transport, Transport::Tcp);
    EXPECT_EQ(c.core.mw_host, "pcscf.ims.example.net");
    EXPECT_EQ(c.core.max_flows, 100u);
    EXPECT_EQ(c.core.max_registrations, 50u);
    EXPECT_EQ(c.core.max_registrations_per_flow, 2u);
    EXPECT_EQ(c.core.max_transactions, 16u);
    EXPECT_EQ(c.core.parse_limits.max_message_bytes, 2048u);
    EXPECT_EQ(c.core.retry_after_s, 3u);
    EXPECT_EQ(c.core.timers.t1, std::chrono::milliseconds(100));
    EXPECT_EQ(c.core.timers.t2, std::chrono::milliseconds(100));
    EXPECT_EQ(c.core.timers.t4, std::chrono::milliseconds(200));
    EXPECT_EQ(c.core.timer_c, std::chrono::seconds(200));
    EXPECT_EQ(c.core.default_expires, std::chrono::seconds(60));
}

// --- what is refused, naming the key ------------------------------------------

TEST(PcscfConfig, UnknownKeyInEveryTable) {
    expect_refused(Toml().set("pcscf", "thread", "1"), "pcscf.thread", "unknown key");
    expect_refused(Toml().set("pcscf.w2", "max_conections", "1"), "pcscf.w2.max_conections",
                   "unknown key");
    expect_refused(Toml().set("pcscf.mw", "nexthop", R"("udp:1.2.3.4:5060")"), "pcscf.mw.nexthop",
                   "unknown key");
    expect_refused(Toml().set("pcscf.limits", "max_flow", "1"), "pcscf.limits.max_flow",
                   "unknown key");
    expect_refused(Toml().set("pcscf.timers", "t3_ms", "1"), "pcscf.timers.t3_ms", "unknown key");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a.example.net\"\n"
                                 "next_hop = \"udp:127.0.0.1:5071\"\nweight = 1\n"),
                   "pcscf.mw.route[0].weight", "unknown key");
    // A table of its own under [pcscf] that is not one of ours.
    expect_refused(Toml().append("[pcscf.w3]\nws = \"127.0.0.1:1\"\n"), "pcscf.w3", "unknown key");
    // Other sections of the file are not ours to check.
    EXPECT_EQ(error_of(Toml().append("[dataplane]\nregion = \"x\"\n")), "");
}

TEST(PcscfConfig, WrongType) {
    expect_refused(Toml().set("pcscf", "threads", R"("4")"), "pcscf.threads",
                   "must be an integer 1..64");
    // An integer key takes an integer, not a float or a boolean that
    // converts to one.
    expect_refused(Toml().set("pcscf", "threads", "4.0"), "pcscf.threads", "integer");
    expect_refused(Toml().set("pcscf.limits", "max_registrations_per_flow", "true"),
                   "pcscf.limits.max_registrations_per_flow", "integer");
    expect_refused(Toml().set("pcscf.timers", "t1_ms", "500.5"), "pcscf.timers.t1_ms", "integer");
    expect_refused(Toml().set("pcscf", "visited_network_id", "7"), "pcscf.visited_network_id",
                   "must be a non-empty string");
    expect_refused(Toml().set("pcscf", "orig_ioi", R"("")"), "pcscf.orig_ioi",
                   "must be a non-empty string");
    expect_refused(Toml().set("pcscf.w2", "ws", "5062"), "pcscf.w2.ws",
                   "must be a non-empty string");
    expect_refused(Toml().set("pcscf.w2", "host", "true"), "pcscf.w2.host",
                   "must be a non-empty string");
    expect_refused(Toml().set("pcscf.mw", "transports", R"("udp")"), "pcscf.mw.transports",
                   "must be an array of strings");
    expect_refused(Toml().set("pcscf.mw", "transports", R"(["udp", 6])"), "pcscf.mw.transports",
                   "must be an array of strings");
    expect_refused(Toml().set("pcscf.mw", "next_hop", R"(["udp:127.0.0.1:5070"])"),
                   "pcscf.mw.next_hop", "must be a non-empty string");
    expect_refused(Toml().set("pcscf.mw", "route", R"({ host = "a", next_hop = "udp:1.2.3.4:1" })"),
                   "pcscf.mw.route", "must be [[pcscf.mw.route]] tables");
    expect_refused(Toml().set("pcscf.mw", "route", "[1]"), "pcscf.mw.route[0]", "must be a table");
    // A table key that is not a table.
    const std::string w2_scalar = "[pcscf]\nw2 = 5\n";
    EXPECT_EQ(error_of(w2_scalar).rfind("test.toml: pcscf.w2: must be a table", 0), 0u)
        << error_of(w2_scalar);
}

TEST(PcscfConfig, OutOfRangeIntegers) {
    struct Case {
        const char* table;
        const char* key;
        const char* value;
        const char* range;
    };
    const Case cases[] = {
        {"pcscf", "threads", "0", "1..64"},
        {"pcscf", "threads", "65", "1..64"},
        {"pcscf.w2", "max_connections", "0", "1..10000000"},
        {"pcscf.w2", "max_connections", "10000001", "1..10000000"},
        {"pcscf.w2", "handshake_timeout_ms", "99", "100..600000"},
        {"pcscf.w2", "idle_timeout_s", "-1", "0..86400"},
        {"pcscf.w2", "send_queue_messages", "0", "1..1048576"},
        {"pcscf.w2", "send_queue_bytes", "1023", "1024..1073741824"},
        {"pcscf.w2", "uri_port", "65536", "0..65535"},
        {"pcscf.mw", "port", "0", "1..65535"},
        {"pcscf.mw", "port", "65536", "1..65535"},
        {"pcscf.limits", "max_flows", "0", "1..10000000"},
        {"pcscf.limits", "max_registrations", "-5", "1..10000000"},
        {"pcscf.limits", "max_registrations_per_flow", "65", "1..64"},
        {"pcscf.limits", "max_transactions", "15", "16..10000000"},
        {"pcscf.limits", "max_message_bytes", "1023", "1024..1048576"},
        {"pcscf.limits", "max_message_bytes", "1048577", "1024..1048576"},
        {"pcscf.limits", "retry_after_s", "3601", "1..3600"},
        {"pcscf.timers", "t1_ms", "0", "1..60000"},
        {"pcscf.timers", "t2_ms", "600001", "1..600000"},
        {"pcscf.timers", "t4_ms", "0", "1..600000"},
        {"pcscf.timers", "timer_c_s", "0", "1..86400"},
        {"pcscf.timers", "default_expires_s", "604801", "1..604800"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.table) + "." + c.key + " = " + c.value);
        expect_refused(Toml().set(c.table, c.key, c.value), std::string(c.table) + "." + c.key,
                       std::string("must be an integer ") + c.range);
    }
    expect_refused(Toml()
                       .set("pcscf.mw", "transports", R"(["udp", "tcp"])")
                       .set("pcscf.mw", "max_tcp_connections", "0"),
                   "pcscf.mw.max_tcp_connections", "1..1000000");
    expect_refused(Toml()
                       .set("pcscf.mw", "transports", R"(["udp", "tcp"])")
                       .set("pcscf.mw", "tcp_idle_timeout_s", "86401"),
                   "pcscf.mw.tcp_idle_timeout_s", "0..86400");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a.example.net\"\nport = 0\n"
                                 "next_hop = \"udp:127.0.0.1:5071\"\n"),
                   "pcscf.mw.route[0].port", "1..65535");
    // The bounds themselves are accepted.
    EXPECT_EQ(error_of(Toml().set("pcscf", "threads", "64")), "");
    EXPECT_EQ(error_of(Toml().set("pcscf.limits", "max_message_bytes", "1048576")), "");
    EXPECT_EQ(error_of(Toml().set("pcscf.w2", "uri_port", "0")), "");
}

TEST(PcscfConfig, BadEndpoints) {
    const char* bad[] = {
        "1.2.3.4",        // no port
        "[::1]5060",      // no ':' after ']'
        "host:5060",      // a name: no DNS
        "1.2.3.4:0",      // port 0
        "1.2.3.4:70000",  // port > 65535
        "1.2.3.4:",       // empty port
        "1.2.3.4:50a",    // not digits
        "1.2.3.4:+80",    // not digits
        "1.2.3.4:000005060",
        "::1:5060",         // IPv6 without brackets
        "[::1]:",           // empty port
        "[::1",             // no ']'
        "[fe80::1%lo]:80",  // no zone ids
        "1.2.3.256:5060",   // not an address
        ":5060",            // no address
    };
    for (const char* e : bad) {
        SCOPED_TRACE(e);
        expect_refused(Toml().set("pcscf.w2", "ws", std::string("\"") + e + "\""), "pcscf.w2.ws");
        expect_refused(Toml().set("pcscf.mw", "next_hop", std::string("\"udp:") + e + "\""),
                       "pcscf.mw.next_hop");
        EXPECT_THROW(parse_hop(std::string("tcp:") + e), std::invalid_argument);
    }
    expect_refused(Toml().set("pcscf.w2", "ws", R"("1.2.3.4")"), "pcscf.w2.ws", "address:port");
    expect_refused(Toml().set("pcscf.w2", "ws", R"("[::1]5060")"), "pcscf.w2.ws", "[IPv6]:port");
    expect_refused(Toml().set("pcscf.w2", "ws", R"("host:5060")"), "pcscf.w2.ws",
                   "\"host\" is not an IP address");
    expect_refused(Toml().set("pcscf.w2", "ws", R"("1.2.3.4:0")"), "pcscf.w2.ws",
                   "port must be 1..65535");
    expect_refused(Toml().set("pcscf.w2", "ws", R"("1.2.3.4:70000")"), "pcscf.w2.ws",
                   "port must be 1..65535");
    expect_refused(Toml().set("pcscf.w2", "wss", R"("1.2.3.4:70000")"), "pcscf.w2.wss",
                   "port must be 1..65535");
    // The extreme ports are fine.
    EXPECT_EQ(error_of(Toml().set("pcscf.w2", "ws", R"("1.2.3.4:1")")), "");
    EXPECT_EQ(error_of(Toml().set("pcscf.w2", "ws", R"("1.2.3.4:65535")")), "");
}

TEST(PcscfConfig, ParseHop) {
    Peer p = parse_hop("udp:198.18.20.2:5060");
    EXPECT_EQ(p.transport, Transport::Udp);
    EXPECT_EQ(p.address, v4_mapped(198, 18, 20, 2));
    EXPECT_EQ(p.port, 5060);
    EXPECT_EQ(p.flow, 0u);
    p = parse_hop("tcp:[2001:db8::1]:5061");
    EXPECT_EQ(p.transport, Transport::Tcp);
    EXPECT_EQ(p.address, v6("2001:db8::1"));
    EXPECT_EQ(p.port, 5061);
    p = parse_hop("udp:[::ffff:10.0.0.1]:1");
    EXPECT_EQ(p.address, v4_mapped(10, 0, 0, 1));
    const char* bad[] = {"",
                         "udp",
                         "198.18.20.2:5060",  // no transport: "198" is not one
                         "tls:198.18.20.2:5061",
                         "UDP:198.18.20.2:5060",
                         "ws:198.18.20.2:80",
                         "udp:198.18.20.2",
                         "udp:scscf.example.net:5060",
                         "udp:[2001:db8::1]5060",
                         "udp::5060"};
    for (const char* b : bad) {
        EXPECT_THROW(parse_hop(b), std::invalid_argument) << b;
    }
    try {
        parse_hop("sctp:1.2.3.4:5060");
        ADD_FAILURE() << "sctp accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "must be \"udp\" or \"tcp\"");
    }
}

TEST(PcscfConfig, NeitherWsNorWss) {
    expect_refused(Toml().unset("pcscf.w2", "ws"), "pcscf.w2.ws", "neither ws nor wss");
    const std::string no_w2 =
        "[pcscf]\n[pcscf.mw]\naddress = \"127.0.0.1\"\n"
        "next_hop = \"udp:127.0.0.1:5070\"\n";
    EXPECT_EQ(error_of(no_w2).rfind("test.toml: pcscf.w2.ws: neither ws nor wss", 0), 0u)
        << error_of(no_w2);
}

TEST_F(PcscfConfigFiles, WssCertificateAndKey) {
    const tls_test::TlsPem pem = tls_test::make_self_signed();
    const std::string cert = write("pcscf.crt", pem.certificate);
    const std::string key = write("pcscf.key", pem.private_key);
    const std::string cert_line = "\"" + cert + "\"";
    const std::string key_line = "\"" + key + "\"";
    // wss without the files.
    expect_refused(Toml().set("pcscf.w2", "wss", R"("127.0.0.1:7443")"), "pcscf.w2.certificate",
                   "wss needs certificate and private_key");
    expect_refused(Toml()
                       .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
                       .set("pcscf.w2", "certificate", cert_line),
                   "pcscf.w2.private_key", "wss needs certificate and private_key");
    // The files without wss.
    expect_refused(Toml().set("pcscf.w2", "certificate", cert_line), "pcscf.w2.certificate",
                   "set without wss");
    expect_refused(Toml().set("pcscf.w2", "private_key", key_line), "pcscf.w2.private_key",
                   "set without wss");
    // Unreadable files: missing, or a directory.
    const std::string missing = (dir_ / "missing.crt").string();
    expect_refused(Toml()
                       .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
                       .set("pcscf.w2", "certificate", "\"" + missing + "\"")
                       .set("pcscf.w2", "private_key", key_line),
                   "pcscf.w2.certificate", "cannot read " + missing);
    expect_refused(Toml()
                       .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
                       .set("pcscf.w2", "certificate", cert_line)
                       .set("pcscf.w2", "private_key", "\"" + missing + "\""),
                   "pcscf.w2.private_key", "cannot read " + missing);
    expect_refused(Toml()
                       .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
                       .set("pcscf.w2", "certificate", "\"" + dir_.string() + "\"")
                       .set("pcscf.w2", "private_key", key_line),
                   "pcscf.w2.certificate", "cannot read " + dir_.string());
    // Files that do not load, or a key of another certificate: refused by
    // key (--check-config finds them; the daemon would fail to start).
    const std::string junk = write("junk.pem", "-----BEGIN CERTIFICATE-----\n");
    const std::string other_key = write("other.key", tls_test::make_self_signed().private_key);
    const auto with = [&](const std::string& c, const std::string& k) {
        return Toml()
            .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
            .set("pcscf.w2", "certificate", "\"" + c + "\"")
            .set("pcscf.w2", "private_key", "\"" + k + "\"");
    };
    expect_refused(with(junk, key), "pcscf.w2.certificate", "not a PEM certificate chain");
    expect_refused(with(cert, junk), "pcscf.w2.private_key", "not an unencrypted PEM private key");
    expect_refused(with(cert, other_key), "pcscf.w2.private_key", "does not match the certificate");
    // Both: WSS alone, or with WS; our URIs carry the secure port.
    const PcscfDaemonConfig only_wss = load(Toml()
                                                .unset("pcscf.w2", "ws")
                                                .set("pcscf.w2", "wss", R"("[::]:7443")")
                                                .set("pcscf.w2", "certificate", cert_line)
                                                .set("pcscf.w2", "private_key", key_line));
    EXPECT_FALSE(only_wss.transports.ws);
    ASSERT_TRUE(only_wss.transports.wss);
    EXPECT_EQ(only_wss.transports.wss->address, "::");
    EXPECT_EQ(only_wss.transports.wss->port, 7443);
    ASSERT_TRUE(only_wss.transports.wss->tls);
    EXPECT_EQ(only_wss.transports.wss->tls->certificate_chain_file, cert);
    EXPECT_EQ(only_wss.transports.wss->tls->private_key_file, key);
    EXPECT_EQ(only_wss.core.w2_port, 7443);
    const PcscfDaemonConfig both = load(Toml()
                                            .set("pcscf.w2", "wss", R"("127.0.0.1:7443")")
                                            .set("pcscf.w2", "certificate", cert_line)
                                            .set("pcscf.w2", "private_key", key_line)
                                            .set("pcscf.w2", "max_connections", "5"));
    ASSERT_TRUE(both.transports.ws);
    ASSERT_TRUE(both.transports.wss);
    EXPECT_FALSE(both.transports.ws->tls);
    EXPECT_EQ(both.transports.ws->max_connections, 5u);
    EXPECT_EQ(both.transports.wss->max_connections, 5u);
    EXPECT_EQ(both.core.w2_port, 7443);
}

TEST(PcscfConfig, MwAddressAndHost) {
    expect_refused(Toml().set("pcscf.mw", "address", R"("0.0.0.0")"), "pcscf.mw.host",
                   "required when address is unspecified (0.0.0.0)");
    expect_refused(Toml().set("pcscf.mw", "address", R"("::")"), "pcscf.mw.host",
                   "required when address is unspecified (::)");
    expect_refused(Toml().set("pcscf.mw", "address", R"("0:0::0")"), "pcscf.mw.host",
                   "required when address is unspecified");
    // Without an address: 0.0.0.0.
    expect_refused(Toml().unset("pcscf.mw", "address"), "pcscf.mw.host", "required");
    expect_refused(Toml().set("pcscf.mw", "address", R"("localhost")"), "pcscf.mw.address",
                   "\"localhost\" is not an IP address");
    expect_refused(Toml().set("pcscf.mw", "address", R"("127.0.0.1:5060")"), "pcscf.mw.address",
                   "is not an IP address");
    const PcscfDaemonConfig any = load(Toml()
                                           .set("pcscf.mw", "address", R"("0.0.0.0")")
                                           .set("pcscf.mw", "host", R"("pcscf.ims.example.net")"));
    ASSERT_TRUE(any.transports.udp);
    EXPECT_EQ(any.transports.udp->address, "0.0.0.0");
    EXPECT_EQ(any.core.mw_host, "pcscf.ims.example.net");
    // Hosts are checked where they are written, naming the key.
    expect_refused(Toml().set("pcscf.mw", "host", R"("bad host")"), "pcscf.mw.host",
                   "not a host name or address");
    expect_refused(Toml().set("pcscf.w2", "host", R"("-pcscf-")"), "pcscf.w2.host",
                   "not a host name or address");
    expect_refused(Toml().set("pcscf.w2", "host", R"("::1")"), "pcscf.w2.host",
                   "not a host name or address");
    expect_refused(Toml().set("pcscf", "orig_ioi", R"("not a token")"), "pcscf.orig_ioi", "token");
    EXPECT_EQ(load(Toml().set("pcscf.w2", "host", R"("[::1]")")).core.w2_host, "[::1]");
}

TEST(PcscfConfig, MwTransports) {
    // A next hop whose transport has no socket.
    expect_refused(Toml().set("pcscf.mw", "next_hop", R"("tcp:127.0.0.1:5070")"),
                   "pcscf.mw.next_hop",
                   "\"tcp:127.0.0.1:5070\" needs its transport in "
                   "pcscf.mw.transports");
    expect_refused(Toml()
                       .set("pcscf.mw", "transports", R"(["tcp"])")
                       .set("pcscf.mw", "next_hop", R"("udp:127.0.0.1:5070")"),
                   "pcscf.mw.next_hop", "needs its transport in pcscf.mw.transports");
    expect_refused(Toml().unset("pcscf.mw", "next_hop"), "pcscf.mw.next_hop", "missing");
    // The transport of our URIs must be one we listen on.
    expect_refused(Toml().set("pcscf.mw", "transport", R"("tcp")"), "pcscf.mw.transport",
                   "\"tcp\" is not one of transports");
    expect_refused(Toml().set("pcscf.mw", "transport", R"("sctp")"), "pcscf.mw.transport",
                   "\"sctp\" is not one of transports");
    expect_refused(Toml().set("pcscf.mw", "transports", R"(["udp", "udp"])"), "pcscf.mw.transports",
                   "\"udp\" listed twice");
    expect_refused(Toml().set("pcscf.mw", "transports", R"(["tcp", "udp", "tcp"])"),
                   "pcscf.mw.transports", "\"tcp\" listed twice");
    expect_refused(Toml().set("pcscf.mw", "transports", R"(["udp", "tls"])"), "pcscf.mw.transports",
                   "each must be \"udp\" or \"tcp\"");
    // An empty list opens no socket at all: refused, not read as the default.
    expect_refused(Toml().set("pcscf.mw", "transports", "[]"), "pcscf.mw.transports");
    // TCP keys without TCP.
    expect_refused(Toml().set("pcscf.mw", "max_tcp_connections", "10"),
                   "pcscf.mw.max_tcp_connections", "set without tcp in transports");
    expect_refused(Toml().set("pcscf.mw", "tcp_idle_timeout_s", "10"),
                   "pcscf.mw.tcp_idle_timeout_s", "set without tcp in transports");
    // TCP only: the transport of our URIs defaults to the first listed.
    const PcscfDaemonConfig tcp = load(Toml()
                                           .set("pcscf.mw", "transports", R"(["tcp"])")
                                           .set("pcscf.mw", "next_hop", R"("tcp:127.0.0.1:5070")"));
    EXPECT_FALSE(tcp.transports.udp);
    ASSERT_TRUE(tcp.transports.tcp);
    EXPECT_EQ(tcp.core.mw_transport, Transport::Tcp);
    EXPECT_EQ(tcp.core.ims_next_hop.transport, Transport::Tcp);
    const PcscfDaemonConfig both = load(Toml().set("pcscf.mw", "transports", R"(["tcp", "udp"])"));
    EXPECT_EQ(both.core.mw_transport, Transport::Tcp);
    EXPECT_EQ(load(Toml()
                       .set("pcscf.mw", "transports", R"(["tcp", "udp"])")
                       .set("pcscf.mw", "transport", R"("udp")"))
                  .core.mw_transport,
              Transport::Udp);
}

TEST(PcscfConfig, UdpBuffers) {
    // 4 MiB by default each way (a burst of responses overflows the system's
    // default), settable, 0 for the system's; only with udp.
    const PcscfDaemonConfig d = load(Toml());
    ASSERT_TRUE(d.transports.udp);
    EXPECT_EQ(d.transports.udp->receive_buffer_bytes, 4 << 20);
    EXPECT_EQ(d.transports.udp->send_buffer_bytes, 4 << 20);
    const PcscfDaemonConfig z = load(Toml().set("pcscf.mw", "udp_buffer_bytes", "0"));
    EXPECT_EQ(z.transports.udp->receive_buffer_bytes, 0);
    expect_refused(Toml().set("pcscf.mw", "udp_buffer_bytes", "-1"), "pcscf.mw.udp_buffer_bytes",
                   "0..1073741824");
    expect_refused(Toml()
                       .set("pcscf.mw", "transports", R"(["tcp"])")
                       .set("pcscf.mw", "next_hop", R"("tcp:127.0.0.1:5070")")
                       .set("pcscf.mw", "udp_buffer_bytes", "65536"),
                   "pcscf.mw.udp_buffer_bytes", "set without udp in transports");
}

TEST(PcscfConfig, TimersT1MustNotExceedT2) {
    expect_refused(Toml().set("pcscf.timers", "t1_ms", "5000"), "pcscf.timers.t1_ms",
                   "must not exceed t2_ms");
    expect_refused(Toml().set("pcscf.timers", "t1_ms", "300").set("pcscf.timers", "t2_ms", "299"),
                   "pcscf.timers.t1_ms", "must not exceed t2_ms");
    EXPECT_EQ(
        error_of(Toml().set("pcscf.timers", "t1_ms", "300").set("pcscf.timers", "t2_ms", "300")),
        "");
}

TEST_F(PcscfConfigFiles, FlowTokenKeyFile) {
    const auto with_key = [](const std::string& path) {
        return Toml().set("pcscf", "flow_token_key_file", "\"" + path + "\"");
    };
    const std::string missing = (dir_ / "missing.key").string();
    expect_refused(with_key(missing), "pcscf.flow_token_key_file", "cannot read " + missing);
    expect_refused(with_key(dir_.string()), "pcscf.flow_token_key_file",
                   "cannot read " + dir_.string());
    const std::string short_key = write("short.key", "0123456789abcde");  // 15
    expect_refused(with_key(short_key), "pcscf.flow_token_key_file",
                   short_key + " holds fewer than 16 octets");
    // Line ends do not count toward the 16.
    const std::string short_nl = write("short_nl.key", "0123456789abcde\r\n");
    expect_refused(with_key(short_nl), "pcscf.flow_token_key_file", "fewer than 16 octets");
    const std::string empty = write("empty.key", "");
    expect_refused(with_key(empty), "pcscf.flow_token_key_file", "fewer than 16 octets");
    expect_refused(Toml().set("pcscf", "flow_token_key_file", R"("")"), "pcscf.flow_token_key_file",
                   "must be a non-empty string");

    const std::string good = write("good.key", "0123456789abcdef\n");
    const PcscfDaemonConfig c = load(with_key(good));
    EXPECT_EQ(c.core.flow_token_key, "0123456789abcdef");
    EXPECT_EQ(c.flow_token_key_source, good);
    // Binary octets are kept as they are (only trailing CR/LF go).
    const std::string binary_key("\x00\x01\xff\n\r 0123456789abcdef\x00", 24);
    const std::string binary = write("binary.key", binary_key);
    EXPECT_EQ(load(with_key(binary)).core.flow_token_key, binary_key);
    // The same file, the same key: tokens survive a restart.
    EXPECT_EQ(load(with_key(good)).core.flow_token_key, c.core.flow_token_key);
}

TEST(PcscfConfig, StaticRoutes) {
    // Dual stack ("::"): routes toward IPv4 and IPv6 hops.
    const PcscfDaemonConfig c = load(Toml()
                                         .set("pcscf.mw", "address", R"("::")")
                                         .set("pcscf.mw", "host", R"("pcscf.ims.example.net")")
                                         .append(R"(
[[pcscf.mw.route]]
host = "scscf.ims.example.net"
next_hop = "udp:198.18.20.3:5060"

[[pcscf.mw.route]]
host = "icscf.ims.example.net"
port = 5061
next_hop = "udp:[2001:db8::3]:5062"
)"));
    ASSERT_EQ(c.core.static_routes.size(), 2u);
    const StaticRoute& a = c.core.static_routes[0];
    EXPECT_EQ(a.host, "scscf.ims.example.net");
    EXPECT_FALSE(a.port);
    EXPECT_EQ(a.peer.transport, Transport::Udp);
    EXPECT_EQ(a.peer.address, v4_mapped(198, 18, 20, 3));
    EXPECT_EQ(a.peer.port, 5060);
    const StaticRoute& b = c.core.static_routes[1];
    EXPECT_EQ(b.host, "icscf.ims.example.net");
    ASSERT_TRUE(b.port);
    EXPECT_EQ(*b.port, 5061);
    EXPECT_EQ(b.peer.address, v6("2001:db8::3"));
    EXPECT_EQ(b.peer.port, 5062);

    const std::string ok_route =
        "[[pcscf.mw.route]]\nhost = \"a.example.net\"\n"
        "next_hop = \"udp:127.0.0.1:5071\"\n";
    expect_refused(Toml().append(ok_route + "[[pcscf.mw.route]]\nnext_hop = \"udp:1.2.3.4:1\"\n"),
                   "pcscf.mw.route[1].host", "missing");
    expect_refused(Toml().append(ok_route + "[[pcscf.mw.route]]\nhost = \"b.example.net\"\n"),
                   "pcscf.mw.route[1].next_hop", "missing");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a.example.net\"\n"
                                 "next_hop = \"tcp:127.0.0.1:5071\"\n"),
                   "pcscf.mw.route[0].next_hop", "needs its transport in pcscf.mw.transports");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a.example.net\"\n"
                                 "next_hop = \"udp:a.example.net:5071\"\n"),
                   "pcscf.mw.route[0].next_hop", "is not an IP address");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a example\"\n"
                                 "next_hop = \"udp:127.0.0.1:5071\"\n"),
                   "pcscf.mw.route[0].host", "not a host name or address");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"a.example.net\"\nport = \"5060\"\n"
                                 "next_hop = \"udp:127.0.0.1:5071\"\n"),
                   "pcscf.mw.route[0].port", "must be an integer 1..65535");
}

TEST(PcscfConfig, Ipv6) {
    const PcscfDaemonConfig c = load(Toml()
                                         .set("pcscf.w2", "ws", R"("[::1]:5062")")
                                         .set("pcscf.mw", "address", R"("::1")")
                                         .set("pcscf.mw", "next_hop", R"("udp:[::1]:5070")"));
    ASSERT_TRUE(c.transports.ws);
    EXPECT_EQ(c.transports.ws->address, "::1");
    EXPECT_EQ(c.transports.ws->port, 5062);
    ASSERT_TRUE(c.transports.udp);
    EXPECT_EQ(c.transports.udp->address, "::1");
    // Our Via, Path and Record-Route name an IPv6 reference: in brackets.
    EXPECT_EQ(c.core.mw_host, "[::1]");
    EXPECT_EQ(c.core.ims_next_hop.address, v6("::1"));
    EXPECT_EQ(c.core.ims_next_hop.port, 5070);
    EXPECT_EQ(load(Toml()
                       .set("pcscf.mw", "address", R"("2001:db8::10")")
                       .set("pcscf.mw", "next_hop", R"("udp:[2001:db8::1]:5060")"))
                  .core.mw_host,
              "[2001:db8::10]");
    // A dual-stack "::" with a name, toward IPv4 and IPv6 hops.
    const PcscfDaemonConfig dual = load(Toml()
                                            .set("pcscf.mw", "address", R"("::")")
                                            .set("pcscf.mw", "host", R"("pcscf.ims.example.net")")
                                            .append("[[pcscf.mw.route]]\nhost = \"b.example.net\"\n"
                                                    "next_hop = \"udp:[2001:db8::2]:5060\"\n"));
    EXPECT_EQ(dual.core.ims_next_hop.address, v4_mapped(127, 0, 0, 1));
    EXPECT_EQ(dual.core.static_routes.at(0).peer.address, v6("2001:db8::2"));
    // The Mw sockets send from the address: a hop of the other family is
    // out of their reach.
    expect_refused(Toml().set("pcscf.mw", "next_hop", R"("udp:[2001:db8::1]:5060")"),
                   "pcscf.mw.next_hop", "IPv6");
    expect_refused(Toml()
                       .set("pcscf.mw", "address", R"("::1")")
                       .set("pcscf.mw", "next_hop", R"("udp:127.0.0.1:5070")"),
                   "pcscf.mw.next_hop", "IPv4");
    expect_refused(Toml().append("[[pcscf.mw.route]]\nhost = \"b.example.net\"\n"
                                 "next_hop = \"udp:[2001:db8::2]:5060\"\n"),
                   "pcscf.mw.route[0].next_hop", "IPv6");
}

TEST(PcscfConfig, MissingSection) {
    EXPECT_EQ(error_of(""), "test.toml: no [pcscf] section");
    EXPECT_EQ(error_of("[dataplane]\nregion = \"a\"\n"), "test.toml: no [pcscf] section");
    EXPECT_EQ(error_of("pcscf = 5\n"), "test.toml: no [pcscf] section");
    try {
        load_pcscf_file("/nonexistent/isthmus.toml");
        ADD_FAILURE() << "loaded a missing file";
    } catch (const PcscfConfigError& e) {
        EXPECT_STREQ(e.what(), "/nonexistent/isthmus.toml: cannot read the configuration file");
    }
}

TEST(PcscfConfig, TomlSyntaxErrorNamesLineAndColumn) {
    const std::string unterminated = "[pcscf]\nthreads = 1\nvisited_network_id = \"abc\n";
    const std::string e = error_of(unterminated);
    EXPECT_EQ(e.rfind("test.toml:3:", 0), 0u) << e;
    const std::string dup = "[pcscf]\nthreads = 1\n\nthreads = 2\n";
    EXPECT_EQ(error_of(dup).rfind("test.toml:4:", 0), 0u) << error_of(dup);
    const std::string garbage = "[pcscf\n";
    EXPECT_EQ(error_of(garbage).rfind("test.toml:1:", 0), 0u) << error_of(garbage);
    // The column is where the defect is.
    const std::string bad_value = "[pcscf]\nthreads = @\n";
    EXPECT_EQ(error_of(bad_value).rfind("test.toml:2:11: ", 0), 0u) << error_of(bad_value);
}

}  // namespace
}  // namespace isthmus::pcscf

namespace isthmus::pcscf {
namespace {

// [pcscf.media]: the IMS-ALG's addresses and ports; the worker count and
// the region come from [dataplane] of the same file.
Toml media_enabled() {
    Toml t;
    t.append(
        "[pcscf.media]\nenabled = true\naccess_address = \"198.18.7.1\"\n"
        "core_address = \"2001:db8::8\"\naccess_port_min = 20000\naccess_port_max = 20999\n"
        "core_port_min = 30000\ncore_port_max = 30999\ncore_srtp = true\n"
        "core_rtcp_mux = true\nmax_calls = 500\nattach_interval_ms = 250\n");
    return t;
}

TEST(PcscfConfig, MediaIsOffUnlessEnabled) {
    const PcscfDaemonConfig c = load(Toml());
    EXPECT_FALSE(c.core.media.enabled);
    EXPECT_EQ(c.region, "/isthmus-dpif");
}

TEST(PcscfConfig, MediaKeysAreRead) {
    Toml t = media_enabled();
    t.append("[dataplane]\nworkers = 3\nregion = \"/isthmus-test\"\n");
    const PcscfDaemonConfig c = load(t);
    const MediaConfig& m = c.core.media;
    EXPECT_TRUE(m.enabled);
    EXPECT_EQ(m.access_address, "198.18.7.1");
    EXPECT_EQ(m.core_address, "2001:db8::8");
    EXPECT_EQ(m.access_ports.min, 20000);
    EXPECT_EQ(m.access_ports.max, 20999);
    EXPECT_EQ(m.core_ports.min, 30000);
    EXPECT_EQ(m.core_ports.max, 30999);
    EXPECT_TRUE(m.core_srtp);
    EXPECT_TRUE(m.core_rtcp_mux);
    EXPECT_EQ(m.max_calls, 500u);
    EXPECT_EQ(m.workers, 3u);
    EXPECT_EQ(c.region, "/isthmus-test");
    EXPECT_EQ(c.attach_interval, std::chrono::milliseconds(250));
}

TEST(PcscfConfig, MediaPolicing) {
    const MediaConfig::Policing d = load(media_enabled()).core.media.police;
    EXPECT_TRUE(d.enabled);
    EXPECT_EQ(d.audio_kbps, 200u);
    EXPECT_EQ(d.video_kbps, 4000u);
    EXPECT_EQ(d.percent, 150u);
    Toml t = media_enabled();
    t.set("pcscf.media", "police", "false")
        .set("pcscf.media", "police_audio_kbps", "8")
        .set("pcscf.media", "police_video_kbps", "10000000")
        .set("pcscf.media", "police_percent", "1000");
    const MediaConfig::Policing p = load(t).core.media.police;
    EXPECT_FALSE(p.enabled);
    EXPECT_EQ(p.audio_kbps, 8u);
    EXPECT_EQ(p.video_kbps, 10000000u);
    EXPECT_EQ(p.percent, 1000u);
    expect_refused(media_enabled().set("pcscf.media", "police_audio_kbps", "7"),
                   "pcscf.media.police_audio_kbps", "8..10000000");
    expect_refused(media_enabled().set("pcscf.media", "police_video_kbps", "10000001"),
                   "pcscf.media.police_video_kbps", "8..10000000");
    expect_refused(media_enabled().set("pcscf.media", "police_percent", "99"),
                   "pcscf.media.police_percent", "100..1000");
    expect_refused(media_enabled().set("pcscf.media", "police", "1"), "pcscf.media.police",
                   "true or false");
}

TEST(PcscfConfig, MediaRefusals) {
    expect_refused(media_enabled().set("pcscf.media", "enabled", "1"), "pcscf.media.enabled",
                   "true or false");
    expect_refused(media_enabled().set("pcscf.media", "access_address", R"("media.example.net")"),
                   "pcscf.media.access_address", "not a unicast");
    expect_refused(media_enabled().set("pcscf.media", "core_address", R"("0.0.0.0")"),
                   "pcscf.media.core_address", "not a unicast");
    expect_refused(media_enabled().unset("pcscf.media", "core_address"), "pcscf.media.core_address",
                   "missing");
    expect_refused(media_enabled().set("pcscf.media", "core_port_min", "20500"),
                   "pcscf.media.access_port_min", "overlap");
    expect_refused(media_enabled().set("pcscf.media", "access_port_max", "70000"),
                   "pcscf.media.access_port_max", "1..65535");
    expect_refused(media_enabled().set("pcscf.media", "max_calls", "0"), "pcscf.media.max_calls");
    expect_refused(media_enabled().set("pcscf.media", "portmin", "1"), "pcscf.media.portmin",
                   "unknown key");
    // Too few ports for the dataplane's workers.
    Toml few = media_enabled();
    few.set("pcscf.media", "access_port_max", "20000");
    few.append("[dataplane]\nworkers = 2\n");
    expect_refused(few, "pcscf.media.access_port_min", "worker 1");
}

}  // namespace
}  // namespace isthmus::pcscf

namespace isthmus::pcscf {
namespace {

// [pcscf.tokens]: the WWSF's public key (A.3.2/A.3.3).
TEST_F(PcscfConfigFiles, TokensKeyAudienceAndLifetime) {
    const token::TokenSigner signer = token::TokenSigner::generate();
    const std::string pub = write("wwsf.pub", signer.public_pem());
    Toml t;
    t.append("[pcscf.tokens]\npublic_key_file = \"" + pub +
             "\"\naudience = \"pcscf.example.net\"\nmax_lifetime_s = 300\n");
    const PcscfDaemonConfig c = load(t);
    ASSERT_TRUE(c.core.token_verifier);
    EXPECT_EQ(c.core.token_audience, "pcscf.example.net");
    EXPECT_EQ(c.core.token_max_lifetime_s, 300);
    ASSERT_TRUE(c.core.unix_time);
    token::Claims claims;
    claims.subject = "sip:alice@ims.example.net";
    claims.audience = "pcscf.example.net";
    claims.expires = c.core.unix_time() + 60;
    claims.id = "cfg1";
    EXPECT_EQ(
        c.core.token_verifier->verify(signer.sign(claims), c.core.unix_time(), "pcscf.example.net")
            .error,
        token::TokenError::None);
}

TEST_F(PcscfConfigFiles, TokensRefusals) {
    const std::string priv = write("wwsf.key", token::TokenSigner::generate().private_pem());
    const std::string junk = write("junk.pem", "hello");
    Toml missing;
    missing.append("[pcscf.tokens]\npublic_key_file = \"" + (dir_ / "none.pem").string() +
                   "\"\naudience = \"a\"\n");
    expect_refused(missing, "pcscf.tokens.public_key_file", "cannot read");
    Toml bad;
    bad.append("[pcscf.tokens]\npublic_key_file = \"" + junk + "\"\naudience = \"a\"\n");
    expect_refused(bad, "pcscf.tokens.public_key_file", "not a PEM key");
    Toml private_key;
    private_key.append("[pcscf.tokens]\npublic_key_file = \"" + priv + "\"\naudience = \"a\"\n");
    expect_refused(private_key, "pcscf.tokens.public_key_file");
    Toml no_aud;
    no_aud.append("[pcscf.tokens]\npublic_key_file = \"" +
                  write("ok.pub", token::TokenSigner::generate().public_pem()) + "\"\n");
    expect_refused(no_aud, "pcscf.tokens.audience", "missing");
    Toml aud_only;
    aud_only.append("[pcscf.tokens]\naudience = \"a\"\n");
    expect_refused(aud_only, "pcscf.tokens.public_key_file", "missing");
    Toml unknown;
    unknown.append("[pcscf.tokens]\nkey = \"x\"\n");
    expect_refused(unknown, "pcscf.tokens.key", "unknown key");
    Toml replay_alone;
    replay_alone.append("[pcscf.tokens]\nreplay_file = \"" + (dir_ / "replay").string() + "\"\n");
    expect_refused(replay_alone, "pcscf.tokens.replay_file", "needs public_key_file");
    Toml replay_no_dir;
    replay_no_dir.append("[pcscf.tokens]\npublic_key_file = \"" +
                         write("r.pub", token::TokenSigner::generate().public_pem()) +
                         "\"\naudience = \"a\"\nreplay_file = \"" +
                         (dir_ / "no-such-dir" / "replay").string() + "\"\n");
    expect_refused(replay_no_dir, "pcscf.tokens.replay_file", "no directory");
}

// replay_file: kept as given (opened by the daemon at start, not here: a
// --check-config leaves it alone).
TEST_F(PcscfConfigFiles, TokensReplayFile) {
    Toml t;
    const std::string path = (dir_ / "replay").string();
    t.append("[pcscf.tokens]\npublic_key_file = \"" +
             write("wwsf.pub", token::TokenSigner::generate().public_pem()) +
             "\"\naudience = \"a\"\nreplay_file = \"" + path + "\"\n");
    EXPECT_EQ(load(t).token_replay_file, path);
    EXPECT_FALSE(std::filesystem::exists(path));
}

// The Prometheus exporter's address, and the dataplane's table size it
// reports capacity from.
TEST(PcscfConfig, MetricsAddress) {
    EXPECT_EQ(load(Toml()).metrics, "");
    const PcscfDaemonConfig c = load(Toml().set("pcscf", "metrics", "\"127.0.0.1:9101\""));
    EXPECT_EQ(c.metrics, "127.0.0.1:9101");
    expect_refused(Toml().set("pcscf", "metrics", "\"[::1]:9101\""), "pcscf.metrics", "IPv4 only");
    expect_refused(Toml().set("pcscf", "metrics", "\"localhost:9101\""), "pcscf.metrics",
                   "not an IP address");
    expect_refused(Toml().set("pcscf", "metrics", "\"127.0.0.1\""), "pcscf.metrics",
                   "address:port");
    expect_refused(Toml().set("pcscf", "metrics", "9101"), "pcscf.metrics", "string");
    expect_refused(Toml().set("pcscf", "metrics", "\"127.0.0.1\\u0000junk:9101\""), "pcscf.metrics",
                   "NUL");
    Toml dp;
    dp.append("[dataplane]\nworkers = 2\nsessions_per_worker = 1000\n");
    EXPECT_EQ(load(dp).dataplane_sessions_per_worker, 1000u);
}

// The log level at start and the log control object's name (issue 10).
TEST(PcscfConfig, LogLevelAndControl) {
    const PcscfDaemonConfig d = load(Toml());
    EXPECT_EQ(d.log_level, log::Level::Info);
    EXPECT_EQ(d.log_control, "/isthmus-pcscf-log");
    for (const char* word : {"error", "warning", "notice", "info", "debug"}) {
        EXPECT_EQ(load(Toml().set("pcscf", "log_level", "\"" + std::string(word) + "\"")).log_level,
                  *log::parse_level(word));
    }
    EXPECT_EQ(load(Toml().set("pcscf", "log_control", R"("/pcscf-2-log")")).log_control,
              "/pcscf-2-log");
    expect_refused(Toml().set("pcscf", "log_level", R"("verbose")"), "pcscf.log_level",
                   "must be \"error\", \"warning\", \"notice\", \"info\" or \"debug\"");
    expect_refused(Toml().set("pcscf", "log_level", R"("Info")"), "pcscf.log_level", "\"debug\"");
    expect_refused(Toml().set("pcscf", "log_level", "4"), "pcscf.log_level", "string");
    expect_refused(Toml().set("pcscf", "log_control", R"("isthmus-pcscf-log")"),
                   "pcscf.log_control", "no other '/'");
    expect_refused(Toml().set("pcscf", "log_control", R"("/a/b")"), "pcscf.log_control",
                   "no other '/'");
    expect_refused(Toml().set("pcscf", "log_control", R"("")"), "pcscf.log_control",
                   "non-empty string");
    // [dataplane] and [wwsf] have keys of the same names: not the pcscf's.
    Toml other;
    other.append("[dataplane]\nlog_level = \"debug\"\n[wwsf]\nlog_level = \"error\"\n");
    EXPECT_EQ(load(other).log_level, log::Level::Info);
}

// What the eP-CSCF reads of [dataplane] is refused as the dataplane refuses
// it; a section no binary knows is refused (a typo would be ignored whole).
TEST(PcscfConfig, DataplaneValuesAndUnknownSections) {
    Toml zero;
    zero.append("[dataplane]\nworkers = 0\n");
    expect_refused(zero, "dataplane.workers", "1..16");
    Toml fractional;
    fractional.append("[dataplane]\nsessions_per_worker = 4.0\n");
    expect_refused(fractional, "dataplane.sessions_per_worker", "integer");
    Toml typo;
    typo.append("[[dataplan.port]]\nname = \"access\"\n");
    expect_refused(typo, "dataplan", "unknown section");
}

// Guest leases given back to the WWSF (A.3.3): lease_release_url and its CA.
TEST_F(PcscfConfigFiles, LeaseRelease) {
    const std::string pub = write("wwsf.pub", token::TokenSigner::generate().public_pem());
    const std::string tokens =
        "[pcscf.tokens]\npublic_key_file = \"" + pub + "\"\naudience = \"pcscf.example.net\"\n";
    Toml off;
    off.append(tokens);
    EXPECT_TRUE(load(off).lease_release.url.empty());
    Toml plain;
    plain.append(tokens + "lease_release_url = \"http://127.0.0.1:8080/api/guest/release\"\n" +
                 "lease_release_timeout_ms = 2500\n");
    const PcscfDaemonConfig c = load(plain);
    EXPECT_EQ(c.lease_release.url, "http://127.0.0.1:8080/api/guest/release");
    EXPECT_EQ(c.lease_release.timeout, std::chrono::milliseconds(2500));
    Toml bad_url;
    bad_url.append(tokens + "lease_release_url = \"ftp://x/y\"\n");
    expect_refused(bad_url, "pcscf.tokens.lease_release_url", "https:// or http://");
    Toml ca_missing;
    ca_missing.append(tokens + "lease_release_url = \"https://198.18.0.1/api/guest/release\"\n" +
                      "lease_release_ca_file = \"" + (dir_ / "none.pem").string() + "\"\n");
    expect_refused(ca_missing, "pcscf.tokens.lease_release_ca_file", "cannot read");
    Toml ca_junk;
    ca_junk.append(tokens + "lease_release_url = \"https://198.18.0.1/api/guest/release\"\n" +
                   "lease_release_ca_file = \"" + write("junk-ca.pem", "hello") + "\"\n");
    expect_refused(ca_junk, "pcscf.tokens.lease_release_ca_file");
    Toml ca_on_http;
    ca_on_http.append(tokens + "lease_release_url = \"http://198.18.0.1/api/guest/release\"\n" +
                      "lease_release_ca_file = \"" + pub + "\"\n");
    expect_refused(ca_on_http, "pcscf.tokens.lease_release_ca_file", "http://");
    Toml no_key;
    no_key.append("[pcscf.tokens]\nlease_release_url = \"http://127.0.0.1/x\"\n");
    expect_refused(no_key, "pcscf.tokens.lease_release_url", "public_key_file");
    Toml timeout;
    timeout.append(tokens + "lease_release_url = \"http://127.0.0.1/x\"\n" +
                   "lease_release_timeout_ms = 5\n");
    expect_refused(timeout, "pcscf.tokens.lease_release_timeout_ms", "100..60000");
}

// [pcscf.admission] (issue 11): the defaults without the table, every key,
// a global burst that defaults to its rate, and the refusals.
TEST(PcscfConfig, Admission) {
    const AdmissionConfig defaults;
    const PcscfDaemonConfig d = load(Toml());
    EXPECT_EQ(d.core.admission.flow_rate, defaults.flow_rate);
    EXPECT_EQ(d.core.admission.flow_burst, defaults.flow_burst);
    EXPECT_EQ(d.core.admission.register_rate, 0u);
    EXPECT_EQ(d.core.admission.initial_rate, 0u);
    EXPECT_EQ(d.core.admission.max_invites_in_setup, defaults.max_invites_in_setup);
    EXPECT_EQ(d.core.admission.retry_after_s, defaults.retry_after_s);
    EXPECT_EQ(d.core.admission.close_after_refusals, defaults.close_after_refusals);

    const auto with = [](std::string_view lines) {
        Toml t;
        t.append("[pcscf.admission]\n" + std::string(lines));
        return t;
    };
    const PcscfDaemonConfig c =
        load(with("flow_rate = 20\nflow_burst = 40\nregister_rate = 3000\nregister_burst = 6000\n"
                  "initial_rate = 500\ninitial_burst = 800\nmax_invites_in_setup = 0\n"
                  "retry_after_s = 30\nclose_after_refusals = 0\n"));
    const AdmissionConfig& a = c.core.admission;
    EXPECT_EQ(a.flow_rate, 20u);
    EXPECT_EQ(a.flow_burst, 40u);
    EXPECT_EQ(a.register_rate, 3000u);
    EXPECT_EQ(a.register_burst, 6000u);
    EXPECT_EQ(a.initial_rate, 500u);
    EXPECT_EQ(a.initial_burst, 800u);
    EXPECT_EQ(a.max_invites_in_setup, 0u);
    EXPECT_EQ(a.retry_after_s, 30u);
    EXPECT_EQ(a.close_after_refusals, 0u);
    // A global rate without its burst: one second's worth.
    const PcscfDaemonConfig g = load(with("register_rate = 2500\ninitial_rate = 700\n"));
    EXPECT_EQ(g.core.admission.register_burst, 2500u);
    EXPECT_EQ(g.core.admission.initial_burst, 700u);
    // No per-flow limit.
    EXPECT_EQ(load(with("flow_rate = 0\n")).core.admission.flow_rate, 0u);

    expect_refused(with("register_burst = 10\n"), "pcscf.admission.register_burst",
                   "set while register_rate is 0");
    expect_refused(with("flow_rate = 0\nflow_burst = 10\n"), "pcscf.admission.flow_burst",
                   "set while flow_rate is 0");
    expect_refused(with("initial_rate = 0\ninitial_burst = 1\n"), "pcscf.admission.initial_burst",
                   "set while initial_rate is 0");
    expect_refused(with("flow_rate = -1\n"), "pcscf.admission.flow_rate", "0..1000000");
    expect_refused(with("register_rate = 1000001\n"), "pcscf.admission.register_rate",
                   "0..1000000");
    expect_refused(with("flow_burst = 0\n"), "pcscf.admission.flow_burst", "1..10000000");
    expect_refused(with("initial_rate = 5\ninitial_burst = 0\n"), "pcscf.admission.initial_burst",
                   "1..10000000");
    expect_refused(with("retry_after_s = 0\n"), "pcscf.admission.retry_after_s", "1..3600");
    expect_refused(with("max_invites_in_setup = -1\n"), "pcscf.admission.max_invites_in_setup",
                   "0..10000000");
    expect_refused(with("close_after_refusals = 2.5\n"), "pcscf.admission.close_after_refusals",
                   "integer");
    expect_refused(with("register_rate = \"fast\"\n"), "pcscf.admission.register_rate", "integer");
    expect_refused(with("flow_rates = 5\n"), "pcscf.admission.flow_rates", "unknown key");
    const std::string scalar = std::string(kBase) + "\n[pcscf.admission.x]\n";
    EXPECT_EQ(error_of(scalar).rfind("test.toml: pcscf.admission.x: unknown key", 0), 0u)
        << error_of(scalar);
}

}  // namespace
}  // namespace isthmus::pcscf
