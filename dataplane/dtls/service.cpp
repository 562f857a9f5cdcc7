#include "dtls/service.hpp"

#include "dtls/record.hpp"

namespace isthmus::dtls {

Service::Service(Context& ctx, ServiceLimits limits) : ctx_(ctx), limits_(limits) {}

Service::Leg* Service::find(const LegRef& ref) {
    auto it = legs_.find(key_of(ref));
    if (it == legs_.end() || !(it->second.ref == ref)) {
        ++counters_.unknown_leg;
        return nullptr;
    }
    return &it->second;
}

void Service::open(const OpenParams& p) {
    const Key k = key_of(p.leg);
    auto it = legs_.find(k);
    bool listed = false;
    if (it != legs_.end()) {
        finish(it->second);
        listed = it->second.in_timers;  // still in timers_: not listed twice
    }
    Leg& leg = legs_[k];
    leg = Leg{};
    leg.in_timers = listed;
    leg.ref = p.leg;
    leg.generation = p.generation;
    leg.role = p.role;
    leg.remote = p.remote;
    leg.app_data = p.app_data;
    leg.srtp = p.srtp;
}

void Service::withdraw(const Leg& leg) {
    KeyDelivery kd;
    kd.leg = leg.ref;
    kd.install = false;
    keys_.push_back(std::move(kd));
}

void Service::finish(Leg& leg) {
    if (leg.handshaking) {
        leg.handshaking = false;
        --handshaking_;
    }
}

void Service::set_generation(const LegRef& ref, uint64_t generation) {
    if (Leg* leg = find(ref)) leg->generation = generation;
}

bool Service::set_modes(const LegRef& ref, bool srtp, bool app_data) {
    Leg* leg = find(ref);
    if (leg == nullptr) return false;
    leg->srtp = srtp;
    leg->app_data = app_data;
    if (!srtp || leg->keys_delivered || !leg->up || leg->ended || !leg->assoc) return true;
    KeyDelivery kd;
    kd.leg = leg->ref;
    kd.install = leg->assoc->export_keys(kd.keys);
    if (kd.install) {
        keys_.push_back(std::move(kd));
        leg->keys_delivered = true;
    }
    return true;
}

bool Service::is_up(const LegRef& ref) const {
    const auto it = legs_.find(key_of(ref));
    return it != legs_.end() && it->second.ref == ref && it->second.up && !it->second.ended;
}

void Service::close(const LegRef& ref) {
    auto it = legs_.find(key_of(ref));
    if (it == legs_.end() || !(it->second.ref == ref)) return;
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
    try {
        leg.assoc =
            std::make_unique<Association>(ctx_, leg.role, leg.remote, leg.srtp && !leg.app_data);
    } catch (const std::exception&) {
        // Out of memory (OpenSSL's or ours): this ClientHello is lost, the
        // browser retransmits; nothing else is touched.
        ++counters_.handshakes_nomem;
        return false;
    }
    leg.started_ns = now_ns;
    leg.handshaking = true;
    ++handshaking_;
    if (!leg.in_timers) {
        timers_.push_back(key_of(leg.ref));
        leg.in_timers = true;
    }
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
            // A data channel's leg alone relays no SRTP: its keys (if the
            // peer negotiated a profile) are wiped here, never handed out.
            if (kd.install && leg.srtp) {
                keys_.push_back(std::move(kd));
                leg.keys_delivered = true;
            }
            ++counters_.handshakes_up;
            // A data channel's association may have no SRTP profile.
            events_.push_back({ServiceEvent::Kind::Up, leg.ref, leg.generation,
                               a.profile() ? std::string(a.profile()->name) : "no SRTP"});
            leg.up = true;
            finish(leg);
            return;
        }
        case State::Failed:
        case State::Closed: {
            // Either way the worker hears of it: keys withdrawn, early
            // media no longer held for this association.
            withdraw(leg);
            if (leg.up) {
                ++counters_.closed_by_peer;
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
            // so that its later datagrams are ignored, not a new handshake;
            // its SSL object (tens of KB) goes now.
            leg.ended = true;
            leg.assoc.reset();
            return;
        }
    }
}

void Service::set_path(const LegRef& ref, const pkt::UdpEgress& path, uint64_t now_ns) {
    Leg* leg = find(ref);
    if (leg == nullptr) return;
    leg->path = path;
    leg->has_path = true;
    if (leg->role != Role::Active || leg->assoc || leg->ended) return;
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
            for (auto& d : leg->assoc->app_data()) {
                ++counters_.app_data;
                if (leg->app_data) {
                    app_in_.push_back({leg->ref, std::move(d)});
                } else {
                    ++counters_.app_data_dropped;
                }
            }
            break;
        case Input::Handshake:
        case Input::Ignored:
            break;
    }
    leg->assoc->app_data().clear();
    after(*leg);
}

bool Service::send_app_data(const LegRef& ref, std::span<const uint8_t> data) {
    Leg* leg = find(ref);
    if (leg == nullptr || leg->ended || !leg->up || !leg->has_path || !leg->assoc ||
        !leg->assoc->write_app_data(data)) {
        ++counters_.app_data_refused;
        return false;
    }
    ++counters_.app_data_out;
    after(*leg);
    return true;
}

void Service::poll_timers(uint64_t now_ns) {
    std::size_t w = 0;
    for (std::size_t r = 0; r < timers_.size(); ++r) {
        auto it = legs_.find(timers_[r]);
        if (it == legs_.end()) continue;  // closed: dropped from the list
        Leg& leg = it->second;
        if (leg.handshaking && now_ns - leg.started_ns > limits_.handshake_timeout_ns) {
            ++counters_.handshakes_failed;
            ++counters_.handshake_timeouts;
            events_.push_back(
                {ServiceEvent::Kind::Failed, leg.ref, leg.generation, "handshake timeout"});
            leg.ended = true;
            finish(leg);
            leg.assoc.reset();  // no close_notify for an unfinished handshake
            withdraw(leg);
        } else if (leg.handshaking) {
            const auto due = leg.assoc->timeout_us();
            if (due.has_value() && *due == 0) {
                leg.assoc->on_timer();
                after(leg);
            }
        }
        if (leg.handshaking)
            timers_[w++] = timers_[r];
        else
            leg.in_timers = false;
    }
    timers_.resize(w);
}

}  // namespace isthmus::dtls
