#include "msrp/relay.hpp"

#include "msrp/serializer.hpp"

namespace isthmus::msrp {

namespace {

std::optional<Message> fail(std::string* why, std::string_view reason) {
    if (why != nullptr) *why = std::string(reason);
    return std::nullopt;
}

}  // namespace

bool addressed_to(const Message& m, const Uri& self) {
    return !m.to_path.empty() && uri_equal(m.to_path.front(), self);
}

bool from_peer(const Message& m, const Leg& leg) {
    return !m.from_path.empty() && !leg.peer_path.empty() &&
           uri_equal(m.from_path.back(), leg.peer_path.back());
}

void rewrite_paths(Message& m, const Leg& out) {
    m.to_path = out.peer_path;
    m.from_path.assign(1, out.self);
}

std::optional<Message> relay_request(const Message& in, const Leg& out,
                                     std::string_view transaction_id, std::string* why) {
    if (!in.is_request()) return fail(why, "a response is not relayed");
    if (!is_ident(transaction_id)) return fail(why, "transaction id not an ident of 4..32");
    if (end_line_in_body(in.body, transaction_id))
        return fail(why, "the transaction id's end line occurs in the body");
    if (out.peer_path.empty()) return fail(why, "the outgoing leg has no peer path");
    Message m = in;
    m.transaction_id = std::string(transaction_id);
    rewrite_paths(m, out);
    return m;
}

}  // namespace isthmus::msrp
