// The dataplane's command service: answers, ABI check, generations.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "control/command_service.hpp"
#include "msrp/spec.hpp"

namespace isthmus::dataplane {
namespace {

using dpif::Command;
using dpif::MsgType;
using dpif::ResultCode;

Command cmd(MsgType type, uint64_t generation, uint64_t seq = 1) {
    Command c{};
    c.hdr = {dpif::kAbiVersion, type, 0, seq, generation, 77};
    return c;
}

TEST(CommandService, PingIsAnsweredWithPongEchoingTheHeader) {
    CommandService s;
    const auto ev = s.handle(cmd(MsgType::Ping, 5, 42)).reply;
    EXPECT_EQ(ev.hdr.type, MsgType::Pong);
    EXPECT_EQ(ev.hdr.seq, 42U);
    EXPECT_EQ(ev.hdr.generation, 5U);
    EXPECT_EQ(ev.hdr.session_id, 77U);
    EXPECT_EQ(ev.result, ResultCode::Ok);
}

TEST(CommandService, OtherAbiVersionsAreRefused) {
    CommandService s;
    Command c = cmd(MsgType::Ping, 1);
    c.hdr.version = dpif::kAbiVersion + 1;
    const auto ev = s.handle(c).reply;
    EXPECT_EQ(ev.hdr.type, MsgType::Result);
    EXPECT_EQ(ev.result, ResultCode::BadVersion);
    EXPECT_EQ(std::string(ev.detail), "ABI version differs");
}

TEST(CommandService, ResyncOpensANewerGenerationAndFencesOlderOnes) {
    CommandService s;
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 10)).reply.result, ResultCode::Ok);
    EXPECT_EQ(s.generation(), 10U);
    EXPECT_TRUE(s.resyncing());
    // The predecessor (generation 9) is fenced off; a newer one is not.
    EXPECT_EQ(s.handle(cmd(MsgType::Ping, 9)).reply.result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::Ping, 10)).reply.result, ResultCode::Ok);
    // Closing: only the open generation's resync.
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 11)).reply.result, ResultCode::BadParams);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 10)).reply.result, ResultCode::Ok);
    EXPECT_FALSE(s.resyncing());
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 10)).reply.result, ResultCode::BadParams);
    // A generation must grow.
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 10)).reply.result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 3)).reply.result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 12)).reply.result, ResultCode::Ok);
    EXPECT_EQ(s.generation(), 12U);
}

TEST(CommandService, EventsAreNotCommands) {
    CommandService s;
    EXPECT_EQ(s.handle(cmd(MsgType::DtlsUp, 1)).reply.result, ResultCode::BadType);
    EXPECT_EQ(s.handle(cmd(static_cast<MsgType>(999), 1)).reply.result, ResultCode::BadType);
}

Command create(uint64_t id, uint16_t access_port, uint16_t core_port, uint64_t seq = 1) {
    Command c = cmd(MsgType::SessionCreate, 1, seq);
    c.hdr.session_id = id;
    c.access.local.family = 4;
    c.access.local.port = access_port;
    c.core.local.family = 4;
    c.core.local.port = core_port;
    c.core.local_rtcp.family = 4;
    c.core.local_rtcp.port = static_cast<uint16_t>(core_port + 1);
    return c;
}

TEST(CommandService, SessionsGoToTheWorkerTheirLocalPortsName) {
    CommandService s(4);
    // (port / 2) mod 4: 40002 -> 1, 50002/50003 -> 1
    Routed r = s.handle(create(7, 40002, 50002));
    ASSERT_EQ(r.to, Routed::To::Worker);
    EXPECT_EQ(r.worker, 1U);
    EXPECT_EQ(s.sessions(), 1U);
    // A second create of the id is refused here, without bothering a worker.
    r = s.handle(create(7, 40010, 50010));
    EXPECT_EQ(r.to, Routed::To::Reply);
    EXPECT_EQ(r.reply.result, ResultCode::Exists);
    // Core ports of another worker than the access port: refused.
    r = s.handle(create(8, 40002, 50004));
    EXPECT_EQ(r.reply.result, ResultCode::BadParams);
    EXPECT_NE(std::string(r.reply.detail).find("50004"), std::string::npos);
    // Update, query and delete find the owner; unknown ids are NotFound.
    Command u = create(7, 40002, 50002);
    for (MsgType t : {MsgType::SessionUpdate, MsgType::SessionQuery, MsgType::SessionDelete}) {
        u.hdr.type = t;
        r = s.handle(u);
        EXPECT_EQ(r.to, Routed::To::Worker);
        EXPECT_EQ(r.worker, 1U);
    }
    EXPECT_EQ(s.sessions(), 0U);  // deleted
    u.hdr.type = MsgType::SessionDelete;
    EXPECT_EQ(s.handle(u).reply.result, ResultCode::NotFound);
    EXPECT_EQ(s.handle(create(0, 40002, 50002)).reply.result, ResultCode::BadParams);
}

TEST(CommandService, AFailedCreateForgetsTheIdAndQueriesOfAllMergeTheirResults) {
    CommandService s(2);
    const Routed r = s.handle(create(9, 40000, 50000, 5));
    ASSERT_EQ(r.to, Routed::To::Worker);
    dpif::Event fail = r.reply;  // the worker's answer: header echoed
    fail.result = ResultCode::PortInUse;
    EXPECT_TRUE(s.on_worker_event(fail));
    EXPECT_EQ(s.sessions(), 0U);

    Command q = cmd(MsgType::SessionQuery, 1, 6);
    q.hdr.session_id = 0;
    const Routed all = s.handle(q);
    ASSERT_EQ(all.to, Routed::To::AllWorkers);
    dpif::Event info{};
    info.hdr = q.hdr;
    info.hdr.type = MsgType::SessionInfo;
    EXPECT_TRUE(s.on_worker_event(info));
    EXPECT_FALSE(s.on_worker_event(all.reply));  // worker 0 done: held back
    EXPECT_TRUE(s.on_worker_event(all.reply));   // worker 1 done: the one Result
}

TEST(CommandService, ResyncEndReleasesOlderGenerationsInEveryWorker) {
    CommandService s(2);
    ASSERT_EQ(s.handle(create(1, 40000, 50000)).to, Routed::To::Worker);
    ASSERT_EQ(s.handle(cmd(MsgType::ResyncBegin, 5)).reply.result, ResultCode::Ok);
    const Routed r = s.handle(cmd(MsgType::ResyncEnd, 5));
    EXPECT_EQ(r.reply.result, ResultCode::Ok);
    EXPECT_EQ(r.release_older, 5U);
    dpif::Event released{};
    released.hdr.type = MsgType::SessionInfo;
    released.hdr.session_id = 1;
    released.hdr.generation = 1;  // the released session's own generation
    released.result = ResultCode::StaleGeneration;
    EXPECT_TRUE(s.on_worker_event(released));
    EXPECT_EQ(s.sessions(), 0U);
}

TEST(CommandService, ARestartedControlPlaneAdoptsItsLiveSessions) {
    CommandService s(2);
    ASSERT_EQ(s.handle(create(1, 40000, 50000)).to, Routed::To::Worker);
    // Generation 1 again: the id is live.
    EXPECT_EQ(s.handle(create(1, 40000, 50000)).reply.result, ResultCode::Exists);
    ASSERT_EQ(s.handle(cmd(MsgType::ResyncBegin, 7)).reply.result, ResultCode::Ok);
    Command again = create(1, 40000, 50000, 3);
    again.hdr.generation = 7;
    Routed r = s.handle(again);  // adoption: to the owner, which updates it
    ASSERT_EQ(r.to, Routed::To::Worker);
    EXPECT_EQ(r.worker, 0U);
    // The adoption fails in the worker: the old session is still the one.
    dpif::Event fail = r.reply;
    fail.result = ResultCode::PortInUse;
    EXPECT_TRUE(s.on_worker_event(fail));
    EXPECT_EQ(s.sessions(), 1U);
    // ...so ResyncEnd's release of it (generation 1) forgets the id.
    dpif::Event released{};
    released.hdr.type = MsgType::SessionInfo;
    released.hdr.session_id = 1;
    released.hdr.generation = 1;
    released.result = ResultCode::StaleGeneration;
    EXPECT_TRUE(s.on_worker_event(released));
    EXPECT_EQ(s.sessions(), 0U);
    // An adoption onto another worker is refused.
    Command two = create(2, 40000, 50000);
    two.hdr.generation = 7;
    ASSERT_EQ(s.handle(two).to, Routed::To::Worker);
    ASSERT_EQ(s.handle(cmd(MsgType::ResyncBegin, 8)).reply.result, ResultCode::Ok);
    Command moved = create(2, 40002, 50002);
    moved.hdr.generation = 8;
    EXPECT_EQ(s.handle(moved).reply.result, ResultCode::BadParams);
}

TEST(CommandService, OnlyTheAnswerToTheCreateThatMadeAnEntryDropsIt) {
    CommandService s(1);
    const Routed first = s.handle(create(5, 40000, 50000, 10));
    Command del = create(5, 40000, 50000, 11);
    del.hdr.type = MsgType::SessionDelete;
    ASSERT_EQ(s.handle(del).to, Routed::To::Worker);
    ASSERT_EQ(s.handle(create(5, 40000, 50000, 12)).to, Routed::To::Worker);
    dpif::Event late = first.reply;  // the first create's late failure
    late.result = ResultCode::PortInUse;
    EXPECT_TRUE(s.on_worker_event(late));
    EXPECT_EQ(s.sessions(), 1U);  // the second create's entry stays
}

TEST(CommandService, UpdatesMayNotMoveASessionToAnotherWorker) {
    CommandService s(2);
    ASSERT_EQ(s.handle(create(1, 40000, 50000)).to, Routed::To::Worker);
    Command u = create(1, 40002, 50002);
    u.hdr.type = MsgType::SessionUpdate;
    const Routed r = s.handle(u);
    EXPECT_EQ(r.to, Routed::To::Reply);
    EXPECT_EQ(r.reply.result, ResultCode::BadParams);
    u = create(1, 40004, 50004);  // (port / 2) mod 2 == 0: same worker
    u.hdr.type = MsgType::SessionUpdate;
    EXPECT_EQ(s.handle(u).to, Routed::To::Worker);
}

// A data channel's session with its MSRP chat (issue 9).
Command chat_create(uint64_t id, uint64_t seq, uint64_t generation = 1) {
    Command c = cmd(MsgType::SessionCreate, generation, seq);
    c.hdr.session_id = id;
    c.access.local.family = 4;
    c.access.local.port = 40000;
    const uint8_t a[4] = {198, 18, 0, 2};
    std::memcpy(c.access.local.addr, a, 4);
    c.access.security = dpif::LegSecurity::DtlsSctp;
    c.msrp.setup = dpif::kMsrpPassive;
    c.msrp.tcp_local = c.access.local;
    c.msrp.tcp_local.port = 2855;
    c.msrp.channel_id = dpif::kMsrpAnyChannel;
    msrp::set_spec_text(c.msrp.session_id, sizeof c.msrp.session_id, "gw" + std::to_string(id));
    msrp::set_spec_text(c.msrp.browser_path, sizeof c.msrp.browser_path,
                        "msrp://x.invalid:9/b1;dc");
    msrp::set_spec_text(c.msrp.ue_path, sizeof c.msrp.ue_path, "msrp://198.18.1.1:2855/u1;tcp");
    return c;
}

dpif::Event answer(const Routed& r, ResultCode code = ResultCode::Ok) {
    dpif::Event ev = r.reply;  // the worker's answer echoes the header
    ev.result = code;
    return ev;
}

TEST(CommandService, ChatSpecsReachTheSlowPathOnlyForSessionsTheWorkerTook) {
    CommandService s(1);
    // Set only once the worker took the create; in order with the rest.
    const Routed r = s.handle(chat_create(5, 1));
    ASSERT_EQ(r.to, Routed::To::Worker);
    EXPECT_FALSE(s.has_msrp_ops());
    s.on_worker_event(answer(r));
    std::vector<MsrpOp> ops = s.take_msrp_ops();
    ASSERT_EQ(ops.size(), 1U);
    EXPECT_EQ(ops[0].kind, MsrpOp::Kind::Set);
    EXPECT_EQ(ops[0].session_id, 5U);
    EXPECT_EQ(ops[0].access_local.port, 40000);
    const Command sent = chat_create(5, 1);
    EXPECT_EQ(std::memcmp(&ops[0].spec, &sent.msrp, sizeof ops[0].spec), 0);
    EXPECT_TRUE(s.take_msrp_ops().empty());

    // A create the worker refused makes no spec.
    const Routed refused = s.handle(chat_create(6, 2));
    s.on_worker_event(answer(refused, ResultCode::PortInUse));
    EXPECT_FALSE(s.has_msrp_ops());

    // An update without a chat clears it; an update of a session that never
    // had one makes no op at all; media sessions make none either.
    Command u = chat_create(5, 3);
    u.hdr.type = MsgType::SessionUpdate;
    u.msrp = dpif::MsrpSpec{};
    s.on_worker_event(answer(s.handle(u)));
    ops = s.take_msrp_ops();
    ASSERT_EQ(ops.size(), 1U);
    EXPECT_EQ(ops[0].kind, MsrpOp::Kind::Clear);
    u.hdr.seq = 4;
    s.on_worker_event(answer(s.handle(u)));
    EXPECT_FALSE(s.has_msrp_ops());
    s.on_worker_event(answer(s.handle(create(9, 40010, 50010, 5))));
    EXPECT_FALSE(s.has_msrp_ops());

    // A delete clears a chat at once (the worker's answer is not needed).
    const Routed again = s.handle([] {
        Command c = chat_create(5, 6);
        c.hdr.type = MsgType::SessionUpdate;
        return c;
    }());
    s.on_worker_event(answer(again));
    ASSERT_EQ(s.take_msrp_ops().size(), 1U);
    Command d = cmd(MsgType::SessionDelete, 1, 7);
    d.hdr.session_id = 5;
    ASSERT_EQ(s.handle(d).to, Routed::To::Worker);
    ops = s.take_msrp_ops();
    ASSERT_EQ(ops.size(), 1U);
    EXPECT_EQ(ops[0].kind, MsrpOp::Kind::Clear);
    EXPECT_EQ(ops[0].session_id, 5U);
}

TEST(CommandService, BadChatSpecsAreRefusedBeforeAnyWorker) {
    CommandService s(1);
    Command c = chat_create(5, 1);
    c.access.security = dpif::LegSecurity::DtlsSrtp;  // a media leg has no chat
    Routed r = s.handle(c);
    EXPECT_EQ(r.reply.result, ResultCode::BadParams);
    EXPECT_NE(std::string(r.reply.detail).find("msrp"), std::string::npos);
    c = chat_create(5, 2);
    msrp::set_spec_text(c.msrp.ue_path, sizeof c.msrp.ue_path, "not a path");
    r = s.handle(c);
    EXPECT_EQ(r.reply.result, ResultCode::BadParams);
    EXPECT_NE(std::string(r.reply.detail).find("msrp.ue_path"), std::string::npos);
    EXPECT_EQ(s.sessions(), 0U);
    // A good one goes to the worker; a bad update of it is refused and the
    // chat stays as it was (no op).
    s.on_worker_event(answer(s.handle(chat_create(5, 3))));
    s.take_msrp_ops();
    Command u = chat_create(5, 4);
    u.hdr.type = MsgType::SessionUpdate;
    u.msrp.setup = 7;
    EXPECT_EQ(s.handle(u).reply.result, ResultCode::BadParams);
    EXPECT_FALSE(s.has_msrp_ops());
}

TEST(CommandService, ResyncEndDropsTheChatsOfOlderGenerations) {
    CommandService s(1);
    s.on_worker_event(answer(s.handle(chat_create(5, 1))));
    s.take_msrp_ops();
    ASSERT_EQ(s.handle(cmd(MsgType::ResyncBegin, 2)).reply.result, ResultCode::Ok);
    // The restarted control plane adopts session 5 with its chat.
    const Routed adopt = s.handle(chat_create(5, 2, 2));
    ASSERT_EQ(adopt.to, Routed::To::Worker);
    s.on_worker_event(answer(adopt));
    ASSERT_EQ(s.handle(cmd(MsgType::ResyncEnd, 2, 3)).reply.result, ResultCode::Ok);
    const std::vector<MsrpOp> ops = s.take_msrp_ops();
    ASSERT_EQ(ops.size(), 2U);
    EXPECT_EQ(ops[0].kind, MsrpOp::Kind::Set);
    EXPECT_EQ(ops[0].generation, 2U);
    EXPECT_EQ(ops[1].kind, MsrpOp::Kind::ReleaseOlder);
    EXPECT_EQ(ops[1].generation, 2U);
}

}  // namespace
}  // namespace isthmus::dataplane
