// The dataplane's command service: answers, ABI check, generations.
#include <gtest/gtest.h>

#include <string>

#include "control/command_service.hpp"

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

}  // namespace
}  // namespace isthmus::dataplane
