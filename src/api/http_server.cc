#include "api/http_server.h"

#include <deque>

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
class Session : public std::enable_shared_from_this<Session>, public ChunkSink {
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
    Reply reply(
        [self](Response res) {
          // Inline when the handler answered at once, on this connection's strand.
          asio::dispatch(self->stream_.get_executor(),
                         [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
        },
        [self](Response head, StreamOpened opened) {
          asio::post(self->stream_.get_executor(),
                     [self, head = std::move(head), opened = std::move(opened)]() mutable {
                       self->StartStream(std::move(head), std::move(opened));
                     });
        });
    (*handler_)(request_, std::move(reply));
  }

  // ---- streamed responses (ChunkSink). The connection serves only this response and
  // closes after it.
  void StartStream(Response head, StreamOpened opened) {
    keep_alive_ = false;
    stream_.expires_never();
    head.version(11);
    head.keep_alive(false);
    head.chunked(true);
    head.body().clear();
    auto header = std::make_shared<http::response<http::empty_body>>(head.result(), 11);
    for (const auto& field : head) header->set(field.name_string(), field.value());
    header->chunked(true);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
    streaming_ = true;
    http::async_write_header(stream_, *serializer,
                             [self = shared_from_this(), header, serializer,
                              opened = std::move(opened)](beast::error_code ec, size_t) {
                               if (ec) return self->EndStream();
                               self->WatchForHangUp();
                               opened(self);
                             });
  }

  void Write(std::string chunk) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), chunk = std::move(chunk)] {
      if (self->stream_closed_) return;
      self->chunks_.push_back(std::move(chunk));
      if (!self->writing_) self->WriteNextChunk();
    });
  }

  void End() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->stream_closed_) return;
      self->ending_ = true;
      if (!self->writing_) self->WriteNextChunk();
    });
  }

  void OnClosed(std::function<void()> on_closed) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), f = std::move(on_closed)] {
      if (self->stream_closed_) return f();
      self->on_closed_ = std::move(f);
    });
  }

  void WriteNextChunk() {
    if (chunks_.empty()) {
      if (!ending_) return;
      writing_ = true;
      return asio::async_write(
          stream_, http::make_chunk_last(),
          [self = shared_from_this()](beast::error_code, size_t) { self->EndStream(); });
    }
    writing_ = true;
    auto chunk = std::make_shared<std::string>(std::move(chunks_.front()));
    chunks_.pop_front();
    asio::async_write(stream_, http::make_chunk(asio::buffer(*chunk)),
                      [self = shared_from_this(), chunk](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->EndStream();
                        self->WriteNextChunk();
                      });
  }

  // The client sends nothing on a streamed response; a read that ends means it hung up.
  void WatchForHangUp() {
    drain_buffer_.resize(4096);
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->EndStream();
                              self->WatchForHangUp();
                            });
  }

  void EndStream() {
    if (stream_closed_) return;
    stream_closed_ = true;
    chunks_.clear();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    if (auto f = std::exchange(on_closed_, nullptr)) f();
  }

  bool streaming_ = false, writing_ = false, ending_ = false, stream_closed_ = false;
  std::deque<std::string> chunks_;
  std::function<void()> on_closed_;

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
