#include "sip/message.hpp"

#include <algorithm>

#include "sip/grammar.hpp"
#include "sip/header_names.hpp"

namespace isthmus::sip {

namespace {

bool same_header(const HeaderField& f, std::string_view canonical) {
    return iequals(f.name, canonical);
}

}  // namespace

std::optional<std::string_view> Message::header(std::string_view name) const {
    const std::string_view canonical = canonical_header_name(name);
    const bool list = is_list_header(canonical);
    for (const HeaderField& f : fields) {
        if (!same_header(f, canonical)) continue;
        if (!list) return std::string_view(f.value);
        std::optional<std::string_view> first;
        for_each_list_element(f.value, [&first](std::string_view e) {
            first = e;
            return false;
        });
        if (first) return first;
    }
    return std::nullopt;
}

std::vector<std::string_view> Message::headers(std::string_view name) const {
    const std::string_view canonical = canonical_header_name(name);
    const bool list = is_list_header(canonical);
    std::vector<std::string_view> out;
    for (const HeaderField& f : fields) {
        if (!same_header(f, canonical)) continue;
        if (!list) {
            out.emplace_back(f.value);
            continue;
        }
        for_each_list_element(f.value, [&out](std::string_view e) {
            out.push_back(e);
            return true;
        });
    }
    return out;
}

std::size_t Message::field_count(std::string_view name) const {
    const std::string_view canonical = canonical_header_name(name);
    return static_cast<std::size_t>(
        std::count_if(fields.begin(), fields.end(),
                      [&](const HeaderField& f) { return same_header(f, canonical); }));
}

void Message::add(std::string_view name, std::string_view value) {
    fields.push_back({std::string(canonical_header_name(name)), std::string(value)});
}

void Message::prepend(std::string_view name, std::string_view value) {
    const std::string_view canonical = canonical_header_name(name);
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const HeaderField& f) { return same_header(f, canonical); });
    if (it == fields.end()) it = fields.begin();
    fields.insert(it, {std::string(canonical), std::string(value)});
}

void Message::set(std::string_view name, std::string_view value) {
    const std::string_view canonical = canonical_header_name(name);
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const HeaderField& f) { return same_header(f, canonical); });
    if (it == fields.end()) {
        add(canonical, value);
        return;
    }
    it->name = std::string(canonical);
    it->value = std::string(value);
    const auto first = it - fields.begin();
    fields.erase(std::remove_if(fields.begin() + first + 1, fields.end(),
                                [&](const HeaderField& f) { return same_header(f, canonical); }),
                 fields.end());
}

std::size_t Message::remove(std::string_view name) {
    const std::string_view canonical = canonical_header_name(name);
    const auto before = fields.size();
    fields.erase(std::remove_if(fields.begin(), fields.end(),
                                [&](const HeaderField& f) { return same_header(f, canonical); }),
                 fields.end());
    return before - fields.size();
}

bool Message::remove_first_value(std::string_view name) {
    const std::string_view canonical = canonical_header_name(name);
    const bool list = is_list_header(canonical);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!same_header(*it, canonical)) continue;
        if (!list) {
            fields.erase(it);
            return true;
        }
        // The first two elements: the second, if any, is where the rest
        // starts (the views point into it->value: the offset is taken
        // before assigning).
        std::string_view two[2];
        std::size_t n = 0;
        for_each_list_element(it->value, [&](std::string_view e) {
            two[n++] = e;
            return n < 2;
        });
        if (n == 0) continue;
        if (n == 1) {
            fields.erase(it);
            return true;
        }
        const auto rest = static_cast<std::size_t>(two[1].data() - it->value.data());
        it->value = it->value.substr(rest);
        return true;
    }
    return false;
}

Message make_request(std::string_view method, Uri request_uri) {
    Message m;
    m.method = std::string(method);
    m.request_uri = std::move(request_uri);
    return m;
}

Message make_response(uint16_t status_code, std::string_view reason_phrase) {
    Message m;
    m.status_code = status_code;
    m.reason_phrase = std::string(reason_phrase);
    return m;
}

}  // namespace isthmus::sip
