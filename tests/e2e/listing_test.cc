// GET /v1/gameservers against the real binary: a listing longer than a page comes as
// one answer with every server once, in name order; a fleet's listing has only its
// own; a client that hangs up halfway leaves the server serving, and one that only
// half-closes gets it all.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"
#include "support/raw_http.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

// A listing is read 200 servers a page (src/api/server_list.cc). With the fleet's two,
// the first test lists exactly two full pages; the second, two with the last not full.
constexpr int kServers = 398;

std::string Name(int i) {  // zero-padded, so that name order is number order
  char buf[32];
  std::snprintf(buf, sizeof buf, "reg-%04d", i);
  return buf;
}

// A plain TCP connection to serve's API, or -1.
int ConnectTo(MusterProcess& muster) {
  const std::string addr = muster.addr();
  return ConnectLoopback(std::stoi(addr.substr(addr.rfind(':') + 1)));
}

void RegisterWithoutSdk(MusterProcess& muster, int n) {
  for (int i = 0; i < n; ++i) {
    json gs = ExternalServer(Name(i), 40000 + i, {{"pool", "listing"}});
    gs["spec"]["external"]["sdk"] = false;
    int status = 0;
    muster.Call("POST", "/v1/gameservers", gs, &status);
    ASSERT_EQ(status, 201) << Name(i);
  }
}

TEST(Listing, ALongListingHasEveryServerOnceInNameOrderAndAFleetOnlyItsOwn) {
  MusterProcess muster({"29400-29409", "29410-29429", {}});
  ASSERT_TRUE(muster.Start());
  int status = 0;
  muster.Call("POST", "/v1/fleets", EchoFleet("mid", 2), &status);  // "mid-…" sorts among them
  ASSERT_EQ(status, 201);
  RegisterWithoutSdk(muster, kServers);
  ASSERT_TRUE(PollUntil([&] { return muster.InState("mid", "Ready").size() == 2; }, 15s));

  auto res = muster.Raw("GET", "/v1/gameservers", "");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.headers["content-type"], "application/json");
  EXPECT_EQ(res.headers["transfer-encoding"], "chunked") << "streamed, not built whole";
  const json list = json::parse(res.body);
  EXPECT_EQ(list["apiVersion"], "muster.dev/v1");
  EXPECT_EQ(list["kind"], "GameServerList");
  ASSERT_EQ(list["items"].size(), static_cast<size_t>(kServers + 2));
  std::vector<std::string> names;
  for (const json& gs : list["items"]) names.push_back(gs["metadata"]["name"]);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "a name twice";
  for (int i = 0; i < kServers; ++i)
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), Name(i))) << Name(i);
  // Each item is the server as GET /v1/gameservers/{name} shows it.
  const json& last = list["items"][kServers + 1];
  EXPECT_EQ(last,
            muster.Call("GET", "/v1/gameservers/" + last["metadata"]["name"].get<std::string>()));

  const json in_fleet = muster.Call("GET", "/v1/gameservers?fleet=mid")["items"];
  ASSERT_EQ(in_fleet.size(), 2u);
  for (const json& gs : in_fleet)
    EXPECT_EQ(gs["metadata"]["ownerReferences"][0]["name"], "mid") << gs.dump();
  EXPECT_TRUE(muster.Call("GET", "/v1/gameservers?fleet=none")["items"].empty());

  // Chunked answers are HTTP/1.1's: an HTTP/1.0 client is told so, not sent what it cannot read.
  int fd = ConnectTo(muster);
  ASSERT_GE(fd, 0);
  const std::string req =
      "GET /v1/gameservers HTTP/1.0\r\nAuthorization: Bearer " + muster.token() + "\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, n);
  ::close(fd);
  EXPECT_EQ(answer.find(" 505 "), answer.find(' ')) << "the status: " << answer;
  EXPECT_NE(answer.find("ask with HTTP/1.1"), std::string::npos) << answer;
}

TEST(Listing, AClientThatHangsUpHalfwayLeavesTheServerServing) {
  MusterProcess muster({"29430-29439", "29440-29449", {}});
  ASSERT_TRUE(muster.Start());
  RegisterWithoutSdk(muster, kServers);
  for (int round = 0; round < 3; ++round) {
    int fd = ConnectTo(muster);
    ASSERT_GE(fd, 0);
    const std::string req = "GET /v1/gameservers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            muster.token() + "\r\n\r\n";
    ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    char buf[4096];
    ASSERT_GT(::read(fd, buf, sizeof buf), 0) << "the listing began";
    ::close(fd);  // halfway: the rest is never read
  }
  // Still serving, and a whole listing still comes.
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers")["items"].size(), static_cast<size_t>(kServers));

  // A client that half-closes after its request (shutdown of its sending side) has not hung
  // up: it gets the whole listing, to the last chunk.
  int fd = ConnectTo(muster);
  ASSERT_GE(fd, 0);
  const std::string req = "GET /v1/gameservers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          muster.token() + "\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, n);
  ::close(fd);
  EXPECT_EQ(answer.rfind("\r\n0\r\n\r\n"), answer.size() - 7) << "ends with the last chunk";
  EXPECT_NE(answer.find("]}\n"), std::string::npos);
}

}  // namespace
}  // namespace muster::testing
