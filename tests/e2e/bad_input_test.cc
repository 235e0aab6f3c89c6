// Bad input to the management API: a clear 4xx naming the field, and nothing stored.
#include <gtest/gtest.h>

#include "support/muster_process.h"

namespace muster::testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    muster_ = new MusterProcess({"24300-24399", "24400-24599", {}});
    ASSERT_TRUE(muster_->Start());
  }
  static void TearDownTestSuite() {
    delete muster_;
    muster_ = nullptr;
  }

  // Posts `body` and checks: status, the field named, and that nothing was stored.
  void ExpectRejected(const std::string& body, int want_status, const std::string& want_field,
                      const std::string& content_type = "application/yaml") {
    auto res = muster_->Raw("POST", "/v1/fleets", body, content_type);
    EXPECT_EQ(res.status, want_status) << res.body;
    json err = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << res.body;
    EXPECT_FALSE(err.value("message", "").empty()) << res.body;
    EXPECT_TRUE(err.contains("error")) << res.body;
    EXPECT_EQ(err.value("field", ""), want_field) << res.body;
    json fleets = muster_->Call("GET", "/v1/fleets");
    EXPECT_TRUE(fleets["items"].empty()) << "something was stored: " << fleets.dump();
    EXPECT_TRUE(muster_->GameServers().empty());
  }

  static std::string Fleet(const std::string& spec_patch_yaml) {
    return "apiVersion: muster.dev/v1\nkind: Fleet\nmetadata:\n  name: bad\n" + spec_patch_yaml;
  }

  static MusterProcess* muster_;
};
MusterProcess* BadInput::muster_ = nullptr;

const char* kGoodTemplate = R"(  template:
    spec:
      ports:
        - name: game
      template:
        spec:
          containers:
            - name: c
              command: ["sleep", "100"]
)";

TEST_F(BadInput, InvalidYaml) {
  ExpectRejected("apiVersion: muster.dev/v1\nkind: Fleet\nmetadata: {name: [unclosed\n", 400,
                 "body");
}

TEST_F(BadInput, InvalidJson) {
  ExpectRejected("{\"apiVersion\": ", 400, "body", "application/json");
}

TEST_F(BadInput, UnknownKind) {
  ExpectRejected("apiVersion: muster.dev/v1\nkind: Fleeet\nmetadata: {name: x}\n", 400, "kind");
}

TEST_F(BadInput, WrongApiVersion) {
  ExpectRejected("apiVersion: agones.dev/v1\nkind: Fleet\nmetadata: {name: x}\n", 400,
                 "apiVersion");
}

TEST_F(BadInput, MissingCommand) {
  ExpectRejected(Fleet(R"(spec:
  replicas: 1
  template:
    spec:
      template:
        spec:
          containers:
            - name: c
              image: x
)"),
                 400, "spec.template.spec.template.spec.containers[0].command");
}

TEST_F(BadInput, PortOutOfRange) {
  ExpectRejected(Fleet(R"(spec:
  replicas: 1
  template:
    spec:
      ports:
        - name: game
          portPolicy: Static
          hostPort: 70000
      template:
        spec:
          containers: [{name: c, command: [x]}]
)"),
                 400, "spec.template.spec.ports[0].hostPort");
}

TEST_F(BadInput, DuplicatePortNames) {
  ExpectRejected(Fleet(R"(spec:
  replicas: 1
  template:
    spec:
      ports:
        - name: game
        - name: game
      template:
        spec:
          containers: [{name: c, command: [x]}]
)"),
                 400, "spec.template.spec.ports[1].name");
}

TEST_F(BadInput, NegativeReplicas) {
  ExpectRejected(Fleet("spec:\n  replicas: -1\n" + std::string(kGoodTemplate)), 400,
                 "spec.replicas");
}

TEST_F(BadInput, UnknownField) {
  ExpectRejected(Fleet("spec:\n  replicas: 1\n  replcias: 2\n" + std::string(kGoodTemplate)), 400,
                 "spec.replcias");
}

TEST_F(BadInput, UnknownNestedField) {
  ExpectRejected(Fleet(R"(spec:
  replicas: 1
  template:
    spec:
      ports:
        - name: game
          prot: UDP
      template:
        spec:
          containers: [{name: c, command: [x]}]
)"),
                 400, "spec.template.spec.ports[0].prot");
}

TEST_F(BadInput, WrongType) {
  ExpectRejected(Fleet("spec:\n  replicas: many\n" + std::string(kGoodTemplate)), 400,
                 "spec.replicas");
}

TEST_F(BadInput, NoTokenIs401) {
  auto res = muster_->Raw("GET", "/v1/fleets", "", "", /*token=*/false);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(json::parse(res.body)["field"], "Authorization");
  auto post = muster_->Raw("POST", "/v1/fleets",
                           Fleet("spec:\n  replicas: 1\n" + std::string(kGoodTemplate)),
                           "application/yaml", false);
  EXPECT_EQ(post.status, 401);
  EXPECT_TRUE(muster_->Call("GET", "/v1/fleets")["items"].empty());
}

TEST_F(BadInput, WrongTokenIs401AndHealthzIsPublic) {
  auto hp = api::ParseAddress(muster_->addr()).value();
  api::HttpClient client(hp.first, hp.second, "mst_not_the_token");
  auto res = client.Send(api::http::verb::get, "/v1/gameservers");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(muster_->Raw("GET", "/healthz", "", "", false).status, 200);
}

TEST_F(BadInput, OversizedBodyIs413) {
  std::string huge = Fleet("spec:\n  replicas: 1\n" + std::string(kGoodTemplate)) + "# " +
                     std::string(2 << 20, 'x') + "\n";
  auto res = muster_->Raw("POST", "/v1/fleets", huge, "application/yaml");
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(muster_->Call("GET", "/v1/fleets")["items"].empty());
}

TEST_F(BadInput, BadScaleRequests) {
  int status = 0;
  json err = muster_->Call("PUT", "/v1/fleets/nope/scale", {{"replicas", 1}}, &status);
  EXPECT_EQ(status, 404);
  err = muster_->Call("PUT", "/v1/fleets/nope/scale", {{"replicas", -3}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(err["field"], "replicas");
}

// Bytes that are not UTF-8 may reach an answer (quoted in an error); they never take
// the server down, and what it answers is JSON.
TEST_F(BadInput, BytesThatAreNotUtf8AreAnsweredNotFatal) {
  for (const char* path : {"/v1/nothing%FF", "/v1/fleets/x%C3", "/v1/gameservers/%ED%A0%80"}) {
    auto res = muster_->Raw("GET", path, "");
    EXPECT_EQ(res.status, 404) << path << " " << res.body;
    EXPECT_FALSE(json::parse(res.body, nullptr, false).is_discarded()) << res.body;
  }
  // Nor in a manifest: refused whole, naming the body.
  auto manifest = muster_->Raw(
      "POST", "/v1/fleets", "apiVersion: muster.dev/v1\nkind: Fleet\nmetadata: {name: \"x\xff\"}\n",
      "application/yaml");
  EXPECT_EQ(manifest.status, 400) << manifest.body;
  int status = 0;
  muster_->Call("GET", "/v1/fleets", nullptr, &status);
  EXPECT_EQ(status, 200) << "still serving";
}

TEST_F(BadInput, AManifestWhoseMetadataIsNoObjectIs400OnEveryPath) {
  for (const char* metadata : {"\"x\"", "5", "[1]"}) {
    std::string body =
        std::string(R"({"apiVersion":"muster.dev/v1","kind":"Fleet","metadata":)") + metadata + "}";
    auto res = muster_->Raw("PUT", "/v1/fleets/x", body);
    EXPECT_EQ(res.status, 400) << metadata << " " << res.body;
    EXPECT_EQ(json::parse(res.body)["field"], "metadata") << res.body;
  }
  EXPECT_TRUE(muster_->Call("GET", "/v1/fleets")["items"].empty());
}

TEST_F(BadInput, ANodeMaintenanceTimeAndALogLimitAreReadStrictly) {
  const std::string node = muster_->Call("GET", "/v1/nodes")["items"][0]["name"];
  for (const char* at : {"2026-13-45T99:99:99Z", "2026-1-1T1:1:1junkZ", "1969-12-31T23:59:59Z"}) {
    auto res = muster_->Raw("PUT", "/v1/nodes/" + node + "/maintenance", json{{"at", at}}.dump());
    EXPECT_EQ(res.status, 400) << at << " " << res.body;
    EXPECT_EQ(json::parse(res.body)["field"], "at");
  }
  EXPECT_EQ(muster_->Call("GET", "/v1/nodes/" + node).value("maintenanceAt", ""), "")
      << "nothing was planned";
  for (const char* limit : {"-1", "12abc", "0x10"}) {
    auto res =
        muster_->Raw("GET", std::string("/v1/gameservers/nope/logs?limitBytes=") + limit, "");
    EXPECT_EQ(res.status, 400) << limit << " " << res.body;
    EXPECT_EQ(json::parse(res.body)["field"], "limitBytes");
  }
}

TEST_F(BadInput, UnknownPathAndMethod) {
  int status = 0;
  muster_->Call("GET", "/v1/nothing", nullptr, &status);
  EXPECT_EQ(status, 404);
  auto res = muster_->Raw("PATCH", "/v1/fleets", "");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["allow"], "GET, POST") << "a 405 says which methods the path takes";
}

}  // namespace
}  // namespace muster::testing
