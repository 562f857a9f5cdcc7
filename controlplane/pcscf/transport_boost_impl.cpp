// Boost.Asio (with its SSL part) and Boost.Beast compiled once, here, rather
// than in every file that includes them: isthmus_pcscf_transport_dep sets
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION for
// every user. Faster builds, and the one place where Asio's scheduler trips
// GCC's -Wnull-dereference (thread_call_stack::contains() may return null
// in general, never where compensating_work_started() is called).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#pragma GCC diagnostic pop
