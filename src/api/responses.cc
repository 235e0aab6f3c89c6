#include "api/responses.h"

#include <map>
#include <string_view>

namespace muster::api {

int HttpStatusFor(core::Code code) {
  switch (code) {
    case core::Code::kOk: return 200;
    case core::Code::kInvalidArgument:
    case core::Code::kOutOfRange: return 400;
    case core::Code::kUnauthenticated: return 401;
    case core::Code::kPermissionDenied: return 403;
    case core::Code::kNotFound: return 404;
    case core::Code::kAlreadyExists:
    case core::Code::kFailedPrecondition:
    case core::Code::kAborted: return 409;
    case core::Code::kResourceExhausted: return 429;
    case core::Code::kUnavailable: return 503;
    case core::Code::kInternal: return 500;
  }
  return 500;
}

Response JsonResponse(int status, const nlohmann::json& body) {
  // Messages may quote what a client sent; bytes that are not UTF-8 become U+FFFD.
  return JsonTextResponse(status,
                          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response JsonTextResponse(int status, std::string json_text) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(json_text);
  res.body() += '\n';
  return res;
}

namespace {

// The gRPC status code (a number) for an error's name, as grpc-gateway puts it in its
// error bodies ({"code": 5, "message": ..., "details": []}); what Agones' allocator REST
// and its SDK's REST gateway answer, so clients of theirs that read `code` read it here.
int GrpcCode(std::string_view error) {
  static const std::map<std::string_view, int> kCodes = {
      {"InvalidArgument", 3}, {"BadRequest", 3},         {"NotFound", 5},
      {"AlreadyExists", 6},   {"PermissionDenied", 7},   {"ResourceExhausted", 8},
      {"PayloadTooLarge", 8}, {"FailedPrecondition", 9}, {"Conflict", 10},
      {"OutOfRange", 11},     {"MethodNotAllowed", 12},  {"HttpVersionNotSupported", 12},
      {"Internal", 13},       {"Unavailable", 14},       {"Unauthenticated", 16}};
  auto it = kCodes.find(error);
  return it == kCodes.end() ? 2 : it->second;  // 2: UNKNOWN
}

nlohmann::json ErrorBody(const std::string& error, const std::string& message,
                         const std::string& field) {
  return {{"error", error},
          {"message", message},
          {"field", field},
          {"code", GrpcCode(error)},
          {"details", nlohmann::json::array()}};
}

}  // namespace

Response ErrorResponse(int status, const std::string& code, const std::string& message,
                       const std::string& field) {
  return JsonResponse(status, ErrorBody(code, message, field));
}

Response CannotStream() {
  return ErrorResponse(505, "HttpVersionNotSupported",
                       "this answer is streamed (chunked): ask with HTTP/1.1", "");
}

Response ErrorResponse(const core::Status& status) {
  nlohmann::json body = ErrorBody(core::CodeName(status.code()), status.message(), status.field());
  if (status.problems().size() > 1) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : status.problems())
      problems.push_back({{"field", p.field}, {"message", p.message}});
    body["problems"] = problems;
  }
  return JsonResponse(HttpStatusFor(status.code()), body);
}

Response TextResponse(int status, std::string body) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

}  // namespace muster::api
