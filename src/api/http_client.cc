#include "api/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

namespace muster::api {
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

core::StatusOr<std::pair<std::string, int>> ParseAddress(const std::string& address) {
  std::string a = address;
  if (a.rfind("http://", 0) == 0) a = a.substr(7);
  while (!a.empty() && a.back() == '/') a.pop_back();
  size_t colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
    return core::InvalidArgument("address \"" + address + "\" must be HOST:PORT", "address");
  try {
    int port = std::stoi(a.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    return std::make_pair(a.substr(0, colon), port);
  } catch (...) {
    return core::InvalidArgument("address \"" + address + "\" has no valid port", "address");
  }
}

HttpClient::HttpClient(std::string host, int port, std::string token)
    : host_(std::move(host)), port_(port), token_(std::move(token)) {}

HttpClient::~HttpClient() {
  if (stream_) {
    beast::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

core::StatusOr<HttpResult> HttpClient::Send(http::verb method, const std::string& target,
                                            const std::string& body,
                                            const std::string& content_type) {
  const bool reused = stream_ != nullptr;
  auto result = TryOnce(method, target, body, content_type);
  if (!result.ok() && reused) {
    stream_.reset();
    result = TryOnce(method, target, body, content_type);
  }
  return result;
}

core::StatusOr<HttpResult> HttpClient::TryOnce(http::verb method, const std::string& target,
                                               const std::string& body,
                                               const std::string& content_type) {
  beast::error_code ec;
  if (!stream_) {
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec)
      return core::Status(core::Code::kUnavailable,
                          "cannot resolve " + host_ + ": " + ec.message());
    stream_ = std::make_unique<beast::tcp_stream>(io_);
    stream_->expires_after(timeout_);
    stream_->connect(endpoints, ec);
    if (ec) {
      stream_.reset();
      return core::Status(
          core::Code::kUnavailable,
          "cannot connect to " + host_ + ":" + std::to_string(port_) + ": " + ec.message());
    }
    stream_->socket().set_option(tcp::no_delay(true), ec);
  }
  Request req{method, target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "muster");
  if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  stream_->expires_after(timeout_);
  http::write(*stream_, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  // Read even if the write failed: a server may answer (413) and stop reading early.
  beast::error_code read_ec;
  http::read(*stream_, buffer, parser, read_ec);
  if (!read_ec)
    ec = {};
  else if (!ec)
    ec = read_ec;
  if (ec) {
    stream_.reset();
    return core::Status(core::Code::kInternal, "request to " + host_ + ":" + std::to_string(port_) +
                                                   " failed: " + ec.message());
  }
  auto res = parser.release();
  HttpResult out{static_cast<int>(res.result_int()),
                 std::move(res.body()),
                 std::string(res[http::field::content_type]),
                 {}};
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(field.value());
  }
  if (!res.keep_alive()) stream_.reset();
  return out;
}

}  // namespace muster::api
