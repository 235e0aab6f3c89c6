// A small HTTP/1.1 server on Boost.Beast: keep-alive, a body size limit, and one
// Handler for every request. Used by the management API and the per-server SDK ports.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "api/http_types.h"
#include "core/status.h"

namespace muster::api {

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    int port = 0;                 // 0 = any free port; see port()
    size_t body_limit = 1 << 20;  // larger bodies are answered 413
    // How long accepting pauses after an accept fails (for want of descriptors, EMFILE,
    // most often): trying again at once would spin a CPU for as long as the cause lasts
    // and the connection waits in the backlog. The first failure of a run of them is a
    // warning; the first success after it says so.
    std::chrono::milliseconds accept_pause{100};
  };

  // Binds and listens at once, so that a busy port is reported to the caller; then
  // accepts on `io`'s threads. Thread-safe.
  static core::StatusOr<std::shared_ptr<HttpServer>> Listen(boost::asio::io_context& io,
                                                            Options options, Handler handler);
  ~HttpServer();

  int port() const { return port_; }
  // Stops accepting; open connections finish their current request. Thread-safe.
  void Close();
  // Accepts that failed since Listen, whatever the reason. Thread-safe.
  uint64_t accept_failures() const { return accept_failures_.load(std::memory_order_relaxed); }

 private:
  HttpServer(boost::asio::io_context& io, Options options, Handler handler);
  void Accept();
  void OnAcceptFailed(const boost::system::error_code& ec);

  boost::asio::io_context& io_;
  Options options_;
  std::shared_ptr<const Handler> handler_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;  // on strand_, as the acceptor
  bool failing_ = false;                    // the last accept failed
  std::atomic<uint64_t> accept_failures_{0};
  int port_ = 0;
};

}  // namespace muster::api
