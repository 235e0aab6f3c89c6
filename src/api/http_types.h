// HTTP types shared by the API, the SDK endpoints and the client.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <boost/beast/http.hpp>

namespace muster::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Sends the response. Thread-safe; call exactly once.
using Reply = std::function<void(Response)>;
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
