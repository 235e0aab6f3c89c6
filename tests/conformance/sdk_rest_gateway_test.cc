// The Agones SDK REST gateway on each game server's own HTTP SDK port, against
// ../shared/reference/agones-sdk.md: every answer compared field by field (proto field
// names, int64 as JSON strings, unset fields emitted), every effect checked through
// the management API, and a second server checked untouched by what the first does.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using verb = http::verb;

// ---------------------------------------------------------------- talking to an SDK port

// One answer of the gateway: the HTTP status (0 = no answer at all) and the body.
struct Answer {
  int status = 0;
  json body;  // discarded (is_discarded()) when the body is not JSON
  std::string raw;
  std::string content_type;
};

// A game server's HTTP SDK port on 127.0.0.1, as a game server would call it.
class SdkPort {
 public:
  explicit SdkPort(int port) : port_(port), client_("127.0.0.1", port) { client_.set_timeout(10s); }
  int port() const { return port_; }

  Answer Call(verb method, const std::string& path, const std::string& body = "") {
    auto res = client_.Send(method, path, body);
    if (!res.ok()) return {0, json(json::value_t::discarded), res.status().message(), ""};
    return {res->status, json::parse(res->body, nullptr, false), res->body, res->content_type};
  }
  Answer Get(const std::string& path) { return Call(verb::get, path); }
  Answer Post(const std::string& path, const json& body = json::object()) {
    return Call(verb::post, path, body.dump());
  }
  Answer Put(const std::string& path, const json& body) {
    return Call(verb::put, path, body.dump());
  }
  Answer Patch(const std::string& path, const json& body) {
    return Call(verb::patch, path, body.dump());
  }

 private:
  int port_;
  api::HttpClient client_;
};

// `got` is HTTP `status` with exactly the JSON `want`.
::testing::AssertionResult Answers(const Answer& got, int status, const json& want) {
  if (got.status == status && got.body == want && got.content_type == "application/json")
    return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure()
                 << "got HTTP " << got.status << " (" << got.content_type << ") " << got.raw
                 << "\n want HTTP " << status << " (application/json) " << want.dump();
  if (!got.body.is_discarded()) failure << "\n diff " << json::diff(got.body, want).dump();
  return failure;
}

// 200 with exactly `want`.
::testing::AssertionResult Ok(const Answer& got, const json& want) {
  return Answers(got, 200, want);
}

// 200 with `{}` (Empty).
::testing::AssertionResult OkEmpty(const Answer& got) { return Answers(got, 200, json::object()); }

// A refusal: HTTP `status`, body {"error": error, "message": ..., "field": field, "code":
// the gRPC code, "details": []} (grpc-gateway's `code`, `message` and `details`, so an
// Agones REST client reads it), the message non-empty and naming `mention` when given.
::testing::AssertionResult Refuses(const Answer& got, int status, const std::string& error,
                                   const std::string& field, const std::string& mention = "") {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << "; got HTTP " << got.status << " " << got.raw << "\n want HTTP " << status
           << " error " << error << " field \"" << field << "\"";
  };
  if (got.status != status) return fail("wrong status");
  if (got.content_type != "application/json") return fail("not JSON: " + got.content_type);
  if (!got.body.is_object() || got.body.size() != 5)
    return fail("not {error, message, field, code, details}");
  const std::map<std::string, int> grpc = {{"InvalidArgument", 3}, {"NotFound", 5},
                                           {"AlreadyExists", 6},   {"FailedPrecondition", 9},
                                           {"OutOfRange", 11},     {"Unavailable", 14}};
  if (grpc.count(error) && got.body.value("code", -1) != grpc.at(error))
    return fail("wrong gRPC code");
  if (got.body.value("details", json()) != json::array()) return fail("details not []");
  if (got.body.value("error", "") != error) return fail("wrong error");
  if (got.body.value("field", "?") != field) return fail("wrong field");
  const std::string message = got.body.value("message", "");
  if (message.empty()) return fail("no message");
  if (message.find(mention) == std::string::npos) return fail("message does not name " + mention);
  return ::testing::AssertionSuccess();
}

// Two JSON values equal, with the difference spelled out when not.
::testing::AssertionResult SameJson(const json& got, const json& want) {
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "diff " << json::diff(got, want).dump() << "\n got "
                                       << got.dump() << "\n want " << want.dump();
}

// "2024-05-01T12:00:00.123Z" → seconds since the epoch (creation_timestamp's unit).
int64_t EpochSeconds(const std::string& rfc3339) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) < 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm));
}

// ---------------------------------------------------------------- the watch stream

// GET /watch/gameserver: a chunked response that stays open, read line by line. Every
// wait is bounded (Beast's tcp_stream timeouts apply to asynchronous operations, so
// each one runs the io_context until it completes or its deadline passes).
class WatchStream {
 public:
  explicit WatchStream(int port) {
    parser_.body_limit(boost::none);
    stream_.expires_after(5s);
    const asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"),
                                     static_cast<unsigned short>(port));
    ok_ = !Await([&](auto done) { stream_.async_connect(to, done); });
    request_.set(http::field::host, "127.0.0.1");
    ok_ = ok_ && !Await([&](auto done) { http::async_write(stream_, request_, done); });
    ok_ =
        ok_ && !Await([&](auto done) { http::async_read_header(stream_, buffer_, parser_, done); });
  }

  // The response head (status 0 if none came).
  int status() const { return parser_.is_header_done() ? parser_.get().result_int() : 0; }
  bool chunked() const { return parser_.is_header_done() && parser_.chunked(); }
  std::string content_type() const { return std::string(parser_.get()[http::field::content_type]); }

  // The next line of the body; nullopt if `timeout` passes or the response ends first.
  std::optional<std::string> NextLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const std::string& body = parser_.get().body();
      if (size_t nl = body.find('\n', consumed_); nl != std::string::npos) {
        std::string line = body.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        return line;
      }
      const auto left = deadline - std::chrono::steady_clock::now();
      if (!ok_ || parser_.is_done() || left <= 0ns) return std::nullopt;
      stream_.expires_after(left);
      if (Await([&](auto done) { http::async_read_some(stream_, buffer_, parser_, done); }))
        ok_ = false;
    }
  }

  // The next line as JSON (discarded if it is not JSON; null if no line came).
  json Next(std::chrono::milliseconds timeout) {
    std::optional<std::string> line = NextLine(timeout);
    return line ? json::parse(*line, nullptr, false) : json(nullptr);
  }

  // True once the response ended properly (its last chunk came).
  bool ended() const { return parser_.is_done(); }

 private:
  template <typename Start>
  beast::error_code Await(Start start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_{verb::get, "/watch/gameserver", 11};
  http::response_parser<http::string_body> parser_;
  size_t consumed_ = 0;
  bool ok_ = false;
};

// ---------------------------------------------------------------- the fixture

// What the fleet's template declares, and so what every one of its servers starts with.
constexpr int kInitialDelay = 4, kPeriod = 3, kFailureThreshold = 5;

// The labels every server of the fleet carries: the template's, and the fleet's own.
json FleetLabels() {
  return {{"game", "echo"}, {"agones.dev/fleet", "sdk"}, {"muster.dev/fleet", "sdk"}};
}

json SdkFleet() {
  json fleet = EchoFleet("sdk", 2,
                         {{"initialDelaySeconds", kInitialDelay},
                          {"periodSeconds", kPeriod},
                          {"failureThreshold", kFailureThreshold}});
  json& spec = fleet["spec"]["template"]["spec"];
  spec["counters"] = {{"rooms", {{"count", 0}, {"capacity", 10}}}};
  spec["lists"] = {{"maps", {{"capacity", 3}, {"values", json::array()}}}};
  spec["players"] = {{"initialCapacity", 4}};
  return fleet;
}

// Two Ready muster-echo servers of one fleet: A, which the tests drive through its SDK
// port, and B, which must stay as it was.
class SdkRestGateway : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(muster_.Start());
    int status = 0;
    json answer = muster_.Call("POST", "/v1/fleets", SdkFleet(), &status);
    ASSERT_EQ(status, 201) << answer.dump();
    std::vector<json> ready;
    ASSERT_TRUE(PollUntil(
        [&] {
          ready = muster_.InState("sdk", "Ready");
          return ready.size() == 2;
        },
        30s))
        << "muster-echo marks itself Ready through the REST SDK";
    a_ = ready[0]["metadata"]["name"];
    b_ = ready[1]["metadata"]["name"];
    sdk_a_ = std::make_unique<SdkPort>(ready[0]["status"]["sdkPorts"]["http"].get<int>());
    sdk_b_ = std::make_unique<SdkPort>(ready[1]["status"]["sdkPorts"]["http"].get<int>());
    ASSERT_NE(sdk_a_->port(), sdk_b_->port());
    b_before_ = Server(b_);
  }

  // Every test ends with B exactly as it was: nothing done on A's port reaches it.
  void TearDown() override {
    if (!b_before_.is_null()) EXPECT_TRUE(SameJson(Server(b_), b_before_)) << "server B changed";
  }

  json Server(const std::string& name) { return muster_.Call("GET", "/v1/gameservers/" + name); }
  // The server's state, "" if there is no such server.
  std::string StateOf(const std::string& name) {
    const json gs = Server(name);
    return gs.contains("status") ? gs["status"].value("state", "") : "";
  }

  SdkPort& A() { return *sdk_a_; }
  SdkPort& B() { return *sdk_b_; }

  MusterProcess muster_{{"29400-29499", "29500-29699", {}}};
  std::string a_, b_;
  std::unique_ptr<SdkPort> sdk_a_, sdk_b_;
  json b_before_;
};

// ---------------------------------------------------------------- stable

TEST_F(SdkRestGateway, StableReadyHealthGameServerMetadataReserveAllocateWatchShutdown) {
  // Ready on a server that is Ready already (muster-echo said so): {} and no change.
  const json before = Server(a_);
  EXPECT_TRUE(OkEmpty(A().Post("/ready", json::object())));
  EXPECT_TRUE(SameJson(Server(a_), before));

  // Health: {} answers {}; an empty body is refused, as Agones' gateway does.
  EXPECT_TRUE(OkEmpty(A().Post("/health", json::object())));
  EXPECT_TRUE(Refuses(A().Call(verb::post, "/health", ""), 400, "InvalidArgument", "body"));

  // GET /gameserver: every field of the GameServer message.
  const json api = Server(a_);
  ASSERT_TRUE(api.contains("status")) << api.dump();
  const json& st = api["status"];
  ASSERT_TRUE(st["address"].is_string() && !st["address"].get<std::string>().empty());
  ASSERT_EQ(st["ports"].size(), 1u);
  const int64_t created = EpochSeconds(api["metadata"]["creationTimestamp"]);
  EXPECT_LT(std::abs(created - static_cast<int64_t>(std::time(nullptr))), 600);
  const json want = {
      {"object_meta",
       {{"name", a_},
        {"namespace", "default"},
        {"uid", a_},
        {"resource_version", api["metadata"]["resourceVersion"]},
        {"generation", "1"},
        {"creation_timestamp", std::to_string(created)},
        {"deletion_timestamp", "0"},
        {"annotations", json::object()},
        {"labels", FleetLabels()}}},
      {"spec",
       {{"health",
         {{"disabled", false},
          {"period_seconds", kPeriod},
          {"failure_threshold", kFailureThreshold},
          {"initial_delay_seconds", kInitialDelay}}}}},
      {"status",
       {{"state", "Ready"},
        {"address", st["address"]},
        {"ports", json::array({{{"name", "game"}, {"port", st["ports"][0]["port"]}}})},
        {"players", {{"count", "0"}, {"capacity", "4"}, {"ids", json::array()}}},
        {"counters", {{"rooms", {{"count", "0"}, {"capacity", "10"}}}}},
        {"lists", {{"maps", {{"capacity", "3"}, {"values", json::array()}}}}},
        {"addresses", json::array({{{"type", "InternalIP"}, {"address", st["address"]}}})}}}};
  EXPECT_TRUE(Ok(A().Get("/gameserver"), want));
  EXPECT_TRUE(api["metadata"]["resourceVersion"].is_string());

  // Labels and annotations, stored under agones.dev/sdk-.
  // (Unknown request fields are ignored.)
  EXPECT_TRUE(OkEmpty(
      A().Put("/metadata/label", {{"key", "mode"}, {"value", "ranked"}, {"colour", "blue"}})));
  EXPECT_TRUE(OkEmpty(A().Put("/metadata/annotation", {{"key", "note"}, {"value", "hi there!"}})));
  json gs = Server(a_);
  json labels = FleetLabels();
  labels["agones.dev/sdk-mode"] = "ranked";
  EXPECT_EQ(gs["metadata"]["labels"], labels);
  EXPECT_EQ(gs["metadata"]["annotations"], json({{"agones.dev/sdk-note", "hi there!"}}));
  json got = A().Get("/gameserver").body;
  EXPECT_EQ(got["object_meta"]["labels"], gs["metadata"]["labels"]);
  EXPECT_EQ(got["object_meta"]["annotations"], gs["metadata"]["annotations"]);
  EXPECT_EQ(got["object_meta"]["resource_version"], gs["metadata"]["resourceVersion"]);

  // Reserve for 2 s: Reserved, then Ready again on its own.
  EXPECT_TRUE(OkEmpty(A().Post("/reserve", {{"seconds", "2"}})));
  gs = Server(a_);
  EXPECT_EQ(gs["status"]["state"], "Reserved");
  EXPECT_TRUE(gs["status"].contains("reservedUntil"));
  EXPECT_TRUE(PollUntil([&] { return StateOf(a_) == "Ready"; }, 15s)) << Server(a_).dump();

  // Reserve until further notice ("0"), cancelled by Ready.
  EXPECT_TRUE(OkEmpty(A().Post("/reserve", {{"seconds", "0"}})));
  gs = Server(a_);
  EXPECT_EQ(gs["status"]["state"], "Reserved");
  EXPECT_FALSE(gs["status"].contains("reservedUntil")) << gs.dump();
  EXPECT_TRUE(OkEmpty(A().Post("/ready")));
  EXPECT_EQ(StateOf(a_), "Ready");

  // Allocate: Allocated, stamped agones.dev/last-allocated.
  EXPECT_TRUE(OkEmpty(A().Post("/allocate")));
  gs = Server(a_);
  EXPECT_EQ(gs["status"]["state"], "Allocated");
  ASSERT_TRUE(gs["metadata"]["annotations"].contains("agones.dev/last-allocated")) << gs.dump();
  EXPECT_GT(EpochSeconds(gs["metadata"]["annotations"]["agones.dev/last-allocated"]), 0);
  EXPECT_EQ(A().Get("/gameserver").body["status"]["state"], "Allocated");

  // Ready again: Allocated → Ready, for reuse.
  EXPECT_TRUE(OkEmpty(A().Post("/ready")));
  EXPECT_EQ(StateOf(a_), "Ready");

  // Watch: the server at once, then one line per change.
  WatchStream watch(A().port());
  ASSERT_EQ(watch.status(), 200);
  EXPECT_TRUE(watch.chunked());
  EXPECT_EQ(watch.content_type(), "application/json");
  json first = watch.Next(5s);
  ASSERT_TRUE(first.is_object()) << "no first line at once";
  ASSERT_EQ(first.size(), 1u) << first.dump();
  EXPECT_TRUE(SameJson(first["result"], A().Get("/gameserver").body));
  EXPECT_EQ(first["result"]["status"]["state"], "Ready");

  EXPECT_TRUE(OkEmpty(A().Put("/metadata/label", {{"key", "watched"}, {"value", "yes"}})));
  json change = watch.Next(5s);
  ASSERT_TRUE(change.is_object()) << "no line after the label changed";
  EXPECT_EQ(change["result"]["object_meta"]["labels"]["agones.dev/sdk-watched"], "yes")
      << change.dump();
  EXPECT_TRUE(SameJson(change["result"], A().Get("/gameserver").body));
  EXPECT_NE(change["result"]["object_meta"]["resource_version"],
            first["result"]["object_meta"]["resource_version"]);

  // A second watcher gets the same lines; when it hangs up, the first goes on.
  {
    WatchStream second(A().port());
    ASSERT_EQ(second.status(), 200);
    EXPECT_TRUE(SameJson(second.Next(5s), change));
    EXPECT_TRUE(Ok(A().Patch("/v1beta1/counters/rooms", {{"countDiff", "1"}}),
                   {{"name", "rooms"}, {"count", "1"}, {"capacity", "10"}}));
    json counted = watch.Next(5s);
    EXPECT_EQ(counted["result"]["status"]["counters"]["rooms"],
              json({{"count", "1"}, {"capacity", "10"}}))
        << counted.dump();
    EXPECT_TRUE(SameJson(second.Next(5s), counted));
  }
  EXPECT_TRUE(Ok(A().Post("/v1beta1/lists/maps:addValue", {{"value", "dust"}}),
                 {{"name", "maps"}, {"capacity", "3"}, {"values", {"dust"}}}));
  json listed = watch.Next(5s);
  EXPECT_EQ(listed["result"]["status"]["lists"]["maps"],
            json({{"capacity", "3"}, {"values", {"dust"}}}))
      << listed.dump();

  // Shutdown: the watch sees Shutdown, then ends when the server is gone.
  EXPECT_TRUE(OkEmpty(A().Post("/shutdown")));
  json last = watch.Next(5s);
  ASSERT_TRUE(last.is_object()) << "no line after shutdown";
  EXPECT_EQ(last["result"]["status"]["state"], "Shutdown");
  while (watch.Next(30s).is_object()) {
  }
  EXPECT_TRUE(watch.ended()) << "the watch ends once the server is gone";
  EXPECT_TRUE(PollUntil(
      [&] {
        int status = 0;
        muster_.Call("GET", "/v1/gameservers/" + a_, nullptr, &status);
        return status == 404;
      },
      30s));
}

// ---------------------------------------------------------------- alpha: players

TEST_F(SdkRestGateway, AlphaPlayerTracking) {
  EXPECT_TRUE(OkEmpty(A().Put("/alpha/player/capacity", {{"count", "4"}})));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/capacity"), {{"count", "4"}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/count"), {{"count", "0"}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected"), {{"list", json::array()}}));

  EXPECT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", "p1"}}), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", "p1"}}), {{"bool", false}}))
      << "already connected";
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/p1"), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/p9"), {{"bool", false}}));

  for (const char* id : {"p2", "p3", "p4"})
    EXPECT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", id}}), {{"bool", true}})) << id;
  const json full = Server(a_);
  EXPECT_TRUE(Refuses(A().Post("/alpha/player/connect", {{"playerID", "p5"}}), 400, "OutOfRange",
                      "playerID", "capacity"));
  EXPECT_TRUE(SameJson(Server(a_), full)) << "a refused connect changes nothing";
  EXPECT_TRUE(Ok(A().Get("/alpha/player/count"), {{"count", "4"}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected"), {{"list", {"p1", "p2", "p3", "p4"}}}));

  EXPECT_TRUE(Ok(A().Post("/alpha/player/disconnect", {{"playerID", "p2"}}), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Post("/alpha/player/disconnect", {{"playerID", "p2"}}), {{"bool", false}}))
      << "not connected any more";
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/p2"), {{"bool", false}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/count"), {{"count", "3"}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected"), {{"list", {"p1", "p3", "p4"}}}));
  EXPECT_TRUE(OkEmpty(A().Put("/alpha/player/capacity", {{"count", "10"}})));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/capacity"), {{"count", "10"}}));

  // The management API and the GameServer message agree.
  EXPECT_EQ(Server(a_)["status"]["players"],
            json({{"count", 3}, {"capacity", 10}, {"ids", {"p1", "p3", "p4"}}}));
  EXPECT_EQ(A().Get("/gameserver").body["status"]["players"],
            json({{"count", "3"}, {"capacity", "10"}, {"ids", {"p1", "p3", "p4"}}}));

  // Player IDs in the path: escaped as a URL path segment is ('+' is a literal there,
  // %XX is decoded), then compared with the IDs connected through the JSON body.
  EXPECT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", "x+y"}}), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", "x y/z"}}), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/x%2By"), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/x%20y%2Fz"), {{"bool", true}}));
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/x+y"), {{"bool", true}}))
      << "'+' in a URL path is a plus sign, not a space";
  EXPECT_TRUE(Ok(A().Get("/alpha/player/connected/x%20y"), {{"bool", false}}));
  EXPECT_TRUE(
      Ok(A().Get("/alpha/player/connected"), {{"list", {"p1", "p3", "p4", "x+y", "x y/z"}}}));

  // B's own port still sees B's players: none.
  EXPECT_TRUE(Ok(B().Get("/alpha/player/count"), {{"count", "0"}}));
  EXPECT_TRUE(Ok(B().Get("/alpha/player/capacity"), {{"count", "4"}}));
  EXPECT_TRUE(Ok(B().Get("/alpha/player/connected/p1"), {{"bool", false}}));
}

// ---------------------------------------------------------------- beta: counters and lists

TEST_F(SdkRestGateway, BetaCounters) {
  auto counter = [](int count, int capacity) {
    return json{{"name", "rooms"},
                {"count", std::to_string(count)},
                {"capacity", std::to_string(capacity)}};
  };
  EXPECT_TRUE(Ok(A().Get("/v1beta1/counters/rooms"), counter(0, 10)));
  EXPECT_TRUE(Ok(A().Patch("/v1beta1/counters/rooms", {{"countDiff", "3"}}), counter(3, 10)));
  EXPECT_TRUE(Ok(A().Patch("/v1beta1/counters/rooms", {{"count", "5"}}), counter(5, 10)));
  EXPECT_TRUE(Ok(A().Patch("/v1beta1/counters/rooms", {{"capacity", "20"}}), counter(5, 20)));
  EXPECT_TRUE(Ok(A().Get("/v1beta1/counters/rooms"), counter(5, 20)));

  // Out of [0, capacity]: 400, nothing changed.
  const json before = Server(a_);
  EXPECT_TRUE(Refuses(A().Patch("/v1beta1/counters/rooms", {{"countDiff", "-6"}}), 400,
                      "OutOfRange", "countDiff", "[0, 20]"));
  EXPECT_TRUE(Refuses(A().Patch("/v1beta1/counters/rooms", {{"countDiff", "16"}}), 400,
                      "OutOfRange", "countDiff", "[0, 20]"));
  EXPECT_TRUE(
      Refuses(A().Patch("/v1beta1/counters/rooms", {{"count", "21"}}), 400, "OutOfRange", "count"));
  EXPECT_TRUE(Ok(A().Get("/v1beta1/counters/rooms"), counter(5, 20)));
  EXPECT_TRUE(SameJson(Server(a_), before));

  // A counter the template does not declare: 404.
  EXPECT_TRUE(Refuses(A().Get("/v1beta1/counters/nope"), 404, "NotFound", "name", "nope"));
  EXPECT_TRUE(Refuses(A().Patch("/v1beta1/counters/nope", {{"countDiff", "1"}}), 404, "NotFound",
                      "name", "nope"));
  EXPECT_TRUE(SameJson(Server(a_), before));

  EXPECT_EQ(Server(a_)["status"]["counters"], json({{"rooms", {{"count", 5}, {"capacity", 20}}}}));
  EXPECT_EQ(A().Get("/gameserver").body["status"]["counters"],
            json({{"rooms", {{"count", "5"}, {"capacity", "20"}}}}));
  EXPECT_TRUE(Ok(B().Get("/v1beta1/counters/rooms"), counter(0, 10)));
}

TEST_F(SdkRestGateway, BetaLists) {
  auto list = [](int capacity, std::vector<std::string> values) {
    return json{{"name", "maps"}, {"capacity", std::to_string(capacity)}, {"values", values}};
  };
  EXPECT_TRUE(Ok(A().Get("/v1beta1/lists/maps"), list(3, {})));
  EXPECT_TRUE(Ok(A().Post("/v1beta1/lists/maps:addValue", {{"value", "dust"}}), list(3, {"dust"})));

  const json one = Server(a_);
  EXPECT_TRUE(Refuses(A().Post("/v1beta1/lists/maps:addValue", {{"value", "dust"}}), 409,
                      "AlreadyExists", "value", "dust"));
  EXPECT_TRUE(SameJson(Server(a_), one));

  EXPECT_TRUE(Ok(A().Post("/v1beta1/lists/maps:addValue", {{"value", "inferno"}}),
                 list(3, {"dust", "inferno"})));
  EXPECT_TRUE(Ok(A().Post("/v1beta1/lists/maps:addValue", {{"value", "nuke"}}),
                 list(3, {"dust", "inferno", "nuke"})));
  const json full = Server(a_);
  EXPECT_TRUE(Refuses(A().Post("/v1beta1/lists/maps:addValue", {{"value", "mirage"}}), 400,
                      "OutOfRange", "value", "capacity"));
  EXPECT_TRUE(SameJson(Server(a_), full));

  EXPECT_TRUE(Ok(A().Post("/v1beta1/lists/maps:removeValue", {{"value", "inferno"}}),
                 list(3, {"dust", "nuke"})));
  const json two = Server(a_);
  EXPECT_TRUE(Refuses(A().Post("/v1beta1/lists/maps:removeValue", {{"value", "inferno"}}), 404,
                      "NotFound", "value", "inferno"));
  EXPECT_TRUE(Refuses(A().Get("/v1beta1/lists/nope"), 404, "NotFound", "name", "nope"));
  EXPECT_TRUE(Refuses(A().Post("/v1beta1/lists/nope:addValue", {{"value", "x"}}), 404, "NotFound",
                      "name", "nope"));
  EXPECT_TRUE(SameJson(Server(a_), two));

  EXPECT_TRUE(Ok(A().Patch("/v1beta1/lists/maps", {{"capacity", "5"}}), list(5, {"dust", "nuke"})));
  EXPECT_TRUE(Ok(A().Get("/v1beta1/lists/maps"), list(5, {"dust", "nuke"})));

  EXPECT_EQ(Server(a_)["status"]["lists"],
            json({{"maps", {{"capacity", 5}, {"values", {"dust", "nuke"}}}}}));
  EXPECT_EQ(A().Get("/gameserver").body["status"]["lists"],
            json({{"maps", {{"capacity", "5"}, {"values", {"dust", "nuke"}}}}}));
  EXPECT_TRUE(Ok(B().Get("/v1beta1/lists/maps"), list(3, {})));
}

// ---------------------------------------------------------------- bad input

TEST_F(SdkRestGateway, BadInputIsRefusedAndChangesNothing) {
  const json before = Server(a_);
  auto refused = [&](verb method, const std::string& path, const std::string& body, int status,
                     const std::string& error, const std::string& field,
                     const std::string& mention = "") {
    EXPECT_TRUE(Refuses(A().Call(method, path, body), status, error, field, mention))
        << method << " " << path << " " << body.substr(0, 80);
    EXPECT_TRUE(SameJson(Server(a_), before)) << method << " " << path << " changed the server";
  };
  // Bodies that are not the message.
  refused(verb::post, "/ready", "{not json", 400, "InvalidArgument", "body", "Empty");
  refused(verb::put, "/metadata/label", R"({"key": "mode", "value": )", 400, "InvalidArgument",
          "body", "KeyValue");
  refused(verb::post, "/reserve", R"({"seconds": "soon"})", 400, "InvalidArgument", "body",
          "Duration");
  refused(verb::patch, "/v1beta1/counters/rooms", R"({"countDiff": [1]})", 400, "InvalidArgument",
          "body", "CounterUpdateRequest");
  refused(verb::post, "/health", "", 400, "InvalidArgument", "body");
  // Keys and values that are not valid.
  refused(verb::put, "/metadata/label", R"({"key": "has space", "value": "x"})", 400,
          "InvalidArgument", "key", "has space");
  refused(verb::put, "/metadata/label", R"({"value": "x"})", 400, "InvalidArgument", "key");
  refused(verb::put, "/metadata/label", R"({"key": "mode", "value": "not valid!"})", 400,
          "InvalidArgument", "value", "not valid!");
  refused(verb::put, "/metadata/annotation", R"({"key": "has space", "value": "x"})", 400,
          "InvalidArgument", "key", "has space");
  refused(verb::post, "/reserve", R"({"seconds": "-5"})", 400, "InvalidArgument", "seconds");
  refused(verb::post, "/reserve", R"({"seconds": "1000000000000000000"})", 400, "InvalidArgument",
          "seconds");  // its deadline would overflow into the past
  refused(verb::put, "/alpha/player/capacity", R"({"count": "-1"})", 400, "InvalidArgument",
          "count");
  refused(verb::post, "/alpha/player/connect", "{}", 400, "InvalidArgument", "playerID");
  refused(verb::patch, "/v1beta1/lists/maps?update_mask=colour", "{}", 400, "InvalidArgument",
          "update_mask", "colour");
  refused(verb::patch, "/v1beta1/lists/maps", R"({"capacity": "1001"})", 400, "OutOfRange",
          "capacity");
  // Over the SDK port's 64 KiB body limit.
  const std::string big = R"({"key":"big","value":")" + std::string(70000, 'x') + R"("})";
  refused(verb::put, "/metadata/label", big, 413, "PayloadTooLarge", "body", "65536");
  // Paths and methods the gateway does not serve.
  refused(verb::get, "/no/such/path", "", 404, "NotFound", "", "/no/such/path");
  refused(verb::post, "/v1beta1/counters/rooms", "{}", 405, "MethodNotAllowed", "", "POST");
  // The port still answers after all that.
  EXPECT_TRUE(OkEmpty(A().Post("/health")));
  EXPECT_TRUE(OkEmpty(A().Post("/ready", {{"unknown", "fields are ignored"}})));
  EXPECT_TRUE(SameJson(Server(a_), before));

  // Just under the limit is fine (annotation values have no length rule).
  const std::string value(60 * 1024, 'v');
  EXPECT_TRUE(OkEmpty(A().Put("/metadata/annotation", {{"key", "long"}, {"value", value}})));
  EXPECT_EQ(Server(a_)["metadata"]["annotations"]["agones.dev/sdk-long"], value);
  // Illegal transitions: see ShuttingDownRefusesTransitions.
}

// A standalone server whose process ignores SIGTERM, so that it stays in Shutdown for its
// whole grace period: every transition asked for meanwhile is refused with 409. It
// declares no counters, lists or players: the GameServer still carries them, empty.
TEST_F(SdkRestGateway, ShuttingDownRefusesTransitions) {
  json manifest = json::parse(R"({
    "apiVersion": "muster.dev/v1", "kind": "GameServer",
    "metadata": {"name": "stubborn"},
    "spec": {
      "ports": [{"name": "game", "protocol": "TCP"}],
      "health": {"disabled": true},
      "template": {"spec": {"terminationGracePeriodSeconds": 10,
                            "containers": [{"name": "c", "command":
                              ["/bin/sh", "-c", "trap '' TERM; exec tail -f /dev/null"]}]}}}})");
  int status = 0;
  json answer = muster_.Call("POST", "/v1/gameservers", manifest, &status);
  ASSERT_EQ(status, 201) << answer.dump();
  ASSERT_TRUE(PollUntil([&] { return StateOf("stubborn") == "Starting"; }, 15s))
      << Server("stubborn").dump();
  json gs = Server("stubborn");
  SdkPort sdk(gs["status"]["sdkPorts"]["http"].get<int>());
  ASSERT_TRUE(OkEmpty(sdk.Post("/ready")));

  gs = Server("stubborn");
  ASSERT_TRUE(gs.contains("status")) << gs.dump();
  const json& st = gs["status"];
  const json want = {
      {"object_meta",
       {{"name", "stubborn"},
        {"namespace", "default"},
        {"uid", "stubborn"},
        {"resource_version", gs["metadata"]["resourceVersion"]},
        {"generation", "1"},
        {"creation_timestamp", std::to_string(EpochSeconds(gs["metadata"]["creationTimestamp"]))},
        {"deletion_timestamp", "0"},
        {"annotations", json::object()},
        {"labels", json::object()}}},
      {"spec",
       {{"health",
         {{"disabled", true},  // the contract's defaults: 5 s, 5 s, 3
          {"period_seconds", 5},
          {"failure_threshold", 3},
          {"initial_delay_seconds", 5}}}}},
      {"status",
       {{"state", "Ready"},
        {"address", st["address"]},
        {"ports", json::array({{{"name", "game"}, {"port", st["ports"][0]["port"]}}})},
        {"players", {{"count", "0"}, {"capacity", "0"}, {"ids", json::array()}}},
        {"counters", json::object()},
        {"lists", json::object()},
        {"addresses", json::array({{{"type", "InternalIP"}, {"address", st["address"]}}})}}}};
  EXPECT_TRUE(Ok(sdk.Get("/gameserver"), want));
  EXPECT_TRUE(Refuses(sdk.Get("/v1beta1/counters/rooms"), 404, "NotFound", "name", "rooms"));

  ASSERT_TRUE(OkEmpty(sdk.Post("/shutdown")));
  const json shutting = Server("stubborn");
  ASSERT_EQ(shutting["status"]["state"], "Shutdown");
  EXPECT_TRUE(Refuses(sdk.Post("/ready"), 409, "FailedPrecondition", "", "shutting down"));
  EXPECT_TRUE(Refuses(sdk.Post("/reserve", {{"seconds", "5"}}), 409, "FailedPrecondition", "",
                      "shutting down"));
  EXPECT_TRUE(Refuses(sdk.Post("/allocate"), 409, "FailedPrecondition", "", "shutting down"));
  EXPECT_TRUE(SameJson(Server("stubborn"), shutting));
  // SIGKILL after the grace period; then the record goes.
  EXPECT_TRUE(PollUntil(
      [&] {
        muster_.Call("GET", "/v1/gameservers/stubborn", nullptr, &status);
        return status == 404;
      },
      30s));
}

// ---------------------------------------------------------------- isolation

TEST_F(SdkRestGateway, EachPortActsOnItsOwnServerOnly) {
  WatchStream watch_b(B().port());
  ASSERT_EQ(watch_b.status(), 200);
  json first_b = watch_b.Next(5s);
  EXPECT_EQ(first_b["result"]["object_meta"]["name"], b_) << first_b.dump();

  // Everything on A's port.
  ASSERT_TRUE(OkEmpty(A().Put("/metadata/label", {{"key", "side"}, {"value", "a"}})));
  ASSERT_TRUE(OkEmpty(A().Put("/metadata/annotation", {{"key", "who"}, {"value", "a"}})));
  ASSERT_TRUE(Ok(A().Post("/alpha/player/connect", {{"playerID", "alice"}}), {{"bool", true}}));
  ASSERT_TRUE(OkEmpty(A().Put("/alpha/player/capacity", {{"count", "7"}})));
  ASSERT_TRUE(Ok(A().Patch("/v1beta1/counters/rooms", {{"countDiff", "2"}}),
                 {{"name", "rooms"}, {"count", "2"}, {"capacity", "10"}}));
  ASSERT_TRUE(Ok(A().Post("/v1beta1/lists/maps:addValue", {{"value", "dust"}}),
                 {{"name", "maps"}, {"capacity", "3"}, {"values", {"dust"}}}));
  ASSERT_TRUE(OkEmpty(A().Post("/allocate")));

  // A has all of it.
  json a = Server(a_);
  EXPECT_EQ(a["status"]["state"], "Allocated");
  EXPECT_EQ(a["metadata"]["labels"]["agones.dev/sdk-side"], "a");
  EXPECT_EQ(a["metadata"]["annotations"]["agones.dev/sdk-who"], "a");
  EXPECT_EQ(a["status"]["players"], json({{"count", 1}, {"capacity", 7}, {"ids", {"alice"}}}));
  EXPECT_EQ(a["status"]["counters"], json({{"rooms", {{"count", 2}, {"capacity", 10}}}}));
  EXPECT_EQ(a["status"]["lists"], json({{"maps", {{"capacity", 3}, {"values", {"dust"}}}}}));

  // B has none of it, through the API (TearDown compares all of B) and through its port.
  json b = B().Get("/gameserver").body;
  EXPECT_EQ(b["object_meta"]["name"], b_);
  EXPECT_EQ(b["status"]["state"], "Ready");
  EXPECT_EQ(b["object_meta"]["labels"], FleetLabels());
  EXPECT_EQ(b["object_meta"]["annotations"], json::object());
  EXPECT_EQ(b["status"]["players"],
            json({{"count", "0"}, {"capacity", "4"}, {"ids", json::array()}}));
  EXPECT_EQ(b["status"]["counters"], json({{"rooms", {{"count", "0"}, {"capacity", "10"}}}}));
  EXPECT_EQ(b["status"]["lists"], json({{"maps", {{"capacity", "3"}, {"values", json::array()}}}}));
  EXPECT_TRUE(SameJson(Server(b_), b_before_));

  // And the other way round: B's port changes B, not A.
  ASSERT_TRUE(OkEmpty(B().Put("/metadata/label", {{"key", "side"}, {"value", "b"}})));
  EXPECT_EQ(Server(b_)["metadata"]["labels"]["agones.dev/sdk-side"], "b");
  EXPECT_TRUE(SameJson(Server(a_), a));
  // B's watch saw none of A's changes: the next line on it is B's own label, which
  // committed after all of them.
  json next_b = watch_b.Next(5s);
  EXPECT_EQ(next_b["result"]["object_meta"]["name"], b_) << next_b.dump();
  EXPECT_EQ(next_b["result"]["object_meta"]["labels"]["agones.dev/sdk-side"], "b") << next_b.dump();
  EXPECT_TRUE(SameJson(next_b["result"], B().Get("/gameserver").body));
  b_before_ = Server(b_);  // B's own change is expected; TearDown checks nothing else came
}

}  // namespace
}  // namespace muster::testing
