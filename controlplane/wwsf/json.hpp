// The little JSON the WWSF speaks (RFC 8259): request bodies are one flat
// object whose values are strings ({"user":"alice","password":"..."});
// responses are flat objects of strings, integers and booleans. No JSON
// library ships with Debian's build set here, and this much is small enough
// to own: a strict reader (nothing nested, no duplicate names, no trailing
// text, UTF-8 checked, escapes decoded) and a writer that escapes.
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace isthmus::wwsf {

// A JSON value as the reader keeps it: its kind, and for a string the
// decoded text (for a number or literal, the text as written).
struct JsonScalar {
    enum class Kind : uint8_t { String, Number, Bool, Null };
    Kind kind = Kind::String;
    std::string text;
};

using JsonObject = std::map<std::string, JsonScalar, std::less<>>;

// Parses `text` as one JSON object whose members are scalars (string,
// number, true, false, null). nullopt with `error` set to what is wrong
// ("expected '{'", "nested objects and arrays are not accepted",
// "duplicate member \"user\"", "invalid UTF-8", "text after the object",
// "unterminated string", ...). Bounded: at most 64 members.
std::optional<JsonObject> parse_json_object(std::string_view text, std::string& error);

// A JSON string literal of `s` (quotes included): '"', '\\' and control
// characters escaped (\n, \t, ... or \u00XX), the rest as is (the caller's
// UTF-8).
std::string json_quote(std::string_view s);

// Builds one flat object in the order members are added.
//   JsonWriter().add("identity", id).add("expires", int64_t{5}).str()
//   == R"({"identity":"sip:...","expires":5})"
class JsonWriter {
  public:
    JsonWriter& add(std::string_view name, std::string_view value);
    JsonWriter& add(std::string_view name, const char* value) {
        return add(name, std::string_view(value));
    }
    JsonWriter& add(std::string_view name, const std::string& value) {
        return add(name, std::string_view(value));
    }
    JsonWriter& add(std::string_view name, int64_t value);
    JsonWriter& add(std::string_view name, bool value);
    std::string str() const { return out_ + "}"; }

  private:
    void name(std::string_view n);
    std::string out_ = "{";
};

// {"error":"<message>"}
std::string json_error(std::string_view message);

}  // namespace isthmus::wwsf
