#include "api/http_server.h"

#include <deque>

#include <fcntl.h>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include "api/responses.h"

namespace muster::api {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The bytes of `res` as an HTTP/1.1 answer: its status line, its fields and its framing
// (Connection and framing fields are this server's to set). `chunked`: the head of a
// chunked answer, whose body follows in chunks.
std::string Serialize(const Response& res, bool keep_alive, bool chunked = false) {
  const int code = res.result_int();
  const bool bodiless = code < 200 || code == 204 || code == 304;
  std::string out;
  out.reserve(128 + res.body().size());
  out += "HTTP/1.1 ";
  out += std::to_string(code);
  out += ' ';
  out += res.reason();
  out += "\r\n";
  for (const auto& f : res) {
    const http::field name = f.name();
    if (name == http::field::content_length || name == http::field::connection ||
        name == http::field::transfer_encoding)
      continue;
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
  } else if (!bodiless) {
    out += "Content-Length: ";
    out += std::to_string(res.body().size());
    out += "\r\n\r\n";
    out += res.body();
  } else {
    out += "\r\n";
  }
  return out;
}

using SteadyClock = std::chrono::steady_clock;
constexpr auto kIdleTimeout = std::chrono::seconds(300);  // idle keep-alive connections close

// One connection: read a request, hand it to the handler, write its reply, repeat. All
// of it runs on the connection's strand. A connection closes when it has waited past
// its deadline (for a request, or for the client to take an answer); the deadline moves
// with every request without touching a timer, which wakes lazily to compare.
class Session : public std::enable_shared_from_this<Session>, public ChunkSink {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Handler> handler, size_t body_limit)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(std::move(handler)),
        body_limit_(body_limit) {}

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->deadline_ = SteadyClock::now() + kIdleTimeout;
      self->ArmTimer(self->deadline_);
      self->Read();
    });
  }

 private:
  // The timer holds the session weakly: it never keeps a finished connection alive.
  void ArmTimer(SteadyClock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      const auto now = SteadyClock::now();
      if (now >= self->deadline_) {
        beast::error_code ignored;
        self->socket_.close(ignored);  // pending operations end with operation_aborted
        return;
      }
      self->ArmTimer(std::min(self->deadline_, now + kIdleTimeout));
    });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    deadline_ = SteadyClock::now() + kIdleTimeout;
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor)
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
    deadline_ = SteadyClock::time_point::max();  // the handler takes what it takes
    auto self = shared_from_this();
    Reply reply(
        [self](Response res) {
          // Inline when the handler answered at once, on this connection's strand.
          asio::dispatch(self->socket_.get_executor(),
                         [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
        },
        [self](Reply::Make make) {
          asio::post(self->socket_.get_executor(),
                     [self, make = std::move(make)] { self->Write(self->Made(make)); });
        },
        // Chunked answers are HTTP/1.1's: an HTTP/1.0 request cannot be streamed to.
        request_.version() < 11
            ? Reply::Streamer()
            : [self](Response head, StreamOpened opened, bool open_ended) {
                asio::post(self->socket_.get_executor(),
                           [self, head = std::move(head), opened = std::move(opened),
                            open_ended]() mutable {
                             self->StartStream(std::move(head), std::move(opened), open_ended);
                           });
              });
    // A handler that throws is a bug: it answers 500 and the server goes on serving.
    // Contract: handlers reply last, so one that throws has not replied yet. (This
    // synchronous part and the encoders given to Reply::Later are covered; callbacks on
    // other threads must not throw.)
    try {
      (*handler_)(request_, std::move(reply));
    } catch (const std::exception& e) {
      Write(Failed(e));
    }
  }

  // What a Reply::Later encoder makes, or 500 if it throws.
  Response Made(const Reply::Make& make) {
    try {
      return make();
    } catch (const std::exception& e) {
      return Failed(e);
    }
  }

  Response Failed(const std::exception& e) {
    spdlog::error("{} {} failed: {}", std::string(request_.method_string()),
                  std::string(request_.target()), e.what());
    return ErrorResponse(500, "Internal",
                         "the request failed inside Muster: " + std::string(e.what()), "");
  }

  // ---- streamed responses (ChunkSink). The connection serves only this response and
  // closes after it.
  void StartStream(Response head, StreamOpened opened, bool open_ended) {
    keep_alive_ = false;
    deadline_ = SteadyClock::time_point::max();
    auto out = std::make_shared<std::string>(Serialize(head, false, true));
    streaming_ = true;
    asio::async_write(socket_, asio::buffer(*out),
                      [self = shared_from_this(), out, opened = std::move(opened), open_ended](
                          beast::error_code ec, size_t) {
                        if (ec) return self->EndStream();
                        if (open_ended) self->WatchForHangUp();
                        opened(self);
                      });
  }

  void Write(std::string chunk) override {
    asio::post(socket_.get_executor(), [self = shared_from_this(), chunk = std::move(chunk)] {
      if (self->stream_closed_) return;
      self->chunks_.push_back({std::move(chunk), nullptr});
      if (!self->writing_) self->WriteNextChunk();
    });
  }

  void WriteLater(std::function<std::string()> make, std::function<void()> written) override {
    asio::post(socket_.get_executor(), [self = shared_from_this(), make = std::move(make),
                                        written = std::move(written)]() mutable {
      if (self->stream_closed_) return;
      std::string chunk;
      try {
        chunk = make();
      } catch (const std::exception& e) {  // a bug: the client sees the answer cut short
        spdlog::error("a streamed answer failed inside Muster: {}", e.what());
        return self->EndStream();
      }
      self->chunks_.push_back({std::move(chunk), std::move(written)});
      if (!self->writing_) self->WriteNextChunk();
    });
  }

  void End() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->stream_closed_) return;
      self->ending_ = true;
      if (!self->writing_) self->WriteNextChunk();
    });
  }

  void Abort() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->EndStream(); });
  }

  void OnClosed(std::function<void()> on_closed) override {
    asio::post(socket_.get_executor(), [self = shared_from_this(), f = std::move(on_closed)] {
      if (self->stream_closed_) return f();
      self->on_closed_ = std::move(f);
    });
  }

  void WriteNextChunk() {
    if (chunks_.empty()) {
      if (!ending_) return;
      writing_ = true;
      return asio::async_write(
          socket_, http::make_chunk_last(),
          [self = shared_from_this()](beast::error_code, size_t) { self->EndStream(); });
    }
    writing_ = true;
    auto chunk = std::make_shared<Chunk>(std::move(chunks_.front()));
    chunks_.pop_front();
    // A client that stops reading (and never hangs up) has kIdleTimeout to take a chunk;
    // between chunks (a watch waiting for a change) there is no deadline.
    deadline_ = SteadyClock::now() + kIdleTimeout;
    asio::async_write(socket_, http::make_chunk(asio::buffer(chunk->text)),
                      [self = shared_from_this(), chunk](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        self->deadline_ = SteadyClock::time_point::max();
                        if (ec) return self->EndStream();
                        if (chunk->written) chunk->written();
                        self->WriteNextChunk();
                      });
  }

  // The client sends nothing on a streamed response; a read that ends means it hung up.
  void WatchForHangUp() {
    drain_buffer_.resize(4096);
    socket_.async_read_some(asio::buffer(drain_buffer_),
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
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (auto f = std::exchange(on_closed_, nullptr)) f();
  }

  bool streaming_ = false, writing_ = false, ending_ = false, stream_closed_ = false;
  struct Chunk {
    std::string text;
    std::function<void()> written;  // may be empty
  };
  std::deque<Chunk> chunks_;
  std::function<void()> on_closed_;

  void Write(Response res) {
    out_ = Serialize(res, keep_alive_);
    deadline_ = SteadyClock::now() + kIdleTimeout;  // for the client to take the answer
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (!self->keep_alive_) return self->CloseAfterDraining();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  // After an answer that ends the connection (413, malformed request), the client may
  // still be sending: closing now would reset the connection and lose the answer. Stop
  // sending, read and drop what still comes (at most kDrainBytes, for at most 5 s),
  // then close.
  void CloseAfterDraining() {
    Close();
    deadline_ = SteadyClock::now() + std::chrono::seconds(5);
    ArmTimer(deadline_);
    drained_ = 0;
    Drain();
  }

  void Drain() {
    drain_buffer_.resize(64 * 1024);
    socket_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainBytes) {
                                beast::error_code ignored;
                                self->socket_.close(ignored);
                                return;
                              }
                              self->Drain();
                            });
  }

  static constexpr size_t kDrainBytes = 16 * 1024 * 1024;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;

  tcp::socket socket_;  // its executor is the connection's strand
  asio::steady_timer timer_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  std::shared_ptr<const Handler> handler_;  // shared: a session may outlive its server
  size_t body_limit_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::string out_;  // the answer being written
  bool keep_alive_ = true;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Options options, Handler handler)
    : io_(io),
      options_(std::move(options)),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      accept_pause_(strand_) {}

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
    if (ec) return self->OnAcceptFailed(ec);
    if (std::exchange(self->failing_, false))
      spdlog::info("{}:{} accepts connections again", self->options_.address, self->port_);
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<Session>(std::move(socket), self->handler_, self->options_.body_limit)
        ->Start();
    self->Accept();
  });
}

void HttpServer::OnAcceptFailed(const boost::system::error_code& ec) {
  // Asio itself retries what a client's hang-up causes (ECONNABORTED): what reaches here
  // may well recur at once, so every failure pauses.
  accept_failures_.fetch_add(1, std::memory_order_relaxed);
  const bool starved = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                       ec == asio::error::no_memory ||
                       ec == boost::system::error_code(ENFILE, boost::system::system_category());
  if (!std::exchange(failing_, true))
    spdlog::warn(
        "{}:{} cannot accept connections: {}; trying again every {} ms. Connections "
        "wait meanwhile.{}",
        options_.address, port_, ec.message(), options_.accept_pause.count(),
        starved ? " If it is the open-files limit, raise it (`ulimit -n`, or "
                  "LimitNOFILE= for a systemd unit)"
                : "");
  accept_pause_.expires_after(options_.accept_pause);
  accept_pause_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    if (!e && self->acceptor_.is_open()) self->Accept();
  });
}

void HttpServer::Close() {
  asio::post(strand_, [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->accept_pause_.cancel();
  });
}

}  // namespace muster::api
