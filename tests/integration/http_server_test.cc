// The HTTP server and router on a real loopback socket: routes, path parameters,
// auth, 404/405, the body limit, keep-alive, running out of descriptors.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>

#include "api/http_client.h"
#include "api/http_server.h"
#include "api/responses.h"
#include "api/router.h"
#include "support/poll.h"

namespace muster::api {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Route> routes = {
        {http::verb::get, "/open", Scope::kPublic,
         [](const Request&, const Params&, Reply r) {
           r(JsonResponse(200, {{"ok", true}}));
         }},
        {http::verb::get, "/things/{name}", Scope::kRead,
         [](const Request&, const Params& p, Reply r) {
           r(JsonResponse(200, {{"name", p.Path("name")}, {"q", p.Query("q")}}));
         }},
        {http::verb::post, "/things", Scope::kAdmin,
         [](const Request& req, const Params&, Reply r) {
           // Reply from another thread, as the controller does.
           std::thread([r, size = req.body().size()] {
             r(JsonResponse(201, {{"size", size}}));
           }).detach();
         }},
        {http::verb::put, "/later", Scope::kAdmin,
         [this](const Request&, const Params&, Reply r) {
           // Handed over from another thread, built on the connection's own thread.
           std::thread([this, r] {
             r.Later([this] {
               return JsonResponse(200, {{"on_io_thread", std::this_thread::get_id() == io_id_}});
             });
           }).detach();
         }},
        {http::verb::get, "/broken", Scope::kRead,
         [](const Request&, const Params&, Reply) -> void {
           throw std::runtime_error("a fault in a handler");
         }},
        {http::verb::get, "/broken-later", Scope::kRead,
         [](const Request&, const Params&, Reply reply) {
           std::thread([reply] {  // as from the owner thread: the encoding is handed over
             reply.Later([]() -> Response { throw std::runtime_error("a fault in an encoder"); });
           })
               .detach();
         }},
    };
    router_ = std::make_unique<Router>(std::move(routes), &auth_);
    HttpServer::Options o;
    o.body_limit = 1000;
    server_ = HttpServer::Listen(io_, o, router_->AsHandler()).value();
    thread_ = std::thread([this] {
      io_id_ = std::this_thread::get_id();
      io_.run();
    });
  }
  void TearDown() override {
    server_->Close();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  HttpClient Client(const std::string& token = "secret") {
    return HttpClient("127.0.0.1", server_->port(), token);
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  Authenticator auth_{"secret"};
  std::unique_ptr<Router> router_;
  std::shared_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<std::thread::id> io_id_{};
};

TEST_F(HttpServerTest, RoutesParamsAndKeepAlive) {
  HttpClient c = Client();
  for (int i = 0; i < 3; ++i) {  // one connection, several requests
    auto r = c.Send(http::verb::get, "/things/a%20b?q=x%2By");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    auto body = nlohmann::json::parse(r->body);
    EXPECT_EQ(body["name"], "a b");
    EXPECT_EQ(body["q"], "x+y");
  }
  auto later = c.Send(http::verb::put, "/later", "");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->status, 200);
  EXPECT_EQ(nlohmann::json::parse(later->body)["on_io_thread"], true);
  EXPECT_EQ(later->headers.count("connection"), 0u) << "a keep-alive answer says nothing more";
  auto posted = c.Send(http::verb::post, "/things", "hello");
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->status, 201);
  EXPECT_EQ(nlohmann::json::parse(posted->body)["size"], 5);
}

TEST_F(HttpServerTest, AuthNotFoundMethodAndBodyLimit) {
  EXPECT_EQ(Client("").Send(http::verb::get, "/open")->status, 200);
  auto no_token = Client("").Send(http::verb::get, "/things/x");
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(nlohmann::json::parse(no_token->body)["error"], "Unauthenticated");
  EXPECT_EQ(Client("wrong").Send(http::verb::get, "/things/x")->status, 401);
  EXPECT_EQ(Client().Send(http::verb::get, "/nope")->status, 404);
  EXPECT_EQ(Client().Send(http::verb::delete_, "/things/x")->status, 405);
  auto big = Client().Send(http::verb::post, "/things", std::string(5000, 'x'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(nlohmann::json::parse(big->body)["field"], "body");
}

TEST_F(HttpServerTest, AHandlerThatThrowsAnswers500AndTheServerKeepsServing) {
  HttpClient c = Client();
  auto broken = c.Send(http::verb::get, "/broken");
  ASSERT_TRUE(broken.ok());
  EXPECT_EQ(broken->status, 500);
  EXPECT_NE(nlohmann::json::parse(broken->body)["message"].get<std::string>().find(
                "a fault in a handler"),
            std::string::npos)
      << broken->body;
  EXPECT_EQ(c.Send(http::verb::get, "/things/x")->status, 200) << "the same connection goes on";
  EXPECT_EQ(Client().Send(http::verb::get, "/open")->status, 200);
  // So does an encoder handed to Reply::Later, which runs on the connection's thread.
  auto later = c.Send(http::verb::get, "/broken-later");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->status, 500);
  EXPECT_NE(later->body.find("a fault in an encoder"), std::string::npos) << later->body;
  EXPECT_EQ(c.Send(http::verb::get, "/things/x")->status, 200);
}

// With no descriptor left, an accept fails (EMFILE). Accepting then pauses instead of
// retrying at once, which would spin a CPU for as long as the connection waits in the
// backlog; once descriptors are free again, that connection is served.
TEST_F(HttpServerTest, WithNoDescriptorLeftAcceptingPausesAndTheWaitingConnectionIsServedLater) {
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  timeval wait{10, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor below the lowest free one is taken: with the limit there, no new
  // descriptor can be made (connecting a socket made before needs none).
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit none_left = saved;
  none_left.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none_left), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int connected = ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int connect_errno = errno;
  const auto since = std::chrono::steady_clock::now();
  const bool failing =
      testing::PollUntil([&] { return server_->accept_failures() >= 3; }, std::chrono::seconds(10));
  const uint64_t failures = server_->accept_failures();
  const auto waited = std::chrono::steady_clock::now() - since;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);  // before anything can end the test
  ASSERT_EQ(connected, 0) << "the connection waits in the backlog: "
                          << std::strerror(connect_errno);
  ASSERT_TRUE(failing) << "the accept never failed: was a descriptor free after all?";
  // Each retry comes a pause (100 ms) after the failure before it; one at once would
  // have failed many thousand times by now.
  EXPECT_LE(failures, static_cast<uint64_t>(waited / std::chrono::milliseconds(100)) + 2)
      << "over " << std::chrono::duration<double>(waited).count() << " s";

  const std::string get = "GET /open HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_EQ(::send(client, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
  char answer[512] = {};
  const ssize_t n = ::recv(client, answer, sizeof answer - 1, 0);
  ::close(client);
  ASSERT_GT(n, 0) << "no answer once descriptors were free again";
  EXPECT_EQ(std::string(answer, 15), "HTTP/1.1 200 OK");
}

TEST(Auth, TheBearerSchemeIsReadInAnyCaseAndOtherSchemesAreNamed) {
  Authenticator auth("secret");
  auto with = [](const char* value) {
    Request req{http::verb::get, "/x", 11};
    if (value) req.set(http::field::authorization, value);
    return req;
  };
  EXPECT_TRUE(auth.Check(with("Bearer secret"), Scope::kAdmin).ok());
  EXPECT_TRUE(auth.Check(with("bearer secret"), Scope::kAdmin).ok());
  EXPECT_TRUE(auth.Check(with("BEARER  secret"), Scope::kAdmin).ok());
  EXPECT_FALSE(auth.Check(with("Bearer"), Scope::kAdmin).ok());
  EXPECT_FALSE(auth.Check(with("Bearersecret"), Scope::kAdmin).ok());
  core::Status basic = auth.Check(with("Basic c2VjcmV0"), Scope::kAdmin);
  EXPECT_EQ(basic.code(), core::Code::kUnauthenticated);
  EXPECT_NE(basic.message().find("must be \"Bearer <token>\""), std::string::npos)
      << basic.message();
  core::Status none = auth.Check(with(nullptr), Scope::kAdmin);
  EXPECT_NE(none.message().find("missing"), std::string::npos) << none.message();
  EXPECT_EQ(auth.Check(with("Bearer wrong"), Scope::kAdmin).field(), "Authorization");
}

TEST(Auth, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace muster::api
