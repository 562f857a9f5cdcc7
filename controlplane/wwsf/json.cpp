// The WWSF's flat JSON objects (json.hpp): a strict recursive-descent
// reader of RFC 8259's grammar restricted to one level, and a writer.
#include "wwsf/json.hpp"

#include <array>
#include <initializer_list>

namespace isthmus::wwsf {

namespace {

constexpr std::size_t kMaxMembers = 64;

class Reader {
  public:
    explicit Reader(std::string_view text) : s_(text) {}

    std::optional<JsonObject> object(std::string& error) {
        skip_ws();
        if (!take('{')) return fail(error, "expected '{': the body must be a JSON object");
        JsonObject out;
        skip_ws();
        if (take('}')) return finish(std::move(out), error);
        for (;;) {
            skip_ws();
            std::string name;
            if (peek() != '"') return fail(error, "expected a member name in double quotes");
            if (!string(name, error)) return std::nullopt;
            skip_ws();
            if (!take(':')) return fail(error, "expected ':' after a member name");
            skip_ws();
            JsonScalar value;
            if (!scalar(value, error)) return std::nullopt;
            if (out.count(name) != 0) return fail(error, "duplicate member " + json_quote(name));
            if (out.size() == kMaxMembers) return fail(error, "too many members");
            out.emplace(std::move(name), std::move(value));
            skip_ws();
            if (take(',')) continue;
            if (take('}')) return finish(std::move(out), error);
            return fail(error, "expected ',' or '}' after a member");
        }
    }

  private:
    std::optional<JsonObject> finish(JsonObject out, std::string& error) {
        skip_ws();
        if (i_ != s_.size()) return fail(error, "text after the object");
        return out;
    }
    static std::nullopt_t fail(std::string& error, std::string what) {
        error = std::move(what);
        return std::nullopt;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool take(char c) {
        if (i_ >= s_.size() || s_[i_] != c) return false;
        ++i_;
        return true;
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }
    void skip_ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
            ++i_;
        }
    }

    bool scalar(JsonScalar& v, std::string& error) {
        const char c = peek();
        if (c == '"') {
            v.kind = JsonScalar::Kind::String;
            return string(v.text, error);
        }
        if (c == '{' || c == '[') {
            fail(error, "nested objects and arrays are not accepted");
            return false;
        }
        for (const std::string_view word : {"true", "false"}) {
            if (literal(word)) {
                v.kind = JsonScalar::Kind::Bool;
                v.text = word;
                return true;
            }
        }
        if (literal("null")) {
            v.kind = JsonScalar::Kind::Null;
            v.text = "null";
            return true;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            v.kind = JsonScalar::Kind::Number;
            return number(v.text, error);
        }
        fail(error, "expected a value");
        return false;
    }

    // number = [ minus ] int [ frac ] [ exp ] (RFC 8259 6)
    bool number(std::string& out, std::string& error) {
        const std::size_t start = i_;
        const auto digits = [&] {
            const std::size_t from = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
                ++i_;
            return i_ - from;
        };
        take('-');
        if (peek() == '0') {
            ++i_;
        } else if (digits() == 0) {
            fail(error, "malformed number");
            return false;
        }
        if (take('.') && digits() == 0) {
            fail(error, "malformed number");
            return false;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            if (!take('+')) take('-');
            if (digits() == 0) {
                fail(error, "malformed number");
                return false;
            }
        }
        out.assign(s_.substr(start, i_ - start));
        return true;
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    bool hex4(uint32_t& out) {
        if (s_.size() - i_ < 4) return false;
        out = 0;
        for (int k = 0; k < 4; ++k) {
            const int h = hex(s_[i_++]);
            if (h < 0) return false;
            out = out * 16 + static_cast<uint32_t>(h);
        }
        return true;
    }
    static void utf8(uint32_t cp, std::string& out) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    // One UTF-8 sequence (RFC 3629) starting at i_, copied to out.
    bool utf8_sequence(std::string& out) {
        const auto c = static_cast<unsigned char>(s_[i_]);
        std::size_t n = 0;
        uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s_.size() - i_ <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s_[i_ + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3fu);
        }
        constexpr std::array<uint32_t, 4> kMin = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        out.append(s_.substr(i_, n + 1));
        i_ += n + 1;
        return true;
    }

    bool string(std::string& out, std::string& error) {
        ++i_;  // the opening quote
        out.clear();
        for (;;) {
            if (i_ >= s_.size()) {
                fail(error, "unterminated string");
                return false;
            }
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) {
                fail(error, "control character in a string");
                return false;
            }
            if (c >= 0x80) {
                if (!utf8_sequence(out)) {
                    fail(error, "invalid UTF-8");
                    return false;
                }
                continue;
            }
            ++i_;
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (i_ >= s_.size()) {
                fail(error, "unterminated string");
                return false;
            }
            const char e = s_[i_++];
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    uint32_t cp = 0;
                    if (!hex4(cp)) {
                        fail(error, "bad \\u escape");
                        return false;
                    }
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        // A high surrogate needs its low half (RFC 8259 7).
                        uint32_t low = 0;
                        if (!literal("\\u") || !hex4(low) || low < 0xdc00 || low > 0xdfff) {
                            fail(error, "unpaired surrogate in a \\u escape");
                            return false;
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                        fail(error, "unpaired surrogate in a \\u escape");
                        return false;
                    }
                    utf8(cp, out);
                    break;
                }
                default:
                    fail(error, "bad escape in a string");
                    return false;
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::optional<JsonObject> parse_json_object(std::string_view text, std::string& error) {
    return Reader(text).object(error);
}

std::string json_quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

void JsonWriter::name(std::string_view n) {
    if (out_.size() > 1) out_ += ',';
    out_ += json_quote(n);
    out_ += ':';
}

JsonWriter& JsonWriter::add(std::string_view n, std::string_view value) {
    name(n);
    out_ += json_quote(value);
    return *this;
}

JsonWriter& JsonWriter::add(std::string_view n, int64_t value) {
    name(n);
    out_ += std::to_string(value);
    return *this;
}

JsonWriter& JsonWriter::add(std::string_view n, bool value) {
    name(n);
    out_ += value ? "true" : "false";
    return *this;
}

std::string json_error(std::string_view message) {
    return JsonWriter().add("error", message).str();
}

}  // namespace isthmus::wwsf
