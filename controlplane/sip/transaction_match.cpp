#include "sip/transaction_match.hpp"

#include <array>

#include "sip/grammar.hpp"
#include "sip/host.hpp"

namespace isthmus::sip {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
        out.push_back(kHex[(v >> (4 * i)) & 0xf]);
    }
}

// Fields reserved in a response or ACK built here: the copied ones (a Via or
// two, From, To, Call-ID, CSeq, a Route set) and those a caller adds
// (Contact, Record-Route, Server...) in one allocation; more grow it once.
constexpr std::size_t kFieldsReserved = 16;

// Copies every field called `name` (canonical) from `from` to the end of `to`.
void copy_fields(const Message& from, Message& to, std::string_view name) {
    for (const HeaderField& f : from.fields) {
        if (iequals(f.name, name)) to.fields.push_back(f);
    }
}

}  // namespace

bool has_magic_cookie(std::string_view branch) {
    return branch.size() > kMagicCookie.size() &&
           branch.substr(0, kMagicCookie.size()) == kMagicCookie;
}

std::string make_branch(uint64_t random, uint64_t counter) {
    std::string out(kMagicCookie);
    out.reserve(kMagicCookie.size() + 16 + 1 + 16);
    append_hex(out, random, 16);
    out.push_back('.');
    int digits = 1;
    while (digits < 16 && (counter >> (4 * digits)) != 0)
        ++digits;
    append_hex(out, counter, digits);
    return out;
}

TopVia top_via(const Message& m) {
    TopVia out;
    const std::optional<std::string_view> value = m.header("Via");
    if (!value) {
        out.reject = Reject::MissingVia;
        return out;
    }
    const std::optional<ViaView> via = parse_via_view(*value);
    if (!via) {
        out.reject = Reject::MalformedVia;
        return out;
    }
    out.via = *via;
    return out;
}

std::string client_key(std::string_view branch, std::string_view cseq_method) {
    std::string key;
    key.reserve(branch.size() + 1 + cseq_method.size());
    key.append(branch);
    key.push_back('\x1f');  // neither a token character nor in a method
    key.append(cseq_method);
    return key;
}

std::string normalized_sent_by(const ViaView& via) {
    std::string out;
    switch (via.host_kind) {
        case HostKind::IPv4: {
            std::array<uint8_t, 4> a{};
            if (parse_ipv4(via.host, a)) {
                out = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." +
                      std::to_string(a[2]) + "." + std::to_string(a[3]);
            } else {
                out = to_lower(via.host);
            }
            break;
        }
        case HostKind::IPv6: {
            std::array<uint8_t, 16> a{};
            const std::string_view h = via.host;
            if (h.size() > 2 && parse_ipv6(h.substr(1, h.size() - 2), a)) {
                out.push_back('[');
                for (uint8_t b : a)
                    append_hex(out, b, 2);
                out.push_back(']');
            } else {
                out = to_lower(via.host);
            }
            break;
        }
        case HostKind::Name:
            out = to_lower(via.host);
            break;
    }
    if (via.port) {
        out.push_back(':');
        out.append(std::to_string(*via.port));
    }
    return out;
}

std::string server_key(const ViaView& top, std::string_view method) {
    const std::string_view branch = top.branch().value_or(std::string_view());
    const std::string_view matched = method == "ACK" ? std::string_view("INVITE") : method;
    std::string key(branch);
    key.push_back('\x1f');
    key.append(normalized_sent_by(top));
    key.push_back('\x1f');
    key.append(matched);
    return key;
}

Message make_response_to(const Message& request, uint16_t status_code,
                         std::string_view reason_phrase) {
    Message r = make_response(status_code, reason_phrase);
    r.fields.reserve(kFieldsReserved);
    for (std::string_view name : {"Via", "From", "To", "Call-ID", "CSeq", "Timestamp"}) {
        copy_fields(request, r, name);
    }
    return r;
}

Message make_ack_for(const Message& invite, const Message& response) {
    Message ack = make_request("ACK", invite.request_uri);
    ack.fields.reserve(kFieldsReserved);
    if (const auto via = invite.header("Via")) ack.add("Via", *via);
    const auto max_forwards = invite.header("Max-Forwards");
    ack.add("Max-Forwards", max_forwards ? *max_forwards : std::string_view("70"));
    copy_fields(invite, ack, "Route");
    copy_fields(invite, ack, "From");
    copy_fields(response, ack, "To");
    copy_fields(invite, ack, "Call-ID");
    const auto cseq_value = invite.header("CSeq");
    const std::optional<CSeq> cseq = cseq_value ? parse_cseq(*cseq_value) : std::nullopt;
    ack.add("CSeq", to_string(CSeq{cseq ? cseq->number : 0, "ACK"}));
    return ack;
}

}  // namespace isthmus::sip
