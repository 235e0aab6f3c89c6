// A blocking HTTP/1.1 client with one keep-alive connection, for the CLI, the
// tests and the benchmarks. Not thread-safe: one client per thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "api/http_types.h"
#include "core/status.h"

namespace muster::api {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // names in lower case
};

// "127.0.0.1:6200", "http://localhost:6200", "localhost:6200/" -> host and port.
core::StatusOr<std::pair<std::string, int>> ParseAddress(const std::string& address);

class HttpClient {
 public:
  HttpClient(std::string host, int port, std::string token = "");
  ~HttpClient();

  // Sends one request; reconnects once if the kept-alive connection was closed.
  // Unavailable when no connection could be made (nothing was sent); Internal when the
  // request went out but no whole answer came back (it may have been carried out).
  core::StatusOr<HttpResult> Send(http::verb method, const std::string& target,
                                  const std::string& body = "",
                                  const std::string& content_type = "application/json");
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 private:
  core::StatusOr<HttpResult> TryOnce(http::verb method, const std::string& target,
                                     const std::string& body, const std::string& content_type);
  std::string host_;
  int port_;
  std::string token_;
  std::chrono::milliseconds timeout_{30000};
  boost::asio::io_context io_;
  std::unique_ptr<boost::beast::tcp_stream> stream_;
};

}  // namespace muster::api
