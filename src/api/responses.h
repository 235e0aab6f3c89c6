// JSON responses and the one mapping from core::Code to HTTP status.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/http_types.h"
#include "core/status.h"

namespace muster::api {

int HttpStatusFor(core::Code code);

Response JsonResponse(int status, const nlohmann::json& body);
// `json_text` is JSON already (codec::JsonWriter).
Response JsonTextResponse(int status, std::string json_text);
// {"error": code, "message": text, "field": path} (+ "problems" when there are several).
Response ErrorResponse(int status, const std::string& code, const std::string& message,
                       const std::string& field);
Response ErrorResponse(const core::Status& status);
Response TextResponse(int status, std::string body);
// The answer of a streamed route when the reply cannot stream (Reply::can_stream): 505.
Response CannotStream();

}  // namespace muster::api
