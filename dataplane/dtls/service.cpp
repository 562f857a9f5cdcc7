#include "dtls/service.hpp"

#include "dtls/record.hpp"

namespace isthmus::dtls {

Service::Service(Context& ctx, ServiceLimits limits) : ctx_(ctx), limits_(limits) {}

Service::Leg* Service::find(const LegRef& ref) {
    auto it = legs_.find(key_of(ref.session_id, ref.side));
    if (it == legs_.end() || it->second.ref.serial != ref.serial) {
        ++counters_.unknown_leg;
        return nullptr;
    }
    return &it->second;
}

void Service::open(const OpenParams& p) {
    const uint64_t k = key_of(p.leg.session_id, p.leg.side);
    auto it = legs_.find(k);
    if (it != legs_.end()) finish(it->second);
    Leg& leg = legs_[k];
    leg = Leg{};
    leg.ref = p.leg;
    leg.generation = p.generation;
    leg.role = p.role;
    leg.remote = p.remote;
}

void Service::finish(Leg& leg) {
    if (leg.handshaking) {
        leg.handshaking = false;
        --handshaking_;
    }
}

void Service::close(const LegRef& ref) {
    auto it = legs_.find(key_of(ref.session_id, ref.side));
    if (it == legs_.end() || it->second.ref.serial != ref.serial) return;
    Leg& leg = it->second;
    if (leg.assoc && leg.assoc->state() == State::Up && leg.has_path) {
        leg.assoc->close();
        for (auto& d : leg.assoc->output()) {
            out_.push_back({leg.ref, leg.path, std::move(d)});
            ++counters_.datagrams_out;
        }
    }
    finish(leg);
    legs_.erase(it);
}

bool Service::begin(Leg& leg, uint64_t now_ns) {
    if (handshaking_ >= limits_.max_handshakes) {
        ++counters_.handshakes_busy;
        return false;
    }
    leg.assoc = std::make_unique<Association>(ctx_, leg.role, leg.remote);
    leg.started_ns = now_ns;
    leg.handshaking = true;
    ++handshaking_;
    timers_.push_back(key_of(leg.ref.session_id, leg.ref.side));
    ++counters_.handshakes_started;
    return true;
}

void Service::after(Leg& leg) {
    Association& a = *leg.assoc;
    for (auto& d : a.output()) {
        if (leg.has_path) {
            out_.push_back({leg.ref, leg.path, std::move(d)});
            ++counters_.datagrams_out;
        }
    }
    a.output().clear();
    if (leg.ended || (leg.up && a.state() == State::Up)) return;
    switch (a.state()) {
        case State::Handshaking:
            return;
        case State::Up: {
            KeyDelivery kd;
            kd.leg = leg.ref;
            kd.install = a.take_keys(kd.keys);
            if (kd.install) keys_.push_back(std::move(kd));
            ++counters_.handshakes_up;
            events_.push_back(
                {ServiceEvent::Kind::Up, leg.ref, leg.generation, std::string(a.profile()->name)});
            leg.up = true;
            finish(leg);
            return;
        }
        case State::Failed:
        case State::Closed: {
            if (leg.up) {
                ++counters_.closed_by_peer;
                KeyDelivery kd;
                kd.leg = leg.ref;
                kd.install = false;
                keys_.push_back(std::move(kd));
                events_.push_back(
                    {ServiceEvent::Kind::Failed, leg.ref, leg.generation, "closed: " + a.reason()});
            } else {
                ++counters_.handshakes_failed;
                if (a.reason() == "fingerprint mismatch") ++counters_.fingerprint_mismatch;
                if (a.reason().find("timeout") != std::string::npos) ++counters_.handshake_timeouts;
                events_.push_back(
                    {ServiceEvent::Kind::Failed, leg.ref, leg.generation, a.reason()});
            }
            finish(leg);
            // The leg stays (dead) until the worker closes or re-opens it,
            // so that its later datagrams are ignored, not a new handshake.
            leg.ended = true;
            return;
        }
    }
}

void Service::set_path(const LegRef& ref, const pkt::UdpEgress& path, uint64_t now_ns) {
    Leg* leg = find(ref);
    if (leg == nullptr) return;
    leg->path = path;
    leg->has_path = true;
    if (leg->role != Role::Active || leg->assoc) return;
    if (!begin(*leg, now_ns)) return;
    leg->assoc->start();
    after(*leg);
}

void Service::on_datagram(const LegRef& ref, const pkt::UdpEgress& path,
                          std::span<const uint8_t> datagram, uint64_t now_ns) {
    ++counters_.datagrams_in;
    Leg* leg = find(ref);
    if (leg == nullptr || leg->ended) return;
    leg->path = path;
    leg->has_path = true;
    if (!leg->assoc) {
        // Passive: a ClientHello starts it. Active: the path starts it; a
        // datagram before that (a browser that is active too: a=setup
        // conflict) still does, and fails as OpenSSL sees fit.
        if (leg->role == Role::Passive && !is_client_hello(datagram)) return;
        if (!begin(*leg, now_ns)) return;
        if (leg->role == Role::Active) leg->assoc->start();
    }
    switch (leg->assoc->on_datagram(datagram)) {
        case Input::Refused:
            ++counters_.second_handshakes;
            break;
        case Input::AppData:
            ++counters_.app_data;
            break;
        case Input::Handshake:
        case Input::Ignored:
            break;
    }
    after(*leg);
}

void Service::poll_timers(uint64_t now_ns) {
    std::size_t w = 0;
    for (std::size_t r = 0; r < timers_.size(); ++r) {
        auto it = legs_.find(timers_[r]);
        if (it == legs_.end() || !it->second.handshaking) continue;  // dropped from the list
        Leg& leg = it->second;
        if (now_ns - leg.started_ns > limits_.handshake_timeout_ns) {
            leg.assoc->close();  // no close_notify is sent for an unfinished handshake
            leg.assoc->output().clear();
            ++counters_.handshakes_failed;
            ++counters_.handshake_timeouts;
            events_.push_back(
                {ServiceEvent::Kind::Failed, leg.ref, leg.generation, "handshake timeout"});
            leg.ended = true;
            finish(leg);
            continue;
        }
        const auto due = leg.assoc->timeout_us();
        if (due.has_value() && *due == 0) {
            leg.assoc->on_timer();
            after(leg);
        }
        if (leg.handshaking) timers_[w++] = timers_[r];
    }
    timers_.resize(w);
}

}  // namespace isthmus::dtls
