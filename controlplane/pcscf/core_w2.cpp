// Requests from the browsers (W2): REGISTER (TS 24.229 5.2.2, TS 24.371
// A.3.1), initial requests (5.2.6.3: originating), requests inside a
// dialog, and the ACKs for 2xx that pass statelessly.
#include <algorithm>

#include "pcscf/core.hpp"
#include "pcscf/p_headers.hpp"
#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::pcscf {

namespace {

// The expiry a REGISTER asks for one contact (RFC 3261 10.2.1.1): its
// expires parameter, else the Expires header; nullopt when neither says.
std::optional<uint64_t> asked_expiry(const sip::NameAddr& contact, const sip::Message& m) {
    if (const sip::Param* p = contact.param("expires"); p && p->value) {
        return sip::parse_uint(*p->value, 0xFFFFFFFFu);
    }
    if (const auto e = m.header("Expires")) return sip::parse_uint(sip::trim_lws(*e), 0xFFFFFFFFu);
    return std::nullopt;
}

// The token of `Authorization: Bearer <token>` (RFC 8898 / RFC 6750: the
// scheme case-insensitive, one space, the token68); nullopt without one.
std::optional<std::string> bearer_token(const sip::Message& m) {
    for (const sip::HeaderField& f : m.fields) {
        if (f.name != "Authorization") continue;
        std::string_view v = f.value;
        if (v.size() < 7 || !sip::iequals(v.substr(0, 7), "Bearer ")) continue;
        v.remove_prefix(7);
        while (!v.empty() && v.front() == ' ')
            v.remove_prefix(1);
        return std::string(v);
    }
    return std::nullopt;
}

// TS 24.229 5.2.2.1: integrity-protected in a REGISTER's Authorization is
// the P-CSCF's to write, never the UE's (a browser writing
// integrity-protected="auth-done" would register any identity unchallenged).
// Removes the parameter from every Authorization field; a field that is
// nothing but the scheme and that parameter keeps the scheme.
void strip_integrity_protected(sip::Message& m) {
    for (sip::HeaderField& f : m.fields) {
        if (f.name != "Authorization") continue;
        const std::string& v = f.value;
        // Split at commas outside quotes.
        std::vector<std::string> parts;
        std::string cur;
        bool quoted = false;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const char c = v[i];
            if (quoted && c == '\\' && i + 1 < v.size()) {
                cur += c;
                cur += v[++i];
                continue;
            }
            if (c == '"') quoted = !quoted;
            if (c == ',' && !quoted) {
                parts.push_back(cur);
                cur.clear();
                continue;
            }
            cur += c;
        }
        parts.push_back(cur);
        std::string scheme;
        std::string out;
        bool changed = false;
        for (std::size_t k = 0; k < parts.size(); ++k) {
            std::string_view p = sip::trim_lws(parts[k]);
            if (k == 0) {
                // "Digest username=..." : the scheme before the first parameter.
                const std::size_t sp = p.find_first_of(" \t");
                if (sp != std::string_view::npos &&
                    p.substr(0, sp).find('=') == std::string_view::npos) {
                    scheme = std::string(p.substr(0, sp));
                    p = sip::trim_lws(p.substr(sp));
                }
            }
            const std::size_t eq = p.find('=');
            const std::string_view name = sip::trim_lws(p.substr(0, eq));
            if (sip::iequals(name, "integrity-protected")) {
                changed = true;
                continue;
            }
            if (!out.empty()) out += ", ";
            out += std::string(p);
        }
        if (changed) f.value = scheme.empty() ? out : out.empty() ? scheme : scheme + " " + out;
    }
}

}  // namespace

bool PcscfCore::web_authentication(sip::Message& m, sip::TransactionId txn, const Peer& from,
                                   Context& ctx) {
    const auto refuse_token = [&](std::string_view reason) {
        refuse(txn, m, Refusal::TokenRefused, reason, Side::W2);
        return false;
    };
    const auto to_uri = sip::parse_name_addr(*m.header("To"))->uri;
    const Registration* known = registrar_.find(from.flow, ctx.aor);
    if (known != nullptr && known->web_authenticated) {
        ctx.lease = known->lease;
    } else {
        // A new registration: the token is what authenticates it.
        const auto bearer = bearer_token(m);
        if (!bearer) return refuse_token("Forbidden (token required)");
        if (!config_.token_verifier) {
            ++stats_.token_not_configured;
            return refuse_token("Forbidden (tokens not accepted here)");
        }
        const int64_t now = config_.unix_time();
        const token::TokenCheck c = config_.token_verifier->verify(
            *bearer, now, config_.token_audience, config_.token_max_lifetime_s);
        if (c.error != token::TokenError::None) {
            ++stats_.token_refused[static_cast<std::size_t>(c.error)];
            return refuse_token("Forbidden (token " +
                                std::string(token::token_error_name(c.error)) + ")");
        }
        const auto named = sip::parse_uri(c.claims.subject);
        if (!named || !sip::uri_equivalent(*named, to_uri)) {
            ++stats_.token_wrong_identity;
            return refuse_token("Forbidden (token names another identity)");
        }
        if (!replay_) replay_.emplace();
        if (!replay_->first_use(c.claims.id, c.claims.expires, now)) {
            ++stats_.token_refused[static_cast<std::size_t>(token::TokenError::Replayed)];
            return refuse_token("Forbidden (token replayed)");
        }
        if (config_.token_journal) {
            std::string error;
            if (!config_.token_journal->record(c.claims.id, c.claims.expires, *replay_, error)) {
                ++stats_.token_journal_errors;
                last_token_journal_error_ = error;
            }
        }
        ++stats_.token_registrations;
        if (c.claims.kind == "guest") {
            ++stats_.token_guest_registrations;
            ctx.lease = GuestLeaseRef{c.claims.subject, std::string(*bearer)};
        }
    }
    // TS 24.229 5.2.2.1: the UE was authenticated otherwise (TS 24.371
    // A.3.2); the S-CSCF takes the REGISTER without a challenge.
    m.remove("Authorization");
    const std::string user = to_uri.user.empty() ? to_uri.host : to_uri.user + "@" + to_uri.host;
    m.add("Authorization", "Digest username=\"" + user + "\", realm=\"" + to_uri.host +
                               "\", uri=\"" + sip::to_string(m.request_uri) +
                               "\", nonce=\"\", response=\"\", integrity-protected=\"auth-done\"");
    return true;
}

bool PcscfCore::carries_our_via(const sip::Message& m) const {
    for (std::string_view v : m.headers("Via")) {
        const auto via = sip::parse_via(v);
        if (!via) continue;
        sip::Uri as_uri;
        as_uri.host = via->host;
        as_uri.host_kind = via->host_kind;
        as_uri.port = via->port;
        if (local_.face(as_uri) != Face::None) return true;
    }
    return false;
}

void PcscfCore::w2_request(sip::Message& m, sip::TransactionId txn, const Peer& from) {
    // 16.3 step 4 (loop detection), reduced to what W2 allows: a browser is
    // never downstream of us, so a request from it that carries our Via has
    // been round a loop. (Spirals through the IMS arrive on Mw, not here.)
    if (carries_our_via(m)) return refuse(txn, m, Refusal::Loop, "Loop Detected", Side::W2);
    if (m.method == "REGISTER") return w2_register(m, txn, from);
    if (!registrar_.registered(from.flow, now_)) {
        return refuse(txn, m, Refusal::NotRegistered, "Forbidden (not registered)", Side::W2);
    }
    // The same test admission made (admission.hpp): a To tag.
    if (in_dialog(m)) {
        w2_in_dialog(m, txn, from);
    } else {
        w2_initial(m, txn, from);
    }
}

void PcscfCore::w2_register(sip::Message& m, sip::TransactionId txn, const Peer& from) {
    Context ctx;
    ctx.server = txn;
    ctx.from = Side::W2;
    ctx.w2_flow = from.flow;
    ctx.registration = true;
    ctx.reply_base = sip::make_response_to(m, 500, "Server Internal Error");
    ctx.aor = sip::to_string(sip::parse_name_addr(*m.header("To"))->uri);
    const auto bearer = bearer_token(m);
    const Registration* known = registrar_.find(from.flow, ctx.aor);
    if (bearer || (known != nullptr && known->web_authenticated)) {
        if (!web_authentication(m, txn, from, ctx)) return;
        ctx.web_authenticated = true;
    } else {
        strip_integrity_protected(m);  // the browser's own claim counts for nothing
    }

    // The contacts to bind; a removal (Contact: *, or every expiry 0)
    // needs no room.
    bool removal = true;
    for (std::string_view v : m.headers("Contact")) {
        ctx.binds = true;
        if (sip::is_star(v)) continue;
        auto na = sip::parse_name_addr(v);  // validated
        if (asked_expiry(*na, m).value_or(1) != 0) removal = false;
        ctx.contacts.push_back(std::move(na->uri));
    }
    if (ctx.binds && !removal && registrar_.find(from.flow, ctx.aor) == nullptr) {
        if (!registrar_.has_room(from.flow, reserved_registrations_)) {
            return refuse(txn, m, Refusal::RegistrationsFull, "Service Unavailable", Side::W2);
        }
        ctx.reserves_registration = true;
        ++reserved_registrations_;
    }

    decrement_max_forwards(m);
    // TS 24.229 5.2.2.1: the P-CSCF picks the I-CSCF; a UE's Route and Path
    // (it is no proxy) do not go on.
    m.remove("Route");
    m.remove("Path");
    remove_untrusted_from_ue(m);
    // RFC 3327, RFC 5626 5.2: requests for this registration come back
    // through us, naming the flow.
    put_field(m, "Path", local_.path(tokens_.make(from.flow)));
    if (!has_option_tag(m, "Supported", "path")) put_field(m, "Supported", "path");
    put_field(m, "P-Visited-Network-ID", visited_network_value(config_.visited_network_id));
    put_field(m, "P-Charging-Vector",
              charging_vector(make_icid(random(), ++counter_), config_.orig_ioi));
    const Peer hop = mw_next_hop(m);
    forward(std::move(m), std::move(ctx), hop, Side::Mw);
}

void PcscfCore::w2_initial(sip::Message& m, sip::TransactionId txn, const Peer& from) {
    // TS 24.229 5.2.6.3.1: P-Asserted-Identity from the registered set.
    const auto asserted = registrar_.assert_identity(from.flow, preferred_identities(m), now_);
    if (!asserted) {
        return refuse(txn, m, Refusal::NotRegistered, "Forbidden (not registered)", Side::W2);
    }
    if (!alg_request(m, txn, Side::W2, from.flow)) return;
    Context ctx;
    ctx.server = txn;
    ctx.from = Side::W2;
    ctx.w2_flow = from.flow;
    ctx.invite = m.method == "INVITE";
    ctx.reply_base = sip::make_response_to(m, 500, "Server Internal Error");
    if (ctx.invite) {
        // Until its final response (release()): max_invites_in_setup.
        ctx.in_setup = true;
        ++invites_in_setup_;
    }

    decrement_max_forwards(m);
    remove_untrusted_from_ue(m);
    // TS 24.229 5.2.6.3.2 (5.2.6.3.3 for standalone requests): the
    // Service-Route of the registration is the route set, whatever the
    // browser put there.
    m.remove("Route");
    for (const std::string& route : asserted->registration->service_route)
        put_field(m, "Route", route);
    put_field(m, "P-Asserted-Identity", asserted_identity_value(*asserted->identity));
    put_field(m, "P-Visited-Network-ID", visited_network_value(config_.visited_network_id));
    put_field(m, "P-Charging-Vector",
              charging_vector(make_icid(random(), ++counter_), config_.orig_ioi));
    // RFC 5658 double Record-Route. The callee's route set starts at its
    // side of us (Mw); the browser's (reversed) at ours on W2, whose URI
    // carries the flow token: an in-dialog request from the IMS pops the Mw
    // entry and finds the flow in the next one.
    put_first(m, "Record-Route", local_.w2_record_route(tokens_.make(from.flow)));
    put_first(m, "Record-Route", local_.mw_record_route());
    const Peer hop = mw_next_hop(m);
    forward(std::move(m), std::move(ctx), hop, Side::Mw);
}

void PcscfCore::w2_in_dialog(sip::Message& m, sip::TransactionId txn, const Peer& from) {
    if (!alg_request(m, txn, Side::W2, from.flow)) return;
    Context ctx;
    ctx.server = txn;
    ctx.from = Side::W2;
    ctx.w2_flow = from.flow;
    ctx.invite = m.method == "INVITE";
    ctx.reply_base = sip::make_response_to(m, 500, "Server Internal Error");
    decrement_max_forwards(m);
    remove_untrusted_from_ue(m);
    pop_own_routes(m);  // our W2 and Mw Record-Route entries (16.4)
    const Peer hop = mw_next_hop(m);
    forward(std::move(m), std::move(ctx), hop, Side::Mw);
}

void PcscfCore::w2_ack(sip::Message& m, const Peer& from) {
    if (!registrar_.registered(from.flow, now_) || !decrement_max_forwards(m)) {
        return drop(Drop::AckUnroutable);
    }
    remove_untrusted_from_ue(m);
    pop_own_routes(m);
    alg_request(m, {}, Side::W2, from.flow);  // an answer in an ACK
    const Peer hop = mw_next_hop(m);
    forward_stateless(std::move(m), hop, Side::Mw);
}

}  // namespace isthmus::pcscf
