// muster-echo: a tiny UDP echo game server, written the way an Agones game server
// is: it reads its port from the environment, tells the SDK it is Ready, sends
// health pings, and exits cleanly on SIGTERM.
//
// Environment:
//   MUSTER_PORT_GAME (else the first MUSTER_PORT_*)  UDP port to echo on
//   AGONES_SDK_HTTP_PORT                             the SDK's REST port (default 9358)
//   ECHO_HEALTH_INTERVAL_MS                          ping period (default 2000)
// Signals: SIGTERM/SIGINT exit 0; SIGUSR1 stops health pings (to test health checks).
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using asio::ip::udp;

extern char** environ;

namespace {

int GamePort() {
  if (const char* p = std::getenv("MUSTER_PORT_GAME")) return std::atoi(p);
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "MUSTER_PORT_", 12) == 0) return std::atoi(std::strchr(*e, '=') + 1);
  return 7654;
}

// A keep-alive connection to the SDK's REST port; reconnects after any failure
// (for instance while Muster restarts).
class Sdk {
 public:
  Sdk(asio::io_context& io, int port) : io_(io), port_(port) {}

  bool Post(const std::string& path) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) {
          stream_.emplace(io_);
          stream_->expires_after(std::chrono::seconds(2));
          stream_->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        }
        http::request<http::string_body> req{http::verb::post, path, 11};
        req.set(http::field::host, "localhost");
        req.set(http::field::content_type, "application/json");
        req.body() = "{}";
        req.keep_alive(true);
        req.prepare_payload();
        stream_->expires_after(std::chrono::seconds(2));
        http::write(*stream_, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(*stream_, buf, res);
        if (!res.keep_alive()) stream_.reset();
        return res.result_int() == 200;
      } catch (const std::exception&) {
        stream_.reset();
      }
    }
    return false;
  }

 private:
  asio::io_context& io_;
  int port_;
  std::optional<beast::tcp_stream> stream_;
};

}  // namespace

int main() {
  asio::io_context io;
  const int port = GamePort();
  const char* sdk_env = std::getenv("AGONES_SDK_HTTP_PORT");
  Sdk sdk(io, sdk_env ? std::atoi(sdk_env) : 9358);
  const char* interval_env = std::getenv("ECHO_HEALTH_INTERVAL_MS");
  const auto interval = std::chrono::milliseconds(interval_env ? std::atoi(interval_env) : 2000);

  udp::socket socket(io, udp::endpoint(udp::v4(), static_cast<unsigned short>(port)));
  std::cout << "muster-echo: echoing UDP on port " << port << std::endl;

  char data[2048];
  udp::endpoint peer;
  std::function<void()> receive = [&] {
    socket.async_receive_from(asio::buffer(data), peer,
                              [&](boost::system::error_code ec, size_t n) {
                                if (!ec) socket.send_to(asio::buffer(data, n), peer, 0, ec);
                                receive();
                              });
  };
  receive();

  bool ready = false, pinging = true;
  // Signals first: once Muster sees Ready, the server must already honour them.
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](boost::system::error_code, int sig) {
    std::cout << "muster-echo: signal " << sig << ", exiting" << std::endl;
    io.stop();
  });
  asio::signal_set quiet(io, SIGUSR1);
  quiet.async_wait([&](boost::system::error_code, int) {
    std::cout << "muster-echo: SIGUSR1, no more health pings" << std::endl;
    pinging = false;
  });

  asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    if (pinging) sdk.Post("/health");
    if (!ready && (ready = sdk.Post("/ready"))) std::cout << "muster-echo: Ready" << std::endl;
    timer.expires_after(ready ? interval : std::chrono::milliseconds(100));
    timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) tick();
    });
  };
  tick();

  io.run();
  return 0;
}
