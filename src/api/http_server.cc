#include "api/http_server.h"

#include <fcntl.h>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

#include "api/responses.h"

namespace muster::api {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One connection: read a request, hand it to the handler, write its reply, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Handler> handler, size_t body_limit)
      : stream_(std::move(socket)), handler_(std::move(handler)), body_limit_(body_limit) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    stream_.expires_after(std::chrono::seconds(300));  // idle keep-alive connections close
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return Close();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return Write(ErrorResponse(
          413, "PayloadTooLarge",
          "the request body is larger than " + std::to_string(body_limit_) + " bytes", "body"));
    }
    if (ec) {
      keep_alive_ = false;
      return Write(ErrorResponse(400, "BadRequest", "malformed HTTP request: " + ec.message(), ""));
    }
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    auto self = shared_from_this();
    (*handler_)(request_, [self](Response res) {
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
  }

  void Write(Response res) {
    res.version(11);
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    response_ = std::make_unique<Response>(std::move(res));
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (!self->keep_alive_) return self->CloseAfterDraining();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // After an answer that ends the connection (413, malformed request), the client may
  // still be sending: closing now would reset the connection and lose the answer. Stop
  // sending, read and drop what still comes (at most kDrainBytes, for at most 5 s),
  // then close.
  void CloseAfterDraining() {
    Close();
    stream_.expires_after(std::chrono::seconds(5));
    drained_ = 0;
    Drain();
  }

  void Drain() {
    drain_buffer_.resize(64 * 1024);
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainBytes) {
                                beast::error_code ignored;
                                self->stream_.socket().close(ignored);
                                return;
                              }
                              self->Drain();
                            });
  }

  static constexpr size_t kDrainBytes = 16 * 1024 * 1024;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;

  beast::tcp_stream stream_;
  std::shared_ptr<const Handler> handler_;  // shared: a session may outlive its server
  size_t body_limit_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::unique_ptr<Response> response_;
  bool keep_alive_ = true;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Options options, Handler handler)
    : io_(io),
      options_(std::move(options)),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      strand_(asio::make_strand(io)),
      acceptor_(strand_) {}

HttpServer::~HttpServer() = default;

core::StatusOr<std::shared_ptr<HttpServer>> HttpServer::Listen(asio::io_context& io,
                                                               Options options, Handler handler) {
  std::shared_ptr<HttpServer> server(new HttpServer(io, options, std::move(handler)));
  beast::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return core::InvalidArgument("invalid listen address \"" + options.address + "\"");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& a = server->acceptor_;
  a.open(endpoint.protocol(), ec);
  if (!ec) ::fcntl(a.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return core::Status(core::Code::kUnavailable, "cannot listen on " + options.address + ":" +
                                                      std::to_string(options.port) + ": " +
                                                      ec.message());
  server->port_ = a.local_endpoint().port();
  asio::dispatch(server->strand_, [server] { server->Accept(); });
  return server;
}

void HttpServer::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), self->handler_, self->options_.body_limit)
          ->Start();
    } else {
      spdlog::debug("accept on port {}: {}", self->port_, ec.message());
    }
    self->Accept();
  });
}

void HttpServer::Close() {
  asio::post(strand_, [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

}  // namespace muster::api
