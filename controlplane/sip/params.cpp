#include "sip/params.hpp"

#include "sip/grammar.hpp"

namespace isthmus::sip {

const Param* find_param(const std::vector<Param>& params, std::string_view name) {
    for (const Param& p : params)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

bool parse_generic_params(std::string_view s, std::size_t& pos, std::vector<Param>& out) {
    return scan_generic_params(s, pos, [&out](const ParamView& v) {
        Param p;
        p.name = std::string(v.name);
        if (v.value) p.value = std::string(*v.value);
        p.quoted = v.quoted;
        out.push_back(std::move(p));
        return true;
    });
}

void append_params(std::string& out, const std::vector<Param>& params) {
    for (const Param& p : params) {
        out.push_back(';');
        out += p.name;
        if (!p.value) continue;
        out.push_back('=');
        if (p.quoted) out.push_back('"');
        out += *p.value;
        if (p.quoted) out.push_back('"');
    }
}

}  // namespace isthmus::sip
