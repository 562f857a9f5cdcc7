// The WWSF core's router (controlplane/wwsf/core.hpp): the WIC's files with
// their headers, traversal attempts, /api/config, methods and targets.
#include "core_fixture.hpp"

namespace isthmus::wwsf::test {
namespace {

using CoreStatic = CoreTest;

TEST_F(CoreStatic, ServesTheIndexWithTheSecurityHeaders) {
    const HttpResponse r = get("/");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "<!doctype html><p>WIC</p>");
    EXPECT_FALSE(r.head);
    ASSERT_NE(r.header("Content-Type"), nullptr);
    EXPECT_EQ(field(r, "Content-Type"), "text/html; charset=utf-8");
    ASSERT_NE(r.header("Content-Security-Policy"), nullptr);
    const std::string csp = field(r, "Content-Security-Policy");
    EXPECT_EQ(csp.rfind("default-src 'self'; ", 0), 0u) << csp;
    EXPECT_NE(csp.find("connect-src 'self' wss://pcscf.example.net:7443;"), std::string::npos)
        << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(field(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(field(r, "Referrer-Policy"), "no-referrer");
    ASSERT_NE(r.header("Strict-Transport-Security"), nullptr);
    EXPECT_EQ(field(r, "Strict-Transport-Security"), "max-age=31536000");
    EXPECT_EQ(core().stats().of(Counter::StaticServed), 1u);
    EXPECT_EQ(core().content_security_policy(), csp);
}

TEST_F(CoreStatic, NoHstsOverPlainHttp) {
    HttpRequest req = request("GET", "/");
    req.secure = false;
    const HttpResponse r = call(req);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Strict-Transport-Security"), nullptr);
    EXPECT_NE(r.header("Content-Security-Policy"), nullptr);
}

TEST_F(CoreStatic, ContentTypesAndHead) {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/style.css", "text/css; charset=utf-8"},
        {"/data.json", "application/json"},
        {"/icon.svg", "image/svg+xml"},
        {"/sub/", "text/html; charset=utf-8"},
        {"/index.html?x=1", "text/html; charset=utf-8"},
    };
    for (const auto& [target, type] : files) {
        const HttpResponse r = get(target);
        EXPECT_EQ(r.status, 200u) << target;
        ASSERT_NE(r.header("Content-Type"), nullptr);
        EXPECT_EQ(field(r, "Content-Type"), type) << target;
    }
    const HttpResponse head = call(request("HEAD", "/app.js"));
    EXPECT_EQ(head.status, 200u);
    EXPECT_TRUE(head.head);
    EXPECT_EQ(head.body, "console.log(1);");  // its length is sent, not its octets
}

TEST_F(CoreStatic, NotFoundAndTraversal) {
    for (const char* target : {
             "/missing.html",
             "/key.pem",
             "/.env",
             "/sub",
             "/passwd.html",
             "/../etc/passwd",
             "/../passwd",
             "/%2e%2e/passwd",
             "/%2e%2e/%2e%2e/etc/passwd",
             "/%2E%2E%2Fpasswd",
             "/sub/..%2f..%2fpasswd",
             "/..\\passwd",
             "//etc/passwd",
             "/.%2e/passwd",
         }) {
        const HttpResponse r = get(target);
        EXPECT_EQ(r.status, 404u) << target;
        EXPECT_EQ(error_of(r), "not found") << target;
        EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
        EXPECT_NE(r.header("X-Content-Type-Options"), nullptr);
    }
    EXPECT_EQ(call(request("HEAD", "/missing.html")).status, 404u);
    EXPECT_EQ(core().stats().of(Counter::NotFound), 15u);
}

TEST_F(CoreStatic, MethodsAndTargets) {
    HttpResponse r = post("/index.html");
    EXPECT_EQ(r.status, 405u);
    ASSERT_NE(r.header("Allow"), nullptr);
    EXPECT_EQ(field(r, "Allow"), "GET, HEAD");
    EXPECT_EQ(call(request("DELETE", "/")).status, 405u);
    for (const char* target : {"*", "http://x/index.html", ""}) {
        r = get(target);
        EXPECT_EQ(r.status, 400u) << target;
        EXPECT_EQ(error_of(r), "the request target must be a path (origin-form)");
    }
    r = get("/api/nothing");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(error_of(r), "no such endpoint");
    EXPECT_EQ(get("/api").status, 404u);
    EXPECT_EQ(get("/api/").status, 404u);
    // API paths match exactly.
    EXPECT_EQ(get("/api/config/").status, 404u);
    EXPECT_EQ(get("/api/%63onfig").status, 404u);
    r = get("/api/login");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(field(r, "Allow"), "POST");
    for (const char* api : {"/api/token", "/api/guest", "/api/guest/release", "/api/logout"}) {
        r = get(api);
        EXPECT_EQ(r.status, 405u) << api;
        EXPECT_EQ(field(r, "Allow"), "POST");
    }
    r = post("/api/config");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(field(r, "Allow"), "GET, HEAD");
}

TEST_F(CoreStatic, ConfigTellsTheWicWhereTheEpcscfIs) {
    HttpResponse r = get("/api/config");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(field(r, "Content-Type"), "application/json");
    EXPECT_EQ(field(r, "Cache-Control"), "no-store");
    EXPECT_EQ(r.body, R"({"ws_uri":"wss://pcscf.example.net:7443/sip","domain":"ims.example.net",)"
                      R"("pcscf":"pcscf.example.net","guest":true})");
    r = get("/api/config?x=1");
    EXPECT_EQ(r.status, 200u);
    r = call(request("HEAD", "/api/config"));
    EXPECT_TRUE(r.head);
    pool_.clear();
    core_.reset();
    EXPECT_EQ(json_of(get("/api/config")).at("guest").text, "false");
}

TEST(WebSocketOrigin, OfWsAndWssUris) {
    EXPECT_EQ(websocket_origin("wss://pcscf.example.net:7443/sip?x"),
              "wss://pcscf.example.net:7443");
    EXPECT_EQ(websocket_origin("ws://127.0.0.1:5062"), "ws://127.0.0.1:5062");
    EXPECT_EQ(websocket_origin("wss://[2001:db8::1]:443/"), "wss://[2001:db8::1]:443");
    for (const char* bad :
         {"https://x", "wss://", "wss:///path", "wss://a b", "wss://a;b", "wss://a,b", "wss://a'b",
          "wss://u@host", "WSS://x", "wss://x\"", "wss://caf\xc3\xa9"}) {
        EXPECT_EQ(websocket_origin(bad), std::nullopt) << bad;
    }
    CoreConfig c;
    c.ws_uri = "https://pcscf.example.net";
    EXPECT_THROW(WwsfCore(c, token::TokenSigner::generate(), UserDb(), GuestPool(),
                          StaticFiles("/nonexistent")),
                 std::invalid_argument);
}

}  // namespace
}  // namespace isthmus::wwsf::test
