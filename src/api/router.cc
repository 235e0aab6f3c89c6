#include "api/router.h"

#include "api/responses.h"

namespace muster::api {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

// Percent-decoding. `+` means a space only in a query string; in a path it is itself.
std::string Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(s[i + 1]) &&
               std::isxdigit(s[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    const size_t close = p.front() == '{' ? p.find('}') : std::string::npos;
    if (close != std::string::npos && close > 1) {
      // "{name}" or "{name}:suffix" (the gateway's custom verbs, e.g. "{name}:addValue").
      const std::string suffix = p.substr(close + 1);
      const std::string& seg = path[i];
      if (seg.size() <= suffix.size() ||
          seg.compare(seg.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
      (*params)[p.substr(1, close - 1)] =
          Decode(seg.substr(0, seg.size() - suffix.size()), /*plus_is_space=*/false);
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string SplitTarget(std::string_view target, std::map<std::string, std::string>* query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      (*query)[Decode(pair, true)] = "";
    else
      (*query)[Decode(pair.substr(0, eq), true)] = Decode(pair.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return std::string(target.substr(0, q));
}

Router::Router(std::vector<Route> routes, const Authenticator* auth) : auth_(auth) {
  for (auto& r : routes) {
    auto segments = Split(r.pattern);
    routes_.push_back({std::move(r), std::move(segments)});
  }
}

void Router::Handle(const Request& req, Reply reply) const {
  Params params;
  std::string path = SplitTarget(req.target(), &params.query);
  auto segments = Split(path);
  std::string allowed;  // the methods the path takes, for a 405's Allow
  for (const Compiled& c : routes_) {
    params.path.clear();
    if (!Match(c.segments, segments, &params.path)) continue;
    if (c.route.method != req.method()) {
      const std::string m(http::to_string(c.route.method));
      if (allowed.find(m) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + m;
      continue;
    }
    if (auth_) {
      if (core::Status s = auth_->Check(req, c.route.scope); !s.ok()) {
        Response res = ErrorResponse(s);
        if (s.code() == core::Code::kUnauthenticated)
          res.set(http::field::www_authenticate, "Bearer");
        return reply(std::move(res));
      }
    }
    return c.route.handler(req, params, std::move(reply));
  }
  if (!allowed.empty()) {
    Response res = ErrorResponse(405, "MethodNotAllowed",
                                 std::string(req.method_string()) + " is not allowed on " + path +
                                     " (allowed: " + allowed + ")",
                                 "");
    res.set(http::field::allow, allowed);
    return reply(std::move(res));
  }
  reply(ErrorResponse(404, "NotFound", "no such path: " + path, ""));
}

}  // namespace muster::api
