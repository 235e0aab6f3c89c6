// HTTP types shared by the API, the SDK endpoints and the client.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>

#include <boost/beast/http.hpp>

namespace muster::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A streamed response body (chunked): chunks go out in order; End finishes the
// response. Thread-safe. `on_closed` runs once, when the response ends or the client
// goes away; after that, writes are dropped.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual void Write(std::string chunk) = 0;
  // Runs `make` on the connection's own thread and writes what it returns as a chunk;
  // `written` runs there once that chunk has gone to the socket. For a long answer made
  // in pieces by other threads: the encoding is the connection's, and the next piece
  // can wait for the last to leave. Neither runs once the response has ended.
  virtual void WriteLater(std::function<std::string()> make, std::function<void()> written) = 0;
  virtual void End() = 0;
  // Ends the response cut short: the connection closes without the last chunk, so the
  // client sees an incomplete answer, not a complete one.
  virtual void Abort() = 0;
  virtual void OnClosed(std::function<void()> on_closed) = 0;
};
using StreamOpened = std::function<void(std::shared_ptr<ChunkSink>)>;

// Answers one request. Call it (or Stream) exactly once; thread-safe. Converts from any
// callable taking a Response, so handlers and tests can pass lambdas; only the HTTP
// server's own replies can stream.
class Reply {
 public:
  using Send = std::function<void(Response)>;
  using Make = std::function<Response()>;
  using Deferred = std::function<void(Make)>;
  using Streamer = std::function<void(Response head, StreamOpened opened, bool open_ended)>;
  Reply() = default;
  template <typename F>
  requires std::is_invocable_v<F&, Response> Reply(F send) : send_(std::move(send)) {}
  Reply(Send send, Deferred deferred, Streamer streamer)
      : send_(std::move(send)), deferred_(std::move(deferred)), streamer_(std::move(streamer)) {}

  void operator()(Response res) const { send_(std::move(res)); }
  // Answers with what `make` builds, run on the connection's own I/O thread: callers on
  // other threads (the owner thread) hand over the encoding in one step. Without an
  // HTTP server behind the reply, `make` runs at once.
  void Later(Make make) const {
    if (deferred_) return deferred_(std::move(make));
    send_(make());
  }
  explicit operator bool() const { return static_cast<bool>(send_); }
  // False without an HTTP server behind the reply, and for an HTTP/1.0 request.
  bool can_stream() const { return static_cast<bool>(streamer_); }
  // Sends `head` (status and headers) and then a chunked body written through the sink
  // handed to `opened`. `open_ended` (a watch: chunks come when something happens): the
  // client's end of the connection is read, so that its hang-up ends the stream between
  // chunks. Otherwise (a long answer written without pause) a failed write ends it, and
  // a client that half-closes after its request still gets the whole answer.
  // REQUIRES: can_stream().
  void Stream(Response head, StreamOpened opened, bool open_ended = true) const {
    streamer_(std::move(head), std::move(opened), open_ended);
  }

 private:
  Send send_;
  Deferred deferred_;
  Streamer streamer_;
};
// Called on an I/O thread for every request.
using Handler = std::function<void(const Request&, Reply)>;

// Path parameters ({name}) and query parameters (?k=v) of a matched route.
struct Params {
  std::map<std::string, std::string> path;
  std::map<std::string, std::string> query;
  std::string Path(const std::string& k) const {
    auto it = path.find(k);
    return it == path.end() ? "" : it->second;
  }
  std::string Query(const std::string& k, const std::string& fallback = "") const {
    auto it = query.find(k);
    return it == query.end() ? fallback : it->second;
  }
};

}  // namespace muster::api
