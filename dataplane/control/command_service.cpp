#include "control/command_service.hpp"

#include <cstdio>
#include <string>

#include "msrp/spec.hpp"

namespace isthmus::dataplane {

using dpif::MsgType;
using dpif::ResultCode;

CommandService::CommandService(uint16_t workers) : workers_(workers == 0 ? 1 : workers) {}

Routed CommandService::handle(const dpif::Command& cmd) {
    Routed r;
    dpif::Event& ev = r.reply;
    ev.hdr = cmd.hdr;
    ev.hdr.version = dpif::kAbiVersion;
    ev.hdr.type = MsgType::Result;
    ev.hdr.reserved = static_cast<uint32_t>(cmd.hdr.type);
    ev.result = ResultCode::Ok;
    const auto refuse = [&r](ResultCode code, const std::string& why) {
        r.to = Routed::To::Reply;
        r.reply.result = code;
        std::snprintf(r.reply.detail, sizeof r.reply.detail, "%s", why.c_str());
        return r;
    };
    const auto to_worker = [&r](uint16_t w) {
        r.to = Routed::To::Worker;
        r.worker = w;
        return r;
    };
    if (cmd.hdr.version != dpif::kAbiVersion) {
        return refuse(ResultCode::BadVersion, "ABI version differs");
    }
    if (cmd.hdr.type == MsgType::ResyncBegin) {
        if (cmd.hdr.generation <= generation_) {
            return refuse(ResultCode::StaleGeneration, "generation not newer than the current one");
        }
        generation_ = cmd.hdr.generation;
        resyncing_ = true;
        return r;
    }
    if (cmd.hdr.generation < generation_) {
        return refuse(ResultCode::StaleGeneration, "command of an older control-plane generation");
    }
    const uint64_t id = cmd.hdr.session_id;
    const auto it = owner_.find(id);
    switch (cmd.hdr.type) {
        case MsgType::Ping:
            ev.hdr.type = MsgType::Pong;
            return r;
        case MsgType::ResyncEnd:
            if (!resyncing_ || cmd.hdr.generation != generation_) {
                return refuse(ResultCode::BadParams, "no resync of this generation is open");
            }
            resyncing_ = false;
            r.release_older = generation_;
            {
                MsrpOp op;
                op.kind = MsrpOp::Kind::ReleaseOlder;
                op.generation = generation_;
                msrp_ops_.push_back(op);
                // Commands of older generations whose Results never came.
                awaiting_msrp_.erase(awaiting_msrp_.begin(),
                                     awaiting_msrp_.lower_bound({generation_, 0}));
            }
            return r;
        case MsgType::SessionCreate: {
            if (id == 0) return refuse(ResultCode::BadParams, "session id 0 is reserved");
            uint16_t w = 0;
            std::string why;
            if (!one_owner(cmd, w, why)) return refuse(ResultCode::BadParams, why);
            // Adoption only inside a resync (ResyncBegin .. ResyncEnd).
            if (it != owner_.end() && (!resyncing_ || cmd.hdr.generation != generation_ ||
                                       cmd.hdr.generation <= it->second.generation)) {
                return refuse(ResultCode::Exists, "session " + std::to_string(id) + " exists");
            }
            if (it != owner_.end()) {
                if (w != it->second.worker) {
                    return refuse(ResultCode::BadParams,
                                  "an adopted session cannot move to another worker");
                }
                if (!msrp_op_of(cmd, why)) return refuse(ResultCode::BadParams, why);
                // Adoption (resync): the worker applies it as an update.
                it->second =
                    Owned{w, cmd.hdr.generation, cmd.hdr.seq, false, true, it->second.generation};
                return to_worker(w);
            }
            if (!msrp_op_of(cmd, why)) return refuse(ResultCode::BadParams, why);
            owner_.emplace(id, Owned{w, cmd.hdr.generation, cmd.hdr.seq, false, false, 0});
            return to_worker(w);
        }
        case MsgType::SessionUpdate: {
            if (it == owner_.end()) {
                return refuse(ResultCode::NotFound, "no session " + std::to_string(id));
            }
            uint16_t w = 0;
            std::string why;
            if (!one_owner(cmd, w, why)) return refuse(ResultCode::BadParams, why);
            if (w != it->second.worker) {
                return refuse(ResultCode::BadParams,
                              "the new local ports belong to another worker (port / 2 mod " +
                                  std::to_string(workers_) + ")");
            }
            if (!msrp_op_of(cmd, why)) return refuse(ResultCode::BadParams, why);
            return to_worker(w);
        }
        case MsgType::SessionDelete: {
            if (it == owner_.end()) {
                return refuse(ResultCode::NotFound, "no session " + std::to_string(id));
            }
            const uint16_t w = it->second.worker;
            owner_.erase(it);
            if (with_msrp_.erase(id) != 0) {
                MsrpOp op;
                op.kind = MsrpOp::Kind::Clear;
                op.session_id = id;
                op.generation = cmd.hdr.generation;
                msrp_ops_.push_back(op);
            }
            return to_worker(w);
        }
        case MsgType::SessionQuery:
            if (id == 0) {
                open_queries_[{cmd.hdr.generation, cmd.hdr.seq}] = workers_;
                r.to = Routed::To::AllWorkers;
                return r;
            }
            if (it == owner_.end()) {
                return refuse(ResultCode::NotFound, "no session " + std::to_string(id));
            }
            return to_worker(it->second.worker);
        default:
            return refuse(ResultCode::BadType, "not a command");
    }
}

bool CommandService::msrp_op_of(const dpif::Command& cmd, std::string& why) {
    MsrpOp op;
    op.session_id = cmd.hdr.session_id;
    op.generation = cmd.hdr.generation;
    if (cmd.msrp.setup == dpif::kMsrpNone) {
        if (with_msrp_.count(cmd.hdr.session_id) == 0) return true;  // nothing to clear
        op.kind = MsrpOp::Kind::Clear;
    } else {
        if (!dpif::carries_sctp(cmd.access.security)) {
            why =
                "msrp: only on a data channel's session (access security DtlsSctp or "
                "DtlsSrtpSctp)";
            return false;
        }
        if (!msrp::chat_legs(cmd.msrp, cmd.access.local, &why)) return false;
        op.kind = MsrpOp::Kind::Set;
        op.access_local = cmd.access.local;
        op.spec = cmd.msrp;
    }
    awaiting_msrp_[{cmd.hdr.generation, cmd.hdr.seq}] = op;
    return true;
}

bool CommandService::one_owner(const dpif::Command& cmd, uint16_t& worker, std::string& why) const {
    // A bundled m= line that is not its transport has no access endpoint
    // of its own (dpif BundleSpec): its core port names the worker, which
    // must be its transport's (the worker's table checks that).
    const bool member = cmd.bundle.transport != 0 && cmd.bundle.transport != cmd.hdr.session_id &&
                        cmd.access.local.family == 0;
    const dpif::IpEndpoint& first = member ? cmd.core.local : cmd.access.local;
    worker = owner_of(first.port, workers_);
    for (const dpif::IpEndpoint* e :
         {&cmd.core.local, &cmd.core.local_rtcp, &cmd.access.local_rtcp}) {
        if (e->family != 0 && owner_of(e->port, workers_) != worker) {
            why = "local port " + std::to_string(e->port) + " belongs to another worker than " +
                  (member ? "core.local" : "access.local");
            return false;
        }
    }
    return true;
}

bool CommandService::on_worker_event(const dpif::Event& ev) {
    if (ev.hdr.type == MsgType::SessionInfo && ev.result == ResultCode::StaleGeneration) {
        // Released by ResyncEnd (the event carries the session's own
        // generation); unless an adoption moved the id on since.
        const auto it = owner_.find(ev.hdr.session_id);
        if (it != owner_.end() && it->second.generation <= ev.hdr.generation) {
            owner_.erase(it);
            with_msrp_.erase(ev.hdr.session_id);  // ReleaseOlder dropped its spec
        }
        return true;
    }
    if (ev.hdr.type != MsgType::Result) return true;
    const auto of = static_cast<MsgType>(ev.hdr.reserved);
    if (of == MsgType::SessionCreate || of == MsgType::SessionUpdate) {
        // The chat follows the session: its spec only if the worker took it.
        const auto a = awaiting_msrp_.find({ev.hdr.generation, ev.hdr.seq});
        if (a != awaiting_msrp_.end()) {
            if (ev.result == ResultCode::Ok) {
                if (a->second.kind == MsrpOp::Kind::Set)
                    with_msrp_.insert(ev.hdr.session_id);
                else
                    with_msrp_.erase(ev.hdr.session_id);
                msrp_ops_.push_back(a->second);
            }
            awaiting_msrp_.erase(a);
        }
    }
    if (of == MsgType::SessionCreate) {
        const auto it = owner_.find(ev.hdr.session_id);
        // Only the answer to the create that made the entry may drop it
        // (not a late failure of an earlier create of a reused id).
        if (it != owner_.end() && !it->second.confirmed && it->second.create_seq == ev.hdr.seq &&
            it->second.generation == ev.hdr.generation) {
            if (ev.result == ResultCode::Ok) {
                it->second.confirmed = true;
            } else if (it->second.adopting) {
                it->second.generation = it->second.prev_generation;  // the old one lives on
                it->second.confirmed = true;
            } else {
                owner_.erase(it);
            }
        }
    }
    if (of == MsgType::SessionUpdate && ev.result == ResultCode::Ok) {
        // The table took the update's generation for the session: so do we,
        // or a resync would release it there and not here (found by the
        // dpif fuzz target: an update of an older generation).
        const auto it = owner_.find(ev.hdr.session_id);
        if (it != owner_.end()) it->second.generation = ev.hdr.generation;
    }
    if (of == MsgType::SessionQuery && ev.hdr.session_id == 0) {
        const auto q = open_queries_.find({ev.hdr.generation, ev.hdr.seq});
        if (q == open_queries_.end()) return true;
        if (--q->second != 0) return false;  // the last worker's Result closes the list
        open_queries_.erase(q);
    }
    return true;
}

}  // namespace isthmus::dataplane
