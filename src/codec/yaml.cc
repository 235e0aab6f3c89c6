#include "codec/yaml.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "codec/json_text.h"
#include "codec/json_writer.h"

namespace muster::codec {
namespace {

using nlohmann::json;

json PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  double d = 0;
  auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 == std::errc() && q == s.data() + s.size()) return d;
  return s;
}

// Limits that no manifest comes near, against documents built to exhaust the server: a
// deeply nested one (its later walks recurse) and a YAML "billion laughs" (aliases of
// aliases, each expanded as it becomes JSON).
constexpr size_t kMaxNesting = 100;
constexpr size_t kMaxValues = 200'000;
constexpr size_t kMaxScalarBytes = 16 << 20;  // the text of every value, once expanded

// The deepest nesting of [ and { outside double-quoted strings: exact for JSON, close
// enough for YAML's flow style (block style nests by indentation, which costs bytes).
size_t MaxNesting(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

struct TooManyValues {};

// A key a YAML mapping repeats, at its member path ("spec.replicas"). Last-wins would
// silently drop one of the two.
struct DuplicateKey {
  std::string path;
  std::string key;
};

// What a document may still expand to: values, and the bytes of their text.
struct Budget {
  size_t values = kMaxValues;
  size_t bytes = kMaxScalarBytes;
};

json ToJson(const YAML::Node& node, Budget& budget, const std::string& path) {
  if (budget.values-- == 0) throw TooManyValues{};
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Scalar().size() > budget.bytes) throw TooManyValues{};
      budget.bytes -= node.Scalar().size();
      return node.Tag() == "!" ? json(node.Scalar()) : PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& e : node)
        out.push_back(ToJson(e, budget, path + "[" + std::to_string(out.size()) + "]"));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        if (out.contains(key)) throw DuplicateKey{MemberPath(path, key), key};
        out[key] = ToJson(kv.second, budget, MemberPath(path, key));
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

core::StatusOr<std::vector<json>> ParseDocuments(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return core::InvalidArgument("the document is empty", "body");
  if (!IsUtf8(text)) return core::InvalidArgument("the document is not UTF-8 text", "body");
  if (MaxNesting(text) > kMaxNesting)
    return core::InvalidArgument(
        "the document nests deeper than " + std::to_string(kMaxNesting) + " levels", "body");
  std::vector<json> docs;
  if (text[first] == '{' || text[first] == '[') {
    auto parsed = ParseJsonText(text);
    if (!parsed.ok()) return parsed.status();
    json doc = std::move(*parsed);
    if (doc.is_array()) {
      for (auto& d : doc) docs.push_back(std::move(d));
    } else {
      docs.push_back(std::move(doc));
    }
    return docs;
  }
  try {
    Budget budget;
    for (const YAML::Node& node : YAML::LoadAll(std::string(text))) {
      json doc = ToJson(node, budget, "");
      if (!doc.is_null()) docs.push_back(std::move(doc));
    }
  } catch (const DuplicateKey& d) {
    return RepeatedKey(d.path, d.key);
  } catch (const TooManyValues&) {
    return core::InvalidArgument("the document expands to more than " + std::to_string(kMaxValues) +
                                     " values or " + std::to_string(kMaxScalarBytes >> 20) +
                                     " MiB of text (YAML aliases?)",
                                 "body");
  } catch (const YAML::Exception& e) {
    return core::InvalidArgument("invalid YAML at line " + std::to_string(e.mark.line + 1) +
                                     ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg,
                                 "body");
  }
  if (docs.empty()) return core::InvalidArgument("the document is empty", "body");
  return docs;
}

}  // namespace muster::codec
