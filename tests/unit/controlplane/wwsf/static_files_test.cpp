// The WIC's static files (controlplane/wwsf/static_files.hpp): target to
// path, every traversal attempt refused, content types, links out of the
// root.
#include "wwsf/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "temp_dir.hpp"

namespace isthmus::wwsf {
namespace {

TEST(StaticPath, MapsTargetsToRelativePaths) {
    EXPECT_EQ(static_path("/"), "index.html");
    EXPECT_EQ(static_path("/?x=1"), "index.html");
    EXPECT_EQ(static_path("/index.html"), "index.html");
    EXPECT_EQ(static_path("/js/app.js?v=2#top"), "js/app.js");
    EXPECT_EQ(static_path("/d/"), "d/index.html");
    EXPECT_EQ(static_path("/%61pp.js"), "app.js");
    EXPECT_EQ(static_path("/a%20b.css"), std::nullopt);  // a space, once decoded
    EXPECT_EQ(static_path("/a..b.js"), "a..b.js");       // dots inside a name are fine
}

TEST(StaticPath, RefusesEveryWayOut) {
    for (const char* target : {
             "/../etc/passwd",
             "/..",
             "/../",
             "/a/../../etc/passwd",
             "/a/..",
             "/%2e%2e/etc/passwd",
             "/%2E%2E/etc/passwd",
             "/%2e%2e%2fetc%2fpasswd",
             "/.%2e/x",
             "/%2e./x",
             "/a/..%2fb",
             "/a/%2f",
             "/a%2fb",
             "/..\\x",
             "/a/%5c..%5cx",
             "/a\\b",
             "/./a",
             "/a/./b",
             "/.",
             "/.git/config",
             "/.env",
             "/a/.hidden",
             "//etc/passwd",
             "/a//b",
             "/%00",
             "/a%00.html",
             "/%zz",
             "/%2",
             "/%",
             "/caf%C3%A9.html",
             "/caf\xc3\xa9.html",
             "/a\x01",
             "",
             "index.html",
             "*",
             "http://x/index.html",
         }) {
        EXPECT_EQ(static_path(target), std::nullopt) << target;
    }
}

TEST(StaticPath, ContentTypes) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("js/app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("m.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("s.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("c.json"), "application/json");
    EXPECT_EQ(content_type_for("i.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("i.png"), "image/png");
    EXPECT_EQ(content_type_for("app.js.map"), "application/json");
    EXPECT_EQ(content_type_for("key.pem"), "");
    EXPECT_EQ(content_type_for("INDEX.HTML"), "");
    EXPECT_EQ(content_type_for("noext"), "");
    EXPECT_EQ(content_type_for("d.html/file"), "");
}

TEST(StaticFiles, ReadsOnlyRegularFilesInsideTheRoot) {
    test::TempDir dir;
    dir.write("web/index.html", "<p>hi</p>");
    dir.write("web/sub/app.js", "1;");
    dir.write("outside.html", "secret");
    std::filesystem::create_directories(dir.path() / "web/empty.html");
    std::filesystem::create_symlink(dir.path() / "outside.html", dir.path() / "web/link.html");
    std::filesystem::create_symlink(dir.path() / "web/index.html", dir.path() / "web/in.html");
    std::filesystem::create_symlink(dir.path(), dir.path() / "web/up");
    const StaticFiles files(dir.path() / "web");
    EXPECT_EQ(files.read("index.html"), "<p>hi</p>");
    EXPECT_EQ(files.read("sub/app.js"), "1;");
    EXPECT_EQ(files.read("in.html"), "<p>hi</p>");  // a link that stays inside
    EXPECT_EQ(files.read("link.html"), std::nullopt);
    EXPECT_EQ(files.read("up/outside.html"), std::nullopt);
    EXPECT_EQ(files.read("empty.html"), std::nullopt);
    EXPECT_EQ(files.read("missing.html"), std::nullopt);
    EXPECT_EQ(files.read("../outside.html"), std::nullopt);
    // A root that is a prefix of a sibling's name: web vs web2.
    dir.write("web2/x.html", "sibling");
    std::filesystem::create_symlink(dir.path() / "web2/x.html", dir.path() / "web/x.html");
    EXPECT_EQ(files.read("x.html"), std::nullopt);
    EXPECT_EQ(StaticFiles(dir.path() / "nowhere").read("index.html"), std::nullopt);
}

}  // namespace
}  // namespace isthmus::wwsf
