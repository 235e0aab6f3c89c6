#include "codec/json_text.h"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <vector>

namespace muster::codec {
namespace {

using json = nlohmann::json;

// nlohmann's own document builder, told of every event, with a check of each object's
// keys on the way (unless repeats are let through): the first repeated one stops the
// parse.
class DomWithoutRepeats {
 public:
  DomWithoutRepeats(json& root, RepeatedKeys repeats)
      : dom_(root, /*allow_exceptions=*/true), refuse_(repeats == RepeatedKeys::kRefused) {}

  std::optional<core::Status> repeated;

  bool null() { return Value(dom_.null()); }
  bool boolean(bool v) { return Value(dom_.boolean(v)); }
  bool number_integer(json::number_integer_t v) { return Value(dom_.number_integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return Value(dom_.number_unsigned(v)); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return Value(dom_.number_float(v, s));
  }
  bool string(json::string_t& v) { return Value(dom_.string(v)); }
  bool binary(json::binary_t& v) { return Value(dom_.binary(v)); }
  bool start_object(std::size_t n) {
    frames_.push_back({true, {}, 0, {}, {}});
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    if (refuse_ && !f.Add(k)) {
      repeated = RepeatedKey(PathOf(k), k);
      return false;
    }
    f.key = k;
    return dom_.key(k);  // a repeat (when not refused) overwrites: the last one wins
  }
  bool end_object() { return Close(dom_.end_object()); }
  bool start_array(std::size_t n) {
    frames_.push_back({false, {}, 0, {}, {}});
    return dom_.start_array(n);
  }
  bool end_array() { return Close(dom_.end_array()); }
  template <class Exception>
  bool parse_error(std::size_t at, const std::string& token, const Exception& e) {
    return dom_.parse_error(at, token, e);  // throws e
  }

 private:
  struct Frame {
    bool object;
    std::string key;  // the member being read (objects)
    size_t index;     // the element being read (arrays)
    // The keys seen so far: a list while they are few (a request's objects), a set once
    // an object has many (a manifest may hold 100,000 labels in one).
    std::vector<std::string> few;
    std::unordered_set<std::string> many;
    // False if `k` was seen before.
    bool Add(const std::string& k) {
      if (!many.empty()) return many.insert(k).second;
      if (std::find(few.begin(), few.end(), k) != few.end()) return false;
      few.push_back(k);
      if (few.size() == kFew) many = std::unordered_set<std::string>(few.begin(), few.end());
      return true;
    }
  };
  static constexpr size_t kFew = 16;
  // A value ended: the next one in an array is the next element.
  bool Value(bool ok) {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return ok;
  }
  bool Close(bool ok) {
    frames_.pop_back();
    return Value(ok);  // the object or array was one value of its parent
  }
  // The path of member `key` of the innermost object: each outer frame names where the
  // next one sits.
  std::string PathOf(const std::string& key) const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      path = f.object ? MemberPath(path, f.key) : path + "[" + std::to_string(f.index) + "]";
    }
    return MemberPath(path, key);
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  bool refuse_;
  std::vector<Frame> frames_;
};

}  // namespace

std::string MemberPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

core::Status RepeatedKey(const std::string& path, const std::string& key) {
  return core::InvalidArgument("the key \"" + key + "\" appears twice here; keep one", path);
}

core::StatusOr<json> ParseJsonText(std::string_view text, RepeatedKeys repeats) {
  json doc;
  DomWithoutRepeats sax(doc, repeats);
  try {
    if (json::sax_parse(text, &sax)) return doc;
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ...": the
    // library's own id says nothing to a client.
    std::string what = e.what();
    if (auto id_end = what.find("] "); what.starts_with("[json.") && id_end != std::string::npos)
      what.erase(0, id_end + 2);
    return core::InvalidArgument("invalid JSON: " + what, "body");
  }
  // sax_parse returns false only when a repeated key stopped it: errors throw.
  return sax.repeated.value_or(core::InvalidArgument("invalid JSON", "body"));
}

}  // namespace muster::codec
