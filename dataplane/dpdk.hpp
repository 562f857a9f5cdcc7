// DPDK's C headers with the project's strict C++ warnings relaxed for them.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wvolatile"
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pdump.h>
#pragma GCC diagnostic pop

namespace isthmus::dataplane {
// rte_pktmbuf_mtod() without the C casts: the first octet of the packet data.
inline uint8_t* mbuf_data(rte_mbuf* m) {
    return static_cast<uint8_t*>(m->buf_addr) + m->data_off;
}
}  // namespace isthmus::dataplane
